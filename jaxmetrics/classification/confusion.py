"""Confusion-count metrics: accuracy, confusion matrix, precision/recall/F-beta, balanced accuracy,
Matthews correlation, Cohen's kappa — and log loss. Each has a streaming ``*_metric``.

**Predictions.** Every confusion-count metric takes ``preds`` in one of three forms, told apart by
rank and dtype (static, so the choice is made once at trace time):

* class scores ``[..., N, C]`` (probabilities or logits): the prediction is ``argmax`` (ties go to the
  lowest class index); ``C`` fixes ``num_classes``;
* integer predicted labels ``[..., N]`` (``num_classes`` must be given);
* binary scores ``[..., N]`` (float): the prediction is ``preds > threshold`` (default 0.5, as
  torchmetrics), and ``num_classes`` is 2.

``labels`` are integers ``[..., N]``. Labels (and predicted labels) outside ``[0, num_classes)`` are
treated as masked — use :func:`jaxmetrics.validate` to reject them instead.

**State.** The streaming state of every confusion-count metric is the weighted confusion matrix
``[C, C]`` (rows = true class, columns = predicted class, as scikit-learn); ``merge`` adds matrices and
the cross-device reduction is a ``psum``. Every ratio is computed by one function from the matrix, so
the hard metrics here and the soft twins in :mod:`~jaxmetrics.classification.relaxed` share the same
formulas (AnyLoss: "one function computes every ratio from hard or soft counts").

**Undefined cases** follow scikit-learn (the oracle): precision / recall / F-beta use
``zero_division`` (default 0.0) where a denominator is empty; MCC is 0 when either marginal is
constant; Cohen's kappa is NaN when the chance agreement is 1; accuracy, balanced accuracy and log loss
over zero (weighted) samples are NaN.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxmetrics._src import checks, numerics
from jaxmetrics._src.metric import MeanState, Metric, default_state_dtype, mean_metric, one_shot, tree_add
from jaxmetrics._src.registry import MetricInfo, register

Array = jax.Array

__all__ = [
    "AVERAGES",
    "ConfusionState",
    "MeanState",
    "accuracy",
    "accuracy_metric",
    "balanced_accuracy",
    "balanced_accuracy_metric",
    "cohen_kappa",
    "cohen_kappa_metric",
    "confusion_matrix",
    "confusion_matrix_metric",
    "f1",
    "f1_metric",
    "f_beta",
    "f_beta_metric",
    "log_loss",
    "log_loss_metric",
    "matthews_corrcoef",
    "matthews_corrcoef_metric",
    "precision",
    "precision_metric",
    "recall",
    "recall_metric",
]
# The ``*_from_confusion`` ratio functions are shared with the soft twins (relaxed.py) and stay
# importable from this module; they are building blocks over matrices, not metrics over data, so they
# are not re-exported by the family namespace.

AVERAGES = ("auto", "binary", "micro", "macro", "weighted", "none")


class ConfusionState(NamedTuple):
    """Weighted confusion matrix ``[C, C]``: ``matrix[t, p]`` = weight of samples with label t
    predicted as p."""

    matrix: Array


# --------------------------------------------------------------------------------------------------
# Inputs


def _predicted_labels(fn, preds, labels, num_classes, threshold):
    """Resolves ``preds`` to integer class predictions ``[..., N]`` and a static ``num_classes``."""
    preds = jnp.asarray(preds)
    labels = jnp.asarray(labels)
    checks.check_integer(fn, "labels", labels)
    checks.check_min_rank(fn, "labels", labels, 1, "[..., N]")
    if preds.ndim == labels.ndim + 1:
        checks.check_float(fn, "preds", preds)
        if preds.shape[:-1] != labels.shape:
            checks.check_same_shape(fn, "preds", preds[..., 0], "labels", labels, "[..., N, C]")
        c = preds.shape[-1]
        if num_classes is not None and num_classes != c:
            raise checks.ShapeError(
                f"jaxmetrics.{fn}: argument `preds` has {c} classes on its last axis but "
                f"num_classes={num_classes}."
            )
        return jnp.argmax(preds, axis=-1), labels, c
    checks.check_same_shape(fn, "preds", preds, "labels", labels)
    if jnp.issubdtype(preds.dtype, jnp.floating):
        if num_classes not in (None, 2):
            raise checks.ShapeError(
                f"jaxmetrics.{fn}: argument `preds` of shape [..., N] with a float dtype is read as "
                f"binary scores, but num_classes={num_classes}; pass class scores [..., N, C] or "
                "integer predicted labels."
            )
        return (preds > threshold).astype(jnp.int32), labels, 2
    checks.check_integer(fn, "preds", preds)
    if num_classes is None:
        raise checks.ShapeError(
            f"jaxmetrics.{fn}: argument `num_classes` is required when `preds` holds integer labels."
        )
    return preds, labels, checks.check_static_int(fn, "num_classes", num_classes, 2)


def confusion_counts(pred_labels, labels, num_classes, sample_w) -> Array:
    """Weighted confusion matrix ``[..., C, C]`` from integer predictions ``[..., N]``.

    One ``segment_sum`` over cells ``t·C + p`` (O(N), independent of C); samples whose label or
    prediction is outside ``[0, C)`` are dropped.
    """
    c = num_classes
    valid = (labels >= 0) & (labels < c) & (pred_labels >= 0) & (pred_labels < c)
    w = jnp.where(valid, sample_w, jnp.zeros_like(sample_w))
    cell = jnp.where(valid, labels * c + pred_labels, 0).astype(jnp.int32)
    batch, n = labels.shape[:-1], labels.shape[-1]
    rows = math.prod(batch)
    cell = cell.reshape(rows, n) + (c * c) * jnp.arange(rows, dtype=jnp.int32)[:, None]
    sums = jax.ops.segment_sum(w.reshape(-1), cell.reshape(-1), num_segments=rows * c * c)
    return sums.reshape(*batch, c, c)


# --------------------------------------------------------------------------------------------------
# Ratios from a (hard or soft) confusion matrix. Shapes: [..., C, C] -> [...] or [..., C].


def _marginals(matrix):
    tp = jnp.diagonal(matrix, axis1=-2, axis2=-1)
    support = matrix.sum(-1)  # true counts per class
    predicted = matrix.sum(-2)  # predicted counts per class
    return tp, support, predicted


def _average(per_class, num, den, support, average, zero_division):
    """Reduces per-class ratios ``num/den`` with scikit-learn's averaging rules."""
    if average == "none":
        return per_class
    if average == "binary":
        return per_class[..., 1]
    if average == "micro":
        return numerics.safe_div(num.sum(-1), den.sum(-1), zero_division)
    if average == "macro":
        return per_class.mean(-1)
    if average == "weighted":
        return numerics.safe_div((per_class * support).sum(-1), support.sum(-1), zero_division)
    raise ValueError(f"unknown average {average!r}")


