"""Contract inputs for the k-NN manifold metrics (jaxmetrics.diversity.manifold).

``real``/``fake`` ``[N, d]`` float64 (N = M = 32, d = 6), the fake set shifted and scaled so that
precision/recall are neither 0 nor 1. The metrics take per-set masks, so the adapter maps the suite's
per-sample ``where [N]`` to ``where_real = where`` and ``where_fake = where`` reversed (distinct masks;
both stay [N] under the suite's batching and sharding); there is no ``weights`` (see the module
docstring), and no Case sets one. ``k = 3`` keeps the masked sets above k samples.

Edge cases (finite-gradient check): everything masked (NaN results), fewer than k+1 unmasked samples,
duplicated rows (radius 0), identical sets computed in chunks of 8 (the ``lax.scan``/``lax.map`` path
under ``grad``).
Low precision: PRDC values are fractions of comparisons; bf16/f16 rounding of the inputs is the same in
both computations, but the float32 distances can flip a near-tie comparison, which moves a fraction by
1/32, so its tolerance is one such flip. The realism score is a smooth ratio (default tolerance x 10).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from tests.contract.spec import Case, Spec

N, D, K = 32, 6, 3


def _call(fn, args, kwargs, where, weights):
    assert weights is None, "the manifold metrics take no weights"
    masks = {} if where is None else dict(where_real=where, where_fake=jnp.flip(jnp.asarray(where), -1))
    return fn(*args, **kwargs, **masks)


def _sets(rng):
    real = rng.normal(size=(N, D))
    fake = 1.3 * rng.normal(size=(N, D)) + 0.4
    return real, fake


def _spec(kwargs, low_precision_rtol):
    def make(rng):
        where = rng.random(N) > 0.15
        where[:8] = True
        where[-8:] = True
        return Case(_sets(rng), dict(kwargs), where=where, diff_argnums=(0, 1))

    def edges(rng):
        real, fake = _sets(rng)
        few = np.zeros(N, bool)
        few[:K] = True
        dup = np.repeat(real[:4], N // 4, axis=0)
        d = (0, 1)
        return [
            Case((real, fake), kwargs, where=np.zeros(N, bool), diff_argnums=d, label="all masked"),
            Case((real, fake), kwargs, where=few, diff_argnums=d, label="k unmasked samples"),
            Case((dup, dup[::-1].copy()), kwargs, where=np.ones(N, bool), diff_argnums=d,
                 label="duplicates (radius 0)"),
            Case((real, real.copy()), {**kwargs, "chunk_size": 8}, where=np.ones(N, bool), diff_argnums=d,
                 label="identical, chunked"),
        ]

    def bad(rng):
        real, fake = _sets(rng)
        return [
            (Case((real[0], fake), kwargs), "real"),
            (Case((real, fake[:, :-1]), kwargs), "fake"),
            (Case((real[:K], fake), kwargs), "real"),
            (Case((real, fake), kwargs, where=np.ones(N - 1, bool)), "where_real"),
        ]

    return Spec(make=make, edges=edges, bad=bad, low_precision_rtol=low_precision_rtol, call=_call)


SPECS = {
    "prdc": _spec(dict(k=K), 1.0 / N),
    "improved_precision_recall": _spec(dict(k=K), 1.0 / N),
    "realism_score": _spec(dict(k=K), 1e-3),
}
