r"""Binned calibration errors (ECE / RMSCE / MCE), reliability diagrams and the soft-binned ECE.

Every metric here compares a *confidence* c with an *outcome* o ∈ {0, 1} (see
:func:`~jaxmetrics.calibration._inputs.confidence_outcome` for the ``mode``: ``"top_label"``,
``"binary"``, ``"classwise"``; ``"auto"`` picks binary for ``probs [..., N]`` and top-label for
``[..., N, C]``). Samples are put into bins by their confidence; in bin b with (weighted) count n_b,
mean confidence conf_b and mean outcome ("accuracy") acc_b, and with N = Σ_b n_b:

.. math::

    \mathrm{ECE} = \sum_b \frac{n_b}{N} |acc_b - conf_b|, \quad
    \mathrm{RMSCE} = \Big(\sum_b \frac{n_b}{N} (acc_b - conf_b)^2\Big)^{1/2}, \quad
    \mathrm{MCE} = \max_{b:\, n_b > 0} |acc_b - conf_b|.

**State.** The sufficient statistics are per-bin sums (:class:`BinnedCalibrationState`: Σw, Σw·c,
Σw·o, Σw², #{w ≠ 0} of shape ``[K, S]``, K = 1, or C for classwise, S bins): O(num_bins × classes) memory,
independent of N. ``merge`` is a tree-add, so the cross-device reduction is a ``psum``, and every
one-shot uniform-binned function is ``one_shot(<its *_metric>(...), ...)`` (streaming == one-shot by
construction).

**Bin-edge conventions** (``edges=``; METRICS.md §2.1, §17.1). The equal-width edges are
``numpy.linspace(0, 1, num_bins + 1)`` (computed in float64, rounded to the compute dtype):

* ``"right_open"`` (torchmetrics, the default): bin ``b = searchsorted(edges, c, side="right") − 1``,
  i.e. ``torch.bucketize(c, edges, right=True) − 1``: bins ``[e_b, e_{b+1})`` and **c = 1.0 falls in an
  extra (num_bins+1-th) bin** (so S = num_bins + 1). Confidences < 0 (invalid; see
  :func:`jaxmetrics.validate`) count in the first bin, confidences > 1 in the extra bin.
  torchmetrics builds its edges with ``torch.linspace``, which can differ from numpy's by one ulp at
  some interior edges; only a confidence exactly on such an edge can be binned differently.
* ``"netcal"`` (netcal ``ECE``/``MCE``): confidences are clipped to ``[ε, 1 − ε]`` with netcal's
  ``ε = numpy.finfo(float64).eps`` (the clipped values also enter the bin means) and the last bin is
  closed, ``[e_{B−1}, 1]`` (S = num_bins).

**Binning schemes** (``binning=``): ``"uniform"`` (equal width) or ``"quantile"`` (equal mass, netcal's
``equal_intervals=False``: edges at quantiles ``j/num_bins`` of the — for ``"netcal"`` clipped —
confidences, then the ends forced to 0 and 1). The quantile is numpy's default ("linear", type 7) for
unit weights; with weights, the k-th smallest retained confidence sits at cumulative position
``W_{<k} / W_{<last}`` (weight strictly before it over weight strictly before the largest), which is
type 7 again for equal weights; zero-weight (masked) samples are ignored. Quantile positions are
exact (``j·W/B``, for unit weights): netcal evaluates ``numpy.quantile`` at ``numpy.linspace(0, 1, B + 1)``, whose
rounding (``0.6000000000000001``) can put an edge one ulp above a confidence that mathematically lies
on it — here that confidence starts the upper bin; otherwise the edges agree to rounding. Tied
confidences can give repeated edges: zero-width bins stay empty (netcal raises on such data).
Quantile edges depend on all samples at once, so quantile binning is **one-shot only** (one sort per
row, O(N log N)); ``ece_metric(binning="quantile")`` raises.

**Undefined cases.** Zero total weight (all masked) gives NaN for every norm. Empty bins contribute 0
(so MCE is the max over non-empty bins, as torchmetrics, which counts empty bins as 0). In
:class:`ReliabilityDiagram`, an empty bin's confidence and accuracy are NaN (its count is 0).

**Gradients.** Finite everywhere (double-``where`` divisions, guarded square roots). The exact ECE's
gradient flows only through the within-bin mean confidences — bin assignment is piecewise constant —
so for a training objective use :func:`soft_ece`, whose soft bin membership also moves samples
between bins smoothly.

Oracles: ``tests/reference/calibration_binning.py`` — independent numpy ports of the torchmetrics
(right-open, extra bin) and netcal (clipped, closed last bin, equal-width and equal-mass) binnings,
with Kumar et al.'s debiased L2 estimator.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxmetrics import soft
from jaxmetrics._src import checks, numerics
from jaxmetrics._src.metric import Metric, default_state_dtype, one_shot, tree_add
from jaxmetrics._src.registry import MetricInfo, attach_soft, register
from jaxmetrics.calibration._inputs import MODES, confidence_outcome

Array = jax.Array

__all__ = [
    "BinnedCalibrationState",
    "ReliabilityDiagram",
    "ece",
    "ece_metric",
    "expected_calibration_error",
    "reliability_diagram",
    "reliability_diagram_metric",
    "soft_ece",
    "soft_ece_metric",
]

NORMS = ("l1", "l2", "max")
BINNINGS = ("uniform", "quantile")
EDGE_CONVENTIONS = ("right_open", "netcal")
NETCAL_EPS = float(np.finfo(np.float64).eps)  # netcal's clipping epsilon (np.finfo(float).eps)
SOFT_TEMPERATURE = 0.01  # default soft_ece temperature, in probability units
_HIGHEST = lax.Precision.HIGHEST


class BinnedCalibrationState(NamedTuple):
    """Per-bin weighted sums, each ``[K, S]`` (K = 1, or C for classwise; S bins).

    Attributes:
      count: Σ w — the (weighted) number of samples per bin.
      confidence: Σ w·c — the confidence sum per bin.
      outcome: Σ w·o — the outcome (correct / positive) sum per bin.
      weight_sq: Σ w² — for the effective bin size (Σw)²/Σw² of the debiased estimator; equals
        ``count`` for unit weights and masks.
      support: the number of samples with nonzero weight (the debiased estimator drops bins with
        fewer than two; counted exactly rather than inferred from ``count² − weight_sq``, which
        rounding — e.g. a fused multiply-add — can make nonzero for a single sample).
    """

    count: Array
    confidence: Array
    outcome: Array
    weight_sq: Array
    support: Array


class ReliabilityDiagram(NamedTuple):
    """Reliability-diagram statistics, fixed size: ``[..., S]`` per bin (``[..., C, S]`` classwise).

    Attributes:
      count: weighted number of samples per bin.
      confidence: mean confidence per bin; NaN for an empty bin.
      accuracy: mean outcome (accuracy, or positive rate for binary input) per bin; NaN if empty.
      edges: ``[..., S + 1]`` bin edges; bin b is ``[edges[b], edges[b+1])``. With
        ``edges="right_open"`` the last bin is the extra bin ``[1, 1]`` holding confidences exactly 1.0.
    """

    count: Array
    confidence: Array
    accuracy: Array
    edges: Array


class _Config(NamedTuple):
    """Static configuration (hashable: a ``static_argnames`` value of the jitted cores)."""

    num_bins: int
    norm: str
    binning: str
    mode: str
    edges: str
    from_logits: bool
    debiased: bool
    num_classes: int | None


# --------------------------------------------------------------------------------------------------
# Configuration


def _config(fn, *, num_bins, norm="l1", binning="uniform", mode="auto", edges="right_open", from_logits=False,
            debiased=False, num_classes=None, norms=NORMS) -> _Config:
    num_bins = checks.check_static_int(fn, "num_bins", num_bins, 1)
    checks.check_choice(fn, "norm", norm, norms)
    checks.check_choice(fn, "binning", binning, BINNINGS)
    checks.check_choice(fn, "mode", mode, MODES)
    checks.check_choice(fn, "edges", edges, EDGE_CONVENTIONS)
    checks.check_choice(fn, "from_logits", from_logits, (False, True))
    checks.check_choice(fn, "debiased", debiased, (False, True))
    if debiased and norm != "l2":
        raise checks.ShapeError(
            f"jaxmetrics.{fn}: argument `debiased` needs norm='l2' (Kumar et al.'s estimator debiases the "
            f"squared error); got norm={norm!r}."
        )
    if num_classes is not None:
        num_classes = checks.check_static_int(fn, "num_classes", num_classes, 2)
    return _Config(num_bins, norm, binning, mode, edges, bool(from_logits), bool(debiased), num_classes)


def _num_slots(cfg: _Config) -> int:
    return cfg.num_bins + 1 if cfg.edges == "right_open" else cfg.num_bins


def _num_rows(fn, cfg: _Config) -> int:
    if cfg.mode != "classwise":
        return 1
    if cfg.num_classes is None:
        raise checks.ShapeError(
            f"jaxmetrics.{fn}: argument `num_classes` is required for mode='classwise' (the state holds one "
            f"histogram per class, so the number of classes must be static)."
        )
    return cfg.num_classes


def _infer_num_classes(fn, cfg: _Config, probs, labels) -> _Config:
    """The one-shot functions take C from ``probs [..., N, C]`` when ``num_classes`` is not given."""
    if cfg.num_classes is not None or cfg.mode != "classwise":
        return cfg
    if jnp.ndim(probs) != jnp.ndim(labels) + 1:
        raise checks.ShapeError(
            f"jaxmetrics.{fn}: mode='classwise' needs class probabilities `probs` [..., N, C] matching "
            f"`labels` {tuple(jnp.shape(labels))}; got {tuple(jnp.shape(probs))}."
        )
    return cfg._replace(num_classes=max(int(jnp.shape(probs)[-1]), 2))


def _check_num_classes(fn, cfg: _Config, probs, labels) -> None:
    if cfg.num_classes is None:
        return
    if jnp.ndim(probs) == jnp.ndim(labels) + 1 and jnp.shape(probs)[-1] != cfg.num_classes:
        raise checks.ShapeError(
            f"jaxmetrics.{fn}: argument `probs` must have shape [..., N, C] with C = num_classes = "
            f"{cfg.num_classes}; got {tuple(jnp.shape(probs))}."
        )
    if jnp.ndim(probs) == jnp.ndim(labels) and cfg.num_classes != 2:
        raise checks.ShapeError(
            f"jaxmetrics.{fn}: argument `probs` holds binary probabilities {tuple(jnp.shape(probs))}, which "
            f"does not match num_classes={cfg.num_classes}."
        )


# --------------------------------------------------------------------------------------------------
# Binning and per-bin sums


def _uniform_edges(num_bins: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, num_bins + 1)


def _prepare_confidence(c, cfg: _Config):
    if cfg.edges == "netcal":
        return jnp.clip(c, NETCAL_EPS, 1.0 - NETCAL_EPS)  # in c's dtype: 1 − ε is 1.0 in float32
    return c


def _assign(c, edges, cfg: _Config):
    """Bin index ``searchsorted(edges, c, side="right") − 1``, clipped to the convention's bins.

    ``edges`` is ``[B + 1]`` (broadcast against ``c``); one compare per edge (``compare_all``).
    """
    idx = jnp.searchsorted(edges, c, side="right", method="compare_all") - 1
    top = cfg.num_bins if cfg.edges == "right_open" else cfg.num_bins - 1
    return jnp.clip(idx, 0, top).astype(jnp.int32)


def _assign_uniform(c, edges, cfg: _Config):
    """:func:`_assign` for the equal-width ``edges = linspace(0, 1, B + 1)`` in O(1) per sample.

    ``floor(c·B)`` is the bin up to rounding; one comparison with each of its two edges corrects it,
    so the result equals the ``searchsorted`` rule exactly (also for confidences on an edge).
    """
    b = cfg.num_bins
    ext = jnp.concatenate([edges, jnp.full((1,), jnp.inf, edges.dtype)])  # e_0..e_B, +inf
    guess = jnp.clip(jnp.floor(jnp.clip(c, -1.0, 2.0) * b), 0, b).astype(jnp.int32)
    idx = guess - (c < ext[guess]).astype(jnp.int32) + (c >= ext[guess + 1]).astype(jnp.int32)
    top = b if cfg.edges == "right_open" else b - 1
    return jnp.clip(idx, 0, top)


def _weighted(wk, x):
    """``wk * x`` with exact zeros for zero-weight samples (no NaN/inf leaking from masked inputs)."""
    nz = wk != 0
    return jnp.where(nz, wk * jnp.where(nz, x, jnp.zeros_like(x)), jnp.zeros_like(wk))


def _bin_sums(c, o, w, idx, num_slots: int, unit: bool = False) -> BinnedCalibrationState:
    """Per-bin sums ``[..., K, S]`` from ``c, o, idx [..., N, K]`` and ``w [..., N]``.

    One ``segment_sum`` per column: on XLA:CPU a scatter-add of a single column is several times
    faster per value than one of five stacked columns. ``unit`` (static): every weight is 0 or 1 (no
    ``weights`` argument, at most a mask), so Σw² and the support equal Σw and only three columns are
    summed.
    """
    lead, k = c.shape[:-2], c.shape[-1]
    wk = jnp.broadcast_to(w[..., None], c.shape)
    rows = int(np.prod(lead, dtype=np.int64))
    base = (jnp.arange(rows, dtype=jnp.int32).reshape(lead + (1, 1)) * k + jnp.arange(k, dtype=jnp.int32)) * num_slots
    seg = (base + idx).reshape(-1)

    def total(x):
        sums = jax.ops.segment_sum(x.reshape(-1), seg, num_segments=rows * k * num_slots)
        return sums.reshape(lead + (k, num_slots))

    count, conf, outcome = total(wk), total(_weighted(wk, c)), total(_weighted(wk, o))
    if unit:
        return BinnedCalibrationState(count, conf, outcome, count, count)
    return BinnedCalibrationState(count, conf, outcome, total(wk * wk), total((wk != 0).astype(wk.dtype)))


def _inputs(fn, cfg: _Config, probs, labels, where, weights, dtype):
    """``(c, o, w)``: confidences / outcomes ``[..., N, K]`` and sample weights ``[..., N]``."""
    _check_num_classes(fn, cfg, probs, labels)
    c, o, _ = confidence_outcome(fn, probs, labels, mode=cfg.mode, from_logits=cfg.from_logits, dtype=dtype)
    w = checks.sample_weights(fn, jnp.shape(labels), dtype, where, weights)
    return _prepare_confidence(c, cfg), o, w


def _quantile_edges_1d(c, w, num_bins: int):
    """Equal-mass edges ``[num_bins + 1]`` of one row (``c, w [N]``); ends forced to 0 and 1.

    Quantile ``j/B`` sits at cumulative mass ``j·W_{<last}/B`` along the sorted retained samples (mass
    strictly before each one) and interpolates linearly between neighbours in numpy's ``_lerp`` form —
    numpy's default (type 7) quantile for unit weights. Positions are compared as ``j·W`` against
    ``B·W_{<k}`` (exact for unit weights; no division by a broadcast scalar, which XLA rewrites into an
    inexact reciprocal multiply), so an edge whose position is a whole sample index *equals* it.
    """
    valid = w > 0
    key = jnp.where(valid, c, jnp.inf)  # zero-weight samples sort to the end
    _, x, ws = lax.sort((key, c, w), num_keys=1)
    last = jnp.maximum(jnp.sum(valid) - 1, 0)
    before = jnp.concatenate([jnp.zeros((1,), ws.dtype), jnp.cumsum(ws)[:-1]])  # exclusive cumsum
    scaled = jnp.arange(num_bins + 1, dtype=c.dtype) * before[last]  # B × target mass
    k = jnp.clip(jnp.searchsorted(num_bins * before, scaled, side="right", method="compare_all") - 1, 0, last)
    a, b = x[k], x[jnp.minimum(k + 1, last)]
    gamma = numerics.safe_div(scaled - num_bins * before[k], num_bins * ws[k])
    diff = b - a
    e = jnp.where(gamma >= 0.5, b - diff * (1.0 - gamma), a + diff * gamma)
    return e.at[0].set(0.0).at[-1].set(1.0)


def _quantile_state(c, o, w, cfg: _Config, unit: bool = False):
    """One-shot equal-mass binning: per-row edges ``[..., K, B + 1]`` and the per-bin sums."""
    ct = jnp.swapaxes(c, -1, -2)  # [..., K, N]
    wt = jnp.broadcast_to(w[..., None, :], ct.shape)
    edges = jnp.vectorize(functools.partial(_quantile_edges_1d, num_bins=cfg.num_bins), signature="(n),(n)->(b)")(
        ct, wt
    )
    idx = jnp.vectorize(lambda e, x: _assign(x, e, cfg), signature="(b),(n)->(n)")(edges, ct)
    return _bin_sums(c, o, w, jnp.swapaxes(idx, -1, -2), _num_slots(cfg), unit), lax.stop_gradient(edges)


def _diagram_edges(edges, cfg: _Config):
    """Bin edges ``[..., S + 1]``: the extra right-open bin is ``[1, 1]``."""
    if cfg.edges == "right_open":
        return jnp.concatenate([edges, jnp.ones(edges.shape[:-1] + (1,), edges.dtype)], -1)
    return edges


# --------------------------------------------------------------------------------------------------
# From per-bin sums to the calibration error


def _row_errors(state: BinnedCalibrationState, norm: str, debiased: bool):
    """Per-row ``[..., K]`` values: ECE (l1), squared CE clipped at 0 (l2) or MCE (max); NaN if empty."""
    n, sc, so = state.count, state.confidence, state.outcome
    total = jnp.sum(n, -1)
    nan = jnp.nan
    if norm == "l1":
        return numerics.safe_div(jnp.sum(jnp.abs(so - sc), -1), total, nan)
    gap = numerics.safe_div(so - sc, n)  # acc_b − conf_b; 0 for an empty bin
    if norm == "max":
        return jnp.where(total > 0, jnp.max(jnp.abs(gap), -1), nan)
    if not debiased:
        return numerics.safe_div(jnp.sum(n * gap * gap, -1), total, nan)
    # Kumar et al. (2019): per bin with >= 2 samples, (acc − conf)² − acc(1 − acc)/(n_eff − 1), where
    # n_eff = (Σw)²/Σw² (the bin size for unit weights); bins with a single sample contribute 0.
    acc = numerics.safe_div(so, n)
    excess = n * n - state.weight_sq  # (n_eff − 1)·Σw² = 2·Σ_{i<j} w_i w_j
    several = (state.support >= 2) & (excess > 0)
    var = numerics.safe_div(acc * (1.0 - acc) * state.weight_sq, jnp.where(several, excess, jnp.zeros_like(excess)))
    term = jnp.where(several, gap * gap - var, jnp.zeros_like(gap))
    return jnp.maximum(numerics.safe_div(jnp.sum(n * term, -1), total, nan), 0.0)  # NaN stays NaN


def _calibration_error(state: BinnedCalibrationState, norm: str, debiased: bool, classwise: bool):
    """The (classwise-averaged) calibration error ``[...]`` from a state ``[..., K, S]``."""
    rows = _row_errors(state, norm, debiased)
    value = jnp.mean(rows, -1) if classwise else rows[..., 0]
    return jnp.where(jnp.isnan(value), value, numerics.safe_sqrt(value)) if norm == "l2" else value


def _diagram(state: BinnedCalibrationState, edges, classwise: bool) -> ReliabilityDiagram:
    nan = jnp.nan
    out = ReliabilityDiagram(
        count=state.count,
        confidence=numerics.safe_div(state.confidence, state.count, nan),
        accuracy=numerics.safe_div(state.outcome, state.count, nan),
        edges=jnp.broadcast_to(edges, state.count.shape[:-1] + (state.count.shape[-1] + 1,)),
    )
    return out if classwise else ReliabilityDiagram(*(x[..., 0, :] for x in out))


# --------------------------------------------------------------------------------------------------
# Streaming constructors


def _state_metric(fn: str, cfg: _Config, slots: int, bin_sums, compute) -> Metric:
    """The shared shell of the binned streaming metrics: a :class:`BinnedCalibrationState` of per-bin
    sums ``[K, slots]``, additive. ``bin_sums(c, o, w, unit) -> BinnedCalibrationState`` bins one batch
    of (confidence, outcome, weight) ``[..., N, K]`` — hard bins for the exact metrics, soft membership
    for :func:`soft_ece`; ``unit`` (static) says that every weight is 0 or 1."""
    k = _num_rows(fn, cfg)

    def init(dtype=None) -> BinnedCalibrationState:
        z = jnp.zeros((k, slots), default_state_dtype(dtype))
        return BinnedCalibrationState(z, z, z, z, z)

    def update(state, probs, labels, *, where=None, weights=None) -> BinnedCalibrationState:
        c, o, w = _inputs(fn, cfg, probs, labels, where, weights, state.count.dtype)
        unit = weights is None  # 0/1 weights (a mask at most)
        if c.shape[-1] != k:
            raise checks.ShapeError(
                f"jaxmetrics.{fn}: argument `probs` must have shape [..., N, {k}] (num_classes={k}) for "
                f"mode='classwise'; got {tuple(jnp.shape(probs))}."
            )
        return jax.tree.map(jnp.add, state, bin_sums(c, o, w, unit))

    return Metric(init, update, tree_add, compute)


def _binned_metric(fn: str, cfg: _Config, compute) -> Metric:
    if cfg.binning != "uniform":
        raise checks.ShapeError(
            f"jaxmetrics.{fn}: argument `binning` must be 'uniform' for a streaming metric; got "
            f"{cfg.binning!r}. Equal-mass (quantile) edges depend on all samples at once, so quantile "
            f"binning is one-shot only: call the one-shot function (e.g. expected_calibration_error(..., "
            f"binning='quantile'))."
        )
    s = _num_slots(cfg)
    edges = _uniform_edges(cfg.num_bins)

    def bin_sums(c, o, w, unit=False):
        return _bin_sums(c, o, w, _assign_uniform(c, jnp.asarray(edges, c.dtype), cfg), s, unit)

    def wrapped_compute(state):
        return compute(state, jnp.asarray(edges, state.count.dtype))

    return _state_metric(fn, cfg, s, bin_sums, wrapped_compute)


def ece_metric(*, num_bins: int = 15, norm: str = "l1", binning: str = "uniform", mode: str = "auto",
               edges: str = "right_open", from_logits: bool = False, debiased: bool = False,
               num_classes: int | None = None) -> Metric:
    r"""Streaming binned calibration error (ECE / RMSCE / MCE) with constant memory.

    The state is a :class:`BinnedCalibrationState` of per-bin sums ``[K, S]`` — K = 1 (top-label /
    binary) or ``num_classes`` (classwise), S = ``num_bins`` (+1 for ``edges="right_open"``) —
    independent of N; ``merge`` is :func:`~jaxmetrics.tree_add` (cross-device: ``psum``). ``compute``
    returns exactly :func:`expected_calibration_error` of all the data seen, which is defined as
    ``one_shot(ece_metric(...), ...)``. ``update(state, probs, labels, *, where=None, weights=None)``;
    leading batch axes of the inputs become leading axes of the state.

    Args:
      num_bins, norm, mode, edges, from_logits, debiased: as :func:`expected_calibration_error`.
      binning: must be ``"uniform"``; ``"quantile"`` raises (equal-mass edges are one-shot only).
      num_classes: static C; required for ``mode="classwise"`` (checked against ``probs`` in ``update``).

    Example:
      >>> m = ece_metric(num_bins=10)
      >>> s = m.update(m.init(), jnp.array([0.95, 0.85, 0.25]), jnp.array([1, 0, 0]))
      >>> s = m.update(s, jnp.array([0.65]), jnp.array([1]))
      >>> m.compute(s)
      Array(0.375, dtype=float32)
    """
    fn = "ece_metric"
    cfg = _config(fn, num_bins=num_bins, norm=norm, binning=binning, mode=mode, edges=edges,
                  from_logits=from_logits, debiased=debiased, num_classes=num_classes)
    classwise = cfg.mode == "classwise"
    return _binned_metric(fn, cfg, lambda s, e: _calibration_error(s, cfg.norm, cfg.debiased, classwise))


def reliability_diagram_metric(*, num_bins: int = 15, binning: str = "uniform", mode: str = "auto",
                               edges: str = "right_open", from_logits: bool = False,
                               num_classes: int | None = None) -> Metric:
    """Streaming :func:`reliability_diagram`: the same per-bin sums as :func:`ece_metric`.

    ``compute`` returns a :class:`ReliabilityDiagram` (``[S]`` fields, ``[C, S]`` classwise). Uniform
    binning only; ``num_classes`` is required for ``mode="classwise"``.

    Example:
      >>> m = reliability_diagram_metric(num_bins=2)
      >>> d = m.compute(m.update(m.init(), jnp.array([0.2, 0.7, 0.8]), jnp.array([0, 1, 0])))
      >>> d.count, d.accuracy
      (Array([1., 2., 0.], dtype=float32), Array([0. , 0.5, nan], dtype=float32))
    """
    fn = "reliability_diagram_metric"
    cfg = _config(fn, num_bins=num_bins, norm="l1", binning=binning, mode=mode, edges=edges,
                  from_logits=from_logits, num_classes=num_classes)
    classwise = cfg.mode == "classwise"
    return _binned_metric(fn, cfg, lambda s, e: _diagram(s, _diagram_edges(e, cfg), classwise))


# --------------------------------------------------------------------------------------------------
# One-shot functions


@functools.partial(jax.jit, static_argnames=("cfg", "kind"))
def _one_shot_core(probs, labels, where, weights, *, cfg: _Config, kind: str):
    fn = "expected_calibration_error" if kind == "ece" else "reliability_diagram"
    classwise = cfg.mode == "classwise"
    if cfg.binning == "uniform":
        ctor = ece_metric if kind == "ece" else reliability_diagram_metric
        opts = dict(num_bins=cfg.num_bins, mode=cfg.mode, edges=cfg.edges, from_logits=cfg.from_logits,
                    num_classes=cfg.num_classes)
        if kind == "ece":
            opts.update(norm=cfg.norm, debiased=cfg.debiased)
        return one_shot(ctor(**opts), probs, labels, where=where, weights=weights)
    dtype = numerics.accumulation_dtype(probs, weights)
    c, o, w = _inputs(fn, cfg, probs, labels, where, weights, dtype)
    state, edges = _quantile_state(c, o, w, cfg, unit=weights is None)
    if kind == "ece":
        return _calibration_error(state, cfg.norm, cfg.debiased, classwise)
    return _diagram(state, _diagram_edges(edges, cfg), classwise)


def expected_calibration_error(probs, labels, *, num_bins: int = 15, norm: str = "l1", binning: str = "uniform",
                               mode: str = "auto", edges: str = "right_open", from_logits: bool = False,
                               debiased: bool = False, num_classes: int | None = None, where=None,
                               weights=None) -> Array:
    r"""Binned expected calibration error (ECE), its L2 (RMSCE) and max (MCE) variants.

    With per-bin weighted counts n_b, mean confidences conf_b and accuracies acc_b (mean outcomes),
    N = Σ_b n_b:

    .. math::

        \text{l1: } \sum_b \tfrac{n_b}{N}|acc_b - conf_b|, \qquad
        \text{l2: } \Big(\sum_b \tfrac{n_b}{N}(acc_b - conf_b)^2\Big)^{1/2}, \qquad
        \text{max: } \max_{b: n_b > 0} |acc_b - conf_b|.

    **Modes** (see the module docstring): top-label for ``probs [..., N, C]``, binary (c = P(y=1),
    o = y, as torchmetrics and netcal) for ``probs [..., N]``, or ``mode="classwise"``: one ECE per
    class k on (p_k, 1[y = k]), aggregated over classes as the arithmetic **mean** for l1 (Kull et al.'s
    classwise-ECE) and max (mean of the per-class MCEs), and as the **root mean square**
    ``sqrt(mean_k CE_k²)`` for l2 — Kumar et al.'s marginal calibration error, so that the squared
    (debiased) estimate averages per class.

    **Debiased L2** (``debiased=True``, only with ``norm="l2"``; Kumar, Liang & Ma 2019, "Verified
    Uncertainty Calibration", the ``uncertainty-calibration`` package's ``unbiased_l2_ce``): per bin
    with at least two samples the plug-in term is corrected for the sampling noise of acc_b,

    .. math::

        \widehat{CE}^2 = \sum_{b:\, n_b \ge 2} \tfrac{n_b}{N}\Big[(acc_b - conf_b)^2
            - \frac{acc_b(1 - acc_b)}{n_b - 1}\Big],

    bins with a single sample contribute 0, and the result is ``sqrt(max(CE², 0))`` (clipped at 0
    before the square root — the estimate of a well-calibrated model can be negative; classwise: each
    class is clipped, then averaged, as Kumar et al.). With weights, ``n_b − 1`` becomes ``n_eff − 1``
    with the effective bin size ``n_eff = (Σw)²/Σw²`` (= n_b for unit weights or masks). torchmetrics'
    ``debias=True`` differs only in keeping the plug-in term of single-sample bins.

    **Conventions**: ``edges`` ("right_open" = torchmetrics: bins ``[e_b, e_{b+1})`` plus an extra bin
    for c = 1.0; "netcal" = netcal: clip to ``[ε, 1 − ε]``, last bin closed) and ``binning``
    ("uniform"; "quantile" = equal mass, one-shot only) are described in the module docstring. Defaults
    follow torchmetrics (15 equal-width right-open bins); netcal's are ``num_bins=10, edges="netcal"``.
    Zero total weight (all masked) gives NaN.

    Oracles: torchmetrics ``BinaryCalibrationError`` / ``MulticlassCalibrationError`` (l1, l2, max;
    ``edges="right_open"``) and netcal ``ECE`` / ``MCE`` (``edges="netcal"``, ``equal_intervals``), via
    the independent numpy references in ``tests/reference/calibration_binning.py``.

    Args:
      probs: ``[..., N, C]`` class probabilities or ``[..., N]`` binary P(y=1) (logits with
        ``from_logits=True``: softmax / sigmoid first).
      labels: ``[..., N]`` integer labels (0/1 for binary input).
      num_bins: static number of bins B (the state has B + 1 slots for ``edges="right_open"``).
      norm: ``"l1"`` (ECE), ``"l2"`` (RMSCE) or ``"max"`` (MCE).
      binning: ``"uniform"`` (equal width) or ``"quantile"`` (equal mass; one-shot only).
      mode: ``"auto"``, ``"top_label"``, ``"binary"`` or ``"classwise"``.
      edges: ``"right_open"`` (torchmetrics) or ``"netcal"``.
      from_logits: static; apply softmax / sigmoid to ``probs`` first.
      debiased: Kumar et al.'s debiased estimator (``norm="l2"`` only).
      num_classes: static C; optional (taken from ``probs``), checked against ``probs`` if given.
      where: bool mask broadcastable to ``[..., N]``.
      weights: non-negative weights broadcastable to ``[..., N]``.

    Returns:
      ``[...]`` in the accumulation dtype (float32 at least; float64 for float64 inputs).

    Complexity: O(N·K) (one ``segment_sum``) for uniform bins; O(N log N) per row for quantile bins.

    Example:
      >>> probs = jnp.array([[0.9, 0.1], [0.65, 0.35], [0.3, 0.7], [0.25, 0.75]])
      >>> expected_calibration_error(probs, jnp.array([0, 1, 1, 1]), num_bins=5).round(4)
      Array(0.05, dtype=float32)
      >>> ece(jnp.array([0.95, 0.85, 0.25, 0.65]), jnp.array([1, 0, 0, 1]), num_bins=10, norm="max")
      Array(0.85, dtype=float32)
    """
    fn = "expected_calibration_error"
    cfg = _config(fn, num_bins=num_bins, norm=norm, binning=binning, mode=mode, edges=edges,
                  from_logits=from_logits, debiased=debiased, num_classes=num_classes)
    cfg = _infer_num_classes(fn, cfg, probs, labels)
    return _one_shot_core(probs, labels, where, weights, cfg=cfg, kind="ece")


ece = expected_calibration_error


def reliability_diagram(probs, labels, *, num_bins: int = 15, binning: str = "uniform", mode: str = "auto",
                        edges: str = "right_open", from_logits: bool = False, num_classes: int | None = None,
                        where=None, weights=None) -> ReliabilityDiagram:
    r"""Reliability-diagram statistics: per-bin weighted count, mean confidence and accuracy, and edges.

    The same bins as :func:`expected_calibration_error` (which is
    ``Σ_b count_b·|accuracy_b − confidence_b| / Σ_b count_b`` of this diagram):

    .. math::

        \text{count}_b = \sum_{i \in b} w_i, \quad
        \text{confidence}_b = \frac{\sum_{i \in b} w_i c_i}{\text{count}_b}, \quad
        \text{accuracy}_b = \frac{\sum_{i \in b} w_i o_i}{\text{count}_b}.

    Fixed size: S = ``num_bins`` bins, plus the extra bin ``[1, 1]`` (confidences exactly 1.0) for
    ``edges="right_open"``. **Empty bins** have count 0 and NaN confidence / accuracy (plots skip
    them). Classwise mode gives one diagram per class (``[..., C, S]``). Plot it with
    :func:`jaxmetrics.plotting.reliability_diagram`.

    Args:
      probs, labels, num_bins, binning, mode, edges, from_logits, num_classes, where, weights: as
        :func:`expected_calibration_error`.

    Returns:
      :class:`ReliabilityDiagram` with ``count``, ``confidence``, ``accuracy`` ``[..., S]`` (``[..., C,
      S]`` classwise) and ``edges`` ``[..., S + 1]`` (``[..., C, S + 1]``).

    Example:
      >>> d = reliability_diagram(jnp.array([0.2, 0.7, 0.8, 1.0]), jnp.array([0, 1, 0, 1]), num_bins=2)
      >>> d.count, d.accuracy
      (Array([1., 2., 1.], dtype=float32), Array([0. , 0.5, 1. ], dtype=float32))
      >>> d.edges
      Array([0. , 0.5, 1. , 1. ], dtype=float32)
    """
    fn = "reliability_diagram"
    cfg = _config(fn, num_bins=num_bins, binning=binning, mode=mode, edges=edges, from_logits=from_logits,
                  num_classes=num_classes)
    cfg = _infer_num_classes(fn, cfg, probs, labels)
    return _one_shot_core(probs, labels, where, weights, cfg=cfg, kind="diagram")


# --------------------------------------------------------------------------------------------------
# Soft-binned ECE


def soft_ece_metric(*, num_bins: int = 15, temperature=SOFT_TEMPERATURE, norm: str = "l1", mode: str = "auto",
                    from_logits: bool = False, num_classes: int | None = None) -> Metric:
    """Streaming :func:`soft_ece`: per-bin sums with soft membership (same state type as
    :func:`ece_metric`, ``[K, num_bins]``, additive). Memory per update O(N·K·num_bins)."""
    fn = "soft_ece_metric"
    soft._validate_temperature(fn, temperature)
    cfg = _config(fn, num_bins=num_bins, norm=norm, mode=mode, from_logits=from_logits,
                  num_classes=num_classes, norms=("l1", "l2"))
    b = cfg.num_bins
    classwise = cfg.mode == "classwise"

    def bin_sums(c, o, w, unit=False):
        del unit  # soft membership: Σ w²·m² differs from Σ w·m even for unit weights
        dtype = c.dtype
        m = soft.soft_binning(c, b, jnp.asarray(temperature, dtype))  # [..., N, K, B]
        wk = jnp.broadcast_to(w[..., None], c.shape)
        vals = jnp.stack([wk, _weighted(wk, c), _weighted(wk, o), (wk != 0).astype(dtype)], -1)  # [..., N, K, 4]
        sums = jnp.einsum("...nkd,...nkb->...kbd", vals, m, precision=_HIGHEST)
        sq = jnp.einsum("...nk,...nkb->...kb", wk * wk, m * m, precision=_HIGHEST)
        return BinnedCalibrationState(sums[..., 0], sums[..., 1], sums[..., 2], sq, sums[..., 3])

    def compute(state):
        return _calibration_error(state, cfg.norm, False, classwise)

    return _state_metric(fn, cfg, b, bin_sums, compute)


@functools.partial(jax.jit, static_argnames=("cfg",))
def _soft_one_shot(probs, labels, temperature, where, weights, *, cfg: _Config):
    m = soft_ece_metric(num_bins=cfg.num_bins, temperature=temperature, norm=cfg.norm, mode=cfg.mode,
                        from_logits=cfg.from_logits, num_classes=cfg.num_classes)
    return one_shot(m, probs, labels, where=where, weights=weights)


def soft_ece(probs, labels, *, num_bins: int = 15, temperature=SOFT_TEMPERATURE, norm: str = "l1",
             mode: str = "auto", from_logits: bool = False, num_classes: int | None = None, where=None,
             weights=None) -> Array:
    r"""Differentiable ECE: the binned calibration error with soft bin membership.

    Each confidence c belongs to every equal-width bin b with weight
    ``m_b(c) = σ((c − e_b)/τ) − σ((c − e_{b+1})/τ)`` (:func:`jaxmetrics.soft.soft_binning`; the outer
    bins are open-ended, so Σ_b m_b = 1), and the per-bin sums of :func:`expected_calibration_error`
    become n_b = Σ w m_b, Σ w m_b c, Σ w m_b o:

    .. math::

        \text{l1: } \frac{1}{N}\sum_b \Big|\sum_i w_i m_b(c_i)(o_i - c_i)\Big|, \qquad
        \text{l2: } \Big(\frac{1}{N}\sum_b \frac{(\sum_i w_i m_b(c_i)(o_i - c_i))^2}{n_b}\Big)^{1/2}.

    As ``temperature -> 0`` it converges to the exact uniform-binned ECE / RMSCE (``num_bins`` bins,
    ``edges="right_open"``) for confidences not on a bin edge (a confidence exactly 1.0 is counted in
    the last bin here, in the extra bin there). Gradients flow through the confidences *and* through
    the bin memberships, so samples near an edge move between bins smoothly; they are finite
    everywhere. ``|·|`` is used as is (its gradient at an exactly-zero bin gap is 0, which is finite);
    ``norm="l2"`` is the smoother objective. ``norm="max"`` and debiasing are not offered (a max over
    soft bins is dominated by nearly empty bins and does not converge to the MCE).

    **Temperature** (probability units): default ``0.01`` — about 1/7 of the default bin width 1/15. A
    confidence in the middle of a bin then keeps ≈ 93% of its mass in its own bin, and confidences
    within ~0.03 of an edge get a useful membership gradient. It may be a scalar array (annealing
    inside ``jit`` without recompiling). Zero total weight gives NaN.

    Args:
      probs: ``[..., N, C]`` or ``[..., N]`` (logits with ``from_logits=True``).
      labels: ``[..., N]`` integer labels.
      num_bins: static number of equal-width bins on [0, 1].
      temperature: soft-edge width τ > 0.
      norm: ``"l1"`` or ``"l2"``.
      mode, from_logits, num_classes, where, weights: as :func:`expected_calibration_error`.

    Returns:
      ``[...]`` in the accumulation dtype.

    Example:
      >>> p, y = jnp.array([0.95, 0.85, 0.25, 0.65]), jnp.array([1, 0, 0, 1])
      >>> soft_ece(p, y, num_bins=10, temperature=1e-3), ece(p, y, num_bins=10)
      (Array(0.375, dtype=float32), Array(0.375, dtype=float32))
    """
    fn = "soft_ece"
    soft._validate_temperature(fn, temperature)
    cfg = _config(fn, num_bins=num_bins, norm=norm, mode=mode, from_logits=from_logits, num_classes=num_classes,
                  norms=("l1", "l2"))
    cfg = _infer_num_classes(fn, cfg, probs, labels)
    return _soft_one_shot(probs, labels, temperature, where, weights, cfg=cfg)


# --------------------------------------------------------------------------------------------------
# Registry

_ORACLE = (
    "tests/reference/calibration_binning.py: numpy ports of torchmetrics (right-open bins, extra bin for "
    "conf = 1.0; l1/l2/max) and netcal (clipped, last bin closed, equal width / equal mass) binning, "
    "Kumar et al. 2019 debiased L2"
)
register(
    MetricInfo(
        name="expected_calibration_error",
        family="calibration",
        fn=expected_calibration_error,
        differentiable=False,
        higher_is_better=False,
        streaming=ece_metric,
        oracle=_ORACLE,
        aliases=("ece",),
    )
)
register(
    MetricInfo(
        name="reliability_diagram",
        family="calibration",
        fn=reliability_diagram,
        differentiable=False,
        higher_is_better=None,
        streaming=reliability_diagram_metric,
        oracle=_ORACLE + " (per-bin counts, mean confidences and accuracies)",
    )
)
register(
    MetricInfo(
        name="soft_ece",
        family="calibration",
        fn=soft_ece,
        differentiable=True,
        higher_is_better=False,
        streaming=soft_ece_metric,
        oracle="exact expected_calibration_error (uniform, right-open bins) as temperature -> 0",
    )
)
attach_soft("expected_calibration_error", soft_ece)