def _resolve_average(fn, average, num_classes):
    checks.check_choice(fn, "average", average, AVERAGES)
    if average == "auto":
        return "binary" if num_classes == 2 else "macro"
    if average == "binary" and num_classes != 2:
        raise checks.ShapeError(
            f"jaxmetrics.{fn}: average='binary' needs 2 classes; got num_classes={num_classes}."
        )
    return average


def precision_from_confusion(matrix, *, average="auto", zero_division=0.0) -> Array:
    """Precision TP / (TP + FP) from a confusion matrix ``[..., C, C]`` (hard or soft counts)."""
    average = _resolve_average("precision", average, matrix.shape[-1])
    tp, support, predicted = _marginals(matrix)
    per_class = numerics.safe_div(tp, predicted, zero_division)
    return _average(per_class, tp, predicted, support, average, zero_division)


def recall_from_confusion(matrix, *, average="auto", zero_division=0.0) -> Array:
    """Recall TP / (TP + FN) from a confusion matrix ``[..., C, C]`` (hard or soft counts)."""
    average = _resolve_average("recall", average, matrix.shape[-1])
    tp, support, _ = _marginals(matrix)
    per_class = numerics.safe_div(tp, support, zero_division)
    return _average(per_class, tp, support, support, average, zero_division)


def f_beta_from_confusion(matrix, *, beta=1.0, average="auto", zero_division=0.0) -> Array:
    """F-beta (1+β²)TP / ((1+β²)TP + β²FN + FP) from a confusion matrix ``[..., C, C]``."""
    average = _resolve_average("f_beta", average, matrix.shape[-1])
    tp, support, predicted = _marginals(matrix)
    b2 = beta * beta
    num = (1 + b2) * tp
    den = b2 * support + predicted
    per_class = numerics.safe_div(num, den, zero_division)
    return _average(per_class, num, den, support, average, zero_division)


