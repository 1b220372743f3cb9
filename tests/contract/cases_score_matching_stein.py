"""Contract inputs for the kernel Stein discrepancy and its test (jaxmetrics.score_matching.stein).

Args ``(x [N, d], score [N, d])``: samples and the target score evaluated at them, both differentiated
by the gradient check. The samples are N(0.5, 1.2²) against a N(0, I)-like target (score −0.9·x plus
noise), so KSD² is O(0.1–1) (the bf16/f16 check compares like with like) and the test statistic sits far
above its bootstrap replicates (the p-value is at its floor 1/(1 + num_bootstrap) in every precision).

* ``kernel_stein_discrepancy``: the default IMQ kernel (bandwidth 1), U-statistic, ``chunk_size=16``
  (two row blocks: the gradient through the chunked, rematerialised blocks). The median-heuristic
  bandwidth is :func:`jaxmetrics.distances.median_heuristic`, whose gradients on constant sets are
  already in MMD's contract edges; the family tests check its values here.
* ``kernel_stein_discrepancy_test``: RBF kernel with bandwidth 1, V-statistic, one block, 32 bootstrap
  replicates, a fixed key in the kwargs (the family tests cover the other combinations).

Every case carries a ``where`` and a ``weights`` array (one pytree structure: one compile per check).
Edges (finite-gradient check): all masked (NaN result), identical points, duplicate rows, zero score.
"""

from __future__ import annotations

import jax
import numpy as np

from tests.contract.spec import Case, Spec

N, D = 32, 3


def _data(rng):
    x = rng.normal(size=(N, D)) * 1.2 + 0.5
    return x, -0.9 * x + 0.1 * rng.normal(size=(N, D))


def _masks(rng):
    where = rng.random(N) > 0.2
    where[:4] = True
    return dict(where=where, weights=rng.random(N) + 0.5)


def _ones():
    return dict(where=np.ones(N, bool), weights=np.ones(N))


def _spec(kwargs, extra_bad=()):
    dd = (0, 1)

    def make(rng):
        return Case(_data(rng), dict(kwargs), diff_argnums=dd, **_masks(rng))

    def edges(rng):
        x, s = _data(rng)
        dup, sdup = x.copy(), s.copy()
        dup[1::2], sdup[1::2] = dup[::2], sdup[::2]
        return [
            Case((x, s), kwargs, diff_argnums=dd, where=np.zeros(N, bool), weights=np.ones(N), label="all masked"),
            Case((np.repeat(x[:1], N, 0), np.repeat(s[:1], N, 0)), kwargs, diff_argnums=dd,
                 label="identical points", **_ones()),
            Case((dup, sdup), kwargs, diff_argnums=dd, label="duplicate rows", **_ones()),
            Case((x, np.zeros_like(s)), kwargs, diff_argnums=dd, label="zero score", **_ones()),
        ]

    def bad(rng):
        x, s = _data(rng)
        out = [
            (Case((x[0], s), kwargs), "x"),
            (Case((x, s[:, :-1]), kwargs), "score"),
            (Case((x, s), kwargs, where=np.ones(N - 1, bool)), "where"),
            (Case((x, s), kwargs, weights=np.ones((N, 2))), "weights"),
        ]
        return out + [(Case((x, s), {**kwargs, **kw}), name) for kw, name in extra_bad]

    return Spec(make=make, edges=edges, bad=bad, low_precision_rtol=1e-3)


SPECS = {
    "kernel_stein_discrepancy": _spec(dict(chunk_size=16), extra_bad=[(dict(kernel="laplacian"), "kernel")]),
    "kernel_stein_discrepancy_test": _spec(
        dict(key=jax.random.key(0), num_bootstrap=32, kernel="rbf", estimator="biased"),
        extra_bad=[(dict(num_bootstrap=0), "num_bootstrap")]),
}
