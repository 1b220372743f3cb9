"""Quantile and interval forecasts: pinball loss, interval score, weighted interval score (WIS),
empirical coverage and interval width.

**Shapes.** Quantile forecasts ``quantiles [..., N, L]`` at static ``levels`` (a tuple of L floats
in (0, 1), in the order of the last axis); central prediction intervals ``lower, upper [..., N]``;
observations ``obs [..., N]``. N is the observation axis that ``reduce="mean"`` averages over.

**Conventions.**

* Pinball (quantile) loss ρ_τ(u) = max(τu, (τ − 1)u) with u = y − q — scoringrules'
  ``quantile_score`` (no factor 2); :func:`pinball_loss` *averages* it over the L levels.
* Interval score of a central (1 − α) interval: IS_α = (u − l) + (2/α)(l − y)₊ + (2/α)(y − u)₊
  (Gneiting & Raftery 2007; scoringrules' ``interval_score``). Crossed intervals (l > u) are scored by
  the same formula (the width term is negative) — sort them first if that is not intended.
* WIS over K central intervals at α_1..α_K and the median m:
  WIS = (1/(K + ½)) [½|y − m| + Σ_k (α_k/2) IS_{α_k}] (Bracher et al. 2021; scoringrules'
  ``weighted_interval_score`` with its default weights w_k = α_k/2, w_0 = ½). Since
  (α/2)·IS_α(l, u) = ρ_{α/2}(y − l) + ρ_{1−α/2}(y − u) and ½|y − m| = ρ_{½}(y − m), exactly

      WIS = (1/(K + ½)) Σ_{τ ∈ levels} ρ_τ(y − q_τ) = 2 · pinball_loss(levels)

  (there are 2K + 1 levels). This holds for crossing quantiles too; sorting crossing quantiles never
  increases WIS (the rearrangement inequality for pinball sums).
* Coverage = mean 1[l ≤ y ≤ u] (closed interval); width = mean (u − l).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxmetrics._src import numerics
from jaxmetrics._src.metric import Metric
from jaxmetrics._src.registry import MetricInfo, register
from jaxmetrics.scoring import _common

Array = jax.Array

__all__ = [
    "coverage",
    "coverage_metric",
    "interval_score",
    "interval_score_metric",
    "interval_width",
    "interval_width_metric",
    "pinball_loss",
    "pinball_loss_metric",
    "weighted_interval_score",
    "weighted_interval_score_metric",
    "wis",
    "wis_metric",
]


def _check_quantiles(fn, quantiles, obs, levels):
    quantiles = jnp.asarray(quantiles)
    obs = _common.check_obs(fn, obs)
    if quantiles.ndim != obs.ndim + 1 or quantiles.shape[:-1] != obs.shape:
        _common.fail(fn, f"argument `quantiles` must have shape [..., N, L] = {obs.shape + (len(levels),)} "
                     f"to match `obs` {obs.shape} and {len(levels)} levels; got {quantiles.shape}.")
    if quantiles.shape[-1] != len(levels):
        _common.fail(fn, f"argument `quantiles` has L = {quantiles.shape[-1]} quantiles on its last axis but "
                     f"`levels` has {len(levels)} entries {levels}.")
    dtype = _common.dtype_of(quantiles, obs)
    return numerics.promote(quantiles, dtype), numerics.promote(obs, dtype)


def _pinball_sum(q, y, levels):
    """Σ over levels of ρ_τ(y − q_τ): ``[..., N]``."""
    tau = jnp.asarray(levels, q.dtype)
    u = y[..., None] - q
    return jnp.maximum(tau * u, (tau - 1) * u).sum(-1)


def _wis_levels(fn, levels):
    """Checks that ``levels`` is a symmetric set {α_k/2, 1 − α_k/2} ∪ {½}; returns K."""
    levels = _common.static_levels(fn, levels)
    s = sorted(levels)
    n = len(s)
    symmetric = n % 2 == 1 and all(abs(s[i] + s[n - 1 - i] - 1.0) <= 1e-9 for i in range(n))
    if not symmetric or abs(s[n // 2] - 0.5) > 1e-9:
        _common.fail(fn, "argument `levels` must be a set symmetric around the median, "
                     "{α_k/2, 1 − α_k/2 : k = 1..K} ∪ {0.5} (2K + 1 levels including 0.5); "
                     f"got {levels}.")
    return levels, (n - 1) // 2


def _interval_arrays(fn, lower, upper, obs=None):
    if obs is None:
        lower = _common.check_obs(fn, lower, "lower")
        ref_name, ref = "lower", lower
    else:
        obs = _common.check_obs(fn, obs)
        ref_name, ref = "obs", obs
        lower = _common.check_like(fn, "lower", lower, ref_name, ref)
    upper = _common.check_like(fn, "upper", upper, ref_name, ref)
    dtype = _common.dtype_of(lower, upper, obs)
    out = [numerics.promote(lower, dtype), numerics.promote(upper, dtype)]
    if obs is not None:
        out.append(numerics.promote(obs, dtype))
    return out


# --------------------------------------------------------------------------------------------------
# Pinball loss and WIS


def _pinball_factory(levels):
    def per_obs(quantiles, obs):
        q, y = _check_quantiles("pinball_loss", quantiles, obs, levels)
        return _pinball_sum(q, y, levels) / len(levels), None

    return per_obs


def pinball_loss_metric(*, levels) -> Metric:
    """Streaming :func:`pinball_loss`; ``update(state, quantiles, obs, *, where, weights)``;
    state (Σ w·loss, Σ w), additive."""
    levels = _common.static_levels("pinball_loss", levels)
    return _common.mean_score_metric("pinball_loss", _pinball_factory(levels))


def pinball_loss(quantiles, obs, *, levels, reduce: str = "mean", where=None, weights=None) -> Array:
    r"""Pinball (quantile) loss averaged over quantile levels (lower is better).

    loss_i = (1/L) Σ_l ρ_{τ_l}(y_i − q_{i,l}),  ρ_τ(u) = max(τu, (τ − 1)u).

    Args:
      quantiles: predicted quantiles ``[..., N, L]`` (any order; crossing quantiles are scored as
        given).
      obs: observations ``[..., N]``.
      levels: static tuple of the L quantile levels τ_l ∈ (0, 1), in the order of the last axis.
      reduce: static ``"mean"`` (weighted mean over N) or ``"none"`` (``[..., N]``, masked → 0).
      where: bool observation mask ``[..., N]``. weights: observation weights ``[..., N]``.

    Returns:
      ``[...]`` or ``[..., N]``. Matches the mean over levels of ``scoringrules.quantile_score``; the
      median-only loss (``levels=(0.5,)``) is ½ the absolute error.

    Example:
      >>> pinball_loss(jnp.array([[1.0, 2.0]]), jnp.array([3.0]), levels=(0.1, 0.9))
      Array(0.55, dtype=float32)
    """
    levels = _common.static_levels("pinball_loss", levels)
    return _common.score("pinball_loss", _pinball_factory, dict(levels=levels), reduce, (quantiles, obs),
                         where=where, weights=weights)


def _wis_factory(levels):
    k = (len(levels) - 1) // 2

    def per_obs(quantiles, obs):
        q, y = _check_quantiles("weighted_interval_score", quantiles, obs, levels)
        return _pinball_sum(q, y, levels) / (k + 0.5), None

    return per_obs


def weighted_interval_score_metric(*, levels) -> Metric:
    """Streaming :func:`weighted_interval_score`; state (Σ w·WIS, Σ w), additive."""
    levels, _ = _wis_levels("weighted_interval_score", levels)
    return _common.mean_score_metric("weighted_interval_score", _wis_factory(levels))


def weighted_interval_score(quantiles, obs, *, levels, reduce: str = "mean", where=None,
                            weights=None) -> Array:
    r"""Weighted interval score of a quantile forecast (WIS; lower is better; ≈ CRPS for many levels).

    With the 2K + 1 levels {α_k/2, 1 − α_k/2} ∪ {½} (median m, central (1 − α_k) intervals
    [l_k, u_k]):

        WIS = (1/(K + ½)) [½|y − m| + Σ_k (α_k/2) IS_{α_k}(l_k, u_k; y)]
            = (1/(K + ½)) Σ_τ ρ_τ(y − q_τ) = 2 · pinball_loss(levels).

    Args:
      quantiles: predicted quantiles ``[..., N, 2K+1]``, ordered as ``levels``.
      obs: observations ``[..., N]``.
      levels: static tuple of 2K + 1 levels, symmetric around and including 0.5, in any order
        (e.g. ``(0.025, 0.25, 0.5, 0.75, 0.975)``); a ShapeError names ``levels`` otherwise.
      reduce: static ``"mean"`` or ``"none"`` (``[..., N]``, masked → 0).
      where: bool observation mask ``[..., N]``. weights: observation weights ``[..., N]``.

    Returns:
      ``[...]`` or ``[..., N]``. Matches ``scoringrules.weighted_interval_score(obs, median, lower,
      upper, alpha)`` with its default weights as defined (and as its numba backend computes; the
      0.10 numpy backend adds w₀·m instead of w₀·|y − m|), i.e. (1/(K+½))[½|y − m| +
      Σ_k (α_k/2)·``scoringrules.interval_score``].

    Example:
      >>> weighted_interval_score(jnp.array([[0.0, 1.0, 2.0]]), jnp.array([1.5]), levels=(0.1, 0.5, 0.9))
      Array(0.3, dtype=float32)
    """
    levels, _ = _wis_levels("weighted_interval_score", levels)
    return _common.score("weighted_interval_score", _wis_factory, dict(levels=levels), reduce,
                         (quantiles, obs), where=where, weights=weights)


wis = weighted_interval_score
wis_metric = weighted_interval_score_metric


# --------------------------------------------------------------------------------------------------
# Intervals


def _interval_score_factory(alpha):
    def per_obs(lower, upper, obs):
        l, u, y = _interval_arrays("interval_score", lower, upper, obs)
        return (u - l) + (2 / alpha) * jnp.maximum(l - y, 0) + (2 / alpha) * jnp.maximum(y - u, 0), None

    return per_obs


def interval_score_metric(*, alpha: float) -> Metric:
    """Streaming :func:`interval_score`; ``update(state, lower, upper, obs, *, where, weights)``."""
    alpha = _common.static_float("interval_score", "alpha", alpha, 0.0, 1.0)
    return _common.mean_score_metric("interval_score", _interval_score_factory(alpha))


def interval_score(lower, upper, obs, *, alpha: float, reduce: str = "mean", where=None,
                   weights=None) -> Array:
    r"""Interval (Winkler) score of a central (1 − α) prediction interval [l, u] (lower is better).

    IS_α = (u − l) + (2/α)(l − y)₊ + (2/α)(y − u)₊.

    Args:
      lower, upper: interval bounds ``[..., N]`` (crossed bounds are scored as given).
      obs: observations ``[..., N]``.
      alpha: static α ∈ (0, 1): the interval's nominal miscoverage (α = 0.1 for a 90 % interval).
      reduce: static ``"mean"`` or ``"none"`` (``[..., N]``, masked → 0).
      where: bool observation mask ``[..., N]``. weights: observation weights ``[..., N]``.

    Returns:
      ``[...]`` or ``[..., N]``. Matches ``scoringrules.interval_score(obs, lower, upper, alpha)``.

    Example:
      >>> interval_score(jnp.array([0.0]), jnp.array([1.0]), jnp.array([1.5]), alpha=0.5)
      Array(3., dtype=float32)
    """
    alpha = _common.static_float("interval_score", "alpha", alpha, 0.0, 1.0)
    return _common.score("interval_score", _interval_score_factory, dict(alpha=alpha), reduce,
                         (lower, upper, obs), where=where, weights=weights)


def _coverage_per_obs(lower, upper, obs):
    l, u, y = _interval_arrays("coverage", lower, upper, obs)
    return ((l <= y) & (y <= u)).astype(l.dtype), None


def _coverage_factory():
    return _coverage_per_obs


def coverage_metric() -> Metric:
    """Streaming :func:`coverage`; ``update(state, lower, upper, obs, *, where, weights)``."""
    return _common.mean_score_metric("coverage", _coverage_factory())


def coverage(lower, upper, obs, *, reduce: str = "mean", where=None, weights=None) -> Array:
    r"""Empirical coverage of prediction intervals: the weighted fraction of y with l ≤ y ≤ u.

    Compare it with the nominal level 1 − α (neither higher nor lower is better in itself). Piecewise
    constant: its gradient is 0 (finite) everywhere.

    Args:
      lower, upper: interval bounds ``[..., N]``. obs: observations ``[..., N]``.
      reduce: static ``"mean"`` or ``"none"`` (the 0/1 indicators ``[..., N]``, masked → 0).
      where: bool observation mask ``[..., N]``. weights: observation weights ``[..., N]``.

    Returns:
      ``[...]`` in [0, 1] (NaN when every observation is masked) or ``[..., N]``.

    Example:
      >>> coverage(jnp.array([0.0, 0.0]), jnp.array([1.0, 1.0]), jnp.array([1.0, 2.0]))
      Array(0.5, dtype=float32)
    """
    return _common.score("coverage", _coverage_factory, {}, reduce, (lower, upper, obs), where=where,
                         weights=weights)


def _width_per_obs(lower, upper):
    l, u = _interval_arrays("interval_width", lower, upper)
    return u - l, None


def _width_factory():
    return _width_per_obs


def interval_width_metric() -> Metric:
    """Streaming :func:`interval_width`; ``update(state, lower, upper, *, where, weights)``."""
    return _common.mean_score_metric("interval_width", _width_factory())


def interval_width(lower, upper, *, reduce: str = "mean", where=None, weights=None) -> Array:
    r"""Mean width u − l of prediction intervals (sharpness; lower is better *at a fixed coverage*).

    Args:
      lower, upper: interval bounds ``[..., N]`` (crossed intervals give negative widths).
      reduce: static ``"mean"`` or ``"none"`` (``[..., N]``, masked → 0).
      where: bool observation mask ``[..., N]``. weights: observation weights ``[..., N]``.

    Returns:
      ``[...]`` or ``[..., N]``.

    Example:
      >>> interval_width(jnp.array([0.0, 1.0]), jnp.array([1.0, 4.0]))
      Array(2., dtype=float32)
    """
    return _common.score("interval_width", _width_factory, {}, reduce, (lower, upper), where=where,
                         weights=weights)


_SR = "scoringrules"
for _name, _fn, _stream, _diff, _hib, _oracle, _aliases in [
    ("pinball_loss", pinball_loss, pinball_loss_metric, True, False, f"{_SR}.quantile_score (mean over levels)", ()),
    ("interval_score", interval_score, interval_score_metric, True, False, f"{_SR}.interval_score", ()),
    ("weighted_interval_score", weighted_interval_score, weighted_interval_score_metric, True, False,
     f"{_SR}.interval_score composed as WIS (sr 0.10 numpy WIS adds w0*m, not w0*|y-m|); 2 x pinball", ("wis",)),
    ("coverage", coverage, coverage_metric, False, None, "numpy mean(l <= y <= u)", ()),
    ("interval_width", interval_width, interval_width_metric, True, False, "numpy mean(u - l)", ()),
]:
    register(MetricInfo(name=_name, family="scoring", fn=_fn, differentiable=_diff, higher_is_better=_hib,
                        streaming=_stream, oracle=_oracle, aliases=_aliases))
del _name, _fn, _stream, _diff, _hib, _oracle, _aliases