def accuracy_from_confusion(matrix, *, empty=jnp.nan) -> Array:
    """Accuracy trace(M) / sum(M) from a confusion matrix ``[..., C, C]``."""
    tp = jnp.diagonal(matrix, axis1=-2, axis2=-1).sum(-1)
    return numerics.safe_div(tp, matrix.sum((-2, -1)), empty)


def matthews_from_confusion(matrix) -> Array:
    """Multiclass Matthews correlation (Gorodkin's R_K, scikit-learn's formula); 0 when undefined."""
    tp, t_sum, p_sum = _marginals(matrix)
    n = t_sum.sum(-1)
    cov_tp = tp.sum(-1) * n - (t_sum * p_sum).sum(-1)
    cov_pp = n * n - (p_sum * p_sum).sum(-1)
    cov_tt = n * n - (t_sum * t_sum).sum(-1)
    den2 = cov_pp * cov_tt
    return numerics.safe_div(cov_tp, numerics.safe_sqrt(den2), 0.0)


def _balanced_from_confusion(matrix, adjusted):
    tp, support, _ = _marginals(matrix)
    present = support > 0
    per_class = numerics.safe_div(tp, support, 0.0)
    n_present = present.sum(-1).astype(matrix.dtype)
    score = numerics.safe_div(jnp.where(present, per_class, 0.0).sum(-1), n_present, jnp.nan)
    if adjusted:
        chance = numerics.safe_div(jnp.ones_like(n_present), n_present, jnp.nan)
        score = numerics.safe_div(score - chance, 1 - chance, jnp.nan)
    return score


def _kappa_from_confusion(matrix, weights):
    c = matrix.shape[-1]
    i = jnp.arange(c)
    if weights is None:
        w = 1.0 - jnp.eye(c, dtype=matrix.dtype)
    elif weights == "linear":
        w = jnp.abs(i[:, None] - i[None, :]).astype(matrix.dtype)
    else:
        w = ((i[:, None] - i[None, :]) ** 2).astype(matrix.dtype)
    total = matrix.sum((-2, -1))
    expected = numerics.safe_div(
        matrix.sum(-1)[..., :, None] * matrix.sum(-2)[..., None, :], total[..., None, None], 0.0
    )
    observed = (w * matrix).sum((-2, -1))
    chance = (w * expected).sum((-2, -1))
    return 1.0 - numerics.safe_div(observed, chance, jnp.nan)


# --------------------------------------------------------------------------------------------------
# Streaming constructors and one-shot functions


def _confusion_metric(fn, compute, num_classes, threshold) -> Metric:
    c = checks.check_static_int(fn, "num_classes", num_classes, 2)

    def init(dtype=None):
        return ConfusionState(jnp.zeros((c, c), default_state_dtype(dtype)))

    def update(state, preds, labels, *, where=None, weights=None):
        pred_labels, labels, nc = _predicted_labels(fn, preds, labels, c, threshold)
        w = checks.sample_weights(fn, labels.shape, state.matrix.dtype, where, weights)
        counts = confusion_counts(pred_labels, labels, nc, w)
        return ConfusionState(state.matrix + counts.astype(state.matrix.dtype))

    return Metric(init, update, tree_add, lambda s: compute(s.matrix))


def _num_classes(fn, preds, labels, num_classes):
    return _predicted_labels(fn, preds, labels, num_classes, 0.5)[2]


_NORMALIZE = (None, "true", "pred", "all")


