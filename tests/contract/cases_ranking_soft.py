"""Contract inputs for the differentiable ranking twins (jaxmetrics.ranking.relaxed).

Query twins (``soft_ndcg``, ``soft_mrr``, ``soft_precision_at_k``): ``scores, relevance [Q, n]`` with
Q = 16 queries (the axis the suite splits and shards) of n = 7 candidates, an item mask ``where [Q, n]``
and query ``weights [Q]``. Ordinary scores are continuous (tie-free) standard normals and the temperature
(0.5) is of the order of the score gaps, so ``check_grads``' finite differences resolve the sigmoids;
relevance is graded 0..3 (float64, exact in bf16/f16). ``chunk_size`` < n exercises the ``lax.map``
row-chunk path with padding (7 = 2·3 + 1 and 7 = 4 + 3). Edge cases add ties, masks, ±inf / huge
scores, NaN padding, no relevant items, k > n and a tiny temperature.

``soft_spearman``: ``x, y [N]`` with N = 32 continuous samples, a sample mask, no weights (as
``spearman``); ``chunk_size=12`` (32 = 2·12 + 8).
"""

from __future__ import annotations

import numpy as np

from tests.contract.spec import Case, Spec

Q, N = 16, 7
TAU = 0.5


def _masks(rng):
    where = rng.random((Q, N)) > 0.2
    where[:, 0] = True
    return dict(where=where, weights=rng.random(Q) + 0.1)


def _data(rng):
    scores = rng.normal(size=(Q, N))
    relevance = (rng.random((Q, N)) < 0.4) * rng.integers(1, 4, size=(Q, N))
    relevance[:, 1] = np.maximum(relevance[:, 1], 1)  # every query has a relevant item
    return scores, relevance.astype(np.float64)


def _query_spec(kwargs, edge_configs=(), bad_config=()):
    kwargs = dict(kwargs)

    def make(rng):
        return Case(_data(rng), kwargs, **_masks(rng))

    def edges(rng):
        scores, relevance = _data(rng)
        args = (scores, relevance)
        m = _masks(rng)
        one_masked = m["where"].copy()
        one_masked[3] = False
        tied = np.round(scores, 0)
        tied[:, 2] = tied[:, 3]
        extreme = scores.copy()
        extreme[:, 0], extreme[:, 1], extreme[:, 4] = np.inf, -np.inf, 1e300
        extreme[:4, 2] = np.inf  # tied infinities
        extreme[4:8, 3] = -np.inf
        nan_padding = scores.copy()
        nan_padding[~m["where"]] = np.nan
        inf_padding = scores.copy()
        inf_padding[~m["where"]] = np.inf
        cases = [
            Case(args, kwargs, where=np.zeros((Q, N), bool), weights=m["weights"], label="all masked"),
            Case(args, kwargs, where=one_masked, weights=m["weights"], label="a fully masked query"),
            Case((scores, np.zeros_like(relevance)), kwargs, **m, label="no relevant items"),
            Case((scores, np.ones_like(relevance)), kwargs, **m, label="every item relevant"),
            Case((np.zeros_like(scores), relevance), kwargs, **m, label="all scores tied"),
            Case((tied, relevance), kwargs, **m, label="ties"),
            Case((extreme, relevance), kwargs, **m, label="+-inf (tied infinities) and huge scores"),
            Case((nan_padding, relevance), kwargs, **m, label="NaN scores at masked items"),
            Case((inf_padding, relevance), kwargs, **m, label="inf scores at masked items"),
            Case(args, {**kwargs, "k": 20}, **m, label="k > n"),
            Case(args, {**kwargs, "temperature": 1e-6}, **m, label="tiny temperature"),
            Case((tied, relevance), {**kwargs, "temperature": 1e-6}, **m, label="ties, tiny temperature"),
            Case(args, kwargs, where=m["where"], weights=np.zeros(Q), label="zero weights"),
            *[Case(args, {**kwargs, **kw}, **m, label=f"config {kw}") for kw in edge_configs],
        ]
        return cases

    def bad(rng):
        scores, relevance = _data(rng)
        args = (scores, relevance)
        return [
            (Case((scores, relevance[:, :-1]), kwargs), "relevance"),
            (Case(args, kwargs, where=np.ones((Q, N + 1), bool)), "where"),
            (Case(args, kwargs, weights=np.ones((Q, 2))), "weights"),
            (Case((scores[0], relevance[0]), kwargs), "scores"),
            (Case(args, {**kwargs, "k": 0}), "k"),
            (Case(args, {**kwargs, "k": 2.5}), "k"),
            *[(Case(args, {**kwargs, **kw}), name) for kw, name in bad_config],
        ]

    return Spec(make=make, edges=edges, bad=bad)


