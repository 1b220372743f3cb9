"""Contract inputs for jaxmetrics.distances.divergences.

* Probability-vector divergences: ``p``, ``q`` ``[N, K]`` (N = 16 rows, K = 5 categories); the result is
  one value per row ``[N]``, so the suite's sample axis is the row axis (one-shot metrics: sharding
  gathers the rows, vmap/leading axes stack more rows). ``where`` is the *category* mask ``[N, K]``.
  Edges: identical rows, disjoint supports (KL and D_B = inf, zero gradient there), zeros in p
  (0·log 0), all categories masked (NaN under ``normalize``).
* Characteristic-function distance: ``x``, ``y`` ``[16, 3]``, frequencies drawn from a fixed raw
  uint32 key, ``alpha`` set (the amplitude/phase path, with its square roots); ``where``/``weights``
  ``[16]`` apply to both sets. Edges: identical sets, all masked (φ_X = 0 exactly), all rows equal.
* Kolmogorov–Smirnov: ``x``, ``y`` ``[16]`` rounded (ties within and across the samples) with integer
  weights. Edges: identical samples, all masked, constant samples.
"""

from __future__ import annotations

import numpy as np

from tests.contract.spec import Case, Spec

N, K, D = 16, 5, 3
KEY = np.array([0, 7], np.uint32)  # raw PRNG key: no jax array at import


# ------------------------------------------------------------------------------------------------
# probability vectors


def _vector_spec(kwargs, with_where):
    def pq(rng):
        return rng.random((N, K)) + 0.05, rng.random((N, K)) + 0.05

    def mask(rng):
        if not with_where:
            return None
        w = rng.random((N, K)) > 0.3
        w[:, :2] = True
        return w

    def make(rng):
        p, q = pq(rng)
        if not kwargs.get("normalize", False):
            p, q = p / p.sum(-1, keepdims=True), q / q.sum(-1, keepdims=True)
        return Case((p, q), dict(kwargs), where=mask(rng), diff_argnums=(0, 1))

    def edges(rng):
        p, q = pq(rng)
        p, q = p / p.sum(-1, keepdims=True), q / q.sum(-1, keepdims=True)
        disjoint_p, disjoint_q = p.copy(), q.copy()
        disjoint_p[:, 3:], disjoint_q[:, :3] = 0.0, 0.0
        zeros = p.copy()
        zeros[:, :2] = 0.0
        where = mask(rng)
        cases = [
            Case((p, p.copy()), kwargs, where=where, diff_argnums=(0, 1), label="identical"),
            Case((disjoint_p, disjoint_q), kwargs, where=where, diff_argnums=(0, 1), label="disjoint supports"),
            Case((zeros, q), kwargs, where=where, diff_argnums=(0, 1), label="zeros in p"),
        ]
        if with_where:
            cases.append(Case((p, q), kwargs, where=np.zeros((N, K), bool), diff_argnums=(0, 1),
                              label="all categories masked"))
        return cases

    def bad(rng):
        p, q = pq(rng)
        return [
            (Case((p[0, 0], q), kwargs), "p"),
            (Case((p, q[:, :-1]), kwargs), "q"),
            (Case((p, q), kwargs, where=np.ones((N, K + 1), bool)), "where"),
        ]

    return Spec(make=make, edges=edges, bad=bad)


# ------------------------------------------------------------------------------------------------
# characteristic-function distance

CF_KWARGS = dict(key=KEY, num_frequencies=16, alpha=0.3)


def _cf_spec():
    def xy(rng):
        return rng.normal(size=(N, D)), 0.8 * rng.normal(size=(N, D)) + 0.3

    def make(rng):
        x, y = xy(rng)
        where = rng.random(N) > 0.2
        where[:4] = True
        return Case((x, y), dict(CF_KWARGS), where=where, weights=rng.random(N) + 0.5, diff_argnums=(0, 1))

    def edges(rng):
        x, y = xy(rng)
        # every edge passes where and weights, as make does: one gradient compile for all of them
        m = dict(where=np.ones(N, bool), weights=np.ones(N), diff_argnums=(0, 1))
        return [
            Case((x, x.copy()), CF_KWARGS, **m, label="identical sets"),
            Case((x, y), CF_KWARGS, **{**m, "where": np.zeros(N, bool)}, label="all masked"),
            Case((np.repeat(x[:1], N, 0), y), CF_KWARGS, **m, label="all rows equal"),
        ]

    def bad(rng):
        x, y = xy(rng)
        return [
            (Case((x[:, 0], y), CF_KWARGS), "x"),
            (Case((x, y[:, :2]), CF_KWARGS), "y"),
            (Case((x, y), CF_KWARGS, where=np.ones(N - 1, bool)), "where"),
            (Case((x, y), CF_KWARGS, weights=np.ones((N, 2))), "weights"),
        ]

    return Spec(make=make, edges=edges, bad=bad)


# ------------------------------------------------------------------------------------------------
# Kolmogorov–Smirnov


def _ks_spec():
    def xy(rng):
        return np.round(rng.normal(size=N), 1), np.round(rng.normal(0.3, 1.2, size=N), 1)

    def make(rng):
        x, y = xy(rng)
        where = rng.random(N) > 0.2
        where[:4] = True
        return Case((x, y), {}, where=where, weights=rng.integers(1, 4, size=N).astype(np.float64),
                    diff_argnums=(0, 1))

    def edges(rng):
        x, y = xy(rng)
        m = dict(where=np.ones(N, bool), weights=np.ones(N), diff_argnums=(0, 1))  # one compile, as make
        return [
            Case((x, x.copy()), {}, **m, label="identical samples"),
            Case((x, y), {}, **{**m, "where": np.zeros(N, bool)}, label="all masked"),
            Case((np.ones(N), np.ones(N)), {}, **m, label="constant samples (all tied)"),
        ]

    def bad(rng):
        x, y = xy(rng)
        return [
            (Case((x[0], y), {}), "x"),
            (Case((np.stack([x, x]), np.stack([y, y, y])), {}), "y"),  # batch axes 2 vs 3
            (Case((x, y), {}, where=np.ones(N - 1, bool)), "where"),
        ]

    return Spec(make=make, edges=edges, bad=bad)


SPECS = {
    "kl_divergence": _vector_spec(dict(normalize=True), with_where=True),
    "jensen_shannon": _vector_spec(dict(normalize=True), with_where=False),
    "total_variation": _vector_spec({}, with_where=True),
    "hellinger": _vector_spec(dict(normalize=True), with_where=False),
    "bhattacharyya": _vector_spec({}, with_where=False),
    "characteristic_function_distance": _cf_spec(),
    "kolmogorov_smirnov": _ks_spec(),
}