def confusion_matrix_metric(*, num_classes: int = 2, threshold: float = 0.5, normalize=None) -> Metric:
    """Streaming :func:`confusion_matrix`; state ``[C, C]`` weighted counts (additive)."""
    checks.check_choice("confusion_matrix", "normalize", normalize, _NORMALIZE)

    def compute(m):
        if normalize == "true":
            return numerics.safe_div(m, m.sum(-1, keepdims=True), 0.0)
        if normalize == "pred":
            return numerics.safe_div(m, m.sum(-2, keepdims=True), 0.0)
        if normalize == "all":
            return numerics.safe_div(m, m.sum((-2, -1), keepdims=True), 0.0)
        return m

    return _confusion_metric("confusion_matrix", compute, num_classes, threshold)


def confusion_matrix(
    preds, labels, *, num_classes=None, threshold=0.5, normalize=None, where=None, weights=None
) -> Array:
    """Weighted confusion matrix: ``M[t, p]`` = Σ weights of samples with label t predicted as p.

    Args:
      preds: class scores ``[..., N, C]``, integer predictions ``[..., N]`` or binary scores
        ``[..., N]`` (see module docstring).
      labels: integer labels ``[..., N]``.
      num_classes: static C; inferred from class scores, 2 for binary scores.
      threshold: decision threshold for binary scores (``preds > threshold``).
      normalize: None (counts), ``"true"`` (rows sum to 1), ``"pred"`` (columns), ``"all"``.
      where: bool mask ``[..., N]``; weights: ``[..., N]``.

    Returns:
      ``[..., C, C]`` float (rows = true class, columns = predicted class), as
      ``sklearn.metrics.confusion_matrix(..., labels=range(C))``; empty rows normalise to 0.

    Example:
      >>> confusion_matrix(jnp.array([0, 1, 1]), jnp.array([0, 0, 1]), num_classes=2)
      Array([[1., 1.],
             [0., 1.]], dtype=float32)
    """
    c = _num_classes("confusion_matrix", preds, labels, num_classes)
    m = confusion_matrix_metric(num_classes=c, threshold=threshold, normalize=normalize)
    return one_shot(m, preds, labels, where=where, weights=weights)


def _ratio_metric(name, compute_from_matrix):
    """Builds the ``(one_shot, *_metric)`` pair of a confusion-count ratio with static options."""

    def constructor(*, num_classes: int = 2, threshold: float = 0.5, **options) -> Metric:
        return _confusion_metric(name, lambda m: compute_from_matrix(m, **options), num_classes, threshold)

    def fn(preds, labels, *, num_classes=None, threshold=0.5, where=None, weights=None, **options):
        c = _num_classes(name, preds, labels, num_classes)
        m = constructor(num_classes=c, threshold=threshold, **options)
        return one_shot(m, preds, labels, where=where, weights=weights)

    return fn, constructor


_precision, precision_metric = _ratio_metric("precision", precision_from_confusion)
_recall, recall_metric = _ratio_metric("recall", recall_from_confusion)
_f_beta, f_beta_metric = _ratio_metric("f_beta", f_beta_from_confusion)
_f1, _f1_metric = _ratio_metric("f1", f_beta_from_confusion)
_balanced, _balanced_metric = _ratio_metric(
    "balanced_accuracy", lambda m, adjusted=False: _balanced_from_confusion(m, adjusted)
)
_mcc, matthews_corrcoef_metric = _ratio_metric("matthews_corrcoef", lambda m: matthews_from_confusion(m))
_kappa, _kappa_metric = _ratio_metric("cohen_kappa", lambda m, kappa_weights=None: _kappa_from_confusion(m, kappa_weights))

precision_metric.__doc__ = "Streaming :func:`precision` (confusion-matrix state)."
recall_metric.__doc__ = "Streaming :func:`recall` (confusion-matrix state)."
f_beta_metric.__doc__ = "Streaming :func:`f_beta` (confusion-matrix state)."
matthews_corrcoef_metric.__doc__ = "Streaming :func:`matthews_corrcoef` (confusion-matrix state)."

