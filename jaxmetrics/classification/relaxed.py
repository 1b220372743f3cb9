"""Differentiable ``soft_*`` twins of the confusion-count metrics and of AUROC.

**Soft confusion matrix (AnyLoss, Han et al.).** A hard confusion matrix counts ``1[p > ½]``; the soft
one replaces the step by the *amplifier* ``A(p) = σ((p − ½)/τ)``, a smooth step centred at ½ (for
probabilities in [0, 1]). With ``y`` the labels and ``w`` the sample weights,

    TP = Σ w·y·A,   FN = Σ w·y·(1 − A),   FP = Σ w·(1 − y)·A,   TN = Σ w·(1 − y)·(1 − A),

laid out as :func:`~jaxmetrics.classification.confusion_matrix` lays out hard counts (rows = true class,
columns = predicted class): ``M = [[TN, FP], [FN, TP]]``. Multiclass probabilities ``[..., N, C]`` use
``A = softmax(probs / (2τ))`` over classes and ``M = Σ_i w_i·onehot(y_i)ᵀ A_i``; for C = 2 and rows
``(1 − p, p)`` this is exactly the binary form, since ``softmax((1 − p, p)/(2τ))₁ = σ((2p − 1)/(2τ))``.

Every ratio (precision, recall, F-beta, accuracy, MCC) is then computed by the *same* function as the
hard metric (``*_from_confusion`` in :mod:`~jaxmetrics.classification.confusion`) — AnyLoss's "one
function computes every ratio from hard or soft counts" — so ``1 − soft_f_beta(...)`` is a
differentiable F-beta loss, and as ``τ → 0`` each soft metric converges to the exact one on every sample
with ``p ≠ ½`` (no argmax tie for multiclass). The state is additive, so each twin also streams
(``soft_*_metric``: merge adds matrices, the cross-device reduction is a ``psum``).

**Temperature.** ``temperature = 1/L`` with the AnyLoss amplification ``L = 73`` by default
(``τ = 1/73 ≈ 0.0137``, in probability units). Then ``A(0.9) = σ(29.2) = 1 − 2.1e-13``: confident
predictions count as hard ones to ~1e-12, while predictions within ~``3τ ≈ 0.04`` of ½ get a useful
gradient. Gradients vanish where ``|p − ½| ≫ τ`` — raise ``temperature`` for a smoother loss early in
training. Denominators use the epsilon-free double-``where`` divide, so gradients are finite everywhere
(including all-masked input and ``p`` exactly 0, ½ or 1).

**Soft AUROC.** :func:`soft_auroc` is the pairwise-sigmoid (Wilcoxon–Mann–Whitney) surrogate
``Σ_{i∈+} Σ_{j∈−} w_i w_j σ((s_i − s_j)/τ) / (W₊W₋)``, computed in chunks (memory O(chunk_size·N)).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from jaxmetrics import soft
from jaxmetrics._src import checks, numerics
from jaxmetrics._src.metric import Metric, default_state_dtype, one_shot, tree_add
from jaxmetrics._src.registry import MetricInfo, attach_soft, register
from jaxmetrics.classification.confusion import (
    AVERAGES,
    ConfusionState,
    accuracy_from_confusion,
    f_beta_from_confusion,
    matthews_from_confusion,
    precision_from_confusion,
    recall_from_confusion,
)

Array = jax.Array

__all__ = [
    "soft_accuracy",
    "soft_accuracy_metric",
    "soft_auroc",
    "soft_confusion_matrix",
    "soft_confusion_matrix_metric",
    "soft_f_beta",
    "soft_f_beta_metric",
    "soft_matthews_corrcoef",
    "soft_matthews_corrcoef_metric",
    "soft_precision",
    "soft_precision_metric",
    "soft_recall",
    "soft_recall_metric",
]

_ANYLOSS_TEMPERATURE = 1.0 / 73.0  # 1/L, the AnyLoss amplification L = 73
_AUROC_TEMPERATURE = 0.05  # in score units
_HIGHEST = lax.Precision.HIGHEST


# --------------------------------------------------------------------------------------------------
# Soft confusion counts


def _check_inputs(fn, probs, labels):
    """Validates ``probs`` / ``labels``; returns them as arrays and the static number of classes."""
    probs, labels, binary = checks.check_probs_labels(fn, probs, labels)
    return probs, labels, 2 if binary else probs.shape[-1]


def _num_classes(fn, probs, labels, num_classes):
    c = _check_inputs(fn, probs, labels)[2]
    if num_classes is not None and num_classes != c:
        kind = "binary probabilities [..., N]" if jnp.ndim(probs) == jnp.ndim(labels) else f"{c} classes"
        raise checks.ShapeError(
            f"jaxmetrics.{fn}: argument `probs` holds {kind}, which does not match num_classes={num_classes}."
        )
    return c


def _soft_counts(fn, probs, labels, num_classes, temperature, dtype, where, weights):
    """Soft confusion matrix ``[..., C, C]`` in ``dtype`` (see module docstring)."""
    probs, labels, c = _check_inputs(fn, probs, labels)
    if c != num_classes:
        _num_classes(fn, probs, labels, num_classes)  # raises the informative error
    w = checks.sample_weights(fn, labels.shape, dtype, where, weights)
    p = numerics.promote(probs, dtype)
    if probs.ndim == labels.ndim:  # binary AnyLoss amplifier; σ(−z) is the exact complement of σ(z)
        centred = p - 0.5
        assign = jnp.stack([soft.smooth_step(-centred, temperature), soft.smooth_step(centred, temperature)], -1)
    else:
        assign = jax.nn.softmax(p / (2 * jnp.asarray(temperature, dtype)), axis=-1)
    # one_hot of a label outside [0, C) is all zeros: such samples are dropped, as in confusion_matrix.
    true = jax.nn.one_hot(labels, c, dtype=dtype) * w[..., None]
    return jnp.einsum("...nt,...np->...tp", true, assign, precision=_HIGHEST)


def _soft_confusion_metric(fn, compute, temperature, num_classes) -> Metric:
    """A streaming metric whose state is the soft confusion matrix ``[C, C]`` (additive)."""
    soft._validate_temperature(fn, temperature)
    c = checks.check_static_int(fn, "num_classes", num_classes, 2)

    def init(dtype=None):
        return ConfusionState(jnp.zeros((c, c), default_state_dtype(dtype)))

    def update(state, probs, labels, *, where=None, weights=None):
        d = state.matrix.dtype
        return ConfusionState(state.matrix + _soft_counts(fn, probs, labels, c, temperature, d, where, weights))

    return Metric(init, update, tree_add, lambda s: compute(s.matrix))


def _check_average(fn, average, num_classes):
    checks.check_choice(fn, "average", average, AVERAGES)
    if average == "binary" and num_classes != 2:
        raise checks.ShapeError(
            f"jaxmetrics.{fn}: average='binary' needs 2 classes; got num_classes={num_classes}."
        )


@functools.partial(jax.jit, static_argnames=("constructor", "num_classes", "options"))
def _one_shot(probs, labels, temperature, where, weights, *, constructor, num_classes, options):
    """``one_shot`` of ``constructor(...)``, compiled once per shape (eager calls stay cheap).

    ``temperature`` is traced, so changing it never recompiles; ``options`` are the static keyword
    options as a sorted tuple of items.
    """
    m = constructor(temperature=temperature, num_classes=num_classes, **dict(options))
    return one_shot(m, probs, labels, where=where, weights=weights)


def soft_confusion_matrix_metric(*, temperature=_ANYLOSS_TEMPERATURE, num_classes: int = 2) -> Metric:
    """Streaming :func:`soft_confusion_matrix`; state ``[C, C]`` soft counts (additive, ``psum``-able)."""
    return _soft_confusion_metric("soft_confusion_matrix", lambda m: m, temperature, num_classes)


def soft_confusion_matrix(
    probs, labels, *, temperature=_ANYLOSS_TEMPERATURE, num_classes=None, where=None, weights=None
) -> Array:
    """Soft (AnyLoss) confusion matrix: differentiable confusion counts from probabilities.

    Binary ``probs [..., N]`` = P(y = 1), amplifier ``A_i = σ((p_i − ½)/τ)``:

    .. math::

        M = \\begin{pmatrix} TN & FP \\\\ FN & TP \\end{pmatrix}, \\quad
        TP = \\textstyle\\sum_i w_i y_i A_i,\\; FN = \\sum_i w_i y_i (1 − A_i),\\;
        FP = \\sum_i w_i (1 − y_i) A_i,\\; TN = \\sum_i w_i (1 − y_i)(1 − A_i).

    Multiclass ``probs [..., N, C]``: ``A_i = softmax(p_i / (2τ))`` and
    ``M[t, k] = Σ_i w_i·1[y_i = t]·A_ik`` (identical to the binary form for C = 2).

    Conventions: rows = true class, columns = predicted class, as
    :func:`~jaxmetrics.classification.confusion_matrix` (so ``M[1, 1]`` = TP); ``A(½) = ½`` exactly;
    each row sums to the (weighted) support of its class exactly as in the hard matrix; labels outside
    ``[0, C)`` are dropped. As ``τ → 0`` it converges to ``confusion_matrix(probs, labels)`` (threshold ½
    / argmax) on every sample with ``p ≠ ½`` (resp. no argmax tie), with error ``O(e^{−|p − ½|/τ})``.
    ``probs`` are probabilities: the amplifier is a step centred at ½ (for logits, pass
    ``jax.nn.sigmoid(logits)`` / ``jax.nn.softmax(logits)``).

    Complexity: one ``[C, N] x [N, C]`` matmul per problem (O(N·C²), deterministic; no scatter).

    Args:
      probs: binary P(y=1) ``[..., N]`` or class probabilities ``[..., N, C]`` (float).
      labels: integer (or bool) labels ``[..., N]``.
      temperature: τ = 1/L, in probability units; default 1/73 (AnyLoss L = 73). A Python float or a
        scalar array.
      num_classes: static C, checked against ``probs`` (2 for binary ``probs``); inferred if None.
      where: bool mask broadcastable to ``[..., N]``. weights: per-sample weights, likewise.

    Returns:
      ``[..., C, C]`` soft counts, float32 (float64 for float64 inputs). Leading axes are batch axes.

    Example:
      >>> soft_confusion_matrix(jnp.array([0.9, 0.5, 0.1]), jnp.array([1, 1, 0]))  # p = ½: half a TP
      Array([[1.0000000e+00, 2.0825758e-13],
             [5.0000000e-01, 1.5000000e+00]], dtype=float32)
    """
    soft._validate_temperature("soft_confusion_matrix", temperature)
    c = _num_classes("soft_confusion_matrix", probs, labels, num_classes)
    return _one_shot(probs, labels, temperature, where, weights, constructor=soft_confusion_matrix_metric,
                     num_classes=c, options=())


def _soft_ratio(name, from_confusion):
    """Builds the ``(one_shot, *_metric)`` pair of a soft ratio with static options."""

    def constructor(*, temperature=_ANYLOSS_TEMPERATURE, num_classes: int = 2, **options) -> Metric:
        if "average" in options:
            _check_average(name, options["average"], num_classes)
        return _soft_confusion_metric(name, lambda m: from_confusion(m, **options), temperature, num_classes)

    def fn(probs, labels, *, temperature=_ANYLOSS_TEMPERATURE, num_classes=None, where=None, weights=None,
           **options):
        soft._validate_temperature(name, temperature)
        c = _num_classes(name, probs, labels, num_classes)
        if "average" in options:
            _check_average(name, options["average"], c)
        return _one_shot(probs, labels, temperature, where, weights, constructor=constructor, num_classes=c,
                         options=tuple(sorted(options.items())))

    return fn, constructor


_precision, _precision_metric = _soft_ratio("soft_precision", precision_from_confusion)
_recall, _recall_metric = _soft_ratio("soft_recall", recall_from_confusion)
_f_beta, _f_beta_metric = _soft_ratio("soft_f_beta", f_beta_from_confusion)
_accuracy, _accuracy_metric = _soft_ratio("soft_accuracy", lambda m: accuracy_from_confusion(m))
_mcc, _mcc_metric = _soft_ratio("soft_matthews_corrcoef", lambda m: matthews_from_confusion(m))

_COMMON_ARGS = """
    Args:
      probs: binary P(y=1) ``[..., N]`` or class probabilities ``[..., N, C]`` (float).
      labels: integer (or bool) labels ``[..., N]``; labels outside ``[0, C)`` are dropped.
      temperature: τ = 1/L of the AnyLoss amplifier, in probability units; default 1/73.
      num_classes: static C, checked against ``probs``; inferred if None.
      where: bool mask broadcastable to ``[..., N]``. weights: per-sample weights, likewise."""

_AVERAGE_ARGS = """
      average: as the hard metric: ``"binary"`` (class 1), ``"micro"``, ``"macro"``, ``"weighted"``,
        ``"none"`` (per class ``[..., C]``); ``"auto"`` = ``"binary"`` for C = 2, else ``"macro"``.
      zero_division: value where a denominator is exactly 0 (only reachable with zero total weight in
        a class, since soft counts are positive)."""


def soft_precision(
    probs, labels, *, temperature=_ANYLOSS_TEMPERATURE, num_classes=None, average="auto", zero_division=0.0,
    where=None, weights=None,
) -> Array:
    """Soft precision TP / (TP + FP) on the soft confusion matrix (:func:`soft_confusion_matrix`).
    {args}{average}

    Returns: ``[...]`` (``[..., C]`` for ``average="none"``); → ``precision(probs, labels)`` as τ → 0.

    Example:
      >>> soft_precision(jnp.array([0.9, 0.8, 0.2]), jnp.array([1, 0, 0]))
      Array(0.5, dtype=float32)
    """
    return _precision(probs, labels, temperature=temperature, num_classes=num_classes, where=where,
                      weights=weights, average=average, zero_division=zero_division)


def soft_precision_metric(*, temperature=_ANYLOSS_TEMPERATURE, num_classes: int = 2, average="auto",
                          zero_division=0.0) -> Metric:
    """Streaming :func:`soft_precision` (soft confusion-matrix state, additive)."""
    return _precision_metric(temperature=temperature, num_classes=num_classes, average=average,
                             zero_division=zero_division)


def soft_recall(
    probs, labels, *, temperature=_ANYLOSS_TEMPERATURE, num_classes=None, average="auto", zero_division=0.0,
    where=None, weights=None,
) -> Array:
    """Soft recall TP / (TP + FN) on the soft confusion matrix (:func:`soft_confusion_matrix`).
    {args}{average}

    Returns: ``[...]`` (``[..., C]`` for ``average="none"``); → ``recall(probs, labels)`` as τ → 0.

    Example:
      >>> soft_recall(jnp.array([0.9, 0.8, 0.2]), jnp.array([1, 0, 1]))
      Array(0.5, dtype=float32)
    """
    return _recall(probs, labels, temperature=temperature, num_classes=num_classes, where=where,
                   weights=weights, average=average, zero_division=zero_division)


def soft_recall_metric(*, temperature=_ANYLOSS_TEMPERATURE, num_classes: int = 2, average="auto",
                       zero_division=0.0) -> Metric:
    """Streaming :func:`soft_recall` (soft confusion-matrix state, additive)."""
    return _recall_metric(temperature=temperature, num_classes=num_classes, average=average,
                          zero_division=zero_division)


def soft_f_beta(
    probs, labels, *, beta=1.0, temperature=_ANYLOSS_TEMPERATURE, num_classes=None, average="auto",
    zero_division=0.0, where=None, weights=None,
) -> Array:
    """Soft F-beta (1+β²)TP / ((1+β²)TP + β²FN + FP) on the soft confusion matrix — the AnyLoss F-beta;
    ``1 − soft_f_beta`` is a differentiable F-beta loss.
    {args}
      beta: static weight of recall relative to precision (β = 1: F1).{average}

    Returns: ``[...]`` (``[..., C]`` for ``average="none"``); → ``f_beta(probs, labels, beta=beta)`` as
    τ → 0.

    Example:
      >>> soft_f_beta(jnp.array([0.9, 0.8, 0.2]), jnp.array([1, 0, 1]))
      Array(0.5, dtype=float32)
    """
    return _f_beta(probs, labels, temperature=temperature, num_classes=num_classes, where=where,
                   weights=weights, beta=beta, average=average, zero_division=zero_division)


def soft_f_beta_metric(*, beta=1.0, temperature=_ANYLOSS_TEMPERATURE, num_classes: int = 2, average="auto",
                       zero_division=0.0) -> Metric:
    """Streaming :func:`soft_f_beta` (soft confusion-matrix state, additive)."""
    return _f_beta_metric(temperature=temperature, num_classes=num_classes, beta=beta, average=average,
                          zero_division=zero_division)


def soft_accuracy(
    probs, labels, *, temperature=_ANYLOSS_TEMPERATURE, num_classes=None, where=None, weights=None
) -> Array:
    """Soft accuracy trace(M) / sum(M) on the soft confusion matrix: Σ_i w_i A_i[y_i] / Σ_i w_i.
    {args}

    Returns: ``[...]``; NaN when all samples are masked (as ``accuracy``); → ``accuracy(probs, labels)``
    as τ → 0.

    Example:
      >>> soft_accuracy(jnp.array([0.9, 0.5, 0.1]), jnp.array([1, 1, 1]))
      Array(0.5, dtype=float32)
    """
    return _accuracy(probs, labels, temperature=temperature, num_classes=num_classes, where=where,
                     weights=weights)


def soft_accuracy_metric(*, temperature=_ANYLOSS_TEMPERATURE, num_classes: int = 2) -> Metric:
    """Streaming :func:`soft_accuracy` (soft confusion-matrix state, additive)."""
    return _accuracy_metric(temperature=temperature, num_classes=num_classes)


def soft_matthews_corrcoef(
    probs, labels, *, temperature=_ANYLOSS_TEMPERATURE, num_classes=None, where=None, weights=None
) -> Array:
    """Soft Matthews correlation: the multiclass MCC formula of ``matthews_corrcoef`` on the soft
    confusion matrix; binary: (TP·TN − FP·FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)).
    {args}

    Returns: ``[...]`` in [−1, 1]; 0 where the denominator is 0 (e.g. a single true class), as
    scikit-learn; → ``matthews_corrcoef(probs, labels)`` as τ → 0.

    Example:
      >>> soft_matthews_corrcoef(jnp.array([0.9, 0.8, 0.1, 0.2]), jnp.array([1, 0, 0, 0]))
      Array(0.57735026, dtype=float32)
    """
    return _mcc(probs, labels, temperature=temperature, num_classes=num_classes, where=where, weights=weights)


def soft_matthews_corrcoef_metric(*, temperature=_ANYLOSS_TEMPERATURE, num_classes: int = 2) -> Metric:
    """Streaming :func:`soft_matthews_corrcoef` (soft confusion-matrix state, additive)."""
    return _mcc_metric(temperature=temperature, num_classes=num_classes)


for _f in (soft_precision, soft_recall, soft_f_beta, soft_accuracy, soft_matthews_corrcoef):
    _f.__doc__ = _f.__doc__.replace("{args}", _COMMON_ARGS).replace("{average}", _AVERAGE_ARGS)


# --------------------------------------------------------------------------------------------------
# Soft AUROC: chunked pairwise sigmoid


def _pairwise_sum(scores, w_pos, w_neg, temperature, chunk_size):
    """Σ_i Σ_j w_pos_i w_neg_j σ((s_i − s_j)/τ) over the last axis, rows in chunks of ``chunk_size``."""
    n = scores.shape[-1]
    cs = min(chunk_size, n)

    def block(s_rows, wp_rows):  # [..., cs] rows against all N columns: [..., cs, N] live at once
        diff = s_rows[..., :, None] - scores[..., None, :]
        # inf − inf (tied infinite scores) is a tie: σ(0) = ½. Finite ties keep their gradient.
        inf_tie = jnp.isinf(s_rows)[..., :, None] & (s_rows[..., :, None] == scores[..., None, :])
        kernel = soft.smooth_step(jnp.where(inf_tie, jnp.zeros_like(diff), diff), temperature)
        per_row = jnp.einsum("...ij,...j->...i", kernel, w_neg, precision=_HIGHEST)
        return (wp_rows * per_row).sum(-1)

    if cs == n:
        return block(scores, w_pos)
    n_chunks = -(-n // cs)
    pad = [(0, 0)] * (scores.ndim - 1) + [(0, n_chunks * cs - n)]
    batch = scores.shape[:-1]

    def chunks(x):  # [..., N] -> [n_chunks, ..., cs]; padded rows carry zero weight
        return jnp.moveaxis(jnp.pad(x, pad).reshape(*batch, n_chunks, cs), -2, 0)

    # Rematerialise each chunk under reverse mode so the backward pass also holds O(cs·N), not O(N²).
    block_remat = jax.checkpoint(block, prevent_cse=False)

    def step(total, xs):
        return total + block_remat(*xs), None

    total, _ = lax.scan(step, jnp.zeros(batch, scores.dtype), (chunks(scores), chunks(w_pos)))
    return total


def soft_auroc(
    scores, labels, *, temperature=_AUROC_TEMPERATURE, chunk_size: int = 1024, where=None, weights=None
) -> Array:
    """Soft AUROC: the pairwise-sigmoid (Wilcoxon–Mann–Whitney) relaxation of the area under the ROC.

    .. math::

        \\mathrm{AUROC}_\\tau = \\frac{\\sum_{i: y_i = 1} \\sum_{j: y_j = 0} w_i w_j\\,
        \\sigma\\big((s_i − s_j)/\\tau\\big)}{W_+ W_-},
        \\qquad W_\\pm = \\textstyle\\sum_{i: y_i = 1 / 0} w_i .

    As ``τ → 0`` each pair term tends to ``1[s_i > s_j] + ½·1[s_i = s_j]`` (σ(0) = ½ exactly, for every
    τ), so the surrogate converges to the exact tie-corrected AUROC ``U / (W₊W₋)`` — scikit-learn's
    ``roc_auc_score`` — with error ``O(e^{−δ/τ})`` for a minimum non-zero score gap δ between classes.

    Conventions (as :func:`~jaxmetrics.classification.auroc`): ``labels == 1`` (``True``) is the
    positive class and any other label is negative (scikit-learn's ``pos_label=1``). With a single
    class (or everything masked) the result is NaN, as the exact AUROC (scikit-learn >= 1.6); gradients
    are still finite (zero). Tied infinite scores count as ties.

    Temperature is in **score units** (scores are arbitrary reals). The default 0.05 suits logits or
    margins of order 1 (pairs separated by more than ~0.3 count as fully ordered, and get almost no
    gradient); for probabilities crowded into a narrow band, or scores of large spread, scale it with
    the typical score gap. It may be a Python float or a scalar array (annealing inside ``jit``).

    Complexity: O(N²) time; memory O(chunk_size·N) (also under ``grad``: each chunk is
    rematerialised), computed as a ``lax.scan`` over ``ceil(N / chunk_size)`` row chunks padded with
    zero weight.

    Args:
      scores: real-valued scores ``[..., N]`` (higher = more likely positive), any float dtype.
      labels: integer (or bool) labels ``[..., N]``; 1 is positive, anything else negative.
      temperature: τ > 0 in score units; default 0.05.
      chunk_size: static number of rows of the pairwise matrix computed at once.
      where: bool mask broadcastable to ``[..., N]``. weights: per-sample weights, likewise.

    Returns:
      ``[...]`` in [0, 1], float32 (float64 for float64 inputs).

    Example:
      >>> soft_auroc(jnp.array([0.1, 0.4, 0.35, 0.8]), jnp.array([0, 0, 1, 1]), temperature=1e-3)
      Array(0.75, dtype=float32)
    """
    soft._validate_temperature("soft_auroc", temperature)
    chunk_size = checks.check_static_int("soft_auroc", "chunk_size", chunk_size, 1)
    return _soft_auroc(scores, labels, temperature, where, weights, chunk_size=chunk_size)


@functools.partial(jax.jit, static_argnames=("chunk_size",))
def _soft_auroc(scores, labels, temperature, where, weights, *, chunk_size):
    fn = "soft_auroc"
    scores = jnp.asarray(scores)
    labels = jnp.asarray(labels)
    checks.check_min_rank(fn, "scores", scores, 1, "[..., N]")
    checks.check_float(fn, "scores", scores)
    checks.check_min_rank(fn, "labels", labels, 1, "[..., N]")
    checks.check_integer(fn, "labels", labels)
    checks.check_same_shape(fn, "labels", labels, "scores", scores)
    dtype = numerics.accumulation_dtype(scores, weights)
    w = checks.sample_weights(fn, labels.shape, dtype, where, weights)
    zero = jnp.zeros_like(w)
    positive = labels == 1
    w_pos = jnp.where(positive, w, zero)
    w_neg = jnp.where(positive, zero, w)
    s = numerics.promote(scores, dtype)
    num = _pairwise_sum(s, w_pos, w_neg, temperature, chunk_size)
    return numerics.safe_div(num, w_pos.sum(-1) * w_neg.sum(-1), jnp.nan)


# --------------------------------------------------------------------------------------------------
# Registry

_ORACLE = "exact metric as temperature -> 0; AnyLoss closed forms"
for _name, _fn, _stream, _exact in [
    ("soft_confusion_matrix", soft_confusion_matrix, soft_confusion_matrix_metric, "confusion_matrix"),
    ("soft_precision", soft_precision, soft_precision_metric, "precision"),
    ("soft_recall", soft_recall, soft_recall_metric, "recall"),
    ("soft_f_beta", soft_f_beta, soft_f_beta_metric, "f_beta"),
    ("soft_accuracy", soft_accuracy, soft_accuracy_metric, "accuracy"),
    ("soft_matthews_corrcoef", soft_matthews_corrcoef, soft_matthews_corrcoef_metric, "matthews_corrcoef"),
    ("soft_auroc", soft_auroc, None, "auroc"),
]:
    register(
        MetricInfo(
            name=_name,
            family="classification",
            fn=_fn,
            differentiable=True,
            higher_is_better=None if _name == "soft_confusion_matrix" else True,
            streaming=_stream,
            oracle=(
                "exact auroc (sklearn.metrics.roc_auc_score) as temperature -> 0"
                if _name == "soft_auroc"
                else _ORACLE
            ),
        )
    )
    attach_soft(_exact, _fn)  # "auroc" is registered by roc.py, imported before this module
del _name, _fn, _stream, _exact
