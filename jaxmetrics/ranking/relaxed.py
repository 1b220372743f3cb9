"""Differentiable ``soft_*`` twins of the ranking metrics: nDCG, MRR, precision@k and Spearman.

Every exact ranking metric is piecewise constant in the scores (gradient 0 almost everywhere). Each twin
here replaces the ranks and the top-k cutoff by the smooth primitives of :mod:`jaxmetrics.soft`, with one
``temperature`` τ in **score units**, and converges to its exact metric as ``τ → 0``:

* approximate ranks (ApproxNDCG, Qin, Liu & Li 2010; rax ``approx_ranks``)
  ``r̂_i = 1 + Σ_{j ≠ i} σ((s_j − s_i)/τ)`` over the valid items (:func:`jaxmetrics.soft.soft_rank`);
* the soft top-k membership ``m_i = σ((s_i − t)/τ)`` with the cut ``t`` halfway between the k-th and
  (k+1)-th largest valid scores (:func:`jaxmetrics.soft.soft_topk`). The twins differentiate *through*
  ``t`` (``stop_gradient=False``), so their gradient is the exact derivative of the relaxed metric —
  it passes ``jax.test_util.check_grads`` — rather than rax's surrogate with the cut held constant.

**Temperature.** A pair of items whose scores differ by δ is resolved to ``σ(−δ/τ)``; pairs closer
than a few τ share their rank mass and get gradient, pairs much farther apart are (almost) exact and
get (almost) none. The default ``τ = 1`` suits scores of unit spread (standardised logits); scale it
with the typical score gap within a query. τ may be a Python float or a scalar array (annealing
inside ``jit``).

**Convergence and ties.** On tie-free scores every twin converges to its exact metric, with error
``O(n·e^{−δ/τ})`` for the smallest score gap δ. With tied scores the relaxations give each tied pair
half credit (σ(0) = ½ for every τ), which is the limit documented per twin; it can differ from the
exact metric's explicit ``ties=`` conventions.

**Layout, masks, undefined cases** as the exact metrics (:mod:`jaxmetrics.ranking`): ``scores`` /
``relevance`` ``[..., Q, n_items]``, item mask ``where``, query ``weights [..., Q]``,
``reduce="mean"`` or None; a query without valid items is 0 and left out of the mean, a query without
relevant items is 0 and included. Masked items take no part in anybody's soft rank or cut, whatever
their score (NaN and ±inf padding included). ±inf scores are allowed; gradients are finite everywhere.

**Cost.** The approximate ranks are O(n²) per query; ``chunk_size`` computes the pairwise matrix in
chunks of rows (memory O(chunk_size·n) per query, also under ``grad``; the result does not depend on
it). Soft precision@k only needs the cut: O(n log k).

Each query twin streams (``soft_*_metric``: the additive ``(Σ w·value, Σ w)`` over queries, merge is a
tree-add and a ``psum`` across devices); ``soft_spearman`` is one-shot, like ``spearman``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from jaxmetrics import soft
from jaxmetrics._src import checks, numerics
from jaxmetrics._src.metric import Metric, one_shot
from jaxmetrics._src.registry import MetricInfo, attach_soft, register
from jaxmetrics.ranking import _queries
from jaxmetrics.ranking.correlation import _average_ranks, pearson_metric
from jaxmetrics.ranking.dcg import GAINS, _discount, _gain, _top_desc

Array = jax.Array

__all__ = [
    "soft_mrr",
    "soft_mrr_metric",
    "soft_ndcg",
    "soft_ndcg_metric",
    "soft_precision_at_k",
    "soft_precision_at_k_metric",
    "soft_spearman",
]


# --------------------------------------------------------------------------------------------------
# helpers


def _check_config(fn: str, k, temperature, chunk_size=None) -> None:
    if k is not None:
        checks.check_static_int(fn, "k", k)
    soft._validate_temperature(fn, temperature)
    if chunk_size is not None:
        checks.check_static_int(fn, "chunk_size", chunk_size)


def _inputs(fn: str, scores, relevance, where):
    """Checked query inputs with masked entries zeroed (padding may be NaN/inf): ``(s, rel, valid)``."""
    q = _queries.query_inputs(fn, scores, relevance, where)
    zero = jnp.zeros((), q.scores.dtype)
    return jnp.where(q.valid, q.scores, zero), jnp.where(q.valid, q.relevance, zero), q.valid


def _membership(s, valid, k, n, temperature):
    """Soft top-k membership (through-the-cut gradient), or None without a binding cutoff."""
    if k is None or k >= n:
        return None
    return soft.soft_topk(s, k, temperature=temperature, where=valid, stop_gradient=False)


def _finish(value, valid):
    valid_q = valid.any(-1)
    return jnp.where(valid_q, value, jnp.zeros((), value.dtype)), valid_q


# --------------------------------------------------------------------------------------------------
# soft nDCG (ApproxNDCG)


def _ndcg_per_query(scores, relevance, *, where=None, k=None, gain="linear", temperature=1.0, chunk_size=None):
    fn = "soft_ndcg"
    s, rel, valid = _inputs(fn, scores, relevance, where)
    dtype = s.dtype
    zero, one = jnp.zeros((), dtype), jnp.ones((), dtype)
    n = s.shape[-1]
    kk = _queries.cutoff(fn, k, n)
    gains = jnp.where(valid, _gain(rel, gain), zero)
    ranks = soft.soft_rank(s, temperature=temperature, where=valid, chunk_size=chunk_size)
    ranks = jnp.where(valid, ranks, one)  # masked items: rank 0 -> 1, and gain 0
    terms = gains / jnp.log2(1 + ranks)
    member = _membership(s, valid, k, n, temperature)
    if member is not None:
        terms = terms * member
    idcg = (_top_desc(gains, kk) * _discount(kk, dtype)).sum(-1)
    return _finish(numerics.safe_div(terms.sum(-1), idcg, 0.0), valid)


def soft_ndcg_metric(*, k: int | None = None, gain: str = "linear", temperature=1.0,
                     chunk_size: int | None = None) -> Metric:
    """Streaming :func:`soft_ndcg`: ``update(state, scores, relevance, *, where=None, weights=None)``.

    The state is the additive ``(Σ w·value, Σ w)`` over queries with a valid item (merge = add).
    """
    fn = "soft_ndcg"
    _check_config(fn, k, temperature, chunk_size)
    checks.check_choice(fn, "gain", gain, GAINS)
    return _queries.query_mean_metric(fn, functools.partial(
        _ndcg_per_query, k=k, gain=gain, temperature=temperature, chunk_size=chunk_size))


def soft_ndcg(scores, relevance, *, k: int | None = None, gain: str = "linear", temperature=1.0, where=None,
              weights=None, reduce: str | None = "mean", chunk_size: int | None = None) -> Array:
    r"""Soft nDCG@k: ApproxNDCG (Qin, Liu & Li 2010), a differentiable twin of :func:`ndcg`.

    .. math::

        \widehat{\mathrm{DCG}}@k = \sum_{i\ \mathrm{valid}} \frac{g(\mathrm{rel}_i)\, m_i}{\log_2(1 + \hat r_i)},
        \qquad \widehat{\mathrm{nDCG}}@k = \widehat{\mathrm{DCG}}@k / \mathrm{IDCG}@k,

    with the approximate ranks ``r̂_i = 1 + Σ_{j ≠ i} σ((s_j − s_i)/τ)`` (:func:`jaxmetrics.soft.soft_rank`),
    the soft top-k membership ``m_i`` (:func:`jaxmetrics.soft.soft_topk`, differentiated through its cut;
    ``m = 1`` without a binding ``k``), and the *exact* ideal DCG@k of the valid candidates
    (``ndcg(..., ideal="candidates")``: no gradient flows into it). g(rel) = rel (``"linear"``) or
    2^rel − 1 (``"exp2"``).

    Converges to ``ndcg(scores, relevance, k=k, gain=gain)`` as ``τ → 0`` on tie-free scores (every
    ``ties`` option then agrees). With tied scores each tied item gets the discount of its tie group's
    *average* rank, ``1/log2(1 + r̄)`` — close to, but not exactly, ``ties="average"`` (which averages the
    discounts) — and items tied at the cut get membership ½.

    Args:
      scores: ``[..., Q, n_items]`` real scores (higher ranks first; ±inf allowed).
      relevance: ``[..., Q, n_items]`` graded relevance >= 0.
      k: static cutoff (int >= 1, clipped to ``n_items``) or None.
      gain: static ``"linear"`` or ``"exp2"``.
      temperature: τ > 0 in score units (default 1); Python float or scalar array.
      where: bool item mask broadcastable to ``[..., Q, n_items]``.
      weights: ``[..., Q]`` query weights of the mean.
      reduce: static ``"mean"`` (weighted mean over queries with a valid item) or None (``[..., Q]``).
      chunk_size: static number of rows of each query's n×n pairwise matrix computed at once.

    Returns:
      ``[...]`` or ``[..., Q]`` in [0, 1]·(approximately); 0 for a query without relevant items
      (included in the mean) or without valid items (excluded).

    Complexity: O(n²) per query (memory O(chunk_size·n) with ``chunk_size``), plus a sort for the IDCG.

    Example:
      >>> s = jnp.array([[3.0, 2.0, 1.0]]); rel = jnp.array([[0.0, 1.0, 1.0]])
      >>> round(float(soft_ndcg(s, rel, temperature=1e-3)), 4)  # = ndcg(s, rel)
      0.6934
      >>> round(float(soft_ndcg(s, rel, temperature=1.0)), 4)  # smoothed
      0.7178
    """
    fn = "soft_ndcg"
    _check_config(fn, k, temperature, chunk_size)
    checks.check_choice(fn, "gain", gain, GAINS)
    return _query_one_shot(scores, relevance, temperature, where, weights, name=fn, reduce=reduce,
                           options=(("chunk_size", chunk_size), ("gain", gain), ("k", k)))


# --------------------------------------------------------------------------------------------------
# soft MRR


def _mrr_per_query(scores, relevance, *, where=None, k=None, temperature=1.0, chunk_size=None):
    fn = "soft_mrr"
    s, rel, valid = _inputs(fn, scores, relevance, where)
    dtype = s.dtype
    zero = jnp.zeros((), dtype)
    n = s.shape[-1]
    relevant = valid & (rel > 0)
    any_rel = relevant.any(-1, keepdims=True)
    tau = jnp.asarray(temperature, dtype)
    # rank of each relevant item among the irrelevant ones: 1 + (soft) number of irrelevant items above it
    above = soft._soft_count_above(s, valid & ~relevant, temperature, descending=True, chunk_size=chunk_size)
    rr = 1 / (1 + above)
    member = _membership(s, valid, k, n, temperature)
    if member is not None:
        rr = rr * member
    # softmax over the relevant items: the soft "first relevant item". Shifting by the (constant) max
    # leaves it unchanged; equal infinities are a tie, never inf − inf.
    top = lax.stop_gradient(jnp.where(relevant, s, -jnp.inf).max(-1, keepdims=True))
    inf_tie = (s == top) & jnp.isinf(s)
    logits = jnp.where(inf_tie, zero, (s - jnp.where(jnp.isinf(top), zero, top)) / tau)
    logits = jnp.where(jnp.isinf(top) & ~inf_tie, -jnp.inf, logits)  # a finite score below an infinite top
    logits = jnp.where(relevant, logits, -jnp.inf)
    logits = jnp.where(any_rel, logits, zero)  # no relevant item: a finite dummy row (value masked below)
    w = jax.nn.softmax(logits, axis=-1)
    value = jnp.where(relevant, w * rr, zero).sum(-1)
    return _finish(jnp.where(any_rel[..., 0], value, zero), valid)


def soft_mrr_metric(*, k: int | None = None, temperature=1.0, chunk_size: int | None = None) -> Metric:
    """Streaming :func:`soft_mrr`: ``update(state, scores, relevance, *, where=None, weights=None)``;
    additive ``(Σ w·value, Σ w)`` state."""
    _check_config("soft_mrr", k, temperature, chunk_size)
    return _queries.query_mean_metric("soft_mrr", functools.partial(
        _mrr_per_query, k=k, temperature=temperature, chunk_size=chunk_size))


def soft_mrr(scores, relevance, *, k: int | None = None, temperature=1.0, where=None, weights=None,
             reduce: str | None = "mean", chunk_size: int | None = None) -> Array:
    r"""Soft mean reciprocal rank: a differentiable twin of :func:`mean_reciprocal_rank`.

    The exact reciprocal rank is ``1 / (1 + #{irrelevant items scored above the best relevant item})``.
    Both the count and "the best relevant item" are relaxed with the same τ:

    .. math::

        \widehat{\mathrm{RR}} = \sum_{i \in \mathcal R} w_i\, \frac{m_i}{1 + \sum_{j \notin \mathcal R}
        \sigma\big((s_j - s_i)/\tau\big)}, \qquad w = \mathrm{softmax}_{i \in \mathcal R}(s_i/\tau),

    over the valid items, ``𝓡`` the relevant ones (relevance > 0), and ``m_i`` the soft top-k
    membership (:func:`jaxmetrics.soft.soft_topk`, differentiated through its cut; 1 without a binding
    ``k``). Gradients raise every relevant item in proportion to its softmax weight and push down the
    irrelevant items just above it.

    As ``τ → 0``: ``w`` concentrates on the best relevant item(s) (relevant items tied at the top share
    it and have the same rank, so relevant–relevant ties do not matter) and the denominator tends to
    ``1 + G + T/2``, with G the irrelevant items strictly above the best relevant score and T those
    tied with it. So the limit is the exact MRR@k on data without relevant–irrelevant ties (every
    ``ties`` option then agrees), and a tied irrelevant item counts half — between
    ``ties="optimistic"`` (T counted as 0) and ``ties="pessimistic"`` (T counted fully). At the cut,
    an item tied with the (k+1)-th score has membership ½.

    Args:
      scores: ``[..., Q, n_items]`` real scores (±inf allowed).
      relevance: ``[..., Q, n_items]`` graded relevance (relevant when > 0).
      k: static cutoff (int >= 1) or None.
      temperature: τ > 0 in score units (default 1).
      where: bool item mask broadcastable to ``[..., Q, n_items]``.
      weights: ``[..., Q]`` query weights of the mean.
      reduce: ``"mean"`` or None (``[..., Q]``).
      chunk_size: static number of rows of each query's pairwise matrix computed at once.

    Returns:
      ``[...]`` or ``[..., Q]`` in [0, 1]; 0 for a query without relevant items (included in the mean)
      or without valid items (excluded).

    Complexity: O(n²) per query (memory O(chunk_size·n) with ``chunk_size``).

    Example:
      >>> s = jnp.array([[0.9, 0.8, 0.7], [0.1, 0.2, 0.3]]); rel = jnp.array([[0, 1, 0], [0, 0, 0]])
      >>> round(float(soft_mrr(s, rel, temperature=1e-3)), 4)  # = mean_reciprocal_rank: (1/2 + 0) / 2
      0.25
    """
    fn = "soft_mrr"
    _check_config(fn, k, temperature, chunk_size)
    return _query_one_shot(scores, relevance, temperature, where, weights, name=fn, reduce=reduce,
                           options=(("chunk_size", chunk_size), ("k", k)))


# --------------------------------------------------------------------------------------------------
# soft precision@k


def _precision_per_query(scores, relevance, *, where=None, k=None, temperature=1.0):
    fn = "soft_precision_at_k"
    s, rel, valid = _inputs(fn, scores, relevance, where)
    dtype = s.dtype
    zero = jnp.zeros((), dtype)
    n = s.shape[-1]
    relevant = valid & (rel > 0)
    member = _membership(s, valid, k, n, temperature)
    hits = jnp.where(relevant, jnp.ones((), dtype) if member is None else member, zero).sum(-1)
    den = valid.sum(-1).astype(dtype) if k is None else jnp.asarray(k, dtype)
    return _finish(numerics.safe_div(hits, den), valid)


def soft_precision_at_k_metric(*, k: int | None = None, temperature=1.0) -> Metric:
    """Streaming :func:`soft_precision_at_k`: ``update(state, scores, relevance, *, where=None,
    weights=None)``; additive ``(Σ w·value, Σ w)`` state."""
    _check_config("soft_precision_at_k", k, temperature)
    return _queries.query_mean_metric("soft_precision_at_k", functools.partial(
        _precision_per_query, k=k, temperature=temperature))


def soft_precision_at_k(scores, relevance, *, k: int | None = None, temperature=1.0, where=None, weights=None,
                        reduce: str | None = "mean") -> Array:
    r"""Soft precision@k: a differentiable twin of :func:`precision_at_k`.

    .. math::

        \widehat{P}@k = \frac{1}{k} \sum_{i \in \mathcal R} \sigma\big((s_i - t)/\tau\big),
        \qquad t = \tfrac12 (s_{(k)} + s_{(k+1)}),

    the relevant items' soft top-k memberships (:func:`jaxmetrics.soft.soft_topk`, differentiated
    through the cut ``t``, so raising a relevant item pushes the boundary item out). The denominator is
    ``k`` even when fewer than k items are valid, as :func:`precision_at_k`; with at most k valid items
    (or ``k=None``: the whole valid list, denominator its length) every valid item is in and the value
    is exact (zero gradient).

    Converges to ``precision_at_k(scores, relevance, k=k)`` as ``τ → 0`` when the k-th and (k+1)-th
    scores differ (every ``ties`` option then agrees), with error ``≤ σ(−(s_(k) − s_(k+1))/(2τ))`` per
    item. When they tie, every item with that score gets ½ — ``ties="average"`` gives each the exact
    fraction ``(k − #above)/#tied`` instead.

    Args:
      scores: ``[..., Q, n_items]`` real scores (±inf allowed).
      relevance: ``[..., Q, n_items]`` graded relevance (relevant when > 0).
      k: static cutoff (int >= 1) or None.
      temperature: τ > 0 in score units (default 1).
      where: bool item mask broadcastable to ``[..., Q, n_items]``.
      weights: ``[..., Q]`` query weights of the mean.
      reduce: ``"mean"`` or None (``[..., Q]``).

    Returns:
      ``[...]`` or ``[..., Q]`` in [0, 1].

    Complexity: O(n log k) per query (``lax.top_k``).

    Example:
      >>> s = jnp.array([[0.9, 0.6, 0.5, 0.1]]); rel = jnp.array([[1, 0, 1, 0]])
      >>> round(float(soft_precision_at_k(s, rel, k=2, temperature=1e-3)), 4)
      0.5
      >>> round(float(soft_precision_at_k(s, rel, k=2, temperature=0.05)), 4)  # (σ(7) + σ(−1)) / 2
      0.634
    """
    fn = "soft_precision_at_k"
    _check_config(fn, k, temperature)
    return _query_one_shot(scores, relevance, temperature, where, weights, name=fn, reduce=reduce,
                           options=(("k", k),))


# --------------------------------------------------------------------------------------------------
# soft Spearman


def soft_spearman(x, y, *, temperature=1.0, where=None, weights=None, chunk_size: int | None = None) -> Array:
    r"""Soft Spearman correlation: Pearson's r between the soft ranks of ``x`` and the exact ranks of ``y``.

    .. math::

        \hat\rho = \mathrm{pearson}\big(\hat r(x), \mathrm{rank}(y)\big), \qquad
        \hat r_i(x) = 1 + \sum_{j \ne i} \sigma\big((x_i - x_j)/\tau\big),

    over the valid samples, with ``rank`` the exact average 1-based ranks (scipy's ``rankdata``) and
    ``r̂`` the ascending soft ranks (:func:`jaxmetrics.soft.soft_rank`). ``x`` is the prediction being
    trained (it gets the gradient); ``y`` is the target, ranked exactly, so the gradient with respect
    to ``y`` is 0. (Soft-ranking ``y`` too would move the value away from the exact one without adding
    any useful gradient for a fixed target.)

    Since soft ranks converge to *average* ranks, this converges to :func:`spearman` as ``τ → 0`` also
    with ties in ``x`` (and in ``y``, which is ranked exactly), with error ``O(N e^{−δ/τ})``.

    Args:
      x: ``[..., N]`` predictions (any real dtype; ±inf allowed).
      y: ``[..., N]`` targets, same shape.
      temperature: τ > 0 in the units of ``x`` (default 1).
      where: bool sample mask broadcastable to ``[..., N]``.
      weights: must be None — as :func:`spearman`, no weighted form (ValueError otherwise).
      chunk_size: static number of rows of the N×N pairwise matrix computed at once.

    Returns:
      ``[...]`` in [−1, 1]; NaN (with finite, zero gradients) with fewer than two valid samples or a
      constant ``x`` or ``y`` among them, as :func:`spearman`.

    One-shot only. Complexity O(N²) time (memory O(chunk_size·N) with ``chunk_size``).

    Example:
      >>> x = jnp.array([1.0, 2.0, 3.0, 4.0]); y = jnp.array([1.0, 3.0, 2.0, 50.0])
      >>> round(float(soft_spearman(x, y, temperature=1e-3)), 4)  # = spearman(x, y)
      0.8
      >>> round(float(soft_spearman(x, y)), 4)
      0.7867
    """
    fn = "soft_spearman"
    if weights is not None:
        raise ValueError(f"jaxmetrics.{fn}: {fn} does not support weights (as spearman); pass weights=None and "
                         "mask samples with `where`.")
    soft._validate_temperature(fn, temperature)
    if chunk_size is not None:
        checks.check_static_int(fn, "chunk_size", chunk_size)
    return _spearman_core(x, y, temperature, where, chunk_size=chunk_size)


@functools.partial(jax.jit, static_argnames=("chunk_size",))
def _spearman_core(x, y, temperature, where, *, chunk_size):
    fn = "soft_spearman"
    x, y = jnp.asarray(x), jnp.asarray(y)
    checks.check_min_rank(fn, "x", x, 1, "[..., N]")
    checks.check_same_shape(fn, "y", y, "x", x, "[..., N]")
    dtype = numerics.accumulation_dtype(x, y)
    x, y = numerics.promote(x, dtype), numerics.promote(y, dtype)
    valid = jnp.ones(x.shape, bool) if where is None else checks.broadcast_arg(fn, "where", where, x.shape).astype(bool)
    rx = soft.soft_rank(x, temperature=temperature, where=valid, descending=False, chunk_size=chunk_size)
    ry = _average_ranks(jnp.where(valid, y, jnp.zeros((), dtype)), valid)
    return one_shot(pearson_metric(), rx, ry, where=valid)


# --------------------------------------------------------------------------------------------------
# Compiled one-shots

_QUERY_TWINS = {
    "soft_ndcg": (_ndcg_per_query, soft_ndcg_metric),
    "soft_mrr": (_mrr_per_query, soft_mrr_metric),
    "soft_precision_at_k": (_precision_per_query, soft_precision_at_k_metric),
}


@functools.partial(jax.jit, static_argnames=("name", "options", "reduce"))
def _query_one_shot(scores, relevance, temperature, where, weights, *, name, options, reduce):
    """The one-shot of a query twin, compiled once per shape and static ``options`` (a sorted tuple of
    items); ``temperature`` is traced, so changing (or annealing) it never recompiles, and eager calls
    do not dispatch the O(n²) pairwise ops one by one."""
    per_query_fn, constructor = _QUERY_TWINS[name]
    config = dict(options)
    per_query = functools.partial(per_query_fn, temperature=temperature, **config)
    metric = constructor(temperature=temperature, **config)
    return _queries.per_query_or_mean(name, metric, per_query, (scores, relevance), reduce=reduce, where=where,
                                      weights=weights)


# --------------------------------------------------------------------------------------------------
# Registry

for _name, _fn, _stream, _exact in [
    ("soft_ndcg", soft_ndcg, soft_ndcg_metric, "ndcg"),
    ("soft_mrr", soft_mrr, soft_mrr_metric, "mean_reciprocal_rank"),
    ("soft_precision_at_k", soft_precision_at_k, soft_precision_at_k_metric, "precision_at_k"),
    ("soft_spearman", soft_spearman, None, "spearman"),
]:
    register(MetricInfo(name=_name, family="ranking", fn=_fn, differentiable=True, higher_is_better=True,
                        streaming=_stream, oracle=f"exact {_exact} as temperature -> 0"))
    attach_soft(_exact, _fn)  # registered by dcg.py / retrieval.py / correlation.py, imported before this module
del _name, _fn, _stream, _exact
