"""Trace-time argument checks with errors that name the argument, the expected and the received shape.

Shapes and dtypes are static under ``jit``, so every check here runs once, while tracing, and costs
nothing at run time. The checks delegate to chex and re-raise its ``AssertionError`` as a
:class:`ShapeError` (a ``ValueError``) whose message reads like::

    jaxmetrics.auroc: argument `labels` must have shape [..., N] matching `scores` (8, 100); got (8, 99).
"""

from __future__ import annotations

from typing import Sequence

import chex
import jax.numpy as jnp
import numpy as np

from jaxmetrics._src import numerics

__all__ = [
    "ShapeError",
    "check_float",
    "check_integer",
    "check_min_rank",
    "check_same_shape",
    "check_probs_labels",
    "check_static_int",
    "check_choice",
    "broadcast_arg",
    "sample_weights",
]


class ShapeError(ValueError):
    """Raised at trace time when an argument's shape, rank or dtype is wrong."""


def _fail(fn: str, message: str, cause: Exception | None = None):
    raise ShapeError(f"jaxmetrics.{fn}: {message}") from cause


def _shape(x) -> tuple:
    return tuple(np.shape(x))


def check_min_rank(fn: str, name: str, x, min_ndim: int, layout: str) -> None:
    """Requires ``x.ndim >= min_ndim``; ``layout`` (e.g. ``"[..., N, C]"``) is shown in the error."""
    try:
        chex.assert_rank(x, set(range(min_ndim, min_ndim + 32)))
    except AssertionError as e:
        _fail(fn, f"argument `{name}` must have shape {layout} (rank >= {min_ndim}); got shape {_shape(x)}.", e)


def check_same_shape(fn: str, name: str, x, ref_name: str, ref, layout: str = "[..., N]") -> None:
    """Requires ``x.shape == ref.shape``."""
    try:
        chex.assert_equal_shape([x, ref])
    except AssertionError as e:
        _fail(
            fn,
            f"argument `{name}` must have shape {layout} matching `{ref_name}` {_shape(ref)}; "
            f"got {_shape(x)}.",
            e,
        )


def check_float(fn: str, name: str, x) -> None:
    """Requires a floating-point array (bf16/f16/f32/f64)."""
    if not jnp.issubdtype(jnp.result_type(x), jnp.floating):
        _fail(fn, f"argument `{name}` must be a floating-point array; got dtype {jnp.result_type(x)}.")


def check_integer(fn: str, name: str, x) -> None:
    """Requires an integer or boolean array (class labels)."""
    d = jnp.result_type(x)
    if not (jnp.issubdtype(d, jnp.integer) or d == jnp.bool_):
        _fail(fn, f"argument `{name}` must be an integer (or bool) array of class labels; got dtype {d}.")


def check_probs_labels(fn: str, probs, labels):
    """Probabilities (or logits) ``[..., N]`` (binary P(y=1)) or ``[..., N, C]`` (C >= 2) with integer
    (or bool) labels ``[..., N]``; returns ``(probs, labels, binary)`` as arrays (bool labels -> int32)."""
    probs = jnp.asarray(probs)
    labels = jnp.asarray(labels)
    check_float(fn, "probs", probs)
    check_integer(fn, "labels", labels)
    check_min_rank(fn, "labels", labels, 1, "[..., N]")
    if labels.dtype == jnp.bool_:
        labels = labels.astype(jnp.int32)
    if probs.shape == labels.shape:
        return probs, labels, True
    if probs.ndim == labels.ndim + 1 and probs.shape[:-1] == labels.shape and probs.shape[-1] >= 2:
        return probs, labels, False
    _fail(
        fn,
        f"argument `probs` must have shape [..., N] (binary P(y=1)) or [..., N, C] (C >= 2) matching "
        f"`labels` {tuple(labels.shape)}; got {tuple(probs.shape)}.",
    )


def check_static_int(fn: str, name: str, value, minimum: int = 1) -> int:
    """Requires a static Python int ``>= minimum`` (a configuration value, never a traced array)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        _fail(fn, f"argument `{name}` must be a static Python int; got {type(value).__name__} {value!r}.")
    if value < minimum:
        _fail(fn, f"argument `{name}` must be >= {minimum}; got {value}.")
    return int(value)


def check_choice(fn: str, name: str, value, choices: Sequence) -> None:
    """Requires ``value`` to be one of ``choices``."""
    if value not in choices:
        _fail(fn, f"argument `{name}` must be one of {tuple(choices)}; got {value!r}.")


def broadcast_arg(fn: str, name: str, arr, shape: tuple, what: str = "sample shape"):
    """``arr`` broadcast to ``shape`` (as an array); a :class:`ShapeError` naming ``name`` otherwise."""
    arr = jnp.asarray(arr)
    try:
        if np.broadcast_shapes(arr.shape, tuple(shape)) != tuple(shape):
            raise ValueError
    except ValueError as e:
        _fail(fn, f"argument `{name}` must broadcast to the {what} {tuple(shape)}; got {arr.shape}.", e)
    return jnp.broadcast_to(arr, shape)


def sample_weights(fn: str, sample_shape: tuple, dtype, where=None, weights=None):
    """Combines ``where`` (bool mask) and ``weights`` into one float array of ``sample_shape``.

    Both must broadcast to ``sample_shape`` (the shape of the per-sample axes, e.g. ``[..., N]``).
    Masked-out samples get weight exactly 0; the result has dtype ``dtype``.
    """
    out = jnp.ones(sample_shape, dtype)
    if where is not None:
        out = jnp.where(broadcast_arg(fn, "where", where, sample_shape).astype(bool), out, jnp.zeros_like(out))
    if weights is not None:
        out = out * numerics.promote(broadcast_arg(fn, "weights", weights, sample_shape), dtype)
    return out
