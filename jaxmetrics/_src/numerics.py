"""Gradient-safe numerics shared by every metric family.

All helpers are pure ``jax.numpy`` functions: safe to ``jit``, ``vmap`` and ``grad``. The rule they
implement (DESIGN.md §2.7) is that a metric never produces a NaN *gradient* from a branch whose value
was masked away: a ``jnp.where`` alone is not enough, because the discarded branch still receives a
zero cotangent that multiplies an infinite local derivative. The "double where" pattern first replaces
the dangerous input by a harmless one, then selects the result.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import xlogy as _xlogy

Array = jax.Array

__all__ = [
    "accumulation_dtype",
    "promote",
    "safe_div",
    "safe_log",
    "safe_sqrt",
    "xlogy",
]


def accumulation_dtype(*arrays) -> jnp.dtype:
    """The floating dtype a metric accumulates in: at least float32, float64 if any input is.

    bf16/f16 (and integer/bool) inputs accumulate in float32; float64 inputs keep float64, which is only
    possible when ``jax_enable_x64`` is on.
    """
    dtype = jnp.float32
    for x in arrays:
        if x is None:
            continue
        d = jnp.result_type(x)
        if jnp.issubdtype(d, jnp.floating) and jnp.finfo(d).bits > 32:
            dtype = jnp.float64
    return jnp.dtype(dtype)


def promote(x, dtype=None) -> Array:
    """Casts ``x`` to the accumulation dtype (bf16/f16/int -> float32; float64 stays float64).

    Args:
      x: array-like.
      dtype: explicit target dtype; defaults to ``accumulation_dtype(x)``.
    """
    x = jnp.asarray(x)
    return x.astype(accumulation_dtype(x) if dtype is None else dtype)


def safe_div(num, den, fill=0.0) -> Array:
    """``num / den`` with ``fill`` where ``den == 0``; gradients stay finite (double-``where``).

    >>> safe_div(jnp.array([1.0, 1.0]), jnp.array([2.0, 0.0]))
    Array([0.5, 0. ], dtype=float32)
    """
    num = jnp.asarray(num)
    den = jnp.asarray(den)
    zero = den == 0
    den_safe = jnp.where(zero, jnp.ones_like(den), den)
    return jnp.where(zero, jnp.asarray(fill, dtype=jnp.result_type(num, den)), num / den_safe)


def safe_log(x, fill=-jnp.inf) -> Array:
    """``log(x)`` for ``x > 0`` and ``fill`` elsewhere, with finite gradients at ``x <= 0``."""
    x = jnp.asarray(x)
    pos = x > 0
    return jnp.where(pos, jnp.log(jnp.where(pos, x, jnp.ones_like(x))), fill)


def safe_sqrt(x) -> Array:
    """``sqrt(max(x, 0))`` with a zero (not infinite) gradient at ``x <= 0``."""
    x = jnp.asarray(x)
    pos = x > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, x, jnp.ones_like(x))), jnp.zeros_like(x))


def xlogy(x, y) -> Array:
    """``x * log(y)`` with the convention ``0 * log(0) = 0`` and a finite gradient there."""
    x = jnp.asarray(x)
    y = jnp.asarray(y)
    zero = x == 0
    return jnp.where(zero, jnp.zeros_like(_xlogy(x, y)), _xlogy(x, jnp.where(zero, jnp.ones_like(y), y)))
