"""Threshold-free ranking metrics: exact AUROC, average precision, ROC and PR curves, and binned
constant-memory streaming AUROC / AP.

**Exact metrics** (:func:`auroc`, :func:`average_precision`, :func:`roc_curve`,
:func:`precision_recall_curve`) need every sample at once (they have no finite sufficient statistics),
so they are one-shot only. Each binary metric is **one sort** (O(N log N)): samples are sorted by
descending score, consecutive equal scores form one *tie group* (one threshold), and weighted
positive/negative counts are summed per group with a ``segment_sum``. Ties are therefore handled exactly
as scikit-learn does (a trapezoid over distinct thresholds = Mann–Whitney with ½ credit for ties).

**Inputs.** ``scores [..., N]`` (any real scores; larger = more positive) with ``labels [..., N]``
integer or bool, where ``labels == 1`` (``True``) is the positive class and any other value is negative
(scikit-learn's ``pos_label=1``). Multiclass AUROC / AP take class probabilities ``[..., N, C]`` in the
``scores`` position (rank = labels rank + 1) and integer labels in ``[0, C)``. Leading axes are batch
axes. ``where`` (bool) and ``weights`` broadcast to the sample shape ``[..., N]``; a masked sample gets
weight 0, and — as in scikit-learn, which drops zero-weight samples — zero-weight samples have no
effect at all (not even an extra threshold on the curves). Weights are assumed non-negative.

**Compilation.** Each public function checks its arguments and folds ``where``/``weights`` into one
weight array, then calls a jitted core: eager calls compile once per shape and static configuration
(with or without a mask alike; the ``average`` of a multiclass result is a separate tiny kernel), and
inside a user's ``jit``/``vmap``/``grad`` everything simply inlines.

**Numerics.** Accumulation is in float32 at least (bf16/f16 inputs give float32 results) and float64
for float64 inputs. Every result is piecewise constant in the scores, so ``grad`` is zero almost
everywhere — and finite everywhere, including all-masked input, single-class input, ties and ±inf
scores (every division is a double-``where`` :func:`~jaxmetrics._src.numerics.safe_div`).

**Undefined cases** (scikit-learn >= 1.6 conventions): AUROC with no positive or no negative weight is
NaN; AP with no positives is 0.0; ROC curve rates with an empty denominator are NaN; PR recall is 1
when there are no positives. Value problems (NaN scores, labels outside ``[0, C)``, rows of ``probs``
not summing to 1) cannot be detected under ``jit``; use :func:`jaxmetrics.validate`.

**Binned streaming metrics** (:func:`auroc_metric`, :func:`average_precision_metric`) keep two weighted
histograms of the scores over ``num_thresholds`` equal-width bins on [0, 1]; their state does not grow
with N, ``merge`` is a tree-add and the cross-device reduction a ``psum``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxmetrics._src import checks, numerics
from jaxmetrics._src.metric import Metric, default_state_dtype, one_shot, tree_add
from jaxmetrics._src.registry import MetricInfo, register

Array = jax.Array

__all__ = [
    "BinnedCurveState",
    "PRCurve",
    "ROCCurve",
    "auroc",
    "auroc_metric",
    "average_precision",
    "average_precision_metric",
    "binned_auroc",
    "binned_average_precision",
    "precision_recall_curve",
    "roc_curve",
]

_OVR_AVERAGES = ("macro", "weighted", "micro", "none", None)
_OVO_AVERAGES = ("macro", "weighted")
_AP_AVERAGES = ("macro", "weighted", "micro", "none", None)


class ROCCurve(NamedTuple):
    """A ROC curve padded to a fixed length ``N + 1`` (``[..., N + 1]`` each).

    Attributes:
      fpr: false-positive rate at each point (non-decreasing).
      tpr: true-positive rate at each point (non-decreasing).
      thresholds: score threshold of each point (``score >= threshold`` is predicted positive);
        ``+inf`` for the first point (0, 0); decreasing over the valid points.
      valid: bool mask of the real points, which come first; the padding after them repeats the last
        valid point, so plotting all ``N + 1`` points draws the same curve.
    """

    fpr: Array
    tpr: Array
    thresholds: Array
    valid: Array


class PRCurve(NamedTuple):
    """A precision–recall curve padded to a fixed length ``N + 1`` (``[..., N + 1]`` each).

    Attributes:
      precision: precision at each point; the last valid point is (precision=1, recall=0).
      recall: recall at each point (non-increasing).
      thresholds: increasing score thresholds; ``+inf`` for the final (1, 0) point.
      valid: bool mask of the real points, which come first; the padding repeats the final point.
    """

    precision: Array
    recall: Array
    thresholds: Array
    valid: Array


# --------------------------------------------------------------------------------------------------
# Argument handling


def _map_leading(fn, n_leading: int):
    """Maps a function of per-problem arrays over ``n_leading`` leading batch axes (nested vmap)."""
    for _ in range(n_leading):
        fn = jax.vmap(fn)
    return fn


def _check_scores_labels(fn: str, scores, labels, allow_multiclass: bool) -> bool:
    """Checks ranks/dtypes/shapes; returns True for multiclass ``probs [..., N, C]`` input."""
    scores, labels = jnp.asarray(scores), jnp.asarray(labels)
    checks.check_min_rank(fn, "scores", scores, 1, "[..., N]" + (" or [..., N, C]" if allow_multiclass else ""))
    checks.check_float(fn, "scores", scores)
    checks.check_min_rank(fn, "labels", labels, 1, "[..., N]")
    checks.check_integer(fn, "labels", labels)
    multiclass = allow_multiclass and scores.ndim == labels.ndim + 1
    if multiclass:
        ref = np.broadcast_to(np.zeros((), np.int8), scores.shape[:-1])
        checks.check_same_shape(fn, "labels", labels, "scores[..., 0]", ref, "[..., N] (`scores` is [..., N, C])")
    else:
        checks.check_same_shape(fn, "labels", labels, "scores", scores)
    return multiclass


def _sample_weights(fn, scores, sample_shape, where, weights):
    """``where``/``weights`` -> one float array of the sample shape, in the accumulation dtype.

    The public functions call this *outside* their jitted core, so calls with or without a mask or
    weights share one compilation per shape.
    """
    dtype = numerics.accumulation_dtype(scores, weights)
    return checks.sample_weights(fn, sample_shape, dtype, where, weights)


def _binary_problem(scores, labels, w):
    """Promoted scores and per-sample positive / negative weights, all ``[..., N]``."""
    y = jnp.asarray(labels) == 1
    zero = jnp.zeros_like(w)
    return numerics.promote(scores, w.dtype), jnp.where(y, w, zero), jnp.where(y, zero, w)


# --------------------------------------------------------------------------------------------------
# The one sort: tie groups in descending score order (1-D, per problem)


class _Groups(NamedTuple):
    """Per tie group g (descending score order, padded to N with empty groups)."""

    pos: Array  # weighted positives in the group
    neg: Array  # weighted negatives in the group
    cum_pos: Array  # weighted positives with score >= the group's score (TP at its threshold)
    cum_neg: Array  # weighted negatives with score >= the group's score (FP at its threshold)
    nonzero: Array | None  # bool: the group holds a sample of nonzero weight (a real threshold)
    threshold: Array | None  # the group's score


def _tie_groups(scores, pos, neg, curve: bool = False) -> _Groups:
    """One sort, one ``segment_sum`` and one ``cumsum``; ``curve`` adds thresholds and validity."""
    n = scores.shape[-1]
    key, p, q = lax.sort((-scores, pos, neg), num_keys=1)  # descending scores; one sort
    new_group = jnp.concatenate([jnp.ones((1,), bool), key[1:] != key[:-1]])[:n]
    seg = jnp.cumsum(new_group, dtype=jnp.int32) - 1
    cols = [p, q] + ([((p != 0) | (q != 0)).astype(p.dtype)] if curve else [])
    sums = jax.ops.segment_sum(jnp.stack(cols, -1), seg, num_segments=n, indices_are_sorted=True)
    cums = jnp.cumsum(sums[:, :2], axis=0)
    nonzero = threshold = None
    if curve:
        nonzero = sums[:, 2] > 0
        is_last = jnp.concatenate([new_group[1:], jnp.ones((1,), bool)])[:n]
        slot = jnp.where(is_last, seg, n)  # each group's last sorted element writes its score
        threshold = jnp.zeros_like(key).at[slot].set(-key, mode="drop")
    return _Groups(sums[:, 0], sums[:, 1], cums[:, 0], cums[:, 1], nonzero, threshold)


def _totals(g: _Groups):
    return g.cum_pos[-1], g.cum_neg[-1]


def _auroc_1d(scores, pos, neg, max_fpr=None):
    """Exact (partial) AUROC of one binary problem; NaN without positives or negatives."""
    g = _tie_groups(scores, pos, neg)
    n_pos, n_neg = _totals(g)
    defined = (n_pos > 0) & (n_neg > 0)
    if max_fpr is None or max_fpr == 1:
        # Mann–Whitney: each negative is beaten by the positives of higher score, ½ credit for ties.
        u = jnp.sum(g.neg * (g.cum_pos - 0.5 * g.pos))
        return numerics.safe_div(u, n_pos * n_neg, jnp.nan)
    # ROC points (fpr, tpr) per group; segment k runs from point k-1 to point k, clipped at max_fpr.
    x1 = numerics.safe_div(g.cum_neg, n_neg)
    y1 = numerics.safe_div(g.cum_pos, n_pos)
    x0 = jnp.concatenate([jnp.zeros((1,), x1.dtype), x1[:-1]])
    y0 = jnp.concatenate([jnp.zeros((1,), y1.dtype), y1[:-1]])
    m = jnp.asarray(max_fpr, x1.dtype)
    xe = jnp.minimum(x1, m)
    width = jnp.maximum(xe - x0, 0.0)
    ye = y0 + (y1 - y0) * numerics.safe_div(xe - x0, x1 - x0)
    pauc = jnp.sum(width * (y0 + ye) * 0.5)
    min_area = 0.5 * max_fpr**2
    mcclish = 0.5 * (1.0 + (pauc - min_area) / (max_fpr - min_area))
    return jnp.where(defined, mcclish, jnp.nan)


def _ap_1d(scores, pos, neg):
    """Exact step-sum average precision of one binary problem; 0 without positives."""
    g = _tie_groups(scores, pos, neg)
    n_pos, _ = _totals(g)
    precision = numerics.safe_div(g.cum_pos, g.cum_pos + g.cum_neg)
    # Σ_groups (R_g − R_{g−1}) P_g, with R_g − R_{g−1} = (positives in group g) / P.
    return numerics.safe_div(jnp.sum(g.pos * precision), n_pos, 0.0)


# --------------------------------------------------------------------------------------------------
# Public exact metrics


@functools.partial(jax.jit, static_argnames=("average", "skip_nan"))
def _average(values, weight, *, average, skip_nan):
    """Macro / weighted average of per-class or per-pair ``values [..., K]``.

    ``skip_nan``: undefined (NaN) entries are skipped and an empty average is NaN (AUROC); otherwise
    every entry counts and an empty weighted average is 0 (AP, as scikit-learn).
    """
    defined = ~jnp.isnan(values) if skip_nan else jnp.ones(values.shape, bool)
    v = jnp.where(defined, values, jnp.zeros_like(values))
    w = defined.astype(values.dtype) if average == "macro" else jnp.where(defined, weight, jnp.zeros_like(weight))
    return numerics.safe_div(jnp.sum(w * v, -1), jnp.sum(w, -1), jnp.nan if skip_nan else 0.0)


@functools.partial(jax.jit, static_argnames=("kind", "max_fpr"))
def _binary_core(scores, labels, w, *, kind, max_fpr=None):
    s, pos, neg = _binary_problem(scores, labels, w)
    kernels = {"ap": _ap_1d, "roc": _roc_curve_1d, "pr": _pr_curve_1d}  # defined further down
    kernel = functools.partial(_auroc_1d, max_fpr=max_fpr) if kind == "auroc" else kernels[kind]
    return _map_leading(kernel, s.ndim - 1)(s, pos, neg)


@functools.partial(jax.jit, static_argnames=("kind", "problem"))
def _multiclass_core(probs, labels, w, *, kind, problem):
    """Per-class (``"ovr"``) or per-pair (``"ovo"``) values and averaging weights, or the ``"micro"``
    value, of ``probs [..., N, C]`` / ``labels [..., N]`` / ``w [..., N]``."""
    kernel = _auroc_1d if kind == "auroc" else _ap_1d
    probs = numerics.promote(probs, w.dtype)
    n_lead = w.ndim - 1
    c = probs.shape[-1]
    onehot = jnp.asarray(labels)[..., None] == jnp.arange(c, dtype=jnp.asarray(labels).dtype)
    wc = jnp.broadcast_to(w[..., None], probs.shape)
    zero = jnp.zeros_like(probs)

    if problem == "micro":  # the flattened one-hot problem, weights repeated per class
        flat = probs.shape[:-2] + (probs.shape[-2] * c,)
        pos, neg = jnp.where(onehot, wc, zero), jnp.where(onehot, zero, wc)
        return _map_leading(kernel, n_lead)(probs.reshape(flat), pos.reshape(flat), neg.reshape(flat))

    def t(x):  # [..., N, K] -> [..., K, N]: one binary problem per row
        return jnp.moveaxis(x, -1, -2)

    if problem == "ovr":
        pos, neg = jnp.where(onehot, wc, zero), jnp.where(onehot, zero, wc)
        return _map_leading(kernel, n_lead + 1)(t(probs), t(pos), t(neg)), pos.sum(-2)

    # ovo (Hand & Till): pair (a, b) restricted to samples of classes a and b.
    ia, ib = np.triu_indices(c, 1)
    ya, yb = onehot[..., ia], onehot[..., ib]  # [..., N, P]
    wab = jnp.where(ya | yb, w[..., None], 0.0)
    pa, pb = jnp.where(ya, wab, 0.0), jnp.where(yb, wab, 0.0)
    # The 2·P binary problems "a vs b" (scored by probs[:, a]) and "b vs a" (probs[:, b]), one vmap.
    both = _map_leading(kernel, n_lead + 1)(
        t(jnp.concatenate([probs[..., ia], probs[..., ib]], -1)),
        t(jnp.concatenate([pa, pb], -1)),
        t(jnp.concatenate([pb, pa], -1)),
    )
    per_pair = 0.5 * (both[..., : len(ia)] + both[..., len(ia):])
    prevalence = numerics.safe_div(wab.sum(-2), w.sum(-1, keepdims=True))
    return per_pair, prevalence


def auroc(scores, labels, *, max_fpr=None, multi_class=None, average="macro", where=None, weights=None) -> Array:
    r"""Exact area under the ROC curve (tie-correct, weighted), binary or multiclass.

    Binary definition (weighted Mann–Whitney U with ½ credit for ties):

    .. math::

        \mathrm{AUROC} = \frac{\sum_{i:y_i=1}\sum_{j:y_j\ne1} w_i w_j
            \left(\mathbb 1[s_i > s_j] + \tfrac12 \mathbb 1[s_i = s_j]\right)}{W_+ W_-},

    which equals the trapezoid under the ROC curve over distinct thresholds and
    ``1 - E_{t∼s|y=1}[FPR(t)]`` on tie-free scores. With ``max_fpr = m < 1`` the area up to FPR = m
    (linear interpolation at m) is McClish-standardised: ``0.5·(1 + (pAUC − m²/2)/(m − m²/2))``.

    Multiclass (``scores`` = ``probs [..., N, C]``) requires ``multi_class``:

    * ``"ovr"``: class c vs the rest, averaged with ``average`` in ``"macro"`` (mean), ``"weighted"``
      (by class support Σw·[y=c]), ``"micro"`` (the flattened one-hot problem, weights repeated per
      class) or ``"none"``/None (per-class ``[..., C]``);
    * ``"ovo"``: Hand & Till — for each pair a<b, the mean of AUROC(a vs b, scores ``probs[:, a]``)
      and AUROC(b vs a, ``probs[:, b]``) on the samples of classes a and b; ``average="macro"`` is the
      mean over pairs, ``"weighted"`` weights each pair by its (weighted) prevalence.

    Conventions: single-class input (no positive or no negative weight after masking) gives NaN, as
    scikit-learn >= 1.6. **Absent classes** in multiclass input: a class (or pair) whose problem is
    undefined has per-class value NaN (``average="none"``) and is *skipped* by the macro / weighted
    averages (as Hand & Till over the present classes, and torchmetrics); the average is NaN only if no
    class is defined. With every class present this equals scikit-learn, which requires that.
    Binary input ignores ``multi_class`` and ``average``; ``max_fpr`` is binary only.

    Oracle: ``sklearn.metrics.roc_auc_score`` (incl. ``sample_weight``, ``max_fpr``, ``multi_class``;
    masked samples are the same as dropping them). scikit-learn's ovo takes no ``sample_weight``; here
    weights enter each pairwise AUROC and the pair prevalence.

    Args:
      scores: ``[..., N]`` float scores (binary) or ``probs [..., N, C]`` (multiclass).
      labels: ``[..., N]`` int/bool; binary: 1 is positive; multiclass: class ids in ``[0, C)``.
      max_fpr: static float in (0, 1] or None (binary only).
      multi_class: ``"ovr"`` or ``"ovo"``; required for multiclass input.
      average: see above (multiclass only).
      where: bool mask broadcastable to ``[..., N]``.
      weights: non-negative weights broadcastable to ``[..., N]``.

    Returns:
      ``[...]`` (``[..., C]`` for ovr with ``average="none"``), float32 or float64.

    Complexity: O(N log N) (one sort) per binary problem; ovr sorts C problems, ovo C(C−1) of them.

    Example:
      >>> auroc(jnp.array([0.1, 0.4, 0.35, 0.8]), jnp.array([0, 0, 1, 1]))
      Array(0.75, dtype=float32)
    """
    fn = "auroc"
    if max_fpr is not None and not (isinstance(max_fpr, (int, float)) and 0 < max_fpr <= 1):
        raise checks.ShapeError(
            f"jaxmetrics.{fn}: argument `max_fpr` must be a static float in (0, 1]; got {max_fpr!r}."
        )
    multiclass = _check_scores_labels(fn, scores, labels, allow_multiclass=True)
    labels = jnp.asarray(labels)
    w = _sample_weights(fn, scores, labels.shape, where, weights)
    if not multiclass:
        return _binary_core(scores, labels, w, kind="auroc", max_fpr=None if max_fpr == 1 else max_fpr)
    checks.check_choice(fn, "multi_class", multi_class, ("ovr", "ovo"))
    if max_fpr is not None and max_fpr != 1:
        raise checks.ShapeError(
            f"jaxmetrics.{fn}: argument `max_fpr` is only supported for binary input; got {max_fpr!r}."
        )
    checks.check_choice(fn, "average", average, _OVR_AVERAGES if multi_class == "ovr" else _OVO_AVERAGES)
    if average == "micro":
        return _multiclass_core(scores, labels, w, kind="auroc", problem="micro")
    values, weight = _multiclass_core(scores, labels, w, kind="auroc", problem=multi_class)
    if average in ("none", None):
        return values
    return _average(values, weight, average=average, skip_nan=True)


def average_precision(scores, labels, *, average="macro", where=None, weights=None) -> Array:
    r"""Exact average precision (the step-sum area under the precision–recall curve).

    .. math::

        \mathrm{AP} = \sum_n (R_n - R_{n-1})\, P_n

    over the distinct score thresholds in decreasing order, with P_n = TP_n/(TP_n+FP_n) and
    R_n = TP_n/W_+ (weighted counts of samples with score >= threshold n). This is a step sum, **not** a
    trapezoid and not interpolated. Equivalently AP = (1/W_+) Σ_{i:y_i=1} w_i·P(s_i), and on tie-free
    data AP = 1 − P(y=0)·E_{t∼s|y=1}[FPR(t)/P(s ≥ t)].

    Conventions (scikit-learn): precision is 0 where TP+FP = 0; no positives gives AP = 0.0 (recall is
    set to 1 everywhere, so every recall step is 0). Multiclass ``probs [..., N, C]`` is binarised one-vs-
    rest and averaged: ``"macro"`` (mean over all C classes — a class without positives counts as 0),
    ``"weighted"`` (by class support; 0 if the total support is 0), ``"micro"`` (the flattened one-hot
    problem) or ``"none"``/None (``[..., C]``).

    Oracle: ``sklearn.metrics.average_precision_score`` (binary; multiclass equals it on
    ``label_binarize(labels, classes=range(C))``), incl. ``sample_weight`` and ties.

    Args:
      scores: ``[..., N]`` float scores, or ``probs [..., N, C]`` for multiclass.
      labels: ``[..., N]`` int/bool; binary: 1 is positive; multiclass: class ids in ``[0, C)``.
      average: multiclass averaging (ignored for binary input).
      where: bool mask broadcastable to ``[..., N]``.
      weights: non-negative weights broadcastable to ``[..., N]``.

    Returns:
      ``[...]`` (``[..., C]`` for ``average="none"``), float32 or float64.

    Complexity: O(N log N), one sort per binary problem.

    Example:
      >>> average_precision(jnp.array([0.1, 0.4, 0.35, 0.8]), jnp.array([0, 0, 1, 1]))
      Array(0.8333334, dtype=float32)
    """
    fn = "average_precision"
    multiclass = _check_scores_labels(fn, scores, labels, allow_multiclass=True)
    labels = jnp.asarray(labels)
    w = _sample_weights(fn, scores, labels.shape, where, weights)
    if not multiclass:
        return _binary_core(scores, labels, w, kind="ap")
    checks.check_choice(fn, "average", average, _AP_AVERAGES)
    if average == "micro":
        return _multiclass_core(scores, labels, w, kind="ap", problem="micro")
    values, weight = _multiclass_core(scores, labels, w, kind="ap", problem="ovr")
    if average in ("none", None):
        return values
    return _average(values, weight, average=average, skip_nan=False)


def _roc_curve_1d(scores, pos, neg) -> ROCCurve:
    n = scores.shape[-1]
    g = _tie_groups(scores, pos, neg, curve=True)
    n_pos, n_neg = _totals(g)
    k = jnp.sum(g.nonzero)  # number of distinct thresholds among nonzero-weight samples
    idx = jnp.where(g.nonzero, jnp.cumsum(g.nonzero), n + 1)  # compacted position (after (0, 0))
    fpr0 = numerics.safe_div(jnp.zeros_like(n_neg), n_neg, jnp.nan)
    tpr0 = numerics.safe_div(jnp.zeros_like(n_pos), n_pos, jnp.nan)

    def place(first, values):
        out = jnp.full((n + 1,), first, values.dtype).at[idx].set(values, mode="drop")
        return jnp.where(jnp.arange(n + 1) <= k, out, out[k])  # pad with the last valid point

    return ROCCurve(
        fpr=place(fpr0, numerics.safe_div(g.cum_neg, n_neg, jnp.nan)),
        tpr=place(tpr0, numerics.safe_div(g.cum_pos, n_pos, jnp.nan)),
        thresholds=place(jnp.inf, g.threshold),
        valid=jnp.arange(n + 1) <= k,
    )


def roc_curve(scores, labels, *, where=None, weights=None) -> ROCCurve:
    r"""Exact binary ROC curve, padded to the fixed length ``N + 1``.

    Point 0 is (FPR, TPR) = (0, 0) at threshold ``+inf``; then one point per distinct score t among the
    nonzero-weight samples, in decreasing order, with FPR(t) = FP(s ≥ t)/W_−, TPR(t) = TP(s ≥ t)/W_+.
    The K + 1 valid points come first (``valid``); the padding repeats the last valid point (1, 1).

    Conventions: as ``sklearn.metrics.roc_curve(..., drop_intermediate=False)``, which it equals on the
    valid prefix (incl. ``sample_weight``; masked or zero-weight samples add no threshold). With no
    negatives (positives) every FPR (TPR) is NaN, as scikit-learn. Binary only.

    Args:
      scores: ``[..., N]`` float scores.
      labels: ``[..., N]`` int/bool, 1 is positive.
      where: bool mask broadcastable to ``[..., N]``.
      weights: non-negative weights broadcastable to ``[..., N]``.

    Returns:
      :class:`ROCCurve` with fields ``[..., N + 1]``.

    Example:
      >>> c = roc_curve(jnp.array([0.1, 0.4, 0.35, 0.8]), jnp.array([0, 0, 1, 1]))
      >>> c.fpr[c.valid], c.tpr[c.valid]   # eager only (boolean indexing)
      (Array([0. , 0. , 0.5, 0.5, 1. ], dtype=float32), Array([0. , 0.5, 0.5, 1. , 1. ], dtype=float32))
    """
    fn = "roc_curve"
    _check_scores_labels(fn, scores, labels, allow_multiclass=False)
    w = _sample_weights(fn, scores, jnp.shape(scores), where, weights)
    return _binary_core(scores, labels, w, kind="roc")


def _pr_curve_1d(scores, pos, neg) -> PRCurve:
    n = scores.shape[-1]
    g = _tie_groups(scores, pos, neg, curve=True)
    n_pos, _ = _totals(g)
    k = jnp.sum(g.nonzero)
    idx = jnp.where(g.nonzero, k - jnp.cumsum(g.nonzero), n + 1)  # increasing-threshold order

    def place(final, values):  # padding (and the final point) = `final`
        return jnp.full((n + 1,), final, values.dtype).at[idx].set(values, mode="drop")

    return PRCurve(
        precision=place(1.0, numerics.safe_div(g.cum_pos, g.cum_pos + g.cum_neg)),
        recall=place(0.0, numerics.safe_div(g.cum_pos, n_pos, 1.0)),
        thresholds=place(jnp.inf, g.threshold),
        valid=jnp.arange(n + 1) <= k,
    )


def precision_recall_curve(scores, labels, *, where=None, weights=None) -> PRCurve:
    r"""Exact binary precision–recall curve, padded to the fixed length ``N + 1``.

    In scikit-learn's order: one point per distinct score t among the nonzero-weight samples in
    *increasing* order, with P(t) = TP/(TP+FP) and R(t) = TP/W_+ over samples with score ≥ t, followed by
    the final point (precision=1, recall=0), whose threshold here is ``+inf``. The K + 1 valid points
    come first; the padding repeats the final point.

    Conventions: as ``sklearn.metrics.precision_recall_curve(..., drop_intermediate=False)``, which it
    equals on the valid prefix (scikit-learn returns K thresholds; the extra ``+inf`` is the final
    point's). Precision is 0 where TP+FP = 0; recall is 1 everywhere (before the final point) when
    there are no positives. Binary only.

    Args:
      scores: ``[..., N]`` float scores.
      labels: ``[..., N]`` int/bool, 1 is positive.
      where: bool mask broadcastable to ``[..., N]``.
      weights: non-negative weights broadcastable to ``[..., N]``.

    Returns:
      :class:`PRCurve` with fields ``[..., N + 1]``.

    Example:
      >>> c = precision_recall_curve(jnp.array([0.1, 0.4, 0.35, 0.8]), jnp.array([0, 0, 1, 1]))
      >>> c.precision[c.valid]   # eager only (boolean indexing)
      Array([0.5      , 0.6666667, 0.5      , 1.       , 1.       ], dtype=float32)
      >>> c.recall[c.valid]
      Array([1. , 1. , 0.5, 0.5, 0. ], dtype=float32)
    """
    fn = "precision_recall_curve"
    _check_scores_labels(fn, scores, labels, allow_multiclass=False)
    w = _sample_weights(fn, scores, jnp.shape(scores), where, weights)
    return _binary_core(scores, labels, w, kind="pr")


# --------------------------------------------------------------------------------------------------
# Binned constant-memory streaming metrics


class BinnedCurveState(NamedTuple):
    """Weighted score histograms over ``num_thresholds`` equal-width bins on [0, 1].

    Attributes:
      pos: ``[..., T]`` total weight of positive samples per bin.
      neg: ``[..., T]`` total weight of negative samples per bin.
    """

    pos: Array
    neg: Array


def _bin_index(scores, num_bins: int):
    """Bin ``b = floor(clip(s, 0, 1)·T)`` (``s = 1`` goes to the last bin): ``[b/T, (b+1)/T)``."""
    s = jnp.clip(numerics.promote(scores), 0.0, 1.0)
    return jnp.clip(jnp.floor(s * num_bins), 0, num_bins - 1).astype(jnp.int32)


def _binned_metric(fn: str, num_thresholds, compute) -> Metric:
    t = checks.check_static_int(fn, "num_thresholds", num_thresholds, 1)

    def init(dtype=None) -> BinnedCurveState:
        z = jnp.zeros((t,), default_state_dtype(dtype))
        return BinnedCurveState(z, z)

    def update(state, scores, labels, *, where=None, weights=None) -> BinnedCurveState:
        _check_scores_labels(fn, scores, labels, allow_multiclass=False)
        scores, labels = jnp.asarray(scores), jnp.asarray(labels)
        w = checks.sample_weights(fn, scores.shape, state.pos.dtype, where, weights)
        y = labels == 1
        zero = jnp.zeros_like(w)
        data = jnp.stack([jnp.where(y, w, zero), jnp.where(y, zero, w)], -1)  # [..., N, 2]
        idx = _bin_index(scores, t)

        def hist(i, d):
            return jax.ops.segment_sum(d, i, num_segments=t)  # [T, 2]

        h = _map_leading(hist, idx.ndim - 1)(idx, data)
        # Leading (batch) axes of the inputs become leading axes of the state, as for every metric.
        return BinnedCurveState(state.pos + h[..., 0], state.neg + h[..., 1])

    return Metric(init, update, tree_add, compute)


def _binned_auroc_compute(state: BinnedCurveState) -> Array:
    # Descending bins; scores within a bin are tied (½ credit).
    pos, neg = state.pos[..., ::-1], state.neg[..., ::-1]
    cum_pos = jnp.cumsum(pos, -1)
    u = jnp.sum(neg * (cum_pos - 0.5 * pos), -1)
    return numerics.safe_div(u, cum_pos[..., -1] * jnp.sum(neg, -1), jnp.nan)


def _binned_ap_compute(state: BinnedCurveState) -> Array:
    pos, neg = state.pos[..., ::-1], state.neg[..., ::-1]
    cum_pos, cum_neg = jnp.cumsum(pos, -1), jnp.cumsum(neg, -1)
    precision = numerics.safe_div(cum_pos, cum_pos + cum_neg)
    return numerics.safe_div(jnp.sum(pos * precision, -1), cum_pos[..., -1], 0.0)


def auroc_metric(*, num_thresholds: int = 200) -> Metric:
    r"""Streaming binned AUROC with constant memory (state ``2 × num_thresholds``, additive).

    Scores are **probabilities**: they are clipped to [0, 1] and counted in ``T = num_thresholds``
    equal-width bins ``[b/T, (b+1)/T)`` (the last one closed), separately for positive and negative
    (weighted) samples. ``compute`` returns the exact AUROC of the scores quantised to their bins, i.e.
    Mann–Whitney with ½ credit for a positive and a negative in the same bin:

    .. math::

        \mathrm{AUROC}_T = \frac{\sum_b N_b \left(\sum_{b' > b} P_{b'} + \tfrac12 P_b\right)}{W_+ W_-}.

    NaN without positives or negatives (as :func:`auroc`). ``merge`` is :func:`~jaxmetrics.tree_add`,
    so the cross-device reduction is a ``psum``. Binary only; ``update(state, scores, labels, *,
    where=None, weights=None)`` with ``labels == 1`` positive. Leading batch axes of the inputs become
    leading axes of the state.

    Approximation error vs the exact :func:`auroc` (``bench/binned_error.py``: N = 10⁵, 5 seeds,
    uniform / random / sigmoid-of-normal / near-0-and-1 scores; ``bench/results/binned_auroc_error.md``):
    max |binned − exact| = 1.4e-3 at T = 50, 6.3e-4 at T = 100, **2.4e-4 at T = 200**, 1.5e-5 at
    T = 1000. The worst case is scores piled up in the extreme bins; on spread-out scores the error at
    T = 200 is ≤ 3e-5. The within-bin ½ credit makes the error shrink quickly (≈ 1/T²).

    Example:
      >>> m = auroc_metric(num_thresholds=100)
      >>> state = m.update(m.init(), jnp.array([0.1, 0.4, 0.35, 0.8]), jnp.array([0, 0, 1, 1]))
      >>> m.compute(state)
      Array(0.75, dtype=float32)
    """
    return _binned_metric("auroc_metric", num_thresholds, _binned_auroc_compute)


def average_precision_metric(*, num_thresholds: int = 200) -> Metric:
    r"""Streaming binned average precision with constant memory (state ``2 × num_thresholds``).

    Same histograms as :func:`auroc_metric` (scores clipped to [0, 1], ``T`` equal-width bins);
    ``compute`` is the step sum AP = Σ_b (R_b − R_{b+1})·P_b over the bin thresholds b/T in decreasing
    order, with TP/FP counted over the bins ≥ b — the exact AP of the scores quantised to their bins.
    No positives gives 0.0 (as :func:`average_precision`). ``merge`` is a tree-add (``psum``). Binary
    only.

    Approximation error vs the exact :func:`average_precision` (``bench/binned_error.py``, same
    setup as :func:`auroc_metric`): max |binned − exact| = 1.6e-2 at T = 50, 8.6e-3 at T = 100,
    **4.4e-3 at T = 200**, 8.6e-4 at T = 1000 (worst case: scores piled up near 0 and 1; 1.3e-3 at
    T = 200 on uniform calibrated scores). Pooling a bin into one threshold lowers the precision of
    informative within-bin orderings, so the AP error shrinks only like 1/T — use a larger T (state is
    just ``2·T`` numbers) when AP to three decimals matters.

    Example:
      >>> m = average_precision_metric(num_thresholds=100)
      >>> state = m.update(m.init(), jnp.array([0.1, 0.4, 0.35, 0.8]), jnp.array([0, 0, 1, 1]))
      >>> m.compute(state)
      Array(0.8333334, dtype=float32)
    """
    return _binned_metric("average_precision_metric", num_thresholds, _binned_ap_compute)


@functools.partial(jax.jit, static_argnames=("num_thresholds", "kind"))
def _binned_one_shot(scores, labels, w, *, num_thresholds, kind):
    ctor = auroc_metric if kind == "auroc" else average_precision_metric
    return one_shot(ctor(num_thresholds=num_thresholds), scores, labels, weights=w)


def binned_auroc(scores, labels, *, num_thresholds: int = 200, where=None, weights=None) -> Array:
    """One-shot binned AUROC: ``one_shot(auroc_metric(num_thresholds=...), scores, labels)``.

    See :func:`auroc_metric`. ``scores [..., N]`` in [0, 1] (clipped), ``labels [..., N]``; returns
    ``[...]`` in the accumulation dtype of the inputs (float32 at least).
    """
    fn = "binned_auroc"
    checks.check_static_int(fn, "num_thresholds", num_thresholds, 1)
    _check_scores_labels(fn, scores, labels, allow_multiclass=False)
    w = _sample_weights(fn, scores, jnp.shape(scores), where, weights)
    return _binned_one_shot(scores, labels, w, num_thresholds=num_thresholds, kind="auroc")


def binned_average_precision(scores, labels, *, num_thresholds: int = 200, where=None, weights=None) -> Array:
    """One-shot binned AP: ``one_shot(average_precision_metric(num_thresholds=...), scores, labels)``.

    See :func:`average_precision_metric`. ``scores [..., N]`` in [0, 1] (clipped), ``labels [..., N]``;
    returns ``[...]``.
    """
    fn = "binned_average_precision"
    checks.check_static_int(fn, "num_thresholds", num_thresholds, 1)
    _check_scores_labels(fn, scores, labels, allow_multiclass=False)
    w = _sample_weights(fn, scores, jnp.shape(scores), where, weights)
    return _binned_one_shot(scores, labels, w, num_thresholds=num_thresholds, kind="ap")


# --------------------------------------------------------------------------------------------------
# Registry

for _name, _fn, _hib, _stream, _oracle in (
    ("auroc", auroc, True, None, "sklearn.metrics.roc_auc_score"),
    ("average_precision", average_precision, True, None, "sklearn.metrics.average_precision_score"),
    ("roc_curve", roc_curve, None, None, "sklearn.metrics.roc_curve(drop_intermediate=False)"),
    (
        "precision_recall_curve",
        precision_recall_curve,
        None,
        None,
        "sklearn.metrics.precision_recall_curve(drop_intermediate=False)",
    ),
    ("binned_auroc", binned_auroc, True, auroc_metric, "sklearn.metrics.roc_auc_score on bin-quantised scores"),
    (
        "binned_average_precision",
        binned_average_precision,
        True,
        average_precision_metric,
        "sklearn.metrics.average_precision_score on bin-quantised scores",
    ),
):
    register(
        MetricInfo(
            name=_name,
            family="classification",
            fn=_fn,
            differentiable=False,
            higher_is_better=_hib,
            streaming=_stream,
            oracle=_oracle,
        )
    )
del _name, _fn, _hib, _stream, _oracle
