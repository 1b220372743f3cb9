"""Calibration scores: Brier score, negative log-likelihood, Balance score (and its smooth twin) and the
kernel-smoothed calibration error smECE.

**Inputs.** ``probs`` are class probabilities ``[..., N, C]`` or binary probabilities ``[..., N]`` =
P(y = 1) (logits of either shape with ``from_logits=True``); ``labels`` are integers ``[..., N]``
(``0/1`` for binary input; a binary label counts as positive iff it equals 1). Leading axes are batch
axes: the one-shot functions return one value per leading index (``[...]``). ``where`` (bool mask) and
``weights`` broadcast to ``[..., N]``.

**Streaming.** The mean-type scores (Brier, NLL, Balance, soft Balance) stream with the weighted-mean
state ``(Σ w·score, Σ w)`` of :mod:`~jaxmetrics.classification.confusion` (merge adds, the
cross-device reduction is a ``psum``). smECE streams too, exactly: relplot's estimator sees the data
only through linear-interpolation deposits on fixed grids, so the state is those grids (see
:func:`smooth_ece_metric`). Every one-shot function is ``one_shot(*_metric(...), ...)``.

**Undefined cases.** Over zero (weighted) samples every score here is NaN, as the other weighted means
of jaxmetrics. Values outside [0, 1] or rows not summing to 1 are not detected inside ``jit``: use
:func:`jaxmetrics.validate`.
"""

from __future__ import annotations

import functools
import math
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
from jaxmetrics._src.metric import mean_metric
from jaxmetrics.classification.confusion import _nll

Array = jax.Array

__all__ = [
    "SmoothECEState",
    "balance_score",
    "balance_score_metric",
    "brier_score",
    "brier_score_metric",
    "negative_log_likelihood",
    "negative_log_likelihood_metric",
    "nll",
    "smooth_ece",
    "smooth_ece_metric",
    "soft_balance_score",
    "soft_balance_score_metric",
]

_BALANCE_TEMPERATURE = 0.05  # probability units


# --------------------------------------------------------------------------------------------------
# Input handling


_check_inputs = checks.check_probs_labels  # (probs, labels, binary), errors naming the argument


def _batched_one_shot(fn, metric, probs, labels, where, weights):
    """``one_shot(metric, ...)`` with leading axes ``[...]`` of ``labels`` kept as batch axes, for
    :func:`smooth_ece`, whose streaming state (smoothing grids) pools everything it is given.

    ``where`` and ``weights`` are first combined into one ``[..., N]`` weight array (named errors on bad
    shapes), then the one-shot is ``vmap``-ed over every leading axis, so the result has shape ``[...]``.
    """
    probs, labels, _ = _check_inputs(fn, probs, labels)
    if labels.ndim == 1:
        return one_shot(metric, probs, labels, where=where, weights=weights)
    dtype = numerics.accumulation_dtype(probs, weights)
    w = checks.sample_weights(fn, labels.shape, dtype, where, weights)
    f = lambda p, y, w: one_shot(metric, p, y, weights=w)  # noqa: E731
    for _ in range(labels.ndim - 1):
        f = jax.vmap(f)
    return f(probs, labels, w)


_CONSTRUCTORS = {}  # public name -> streaming constructor (filled below)


@functools.partial(jax.jit, static_argnames=("name", "config"))
def _jitted_one_shot(probs, labels, where, weights, dynamic, *, name, config):
    """The one-shot of a mean-type score as one compiled program per (shapes, static config).

    Eager calls then compile once per input shape instead of once per primitive; inside a caller's
    ``jit`` / ``vmap`` / ``grad`` this nested ``jit`` is simply inlined. ``dynamic`` holds array-valued
    configuration (a temperature that may be annealed) passed as data.
    """
    metric = _CONSTRUCTORS[name](**dict(config), **dynamic)
    return one_shot(metric, probs, labels, where=where, weights=weights)  # mean states keep batch axes


# --------------------------------------------------------------------------------------------------
# Brier score


def _brier_values(fn, probs, labels, from_logits, scale_by_half):
    probs, labels, binary = _check_inputs(fn, probs, labels)
    x = numerics.promote(probs)
    if binary:
        p = jax.nn.sigmoid(x) if from_logits else x
        y = (labels == 1).astype(x.dtype)
        two_class_sum = 2.0 * jnp.square(p - y)  # (1−p − (1−y))² + (p − y)²
        halve = scale_by_half is True or scale_by_half == "auto"
        return 0.5 * two_class_sum if halve else two_class_sum
    p = jax.nn.softmax(x, axis=-1) if from_logits else x
    c = x.shape[-1]
    onehot = jax.nn.one_hot(labels, c, dtype=x.dtype)
    total = jnp.square(p - onehot).sum(-1)
    halve = scale_by_half is True or (scale_by_half == "auto" and c < 3)
    return 0.5 * total if halve else total


def _check_scale(scale_by_half):
    """Returns ``scale_by_half`` as ``True`` / ``False`` / ``"auto"``; raises on anything else."""
    if isinstance(scale_by_half, (bool, np.bool_)):
        return bool(scale_by_half)
    if isinstance(scale_by_half, str) and scale_by_half == "auto":
        return "auto"
    raise ValueError(
        f"jaxmetrics.brier_score: argument `scale_by_half` must be True, False or 'auto'; got {scale_by_half!r}."
    )


