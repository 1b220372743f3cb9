r"""Kernel two-sample distances: maximum mean discrepancy (MMD²) and the kernel inception distance (KID).

For samples ``x [..., n, d]`` ~ P and ``y [..., m, d]`` ~ Q and a kernel k (METRICS.md §9.2),

.. math::

    \mathrm{MMD}^2 = \mathbb{E}\,k(x, x') + \mathbb{E}\,k(y, y') - 2\,\mathbb{E}\,k(x, y).

**Estimators** (static ``estimator``), with sample weights w (on x) and v (on y), W = Σw, V = Σv:

* ``"unbiased"`` (U-statistic, default; diagonals excluded):
  Σ_{i≠j} wᵢwⱼ k(xᵢ, xⱼ) / (W² − Σwᵢ²) + Σ_{i≠j} vᵢvⱼ k(yᵢ, yⱼ) / (V² − Σvᵢ²) − 2 Σᵢⱼ wᵢvⱼ k(xᵢ, yⱼ) / (WV);
  with unit weights the classic 1/(n(n−1)), 1/(m(m−1)), 1/(nm) — torch-fidelity's ``mmd2(…,
  "unbiased")``. It can be negative (report as is).
* ``"biased"`` (V-statistic; diagonals included): Σᵢⱼ wᵢwⱼ k(xᵢ, xⱼ)/W² + … − 2 …/(WV) ≥ 0 for a
  positive-definite kernel; 0 for identical sets.

``where`` masks samples (a masked sample is absent, even if it holds NaN/inf). Weights are relative
weights of the samples: the biased estimator equals repeating a sample an integer number of times, the
unbiased one is the weighted U-statistic above (scale-invariant; for 0/1 weights exactly the U-statistic
of the selected samples). Undefined cases → NaN: W = 0 or V = 0 (biased), fewer than two samples of a
set (unbiased). The two-set mask convention of :func:`jaxmetrics._src.pairwise.two_sample_weights`:
``where_x``/``weights_x`` on x, ``where_y``/``weights_y`` on y, the shared ``where``/``weights`` on both.

**Kernels** (:func:`jaxmetrics._src.pairwise.kernel_matrix`, one naming for the library): ``"rbf"``
exp(−r²/(2·bandwidth²)) (default), ``"laplacian"``, ``"imq"`` (bandwidth² + r²)^(−beta),
``"polynomial"`` (gamma·xᵀy + coef0)^degree with gamma = 1/d by default, ``"linear"``, ``"cosine"``, or a
callable ``k(x [n, d], y [m, d]) -> [n, m]``.

**Median heuristic** (``bandwidth=None``, distance kernels): bandwidth = the median of the pairwise
Euclidean distances ‖zᵢ − zⱼ‖, i < j, of the pooled sample z = (x, y) — ``numpy.median`` of
``scipy.spatial.distance.pdist`` — computed on at most ``median_sample_size`` points: when a set has more
than ``median_sample_size // 2`` samples, the rows ⌊i·n/k⌋, i < k = ``median_sample_size // 2``, of that
set (a deterministic, evenly spaced subset). Masked samples are excluded (weights are ignored). A zero
median (more than half of the pairs coincide) or fewer than two valid points fall back to bandwidth 1.
The bandwidth is differentiable (an average of two order statistics) and is **not** stopped.
:func:`median_heuristic` returns it.

**Memory.** The n×m kernel matrices are never formed when ``chunk_size`` is set: row blocks of
``chunk_size`` rows are reduced to kernel row sums under ``lax.map`` (:func:`map_row_chunks`), each block
rematerialised in the backward pass (``jax.checkpoint``), so memory is O(chunk_size·(n + m)) forward and
backward. Compute is O((n + m)²·d). Measured: ``bench/memory_kernel.py``.

**KID** (:func:`kernel_inception_distance`): the polynomial kernel (xᵀy/d + 1)³, unbiased MMD² on
``num_subsets`` random subsets of ``subset_size`` samples drawn without replacement (independently from
x and from y) — torch-fidelity and torchmetrics (100 subsets of 1000) — returned as
``KID(mean, std)`` with std ddof 0 (``np.std``; torchmetrics ``std(unbiased=False)``).

Oracles: ``tests/reference/mmd.py`` — numpy U/V MMD² on scikit-learn's
``rbf_kernel`` / ``polynomial_kernel``, ``scipy.spatial.distance.pdist`` medians, KID on the same subset
indices.
"""

