r"""Sliced score matching (Song, Garg, Shi & Ermon 2019) and the Hutchinson divergence of a vector field.

Both estimate the trace of a Jacobian with random projections, v ᵀ(∂f/∂x) v, computed **forward mode**
(one ``jax.jvp`` of the callable per projection, ``vmap``-ped over projections; no Jacobian is formed).

**Callables.** ``score_fn(x, sigma)`` (or ``score_fn(x)`` when ``sigma`` is None) and ``fn(x)`` take
``x [..., N, d]`` and return ``[..., N, d]``, acting on **each sample independently** (row ``i`` of the
output depends on row ``i`` of the input only — any per-sample network; batch-coupled layers such as
batch norm in training mode break this, and the estimate then mixes samples). Parameters are closed
over, so ``jax.grad`` with respect to them flows through the estimate (reverse over forward mode).

**Projections.** ``key`` draws ``num_projections`` (``num_probes``) i.i.d. vectors per sample,
``v ∈ {±1}^d`` (``"rademacher"``, the default) or ``v ∼ N(0, I)`` (``"gaussian"``); both have
E[vvᵀ] = I. The draw has shape ``[M, N, d]`` (M projections of the N samples' own vectors), drawn in
float32 (so a key gives the same probes whether or not x64 is on — Gaussian ones up to float32
rounding, since compiled XLA may evaluate the draw with excess precision) and cast to the accumulation
dtype of ``x``, and is **shared by all leading batch axes**: a call on stacked inputs
``[B, N, d]`` equals ``jax.vmap`` of the call with the same key, and each sample's result does not
depend on the other leading batch entries. Independent draws per batch entry: ``jax.vmap`` over keys.
Same key → same projections → same answer, eager or jitted.

**Compilation.** Pass the callable as a :class:`jax.tree_util.Partial` (e.g.
``Partial(apply_fn, params)``) and the call is jitted and cached: its bound arguments are traced, so new
parameter values reuse the compiled program. Any other callable runs op by op unless the call is
jitted by the caller.

**Memory.** All M projections at once (``chunk_size=None``): O(M·N·d) plus M copies of the callable's
tangent activations; a static ``chunk_size`` evaluates the projections in chunks with ``lax.map``.
"""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from jaxmetrics._src import checks, numerics
from jaxmetrics._src.checks import _fail
from jaxmetrics._src.pairwise import map_row_chunks
from jaxmetrics._src.registry import MetricInfo, register
from jaxmetrics.score_matching import _noise
from jaxmetrics.score_matching.errors import REDUCE, check_sigma, check_vectors, sample_mask, zero_invalid

Array = jax.Array

__all__ = ["DivergenceEstimate", "sliced_score_matching_loss", "hutchinson_divergence"]

PROJECTIONS = ("rademacher", "gaussian")


class DivergenceEstimate(NamedTuple):
    """A per-sample stochastic divergence estimate.

    Attributes:
      estimate: ``[..., N]``, the mean over the probes of vᵀ(∂f/∂x)v, an unbiased estimate of ∇·f(x).
      std_error: ``[..., N]``, its standard error ``std(samples, ddof=1) / sqrt(num_probes)`` (NaN with
        a single probe). Rademacher probes give 0 for a diagonal Jacobian (the estimate is exact).
    """

    estimate: Array
    std_error: Array


def _check_callable(fn: str, name: str, f) -> None:
    if not callable(f):
        raise TypeError(f"jaxmetrics.{fn}: argument `{name}` must be callable; got {type(f).__name__}.")


def _check_config(fn, count_name, count, kind_name, kind, chunk_size):
    m = checks.check_static_int(fn, count_name, count, 1)
    checks.check_choice(fn, kind_name, kind, PROJECTIONS)
    if chunk_size is not None:
        checks.check_static_int(fn, "chunk_size", chunk_size, 1)
    return m


