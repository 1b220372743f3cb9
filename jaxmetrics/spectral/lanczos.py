"""Extreme eigenvalues and the spectral density of a loss's curvature, matrix-free: Lanczos with full
reorthogonalisation, power iteration, and stochastic Lanczos quadrature (SLQ).

Every function takes a ``loss_fn(params, batch) -> scalar`` with ``params`` any pytree of float arrays
and works on the flattened parameter vector of length ``dim`` through the shared curvature operator
(:func:`jaxmetrics.spectral._linop.curvature_operator`): ``curvature="hessian"`` uses Hessian-vector
products (forward-over-reverse), ``curvature="ggn"`` Gauss–Newton products ``Jᵀ H_out J v`` and needs
the loss written as :class:`~jaxmetrics.spectral.SplitLoss`. Nothing forms the dense ``dim × dim``
matrix.

**Conventions.**

* Lanczos keeps the whole basis ``Q [m, dim]`` and reorthogonalises every new vector against all of it
  with classical Gram–Schmidt applied twice (CGS2), so memory is O(m · dim) and the Ritz values have no
  "ghost" copies. ``m = min(num_iters, dim)``: more iterations than dimensions are capped at ``dim``
  (the Krylov space is then the whole space), which also fixes the output shapes.
* **Breakdown** (an invariant subspace was found: β_j ≤ 100 · eps · max_i ‖A q_i‖) is handled by
  recording β_j = 0 and **restarting** with a fresh Gaussian vector orthogonalised (twice) against the
  basis — PyHessian's choice. (One Gaussian vector r is drawn from the ``key`` up front; the restart
  after step j uses its cyclic shift ``roll(r, j + 1)``, which is generic with probability 1, so no
  random numbers are drawn inside the loop.) T is then block diagonal: the Ritz values stay exact
  eigenvalues, the new block explores the rest of the space (so a top-k search is not trapped in a
  small invariant subspace), and in SLQ the nodes of the new block get weight exactly 0 (their
  eigenvectors have a zero first component), so the quadrature is unchanged. A zero curvature restarts
  at every step and yields eigenvalues 0.
* ``which="algebraic"`` ranks eigenvalues by λ (largest first); ``which="magnitude"`` by |λ| (largest
  first, the sign kept; ties in |λ| put the positive one first) — PyHessian's power-iteration
  convention, which can return a negative eigenvalue.
* Eigenvectors are unit vectors in the flat parameter space, returned as params pytrees with a leading
  ``k`` axis; their sign is fixed so that the entry of largest magnitude is positive.
  ``residual_norms`` are ‖A u − λ u‖₂: for Lanczos the standard a-posteriori value |β_m s_mi| from
  the Lanczos relation A Qᵀ = Qᵀ T + β_m q_{m+1} e_mᵀ (no extra products; exact up to rounding,
  O(100 · eps · ‖A‖), thanks to the full reorthogonalisation), for power iteration computed
  explicitly from the products used for the Rayleigh quotients.
* Every call runs as one cached ``jax.jit`` program (``loss_fn`` and the configuration static) when
  ``loss_fn`` is hashable; inside a user's ``jit`` / ``vmap`` / ``grad`` it is simply inlined.
* SLQ probes are **normalised Rademacher** vectors (as PyHessian): with ``probe_keys =
  jax.random.split(key, num_probes)``, probe p is
  ``jax.random.rademacher(probe_keys[p], (dim,)) / √dim`` and its restart vector is
  ``jax.random.normal(jax.random.fold_in(probe_keys[p], 1), (dim,))``. Nodes are the Ritz values
  ``eigvalsh(T)`` (ascending), weights the squared first components of T's eigenvectors; per probe the
  weights sum to 1 and Σ wᵢ θᵢ = vᵀAv/‖v‖², so the quadrature is unbiased for tr(A)/dim.
* ``bf16``/``f16`` params and batch leaves are promoted to float32 first (float64 stays float64;
  integer leaves are left alone), so results are at least float32.
* Gradients (with respect to anything ``loss_fn``, ``params`` or ``batch`` depend on; third derivatives
  of the loss) are finite everywhere: normalisations and the breakdown branch use double-``where``
  guards, and the eigenvector derivative of T drops the rotation inside (near-)degenerate clusters. For
  a simple eigenvalue the gradient is the exact dλ = uᵀ dA u.
* Deterministic given ``key`` (eager or jitted). There is no batch axis: ``jax.vmap`` the call to
  evaluate many models, checkpoints, batches or keys.

Oracles: the dense ``jax.hessian`` (or explicit ``Jᵀ H_out J``) of small models with
``numpy.linalg.eigvalsh``; full Lanczos (m = dim) reproduces every eigenvalue, and SLQ's weights are
then (uᵢᵀv)².
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxmetrics._src import checks, numerics
from jaxmetrics._src.checks import _fail
from jaxmetrics._src.registry import MetricInfo, register
from jaxmetrics.spectral import _linop
from jaxmetrics.spectral._linop import curvature_operator

Array = jax.Array
PyTree = Any

__all__ = [
    "TopEigenpairs",
    "SpectralDensity",
    "hessian_top_eigenvalues",
    "hessian_spectral_density",
]

_WHICH = ("algebraic", "magnitude")
_METHODS = ("lanczos", "power")
_CURVATURES = ("hessian", "ggn")
_BREAKDOWN = 100.0  # β_j ≤ _BREAKDOWN · eps · max_i ‖A q_i‖ counts as an exact breakdown


class TopEigenpairs(NamedTuple):
    """Extreme eigenpairs of a curvature matrix.

    Attributes:
      eigenvalues: ``[k]``, ordered by the ``which`` convention (largest first).
      eigenvectors: params pytree whose leaves have a leading ``k`` axis; unit norm over all leaves.
      residual_norms: ``[k]``, ‖A u − λ u‖₂ of each pair (a posteriori accuracy: some eigenvalue of A
        lies within this of λ, and about its square over the spectral gap).
    """

    eigenvalues: Array
    eigenvectors: PyTree
    residual_norms: Array


class SpectralDensity(NamedTuple):
    """Stochastic Lanczos quadrature of a curvature spectrum.

    Attributes:
      grid: ``[G]`` evenly spaced eigenvalue axis.
      density: ``[G]`` Gaussian-smoothed spectral density on ``grid`` (Σ density · Δgrid = 1).
      nodes: ``[P, m]`` Ritz values per probe, ascending.
      weights: ``[P, m]`` quadrature weights per probe (each row sums to 1).
    """

    grid: Array
    density: Array
    nodes: Array
    weights: Array


# --------------------------------------------------------------------------------------------------
# argument handling


def _check_common(fn: str, loss_fn, curvature: str, key):
    checks.check_choice(fn, "curvature", curvature, _CURVATURES)
    if not callable(loss_fn):
        raise TypeError(f"jaxmetrics.{fn}: `loss_fn` must be callable as loss_fn(params, batch); got {loss_fn!r}.")
    if key is None:
        _fail(fn, "argument `key` must be a PRNG key (jax.random.key(seed) or a raw uint32[2] key); got None.")


def _operator(fn: str, loss_fn, params, batch, curvature: str):
    """Validates ``params`` / ``loss_fn`` (at trace time); returns the flat curvature operator."""
    params, batch = _linop.prepare(fn, loss_fn, params, batch)
    op = curvature_operator(loss_fn, params, batch, curvature)
    if op.dim == 0:
        _fail(fn, "argument `params` must have at least one parameter; got 0.")
    return op


# --------------------------------------------------------------------------------------------------
# numerical kernels


def _normalize(x):
    """``(x / ‖x‖, ‖x‖)`` with ``0`` for a zero vector and finite gradients there."""
    n = numerics.safe_sqrt(jnp.sum(x * x))
    return numerics.safe_div(x, n), n


@jax.custom_jvp
def _safe_eigh(a):
    """``eigh`` whose eigenvector derivative drops (near-)degenerate pairs instead of dividing by 0.

    Eigenvalue derivatives are exact; eigenvector derivatives are exact for simple eigenvalues and, for
    a degenerate cluster, one valid choice (the rotation inside the eigenspace is set to zero).
    """
    w, v = jnp.linalg.eigh(a)
    return w, v


@_safe_eigh.defjvp
def _safe_eigh_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    w, v = _safe_eigh(a)
    da = 0.5 * (da + jnp.swapaxes(da, -1, -2))
    vt_da_v = v.T @ da @ v
    diff = w[None, :] - w[:, None]
    tol = a.shape[-1] * jnp.finfo(a.dtype).eps * jnp.max(jnp.abs(w))
    ok = jnp.abs(diff) > tol
    f = jnp.where(ok, 1.0 / jnp.where(ok, diff, 1.0), 0.0)
    return (w, v), (jnp.diagonal(vt_da_v), v @ (f * vt_da_v))


def _tridiagonal(alphas, betas):
    return jnp.diag(alphas) + jnp.diag(betas, 1) + jnp.diag(betas, -1)


_HI = jax.lax.Precision.HIGHEST  # full precision on every backend (a TPU ``dot`` defaults to bf16 passes,
# too coarse for reorthogonalisation)


def _rows_dot(basis, w):
    """``basis @ w`` (a matrix–vector product: one pass over the basis; about 2.5× faster on XLA:CPU than
    the multiply-then-reduce form, which materialises ``basis * w``)."""
    return jnp.dot(basis, w, precision=_HI)


def _combine(coef, basis):
    """``coef @ basis``."""
    return jnp.dot(coef, basis, precision=_HI)


def _orthogonalize(basis, w):
    """Classical Gram–Schmidt twice against the rows of ``basis`` (zero rows are inert)."""
    c1 = _rows_dot(basis, w)
    w = w - _combine(c1, basis)
    c2 = _rows_dot(basis, w)
    w = w - _combine(c2, basis)
    return w, c1 + c2


def _lanczos(matvec: Callable, v0: Array, num_iters: int, restart: Array):
    """Symmetric Lanczos with full reorthogonalisation (CGS2 every step) in a ``lax.scan``.

    Args:
      matvec: ``x [dim] -> A x [dim]`` for a symmetric A (its output is cast to ``v0.dtype``).
      v0: ``[dim]`` float start vector (any nonzero norm; a zero vector is replaced by ``restart``).
      num_iters: static m with ``1 <= m <= dim``.
      restart: ``[dim]`` generic (random Gaussian) vector; the restart after step j uses
        ``roll(restart, j + 1)`` orthogonalised against the basis. (Cyclic shifts of a Gaussian vector
        are linearly independent with probability 1, so no random numbers are drawn inside the loop.)

    Returns:
      ``(alphas [m], betas [m-1], basis [m, dim], beta_last)`` with ``T = tridiag(betas, alphas, betas)
      = basis · A · basisᵀ`` and ``A basisᵀ = basisᵀ T + beta_last · q_{m+1} e_mᵀ``. A breakdown (see the
      module docstring) records β = 0 and restarts, so ``basis`` stays orthonormal.
    """
    dim = v0.shape[-1]
    m = num_iters
    dtype = v0.dtype
    eps = jnp.finfo(dtype).eps
    restart = restart.astype(dtype)

    def fresh(basis, j):
        r, _ = _orthogonalize(basis, jnp.roll(restart, j + 1))
        return _normalize(r)[0]

    q0, n0 = _normalize(v0)
    q0 = jnp.where(n0 > 0, q0, _normalize(restart)[0])
    basis = jnp.zeros((m, dim), dtype).at[0].set(q0)

    def step(carry, j):
        basis, scale = carry
        w = matvec(basis[j]).astype(dtype)
        scale = jnp.maximum(scale, numerics.safe_sqrt(jnp.sum(w * w)))
        w, coef = _orthogonalize(basis, w)
        alpha = coef[j]
        q_next, beta = _normalize(w)
        breakdown = beta <= _BREAKDOWN * eps * scale
        q_next = jax.lax.cond(breakdown, lambda: fresh(basis, j), lambda: q_next)
        beta = jnp.where(breakdown, jnp.zeros_like(beta), beta)
        basis = basis.at[j + 1].set(q_next, mode="drop")
        return (basis, scale), (alpha, beta)

    (basis, _), (alphas, betas) = jax.lax.scan(step, (basis, jnp.zeros((), dtype)), jnp.arange(m))
    return alphas, betas[:-1], basis, betas[-1]


def _ranking(theta, which: str):
    """Indices of ``theta`` ordered by the ``which`` convention (largest first)."""
    desc = jnp.argsort(-theta, stable=True)
    if which == "algebraic":
        return desc
    return desc[jnp.argsort(-jnp.abs(theta[desc]), stable=True)]  # ties in |λ|: positive first


def _canonical_sign(vecs):
    """Flips each row so that its entry of largest magnitude is positive."""
    idx = jnp.argmax(jnp.abs(vecs), axis=-1)
    lead = jnp.take_along_axis(vecs, idx[:, None], axis=-1)
    return vecs * jnp.where(lead < 0, -1.0, 1.0).astype(vecs.dtype)


def _top_lanczos(op, key, k, num_iters, which):
    m = min(num_iters, op.dim)
    start, restart = jax.random.normal(key, (2, op.dim), op.dtype)
    alphas, betas, basis, beta_last = _lanczos(op.matvec, start, m, restart)
    theta, s = _safe_eigh(_tridiagonal(alphas, betas))
    order = _ranking(theta, which)[:k]
    residuals = jnp.abs(beta_last * s[-1, order])  # ‖A u − θ u‖ = |β_m s_mi| (Lanczos relation)
    return theta[order], jax.vmap(_combine, in_axes=(1, None))(s[:, order], basis), residuals


def _top_power(op, key, k, num_iters, which):
    dtype, dim = op.dtype, op.dim
    starts = jax.random.normal(key, (k + 1, dim), dtype)

    def deflate(v, found):
        return _orthogonalize(found, v)[0]

    def iterate(v, found, shift):
        def body(_, v):
            w, n = _normalize(deflate(op.matvec(v).astype(dtype) - shift * v, found))
            return jnp.where(n > 0, w, v)  # A v = shift·v exactly: v is already an eigenvector

        v = _normalize(deflate(v, found))[0]
        return jax.lax.fori_loop(0, num_iters, body, v)

    zero_basis = jnp.zeros((k, dim), dtype)
    if which == "magnitude":
        shift = jnp.zeros((), dtype)
    else:  # shift by the dominant eigenvalue so that |λ − shift| orders like λ
        v_dom = iterate(starts[k], zero_basis, jnp.zeros((), dtype))
        lam_dom = jnp.dot(v_dom, op.matvec(v_dom).astype(dtype))
        shift = jnp.minimum(lam_dom, 0.0) if k == 1 else -jnp.abs(lam_dom)

    def find(i, found):
        return found.at[i].set(iterate(starts[i], found, shift))

    vecs = jax.lax.fori_loop(0, k, find, zero_basis)
    a_vecs = jax.vmap(op.matvec)(vecs).astype(dtype)
    vals = jnp.sum(vecs * a_vecs, axis=-1)  # Rayleigh quotients
    residuals = numerics.safe_sqrt(jnp.sum((a_vecs - vals[:, None] * vecs) ** 2, axis=-1))
    order = _ranking(vals, which)
    return vals[order], vecs[order], residuals[order]


def _jit_call(impl, loss_fn, params, batch, key, **static):
    """Runs ``impl`` under one cached ``jax.jit`` (static ``loss_fn`` and config) when ``loss_fn`` is
    hashable: an eager call is then a single compiled program, and repeated calls hit the cache."""
    try:
        hash(loss_fn)
    except TypeError:
        return impl(loss_fn, params, batch, key, **static)
    return _JITTED[impl](loss_fn, params, batch, key, **static)


def _top_impl(loss_fn, params, batch, key, *, k, num_iters, which, method, curvature):
    fn = "hessian_top_eigenvalues"
    op = _operator(fn, loss_fn, params, batch, curvature)
    if k > op.dim:
        _fail(fn, f"argument `k` must be <= the number of parameters dim = {op.dim}; got {k}.")
    if method == "lanczos":
        vals, vecs, resid = _top_lanczos(op, key, k, num_iters, which)
    else:
        vals, vecs, resid = _top_power(op, key, k, num_iters, which)
    vecs = _canonical_sign(vecs)
    return TopEigenpairs(vals, jax.vmap(op.unravel)(vecs), resid)


def _density_impl(loss_fn, params, batch, key, *, num_probes, num_iters, grid_size, sigma_squared, curvature,
                  chunk_size):
    op = _operator("hessian_spectral_density", loss_fn, params, batch, curvature)
    m = min(num_iters, op.dim)
    dtype = op.dtype

    def probe(pkey):
        v = jax.random.rademacher(pkey, (op.dim,), dtype=dtype) / np.sqrt(op.dim).astype(dtype)
        restart = jax.random.normal(jax.random.fold_in(pkey, 1), (op.dim,), dtype)
        alphas, betas, _, _ = _lanczos(op.matvec, v, m, restart)
        theta, s = _safe_eigh(_tridiagonal(alphas, betas))
        return theta, s[0] ** 2

    probe_keys = jax.random.split(key, num_probes)
    if chunk_size is None:
        nodes, weights = jax.vmap(probe)(probe_keys)
    else:
        nodes, weights = jax.lax.map(probe, probe_keys, batch_size=chunk_size)

    lo, hi = jnp.min(nodes), jnp.max(nodes)
    var = jnp.asarray(sigma_squared, dtype) * jnp.maximum(1.0, hi - lo)
    pad = 0.01 + 5.0 * jnp.sqrt(var)
    grid = jnp.linspace(lo - pad, hi + pad, grid_size, dtype=dtype)

    def smooth(acc, nw):
        theta, w = nw
        g = jnp.exp(-((grid[:, None] - theta[None, :]) ** 2) / (2.0 * var)) / jnp.sqrt(2.0 * jnp.pi * var)
        return acc + g @ w, None

    density, _ = jax.lax.scan(smooth, jnp.zeros((grid_size,), dtype), (nodes, weights))
    density = numerics.safe_div(density, jnp.sum(density) * (grid[1] - grid[0]))
    return SpectralDensity(grid, density, nodes, weights)


_JITTED = {
    _top_impl: jax.jit(_top_impl, static_argnums=(0,),
                       static_argnames=("k", "num_iters", "which", "method", "curvature")),
    _density_impl: jax.jit(_density_impl, static_argnums=(0,),
                           static_argnames=("num_probes", "num_iters", "grid_size", "curvature", "chunk_size")),
}


# --------------------------------------------------------------------------------------------------
# public API


def hessian_top_eigenvalues(loss_fn: Callable, params: PyTree, batch: Any, *, key, k: int = 1,
                            num_iters: int = 100, which: str = "algebraic", method: str = "lanczos",
                            curvature: str = "hessian") -> TopEigenpairs:
    r"""Top-k eigenvalues and eigenvectors of the Hessian (or Gauss–Newton matrix) of a loss.

    A = ∇²_θ loss_fn(θ, batch) (or G = Jᵀ H_out J), accessed only through products A v.

    * ``method="lanczos"``: m = min(num_iters, dim) Lanczos steps from a Gaussian start vector, with
      full reorthogonalisation (CGS2) and restart on breakdown; eigenpairs are the Ritz pairs of
      T = Qᵀ A Q (``eigh`` of the m × m tridiagonal), the top k by ``which``. Both ends of the spectrum
      converge, so both conventions work; with m = dim the result is exact to rounding.
    * ``method="power"``: power iteration with Gram–Schmidt deflation against the eigenvectors already
      found (PyHessian's ``eigenvalues``), ``num_iters`` products per eigenvalue from Gaussian starts,
      eigenvalue = Rayleigh quotient. It converges to the largest |λ| (``which="magnitude"``). For
      ``which="algebraic"`` it first finds the dominant eigenvalue λ_d (``num_iters`` more products) and
      iterates on A − s·I with s = min(λ_d, 0) (k = 1) or s = −|λ_d| (k > 1), whose largest magnitudes
      are A's largest eigenvalues. Convergence is geometric in the eigenvalue ratio (slow for a small
      gap); there is no early stopping (static iteration count), unlike PyHessian's tol = 1e-3.

    Args:
      loss_fn: ``loss_fn(params, batch) -> scalar`` (a :class:`~jaxmetrics.spectral.SplitLoss` for
        ``curvature="ggn"``).
      params: pytree of float arrays (dim parameters in all).
      batch: any pytree passed to ``loss_fn`` (bf16/f16 leaves are promoted to float32).
      key: PRNG key (typed or raw ``uint32[2]``): Lanczos draws ``jax.random.normal(key, (2, dim))``
        (start vector, restart vector), power iteration ``jax.random.normal(key, (k + 1, dim))``.
      k: static number of eigenpairs, ``1 <= k <= dim``.
      num_iters: static; Lanczos steps (``>= k``, capped at dim) or power iterations per eigenvalue.
      which: ``"algebraic"`` (largest λ) or ``"magnitude"`` (largest |λ|, sign kept; PyHessian).
      method: ``"lanczos"`` or ``"power"``.
      curvature: ``"hessian"`` or ``"ggn"``.

    Returns:
      :class:`TopEigenpairs` ``(eigenvalues [k], eigenvectors (params pytree, leading k axis),
      residual_norms [k])``, ordered by ``which``; eigenvector signs fixed (largest entry positive).

    Complexity: Lanczos m products + O(m² · dim) reorthogonalisation, memory O(m · dim); power
    k · (num_iters + 1) products (+ num_iters + 1 for ``"algebraic"``), memory O(k · dim).

    Example:
      >>> loss = lambda p, x: 0.5 * jnp.sum(x * p ** 2)
      >>> out = hessian_top_eigenvalues(loss, jnp.ones(3), jnp.array([3.0, 1.0, -4.0]),
      ...                               key=jax.random.key(0), k=2, num_iters=3, which="magnitude")
      >>> print(out.eigenvalues.round(4))
      [-4.  3.]
    """
    fn = "hessian_top_eigenvalues"
    k = checks.check_static_int(fn, "k", k, minimum=1)
    checks.check_choice(fn, "which", which, _WHICH)
    checks.check_choice(fn, "method", method, _METHODS)
    num_iters = checks.check_static_int(fn, "num_iters", num_iters, minimum=k if method == "lanczos" else 1)
    _check_common(fn, loss_fn, curvature, key)
    return _jit_call(_top_impl, loss_fn, params, batch, key, k=k, num_iters=num_iters, which=which,
                     method=method, curvature=curvature)


def hessian_spectral_density(loss_fn: Callable, params: PyTree, batch: Any, *, key, num_probes: int = 1,
                             num_iters: int = 100, grid_size: int = 10_000, sigma_squared: float = 1e-5,
                             curvature: str = "hessian", chunk_size: int | None = None) -> SpectralDensity:
    r"""Spectral density of the Hessian (or Gauss–Newton matrix) by stochastic Lanczos quadrature.

    For each of P probes v (normalised Rademacher), m = min(num_iters, dim) Lanczos steps give
    T = Qᵀ A Q; with T = S diag(θ) Sᵀ the Gauss quadrature of the spectral measure seen by v is

        vᵀ f(A) v ≈ Σᵢ wᵢ f(θᵢ),   nodes θᵢ = eigvalsh(T),   weights wᵢ = S₀ᵢ²

    (Ghorbani et al. 2019; PyHessian's ``density``). It is exact for polynomials of degree < 2m, and
    for m = dim the nodes are A's eigenvalues with weights (uᵢᵀv)². The smoothed density is

        φ(t) = (1/P) Σ_p Σᵢ w_pᵢ 𝒩(t; θ_pᵢ, σ²),   σ² = sigma_squared · max(1, λmax − λmin)

    evaluated on ``grid_size`` points evenly spanning [λmin − pad, λmax + pad] with λmin / λmax the
    smallest / largest node over all probes and pad = 0.01 + 5σ (PyHessian pads by 0.01 around the
    probe-averaged extremes), then renormalised so that Σ φ · Δgrid = 1 (PyHessian's normalisation; the
    Riemann sum equals the integral to many digits because φ is negligible at both ends).

    Args:
      loss_fn: ``loss_fn(params, batch) -> scalar`` (a :class:`~jaxmetrics.spectral.SplitLoss` for
        ``curvature="ggn"``).
      params: pytree of float arrays (dim parameters in all).
      batch: any pytree passed to ``loss_fn`` (bf16/f16 leaves are promoted to float32).
      key: PRNG key (typed or raw ``uint32[2]``); probe p is
        ``jax.random.rademacher(jax.random.split(key, num_probes)[p], (dim,)) / √dim``.
      num_probes: static P ≥ 1.
      num_iters: static m ≥ 1 Lanczos steps per probe (capped at dim).
      grid_size: static G ≥ 2 grid points.
      sigma_squared: positive float, the relative Gaussian variance (PyHessian's default 1e-5).
      curvature: ``"hessian"`` or ``"ggn"``.
      chunk_size: static int or None. None vmaps all probes (memory O(P · m · dim)); an int runs them
        with ``lax.map`` in chunks of that size (memory O(chunk_size · m · dim)).

    Returns:
      :class:`SpectralDensity` ``(grid [G], density [G], nodes [P, m], weights [P, m])``.

    Complexity: P · m products + O(P · m² · dim) reorthogonalisation; O(G · P · m) time and O(G · m)
    memory for the smoothing (a scan over probes).

    Example:
      >>> loss = lambda p, x: 0.5 * jnp.sum(x * p ** 2)
      >>> sd = hessian_spectral_density(loss, jnp.ones(4), jnp.array([1.0, 1.0, 2.0, 3.0]),
      ...                               key=jax.random.key(0), num_iters=4, grid_size=512)
      >>> print(sd.nodes.round(4), sd.weights.round(4))  # breakdown after 3 steps: a restart node, weight 0
      [[1. 1. 2. 3.]] [[0.5  0.   0.25 0.25]]
    """
    fn = "hessian_spectral_density"
    num_probes = checks.check_static_int(fn, "num_probes", num_probes, minimum=1)
    num_iters = checks.check_static_int(fn, "num_iters", num_iters, minimum=1)
    grid_size = checks.check_static_int(fn, "grid_size", grid_size, minimum=2)
    if chunk_size is not None:
        checks.check_static_int(fn, "chunk_size", chunk_size, minimum=1)
    if isinstance(sigma_squared, (int, float, np.floating, np.integer)) and not sigma_squared > 0:
        _fail(fn, f"argument `sigma_squared` must be > 0; got {sigma_squared!r}.")
    _check_common(fn, loss_fn, curvature, key)
    return _jit_call(_density_impl, loss_fn, params, batch, key, num_probes=num_probes, num_iters=num_iters,
                     grid_size=grid_size, sigma_squared=sigma_squared, curvature=curvature,
                     chunk_size=chunk_size)


# --------------------------------------------------------------------------------------------------
# registry

_ORACLE = "dense jax.hessian + numpy.linalg.eigvalsh"
# Top eigenvalues: Ritz values are smooth functions of the operator away from degeneracy (and exact
# eigenvalues when converged), so the gradient is the useful dλ/dθ = uᵀ (∂A/∂θ) u; it passes check_grads.
register(MetricInfo(name="hessian_top_eigenvalues", family="spectral", fn=hessian_top_eigenvalues,
                    differentiable=True, higher_is_better=None, oracle=_ORACLE))
# The smoothed density has finite, analytically correct gradients, but with PyHessian's narrow Gaussians
# it is too sharply peaked for a finite-difference check to be reliable: not marked differentiable.
register(MetricInfo(name="hessian_spectral_density", family="spectral", fn=hessian_spectral_density,
                    differentiable=False, higher_is_better=None, oracle=_ORACLE))
