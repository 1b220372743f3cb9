"""Contract inputs for MMD² and KID (jaxmetrics.distances.kernel).

Two sample sets ``x, y [N, d]`` (float64) of equal N; the shared ``where``/``weights`` mask both sets
(the two-sample convention; the family tests cover ``where_x``/``where_y``). y is shifted so MMD² is
O(0.1–1) and the bf16/f16 check compares like with like. MMD uses the default RBF kernel with the median
heuristic and ``chunk_size=16`` (two row blocks: the chunked path is the one under test); KID uses a
fixed key in the kwargs, 4 subsets of 16. Every case carries both a ``where`` and a ``weights`` array
(one pytree structure: one compile per check). Edges (finite-gradient check): all masked (NaN result),
identical sets, duplicate rows, one constant set (zero median distance within it).
"""

from __future__ import annotations

import jax
import numpy as np

from tests.contract.spec import Case, Spec

N, D = 32, 4


def _pair(rng):
    return rng.normal(size=(N, D)), rng.normal(size=(N, D)) * 1.2 + 0.7


def _masks(rng):
    where = rng.random(N) > 0.2
    where[:4] = True
    return dict(where=where, weights=rng.random(N) + 0.5)


def _ones():
    return dict(where=np.ones(N, bool), weights=np.ones(N))


def _spec(kwargs, extra_bad=()):
    dd = (0, 1)

    def make(rng):
        return Case(_pair(rng), dict(kwargs), diff_argnums=dd, **_masks(rng))

    def edges(rng):
        x, y = _pair(rng)
        dup = x.copy()
        dup[1::2] = dup[::2]
        return [
            Case((x, y), kwargs, diff_argnums=dd, where=np.zeros(N, bool), weights=np.ones(N), label="all masked"),
            Case((x, x.copy()), kwargs, diff_argnums=dd, label="identical sets", **_ones()),
            Case((dup, y), kwargs, diff_argnums=dd, label="duplicate rows", **_ones()),
            Case((np.repeat(x[:1], N, 0), y), kwargs, diff_argnums=dd, label="constant x", **_ones()),
        ]

    def bad(rng):
        x, y = _pair(rng)
        out = [
            (Case((x[0], y), kwargs), "x"),
            (Case((x, y[:, :-1]), kwargs), "y"),
            (Case((x, y), kwargs, where=np.ones(N - 1, bool)), "where"),
            (Case((x, y), kwargs, weights=np.ones((N, 2))), "weights"),
        ]
        return out + [(Case((x, y), {**kwargs, **kw}), name) for kw, name in extra_bad]

    return Spec(make=make, edges=edges, bad=bad)


SPECS = {
    "maximum_mean_discrepancy": _spec(dict(chunk_size=16)),
    "kernel_inception_distance": _spec(dict(key=jax.random.key(0), num_subsets=4, subset_size=16),
                                       extra_bad=[(dict(subset_size=N + 8), "subset_size")]),
}
