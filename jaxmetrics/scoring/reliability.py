"""Ensemble reliability diagnostics: PIT values, rank (Talagrand) histograms, spread–skill ratio.

**Shapes.** ``forecasts [..., N, M]``, ``obs [..., N]``; leading axes are batch axes.

**Ranks and ties.** For an observation y with b = #{j : x_j < y} members strictly below and
t = #{j : x_j = y} members tied with it, the rank of y among the members is uniform on
{b, ..., b + t} (the randomised rank). Without a key the tie is split *deterministically*:

* :func:`pit` returns the mid-rank value (b + t/2)/M — the empirical CDF averaged over the jump,
  F(y−) + ½(F(y) − F(y−)) — which is the expectation of the randomised PIT;
* :func:`rank_histogram` spreads the observation's weight evenly over the bins b..b+t (fractional
  counts), the expectation of the randomised histogram.

With ``randomize_ties=True`` and a PRNG ``key`` both use one uniform draw U per observation: PIT =
(b + U·t)/M (the randomised PIT of the ensemble's empirical CDF) and rank = b + ⌊U·(t+1)⌋. Without
ties both conventions give the classical b/M and b.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxmetrics._src import checks, numerics
from jaxmetrics._src.metric import Metric, default_state_dtype, one_shot, tree_add
from jaxmetrics._src.registry import MetricInfo, register
from jaxmetrics.scoring import _common

Array = jax.Array

__all__ = [
    "HistogramState",
    "SpreadSkillState",
    "pit",
    "rank_histogram",
    "rank_histogram_metric",
    "spread_skill_ratio",
    "spread_skill_ratio_metric",
]


class HistogramState(NamedTuple):
    """Weighted counts of the observation's rank among the members, ``[..., M + 1]``."""

    counts: Array


class SpreadSkillState(NamedTuple):
    """Σ w·(ensemble variance), Σ w·(ensemble-mean error)², Σ w — each ``[...]``."""

    spread2: Array
    error2: Array
    weight: Array


def _below_tied(fn, forecasts, obs):
    forecasts, obs = _common.check_ensemble(fn, forecasts, obs)
    dtype = _common.dtype_of(forecasts, obs)
    x = numerics.promote(forecasts, dtype)
    y = numerics.promote(obs, dtype)[..., None]
    below = (x < y).sum(-1).astype(dtype)
    tied = (x == y).sum(-1).astype(dtype)
    return below, tied, dtype


def _uniform(fn, randomize_ties, key, shape, dtype):
    if not randomize_ties:
        return None
    if key is None:
        raise ValueError(f"jaxmetrics.{fn}: randomize_ties=True needs a PRNG `key`.")
    return jax.random.uniform(key, shape, dtype)


def pit(forecasts, obs, *, randomize_ties: bool = False, key=None, where=None, weights=None) -> Array:
    r"""Probability integral transform of each observation under its ensemble's empirical CDF.

    PIT_i = (b_i + ½ t_i)/M (mid-rank, default) or (b_i + U_i t_i)/M (``randomize_ties=True``), with
    b_i members strictly below y_i and t_i members equal to it (module docstring). For a calibrated
    ensemble the PIT values are uniform; a U-shaped histogram of them means under-dispersion, a hump
    over-dispersion. This is a per-observation diagnostic, not a mean: there is no ``reduce`` and no
    streaming form (histogram the values, or use :func:`rank_histogram`).

    Args:
      forecasts: ensemble members ``[..., N, M]``. obs: observations ``[..., N]``.
      randomize_ties: static; split ties with one uniform draw per observation (needs ``key``).
      key: PRNG key, used only with ``randomize_ties=True``.
      where: bool observation mask ``[..., N]``; weights: ``[..., N]``. They only mask: PIT values are
        unweighted, and masked entries (``where`` False or weight 0) are NaN — 0 is a valid PIT value.

    Returns:
      ``[..., N]`` in [0, 1]. Oracle: a numpy count of members below / equal to the observation.

    Example:
      >>> pit(jnp.array([[0.0, 1.0, 2.0, 3.0]]), jnp.array([2.0]))
      Array([0.625], dtype=float32)
    """
    if randomize_ties and key is None:
        raise ValueError("jaxmetrics.pit: randomize_ties=True needs a PRNG `key`.")
    return _pit_core(forecasts, obs, key if randomize_ties else None, where, weights,
                     randomize_ties=bool(randomize_ties))


@functools.partial(jax.jit, static_argnames=("randomize_ties",))
def _pit_core(forecasts, obs, key, where, weights, *, randomize_ties):
    fn = "pit"
    below, tied, dtype = _below_tied(fn, forecasts, obs)
    m = jnp.shape(forecasts)[-1]
    u = _uniform(fn, randomize_ties, key, below.shape, dtype)
    value = (below + (0.5 if u is None else u) * tied) / m
    w = checks.sample_weights(fn, below.shape, dtype, where, weights)
    return jnp.where(w != 0, value, jnp.full_like(value, jnp.nan))


