r"""Score error metrics: explicit score-matching error, Fisher divergence, score FVU per noise level and
Tweedie consistency.

These metrics compare **arrays of model outputs** that the caller has already evaluated (on the same
points, at the same noise level): nothing here calls a network. Shapes follow the library's sample-set
layout: ``[..., N, d]`` (N samples of d features; leading axes are batch axes — stacked noise levels,
checkpoints, seeds — so every result is ``[...]``). ``where [..., N]`` (bool) and ``weights [..., N]``
(≥ 0) act on the samples; a masked sample (``where`` False or weight 0) is treated exactly as if it were
absent, even when its rows hold NaN or inf (padding).

Noise convention (:mod:`~jaxmetrics.score_matching._noise`): ``x = x0 + sigma·eps``; a model output is
read through ``parameterization`` ∈ {``"score"``, ``"epsilon"``, ``"x0"``}; Tweedie's formula is
``D(x, sigma) = x + sigma²·s(x, sigma)``.

* :func:`explicit_score_matching_error` — Hyvärinen's explicit score-matching objective
  ESM = ½ E‖s_θ(x) − s(x)‖² (with the ½) of a model score against a known score, on any points.
* :func:`fisher_divergence` — F(p‖q) = E_{x∼p} ‖∇log p(x) − ∇log q(x)‖² (without the ½), the Monte
  Carlo estimate from samples of p. Same per-sample core as ESM, so F = 2·ESM on the same arrays; the
  two differ in meaning (objective vs divergence) and in the constant.
* :func:`score_fvu` — FVU = E‖D_θ − D_ref‖² / E‖D_θ − E D_θ‖² at one noise level (METRICS.md §10.2):
  the fraction of the variance of the model's denoiser output that a reference denoiser leaves
  unexplained. For the profile over noise levels, stack the levels on a leading axis.
* :func:`tweedie_consistency` — E‖D − (x + σ²s)‖² (absolute) or its ratio to E‖D − x‖² (relative)
  between a denoiser and a score evaluated at the same points.

Every metric is streamable with an additive state (``merge`` is a tree-add, a ``psum`` across devices)
except :func:`score_fvu`, whose state merges the model-output variance with Chan et al.'s pairwise
formula (no Σ‖D‖² − W‖μ‖² cancellation). All-masked input gives NaN.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxmetrics._src import checks, numerics
from jaxmetrics._src.checks import _fail
from jaxmetrics._src.metric import Metric, default_state_dtype, mean_metric, mean_or_per_sample, tree_add
from jaxmetrics._src.registry import MetricInfo, register
from jaxmetrics.score_matching import _noise

Array = jax.Array

__all__ = [
    "FVUState",
    "TweedieState",
    "explicit_score_matching_error",
    "explicit_score_matching_error_metric",
    "fisher_divergence",
    "fisher_divergence_metric",
    "score_fvu",
    "score_fvu_metric",
    "tweedie_consistency",
    "tweedie_consistency_metric",
]

REDUCE = ("mean", None)
_LAYOUT = "[..., N, d]"


# --------------------------------------------------------------------------------------------------
# shared internals (also used by sliced.py)


def check_vectors(fn: str, name: str, x, ref_name: str | None = None, ref=None) -> Array:
    """``x [..., N, d]`` as a float array (promoted to the accumulation dtype); with ``ref``, the same shape."""
    x = jnp.asarray(x)
    checks.check_min_rank(fn, name, x, 2, _LAYOUT)
    checks.check_float(fn, name, x)
    if ref is not None:
        checks.check_same_shape(fn, name, x, ref_name, ref, _LAYOUT)
    return x


def check_sigma(fn: str, sigma, sample_shape: tuple, dtype) -> Array:
    """``sigma`` broadcast to the sample shape ``[..., N]`` in ``dtype`` (a ShapeError naming `sigma`)."""
    sigma = jnp.asarray(sigma)
    if not (jnp.issubdtype(sigma.dtype, jnp.floating) or jnp.issubdtype(sigma.dtype, jnp.integer)):
        _fail(fn, f"argument `sigma` must be a real array; got dtype {sigma.dtype}.")
    return checks.broadcast_arg(fn, "sigma", sigma, sample_shape).astype(dtype)


def sample_mask(fn: str, sample_shape: tuple, dtype, where, weights):
    """``(w, valid)``: the per-sample weights ``[..., N]`` (0 where masked) and ``valid = w != 0``."""
    w = checks.sample_weights(fn, sample_shape, dtype, where, weights)
    return w, w != 0


def zero_invalid(valid, *arrays):
    """Rows of ``arrays [..., N, d]`` (or ``[..., N]``) replaced by 0 where ``valid`` is False (NaN-safe)."""
    out = []
    for a in arrays:
        v = valid if a.ndim == valid.ndim else valid[..., None]
        out.append(jnp.where(v, a, jnp.zeros((), a.dtype)))
    return out


def _squared_error_per_sample(fn, names, a, b, *, scale, where=None):
    """``scale·‖a − b‖²`` per sample ``[..., N]`` and its validity (the ``where`` mask)."""
    a = check_vectors(fn, names[0], a)
    b = check_vectors(fn, names[1], b, names[0], a)
    d = numerics.accumulation_dtype(a, b)
    valid = jnp.ones(a.shape[:-1], bool)
    if where is not None:
        valid = checks.broadcast_arg(fn, "where", where, a.shape[:-1]).astype(bool)
    a, b = zero_invalid(valid, numerics.promote(a, d), numerics.promote(b, d))
    diff = a - b
    return scale * jnp.sum(diff * diff, axis=-1), valid


# --------------------------------------------------------------------------------------------------
# explicit score matching error and Fisher divergence (one core)

_ESM = ("explicit_score_matching_error", ("score_pred", "score_true"), 0.5)
_FISHER = ("fisher_divergence", ("score_p", "score_q"), 1.0)


def _squared_error_metric(spec) -> Metric:
    fn, names, scale = spec
    return mean_metric(fn, functools.partial(_squared_error_per_sample, fn, names, scale=scale),
                       forward_where=True)


@functools.partial(jax.jit, static_argnames=("spec", "reduce"))
def _squared_error_core(a, b, where, weights, *, spec, reduce):
    fn, names, scale = spec
    return mean_or_per_sample(fn, _squared_error_metric(spec),
                             functools.partial(_squared_error_per_sample, fn, names, scale=scale), (a, b),
                             reduce=reduce, where=where, weights=weights)


def explicit_score_matching_error_metric() -> Metric:
    """Streaming :func:`explicit_score_matching_error`: ``update(state, score_pred, score_true, *, where,
    weights)``; state ``(Σ w·½‖s_θ − s‖², Σ w)``, additive (``merge`` is a tree-add)."""
    return _squared_error_metric(_ESM)


def explicit_score_matching_error(score_pred, score_true, *, where=None, weights=None, reduce="mean") -> Array:
    r"""Explicit score-matching error of a model score against a known score (Hyvärinen 2005).

    ESM = Σ_i w_i · ½‖s_θ(x_i) − s(x_i)‖² / Σ_i w_i  — the objective J_ESM(θ) = ½ E‖s_θ − ∇log p‖²,
    **with** Hyvärinen's ½, estimated on whatever points the scores were evaluated at (data samples for
    J_ESM itself; noisy samples x = x0 + σε with s = ∇log p_σ for one noise level).

    Args:
      score_pred: model scores ``[..., N, d]`` (float).
      score_true: reference scores at the same points ``[..., N, d]`` (e.g. ``jax.grad`` of a known log
        density, or a closed-form score from :mod:`~jaxmetrics.score_matching.reference`).
      where: bool sample mask broadcastable to ``[..., N]``.
      weights: sample weights broadcastable to ``[..., N]``.
      reduce: static ``"mean"`` (``[...]``) or None (the per-sample ½‖s_θ − s‖², ``[..., N]``, masked → 0).

    Returns:
      ``[...]`` (NaN when every sample is masked), or ``[..., N]``.

    Conventions: ESM = ½·:func:`fisher_divergence` of the same arrays. To score a model that outputs ε̂ or
    a denoiser, convert first with ``jaxmetrics.score_matching.to_score(pred, x, sigma, parameterization)``.
    Oracle: numpy ``0.5 * ((a - b) ** 2).sum(-1)`` weighted mean; 0 for a closed-form score against
    ``jax.grad`` of its log density. O(N·d).

    Example:
      >>> explicit_score_matching_error(jnp.array([[1.0, 0.0], [0.0, 0.0]]), jnp.zeros((2, 2)))
      Array(0.25, dtype=float32)
    """
    checks.check_choice("explicit_score_matching_error", "reduce", reduce, REDUCE)
    return _squared_error_core(score_pred, score_true, where, weights, spec=_ESM, reduce=reduce)


def fisher_divergence_metric() -> Metric:
    """Streaming :func:`fisher_divergence`: ``update(state, score_p, score_q, *, where, weights)``;
    state ``(Σ w·‖∇log p − ∇log q‖², Σ w)``, additive (``merge`` is a tree-add)."""
    return _squared_error_metric(_FISHER)


def fisher_divergence(score_p, score_q, *, where=None, weights=None, reduce="mean") -> Array:
    r"""Fisher divergence F(p‖q) = E_{x∼p} ‖∇log p(x) − ∇log q(x)‖², estimated from samples of p.

    F ≈ Σ_i w_i ‖s_p(x_i) − s_q(x_i)‖² / Σ_i w_i  with x_i ∼ p (**no** ½; Lyu 2009, Sriperumbudur et al.
    2017). Asymmetric in p and q through the sampling distribution only: the arrays must be the two
    scores evaluated at samples **of p** (swapping the arguments without resampling gives the same
    number, not F(q‖p)). 0 iff the scores agree p-almost everywhere.

    Args:
      score_p: ∇log p at the samples ``[..., N, d]``.
      score_q: ∇log q at the same samples ``[..., N, d]``.
      where: bool sample mask broadcastable to ``[..., N]``.
      weights: sample weights broadcastable to ``[..., N]`` (importance weights turn samples of another
        distribution into an estimate under p).
      reduce: static ``"mean"`` (``[...]``) or None (the per-sample ‖s_p − s_q‖², ``[..., N]``, masked → 0).

    Returns:
      ``[...]`` (NaN when every sample is masked), or ``[..., N]``.

    Conventions: the same per-sample core as :func:`explicit_score_matching_error` (F = 2·ESM on the same
    arrays). For two Gaussians with a common covariance Σ, F = (μ_p − μ_q)ᵀΣ⁻²(μ_p − μ_q) exactly on
    every sample. Oracle: numpy weighted mean of ``((a - b) ** 2).sum(-1)``. O(N·d).

    Example:
      >>> fisher_divergence(jnp.array([[1.0, 0.0], [0.0, 0.0]]), jnp.zeros((2, 2)))
      Array(0.5, dtype=float32)
    """
    checks.check_choice("fisher_divergence", "reduce", reduce, REDUCE)
    return _squared_error_core(score_p, score_q, where, weights, spec=_FISHER, reduce=reduce)


# --------------------------------------------------------------------------------------------------
# score FVU


class FVUState(NamedTuple):
    """Sufficient statistics of :func:`score_fvu`, each with the batch axes ``[...]`` in front.

    Attributes:
      weight: Σ w.
      sq_error: Σ w ‖D_θ − D_ref‖².
      mean: the weighted mean of D_θ, ``[..., d]``.
      m2: the centred scatter Σ w ‖D_θ − mean‖² (merged with Chan et al.'s formula).
    """

    weight: Array
    sq_error: Array
    mean: Array
    m2: Array


def _fvu_config(fn, parameterization, reference_parameterization, dim):
    _noise.check_parameterization(fn, parameterization)
    ref_param = parameterization if reference_parameterization is None else reference_parameterization
    if ref_param not in _noise.PARAMETERIZATIONS:
        _fail(fn, f"argument `reference_parameterization` must be one of {_noise.PARAMETERIZATIONS} or None; "
                  f"got {reference_parameterization!r}.")
    if dim is not None:
        dim = checks.check_static_int(fn, "dim", dim, 1)
    return parameterization, ref_param, dim


def _fvu_batch_state(fn, pred, reference, x, sigma, where, weights, dtype, *, parameterization, ref_param,
                     dim):
    """The :class:`FVUState` of one batch (two-pass mean and scatter; shifted by the first valid row)."""
    pred = check_vectors(fn, "pred", pred)
    reference = check_vectors(fn, "reference", reference, "pred", pred)
    if dim is not None and pred.shape[-1] != dim:
        _fail(fn, f"argument `pred` must have d = {dim} features on its last axis (the static `dim`); "
                  f"got shape {pred.shape}.")
    sample_shape = pred.shape[:-1]
    w, valid = sample_mask(fn, sample_shape, dtype, where, weights)
    pred, reference = zero_invalid(valid, numerics.promote(pred, dtype), numerics.promote(reference, dtype))
    if "x0" != parameterization or "x0" != ref_param:
        if x is None:
            _fail(fn, "argument `x` (the noisy points) is required unless both parameterizations are 'x0'.")
        if sigma is None:
            _fail(fn, "argument `sigma` (the noise level) is required unless both parameterizations are 'x0'.")
        x = check_vectors(fn, "x", x, "pred", pred)
        sig = check_sigma(fn, sigma, sample_shape, dtype)
        (x,) = zero_invalid(valid, numerics.promote(x, dtype))
        sig = jnp.where(valid, sig, jnp.ones((), dtype))  # masked rows: a harmless sigma = 1
        pred = _noise.to_denoiser(pred, x, sig, parameterization)
        reference = _noise.to_denoiser(reference, x, sig, ref_param)
    err = pred - reference
    sq_error = (w * jnp.sum(err * err, axis=-1)).sum(-1)
    first = jnp.argmax(valid, axis=-1)
    ref_row = jnp.take_along_axis(pred, first[..., None, None], axis=-2)  # [..., 1, d]; 0 if none valid
    shifted = jnp.where(valid[..., None], pred - ref_row, jnp.zeros((), dtype))
    total = w.sum(-1)
    mu = numerics.safe_div((w[..., None] * shifted).sum(-2), total[..., None])
    centred = jnp.where(valid[..., None], shifted - mu[..., None, :], jnp.zeros((), dtype))
    m2 = (w * jnp.sum(centred * centred, axis=-1)).sum(-1)
    return FVUState(total, sq_error, ref_row[..., 0, :] + mu, m2)


def _fvu_merge(a: FVUState, b: FVUState) -> FVUState:
    """Chan et al.'s pairwise merge of the scatter; an empty side returns the other side exactly."""
    total = a.weight + b.weight
    frac_b = numerics.safe_div(b.weight, total)
    delta = b.mean - a.mean
    mean = a.mean + frac_b[..., None] * delta
    m2 = a.m2 + b.m2 + a.weight * frac_b * jnp.sum(delta * delta, axis=-1)
    a0, b0 = a.weight == 0, b.weight == 0
    mean = jnp.where(a0[..., None], b.mean, jnp.where(b0[..., None], a.mean, mean))
    m2 = jnp.where(a0, b.m2, jnp.where(b0, a.m2, m2))
    return FVUState(total, a.sq_error + b.sq_error, mean, m2)


def _fvu_compute(state: FVUState) -> Array:
    nan = jnp.full((), jnp.nan, state.weight.dtype)
    fvu = numerics.safe_div(state.sq_error, state.m2, jnp.nan)
    return jnp.where(state.weight > 0, fvu, nan)


def score_fvu_metric(*, dim: int, parameterization: str = "x0", reference_parameterization: str | None = None
                     ) -> Metric:
    """Streaming :func:`score_fvu`: ``update(state, pred, reference, x=None, sigma=None, *, where, weights)``
    with ``pred, reference [..., b, dim]``.

    ``init(dtype=None, batch_shape=())``; the state :class:`FVUState` ``(Σw, Σw‖D_θ − D_ref‖², mean,
    scatter)`` needs the static feature dimension ``dim``. ``merge`` is Chan et al.'s pairwise formula
    (associative up to rounding, ``init()`` its exact identity); across devices the states are gathered
    and folded (:func:`jaxmetrics.parallel.reduce_state`).
    """
    fn = "score_fvu"
    if dim is None:
        _fail(fn, "argument `dim` (the feature dimension d, which fixes the state's shape) is required.")
    parameterization, ref_param, dim = _fvu_config(fn, parameterization, reference_parameterization, dim)

    def init(dtype=None, batch_shape=()):
        d = default_state_dtype(dtype)
        z = jnp.zeros(batch_shape, d)
        return FVUState(z, z, jnp.zeros((*batch_shape, dim), d), z)

    def update(state, pred, reference, x=None, sigma=None, *, where=None, weights=None):
        batch = _fvu_batch_state(fn, pred, reference, x, sigma, where, weights, state.weight.dtype,
                                 parameterization=parameterization, ref_param=ref_param, dim=dim)
        return _fvu_merge(state, batch)

    return Metric(init, update, _fvu_merge, _fvu_compute)


@functools.partial(jax.jit, static_argnames=("parameterization", "ref_param", "dim"))
def _fvu_core(pred, reference, x, sigma, where, weights, *, parameterization, ref_param, dim):
    dtype = numerics.accumulation_dtype(*[a for a in (pred, reference, x, weights) if a is not None])
    state = _fvu_batch_state("score_fvu", pred, reference, x, sigma, where, weights, dtype,
                             parameterization=parameterization, ref_param=ref_param, dim=dim)
    return _fvu_compute(state)


def score_fvu(pred, reference, x=None, sigma=None, *, parameterization: str = "x0",
              reference_parameterization: str | None = None, dim: int | None = None, where=None,
              weights=None) -> Array:
    r"""Fraction of the variance of a model's denoiser output left unexplained by a reference, at one
    noise level (METRICS.md §10.2; Wang & Vastola, *The unreasonable effectiveness of Gaussian score
    approximation for diffusion models*).

        FVU(σ) = E‖D_θ(x) − D_ref(x)‖² / E‖D_θ(x) − E D_θ(x)‖²,

    with E the weighted mean over the samples x (noisy points at noise level σ). The denominator is
    the total variance of the **model's own** outputs, Σ_j Var(D_θ,j) (population form, divisor Σw):
    FVU = 0 when the reference reproduces the model, ≈ 1 when it explains no more than the model's mean
    would, and above 1 when it is worse. Both outputs are compared in **denoiser** (x0) space:
    ``pred`` and ``reference`` are converted with
    ``to_denoiser(·, x, sigma, parameterization)`` (D = x + σ²s for scores, x − σε̂ for ε̂), so ``x``
    and ``sigma`` are needed unless both are already denoiser outputs.

    **Per noise level.** One call is one noise level (``sigma`` is normally one value for all samples).
    For the profile FVU(σ) over a grid of noise levels, stack the levels on a leading axis —
    ``pred, reference, x [S, N, d]``, ``sigma [S, 1]`` → ``[S]`` — or ``jax.vmap`` over them; per-sample
    σ values within one call are accepted for the conversion, but then the variance pools the levels.

    Args:
      pred: the model's outputs ``[..., N, d]`` at the noisy points (the quantity being explained).
      reference: the reference's outputs at the same points ``[..., N, d]`` (a closed-form Gaussian or
        empirical denoiser/score).
      x: the noisy points ``[..., N, d]``; needed unless both parameterizations are ``"x0"``.
      sigma: the noise level, broadcastable to ``[..., N]``; needed with ``x``.
      parameterization: static, how ``pred`` is read: ``"x0"`` (denoiser, default), ``"score"``,
        ``"epsilon"``.
      reference_parameterization: static, how ``reference`` is read; None = ``parameterization``.
      dim: optional static d; must match (required only by :func:`score_fvu_metric`).
      where: bool sample mask broadcastable to ``[..., N]``.
      weights: sample weights broadcastable to ``[..., N]``.

    Returns:
      ``[...]``. NaN when every sample is masked or when the model's outputs do not vary (zero
      variance: FVU undefined).

    Oracle: numpy weighted ``((D_θ − D_ref)²).sum(-1)`` mean over the weighted ``((D_θ − μ)²).sum(-1)``
    mean. Streaming: :func:`score_fvu_metric` (Chan-merged variance, no cancellation). O(N·d).

    Example:
      >>> pred = jnp.array([[0.0, 0.0], [2.0, 0.0]])        # variance 1 (mean squared distance to mean)
      >>> round(float(score_fvu(pred, pred + jnp.array([0.5, 0.0]))), 4)   # squared error 0.25
      0.25
    """
    fn = "score_fvu"
    parameterization, ref_param, dim = _fvu_config(fn, parameterization, reference_parameterization, dim)
    return _fvu_core(pred, reference, x, sigma, where, weights, parameterization=parameterization,
                     ref_param=ref_param, dim=dim)


# --------------------------------------------------------------------------------------------------
# Tweedie consistency


class TweedieState(NamedTuple):
    """Additive state of :func:`tweedie_consistency`: Σw‖D − x − σ²s‖², Σw‖D − x‖², Σw (each ``[...]``)."""

    residual: Array
    scale: Array
    weight: Array


def _tweedie_terms(fn, denoiser_out, score_out, x, sigma, where, weights, dtype):
    """Per-sample ``‖D − (x + σ²s)‖²``, ``‖D − x‖²`` and the weights ``[..., N]``."""
    dn = check_vectors(fn, "denoiser_out", denoiser_out)
    sc = check_vectors(fn, "score_out", score_out, "denoiser_out", dn)
    x = check_vectors(fn, "x", x, "denoiser_out", dn)
    sample_shape = dn.shape[:-1]
    sig = check_sigma(fn, sigma, sample_shape, dtype)
    w, valid = sample_mask(fn, sample_shape, dtype, where, weights)
    dn, sc, x, sig = zero_invalid(valid, *(numerics.promote(a, dtype) for a in (dn, sc, x)), sig)
    step = dn - x
    resid = step - (sig * sig)[..., None] * sc
    return jnp.sum(resid * resid, axis=-1), jnp.sum(step * step, axis=-1), w


def tweedie_consistency_metric(*, relative: bool = False) -> Metric:
    """Streaming :func:`tweedie_consistency`: ``update(state, denoiser_out, score_out, x, sigma, *, where,
    weights)``; state :class:`TweedieState` (three weighted sums), additive (``merge`` is a tree-add)."""
    fn = "tweedie_consistency"
    relative = _check_relative(fn, relative)

    def init(dtype=None, batch_shape=()):
        z = jnp.zeros(batch_shape, default_state_dtype(dtype))
        return TweedieState(z, z, z)

    def update(state, denoiser_out, score_out, x, sigma, *, where=None, weights=None):
        r, s, w = _tweedie_terms(fn, denoiser_out, score_out, x, sigma, where, weights, state.weight.dtype)
        return TweedieState(state.residual + (w * r).sum(-1), state.scale + (w * s).sum(-1),
                            state.weight + w.sum(-1))

    def compute(state):
        nan = jnp.full((), jnp.nan, state.weight.dtype)
        den = state.scale if relative else state.weight
        return jnp.where(state.weight > 0, numerics.safe_div(state.residual, den, jnp.nan), nan)

    return Metric(init, update, tree_add, compute)


def _check_relative(fn, relative):
    if not isinstance(relative, bool):
        _fail(fn, f"argument `relative` must be a static Python bool; got {type(relative).__name__}.")
    return relative


@functools.partial(jax.jit, static_argnames=("relative", "reduce"))
def _tweedie_core(denoiser_out, score_out, x, sigma, where, weights, *, relative, reduce):
    fn = "tweedie_consistency"
    dtype = numerics.accumulation_dtype(denoiser_out, score_out, x, weights)
    if reduce is None:
        if weights is not None:
            raise ValueError(f"jaxmetrics.{fn}: `weights` weight samples in the mean; pass reduce='mean'.")
        r, s, w = _tweedie_terms(fn, denoiser_out, score_out, x, sigma, where, None, dtype)
        values = numerics.safe_div(r, s, jnp.nan) if relative else r
        return jnp.where(w != 0, values, jnp.zeros((), dtype))
    metric = tweedie_consistency_metric(relative=relative)
    return metric.compute(metric.update(metric.init(dtype), denoiser_out, score_out, x, sigma, where=where,
                                        weights=weights))


def tweedie_consistency(denoiser_out, score_out, x, sigma, *, relative: bool = False, where=None, weights=None,
                        reduce="mean") -> Array:
    r"""How far a denoiser and a score violate Tweedie's formula D(x, σ) = x + σ²·s(x, σ).

    Absolute (default): T = Σ_i w_i ‖D_i − (x_i + σ_i² s_i)‖² / Σ_i w_i, in squared data units.
    Relative (``relative=True``): T_rel = Σ_i w_i ‖D_i − (x_i + σ_i² s_i)‖² / Σ_i w_i ‖D_i − x_i‖², the
    residual as a fraction of the denoiser's own correction (scale-free; comparable across σ).

    Both are exactly 0 for a matched pair (the closed-form Gaussian denoiser and score, or one network
    read through two parameterizations), so T measures the inconsistency between two separately trained
    or separately derived estimates of the same posterior mean.

    Args:
      denoiser_out: D(x, σ) ``[..., N, d]``.
      score_out: s(x, σ) at the same points ``[..., N, d]``.
      x: the noisy points ``[..., N, d]``.
      sigma: noise levels broadcastable to ``[..., N]``.
      relative: static bool, see above.
      where: bool sample mask broadcastable to ``[..., N]``.
      weights: sample weights broadcastable to ``[..., N]``.
      reduce: static ``"mean"`` (``[...]``) or None (per-sample ‖D − x − σ²s‖², or its ratio to ‖D − x‖²
        when ``relative``; masked → 0).

    Returns:
      ``[...]``; NaN when every sample is masked, and (relative) when Σw‖D − x‖² = 0.

    Oracle: numpy closed forms D_G = μ + Σ(Σ+σ²I)⁻¹(x−μ), s_G = −(Σ+σ²I)⁻¹(x−μ) (T = 0 to rounding).
    O(N·d).

    Example:
      >>> x = jnp.array([[1.0, 2.0]]); s = jnp.array([[-1.0, 0.0]])
      >>> tweedie_consistency(jnp.array([[0.0, 2.5]]), s, x, 1.0)   # residual (0, 0.5): ‖·‖² = 0.25
      Array(0.25, dtype=float32)
    """
    fn = "tweedie_consistency"
    checks.check_choice(fn, "reduce", reduce, REDUCE)
    relative = _check_relative(fn, relative)
    return _tweedie_core(denoiser_out, score_out, x, sigma, where, weights, relative=relative, reduce=reduce)


# --------------------------------------------------------------------------------------------------
# registry

register(MetricInfo(
    name="explicit_score_matching_error", family="score_matching", fn=explicit_score_matching_error,
    differentiable=True, higher_is_better=False, streaming=explicit_score_matching_error_metric,
    oracle="numpy 0.5*|a-b|^2 weighted mean; 0 for closed-form scores vs jax.grad of jax.scipy.stats logpdf"))
register(MetricInfo(
    name="fisher_divergence", family="score_matching", fn=fisher_divergence, differentiable=True,
    higher_is_better=False, streaming=fisher_divergence_metric,
    oracle="numpy |a-b|^2 weighted mean; closed form dmu' Sigma^-2 dmu for equal-covariance Gaussians"))
register(MetricInfo(
    name="score_fvu", family="score_matching", fn=score_fvu, differentiable=True, higher_is_better=False,
    streaming=score_fvu_metric,
    oracle="numpy weighted FVU in denoiser space (Gaussian vs numpy empirical delta-mixture denoiser on iris)"))
register(MetricInfo(
    name="tweedie_consistency", family="score_matching", fn=tweedie_consistency, differentiable=True,
    higher_is_better=False, streaming=tweedie_consistency_metric,
    oracle="numpy closed-form Gaussian denoiser/score (exactly consistent: 0) and numpy residual means"))
