r"""Representation geometry: effective rank (RankMe), α-ReQ, participation ratio and the NerVE
eigenspectrum statistics (spectral entropy, eigenvalue early enrichment, spectral Jensen–Shannon).

**Shapes.** Representations ``X [..., n, d]``: n samples (rows, the sample axis) of d features;
leading axes are batch axes (stacked layers, checkpoints, seeds), so every result is ``[...]``.
``where [..., n]`` (bool) and ``weights [..., n]`` (≥ 0) act on the samples: a masked row (where
False or weight 0) is treated exactly as if it were absent, even when it holds NaN or inf (padding +
mask == the unpadded rows). Weights are **frequency weights**: an integer weight equals repeating the
row that many times.

**Statistics.** With W = Σ w_i and the weighted mean μ = Σ w_i x_i / W,

* the centred scatter M2 = Σ w_i (x_i − μ)(x_i − μ)ᵀ and the covariance Σ = M2 / (W − ddof)
  (NerVE: ddof = 1, the N − 1 of ``numpy.cov``; use ``ddof=0`` for weights that sum to 1);
* the uncentred second moment S = Σ w_i x_i x_iᵀ = M2 + W μμᵀ, whose eigenvalues are the squared
  singular values of the row-scaled matrix diag(√w) X.

The means are computed after subtracting the first valid row, so a constant X has M2 = 0 exactly.

**Conventions** (METRICS.md §6.1–6.3, §17.7, §17.18):

* :func:`effective_rank` (alias :func:`rankme`) — Roy & Vetterli's effective rank as RankMe computes
  it: p_k = σ_k/‖σ‖₁ + ε over the K = min(n, d) **unsquared** singular values of X (n = the number of
  unmasked rows), exp(−Σ p_k ln p_k), ε = 1e-7, **no centring**. Options: ``squared=True`` uses σ_k²
  (the eigenvalues of XᵀX: the Vendi-score/cosine-kernel convention when the rows are ℓ2-normalised),
  ``center=True`` the centred matrix (then σ_k² are the eigenvalues of M2, the ``reptrix`` covariance
  convention — with ``squared=True``), ``eps=0`` drops ε, ``normalize_by_log_dim=True`` returns the
  entropy divided by ln K (∈ [0, 1], WeightWatcher's ``matrix_entropy`` normalisation) instead of
  its exponential.
* :func:`alpha_req` — α of the least-squares fit ln λ_i = −α ln i + c over the **covariance**
  eigenvalues λ_1 ≥ … ≥ λ_d (centred), on the static 1-based rank window ``start ≤ i ≤ stop``;
  eigenvalues that are numerically zero (λ_i ≤ rtol·λ_1, rtol = d·eps of the compute dtype) or
  beyond the sample rank (i > n − 1) are left out. ``weighting="inverse_rank"`` weights the residuals
  by 1/i, as ``reptrix.alpha.get_powerlaw`` (the α-ReQ reference code, which fits ranks 6..100:
  ``start=6, stop=100``).
* NerVE (:func:`spectral_entropy`, :func:`eigenvalue_early_enrichment`,
  :func:`spectral_jensen_shannon`): λ = eigvalsh(Σ) sorted descending and **clamped ≥ floor = 1e-12**,
  λ̂ = λ/Σλ over all D = d eigenvalues. SE = −Σ λ̂ ln λ̂ ∈ [0, ln D]; EEE = Σ_k (C_k − k/D)/(D/2) with
  C_k = Σ_{j≤k} λ̂_j, clamped to [0, 1]; spectral JS = JS(λ̂_pre, λ̂_post) ∈ [0, ln 2] (natural log),
  the shorter spectrum zero-padded when the dimensions differ.
* :func:`participation_ratio` — PR = (Σλ)²/Σλ² = tr(Σ)²/tr(Σ²) = tr(M2)²/‖M2‖_F², computed in this
  trace form **without an eigendecomposition** (from the n×n Gram matrix when n < d). No clamp is
  needed; it equals NerVE's clamped-spectrum PR up to the clamp (relative O(D·floor/tr Σ)).

**Undefined cases** (one answer each, with finite gradients):

* no unmasked rows → NaN (every metric); covariance metrics also when W ≤ ddof (Σ undefined);
* zero covariance (constant X, a single repeated row) → NerVE's clamp makes the spectrum uniform:
  SE = ln D, EEE = 0, PR = D (the clamped-spectrum value; the trace form is 0/0 there);
* :func:`effective_rank` of an all-zero matrix (after centring, if asked) → 0 (the rank of 0);
  with ``normalize_by_log_dim`` and K = 1 → NaN (0/0);
* :func:`alpha_req` with fewer than two usable eigenvalues in the window → NaN.

**Streaming.** Every metric has sufficient statistics: the state :class:`CovarianceState` (W, number
of rows, μ [d], M2 [d, d]) merged with Chan et al.'s pairwise formula
M2 = M2_a + M2_b + δδᵀ·W_a W_b/W (δ = μ_b − μ_a), never Σxxᵀ − Wμμᵀ. ``merge`` is associative up to
rounding, commutative, and ``init()`` is its exact identity; it is not a tree-add, so a cross-device
reduction gathers one state per device (:func:`jaxmetrics.parallel.reduce_state`). The state's shape
needs the feature dimension, so every ``*_metric`` constructor takes a static ``dim`` (the one-shot
functions accept an optional ``dim`` that must match X). The streamed effective rank takes its
singular values from the eigenvalues of the d×d second-moment matrix, σ_k = √eig_k(S): these carry an
absolute error ≈ eps·σ_1², so singular values below ≈ √eps·σ_1 (1e-8·σ_1 in float64, 3e-4·σ_1 in
float32) are noise; the one-shot uses the SVD of X. The two agree to ~1e-15 (float64) for
well-conditioned X; for (numerically) rank-deficient X each noise singular value adds O(√eps) to its
p_k, so they differ by ~1e-7 relative in float64 and ~1e-3 in float32 (200×12 data of rank 4).

**Complexity.** One-shot: O(n·d·min(n, d)) for the SVD / Gram matrix plus O(min(n, d)³) for the
eigendecomposition (NerVE statistics use the n×n Gram when n < d; PR needs no eigendecomposition).
Streaming: O(b·d²) per batch of b rows, O(d²) memory, O(d³) for ``compute``.

Oracles: ``numpy.linalg.svd`` / ``numpy.linalg.eigvalsh`` of ``numpy.cov`` with the conventions above
(``tests/reference/spectral.py``), the reptrix weighted power-law fit, ``scipy.spatial.distance
.jensenshannon`` and the closed forms of METRICS.md §6.
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
from jaxmetrics._src.metric import Metric
from jaxmetrics._src.moments import (CovarianceState, centered_rows, covariance_state, init_covariance,
                                      masked_rows, merge_covariance, symmetric)
from jaxmetrics._src.registry import MetricInfo, register

Array = jax.Array

__all__ = [
    "CovarianceState",
    "PairedCovarianceState",
    "alpha_req",
    "alpha_req_metric",
    "effective_rank",
    "effective_rank_metric",
    "eigenvalue_early_enrichment",
    "eigenvalue_early_enrichment_metric",
    "participation_ratio",
    "participation_ratio_metric",
    "rankme",
    "rankme_metric",
    "spectral_entropy",
    "spectral_entropy_metric",
    "spectral_jensen_shannon",
    "spectral_jensen_shannon_metric",
]

NERVE_FLOOR = 1e-12  # NerVE's eigenvalue clamp
RANKME_EPS = 1e-7  # RankMe's ε


class PairedCovarianceState(NamedTuple):
    """The :class:`CovarianceState` of the pre- and post-representations of the same rows."""

    pre: CovarianceState
    post: CovarianceState


# --------------------------------------------------------------------------------------------------
# arguments


def _check_x(fn, X, name="X", dim=None):
    X = jnp.asarray(X)
    checks.check_min_rank(fn, name, X, 2, "[..., n, d]")
    if not (jnp.issubdtype(X.dtype, jnp.floating) or jnp.issubdtype(X.dtype, jnp.integer)):
        _fail(fn, f"argument `{name}` must be a real (floating or integer) array; got dtype {X.dtype}.")
    if dim is not None and X.shape[-1] != dim:
        _fail(fn, f"argument `{name}` must have d = {dim} features on its last axis (the static `dim`); "
              f"got shape {X.shape}.")
    return X


def _static_float(fn, name, value, minimum=0.0, strict=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        _fail(fn, f"argument `{name}` must be a static Python number; got {type(value).__name__} {value!r}.")
    value = float(value)
    if not math.isfinite(value) or value < minimum or (strict and value == minimum):
        _fail(fn, f"argument `{name}` must be {'>' if strict else '>='} {minimum}; got {value}.")
    return value


def _static_bool(fn, name, value):
    if not isinstance(value, (bool, np.bool_)):
        _fail(fn, f"argument `{name}` must be a static bool; got {value!r}.")
    return bool(value)


def _static_dim(fn, name, dim, required):
    if dim is None and not required:
        return None
    if dim is None:
        _fail(fn, f"argument `{name}` (the feature dimension d, which fixes the state's shape) is required.")
    return checks.check_static_int(fn, name, dim, 1)


def _dtype(*arrays):
    return numerics.accumulation_dtype(*[a for a in arrays if a is not None])


# --------------------------------------------------------------------------------------------------
# sufficient statistics


def _batch_state(fn, X, where, weights, dtype, dim=None) -> CovarianceState:
    return covariance_state(fn, _check_x(fn, X, dim=dim), dtype, where, weights)


def _covariance_metric(fn, dim, compute) -> Metric:
    def init(dtype=None, batch_shape=()):
        return init_covariance(dim, dtype, batch_shape)

    def update(state, X, *, where=None, weights=None):
        return merge_covariance(state, _batch_state(fn, X, where, weights, state.weight.dtype, dim))

    return Metric(init, update, merge_covariance, compute)


def _descending_eigvalsh(a):
    return jnp.linalg.eigvalsh(a)[..., ::-1]


# --------------------------------------------------------------------------------------------------
# spectra -> statistics


def _entropy_rank(values, k, eps, normalize_by_log_dim):
    """RankMe on descending non-negative ``values [..., m]`` of which the first ``k [...]`` count."""
    keep = jnp.arange(values.shape[-1]) < k[..., None]
    values = jnp.where(keep, values, jnp.zeros((), values.dtype))
    total = values.sum(-1)
    p = jnp.where(keep, numerics.safe_div(values, total[..., None]) + eps, jnp.zeros((), values.dtype))
    h = -numerics.xlogy(p, p).sum(-1)
    if normalize_by_log_dim:
        log_k = jnp.log(jnp.maximum(k, 1.0))
        out = numerics.safe_div(h, log_k, jnp.nan)
    else:
        out = jnp.exp(h)
    out = jnp.where(total == 0, jnp.zeros((), out.dtype), out)
    return jnp.where(k == 0, jnp.full((), jnp.nan, out.dtype), out)


def _nerve_normalized(lam, floor):
    lam = jnp.maximum(lam, floor)
    return lam / lam.sum(-1, keepdims=True)


def _spectral_entropy(p):
    return -numerics.xlogy(p, p).sum(-1)


def _early_enrichment(p):
    d = p.shape[-1]
    k = jnp.arange(1, d + 1, dtype=p.dtype)
    return jnp.clip((jnp.cumsum(p, -1) - k / d).sum(-1) / (d / 2), 0.0, 1.0)


def _js_divergence(p, q):
    """Jensen–Shannon divergence (nats) of distributions on the last axis (zero-padded to one length)."""
    n = max(p.shape[-1], q.shape[-1])
    pad = lambda a: jnp.pad(a, [(0, 0)] * (a.ndim - 1) + [(0, n - a.shape[-1])])  # noqa: E731
    p, q = pad(p), pad(q)
    m = 0.5 * (p + q)
    kl = lambda a: (numerics.xlogy(a, a) - numerics.xlogy(a, m)).sum(-1)  # noqa: E731
    return jnp.clip(0.5 * (kl(p) + kl(q)), 0.0, math.log(2.0))


def _power_law_slope(lam, rows, *, start, stop, weighting, rtol):
    """α of the weighted LS fit ln λ_i = −α ln i + c on the usable eigenvalues of the window."""
    d = lam.shape[-1]
    i = jnp.arange(1, d + 1, dtype=lam.dtype)
    tol = (d * float(jnp.finfo(lam.dtype).eps) if rtol is None else rtol) * lam[..., :1]
    keep = (i >= start) & (i <= (d if stop is None else stop)) & (i <= rows[..., None] - 1) & (lam > tol)
    v = jnp.where(keep, 1.0 / i if weighting == "inverse_rank" else jnp.ones_like(i), 0.0)
    x = jnp.log(i)
    y = jnp.where(keep, numerics.safe_log(jnp.where(keep, lam, 1.0), 0.0), 0.0)
    sv = v.sum(-1, keepdims=True)
    xm = numerics.safe_div((v * x).sum(-1, keepdims=True), sv)
    ym = numerics.safe_div((v * y).sum(-1, keepdims=True), sv)
    sxx = (v * (x - xm) ** 2).sum(-1)
    sxy = (v * (x - xm) * (y - ym)).sum(-1)
    # fewer than two usable eigenvalues: no slope (NaN)
    return numerics.safe_div(-sxy, jnp.where(keep.sum(-1) >= 2, sxx, 0.0), jnp.nan)


def _nan_unless(ok, value):
    return jnp.where(ok, value, jnp.full((), jnp.nan, value.dtype))


def _state_cov_spectrum(state, ddof, floor):
    """NerVE λ̂ from a state; ``ok`` is False where Σ is undefined (W ≤ ddof)."""
    denom = state.weight - ddof
    ok = denom > 0
    cov = state.m2 / jnp.where(ok, denom, 1.0)[..., None, None]
    return _nerve_normalized(_descending_eigvalsh(cov), floor), ok


def _oneshot_cov_spectrum(fn, X, where, weights, ddof, floor, dtype):
    """NerVE λ̂ ``[..., d]`` straight from X: the n×n Gram matrix's eigenvalues (zero-padded) when n < d."""
    n, d = X.shape[-2:]
    Xz, w, valid = masked_rows(fn, X, dtype, where, weights)
    scaled, total, _, _ = centered_rows(Xz, w, valid)
    denom = total - ddof
    ok = denom > 0
    if n < d:
        gram = symmetric(jnp.einsum("...ni,...mi->...nm", scaled, scaled))
        lam = jnp.concatenate([_descending_eigvalsh(gram), jnp.zeros((*gram.shape[:-2], d - n), dtype)], -1)
    else:
        lam = _descending_eigvalsh(symmetric(jnp.einsum("...ni,...nj->...ij", scaled, scaled)))
    lam = lam / jnp.where(ok, denom, 1.0)[..., None]
    return _nerve_normalized(lam, floor), ok


