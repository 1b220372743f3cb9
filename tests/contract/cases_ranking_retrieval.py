"""Contract inputs for jaxmetrics.ranking.retrieval (AP@k, MRR / RR, P@k, R@k, hit rate, R-precision) and
jaxmetrics.ranking.overlap (rank-biased overlap).

Query layout: ``scores, relevance [Q, n]`` with Q = 16 queries (the sample axis the suite splits and
shards) of n = 7 candidates; ``where [Q, n]`` item mask, ``weights [Q]`` query weights; AP, recall and
R-precision also take ``num_relevant [Q]`` (int32, including unretrieved relevant documents). Scores are
rounded to one decimal (ties); relevance is graded 0..3 (float64, exact in bf16/f16). RBO takes two
score arrays over the same items.
"""

from __future__ import annotations

import numpy as np

from tests.contract.spec import Case, Spec

Q, N = 16, 7


def _masks(rng):
    where = rng.random((Q, N)) > 0.2
    where[:, 0] = True
    return dict(where=where, weights=rng.random(Q) + 0.1)


def _data(rng):
    scores = np.round(rng.normal(size=(Q, N)), 1)
    scores[:, 2] = scores[:, 3]  # at least one tie per query
    relevance = (rng.random((Q, N)) < 0.35) * rng.integers(1, 4, size=(Q, N))
    return scores, relevance.astype(np.float64)


def _num_relevant(rng, relevance):
    return ((relevance > 0).sum(-1) + rng.integers(0, 3, size=Q)).astype(np.int32)


def _spec(kwargs, *, with_nr=False, per_query=False, bad_config=()):
    """Spec for a query metric ``fn(scores, relevance[, num_relevant], **kwargs)``.

    ``per_query``: the entry's default is ``reduce=None`` (``reciprocal_rank``), which takes no weights.
    ``bad_config``: extra (kwargs, argument name) pairs that must raise.
    """
    kwargs = dict(kwargs)

    def args_of(rng, scores, relevance):
        return (scores, relevance, _num_relevant(rng, relevance)) if with_nr else (scores, relevance)

    def masks(rng):
        m = _masks(rng)
        if per_query:
            m["weights"] = None
        return m

    def make(rng):
        scores, relevance = _data(rng)
        return Case(args_of(rng, scores, relevance), kwargs, **masks(rng))

    def edges(rng):
        scores, relevance = _data(rng)
        args = args_of(rng, scores, relevance)
        m = masks(rng)
        one_masked = m["where"].copy()
        one_masked[3] = False
        extreme = scores.copy()
        extreme[:, 0], extreme[:, 1], extreme[:, 4] = np.inf, -np.inf, 1e300
        nan_padding = scores.copy()
        pad = ~m["where"]
        nan_padding[pad] = np.nan
        const = np.zeros_like(scores)
        zero_rel = (scores, np.zeros_like(relevance)) + ((np.zeros(Q, np.int32),) if with_nr else ())
        cases = [
            Case(args, kwargs, where=np.zeros((Q, N), bool), weights=m["weights"], label="all masked"),
            Case(args, kwargs, where=one_masked, weights=m["weights"], label="a fully masked query"),
            Case(zero_rel, kwargs, **m, label="no relevant items"),
            Case((const,) + args[1:], kwargs, **m, label="all scores tied"),
            Case((extreme,) + args[1:], kwargs, **m, label="+-inf and huge scores"),
            Case((nan_padding,) + args[1:], kwargs, **m, label="NaN scores at masked items"),
            Case(args, {**kwargs, "k": 20} if "k" in kwargs else kwargs, **m, label="k > n"),
        ]
        if with_nr:
            cases.append(Case(args[:2] + (np.zeros(Q, np.int32),), kwargs, **m, label="num_relevant = 0"))
        if not per_query:
            cases.append(Case(args, kwargs, where=m["where"], weights=np.zeros(Q), label="zero weights"))
        return cases

    def bad(rng):
        scores, relevance = _data(rng)
        args = args_of(rng, scores, relevance)
        out = [
            (Case((scores, relevance[:, :-1]) + args[2:], kwargs), "relevance"),
            (Case(args, kwargs, where=np.ones((Q, N + 1), bool)), "where"),
            (Case(args, {**kwargs, "ties": "random"}), "ties"),
            *[(Case(args, {**kwargs, **kw}), name) for kw, name in bad_config],
        ]
        if "k" in kwargs:
            out += [(Case(args, {**kwargs, "k": 0}), "k"), (Case(args, {**kwargs, "k": 2.5}), "k")]
        if not per_query:
            out.append((Case(args, kwargs, weights=np.ones((Q, 2))), "weights"))
            out.append((Case((scores[0], relevance[0]) + tuple(a[0] for a in args[2:]), kwargs), "scores"))
        if with_nr:
            out.append((Case(args[:2] + (np.ones((Q, 2), np.int32),), kwargs), "num_relevant"))
            out.append((Case(args[:2] + (np.ones(Q - 1, np.int32),), kwargs), "num_relevant"))
        return out

    return Spec(make=make, edges=edges, bad=bad)


