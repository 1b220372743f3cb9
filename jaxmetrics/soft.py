"""Differentiable primitives for the ``soft_*`` twins of piecewise-constant metrics.

Every primitive here takes a ``temperature`` (in the units of its input) and converges to the exact,
piecewise-constant operation as ``temperature -> 0``; gradients are finite for every finite or infinite
input. They are plain ``jax.numpy`` functions: ``jit``, ``vmap`` and ``grad`` work as usual.

* :func:`smooth_step` — the logistic relaxation of the Heaviside step ``1[x > 0]``.
* :func:`soft_binning` — soft (differentiable) histogram-bin membership, differences of smooth steps
  at the bin edges.
"""

from __future__ import annotations

import numbers

import numpy as np

import jax
import jax.numpy as jnp

from jaxmetrics._src import numerics

Array = jax.Array

__all__ = ["smooth_step", "soft_binning"]


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


def soft_binning(x, edges, temperature=0.01) -> Array:
    r"""Soft bin membership: a smooth relaxation of the one-hot histogram bin of ``x``.

    For bin edges :math:`e_0 < e_1 < \dots < e_B`, the membership of ``x`` in bin ``b`` is the
    difference of two smooth steps (:func:`smooth_step`) at the bin's edges,

    .. math::

        m_b(x) = H_\tau(x - e_b) - H_\tau(x - e_{b+1}), \qquad b = 0, \dots, B - 1,

    with the outer edges moved to infinity (:math:`H_\tau(x - e_0) := 1`, :math:`H_\tau(x - e_B) := 0`),
    so the first and last bins are open-ended, every membership is in [0, 1] and they sum to 1 (up to
    rounding) for every ``x``. As ``temperature -> 0``, ``m(x)`` converges to the one-hot vector of the
    bin ``[e_b, e_{b+1})`` containing ``x`` (for ``x`` not on an interior edge; on an edge it is ½/½
    between the two neighbours). The leak into a neighbouring bin is ``σ(−d/τ)`` for a point at
    distance ``d`` from the edge, so ``τ`` is in the units of ``x``: e.g. with 15 bins on [0, 1] (width
    0.067) and ``τ = 0.01``, a point 0.033 from both edges keeps ≈ 93% of its mass in its own bin.

    Gradients are finite for every finite or infinite ``x`` (``lax.logistic``); they vanish for
    points farther than a few ``τ`` from every interior edge.

    Args:
      x: ``[...]`` values (floating; integers compute in float32).
      edges: a static int ``B`` (``B`` equal-width bins on [0, 1], edges ``numpy.linspace(0, 1, B + 1)``)
        or a 1-D array of ``B + 1`` increasing edges (only the interior ones ``e_1..e_{B-1}`` matter).
      temperature: width of the soft edges, in the units of ``x``; a positive Python float or a scalar
        array (annealable inside ``jit``).

    Returns:
      ``[..., B]`` memberships in the dtype of ``x``.

    Example:
      >>> m = soft_binning(jnp.array([0.1, 0.5, 0.9]), 2, temperature=0.01)
      >>> m.round(4)
      Array([[1. , 0. ],
             [0.5, 0.5],
             [0. , 1. ]], dtype=float32)
    """
    _validate_temperature("soft_binning", temperature)
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = numerics.promote(x)
    if isinstance(edges, (int, np.integer)) and not isinstance(edges, (bool, np.bool_)):
        if edges < 1:
            raise ValueError(f"jaxmetrics.soft_binning: argument `edges` (number of bins) must be >= 1; got {edges}.")
        edges = np.linspace(0.0, 1.0, int(edges) + 1)
    edges = jnp.asarray(edges, x.dtype)
    if edges.ndim != 1 or edges.shape[0] < 2:
        raise ValueError(
            f"jaxmetrics.soft_binning: argument `edges` must be an int or a 1-D array of >= 2 edges; "
            f"got shape {tuple(edges.shape)}."
        )
    steps = smooth_step(x[..., None] - edges[1:-1], temperature)  # [..., B - 1]
    one = jnp.ones(x.shape + (1,), x.dtype)
    upper = jnp.concatenate([one, steps], -1)  # H(x - e_b), b = 0..B-1
    lower = jnp.concatenate([steps, jnp.zeros_like(one)], -1)  # H(x - e_{b+1})
    return upper - lower