# --------------------------------------------------------------------------------------------------
# effective rank / RankMe


def _erank_config(fn, squared, center, eps, normalize_by_log_dim):
    return (_static_bool(fn, "squared", squared), _static_bool(fn, "center", center),
            _static_float(fn, "eps", eps), _static_bool(fn, "normalize_by_log_dim", normalize_by_log_dim))


def effective_rank_metric(*, dim: int, squared: bool = False, center: bool = False, eps: float = RANKME_EPS,
                          normalize_by_log_dim: bool = False) -> Metric:
    """Streaming :func:`effective_rank` from the second-moment matrix (module docstring: precision).

    ``update(state, X, *, where=None, weights=None)`` with ``X [..., b, dim]``; ``init(dtype=None,
    batch_shape=())``; state :class:`CovarianceState`, Chan merge. σ_k = √eig_k(M2) (``center=True``)
    or √eig_k(M2 + Wμμᵀ), the top K = min(#rows, dim) of them.
    """
    fn = "effective_rank"
    dim = _static_dim(fn, "dim", dim, True)
    squared, center, eps, normalize = _erank_config(fn, squared, center, eps, normalize_by_log_dim)

    def compute(state):
        s = state.m2 if center else state.m2 + state.weight[..., None, None] * (
            state.mean[..., :, None] * state.mean[..., None, :])
        ev = jnp.maximum(_descending_eigvalsh(s), 0.0)
        values = ev if squared else numerics.safe_sqrt(ev)
        return _entropy_rank(values, jnp.minimum(state.rows, dim), eps, normalize)

    return _covariance_metric(fn, dim, compute)