def _draw(key, kind: str, shape: tuple, dtype) -> Array:
    """Probes drawn in float32 whatever ``dtype``: the same key gives the same probes with or without x64."""
    if kind == "rademacher":
        v = jax.random.rademacher(key, shape, dtype=jnp.float32)
    else:
        v = jax.random.normal(key, shape, dtype=jnp.float32)
    return v.astype(dtype)


def _check_output(fn: str, name: str, f, x) -> None:
    out = jax.eval_shape(f, x)
    if not (hasattr(out, "shape") and out.shape == x.shape):
        _fail(fn, f"argument `{name}` must map x {tuple(x.shape)} to an array of the same shape; "
                  f"got {getattr(out, 'shape', out)}.")


def _projected(f, x, key, num, kind, chunk_size):
    """``(vᵀJv [M, ..., N], vᵀf [M, ..., N])`` for M probes v ``[M, N, d]`` (broadcast over leading axes)."""
    probes = _draw(key, kind, (num, *x.shape[-2:]), x.dtype)

    def one(v):
        v = jnp.broadcast_to(v, x.shape)
        out, jv = jax.jvp(f, (x,), (v,))
        return jnp.sum(v * jv, axis=-1), jnp.sum(v * out, axis=-1)

    quad, lin = map_row_chunks(jax.vmap(one), probes, chunk_size=chunk_size)
    return quad, lin


@functools.lru_cache(maxsize=None)
def _jitted(core, static: tuple):
    return jax.jit(core, static_argnames=static)


def call_core(core, f, *args, **static):
    """``core(f, *args, **static)``; compiled and cached when ``f`` is a :class:`jax.tree_util.Partial`.

    A ``Partial``'s bound arguments (network parameters) are pytree leaves, so it can be a traced
    argument of ``jax.jit``: every call with the same function, shapes and static configuration reuses
    one compiled program, whatever the parameter values. Any other callable runs op by op (eagerly),
    unless the caller jits the call (the usual case inside a training or evaluation step).
    """
    if isinstance(f, jax.tree_util.Partial):
        return _jitted(core, tuple(static))(f, *args, **static)
    return core(f, *args, **static)


# --------------------------------------------------------------------------------------------------
# sliced score matching