def _brier_multiclass_sum(p, labels, w, scale):
    """``scale · Σ_i w_i Σ_c (p_ic − 1[y_i = c])²`` over the last two axes of ``p [..., N, C]``.

    One full reduction over ``[N, C]`` (``w`` broadcast along C; masked rows are exactly 0, even when
    their probabilities are NaN or inf padding) instead of per-row sums over C followed by a weighted
    sum over N: XLA:CPU runs whole-array reductions several times faster than short row reductions.
    The label's own term is ``(1 − p)²`` rather than ``Σ p² − 2 p_y + 1``, which would cancel
    catastrophically for confident, correct predictions.
    """
    d = w.dtype
    c = p.shape[-1]
    onehot = labels[..., None] == jnp.arange(c, dtype=labels.dtype)
    keep = (w != 0)[..., None]
    e = jnp.where(keep, jnp.where(onehot, 1 - p.astype(d), p.astype(d)), jnp.zeros((), d))
    return scale * jnp.sum(w[..., None] * (e * e), axis=(-2, -1))


def brier_score_metric(*, from_logits: bool = False, scale_by_half="auto") -> Metric:
    """Streaming :func:`brier_score`; state (Σ w·score, Σ w), additive."""
    scale_by_half = _check_scale(scale_by_half)
    fn = "brier_score"
    base = mean_metric(fn, lambda probs, labels: _brier_values(fn, probs, labels, from_logits, scale_by_half))

    def update(state, probs, labels, *, where=None, weights=None):
        probs, labels, binary = _check_inputs(fn, probs, labels)
        if binary:  # per-sample values [..., N]: already one reduction over N
            return base.update(state, probs, labels, where=where, weights=weights)
        x = numerics.promote(probs)
        p = jax.nn.softmax(x, axis=-1) if from_logits else x
        d = state.total.dtype
        w = checks.sample_weights(fn, labels.shape, d, where, weights)
        halve = scale_by_half is True or (scale_by_half == "auto" and x.shape[-1] < 3)
        total = _brier_multiclass_sum(p, labels, w, 0.5 if halve else 1.0)
        return type(state)(state.total + total, state.weight + w.sum(-1))

    return Metric(base.init, update, base.merge, base.compute)


def brier_score(probs, labels, *, from_logits: bool = False, scale_by_half="auto", where=None,
                weights=None) -> Array:
    """Brier score: the weighted mean squared error of the predicted class probabilities.

    .. math::

        \\mathrm{BS} = s \\cdot \\frac{\\sum_i w_i \\sum_{c=1}^{C} (p_{ic} - 1[y_i = c])^2}{\\sum_i w_i}

    with ``s = 1/2`` or ``1`` chosen by ``scale_by_half``. Binary input ``[..., N]`` = P(y = 1) is the
    two-column table ``(1 − p, p)``, whose sum is ``2·(p − y)²``.

    **Scaling convention (scikit-learn >= 1.7).** ``scale_by_half="auto"`` halves the sum when there are
    at most two classes — binary input ``[..., N]`` and two-column input ``[..., N, 2]`` — giving the
    customary binary Brier score ``mean (p − y)²`` in [0, 1]; with ``C >= 3`` columns the sum is not
    halved and the score lies in [0, 2] (a confidently wrong one-hot prediction scores 2). ``True``
    always halves, ``False`` never does. This is exactly ``sklearn.metrics.brier_score_loss`` (whose
    ``"auto"`` rule reads ``y_proba.ndim == 1 or y_proba.shape[1] < 3``).

    Args:
      probs: class probabilities ``[..., N, C]`` or binary P(y = 1) ``[..., N]``; logits with
        ``from_logits=True`` (softmax / sigmoid).
      labels: integer labels ``[..., N]`` (binary: positive iff ``== 1``).
      from_logits: static; whether ``probs`` are logits.
      scale_by_half: static ``"auto"`` (default), ``True`` or ``False`` (see above).
      where: bool mask broadcastable to ``[..., N]``. weights: per-sample weights, same.

    Returns:
      ``[...]``; NaN when every sample is masked. Oracle: ``sklearn.metrics.brier_score_loss(labels,
      probs, sample_weight=..., labels=range(C))``.

    Example:
      >>> brier_score(jnp.array([0.1, 0.9, 0.8, 0.3]), jnp.array([0, 1, 1, 0]))
      Array(0.0375, dtype=float32)
      >>> brier_score(jnp.array([[0.0, 0.0, 1.0]]), jnp.array([0]))  # confidently wrong, C = 3
      Array(2., dtype=float32)
    """
    scale_by_half = _check_scale(scale_by_half)
    config = (("from_logits", bool(from_logits)), ("scale_by_half", scale_by_half))
    return _jitted_one_shot(probs, labels, where, weights, {}, name="brier_score", config=config)


# --------------------------------------------------------------------------------------------------
# Negative log-likelihood (log loss)