from __future__ import annotations

import functools
import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxmetrics._src import checks, numerics, pairwise
from jaxmetrics._src.checks import _fail
from jaxmetrics._src.registry import MetricInfo, register

Array = jax.Array

__all__ = [
    "KID",
    "kernel_inception_distance",
    "kid",
    "maximum_mean_discrepancy",
    "median_heuristic",
    "mmd",
]

_HI = lax.Precision.HIGHEST
ESTIMATORS = ("unbiased", "biased")
_DISTANCE_KERNELS = ("rbf", "laplacian", "imq")


class KID(NamedTuple):
    """Kernel inception distance over random subsets: the ``mean`` and ``std`` (ddof 0) of the subset
    MMD² values, each ``[...]``."""

    mean: Array
    std: Array


# --------------------------------------------------------------------------------------------------
# static configuration


def _static_number(fn, name, value, *, minimum=None, strict=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(value)):
        _fail(fn, f"argument `{name}` must be a static finite Python number; got {value!r}.")
    value = float(value)
    if minimum is not None and (value < minimum or (strict and value == minimum)):
        _fail(fn, f"argument `{name}` must be {'>' if strict else '>='} {minimum}; got {value}.")
    return value


def _kernel_config(fn, kernel, degree, gamma, coef0, beta):
    pairwise.check_kernel(fn, kernel)
    degree = checks.check_static_int(fn, "degree", degree, 1)
    gamma = None if gamma is None else _static_number(fn, "gamma", gamma, minimum=0.0, strict=True)
    coef0 = _static_number(fn, "coef0", coef0)
    beta = _static_number(fn, "beta", beta, minimum=0.0, strict=True)
    return kernel, degree, gamma, coef0, beta


def _chunk(fn, chunk_size):
    return None if chunk_size is None else checks.check_static_int(fn, "chunk_size", chunk_size, 1)


def _check_pair(fn, x, y):
    x = pairwise.check_samples(fn, "x", x)
    y = pairwise.check_samples(fn, "y", y, x.shape[-1], "x")
    return x, y


def _weights(fn, x, y, dtype, where, weights, where_x, where_y, weights_x, weights_y):
    wx, wy = pairwise.two_sample_weights(fn, x.shape[:-1], y.shape[:-1], dtype, where=where, weights=weights,
                                         where_x=where_x, where_y=where_y, weights_x=weights_x,
                                         weights_y=weights_y)
    x, y = x.astype(dtype), y.astype(dtype)
    if any(a is not None for a in (where, weights, where_x, where_y, weights_x, weights_y)):
        # masked rows are absent: zero them so NaN/inf padding cannot reach a kernel value (a copy of the
        # inputs, skipped when nothing is masked)
        x = jnp.where((wx > 0)[..., None], x, jnp.zeros((), dtype))
        y = jnp.where((wy > 0)[..., None], y, jnp.zeros((), dtype))
    return x, y, wx, wy


# --------------------------------------------------------------------------------------------------
# single-problem cores (x [n, d], y [m, d]); leading axes are handled by jnp.vectorize


