"""Contract inputs for the curvature functions (jaxmetrics.spectral.hessian).

These are functional metrics over ``(loss_fn, params, batch)``. Every adapter closes over one fixed
loss — a tiny tanh MLP with 16 parameters, ``{"W1": [2, 4], "b1": [4], "w2": [4]}``, on a batch
``X [16, 3]`` (inputs ``X[:, :2]``, regression target ``X[:, 2]``, squared error), written as a
``SplitLoss`` so the Gauss–Newton path runs too — and takes the ARRAY args as

* ``theta [16]``: the flat parameters (unflattened into the dict pytree by the adapter),
* ``X [16, 3]``: the batch,
* ``v [16]``: the tangent (products only; a ``v`` whose length is not 16 is passed as a raw array, the
  mismatched-tree bad input).

Randomness: the static ``seed`` kwarg becomes ``jax.random.key(seed)`` inside the adapter. The vmap
check stacks the args (= many models and batches at once); there are no batch axes in the functions
themselves, so the adapter maps over leading axes of ``theta`` with ``jax.vmap``. The ordinary
``hessian_trace`` case runs Hutch++ on the Hessian (the path with a QR); the edge cases run
Hutchinson, the Gauss–Newton curvature and chunked products.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxmetrics.spectral import SplitLoss
from tests.contract.spec import Case, Spec

N, P = 16, 16


def _unflatten(theta):
    return {"W1": theta[:8].reshape(2, 4), "b1": theta[8:12], "w2": theta[12:16]}


def _model(p, x):
    return jnp.tanh(x[:, :2] @ p["W1"] + p["b1"]) @ p["w2"]


def _output_loss(out, x):
    return 0.5 * jnp.mean((out - x[:, 2]) ** 2)


LOSS = SplitLoss(_model, _output_loss)


def _adapter(body):
    def call(fn, args, kwargs, where, weights):
        if jnp.ndim(args[0]) > 1:  # stacked models / batches: map over the leading axis
            return jax.vmap(lambda *a: call(fn, a, kwargs, where, weights))(*args)
        return body(fn, tuple(jnp.asarray(a) for a in args), dict(kwargs))

    return call


def _product_body(fn, args, kwargs):
    theta, x, v = args
    v = _unflatten(v) if v.shape == (P,) else v
    return fn(LOSS, _unflatten(theta), x, v, **kwargs)


def _keyed_body(fn, args, kwargs):
    theta, x = args
    seed = kwargs.pop("seed")
    return fn(LOSS, _unflatten(theta), x, key=jax.random.key(seed), **kwargs)


def _plain_body(fn, args, kwargs):
    theta, x = args
    return fn(LOSS, _unflatten(theta), x, **kwargs)


def _data(rng):
    theta = rng.normal(size=P) * 0.8
    x = rng.normal(size=(N, 3))
    return theta, x


def _model_edges(rng, kwargs, extra=()):
    """theta = 0 (zero gradient, indefinite Hessian), X = 0, saturated tanh units."""
    theta, x = _data(rng)
    return [
        Case((np.zeros(P), x, *extra), dict(kwargs), diff_argnums=tuple(range(2 + len(extra))),
             label="zero params (zero gradient)"),
        Case((theta, np.zeros((N, 3)), *extra), dict(kwargs), diff_argnums=tuple(range(2 + len(extra))),
             label="zero batch"),
        Case((theta * 50, x, *extra), dict(kwargs), diff_argnums=tuple(range(2 + len(extra))),
             label="saturated units (near-zero curvature)"),
    ]


# ------------------------------------------------------------------------------------------------
# products


def _product_spec():
    def make(rng):
        theta, x = _data(rng)
        return Case((theta, x, rng.normal(size=P)), {}, diff_argnums=(0, 1, 2))

    def edges(rng):
        v = rng.normal(size=P)
        return _model_edges(rng, {}, extra=(v,)) + [
            Case((*_data(rng), np.zeros(P)), {}, diff_argnums=(0, 1, 2), label="zero tangent"),
        ]

    def bad(rng):
        theta, x = _data(rng)
        return [(Case((theta, x, rng.normal(size=P - 1)), {}), "v")]

    return Spec(make=make, edges=edges, bad=bad, call=_adapter(_product_body))


# ------------------------------------------------------------------------------------------------
# hessian_trace

_TRACE = dict(seed=3, num_probes=9, method="hutch++", curvature="hessian")


def _trace_make(rng):
    return Case(_data(rng), dict(_TRACE), diff_argnums=(0, 1))


def _trace_edges(rng):
    # Each variant on one input (the third-derivative grad check costs ~1 s a configuration jitted):
    # Hutch++ on zero params (zero gradient, indefinite H); chunked Hutchinson on the Gauss–Newton
    # curvature of saturated units (near-zero curvature); a sketch (20) larger than the rank-deficient
    # GGN at zero params (exact, zero std_error); one Hutchinson probe (std_error NaN by convention).
    zero, _, saturated = _model_edges(rng, dict(_TRACE))
    ggn_chunked = dict(_TRACE, method="hutchinson", curvature="ggn", chunk_size=4)
    return [
        zero,
        Case(saturated.args, ggn_chunked, diff_argnums=(0, 1), label=f"{saturated.label} {ggn_chunked}"),
        Case(zero.args, dict(_TRACE, curvature="ggn", num_probes=60), diff_argnums=(0, 1),
             label="zero params, GGN sketch larger than its rank"),
        Case(_data(rng), dict(_TRACE, method="hutchinson", num_probes=1), diff_argnums=(0, 1),
             label="one Hutchinson probe"),
    ]


def _trace_bad(rng):
    args = _data(rng)
    return [
        (Case(args, dict(_TRACE, num_probes=0)), "num_probes"),
        (Case(args, dict(_TRACE, num_probes=2)), "num_probes"),  # Hutch++ needs >= 3
        (Case(args, dict(_TRACE, method="lanczos")), "method"),
        (Case(args, dict(_TRACE, curvature="fisher")), "curvature"),
        (Case(args, dict(_TRACE, chunk_size=0)), "chunk_size"),
    ]


# ------------------------------------------------------------------------------------------------
# sharpness, empirical Fisher


def _sharpness_spec():
    def make(rng):
        return Case(_data(rng), dict(rho=0.05), diff_argnums=(0, 1))

    def edges(rng):
        return _model_edges(rng, dict(rho=0.05)) + [
            Case(_data(rng), dict(rho=0.0), diff_argnums=(0, 1), label="rho = 0"),
            Case(_data(rng), dict(rho=2.0), diff_argnums=(0, 1), label="large rho"),
        ]

    def bad(rng):
        args = _data(rng)
        return [(Case(args, dict(rho=-0.1)), "rho"), (Case(args, dict(rho=np.ones(2))), "rho")]

    return Spec(make=make, edges=edges, bad=bad, call=_adapter(_plain_body))


def _fisher_spec():
    def make(rng):
        return Case(_data(rng), {}, diff_argnums=(0, 1))

    def edges(rng):
        zero, _, saturated = _model_edges(rng, {})
        return [zero, Case(saturated.args, dict(chunk_size=5), diff_argnums=(0, 1),
                           label="saturated units, chunked (5 does not divide 16)")]

    def bad(rng):
        return [(Case(_data(rng), dict(chunk_size=0)), "chunk_size")]

    return Spec(make=make, edges=edges, bad=bad, call=_adapter(_plain_body), jit_grad=True)


SPECS = {
    "hessian_vector_product": _product_spec(),
    "ggn_vector_product": _product_spec(),
    "hessian_trace": Spec(make=_trace_make, edges=_trace_edges, bad=_trace_bad, call=_adapter(_keyed_body),
                          jit_grad=True),
    "sharpness": _sharpness_spec(),
    "empirical_fisher_trace": _fisher_spec(),
}
