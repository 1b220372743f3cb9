"""Matrix-free curvature of a loss: Hessian- and Gauss–Newton-vector products, Hutchinson / Hutch++
trace estimates, SAM ρ-sharpness and the empirical Fisher trace.

Every function takes a ``loss_fn(params, batch) -> scalar`` with ``params`` any pytree of float
arrays (``batch`` any pytree; it is passed through untouched apart from dtype promotion), and works on
the flattened parameter vector of length ``dim`` (:func:`jax.flatten_util.ravel_pytree`) through the
shared operator of :mod:`jaxmetrics.spectral._linop`. Nothing forms the dense ``dim × dim`` matrix.

**Conventions.**

* Hessian-vector products are forward-over-reverse, ``jvp(grad(loss_fn))``, exact to rounding.
  Gauss–Newton products ``G v = Jᵀ H_out J v`` need the loss written as
  :class:`~jaxmetrics.spectral.SplitLoss` ``(model_fn, output_loss)``; for softmax cross-entropy on
  logits or squared error, G is the Fisher information of the model's predictive distribution.
* Trace probes are **unnormalised Rademacher** vectors (entries ±1, as PyHessian), drawn from the
  explicit ``key``: same key, same probes, same answer (eager or jitted). Probes are ``vmap``-ped, so
  memory is O(num_probes · dim) (plus ``num_probes`` copies of the tangent activations); a static
  ``chunk_size`` evaluates them with :func:`jax.lax.map` in chunks instead (memory O(chunk_size · dim)).
* ``num_probes`` counts curvature-vector products for both methods, so the two methods cost the same.
* ``bf16``/``f16`` params and batch leaves are promoted to float32 before anything is computed (float64
  stays float64; integer leaves, e.g. labels, are left alone), so results are at least float32.
* There is no batch axis: to evaluate many models, checkpoints, batches or keys, ``jax.vmap`` the call.

Oracles: the dense ``jax.hessian`` (or explicit ``Jᵀ H_out J``) of small models with
``numpy.linalg`` (trace, eigenvalues), and closed forms for quadratic losses.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from jaxmetrics._src import checks, numerics
from jaxmetrics._src.checks import _fail
from jaxmetrics._src.registry import MetricInfo, register
from jaxmetrics.spectral import _linop
from jaxmetrics.spectral._linop import SplitLoss, curvature_operator, tree_ggn_vp, tree_hvp

Array = jax.Array
PyTree = Any

__all__ = [
    "TraceEstimate",
    "hessian_vector_product",
    "ggn_vector_product",
    "hessian_trace",
    "sharpness",
    "empirical_fisher_trace",
]

_METHODS = ("hutchinson", "hutch++")
_CURVATURES = ("hessian", "ggn")


class TraceEstimate(NamedTuple):
    """A stochastic trace estimate.

    Attributes:
      estimate: the trace estimate, a scalar (the mean of ``samples``).
      std_error: its standard error, ``std(samples, ddof=1) / sqrt(len(samples))`` (NaN with a single
        sample).
      samples: ``[num_samples]`` per-probe estimates whose mean is ``estimate``. Hutchinson: the
        quadratic forms vᵢᵀHvᵢ (``num_samples = num_probes``). Hutch++:
        tr(QᵀHQ) + gᵢᵀ(I−QQᵀ)H(I−QQᵀ)gᵢ for the remainder probes gᵢ
        (``num_samples = num_probes − 2·(num_probes // 3)``).
    """

    estimate: Array
    std_error: Array
    samples: Array


# --------------------------------------------------------------------------------------------------
# argument handling




def _check_v(fn: str, params, v):
    """``v`` must have the tree structure and leaf shapes of ``params``; returns it cast to their dtypes."""
    p_leaves, p_def = jax.tree.flatten(params)
    v_leaves, v_def = jax.tree.flatten(v)
    if p_def != v_def:
        _fail(fn, f"argument `v` must have the tree structure of `params` {p_def}; got {v_def}.")
    for p, x in zip(p_leaves, v_leaves):
        if np.shape(p) != np.shape(x):
            _fail(fn, f"argument `v` must have the leaf shapes of `params` "
                      f"{[np.shape(a) for a in p_leaves]}; got {[np.shape(a) for a in v_leaves]}.")
    return jax.tree.unflatten(p_def, [jnp.asarray(x).astype(p.dtype) for p, x in zip(p_leaves, v_leaves)])


def _check_chunk(fn: str, chunk_size):
    if chunk_size is not None:
        checks.check_static_int(fn, "chunk_size", chunk_size, minimum=1)


def _apply(matvec, vectors, chunk_size):
    """``matvec`` over the rows of ``vectors [k, dim]``: vmapped, or lax.map in chunks."""
    if chunk_size is None:
        return jax.vmap(matvec)(vectors)
    return jax.lax.map(matvec, vectors, batch_size=chunk_size)


def _mean_and_error(samples):
    m = samples.shape[0]
    mean = jnp.mean(samples)
    if m == 1:  # undefined: one documented answer, NaN (a constant: zero gradient)
        return mean, jnp.full((), jnp.nan, samples.dtype)
    var = jnp.sum((samples - mean) ** 2) / (m - 1)
    return mean, numerics.safe_sqrt(var / m)


# --------------------------------------------------------------------------------------------------
# products


def hessian_vector_product(loss_fn: Callable, params: PyTree, batch: Any, v: PyTree) -> PyTree:
    r"""Hessian-vector product ``H v`` with ``H = ∇²_params loss_fn(params, batch)``.

    Forward-over-reverse: ``jvp(grad(loss_fn), (params,), (v,))`` — one forward pass through the
    gradient computation; exact to rounding, memory O(#params) and never the dense Hessian.

    Args:
      loss_fn: ``loss_fn(params, batch) -> scalar`` (twice differentiable in ``params``).
      params: pytree of float arrays (bf16/f16 leaves are promoted to float32).
      batch: any pytree passed as the second argument of ``loss_fn``.
      v: pytree with the tree structure and leaf shapes of ``params`` (a ShapeError naming ``v``
        otherwise); cast to the (promoted) params dtypes.

    Returns:
      ``H v`` as a pytree like ``params``. Matches ``jax.hessian`` of the flattened loss times the
      flattened ``v``.

    Example:
      >>> loss = lambda p, batch: 0.5 * jnp.sum(batch * p["w"] ** 2) + p["b"] ** 4
      >>> hv = hessian_vector_product(loss, {"w": jnp.ones(2), "b": 1.0}, jnp.array([2.0, 3.0]),
      ...                             {"w": jnp.ones(2), "b": 1.0})
      >>> print(hv["w"], hv["b"])
      [2. 3.] 12.0
    """
    params, batch = _linop.prepare("hessian_vector_product", loss_fn, params, batch)
    v = _check_v("hessian_vector_product", params, v)
    return tree_hvp(loss_fn, params, batch, v)


def ggn_vector_product(loss: SplitLoss, params: PyTree, batch: Any, v: PyTree) -> PyTree:
    r"""Generalised Gauss–Newton-vector product ``G v = Jᵀ H_out J v``.

    For ``loss = SplitLoss(model_fn, output_loss)``, i.e. ``L(θ) = output_loss(model_fn(θ, batch),
    batch)``: ``J = ∂ model_fn / ∂θ`` and ``H_out = ∇²_outputs output_loss``. Computed as a ``jvp``
    through the model, a Hessian-vector product of the output loss, and a ``vjp`` back (memory
    O(#params + #outputs)). G is positive semi-definite when ``output_loss`` is convex in the outputs;
    for softmax cross-entropy on logits (and squared error) it is the Fisher information of the model's
    predictive distribution, and it equals the Hessian when ``model_fn`` is linear in θ.

    Args:
      loss: a :class:`~jaxmetrics.spectral.SplitLoss` (a TypeError names ``loss`` otherwise).
      params: pytree of float arrays (bf16/f16 leaves are promoted to float32).
      batch: any pytree, passed to ``model_fn`` and ``output_loss``.
      v: pytree like ``params`` (a ShapeError naming ``v`` otherwise).

    Returns:
      ``G v`` as a pytree like ``params``. Matches the explicit ``Jᵀ H_out J v`` from ``jax.jacobian``
      and ``jax.hessian``.

    Example:
      >>> from jaxmetrics.spectral import SplitLoss
      >>> loss = SplitLoss(lambda w, x: x @ w, lambda out, x: 0.5 * jnp.sum(out ** 2))
      >>> x = jnp.array([[1.0, 0.0], [1.0, 1.0]])
      >>> print(ggn_vector_product(loss, jnp.zeros(2), x, jnp.array([1.0, 0.0])))  # XᵀX v
      [2. 1.]
    """
    if not isinstance(loss, SplitLoss):
        raise TypeError("jaxmetrics.ggn_vector_product: argument `loss` must be "
                        f"SplitLoss(model_fn, output_loss); got {type(loss).__name__}.")
    params, batch = _linop.prepare("ggn_vector_product", loss, params, batch)
    v = _check_v("ggn_vector_product", params, v)
    return tree_ggn_vp(loss, params, batch, v)


# --------------------------------------------------------------------------------------------------
# trace


def hessian_trace(loss_fn: Callable, params: PyTree, batch: Any, *, key, num_probes: int = 100,
                  method: str = "hutchinson", curvature: str = "hessian",
                  chunk_size: int | None = None) -> TraceEstimate:
    r"""Stochastic trace of the Hessian (or Gauss–Newton matrix) of a loss: Hutchinson or Hutch++.

    **Hutchinson** (``method="hutchinson"``): tr H ≈ (1/m) Σᵢ vᵢᵀ H vᵢ with m = ``num_probes``
    Rademacher probes vᵢ ∈ {±1}^dim. Unbiased, with Var(vᵀHv) = 2 Σ_{i≠j} H_ij²; exact for a diagonal
    H (every sample equals tr H).

    **Hutch++** (``method="hutch++"``, Meyer, Musco, Musco & Woodruff 2021) with the static split of the
    m = ``num_probes`` products into k = m // 3 sketch probes S, k products H Q, and r = m − 2k remainder
    probes G:

        Q = qr(H S),   tr H ≈ tr(QᵀHQ) + (1/r) Σᵢ gᵢᵀ(I − QQᵀ) H (I − QQᵀ) gᵢ.

    Unbiased for every orthonormal Q, so its variance is the mean conditional variance given Q, and
    ``std_error`` (from the r remainder samples) is honest; exact when rank H ≤ k. It has much lower
    variance than Hutchinson when the spectrum is dominated by a few large eigenvalues.

    Args:
      loss_fn: ``loss_fn(params, batch) -> scalar``; for ``curvature="ggn"`` a
        :class:`~jaxmetrics.spectral.SplitLoss` (TypeError otherwise).
      params: pytree of float arrays (bf16/f16 leaves are promoted to float32).
      batch: any pytree passed to ``loss_fn``.
      key: PRNG key (typed or raw ``uint32[2]``); the probes are a function of it alone.
      num_probes: static int, the number of curvature-vector products m (≥ 1 for Hutchinson, ≥ 3 for
        Hutch++).
      method: static ``"hutchinson"`` or ``"hutch++"``.
      curvature: static ``"hessian"`` or ``"ggn"`` (Gauss–Newton Jᵀ H_out J; see
        :func:`ggn_vector_product`).
      chunk_size: static int or None. None vmaps all products at once (memory O(num_probes · dim));
        an int evaluates them with ``lax.map`` in chunks of that size (memory O(chunk_size · dim)).
        On CPU, batching probes gains nothing (each probe's tangent is a different weight
        perturbation, so no operand is reused): with 100 probes on a 1M-parameter MLP, ``chunk_size=1``
        measured 6.9 s against 9.6 s for None (``bench/results/cpu.md``).

    Returns:
      :class:`TraceEstimate` ``(estimate, std_error, samples)``, in the (promoted) params dtype.
      PyHessian's ``trace()`` returns the Hutchinson ``samples`` (it also stops adaptively; here m is
      fixed).

    Gradients: finite. Hutchinson's gradient is the exact derivative of the estimate (an unbiased
    estimate of ∇ tr H; needs third derivatives of ``loss_fn``). For Hutch++ the sketch basis Q is held
    fixed (``stop_gradient``: QR's derivative is undefined for rank-deficient sketches), which is still an
    unbiased estimate of ∇ tr H because the estimator is unbiased for any fixed Q.

    Complexity: m curvature-vector products (each ≈ 2–4 forward+backward passes), plus for Hutch++ one
    ``dim × k`` QR; jittable end to end (``loss_fn`` and the static arguments closed over).

    Example:
      >>> loss = lambda x, a: 0.5 * jnp.sum(a * x ** 2)  # H = diag(a): Hutchinson is exact
      >>> est = hessian_trace(loss, jnp.ones(3), jnp.array([1.0, 2.0, 3.0]), key=jax.random.key(0),
      ...                     num_probes=4)
      >>> print(round(float(est.estimate), 4), float(est.std_error))
      6.0 0.0
    """
    fn = "hessian_trace"
    checks.check_choice(fn, "method", method, _METHODS)
    checks.check_choice(fn, "curvature", curvature, _CURVATURES)
    m = checks.check_static_int(fn, "num_probes", num_probes, minimum=3 if method == "hutch++" else 1)
    _check_chunk(fn, chunk_size)
    if curvature == "ggn" and not isinstance(loss_fn, SplitLoss):
        raise TypeError("jaxmetrics.hessian_trace: curvature='ggn' needs argument `loss_fn` to be "
                        f"SplitLoss(model_fn, output_loss); got {type(loss_fn).__name__}.")
    params, batch = _linop.prepare(fn, loss_fn, params, batch)
    op = curvature_operator(loss_fn, params, batch, curvature)
    dim, dtype = op.dim, op.dtype

    if method == "hutchinson":
        probes = jax.random.rademacher(key, (m, dim), dtype=dtype)
        samples = jnp.sum(probes * _apply(op.matvec, probes, chunk_size), axis=-1)
    else:
        k = m // 3
        r = m - 2 * k
        key_s, key_g = jax.random.split(key)
        sketch = jax.random.rademacher(key_s, (k, dim), dtype=dtype)
        q, _ = jnp.linalg.qr(_apply(op.matvec, sketch, chunk_size).T)  # [dim, min(dim, k)]
        q = jax.lax.stop_gradient(q)
        t_sketch = jnp.sum(q.T * _apply(op.matvec, q.T, chunk_size))  # tr(Qᵀ H Q)
        g = jax.random.rademacher(key_g, (r, dim), dtype=dtype)
        g = g - (g @ q) @ q.T  # (I − QQᵀ) gᵢ
        samples = t_sketch + jnp.sum(g * _apply(op.matvec, g, chunk_size), axis=-1)
    estimate, std_error = _mean_and_error(samples)
    return TraceEstimate(estimate, std_error, samples)


# --------------------------------------------------------------------------------------------------
# sharpness


def sharpness(loss_fn: Callable, params: PyTree, batch: Any, *, rho=0.05) -> Array:
    r"""SAM ρ-sharpness with the first-order (SAM) ascent step: S_ρ = L(w + ε̂) − L(w).

    ε̂ = ρ g / ‖g‖ with g = ∇L(w) and ‖·‖ the global L2 norm over all params leaves — the
    single-step solution of SAM's inner problem max_{‖ε‖≤ρ} L(w + ε) (Foret et al. 2021, ρ = 0.05).
    This is a *lower bound* on the exact max over the ρ-ball.

    Closed forms: for L = ½ wᵀAw (A symmetric), g = Aw and S_ρ = ρ‖g‖ + ½ρ² gᵀAg/‖g‖². At the exact
    minimum (g = 0) the ascent direction is undefined; the documented answer is ε̂ = 0, so S_ρ = 0 with
    finite gradients. (The exact ball maximum there is ½ρ²λ_max for positive semi-definite A — the
    value METRICS.md quotes; the first-order S_ρ tends to it as w → 0 along the top eigenvector, since
    then S_ρ = ρ λ_max ‖w‖ + ½ρ²λ_max.)

    Args:
      loss_fn: ``loss_fn(params, batch) -> scalar``.
      params: pytree of float arrays (bf16/f16 leaves are promoted to float32).
      batch: any pytree passed to ``loss_fn``.
      rho: radius ρ ≥ 0, a scalar (Python number or a traced scalar array, e.g. to vmap over radii).

    Returns:
      Scalar S_ρ in the loss's (promoted) dtype; lower is flatter. Differentiable: the gradient is the
      full derivative (through ε̂(w)), not SAM's update, which holds ε̂ fixed.

    Complexity: one gradient and two loss evaluations.

    Example:
      >>> loss = lambda w, a: 0.5 * jnp.sum(a * w ** 2)  # g = (1, 0): S = ρ·1 + ½ρ²·1
      >>> print(round(float(sharpness(loss, jnp.array([1.0, 0.0]), jnp.array([1.0, 4.0]), rho=0.1)), 6))
      0.105
    """
    fn = "sharpness"
    if np.ndim(rho) != 0:
        _fail(fn, f"argument `rho` must be a scalar; got shape {np.shape(rho)}.")
    if isinstance(rho, (int, float, np.number)) and not rho >= 0:
        _fail(fn, f"argument `rho` must be >= 0; got {rho!r}.")
    params, batch = _linop.prepare(fn, loss_fn, params, batch)
    loss, grads = jax.value_and_grad(loss_fn)(params, batch)
    flat_g, unravel = ravel_pytree(grads)
    dtype = jnp.result_type(loss, flat_g)
    norm = numerics.safe_sqrt(jnp.sum(flat_g.astype(dtype) ** 2))
    scale = numerics.safe_div(jnp.asarray(rho, dtype), norm)  # ‖g‖ = 0 -> ε̂ = 0
    eps = unravel((scale * flat_g).astype(flat_g.dtype))
    perturbed = jax.tree.map(jnp.add, params, eps)
    return (loss_fn(perturbed, batch) - loss).astype(dtype)


# --------------------------------------------------------------------------------------------------
# empirical Fisher


def empirical_fisher_trace(loss_fn: Callable, params: PyTree, batch: Any, *,
                           chunk_size: int | None = None) -> Array:
    r"""Trace of the empirical Fisher F̂ = (1/B) Σᵢ gᵢ gᵢᵀ: tr F̂ = (1/B) Σᵢ ‖gᵢ‖².

    gᵢ = ∇_θ loss_fn(θ, batch_i) is the gradient of the loss on the one-example batch ``batch_i``
    (every leaf of ``batch`` sliced at index i of its leading axis, keeping that axis with length 1, so
    the same ``loss_fn(params, batch)`` is used). This is the "empirical" Fisher (observed labels), not
    the model Fisher, which is the Gauss–Newton trace ``hessian_trace(..., curvature="ggn")`` for
    cross-entropy on logits. A batch-mean loss is assumed, so the i-th per-example loss is the mean loss
    of a batch of one.

    Args:
      loss_fn: ``loss_fn(params, batch) -> scalar``.
      params: pytree of float arrays (bf16/f16 leaves are promoted to float32).
      batch: pytree whose every leaf has the example axis B first (a ShapeError names ``batch`` if the
        leading sizes differ or a leaf is a scalar).
      chunk_size: static int or None. None vmaps over all B examples (memory O(B · #params)); an int
        uses ``lax.map`` in chunks of that size.

    Returns:
      Scalar tr F̂ ≥ 0 in the (promoted) params dtype.

    Complexity: B per-example gradients.

    Example:
      >>> loss = lambda w, xy: 0.5 * jnp.mean((xy[:, 0] * w - xy[:, 1]) ** 2)  # gᵢ = xᵢ(xᵢw − yᵢ)
      >>> print(round(float(empirical_fisher_trace(loss, 1.0, jnp.array([[1.0, 0.0], [2.0, 1.0]]))), 6))
      2.5
    """
    fn = "empirical_fisher_trace"
    _check_chunk(fn, chunk_size)
    leaves = jax.tree.leaves(batch)
    if not leaves or any(np.ndim(x) == 0 for x in leaves) or len({np.shape(x)[0] for x in leaves}) != 1:
        _fail(fn, "argument `batch` must be a pytree of arrays sharing a leading example axis B; got leaf "
                  f"shapes {[np.shape(x) for x in leaves]}.")
    params, batch = _linop.prepare(fn, loss_fn, params, batch)

    def sq_norm(example):
        one = jax.tree.map(lambda x: x[None], example)
        g, _ = ravel_pytree(jax.grad(loss_fn)(params, one))
        return jnp.sum(g ** 2)

    if chunk_size is None:
        per_example = jax.vmap(sq_norm)(batch)
    else:
        per_example = jax.lax.map(sq_norm, batch, batch_size=chunk_size)
    return jnp.mean(per_example)


# --------------------------------------------------------------------------------------------------
# registry

_DENSE = "dense jax.hessian + numpy.linalg"
for _name, _fn, _diff, _hib, _oracle in [
    ("hessian_vector_product", hessian_vector_product, True, None, f"{_DENSE} (H @ v)"),
    ("ggn_vector_product", ggn_vector_product, True, None,
     "dense jax.jacobian J and jax.hessian H_out: numpy J.T @ H_out @ J @ v"),
    ("hessian_trace", hessian_trace, False, None,
     f"{_DENSE} (numpy.trace, exact Rademacher variance 2*sum_(i!=j) H_ij^2); tr A for quadratics"),
    ("sharpness", sharpness, True, False,
     "closed form rho*|g| + rho^2/2 * g'Ag/|g|^2 for quadratics; numpy loss evaluations"),
    ("empirical_fisher_trace", empirical_fisher_trace, True, None,
     "per-example jax.grad loop + numpy; closed form r_i^2 |x_i|^2 for least squares"),
]:
    register(MetricInfo(name=_name, family="spectral", fn=_fn, differentiable=_diff, higher_is_better=_hib,
                        oracle=_oracle))
del _name, _fn, _diff, _hib, _oracle
