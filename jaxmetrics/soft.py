"""Differentiable primitives for the ``soft_*`` twins of piecewise-constant metrics.

Every primitive here takes a ``temperature`` (in the units of its input) and converges to the exact,
piecewise-constant operation as ``temperature -> 0``; gradients are finite for every finite or infinite
input. They are plain ``jax.numpy`` functions: ``jit``, ``vmap`` and ``grad`` work as usual.

* :func:`smooth_step` — the logistic relaxation of the Heaviside step ``1[x > 0]``.
"""

from __future__ import annotations

import numbers

import jax
import jax.numpy as jnp

from jaxmetrics._src import numerics

Array = jax.Array

__all__ = ["smooth_step"]


def _validate_temperature(fn: str, temperature, name: str = "temperature") -> None:
    """Raises ``ValueError`` for a concrete (Python/NumPy) temperature that is not finite and > 0.

    A traced or array temperature (e.g. an annealing schedule inside a jitted step) is not checked.
    """
    if isinstance(temperature, numbers.Real) and not (0 < float(temperature) < float("inf")):
        raise ValueError(f"jaxmetrics.{fn}: argument `{name}` must be finite and > 0; got {temperature!r}.")


def smooth_step(x, temperature=1.0) -> Array:
    """Smooth step: the logistic relaxation σ(x / temperature) of the Heaviside step ``1[x > 0]``.

    .. math::

        H_\\tau(x) = \\sigma(x/\\tau) = \\frac{1}{1 + e^{-x/\\tau}}, \\qquad
        \\lim_{\\tau \\to 0} H_\\tau(x) = \\begin{cases} 1 & x > 0 \\\\ \\tfrac12 & x = 0 \\\\
        0 & x < 0 \\end{cases}

    The value at ``x = 0`` is exactly ½ for every temperature — the half credit that exact rank metrics
    give to ties. ``H(x) + H(-x) = 1``; use ``smooth_step(-x)`` rather than ``1 - smooth_step(x)`` for the
    complement (no cancellation near 1). The slope is at most ``1 / (4·temperature)``, at ``x = 0``;
    it decays like ``exp(-|x|/temperature)``, so points with ``|x| ≫ temperature`` get (almost) no
    gradient.

    Computed with ``lax.logistic``, which is stable for every input: ``x = ±inf`` gives exactly 1 / 0
    with gradient 0, never NaN.

    Args:
      x: array ``[...]``; floating dtypes are kept (integers compute in float32).
      temperature: width of the transition, in the units of ``x``; a positive Python float, or a
        scalar array (so it can be annealed inside ``jit`` without recompiling).

    Returns:
      ``[...]`` in [0, 1], the dtype of ``x`` (float32 for integer ``x``).

    Example:
      >>> smooth_step(jnp.array([-1.0, 0.0, 1.0]), temperature=0.1)
      Array([4.5397872e-05, 5.0000000e-01, 9.9995458e-01], dtype=float32)
    """
    _validate_temperature("smooth_step", temperature)
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = numerics.promote(x)
    return jax.nn.sigmoid(x / jnp.asarray(temperature, x.dtype))