def sliced_score_matching_loss(score_fn: Callable, x, sigma=None, *, key, num_projections: int = 1,
                               projection: str = "rademacher", variance_reduced: bool = False,
                               parameterization: str = "score", chunk_size: int | None = None, where=None,
                               weights=None, reduce="mean") -> Array:
    r"""Sliced score-matching loss of a score model (Song et al. 2019, SSM and SSM-VR).

    Per sample, with M projections v_m (E[vvᵀ] = I) and s = s_θ(x):

        SSM:     ℓ(x) = (1/M) Σ_m [ v_mᵀ (∂s/∂x) v_m + ½ (v_mᵀ s)² ]
        SSM-VR:  ℓ(x) = (1/M) Σ_m v_mᵀ (∂s/∂x) v_m + ½ ‖s‖²       (``variance_reduced=True``)

    Both are unbiased for Hyvärinen's implicit score-matching objective
    tr(∂s/∂x) + ½‖s‖² = J_ESM(θ) − const, whose minimiser over all scores is ∇log p: lower is better,
    and the loss can be negative. SSM-VR replaces the projected second term by its exact expectation
    (Song et al.'s variance-reduced variant). With Rademacher probes E[vᵀAv] = tr A and E[(vᵀs)²] = ‖s‖²
    hold exactly, and vᵀAv = tr A for every draw when A is diagonal.

    Args:
      score_fn: ``score_fn(x, sigma)`` (or ``score_fn(x)`` when ``sigma`` is None) → ``[..., N, d]``, per
        sample (see module docstring); its output is read through ``parameterization``.
      x: points ``[..., N, d]`` (clean data, or noisy points at noise level ``sigma``).
      sigma: None, or the noise level broadcastable to ``[..., N]`` (passed to ``score_fn`` broadcast to
        ``[..., N]``; masked samples get σ = 1).
      key: PRNG key for the projections (typed or raw ``uint32[2]``).
      num_projections: static int M ≥ 1.
      projection: static ``"rademacher"`` or ``"gaussian"``.
      variance_reduced: static bool, SSM-VR.
      parameterization: static, how the output of ``score_fn`` is read: ``"score"`` (default),
        ``"epsilon"`` or ``"x0"`` (converted with ``to_score``; needs ``sigma``). The Jacobian is that of
        the converted score, e.g. (∂D/∂x − I)/σ² for a denoiser.
      chunk_size: static int or None: projections per ``lax.map`` step (None: all at once).
      where: bool sample mask broadcastable to ``[..., N]`` (masked rows are replaced by 0 before
        ``score_fn`` sees them, so NaN padding is safe).
      weights: sample weights broadcastable to ``[..., N]``.
      reduce: static ``"mean"`` (weighted mean over N, ``[...]``) or None (per-sample ℓ, ``[..., N]``,
        masked → 0).

    Returns:
      ``[...]`` (NaN when every sample is masked), or ``[..., N]``; in the accumulation dtype of ``x``.

    Oracle: for a linear score s(x) = −A(x − μ) (a Gaussian model), the exact
    E_v ℓ = −tr A + ½‖A(x − μ)‖², and the per-draw value computed in numpy from the same probes.
    Complexity: M forward-mode products (each ≈ one evaluation of ``score_fn``) on N samples.

    Example:
      >>> score = lambda x: -2.0 * x                      # Jacobian −2I: tr = −2d exactly (Rademacher)
      >>> x = jnp.array([[1.0, 0.0], [0.0, 1.0]])
      >>> sliced_score_matching_loss(score, x, key=jax.random.key(0), variance_reduced=True)
      Array(-2., dtype=float32)
    """
    fn = "sliced_score_matching_loss"
    _check_callable(fn, "score_fn", score_fn)
    m = _check_config(fn, "num_projections", num_projections, "projection", projection, chunk_size)
    checks.check_choice(fn, "reduce", reduce, REDUCE)
    _noise.check_parameterization(fn, parameterization)
    if not isinstance(variance_reduced, bool):
        _fail(fn, f"argument `variance_reduced` must be a static Python bool; got {type(variance_reduced).__name__}.")
    if reduce is None and weights is not None:
        raise ValueError(f"jaxmetrics.{fn}: `weights` weight samples in the mean; pass reduce='mean'.")
    if parameterization != "score" and sigma is None:
        _fail(fn, f"argument `sigma` is required to read a {parameterization!r} output as a score.")

    return call_core(_ssm_core, score_fn, x, sigma, key, where, weights, m=m, projection=projection,
                     variance_reduced=variance_reduced, parameterization=parameterization,
                     chunk_size=chunk_size, reduce=reduce)


def _ssm_core(score_fn, x, sigma, key, where, weights, *, m, projection, variance_reduced, parameterization,
              chunk_size, reduce):
    fn = "sliced_score_matching_loss"
    x = check_vectors(fn, "x", x)
    dtype = numerics.accumulation_dtype(x)
    sample_shape = x.shape[:-1]
    w, valid = sample_mask(fn, sample_shape, dtype, where, weights)
    (x,) = zero_invalid(valid, numerics.promote(x, dtype))
    if sigma is None:
        f = score_fn
    else:
        sig = jnp.where(valid, check_sigma(fn, sigma, sample_shape, dtype), jnp.ones((), dtype))

        def f(z):
            return _noise.to_score(score_fn(z, sig), z, sig, parameterization)
    _check_output(fn, "score_fn", f, x)

    score = lambda z: jnp.asarray(f(z), dtype)  # noqa: E731
    quad, lin = _projected(score, x, key, m, projection, chunk_size)
    if variance_reduced:
        s = score(x)
        values = quad.mean(0) + 0.5 * jnp.sum(s * s, axis=-1)
    else:
        values = (quad + 0.5 * lin * lin).mean(0)
    values = jnp.where(valid, values, jnp.zeros((), dtype))
    if reduce is None:
        return values
    return numerics.safe_div((w * values).sum(-1), w.sum(-1), jnp.nan)


