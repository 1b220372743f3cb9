"""Curvature operators: the Hessian (or Gauss–Newton) of a loss as a matrix-free ``matvec`` over the
flattened parameter vector, shared by every curvature estimator in :mod:`jaxmetrics.spectral.hessian`.

``params`` may be any pytree of float arrays; estimators work on the flat vector of length ``dim`` given
by :func:`jax.flatten_util.ravel_pytree` and map results back with ``unravel``. Memory per product is
O(#params); nothing ever forms the dense ``dim × dim`` matrix.

* Hessian-vector product: forward-over-reverse, ``jvp(grad(loss))`` — one extra forward pass through
  the gradient, exact to rounding.
* Generalised Gauss–Newton ``G = Jᵀ H_out J`` for a loss with the structure
  ``loss(params, batch) = output_loss(model_fn(params, batch), batch)`` (:class:`SplitLoss`): a ``jvp``
  through the model, a Hessian-vector product of the output loss, and a ``vjp`` back. For softmax
  cross-entropy on logits (and squared error) G equals the Fisher information of the model's predictive
  distribution; it is positive semi-definite when ``output_loss`` is convex in the outputs.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from jaxmetrics._src.checks import _fail

Array = jax.Array
PyTree = Any

__all__ = ["SplitLoss", "Curvature", "curvature_operator", "promote_tree", "tree_hvp", "tree_ggn_vp"]


class SplitLoss(NamedTuple):
    """A loss written as ``output_loss(model_fn(params, batch), batch)``, for Gauss–Newton products.

    It is itself callable as ``loss(params, batch)``, so every Hessian function accepts it too.
    """

    model_fn: Callable[[PyTree, Any], Any]
    output_loss: Callable[[Any, Any], Array]

    def __call__(self, params, batch):
        return self.output_loss(self.model_fn(params, batch), batch)


class Curvature(NamedTuple):
    """A symmetric curvature matrix as a flat ``matvec``: ``matvec(v [dim]) -> [dim]``.

    ``unravel`` maps a flat vector back to the params pytree; ``dtype`` is the flat params dtype.
    """

    matvec: Callable[[Array], Array]
    dim: int
    dtype: Any
    unravel: Callable[[Array], PyTree]


def _promote_leaf(x):
    """bf16/f16 -> float32; float32/float64 and non-float leaves unchanged."""
    if not hasattr(x, "dtype") and not isinstance(x, (float, int, complex, bool)):
        return x
    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.floating) and jnp.finfo(x.dtype).bits < 32:
        return x.astype(jnp.float32)
    return x


def promote_tree(tree):
    """Every bf16/f16 leaf of ``tree`` (params or batch) as float32, so curvature accumulates in >= f32."""
    return jax.tree.map(_promote_leaf, tree)


def tree_hvp(loss_fn: Callable, params: PyTree, batch: Any, v: PyTree) -> PyTree:
    """``H v`` with ``H = ∇²_params loss_fn(params, batch)``, forward-over-reverse, as a params pytree."""
    return jax.jvp(lambda p: jax.grad(loss_fn)(p, batch), (params,), (v,))[1]


def tree_ggn_vp(loss: SplitLoss, params: PyTree, batch: Any, v: PyTree) -> PyTree:
    """``Jᵀ H_out J v`` for a :class:`SplitLoss`: J the Jacobian of ``model_fn`` in params and H_out the
    Hessian of ``output_loss`` in the outputs."""
    outputs, jv = jax.jvp(lambda p: loss.model_fn(p, batch), (params,), (v,))
    hjv = jax.jvp(lambda o: jax.grad(loss.output_loss)(o, batch), (outputs,), (jv,))[1]
    _, vjp = jax.vjp(lambda p: loss.model_fn(p, batch), params)
    return vjp(hjv)[0]


def curvature_operator(loss_fn: Callable, params: PyTree, batch: Any, curvature: str = "hessian") -> Curvature:
    """The Hessian (``curvature="hessian"``) or Gauss–Newton (``"ggn"``; ``loss_fn`` must be a
    :class:`SplitLoss`) of ``loss_fn`` at ``params`` as a flat :class:`Curvature` operator."""
    flat, unravel = ravel_pytree(params)
    if curvature == "hessian":
        product = tree_hvp
    elif curvature == "ggn":
        if not isinstance(loss_fn, SplitLoss):
            raise TypeError("jaxmetrics.spectral: curvature='ggn' needs loss_fn = SplitLoss(model_fn, output_loss).")
        product = tree_ggn_vp
    else:
        raise ValueError(f"jaxmetrics.spectral: `curvature` must be 'hessian' or 'ggn'; got {curvature!r}.")

    def matvec(x):
        return ravel_pytree(product(loss_fn, params, batch, unravel(x.astype(flat.dtype))))[0]

    return Curvature(matvec, int(flat.size), flat.dtype, unravel)


def prepare(fn: str, loss_fn, params, batch):
    """Checks ``loss_fn`` / ``params`` at trace time (naming the argument) and returns the promoted
    ``(params, batch)``: float leaves only, and ``loss_fn(params, batch)`` a float scalar."""
    if not callable(loss_fn):
        raise TypeError(f"jaxmetrics.{fn}: `loss_fn` must be callable as loss_fn(params, batch); got {loss_fn!r}.")
    leaves = jax.tree.leaves(params)
    if not leaves:
        _fail(fn, "argument `params` must be a pytree with at least one float array leaf; got no leaves.")
    for leaf in leaves:
        if not jnp.issubdtype(jnp.result_type(leaf), jnp.floating):
            _fail(fn, f"argument `params` must have floating-point leaves only; got a leaf of dtype "
                      f"{jnp.result_type(leaf)} and shape {np.shape(leaf)}.")
    params, batch = promote_tree(params), promote_tree(batch)
    out = jax.eval_shape(lambda p, b: loss_fn(p, b), params, batch)
    if not (hasattr(out, "shape") and out.shape == () and jnp.issubdtype(out.dtype, jnp.floating)):
        _fail(fn, f"argument `loss_fn` must return a float scalar; got {out}.")
    return params, batch