_COMMON_ARGS = """
    Args:
      preds: class scores ``[..., N, C]``, integer predictions ``[..., N]`` (give ``num_classes``) or
        binary scores ``[..., N]`` thresholded with ``preds > threshold``.
      labels: integer labels ``[..., N]``.
      num_classes: static number of classes C (inferred from class scores; 2 for binary scores).
      average: ``"binary"`` (class 1), ``"micro"`` (pool counts), ``"macro"`` (unweighted mean over
        all C classes), ``"weighted"`` (mean weighted by support), ``"none"`` (per class ``[..., C]``);
        ``"auto"`` (default) is ``"binary"`` for 2 classes and ``"macro"`` otherwise.
      threshold: decision threshold for binary scores.
      zero_division: value of a ratio whose denominator is 0 (scikit-learn's ``zero_division``).
      where: bool mask ``[..., N]``. weights: per-sample weights ``[..., N]``.
"""


def precision(
    preds, labels, *, num_classes=None, average="auto", threshold=0.5, zero_division=0.0, where=None,
    weights=None,
) -> Array:
    """Precision (positive predictive value): TP / (TP + FP), per class then averaged.
    {args}
    Returns: ``[...]`` (or ``[..., C]`` for ``average="none"``). Matches
    ``sklearn.metrics.precision_score(..., labels=range(C))``.

    Example:
      >>> precision(jnp.array([0.9, 0.8, 0.2]), jnp.array([1, 0, 0]))
      Array(0.5, dtype=float32)
    """
    return _precision(preds, labels, num_classes=num_classes, threshold=threshold, where=where,
                      weights=weights, average=average, zero_division=zero_division)


def recall(
    preds, labels, *, num_classes=None, average="auto", threshold=0.5, zero_division=0.0, where=None,
    weights=None,
) -> Array:
    """Recall (sensitivity, true positive rate): TP / (TP + FN), per class then averaged.
    {args}
    Returns: ``[...]`` (or ``[..., C]``). Matches ``sklearn.metrics.recall_score(..., labels=range(C))``.
    With ``average="micro"`` on single-label multiclass data this equals accuracy.

    Example:
      >>> recall(jnp.array([0.9, 0.8, 0.2]), jnp.array([1, 0, 1]))
      Array(0.5, dtype=float32)
    """
    return _recall(preds, labels, num_classes=num_classes, threshold=threshold, where=where,
                   weights=weights, average=average, zero_division=zero_division)


def f_beta(
    preds, labels, *, beta=1.0, num_classes=None, average="auto", threshold=0.5, zero_division=0.0,
    where=None, weights=None,
) -> Array:
    """F-beta score: (1+β²)·TP / ((1+β²)·TP + β²·FN + FP), per class then averaged.

    Note that macro-F is the mean of per-class F, not the F of macro precision and recall.
    {args}
      beta: static weight of recall relative to precision (β > 1 favours recall).

    Returns: ``[...]`` (or ``[..., C]``). Matches ``sklearn.metrics.fbeta_score(..., labels=range(C))``.

    Example:
      >>> f_beta(jnp.array([0.9, 0.8, 0.2]), jnp.array([1, 0, 1]), beta=1.0)
      Array(0.5, dtype=float32)
    """
    return _f_beta(preds, labels, num_classes=num_classes, threshold=threshold, where=where,
                   weights=weights, beta=beta, average=average, zero_division=zero_division)


def f1(
    preds, labels, *, num_classes=None, average="auto", threshold=0.5, zero_division=0.0, where=None,
    weights=None,
) -> Array:
    """F1 score, the harmonic mean of precision and recall: :func:`f_beta` with β = 1.
    {args}
    Example:
      >>> f1(jnp.array([2, 1, 0]), jnp.array([2, 1, 1]), num_classes=3, average="micro")
      Array(0.6666667, dtype=float32)
    """
    return _f1(preds, labels, num_classes=num_classes, threshold=threshold, where=where, weights=weights,
               beta=1.0, average=average, zero_division=zero_division)