def effective_rank(X, *, squared: bool = False, center: bool = False, eps: float = RANKME_EPS,
                   normalize_by_log_dim: bool = False, dim: int | None = None, where=None, weights=None) -> Array:
    r"""Effective rank of a representation (Roy & Vetterli; RankMe): exp of the singular-value entropy.

    .. math::

        p_k = \frac{\sigma_k}{\sum_j \sigma_j} + \varepsilon, \qquad
        \mathrm{erank}(X) = \exp\Big(-\sum_{k=1}^{K} p_k \ln p_k\Big), \quad K = \min(n, d),

    over the singular values σ_1 ≥ … ≥ σ_K of diag(√w)·X (n = unmasked rows). It lies in ≈ [1, K]:
    K for a flat spectrum (an isotropic cloud with n ≫ d gives ≈ d), ≤ r (up to ε) for rank-r data.

    Args:
      X: representations ``[..., n, d]``.
      squared: static; use σ_k² (eigenvalues of XᵀX; Vendi/cosine-kernel convention) instead of σ_k.
      center: static; centre the rows on their weighted mean first (with ``squared=True`` this is the
        covariance-eigenvalue convention of ``reptrix``).
      eps: static ε ≥ 0 added to every p_k (RankMe: 1e-7; 0 drops it).
      normalize_by_log_dim: static; return the entropy divided by ln K (∈ [0, 1]) instead of exp.
      dim: optional static d; must match ``X`` (required only by :func:`effective_rank_metric`).
      where: bool row mask ``[..., n]``. weights: row weights ``[..., n]`` (≥ 0, frequency weights).

    Returns:
      ``[...]``. NaN without unmasked rows; 0 for an all-zero (centred) matrix. Oracle: ``numpy
      .linalg.svd`` with the same conventions (``tests/reference/spectral.py``). Alias :func:`rankme`.

    Complexity: one SVD, O(n·d·min(n, d)). Gradients flow through the singular values (finite for
    degenerate and zero σ, but unstable in direction there).

    Example:
      >>> X = jnp.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
      >>> print(round(float(effective_rank(X)), 4), round(float(effective_rank(X[:, :1])), 4))
      2.0 1.0
    """
    fn = "effective_rank"
    X = _check_x(fn, X, dim=_static_dim(fn, "dim", dim, False))
    cfg = _erank_config(fn, squared, center, eps, normalize_by_log_dim)
    return _effective_rank_core(X, where, weights, cfg=cfg)


