"""The noise convention and model-output parameterizations shared by every score-matching diagnostic.

A clean sample ``x0`` is perturbed as ``x = x0 + sigma * eps``, ``eps ~ N(0, I)``, so the conditional
score is ``∇ log p(x | x0) = (x0 − x) / sigma² = −eps / sigma`` and, by Tweedie's formula, the marginal
score and the optimal denoiser satisfy ``D(x, sigma) = x + sigma² · s(x, sigma)``.

A model output ``pred`` at ``(x, sigma)`` is read through one of :data:`PARAMETERIZATIONS`:

* ``"score"``: ``pred = s(x, sigma)``;
* ``"epsilon"``: ``pred = ε̂(x, sigma)`` with ``s = −ε̂ / sigma``;
* ``"x0"``: ``pred = D(x, sigma)`` (a denoiser) with ``s = (D − x) / sigma²``.

``sigma`` broadcasts against the leading (sample) axes of ``x``: a scalar, or ``[...]`` with the
feature axis ``d`` of ``x [..., d]`` omitted.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxmetrics._src import checks

Array = jax.Array

__all__ = ["PARAMETERIZATIONS", "check_parameterization", "to_score", "to_denoiser"]

PARAMETERIZATIONS = ("score", "epsilon", "x0")


def check_parameterization(fn: str, parameterization: str) -> None:
    """Requires one of :data:`PARAMETERIZATIONS` (a ShapeError naming ``parameterization`` otherwise)."""
    checks.check_choice(fn, "parameterization", parameterization, PARAMETERIZATIONS)


def _sigma_like(sigma, x) -> Array:
    """``sigma`` with a trailing feature axis, so it broadcasts against ``x [..., d]``."""
    return jnp.asarray(sigma, x.dtype)[..., None]


def to_score(pred, x, sigma, parameterization: str) -> Array:
    """The score ``s(x, sigma)`` that a model output ``pred [..., d]`` stands for.

    >>> x = jnp.array([[1.0, 2.0]]); sigma = jnp.array([2.0])
    >>> to_score(jnp.array([[0.0, 0.0]]), x, sigma, "x0")   # denoiser output 0: s = (0 − x) / σ²
    Array([[-0.25, -0.5 ]], dtype=float32)
    """
    x = jnp.asarray(x)
    pred = jnp.asarray(pred, jnp.result_type(pred, x))
    s = _sigma_like(sigma, pred)
    if parameterization == "score":
        return pred
    if parameterization == "epsilon":
        return -pred / s
    if parameterization == "x0":
        return (pred - x) / (s * s)
    raise ValueError(f"unknown parameterization {parameterization!r}; expected one of {PARAMETERIZATIONS}")


def to_denoiser(pred, x, sigma, parameterization: str) -> Array:
    """The denoiser ``D(x, sigma) = x + sigma² · s(x, sigma)`` that a model output ``pred`` stands for.

    >>> x = jnp.array([[1.0, 2.0]]); sigma = jnp.array([2.0])
    >>> to_denoiser(jnp.array([[0.5, 0.5]]), x, sigma, "epsilon")   # D = x − σ·ε̂
    Array([[0., 1.]], dtype=float32)
    """
    x = jnp.asarray(x)
    pred = jnp.asarray(pred, jnp.result_type(pred, x))
    s = _sigma_like(sigma, pred)
    if parameterization == "x0":
        return pred
    if parameterization == "epsilon":
        return x - s * pred
    if parameterization == "score":
        return x + s * s * pred
    raise ValueError(f"unknown parameterization {parameterization!r}; expected one of {PARAMETERIZATIONS}")
