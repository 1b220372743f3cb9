"""Closed-form scores of parametric predictive distributions: Gaussian and logistic CRPS, Gaussian
log score.

**Shapes.** ``obs [..., N]``; the distribution parameters (``mean``/``std``, ``loc``/``scale``)
broadcast to ``obs`` (a scalar ``std`` is fine). N is the observation axis that ``reduce="mean"``
averages over; leading axes are batch axes.

**Degenerate scale.** A scale of exactly 0 is the point mass at the location: both CRPS functions
return its score |y − μ| (the σ → 0 limit, so a deterministic forecast can be scored alongside
probabilistic ones); the log score is undefined there (a point mass has no density) and returns NaN.
A negative scale returns NaN everywhere. Gradients stay finite in every case (double ``where``); at
σ = 0 the gradient with respect to σ is 0.

**Oracles.** ``properscoring.crps_gaussian`` (values and its ``grad=True`` analytic gradient
[1 − 2Φ(z), 2φ(z) − 1/√π]), ``scoringrules.crps_normal``, ``scoringrules.crps_logistic``,
``scoringrules.logs_normal`` and ``scipy.stats.norm.logpdf``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import ndtr

from jaxmetrics._src import numerics
from jaxmetrics._src.metric import Metric
from jaxmetrics._src.registry import MetricInfo, register
from jaxmetrics.scoring import _common

Array = jax.Array

__all__ = [
    "crps_gaussian",
    "crps_gaussian_metric",
    "crps_logistic",
    "crps_logistic_metric",
    "log_score_gaussian",
    "log_score_gaussian_metric",
]

_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _location_scale(fn, loc_name, scale_name, loc, scale, obs):
    obs = _common.check_obs(fn, obs)
    loc = _common.check_broadcast(fn, loc_name, loc, obs.shape, "the shape of `obs`")
    scale = _common.check_broadcast(fn, scale_name, scale, obs.shape, "the shape of `obs`")
    dtype = _common.dtype_of(loc, scale, obs)
    loc, scale, obs = (jnp.broadcast_to(numerics.promote(a, dtype), obs.shape) for a in (loc, scale, obs))
    positive = scale > 0
    safe_scale = jnp.where(positive, scale, jnp.ones((), dtype))
    z = (obs - loc) / safe_scale
    return loc, scale, obs, positive, safe_scale, z


def _with_point_mass(value, scale, obs, loc, positive):
    """``value`` for scale > 0, |y − μ| for scale == 0, NaN for scale < 0 (finite gradients)."""
    point = jnp.where(scale == 0, jnp.abs(obs - loc), jnp.full_like(value, jnp.nan))
    return jnp.where(positive, value, point)


def _crps_gaussian_per_obs(mean, std, obs):
    mean, std, obs, pos, s, z = _location_scale("crps_gaussian", "mean", "std", mean, std, obs)
    pdf = _INV_SQRT_2PI * jnp.exp(-0.5 * z * z)
    value = s * (z * (2 * ndtr(z) - 1) + 2 * pdf - _INV_SQRT_PI)
    return _with_point_mass(value, std, obs, mean, pos), None


def _crps_logistic_per_obs(loc, scale, obs):
    loc, scale, obs, pos, s, z = _location_scale("crps_logistic", "loc", "scale", loc, scale, obs)
    value = s * (z - 2 * jax.nn.log_sigmoid(z) - 1)
    return _with_point_mass(value, scale, obs, loc, pos), None


def _log_score_gaussian_per_obs(mean, std, obs):
    mean, std, obs, pos, s, z = _location_scale("log_score_gaussian", "mean", "std", mean, std, obs)
    value = _HALF_LOG_2PI + jnp.log(s) + 0.5 * z * z
    return jnp.where(pos, value, jnp.full_like(value, jnp.nan)), None


def _crps_gaussian_factory():
    return _crps_gaussian_per_obs


def _crps_logistic_factory():
    return _crps_logistic_per_obs


def _log_score_gaussian_factory():
    return _log_score_gaussian_per_obs


def crps_gaussian_metric() -> Metric:
    """Streaming :func:`crps_gaussian`; ``update(state, mean, std, obs, *, where, weights)``;
    state (Σ w·CRPS, Σ w), additive."""
    return _common.mean_score_metric("crps_gaussian", _crps_gaussian_factory())


def crps_logistic_metric() -> Metric:
    """Streaming :func:`crps_logistic`; ``update(state, loc, scale, obs, *, where, weights)``;
    state (Σ w·CRPS, Σ w), additive."""
    return _common.mean_score_metric("crps_logistic", _crps_logistic_factory())


def log_score_gaussian_metric() -> Metric:
    """Streaming :func:`log_score_gaussian`; ``update(state, mean, std, obs, *, where, weights)``;
    state (Σ w·score, Σ w), additive."""
    return _common.mean_score_metric("log_score_gaussian", _log_score_gaussian_factory())


def crps_gaussian(mean, std, obs, *, reduce: str = "mean", where=None, weights=None) -> Array:
    r"""CRPS of a Gaussian predictive distribution N(μ, σ²) (closed form; lower is better).

    CRPS(N(μ, σ²), y) = σ [z (2Φ(z) − 1) + 2φ(z) − 1/√π],  z = (y − μ)/σ

    (Gneiting et al. 2005). At z = 0 it is σ(√2 − 1)/√π ≈ 0.2336950·σ; σ = 0 gives |y − μ|.
    ∂/∂μ = 1 − 2Φ(z), ∂/∂σ = 2φ(z) − 1/√π.

    Args:
      mean: μ, broadcastable to ``obs``. std: σ ≥ 0, broadcastable to ``obs``.
      obs: observations ``[..., N]``.
      reduce: static ``"mean"`` (weighted mean over N) or ``"none"`` (``[..., N]``, masked → 0).
      where: bool observation mask ``[..., N]``. weights: observation weights ``[..., N]``.

    Returns:
      ``[...]`` or ``[..., N]``. Matches ``properscoring.crps_gaussian`` and
      ``scoringrules.crps_normal``.

    Example:
      >>> crps_gaussian(jnp.array([0.0]), jnp.array([2.0]), jnp.array([0.0]))
      Array(0.4673899..., dtype=float32)
    """
    return _common.score("crps_gaussian", _crps_gaussian_factory, {}, reduce, (mean, std, obs), where=where,
                         weights=weights)


def crps_logistic(loc, scale, obs, *, reduce: str = "mean", where=None, weights=None) -> Array:
    r"""CRPS of a logistic predictive distribution with location μ and scale s (lower is better).

    CRPS = s [z − 2 log Λ(z) − 1],  z = (y − μ)/s,  Λ the standard logistic CDF (``log_sigmoid``,
    stable for any z). At z = 0 it is s(2 log 2 − 1); s = 0 gives |y − μ|.

    Args:
      loc: μ, broadcastable to ``obs``. scale: s ≥ 0, broadcastable to ``obs``.
      obs: observations ``[..., N]``.
      reduce: static ``"mean"`` or ``"none"`` (``[..., N]``, masked → 0).
      where: bool observation mask ``[..., N]``. weights: observation weights ``[..., N]``.

    Returns:
      ``[...]`` or ``[..., N]``. Matches ``scoringrules.crps_logistic(obs, mu, sigma)``.

    Example:
      >>> crps_logistic(jnp.array([0.0]), jnp.array([1.0]), jnp.array([0.0]))
      Array(0.38629..., dtype=float32)
    """
    return _common.score("crps_logistic", _crps_logistic_factory, {}, reduce, (loc, scale, obs), where=where,
                         weights=weights)


def log_score_gaussian(mean, std, obs, *, reduce: str = "mean", where=None, weights=None) -> Array:
    r"""Logarithmic score (negative log density, in nats) of N(μ, σ²) at y (lower is better).

    LS = ½ log(2π) + log σ + ½ z²,  z = (y − μ)/σ. Undefined (NaN) for σ ≤ 0.

    Args:
      mean: μ, broadcastable to ``obs``. std: σ > 0, broadcastable to ``obs``.
      obs: observations ``[..., N]``.
      reduce: static ``"mean"`` (the mean negative log-likelihood) or ``"none"`` (masked → 0).
      where: bool observation mask ``[..., N]``. weights: observation weights ``[..., N]``.

    Returns:
      ``[...]`` or ``[..., N]``. Matches ``scoringrules.logs_normal`` and
      ``-scipy.stats.norm.logpdf(y, μ, σ)``.

    Example:
      >>> log_score_gaussian(jnp.array([0.0]), jnp.array([1.0]), jnp.array([0.0]))
      Array(0.9189385, dtype=float32)
    """
    return _common.score("log_score_gaussian", _log_score_gaussian_factory, {}, reduce, (mean, std, obs),
                         where=where, weights=weights)


for _name, _fn, _stream, _oracle in [
    ("crps_gaussian", crps_gaussian, crps_gaussian_metric,
     "properscoring.crps_gaussian (incl. grad=True); scoringrules.crps_normal"),
    ("crps_logistic", crps_logistic, crps_logistic_metric, "scoringrules.crps_logistic"),
    ("log_score_gaussian", log_score_gaussian, log_score_gaussian_metric,
     "scoringrules.logs_normal; -scipy.stats.norm.logpdf"),
]:
    register(MetricInfo(name=_name, family="scoring", fn=_fn, differentiable=True, higher_is_better=False,
                        streaming=_stream, oracle=_oracle))
del _name, _fn, _stream, _oracle
