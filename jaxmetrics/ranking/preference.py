"""Preference accuracy: chosen-vs-rejected pairs and one correct candidate among many.

**Pairwise** (:func:`pairwise_accuracy`): rewards ``chosen [..., N]`` and ``rejected [..., N]`` of N
preference pairs (the sample axis); accuracy = the (weighted) mean of 1[chosen > rejected], a tie
earning the credit named by ``ties`` (``"half"`` = ½, ``"incorrect"`` = 0, ``"correct"`` = 1).
``where`` / ``weights`` ``[..., N]`` mask / weight pairs.

**One vs many** (:func:`one_vs_many_accuracy`, :func:`one_vs_many_mrr`): ``scores [..., P, 1+K]`` hold P
problems (rows, the sample axis) of 1 + K candidates, **column 0 the correct one** and columns 1..K the
distractors. ``where [..., P, 1+K]`` (broadcastable) is a *candidate* mask, so ragged K is padding +
mask; a row whose column 0 is masked has no answer and is left out of the mean. ``weights [..., P]``
weight the rows. With g = #{valid k ≥ 1: r_k > r_0} (distractors strictly ahead) and
t = #{valid k ≥ 1: r_k = r_0} (distractors tied with the correct candidate), the correct candidate
can occupy ranks g + 1 .. g + t + 1, and ``ties`` picks the answer:

=================  ================================  ===============================================
``ties``           accuracy                          reciprocal rank
=================  ================================  ===============================================
``"pessimistic"``  1[g + t = 0] = 1[r_0 > max r_k]   1 / (1 + g + t)   (ties ranked ahead)
``"optimistic"``   1[g = 0]     = 1[r_0 ≥ max r_k]   1 / (1 + g)       (ties ranked behind)
``"average"``      1[g = 0] / (1 + t)                (H_{g+t+1} − H_g) / (1 + t)
=================  ================================  ===============================================

``"average"`` is the exact expectation over a uniformly random order of the tied candidates (H_n the
n-th harmonic number): a constant scorer gets accuracy 1/(1+K) and MRR H_{1+K}/(1+K), exactly what a
random ranking earns on average. ``"pessimistic"`` (the default of both) gives a constant scorer no
credit. A valid row without any valid distractor has rank 1 (accuracy 1, reciprocal rank 1).

Every value is piecewise constant in the scores: gradients are 0 (finite), also for ±inf scores and
fully masked inputs. Everything streams: the state is the additive ``(Σ w·value, Σ w)`` of
:func:`jaxmetrics._src.metric.mean_metric` (a ``psum`` across devices); all-masked input gives NaN.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from jaxmetrics._src import checks, numerics
from jaxmetrics._src.metric import Metric, mean_metric, mean_or_per_sample
from jaxmetrics._src.registry import MetricInfo, register

Array = jax.Array

__all__ = [
    "one_vs_many_accuracy",
    "one_vs_many_accuracy_metric",
    "one_vs_many_mrr",
    "one_vs_many_mrr_metric",
    "pairwise_accuracy",
    "pairwise_accuracy_metric",
]

PAIRWISE_TIES = {"half": 0.5, "incorrect": 0.0, "correct": 1.0}
ONE_VS_MANY_TIES = ("pessimistic", "average", "optimistic")
REDUCE = ("mean", None)
_LAYOUT = "[..., P, 1+K]"


# --------------------------------------------------------------------------------------------------
# Pairwise (chosen vs rejected) accuracy


def _pairwise_values(chosen, rejected, *, ties):
    fn = "pairwise_accuracy"
    chosen, rejected = jnp.asarray(chosen), jnp.asarray(rejected)
    checks.check_min_rank(fn, "chosen", chosen, 1, "[..., N]")
    checks.check_same_shape(fn, "rejected", rejected, "chosen", chosen)
    d = numerics.accumulation_dtype(chosen, rejected)
    c, r = numerics.promote(chosen, d), numerics.promote(rejected, d)
    return (c > r).astype(d) + PAIRWISE_TIES[ties] * (c == r).astype(d)


def _pairwise_per_pair(chosen, rejected, *, where=None, ties):
    values = _pairwise_values(chosen, rejected, ties=ties)
    valid = jnp.ones(values.shape, bool)
    if where is not None:
        valid = checks.broadcast_arg("pairwise_accuracy", "where", where, values.shape).astype(bool)
    return values, valid


def pairwise_accuracy_metric(*, ties: str = "half") -> Metric:
    """Streaming :func:`pairwise_accuracy`: ``update(state, chosen, rejected, *, where, weights)``;
    state ``(Σ w·credit, Σ w)``, additive (``merge`` is a tree-add, a ``psum`` across devices)."""
    checks.check_choice("pairwise_accuracy", "ties", ties, tuple(PAIRWISE_TIES))
    return mean_metric("pairwise_accuracy", functools.partial(_pairwise_values, ties=ties))


@functools.partial(jax.jit, static_argnames=("ties", "reduce"))
def _pairwise_core(chosen, rejected, where, weights, *, ties, reduce):
    return mean_or_per_sample("pairwise_accuracy", pairwise_accuracy_metric(ties=ties),
                   functools.partial(_pairwise_per_pair, ties=ties), (chosen, rejected), reduce=reduce,
                   where=where, weights=weights)


def pairwise_accuracy(chosen, rejected, *, ties: str = "half", where=None, weights=None,
                      reduce="mean") -> Array:
    r"""Preference accuracy: the fraction of pairs whose chosen response outscores the rejected one.

    acc = Σ_i w_i c_i / Σ_i w_i,  c_i = 1[chosen_i > rejected_i] + credit · 1[chosen_i = rejected_i].

    Args:
      chosen: rewards (scores, summed log-probs, ...) of the preferred responses ``[..., N]``.
      rejected: rewards of the dispreferred responses ``[..., N]``, same shape.
      ties: static credit for a tie: ``"half"`` (½, the default: Mann–Whitney / AUROC convention),
        ``"incorrect"`` (0: strict ``>``) or ``"correct"`` (1: ``>=``).
      where: bool pair mask broadcastable to ``[..., N]``.
      weights: pair weights broadcastable to ``[..., N]``.
      reduce: static ``"mean"`` (``[...]``) or None (the per-pair credits ``[..., N]``, masked → 0).

    Returns:
      ``[...]`` in [0, 1] (NaN when every pair is masked), or ``[..., N]``.

    Conventions: a NaN reward makes its pair incorrect (neither ``>`` nor ``=`` holds). Over all
    (positive, negative) pairs of a binary problem, ``ties="half"`` gives exactly
    ``sklearn.metrics.roc_auc_score``. Oracle: a numpy brute force. O(N). Gradient 0 (finite); the
    Bradley–Terry log σ(chosen − rejected) is the usual smooth surrogate.

    Example:
      >>> pairwise_accuracy(jnp.array([2.0, 1.0, 0.5, 3.0]), jnp.array([1.0, 1.0, 0.7, 0.0]))
      Array(0.625, dtype=float32)
    """
    checks.check_choice("pairwise_accuracy", "ties", ties, tuple(PAIRWISE_TIES))
    checks.check_choice("pairwise_accuracy", "reduce", reduce, REDUCE)
    return _pairwise_core(chosen, rejected, where, weights, ties=ties, reduce=reduce)


# --------------------------------------------------------------------------------------------------
# One vs many: accuracy and reciprocal rank of the correct candidate (column 0)


def _one_vs_many_counts(fn, scores, where):
    """g (distractors strictly ahead), t (tied distractors), both int32 ``[..., P]``; row validity."""
    scores = jnp.asarray(scores)
    checks.check_min_rank(fn, "scores", scores, 2, _LAYOUT)
    if scores.shape[-1] < 1:
        raise checks.ShapeError(f"jaxmetrics.{fn}: argument `scores` must have shape {_LAYOUT} with at least "
                                f"the correct candidate in column 0; got shape {scores.shape}.")
    s = numerics.promote(scores)
    valid = (jnp.ones(s.shape, bool) if where is None
             else checks.broadcast_arg(fn, "where", where, s.shape, "candidate shape").astype(bool))
    r0, rk, vk = s[..., :1], s[..., 1:], valid[..., 1:]
    ahead = (vk & (rk > r0)).astype(jnp.int32).sum(-1)
    tied = (vk & (rk == r0)).astype(jnp.int32).sum(-1)
    return ahead, tied, valid[..., 0], s.dtype


def _accuracy_per_row(scores, *, where=None, ties):
    g, t, valid, d = _one_vs_many_counts("one_vs_many_accuracy", scores, where)
    if ties == "pessimistic":
        values = (g + t == 0).astype(d)
    elif ties == "optimistic":
        values = (g == 0).astype(d)
    else:
        values = (g == 0).astype(d) / (t + 1).astype(d)
    return values, valid


def _mrr_per_row(scores, *, where=None, ties):
    g, t, valid, d = _one_vs_many_counts("one_vs_many_mrr", scores, where)
    if ties == "pessimistic":
        values = 1 / (1 + g + t).astype(d)
    elif ties == "optimistic":
        values = 1 / (1 + g).astype(d)
    else:  # E[1/rank], rank uniform on g+1 .. g+t+1: (H_{g+t+1} − H_g)/(t+1), from a table of H_0..H_{1+K}
        n = jnp.asarray(scores).shape[-1]  # 1 + K
        harmonic = jnp.concatenate([jnp.zeros((1,), d), jnp.cumsum(1 / jnp.arange(1, n + 1, dtype=d))])
        values = (harmonic[g + t + 1] - harmonic[g]) / (t + 1).astype(d)
    return values, valid


def _check_ties(fn, ties):
    checks.check_choice(fn, "ties", ties, ONE_VS_MANY_TIES)


def one_vs_many_accuracy_metric(*, ties: str = "pessimistic") -> Metric:
    """Streaming :func:`one_vs_many_accuracy`: ``update(state, scores, *, where, weights)`` with the
    candidate mask ``where [..., P, 1+K]`` and row weights ``[..., P]``; state ``(Σ w·acc, Σ w)``, additive."""
    _check_ties("one_vs_many_accuracy", ties)
    return mean_metric("one_vs_many_accuracy", functools.partial(_accuracy_per_row, ties=ties), forward_where=True)


def one_vs_many_mrr_metric(*, ties: str = "pessimistic") -> Metric:
    """Streaming :func:`one_vs_many_mrr`: ``update(state, scores, *, where, weights)`` with the candidate
    mask ``where [..., P, 1+K]`` and row weights ``[..., P]``; state ``(Σ w/rank, Σ w)``, additive."""
    _check_ties("one_vs_many_mrr", ties)
    return mean_metric("one_vs_many_mrr", functools.partial(_mrr_per_row, ties=ties), forward_where=True)


@functools.partial(jax.jit, static_argnames=("fn", "ties", "reduce"))
def _one_vs_many_core(scores, where, weights, *, fn, ties, reduce):
    if fn == "one_vs_many_accuracy":
        metric, per_row = one_vs_many_accuracy_metric(ties=ties), _accuracy_per_row
    else:
        metric, per_row = one_vs_many_mrr_metric(ties=ties), _mrr_per_row
    return mean_or_per_sample(fn, metric, functools.partial(per_row, ties=ties), (scores,), reduce=reduce, where=where,
                   weights=weights)


def one_vs_many_accuracy(scores, *, ties: str = "pessimistic", where=None, weights=None,
                         reduce="mean") -> Array:
    r"""Fraction of problems whose correct candidate (column 0) outscores every distractor.

    acc = Σ_p w_p a_p / Σ_p w_p with, for g distractors strictly ahead of and t tied with r_0:
    ``"pessimistic"`` a = 1[g + t = 0] = 1[r_0 > max_k r_k] (METRICS.md §4.4), ``"optimistic"``
    a = 1[g = 0], ``"average"`` a = 1[g = 0]/(1 + t) (the chance that a random tie order puts the correct
    candidate first).

    Args:
      scores: ``[..., P, 1+K]`` candidate scores (rewards), column 0 the correct candidate.
      ties: static ``"pessimistic"`` (default), ``"average"`` or ``"optimistic"`` (module docstring).
      where: bool candidate mask broadcastable to ``[..., P, 1+K]`` (ragged K); a row whose column 0 is
        masked is left out.
      weights: row weights broadcastable to ``[..., P]``.
      reduce: static ``"mean"`` (``[...]``) or None (per-row values ``[..., P]``, invalid rows → 0).

    Returns:
      ``[...]`` in [0, 1] (NaN when no row is valid), or ``[..., P]``.

    Oracle: a numpy brute force (``scores[:, 0] > scores[:, 1:].max(1)``). O(P·K). Gradient 0 (finite);
    softplus(logsumexp_k r_k − r_0) is the usual smooth surrogate.

    Example:
      >>> s = jnp.array([[3.0, 1.0, 2.0], [1.0, 2.0, 0.0], [2.0, 2.0, 0.0]])
      >>> one_vs_many_accuracy(s), one_vs_many_accuracy(s, ties="average")
      (Array(0.33333334, dtype=float32), Array(0.5, dtype=float32))
    """
    _check_ties("one_vs_many_accuracy", ties)
    checks.check_choice("one_vs_many_accuracy", "reduce", reduce, REDUCE)
    return _one_vs_many_core(scores, where, weights, fn="one_vs_many_accuracy", ties=ties, reduce=reduce)


def one_vs_many_mrr(scores, *, ties: str = "pessimistic", where=None, weights=None, reduce="mean") -> Array:
    r"""Mean reciprocal rank of the correct candidate (column 0) among 1 + K candidates.

    MRR = Σ_p w_p / rank_p / Σ_p w_p, rank = 1 + #{k: r_k > r_0} + tie handling, with g distractors
    strictly ahead and t tied: ``"pessimistic"`` 1/(1 + g + t), ``"optimistic"`` 1/(1 + g),
    ``"average"`` E[1/rank] over a uniformly random order of the tied candidates,
    (1/(1 + t)) Σ_{j=g+1}^{g+t+1} 1/j = (H_{g+t+1} − H_g)/(1 + t) — so a constant scorer gets
    H_{1+K}/(1+K), the MRR of a random ranking (0.2928968 for 1 + K = 10, METRICS.md §4.4).

    Args:
      scores: ``[..., P, 1+K]`` candidate scores (rewards), column 0 the correct candidate.
      ties: static ``"pessimistic"`` (default), ``"average"`` or ``"optimistic"``.
      where: bool candidate mask broadcastable to ``[..., P, 1+K]``; a row whose column 0 is masked is
        left out.
      weights: row weights broadcastable to ``[..., P]``.
      reduce: static ``"mean"`` (``[...]``) or None (per-row reciprocal ranks ``[..., P]``, invalid → 0).

    Returns:
      ``[...]`` in (0, 1] (NaN when no row is valid), or ``[..., P]``.

    Oracle: a numpy brute force over explicit ranks. O(P·K). Gradient 0 (finite).

    Example:
      >>> s = jnp.array([[3.0, 1.0, 2.0], [1.0, 2.0, 0.0], [2.0, 2.0, 2.0]])
      >>> round(float(one_vs_many_mrr(s)), 4), round(float(one_vs_many_mrr(s, ties="average")), 4)
      (0.6111, 0.7037)
    """
    _check_ties("one_vs_many_mrr", ties)
    checks.check_choice("one_vs_many_mrr", "reduce", reduce, REDUCE)
    return _one_vs_many_core(scores, where, weights, fn="one_vs_many_mrr", ties=ties, reduce=reduce)


# --------------------------------------------------------------------------------------------------
# Registry

register(MetricInfo(name="pairwise_accuracy", family="ranking", fn=pairwise_accuracy, differentiable=False,
                    higher_is_better=True, streaming=pairwise_accuracy_metric,
                    oracle="numpy brute force mean(1[c > r] + credit*1[c == r]); ties='half' over all "
                           "(pos, neg) pairs = sklearn.metrics.roc_auc_score"))
register(MetricInfo(name="one_vs_many_accuracy", family="ranking", fn=one_vs_many_accuracy, differentiable=False,
                    higher_is_better=True, streaming=one_vs_many_accuracy_metric,
                    oracle="numpy brute force mean(r0 > max_k r_k) (ties options: enumerated tie orders)"))
register(MetricInfo(name="one_vs_many_mrr", family="ranking", fn=one_vs_many_mrr, differentiable=False,
                    higher_is_better=True, streaming=one_vs_many_mrr_metric,
                    oracle="numpy brute force mean(1/rank(r0)) (ties options: enumerated tie orders)"))
