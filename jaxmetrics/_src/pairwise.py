"""Pairwise distances, kernels and row-chunked evaluation shared by the sample-set metrics.

Diversity (Vendi, PRDC, uniformity), distribution distances (MMD/KID, energy distance) and score
diagnostics (kernel Stein discrepancy) all reduce an ``n × m`` matrix of pairwise values. This module
holds the three pieces they share:

* :func:`squared_distances` / :func:`distances`: ``‖x_i − y_j‖²`` in the accumulation dtype, computed on
  inputs moved by a common shift (the expansion ‖x‖² + ‖y‖² − 2xᵀy loses every digit of a small
  distance between two far-from-origin points otherwise), clipped at 0, with a finite gradient at 0.
* :func:`kernel_matrix`: the named kernels (``rbf``, ``laplacian``, ``polynomial``, ``linear``, ``imq``,
  ``cosine``) or a user callable, with one set of parameter names for the whole library.
* :func:`map_row_chunks`: applies a row-wise function to static-size chunks of rows with ``lax.map``, so
  an ``n × m`` intermediate never exceeds ``chunk_size × m`` (DESIGN.md §7).
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
from jax import lax

from jaxmetrics._src import checks, numerics
from jaxmetrics._src.checks import _fail

Array = jax.Array

__all__ = [
    "KERNELS",
    "check_kernel",
    "check_samples",
    "distances",
    "kernel_matrix",
    "map_row_chunks",
    "scan_row_chunks",
    "squared_distances",
    "two_sample_weights",
]

KERNELS = ("rbf", "laplacian", "polynomial", "linear", "imq", "cosine")


def check_samples(fn: str, name: str, x, d: int | None = None, ref_name: str | None = None) -> Array:
    """``x [..., n, d]`` as a real array promoted to the accumulation dtype; a ShapeError naming ``name``.

    ``d`` (with ``ref_name``, the argument it came from) requires the same feature dimension.
    """
    x = jnp.asarray(x)
    checks.check_min_rank(fn, name, x, 2, "[..., n, d]")
    if not (jnp.issubdtype(x.dtype, jnp.floating) or jnp.issubdtype(x.dtype, jnp.integer)):
        _fail(fn, f"argument `{name}` must be a real (floating or integer) array; got dtype {x.dtype}.")
    if x.shape[-2] < 1 or x.shape[-1] < 1:
        _fail(fn, f"argument `{name}` must have at least one sample and one feature [..., n >= 1, d >= 1]; "
                  f"got shape {x.shape}.")
    if d is not None and x.shape[-1] != d:
        _fail(fn, f"argument `{name}` must have the feature dimension d = {d} of `{ref_name}`; got shape {x.shape}.")
    return numerics.promote(x)


def squared_distances(x, y) -> Array:
    """``D[..., i, j] = ‖x_i − y_j‖²`` for ``x [..., n, d]``, ``y [..., m, d]``; ``>= 0``.

    Both sets are shifted by the first point of ``y`` first (distances are shift-invariant; the Gram
    expansion is not; a data point keeps integer-valued data exact, so ties stay ties), the result is
    clipped at 0 and the diagonal of ``squared_distances(x, x)`` is exactly 0 up to
    that clip. Memory O(n·m); wrap in :func:`map_row_chunks` to bound it.
    """
    dtype = numerics.accumulation_dtype(x, y)
    x = jnp.asarray(x, dtype)
    y = jnp.asarray(y, dtype)
    shift = lax.stop_gradient(y[..., :1, :])  # a data point: exact differences on integer-valued data
    x = x - shift
    y = y - shift
    xx = jnp.sum(x * x, axis=-1)[..., :, None]
    yy = jnp.sum(y * y, axis=-1)[..., None, :]
    xy = jnp.einsum("...id,...jd->...ij", x, y, precision=lax.Precision.HIGHEST)
    return jnp.maximum(xx + yy - 2.0 * xy, 0.0)


def distances(x, y) -> Array:
    """``‖x_i − y_j‖`` (Euclidean) with a zero, not NaN, gradient at coincident points."""
    return numerics.safe_sqrt(squared_distances(x, y))


def kernel_matrix(
    x,
    y,
    kernel: str | Callable = "rbf",
    *,
    bandwidth=1.0,
    degree: int = 3,
    gamma=None,
    coef0: float = 1.0,
    beta: float = 0.5,
) -> Array:
    """The kernel matrix ``K[..., i, j] = k(x_i, y_j)`` for ``x [..., n, d]``, ``y [..., m, d]``.

    Kernels (one naming for the whole library; ``r = ‖x − y‖``):

    * ``"rbf"``: ``exp(−r² / (2·bandwidth²))``;
    * ``"laplacian"``: ``exp(−r / bandwidth)``;
    * ``"polynomial"``: ``(gamma·xᵀy + coef0)^degree`` with ``gamma = 1/d`` by default — the KID kernel
      ``(xᵀy/d + 1)³`` at the defaults (scikit-learn's ``polynomial_kernel`` convention);
    * ``"linear"``: ``xᵀy``;
    * ``"imq"``: inverse multiquadric ``(bandwidth² + r²)^(−beta)`` (``beta = 1/2`` by default);
    * ``"cosine"``: ``xᵀy / (‖x‖‖y‖)``, 0 where a norm is 0;
    * a callable ``kernel(x [n, d], y [m, d]) -> [n, m]``, used as is (leading axes are vmapped).

    ``bandwidth`` may be a traced scalar (e.g. a median heuristic); the other parameters are static.
    """
    dtype = numerics.accumulation_dtype(x, y)
    x = jnp.asarray(x, dtype)
    y = jnp.asarray(y, dtype)
    if callable(kernel):
        fn = kernel
        for _ in range(x.ndim - 2):
            fn = jax.vmap(fn)
        return jnp.asarray(fn(x, y), dtype)
    bw = jnp.asarray(bandwidth, dtype)
    if kernel == "rbf":
        return jnp.exp(-squared_distances(x, y) / (2.0 * bw * bw))
    if kernel == "laplacian":
        return jnp.exp(-distances(x, y) / bw)
    if kernel == "imq":
        return (bw * bw + squared_distances(x, y)) ** (-beta)
    dot = jnp.einsum("...id,...jd->...ij", x, y, precision=lax.Precision.HIGHEST)
    if kernel == "linear":
        return dot
    if kernel == "polynomial":
        g = 1.0 / x.shape[-1] if gamma is None else gamma
        return (g * dot + coef0) ** degree
    if kernel == "cosine":
        nx = numerics.safe_sqrt(jnp.sum(x * x, axis=-1))[..., :, None]
        ny = numerics.safe_sqrt(jnp.sum(y * y, axis=-1))[..., None, :]
        return numerics.safe_div(dot, nx * ny)
    raise ValueError(f"unknown kernel {kernel!r}; expected one of {KERNELS} or a callable")


def check_kernel(fn: str, kernel) -> None:
    """Requires a kernel name from :data:`KERNELS` or a callable."""
    if not callable(kernel):
        checks.check_choice(fn, "kernel", kernel, KERNELS)


def map_row_chunks(fn: Callable, x, *, chunk_size: int | None):
    """``fn(x)`` evaluated on static-size row chunks of ``x [n, ...]``; memory ``chunk_size`` rows at a time.

    ``fn`` maps ``[c, ...]`` rows to a pytree of arrays with leading axis ``c`` (row-wise results: row
    sums of a kernel block, k-NN radii, coverage counts). ``x`` is zero-padded to a multiple of
    ``chunk_size`` and the padded rows are sliced off the result, so ``fn`` must be row-wise (row ``i`` of
    the output depends on row ``i`` of the input only). ``chunk_size=None`` or ``>= n`` calls ``fn`` once.
    The chunks run sequentially (``lax.scan``); reverse-mode AD through them stores one chunk's
    residuals at a time.
    """
    _, out = scan_row_chunks(lambda carry, rows, valid: (carry, fn(rows)), (), x, chunk_size=chunk_size)
    return out


def two_sample_weights(fn: str, x_shape: tuple, y_shape: tuple | None, dtype, *, where=None, weights=None,
                       where_x=None, where_y=None, weights_x=None, weights_y=None):
    """Per-sample weights ``(w_x [..., n], w_y [..., m])`` of a two-sample metric.

    The convention of the two-sample distances (Fréchet distance, MMD/KID): ``where_x``/``weights_x``
    act on the samples of ``x`` (sample shape ``x_shape = [..., n]``), ``where_y``/``weights_y`` on those
    of ``y`` (``y_shape = [..., m]``), and the shared ``where``/``weights`` on **both** sets — the mask of a
    paired stream whose real and generated batches are padded alike (the contract's
    ``update(state, x, y, where=, weights=)``); a shared argument must broadcast to both sample shapes.
    The factors multiply; a masked sample (``False`` or weight 0) gets weight exactly 0. Errors name the
    offending argument. ``y_shape=None`` (a stream update that only feeds ``x``) returns ``(w_x, None)``.
    """

    def one(shape, mask_args, weight_args):
        out = jnp.ones(shape, dtype)
        for name, arr in mask_args:
            if arr is not None:
                keep = checks.broadcast_arg(fn, name, arr, shape).astype(bool)
                out = jnp.where(keep, out, jnp.zeros((), dtype))
        for name, arr in weight_args:
            if arr is not None:
                out = out * numerics.promote(checks.broadcast_arg(fn, name, arr, shape), dtype)
        return out

    wx = None if x_shape is None else one(
        tuple(x_shape), [("where", where), ("where_x", where_x)], [("weights", weights), ("weights_x", weights_x)])
    wy = None if y_shape is None else one(
        tuple(y_shape), [("where", where), ("where_y", where_y)], [("weights", weights), ("weights_y", weights_y)])
    return wx, wy


def scan_row_chunks(fn: Callable, carry, x, *, chunk_size: int | None):
    """:func:`map_row_chunks` with a carry, for passes that also reduce *over* the rows.

    ``fn(carry, rows [c, ...], valid [c]) -> (carry, out)``: ``valid`` is False on the zero-padded rows
    of the last chunk, which ``fn`` must leave out of the carry (e.g. the column counts of an ``n × m``
    block, accumulated chunk by chunk); ``out`` is row-wise as in :func:`map_row_chunks` (padded rows
    sliced off). Returns ``(carry, out)``. ``chunk_size=None`` or ``>= n`` calls ``fn`` once; otherwise
    the chunks run sequentially under ``lax.scan`` (memory: one chunk's block at a time).
    """
    x = jnp.asarray(x)
    n = x.shape[0]
    if chunk_size is None or chunk_size >= n:
        return fn(carry, x, jnp.ones((n,), bool))
    num_chunks = -(-n // chunk_size)
    pad = num_chunks * chunk_size - n
    xp = jnp.concatenate([x, jnp.zeros((pad, *x.shape[1:]), x.dtype)]) if pad else x
    valid = (jnp.arange(num_chunks * chunk_size) < n).reshape(num_chunks, chunk_size)
    carry, out = lax.scan(lambda c, xs: fn(c, *xs), carry,
                          (xp.reshape(num_chunks, chunk_size, *x.shape[1:]), valid))
    return carry, jax.tree.map(lambda a: a.reshape(num_chunks * chunk_size, *a.shape[2:])[:n], out)