# ------------------------------------------------------------------------------------------------
# rank-biased overlap


def _rbo_data(rng):
    a = np.round(rng.normal(size=(Q, N)), 1)
    a[:, 2] = a[:, 3]
    b = np.round(a + 0.7 * rng.normal(size=(Q, N)), 1)
    return a, b


def _rbo_spec(kwargs):
    kwargs = dict(kwargs)

    def make(rng):
        return Case(_rbo_data(rng), kwargs, diff_argnums=(0, 1), **_masks(rng))

    def edges(rng):
        a, b = _rbo_data(rng)
        m = _masks(rng)
        one_masked = m["where"].copy()
        one_masked[5] = False
        extreme = a.copy()
        extreme[:, 0], extreme[:, 1], extreme[:, 4] = np.inf, -np.inf, 1e300
        nan_pad = a.copy()
        nan_pad[~m["where"]] = np.nan
        d = (0, 1)
        return [
            Case((a, b), kwargs, where=np.zeros((Q, N), bool), diff_argnums=d, label="all masked"),
            Case((a, b), kwargs, where=one_masked, weights=m["weights"], diff_argnums=d, label="a fully masked query"),
            Case((a, a), kwargs, **m, diff_argnums=d, label="identical rankings"),
            Case((a, -a), kwargs, **m, diff_argnums=d, label="reversed rankings"),
            Case((np.zeros_like(a), b), kwargs, **m, diff_argnums=d, label="all tied"),
            Case((extreme, b), kwargs, **m, diff_argnums=d, label="+-inf and huge scores"),
            Case((nan_pad, b), kwargs, **m, diff_argnums=d, label="NaN scores at masked items"),
            Case((a, b), {**kwargs, "k": 20}, **m, diff_argnums=d, label="k > n"),
            Case((a, b), kwargs, where=m["where"], weights=np.zeros(Q), diff_argnums=d, label="zero weights"),
        ]

    def bad(rng):
        a, b = _rbo_data(rng)
        return [
            (Case((a, b[:, :-1]), kwargs), "scores_b"),
            (Case((a[0], b[0]), kwargs), "scores_a"),
            (Case((a, b), kwargs, where=np.ones((Q, N + 1), bool)), "where"),
            (Case((a, b), kwargs, weights=np.ones((Q, 2))), "weights"),
            (Case((a, b), {**kwargs, "p": 1.0}), "p"),
            (Case((a, b), {**kwargs, "p": 0.0}), "p"),
            (Case((a, b), {**kwargs, "k": 0}), "k"),
            (Case((a, b), {**kwargs, "ties": "average"}), "ties"),
        ]

    return Spec(make=make, edges=edges, bad=bad)


SPECS = {
    "average_precision_at_k": _spec(dict(k=5, ties="pessimistic", denominator="relevant"), with_nr=True,
                                    bad_config=[(dict(denominator="all"), "denominator"),
                                                (dict(ties="average"), "ties")]),
    "mean_reciprocal_rank": _spec(dict(k=5), bad_config=[(dict(ties="average"), "ties")]),
    "reciprocal_rank": _spec(dict(k=5, ties="optimistic"), per_query=True),
    "precision_at_k": _spec(dict(k=5, ties="average")),
    "recall_at_k": _spec(dict(k=3, ties="average"), with_nr=True),
    "hit_rate": _spec(dict(k=2, ties="pessimistic"), bad_config=[(dict(ties="average"), "ties")]),
    "r_precision": _spec(dict(ties="average"), with_nr=True),
    "rank_biased_overlap": _rbo_spec(dict(p=0.8, k=5, extrapolate=True)),
}