@functools.partial(jax.jit, static_argnames=("cfg",))
def _effective_rank_core(X, where, weights, *, cfg):
    squared, center, eps, normalize = cfg
    fn = "effective_rank"
    dtype = _dtype(X, weights)
    Xz, w, valid = masked_rows(fn, X, dtype, where, weights)
    if center:
        scaled, _, rows, _ = centered_rows(Xz, w, valid)
    else:
        scaled, rows = numerics.safe_sqrt(w)[..., None] * Xz, valid.sum(-1).astype(dtype)
    s = jnp.linalg.svd(scaled, compute_uv=False)
    values = s * s if squared else s
    return _entropy_rank(values, jnp.minimum(rows, X.shape[-1]), eps, normalize)


rankme = effective_rank
rankme_metric = effective_rank_metric


# --------------------------------------------------------------------------------------------------
# α-ReQ


def _alpha_config(fn, start, stop, weighting, rtol):
    start = checks.check_static_int(fn, "start", start, 1)
    if stop is not None:
        stop = checks.check_static_int(fn, "stop", stop, start)
    checks.check_choice(fn, "weighting", weighting, ("uniform", "inverse_rank"))
    if rtol is not None:
        rtol = _static_float(fn, "rtol", rtol, 0.0, strict=True)
    return start, stop, weighting, rtol


