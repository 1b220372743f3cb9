"""Ensemble scores: the CRPS of an ensemble forecast (five estimators) and the energy score.

**Shapes.** ``forecasts [..., N, M]`` (M members) and ``obs [..., N]``; multivariate
``forecasts [..., N, M, D]`` and ``obs [..., N, D]``. N is the observation axis that ``reduce="mean"``
averages over; leading axes are batch axes.

**Member weights and masks.** ``member_weights [..., N, M]`` (non-negative) and ``member_where
[..., N, M]`` (bool; masked members are excluded) combine into per-member weights that are normalised to
sum to 1 over the members of each observation, w_j = ω_j / Σ_k ω_k (scoringrules' and properscoring's
convention). Uniform weights over the unmasked members reproduce the unweighted estimators with the
effective ensemble size M' = number of unmasked members — this is how variable ensemble sizes are
expressed (pad, then mask). An observation whose members are all masked (or all weight 0) has no score:
it is treated exactly like ``where=False``. Every estimator is written in terms of the normalised
weights w (with S = Σ_j w_j² the collision probability; S = 1/M' for uniform weights):

* ``nrg``  — Σ_j w_j|x_j − y| − ½ Σ_{j,k} w_j w_k |x_j − x_k| (the CRPS of the weighted empirical CDF);
* ``qd``   — 2 Σ_j w_(j) (1{x_(j) > y} − a_j)(x_(j) − y), a_j = Σ_{k<j} w_(k) + w_(j)/2 (members sorted);
  identical to ``nrg`` for any weights (quantile decomposition);
* ``fair`` — Σ_j w_j|x_j − y| − ½ Σ_{j,k} w_j w_k |x_j − x_k| / (1 − S); unbiased for uniform weights;
* ``pwm``  — Σ_j w_j|x_j − y| + β₀ − 2β₁ with β₀ = Σ_j w_j x_j, β₁ = Σ_j w_(j) x_(j) Σ_{k<j} w_(k) / (1 − S);
  equal to ``fair`` for uniform weights (hence with ``member_where`` alone), a different statistic
  for non-uniform weights (scoringrules' weighted PWM);
* ``afair`` — α·fair + (1 − α)·nrg, the almost-fair CRPS; for uniform weights this is the pairwise
  definition (1/(2M(M−1))) Σ_{j≠k}(|x_j−y| + |x_k−y| − (1−ε)|x_j−x_k|) with ε = (1−α)/M.

All five accept member weights and masks. ``fair``/``pwm``/``afair`` need at least two members: a static
M = 1 raises, and an observation with a single effective member (1 − S = 0) gets the deterministic
score |x − y| (the ensemble-spread term of a single member is 0).

**Algorithm.** O(M log M) per observation, never an M×M tensor: with members sorted,
Σ_{j,k} w_j w_k |x_j − x_k| = 2 Σ_j w_(j) x_(j) (2 W_(j) + w_(j) − 1), W_(j) = Σ_{k<j} w_(k)
(for w = 1/M: 2 Σ_j (2j − M − 1) x_(j) / M²). Members are centred on the observation first, so
large offsets do not cancel catastrophically, and sorted as integer order keys
(:mod:`jaxmetrics._src.sortkeys`; ~4–5× faster than a float sort on XLA:CPU). The energy score
(D > 1 has no sorted form) is O(M²·D) time and memory per observation.

**Oracles.** ``scoringrules.crps_ensemble(obs, fct, ens_w=..., estimator=...)`` (0.10; always pass
``estimator=``: its default changed from ``pwm`` to ``qd`` in 0.9), ``properscoring.crps_ensemble``
(``nrg``, with weights), ``scoringrules.energy_score`` (``nrg``/``fair``, ``ens_w``).

**Gradients** are finite everywhere, including ties among members, an observation equal to a member
(subgradients of |·|), fully masked observations and zero-distance pairs in the energy score.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from jaxmetrics._src import checks, numerics
from jaxmetrics._src.metric import Metric
from jaxmetrics._src.registry import MetricInfo, register
from jaxmetrics._src.sortkeys import from_order_key, order_key
from jaxmetrics.scoring import _common

Array = jax.Array

__all__ = [
    "CRPS_ESTIMATORS",
    "ENERGY_ESTIMATORS",
    "crps_ensemble",
    "crps_ensemble_metric",
    "energy_score",
    "energy_score_metric",
]

CRPS_ESTIMATORS = ("nrg", "fair", "pwm", "qd", "afair")
ENERGY_ESTIMATORS = ("nrg", "fair")
_NEEDS_TWO = ("fair", "pwm", "afair")


def _member_weights(fn, shape, dtype, member_weights, member_where):
    """Normalised member weights ``[..., N, M]`` and the observation validity ``[..., N]``.

    Returns ``(None, None)`` for the unweighted, unmasked case (the fast uniform path).
    """
    if member_weights is None and member_where is None:
        return None, None
    raw = jnp.ones(shape, dtype)
    if member_weights is not None:
        mw = _common.check_broadcast(fn, "member_weights", member_weights, shape, "the forecasts' member shape")
        raw = raw * numerics.promote(mw, dtype)
    if member_where is not None:
        mm = _common.check_broadcast(fn, "member_where", member_where, shape, "the forecasts' member shape")
        raw = jnp.where(jnp.broadcast_to(mm, shape).astype(bool), raw, jnp.zeros((), dtype))
    total = raw.sum(-1)
    return numerics.safe_div(raw, total[..., None], 0.0), total > 0


# --------------------------------------------------------------------------------------------------
# sorting the members

# XLA:CPU sorts floats with a total-order comparator several times slower than an integer sort, so the
# members are sorted by their order keys (:mod:`jaxmetrics._src.sortkeys`) and mapped back; with
# weights, the weights ride along with the integer key. The permutation (needed only for derivatives)
# is computed in the JVP rules: a stable sort of (key, index), the order ``jnp.sort`` differentiates
# through, so gradients (also at ties) are those of a float sort.


def _member_perm(key):
    index = lax.broadcasted_iota(jnp.int32, key.shape, key.ndim - 1)
    return lax.sort((key, index), dimension=key.ndim - 1, num_keys=1, is_stable=True)


@jax.custom_jvp
def _sort_members(d):
    """``jnp.sort(d, axis=-1)`` by integer keys (``-0.0`` comes back as ``+0.0``, NaNs last)."""
    return from_order_key(jnp.sort(order_key(d), axis=-1), d.dtype)


@_sort_members.defjvp
def _sort_members_jvp(primals, tangents):
    (d,), (dd,) = primals, tangents
    skey, perm = _member_perm(order_key(lax.stop_gradient(d)))
    return from_order_key(skey, d.dtype), jnp.take_along_axis(dd, perm, axis=-1)


@jax.custom_jvp
def _sort_members_weighted(d, w):
    """``lax.sort((d, w), num_keys=1)`` along the last axis by integer keys of ``d``."""
    skey, ws = lax.sort((order_key(d), w), dimension=d.ndim - 1, num_keys=1)
    return from_order_key(skey, d.dtype), ws


@_sort_members_weighted.defjvp
def _sort_members_weighted_jvp(primals, tangents):
    (d, w), (dd, dw) = primals, tangents
    skey, perm = _member_perm(order_key(lax.stop_gradient(d)))
    take = lambda x: jnp.take_along_axis(x, perm, axis=-1)  # noqa: E731
    return (from_order_key(skey, d.dtype), take(w)), (take(dd), take(dw))


# --------------------------------------------------------------------------------------------------
# CRPS


def _crps_per_obs(fn, estimator, alpha, forecasts, obs, member_weights=None, member_where=None):
    forecasts, obs = _common.check_ensemble(fn, forecasts, obs)
    m = forecasts.shape[-1]
    if estimator in _NEEDS_TWO and m < 2:
        _common.fail(fn, f"estimator={estimator!r} needs at least 2 members; `forecasts` has M = {m} "
                     f"(shape {forecasts.shape}).")
    dtype = _common.dtype_of(forecasts, obs, member_weights)
    x = numerics.promote(forecasts, dtype)
    y = numerics.promote(obs, dtype)
    w, valid = _member_weights(fn, x.shape, dtype, member_weights, member_where)
    d = x - y[..., None]  # centred on the observation: every term below is shift-invariant
    if member_where is not None:  # masked members may be padding (even NaN): make them harmless
        d = jnp.where(jnp.broadcast_to(jnp.asarray(member_where), d.shape).astype(bool), d, jnp.zeros((), dtype))
    if w is None:
        ds = _sort_members(d)
        ws = jnp.asarray(1.0 / m, dtype)
        w_before = jnp.arange(m, dtype=dtype) / m  # W_(j) = (j - 1)/M
        collision = jnp.asarray(1.0 / m, dtype)  # S = Σ w² = 1/M
        e1 = jnp.abs(d).mean(-1)
    else:
        ds, ws = _sort_members_weighted(d, w)  # weights follow their members
        w_before = jnp.cumsum(ws, axis=-1) - ws
        collision = (w * w).sum(-1)
        e1 = (w * jnp.abs(d)).sum(-1)

    one_minus_s = 1 - collision
    if estimator == "qd":
        a = w_before + ws / 2
        c = jnp.where(ds > 0, 1 - a, -a)
        return 2 * (ws * c * ds).sum(-1), valid
    if estimator == "pwm":
        beta0 = (ws * ds).sum(-1)
        beta1 = numerics.safe_div((ws * ds * w_before).sum(-1), one_minus_s, 0.0)
        # a single effective member: β₀ − 2β₁ := 0, i.e. the deterministic score |x − y|
        beta0 = jnp.where(one_minus_s == 0, jnp.zeros((), dtype), beta0)
        return e1 + beta0 - 2 * beta1, valid
    # half the weighted mean absolute difference: ½ Σ_{j,k} w_j w_k |x_j − x_k|
    half_gini = (ws * ds * (2 * w_before + ws - 1)).sum(-1)
    if estimator == "nrg":
        return e1 - half_gini, valid
    fair_spread = numerics.safe_div(half_gini, one_minus_s, 0.0)
    if estimator == "fair":
        return e1 - fair_spread, valid
    return e1 - alpha * fair_spread - (1 - alpha) * half_gini, valid  # afair


def _crps_config(fn, estimator, alpha):
    checks.check_choice(fn, "estimator", estimator, CRPS_ESTIMATORS)
    return _common.static_float(fn, "alpha", alpha, 0.0, 1.0, closed=True)


def _crps_factory(estimator, alpha):
    def per_obs(forecasts, obs, *, member_weights=None, member_where=None):
        return _crps_per_obs("crps_ensemble", estimator, alpha, forecasts, obs, member_weights, member_where)

    return per_obs


def crps_ensemble_metric(*, estimator: str, alpha: float = 0.95) -> Metric:
    """Streaming :func:`crps_ensemble`; state (Σ w·CRPS, Σ w) per batch entry, additive.

    ``update(state, forecasts, obs, *, member_weights=None, member_where=None, where=None,
    weights=None)``; ``init(dtype=None, batch_shape=())``.
    """
    alpha = _crps_config("crps_ensemble", estimator, alpha)
    return _common.mean_score_metric("crps_ensemble", _crps_factory(estimator, alpha))


def crps_ensemble(
    forecasts,
    obs,
    *,
    estimator: str,
    alpha: float = 0.95,
    member_weights=None,
    member_where=None,
    reduce: str = "mean",
    where=None,
    weights=None,
) -> Array:
    r"""Continuous ranked probability score of an ensemble forecast (lower is better).

    CRPS(F, y) = ∫ (F(z) − 1{y ≤ z})² dz = E|X − y| − ½ E|X − X'|, estimated from the members
    x_1..x_M. With uniform weights the energy-form estimators are

        CRPS = (1/M) Σ_j |x_j − y| − c_M Σ_{j,k} |x_j − x_k|,

    c_M = 1/(2M²) for ``"nrg"`` (the CRPS of the empirical CDF) and 1/(2M(M−1)) for ``"fair"``
    (unbiased for the CRPS of the distribution the members are drawn from). ``"qd"`` (quantile
    decomposition) equals ``"nrg"``, ``"pwm"`` (probability-weighted moments, E|X−y| + β₀ − 2β₁)
    equals ``"fair"``, and ``"afair"`` is the almost-fair CRPS α·fair + (1−α)·nrg. The weighted
    forms, the masking convention and the exact per-estimator formulas are in the module docstring.

    Args:
      forecasts: ensemble members ``[..., N, M]``.
      obs: observations ``[..., N]``.
      estimator: required static string, one of ``"nrg"``, ``"fair"``, ``"pwm"``, ``"qd"``,
        ``"afair"`` (there is deliberately no default: libraries disagree on it).
      alpha: static α in [0, 1] of ``"afair"`` (ignored otherwise); 0.95 as in AIFS-CRPS.
      member_weights: non-negative member weights broadcastable to ``[..., N, M]``, normalised per
        observation (all estimators accept them).
      member_where: bool member mask broadcastable to ``[..., N, M]``; masked members are excluded
        and the effective ensemble size is the number of unmasked members.
      reduce: static; ``"mean"`` — the weighted mean over N (``[...]``), ``"none"`` — the
        per-observation scores ``[..., N]``, where ``where``/``weights`` only mask (masked entries
        are 0).
      where: bool observation mask ``[..., N]``. weights: observation weights ``[..., N]``.

    Returns:
      ``[...]`` (``reduce="mean"``; NaN when every observation is masked) or ``[..., N]``.
      Matches ``scoringrules.crps_ensemble(obs, forecasts, ens_w=member_weights, estimator=...)``
      (``"afair"``: the pairwise definition) and ``properscoring.crps_ensemble`` (``"nrg"``).

    Complexity: O(N·M log M) time, O(N·M) memory (sorted form; no M×M tensor).

    Example:
      >>> crps_ensemble(jnp.array([[-1.0, 3.0]]), jnp.array([0.0]), estimator="nrg")
      Array(1., dtype=float32)
      >>> crps_ensemble(jnp.array([[-1.0, 3.0]]), jnp.array([0.0]), estimator="afair", alpha=0.95)
      Array(0.05..., dtype=float32)
    """
    alpha = _crps_config("crps_ensemble", estimator, alpha)
    return _common.score("crps_ensemble", _crps_factory, dict(estimator=estimator, alpha=alpha), reduce,
                         (forecasts, obs), where=where, weights=weights, member_weights=member_weights,
                         member_where=member_where)


# --------------------------------------------------------------------------------------------------
# Energy score


def _energy_per_obs(fn, estimator, forecasts, obs, member_weights=None, member_where=None):
    forecasts, obs = _common.check_ensemble(fn, forecasts, obs, multivariate=True)
    m = forecasts.shape[-2]
    if estimator == "fair" and m < 2:
        _common.fail(fn, f"estimator='fair' needs at least 2 members; `forecasts` has M = {m} "
                     f"(shape {forecasts.shape}).")
    dtype = _common.dtype_of(forecasts, obs, member_weights)
    x = numerics.promote(forecasts, dtype)
    y = numerics.promote(obs, dtype)
    w, valid = _member_weights(fn, x.shape[:-1], dtype, member_weights, member_where)
    d = x - y[..., None, :]
    if member_where is not None:
        mm = jnp.broadcast_to(jnp.asarray(member_where), x.shape[:-1]).astype(bool)
        d = jnp.where(mm[..., None], d, jnp.zeros((), dtype))
    if w is None:
        w = jnp.full(x.shape[:-1], 1.0 / m, dtype)
    err = numerics.safe_sqrt((d * d).sum(-1))  # ||x_j − y||
    diff = d[..., :, None, :] - d[..., None, :, :]
    pair = numerics.safe_sqrt((diff * diff).sum(-1))  # ||x_j − x_k||, zero-gradient-safe on the diagonal
    e1 = (w * err).sum(-1)
    half_spread = 0.5 * (w[..., :, None] * w[..., None, :] * pair).sum((-2, -1))
    if estimator == "fair":
        half_spread = numerics.safe_div(half_spread, 1 - (w * w).sum(-1), 0.0)
    return e1 - half_spread, valid


def _energy_factory(estimator):
    def per_obs(forecasts, obs, *, member_weights=None, member_where=None):
        return _energy_per_obs("energy_score", estimator, forecasts, obs, member_weights, member_where)

    return per_obs


def energy_score_metric(*, estimator: str = "nrg") -> Metric:
    """Streaming :func:`energy_score`; state (Σ w·ES, Σ w), additive.

    ``update(state, forecasts, obs, *, member_weights=None, member_where=None, where=None,
    weights=None)``.
    """
    checks.check_choice("energy_score", "estimator", estimator, ENERGY_ESTIMATORS)
    return _common.mean_score_metric("energy_score", _energy_factory(estimator))


def energy_score(
    forecasts,
    obs,
    *,
    estimator: str = "nrg",
    member_weights=None,
    member_where=None,
    reduce: str = "mean",
    where=None,
    weights=None,
) -> Array:
    r"""Energy score of a multivariate ensemble forecast (the multivariate CRPS; lower is better).

    ES = Σ_j w_j ‖x_j − y‖ − ½ Σ_{j,k} w_j w_k ‖x_j − x_k‖ / c, with Euclidean norms, normalised
    member weights w (uniform 1/M by default) and c = 1 for ``"nrg"``, c = 1 − Σ_j w_j² for ``"fair"``
    (= (M−1)/M for uniform weights: the unbiased 1/(2M(M−1)) normalisation). With D = 1 it reduces to
    :func:`crps_ensemble` with the same estimator.

    Args:
      forecasts: ensemble members ``[..., N, M, D]``.
      obs: observations ``[..., N, D]``.
      estimator: static ``"nrg"`` (default, as scoringrules) or ``"fair"``.
      member_weights, member_where: per-member weights / mask broadcastable to ``[..., N, M]``, with
        the conventions of :func:`crps_ensemble`.
      reduce: static ``"mean"`` (weighted mean over N) or ``"none"`` (``[..., N]``, masked → 0).
      where: bool observation mask ``[..., N]``. weights: observation weights ``[..., N]``.

    Returns:
      ``[...]`` or ``[..., N]``. Matches ``scoringrules.energy_score(obs, fct, ens_w=...,
      estimator=...)``.

    Complexity: O(N·M²·D) time and memory (no sorted form exists for D > 1).

    Example:
      >>> x = jnp.array([[[0.0, 0.0], [3.0, 4.0]]])  # N = 1 observation, M = 2 members, D = 2
      >>> energy_score(x, jnp.array([[0.0, 0.0]]))
      Array(1.25, dtype=float32)
    """
    checks.check_choice("energy_score", "estimator", estimator, ENERGY_ESTIMATORS)
    return _common.score("energy_score", _energy_factory, dict(estimator=estimator), reduce, (forecasts, obs),
                         where=where, weights=weights, member_weights=member_weights, member_where=member_where)


# --------------------------------------------------------------------------------------------------
# Registry

for _name, _fn, _stream, _oracle in [
    ("crps_ensemble", crps_ensemble, crps_ensemble_metric,
     "scoringrules.crps_ensemble(estimator=...) 0.10; properscoring.crps_ensemble (nrg, weights)"),
    ("energy_score", energy_score, energy_score_metric, "scoringrules.energy_score(estimator=...)"),
]:
    register(MetricInfo(name=_name, family="scoring", fn=_fn, differentiable=True, higher_is_better=False,
                        streaming=_stream, oracle=_oracle))
del _name, _fn, _stream, _oracle