def rank_histogram_metric(*, num_members: int, normalize: bool = False, randomize_ties: bool = False
                          ) -> Metric:
    """Streaming :func:`rank_histogram`: state ``[..., M + 1]`` weighted counts, additive.

    ``num_members`` (M) is required: it fixes the state's shape. ``update(state, forecasts, obs, *,
    key=None, where=None, weights=None)`` (a fresh ``key`` per batch when ``randomize_ties``);
    ``init(dtype=None, batch_shape=())``.
    """
    fn = "rank_histogram"
    m = checks.check_static_int(fn, "num_members", num_members, 1)

    def init(dtype=None, batch_shape=()):
        return HistogramState(jnp.zeros((*batch_shape, m + 1), default_state_dtype(dtype)))

    def update(state, forecasts, obs, *, key=None, where=None, weights=None):
        if jnp.shape(forecasts)[-1] != m:
            _common.fail(fn, f"argument `forecasts` must have M = num_members = {m} members on its last axis; "
                         f"got shape {jnp.shape(forecasts)}.")
        below, tied, _ = _below_tied(fn, forecasts, obs)
        d = state.counts.dtype
        w = checks.sample_weights(fn, below.shape, d, where, weights)
        bins = jnp.arange(m + 1, dtype=below.dtype)
        u = _uniform(fn, randomize_ties, key, below.shape, below.dtype)
        if u is None:  # spread evenly over the tied bins b..b+t
            lo, hi = below[..., None], (below + tied)[..., None]
            share = ((bins >= lo) & (bins <= hi)).astype(d) / (tied[..., None] + 1).astype(d)
        else:
            rank = below + jnp.minimum(jnp.floor(u * (tied + 1)), tied)
            share = (bins == rank[..., None]).astype(d)
        return HistogramState(state.counts + (w[..., None] * share).sum(-2))

    def compute(state):
        if normalize:
            return numerics.safe_div(state.counts, state.counts.sum(-1, keepdims=True), jnp.nan)
        return state.counts

    return Metric(init, update, tree_add, compute)


def rank_histogram(forecasts, obs, *, num_members: int | None = None, normalize: bool = False,
                   randomize_ties: bool = False, key=None, where=None, weights=None) -> Array:
    r"""Rank (Talagrand) histogram: weighted counts of the observation's rank among the members.

    counts[r] = Σ_i w_i · P(rank_i = r), r = 0..M, where rank_i = #members below y_i and ties are split
    as in the module docstring. Flat for a calibrated ensemble; U-shaped when under-dispersed.

    Args:
      forecasts: ensemble members ``[..., N, M]``. obs: observations ``[..., N]``.
      num_members: static M (optional here; required by :func:`rank_histogram_metric`); must match
        ``forecasts``.
      normalize: static; return relative frequencies (summing to 1; NaN with no weight) instead of
        counts.
      randomize_ties: static; one random rank per tied observation (needs ``key``); the default
        splits the weight evenly over the tied bins.
      key: PRNG key, used only with ``randomize_ties=True``.
      where: bool observation mask ``[..., N]``. weights: observation weights ``[..., N]``.

    Returns:
      ``[..., M + 1]`` float counts (weighted). Oracle: ``numpy.bincount`` of the ranks.

    Complexity: O(N·M) time and memory (one comparison pass; the per-observation bin shares are
    ``[..., N, M + 1]``).

    Example:
      >>> rank_histogram(jnp.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]), jnp.array([-1.0, 0.5, 1.0]))
      Array([1. , 1.5, 0.5], dtype=float32)
    """
    fn = "rank_histogram"
    checks.check_min_rank(fn, "forecasts", forecasts, 2, "[..., N, M]")
    m = jnp.shape(forecasts)[-1] if num_members is None else checks.check_static_int(fn, "num_members", num_members)
    if randomize_ties and key is None:
        raise ValueError("jaxmetrics.rank_histogram: randomize_ties=True needs a PRNG `key`.")
    return _rank_histogram_core(forecasts, obs, key if randomize_ties else None, where, weights, num_members=m,
                                normalize=bool(normalize), randomize_ties=bool(randomize_ties))


@functools.partial(jax.jit, static_argnames=("num_members", "normalize", "randomize_ties"))
def _rank_histogram_core(forecasts, obs, key, where, weights, *, num_members, normalize, randomize_ties):
    m = num_members
    metric = rank_histogram_metric(num_members=m, normalize=normalize, randomize_ties=randomize_ties)
    metric = metric._replace(update=functools.partial(metric.update, key=key))
    return one_shot(metric, forecasts, obs, where=where, weights=weights)


def _ssr_config(fn, finite_ensemble_correction):
    if not isinstance(finite_ensemble_correction, bool):
        _common.fail(fn, "argument `finite_ensemble_correction` must be a static bool; got "
                     f"{finite_ensemble_correction!r}.")