def alpha_req_metric(*, dim: int, start: int = 1, stop: int | None = None, weighting: str = "uniform",
                     rtol: float | None = None) -> Metric:
    """Streaming :func:`alpha_req`: ``update(state, X, *, where=None, weights=None)``, ``init(dtype=None,
    batch_shape=())``; state :class:`CovarianceState` (Chan merge), eigenvalues of M2 at ``compute``."""
    fn = "alpha_req"
    dim = _static_dim(fn, "dim", dim, True)
    start, stop, weighting, rtol = _alpha_config(fn, start, stop, weighting, rtol)

    def compute(state):
        lam = _descending_eigvalsh(state.m2)
        return _power_law_slope(lam, state.rows, start=start, stop=stop, weighting=weighting, rtol=rtol)

    return _covariance_metric(fn, dim, compute)


def alpha_req(X, *, start: int = 1, stop: int | None = None, weighting: str = "uniform",
              rtol: float | None = None, dim: int | None = None, where=None, weights=None) -> Array:
    r"""α-ReQ: the power-law decay exponent of the covariance eigenspectrum (larger = faster decay).

    With the covariance eigenvalues λ_1 ≥ … ≥ λ_d (centred rows; the scale and ddof do not matter),
    α minimises Σ_i v_i (ln λ_i + α ln i − c)² over the usable ranks i of the static window
    ``start ≤ i ≤ stop`` (1-based; ``stop=None`` = d), with v_i = 1 (``"uniform"``) or 1/i
    (``"inverse_rank"``, reptrix). Usable: λ_i > rtol·λ_1 (numerically non-zero) and i ≤ n − 1 (the
    rank of centred data). For λ_i = C·i^{−α} exactly, any window returns α.

    Args:
      X: representations ``[..., n, d]``.
      start, stop: static 1-based inclusive rank window (reptrix / α-ReQ: ``start=6, stop=100``).
      weighting: static ``"uniform"`` (ordinary least squares) or ``"inverse_rank"``.
      rtol: static relative threshold below which eigenvalues are treated as 0 (default d·eps of the
        compute dtype).
      dim: optional static d; must match ``X`` (required by :func:`alpha_req_metric`).
      where: bool row mask ``[..., n]``. weights: row weights ``[..., n]``.

    Returns:
      ``[...]``; NaN with fewer than two usable eigenvalues (e.g. all masked, constant X). Oracle:
      ``numpy.linalg.eigvalsh(numpy.cov(X.T))`` and a weighted ``numpy.polyfit`` (reptrix's
      ``get_powerlaw`` for ``"inverse_rank"``).

    Complexity: O(n·d²) for M2 plus one d×d ``eigvalsh``.

    Example:
      >>> X = jnp.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0], [0.0, 0.0]])
      >>> print(round(float(alpha_req(X)), 4))  # λ = (8, 2)/4: slope ln 4 / ln 2
      2.0
    """
    fn = "alpha_req"
    X = _check_x(fn, X, dim=_static_dim(fn, "dim", dim, False))
    cfg = _alpha_config(fn, start, stop, weighting, rtol)
    return _alpha_req_core(X, where, weights, cfg=cfg)


@functools.partial(jax.jit, static_argnames=("cfg",))
def _alpha_req_core(X, where, weights, *, cfg):
    start, stop, weighting, rtol = cfg
    state = _batch_state("alpha_req", X, where, weights, _dtype(X, weights))
    lam = _descending_eigvalsh(state.m2)
    return _power_law_slope(lam, state.rows, start=start, stop=stop, weighting=weighting, rtol=rtol)


# --------------------------------------------------------------------------------------------------
# participation ratio


def _pr_from_gram(g, ok, d):
    tr = jnp.trace(g, axis1=-2, axis2=-1)
    fro2 = (g * g).sum((-2, -1))
    pr = numerics.safe_div(tr * tr, fro2, float(d))  # tr = 0 (zero covariance): the clamped value D
    return _nan_unless(ok, jnp.where(tr == 0, jnp.full((), d, pr.dtype), pr))


def participation_ratio_metric(*, dim: int, ddof: int = 1) -> Metric:
    """Streaming :func:`participation_ratio`: ``update(state, X, *, where=None, weights=None)``,
    ``init(dtype=None, batch_shape=())``; state :class:`CovarianceState` (Chan merge); PR =
    tr(M2)²/‖M2‖_F² at ``compute`` (no eigendecomposition)."""
    fn = "participation_ratio"
    dim = _static_dim(fn, "dim", dim, True)
    ddof = checks.check_static_int(fn, "ddof", ddof, 0)

    def compute(state):
        return _pr_from_gram(state.m2, state.weight - ddof > 0, dim)

    return _covariance_metric(fn, dim, compute)