def negative_log_likelihood_metric(*, from_logits: bool = False, eps: float | None = None) -> Metric:
    """Streaming :func:`negative_log_likelihood`; state (Σ w·nll, Σ w), additive.

    The per-sample values and the weighted-mean state are those of
    :func:`jaxmetrics.classification.log_loss_metric` (shared code, not a copy).
    """
    fn = "negative_log_likelihood"

    def per_sample(probs, labels):
        probs, labels, _ = _check_inputs(fn, probs, labels)  # errors name `probs`, as the signature
        return _nll(fn, probs, labels, from_logits, eps)

    return mean_metric(fn, per_sample)


def negative_log_likelihood(probs, labels, *, from_logits: bool = False, eps: float | None = None,
                            where=None, weights=None) -> Array:
    """Negative log-likelihood of the labels (log loss, cross-entropy), the calibration-family name.

    .. math::

        \\mathrm{NLL} = -\\frac{\\sum_i w_i \\log p_{i, y_i}}{\\sum_i w_i}, \\qquad
        \\text{binary: } -\\frac{\\sum_i w_i\\,(y_i \\log p_i + (1 - y_i)\\log(1 - p_i))}{\\sum_i w_i}

    A thin wrapper over the machinery of :func:`jaxmetrics.classification.log_loss` (same per-sample
    values, same clipping, same streaming state): the two agree exactly on ``[N]`` / ``[N, C]`` input.
    Unlike ``log_loss`` (whose single state pools every axis it is given), leading axes here are batch
    axes with one result each, and errors name the argument ``probs``.

    Args:
      probs: probabilities ``[..., N, C]`` or binary P(y = 1) ``[..., N]``; logits with
        ``from_logits=True`` (``log_softmax`` / ``log_sigmoid``, exact for every finite logit).
      labels: integer labels ``[..., N]``.
      from_logits: static; whether ``probs`` are logits.
      eps: probabilities are clipped to [eps, 1 − eps] (default: the dtype's machine epsilon, as
        scikit-learn >= 1.5). Rows are not renormalised.
      where: bool mask broadcastable to ``[..., N]``. weights: per-sample weights, same.

    Returns:
      ``[...]`` in nats; NaN when every sample is masked. Oracle: ``sklearn.metrics.log_loss``.

    Example:
      >>> negative_log_likelihood(jnp.array([[0.5, 0.5], [0.2, 0.8]]), jnp.array([0, 1]))
      Array(0.45814535, dtype=float32)
    """
    config = (("from_logits", bool(from_logits)), ("eps", eps))
    return _jitted_one_shot(probs, labels, where, weights, {}, name="negative_log_likelihood", config=config)


nll = negative_log_likelihood


# --------------------------------------------------------------------------------------------------
# Balance score and its smooth twin


def _balance_values(fn, probs, labels, mode, from_logits, temperature):
    """Per-sample Balance ``[..., N]`` (mean over the K pairs); soft when ``temperature`` is given."""
    probs, labels, _ = _check_inputs(fn, probs, labels)
    conf, outcome, resolved = confidence_outcome(fn, probs, labels, mode=mode, from_logits=from_logits)
    if resolved == "top_label":
        if temperature is None:
            f = outcome - conf
        else:  # smooth correctness: step of the margin p_y − max_{k≠y} p_k
            x = numerics.promote(probs)
            p = jax.nn.softmax(x, axis=-1) if from_logits else x
            onehot = jax.nn.one_hot(labels, p.shape[-1], dtype=p.dtype)
            p_true = (onehot * p).sum(-1)
            p_other = jnp.where(onehot > 0, -jnp.inf, p).max(-1)
            f = soft.smooth_step(p_true - p_other, temperature)[..., None] - conf
    else:  # binary / classwise: (o − c)·(2·1[c >= ½] − 1)
        if temperature is None:
            sign = jnp.where(conf >= 0.5, 1.0, -1.0).astype(conf.dtype)
        else:
            sign = soft.smooth_step(conf - 0.5, temperature) - soft.smooth_step(0.5 - conf, temperature)
        f = (outcome - conf) * sign
    return f.mean(-1)


def balance_score_metric(*, mode: str = "auto", from_logits: bool = False) -> Metric:
    """Streaming :func:`balance_score`; state (Σ w·balance, Σ w), additive."""
    checks.check_choice("balance_score", "mode", mode, MODES)
    return mean_metric(
        "balance_score",
        lambda probs, labels: _balance_values("balance_score", probs, labels, mode, from_logits, None),
    )


