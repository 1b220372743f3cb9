"""Contract inputs for jaxmetrics.spectral.lanczos (top eigenpairs and SLQ spectral density).

Both metrics are functional (``loss_fn(params, batch)``), so each Spec has a ``call`` adapter that closes
over a fixed tiny model and takes the ARRAY args as ``(theta [16], X [16, 3])``: theta is unpacked into
the params pytree ``{"W1": [3, 4], "w2": [4]}`` of a one-hidden-layer tanh network, X is the batch, and
the loss is the mean squared error against a fixed function of X plus an L2 term ½·c·‖θ‖². The static
kwargs carry the configuration plus an int ``seed`` that the adapter turns into ``jax.random.key(seed)``.
Leading axes of the args (the vmap check's stacked call) are vmapped by the adapter.

Edge cases (finite-gradient check only):

* ``X = 0``: the network output is identically 0, so the Hessian is exactly c·I — Lanczos breaks down at
  every step (restart path), every eigenvalue is degenerate.
* ``theta = 0``: the four hidden units are interchangeable, so the Hessian has 4-fold degenerate
  eigenvalues (breakdown after a few steps, degenerate Ritz values).
* large weights: saturated tanh units (near-zero curvature directions).

The bf16/f16 check uses the default 1e-4 tolerance: inputs are promoted to float32; the top-k case runs
full Lanczos (num_iters = dim, so the Ritz pairs are converged eigenpairs, whose float32 error is
~eps·‖H‖/gap) with the algebraic ranking, and eigenvector signs are canonical. Over 40 random cases ×
{bf16, f16} the worst deviation was ~1% of the tolerance (top-k) and ~9% (density, whose SLQ runs 8 < dim
steps and is smoothed with sigma_squared = 1e-2).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from tests.contract.spec import Case, Spec

N, D, H = 16, 3, 4
DIM = D * H + H  # 16 parameters
L2 = 0.1


def _unpack(theta):
    return {"W1": theta[: D * H].reshape(D, H), "w2": theta[D * H:]}


def _loss(params, x):
    target = jnp.sin(x @ jnp.array([1.0, -1.0, 0.5], x.dtype))
    pred = jnp.tanh(x @ params["W1"]) @ params["w2"]
    reg = 0.5 * L2 * sum(jnp.sum(p ** 2) for p in jax.tree.leaves(params))
    return jnp.mean((pred - target) ** 2) + reg


def _adapter(fn, args, kwargs, where, weights):
    theta, x = (jnp.asarray(a) for a in args)
    kwargs = dict(kwargs)
    key = jax.random.key(kwargs.pop("seed"))

    def single(theta, x):
        return fn(_loss, _unpack(theta), x, key=key, **kwargs)

    for _ in range(theta.ndim - 1):  # leading axes are batch axes
        single = jax.vmap(single)
    return single(theta, x)


def _args(rng):
    return rng.normal(size=DIM), rng.normal(size=(N, D))


def _edges(kwargs):
    def edges(rng):
        theta, x = _args(rng)
        return [
            Case((theta, np.zeros_like(x)), dict(kwargs), diff_argnums=(0, 1), label="X = 0 (Hessian = c·I)"),
            Case((np.zeros_like(theta), x), dict(kwargs), diff_argnums=(0, 1), label="theta = 0 (degenerate)"),
            Case((theta * 20.0, x), dict(kwargs), diff_argnums=(0, 1), label="saturated tanh units"),
        ]

    return edges


def _spec(kwargs, bad_kwargs):
    def make(rng):
        return Case(_args(rng), dict(kwargs), diff_argnums=(0, 1))

    def bad(rng):
        args = _args(rng)
        return [(Case(args, {**kwargs, **change}), name) for change, name in bad_kwargs]

    return Spec(make=make, edges=_edges(kwargs), bad=bad, call=_adapter)


_TOP = dict(k=2, num_iters=DIM, which="algebraic", seed=0)
_SLQ = dict(num_probes=2, num_iters=8, grid_size=64, sigma_squared=1e-2, seed=0)

SPECS = {
    "hessian_top_eigenvalues": _spec(_TOP, [
        (dict(k=0), "k"),
        (dict(k=3, num_iters=2), "num_iters"),
        (dict(which="largest"), "which"),
        (dict(method="arnoldi"), "method"),
        (dict(curvature="fisher"), "curvature"),
        (dict(k=DIM + 1, num_iters=DIM + 1), "k"),
    ]),
    "hessian_spectral_density": _spec(_SLQ, [
        (dict(num_probes=0), "num_probes"),
        (dict(num_iters=0), "num_iters"),
        (dict(grid_size=1), "grid_size"),
        (dict(sigma_squared=0.0), "sigma_squared"),
        (dict(curvature="fisher"), "curvature"),
    ]),
}