def participation_ratio(X, *, ddof: int = 1, dim: int | None = None, where=None, weights=None) -> Array:
    r"""Participation ratio of the covariance spectrum, in trace form (no eigendecomposition).

    .. math::

        \mathrm{PR} = \frac{(\sum_i \lambda_i)^2}{\sum_i \lambda_i^2}
        = \frac{\operatorname{tr}(\Sigma)^2}{\operatorname{tr}(\Sigma^2)}
        = \frac{\|A\|_F^4}{\|A^\top A\|_F^2} = \frac{\|A\|_F^4}{\|A A^\top\|_F^2},
        \qquad A = \operatorname{diag}(\sqrt{w})(X - \mu),

    ∈ [1, D]: 1 for a rank-one cloud, D = d for an isotropic one (NerVE PR). The smaller of the d×d
    and n×n Gram matrices is formed. The ddof of Σ cancels; it only decides when Σ is defined.

    Args:
      X: representations ``[..., n, d]``.
      ddof: static; Σ = M2/(W − ddof) is undefined (NaN) when W ≤ ddof (NerVE: 1).
      dim: optional static d; must match ``X`` (required by :func:`participation_ratio_metric`).
      where: bool row mask ``[..., n]``. weights: row weights ``[..., n]``.

    Returns:
      ``[...]``; D for zero covariance (NerVE's clamped spectrum), NaN when W ≤ ddof. Oracle:
      (Σλ)²/Σλ² of ``numpy.linalg.eigvalsh(numpy.cov(X.T))``.

    Complexity: O(n·d·min(n, d)).

    Example:
      >>> X = jnp.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
      >>> pr = lambda a: round(float(participation_ratio(a)), 4)
      >>> print(pr(X), pr(X * jnp.array([3.0, 1.0])))  # λ ∝ (1, 1) and (9, 1)
      2.0 1.2195
    """
    fn = "participation_ratio"
    X = _check_x(fn, X, dim=_static_dim(fn, "dim", dim, False))
    return _participation_ratio_core(X, where, weights, ddof=checks.check_static_int(fn, "ddof", ddof, 0))


@functools.partial(jax.jit, static_argnames=("ddof",))
def _participation_ratio_core(X, where, weights, *, ddof):
    n, d = X.shape[-2:]
    Xz, w, valid = masked_rows("participation_ratio", X, _dtype(X, weights), where, weights)
    scaled, total, _, _ = centered_rows(Xz, w, valid)
    spec = "...ni,...mi->...nm" if n < d else "...ni,...nj->...ij"
    return _pr_from_gram(jnp.einsum(spec, scaled, scaled), total - ddof > 0, d)


# --------------------------------------------------------------------------------------------------
# NerVE: spectral entropy, eigenvalue early enrichment, spectral Jensen–Shannon


def _nerve_config(fn, ddof, floor):
    return checks.check_static_int(fn, "ddof", ddof, 0), _static_float(fn, "floor", floor, 0.0, strict=True)


def _nerve_metric(fn, statistic, dim, ddof, floor) -> Metric:
    dim = _static_dim(fn, "dim", dim, True)
    ddof, floor = _nerve_config(fn, ddof, floor)

    def compute(state):
        p, ok = _state_cov_spectrum(state, ddof, floor)
        return _nan_unless(ok, statistic(p))

    return _covariance_metric(fn, dim, compute)


@functools.partial(jax.jit, static_argnames=("fn", "statistic", "ddof", "floor"))
def _nerve_core(X, where, weights, *, fn, statistic, ddof, floor):
    p, ok = _oneshot_cov_spectrum(fn, X, where, weights, ddof, floor, _dtype(X, weights))
    return _nan_unless(ok, statistic(p))


def _nerve_oneshot(fn, statistic, X, where, weights, ddof, floor, dim):
    X = _check_x(fn, X, dim=_static_dim(fn, "dim", dim, False))
    ddof, floor = _nerve_config(fn, ddof, floor)
    return _nerve_core(X, where, weights, fn=fn, statistic=statistic, ddof=ddof, floor=floor)


def spectral_entropy_metric(*, dim: int, ddof: int = 1, floor: float = NERVE_FLOOR) -> Metric:
    """Streaming :func:`spectral_entropy`: ``update(state, X, *, where=None, weights=None)``,
    ``init(dtype=None, batch_shape=())``; state :class:`CovarianceState` (Chan merge)."""
    return _nerve_metric("spectral_entropy", _spectral_entropy, dim, ddof, floor)


