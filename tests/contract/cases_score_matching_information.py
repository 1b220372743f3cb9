"""Contract inputs for the information-estimation metric (jaxmetrics.score_matching.information).

A functional metric over a denoiser. The adapter closes over the tiny network of
``cases_score_matching_sliced`` used as an EDM-preconditioned denoiser (σ_data = 1),

    D(x, σ) = x/(1 + σ²) + σ/√(1 + σ²) · net(x/√(1 + σ²), σ),

and takes the ARRAY args as ``theta [24]`` (network parameters, differentiated), ``x1 [16, 2]`` and
``x2 [16, 2]`` (16 pairs). ``seed`` becomes the key; a short grid (12 log-γ points, 2 noise draws)
keeps it cheap. The denoiser is passed as ``jax.tree_util.Partial(denoiser, theta)`` (the compiled,
cached path). IEM has no ``where``/``weights`` (a per-pair distance). Chunking over the grid is
covered, jitted, by the family tests.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.tree_util import Partial

from tests.contract.cases_score_matching_sliced import adapter, net, points, theta_of
from tests.contract.spec import Case, Spec


def denoiser(theta, x, sigma):
    s = jnp.asarray(sigma)[..., None]
    scale = jnp.sqrt(1 + s ** 2)
    return x / scale ** 2 + (s / scale) * net(theta, x / scale, sigma)


def _body(fn, args, kwargs, key, where, weights):
    theta, x1, x2 = args
    return fn(x1, x2, Partial(denoiser, theta), key=key, **kwargs)


_IEM = dict(seed=0, num_noise=2, num_gammas=12)


def _make(rng):
    return Case((theta_of(rng), points(rng), points(rng)), dict(_IEM), diff_argnums=(0, 1, 2))


def _edges(rng):
    x = points(rng)
    other = dict(_IEM, squared=True, parameterization="epsilon", log_gamma_min=-4.0, log_gamma_max=6.0)
    return [
        Case((theta_of(rng), x, x.copy()), dict(_IEM), diff_argnums=(0, 1, 2), label="x1 == x2 (distance 0)"),
        Case((np.zeros(theta_of(rng).shape), x, x + 1e-3), dict(_IEM), diff_argnums=(0, 1, 2),
             label="zero parameters, nearly identical pairs"),
        Case((theta_of(rng), x, points(rng)), other, diff_argnums=(0, 1, 2), label=f"{other}"),
    ]


def _bad(rng):
    theta, x1, x2 = theta_of(rng), points(rng), points(rng)
    return [
        (Case((theta, x1, x2[:, :1]), dict(_IEM)), "x2"),
        (Case((theta, x1.astype(np.int32), x2), dict(_IEM)), "x1"),
        (Case((theta, x1, x2), dict(_IEM, num_gammas=1)), "num_gammas"),
        (Case((theta, x1, x2), dict(_IEM, num_noise=0)), "num_noise"),
        (Case((theta, x1, x2), dict(_IEM, log_gamma_min=3.0, log_gamma_max=1.0)), "log_gamma_max"),
    ]


SPECS = {"information_estimation_metric": Spec(make=_make, edges=_edges, bad=_bad, call=adapter(_body))}
