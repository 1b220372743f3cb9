"""Contract inputs for the embedding-geometry metrics (jaxmetrics.diversity.geometry).

``x [N, D]`` float64 with a common direction and a tied row, a row mask and positive weights.
``uniformity`` runs in row chunks of 8 (so the contract covers the chunked path under vmap and
shard_map); the streaming metrics (``wasserstein_uniformity``, ``average_cosine_similarity``) need the
static ``dim``. The data have an offset so that every entry of the streamed mean/scatter is far from 0
(the merge-associativity check compares state leaves).

Edge cases (finite-gradient check): all masked, a single valid row (NaN for the pair averages), a
collapsed set (all rows equal), duplicate rows, zero rows, a rank-deficient set.
"""

from __future__ import annotations

import numpy as np

from tests.contract.spec import Case, Spec

N, D = 32, 8


def _x(rng):
    x = rng.normal(size=(N, D)) + 1.5 + rng.random(D)
    x[5] = x[4]
    return x


def _masks(rng):
    where = rng.random(N) > 0.2
    where[:4] = True
    return dict(where=where, weights=rng.random(N) + 0.1)


def _spec(kwargs):
    def make(rng):
        return Case((_x(rng),), dict(kwargs), **_masks(rng))

    def edges(rng):
        x = _x(rng)
        one = np.zeros(N, bool)
        one[3] = True
        dup = x.copy()
        dup[1::2] = dup[::2]
        dup[:2] = 0.0
        w = rng.random(N) + 0.1
        ones = np.ones(N, bool)
        return [
            Case((x,), kwargs, where=np.zeros(N, bool), weights=w, label="all masked"),
            Case((x,), kwargs, where=one, weights=w, label="single valid row"),
            Case((np.repeat(x[:1], N, axis=0),), kwargs, where=ones, weights=w, label="collapsed"),
            Case((dup,), kwargs, where=ones, weights=w, label="duplicate and zero rows"),
            Case((x[:, :2] @ rng.normal(size=(2, D)),), kwargs, where=ones, weights=w, label="rank-deficient"),
        ]

    def bad(rng):
        x = _x(rng)
        return [
            (Case((x[0],), kwargs), "x"),
            (Case((x,), kwargs, where=np.ones(N - 1, bool)), "where"),
            (Case((x,), kwargs, weights=np.ones((N, 2))), "weights"),
        ]

    return Spec(make=make, edges=edges, bad=bad)


SPECS = {
    "uniformity": _spec(dict(chunk_size=8)),
    "wasserstein_uniformity": _spec(dict(dim=D)),
    "average_cosine_similarity": _spec(dict(dim=D)),
    "intra_list_diversity": _spec({}),
}