def _evenly_spaced(a, k):
    """Rows ⌊i·n/k⌋, i < k, of ``a [n, ...]`` (all rows when k = n)."""
    n = a.shape[0]
    return a if k == n else a[(jnp.arange(k) * n) // k]


def _median_single(x, y, vx, vy, sample_size):
    half = sample_size // 2
    kx, ky = min(x.shape[0], half), min(y.shape[0], half)
    z = jnp.concatenate([_evenly_spaced(x, kx), _evenly_spaced(y, ky)])
    valid = jnp.concatenate([_evenly_spaced(vx, kx), _evenly_spaced(vy, ky)])
    k = kx + ky
    upper = lax.broadcasted_iota(jnp.int32, (k, k), 0) < lax.broadcasted_iota(jnp.int32, (k, k), 1)
    pair = upper & valid[:, None] & valid[None, :]
    srt = jnp.sort(jnp.where(pair, pairwise.distances(z, z), jnp.inf).reshape(-1))
    count = pair.sum()
    last = srt.shape[0] - 1
    lo = srt[jnp.clip((count - 1) // 2, 0, last)]
    hi = srt[jnp.clip(count // 2, 0, last)]
    ok = (count > 0) & jnp.isfinite(lo) & jnp.isfinite(hi)
    med = 0.5 * (jnp.where(ok, lo, 1.0) + jnp.where(ok, hi, 1.0))
    return jnp.where(ok & (med > 0), med, jnp.ones((), med.dtype))


def _kernel_fn(kernel, bandwidth, degree, gamma, coef0, beta):
    if callable(kernel):
        return kernel
    return functools.partial(pairwise.kernel_matrix, kernel=kernel, bandwidth=bandwidth, degree=degree,
                             gamma=gamma, coef0=coef0, beta=beta)


def _mmd2_single(x, y, wx, wy, kfn, estimator, chunk_size):
    """MMD² of one problem from chunked kernel row sums (x, y already masked)."""
    dtype = x.dtype

    def kern(a, b):
        return jnp.asarray(kfn(a, b), dtype)

    def x_rows(xc):
        return (jnp.matmul(kern(xc, x), wx, precision=_HI), jnp.matmul(kern(xc, y), wy, precision=_HI))

    def y_rows(yc):
        return jnp.matmul(kern(yc, y), wy, precision=_HI)

    if chunk_size is not None:  # rematerialise each block in the backward pass: O(chunk·(n + m)) memory
        x_rows, y_rows = jax.checkpoint(x_rows), jax.checkpoint(y_rows)
    rxx, rxy = pairwise.map_row_chunks(x_rows, x, chunk_size=chunk_size)
    ryy = pairwise.map_row_chunks(y_rows, y, chunk_size=chunk_size)
    sxx, syy, sxy = jnp.dot(wx, rxx, precision=_HI), jnp.dot(wy, ryy, precision=_HI), jnp.dot(wx, rxy,
                                                                                               precision=_HI)
    tw, tv = wx.sum(), wy.sum()
    nan = jnp.nan
    if estimator == "unbiased":
        diag_x = jax.vmap(lambda a: kern(a[None], a[None])[0, 0])(x)
        diag_y = jax.vmap(lambda a: kern(a[None], a[None])[0, 0])(y)
        a = numerics.safe_div(sxx - jnp.dot(wx * wx, diag_x, precision=_HI), tw * tw - (wx * wx).sum(), nan)
        b = numerics.safe_div(syy - jnp.dot(wy * wy, diag_y, precision=_HI), tv * tv - (wy * wy).sum(), nan)
    else:
        a = numerics.safe_div(sxx, tw * tw, nan)
        b = numerics.safe_div(syy, tv * tv, nan)
    return a + b - 2.0 * numerics.safe_div(sxy, tw * tv, nan)


# --------------------------------------------------------------------------------------------------
# median heuristic


def median_heuristic(x, y=None, *, median_sample_size: int = 1000, where_x=None, where_y=None) -> Array:
    """The median-heuristic bandwidth: median pairwise Euclidean distance of the pooled sample.

    median{‖zᵢ − zⱼ‖ : i < j} over z = (x, y) (or x alone), on the evenly spaced subset of at most
    ``median_sample_size // 2`` rows per set described in the module docstring; masked samples are left
    out; 1 when the median is 0 or there are fewer than two valid points. This is the bandwidth that
    ``maximum_mean_discrepancy(..., bandwidth=None)`` uses (``exp(−r²/(2·bandwidth²))`` for ``"rbf"``).

    Args:
      x: ``[..., n, d]``. y: optional ``[..., m, d]``. median_sample_size: static int ≥ 2.
      where_x: bool ``[..., n]``. where_y: bool ``[..., m]``.

    Returns:
      ``[...]``. Oracle: ``numpy.median(scipy.spatial.distance.pdist(z))``.

    Example:
      >>> print(float(median_heuristic(jnp.array([[0.0], [1.0], [3.0]]))))  # distances 1, 2, 3
      2.0
    """
    fn = "median_heuristic"
    size = checks.check_static_int(fn, "median_sample_size", median_sample_size, 2)
    x = pairwise.check_samples(fn, "x", x)
    if y is None:
        y = x[..., :0, :]
        if where_y is not None:
            _fail(fn, "argument `where_y` needs `y`.")
    else:
        y = pairwise.check_samples(fn, "y", y, x.shape[-1], "x")
    return _median_core(x, y, where_x, where_y, size=size)


@functools.partial(jax.jit, static_argnames=("size",))
def _median_core(x, y, where_x, where_y, *, size):
    dtype = numerics.accumulation_dtype(x, y)
    x, y, wx, wy = _weights("median_heuristic", x, y, dtype, None, None, where_x, where_y, None, None)
    if y.shape[-2] == 0:
        single = lambda a, va: _median_single(a, a[:0], va, va[:0], 2 * size)  # noqa: E731
        return jnp.vectorize(single, signature="(n,d),(n)->()")(x, wx > 0)
    single = lambda a, b, va, vb: _median_single(a, b, va, vb, size)  # noqa: E731
    return jnp.vectorize(single, signature="(n,d),(m,d),(n),(m)->()")(x, y, wx > 0, wy > 0)


# --------------------------------------------------------------------------------------------------
# MMD


def maximum_mean_discrepancy(x, y, *, kernel: str | Callable = "rbf", bandwidth=None,
                             estimator: str = "unbiased", squared: bool = True, chunk_size: int | None = None,
                             degree: int = 3, gamma: float | None = None, coef0: float = 1.0, beta: float = 0.5,
                             median_sample_size: int = 1000, where=None, weights=None, where_x=None,
                             where_y=None, weights_x=None, weights_y=None) -> Array:
    r"""Maximum mean discrepancy between two samples: MMD² (U- or V-statistic) for a kernel k.

    MMD² = E k(x, x′) + E k(y, y′) − 2 E k(x, y); estimators, weights, kernels and the median heuristic
    are defined in the module docstring.

    Args:
      x: ``[..., n, d]``. y: ``[..., m, d]``; leading axes broadcast (batch axes).
      kernel: static kernel name (``"rbf"``, ``"laplacian"``, ``"imq"``, ``"polynomial"``, ``"linear"``,
        ``"cosine"``) or a callable ``k(x [n, d], y [m, d]) -> [n, m]``.
      bandwidth: None (median heuristic, distance kernels) or a positive scalar / ``[...]`` array (may be
        traced and differentiated). Unused by the dot-product kernels.
      estimator: static ``"unbiased"`` (U, default) or ``"biased"`` (V).
      squared: static; True (default) returns MMD², False returns MMD = √max(MMD², 0).
      chunk_size: static rows per kernel block (None: one block); bounds memory to
        O(chunk_size·(n + m)).
      degree, gamma, coef0: polynomial kernel (gamma·xᵀy + coef0)^degree, gamma = 1/d by default.
      beta: imq exponent. median_sample_size: static cap on the points of the median heuristic.
      where, weights: sample mask / weights for both sets; where_x, weights_x ``[..., n]``; where_y,
        weights_y ``[..., m]``.

    Returns:
      ``[...]``; NaN when a set has too few valid samples. Oracle: ``tests/reference/mmd.py`` (numpy
      U/V statistics on scikit-learn kernels).

    Complexity: O((n + m)²·d) time, O(chunk_size·(n + m)) memory.

    Example:
      >>> x, y = jnp.array([[0.0], [2.0]]), jnp.array([[1.0], [3.0]])
      >>> print(float(mmd(x, y, kernel="linear", estimator="biased")))  # ‖mean x − mean y‖²
      1.0
    """
    fn = "maximum_mean_discrepancy"
    kcfg = _kernel_config(fn, kernel, degree, gamma, coef0, beta)
    checks.check_choice(fn, "estimator", estimator, ESTIMATORS)
    if not isinstance(squared, (bool, np.bool_)):
        _fail(fn, f"argument `squared` must be a static bool; got {squared!r}.")
    size = checks.check_static_int(fn, "median_sample_size", median_sample_size, 2)
    median = bandwidth is None and isinstance(kernel, str) and kernel in _DISTANCE_KERNELS
    if bandwidth is None:
        bandwidth = 1.0
    elif isinstance(bandwidth, (int, float)) and not isinstance(bandwidth, bool):
        _static_number(fn, "bandwidth", bandwidth, minimum=0.0, strict=True)
    x, y = _check_pair(fn, x, y)
    cfg = (kcfg, estimator, bool(squared), _chunk(fn, chunk_size), median, size)
    return _mmd_core(x, y, bandwidth, where, weights, where_x, where_y, weights_x, weights_y, cfg=cfg)


@functools.partial(jax.jit, static_argnames=("cfg",))
def _mmd_core(x, y, bandwidth, where, weights, where_x, where_y, weights_x, weights_y, *, cfg):
    (kernel, degree, gamma, coef0, beta), estimator, squared, chunk_size, median, size = cfg
    dtype = numerics.accumulation_dtype(x, y, weights, weights_x, weights_y)
    x, y, wx, wy = _weights("maximum_mean_discrepancy", x, y, dtype, where, weights, where_x, where_y,
                            weights_x, weights_y)
    bw = jnp.asarray(bandwidth, dtype)

    def single(a, b, wa, wb, h):
        if median:
            h = _median_single(a, b, wa > 0, wb > 0, size)
        kfn = _kernel_fn(kernel, h, degree, gamma, coef0, beta)
        return _mmd2_single(a, b, wa, wb, kfn, estimator, chunk_size)

    out = jnp.vectorize(single, signature="(n,d),(m,d),(n),(m),()->()")(x, y, wx, wy, bw)
    return out if squared else numerics.safe_sqrt(out)


mmd = maximum_mean_discrepancy


# --------------------------------------------------------------------------------------------------
# KID


def _subset_indices(key, valid, num_subsets, subset_size):
    """``[num_subsets, subset_size]`` indices drawn without replacement, valid samples first.

    Each subset ranks the samples by a uniform random permutation (``jax.random.permutation``) lifted by
    n for valid samples and keeps the ``subset_size`` highest (``lax.top_k``): a uniform draw without
    replacement from the valid samples (then from the masked ones, which get weight 0, if too few).
    """
    n = valid.shape[-1]

    def one(k):
        rank = jax.random.permutation(k, n).astype(jnp.int32)
        return lax.top_k(jnp.where(valid, rank + n, rank), subset_size)[1]

    return jax.vmap(one)(jax.random.split(key, num_subsets))


def _kid_subsets(key, valid_x, valid_y, num_subsets, subset_size):
    """The (x, y) subset indices KID uses for ``key`` (independent draws for x and y)."""
    kx, ky = jax.random.split(key)
    return (_subset_indices(kx, valid_x, num_subsets, subset_size),
            _subset_indices(ky, valid_y, num_subsets, subset_size))


def kernel_inception_distance(x, y, *, key, num_subsets: int = 100, subset_size: int = 1000, degree: int = 3,
                              gamma: float | None = None, coef0: float = 1.0, chunk_size: int | None = None,
                              where=None, weights=None, where_x=None, where_y=None, weights_x=None,
                              weights_y=None) -> KID:
    r"""Kernel inception distance: unbiased polynomial-kernel MMD² averaged over random subsets.

    For s = 1..``num_subsets``: draw ``subset_size`` rows of x and (independently) of y without
    replacement from ``key``, compute the unbiased MMD² with k(a, b) = (gamma·aᵀb + coef0)^degree
    (default (aᵀb/d + 1)³); return the mean and the ddof-0 standard deviation of these values
    (torch-fidelity / torchmetrics conventions). Subsets are evaluated one after the other (``lax.map``)
    so memory is that of one subset's kernel blocks (bounded further by ``chunk_size``).

    Masks: subsets are drawn from the valid (``where``-selected, weight > 0) samples; if a set has fewer
    valid samples than ``subset_size`` (not detectable at trace time), its subsets also contain masked
    samples, which get weight 0, so each subset value is the U-statistic of its valid samples. Weights
    weight the samples inside a subset (the weighted U-statistic of :func:`maximum_mean_discrepancy`).
    With a mask the subsets differ from those of the unpadded data under the same key (equal in
    distribution). Leading batch axes use the same key (the same random ranks) in every batch element.

    Args:
      x: ``[..., n, d]`` (real features). y: ``[..., m, d]`` (generated features).
      key: PRNG key (``jax.random.key`` or ``PRNGKey``).
      num_subsets: static ≥ 1 (100). subset_size: static, 2 ≤ subset_size ≤ min(n, m) (1000), else a
        ``ShapeError`` — as torch-fidelity and torchmetrics, which raise too.
      degree, gamma, coef0: the polynomial kernel; gamma = 1/d by default.
      chunk_size: static row block inside a subset (None: one block).
      where, weights: for both sets; where_x, weights_x ``[..., n]``; where_y, weights_y ``[..., m]``.

    Returns:
      :class:`KID` ``(mean, std)``, each ``[...]``. Oracle: ``tests/reference/mmd.py`` (torch-fidelity's
      ``mmd2`` on scikit-learn's ``polynomial_kernel``) on the same subset indices.

    Complexity: O(num_subsets·subset_size²·d).

    Example:
      >>> x = jnp.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
      >>> out = kid(x, x + 1.0, key=jax.random.key(0), num_subsets=4, subset_size=3)
      >>> print(round(float(out.mean), 4), float(out.std))  # every subset is the whole set
      32.6944 0.0
    """
    fn = "kernel_inception_distance"
    _, degree, gamma, coef0, _ = _kernel_config(fn, "polynomial", degree, gamma, coef0, 0.5)
    num_subsets = checks.check_static_int(fn, "num_subsets", num_subsets, 1)
    subset_size = checks.check_static_int(fn, "subset_size", subset_size, 2)
    x, y = _check_pair(fn, x, y)
    n, m = x.shape[-2], y.shape[-2]
    if subset_size > min(n, m):
        _fail(fn, f"argument `subset_size` must be <= the number of samples of `x` (n = {n}) and `y` "
                  f"(m = {m}); got {subset_size}.")
    key = jnp.asarray(key)
    if not (jnp.issubdtype(key.dtype, jax.dtypes.prng_key) or (key.shape == (2,) and key.dtype == jnp.uint32)):
        _fail(fn, f"argument `key` must be a PRNG key (jax.random.key or PRNGKey); got {key.dtype}{key.shape}.")
    cfg = (degree, gamma, coef0, num_subsets, subset_size, _chunk(fn, chunk_size))
    return _kid_core(x, y, key, where, weights, where_x, where_y, weights_x, weights_y, cfg=cfg)


@functools.partial(jax.jit, static_argnames=("cfg",))
def _kid_core(x, y, key, where, weights, where_x, where_y, weights_x, weights_y, *, cfg):
    degree, gamma, coef0, num_subsets, subset_size, chunk_size = cfg
    dtype = numerics.accumulation_dtype(x, y, weights, weights_x, weights_y)
    x, y, wx, wy = _weights("kernel_inception_distance", x, y, dtype, where, weights, where_x, where_y,
                            weights_x, weights_y)
    kfn = _kernel_fn("polynomial", 1.0, degree, gamma, coef0, 0.5)

    def single(a, b, wa, wb):
        ia, ib = _kid_subsets(key, wa > 0, wb > 0, num_subsets, subset_size)

        def subset(idx):
            i, j = idx
            return _mmd2_single(a[i], b[j], wa[i], wb[j], kfn, "unbiased", chunk_size)

        values = lax.map(subset, (ia, ib))
        mean = values.mean()
        return mean, numerics.safe_sqrt(((values - mean) ** 2).mean())

    mean, std = jnp.vectorize(single, signature="(n,d),(m,d),(n),(m)->(),()")(x, y, wx, wy)
    return KID(mean, std)


kid = kernel_inception_distance


# --------------------------------------------------------------------------------------------------
# registry

register(MetricInfo(
    name="maximum_mean_discrepancy", family="distances", fn=maximum_mean_discrepancy, differentiable=True,
    higher_is_better=False, aliases=("mmd",),
    oracle="tests/reference/mmd.py: numpy U/V MMD^2 on sklearn.metrics.pairwise kernels, pdist median"))
register(MetricInfo(
    name="kernel_inception_distance", family="distances", fn=kernel_inception_distance, differentiable=True,
    higher_is_better=False, aliases=("kid",),
    oracle="tests/reference/mmd.py: torch-fidelity mmd2 port on sklearn polynomial_kernel, same subsets"))
