r"""Fréchet distance: the squared 2-Wasserstein distance between Gaussians fitted to two feature sets.

The core of FID / FAD / FVD / FRD (METRICS.md §9.1). For features ``x [..., n, d]`` and ``y [..., m, d]``
with means μ₁, μ₂ and covariances Σ₁, Σ₂,

.. math::

    \mathrm{FD} = \|\mu_1 - \mu_2\|^2 + \operatorname{tr}\Sigma_1 + \operatorname{tr}\Sigma_2
        - 2 \operatorname{tr}\big(\Sigma_1^{1/2} \Sigma_2 \Sigma_1^{1/2}\big)^{1/2}.

**Trace term.** Form (c) of METRICS.md: Σ₁^{½} from ``eigh`` of Σ₁, then Σ √λ over
``eigvalsh(Σ₁^{½} Σ₂ Σ₁^{½})``; in both, eigenvalues at the rounding level, λ ≤ d·eps·λ_max (negative ones
included), are taken as exactly 0. Without this cut a rank-deficient Σ (n ≤ d, constant features) adds
√(eps·λ_max) ≈ 1e-8·√λ_max of noise per null direction — not smooth, so it also spoils finite
differences; with it the value is a smooth function of the features and the cut changes FD by at most
d·√(d·eps·λ_max). Only symmetric eigendecompositions are used (no complex numbers, no ``sqrtm``;
available on every backend). In float64 it equals ``tr sqrtm(Σ₁Σ₂)`` (pytorch-fid, form (a)) and the
real part of Σ√eig(Σ₁Σ₂) (torchmetrics / torch-fidelity, form (b)) to ~1e-12 relative for full-rank
covariances, and to ~1e-9–1e-7 when a covariance is rank-deficient (the rounding-level eigenvalues that
every form handles differently).

**Conventions** (METRICS.md §17.8):

* ``ddof = 1`` (torchmetrics, pytorch-fid, ``numpy.cov``): Σ = Σᵢ wᵢ (xᵢ − μ)(xᵢ − μ)ᵀ / (W − ddof) with
  W = Σ wᵢ. Weights are **frequency weights** (an integer weight equals repeating the row; ``numpy.cov``'s
  ``fweights``); ``where`` masks rows (a masked row is treated as absent, even if it holds NaN/inf).
* ``clip_negative=True`` (default): the result is ``max(FD, 0)``. FD is a squared distance, so a negative
  value is rounding (≈ −1e-13 for identical sets); ``clip_negative=False`` reports it as is, like
  pytorch-fid and torchmetrics.
* ``eps`` (default 0): added to the diagonal of both covariances before the trace term — pytorch-fid's
  1e-6 offset, applied always (not only on failure). 0 reproduces the oracles exactly; it is not needed for
  finite gradients (below).
* Undefined (W ≤ ddof in either set, e.g. all rows masked or n < 2): NaN. torchmetrics raises for n < 2.
* Precision follows the library rule: float64 inputs (x64 on) compute in float64 — torchmetrics' float64
  statistics; float32 (and bf16/f16) inputs compute in float32, where FD carries a relative error of
  ~1e-6·tr Σ / FD from the eigendecompositions. Cast features to float64 for FID-style reporting.

**Masks for two sets.** ``where_x``/``weights_x`` act on the rows of ``x`` and ``where_y``/``weights_y`` on
those of ``y``; the shared ``where``/``weights`` act on both (the padding mask of a paired stream) and must
broadcast to both sample shapes (:func:`jaxmetrics._src.pairwise.two_sample_weights`).

**Gradients.** ``eigh``'s own derivative divides by eigenvalue gaps, so it is NaN for tied eigenvalues —
identical or isotropic covariances, and every rank-deficient Σ (n ≤ d gives d − n + 1 zero eigenvalues).
Both matrix square roots here carry a custom JVP (Daleckii–Krein): for A = V diag(λ) Vᵀ,
d√A = V (G ∘ Vᵀ dA V) Vᵀ with the divided differences of √,

.. math:: G_{ij} = \frac{\sqrt{\lambda_i} - \sqrt{\lambda_j}}{\lambda_i - \lambda_j}
          = \frac{1}{\sqrt{\lambda_i} + \sqrt{\lambda_j}},

which needs no eigenvalue gap, so ties are exact. Only a pair of (numerically) zero eigenvalues,
λ ≤ d·eps·λ_max, has no finite derivative (√ at 0); it gets G = 0, the ``safe_sqrt`` convention. For
covariances of data (Σ = XᵀX/(n−1)) the tangent in those null directions is itself 0, so the gradient with
respect to the features is exact; the convention only matters for a perturbation *of a covariance*
along its null space. Result: finite gradients everywhere — identical sets, n < d, all masked.

**Streaming** (:func:`frechet_distance_metric`): the state :class:`FrechetState` holds, for each set,
the additive sums (W, Σ wx, Σ wxxᵀ) — the statistics the issue asks for (torchmetrics keeps the same ones
in float64). ``merge`` is a tree-add, so the cross-device reduction is one ``psum``. Covariances are formed
at ``compute`` as (Σ wxxᵀ − W μμᵀ)/(W − ddof), which cancels: the relative error of Σ is about
eps·‖μ‖²/λ_min(Σ). The state is float64 under ``jax_enable_x64`` (the default state dtype), where this is
harmless for features with ‖μ‖²/λ ≲ 1e6; a float32 state loses ~all digits of the small eigenvalues for
features far from the origin — enable x64, or subtract a fixed reference vector from all features first
(FD is shift-invariant). The one-shot :func:`frechet_distance` uses the two-pass centred covariance and
does not cancel. ``update(state, x, y)`` takes a batch of both sets (any sizes; ``x`` or ``y`` may be
None to feed one set only, e.g. the real set once and the generated set per checkpoint).

**Complexity:** O((n + m)·d²) for the covariances, three d×d ``eigh`` (O(d³)).

Oracles: ``tests/reference/frechet.py`` — ``numpy.cov`` plus the trace term by ``scipy.linalg.sqrtm``
(form a), ``numpy.linalg.eigvals`` (form b) and ``numpy.linalg.eigvalsh`` (form c).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxmetrics._src import checks, numerics, pairwise
from jaxmetrics._src.checks import _fail
from jaxmetrics._src.metric import Metric, default_state_dtype, tree_add
from jaxmetrics._src.registry import MetricInfo, register

Array = jax.Array

__all__ = [
    "FrechetState",
    "MomentSums",
    "frechet_distance",
    "frechet_distance_from_moments",
    "frechet_distance_metric",
]

_HI = lax.Precision.HIGHEST


class MomentSums(NamedTuple):
    """Additive moments of one feature set: W = Σ w ``[...]``, Σ w x ``[..., d]``, Σ w x xᵀ ``[..., d, d]``."""

    weight: Array
    total: Array
    outer: Array


class FrechetState(NamedTuple):
    """The streaming state of :func:`frechet_distance_metric`: the :class:`MomentSums` of ``x`` and ``y``."""

    x: MomentSums
    y: MomentSums


# --------------------------------------------------------------------------------------------------
# matrix square roots with gap-free derivatives


def _sym(a):
    return 0.5 * (a + jnp.swapaxes(a, -1, -2))


def _eigh(a):
    lam, v = jnp.linalg.eigh(a, symmetrize_input=False)
    d = a.shape[-1]
    tol = d * float(jnp.finfo(a.dtype).eps) * jnp.max(jnp.abs(lam), axis=-1, keepdims=True)
    return lam, v, lam > tol


def _sqrt_eigenvalues(lam, pos):
    """√λ for the eigenvalues above the rounding level (``pos``), exactly 0 for the others."""
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, lam, 1.0)), 0.0)


@jax.custom_jvp
def _psd_sqrt(a):
    """√A of a symmetric PSD ``a [..., d, d]`` by ``eigh``; eigenvalues ≤ d·eps·λ_max are taken as 0."""
    lam, v, pos = _eigh(a)
    return _sym(jnp.matmul(v * _sqrt_eigenvalues(lam, pos)[..., None, :], jnp.swapaxes(v, -1, -2), precision=_HI))


@_psd_sqrt.defjvp
def _psd_sqrt_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    lam, v, pos = _eigh(a)
    s = _sqrt_eigenvalues(lam, pos)
    vt = jnp.swapaxes(v, -1, -2)
    out = _sym(jnp.matmul(v * s[..., None, :], vt, precision=_HI))
    g = numerics.safe_div(1.0, s[..., :, None] + s[..., None, :])  # divided differences of √; 0 at (0, 0)
    inner = jnp.matmul(jnp.matmul(vt, _sym(da), precision=_HI), v, precision=_HI)
    dout = jnp.matmul(jnp.matmul(v, g * inner, precision=_HI), vt, precision=_HI)
    return out, _sym(dout)


@jax.custom_jvp
def _trace_psd_sqrt(m):
    """tr √M = Σ √λ over ``eigvalsh(m)`` for a symmetric ``m [..., d, d]`` (λ ≤ d·eps·λ_max taken as 0)."""
    lam, _, pos = _eigh(m)
    return _sqrt_eigenvalues(lam, pos).sum(-1)


@_trace_psd_sqrt.defjvp
def _trace_psd_sqrt_jvp(primals, tangents):
    (m,), (dm,) = primals, tangents
    lam, v, pos = _eigh(m)
    s = _sqrt_eigenvalues(lam, pos)
    g = numerics.safe_div(0.5, s)  # d√λ/dλ; 0 at (numerically) zero λ
    dout = jnp.einsum("...ai,...i,...bi,...ab->...", v, g, v, _sym(dm), precision=_HI)
    return s.sum(-1), dout


def _fd_from_moments(mu1, c1, mu2, c2, eps, clip_negative):
    d = c1.shape[-1]
    c1 = _sym(c1)
    c2 = _sym(c2)
    if eps:
        eye = eps * jnp.eye(d, dtype=c1.dtype)
        c1, c2 = c1 + eye, c2 + eye
    s1 = _psd_sqrt(c1)
    middle = _sym(jnp.matmul(jnp.matmul(s1, c2, precision=_HI), s1, precision=_HI))
    diff = mu1 - mu2
    out = (diff * diff).sum(-1) + jnp.trace(c1, axis1=-2, axis2=-1) + jnp.trace(c2, axis1=-2, axis2=-1) \
        - 2.0 * _trace_psd_sqrt(middle)
    return jnp.maximum(out, 0.0) if clip_negative else out


def _nan_unless(ok, value):
    return jnp.where(ok, value, jnp.full((), jnp.nan, value.dtype))


# --------------------------------------------------------------------------------------------------
# arguments


def _config(fn, ddof, eps, clip_negative):
    ddof = checks.check_static_int(fn, "ddof", ddof, 0)
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(eps)) or eps < 0:
        _fail(fn, f"argument `eps` must be a static Python number >= 0; got {eps!r}.")
    if not isinstance(clip_negative, (bool, np.bool_)):
        _fail(fn, f"argument `clip_negative` must be a static bool; got {clip_negative!r}.")
    return ddof, float(eps), bool(clip_negative)


def _static_dim(fn, dim, required):
    if dim is None:
        if required:
            _fail(fn, "argument `dim` (the feature dimension d, which fixes the state's shape) is required.")
        return None
    return checks.check_static_int(fn, "dim", dim, 1)


def _check_sets(fn, x, y, dim):
    if x is not None:
        x = pairwise.check_samples(fn, "x", x, dim, "dim")
        dim = x.shape[-1]
    if y is not None:
        y = pairwise.check_samples(fn, "y", y, dim, "x" if x is not None else "dim")
    return x, y


def _weighted_moments(x, w, ddof):
    """Weighted mean ``[..., d]``, centred covariance ``[..., d, d]`` and ``W > ddof`` (two-pass)."""
    valid = w > 0
    xz = jnp.where(valid[..., None], x, jnp.zeros((), x.dtype))
    total = w.sum(-1)
    mu = numerics.safe_div(jnp.einsum("...n,...nd->...d", w, xz, precision=_HI), total[..., None])
    xc = jnp.where(valid[..., None], xz - mu[..., None, :], jnp.zeros((), x.dtype))
    m2 = jnp.einsum("...n,...ni,...nj->...ij", w, xc, xc, precision=_HI)
    den = total - ddof
    ok = den > 0
    return mu, _sym(m2) / jnp.where(ok, den, 1.0)[..., None, None], ok


# --------------------------------------------------------------------------------------------------
# one-shot


def frechet_distance(x, y, *, ddof: int = 1, eps: float = 0.0, clip_negative: bool = True,
                     dim: int | None = None, where=None, weights=None, where_x=None, where_y=None,
                     weights_x=None, weights_y=None) -> Array:
    r"""Fréchet distance between Gaussian fits of two feature sets (the FID/FAD/FVD formula).

    FD = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr(Σ₁^{½} Σ₂ Σ₁^{½})^{½}, with Σ = weighted covariance
    (``ddof``) of each set and the trace term by symmetric eigendecompositions (module docstring).
    No feature extractor is included: pass Inception / CLAP / video features computed elsewhere.

    Args:
      x: features ``[..., n, d]`` (e.g. real). y: features ``[..., m, d]`` (e.g. generated); leading
        axes of ``x`` and ``y`` broadcast.
      ddof: static delta degrees of freedom of the covariances (1, as ``numpy.cov``/torchmetrics).
      eps: static ≥ 0 added to both covariance diagonals (pytorch-fid's offset; default 0).
      clip_negative: static; ``max(FD, 0)`` (default) or the raw value.
      dim: optional static d; must match (required by :func:`frechet_distance_metric`).
      where, weights: row mask / frequency weights for **both** sets (must broadcast to both).
      where_x, weights_x: ``[..., n]`` for ``x``. where_y, weights_y: ``[..., m]`` for ``y``.

    Returns:
      ``[...]``; 0 for identical sets; NaN when a set has total weight ≤ ddof. Matches pytorch-fid's
      formula and torchmetrics' float64 statistics (``tests/reference/frechet.py``: forms (a), (b), (c)).

    Complexity: O((n + m)·d² + d³).

    Example:
      >>> x = jnp.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
      >>> print(round(float(frechet_distance(x, x)), 4), round(float(frechet_distance(x, x + 1.0)), 4))
      0.0 2.0
    """
    fn = "frechet_distance"
    ddof, eps, clip_negative = _config(fn, ddof, eps, clip_negative)
    x, y = _check_sets(fn, x, y, _static_dim(fn, dim, False))
    return _frechet_core(x, y, where, weights, where_x, where_y, weights_x, weights_y,
                         ddof=ddof, eps=eps, clip_negative=clip_negative)


@functools.partial(jax.jit, static_argnames=("ddof", "eps", "clip_negative"))
def _frechet_core(x, y, where, weights, where_x, where_y, weights_x, weights_y, *, ddof, eps, clip_negative):
    dtype = numerics.accumulation_dtype(x, y, weights, weights_x, weights_y)
    x, y = x.astype(dtype), y.astype(dtype)
    wx, wy = pairwise.two_sample_weights(
        "frechet_distance", x.shape[:-1], y.shape[:-1], dtype, where=where, weights=weights, where_x=where_x,
        where_y=where_y, weights_x=weights_x, weights_y=weights_y)
    mu1, c1, ok1 = _weighted_moments(x, wx, ddof)
    mu2, c2, ok2 = _weighted_moments(y, wy, ddof)
    return _nan_unless(ok1 & ok2, _fd_from_moments(mu1, c1, mu2, c2, eps, clip_negative))


def frechet_distance_from_moments(mu1, cov1, mu2, cov2, *, eps: float = 0.0, clip_negative: bool = True) -> Array:
    r"""Fréchet (Gaussian 2-Wasserstein²) distance between N(μ₁, Σ₁) and N(μ₂, Σ₂) given their moments.

    ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr(Σ₁^{½} Σ₂ Σ₁^{½})^{½} — the Bures–Wasserstein distance of the
    covariances plus the squared mean gap. Use it with precomputed dataset statistics (the ``mu``/``sigma``
    of a pytorch-fid ``.npz``). The covariances are symmetrised; eigenvalues ≤ d·eps·λ_max (and negative
    ones) count as 0.

    Args:
      mu1: ``[..., d]``. cov1: ``[..., d, d]`` symmetric PSD. mu2: ``[..., d]``. cov2: ``[..., d, d]``.
        Leading axes broadcast.
      eps: static ≥ 0 added to both covariance diagonals. clip_negative: static; ``max(FD, 0)``.

    Returns:
      ``[...]``. Oracle: ``tests/reference/frechet.py`` (sqrtm / eig / eigvalsh forms). Finite gradients
      for identical and rank-deficient covariances (module docstring).

    Complexity: three d×d ``eigh``, O(d³).

    Example:
      >>> fd = frechet_distance_from_moments(jnp.zeros(2), jnp.diag(jnp.array([4.0, 1.0])),
      ...                                    jnp.ones(2), jnp.eye(2))
      >>> print(round(float(fd), 4))  # ‖Δμ‖² + (√4 − √1)² + (√1 − √1)²
      3.0
    """
    fn = "frechet_distance_from_moments"
    eps, clip_negative = _config(fn, 1, eps, clip_negative)[1:]
    arrays = {}
    d = None
    for name, arr, rank, layout in [("mu1", mu1, 1, "[..., d]"), ("cov1", cov1, 2, "[..., d, d]"),
                                    ("mu2", mu2, 1, "[..., d]"), ("cov2", cov2, 2, "[..., d, d]")]:
        arr = jnp.asarray(arr)
        checks.check_min_rank(fn, name, arr, rank, layout)
        if not (jnp.issubdtype(arr.dtype, jnp.floating) or jnp.issubdtype(arr.dtype, jnp.integer)):
            _fail(fn, f"argument `{name}` must be a real array; got dtype {arr.dtype}.")
        d = arr.shape[-1] if d is None else d
        if arr.shape[-rank:] != (d,) * rank:
            _fail(fn, f"argument `{name}` must have shape {layout} with d = {d} (from `mu1`); got {arr.shape}.")
        arrays[name] = arr
    return _moments_core(*arrays.values(), eps=eps, clip_negative=clip_negative)


@functools.partial(jax.jit, static_argnames=("eps", "clip_negative"))
def _moments_core(mu1, cov1, mu2, cov2, *, eps, clip_negative):
    dtype = numerics.accumulation_dtype(mu1, cov1, mu2, cov2)
    mu1, cov1, mu2, cov2 = (a.astype(dtype) for a in (mu1, cov1, mu2, cov2))
    return _fd_from_moments(mu1, cov1, mu2, cov2, eps, clip_negative)


# --------------------------------------------------------------------------------------------------
# streaming


def _sums(x, w):
    valid = w > 0
    xz = jnp.where(valid[..., None], x, jnp.zeros((), x.dtype))
    return MomentSums(w.sum(-1), jnp.einsum("...n,...nd->...d", w, xz, precision=_HI),
                      _sym(jnp.einsum("...n,...ni,...nj->...ij", w, xz, xz, precision=_HI)))


def _moments_from_sums(s: MomentSums, ddof):
    mu = numerics.safe_div(s.total, s.weight[..., None])
    m2 = s.outer - s.total[..., :, None] * mu[..., None, :]
    den = s.weight - ddof
    ok = den > 0
    return mu, _sym(m2) / jnp.where(ok, den, 1.0)[..., None, None], ok


def frechet_distance_metric(*, dim: int, ddof: int = 1, eps: float = 0.0, clip_negative: bool = True) -> Metric:
    """Streaming :func:`frechet_distance` over batches of both feature sets.

    * ``init(dtype=None, batch_shape=())``: zero :class:`FrechetState` (float64 under x64, else float32).
    * ``update(state, x=None, y=None, *, where=None, weights=None, where_x=None, where_y=None,
      weights_x=None, weights_y=None)``: adds a batch ``x [..., b, dim]`` and/or ``y [..., c, dim]``; the
      shared ``where``/``weights`` act on both batches (a paired stream), the ``_x``/``_y`` ones on one.
    * ``merge``: :func:`jaxmetrics.tree_add` (additive (W, Σwx, Σwxxᵀ); ``psum`` across devices).
    * ``compute(state)``: FD of the covariances (Σwxxᵀ − Wμμᵀ)/(W − ddof); NaN if W ≤ ddof in a set. See
      the module docstring for the cancellation caveat of a float32 state.
    """
    fn = "frechet_distance"
    ddof, eps, clip_negative = _config(fn, ddof, eps, clip_negative)
    dim = _static_dim(fn, dim, True)

    def init(dtype=None, batch_shape=()):
        dt = default_state_dtype(dtype)
        z = MomentSums(jnp.zeros(batch_shape, dt), jnp.zeros((*batch_shape, dim), dt),
                       jnp.zeros((*batch_shape, dim, dim), dt))
        return FrechetState(z, z)

    def update(state, x=None, y=None, *, where=None, weights=None, where_x=None, where_y=None, weights_x=None,
               weights_y=None):
        x, y = _check_sets(fn, x, y, dim)
        dt = state.x.weight.dtype
        wx, wy = pairwise.two_sample_weights(
            fn, None if x is None else x.shape[:-1], None if y is None else y.shape[:-1], dt, where=where,
            weights=weights, where_x=where_x, where_y=where_y, weights_x=weights_x, weights_y=weights_y)
        sx = state.x if x is None else tree_add(state.x, _sums(x.astype(dt), wx))
        sy = state.y if y is None else tree_add(state.y, _sums(y.astype(dt), wy))
        return FrechetState(sx, sy)

    def compute(state):
        mu1, c1, ok1 = _moments_from_sums(state.x, ddof)
        mu2, c2, ok2 = _moments_from_sums(state.y, ddof)
        return _nan_unless(ok1 & ok2, _fd_from_moments(mu1, c1, mu2, c2, eps, clip_negative))

    # jitted here so that eager streaming compiles one program per batch shape, not one per operation
    return Metric(init, jax.jit(update), tree_add, jax.jit(compute))


# --------------------------------------------------------------------------------------------------
# registry

_ORACLE = ("tests/reference/frechet.py: numpy.cov + trace term by scipy.linalg.sqrtm (pytorch-fid), "
           "numpy.linalg.eigvals (torchmetrics/torch-fidelity) and numpy.linalg.eigvalsh (form c)")
register(MetricInfo(name="frechet_distance", family="distances", fn=frechet_distance, differentiable=True,
                    higher_is_better=False, streaming=frechet_distance_metric, oracle=_ORACLE))
register(MetricInfo(name="frechet_distance_from_moments", family="distances", fn=frechet_distance_from_moments,
                    differentiable=True, higher_is_better=False, oracle=_ORACLE))
