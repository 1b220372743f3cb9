r"""Geometry of an embedding set: uniformity (Wang–Isola and Gaussian-W₂), average cosine similarity and
intra-list diversity.

**Shapes.** Samples ``x [..., n, d]`` (rows; leading axes are batch axes, so every result is ``[...]``).
``where [..., n]`` (bool) masks samples — a masked row is treated as absent and may hold NaN or inf —
and ``weights [..., n]`` (≥ 0) weight them.

**Metrics** (METRICS.md §6.5, §8.3):

* :func:`uniformity` — Wang & Isola's L_uniform, log E_{i≠j} exp(−t‖z_i − z_j‖²) over distinct
  pairs, on the ℓ2-normalised rows by default (``normalize=True``; the paper's loss is defined on the
  unit sphere). Lower is more uniform; with unit rows it lies in [−4t, 0] (0 for a collapsed set).
* :func:`wasserstein_uniformity` — W₂ between the Gaussian N(μ, Σ) fitted to the ℓ2-normalised rows and
  N(0, I/m) (m = d), the limit of the uniform distribution on the sphere (Fang et al., *Rethinking the
  Uniformity Metric in Self-Supervised Learning*): W₂ = √(‖μ‖² + 1 + tr Σ − (2/√m)·tr Σ^{½}). Σ is the
  population covariance (divisor W, as the reference code). Lower is more uniform: a collapsed set
  gives √2, m equally weighted antipodal pairs ±e_k give 0. The paper's metric is −W₂.
* :func:`average_cosine_similarity` — the mean of cos(x_i, x_j) over distinct pairs i ≠ j (a spread
  measure: lower is more spread), computed in O(n·d) from Σ w_i x̂_i — no pairwise matrix.
* :func:`intra_list_diversity` — IntDiv_q = 1 − Σ_ij p_i p_j K_ij^q over **all** pairs including i = j
  (the ``vendi_score.vendi.intdiv_K`` convention; p uniform 1/n by default).

**Weights.** For the pair averages (:func:`uniformity`, :func:`average_cosine_similarity`) a pair (i, j)
carries the weight w_i·w_j and the average runs over i ≠ j: weights are pair weights, not repeat counts
(a repeated row would also add its zero-distance pairs with itself). :func:`wasserstein_uniformity`
uses frequency weights (Σ = Σ w_i (z_i − μ)(z_i − μ)ᵀ / W); :func:`intra_list_diversity` uses
prevalences p = w / Σ w.

**Undefined cases** (one answer each; gradients stay finite): fewer than two unmasked samples → NaN for
the pair averages; no unmasked sample → NaN for :func:`wasserstein_uniformity` and
:func:`intra_list_diversity`. A zero row is its own direction-less point: ℓ2 normalisation leaves it at
0 and its cosine similarity with anything is 0.

**Streaming.** :func:`wasserstein_uniformity_metric` streams the weighted mean and scatter of the
normalised rows (:class:`~jaxmetrics._src.moments.CovarianceState`, Chan's merge);
:func:`average_cosine_similarity_metric` streams the additive :class:`CosineState` (merge =
:func:`~jaxmetrics.tree_add`, reduced with one ``psum``). The pairwise metrics are one-shot, with a
static ``chunk_size`` bounding their memory to O(chunk_size·n).

Oracles: ``scipy.spatial.distance.pdist`` (uniformity, cosine similarity), ``scipy.linalg.sqrtm`` of
``numpy.cov(…, bias=True, aweights=w)`` (W₂), ``vendi_score.vendi.intdiv_K`` (IntDiv).
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
from jaxmetrics.diversity.vendi import KERNELS, unit_rows
from jaxmetrics._src.moments import (CovarianceState, covariance_state, init_covariance, masked_rows,
                                      merge_covariance)

Array = jax.Array

__all__ = [
    "CosineState",
    "average_cosine_similarity",
    "average_cosine_similarity_metric",
    "intra_list_diversity",
    "uniformity",
    "wasserstein_uniformity",
    "wasserstein_uniformity_metric",
]


# --------------------------------------------------------------------------------------------------
# arguments


def _static_bool(fn, name, value):
    if not isinstance(value, (bool, np.bool_)):
        _fail(fn, f"argument `{name}` must be a static bool; got {value!r}.")
    return bool(value)


def _static_dim(fn, dim, required):
    if dim is None and not required:
        return None
    if dim is None:
        _fail(fn, "argument `dim` (the feature dimension d, which fixes the state's shape) is required.")
    return checks.check_static_int(fn, "dim", dim, 1)


def _check_x(fn, x, dim=None):
    x = pairwise.check_samples(fn, "x", x)
    if dim is not None and x.shape[-1] != dim:
        _fail(fn, f"argument `x` must have d = {dim} features on its last axis (the static `dim`); "
                  f"got shape {x.shape}.")
    return x


def _chunk(fn, chunk_size):
    return None if chunk_size is None else checks.check_static_int(fn, "chunk_size", chunk_size, 1)


def _rows(fn, x, dtype, where, weights):
    """x with masked rows zeroed (NaN-safe) and the sample weights ``[..., n]`` (0 when masked)."""
    xz, w, _ = masked_rows(fn, x, dtype, where, weights)
    return xz, w


def _per_problem(fn_one, x, w):
    """``fn_one(x [n, d], w [n]) -> scalar`` over the leading axes of ``x [..., n, d]``."""
    batch = x.shape[:-2]
    out = jax.vmap(fn_one)(x.reshape(-1, *x.shape[-2:]), w.reshape(-1, w.shape[-1]))
    return out.reshape(batch)


def _nan_unless(ok, value):
    return jnp.where(ok, value, jnp.full((), jnp.nan, value.dtype))


# --------------------------------------------------------------------------------------------------
# Wang–Isola uniformity


def uniformity(x, *, t=2.0, normalize: bool = True, chunk_size: int | None = None, where=None,
               weights=None) -> Array:
    r"""Wang & Isola's uniformity: the log of the mean Gaussian potential over distinct pairs.

    .. math::

        \mathcal{L}_{\mathrm{uniform}} = \log \frac{\sum_{i \ne j} w_i w_j\, e^{-t \|z_i - z_j\|^2}}
        {\sum_{i \ne j} w_i w_j}, \qquad z_i = x_i / \|x_i\| \ (\texttt{normalize=True})

    (the mean over i ≠ j equals the mean over i < j, ``torch.pdist``'s pairs). Lower is more uniform;
    a collapsed set gives 0. Evaluated as a log-sum-exp, so it stays finite for far-apart
    un-normalised points.

    Args:
      x: embeddings ``[..., n, d]``.
      t: temperature t > 0 (default 2, as in the paper; may be a traced scalar).
      normalize: static; ℓ2-normalise the rows first (default True; the paper's loss assumes unit rows).
      chunk_size: static row-chunk size (memory O(chunk_size·n)); ``None`` = one n×n block.
      where: bool sample mask ``[..., n]``. weights: pair weights ``[..., n]`` (module docstring).

    Returns:
      ``[...]``; NaN with fewer than two unmasked samples. Oracle: ``log(mean(exp(−t·pdist(z)²)))``.

    Complexity: O(n²·d) time, O(chunk_size·n) memory.

    Example:
      >>> x = jnp.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
      >>> print(round(float(uniformity(x)), 4))  # log((4·e^{-4} + 2·e^{-8}) / 6)
      -4.3963
    """
    fn = "uniformity"
    x = _check_x(fn, x)
    normalize = _static_bool(fn, "normalize", normalize)
    if isinstance(t, (int, float)) and not t > 0:
        _fail(fn, f"argument `t` must be > 0; got {t}.")
    return _uniformity_core(x, t, where, weights, normalize=normalize, chunk_size=_chunk(fn, chunk_size))


@functools.partial(jax.jit, static_argnames=("normalize", "chunk_size"))
def _uniformity_core(x, t, where, weights, *, normalize, chunk_size):
    dtype = numerics.accumulation_dtype(x, weights)
    xz, w = _rows("uniformity", x, dtype, where, weights)
    z = unit_rows(xz) if normalize else xz
    t = jnp.asarray(t, dtype)

    def one(z, w):
        n = z.shape[0]
        idx = jnp.arange(n, dtype=z.dtype)
        rows = jnp.concatenate([z, w[:, None], idx[:, None]], axis=-1)

        def block(r):
            zr, wr, ir = r[:, :-2], r[:, -2], r[:, -1]
            a = -t * pairwise.squared_distances(zr, z)
            ok = (wr[:, None] > 0) & (w[None, :] > 0) & (ir[:, None] != idx[None, :])
            m = jnp.max(jnp.where(ok, a, -jnp.inf), axis=-1)
            m = lax.stop_gradient(jnp.where(jnp.isfinite(m), m, 0.0))
            e = jnp.exp(jnp.where(ok, a - m[:, None], 0.0))
            s = jnp.sum(jnp.where(ok, w[None, :] * e, 0.0), axis=-1)
            return jnp.stack([m, wr * s], axis=-1)

        ms = pairwise.map_row_chunks(block, rows, chunk_size=chunk_size)
        m, s = ms[:, 0], ms[:, 1]
        has = s > 0
        big = lax.stop_gradient(jnp.max(jnp.where(has, m, -jnp.inf)))
        big = jnp.where(jnp.isfinite(big), big, 0.0)
        total = jnp.sum(jnp.where(has, s * jnp.exp(jnp.where(has, m - big, 0.0)), 0.0))
        den = jnp.sum(w * (w.sum() - w))  # Σ_{i≠j} w_i w_j
        out = numerics.safe_log(total, 0.0) + big - numerics.safe_log(den, 0.0)
        return _nan_unless((den > 0) & (total > 0), out)

    return _per_problem(one, z, w)


# --------------------------------------------------------------------------------------------------
# Gaussian-W₂ uniformity


def _w2_batch_state(fn, x, where, weights, dtype, dim, normalize) -> CovarianceState:
    x = _check_x(fn, x, dim)
    xz, w = _rows(fn, x, dtype, where, weights)
    z = unit_rows(xz) if normalize else xz
    return covariance_state(fn, z, dtype, None, w)


def _w2_compute(state: CovarianceState) -> Array:
    m = state.mean.shape[-1]
    ok = state.weight > 0
    cov = state.m2 / jnp.where(ok, state.weight, 1.0)[..., None, None]
    lam = jnp.linalg.eigvalsh(cov)
    eps = float(jnp.finfo(lam.dtype).eps)
    tol = lax.stop_gradient(m * eps * jnp.maximum(jnp.max(lam, axis=-1), 0.0))
    pos = lam > tol[..., None]
    root = jnp.where(pos, jnp.sqrt(jnp.where(pos, lam, 1.0)), 0.0).sum(-1)
    w2sq = (jnp.sum(state.mean**2, axis=-1) + 1.0 + jnp.trace(cov, axis1=-2, axis2=-1)
            - (2.0 / math.sqrt(m)) * root)
    return _nan_unless(ok, numerics.safe_sqrt(w2sq))


def wasserstein_uniformity_metric(*, dim: int, normalize: bool = True) -> Metric:
    """Streaming :func:`wasserstein_uniformity`: ``update(state, x, *, where=None, weights=None)`` with
    ``x [..., b, dim]``; ``init(dtype=None, batch_shape=())``; state
    :class:`~jaxmetrics._src.moments.CovarianceState` of the (normalised) rows, Chan merge."""
    fn = "wasserstein_uniformity"
    dim = _static_dim(fn, dim, True)
    normalize = _static_bool(fn, "normalize", normalize)

    def init(dtype=None, batch_shape=()):
        return init_covariance(dim, dtype, batch_shape)

    def update(state, x, *, where=None, weights=None):
        return merge_covariance(state, _w2_batch_state(fn, x, where, weights, state.weight.dtype, dim, normalize))

    return Metric(init, update, merge_covariance, _w2_compute)


def wasserstein_uniformity(x, *, normalize: bool = True, dim: int | None = None, where=None,
                           weights=None) -> Array:
    r"""Gaussian-W₂ uniformity: W₂ between N(μ, Σ) of the normalised rows and N(0, I/m).

    .. math::

        \mathcal{W}_2 = \sqrt{\|\mu\|^2 + 1 + \operatorname{tr}\Sigma
        - \tfrac{2}{\sqrt{m}} \operatorname{tr}\Sigma^{1/2}}, \qquad
        \mu = \tfrac{1}{W}\sum_i w_i z_i, \quad
        \Sigma = \tfrac{1}{W}\sum_i w_i (z_i - \mu)(z_i - \mu)^\top,

    z_i = x_i/‖x_i‖, m = d. tr Σ^{½} = Σ √λ_i over the eigenvalues of Σ (``eigvalsh``), with eigenvalues
    ≤ m·eps·λ_max (rounding noise of a rank-deficient Σ, e.g. n ≤ m) treated as 0 — so the gradient is
    finite for collapsed or low-rank sets; for such sets the result is accurate to ~√eps (1e-8 in
    float64, 3e-4 in float32). Lower is more uniform: √2 for a collapsed set; ≈ 0 for uniform
    points on the sphere with n ≫ m.

    Args:
      x: embeddings ``[..., n, d]``.
      normalize: static; ℓ2-normalise the rows (default True, the metric's definition; False uses x as
        is, e.g. rows that are already unit vectors).
      dim: optional static d; must match ``x`` (required by :func:`wasserstein_uniformity_metric`).
      where: bool sample mask ``[..., n]``. weights: frequency weights ``[..., n]`` (≥ 0).

    Returns:
      ``[...]``; NaN without unmasked samples. Oracle: ``scipy.linalg.sqrtm`` of ``numpy.cov(z.T,
      bias=True, aweights=w)``; the reference code (``statsle/WassersteinSSL``) adds 1e-8 to every
      eigenvalue, which this does not.

    Complexity: O(n·d²) for Σ plus one d×d ``eigvalsh``.

    Example:
      >>> x = jnp.array([[2.0, 0.0], [-1.0, 0.0], [0.0, 3.0]])  # e_1, -e_1, e_2 once normalised
      >>> w2 = lambda z: round(float(wasserstein_uniformity(z)), 4)
      >>> print(w2(x[:1]), w2(x[:2]))  # collapsed: √2; ±e_1: √(2 − √2)
      1.4142 0.7654
    """
    fn = "wasserstein_uniformity"
    x = _check_x(fn, x, _static_dim(fn, dim, False))
    normalize = _static_bool(fn, "normalize", normalize)
    return _w2_core(x, where, weights, normalize=normalize)


@functools.partial(jax.jit, static_argnames=("normalize",))
def _w2_core(x, where, weights, *, normalize):
    dtype = numerics.accumulation_dtype(x, weights)
    return _w2_compute(_w2_batch_state("wasserstein_uniformity", x, where, weights, dtype, None, normalize))


# --------------------------------------------------------------------------------------------------
# average cosine similarity


class CosineState(NamedTuple):
    """Additive statistics of the unit rows x̂_i: W = Σw ``[...]``, Σw² ``[...]``, Σ w x̂ ``[..., d]``
    and Σ w² ‖x̂‖² ``[...]`` (the i = j terms to remove)."""

    weight: Array
    weight_sq: Array
    total: Array
    self_sim: Array


def _cosine_batch_state(fn, x, where, weights, dtype, dim) -> CosineState:
    x = _check_x(fn, x, dim)
    xz, w = _rows(fn, x, dtype, where, weights)
    u = unit_rows(xz)
    return CosineState(w.sum(-1), (w * w).sum(-1), jnp.einsum("...n,...nd->...d", w, u),
                       (w * w * jnp.sum(u * u, axis=-1)).sum(-1))


def _cosine_compute(state: CosineState) -> Array:
    num = jnp.sum(state.total**2, axis=-1) - state.self_sim
    den = state.weight**2 - state.weight_sq
    return numerics.safe_div(num, jnp.where(den > 0, den, 0.0), jnp.nan)


def average_cosine_similarity_metric(*, dim: int) -> Metric:
    """Streaming :func:`average_cosine_similarity`: ``update(state, x, *, where=None, weights=None)``
    with ``x [..., b, dim]``; ``init(dtype=None, batch_shape=())``; additive :class:`CosineState`
    (merge = :func:`~jaxmetrics.tree_add`)."""
    fn = "average_cosine_similarity"
    dim = _static_dim(fn, dim, True)

    def init(dtype=None, batch_shape=()):
        d = default_state_dtype(dtype)
        z = jnp.zeros(batch_shape, d)
        return CosineState(z, z, jnp.zeros((*batch_shape, dim), d), z)

    def update(state, x, *, where=None, weights=None):
        return tree_add(state, _cosine_batch_state(fn, x, where, weights, state.weight.dtype, dim))

    return Metric(init, update, tree_add, _cosine_compute)


def average_cosine_similarity(x, *, dim: int | None = None, where=None, weights=None) -> Array:
    r"""Mean cosine similarity over distinct pairs (a spread measure; lower is more spread).

    .. math::

        \bar c = \frac{\sum_{i \ne j} w_i w_j \cos(x_i, x_j)}{\sum_{i \ne j} w_i w_j}
        = \frac{\|\sum_i w_i \hat x_i\|^2 - \sum_i w_i^2 \|\hat x_i\|^2}{W^2 - \sum_i w_i^2},
        \qquad \hat x_i = x_i / \|x_i\|,

    evaluated in the right-hand O(n·d) form (no pairwise matrix). A zero row has similarity 0 with
    every other row.

    Args:
      x: embeddings ``[..., n, d]``.
      dim: optional static d; must match ``x`` (required by :func:`average_cosine_similarity_metric`).
      where: bool sample mask ``[..., n]``. weights: pair weights ``[..., n]`` (module docstring).

    Returns:
      ``[...]`` in [−1, 1]; NaN with fewer than two unmasked samples. Oracle: the mean of
      ``1 − scipy.spatial.distance.pdist(x, "cosine")``.

    Example:
      >>> x = jnp.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])
      >>> print(round(float(average_cosine_similarity(x)), 4))  # pairs: 1, 0, 0
      0.3333
    """
    fn = "average_cosine_similarity"
    x = _check_x(fn, x, _static_dim(fn, dim, False))
    return _cosine_core(x, where, weights)


@jax.jit
def _cosine_core(x, where, weights):
    dtype = numerics.accumulation_dtype(x, weights)
    return _cosine_compute(_cosine_batch_state("average_cosine_similarity", x, where, weights, dtype, None))


# --------------------------------------------------------------------------------------------------
# intra-list diversity


def _check_power(fn, q) -> float:
    if isinstance(q, (bool, np.bool_)) or not isinstance(q, (int, float, np.integer, np.floating)):
        _fail(fn, f"argument `q` must be a static number > 0; got {type(q).__name__} {q!r}.")
    q = float(q)
    if not (math.isfinite(q) and q > 0):
        _fail(fn, f"argument `q` must be a finite number > 0; got {q}.")
    return q


def _kernel_power(k, q):
    """K^q: exact (sign-preserving) for integer q, max(K, 0)^q otherwise (finite gradient at 0)."""
    if q == int(q):
        return k ** int(q)
    pos = k > 0
    return jnp.where(pos, jnp.where(pos, k, 1.0) ** q, 0.0)


def intra_list_diversity(x, *, q: float = 1.0, kernel="cosine", bandwidth=1.0, chunk_size: int | None = None,
                         where=None, weights=None) -> Array:
    r"""Intra-list diversity IntDiv_q = 1 − Σ_ij p_i p_j k(x_i, x_j)^q (all pairs, i = j included).

    .. math::

        \mathrm{IntDiv}_q = 1 - \sum_{i,j} p_i p_j K_{ij}^{\,q}, \qquad p_i = w_i / \textstyle\sum_j w_j

    (1 − mean K^q for uniform p; METRICS.md §8.3). For integer q the power is exact; for non-integer q
    negative kernel values (possible under ``cosine``/``linear``) count as 0, i.e. max(K, 0)^q.

    Args:
      x: samples ``[..., n, d]``.
      q: static power > 0 (default 1).
      kernel: ``"cosine"`` (default), ``"linear"``, ``"rbf"``, ``"laplacian"`` or a callable
        ``k(x [n, d], y [m, d]) -> [n, m]`` (e.g. a Tanimoto similarity of fingerprints).
      bandwidth: length scale of ``rbf``/``laplacian`` (may be traced).
      chunk_size: static row-chunk size (memory O(chunk_size·n)); ``None`` = one n×n block.
      where: bool sample mask ``[..., n]``. weights: prevalence weights ``[..., n]`` (≥ 0).

    Returns:
      ``[...]``; NaN without unmasked samples. Oracle: ``vendi_score.vendi.intdiv_K(K, q, p)``.

    Complexity: O(n²·d) time, O(chunk_size·n) memory.

    Example:
      >>> x = jnp.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
      >>> print(round(float(intra_list_diversity(x)), 4))  # 1 − 8/16
      0.5
    """
    fn = "intra_list_diversity"
    x = _check_x(fn, x)
    q = _check_power(fn, q)
    if not callable(kernel):
        checks.check_choice(fn, "kernel", kernel, KERNELS)
    return _intdiv_core(x, bandwidth, where, weights, q=q, kernel=kernel, chunk_size=_chunk(fn, chunk_size))


@functools.partial(jax.jit, static_argnames=("q", "kernel", "chunk_size"))
def _intdiv_core(x, bandwidth, where, weights, *, q, kernel, chunk_size):
    fn = "intra_list_diversity"
    dtype = numerics.accumulation_dtype(x, weights)
    xz, w = _rows(fn, x, dtype, where, weights)
    total = w.sum(-1)
    p = numerics.safe_div(w, total[..., None])

    def one(xs, ps):
        rows = jnp.concatenate([xs, ps[:, None]], axis=-1)

        def block(r):
            xr, pr = r[:, :-1], r[:, -1]
            k = pairwise.kernel_matrix(xr, xs, kernel, bandwidth=bandwidth)
            ok = (pr[:, None] > 0) & (ps[None, :] > 0)
            kq = _kernel_power(jnp.where(ok, k, 0.0), q)
            return pr * jnp.sum(jnp.where(ok, kq * ps[None, :], 0.0), axis=-1)

        return 1.0 - jnp.sum(pairwise.map_row_chunks(block, rows, chunk_size=chunk_size))

    return _nan_unless(total > 0, _per_problem(one, xz, p))


# --------------------------------------------------------------------------------------------------
# registry

register(MetricInfo(
    name="uniformity", family="diversity", fn=uniformity, differentiable=True, higher_is_better=False,
    oracle="log(mean(exp(-t * scipy.spatial.distance.pdist(z) ** 2))) on the normalised rows",
))
register(MetricInfo(
    name="wasserstein_uniformity", family="diversity", fn=wasserstein_uniformity, differentiable=True,
    higher_is_better=False, streaming=wasserstein_uniformity_metric,
    oracle="sqrt(|mu|^2 + 1 + tr S - 2/sqrt(m) tr scipy.linalg.sqrtm(S)), S = numpy.cov(z.T, bias=True)",
))
register(MetricInfo(
    name="average_cosine_similarity", family="diversity", fn=average_cosine_similarity, differentiable=True,
    higher_is_better=False, streaming=average_cosine_similarity_metric,
    oracle="mean of 1 - scipy.spatial.distance.pdist(x, 'cosine') (weighted: explicit numpy pair sum)",
))
register(MetricInfo(
    name="intra_list_diversity", family="diversity", fn=intra_list_diversity, differentiable=True,
    higher_is_better=True, oracle="vendi_score.vendi.intdiv_K(K, q, p) (vendi-score 0.0.3)",
))