def balance_score(probs, labels, *, mode: str = "auto", from_logits: bool = False, where=None,
                  weights=None) -> Array:
    """Balance score (Choi et al.): the signed calibration error accuracy − mean confidence.

    Binary input ``[..., N]`` with p̂ = P(y = 1) (``mode="binary"``, the default for it):

    .. math::

        \\mathrm{Balance} = \\frac{\\sum_i w_i\\,(y_i - \\hat p_i)\\,(2\\cdot 1[\\hat p_i \\ge \\tfrac12] - 1)}
        {\\sum_i w_i}

    Pointwise this is ``1 − p̂`` / ``−p̂`` for p̂ >= ½ and y = 1 / 0, and ``−(1 − p̂)`` / ``p̂`` for
    p̂ < ½, i.e. ``1[ŷ = y] − max(p̂, 1 − p̂)`` with ŷ = 1[p̂ >= ½]: Balance is accuracy minus mean
    confidence, a one-bin *signed* ECE. Class probabilities ``[..., N, C]`` (``mode="top_label"``, the
    default) use the top-label pair from :func:`~jaxmetrics.calibration._inputs.confidence_outcome`:
    Balance = mean(1[argmax p = y] − max p) (argmax ties go to the lowest class). ``mode="classwise"``
    applies the binary formula to every one-vs-rest pair (p_k, 1[y = k]) and averages over classes.

    For a calibrated model E[Balance] = 0; over-confidence makes it negative, under-confidence
    positive. Pointwise range [−1, ½]. Errors of opposite sign cancel, so pair it with ECE or Brier.

    **Registry direction.** Balance is signed and 0 is best (neither larger nor smaller is better), so
    its registry entry has ``higher_is_better=None``; minimise ``|Balance|`` or ``Balance²``.

    Args:
      probs: ``[..., N, C]`` class probabilities or ``[..., N]`` binary P(y = 1); logits with
        ``from_logits=True``.
      labels: integer labels ``[..., N]``.
      mode: static ``"auto"``, ``"binary"``, ``"top_label"`` or ``"classwise"`` (see above). For
        two-class rows ``[..., N, 2]``, top-label differs from binary only at p = ½ (argmax → class 0).
      from_logits: static; apply sigmoid / softmax first.
      where: bool mask broadcastable to ``[..., N]``. weights: per-sample weights, same.

    Returns:
      ``[...]`` in [−1, ½]; NaN when every sample is masked. Oracle: the closed form of METRICS.md §2.3
      (numpy ``accuracy − mean confidence``).

    Example:
      >>> balance_score(jnp.array([0.8, 0.8, 0.3, 0.3]), jnp.array([1, 0, 0, 1]))  # 0.2,-0.8,0.3,-0.7
      Array(-0.25, dtype=float32)
    """
    checks.check_choice("balance_score", "mode", mode, MODES)
    config = (("mode", mode), ("from_logits", bool(from_logits)))
    return _jitted_one_shot(probs, labels, where, weights, {}, name="balance_score", config=config)


def soft_balance_score_metric(*, temperature=_BALANCE_TEMPERATURE, mode: str = "auto",
                              from_logits: bool = False) -> Metric:
    """Streaming :func:`soft_balance_score`; state (Σ w·soft balance, Σ w), additive."""
    fn = "soft_balance_score"
    soft._validate_temperature(fn, temperature)
    checks.check_choice(fn, "mode", mode, MODES)
    return mean_metric(
        fn, lambda probs, labels: _balance_values(fn, probs, labels, mode, from_logits, temperature)
    )


def soft_balance_score(probs, labels, *, temperature=_BALANCE_TEMPERATURE, mode: str = "auto",
                       from_logits: bool = False, where=None, weights=None) -> Array:
    """Smooth twin of :func:`balance_score`: the jump at p̂ = ½ replaced by a smooth step.

    With H_τ(x) = σ(x/τ) (:func:`jaxmetrics.soft.smooth_step`), binary / classwise pairs use

    .. math::

        f_\\tau = (o - c)\\,\\bigl(H_\\tau(c - \\tfrac12) - H_\\tau(\\tfrac12 - c)\\bigr)
                = (o - c)\\tanh\\!\\bigl(\\tfrac{c - 1/2}{2\\tau}\\bigr)

    in place of (o − c)(2·1[c >= ½] − 1), and top-label pairs use the smooth correctness
    ``H_τ(p_y − max_{k≠y} p_k) − max_k p_k`` in place of ``1[argmax p = y] − max p``. Both are C^∞ in
    ``probs`` (top-label: except where the two largest probabilities tie), and converge to the exact
    Balance as τ → 0 on every sample with c ≠ ½ (no argmax tie); at c = ½ the soft value is the mean of
    the two one-sided limits. The error is O(exp(−|c − ½|/τ)) per sample.

    Args:
      probs, labels, mode, from_logits, where, weights: as :func:`balance_score`.
      temperature: width of the step in probability units (default 0.05: samples within ~0.15 of the
        decision boundary get a gradient through it); a positive float or a scalar array.

    Returns:
      ``[...]``; NaN when every sample is masked. Oracle: :func:`balance_score` as τ → 0.

    Example:
      >>> soft_balance_score(jnp.array([0.8, 0.8, 0.3, 0.3]), jnp.array([1, 0, 0, 1]), temperature=0.01)
      Array(-0.25, dtype=float32)
    """
    soft._validate_temperature("soft_balance_score", temperature)
    checks.check_choice("soft_balance_score", "mode", mode, MODES)
    config = (("mode", mode), ("from_logits", bool(from_logits)))
    return _jitted_one_shot(probs, labels, where, weights, dict(temperature=temperature),
                            name="soft_balance_score", config=config)


