r"""Closed-form reference scores and denoisers of noise-convolved distributions: Gaussian, empirical
(the training set as a delta mixture) and Gaussian mixture.

For data p_0 and the noise convention ``x = x0 + sigma·eps`` (:mod:`~jaxmetrics.score_matching._noise`),
the noisy marginal is p_σ = p_0 ∗ N(0, σ²I); its score s(x, σ) = ∇ log p_σ(x) and the optimal (MMSE)
denoiser D(x, σ) = E[x0 | x] satisfy Tweedie's formula D = x + σ² s. Here both are in closed form:

* :func:`gaussian_score` / :func:`gaussian_denoiser` — p_0 = N(μ, Σ):
  s = −(Σ + σ²I)⁻¹(x − μ), D = μ + Σ(Σ + σ²I)⁻¹(x − μ), in the eigenbasis Σ = U diag(λ) Uᵀ
  (one ``eigh`` for every σ; eigenvalues clipped at 0, so a singular Σ works for σ > 0 and the
  denoiser at σ = 0 is the projection onto the support, λ/(λ + σ²) := 0 where λ = σ = 0).
* :func:`empirical_score` / :func:`empirical_denoiser` — p_0 = Σ_i w_i δ_{x_i} / Σ_i w_i (the training set):
  D(x) = Σ_i softmax_i(ln w_i − ‖x − x_i‖²/(2σ²))·x_i, s = (D − x)/σ² — what a diffusion model that
  memorises its training set computes. The softmax is a streaming (online) logsumexp over chunks of
  the data (``lax.scan`` carrying the running max, Σ exp and Σ exp·x_i), so memory is
  O(batch·chunk_size), never O(batch·N).
* :func:`gaussian_mixture_score` / :func:`gaussian_mixture_denoiser` — p_0 = Σ_k π_k N(μ_k, Σ_k):
  the posterior r_k(x) ∝ π_k N(x; μ_k, Σ_k + σ²I) (a logsumexp over components) mixes the component
  scores and denoisers: s = Σ_k r_k s_k, D = Σ_k r_k D_k.

**Shapes.** Queries ``x [..., d]`` (leading axes are batch axes); ``sigma`` a scalar or broadcastable to
``[...]`` (= ``x.shape[:-1]``), > 0 unless stated; parameters ``mean [d]``, ``cov [d, d]``,
``data [N, d]``, ``means [K, d]``, ``covs [K, d, d]`` (vmap for batches of models / data sets). Results
``[..., d]`` in the accumulation dtype (≥ float32).

These are reference utilities (ground truth for the score error metrics of
:mod:`~jaxmetrics.score_matching.errors`, and the "Unreasonable Effectiveness of Gaussian Score
Approximation" baseline), not metrics: they are not registered and take no ``where``/``weights`` over
the queries. Gradients w.r.t. ``x``, ``sigma``, ``mean(s)`` and ``data`` are finite; the gradient
w.r.t. a covariance goes through ``eigh`` and is not defined at repeated eigenvalues (treat the
covariances as fixed references, or perturb them).

Oracles (``tests/test_score_matching_reference.py``): ``jax.grad`` of ``jax.scipy.stats`` log densities
of the noise-convolved Gaussian / mixture; a dense numpy softmax for the empirical score.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from jaxmetrics._src import checks, numerics
from jaxmetrics._src.checks import _fail
from jaxmetrics._src.pairwise import scan_row_chunks, squared_distances

Array = jax.Array

__all__ = [
    "empirical_denoiser",
    "empirical_score",
    "gaussian_denoiser",
    "gaussian_mixture_denoiser",
    "gaussian_mixture_score",
    "gaussian_score",
]

_HI = lax.Precision.HIGHEST


# --------------------------------------------------------------------------------------------------
# argument checks


def _check_real(fn, name, a):
    a = jnp.asarray(a)
    if not (jnp.issubdtype(a.dtype, jnp.floating) or jnp.issubdtype(a.dtype, jnp.integer)):
        _fail(fn, f"argument `{name}` must be a real (floating or integer) array; got dtype {a.dtype}.")
    return a


def _check_query(fn, x, sigma, *params):
    """``x [..., d]`` and ``sigma`` broadcast to ``[...]``, both promoted to the accumulation dtype."""
    x = _check_real(fn, "x", x)
    checks.check_min_rank(fn, "x", x, 1, "[..., d]")
    sigma = _check_real(fn, "sigma", sigma)
    dtype = numerics.accumulation_dtype(x, sigma, *params)
    sigma = checks.broadcast_arg(fn, "sigma", sigma, x.shape[:-1], "leading (sample) shape [...] of `x`")
    return numerics.promote(x, dtype), numerics.promote(sigma, dtype), dtype


def _check_shape(fn, name, a, shape, layout):
    a = _check_real(fn, name, a)
    if a.shape != tuple(shape):
        _fail(fn, f"argument `{name}` must have shape {layout} = {tuple(shape)}; got {a.shape}.")
    return a


def _spectrum(cov, dtype):
    """Eigenvalues (clipped at 0) and eigenvectors of the symmetrised ``cov [..., d, d]``."""
    cov = numerics.promote(cov, dtype)
    lam, U = jnp.linalg.eigh(0.5 * (cov + jnp.swapaxes(cov, -1, -2)))
    return jnp.maximum(lam, 0.0), U


# --------------------------------------------------------------------------------------------------
# Gaussian


def _gaussian_setup(fn, x, sigma, mean, cov):
    x, sigma, dtype = _check_query(fn, x, sigma, mean, cov)
    d = x.shape[-1]
    mean = numerics.promote(_check_shape(fn, "mean", mean, (d,), "[d]"), dtype)
    cov = _check_shape(fn, "cov", cov, (d, d), "[d, d]")
    lam, U = _spectrum(cov, dtype)
    z = jnp.einsum("...d,de->...e", x - mean, U, precision=_HI)          # Uᵀ(x − μ)
    var = lam + (sigma * sigma)[..., None]                               # λ + σ²  [..., d]
    return mean, lam, U, z, var


@jax.jit
def _gaussian_score_core(x, sigma, mean, cov):
    _, _, U, z, var = _gaussian_setup("gaussian_score", x, sigma, mean, cov)
    return -jnp.einsum("...e,de->...d", z / var, U, precision=_HI)


@jax.jit
def _gaussian_denoiser_core(x, sigma, mean, cov):
    mean, lam, U, z, var = _gaussian_setup("gaussian_denoiser", x, sigma, mean, cov)
    shrink = numerics.safe_div(lam, var)                                  # λ/(λ+σ²), 0 at 0/0
    return mean + jnp.einsum("...e,de->...d", shrink * z, U, precision=_HI)


def gaussian_score(x, sigma, mean, cov) -> Array:
    r"""Score of N(μ, Σ) convolved with N(0, σ²I): s(x, σ) = −(Σ + σ²I)⁻¹(x − μ).

    Computed in the eigenbasis of Σ (one ``eigh``, eigenvalues clipped at 0), so any number of noise
    levels costs one decomposition and a singular Σ is fine for σ > 0 (σ = 0 needs Σ ≻ 0).

    Args:
      x: query points ``[..., d]``.
      sigma: noise level(s), scalar or broadcastable to ``[...]``.
      mean: data mean ``[d]``.
      cov: data covariance ``[d, d]`` (symmetric positive semi-definite; symmetrised).

    Returns:
      ``[..., d]``. O(d³ + |x|·d²).

    Example:
      >>> gaussian_score(jnp.array([1.0, 2.0]), 1.0, jnp.zeros(2), jnp.eye(2))   # −x/(1 + σ²)
      Array([-0.5, -1. ], dtype=float32)
    """
    return _gaussian_score_core(x, sigma, mean, cov)


def gaussian_denoiser(x, sigma, mean, cov) -> Array:
    r"""Optimal denoiser of N(μ, Σ) data at noise σ: D(x, σ) = μ + Σ(Σ + σ²I)⁻¹(x − μ) = x + σ²·s.

    Eigenbasis form μ + U diag(λ/(λ + σ²)) Uᵀ(x − μ); at σ = 0 it is the projection of x onto the
    support μ + range(Σ) (λ/(λ + σ²) := 0 for λ = σ = 0).

    Args:
      x: query points ``[..., d]``.
      sigma: noise level(s), scalar or broadcastable to ``[...]`` (≥ 0).
      mean: data mean ``[d]``.
      cov: data covariance ``[d, d]``.

    Returns:
      ``[..., d]``.

    Example:
      >>> gaussian_denoiser(jnp.array([1.0, 2.0]), 1.0, jnp.zeros(2), jnp.eye(2))   # x/(1 + σ²)
      Array([0.5, 1. ], dtype=float32)
    """
    return _gaussian_denoiser_core(x, sigma, mean, cov)


# --------------------------------------------------------------------------------------------------
# empirical (delta mixture over the training set)


@functools.partial(jax.jit, static_argnames=("chunk_size", "fn"))
def _empirical_core(x, sigma, data, data_where, data_weights, *, chunk_size, fn):
    data = _check_real(fn, "data", data)
    checks.check_min_rank(fn, "data", data, 2, "[N, d]")
    if data.ndim != 2:
        _fail(fn, f"argument `data` must have shape [N, d] (vmap over data sets); got {data.shape}.")
    x, sigma, dtype = _check_query(fn, x, sigma, data, data_weights)
    n, d = data.shape
    if x.shape[-1] != d:
        _fail(fn, f"argument `x` must have the feature dimension d = {d} of `data`; got shape {x.shape}.")
    if chunk_size is not None:
        checks.check_static_int(fn, "chunk_size", chunk_size, 1)
    w = checks.sample_weights(fn, (n,), dtype, data_where, data_weights)
    log_w = numerics.safe_log(w)                                          # masked / zero weight: −inf
    valid_rows = (w > 0)[:, None]
    data = jnp.where(valid_rows, numerics.promote(data, dtype), jnp.zeros((), dtype))  # NaN-padding safe
    shift = lax.stop_gradient(jnp.sum(data, 0) / jnp.maximum(jnp.sum(valid_rows), 1).astype(dtype))
    batch = x.shape[:-1]
    q = (x - shift).reshape(-1, d)                                        # [B, d]
    inv_two_var = 1.0 / (2.0 * sigma * sigma).reshape(-1)                 # [B]
    rows = jnp.concatenate([jnp.where(valid_rows, data - shift, 0.0), log_w[:, None]], axis=1)  # [N, d + 1]

    def step(carry, chunk, valid):
        m, s, v = carry
        pts, lw = chunk[:, :d], chunk[:, d]
        logits = -squared_distances(q, pts) * inv_two_var[:, None] + lw[None, :]
        logits = jnp.where(valid[None, :] & (lw[None, :] > -jnp.inf), logits, -jnp.inf)
        m_new = lax.stop_gradient(jnp.maximum(m, jnp.max(logits, axis=1)))
        m_safe = jnp.where(jnp.isfinite(m_new), m_new, 0.0)
        scale = jnp.exp(m - m_safe)                                       # previous terms, rescaled
        p = jnp.exp(logits - m_safe[:, None])                             # [B, c]
        s = scale * s + p.sum(1)
        v = scale[:, None] * v + jnp.matmul(p, pts, precision=_HI)
        return (m_new, s, v), jnp.zeros((chunk.shape[0], 0), dtype)

    B = q.shape[0]
    init = (jnp.full((B,), -jnp.inf, dtype), jnp.zeros((B,), dtype), jnp.zeros((B, d), dtype))
    (_, s, v), _ = scan_row_chunks(step, init, rows, chunk_size=chunk_size)
    has_data = (s > 0).reshape(batch)[..., None]                        # False: no valid data row
    denoised = (numerics.safe_div(v, s[:, None]) + shift).reshape(*batch, d)
    if fn == "empirical_score":   # (D − x)/σ² on the safe D, then NaN: gradients stay finite
        out = (denoised - x) / (sigma * sigma)[..., None]
    else:
        out = denoised
    return jnp.where(has_data, out, jnp.nan)


def empirical_denoiser(x, sigma, data, *, data_where=None, data_weights=None, chunk_size: int | None = None) -> Array:
    r"""Optimal denoiser of the training set as data distribution (a delta mixture) at noise σ.

    D(x, σ) = Σ_i w_i exp(−‖x − x_i‖²/(2σ²)) x_i / Σ_i w_i exp(−‖x − x_i‖²/(2σ²)),

    evaluated with a streaming logsumexp over chunks of ``chunk_size`` data rows (``lax.scan``; the
    running maximum is under ``stop_gradient`` — the result does not depend on it).

    Args:
      x: query points ``[..., d]``.
      sigma: noise level(s) > 0, scalar or broadcastable to ``[...]``.
      data: training set ``[N, d]``.
      data_where: bool mask ``[N]`` of the valid data rows (padding).
      data_weights: non-negative weights ``[N]`` of the data rows (a weighted empirical distribution).
      chunk_size: static number of data rows per chunk (None: all at once). Memory
        O(|x|·chunk_size), time O(|x|·N·d).

    Returns:
      ``[..., d]``; NaN where no data row is valid (all masked).

    Conventions: squared distances use the shifted Gram expansion of
    :func:`jaxmetrics._src.pairwise.squared_distances` (the data are centred on their mean first), so
    as σ → 0 the softmax resolves distances only down to ≈ eps·‖x − x̄‖² (it then picks the nearest
    point). Oracle: a dense numpy softmax.

    Example:
      >>> data = jnp.array([[0.0, 0.0], [2.0, 0.0]])
      >>> empirical_denoiser(jnp.array([1.0, 0.0]), 0.5, data)   # equidistant: the midpoint
      Array([1., 0.], dtype=float32)
    """
    return _empirical_core(x, sigma, data, data_where, data_weights, chunk_size=chunk_size,
                           fn="empirical_denoiser")


def empirical_score(x, sigma, data, *, data_where=None, data_weights=None, chunk_size: int | None = None) -> Array:
    r"""Exact score of the training set (delta mixture) convolved with N(0, σ²I): s = (D − x)/σ².

    s(x, σ) = Σ_i softmax_i(ln w_i − ‖x − x_i‖²/(2σ²))·(x_i − x)/σ², with D = :func:`empirical_denoiser`
    (same arguments, chunking and memory bound). A single data point x_0 gives (x_0 − x)/σ².

    Args:
      x: query points ``[..., d]``.
      sigma: noise level(s) > 0, scalar or broadcastable to ``[...]``.
      data: training set ``[N, d]``.
      data_where: bool mask ``[N]`` of the valid data rows.
      data_weights: non-negative weights ``[N]`` of the data rows.
      chunk_size: static number of data rows per chunk (None: all at once).

    Returns:
      ``[..., d]``; NaN where no data row is valid.

    Example:
      >>> empirical_score(jnp.array([1.0, 1.0]), 2.0, jnp.array([[3.0, 1.0]]))   # (x0 − x)/σ²
      Array([0.5, 0. ], dtype=float32)
    """
    return _empirical_core(x, sigma, data, data_where, data_weights, chunk_size=chunk_size, fn="empirical_score")


# --------------------------------------------------------------------------------------------------
# Gaussian mixture


def _mixture_setup(fn, x, sigma, means, covs, mixture_weights):
    x, sigma, dtype = _check_query(fn, x, sigma, means, covs, mixture_weights)
    means = _check_real(fn, "means", means)
    checks.check_min_rank(fn, "means", means, 2, "[K, d]")
    if means.ndim != 2:
        _fail(fn, f"argument `means` must have shape [K, d]; got {means.shape}.")
    k, d = means.shape
    if x.shape[-1] != d:
        _fail(fn, f"argument `x` must have the feature dimension d = {d} of `means`; got shape {x.shape}.")
    covs = _check_shape(fn, "covs", covs, (k, d, d), "[K, d, d]")
    if mixture_weights is None:
        log_pi = jnp.zeros((k,), dtype)
    else:
        pi = numerics.promote(_check_shape(fn, "mixture_weights", mixture_weights, (k,), "[K]"), dtype)
        log_pi = numerics.safe_log(pi)                                    # weight 0: component absent
    means = numerics.promote(means, dtype)
    lam, U = _spectrum(covs, dtype)                                       # [K, d], [K, d, d]
    diff = x[..., None, :] - means                                        # [..., K, d]
    z = jnp.einsum("...kd,kde->...ke", diff, U, precision=_HI)            # U_kᵀ(x − μ_k)
    var = lam + (sigma * sigma)[..., None, None]                          # [..., K, d]
    log_p = log_pi - 0.5 * (jnp.sum(z * z / var, -1) + jnp.sum(jnp.log(var), -1))
    resp = jax.nn.softmax(log_p, axis=-1)                                 # posterior r_k  [..., K]
    return means, lam, U, z, var, resp


@jax.jit
def _mixture_score_core(x, sigma, means, covs, mixture_weights):
    _, _, U, z, var, resp = _mixture_setup("gaussian_mixture_score", x, sigma, means, covs, mixture_weights)
    return -jnp.einsum("...ke,kde->...d", resp[..., None] * z / var, U, precision=_HI)


@jax.jit
def _mixture_denoiser_core(x, sigma, means, covs, mixture_weights):
    means, lam, U, z, var, resp = _mixture_setup("gaussian_mixture_denoiser", x, sigma, means, covs,
                                                 mixture_weights)
    shrink = numerics.safe_div(lam, var)
    return (jnp.einsum("...k,kd->...d", resp, means, precision=_HI)
            + jnp.einsum("...ke,kde->...d", resp[..., None] * shrink * z, U, precision=_HI))


def gaussian_mixture_score(x, sigma, means, covs, mixture_weights=None) -> Array:
    r"""Score of the Gaussian mixture Σ_k π_k N(μ_k, Σ_k) convolved with N(0, σ²I).

    s(x, σ) = −Σ_k r_k(x)(Σ_k + σ²I)⁻¹(x − μ_k),  r_k ∝ π_k N(x; μ_k, Σ_k + σ²I)

    (the posterior over components, a softmax of the component log densities; one ``eigh`` per
    component serves every σ).

    Args:
      x: query points ``[..., d]``.
      sigma: noise level(s), scalar or broadcastable to ``[...]`` (> 0 for singular Σ_k).
      means: component means ``[K, d]``.
      covs: component covariances ``[K, d, d]``.
      mixture_weights: component weights π ``[K]`` (≥ 0, normalised here; default uniform).

    Returns:
      ``[..., d]``. O(K·d³ + |x|·K·d²); memory O(|x|·K·d).

    Example:
      >>> means = jnp.array([[-1.0], [1.0]]); covs = jnp.zeros((2, 1, 1))
      >>> s = gaussian_mixture_score(jnp.array([1.0]), 1.0, means, covs)  # −Σ r_k (x − μ_k)/(0 + σ²)
      >>> round(float(s[0]), 4)                                            # = −2 / (1 + e²)
      -0.2384
    """
    return _mixture_score_core(x, sigma, means, covs, mixture_weights)


def gaussian_mixture_denoiser(x, sigma, means, covs, mixture_weights=None) -> Array:
    r"""Optimal denoiser of Gaussian-mixture data: D = Σ_k r_k(x)[μ_k + Σ_k(Σ_k + σ²I)⁻¹(x − μ_k)] = x + σ²·s.

    Args:
      x: query points ``[..., d]``.
      sigma: noise level(s), scalar or broadcastable to ``[...]``.
      means: component means ``[K, d]``.
      covs: component covariances ``[K, d, d]``.
      mixture_weights: component weights π ``[K]`` (default uniform).

    Returns:
      ``[..., d]`` (see :func:`gaussian_mixture_score`).

    Example:
      >>> means = jnp.array([[-1.0], [1.0]]); covs = jnp.zeros((2, 1, 1))
      >>> round(float(gaussian_mixture_denoiser(jnp.array([5.0]), 0.1, means, covs)[0]), 4)  # nearest mean
      1.0
    """
    return _mixture_denoiser_core(x, sigma, means, covs, mixture_weights)