def spread_skill_ratio_metric(*, finite_ensemble_correction: bool = False) -> Metric:
    """Streaming :func:`spread_skill_ratio`; state (Σ w·s², Σ w·e², Σ w) per batch entry, additive.

    ``update(state, forecasts, obs, *, where=None, weights=None)``; ``init(dtype=None,
    batch_shape=())``.
    """
    fn = "spread_skill_ratio"
    _ssr_config(fn, finite_ensemble_correction)

    def init(dtype=None, batch_shape=()):
        d = default_state_dtype(dtype)
        z = jnp.zeros(batch_shape, d)
        return SpreadSkillState(z, z, z)

    def update(state, forecasts, obs, *, where=None, weights=None):
        forecasts, obs = _common.check_ensemble(fn, forecasts, obs)
        m = forecasts.shape[-1]
        if m < 2:
            _common.fail(fn, f"argument `forecasts` needs M >= 2 members (ensemble variance with ddof=1); "
                         f"got shape {forecasts.shape}.")
        d = state.spread2.dtype
        cdt = _common.dtype_of(forecasts, obs)
        x = numerics.promote(forecasts, cdt)
        y = numerics.promote(obs, cdt)
        mean = x.mean(-1)
        var = ((x - mean[..., None]) ** 2).sum(-1) / (m - 1)  # two-pass, ddof = 1
        if finite_ensemble_correction:
            var = var * ((m + 1) / m)
        err2 = (mean - y) ** 2
        w = checks.sample_weights(fn, mean.shape, d, where, weights)
        keep = w != 0
        zero = jnp.zeros((), d)
        var = jnp.where(keep, var.astype(d), zero)
        err2 = jnp.where(keep, err2.astype(d), zero)
        return SpreadSkillState(state.spread2 + (w * var).sum(-1), state.error2 + (w * err2).sum(-1),
                                state.weight + w.sum(-1))

    def compute(state):
        num, den = state.spread2, state.error2
        pos = den > 0
        ratio = numerics.safe_sqrt(num / jnp.where(pos, den, jnp.ones_like(den)))
        return jnp.where(pos, ratio, jnp.where(num > 0, jnp.inf, jnp.nan).astype(num.dtype))

    return Metric(init, update, tree_add, compute)


def spread_skill_ratio(forecasts, obs, *, finite_ensemble_correction: bool = False, where=None,
                       weights=None) -> Array:
    r"""Spread–skill ratio: ensemble spread over the RMSE of the ensemble mean (1 is ideal).

    SSR = sqrt(Σ_i w_i c·s_i²) / sqrt(Σ_i w_i (x̄_i − y_i)²), with s_i² the members' variance
    (ddof = 1), x̄_i their mean, and c = (M + 1)/M if ``finite_ensemble_correction`` else 1.

    This is the ratio of root-*mean* variance to root-mean-square error (squares are averaged before
    the square roots, which makes the statistic additive over batches). For a perfectly reliable
    ensemble (members and observation exchangeable) E[s²] = σ² while E[(x̄ − y)²] = σ²(1 + 1/M), so
    the uncorrected SSR tends to sqrt(M/(M + 1)) and the corrected one to 1. SSR < 1: under-dispersed
    (over-confident); SSR > 1: over-dispersed. Neither higher nor lower is better: 1 is ideal.

    Args:
      forecasts: ensemble members ``[..., N, M]``, M ≥ 2. obs: observations ``[..., N]``.
      finite_ensemble_correction: static; multiply the variance by (M + 1)/M (default False).
      where: bool observation mask ``[..., N]``. weights: observation weights ``[..., N]``.

    Returns:
      ``[...]``; +inf when the ensemble mean is exact but the spread is not zero, NaN when both are
      zero or every observation is masked. Oracle: numpy ``var(ddof=1)`` and ``mean``.

    Example:
      >>> spread_skill_ratio(jnp.array([[0.0, 2.0], [1.0, 3.0]]), jnp.array([0.0, 0.0]))
      Array(0.8944272, dtype=float32)
    """
    _ssr_config("spread_skill_ratio", finite_ensemble_correction)
    return _ssr_core(forecasts, obs, where, weights, finite_ensemble_correction=finite_ensemble_correction)


@functools.partial(jax.jit, static_argnames=("finite_ensemble_correction",))
def _ssr_core(forecasts, obs, where, weights, *, finite_ensemble_correction):
    metric = spread_skill_ratio_metric(finite_ensemble_correction=finite_ensemble_correction)
    return one_shot(metric, forecasts, obs, where=where, weights=weights)


register(MetricInfo(name="pit", family="scoring", fn=pit, differentiable=False, higher_is_better=None,
                    streaming=None, oracle="numpy counts of members below/equal to obs (mid-rank)"))
register(MetricInfo(name="rank_histogram", family="scoring", fn=rank_histogram, differentiable=False,
                    higher_is_better=None, streaming=rank_histogram_metric,
                    oracle="numpy.bincount of ranks (ties split evenly)"))
register(MetricInfo(name="spread_skill_ratio", family="scoring", fn=spread_skill_ratio, differentiable=True,
                    higher_is_better=None, streaming=spread_skill_ratio_metric,
                    oracle="numpy var(ddof=1) / squared error of the ensemble mean"))