_CONSTRUCTORS.update(
    brier_score=brier_score_metric,
    negative_log_likelihood=negative_log_likelihood_metric,
    balance_score=balance_score_metric,
    soft_balance_score=soft_balance_score_metric,
)


# --------------------------------------------------------------------------------------------------
# Smooth ECE (Błasiok & Nakkiran): relplot's estimator, jittable
#
# relplot.smECE_sigma(f, y, σ) computes, with r = f − y,
#   1. deposits of r and of 1 onto the grid {j/(E−1)}, j < E, by linear interpolation (each sample
#      splits its value between its two neighbouring grid points), E = max(2000, round(20/σ))//2 + 1;
#   2. a convolution of each grid with the Gaussian density φ_σ sampled on the same grid (E taps,
#      centred at 0.5, so truncated at ±1/2), after reflecting the grid at both ends (no duplicate end
#      point), i.e. S[i] = Σ_j v[j]·ext(i + E//2 − j);
#   3. linear interpolation of both smoothed grids at t_k = k/(T−1), k < T = max(round(10/σ), 200);
#   4. smECE = Σ_k |S_r(t_k)| / Σ_k (S_1(t_k) + 1e-4).
# The automatic bandwidth (relplot.smECE) bisects σ on the dyadic grid {k/1024}: σ = 1 if
# 1 < smECE_1; otherwise 10 halvings of (0, 1] keeping the upper end where σ >= smECE_σ
# (σ < 1e-3 counts as "σ < smECE_σ"), and returns smECE at the final upper end.

_SMECE_EPS = 1e-4  # relplot's density regulariser (kernels.BaseKernelMixin.smooth)
_AUTO_REFINE = 10  # relplot.metrics.search_param(refine=10)
_AUTO_MIN = 1e-3  # relplot.smECE(eps=0.001)
_AUTO_DEN = 2**_AUTO_REFINE


def _grid_size(sigma: float) -> int:
    return max(2000, round(20 / sigma)) // 2 + 1


def _eval_size(sigma: float) -> int:
    return max(round(10 / sigma), 200)


def _auto_tables():
    """Static tables for the automatic search, indexed by k (σ = k/1024): the grid of every σ the
    bisection may evaluate, and its evaluation size. σ < 1e-3 (k = 1) is never evaluated by relplot;
    it borrows the k = 2 entries (its value is discarded)."""
    kmin = next(k for k in range(1, _AUTO_DEN + 1) if k / _AUTO_DEN >= _AUTO_MIN)
    sizes = sorted({_grid_size(k / _AUTO_DEN) for k in range(kmin, _AUTO_DEN + 1)})
    offsets = np.cumsum([0] + sizes[:-1])
    e_tab, ev_tab, off_tab = [], [], []
    for k in range(_AUTO_DEN + 1):
        s = max(k, kmin) / _AUTO_DEN
        e = _grid_size(s)
        e_tab.append(e)
        ev_tab.append(_eval_size(s))
        off_tab.append(int(offsets[sizes.index(e)]))
    return tuple(sizes), tuple(int(o) for o in offsets), np.array(e_tab), np.array(ev_tab), np.array(off_tab)


_AUTO_SIZES, _AUTO_OFFSETS, _AUTO_E, _AUTO_EV, _AUTO_OFF = _auto_tables()


class SmoothECEState(NamedTuple):
    """Exact sufficient statistics of :func:`smooth_ece`.

    Attributes:
      grid: ``[K, 2, S]`` linear-interpolation deposits of ``w·(c − o)`` (channel 0) and ``w``
        (channel 1) onto relplot's grids, concatenated (one grid of ``S`` points for a fixed bandwidth;
        the 10 grids the automatic search can visit, ``S = 20762`` points, otherwise). K = 1 for binary /
        top-label pairs, C for classwise.
      weight: ``[]`` Σ w.
      count: ``[]`` number of samples with nonzero weight.
    """

    grid: Array
    weight: Array
    count: Array


@functools.partial(jax.jit, static_argnames=("sizes", "offsets", "total"))
def _deposit(conf, resid, w, sizes, offsets, total):
    """Linear-interpolation deposits ``[K, 2, total]`` of ``(w·resid, w)`` at ``conf`` ``[M, K]``, on the
    grids of ``sizes`` points stored from ``offsets`` (one ``segment_sum`` for every grid at once)."""
    k_pairs = conf.shape[-1]
    e1 = jnp.asarray(np.array(sizes) - 1, conf.dtype)  # [G]
    pos = conf[..., None] * e1  # [M, K, G]
    lo = jnp.clip(jnp.floor(pos), 0, e1 - 1)
    frac = pos - lo
    base = jnp.asarray(offsets, jnp.int32) + (jnp.arange(k_pairs, dtype=jnp.int32) * total)[:, None]
    lo = lo.astype(jnp.int32) + base  # [M, K, G]
    ids = jnp.stack([lo, lo + 1])  # [2 (neighbour), M, K, G]
    share = jnp.stack([1 - frac, frac])
    mass = jnp.stack([w[:, None] * resid, jnp.broadcast_to(w[:, None], conf.shape)], -1)  # [M, K, 2]
    vals = share[..., None] * mass[None, :, :, None, :]  # [2, M, K, G, 2 (channel)]
    sums = jax.ops.segment_sum(vals.reshape(-1, 2), ids.reshape(-1), num_segments=k_pairs * total)
    return sums.reshape(k_pairs, total, 2).transpose(0, 2, 1)


