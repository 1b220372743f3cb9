r"""Denoising score matching: the per-sample loss under the standard weightings and its profile over
noise levels (the "loss per σ" curve of a diffusion model), streamable.

**Noise convention** (:mod:`~jaxmetrics.score_matching._noise`): ``x = x0 + sigma * eps``,
``eps ~ N(0, I)``; the regression target of the score is the conditional score ``−eps / sigma``. A
model output ``pred`` evaluated at ``(x, sigma)`` is read through ``parameterization`` (``"epsilon"``:
ε̂, ``"x0"``: a denoiser D, ``"score"``: s). The three residuals are one quantity up to a power of σ:

    e_s = s + ε/σ = −(ε̂ − ε)/σ = (D − x0)/σ²,

so the loss is computed from the residual native to the parameterization (ε̂ − ε, D − x0 or s + ε/σ,
never by forming ``x`` and converting back): the same model expressed in the three parameterizations
gives the same loss up to rounding.

**Weightings** λ(σ) multiply the squared score error ‖e_s‖² (Song & Ermon 2019; Karras et al. 2022):

* ``"sigma2"``: λ = σ² — the ε-prediction MSE ‖ε̂ − ε‖² (DDPM "simple" loss) = ‖D − x0‖²/σ²;
* ``"edm"``: λ = σ⁴·λ_EDM with λ_EDM(σ) = (σ² + σ_data²)/(σ·σ_data)², i.e. exactly the EDM loss
  λ_EDM(σ)·‖D − x0‖² whatever the parameterization (= (σ² + σ_data²)/σ_data² · ‖ε̂ − ε‖²);
* ``"none"``: λ = 1 — the raw score error ‖s + ε/σ‖² (= ‖ε̂ − ε‖²/σ², which grows like 1/σ²).

**Feature reduction** (``feature_reduce``): ``"sum"`` over the feature axis d (default, the
theoretical ‖·‖²: the closed forms and the Fisher divergence use it) or ``"mean"`` (= sum/d, common in
training code). It applies to the loss and therefore to anything profiled from it.

**Profile** (:func:`dsm_profile`): per-sample losses binned over log σ in ``num_bins`` static bins
uniform in log σ between ``sigma_min`` and ``sigma_max`` (bin k covers
[σ_min·r^k, σ_min·r^(k+1)), r = (σ_max/σ_min)^(1/num_bins), the last bin closed). Out-of-range σ are
clipped into the end bins (``out_of_range="clip"``, default: the profile accounts for every sample) or
dropped (``"drop"``); σ ≤ 0 counts as below the range and a NaN σ is always dropped. The mean loss of
an empty bin is NaN. The state is additive (per-bin Σw·loss and Σw), so batches, devices and
checkpoints merge by a tree-add / ``psum``.

Oracles: the analytic identities of the noise convention and the closed-form DSM minimum on Gaussian
data, E‖s*(x) + ε/σ‖² = d/σ² − tr((Σ + σ²I)⁻¹) (``tests/test_score_matching_dsm.py``); a numpy
histogram (``numpy.digitize`` on log σ) for the profile.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxmetrics._src import checks, numerics
from jaxmetrics._src.checks import _fail
from jaxmetrics._src.metric import Metric, default_state_dtype, mean_metric, one_shot, tree_add
from jaxmetrics._src.registry import MetricInfo, register
from jaxmetrics.score_matching._noise import check_parameterization

Array = jax.Array

__all__ = [
    "DSMProfile",
    "DSMProfileState",
    "WEIGHTINGS",
    "denoising_score_matching_loss",
    "denoising_score_matching_loss_metric",
    "dsm_loss",
    "dsm_profile",
    "dsm_profile_metric",
]

WEIGHTINGS = ("sigma2", "edm", "none")
FEATURE_REDUCTIONS = ("sum", "mean")
REDUCE = ("mean", None)
OUT_OF_RANGE = ("clip", "drop")

# power of σ in the factor c(σ) with loss = c(σ)·‖native residual‖² (before the EDM factor):
# λ(σ) contributes σ^0 / σ^2 / σ^2 (+ the EDM factor (σ² + σ_d²)/σ_d²) to ‖e_s‖², and
# ‖e_s‖² = ‖s + ε/σ‖² = ‖ε̂ − ε‖²/σ² = ‖D − x0‖²/σ⁴.
_WEIGHT_POWER = {"none": 0, "sigma2": 2, "edm": 2}
_RESIDUAL_POWER = {"score": 0, "epsilon": -2, "x0": -4}


class DSMProfile(NamedTuple):
    """The DSM loss binned over log σ.

    Attributes:
      bin_edges: ``[..., num_bins + 1]`` σ values of the bin edges (geometric grid, broadcast to the
        batch axes).
      bin_centers: ``[..., num_bins]`` geometric bin centres √(edge_k · edge_k+1).
      mean_loss: ``[..., num_bins]`` weighted mean loss per bin; NaN for an empty bin.
      count: ``[..., num_bins]`` total sample weight per bin (the number of samples when unweighted).
    """

    bin_edges: Array
    bin_centers: Array
    mean_loss: Array
    count: Array


class DSMProfileState(NamedTuple):
    """Additive state of :func:`dsm_profile_metric`: per-bin Σ w·loss and Σ w, each ``[..., num_bins]``."""

    loss_sum: Array
    weight: Array


# --------------------------------------------------------------------------------------------------
# configuration


def _static_positive(fn, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        _fail(fn, f"argument `{name}` must be a static Python number; got {type(value).__name__} {value!r}.")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        _fail(fn, f"argument `{name}` must be a finite number > 0; got {value}.")
    return value


def _loss_config(fn, parameterization, weighting, sigma_data, feature_reduce):
    check_parameterization(fn, parameterization)
    checks.check_choice(fn, "weighting", weighting, WEIGHTINGS)
    checks.check_choice(fn, "feature_reduce", feature_reduce, FEATURE_REDUCTIONS)
    return _static_positive(fn, "sigma_data", sigma_data)


def _profile_config(fn, num_bins, sigma_min, sigma_max, out_of_range):
    num_bins = checks.check_static_int(fn, "num_bins", num_bins, 1)
    sigma_min = _static_positive(fn, "sigma_min", sigma_min)
    sigma_max = _static_positive(fn, "sigma_max", sigma_max)
    if not sigma_max > sigma_min:
        _fail(fn, f"argument `sigma_max` must be > `sigma_min` ({sigma_min}); got {sigma_max}.")
    checks.check_choice(fn, "out_of_range", out_of_range, OUT_OF_RANGE)
    return num_bins, sigma_min, sigma_max


# --------------------------------------------------------------------------------------------------
# the loss


def _check_float(fn, name, x, allow_integer=False):
    d = jnp.result_type(x)
    if not (jnp.issubdtype(d, jnp.floating) or (allow_integer and jnp.issubdtype(d, jnp.integer))):
        kind = "a real (floating or integer)" if allow_integer else "a floating-point"
        _fail(fn, f"argument `{name}` must be {kind} array; got dtype {d}.")


def _dsm_per_sample(pred, x0, eps, sigma, *, parameterization, weighting, sigma_data, feature_reduce):
    """Per-sample loss ``[..., N]`` (all arguments checked here, at trace time)."""
    fn = "denoising_score_matching_loss"
    pred, x0, eps, sigma = (jnp.asarray(a) for a in (pred, x0, eps, sigma))
    checks.check_min_rank(fn, "pred", pred, 2, "[..., N, d]")
    for name, a in (("pred", pred), ("x0", x0), ("eps", eps)):
        _check_float(fn, name, a)
    _check_float(fn, "sigma", sigma, allow_integer=True)
    checks.check_same_shape(fn, "x0", x0, "pred", pred, "[..., N, d]")
    checks.check_same_shape(fn, "eps", eps, "pred", pred, "[..., N, d]")
    dtype = numerics.accumulation_dtype(pred, x0, eps, sigma)
    sig = numerics.promote(checks.broadcast_arg(fn, "sigma", sigma, pred.shape[:-1], "sample shape [..., N]"), dtype)
    pred, x0, eps = (numerics.promote(a, dtype) for a in (pred, x0, eps))
    if parameterization == "epsilon":
        residual = pred - eps                           # ε̂ − ε
    elif parameterization == "x0":
        residual = pred - x0                            # D − x0
    else:
        residual = pred + eps / sig[..., None]          # s + ε/σ
    sq = jnp.sum(residual * residual, axis=-1)
    if feature_reduce == "mean":
        sq = sq / pred.shape[-1]
    power = _WEIGHT_POWER[weighting] + _RESIDUAL_POWER[parameterization]
    factor = sig ** power if power else jnp.ones_like(sig)
    if weighting == "edm":
        factor = factor * (sig * sig + sigma_data ** 2) / sigma_data ** 2
    return factor * sq


def denoising_score_matching_loss_metric(*, parameterization: str = "epsilon", weighting: str = "sigma2",
                                         sigma_data: float = 0.5, feature_reduce: str = "sum",
                                         reduce: str = "mean") -> Metric:
    """Streaming :func:`denoising_score_matching_loss` (its weighted mean over samples):
    ``update(state, pred, x0, eps, sigma, *, where, weights)``; state ``(Σ w·loss, Σ w)`` ``[...]``,
    additive (``merge`` is a tree-add, a ``psum`` across devices)."""
    fn = "denoising_score_matching_loss"
    sigma_data = _loss_config(fn, parameterization, weighting, sigma_data, feature_reduce)
    if reduce != "mean":
        _fail(fn, f"argument `reduce` of the streaming metric must be 'mean'; got {reduce!r}.")
    return mean_metric(fn, functools.partial(
        _dsm_per_sample, parameterization=parameterization, weighting=weighting, sigma_data=sigma_data,
        feature_reduce=feature_reduce))


@functools.partial(jax.jit, static_argnames=("parameterization", "weighting", "sigma_data", "feature_reduce",
                                             "reduce"))
def _dsm_core(pred, x0, eps, sigma, where, weights, *, parameterization, weighting, sigma_data, feature_reduce,
              reduce):
    config = dict(parameterization=parameterization, weighting=weighting, sigma_data=sigma_data,
                  feature_reduce=feature_reduce)
    if reduce is None:
        values = _dsm_per_sample(pred, x0, eps, sigma, **config)
        if where is None:
            return values
        keep = checks.broadcast_arg("denoising_score_matching_loss", "where", where, values.shape).astype(bool)
        return jnp.where(keep, values, jnp.zeros((), values.dtype))
    return one_shot(denoising_score_matching_loss_metric(**config), pred, x0, eps, sigma, where=where,
                    weights=weights)


def denoising_score_matching_loss(pred, x0, eps, sigma, *, parameterization: str = "epsilon",
                                  weighting: str = "sigma2", sigma_data: float = 0.5,
                                  feature_reduce: str = "sum", reduce: str | None = "mean", where=None,
                                  weights=None) -> Array:
    r"""Denoising score-matching loss of a model output at ``x = x0 + sigma·eps``, per sample or averaged.

    ℓ_i = λ(σ_i)·‖s_θ(x_i, σ_i) + ε_i/σ_i‖², with the score s_θ read from ``pred`` through
    ``parameterization`` and λ one of the weightings of the module docstring:

    ==========  =====================  ===========================  ===================================
    weighting   λ(σ) on ‖s + ε/σ‖²     in ε-form                    in denoiser form
    ==========  =====================  ===========================  ===================================
    "sigma2"    σ²                     ‖ε̂ − ε‖²                     ‖D − x0‖²/σ²
    "edm"       σ⁴·λ_EDM               (σ²+σ_d²)/σ_d²·‖ε̂ − ε‖²      λ_EDM·‖D − x0‖², λ_EDM = (σ²+σ_d²)/(σσ_d)²
    "none"      1                      ‖ε̂ − ε‖²/σ²                  ‖D − x0‖²/σ⁴
    ==========  =====================  ===========================  ===================================

    The squared norm is summed over the feature axis (``feature_reduce="sum"``) or averaged
    (``"mean"``). Each parameterization uses its native residual (ε̂ − ε, D − x0, s + ε/σ), so the
    conversions are exact: the same model in the three parameterizations gives the same loss.

    Args:
      pred: the model output at ``(x, sigma)``, ``[..., N, d]``.
      x0: clean samples ``[..., N, d]`` (read only by ``parameterization="x0"``).
      eps: the standard normal noise ``[..., N, d]`` with ``x = x0 + sigma·eps`` (not read by ``"x0"``).
      sigma: noise levels broadcastable to ``[..., N]`` (> 0; σ = 0 gives inf/NaN for powers of σ < 0).
      parameterization: static ``"epsilon"`` (default), ``"x0"`` or ``"score"``.
      weighting: static ``"sigma2"`` (default), ``"edm"`` or ``"none"``.
      sigma_data: static σ_data > 0 of the EDM weighting (0.5, the EDM default for images in [−1, 1]).
      feature_reduce: static ``"sum"`` (default) or ``"mean"`` over the feature axis d.
      reduce: static ``"mean"`` (weighted mean over N, ``[...]``) or None (per-sample ``[..., N]``,
        masked samples → 0; ``weights`` are then rejected — they weight the mean).
      where: bool sample mask broadcastable to ``[..., N]``.
      weights: sample weights broadcastable to ``[..., N]`` (e.g. a sampling-density correction).

    Returns:
      ``[...]`` (NaN when every sample is masked), or ``[..., N]`` with ``reduce=None``.

    Conventions: lower is better; the minimum over all score functions is not 0 but the conditional
    variance of the target (for Gaussian data with the "none" weighting and sum over d:
    d/σ² − tr((Σ + σ²I)⁻¹)). Gradients w.r.t. ``pred`` (hence any network parameters) are finite for
    σ > 0. O(N·d).

    Example:
      >>> eps = jnp.array([[1.0, -1.0], [0.5, 0.0]])
      >>> pred = jnp.array([[1.0, -1.0], [0.0, 0.0]])           # ε̂: exact on the first sample
      >>> denoising_score_matching_loss(pred, jnp.zeros((2, 2)), eps, jnp.array([1.0, 2.0]), reduce=None)
      Array([0.  , 0.25], dtype=float32)
    """
    fn = "denoising_score_matching_loss"
    sigma_data = _loss_config(fn, parameterization, weighting, sigma_data, feature_reduce)
    checks.check_choice(fn, "reduce", reduce, REDUCE)
    if reduce is None and weights is not None:
        _fail(fn, "argument `weights` weights samples in the mean; pass reduce='mean' (or use `where`).")
    return _dsm_core(pred, x0, eps, sigma, where, weights, parameterization=parameterization, weighting=weighting,
                     sigma_data=sigma_data, feature_reduce=feature_reduce, reduce=reduce)


dsm_loss = denoising_score_matching_loss


# --------------------------------------------------------------------------------------------------
# the profile over log σ


def _edges(num_bins, sigma_min, sigma_max, dtype):
    edges = jnp.exp(jnp.linspace(math.log(sigma_min), math.log(sigma_max), num_bins + 1, dtype=dtype))
    return edges.at[0].set(sigma_min).at[-1].set(sigma_max)            # the end points exactly


def dsm_profile_metric(*, num_bins: int = 16, sigma_min: float = 0.002, sigma_max: float = 80.0,
                       out_of_range: str = "clip") -> Metric:
    """Streaming :func:`dsm_profile`: ``update(state, loss, sigma, *, where, weights)``.

    The state :class:`DSMProfileState` holds per-bin Σ w·loss and Σ w ``[..., num_bins]``;
    ``init(dtype=None, batch_shape=())`` gives zeros ``batch_shape + (num_bins,)``. ``merge`` is a
    tree-add (a ``psum`` across devices); ``compute`` returns the :class:`DSMProfile`.
    """
    fn = "dsm_profile"
    num_bins, sigma_min, sigma_max = _profile_config(fn, num_bins, sigma_min, sigma_max, out_of_range)
    log_lo, log_hi = math.log(sigma_min), math.log(sigma_max)

    def init(dtype=None, batch_shape=()):
        d = default_state_dtype(dtype)
        zeros = jnp.zeros((*batch_shape, num_bins), d)
        return DSMProfileState(zeros, zeros)

    def update(state, loss, sigma, *, where=None, weights=None):
        loss, sigma = jnp.asarray(loss), jnp.asarray(sigma)
        checks.check_min_rank(fn, "loss", loss, 1, "[..., N]")
        _check_float(fn, "loss", loss)
        _check_float(fn, "sigma", sigma, allow_integer=True)
        sig = checks.broadcast_arg(fn, "sigma", sigma, loss.shape, "sample shape [..., N] of `loss`")
        d = state.loss_sum.dtype
        w = checks.sample_weights(fn, loss.shape, d, where, weights)
        sig = numerics.promote(sig, d)
        keep = ~jnp.isnan(sig)                                             # NaN σ: always dropped
        pos = (numerics.safe_log(sig) - log_lo) / (log_hi - log_lo) * num_bins  # σ <= 0 -> -inf
        finite_pos = jnp.where(keep, pos, jnp.zeros((), d))
        index = jnp.clip(jnp.floor(finite_pos), 0, num_bins - 1).astype(jnp.int32)
        if out_of_range == "drop":
            keep = keep & (pos >= 0) & (pos <= num_bins)                 # σ_max itself is in the last bin
        w = jnp.where(keep, w, jnp.zeros((), d))
        v = jnp.where(w != 0, numerics.promote(loss, d), jnp.zeros((), d))
        onehot = jax.nn.one_hot(index, num_bins, dtype=d)                 # [..., N, B]
        loss_sum = jnp.einsum("...n,...nb->...b", w * v, onehot, precision=jax.lax.Precision.HIGHEST)
        weight = jnp.einsum("...n,...nb->...b", w, onehot, precision=jax.lax.Precision.HIGHEST)
        return DSMProfileState(state.loss_sum + loss_sum, state.weight + weight)

    def compute(state):
        d = state.loss_sum.dtype
        batch = state.loss_sum.shape[:-1]
        edges = _edges(num_bins, sigma_min, sigma_max, d)
        centers = jnp.sqrt(edges[:-1] * edges[1:])
        return DSMProfile(
            bin_edges=jnp.broadcast_to(edges, (*batch, num_bins + 1)),
            bin_centers=jnp.broadcast_to(centers, (*batch, num_bins)),
            mean_loss=numerics.safe_div(state.loss_sum, state.weight, jnp.nan),
            count=state.weight,
        )

    return Metric(init, update, tree_add, compute)


@functools.partial(jax.jit, static_argnames=("num_bins", "sigma_min", "sigma_max", "out_of_range"))
def _profile_core(loss, sigma, where, weights, *, num_bins, sigma_min, sigma_max, out_of_range):
    metric = dsm_profile_metric(num_bins=num_bins, sigma_min=sigma_min, sigma_max=sigma_max,
                                out_of_range=out_of_range)
    return one_shot(metric, loss, sigma, where=where, weights=weights)


def dsm_profile(loss, sigma, *, num_bins: int = 16, sigma_min: float = 0.002, sigma_max: float = 80.0,
                out_of_range: str = "clip", where=None, weights=None) -> DSMProfile:
    r"""The denoising score-matching loss per noise level: per-sample losses averaged in log-σ bins.

    With edges e_k = σ_min·(σ_max/σ_min)^(k/B), k = 0..B (B = ``num_bins``), sample i falls in bin
    k = ⌊B·(ln σ_i − ln σ_min)/(ln σ_max − ln σ_min)⌋ (σ_max itself in the last bin), and

        mean_loss_k = Σ_{i in k} w_i ℓ_i / Σ_{i in k} w_i,    count_k = Σ_{i in k} w_i.

    Args:
      loss: per-sample losses ``[..., N]`` (e.g. :func:`denoising_score_matching_loss` with
        ``reduce=None``, any weighting).
      sigma: the noise level of each sample, broadcastable to ``[..., N]``.
      num_bins: static number of bins B (uniform in log σ).
      sigma_min, sigma_max: static range of the bins, 0 < σ_min < σ_max (defaults: EDM's 0.002 and 80).
      out_of_range: static ``"clip"`` (default: σ below / above the range count in the first / last
        bin) or ``"drop"`` (such samples are left out; σ_min and σ_max themselves are in range). σ <= 0
        is below the range; NaN σ is dropped. A σ exactly on an inner edge may land on either side of
        it by rounding of the logarithms (in float32 especially).
      where: bool sample mask broadcastable to ``[..., N]``.
      weights: sample weights broadcastable to ``[..., N]``.

    Returns:
      :class:`DSMProfile` ``(bin_edges [..., B+1], bin_centers [..., B], mean_loss [..., B],
      count [..., B])``; an empty bin has ``mean_loss`` NaN and ``count`` 0.

    Conventions: a masked sample contributes nothing even if its loss is NaN (padding). Streaming
    over batches / devices / checkpoints equals the one-shot (additive state, :func:`dsm_profile_metric`).
    Differentiable w.r.t. ``loss`` (zero gradient w.r.t. ``sigma``). O(N·B). Oracle: a numpy
    histogram with ``numpy.digitize`` on ln σ. Plot with :func:`jaxmetrics.plotting.dsm_profile_plot`.

    Example:
      >>> p = dsm_profile(jnp.array([1.0, 3.0, 0.5, 9.5]), jnp.array([0.1, 0.2, 5.0, 100.0]),
      ...                 num_bins=2, sigma_min=0.1, sigma_max=10.0)
      >>> p.mean_loss, p.count
      (Array([2., 5.], dtype=float32), Array([2., 2.], dtype=float32))
    """
    num_bins, sigma_min, sigma_max = _profile_config("dsm_profile", num_bins, sigma_min, sigma_max, out_of_range)
    return _profile_core(loss, sigma, where, weights, num_bins=num_bins, sigma_min=sigma_min, sigma_max=sigma_max,
                         out_of_range=out_of_range)


# --------------------------------------------------------------------------------------------------
# registry

register(MetricInfo(
    name="denoising_score_matching_loss", family="score_matching", fn=denoising_score_matching_loss,
    differentiable=True, higher_is_better=False, streaming=denoising_score_matching_loss_metric,
    oracle="analytic: closed-form DSM minimum on Gaussian data (d/σ² − tr((Σ+σ²I)⁻¹)) and the exact "
           "parameterization identities; numpy per-sample formula",
    aliases=("dsm_loss",),
))
register(MetricInfo(
    name="dsm_profile", family="score_matching", fn=dsm_profile, differentiable=True, higher_is_better=None,
    streaming=dsm_profile_metric,
    oracle="numpy histogram of the per-sample loss over numpy.digitize(log sigma) bins",
))