# ------------------------------------------------------------------------------------------------
# soft Spearman

M = 32


def _corr_data(rng):
    x = rng.normal(size=M)
    y = 0.6 * x + rng.normal(size=M)
    return x, y


def _corr_make(rng):
    x, y = _corr_data(rng)
    where = rng.random(M) > 0.2
    where[:3] = True
    return Case((x, y), dict(temperature=TAU, chunk_size=12), where=where)


def _corr_edges(rng):
    x, y = _corr_data(rng)
    kw = dict(temperature=TAU, chunk_size=12)
    d = (0, 1)
    one = np.zeros(M, bool)
    one[5] = True
    inf_x = x.copy()
    inf_x[:3], inf_x[3:6] = np.inf, -np.inf
    nan_pad = x.copy()
    nan_pad[-4:] = np.nan
    return [
        Case((x, y), kw, where=np.zeros(M, bool), diff_argnums=d, label="all masked"),
        Case((x, y), kw, where=one, diff_argnums=d, label="one valid sample"),
        Case((np.full(M, 1.5), y), kw, diff_argnums=d, label="constant x"),
        Case((x, np.full(M, -2.0)), kw, diff_argnums=d, label="constant y"),
        Case((np.round(x), np.round(y)), kw, diff_argnums=d, label="ties in x and y"),
        Case((x, x.copy()), kw, diff_argnums=d, label="perfect correlation"),
        Case((inf_x, y), kw, diff_argnums=d, label="+-inf values (tied infinities)"),
        Case((nan_pad, y), kw, where=np.arange(M) < M - 4, diff_argnums=d, label="NaN padding, masked"),
        Case((x + 1e8, y), kw, diff_argnums=d, label="huge mean"),
        Case((x, y), dict(temperature=1e-6), diff_argnums=d, label="tiny temperature, one block"),
    ]


def _corr_bad(rng):
    x, y = _corr_data(rng)
    kw = dict(temperature=TAU, chunk_size=12)
    return [
        (Case((x, y[:-8]), kw), "y"),
        (Case((np.float64(1.0), np.float64(2.0)), kw), "x"),
        (Case((x, y), kw, where=np.ones(M - 1, bool)), "where"),
        (Case((x, y), dict(kw, chunk_size=0)), "chunk_size"),
    ]


SPECS: dict[str, Spec] = {
    "soft_ndcg": _query_spec(
        dict(k=5, gain="exp2", temperature=TAU, chunk_size=3),
        edge_configs=(dict(k=None, gain="linear", chunk_size=None), dict(k=1)),
        bad_config=((dict(gain="log"), "gain"), (dict(chunk_size=0), "chunk_size")),
    ),
    "soft_mrr": _query_spec(
        dict(temperature=TAU, chunk_size=4),
        edge_configs=(dict(k=3), dict(k=1, chunk_size=None)),
        bad_config=((dict(chunk_size=0), "chunk_size"),),
    ),
    "soft_precision_at_k": _query_spec(
        dict(k=3, temperature=TAU),
        edge_configs=(dict(k=None), dict(k=1), dict(k=6)),
    ),
    "soft_spearman": Spec(make=_corr_make, edges=_corr_edges, bad=_corr_bad),
}