def f1_metric(*, num_classes: int = 2, threshold: float = 0.5, average="auto", zero_division=0.0) -> Metric:
    """Streaming :func:`f1` (confusion-matrix state)."""
    return _f1_metric(num_classes=num_classes, threshold=threshold, beta=1.0, average=average,
                      zero_division=zero_division)


def balanced_accuracy(
    preds, labels, *, num_classes=None, adjusted=False, threshold=0.5, where=None, weights=None
) -> Array:
    """Balanced accuracy: the mean per-class recall over classes present in ``labels``.

    balanced = (1/|K|) Σ_{c∈K} TP_c / (TP_c + FN_c), K = classes with nonzero (weighted) support;
    ``adjusted=True`` rescales so chance is 0: (b − 1/|K|) / (1 − 1/|K|).

    Args: as :func:`precision` (no ``average``), plus ``adjusted``.

    Returns: ``[...]``; NaN with no samples. Matches ``sklearn.metrics.balanced_accuracy_score``.

    Example:
      >>> balanced_accuracy(jnp.array([0, 0, 0, 1]), jnp.array([0, 0, 1, 1]), num_classes=2)
      Array(0.75, dtype=float32)
    """
    return _balanced(preds, labels, num_classes=num_classes, threshold=threshold, where=where,
                     weights=weights, adjusted=adjusted)


def balanced_accuracy_metric(*, num_classes: int = 2, threshold: float = 0.5, adjusted=False) -> Metric:
    """Streaming :func:`balanced_accuracy` (confusion-matrix state)."""
    return _balanced_metric(num_classes=num_classes, threshold=threshold, adjusted=adjusted)


def matthews_corrcoef(preds, labels, *, num_classes=None, threshold=0.5, where=None, weights=None) -> Array:
    """Matthews correlation coefficient (multiclass R_K of Gorodkin).

    With t_k, p_k the true and predicted counts of class k, c = Σ TP and n = Σ t_k:
    MCC = (c·n − Σ t_k p_k) / sqrt((n² − Σ p_k²)(n² − Σ t_k²)); for 2 classes this is
    (TP·TN − FP·FN)/sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)). 0 when the denominator is 0 (scikit-learn).

    Args: as :func:`precision` (no ``average``).

    Returns: ``[...]`` in [-1, 1]. Matches ``sklearn.metrics.matthews_corrcoef``.

    Example:
      >>> matthews_corrcoef(jnp.array([1, 1, 0, 0]), jnp.array([1, 0, 0, 0]), num_classes=2)
      Array(0.57735026, dtype=float32)
    """
    return _mcc(preds, labels, num_classes=num_classes, threshold=threshold, where=where, weights=weights)


def cohen_kappa(
    preds, labels, *, num_classes=None, kappa_weights=None, threshold=0.5, where=None, weights=None
) -> Array:
    """Cohen's kappa: agreement between predictions and labels corrected for chance.

    κ = 1 − Σ w_ij O_ij / Σ w_ij E_ij with O the confusion matrix, E = outer(row sums, column sums)/n
    and disagreement weights w: 1 − I (``kappa_weights=None``), |i − j| (``"linear"``) or (i − j)²
    (``"quadratic"``). NaN when chance disagreement is 0 (scikit-learn).

    Args: as :func:`precision` (no ``average``); ``kappa_weights`` in {None, "linear", "quadratic"}
      (``weights`` stays the per-sample weight, as everywhere in jaxmetrics).

    Returns: ``[...]``. Matches ``sklearn.metrics.cohen_kappa_score(labels, preds, weights=...)``.

    Example:
      >>> cohen_kappa(jnp.array([0, 1, 1, 0]), jnp.array([0, 1, 0, 0]), num_classes=2)
      Array(0.5, dtype=float32)
    """
    checks.check_choice("cohen_kappa", "kappa_weights", kappa_weights, (None, "linear", "quadratic"))
    return _kappa(preds, labels, num_classes=num_classes, threshold=threshold, where=where, weights=weights,
                  kappa_weights=kappa_weights)