def spectral_entropy(X, *, ddof: int = 1, floor: float = NERVE_FLOOR, dim: int | None = None, where=None,
                     weights=None) -> Array:
    r"""NerVE spectral entropy of the covariance eigenspectrum, SE = −Σ λ̂_i ln λ̂_i ∈ [0, ln d].

    λ = eigvalsh(Σ), Σ = M2/(W − ddof), clamped ≥ ``floor`` and normalised, λ̂ = λ/Σλ (module
    docstring). 0 for a rank-one cloud (up to the clamp), ln d for an isotropic one.

    Args:
      X: representations ``[..., n, d]``.
      ddof: static; NerVE's N − 1 is 1. NaN when W ≤ ddof.
      floor: static eigenvalue clamp > 0 (NerVE: 1e-12).
      dim: optional static d; must match ``X`` (required by :func:`spectral_entropy_metric`).
      where: bool row mask ``[..., n]``. weights: row weights ``[..., n]``.

    Returns:
      ``[...]`` in nats; ln d for zero covariance (uniform clamped spectrum). Oracle: the same formula
      on ``numpy.linalg.eigvalsh(numpy.cov(X.T))``.

    Complexity: O(n·d·min(n, d)) plus one min(n, d)-square ``eigvalsh``.

    Example:
      >>> X = jnp.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
      >>> print(round(float(spectral_entropy(X)), 4))  # ln 2
      0.6931
    """
    return _nerve_oneshot("spectral_entropy", _spectral_entropy, X, where, weights, ddof, floor, dim)


def eigenvalue_early_enrichment_metric(*, dim: int, ddof: int = 1, floor: float = NERVE_FLOOR) -> Metric:
    """Streaming :func:`eigenvalue_early_enrichment`: ``update(state, X, *, where=None, weights=None)``,
    ``init(dtype=None, batch_shape=())``; state :class:`CovarianceState` (Chan merge)."""
    return _nerve_metric("eigenvalue_early_enrichment", _early_enrichment, dim, ddof, floor)


def eigenvalue_early_enrichment(X, *, ddof: int = 1, floor: float = NERVE_FLOOR, dim: int | None = None,
                                where=None, weights=None) -> Array:
    r"""NerVE eigenvalue early enrichment: how front-loaded the covariance spectrum is, in [0, 1].

    .. math::

        \mathrm{EEE} = \operatorname{clip}\Big(\frac{\sum_{k=1}^{D} (C_k - k/D)}{D/2}, 0, 1\Big),
        \qquad C_k = \sum_{j \le k} \hat\lambda_j,

    with λ̂ the clamped, normalised, descending covariance spectrum (module docstring) and D = d.
    0 for a flat spectrum, (D − 1)/D for a one-hot one (0.9 at D = 10). Sorted spectra always give
    C_k ≥ k/D, so the clamp only removes rounding.

    Args:
      X: representations ``[..., n, d]``.
      ddof: static; NaN when W ≤ ddof. floor: static eigenvalue clamp > 0 (1e-12).
      dim: optional static d; must match ``X``.
      where: bool row mask ``[..., n]``. weights: row weights ``[..., n]``.

    Returns:
      ``[...]``; 0 for zero covariance. Oracle: the formula on ``numpy.linalg.eigvalsh(numpy.cov(X.T))``.

    Complexity: as :func:`spectral_entropy`.

    Example:
      >>> X = jnp.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.0]])
      >>> print(round(float(eigenvalue_early_enrichment(X)), 4))  # one-hot spectrum, D = 2
      0.5
    """
    return _nerve_oneshot("eigenvalue_early_enrichment", _early_enrichment, X, where, weights, ddof, floor, dim)


def _js_dims(fn, X_pre, X_post, dim_pre, dim_post):
    X_pre = _check_x(fn, X_pre, "X_pre", dim_pre)
    X_post = _check_x(fn, X_post, "X_post", dim_post)
    if X_pre.shape[:-1] != X_post.shape[:-1]:
        _fail(fn, f"argument `X_post` must have shape [..., n, d_post] with the same leading axes and n as "
              f"`X_pre` {X_pre.shape}; got {X_post.shape}.")
    return X_pre, X_post


def spectral_jensen_shannon_metric(*, dim_pre: int, dim_post: int, ddof: int = 1,
                                   floor: float = NERVE_FLOOR) -> Metric:
    """Streaming :func:`spectral_jensen_shannon`: ``update(state, X_pre, X_post, *, where=None,
    weights=None)`` over the same rows; ``init(dtype=None, batch_shape=())``; state
    :class:`PairedCovarianceState` (two Chan-merged covariance states)."""
    fn = "spectral_jensen_shannon"
    dim_pre = _static_dim(fn, "dim_pre", dim_pre, True)
    dim_post = _static_dim(fn, "dim_post", dim_post, True)
    ddof, floor = _nerve_config(fn, ddof, floor)

    def init(dtype=None, batch_shape=()):
        return PairedCovarianceState(init_covariance(dim_pre, dtype, batch_shape),
                                     init_covariance(dim_post, dtype, batch_shape))

    def update(state, X_pre, X_post, *, where=None, weights=None):
        X_pre, X_post = _js_dims(fn, X_pre, X_post, dim_pre, dim_post)
        d = state.pre.weight.dtype
        return PairedCovarianceState(merge_covariance(state.pre, _batch_state(fn, X_pre, where, weights, d)),
                                     merge_covariance(state.post, _batch_state(fn, X_post, where, weights, d)))

    def merge(a, b):
        return PairedCovarianceState(merge_covariance(a.pre, b.pre), merge_covariance(a.post, b.post))

    def compute(state):
        p, ok = _state_cov_spectrum(state.pre, ddof, floor)
        q, _ = _state_cov_spectrum(state.post, ddof, floor)
        return _nan_unless(ok, _js_divergence(p, q))

    return Metric(init, update, merge, compute)


