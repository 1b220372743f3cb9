"""Weight-matrix spectra: the ESD, the heavy-tailed power-law fit (α, α̂), WeightWatcher's norm
summaries, the Weibull fit of |w|, and a helper that maps any of them over a params pytree.

**Shapes.** Every function takes a weight matrix ``W [..., n, m]`` (any orientation: flax's ``[in, out]``
and PyTorch's ``[out, in]`` give the same spectrum) and reduces its last two axes; leading axes are batch
axes, so stacked layers ``[L, n, m]``, checkpoints or seeds need no special casing (``jax.vmap`` works
too). :func:`powerlaw_fit` takes eigenvalues ``evals [..., K]`` directly.

**Conventions** (WeightWatcher 0.7.x, ``weightwatcher.WW_powerlaw`` and ``weightwatcher.RMT_Util``):

* ESD = the ``min(n, m)`` eigenvalues of WᵀW, i.e. λ = σ² of the singular values, sorted ascending and
  **not divided by N** (WeightWatcher's default ``normalize=False``). ``normalize=True`` uses
  WeightWatcher's ``normalize=True``: W is scaled by 1/√N with N = max(n, m), i.e. λ = σ²/N — the
  X = WᵀW/N of the HTSR papers. α, the stable rank and the matrix entropy are scale invariant; α̂,
  the norms and the log-norms are not.
* ``spectral_norm`` is λ_max = σ_max² (WeightWatcher's ``spectral_norm``) with ``squared=True``, and σ_max
  (the operator 2-norm) with ``squared=False``; ``log_norm`` is log10 Σλ = log10 ‖W‖_F² (``squared=False``:
  log10 ‖W‖_F).
* Power-law fit: the continuous Clauset MLE as WeightWatcher's ``WWFit`` computes it (see
  :func:`powerlaw_fit`): eigenvalues ``> 1e-5``, every point but the largest a candidate λ_min, the one
  with the smallest KS distance wins.
* A failed or undefined fit (too few eigenvalues, a point-mass tail) is **NaN** in every float field
  (WeightWatcher reports −1), so a failed layer never silently enters a mean; ``jnp.nan_to_num(x,
  nan=-1.0)`` gives WeightWatcher's value. Gradients stay finite on every path (double-``where``).

**Numerics.** Singular values come from ``jnp.linalg.svd(compute_uv=False)`` (σ² never goes negative,
unlike ``eigvalsh(WᵀW)``, and its gradient stays finite at repeated and zero singular values). bf16/f16
weights are computed in float32 and float64 stays float64.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxmetrics._src import checks, numerics
from jaxmetrics._src.checks import _fail
from jaxmetrics._src.registry import MetricInfo, register

Array = jax.Array

__all__ = [
    "PowerLawFit",
    "WeibullFit",
    "alpha_hat",
    "esd",
    "log_alpha_norm",
    "log_norm",
    "log_spectral_norm",
    "matrix_entropy",
    "powerlaw_alpha",
    "powerlaw_fit",
    "spectral_norm",
    "stable_rank",
    "weibull_fit",
    "weight_spectra",
]

EVALS_THRESHOLD = 1e-5  # WeightWatcher's EVALS_THRESH: eigenvalues <= 1e-5 are not fitted
MIN_EVALS = 10  # WeightWatcher's documented min_evals layer policy (analyze(min_evals=10))
SMALL_N_CUTOFF = 20  # WW_powerlaw.SMALL_N_CUTOFF (method="weightwatcher")
_SMALL_N_K_MIN = 8  # WWFit.fit_powerlaw_smallN k_min
_SMALL_N_S_MIN = 1e-12  # WWFit.fit_powerlaw_smallN degenerate-tail cutoff on Σ ln(x/xmin)
_TIE_ULPS = 64  # a tail with mean log-spread Σ ln(x_j/x_i)/n <= 64·eps is a point mass (up to rounding)
_ENTROPY_EPS = 1e-10  # weightwatcher.constants.EPSILON (RMT_Util.matrix_entropy)
_METHODS = ("clauset", "weightwatcher")
_CONV = ("slices", "flatten", "skip")
_LN10 = math.log(10.0)


class PowerLawFit(NamedTuple):
    """Result of :func:`powerlaw_fit` / :func:`powerlaw_alpha`; every field has the batch shape ``[...]``.

    Attributes:
      alpha: the power-law exponent α of the tail p(λ) ∝ λ^(−α), λ ≥ xmin.
      xmin: λ_min, the start of the tail (an eigenvalue).
      ks_distance: the KS distance D of the fitted tail (WeightWatcher's ``D``).
      sigma: the standard error (α − 1)/√n of α over the n tail points.
      num_tail: int32 number of fitted eigenvalues ≥ xmin (WeightWatcher's ``num_pl_spikes``); 0 when
        the fit failed.
    """

    alpha: Array
    xmin: Array
    ks_distance: Array
    sigma: Array
    num_tail: Array


class WeibullFit(NamedTuple):
    """Result of :func:`weibull_fit`; every field has the batch shape ``[...]``.

    Attributes:
      shape: the Weibull shape k.
      scale: the Weibull scale λ.
      r_squared: R² of the probability-plot regression.
      ks_distance: sup |F_n − F_Weibull| over all fitted |w| (the KS statistic).
    """

    shape: Array
    scale: Array
    r_squared: Array
    ks_distance: Array


# --------------------------------------------------------------------------------------------------
# argument checks


def _check_matrix(fn: str, W) -> Array:
    """``W [..., n, m]`` (n, m >= 1) promoted to the accumulation dtype (bf16/f16/int -> float32)."""
    W = jnp.asarray(W)
    checks.check_min_rank(fn, "W", W, 2, "[..., n, m]")
    if W.shape[-1] < 1 or W.shape[-2] < 1:
        _fail(fn, f"argument `W` must have non-empty matrix axes [..., n, m] (n, m >= 1); got shape {W.shape}.")
    if not (jnp.issubdtype(W.dtype, jnp.floating) or jnp.issubdtype(W.dtype, jnp.integer)):
        _fail(fn, f"argument `W` must be a real floating-point array; got dtype {W.dtype}.")
    return numerics.promote(W)


def _check_fit_options(fn, method, min_evals, threshold, chunk_size):
    checks.check_choice(fn, "method", method, _METHODS)
    min_evals = checks.check_static_int(fn, "min_evals", min_evals, minimum=1)
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not threshold >= 0:
        _fail(fn, f"argument `threshold` must be a static non-negative float; got {threshold!r}.")
    if chunk_size is not None:
        chunk_size = checks.check_static_int(fn, "chunk_size", chunk_size, minimum=1)
    return dict(method=method, min_evals=min_evals, threshold=float(threshold), chunk_size=chunk_size)


def _batched(core, batch_shape, *arrays):
    """Applies ``core`` (written for one item) over the flattened leading axes ``batch_shape``."""
    flat = [a.reshape((-1,) + a.shape[len(batch_shape):]) for a in arrays]
    out = jax.vmap(core)(*flat)
    return jax.tree.map(lambda x: x.reshape(batch_shape + x.shape[1:]), out)


# --------------------------------------------------------------------------------------------------
# ESD


def _svdvals(W):
    """Singular values ``[..., min(n, m)]``, descending."""
    return jnp.linalg.svd(W, compute_uv=False)


def _esd(W, normalize):
    lam = jnp.flip(_svdvals(W), -1) ** 2
    if normalize:
        lam = lam / max(W.shape[-2:])
    return lam


@functools.partial(jax.jit, static_argnames=("normalize",))
def _esd_core(W, normalize):
    return _esd(W, normalize)


def esd(W, *, normalize: bool = False) -> Array:
    r"""Empirical spectral density of a weight matrix: the eigenvalues of WᵀW, ascending.

    λ_i = σ_i² for the ``min(n, m)`` singular values σ_i of ``W`` (zeros included).

    Args:
      W: weight matrix ``[..., n, m]``.
      normalize: static. False (default): λ = σ², **not** divided by N — WeightWatcher's ESD
        (``normalize=False``, its default). True: λ = σ²/N with N = max(n, m) — WeightWatcher's
        ``normalize=True`` (W·1/√N), the HTSR papers' X = WᵀW/N.

    Returns:
      ``[..., min(n, m)]`` eigenvalues sorted ascending. Matches ``numpy.linalg.svd(W)**2``.
      Complexity: one SVD, O(n·m·min(n, m)).

    Example:
      >>> print(esd(jnp.array([[3.0, 0.0], [0.0, 1.0], [0.0, 0.0]])))
      [1. 9.]
    """
    W = _check_matrix("esd", W)
    return _esd_core(W, normalize=normalize)


# --------------------------------------------------------------------------------------------------
# power-law fit


def _alpha_and_ks(d, m, s, n, i, idx, small):
    """α and the KS distance D of the tail ``m`` starting at index ``i``, given d_j = ln(x_j/x_i).

    A point-mass tail (s = Σd = 0, up to rounding: s ≤ 64·eps·n) gets D = (n − 1)/n (what WeightWatcher
    computes for s = 0, with α = ∞) and a finite placeholder α; callers decide what it means.
    """
    tied = s <= _TIE_ULPS * jnp.finfo(d.dtype).eps * n
    s_safe = jnp.where(tied, jnp.ones_like(s), s)
    n_safe = jnp.maximum(n, 1)
    alpha = 1 + jnp.where(small, n - 1, n) / s_safe
    model_cdf = -jnp.expm1((1 - alpha) * d)  # 1 − (x/xmin)^(1−α)
    empirical = (idx - i).astype(d.dtype) / n_safe  # arange(n)/n
    dev = jnp.where(m, jnp.abs(model_cdf - empirical), jnp.zeros_like(d))
    ks = jnp.where(tied, (n - 1) / n_safe, dev.max())
    return alpha, ks, tied


def _powerlaw_core(x, valid, *, method, min_evals, chunk_size):
    """WWFit on the valid entries of one eigenvalue vector ``x [K]`` (fixed shape, masks only)."""
    K = x.shape[-1]
    dt = x.dtype
    idx = jnp.arange(K)
    order = jnp.argsort(lax.stop_gradient(jnp.where(valid, x, -jnp.inf)))  # invalid first, stable
    xs = x[order]
    vs = valid[order]  # the valid entries are the suffix [K − n_valid, K)
    n_valid = vs.sum()
    small = (method == "weightwatcher") & (n_valid < SMALL_N_CUTOFF)

    # 1. choose xmin: every valid point but the largest is a candidate (no gradient: piecewise constant)
    xs_sg = lax.stop_gradient(xs)
    lx_sg = jnp.log(jnp.where(vs, xs_sg, jnp.ones_like(xs_sg)))

    def candidate(i):
        m = vs & (idx >= i)
        d = jnp.where(m, lx_sg - lx_sg[i], jnp.zeros_like(lx_sg))
        s = d.sum()
        n = m.sum().astype(dt)
        _, ks, tied = _alpha_and_ks(d, m, s, n, i, idx, small)
        return s, n, ks, tied

    if chunk_size is None or chunk_size >= K:
        s, n, ks, tied = jax.vmap(candidate)(idx)
    else:
        s, n, ks, tied = lax.map(candidate, idx, batch_size=chunk_size)
    base = vs & (idx <= K - 2)
    eligible = jnp.where(small, base & (n >= _SMALL_N_K_MIN) & (s > _SMALL_N_S_MIN) & ~tied, base)
    score = jnp.where(eligible, ks, jnp.inf)
    any_eligible = eligible.any()
    # WWFit small-N fallback: no eligible candidate -> fit all points (xmin = the smallest)
    i_star = jnp.where(any_eligible, jnp.argmin(score), K - n_valid)
    i_star = jnp.minimum(i_star, K - 1)

    # 2. refit at the chosen xmin, differentiably
    lx = jnp.log(jnp.where(vs, xs, jnp.ones_like(xs)))
    m = vs & (idx >= i_star)
    d = jnp.where(m, lx - lx[i_star], jnp.zeros_like(lx))
    s_star = d.sum()
    n_star = m.sum().astype(dt)
    alpha, ks, tied = _alpha_and_ks(d, m, s_star, n_star, i_star, idx, small)
    sigma = (alpha - 1) / jnp.sqrt(jnp.maximum(n_star, 1))
    xmin = xs[i_star]
    ok = (n_valid >= max(min_evals, 2)) & ~tied
    ok = ok & jnp.where(small, s_star > _SMALL_N_S_MIN, any_eligible)
    num_tail = jnp.where(ok, (vs & (xs_sg >= xs_sg[i_star])).sum(), 0).astype(jnp.int32)
    return (alpha, xmin, ks, sigma, num_tail), ok


@functools.partial(jax.jit, static_argnames=("method", "min_evals", "threshold", "chunk_size"))
def _powerlaw_raw(x, where, *, method, min_evals, threshold, chunk_size):
    """Raw fit fields (finite placeholders where the fit failed) and the bool ``ok [...]``."""
    valid = x > threshold
    if where is not None:
        valid = valid & where
    core = functools.partial(_powerlaw_core, method=method, min_evals=min_evals, chunk_size=chunk_size)
    return _batched(core, x.shape[:-1], x, valid)


def _finish_fit(raw, ok):
    alpha, xmin, ks, sigma, num_tail = raw
    nan = lambda v: jnp.where(ok, v, jnp.nan)  # noqa: E731
    return PowerLawFit(nan(alpha), nan(xmin), nan(ks), nan(sigma), num_tail)


def _fit_evals(fn, evals, where, method, min_evals, threshold, chunk_size):
    opts = _check_fit_options(fn, method, min_evals, threshold, chunk_size)
    if where is not None:
        where = checks.broadcast_arg(fn, "where", where, evals.shape, "eigenvalue shape").astype(bool)
    return _powerlaw_raw(evals, where, **opts)


def powerlaw_fit(evals, *, where=None, method: str = "clauset", min_evals: int = MIN_EVALS,
                 threshold: float = EVALS_THRESHOLD, chunk_size: int | None = 512) -> PowerLawFit:
    r"""Power-law fit of the tail of an eigenvalue spectrum (continuous Clauset MLE, KS-chosen λ_min).

    On the fitted eigenvalues x_1 ≤ … ≤ x_N (those ``> threshold`` and not masked), every x_i except
    the largest is a candidate λ_min. With the n = N − i + 1 tail points x_j ≥ x_i (by index):

        α_i = 1 + n / Σ_{j≥i} ln(x_j/x_i),
        D_i = max_{j≥i} |1 − (x_j/x_i)^{1−α_i} − (j − i)/n|   (KS distance of the fitted tail),

    and the candidate with the smallest D_i (the first on ties) is the fit; σ = (α − 1)/√n. A candidate
    whose tail is a point mass (Σ ln(x_j/x_i) ≤ 64·eps·n, i.e. all equal up to rounding) gets
    D_i = (n − 1)/n, WWFit's value for an exactly tied tail (α = ∞).

    This is ``weightwatcher.WW_powerlaw.WWFit`` (WeightWatcher 0.7.x, ``fit_power_law_standard``)
    computed with fixed shapes: ``method="clauset"`` (default) uses it for every N.
    ``method="weightwatcher"`` also reproduces WWFit 0.7.7's small-sample branch, used when N < 20: a
    bias-corrected α = 1 + (n − 1)/Σ ln(x_j/x_i) (also inside D), candidates only with n ≥ 8 tail
    points and Σ ln(x_j/x_i) > 1e-12, the smallest D among them (``fit_powerlaw_smallN`` ranks by
    D − 0.868/√n, but ``WWFit.__init__`` then re-selects by minimum D — the effective rule is
    reproduced), and all points as the tail when no candidate qualifies (there σ = (α − 1)/√N, where
    WWFit 0.7.7 reports a stale value).

    Undefined cases (every float field NaN, ``num_tail`` 0; WeightWatcher reports −1 or skips the
    layer): fewer than ``max(min_evals, 2)`` fitted eigenvalues (WeightWatcher skips layers with fewer
    than ``min_evals`` eigenvalues; here they are counted after the threshold and the mask), a chosen
    tail that is a point mass (all tail eigenvalues equal up to rounding, Σ ln(x_j/x_i) ≤ 64·eps·n:
    WWFit's α = ∞ or astronomically large), and, for ``method="weightwatcher"``, WWFit's degenerate
    small-sample fallback (its α = 0).

    Args:
      evals: eigenvalues ``[..., K]`` in any order (e.g. :func:`esd`).
      where: optional bool mask ``[..., K]`` of eigenvalues to fit (padding / ragged spectra).
      method: static ``"clauset"`` or ``"weightwatcher"`` (see above).
      min_evals: static minimum number of fitted eigenvalues (default 10, WeightWatcher's documented
        ``min_evals``; 0.7.7's constant is 8).
      threshold: static; only eigenvalues ``> threshold`` are fitted (WeightWatcher's 1e-5).
      chunk_size: static number of candidates evaluated at once (bounds memory at O(chunk_size·K));
        None evaluates all K at once.

    Returns:
      :class:`PowerLawFit` ``(alpha, xmin, ks_distance, sigma, num_tail)``, each ``[...]``. The
      gradient flows through α, λ_min, D and σ at the chosen λ_min (piecewise smooth: the choice
      itself is piecewise constant). Complexity O(K²) time (every candidate's KS distance), O(K log K)
      for the sort; memory O(chunk_size·K).

    Example:
      >>> lam = 1.0 / (1.0 - jnp.linspace(0.0, 0.99, 100)) ** (1 / 1.5)  # Pareto(α = 2.5) quantiles
      >>> fit = powerlaw_fit(lam)
      >>> print(round(float(fit.alpha), 2), int(fit.num_tail))
      2.55 100
    """
    evals = jnp.asarray(evals)
    checks.check_min_rank("powerlaw_fit", "evals", evals, 1, "[..., K]")
    if evals.shape[-1] < 1:
        _fail("powerlaw_fit", f"argument `evals` must have at least one eigenvalue [..., K >= 1]; got {evals.shape}.")
    x = numerics.promote(evals)
    return _finish_fit(*_fit_evals("powerlaw_fit", x, where, method, min_evals, threshold, chunk_size))


@functools.partial(jax.jit, static_argnames=("normalize", "method", "min_evals", "threshold", "chunk_size"))
def _matrix_fit_stats(W, *, normalize, method, min_evals, threshold, chunk_size):
    """(PowerLawFit, α̂, log α-norm) of ``esd(W)``, NaN where the fit failed. One compilation serves
    :func:`powerlaw_alpha`, :func:`alpha_hat` and :func:`log_alpha_norm` (the extra work is O(K))."""
    lam = _esd(W, normalize)
    raw, ok = _powerlaw_raw(lam, None, method=method, min_evals=min_evals, threshold=threshold,
                            chunk_size=chunk_size)
    alpha = jnp.where(ok, raw[0], jnp.ones_like(raw[0]))
    lam_max = lam[..., -1]
    log_lam_max = numerics.safe_log(lam_max, 0.0)
    # ln Σ λ^α = α ln λ_max + ln Σ (λ/λ_max)^α (no overflow for large α or λ); λ = 0 contributes 0
    ratio = numerics.safe_div(lam, lam_max[..., None], 0.0)
    rel = jnp.where(lam > 0, jnp.exp(alpha[..., None] * numerics.safe_log(ratio, 0.0)), jnp.zeros_like(lam))
    log_alpha_norm_ = alpha * log_lam_max + numerics.safe_log(rel.sum(-1), 0.0)
    nan = lambda v: jnp.where(ok, v / _LN10, jnp.nan)  # noqa: E731
    return _finish_fit(raw, ok), nan(alpha * log_lam_max), nan(log_alpha_norm_)


def powerlaw_alpha(W, *, normalize: bool = False, method: str = "clauset", min_evals: int = MIN_EVALS,
                   threshold: float = EVALS_THRESHOLD, chunk_size: int | None = 512) -> PowerLawFit:
    r"""Heavy-tailed self-regularization power-law fit of a weight matrix's ESD (HTSR α).

    ``powerlaw_fit(esd(W, normalize=normalize), ...)``: the continuous Clauset MLE
    α = 1 + n/Σ ln(λ/λ_min) over the tail λ ≥ λ_min, with λ_min chosen by minimum KS distance over all
    candidates, exactly as WeightWatcher's ``WWFit`` (see :func:`powerlaw_fit` for the algorithm,
    ``method`` and the undefined cases). α is scale invariant, so ``normalize`` only moves ``xmin``
    (and which tiny eigenvalues pass ``threshold``).

    Args:
      W: weight matrix ``[..., n, m]``.
      normalize: static; False: λ = σ² (WeightWatcher's default), True: λ = σ²/max(n, m).
      method, min_evals, threshold, chunk_size: static, as in :func:`powerlaw_fit`.

    Returns:
      :class:`PowerLawFit`, each field ``[...]``. Rules of thumb (WeightWatcher README): α ≈ 2 is well
      trained, α < 2 suggests over-training, large α (> 6) an under-trained layer. Complexity: one SVD
      plus O(min(n, m)²).

    Example:
      >>> W = jax.random.normal(jax.random.key(0), (256, 64))
      >>> fit = powerlaw_alpha(W)
      >>> bool(fit.alpha > 2), int(fit.num_tail) <= 64
      (True, True)
    """
    W = _check_matrix("powerlaw_alpha", W)
    opts = _check_fit_options("powerlaw_alpha", method, min_evals, threshold, chunk_size)
    return _matrix_fit_stats(W, normalize=normalize, **opts)[0]


def alpha_hat(W, *, normalize: bool = False, method: str = "clauset", min_evals: int = MIN_EVALS,
              threshold: float = EVALS_THRESHOLD, chunk_size: int | None = 512) -> Array:
    r"""Weighted alpha α̂ = α · log10 λ_max (WeightWatcher's ``alpha_weighted``).

    α from :func:`powerlaw_alpha` (same options), λ_max = σ_max² (or σ_max²/N with ``normalize``).
    NaN when the power-law fit is undefined (WeightWatcher would use α = −1).

    Args:
      W: weight matrix ``[..., n, m]``.
      normalize, method, min_evals, threshold, chunk_size: static, as in :func:`powerlaw_alpha`.

    Returns:
      ``[...]``. Depends on the scale of W (α does not).

    Example:
      >>> W = jnp.diag(jnp.arange(1.0, 13.0))
      >>> bool(jnp.isfinite(alpha_hat(W)))
      True
    """
    W = _check_matrix("alpha_hat", W)
    opts = _check_fit_options("alpha_hat", method, min_evals, threshold, chunk_size)
    return _matrix_fit_stats(W, normalize=normalize, **opts)[1]


def log_alpha_norm(W, *, normalize: bool = False, method: str = "clauset", min_evals: int = MIN_EVALS,
                   threshold: float = EVALS_THRESHOLD, chunk_size: int | None = 512) -> Array:
    r"""Log α-norm log10 Σ_i λ_i^α (WeightWatcher's ``log_alpha_norm``; the Schatten 2α-norm, in log).

    The sum runs over the whole ESD (every eigenvalue, as WeightWatcher; λ = 0 contributes 0) with α
    from :func:`powerlaw_alpha` (same options). NaN when the fit is undefined.

    Args:
      W: weight matrix ``[..., n, m]``.
      normalize, method, min_evals, threshold, chunk_size: static, as in :func:`powerlaw_alpha`.

    Returns:
      ``[...]``.

    Example:
      >>> W = jnp.diag(jnp.arange(1.0, 13.0))
      >>> bool(jnp.isfinite(log_alpha_norm(W)))
      True
    """
    W = _check_matrix("log_alpha_norm", W)
    opts = _check_fit_options("log_alpha_norm", method, min_evals, threshold, chunk_size)
    return _matrix_fit_stats(W, normalize=normalize, **opts)[2]


# --------------------------------------------------------------------------------------------------
# norm summaries


@jax.jit
def _stable_rank(W):
    sv_max = _svdvals(W)[..., 0]
    return numerics.safe_div(jnp.sum(W * W, axis=(-2, -1)), sv_max * sv_max, 0.0)


def stable_rank(W) -> Array:
    r"""Stable rank Σλ/λ_max = ‖W‖_F²/‖W‖_2² (WeightWatcher's ``stable_rank``).

    Scale invariant, between 1 and rank(W). The zero matrix has stable rank 0 (its rank).

    Args:
      W: weight matrix ``[..., n, m]``.

    Returns:
      ``[...]``. Complexity: one SVD.

    Example:
      >>> print(stable_rank(jnp.diag(jnp.array([2.0, 1.0, 1.0]))))
      1.5
    """
    W = _check_matrix("stable_rank", W)
    return _stable_rank(W)


@functools.partial(jax.jit, static_argnames=("squared", "normalize"))
def _spectral_norm(W, squared, normalize):
    sv_max = _svdvals(W)[..., 0]
    if normalize:
        sv_max = sv_max / math.sqrt(max(W.shape[-2:]))
    return sv_max * sv_max if squared else sv_max


def spectral_norm(W, *, squared: bool = True, normalize: bool = False) -> Array:
    r"""Spectral norm: λ_max = σ_max² (``squared=True``, WeightWatcher's ``spectral_norm``) or σ_max.

    Args:
      W: weight matrix ``[..., n, m]``.
      squared: static. True (default): the largest ESD eigenvalue λ_max = σ_max² (WeightWatcher).
        False: the operator 2-norm σ_max = ‖W‖_2.
      normalize: static; divide λ_max by N = max(n, m) (σ_max by √N), WeightWatcher's ``normalize``.

    Returns:
      ``[...]``. Complexity: one SVD.

    Example:
      >>> W = jnp.array([[3.0, 0.0], [0.0, 1.0]])
      >>> print(spectral_norm(W), spectral_norm(W, squared=False))
      9.0 3.0
    """
    W = _check_matrix("spectral_norm", W)
    return _spectral_norm(W, squared=squared, normalize=normalize)


@functools.partial(jax.jit, static_argnames=("squared", "normalize"))
def _log_spectral_norm(W, squared, normalize):
    sv_max = _svdvals(W)[..., 0]
    scale = (2.0 if squared else 1.0) / _LN10
    value = scale * numerics.safe_log(sv_max, -jnp.inf)
    if normalize:
        value = value - (1.0 if squared else 0.5) * math.log10(max(W.shape[-2:]))
    return value


def log_spectral_norm(W, *, squared: bool = True, normalize: bool = False) -> Array:
    r"""log10 of :func:`spectral_norm`: log10 λ_max (WeightWatcher's ``log_spectral_norm``) or log10 σ_max.

    The zero matrix gives −inf.

    Args:
      W: weight matrix ``[..., n, m]``.
      squared, normalize: static, as in :func:`spectral_norm`.

    Returns:
      ``[...]``.

    Example:
      >>> print(log_spectral_norm(jnp.array([[10.0, 0.0], [0.0, 1.0]])))
      2.0
    """
    W = _check_matrix("log_spectral_norm", W)
    return _log_spectral_norm(W, squared=squared, normalize=normalize)


@functools.partial(jax.jit, static_argnames=("squared", "normalize"))
def _log_norm(W, squared, normalize):
    total = jnp.sum(W * W, axis=(-2, -1))
    if normalize:
        total = total / max(W.shape[-2:])
    scale = (1.0 if squared else 0.5) / _LN10
    return scale * numerics.safe_log(total, -jnp.inf)


def log_norm(W, *, squared: bool = True, normalize: bool = False) -> Array:
    r"""Log Frobenius norm: log10 Σλ = log10 ‖W‖_F² (``squared=True``, WeightWatcher's ``log_norm``).

    Σλ over the ESD equals the sum of squared entries, so no SVD is needed. ``squared=False`` gives
    log10 ‖W‖_F (half the value). The zero matrix gives −inf.

    Args:
      W: weight matrix ``[..., n, m]``.
      squared: static; True: log10 ‖W‖_F² (WeightWatcher), False: log10 ‖W‖_F.
      normalize: static; use W/√N, N = max(n, m) (WeightWatcher's ``normalize``).

    Returns:
      ``[...]``. Complexity O(n·m).

    Example:
      >>> print(log_norm(jnp.full((10, 10), 1.0)))
      2.0
    """
    W = _check_matrix("log_norm", W)
    return _log_norm(W, squared=squared, normalize=normalize)


@jax.jit
def _matrix_entropy(W):
    sv = _svdvals(W)
    sv_max = sv[..., :1]
    tol = sv_max * max(W.shape[-2:]) * jnp.finfo(sv.dtype).eps
    rank = jnp.sum(sv > tol, axis=-1)
    lam = sv * sv
    total = lam.sum(-1, keepdims=True)
    p = numerics.safe_div(lam, total, 0.0) + _ENTROPY_EPS
    log_rank = jnp.log(rank.astype(sv.dtype) + _ENTROPY_EPS)
    safe_log_rank = jnp.where(rank >= 2, log_rank, jnp.ones_like(log_rank))
    value = -jnp.sum(p * jnp.log(p), axis=-1) / safe_log_rank
    value = jnp.where(rank >= 2, value, jnp.zeros_like(value))
    return jnp.where(total[..., 0] > 0, value, jnp.nan)


def matrix_entropy(W) -> Array:
    r"""Normalised matrix (spectral) entropy, WeightWatcher's ``RMT_Util.matrix_entropy``.

    With singular values σ_i (all min(n, m) of them), p_i = σ_i²/Σσ² + ε and
    r = #{σ_i > σ_max·N·eps} + ε (the ``numpy.linalg.matrix_rank`` tolerance, N = max(n, m), eps the
    machine epsilon of the compute dtype), ε = 1e-10 (WeightWatcher's ``EPSILON``):

        H = −Σ_i p_i ln p_i / ln r   ∈ [0, 1] for rank ≥ 2.

    Undefined cases: rank 1 gives 0 (a point mass; WeightWatcher's ε-regularised formula returns an
    artifact of the ε there) and the zero matrix gives NaN (as WeightWatcher).

    Args:
      W: weight matrix ``[..., n, m]``.

    Returns:
      ``[...]``, 1 for a flat spectrum of full rank. Matches ``matrix_entropy(svd(W), max(n, m))`` for
      rank ≥ 2. Complexity: one SVD.

    Example:
      >>> print(round(float(matrix_entropy(jnp.eye(4))), 4))
      1.0
    """
    W = _check_matrix("matrix_entropy", W)
    return _matrix_entropy(W)


# --------------------------------------------------------------------------------------------------
# Weibull fit of |w|


def _weibull_core(w, valid):
    """Middle-80% probability-plot fit of one flat sample ``w [P]``; returns (fields, ok)."""
    P = w.shape[-1]
    dt = w.dtype
    a = jnp.abs(w)
    valid = valid & (a > 0) & jnp.isfinite(a)
    order = jnp.argsort(lax.stop_gradient(jnp.where(valid, a, jnp.inf)))  # valid first, ascending
    xs = a[order]
    vs = valid[order]
    n_int = vs.sum()
    n = n_int.astype(dt)
    n_safe = jnp.maximum(n, 1)
    i_int = jnp.arange(1, P + 1)
    i = i_int.astype(dt)
    F = (i - 0.5) / n_safe
    # F_i ∈ [0.1, 0.9] ⇔ ⌈(n + 5)/10⌉ ≤ i ≤ ⌊(9n + 5)/10⌋: exact integers, no rounding at the ends
    lo = -((-n_int - 5) // 10)
    hi = n_int + (5 - n_int) // 10
    sel = vs & (i_int >= lo) & (i_int <= hi)
    X = jnp.log(jnp.where(vs, xs, jnp.ones_like(xs)))
    Y = jnp.log(-jnp.log1p(-jnp.where(sel, F, 0.5 * jnp.ones_like(F))))
    ns = sel.sum().astype(dt)
    ns_safe = jnp.maximum(ns, 1)
    zero = jnp.zeros_like(X)
    mx = jnp.where(sel, X, zero).sum() / ns_safe
    my = jnp.where(sel, Y, zero).sum() / ns_safe
    dx = jnp.where(sel, X - mx, zero)
    dy = jnp.where(sel, Y - my, zero)
    sxx, sxy, syy = (dx * dx).sum(), (dx * dy).sum(), (dy * dy).sum()
    ok = (ns >= 2) & (sxx > 0) & (sxy > 0)
    sxx_safe = jnp.where(ok, sxx, jnp.ones_like(sxx))
    sxy_safe = jnp.where(ok, sxy, jnp.ones_like(sxy))
    syy_safe = jnp.where(syy > 0, syy, jnp.ones_like(syy))
    k = sxy_safe / sxx_safe
    log_scale = mx - my / k
    r2 = sxy_safe * sxy_safe / (sxx_safe * syy_safe)
    model_cdf = -jnp.expm1(-jnp.exp(k * (X - log_scale)))
    gap = jnp.maximum(model_cdf - (i - 1) / n_safe, i / n_safe - model_cdf)
    ks = jnp.where(vs, gap, zero).max()
    return (k, jnp.exp(log_scale), r2, ks), ok


@jax.jit
def _weibull_raw(W, where):
    x = W.reshape(W.shape[:-2] + (-1,))
    valid = jnp.ones(x.shape, bool) if where is None else where.reshape(x.shape)
    return _batched(_weibull_core, x.shape[:-1], x, valid)


def weibull_fit(W, *, where=None) -> WeibullFit:
    r"""Weibull shape k and scale λ of the weight magnitudes |w| by probability-plot least squares.

    The entries of each matrix are pooled: sort the n fitted magnitudes |w|_(1) ≤ … ≤ |w|_(n),
    F_i = (i − ½)/n, and on the middle 80 % (F_i ∈ [0.1, 0.9]) regress

        ln(−ln(1 − F_i)) = k·ln|w|_(i) − k·ln λ

    by ordinary least squares (closed form): k = S_xy/S_xx, λ = exp(x̄ − ȳ/k), R² = S_xy²/(S_xx S_yy).
    The KS distance compares the fitted CDF 1 − exp(−(x/λ)^k) with the empirical CDF of **all** n
    fitted magnitudes (``scipy.stats.kstest``).

    This is the JAX form of the Weibull-framework protocol (its reference code bins log10|w| in 1024
    bins; the sorted form is the continuum limit). The value depends on the protocol: for i.i.d.
    Gaussian weights w ~ N(0, σ²) it gives k ≈ 1.205 (1.2054 on exact half-normal quantiles) and
    λ ≈ 0.887σ, while a maximum-likelihood Weibull fit of the same data gives k ≈ 1.26.

    Exact zeros (pruned weights) and non-finite entries are not fitted (ln 0 is undefined; the
    reference's log-histogram drops them as well). Undefined cases — fewer than two fitted points in
    the middle range, or all of them equal — give NaN in every field.

    Args:
      W: weights ``[..., n, m]``; all n·m entries of a matrix form one sample (for a flat sample
        ``w [N]`` pass ``w[:, None]``).
      where: optional bool mask broadcastable to ``W`` of the entries to fit.

    Returns:
      :class:`WeibullFit` ``(shape, scale, r_squared, ks_distance)``, each ``[...]``. Differentiable
      almost everywhere (the sort is a permutation). Complexity O(n·m·log(n·m)).

    Example:
      >>> F = (jnp.arange(1, 1001) - 0.5) / 1000
      >>> w = 2.0 * (-jnp.log1p(-F)) ** (1 / 1.5)  # exact Weibull(k = 1.5, λ = 2) quantiles
      >>> fit = weibull_fit(w[:, None])
      >>> print(round(float(fit.shape), 3), round(float(fit.scale), 3), round(float(fit.r_squared), 3))
      1.5 2.0 1.0
    """
    W = _check_matrix("weibull_fit", W)
    if where is not None:
        where = checks.broadcast_arg("weibull_fit", "where", where, W.shape, "shape of `W`").astype(bool)
    raw, ok = _weibull_raw(W, where)
    return WeibullFit(*(jnp.where(ok, v, jnp.nan) for v in raw))


# --------------------------------------------------------------------------------------------------
# params pytree helper


def _key_name(k) -> str:
    for attr in ("key", "name", "idx"):
        if hasattr(k, attr):
            return str(getattr(k, attr))
    return str(k)


def weight_spectra(params, fn: Callable = esd, *, min_dim: int = 2, conv: str = "slices", **kwargs) -> dict:
    r"""Applies a weight-spectrum function to every weight matrix of a params pytree.

    Every floating leaf of rank ≥ 2 is a weight matrix ``[..., n, m]`` (its last two axes), kept when
    both n and m are ≥ ``min_dim``; lower-rank leaves (biases, norm scales) and integer leaves are
    skipped. Leaves of rank ≥ 3 are convolution kernels in flax's layout ``[*kernel_size, c_in,
    c_out]`` (or stacked layers), handled by ``conv``:

    * ``"slices"`` (default): leading axes are batch axes, so a kernel ``[kh, kw, c_in, c_out]`` gives
      one result per spatial tap — the kh·kw matrices ``c_in × c_out`` that WeightWatcher slices a
      Conv2D into — with result shape ``[kh, kw, ...]``. Layers stacked by ``nn.scan`` ``[L, n, m]``
      give per-layer results ``[L, ...]`` the same way.
    * ``"flatten"``: the kernel is reshaped to its im2col matrix ``[kh·kw·c_in, c_out]`` (the linear
      map from an input patch to the output channels).
    * ``"skip"``: leaves of rank ≥ 3 are skipped.

    WeightWatcher's own Conv2D default pools the eigenvalues of all kh·kw slices, each W scaled by
    √(1/2) (its ``conv2d_norm``), into one ESD; reproduce it with
    ``powerlaw_fit(0.5 * esd(kernel).reshape(-1))``.

    With stacked (e.g. vmapped) params, biases become rank 2 and would be taken for matrices: map the
    helper with ``jax.vmap(lambda p: weight_spectra(p, fn))(stacked)`` instead, where every leaf keeps
    its per-model rank.

    Args:
      params: a pytree of arrays (e.g. flax ``variables["params"]``).
      fn: a function of ``W [..., n, m]`` (default :func:`esd`; e.g. :func:`powerlaw_alpha`,
        :func:`stable_rank`, ``functools.partial(spectral_norm, squared=False)``).
      min_dim: static; skip matrices whose smaller side is below it.
      conv: static ``"slices"``, ``"flatten"`` or ``"skip"`` (see above).
      **kwargs: static keyword options passed on to ``fn``.

    Returns:
      ``dict`` mapping the parameter path (keys joined by ``"/"``, e.g. ``"Dense_0/kernel"``) to
      ``fn``'s result, in the pytree's leaf order. Jittable and differentiable when ``fn`` is.

    Example:
      >>> params = {"Dense_0": {"kernel": jnp.eye(3), "bias": jnp.zeros(3)}}
      >>> out = weight_spectra(params, stable_rank)
      >>> list(out), round(float(out["Dense_0/kernel"]), 3)
      (['Dense_0/kernel'], 3.0)
    """
    checks.check_choice("weight_spectra", "conv", conv, _CONV)
    min_dim = checks.check_static_int("weight_spectra", "min_dim", min_dim, minimum=1)
    if not callable(fn):
        _fail("weight_spectra", f"argument `fn` must be a callable of W [..., n, m]; got {fn!r}.")
    out = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        shape = np.shape(leaf)
        if len(shape) < 2 or not jnp.issubdtype(jnp.result_type(leaf), jnp.floating):
            continue
        W = leaf
        if len(shape) >= 3:
            if conv == "skip":
                continue
            if conv == "flatten":
                W = jnp.reshape(leaf, (-1, shape[-1]))
        if min(np.shape(W)[-2:]) < min_dim:
            continue
        out["/".join(_key_name(k) for k in path)] = fn(W, **kwargs)
    return out


# --------------------------------------------------------------------------------------------------
# registry

_WW = "weightwatcher 0.7.7"
for _name, _fn, _diff, _oracle in (
    ("esd", esd, True, "numpy.linalg.svd(W)**2 (WeightWatcher ESD convention)"),
    ("powerlaw_fit", powerlaw_fit, True, f"{_WW} WW_powerlaw.WWFit on the same eigenvalues"),
    ("powerlaw_alpha", powerlaw_alpha, True, f"{_WW} WWFit on numpy SVD eigenvalues; WeightWatcher.analyze"),
    ("alpha_hat", alpha_hat, True, f"{_WW} WeightWatcher.analyze alpha_weighted"),
    ("log_alpha_norm", log_alpha_norm, True, f"{_WW} WeightWatcher.analyze log_alpha_norm"),
    ("stable_rank", stable_rank, True, "numpy SVD; WeightWatcher.analyze stable_rank"),
    ("spectral_norm", spectral_norm, True, "numpy.linalg.norm(W, 2); WeightWatcher.analyze spectral_norm"),
    ("log_spectral_norm", log_spectral_norm, True, "numpy SVD; WeightWatcher.analyze log_spectral_norm"),
    ("log_norm", log_norm, True, "numpy.linalg.norm(W, 'fro'); WeightWatcher.analyze log_norm"),
    ("matrix_entropy", matrix_entropy, True, f"{_WW} RMT_Util.matrix_entropy on numpy singular values"),
    ("weibull_fit", weibull_fit, True, "numpy probability-plot least squares (numpy.polyfit), scipy.stats.kstest"),
    ("weight_spectra", weight_spectra, True, "per-leaf numpy SVD on a flax-style params dict"),
):
    register(MetricInfo(name=_name, family="spectral", fn=_fn, differentiable=_diff, higher_is_better=None,
                        streaming=None, oracle=_oracle))
del _name, _fn, _diff, _oracle
