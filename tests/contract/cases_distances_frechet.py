"""Contract inputs for the Fréchet distance (jaxmetrics.distances.frechet).

``frechet_distance``: two feature sets ``x, y [N, d]`` (float64) of equal N, so the suite's split of
axis 0 feeds ``update(state, x_batch, y_batch)``; the shared ``where``/``weights`` mask both batches
(the paired-stream convention). ``dim`` is in the kwargs because the streaming state needs it. The
sets differ in mean and covariance so FD is O(tr Σ) and the bf16/f16 check is not a cancellation test.
Every case carries both ``where`` and ``weights`` arrays (same pytree structure: one compile per check).

``frechet_distance_from_moments``: ``(mu1 [d], cov1 [d, d], mu2, cov2)`` with d = 16, called through an
adapter (no sample axis and no mask; the shard check gathers the row blocks back, which is exact).
Edges (finite-gradient check): identical inputs, rank-deficient covariances, zero covariance, all
masked, duplicate rows, isotropic covariances (tied eigenvalues).
"""

from __future__ import annotations

import numpy as np

from tests.contract.spec import Case, Spec

N, D, DM = 32, 8, 16


def _pair(rng):
    x = rng.normal(size=(N, D)) * np.linspace(1.5, 0.5, D) + 1.0
    y = rng.normal(size=(N, D)) @ (np.eye(D) + 0.3 * rng.normal(size=(D, D))) - 0.5
    return x, y


def _masks(rng):
    where = rng.random(N) > 0.2
    where[:4] = True
    return dict(where=where, weights=rng.random(N) + 0.5)


def _ones():
    return dict(where=np.ones(N, bool), weights=np.ones(N))


def _features_spec():
    kwargs = dict(dim=D)
    dd = (0, 1)

    def make(rng):
        return Case(_pair(rng), dict(kwargs), diff_argnums=dd, **_masks(rng))

    def edges(rng):
        x, y = _pair(rng)
        rank2 = x[:, :2] @ rng.normal(size=(2, D))
        dup = x.copy()
        dup[1::2] = dup[::2]
        return [
            Case((x, y), kwargs, diff_argnums=dd, where=np.zeros(N, bool), weights=np.ones(N), label="all masked"),
            Case((x, x.copy()), kwargs, diff_argnums=dd, label="identical sets", **_ones()),
            Case((rank2, rank2.copy()), kwargs, diff_argnums=dd, label="identical rank-deficient", **_ones()),
            Case((np.repeat(x[:1], N, 0), dup), kwargs, diff_argnums=dd, label="constant x, duplicate y",
                 **_ones()),
        ]

    def bad(rng):
        x, y = _pair(rng)
        return [
            (Case((x[0], y), kwargs), "x"),
            (Case((x, y[:, :-1]), kwargs), "y"),
            (Case((x, y), kwargs, where=np.ones(N - 1, bool)), "where"),
            (Case((x, y), kwargs, weights=np.ones((N, 2))), "weights"),
        ]

    return Spec(make=make, edges=edges, bad=bad)


def _spd(rng, rank=DM):
    a = rng.normal(size=(DM, rank))
    return a @ a.T / rank + (0.3 * np.eye(DM) if rank == DM else 0.0)


def _moments_call(fn, args, kwargs, where, weights):
    return fn(*args, **kwargs)


def _moments_spec():
    dd = (0, 1, 2, 3)

    def make(rng):
        return Case((rng.normal(size=DM), _spd(rng), rng.normal(size=DM) + 0.5, _spd(rng)), diff_argnums=dd)

    def edges(rng):
        mu, c = rng.normal(size=DM), _spd(rng)
        low = _spd(rng, 3)
        eye = np.eye(DM)
        return [
            Case((mu, c, mu.copy(), c.copy()), diff_argnums=dd, label="identical"),
            Case((mu, low, mu + 1.0, _spd(rng, 5)), diff_argnums=dd, label="rank-deficient covariances"),
            Case((mu, np.zeros((DM, DM)), mu, np.zeros((DM, DM))), diff_argnums=dd, label="zero covariances"),
            Case((mu, 2.0 * eye, mu, eye), diff_argnums=dd, label="isotropic (tied eigenvalues)"),
        ]

    def bad(rng):
        mu, c = rng.normal(size=DM), _spd(rng)
        return [
            (Case((mu, c[:, :-1], mu, c)), "cov1"),
            (Case((mu, c, mu[:-1], c)), "mu2"),
            (Case((mu[0], c, mu, c)), "mu1"),
        ]

    return Spec(make=make, edges=edges, bad=bad, call=_moments_call)


SPECS = {
    "frechet_distance": _features_spec(),
    "frechet_distance_from_moments": _moments_spec(),
}