def cohen_kappa_metric(*, num_classes: int = 2, threshold: float = 0.5, kappa_weights=None) -> Metric:
    """Streaming :func:`cohen_kappa` (confusion-matrix state)."""
    checks.check_choice("cohen_kappa", "kappa_weights", kappa_weights, (None, "linear", "quadratic"))
    return _kappa_metric(num_classes=num_classes, threshold=threshold, kappa_weights=kappa_weights)


for _f in (precision, recall, f_beta, f1):
    _f.__doc__ = _f.__doc__.replace("{args}", _COMMON_ARGS)


# --------------------------------------------------------------------------------------------------
# Accuracy (top-k) and log loss: weighted means of per-sample values (``mean_metric`` states).


def _correct(fn, preds, labels, k, threshold):
    """Per-sample 0/1 correctness ``[..., N]`` (top-k for class scores)."""
    preds = jnp.asarray(preds)
    labels = jnp.asarray(labels)
    if preds.ndim == labels.ndim + 1:
        pred_labels, labels, c = _predicted_labels(fn, preds, labels, None, threshold)
        if k > c:
            raise checks.ShapeError(f"jaxmetrics.{fn}: k={k} exceeds the number of classes {c}.")
        if k > 1:
            _, top = jax.lax.top_k(preds, k)
            return (top == labels[..., None]).any(-1).astype(jnp.float32)
    elif k != 1:
        raise checks.ShapeError(f"jaxmetrics.{fn}: top-k accuracy (k={k}) needs class scores `preds` [..., N, C].")
    elif jnp.issubdtype(preds.dtype, jnp.floating):
        pred_labels, labels, _ = _predicted_labels(fn, preds, labels, None, threshold)
    else:
        checks.check_integer(fn, "labels", labels)
        checks.check_integer(fn, "preds", preds)
        checks.check_same_shape(fn, "preds", preds, "labels", labels)
        pred_labels = preds
    return (pred_labels == labels).astype(jnp.float32)


def accuracy_metric(*, k: int = 1, threshold: float = 0.5) -> Metric:
    """Streaming :func:`accuracy`; state (Σ w·correct, Σ w), additive."""
    k = checks.check_static_int("accuracy", "k", k, 1)
    return mean_metric("accuracy", lambda preds, labels: _correct("accuracy", preds, labels, k, threshold))


def accuracy(preds, labels, *, k: int = 1, threshold: float = 0.5, where=None, weights=None) -> Array:
    """(Top-k) accuracy: the weighted fraction of samples whose label is among the k best classes.

    accuracy = Σ_i w_i·1[y_i ∈ top_k(preds_i)] / Σ_i w_i.

    Args:
      preds: class scores ``[..., N, C]`` (probabilities or logits), integer predictions ``[..., N]``,
        or binary scores ``[..., N]`` (``preds > threshold``).
      labels: integer labels ``[..., N]``.
      k: static top-k cutoff (class scores only). Ties among scores go to the lower class index.
      threshold: decision threshold for binary scores.
      where: bool mask ``[..., N]``. weights: ``[..., N]``.

    Returns: ``[...]``; NaN when all samples are masked. Matches ``sklearn.metrics.accuracy_score`` and
    ``top_k_accuracy_score`` (tie-free scores).

    Example:
      >>> accuracy(jnp.array([[0.1, 0.9], [0.8, 0.2]]), jnp.array([1, 1]))
      Array(0.5, dtype=float32)
    """
    return one_shot(accuracy_metric(k=k, threshold=threshold), preds, labels, where=where, weights=weights)


def _nll(fn, preds, labels, from_logits, eps):
    preds = jnp.asarray(preds)
    labels = jnp.asarray(labels)
    checks.check_float(fn, "preds", preds)
    checks.check_integer(fn, "labels", labels)
    checks.check_min_rank(fn, "labels", labels, 1, "[..., N]")
    x = numerics.promote(preds)
    if x.ndim == labels.ndim:  # binary: P(y = 1) or its logit
        checks.check_same_shape(fn, "preds", x, "labels", labels)
        y = labels.astype(x.dtype)
        if from_logits:
            return y * -jax.nn.log_sigmoid(x) + (1 - y) * -jax.nn.log_sigmoid(-x)
        e = jnp.finfo(x.dtype).eps if eps is None else eps
        p = jnp.clip(x, e, 1 - e)
        return -(y * jnp.log(p) + (1 - y) * jnp.log1p(-p))
    if x.shape[:-1] != labels.shape:
        checks.check_same_shape(fn, "preds", x[..., 0], "labels", labels, "[..., N, C]")
    logp = jax.nn.log_softmax(x, axis=-1) if from_logits else None
    if logp is None:
        e = jnp.finfo(x.dtype).eps if eps is None else eps
        logp = jnp.log(jnp.clip(x, e, 1 - e))
    onehot = jax.nn.one_hot(labels, x.shape[-1], dtype=x.dtype)
    return -(onehot * logp).sum(-1)


