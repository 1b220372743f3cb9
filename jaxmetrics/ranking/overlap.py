"""Rank-biased overlap (RBO) between two rankings of the same items (Webber, Moffat & Zobel 2010).

**Layout.** ``scores_a [..., Q, n_items]`` and ``scores_b [..., Q, n_items]`` are two scorings of the same
Q candidate lists (e.g. a model before and after an update, or two retrievers); each induces a ranking
(descending score). ``where [..., Q, n_items]`` marks the valid items, common to both rankings (masked
items are left out of both); ``weights [..., Q]`` weight the queries in the mean.

**Definitions** (Webber et al. 2010). With S, T the two rankings and S_{:d}, T_{:d} their depth-d prefixes,
the overlap at depth d is X_d = |S_{:d} ∩ T_{:d}| and the agreement A_d = X_d / d.

* Truncated RBO at depth k (eq. 7 summed to k, the "RBO_min"-style lower part of the infinite sum):

      RBO@k = (1 − p) Σ_{d=1}^{k} p^{d−1} A_d                         ∈ [0, 1 − p^k].

* Extrapolated RBO (``extrapolate=True``; eq. 30, = eq. 32 for lists of equal length k): the point
  estimate that assumes the agreement A_k observed at depth k persists at every deeper level,

      RBO_ext = X_k/k · p^k + (1 − p)/p · Σ_{d=1}^{k} X_d/d · p^d = RBO@k + A_k p^k     ∈ [0, 1].

  Identical rankings give RBO@k = 1 − p^k and RBO_ext = 1, whatever their length.

The depth is ``k`` clipped to the number of valid items of the query (per-query, via masks), or that
number when ``k=None``. ``p`` ∈ (0, 1) is the persistence: the expected depth of the comparison is
1/(1 − p) (p = 0.9: the top 10 carry 86 % of the weight).

**Ties.** Each ranking orders its tied scores by item index (``ties="stable"``, the only option: RBO has
no relevance to break ties by). Webber et al.'s tie-aware variant is not implemented.

**Cost.** Two stable sorts per query, then O(n): an item is in both depth-d prefixes iff
max(pos_a(i), pos_b(i)) < d, so X_d is the cumulative histogram of these maxima (inverse permutations
and one scatter-add).
Piecewise constant: gradients are 0 (finite).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxmetrics._src import checks
from jaxmetrics._src.metric import Metric
from jaxmetrics._src.registry import MetricInfo, register
from jaxmetrics.ranking import _queries

Array = jax.Array

__all__ = ["rank_biased_overlap", "rank_biased_overlap_metric", "rbo", "rbo_metric"]

_FN = "rank_biased_overlap"
TIES = ("stable",)


def _check_p(fn: str, p) -> float:
    if isinstance(p, jax.Array) and not isinstance(p, jax.core.Tracer) and p.ndim == 0:
        p = float(p)
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise checks.ShapeError(f"jaxmetrics.{fn}: argument `p` must be a static Python float in (0, 1); "
                                f"got {type(p).__name__} {p!r}.")
    p = float(p)
    if not 0.0 < p < 1.0:
        raise checks.ShapeError(f"jaxmetrics.{fn}: argument `p` must lie in (0, 1); got {p}.")
    return p


def _config(fn, p, k, ties):
    p = _check_p(fn, p)
    if k is not None:
        checks.check_static_int(fn, "k", k)
    checks.check_choice(fn, "ties", ties, TIES)
    return p


def _inverse_positions(order: Array) -> Array:
    """0-based position of each item, ``[..., n]``, from the ranked item indices ``order`` (a scatter:
    the inverse permutation, O(n))."""
    iota = _queries.positions(order.shape, jnp.int32)
    return jnp.put_along_axis(jnp.zeros_like(order), order, iota, axis=-1, inplace=False)


def _per_query(scores_a, scores_b, *, where=None, p=0.9, k=None, extrapolate=False, ties="stable"):
    q = _queries.query_inputs(_FN, scores_a, scores_b, where, scores_name="scores_a", relevance_name="scores_b")
    zeros = jnp.zeros_like(q.scores)
    order_a = _queries.rank_items(_queries.Queries(q.scores, zeros, q.valid), ties).index
    order_b = _queries.rank_items(_queries.Queries(q.relevance, zeros, q.valid), ties).index
    n = q.scores.shape[-1]
    dtype = q.scores.dtype
    # item i is in both depth-d prefixes iff m_i = max(pos_a, pos_b) < d; valid items occupy positions
    # 0 .. n_valid-1 of both rankings, masked items are dropped from the histogram (index n).
    m = jnp.maximum(_inverse_positions(order_a), _inverse_positions(order_b))
    m = jnp.where(q.valid, m, n)
    rows = int(np.prod(m.shape[:-1], dtype=np.int64))
    flat = (m.reshape(rows, n) + (jnp.arange(rows, dtype=jnp.int32) * (n + 1))[:, None]).reshape(-1)
    hist = jax.ops.segment_sum(jnp.ones(flat.shape, dtype), flat, num_segments=rows * (n + 1))
    hist = hist.reshape(m.shape[:-1] + (n + 1,))[..., :n]
    x = jnp.cumsum(hist, axis=-1)  # X_d at index d - 1
    d = _queries.positions(x.shape, dtype) + 1
    agreement = x / d  # A_d
    n_valid = q.valid.sum(-1)
    depth = n_valid if k is None else jnp.minimum(n_valid, k)
    in_depth = d <= depth[..., None].astype(dtype)
    discount = (1 - p) * jnp.asarray(p, dtype) ** (d - 1)
    value = jnp.where(in_depth, discount * agreement, 0).sum(-1)
    if extrapolate:
        a_k = jnp.where(d == depth[..., None].astype(dtype), agreement, 0).sum(-1)
        value = value + a_k * jnp.asarray(p, dtype) ** depth.astype(dtype)
    valid_q = n_valid > 0
    return jnp.where(valid_q, value, jnp.zeros((), dtype)), valid_q


def rank_biased_overlap_metric(*, p: float = 0.9, k=None, extrapolate: bool = False,
                               ties: str = "stable") -> Metric:
    """Streaming :func:`rank_biased_overlap`: ``update(state, scores_a, scores_b, *, where, weights)``;
    state (Σ w·RBO, Σ w) over valid queries, additive."""
    p = _config(_FN, p, k, ties)
    return _queries.query_mean_metric(
        _FN, functools.partial(_per_query, p=p, k=k, extrapolate=bool(extrapolate), ties=ties))


def rank_biased_overlap(scores_a, scores_b, *, p: float = 0.9, k=None, extrapolate: bool = False,
                        ties: str = "stable", where=None, weights=None, reduce="mean") -> Array:
    r"""Rank-biased overlap of the rankings induced by two scorings of the same items.

    RBO@k = (1 − p) Σ_{d=1}^{k} p^{d−1} |S_{:d} ∩ T_{:d}| / d, and with ``extrapolate=True``
    RBO_ext = RBO@k + A_k p^k (Webber et al. 2010, eqs. 7 and 30/32); see the module docstring.

    Args:
      scores_a: ``[..., Q, n_items]`` scores defining ranking S (descending).
      scores_b: ``[..., Q, n_items]`` scores defining ranking T over the same items.
      p: static persistence in (0, 1) (default 0.9).
      k: static evaluation depth (int >= 1), clipped per query to its number of valid items; None: the
        number of valid items.
      extrapolate: static; False gives the truncated RBO@k, True the extrapolated point estimate
        RBO_ext.
      ties: ``"stable"`` (ties in each ranking ordered by item index).
      where: bool item mask common to both rankings, broadcastable to ``[..., Q, n_items]``.
      weights: query weights ``[..., Q]`` (``reduce="mean"`` only).
      reduce: ``"mean"`` (weighted mean over queries with a valid item) or None (``[..., Q]``).

    Returns:
      ``[...]`` or ``[..., Q]`` in [0, 1]; a query without valid items gives 0 and is left out of the
      mean. Symmetric in ``scores_a`` / ``scores_b``. O(n log n) per query.

    Example:
      >>> a = jnp.array([[3.0, 2.0, 1.0]])
      >>> round(float(rank_biased_overlap(a, a, p=0.5)), 4)  # identical: 1 - p^3
      0.875
      >>> round(float(rank_biased_overlap(a, a, p=0.5, extrapolate=True)), 4)
      1.0
      >>> b = jnp.array([[1.0, 2.0, 3.0]])  # reversed: A = (0, 1/2, 1)
      >>> round(float(rank_biased_overlap(a, b, p=0.5)), 4)  # 0.5 (0.5 * 0.5 + 0.25)
      0.25
    """
    p = _config(_FN, p, k, ties)
    per_query = functools.partial(_per_query, p=p, k=k, extrapolate=bool(extrapolate), ties=ties)
    metric = rank_biased_overlap_metric(p=p, k=k, extrapolate=extrapolate, ties=ties)
    return _queries.per_query_or_mean(_FN, metric, per_query, (scores_a, scores_b), reduce=reduce, where=where,
                                      weights=weights, scores_name="scores_a")


rbo = rank_biased_overlap
rbo_metric = rank_biased_overlap_metric

register(MetricInfo(
    name="rank_biased_overlap", family="ranking", fn=rank_biased_overlap, differentiable=False,
    higher_is_better=True, streaming=rank_biased_overlap_metric,
    oracle="tests/reference/rbo.py (loop-based numpy, Webber et al. 2010 eqs. 7 and 32)", aliases=("rbo",)))