def _smece_on_grid(grid, e, ev, sigma, e_max: int, ev_max: int):
    """relplot's smECE_σ from the deposits ``grid`` ``[2, e_max]`` (zero at and beyond ``e``).

    ``e`` (grid size), ``ev`` (evaluation size) and ``sigma`` may be traced; ``e_max`` / ``ev_max`` are
    their static upper bounds, so every array has a fixed shape.
    """
    dtype = grid.dtype
    n1 = e - 1
    n1f = jnp.asarray(n1, dtype)
    # reflected grid ext(p), p in [-(e-1), 2(e-1)], stored at index p + (e_max - 1)
    p0 = e_max - 1
    p = jnp.arange(3 * e_max - 2) - p0
    refl = jnp.where(p < 0, -p, jnp.where(p > n1, 2 * n1 - p, p))
    inside = (p >= -n1) & (p <= 2 * n1)
    ext = jnp.where(inside, grid[:, jnp.clip(refl, 0, e_max - 1)], 0)
    # the E-tap kernel: Gaussian density at linspace(0, 1, E) − 1/2
    j = jnp.arange(e_max)
    t = j.astype(dtype) / n1f - 0.5
    sig = jnp.asarray(sigma, dtype)
    ker = jnp.exp(-(t * t) / (2 * sig * sig)) / (math.sqrt(2 * math.pi) * sig)
    ker = jnp.where(j < e, ker, 0)
    # full linear convolution by FFT; S[i] = conv[i + e//2 + p0]
    size = 1 << (4 * e_max - 4).bit_length()
    conv = jnp.fft.irfft(jnp.fft.rfft(ext, size) * jnp.fft.rfft(ker, size), size)
    smoothed = lax.dynamic_slice_in_dim(conv, e // 2 + p0, e_max, axis=-1)
    # linear interpolation at t_k = k/(ev - 1), k < ev (numpy.linspace: the last point is exactly 1)
    k = jnp.arange(ev_max)
    step = 1 / jnp.asarray(ev - 1, dtype)
    tk = jnp.where(k == ev - 1, jnp.ones((), dtype), k.astype(dtype) * step)
    bucket = 1 / n1f
    inds = jnp.clip(jnp.floor(tk * n1f), 0, n1 - 1).astype(jnp.int32)
    res = (tk - inds * bucket) / bucket
    vals = smoothed[:, inds] * (1 - res) + smoothed[:, inds + 1] * res
    valid = k < ev
    num = jnp.where(valid, jnp.abs(vals[0]), 0).sum()
    den = jnp.where(valid, vals[1] + _SMECE_EPS, 0).sum()
    return num / den


def _smece_fixed(grid, sigma):
    e, ev = _grid_size(sigma), _eval_size(sigma)
    return _smece_on_grid(grid, e, ev, sigma, e, ev)


def _smece_auto(grid):
    """relplot.smECE (automatic bandwidth) from the concatenated deposits ``grid`` ``[2, S]``.

    One static 11-step loop: step 0 evaluates σ = 1 (relplot returns it if 1 < smECE_1), steps 1..10
    bisect k in σ = k/1024. The carried value is smECE at the current upper end, so its gradient is that
    of smECE at the selected bandwidth (the bandwidth itself is piecewise constant).
    """
    e_max, ev_max = max(_AUTO_SIZES), int(_AUTO_EV.max())
    dtype = grid.dtype
    e_tab, ev_tab, off_tab = (jnp.asarray(a, jnp.int32) for a in (_AUTO_E, _AUTO_EV, _AUTO_OFF))
    padded = jnp.concatenate([grid, jnp.zeros((2, e_max), dtype)], -1)
    top = jnp.asarray(_AUTO_DEN, jnp.int32)

    def body(i, carry):
        lo, hi, v_hi, done = carry
        k = jnp.where(i == 0, top, (lo + hi) // 2)
        e = e_tab[k]
        sub = lax.dynamic_slice_in_dim(padded, off_tab[k], e_max, axis=-1)
        sub = jnp.where(jnp.arange(e_max) < e, sub, 0)
        sigma = k.astype(dtype) / _AUTO_DEN
        v = _smece_on_grid(sub, e, ev_tab[k], sigma, e_max, ev_max)
        pred = (sigma < _AUTO_MIN) | (sigma < lax.stop_gradient(v))
        first = i == 0
        move = ~done & ~first
        lo = jnp.where(move & pred, k, lo)
        hi = jnp.where(move & ~pred, k, hi)
        v_hi = jnp.where(first | (move & ~pred), v, v_hi)
        done = jnp.where(first, pred, done)
        return lo, hi, v_hi, done

    init = (jnp.zeros((), jnp.int32), top, jnp.zeros((), dtype), jnp.zeros((), bool))
    return lax.fori_loop(0, _AUTO_REFINE + 1, body, init)[2]


@functools.partial(jax.jit, static_argnames=("bandwidth",))
def _smece_from_state(grid, weight, count, bandwidth):
    # relplot's regulariser 1e-4 is per unit of deposited mass: rescale the weights to mean 1 over the
    # kept samples (unit weights / a `where` mask are left unchanged)
    grid = grid * numerics.safe_div(count, weight, 0.0)
    one = (lambda g: _smece_fixed(g, bandwidth)) if bandwidth is not None else _smece_auto
    value = jax.vmap(one)(grid).mean()
    return jnp.where(weight != 0, value, jnp.nan)


def smooth_ece_metric(*, bandwidth: float | None = None, mode: str = "auto", from_logits: bool = False,
                      num_classes: int | None = None) -> Metric:
    """Streaming :func:`smooth_ece` with an exact, additive state (:class:`SmoothECEState`).

    relplot's estimator sees the samples only through their linear-interpolation deposits on the grid
    {j/(E−1)}; E depends only on the bandwidth. With a fixed ``bandwidth`` the state is that one grid;
    with automatic bandwidth it is every grid the bisection can visit (σ = k/1024 gives E = 1001 for
    σ >= 0.01 and nine larger grids for k = 2..10; 20762 points per channel). Merge adds the grids, so
    streaming and sharded results equal the one-shot exactly (up to float summation order).

    Args:
      bandwidth, mode, from_logits: as :func:`smooth_ece`.
      num_classes: static C, required for ``mode="classwise"`` (the state holds one grid per class).
    """
    fn = "smooth_ece"
    checks.check_choice(fn, "mode", mode, MODES)
    if bandwidth is not None:
        if isinstance(bandwidth, bool) or not isinstance(bandwidth, (int, float)) or not (
            0 < float(bandwidth) < math.inf
        ):
            raise ValueError(f"jaxmetrics.{fn}: argument `bandwidth` must be None or a finite float > 0; "
                             f"got {bandwidth!r}.")
        bandwidth = float(bandwidth)
        sizes, offsets = (_grid_size(bandwidth),), (0,)
    else:
        sizes, offsets = _AUTO_SIZES, _AUTO_OFFSETS
    total = sum(sizes)
    if mode == "classwise":
        if num_classes is None:
            raise checks.ShapeError(f"jaxmetrics.{fn}: mode='classwise' needs a static `num_classes` for "
                                    "the streaming state.")
        k_pairs = checks.check_static_int(fn, "num_classes", num_classes, 2)
    else:
        k_pairs = 1

    def init(dtype=None):
        d = default_state_dtype(dtype)
        return SmoothECEState(jnp.zeros((k_pairs, 2, total), d), jnp.zeros((), d), jnp.zeros((), d))

    def update(state, probs, labels, *, where=None, weights=None):
        probs, labels, _ = _check_inputs(fn, probs, labels)
        d = state.grid.dtype
        conf, outcome, _ = confidence_outcome(fn, probs, labels, mode=mode, from_logits=from_logits, dtype=d)
        if conf.shape[-1] != k_pairs:
            raise checks.ShapeError(
                f"jaxmetrics.{fn}: argument `probs` has {conf.shape[-1]} classes but the streaming state "
                f"was built for num_classes={num_classes}."
            )
        w = checks.sample_weights(fn, labels.shape, d, where, weights)
        conf = conf.reshape(-1, k_pairs)
        resid = conf - outcome.reshape(-1, k_pairs)
        w = w.reshape(-1)
        grid = _deposit(conf, resid, w, sizes, offsets, total)
        return SmoothECEState(state.grid + grid, state.weight + w.sum(), state.count + (w != 0).sum().astype(d))

    def compute(state):
        return _smece_from_state(state.grid, state.weight, state.count, bandwidth)

    return Metric(init, update, tree_add, compute)


def smooth_ece(probs, labels, *, bandwidth: float | None = None, mode: str = "auto", from_logits: bool = False,
               where=None, weights=None) -> Array:
    """Smooth ECE (Błasiok & Nakkiran): calibration error of the kernel-smoothed reliability diagram.

    With confidences c_i, outcomes o_i and residuals r_i = c_i − o_i, the Nadaraya–Watson smoothing of
    r with a Gaussian kernel K_σ reflected at the ends of [0, 1] gives

    .. math::

        \\hat r_\\sigma(t) = \\frac{\\sum_i K_\\sigma(t, c_i)\\, r_i}{\\sum_i K_\\sigma(t, c_i)}, \\quad
        \\hat\\delta_\\sigma(t) = \\frac1N \\sum_i K_\\sigma(t, c_i), \\quad
        \\mathrm{smECE}_\\sigma = \\int_0^1 |\\hat r_\\sigma(t)|\\, \\hat\\delta_\\sigma(t)\\, dt,

    and smECE is smECE_σ* at the fixed point σ* = smECE_σ* (the paper's automatic bandwidth).

    **Definition computed: exactly relplot's** (``relplot.smECE_sigma`` / ``relplot.smECE``, v1.0.3,
    default reflected Gaussian kernel): samples are deposited by linear interpolation on the grid
    {j/(E−1)}, E = max(2000, round(20/σ))//2 + 1 (E = 1001 for σ >= 0.01); each grid is reflected at 0
    and 1 and convolved with the Gaussian density sampled on the grid (E taps, i.e. truncated at
    |t| <= ½); both smoothed grids are interpolated at T = max(round(10/σ), 200) equally spaced points
    t_k; and smECE_σ = Σ_k |S_r(t_k)| / Σ_k (S_1(t_k) + 10⁻⁴). The automatic bandwidth
    (``bandwidth=None``) is relplot's bisection: σ = 1 if 1 < smECE_1, else 10 halvings of (0, 1] on
    the dyadic grid σ = k/1024 keeping the upper end where σ >= smECE_σ (σ < 10⁻³ counts as below),
    returning smECE at the final upper end — a static 11-step ``fori_loop`` here.

    **Measured agreement with relplot** (tests/test_calibration_scores.py, which asserts 1e-10): in
    float64 the largest relative difference observed is 5e-16, for fixed bandwidths (σ = 0.003 … 1)
    and for the automatic one alike — the bisection takes the same decisions, so it lands on the same
    σ. (The convolution is an FFT here and a direct sum in relplot; a decision could only differ if
    σ = smECE_σ held to within rounding at a bisection point.) With float32 accumulation (bf16/f16/f32
    inputs) the difference is ~1e-7 relative.

    **Weights.** relplot has none; here a sample's deposits are multiplied by its weight, and the
    weights are rescaled to mean 1 over the samples with nonzero weight, so that unit weights and a
    ``where`` mask reproduce relplot on the kept samples exactly and the result does not depend on the
    scale of ``weights`` (only relplot's 10⁻⁴ regulariser would otherwise see it).

    Args:
      probs: ``[..., N, C]`` class probabilities or ``[..., N]`` binary P(y = 1); logits with
        ``from_logits=True``.
      labels: integer labels ``[..., N]``.
      bandwidth: static Gaussian bandwidth σ > 0 in probability units, or None (default) for the
        automatic fixed-point bandwidth.
      mode: static pairs compared (see :func:`~jaxmetrics.calibration._inputs.confidence_outcome`):
        ``"auto"`` — binary (c = P(y=1), o = y) for ``[..., N]`` input and top-label (c = max p,
        o = 1[argmax p = y]) for ``[..., N, C]``, as relplot is used (its
        ``multiclass_logits_to_confidences`` is the top-label pair); ``"classwise"`` averages the
        one-vs-rest smECE over classes, each with its own automatic bandwidth.
      from_logits: static; apply sigmoid / softmax first.
      where: bool mask broadcastable to ``[..., N]``. weights: per-sample weights, same.

    Returns:
      ``[...]`` in [0, 1]; NaN when every sample is masked.

    Complexity: O(N) deposits plus, per evaluation, an FFT of size 4E (E ≈ max(1000, 10/σ)): one for a
    fixed bandwidth, 11 on the largest automatic grid (E = 5121) for the automatic one. Memory of the
    streaming state: 2·E floats per pair (20762·2 for the automatic bandwidth).

    Example:
      >>> p = jnp.array([0.1, 0.3, 0.5, 0.7, 0.9, 0.9, 0.2, 0.6])
      >>> y = jnp.array([0, 0, 1, 1, 1, 0, 0, 1])
      >>> smooth_ece(p, y, bandwidth=0.1)
      Array(0.2491..., dtype=float32)
    """
    _, _, binary = _check_inputs("smooth_ece", probs, labels)
    # classwise: one grid per class (binary input is rejected by confidence_outcome with a clear error)
    classes = (2 if binary else jnp.shape(probs)[-1]) if mode == "classwise" else None
    m = smooth_ece_metric(bandwidth=bandwidth, mode=mode, from_logits=from_logits, num_classes=classes)
    return _batched_one_shot("smooth_ece", m, probs, labels, where, weights)


# --------------------------------------------------------------------------------------------------
# Registry

_SK = "sklearn.metrics"
for _name, _fn, _stream, _diff, _hib, _oracle in [
    ("brier_score", brier_score, brier_score_metric, True, False, f"{_SK}.brier_score_loss (>= 1.7)"),
    ("negative_log_likelihood", negative_log_likelihood, negative_log_likelihood_metric, True, False,
     f"{_SK}.log_loss; jaxmetrics.classification.log_loss"),
    ("balance_score", balance_score, balance_score_metric, True, None,
     "closed form of METRICS.md 2.3 (numpy accuracy - mean confidence)"),
    ("soft_balance_score", soft_balance_score, soft_balance_score_metric, True, None,
     "balance_score as temperature -> 0"),
    ("smooth_ece", smooth_ece, smooth_ece_metric, True, False, "relplot.smECE / relplot.smECE_sigma (1.0.3)"),
]:
    register(
        MetricInfo(
            name=_name,
            family="calibration",
            fn=_fn,
            differentiable=_diff,
            higher_is_better=_hib,
            streaming=_stream,
            oracle=_oracle,
            aliases=("nll",) if _name == "negative_log_likelihood" else (),
        )
    )
attach_soft("balance_score", soft_balance_score)
del _name, _fn, _stream, _diff, _hib, _oracle
