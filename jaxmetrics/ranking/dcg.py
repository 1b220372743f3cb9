"""Discounted cumulative gain: DCG@k and nDCG@k, with every silently-differing convention explicit.

Layout (see :mod:`jaxmetrics.ranking`): ``scores [..., Q, n_items]``, graded ``relevance [..., Q,
n_items]`` (>= 0), ``where [..., Q, n_items]`` marking valid items, ``weights [..., Q]``.

    DCG@k = Σ_{r=1}^{min(k, n)} g(rel_r) / log2(r + 1)

over the *valid* items of a query ranked by descending score (r is the 1-based rank; masked items rank
after every valid item and gain nothing, so padding + mask equals the unpadded list). nDCG@k =
DCG@k / IDCG@k, where IDCG@k is the DCG@k of an ideal ordering.

**Conventions** (each is a static keyword; the defaults reproduce scikit-learn's ``ndcg_score``):

* ``gain`` — ``"linear"``: g(rel) = rel (scikit-learn, trec_eval, torchmetrics, ranx ``ndcg``);
  ``"exp2"``: g(rel) = 2^rel − 1 (Burges et al. 2005; metrax, ranx ``ndcg_burges``).
* ``ties`` — how items with equal scores are ordered: ``"average"`` (default) is the expectation
  over all orderings of each tie group (McSherry & Najork 2008: every position of a tie group gets the
  group's mean gain), exactly scikit-learn's ``ignore_ties=False``; ``"stable"`` keeps the input
  (index) order; ``"optimistic"`` / ``"pessimistic"`` put the more / less relevant tied items first
  (the best / worst case over tie orderings, so optimistic >= average >= pessimistic).
* ``ideal`` (nDCG only) — ``"candidates"`` (default): IDCG@k from the relevance of the query's valid
  candidates sorted descending (scikit-learn, torchmetrics, metrax); ``"given"``: IDCG@k from
  ``ideal_relevance [..., Q, m]``, the grades of *all* judged documents of each query (retrieved or
  not, any m, zero-padded), sorted descending: TREC semantics (trec_eval ``ndcg_cut.k``, ranx). Under
  ``"given"`` a relevant document that was not retrieved lowers nDCG; grades missing from
  ``ideal_relevance`` are not checked (nDCG can then exceed 1).
* ``k`` — a static int >= 1 (clipped to ``n_items`` for the DCG and to ``m`` for a given ideal) or
  None for the whole list. The cutoff applies to both DCG and IDCG.

**Undefined cases.** A query with no valid item has value 0 and is left out of the mean (its weight is
dropped). A query whose IDCG is 0 (no relevant item) has nDCG 0 and *is* included in the mean
(scikit-learn's convention; trec_eval and ranx also report 0 for it).

**Cost.** Per query, for ``ties="average"`` / ``"stable"``: one ``lax.top_k`` (O(n log k)) of
integer ranking keys instead of a sort, plus O(n) for the mean of the tie group that straddles the
cutoff (every group above it lies inside the top k and is averaged there); for ``"optimistic"`` /
``"pessimistic"`` one stable multi-key sort (O(n log n)). The candidate ideal takes one more
``lax.top_k`` of the gains. No O(n²) work, no Python loop over queries. The one-shot functions are
jitted internally with the static configuration (a ``k`` >= every list length counts as None), so
eager calls compile once per shape and configuration; under an outer ``jit`` they are inlined. Both
metrics are piecewise constant in ``scores`` (gradient 0 almost everywhere, always finite) and linear in
the gains; see :mod:`jaxmetrics.ranking.relaxed` for a differentiable twin.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxmetrics._src import checks, numerics
from jaxmetrics._src.metric import Metric
from jaxmetrics._src.registry import MetricInfo, register
from jaxmetrics.ranking import _queries

Array = jax.Array

__all__ = ["dcg", "dcg_metric", "ndcg", "ndcg_metric"]

GAINS = ("linear", "exp2")
IDEALS = ("candidates", "given")


# --------------------------------------------------------------------------------------------------
# helpers


def _check_config(fn: str, k, gain: str, ties: str, ideal: str | None = None) -> None:
    if k is not None:
        checks.check_static_int(fn, "k", k)
    checks.check_choice(fn, "gain", gain, GAINS)
    checks.check_choice(fn, "ties", ties, _queries.TIES_LINEAR)
    if ideal is not None:
        checks.check_choice(fn, "ideal", ideal, IDEALS)


def _gain(relevance: Array, gain: str) -> Array:
    """g(rel): rel (``"linear"``) or 2^rel − 1 (``"exp2"``; exact for integer grades)."""
    if gain == "exp2":
        return jnp.exp2(relevance) - 1
    return relevance


def _discount(n: int, dtype) -> Array:
    """1 / log2(r + 1) for the 1-based ranks r = 1..n, ``[n]`` (computed in float64, then cast)."""
    return jnp.asarray(1.0 / np.log2(np.arange(n, dtype=np.float64) + 2.0), dtype)


def _top_desc(values: Array, k: int) -> Array:
    """The ``k`` largest entries of the last axis in descending order, ``[..., k]``."""
    if k < values.shape[-1]:
        return lax.top_k(values, k)[0]
    return -jnp.sort(-values, axis=-1)


def _static_k(k, *arrays):
    """None for a ``k`` at least as long as every list (the same value), so those share one compile."""
    lengths = [jnp.shape(a)[-1] for a in arrays if a is not None and jnp.ndim(a) >= 1]
    if k is not None and lengths and k >= max(lengths):
        return None
    return k


def _check_ideal(fn: str, ideal: str, scores, ideal_relevance):
    """``ideal_relevance`` is required by (and only by) ``ideal="given"``; ``[..., Q, m]`` matching
    the leading ``[..., Q]`` axes of ``scores``."""
    if ideal == "candidates":
        if ideal_relevance is not None:
            raise checks.ShapeError(
                f"jaxmetrics.{fn}: argument `ideal_relevance` is only used with ideal='given' (the IDCG "
                "from all judged documents); with ideal='candidates' the IDCG comes from `relevance`. "
                "Pass ideal='given' or drop `ideal_relevance`."
            )
        return None
    if ideal_relevance is None:
        raise checks.ShapeError(
            f"jaxmetrics.{fn}: ideal='given' needs argument `ideal_relevance` [..., Q, m]: the grades of "
            "all judged documents of each query (zero-padded), from which the IDCG is computed."
        )
    ideal_relevance = jnp.asarray(ideal_relevance)
    lead = tuple(jnp.shape(scores))[:-1]
    if ideal_relevance.ndim != len(lead) + 1 or tuple(ideal_relevance.shape[:-1]) != lead:
        raise checks.ShapeError(
            f"jaxmetrics.{fn}: argument `ideal_relevance` must have shape [..., Q, m] whose leading axes "
            f"match `scores` {tuple(jnp.shape(scores))} (i.e. {lead} + (m,)); got {tuple(ideal_relevance.shape)}."
        )
    if ideal_relevance.shape[-1] < 1:
        raise checks.ShapeError(f"jaxmetrics.{fn}: argument `ideal_relevance` needs m >= 1 judged documents; "
                                f"got shape {tuple(ideal_relevance.shape)}.")
    return ideal_relevance


def _per_query(scores, relevance, ideal_relevance=None, *, where=None, fn: str, k, gain: str, ties: str,
               ideal: str | None):
    """``(values [..., Q], valid [..., Q])``: DCG@k (``ideal=None``) or nDCG@k per query."""
    if ideal is not None:
        ideal_relevance = _check_ideal(fn, ideal, scores, ideal_relevance)
    elif ideal_relevance is not None:
        raise TypeError(f"jaxmetrics.{fn}: takes (scores, relevance); got an extra data argument.")
    q = _queries.query_inputs(fn, scores, relevance, where)
    dtype = numerics.accumulation_dtype(q.scores, q.relevance, ideal_relevance)
    n = q.scores.shape[-1]
    kk = _queries.cutoff(fn, k, n)
    zero = jnp.zeros((), dtype)
    rel = jnp.where(q.valid, q.relevance.astype(dtype), zero)  # masked padding may hold anything
    q = q._replace(relevance=rel)

    if ties in ("average", "stable"):
        # the top kk without ranking the whole list: one top_k of the ranking keys (index order among
        # ties = "stable"), and for "average" the tie-group means of the top kk (the group straddling
        # the cutoff averaged over all its items)
        key = _queries.preference_key(q)
        top = _queries.top_by_key(key, kk)
        gains = jnp.where(q.valid, _gain(rel, gain), zero)
        if ties == "average":
            top_gains = _queries.tie_average_top(key, gains, top)
        else:
            top_gains = jnp.take_along_axis(gains, top, axis=-1)
    else:  # the orders with a relevance tie-break: one multi-key sort
        ranked = _queries.rank_items(q, ties)
        top_gains = jnp.where(ranked.valid, _gain(ranked.relevance, gain), zero)[..., :kk]
    value = (top_gains * _discount(kk, dtype)).sum(-1)
    valid = q.valid.any(-1)

    if ideal is not None:
        if ideal == "candidates":
            ideal_gains = jnp.where(q.valid, _gain(rel, gain), zero)
            ik = kk
        else:
            ideal_gains = _gain(numerics.promote(ideal_relevance, dtype), gain)
            ik = _queries.cutoff(fn, k, ideal_gains.shape[-1])
        idcg = (_top_desc(ideal_gains, ik) * _discount(ik, dtype)).sum(-1)
        value = numerics.safe_div(value, idcg, 0.0)
    return jnp.where(valid, value, zero), valid


@functools.partial(jax.jit, static_argnames=("fn", "k", "gain", "ties", "ideal", "reduce"))
def _one_shot(scores, relevance, ideal_relevance, where, weights, *, fn, k, gain, ties, ideal, reduce):
    """The one-shot of :func:`dcg` / :func:`ndcg` (config already checked), jitted so that eager calls
    compile once per shape and configuration instead of dispatching op by op (inlined under an outer
    ``jit``; shape errors are still raised while tracing)."""
    per_query = functools.partial(_per_query, fn=fn, k=k, gain=gain, ties=ties, ideal=ideal)
    arrays = (scores, relevance) if ideal_relevance is None else (scores, relevance, ideal_relevance)
    return _queries.per_query_or_mean(fn, _queries.query_mean_metric(fn, per_query), per_query, arrays,
                                      reduce=reduce, where=where, weights=weights)


# --------------------------------------------------------------------------------------------------
# DCG


def dcg_metric(*, k: int | None = None, gain: str = "linear", ties: str = "average") -> Metric:
    """Streaming :func:`dcg`: ``update(state, scores, relevance, *, where=None, weights=None)``.

    The state is the additive ``(Σ w·DCG, Σ w)`` over queries with a valid item (``merge`` is a
    tree-add, ``psum`` across devices); ``compute`` gives the weighted mean (NaN before any query).
    """
    _check_config("dcg", k, gain, ties)
    return _queries.query_mean_metric(
        "dcg", functools.partial(_per_query, fn="dcg", k=k, gain=gain, ties=ties, ideal=None))


def dcg(scores, relevance, *, k: int | None = None, gain: str = "linear", ties: str = "average", where=None,
        weights=None, reduce: str | None = "mean") -> Array:
    r"""Discounted cumulative gain at k (higher is better).

    DCG@k = Σ_{r=1}^{min(k, n)} g(rel_r) / log2(r + 1) over the valid items ranked by descending
    ``scores``; g(rel) = rel (``gain="linear"``) or 2^rel − 1 (``gain="exp2"``).

    Args:
      scores: ``[..., Q, n_items]`` real scores (higher = ranked earlier; ±inf allowed).
      relevance: ``[..., Q, n_items]`` graded relevance >= 0 (float or int).
      k: static cutoff (int >= 1, clipped to ``n_items``) or None for the whole list.
      gain: static ``"linear"`` or ``"exp2"``.
      ties: static ``"average"`` (McSherry–Najork expectation over tie orderings), ``"stable"``,
        ``"optimistic"`` or ``"pessimistic"``.
      where: bool item mask broadcastable to ``[..., Q, n_items]``; masked items rank last and gain 0.
      weights: ``[..., Q]`` query weights of the mean.
      reduce: static ``"mean"`` (the weighted mean over queries with a valid item; ``scores`` needs the
        query axis) or None (per-query values ``[..., Q]``; no ``weights``).

    Returns:
      ``[...]`` (``reduce="mean"``) or ``[..., Q]``; a query with no valid item is 0 and excluded from
      the mean (NaN when no query has one).

    With the defaults this is scikit-learn's ``dcg_score(y_true, y_score, k=k)`` (log base 2,
    ``ignore_ties=False``) per query. Cost: one ``lax.top_k`` or sort per query (module docstring).

    Example:
      >>> s = jnp.array([[3.0, 2.0, 1.0]]); rel = jnp.array([[0.0, 1.0, 1.0]])
      >>> round(float(dcg(s, rel)), 4)  # 1/log2(3) + 1/log2(4)
      1.1309
      >>> round(float(dcg(jnp.zeros((1, 3)), rel)), 4)  # all tied: mean gain 2/3 at every rank
      1.4206
    """
    _check_config("dcg", k, gain, ties)
    return _one_shot(scores, relevance, None, where, weights, fn="dcg", k=_static_k(k, scores), gain=gain,
                     ties=ties, ideal=None, reduce=reduce)


# --------------------------------------------------------------------------------------------------
# nDCG


def ndcg_metric(*, k: int | None = None, gain: str = "linear", ties: str = "average",
                ideal: str = "candidates") -> Metric:
    """Streaming :func:`ndcg`: ``update(state, scores, relevance[, ideal_relevance], *, where=None,
    weights=None)`` (``ideal_relevance`` exactly when ``ideal="given"``).

    The state is the additive ``(Σ w·nDCG, Σ w)`` over queries with a valid item.
    """
    _check_config("ndcg", k, gain, ties, ideal)
    return _queries.query_mean_metric(
        "ndcg", functools.partial(_per_query, fn="ndcg", k=k, gain=gain, ties=ties, ideal=ideal))


def ndcg(scores, relevance, ideal_relevance=None, *, k: int | None = None, gain: str = "linear",
         ties: str = "average", ideal: str = "candidates", where=None, weights=None,
         reduce: str | None = "mean") -> Array:
    r"""Normalized discounted cumulative gain at k, in [0, 1] (higher is better).

    nDCG@k = DCG@k / IDCG@k, with DCG@k as in :func:`dcg` and IDCG@k the DCG@k of the ideal grades
    sorted descending: the valid candidates' ``relevance`` (``ideal="candidates"``) or
    ``ideal_relevance`` (``ideal="given"``). IDCG = 0 (no relevant item) gives 0.

    Args:
      scores: ``[..., Q, n_items]`` real scores (higher = ranked earlier; ±inf allowed).
      relevance: ``[..., Q, n_items]`` graded relevance >= 0 of the ranked items.
      ideal_relevance: ``[..., Q, m]`` (any m >= 1, zero-padded) grades of all judged documents of each
        query, retrieved or not; required by, and only allowed with, ``ideal="given"``.
      k: static cutoff (int >= 1) or None; clipped to ``n_items`` (DCG) and ``m`` (given IDCG).
      gain: static ``"linear"`` or ``"exp2"``.
      ties: static ``"average"``, ``"stable"``, ``"optimistic"`` or ``"pessimistic"``.
      ideal: static ``"candidates"`` or ``"given"``.
      where: bool item mask broadcastable to ``[..., Q, n_items]`` (not applied to ``ideal_relevance``).
      weights: ``[..., Q]`` query weights of the mean.
      reduce: static ``"mean"`` or None (per-query values ``[..., Q]``).

    Returns:
      ``[...]`` or ``[..., Q]``. A query with no valid item is 0 and excluded from the mean; a query
      with IDCG = 0 is 0 and included.

    Oracles: the defaults are scikit-learn's ``ndcg_score(y_true, y_score, k=k)`` per query;
    ``ideal="given", ties="stable"`` is trec_eval's ``ndcg_cut.k`` (linear gain; trec_eval breaks score
    ties by descending docno) and ranx's ``ndcg@k`` (``gain="linear"``) / ``ndcg_burges@k``
    (``gain="exp2"``) on untied scores.

    Example:
      >>> s = jnp.array([[3.0, 2.0, 1.0]]); rel = jnp.array([[0.0, 1.0, 1.0]])
      >>> round(float(ndcg(s, rel)), 4)  # (1/log2(3) + 1/log2(4)) / (1 + 1/log2(3))
      0.6934
      >>> judged = jnp.array([[1.0, 1.0, 1.0, 0.0]])  # a third relevant document was not retrieved
      >>> round(float(ndcg(s, rel, judged, k=3, ideal="given")), 4)  # IDCG@3 = 1 + 1/log2(3) + 1/log2(4)
      0.5307
    """
    _check_config("ndcg", k, gain, ties, ideal)
    _check_ideal("ndcg", ideal, scores, ideal_relevance)
    return _one_shot(scores, relevance, ideal_relevance, where, weights, fn="ndcg",
                     k=_static_k(k, scores, ideal_relevance), gain=gain, ties=ties, ideal=ideal, reduce=reduce)


# --------------------------------------------------------------------------------------------------
# Registry

register(MetricInfo(
    name="dcg", family="ranking", fn=dcg, differentiable=False, higher_is_better=True, streaming=dcg_metric,
    oracle="sklearn.metrics.dcg_score (linear gain, ignore_ties=False; per query)",
))
register(MetricInfo(
    name="ndcg", family="ranking", fn=ndcg, differentiable=False, higher_is_better=True, streaming=ndcg_metric,
    oracle="sklearn.metrics.ndcg_score (candidates, linear, average ties); pytrec_eval ndcg_cut.k and "
           "ranx ndcg@k / ndcg_burges@k (ideal='given')",
))
