"""Binary-relevance retrieval metrics: AP@k, reciprocal rank / MRR, precision@k, recall@k, hit rate,
R-precision.

**Layout.** ``scores [..., Q, n_items]`` and ``relevance [..., Q, n_items]`` hold Q queries of
``n_items`` candidates; ``where [..., Q, n_items]`` (broadcastable) marks the valid candidates (ragged
lists are padding + mask; masked items rank after every valid one and never count); ``weights [..., Q]``
weight the queries in the mean. An item is *relevant* when its relevance is > 0 (trec_eval's and ranx's
``relevance_level=1`` for integer grades). ``num_relevant [..., Q]`` (AP, recall, R-precision) is the
total number of relevant documents of each query *including those not among the candidates* (TREC
qrels semantics); without it, the relevant valid candidates are counted. It is taken as given (a count
that should be >= the relevant candidates; a smaller one lets recall exceed 1).

**Conventions.**

* Cutoff ``k``: a static int >= 1; the top ``min(k, n_items)`` ranked positions are used (a list
  shorter than k is simply shorter). ``k=None``: the whole valid list.
* Ties (``ties=``), see :mod:`jaxmetrics.ranking._queries`: precision, recall and R-precision are
  linear in a per-position indicator, so they offer ``"average"`` (the default: the exact expectation
  over all orderings of tied scores) besides ``"stable"`` / ``"optimistic"`` / ``"pessimistic"``.
  AP, reciprocal rank and hit rate are not, and offer the three orderings only; their default is
  ``"pessimistic"`` (relevant items rank last among ties, so a constant scorer gets no credit).
  ``"stable"`` is index order, which reproduces trec_eval when documents are named so that descending
  docno order is index order (trec_eval breaks score ties by docno, descending).
* A query without any valid item has value 0 and is left out of the mean (``reduce="mean"`` is NaN if
  no query is valid). A query without relevant items has value 0 and *is* included (trec_eval,
  scikit-learn). Every 0/0 is 0.
* All metrics are piecewise constant in ``scores``: the gradient is 0 (finite, also for ±inf scores,
  ties and masked queries). Differentiable twins live in :mod:`jaxmetrics.ranking.relaxed`.
* Cost: one stable sort per query, O(n log n), and O(n) besides; reciprocal rank and hit rate need no
  sort (the rank of the first relevant item is a count: one O(n) pass per query).

Each metric has a streaming constructor ``<name>_metric(*, <config>)`` whose state is the additive
``(Σ w·value, Σ w)`` over valid queries (merge = add, ``psum`` across devices).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxmetrics._src import checks, numerics
from jaxmetrics._src.metric import Metric
from jaxmetrics._src.registry import MetricInfo, register
from jaxmetrics.ranking import _queries

Array = jax.Array

__all__ = [
    "average_precision_at_k",
    "average_precision_at_k_metric",
    "hit_rate",
    "hit_rate_metric",
    "mean_reciprocal_rank",
    "mean_reciprocal_rank_metric",
    "mrr",
    "mrr_metric",
    "precision_at_k",
    "precision_at_k_metric",
    "r_precision",
    "r_precision_metric",
    "recall_at_k",
    "recall_at_k_metric",
    "reciprocal_rank",
]

AP_DENOMINATORS = ("relevant", "min_k_relevant", "retrieved")


# --------------------------------------------------------------------------------------------------
# shared per-query machinery


class _Ranked(NamedTuple):
    rel: Array        # [..., Q, n] float 0/1 relevant indicator in ranked order (0 at masked positions)
    pos: Array        # [..., Q, n] float 0-based ranked position
    ranked: _queries.Ranked
    n_valid: Array    # [..., Q] float number of valid items
    n_rel: Array      # [..., Q] float number of relevant valid items
    valid_q: Array    # [..., Q] bool: the query has at least one valid item


def _rank(fn: str, scores, relevance, where, ties: str) -> _Ranked:
    q = _queries.query_inputs(fn, scores, relevance, where)
    ranked = _queries.rank_items(q, ties)
    dtype = q.scores.dtype
    rel = (ranked.valid & (ranked.relevance > 0)).astype(dtype)
    pos = _queries.positions(rel.shape, dtype)
    n_valid = q.valid.sum(-1).astype(dtype)
    return _Ranked(rel, pos, ranked, n_valid, rel.sum(-1), q.valid.any(-1))


def _num_relevant(fn: str, num_relevant, r: _Ranked) -> Array:
    """``num_relevant [..., Q]`` promoted (ShapeError naming it otherwise), or the counted relevant."""
    if num_relevant is None:
        return r.n_rel
    num_relevant = jnp.asarray(num_relevant)
    expected = r.n_rel.shape
    if num_relevant.shape != expected:
        raise checks.ShapeError(
            f"jaxmetrics.{fn}: argument `num_relevant` must have shape [..., Q] = {expected} (the query axes "
            f"of `scores`); got {num_relevant.shape}."
        )
    return numerics.promote(num_relevant, r.n_rel.dtype)


def _finish(values: Array, r: _Ranked):
    zero = jnp.zeros((), values.dtype)
    return jnp.where(r.valid_q, values, zero), r.valid_q


def _top(r: _Ranked, depth) -> Array:
    """Bool ``[..., Q, n]``: ranked position within the first ``depth`` (static int or ``[..., Q]``)."""
    depth = jnp.asarray(depth, r.pos.dtype)
    if depth.ndim:
        depth = depth[..., None]
    return r.pos < depth


def _check_ties(fn: str, ties: str, choices) -> None:
    checks.check_choice(fn, "ties", ties, choices)


def _order_ties(ties: str) -> str:
    return "stable" if ties == "average" else ties


def _linear_rel(r: _Ranked, ties: str) -> Array:
    """The relevant indicator, averaged over tie groups for ``ties="average"`` (exact expectation)."""
    return _queries.tie_average(r.ranked, r.rel) if ties == "average" else r.rel


def _one_shot(fn, metric, per_query, arrays, reduce, where, weights):
    arrays = tuple(a for a in arrays if a is not None)
    return _queries.per_query_or_mean(fn, metric, per_query, arrays, reduce=reduce, where=where, weights=weights)


# --------------------------------------------------------------------------------------------------
# average precision


def _ap_config(fn, k, ties, denominator):
    if k is not None:
        checks.check_static_int(fn, "k", k)
    _check_ties(fn, ties, _queries.TIES_ORDER)
    checks.check_choice(fn, "denominator", denominator, AP_DENOMINATORS)


def _ap_per_query(scores, relevance, num_relevant=None, *, where=None, k=None, ties="pessimistic",
                  denominator="relevant"):
    fn = "average_precision_at_k"
    r = _rank(fn, scores, relevance, where, ties)
    big_r = _num_relevant(fn, num_relevant, r)
    kk = _queries.cutoff(fn, k, r.rel.shape[-1])
    top = _top(r, kk)
    precision = jnp.cumsum(r.rel, axis=-1) / (r.pos + 1)
    total = jnp.where(top, precision * r.rel, 0).sum(-1)
    if denominator == "relevant":
        z = big_r
    elif denominator == "min_k_relevant":
        z = jnp.minimum(r.n_valid if k is None else jnp.asarray(k, big_r.dtype), big_r)
    else:  # "retrieved"
        z = jnp.where(top, r.rel, 0).sum(-1)
    return _finish(numerics.safe_div(total, z), r)


def average_precision_at_k_metric(*, k=None, ties: str = "pessimistic", denominator: str = "relevant") -> Metric:
    """Streaming :func:`average_precision_at_k` (MAP@k):
    ``update(state, scores, relevance[, num_relevant], *, where, weights)``; additive state."""
    _ap_config("average_precision_at_k", k, ties, denominator)
    return _queries.query_mean_metric(
        "average_precision_at_k", functools.partial(_ap_per_query, k=k, ties=ties, denominator=denominator))


def average_precision_at_k(scores, relevance, num_relevant=None, *, k=None, ties: str = "pessimistic",
                           denominator: str = "relevant", where=None, weights=None, reduce="mean") -> Array:
    r"""Average precision at k of each query, and its mean over queries (MAP@k).

    AP@k = (1/Z) Σ_{r ≤ k} P@r · rel_r, with rel_r ∈ {0, 1} the relevance of rank r (1-based) and
    P@r = (1/r) Σ_{j ≤ r} rel_j. The normaliser Z (``denominator``) differs between libraries:

    * ``"relevant"`` (default): the number of relevant documents R — ``num_relevant`` if given (all
      relevant documents of the query, retrieved or not, even for a cutoff k: trec_eval ``map`` /
      ``map_cut_k``, ranx ``map@k``), else the relevant valid candidates;
    * ``"min_k_relevant"``: min(k, R) (Microsoft ``recommenders`` ``map_at_k``); with ``k=None``,
      min(number of valid items, R), so a perfect ranking always scores 1;
    * ``"retrieved"``: the relevant items within the top k (torchmetrics ``retrieval_average_precision``
      with ``top_k``).

    Z = 0 gives AP = 0.

    Args:
      scores: ``[..., Q, n_items]`` ranking scores (higher ranks first).
      relevance: ``[..., Q, n_items]`` graded relevance (relevant when > 0).
      num_relevant: optional ``[..., Q]`` total number of relevant documents per query; may exceed the
        candidates (unretrieved relevant documents). Only used by ``"relevant"`` / ``"min_k_relevant"``.
      k: static cutoff (int >= 1) or None for the whole list.
      ties: ``"pessimistic"`` (default), ``"optimistic"`` or ``"stable"``.
      denominator: ``"relevant"``, ``"min_k_relevant"`` or ``"retrieved"`` (static).
      where: bool item mask, broadcastable to ``[..., Q, n_items]``.
      weights: query weights ``[..., Q]`` (``reduce="mean"`` only).
      reduce: ``"mean"`` (weighted mean over queries with a valid item) or None (``[..., Q]``).

    Returns:
      ``[...]`` (mean) or ``[..., Q]``. With ``ties="stable"`` and ``num_relevant`` it reproduces
      ``pytrec_eval`` ``map`` (k=None) and ``map_cut_k``. O(n log n) per query.

    Example:
      >>> s = jnp.array([[0.9, 0.8, 0.7, 0.6]])
      >>> rel = jnp.array([[1, 0, 1, 0]])
      >>> round(float(average_precision_at_k(s, rel)), 4)  # (1/1 + 2/3) / 2
      0.8333
      >>> round(float(average_precision_at_k(s, rel, jnp.array([4]), k=2)), 4)  # (1/1) / 4
      0.25
    """
    fn = "average_precision_at_k"
    _ap_config(fn, k, ties, denominator)
    per_query = functools.partial(_ap_per_query, k=k, ties=ties, denominator=denominator)
    return _one_shot(fn, average_precision_at_k_metric(k=k, ties=ties, denominator=denominator), per_query,
                     (scores, relevance, num_relevant), reduce, where, weights)


# --------------------------------------------------------------------------------------------------
# reciprocal rank


def _first_relevant(fn, scores, relevance, where, ties):
    """``(rank [..., Q], has_relevant [..., Q], valid_q [..., Q])``: the 1-based rank of the first relevant
    item under ``ties``, without ranking the list.

    With b the best key (:func:`_queries.preference_key`) among the relevant valid items, the first
    relevant item is preceded exactly by the valid items scoring above b plus, among those tied at b,
    the ones :func:`_queries.rank_items` orders first: none (``"optimistic"``: relevant first), the
    non-relevant ones with relevance <= 0 (``"pessimistic"``: ascending relevance; a NaN relevance sorts
    last) or the non-relevant ones with a smaller index than the first relevant one (``"stable"``).
    One pass over the items: O(n) per query instead of a sort.
    """
    q = _queries.query_inputs(fn, scores, relevance, where)
    key = _queries.preference_key(q)
    relevant = q.valid & (q.relevance > 0)
    floor = jnp.asarray(jnp.iinfo(key.dtype).min, key.dtype)
    best = jnp.where(relevant, key, floor).max(-1, keepdims=True)
    count = lambda m: m.sum(-1, dtype=jnp.int32)  # noqa: E731
    before = count(q.valid & (key > best))
    tied = q.valid & ~relevant & (key == best)
    if ties == "pessimistic":
        before = before + count(tied & (q.relevance <= 0))
    elif ties == "stable":
        index = _queries.positions(key.shape)
        first = jnp.where(relevant & (key == best), index, key.shape[-1]).min(-1, keepdims=True)
        before = before + count(tied & (index < first))
    dtype = q.scores.dtype
    return (before + 1).astype(dtype), relevant.any(-1), q.valid.any(-1)


def _rr_per_query(scores, relevance, *, where=None, k=None, ties="pessimistic"):
    fn = "reciprocal_rank"
    rank, found, valid_q = _first_relevant(fn, scores, relevance, where, ties)
    kk = _queries.cutoff(fn, k, jnp.shape(scores)[-1])
    rr = jnp.where(found & (rank <= kk), 1 / rank, jnp.zeros((), rank.dtype))
    return jnp.where(valid_q, rr, jnp.zeros((), rr.dtype)), valid_q


def _rr_config(fn, k, ties):
    if k is not None:
        checks.check_static_int(fn, "k", k)
    _check_ties(fn, ties, _queries.TIES_ORDER)


def mean_reciprocal_rank_metric(*, k=None, ties: str = "pessimistic") -> Metric:
    """Streaming :func:`mean_reciprocal_rank`: ``update(state, scores, relevance, *, where, weights)``."""
    _rr_config("mean_reciprocal_rank", k, ties)
    return _queries.query_mean_metric("mean_reciprocal_rank", functools.partial(_rr_per_query, k=k, ties=ties))


def mean_reciprocal_rank(scores, relevance, *, k=None, ties: str = "pessimistic", where=None, weights=None,
                         reduce="mean") -> Array:
    r"""Mean reciprocal rank (MRR@k): the mean over queries of 1/rank of the first relevant item.

    RR@k = 1 / min{r ≤ k : rel_r > 0} (ranks 1-based), and 0 when no relevant item is in the top k.

    Args:
      scores: ``[..., Q, n_items]`` ranking scores.
      relevance: ``[..., Q, n_items]`` graded relevance (relevant when > 0).
      k: static cutoff (int >= 1) or None (whole list).
      ties: ``"pessimistic"`` (default: relevant items last among ties), ``"optimistic"`` or
        ``"stable"``.
      where: bool item mask, broadcastable to ``[..., Q, n_items]``.
      weights: query weights ``[..., Q]`` (``reduce="mean"`` only).
      reduce: ``"mean"`` or None (per query ``[..., Q]``, as :func:`reciprocal_rank`).

    Returns:
      ``[...]`` or ``[..., Q]``. Matches ``pytrec_eval`` ``recip_rank`` (k=None, ``ties="stable"``
      with the docno convention) and ranx ``mrr@k``. A uniformly random ranking of one relevant item
      among n has expected RR = H_n / n.

    Example:
      >>> s = jnp.array([[0.9, 0.8, 0.7], [0.1, 0.2, 0.3]])
      >>> rel = jnp.array([[0, 1, 0], [0, 0, 0]])
      >>> round(float(mean_reciprocal_rank(s, rel)), 4)  # (1/2 + 0) / 2
      0.25
    """
    fn = "mean_reciprocal_rank"
    _rr_config(fn, k, ties)
    return _one_shot(fn, mean_reciprocal_rank_metric(k=k, ties=ties),
                     functools.partial(_rr_per_query, k=k, ties=ties), (scores, relevance), reduce, where, weights)


def reciprocal_rank(scores, relevance, *, k=None, ties: str = "pessimistic", where=None, weights=None,
                    reduce=None) -> Array:
    r"""Reciprocal rank of the first relevant item per query: :func:`mean_reciprocal_rank` with
    ``reduce=None`` by default.

    RR@k = 1 / min{r ≤ k : rel_r > 0}, 0 when no relevant item is in the top k (or no valid item).

    Args:
      scores, relevance, k, ties, where: as :func:`mean_reciprocal_rank`.
      weights: query weights, only with ``reduce="mean"``.
      reduce: None (default: ``[..., Q]``) or ``"mean"``.

    Returns:
      ``[..., Q]`` (or ``[...]`` with ``reduce="mean"``). ``pytrec_eval`` ``recip_rank`` per query.

    Example:
      >>> reciprocal_rank(jnp.array([[0.9, 0.8, 0.7], [0.1, 0.2, 0.3]]), jnp.array([[0, 1, 0], [1, 0, 0]]))
      Array([0.5       , 0.33333334], dtype=float32)
    """
    fn = "reciprocal_rank"
    _rr_config(fn, k, ties)
    return _one_shot(fn, mean_reciprocal_rank_metric(k=k, ties=ties),
                     functools.partial(_rr_per_query, k=k, ties=ties), (scores, relevance), reduce, where, weights)


mrr = mean_reciprocal_rank
mrr_metric = mean_reciprocal_rank_metric


# --------------------------------------------------------------------------------------------------
# precision, recall, hit rate


def _linear_config(fn, k, ties):
    if k is not None:
        checks.check_static_int(fn, "k", k)
    _check_ties(fn, ties, _queries.TIES_LINEAR)


def _precision_per_query(scores, relevance, *, where=None, k=None, ties="average"):
    fn = "precision_at_k"
    r = _rank(fn, scores, relevance, where, _order_ties(ties))
    hits = jnp.where(_top(r, _queries.cutoff(fn, k, r.rel.shape[-1])), _linear_rel(r, ties), 0).sum(-1)
    den = r.n_valid if k is None else jnp.asarray(k, hits.dtype)
    return _finish(numerics.safe_div(hits, den), r)


def precision_at_k_metric(*, k=None, ties: str = "average") -> Metric:
    """Streaming :func:`precision_at_k`: ``update(state, scores, relevance, *, where, weights)``."""
    _linear_config("precision_at_k", k, ties)
    return _queries.query_mean_metric("precision_at_k", functools.partial(_precision_per_query, k=k, ties=ties))


def precision_at_k(scores, relevance, *, k=None, ties: str = "average", where=None, weights=None,
                   reduce="mean") -> Array:
    r"""Precision at k: the fraction of the top k that is relevant, P@k = (1/k) Σ_{r ≤ k} rel_r.

    The denominator is k even when the list has fewer than k valid items (trec_eval ``P_k``);
    ``k=None`` uses the whole valid list and divides by its length.

    Args:
      scores: ``[..., Q, n_items]`` ranking scores.
      relevance: ``[..., Q, n_items]`` graded relevance (relevant when > 0).
      k: static cutoff (int >= 1) or None.
      ties: ``"average"`` (default; exact expectation over tie orderings), ``"stable"``,
        ``"optimistic"`` or ``"pessimistic"``.
      where: bool item mask, broadcastable to ``[..., Q, n_items]``.
      weights: query weights ``[..., Q]`` (``reduce="mean"`` only).
      reduce: ``"mean"`` or None (``[..., Q]``).

    Returns:
      ``[...]`` or ``[..., Q]``. Matches ``pytrec_eval`` ``P_k`` (``ties="stable"``) and ranx
      ``precision@k``.

    Example:
      >>> s = jnp.array([[0.9, 0.5, 0.5, 0.1]])
      >>> rel = jnp.array([[1, 1, 0, 0]])
      >>> round(float(precision_at_k(s, rel, k=2)), 4)  # (1 + 1/2) / 2: the tie is averaged
      0.75
    """
    fn = "precision_at_k"
    _linear_config(fn, k, ties)
    return _one_shot(fn, precision_at_k_metric(k=k, ties=ties),
                     functools.partial(_precision_per_query, k=k, ties=ties), (scores, relevance), reduce, where,
                     weights)


def _recall_per_query(scores, relevance, num_relevant=None, *, where=None, k=None, ties="average"):
    fn = "recall_at_k"
    r = _rank(fn, scores, relevance, where, _order_ties(ties))
    big_r = _num_relevant(fn, num_relevant, r)
    hits = jnp.where(_top(r, _queries.cutoff(fn, k, r.rel.shape[-1])), _linear_rel(r, ties), 0).sum(-1)
    return _finish(numerics.safe_div(hits, big_r), r)


def recall_at_k_metric(*, k=None, ties: str = "average") -> Metric:
    """Streaming :func:`recall_at_k`: ``update(state, scores, relevance[, num_relevant], *, where, weights)``."""
    _linear_config("recall_at_k", k, ties)
    return _queries.query_mean_metric("recall_at_k", functools.partial(_recall_per_query, k=k, ties=ties))


def recall_at_k(scores, relevance, num_relevant=None, *, k=None, ties: str = "average", where=None,
                weights=None, reduce="mean") -> Array:
    r"""Recall at k: the fraction of the relevant documents found in the top k, R@k = (1/R) Σ_{r ≤ k} rel_r.

    R = ``num_relevant`` (all relevant documents of the query, retrieved or not) if given, else the
    relevant valid candidates. R = 0 gives 0.

    Args:
      scores: ``[..., Q, n_items]`` ranking scores.
      relevance: ``[..., Q, n_items]`` graded relevance (relevant when > 0).
      num_relevant: optional ``[..., Q]`` total number of relevant documents per query.
      k: static cutoff (int >= 1) or None (whole list).
      ties: ``"average"`` (default), ``"stable"``, ``"optimistic"`` or ``"pessimistic"``.
      where: bool item mask, broadcastable to ``[..., Q, n_items]``.
      weights: query weights ``[..., Q]`` (``reduce="mean"`` only).
      reduce: ``"mean"`` or None (``[..., Q]``).

    Returns:
      ``[...]`` or ``[..., Q]``. Matches ``pytrec_eval`` ``recall_k`` (``ties="stable"``,
      ``num_relevant`` from the qrels) and ranx ``recall@k``.

    Example:
      >>> s = jnp.array([[0.9, 0.8, 0.7, 0.6]])
      >>> rel = jnp.array([[1, 0, 1, 0]])
      >>> round(float(recall_at_k(s, rel, k=2)), 4)
      0.5
      >>> round(float(recall_at_k(s, rel, jnp.array([4]), k=3)), 4)  # 2 of 4 relevant documents
      0.5
    """
    fn = "recall_at_k"
    _linear_config(fn, k, ties)
    return _one_shot(fn, recall_at_k_metric(k=k, ties=ties), functools.partial(_recall_per_query, k=k, ties=ties),
                     (scores, relevance, num_relevant), reduce, where, weights)


def _hit_per_query(scores, relevance, *, where=None, k=None, ties="pessimistic"):
    fn = "hit_rate"
    rank, found, valid_q = _first_relevant(fn, scores, relevance, where, ties)
    kk = _queries.cutoff(fn, k, jnp.shape(scores)[-1])
    hit = (found & (rank <= kk)).astype(rank.dtype)
    return jnp.where(valid_q, hit, jnp.zeros((), hit.dtype)), valid_q


def hit_rate_metric(*, k=None, ties: str = "pessimistic") -> Metric:
    """Streaming :func:`hit_rate`: ``update(state, scores, relevance, *, where, weights)``."""
    _rr_config("hit_rate", k, ties)
    return _queries.query_mean_metric("hit_rate", functools.partial(_hit_per_query, k=k, ties=ties))


def hit_rate(scores, relevance, *, k=None, ties: str = "pessimistic", where=None, weights=None,
             reduce="mean") -> Array:
    r"""Hit rate at k (success@k): the fraction of queries with at least one relevant item in the top k.

    HR@k = 1[Σ_{r ≤ k} rel_r > 0] per query.

    Args:
      scores: ``[..., Q, n_items]`` ranking scores.
      relevance: ``[..., Q, n_items]`` graded relevance (relevant when > 0).
      k: static cutoff (int >= 1) or None (any relevant valid item).
      ties: ``"pessimistic"`` (default), ``"optimistic"`` or ``"stable"``.
      where: bool item mask, broadcastable to ``[..., Q, n_items]``.
      weights: query weights ``[..., Q]`` (``reduce="mean"`` only).
      reduce: ``"mean"`` or None (``[..., Q]``).

    Returns:
      ``[...]`` or ``[..., Q]``. Matches ranx ``hit_rate@k`` and ``pytrec_eval`` ``success_k``.

    Example:
      >>> s = jnp.array([[0.9, 0.8, 0.7], [0.9, 0.8, 0.7]])
      >>> rel = jnp.array([[0, 1, 0], [0, 0, 1]])
      >>> round(float(hit_rate(s, rel, k=2)), 4)
      0.5
    """
    fn = "hit_rate"
    _rr_config(fn, k, ties)
    return _one_shot(fn, hit_rate_metric(k=k, ties=ties), functools.partial(_hit_per_query, k=k, ties=ties),
                     (scores, relevance), reduce, where, weights)


# --------------------------------------------------------------------------------------------------
# R-precision


def _rprec_per_query(scores, relevance, num_relevant=None, *, where=None, ties="average"):
    fn = "r_precision"
    r = _rank(fn, scores, relevance, where, _order_ties(ties))
    big_r = _num_relevant(fn, num_relevant, r)
    hits = jnp.where(_top(r, big_r), _linear_rel(r, ties), 0).sum(-1)
    return _finish(numerics.safe_div(hits, big_r), r)


def r_precision_metric(*, ties: str = "average") -> Metric:
    """Streaming :func:`r_precision`: ``update(state, scores, relevance[, num_relevant], *, where, weights)``."""
    _check_ties("r_precision", ties, _queries.TIES_LINEAR)
    return _queries.query_mean_metric("r_precision", functools.partial(_rprec_per_query, ties=ties))


def r_precision(scores, relevance, num_relevant=None, *, ties: str = "average", where=None, weights=None,
                reduce="mean") -> Array:
    r"""R-precision: precision at rank R, where R is the number of relevant documents of the query.

    RPrec = (1/R) Σ_{r ≤ R} rel_r (= recall at R). R = ``num_relevant`` if given (the relevant
    documents may outnumber the candidates; the denominator stays R), else the relevant valid
    candidates. R = 0 gives 0. A per-query (dynamic) cutoff, expressed with a mask.

    Args:
      scores: ``[..., Q, n_items]`` ranking scores.
      relevance: ``[..., Q, n_items]`` graded relevance (relevant when > 0).
      num_relevant: optional ``[..., Q]`` total number of relevant documents per query.
      ties: ``"average"`` (default), ``"stable"``, ``"optimistic"`` or ``"pessimistic"``.
      where: bool item mask, broadcastable to ``[..., Q, n_items]``.
      weights: query weights ``[..., Q]`` (``reduce="mean"`` only).
      reduce: ``"mean"`` or None (``[..., Q]``).

    Returns:
      ``[...]`` or ``[..., Q]``. Matches ``pytrec_eval`` ``Rprec`` (``ties="stable"``) and ranx
      ``r-precision``.

    Example:
      >>> s = jnp.array([[0.9, 0.8, 0.7, 0.6]])
      >>> rel = jnp.array([[1, 0, 1, 0]])
      >>> round(float(r_precision(s, rel)), 4)  # one of the top 2 is relevant
      0.5
    """
    fn = "r_precision"
    _check_ties(fn, ties, _queries.TIES_LINEAR)
    return _one_shot(fn, r_precision_metric(ties=ties), functools.partial(_rprec_per_query, ties=ties),
                     (scores, relevance, num_relevant), reduce, where, weights)


# --------------------------------------------------------------------------------------------------
# registry

_TREC = "pytrec_eval.RelevanceEvaluator"
for _name, _fn, _stream, _oracle, _aliases in [
    ("average_precision_at_k", average_precision_at_k, average_precision_at_k_metric,
     f"{_TREC} map / map_cut_k (num_relevant from qrels, ties='stable' + docno order); ranx map@k", ()),
    ("mean_reciprocal_rank", mean_reciprocal_rank, mean_reciprocal_rank_metric,
     f"{_TREC} recip_rank (ties='stable' + docno order); ranx mrr@k", ("mrr",)),
    ("reciprocal_rank", reciprocal_rank, None, f"{_TREC} recip_rank per query (ties='stable' + docno order)", ()),
    ("precision_at_k", precision_at_k, precision_at_k_metric, f"{_TREC} P_k (ties='stable'); ranx precision@k", ()),
    ("recall_at_k", recall_at_k, recall_at_k_metric,
     f"{_TREC} recall_k (num_relevant from qrels, ties='stable'); ranx recall@k", ()),
    ("hit_rate", hit_rate, hit_rate_metric, "ranx hit_rate@k; pytrec_eval success_k", ()),
    ("r_precision", r_precision, r_precision_metric, f"{_TREC} Rprec (ties='stable'); ranx r-precision", ()),
]:
    register(MetricInfo(name=_name, family="ranking", fn=_fn, differentiable=False, higher_is_better=True,
                        streaming=_stream, oracle=_oracle, aliases=_aliases))
del _name, _fn, _stream, _oracle, _aliases
