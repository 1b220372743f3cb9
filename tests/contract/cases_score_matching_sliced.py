"""Contract inputs for sliced score matching and the Hutchinson divergence
(jaxmetrics.score_matching.sliced).

Functional metrics over a callable. Every adapter closes over one fixed tiny noise-conditional network
on d = 2 features with P = 24 parameters ``theta`` (``W1 [2, 4]``, ``b1 [4]``, ``c [4]``, ``W2 [4, 2]``):

    net(x, σ) = tanh(x W1 + b1 + log(σ)·c) W2 − x / (1 + σ²),

and takes the ARRAY args as ``theta [24]`` (the network parameters, differentiated: "finite gradients
with respect to network parameters"), the points ``x [16, 2]`` and, for the loss, the per-sample noise
levels ``sigma [16]``. The static ``seed`` kwarg becomes ``jax.random.key(seed)`` in the adapter. The
vmap check stacks the args (many networks, point sets and noise levels at once); the adapter maps over
that leading axis (with ``where``/``weights``), so this is "vmap over σ" and over parameters. The
Hutchinson divergence is that of ``x ↦ net(x, 0.5)``; it has no ``where``/``weights``.

The callable is passed as ``jax.tree_util.Partial(net, theta)``, the path on which the metric is
compiled once and cached (``theta`` is a traced leaf), so the eager calls do not recompile per case;
plain closures (op-by-op eager execution) are covered by the family tests and the docstring examples.

Edges keep the ordinary shapes (the eager op cache then compiles each op once): one edge per metric
covers the other options together (Gaussian probes, SSM-VR, another parameterization). Chunking and a
single probe (NaN std_error) are covered, jitted, by the family tests.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.tree_util import Partial

from tests.contract.spec import Case, Spec

N, D, P = 16, 2, 24


def unflatten(theta):
    return theta[:8].reshape(2, 4), theta[8:12], theta[12:16], theta[16:24].reshape(4, 2)


def net(theta, x, sigma):
    """The tiny network ``[..., N, 2] -> [..., N, 2]``; ``sigma`` broadcastable to ``[..., N]``.

    Mixed precision: low-precision parameters are cast to the dtype of ``x`` (which the metrics have
    already promoted to at least float32), as a bf16-stored network computing in float32 would.
    """
    w1, b1, c, w2 = unflatten(theta.astype(x.dtype))
    sigma = jnp.asarray(sigma, x.dtype)[..., None]
    return jnp.tanh(x @ w1 + b1 + jnp.log(sigma) * c) @ w2 - x / (1 + sigma ** 2)


def adapter(body):
    """``call(fn, args, kwargs, where, weights)``: maps over a stacked leading axis of the args."""

    def call(fn, args, kwargs, where, weights):
        args = tuple(jnp.asarray(a) for a in args)
        if args[0].ndim > 1:  # stacked: map over the leading axis (where/weights too)
            return jax.vmap(lambda a, m, w: call(fn, a, kwargs, m, w))(args, where, weights)
        kwargs = dict(kwargs)
        key = jax.random.key(kwargs.pop("seed"))
        return body(fn, args, kwargs, key, where, weights)

    return call


def field(theta, x):
    """The vector field of the Hutchinson cases: the network at σ = 0.5."""
    return net(theta, x, 0.5)


def _ssm_body(fn, args, kwargs, key, where, weights):
    theta, x, sigma = args
    return fn(Partial(net, theta), x, sigma, key=key, **kwargs, where=where, weights=weights)


def _hutch_body(fn, args, kwargs, key, where, weights):
    theta, x = args
    return fn(Partial(field, theta), x, key=key, **kwargs)


def theta_of(rng):
    return rng.normal(size=P) * 0.7


def points(rng):
    return rng.normal(size=(N, D))


def _sigma(rng):
    return np.exp(rng.uniform(-1.5, 1.0, size=N))


# ------------------------------------------------------------------------------------------------
# sliced score matching

_SSM = dict(seed=0, num_projections=3)
_SSM_OTHER = dict(seed=1, num_projections=3, projection="gaussian", variance_reduced=True,
                  parameterization="epsilon")


def _ssm_case(rng, kwargs, **kw):
    return Case((theta_of(rng), points(rng), _sigma(rng)), dict(kwargs), diff_argnums=(0, 1, 2), **kw)


def _ssm_make(rng):
    return _ssm_case(rng, _SSM, where=rng.random(N) > 0.2, weights=rng.random(N) + 0.1)


def _ssm_edges(rng):
    x = points(rng)
    x[-4:] = np.nan
    same = np.repeat(points(rng)[:1], N, axis=0)
    w = rng.random(N) + 0.1
    return [
        Case((theta_of(rng), x, _sigma(rng)), dict(_SSM), where=np.zeros(N, bool), weights=w,
             diff_argnums=(0, 1, 2), label="all masked, NaN padding"),
        Case((np.zeros(P), same, _sigma(rng)), dict(_SSM), where=rng.random(N) > 0.2, weights=w,
             diff_argnums=(0, 1, 2), label="zero parameters, identical points"),
        _ssm_case(rng, _SSM_OTHER, label=f"{_SSM_OTHER}"),
    ]


def _ssm_bad(rng):
    theta, x, s = theta_of(rng), points(rng), _sigma(rng)
    return [
        (Case((theta, x[:, 0], s[:1]), dict(_SSM)), "x"),
        (Case((theta, x, s[:5]), dict(_SSM)), "sigma"),
        (Case((theta, x, s), dict(_SSM), where=np.ones(N - 1, bool)), "where"),
        (Case((theta, x, s), dict(_SSM, num_projections=0)), "num_projections"),
        (Case((theta, x, s), dict(_SSM, projection="sphere")), "projection"),
        (Case((theta, x, s), dict(_SSM, parameterization="v")), "parameterization"),
        (Case((theta, x, s), dict(_SSM, chunk_size=0)), "chunk_size"),
    ]


# ------------------------------------------------------------------------------------------------
# Hutchinson divergence

_HUTCH = dict(seed=0, num_probes=3)


def _hutch_make(rng):
    return Case((theta_of(rng), points(rng)), dict(_HUTCH), diff_argnums=(0, 1))


def _hutch_edges(rng):
    return [
        Case((np.zeros(P), np.zeros((N, D))), dict(_HUTCH), diff_argnums=(0, 1), label="zero parameters and points"),
        Case((theta_of(rng) * 30, points(rng)), dict(_HUTCH, seed=2, probe="gaussian"), diff_argnums=(0, 1),
             label="saturated units, Gaussian probes"),
    ]


def _hutch_bad(rng):
    theta, x = theta_of(rng), points(rng)
    return [
        (Case((theta, x[:, 0]), dict(_HUTCH)), "x"),
        (Case((theta, x.astype(np.int32)), dict(_HUTCH)), "x"),
        (Case((theta, x), dict(_HUTCH, num_probes=0)), "num_probes"),
        (Case((theta, x), dict(_HUTCH, probe="normal")), "probe"),
    ]


SPECS = {
    "sliced_score_matching_loss": Spec(make=_ssm_make, edges=_ssm_edges, bad=_ssm_bad, call=adapter(_ssm_body)),
    "hutchinson_divergence": Spec(make=_hutch_make, edges=_hutch_edges, bad=_hutch_bad, call=adapter(_hutch_body)),
}