# --------------------------------------------------------------------------------------------------
# Hutchinson divergence


def hutchinson_divergence(fn: Callable, x, *, key, num_probes: int = 1, probe: str = "rademacher",
                          chunk_size: int | None = None) -> DivergenceEstimate:
    r"""Hutchinson estimate of the divergence ∇·f(x) = tr(∂f/∂x) of a vector field, per sample.

        ∇·f(x) ≈ (1/M) Σ_m v_mᵀ (∂f/∂x) v_m,   E[vvᵀ] = I,

    with ``num_probes`` = M probes per sample and the Jacobian-vector products in forward mode
    (``jax.jvp``). Unbiased; with Rademacher probes the variance is 2 Σ_{i≠j} J_ij² / M (Gaussian:
    2‖J_sym‖_F² / M), so it is exact for a diagonal Jacobian. The divergence of a score is the trace term
    of score matching and of the instantaneous change of variables (FFJORD).

    Args:
      fn: ``fn(x) -> [..., N, d]``, per sample (close over σ or parameters as needed).
      x: points ``[..., N, d]`` (promoted to at least float32).
      key: PRNG key (typed or raw ``uint32[2]``); probes ``[M, N, d]``, shared by leading batch axes.
      num_probes: static int M ≥ 1.
      probe: static ``"rademacher"`` (default) or ``"gaussian"``.
      chunk_size: static int or None: probes per ``lax.map`` step (None: all at once).

    Returns:
      :class:`DivergenceEstimate` ``(estimate [..., N], std_error [..., N])``. A per-sample quantity,
      so there is no ``where``/``weights``: mask or average the result yourself.

    Oracle: ``numpy.trace`` of the dense ``jax.jacfwd`` Jacobian per sample (small d); exact (to
    rounding) for diagonal Jacobians with Rademacher probes. Complexity: M forward-mode products.

    Example:
      >>> f = lambda x: x ** 2 / 2                        # Jacobian diag(x): divergence Σ x_i
      >>> est = hutchinson_divergence(f, jnp.array([[1.0, 2.0]]), key=jax.random.key(0), num_probes=2)
      >>> est.estimate, est.std_error
      (Array([3.], dtype=float32), Array([0.], dtype=float32))
    """
    name = "hutchinson_divergence"
    _check_callable(name, "fn", fn)
    m = _check_config(name, "num_probes", num_probes, "probe", probe, chunk_size)
    return call_core(_hutchinson_core, fn, x, key, m=m, probe=probe, chunk_size=chunk_size)


def _hutchinson_core(fn, x, key, *, m, probe, chunk_size):
    name = "hutchinson_divergence"
    x = check_vectors(name, "x", x)
    dtype = numerics.accumulation_dtype(x)
    x = numerics.promote(x, dtype)
    _check_output(name, "fn", fn, x)
    quad, _ = _projected(lambda z: jnp.asarray(fn(z), dtype), x, key, m, probe, chunk_size)
    estimate = quad.mean(0)
    if m == 1:  # undefined: one documented answer, NaN (a constant: zero gradient)
        return DivergenceEstimate(estimate, jnp.full(estimate.shape, jnp.nan, dtype))
    var = jnp.sum((quad - estimate) ** 2, axis=0) / (m - 1)
    return DivergenceEstimate(estimate, numerics.safe_sqrt(var / m))


# --------------------------------------------------------------------------------------------------
# registry

register(MetricInfo(
    name="sliced_score_matching_loss", family="score_matching", fn=sliced_score_matching_loss,
    differentiable=True, higher_is_better=False,
    oracle="closed form -tr(A) + |A(x-mu)|^2/2 for linear scores; numpy per-draw values from the same probes"))
register(MetricInfo(
    name="hutchinson_divergence", family="score_matching", fn=hutchinson_divergence, differentiable=True,
    higher_is_better=None,
    oracle="numpy.trace of the dense jax.jacfwd Jacobian per sample; exact for diagonal Jacobians"))
