"""Weighted first and second moments of rows with Chan et al.'s mergeable state.

The streaming state of every covariance-based metric (representation spectra, Gaussian-W₂ uniformity):
W = Σw, the number of rows with w > 0, the weighted mean μ and the centred scatter
M2 = Σ w (x − μ)(x − μ)ᵀ. Two states merge exactly (Chan, Golub & LeVeque's pairwise update), so the
state streams over batches and reduces across devices without the cancellation of Σxxᵀ − n·μμᵀ
(METRICS.md §0, DESIGN.md §2.7).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxmetrics._src import checks, numerics
from jaxmetrics._src.metric import default_state_dtype

Array = jax.Array

__all__ = [
    "CovarianceState",
    "centered_rows",
    "covariance_state",
    "init_covariance",
    "masked_rows",
    "merge_covariance",
    "symmetric",
]


class CovarianceState(NamedTuple):
    """Weighted second-order statistics of the rows: W ``[...]``, #rows with w > 0 ``[...]``,
    μ ``[..., d]`` and the centred scatter M2 ``[..., d, d]`` (Chan et al. merge)."""

    weight: Array
    rows: Array
    mean: Array
    m2: Array


def masked_rows(fn: str, X, dtype, where=None, weights=None):
    """``(X with masked rows zeroed, row weights [..., n], valid [..., n])`` for ``X [..., n, d]``.

    Masked rows (weight 0) are replaced by 0 so a NaN in them cannot leak into sums or gradients.
    """
    w = checks.sample_weights(fn, X.shape[:-1], dtype, where, weights)
    valid = w > 0
    return jnp.where(valid[..., None], numerics.promote(X, dtype), jnp.zeros((), dtype)), w, valid


def centered_rows(Xz, w, valid):
    """Rows scaled by √w after centring on the weighted mean, and ``(W, #rows, μ)``.

    The first valid row is subtracted before averaging, so a constant X centres to exactly 0.
    """
    first = jnp.argmax(valid, axis=-1)
    ref = jnp.take_along_axis(Xz, first[..., None, None], axis=-2)  # [..., 1, d]; 0 if none valid
    shifted = jnp.where(valid[..., None], Xz - ref, jnp.zeros((), Xz.dtype))
    total = w.sum(-1)
    mu = numerics.safe_div((w[..., None] * shifted).sum(-2), total[..., None])
    xc = jnp.where(valid[..., None], shifted - mu[..., None, :], jnp.zeros((), Xz.dtype))
    scaled = numerics.safe_sqrt(w)[..., None] * xc
    rows = valid.sum(-1).astype(Xz.dtype)
    return scaled, total, rows, ref[..., 0, :] + mu


def symmetric(a):
    """``(a + aᵀ) / 2`` over the last two axes."""
    return 0.5 * (a + jnp.swapaxes(a, -1, -2))


def covariance_state(fn: str, X, dtype, where=None, weights=None) -> CovarianceState:
    """The :class:`CovarianceState` of one batch ``X [..., n, d]`` (already shape-checked by ``fn``)."""
    Xz, w, valid = masked_rows(fn, X, dtype, where, weights)
    scaled, total, rows, mean = centered_rows(Xz, w, valid)
    m2 = symmetric(jnp.einsum("...ni,...nj->...ij", scaled, scaled))
    return CovarianceState(total, rows, mean, m2)


def merge_covariance(a: CovarianceState, b: CovarianceState) -> CovarianceState:
    """Chan et al.'s pairwise merge; an empty side returns the other side exactly."""
    total = a.weight + b.weight
    frac_b = numerics.safe_div(b.weight, total)
    delta = b.mean - a.mean
    mean = a.mean + frac_b[..., None] * delta
    m2 = a.m2 + b.m2 + (a.weight * frac_b)[..., None, None] * (delta[..., :, None] * delta[..., None, :])
    a0, b0 = a.weight == 0, b.weight == 0
    mean = jnp.where(a0[..., None], b.mean, jnp.where(b0[..., None], a.mean, mean))
    m2 = jnp.where(a0[..., None, None], b.m2, jnp.where(b0[..., None, None], a.m2, m2))
    return CovarianceState(total, a.rows + b.rows, mean, m2)


def init_covariance(dim: int, dtype=None, batch_shape=()) -> CovarianceState:
    """The empty state (the identity of :func:`merge_covariance`) for ``d = dim`` features."""
    d = default_state_dtype(dtype)
    z = jnp.zeros(batch_shape, d)
    return CovarianceState(z, z, jnp.zeros((*batch_shape, dim), d), jnp.zeros((*batch_shape, dim, dim), d))