def spectral_jensen_shannon(X_pre, X_post, *, ddof: int = 1, floor: float = NERVE_FLOOR,
                            dim_pre: int | None = None, dim_post: int | None = None, where=None,
                            weights=None) -> Array:
    r"""NerVE spectral Jensen–Shannon divergence between two representations' covariance spectra.

    .. math::

        \mathrm{JS}(p, q) = \tfrac12 \mathrm{KL}(p \,\|\, m) + \tfrac12 \mathrm{KL}(q \,\|\, m),
        \qquad m = \tfrac12 (p + q),

    with p, q the clamped, normalised, descending covariance spectra of ``X_pre`` and ``X_post``
    (module docstring), the shorter one zero-padded. Natural log: JS ∈ [0, ln 2], 0 for equal
    spectra and ln 2 for disjoint supports. Typical use: the same tokens before and after a
    feed-forward nonlinearity (NerVE), hence one row mask for both.

    Args:
      X_pre: ``[..., n, d_pre]``. X_post: ``[..., n, d_post]`` (same rows; d may differ).
      ddof: static; NaN when W ≤ ddof. floor: static eigenvalue clamp > 0 (1e-12).
      dim_pre, dim_post: optional static dimensions; must match (required by the ``_metric``).
      where: bool row mask ``[..., n]``. weights: row weights ``[..., n]`` (shared by both).

    Returns:
      ``[...]``. Oracle: ``scipy.spatial.distance.jensenshannon(p, q) ** 2`` on the numpy spectra.

    Complexity: two :func:`spectral_entropy`-sized eigendecompositions.

    Example:
      >>> X = jnp.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
      >>> js = lambda a, b: round(float(spectral_jensen_shannon(a, b)), 4)
      >>> print(js(X, X), js(X, X[:, :1]))  # (½, ½) vs (1, 0 padded)
      0.0 0.2158
    """
    fn = "spectral_jensen_shannon"
    X_pre, X_post = _js_dims(fn, X_pre, X_post, _static_dim(fn, "dim_pre", dim_pre, False),
                             _static_dim(fn, "dim_post", dim_post, False))
    ddof, floor = _nerve_config(fn, ddof, floor)
    return _js_core(X_pre, X_post, where, weights, ddof=ddof, floor=floor)


@functools.partial(jax.jit, static_argnames=("ddof", "floor"))
def _js_core(X_pre, X_post, where, weights, *, ddof, floor):
    fn = "spectral_jensen_shannon"
    dtype = _dtype(X_pre, X_post, weights)
    p, ok = _oneshot_cov_spectrum(fn, X_pre, where, weights, ddof, floor, dtype)
    q, _ = _oneshot_cov_spectrum(fn, X_post, where, weights, ddof, floor, dtype)
    return _nan_unless(ok, _js_divergence(p, q))


# --------------------------------------------------------------------------------------------------
# registry

_NP = "numpy.linalg.eigvalsh(numpy.cov(X.T)) with the NerVE clamp (tests/reference/spectral.py)"
for _name, _fn, _stream, _oracle, _aliases, _exc in [
    ("effective_rank", effective_rank, effective_rank_metric,
     "numpy.linalg.svd RankMe with squared/center/eps (tests/reference/spectral.py)", ("rankme",), {}),
    ("alpha_req", alpha_req, alpha_req_metric,
     "weighted numpy.polyfit of log eigvalsh(numpy.cov) (reptrix get_powerlaw for inverse_rank)", (), {}),
    ("participation_ratio", participation_ratio, participation_ratio_metric,
     "(sum lam)^2 / sum lam^2 of numpy.linalg.eigvalsh(numpy.cov(X.T))", (), {}),
    ("spectral_entropy", spectral_entropy, spectral_entropy_metric, _NP, (), {}),
    ("eigenvalue_early_enrichment", eigenvalue_early_enrichment, eigenvalue_early_enrichment_metric, _NP, (), {}),
    ("spectral_jensen_shannon", spectral_jensen_shannon, spectral_jensen_shannon_metric,
     "scipy.spatial.distance.jensenshannon**2 of the numpy NerVE spectra", (), {}),
]:
    register(MetricInfo(name=_name, family="spectral", fn=_fn, differentiable=True, higher_is_better=None,
                        streaming=_stream, oracle=_oracle, aliases=_aliases, exceptions=_exc))
del _name, _fn, _stream, _oracle, _aliases, _exc
