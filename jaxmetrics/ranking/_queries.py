"""Shared machinery of the ranking family: query inputs, ranked order, tie groups, per-query reduction.

Layout: ``scores [..., Q, n_items]`` and ``relevance [..., Q, n_items]`` hold Q queries (the sample
axis) of ``n_items`` candidates each; ``where [..., Q, n_items]`` (broadcastable) marks the valid items,
so ragged candidate lists are padding + mask. ``weights [..., Q]`` weight the queries in the mean.

Every per-query function here returns ``(values [..., Q], valid [..., Q])``: ``valid`` is False for a
query without any valid item, whose value is the documented 0 and which is left out of the mean.

Ties (``ties=``) are explicit everywhere:

* ``"average"`` — the expectation over all orderings of tied items (McSherry & Najork 2008, as
  scikit-learn's ``ndcg_score``); exact for metrics that are linear in a per-position weight (DCG,
  precision, recall, R-precision), so only those offer it;
* ``"stable"`` — tied items keep their input (index) order;
* ``"optimistic"`` / ``"pessimistic"`` — among tied items the more / less relevant come first, the best
  and worst case over tie orderings. A constant scorer gets no credit under ``"pessimistic"``.

Masked items always rank after every valid item, whatever their score.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from jaxmetrics._src import checks, numerics
from jaxmetrics._src.metric import Metric, mean_metric, one_shot
from jaxmetrics._src.sortkeys import order_key

Array = jax.Array

LAYOUT = "[..., Q, n_items]"
TIES_ORDER = ("stable", "optimistic", "pessimistic")
TIES_LINEAR = ("average",) + TIES_ORDER
REDUCE = ("mean", "none", None)  # None and "none" are synonyms (scoring spells it "none")


class Queries(NamedTuple):
    """Promoted query inputs, each ``[..., Q, n_items]``."""

    scores: Array
    relevance: Array
    valid: Array  # bool


class Ranked(NamedTuple):
    """Items of each query in ranked order (best first, masked items last), each ``[..., Q, n_items]``."""

    scores: Array
    relevance: Array
    valid: Array  # bool
    index: Array  # int32: original item index of each ranked position


def item_mask(fn: str, where, shape: tuple) -> Array:
    """``where`` as a bool mask of ``shape`` (all True when None); ShapeError naming `where` otherwise."""
    if where is None:
        return jnp.ones(shape, bool)
    return checks.broadcast_arg(fn, "where", where, shape, "item shape").astype(bool)


def query_inputs(fn: str, scores, relevance, where=None, *, scores_name: str = "scores",
                 relevance_name: str = "relevance") -> Queries:
    """Checks and promotes ``scores`` / ``relevance`` ``[..., Q, n_items]`` (rank >= 1) and ``where``.

    Both are promoted to a common float dtype of at least float32 (:func:`numerics.accumulation_dtype`).
    """
    scores, relevance = jnp.asarray(scores), jnp.asarray(relevance)
    checks.check_min_rank(fn, scores_name, scores, 1, LAYOUT)
    checks.check_same_shape(fn, relevance_name, relevance, scores_name, scores, LAYOUT)
    dtype = numerics.accumulation_dtype(scores, relevance)
    valid = item_mask(fn, where, scores.shape)
    return Queries(numerics.promote(scores, dtype), numerics.promote(relevance, dtype), valid)


def rank_items(q: Queries, ties: str) -> Ranked:
    """Sorts each query's items by descending score (valid items first), breaking ties by ``ties``.

    One stable multi-key ``lax.sort`` over the item axis: O(n log n) per query. ``"average"`` orders
    ties like ``"stable"``; use :func:`tie_average` for the averaging itself.
    """
    index = lax.broadcasted_iota(jnp.int32, q.scores.shape, q.scores.ndim - 1)
    invalid = (~q.valid).astype(jnp.int32)
    neg = jnp.where(q.valid, -q.scores, jnp.zeros((), q.scores.dtype))  # masked padding may be NaN
    if ties == "optimistic":
        tie_key = -q.relevance
    elif ties == "pessimistic":
        tie_key = q.relevance
    else:
        tie_key = jnp.zeros_like(q.relevance)
    tie_key = jnp.where(q.valid, tie_key, jnp.zeros((), tie_key.dtype))
    _, _, _, order = lax.sort((invalid, neg, tie_key, index), dimension=q.scores.ndim - 1,
                              is_stable=True, num_keys=3)
    take = lambda x: jnp.take_along_axis(x, order, axis=-1)  # noqa: E731
    return Ranked(take(q.scores), take(q.relevance), take(q.valid), order)


def preference_key(q: Queries) -> Array:
    """Integer ranking key ``[..., Q, n_items]``: a larger key ranks earlier, equal keys are tied.

    The key of a valid item is the order key of its (promoted) score
    (:func:`jaxmetrics._src.sortkeys.order_key`: ``-0.0`` ties ``+0.0``, ±inf are ordinary values); a
    NaN score gets the second smallest integer, below every number (where :func:`rank_items` puts
    NaNs), and a masked item the smallest, below everything. The key is int32 (int64 for float64
    scores) and carries no gradient (every ranking metric is piecewise constant in the scores).
    """
    key = order_key(lax.stop_gradient(q.scores))
    info = jnp.iinfo(key.dtype)
    nan_key = order_key(jnp.full((), jnp.nan, q.scores.dtype))
    key = jnp.where(key == nan_key, jnp.asarray(info.min + 1, key.dtype), key)
    return jnp.where(q.valid, key, jnp.asarray(info.min, key.dtype))


def tieable(key: Array) -> Array:
    """Whether a :func:`preference_key` may share a tie group: not a NaN score and not masked
    (:func:`tie_groups` compares scores with ``==``, so NaNs and masked items are singletons)."""
    return key > jnp.iinfo(key.dtype).min + 1


def top_by_key(key: Array, k: int) -> Array:
    """Item indices ``[..., Q, k]`` of the ``k`` largest ``key`` values, largest first, ties in index
    order — the first ``k`` positions of :func:`rank_items` under ``ties="stable"`` (and ``"average"``).

    On CPU this is ``lax.top_k`` of the floats whose total-order keys are ``key``: XLA:CPU's float
    ``top_k`` (O(n log k)) compares floats by the total order of their bits and keeps equal values in
    index order, while its integer ``top_k`` is a full sort (~10× slower). The mapping is the bijection
    between a float's bit pattern ``b`` and its total-order key ``b ^ 0x7F..F`` (negative ``b``) /
    ``b``; very negative keys become NaN bit patterns, which that comparator orders by their bits all
    the same. Other backends take ``lax.top_k`` of the integer keys directly.
    """
    def cpu(key):
        flip = jnp.asarray(jnp.iinfo(key.dtype).max, key.dtype)
        bits = jnp.where(key < 0, key ^ flip, key)
        fdtype = jnp.float64 if key.dtype == jnp.int64 else jnp.float32
        return lax.top_k(lax.bitcast_convert_type(bits, fdtype), k)[1]

    return lax.platform_dependent(key, cpu=cpu, default=lambda key: lax.top_k(key, k)[1])


def tie_average_top(key: Array, values: Array, top: Array) -> Array:
    """``values`` at the top positions ``top [..., Q, k]`` (from :func:`top_by_key`), replaced by their
    tie-group means: the first ``k`` entries of :func:`tie_average` without ranking the whole list.

    Every item ranked above the k-th one is among the top k, so each tie group above the cutoff lies
    wholly inside the top k and is averaged there (a sum restarted at every group, so large values in
    earlier groups cannot cancel digits of later ones); only the group straddling the cutoff extends
    past it, and its mean is taken over all its items (one pass over ``n_items``). O(n + k log k) per
    query.
    """
    kt = jnp.take_along_axis(key, top, axis=-1)
    vt = jnp.take_along_axis(values, top, axis=-1)
    k = kt.shape[-1]
    tie = tieable(kt)
    # contiguous groups inside the top k: [start, end] of each position's group, by running max/min
    new = jnp.concatenate([jnp.ones(kt.shape[:-1] + (1,), bool),
                           (kt[..., 1:] != kt[..., :-1]) | ~tie[..., 1:]], axis=-1)
    last = jnp.concatenate([new[..., 1:], jnp.ones(kt.shape[:-1] + (1,), bool)], axis=-1)
    pos = positions(kt.shape)
    start = lax.cummax(jnp.where(new, pos, 0), axis=kt.ndim - 1)
    end = lax.cummin(jnp.where(last, pos, k - 1), axis=kt.ndim - 1, reverse=True)

    def seg_add(a, b):  # running sum that restarts where a group starts (associative)
        return a[0] | b[0], jnp.where(b[0], b[1], a[1] + b[1])

    _, running = lax.associative_scan(seg_add, (new, vt), axis=kt.ndim - 1)
    group_sum = jnp.take_along_axis(running, end, axis=-1)
    inside = group_sum / (end - start + 1).astype(vt.dtype)
    # the group at the cutoff: its mean over every item of the query with that key
    cut = kt[..., -1:]
    members = key == cut
    cut_mean = (jnp.where(members, values, jnp.zeros((), values.dtype)).sum(-1, keepdims=True)
                / members.sum(-1, keepdims=True).astype(values.dtype))
    return jnp.where(tie & (kt == cut), cut_mean, inside)


def tie_groups(ranked: Ranked) -> Array:
    """Group id ``[..., Q, n_items]`` (0-based, increasing) of each ranked position: consecutive valid
    items with equal scores share a group; every masked item is its own group."""
    s, v = ranked.scores, ranked.valid
    same = (s[..., 1:] == s[..., :-1]) & v[..., 1:] & v[..., :-1]
    new = jnp.concatenate([jnp.ones(s.shape[:-1] + (1,), bool), ~same], axis=-1)
    return jnp.cumsum(new.astype(jnp.int32), axis=-1) - 1


def tie_average(ranked: Ranked, values: Array) -> Array:
    """``values [..., Q, n_items]`` (in ranked order) replaced by their mean over each tie group.

    For a metric linear in per-position weights, ``Σ_pos w[pos] · tie_average(values)[pos]`` is the
    exact expectation of ``Σ_pos w[pos] · values[pos]`` over uniformly random orderings of the ties
    (McSherry & Najork 2008). O(n) per query (a segment sum).
    """
    n = values.shape[-1]
    gid = tie_groups(ranked)

    def row(v, g):
        sums = jax.ops.segment_sum(v, g, num_segments=n)
        counts = jax.ops.segment_sum(jnp.ones_like(v), g, num_segments=n)
        return (sums / jnp.maximum(counts, 1))[g]

    flat = jax.vmap(row)(values.reshape(-1, n), gid.reshape(-1, n))
    return flat.reshape(values.shape)


def positions(shape: tuple, dtype=jnp.int32) -> Array:
    """0-based ranked positions ``0 .. n_items-1`` along the last axis of ``shape``."""
    return lax.broadcasted_iota(dtype, shape, len(shape) - 1)


def cutoff(fn: str, k, n_items: int) -> int:
    """The static cutoff: ``k`` (an int >= 1) clipped to ``n_items``, or ``n_items`` when None."""
    if k is None:
        return n_items
    return min(checks.check_static_int(fn, "k", k), n_items)


def query_mean_metric(fn: str, per_query: Callable) -> Metric:
    """Streaming weighted mean over queries of ``per_query(*arrays, where=...) -> (values, valid)``.

    The state is the additive ``(Σ w·value, Σ w)`` over valid queries (``mean_metric`` with ``where``
    forwarded as the item mask), so ``merge`` is a tree-add and a ``psum`` across devices.
    """
    return mean_metric(fn, per_query, forward_where=True)


def per_query_or_mean(fn: str, metric: Metric, per_query: Callable, arrays: tuple, *, reduce, where,
                      weights, scores_name: str = "scores"):
    """The one-shot of a query metric: per-query values (``reduce=None``) or their weighted mean.

    ``reduce="mean"`` needs the query axis (``scores`` rank >= 2) and returns ``[...]``: the
    ``weights``-weighted mean over queries with at least one valid item (NaN when there is none).
    ``reduce=None`` (or ``"none"``, as in :mod:`jaxmetrics.scoring`) returns ``[..., Q]``; ``weights``
    are then meaningless and rejected.
    """
    checks.check_choice(fn, "reduce", reduce, REDUCE)
    if reduce is None or reduce == "none":
        if weights is not None:
            raise ValueError(f"jaxmetrics.{fn}: `weights` weight queries in the mean; pass reduce='mean'.")
        return per_query(*arrays, where=where)[0]
    checks.check_min_rank(fn, scores_name, arrays[0], 2, LAYOUT)
    return one_shot(metric, *arrays, where=where, weights=weights)
