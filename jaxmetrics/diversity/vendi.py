r"""The Vendi score of order q: the effective number of distinct samples under a similarity kernel.

**Definition** (METRICS.md §8.1). For samples x_1 … x_n with prevalences p (p_i = w_i / Σ w_j; uniform
1/n without weights) and a positive semi-definite kernel k with k(x, x) = 1, let

.. math::

    \tilde K = K \circ \sqrt{p}\sqrt{p}^\top, \quad K_{ij} = k(x_i, x_j), \qquad
    \lambda = \operatorname{eigvalsh}(\tilde K), \qquad
    \mathrm{VS}_q = \Big(\sum_i \lambda_i^{\,q}\Big)^{1/(1-q)}

(uniform p gives K̃ = K/n). The limits and special orders are

* q = 1: exp(−Σ λ log λ) (the exponential of the von Neumann entropy; the default);
* q = 2: 1/Σλ² = 1/‖K̃‖²_F — n²/‖K‖²_F for uniform p — computed **without an eigendecomposition**;
* q = ∞: 1/λ_max;
* q = 0: the rank of K̃, the number of λ_i > tol (below).

VS_q lies in [1, n] for a kernel with unit diagonal (1 when all samples are identical, n when they are
mutually orthogonal; B equal all-ones blocks give B for every q); small q weights rare items more, large
q common ones. With K = I it is the Hill number (Σ p_i^q)^{1/(1−q)} of the prevalences, and integer
weights are equivalent to repeating rows.

**Primal and dual.** The non-zero eigenvalues of K̃ are those of the d×d matrix Φᵀ diag(p) Φ when the
kernel has an explicit feature map Φ: the rows themselves (``kernel="linear"``) or the ℓ2-normalised
rows (``kernel="cosine"``). ``method="auto"`` picks the smaller eigenproblem (the dual when d < n for
these two kernels; always the primal n×n problem for ``rbf``, ``laplacian`` and callables).

**Conventions** (METRICS.md §17.12):

* Eigenvalues ≤ tol = max(n, d)·eps·λ_max (n for a precomputed kernel; eps of the compute dtype;
  numpy's ``matrix_rank`` default) are treated as exactly 0: they are the rounding noise of a
  rank-deficient K̃. This is the rank tolerance of q = 0 and the guard of λ^q and λ log λ (whose
  derivatives are infinite at 0), so the gradient of the score is finite for rank-deficient kernels
  (identical or duplicate rows); it depends on λ only through symmetric functions, so repeated
  eigenvalues are harmless (``eigvalsh``'s eigenvalue derivative v_i v_iᵀ is used, never 1/(λ_i − λ_j)). The
  reference ``vendi-score`` drops eigenvalues ≤ 0 instead; the two agree to ~1e-12 in float64 except
  at q = 0 (where the reference counts noise eigenvalues) and for q < 1 on rank-deficient kernels
  (noise of size (n·eps)^q).
* The kernel is used as given: Vendi assumes k(x, x) = 1 (``cosine``, ``rbf``, ``laplacian``). For
  ``linear`` or a callable without a unit diagonal the score is computed on the raw eigenvalues of K̃,
  exactly as ``vendi_score.vendi.score_K(K, normalize=False)``; it is then not scale-invariant.
  Under ``cosine`` a zero row has k(x, x) = 0 (it adds no mass).
* ``where`` masks samples (a masked sample gets prevalence 0 and may hold NaN); n counts the unmasked
  samples. ``weights`` are non-negative prevalence (frequency) weights.
* Undefined cases: no unmasked sample (Σw = 0) → NaN; a kernel that is 0 on the unmasked samples (all
  λ ≤ tol, e.g. all-zero rows under ``cosine``) → 0 for every q. Gradients are finite everywhere
  (double-``where``); q = 0 is piecewise constant (zero gradient) and q = ∞ has the subgradient of
  λ_max.

**Complexity.** Primal: the n×n kernel (O(n²·d) time, O(n²) memory) plus ``eigvalsh`` O(n³); dual:
O(n·d²) + O(d³). q = 2 needs no eigendecomposition: O(n²·d) primal — in row chunks of ``chunk_size``
(memory O(chunk_size·n)) — or O(n·d²) dual.

Oracle: ``vendi_score.vendi.score_K(K, q=q, p=p)`` and ``score_dual(X, q=q)`` (vendi-score 0.0.3;
``score_X`` ignores q), and the numpy ``eigvalsh`` reference of ``tests/reference/vendi.py``.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxmetrics._src import checks, numerics, pairwise
from jaxmetrics._src.checks import _fail
from jaxmetrics._src.registry import MetricInfo, register

Array = jax.Array

__all__ = ["vendi_score", "vendi_score_from_kernel"]

KERNELS = ("cosine", "linear", "rbf", "laplacian")
DUAL_KERNELS = ("cosine", "linear")
METHODS = ("auto", "primal", "dual")


# --------------------------------------------------------------------------------------------------
# arguments


def check_order(fn: str, q) -> float:
    """The static order q >= 0 (a Python number, ``math.inf``/``jnp.inf`` or the string ``"inf"``)."""
    if isinstance(q, str) and q == "inf":
        return math.inf
    if isinstance(q, (bool, np.bool_)) or not isinstance(q, (int, float, np.integer, np.floating)):
        _fail(fn, f"argument `q` must be a static number >= 0 (or inf); got {type(q).__name__} {q!r}.")
    q = float(q)
    if math.isnan(q) or q < 0:
        _fail(fn, f"argument `q` must be >= 0 (or inf); got {q}.")
    return q


def _check_kernel(fn: str, kernel) -> None:
    if not callable(kernel):
        checks.check_choice(fn, "kernel", kernel, KERNELS)


def _prevalences(fn, sample_shape, dtype, where, weights):
    """p ``[..., n]`` (0 for masked samples), the validity mask and the total weight W ``[...]``."""
    w = checks.sample_weights(fn, sample_shape, dtype, where, weights)
    valid = w > 0
    total = w.sum(-1)
    return numerics.safe_div(w, total[..., None]), valid, total


def unit_rows(x) -> Array:
    """Rows of ``x [..., n, d]`` divided by their ℓ2 norm; a zero row stays 0 (finite gradient)."""
    norm = numerics.safe_sqrt(jnp.sum(x * x, axis=-1, keepdims=True))
    return numerics.safe_div(x, norm)


def _symmetric(a):
    return 0.5 * (a + jnp.swapaxes(a, -1, -2))


# --------------------------------------------------------------------------------------------------
# spectrum -> score


def spectral_score(lam, q: float, size: int) -> Array:
    """VS_q from the eigenvalues ``lam [..., m]`` of K̃; ``size`` = max(n, d) sets the zero tolerance.

    Eigenvalues ≤ tol = size·eps·λ_max are exactly 0 (value and gradient); a spectrum with no
    eigenvalue above tol gives 0.
    """
    eps = float(jnp.finfo(lam.dtype).eps)
    lam_max = jnp.max(lam, axis=-1)
    tol = lax.stop_gradient(size * eps * jnp.maximum(lam_max, 0.0))
    pos = lam > tol[..., None]
    some = jnp.any(pos, axis=-1)
    safe = jnp.where(pos, lam, 1.0)
    zero = jnp.zeros((), lam.dtype)
    if q == 0:
        out = pos.sum(-1).astype(lam.dtype)
    elif q == 1:
        out = jnp.exp(-jnp.where(pos, safe * jnp.log(safe), zero).sum(-1))
    elif math.isinf(q):
        out = numerics.safe_div(1.0, jnp.where(some, lam_max, zero))
    else:
        s = jnp.where(pos, safe**q, zero).sum(-1)
        out = jnp.exp(numerics.safe_log(s, 0.0) / (1.0 - q))
    return jnp.where(some, out, zero)


def _order2_score(sum_sq) -> Array:
    """VS_2 = 1/Σλ² = 1/‖K̃‖²_F; 0 for a zero kernel."""
    return numerics.safe_div(1.0, sum_sq)


def _nan_unless(ok, value):
    return jnp.where(ok, value, jnp.full((), jnp.nan, value.dtype))


# --------------------------------------------------------------------------------------------------
# features


def _use_dual(fn, kernel, method, n, d) -> bool:
    if method == "dual":
        if callable(kernel) or kernel not in DUAL_KERNELS:
            _fail(fn, f"argument `method`='dual' needs a kernel with an explicit feature map {DUAL_KERNELS}; "
                      f"got kernel={kernel!r}.")
        return True
    if method == "primal":
        return False
    return (not callable(kernel)) and kernel in DUAL_KERNELS and d < n


def vendi_score(x, *, q: float = 1.0, kernel="cosine", bandwidth=1.0, method: str = "auto",
                chunk_size: int | None = None, where=None, weights=None) -> Array:
    r"""Vendi score VS_q of a sample set: the effective number of distinct samples (module docstring).

    .. math::

        \mathrm{VS}_q = \Big(\sum_i \lambda_i^{\,q}\Big)^{1/(1-q)}, \qquad
        \lambda = \operatorname{eigvalsh}\big(K \circ \sqrt{p}\sqrt{p}^\top\big), \quad
        K_{ij} = k(x_i, x_j),

    with the limits q = 1 (exp-entropy), q = ∞ (1/λ_max), q = 0 (rank) and q = 2 = 1/‖K̃‖²_F.

    Args:
      x: samples ``[..., n, d]`` (features from any model; leading axes are batch axes).
      q: static order ≥ 0 or ``inf`` (``math.inf`` or ``"inf"``); default 1.
      kernel: ``"cosine"`` (default; k(x, y) = xᵀy/‖x‖‖y‖), ``"linear"``, ``"rbf"``
        (exp(−‖x − y‖²/(2·bandwidth²))), ``"laplacian"`` or a callable ``k(x [n, d], y [m, d]) -> [n, m]``
        (symmetric, PSD, ideally k(x, x) = 1); see :func:`jaxmetrics._src.pairwise.kernel_matrix`.
      bandwidth: length scale of ``rbf``/``laplacian`` (may be a traced scalar).
      method: static ``"auto"`` (the smaller eigenproblem), ``"primal"`` (n×n) or ``"dual"`` (d×d;
        ``cosine`` and ``linear`` only).
      chunk_size: static row-chunk size of the primal q = 2 kernel sum (memory O(chunk_size·n));
        ``None`` = one block. The eigendecomposition paths need the whole n×n (or d×d) matrix anyway.
      where: bool sample mask ``[..., n]``. weights: prevalence weights ``[..., n]`` (≥ 0).

    Returns:
      ``[...]``: VS_q, in [1, n] for a unit-diagonal kernel ([1, min(n, d)] for cosine). NaN without
      unmasked samples; 0 for a kernel that vanishes on them. Oracle: ``vendi_score.vendi.score_K`` /
      ``score_dual`` (vendi-score 0.0.3).

    Complexity: primal O(n²·d + n³), dual O(n·d² + d³); q = 2 without an eigendecomposition.

    Example:
      >>> x = jnp.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, 3.0]])  # two directions, twice each
      >>> print(round(float(vendi_score(x)), 4), round(float(vendi_score(x, q=2, method="primal")), 4))
      2.0 2.0
    """
    fn = "vendi_score"
    x = pairwise.check_samples(fn, "x", x)
    q = check_order(fn, q)
    _check_kernel(fn, kernel)
    checks.check_choice(fn, "method", method, METHODS)
    if chunk_size is not None:
        chunk_size = checks.check_static_int(fn, "chunk_size", chunk_size, 1)
    n, d = x.shape[-2:]
    dual = _use_dual(fn, kernel, method, n, d)
    return _vendi_core(x, bandwidth, where, weights, q=q, kernel=kernel, dual=dual, chunk_size=chunk_size)


@functools.partial(jax.jit, static_argnames=("q", "kernel", "dual", "chunk_size"))
def _vendi_core(x, bandwidth, where, weights, *, q, kernel, dual, chunk_size):
    fn = "vendi_score"
    dtype = numerics.accumulation_dtype(x, weights)
    x = numerics.promote(x, dtype)
    n, d = x.shape[-2:]
    p, valid, total = _prevalences(fn, x.shape[:-1], dtype, where, weights)
    xz = jnp.where(valid[..., None], x, jnp.zeros((), dtype))  # masked rows may hold NaN
    if dual:
        phi = unit_rows(xz) if kernel == "cosine" else xz
        c = _symmetric(jnp.einsum("...ni,...n,...nj->...ij", phi, p, phi, precision=lax.Precision.HIGHEST))
        if q == 2:
            out = _order2_score(jnp.sum(c * c, axis=(-2, -1)))
        else:
            out = spectral_score(jnp.linalg.eigvalsh(c), q, max(n, d))
        return _nan_unless(total > 0, out)
    sp = numerics.safe_sqrt(p)
    if q == 2 and chunk_size is not None:
        sum_sq = _chunked_sum_sq(xz, sp, bandwidth, kernel, chunk_size)
        return _nan_unless(total > 0, _order2_score(sum_sq))
    k = pairwise.kernel_matrix(xz, xz, kernel, bandwidth=bandwidth)
    pair = valid[..., :, None] & valid[..., None, :]
    kt = jnp.where(pair, k * sp[..., :, None] * sp[..., None, :], jnp.zeros((), dtype))
    if q == 2:
        out = _order2_score(jnp.sum(kt * kt, axis=(-2, -1)))
    else:
        out = spectral_score(jnp.linalg.eigvalsh(_symmetric(kt)), q, max(n, d))
    return _nan_unless(total > 0, out)


def _chunked_sum_sq(xz, sp, bandwidth, kernel, chunk_size):
    """Σ_ij (K_ij √p_i √p_j)² over row chunks; leading axes handled by ``vmap``."""

    def one(xs, s):
        rows = jnp.concatenate([xs, s[:, None]], axis=-1)

        def block(r):
            xr, sr = r[:, :-1], r[:, -1]
            kr = pairwise.kernel_matrix(xr, xs, kernel, bandwidth=bandwidth)
            ok = (sr[:, None] > 0) & (s[None, :] > 0)
            v = jnp.where(ok, kr * sr[:, None] * s[None, :], jnp.zeros((), kr.dtype))
            return jnp.sum(v * v, axis=-1)

        return jnp.sum(pairwise.map_row_chunks(block, rows, chunk_size=chunk_size))

    batch = xz.shape[:-2]
    flat = jax.vmap(one)(xz.reshape(-1, *xz.shape[-2:]), sp.reshape(-1, sp.shape[-1]))
    return flat.reshape(batch)


# --------------------------------------------------------------------------------------------------
# precomputed kernel


def vendi_score_from_kernel(K, *, q: float = 1.0, where=None, weights=None) -> Array:
    r"""Vendi score VS_q of a precomputed kernel matrix (module docstring).

    .. math::

        \mathrm{VS}_q = \Big(\sum_i \lambda_i^{\,q}\Big)^{1/(1-q)}, \qquad
        \lambda = \operatorname{eigvalsh}\big(K \circ \sqrt{p}\sqrt{p}^\top\big)

    (K/n for uniform prevalences). ``K`` is symmetrised as (K + Kᵀ)/2; it should be PSD with unit
    diagonal.

    Args:
      K: kernel matrix ``[..., n, n]`` (leading axes are batch axes).
      q: static order ≥ 0 or ``inf``; default 1.
      where: bool sample mask ``[..., n]`` (masks rows and columns; masked entries may hold NaN).
      weights: prevalence weights ``[..., n]`` (≥ 0).

    Returns:
      ``[...]``. VS(I) = n, VS(11ᵀ) = 1. NaN without unmasked samples; 0 for a zero kernel. Oracle:
      ``vendi_score.vendi.score_K(K, q=q, p=p)``.

    Complexity: one n×n ``eigvalsh``, O(n³); q = 2 is O(n²) (Frobenius norm, no eigendecomposition).

    Example:
      >>> K = jnp.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 1.0]])
      >>> print([round(float(vendi_score_from_kernel(K, q=q)), 4) for q in (1, 2, "inf")])
      [2.1573, 1.9481, 1.5789]
    """
    fn = "vendi_score_from_kernel"
    K = jnp.asarray(K)
    checks.check_min_rank(fn, "K", K, 2, "[..., n, n]")
    if not (jnp.issubdtype(K.dtype, jnp.floating) or jnp.issubdtype(K.dtype, jnp.integer)):
        _fail(fn, f"argument `K` must be a real (floating or integer) array; got dtype {K.dtype}.")
    if K.shape[-1] != K.shape[-2] or K.shape[-1] < 1:
        _fail(fn, f"argument `K` must be a square kernel matrix [..., n, n] (n >= 1); got shape {K.shape}.")
    q = check_order(fn, q)
    return _from_kernel_core(K, where, weights, q=q)


@functools.partial(jax.jit, static_argnames=("q",))
def _from_kernel_core(K, where, weights, *, q):
    fn = "vendi_score_from_kernel"
    dtype = numerics.accumulation_dtype(K, weights)
    K = numerics.promote(K, dtype)
    n = K.shape[-1]
    p, valid, total = _prevalences(fn, K.shape[:-1], dtype, where, weights)
    sp = numerics.safe_sqrt(p)
    pair = valid[..., :, None] & valid[..., None, :]
    kz = jnp.where(pair, K, jnp.zeros((), dtype))
    kt = _symmetric(kz) * sp[..., :, None] * sp[..., None, :]
    if q == 2:
        out = _order2_score(jnp.sum(kt * kt, axis=(-2, -1)))
    else:
        out = spectral_score(jnp.linalg.eigvalsh(kt), q, n)
    return _nan_unless(total > 0, out)


# --------------------------------------------------------------------------------------------------
# registry

register(MetricInfo(
    name="vendi_score", family="diversity", fn=vendi_score, differentiable=True, higher_is_better=True,
    oracle="vendi_score.vendi.score_K / score_dual (vendi-score 0.0.3); numpy eigvalsh (tests/reference/vendi.py)",
))
register(MetricInfo(
    name="vendi_score_from_kernel", family="diversity", fn=vendi_score_from_kernel, differentiable=True,
    higher_is_better=True,
    oracle="vendi_score.vendi.score_K(K, q, p) (vendi-score 0.0.3); numpy eigvalsh (tests/reference/vendi.py)",
))
