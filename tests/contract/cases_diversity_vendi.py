"""Contract inputs for the Vendi scores (jaxmetrics.diversity.vendi).

``vendi_score``: features ``x [N, D]`` (D < N: the default cosine kernel takes the dual d×d path) with a
common direction (a non-trivial spectrum) and a tied row. ``vendi_score_from_kernel``: a full-rank
cosine Gram matrix ``K [N, N]`` (N rows in 40 dims; axis 0 is the sample axis, so the shard check
gathers K's rows). Both get a row mask and positive prevalence weights.

Edge cases (finite-gradient check): all masked (NaN value), identical rows / K = 11ᵀ (rank 1), duplicate
rows and equal blocks (repeated eigenvalues, rank deficiency), zero rows / a zero kernel (0). Every
edge passes ``where`` and ``weights`` arrays, like the ordinary case, so they share its gradient compile
(the primal path's gradients are tested in tests/test_diversity_vendi.py).
"""

from __future__ import annotations

import numpy as np

from tests.contract.spec import Case, Spec

N, D, D_WIDE = 32, 8, 40


def _x(rng, n=N, d=D):
    x = rng.normal(size=(n, d)) + rng.normal(size=(1, d))
    x[5] = x[4]
    return x


def _masks(rng):
    where = rng.random(N) > 0.2
    where[:4] = True
    return dict(where=where, weights=rng.random(N) + 0.1)


def _edge_masks(rng, valid=True):
    """where and weights arrays on every edge: the same trace as the ordinary case (one grad compile)."""
    return dict(where=np.full(N, valid), weights=rng.random(N) + 0.1)


def _gram(x):
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    return u @ u.T


def _features_spec():
    def make(rng):
        return Case((_x(rng),), {}, **_masks(rng))

    def edges(rng):
        x = _x(rng)
        dup = x.copy()
        dup[1::2] = dup[::2]
        return [
            Case((x,), {}, **_edge_masks(rng, valid=False), label="all masked"),
            Case((np.repeat(x[:1], N, axis=0),), {}, **_edge_masks(rng), label="identical rows"),
            Case((dup,), {}, **_edge_masks(rng), label="duplicate rows"),
            Case((np.zeros((N, D)),), {}, **_edge_masks(rng), label="zero rows (zero kernel)"),
        ]

    def bad(rng):
        x = _x(rng)
        return [
            (Case((x[0],), {}), "x"),
            (Case((x,), {}, where=np.ones(N - 1, bool)), "where"),
            (Case((x,), {}, weights=np.ones((N, 2))), "weights"),
            (Case((x,), dict(kernel="rbf", method="dual")), "method"),
        ]

    return Spec(make=make, edges=edges, bad=bad)


def _kernel_spec():
    def make(rng):
        return Case((_gram(_x(rng, d=D_WIDE)),), {}, **_masks(rng))

    def edges(rng):
        k = _gram(_x(rng, d=D_WIDE))
        blocks = np.kron(np.eye(4), np.ones((N // 4, N // 4)))
        return [
            Case((k,), {}, **_edge_masks(rng, valid=False), label="all masked"),
            Case((np.ones((N, N)),), {}, **_edge_masks(rng), label="K = 11ᵀ"),
            Case((blocks,), {}, **_edge_masks(rng), label="equal blocks"),
            Case((np.zeros((N, N)),), {}, **_edge_masks(rng), label="zero kernel"),
            Case((np.eye(N),), {}, **_edge_masks(rng), label="identity (Hill number)"),
        ]

    def bad(rng):
        k = _gram(_x(rng, d=D_WIDE))
        return [
            (Case((k[:, :-1],), {}), "K"),
            (Case((k[0],), {}), "K"),
            (Case((k,), {}, where=np.ones(N - 1, bool)), "where"),
        ]

    return Spec(make=make, edges=edges, bad=bad)


SPECS = {
    "vendi_score": _features_spec(),
    "vendi_score_from_kernel": _kernel_spec(),
}