def log_loss_metric(*, from_logits: bool = False, eps: float | None = None) -> Metric:
    """Streaming :func:`log_loss`; state (Σ w·nll, Σ w), additive."""
    return mean_metric("log_loss", lambda preds, labels: _nll("log_loss", preds, labels, from_logits, eps))


def log_loss(preds, labels, *, from_logits: bool = False, eps: float | None = None, where=None,
             weights=None) -> Array:
    """Log loss (cross-entropy, negative log-likelihood of the labels), weighted mean over samples.

    log_loss = −Σ_i w_i log p_i[y_i] / Σ_i w_i; binary: −Σ w_i (y_i log p_i + (1 − y_i) log(1 − p_i)) / Σ w_i.

    Args:
      preds: probabilities ``[..., N, C]`` (rows summing to 1), or binary P(y=1) ``[..., N]``; logits of
        either shape with ``from_logits=True`` (computed with ``log_softmax`` / ``log_sigmoid``, exact
        for any finite logit).
      labels: integer labels ``[..., N]``.
      from_logits: static; whether ``preds`` are logits.
      eps: probabilities are clipped to [eps, 1 − eps] (default: the dtype's machine epsilon, as
        scikit-learn >= 1.5). Rows are not renormalised: use :func:`jaxmetrics.validate` to reject
        rows that do not sum to 1 (scikit-learn raises on them).
      where: bool mask ``[..., N]``. weights: ``[..., N]``.

    Returns: ``[...]`` in nats; NaN when all samples are masked. Matches ``sklearn.metrics.log_loss``.

    Example:
      >>> log_loss(jnp.array([[0.5, 0.5], [0.2, 0.8]]), jnp.array([0, 1]))
      Array(0.45814535, dtype=float32)
    """
    m = log_loss_metric(from_logits=from_logits, eps=eps)
    return one_shot(m, preds, labels, where=where, weights=weights)


# --------------------------------------------------------------------------------------------------
# Registry

_SK = "sklearn.metrics"
for _name, _fn, _stream, _oracle in [
    ("accuracy", accuracy, accuracy_metric, f"{_SK}.accuracy_score / top_k_accuracy_score"),
    ("confusion_matrix", confusion_matrix, confusion_matrix_metric, f"{_SK}.confusion_matrix"),
    ("precision", precision, precision_metric, f"{_SK}.precision_score"),
    ("recall", recall, recall_metric, f"{_SK}.recall_score"),
    ("f_beta", f_beta, f_beta_metric, f"{_SK}.fbeta_score"),
    ("f1", f1, f1_metric, f"{_SK}.f1_score"),
    ("balanced_accuracy", balanced_accuracy, balanced_accuracy_metric, f"{_SK}.balanced_accuracy_score"),
    ("matthews_corrcoef", matthews_corrcoef, matthews_corrcoef_metric, f"{_SK}.matthews_corrcoef"),
    ("cohen_kappa", cohen_kappa, cohen_kappa_metric, f"{_SK}.cohen_kappa_score"),
    ("log_loss", log_loss, log_loss_metric, f"{_SK}.log_loss"),
]:
    register(
        MetricInfo(
            name=_name,
            family="classification",
            fn=_fn,
            differentiable=_name == "log_loss",
            higher_is_better=None if _name == "confusion_matrix" else _name != "log_loss",
            streaming=_stream,
            oracle=_oracle,
        )
    )
