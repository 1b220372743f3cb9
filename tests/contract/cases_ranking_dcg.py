"""Contract inputs for ``jaxmetrics.ranking.dcg``: ``dcg`` and ``ndcg``.

Query layout: ``scores [Q, n]``, ``relevance [Q, n]`` (Q = 16 queries on the split/shard axis 0, n = 7
items), an item mask ``where [Q, n]`` and query ``weights [Q]``. Scores are rounded so that ties occur.

* ``dcg`` runs the defaults' linear gain with ``ties="average"`` (McSherry–Najork) and float relevance.
* ``ndcg`` runs the TREC-style configuration ``k=5, gain="exp2", ideal="given"`` with integer grades and
  the extra data argument ``ideal_relevance [Q, m]`` (m = 10 judged documents per query: the n
  candidates' grades plus unretrieved ones, zero-padded), which the suite splits on axis 0 like the
  others. ``ties="optimistic"`` exercises the relevance tie-break key of the ranking sort.
"""

from __future__ import annotations

import numpy as np

from tests.contract.spec import Case, Spec

Q, N, M = 16, 7, 10
DCG_KW = dict(k=None, gain="linear", ties="average")
NDCG_KW = dict(k=5, gain="exp2", ties="optimistic", ideal="given")


def _data(rng):
    scores = np.round(rng.normal(size=(Q, N)), 1)  # rounding creates ties
    scores[0] = 0.5  # a query whose items all tie
    grades = rng.integers(0, 4, (Q, N)).astype(np.int32)
    grades[1] = 0  # a query without relevant items
    where = rng.random((Q, N)) > 0.2
    where[2] = False  # a fully masked query
    weights = rng.random(Q) + 0.1
    return scores, grades, where, weights


def _ideal(rng, grades):
    extra = rng.integers(0, 3, (Q, M - N)).astype(np.int32)
    extra[:, -1] = 0  # zero padding
    return np.concatenate([grades, extra], axis=1)


def _dcg_make(rng):
    s, g, m, w = _data(rng)
    return Case((s, g.astype(np.float64) / 2), dict(DCG_KW), where=m, weights=w)


def _ndcg_make(rng):
    s, g, m, w = _data(rng)
    return Case((s, g, _ideal(rng, g)), dict(NDCG_KW), where=m, weights=w)


def _edges(make):
    def edges(rng):
        base = make(rng)
        s, rel, *rest = base.args
        kw = base.kwargs
        inf = s.copy()
        inf[:, 0], inf[:, 1], inf[:, 2] = np.inf, -np.inf, 1e300
        return [
            Case((s, rel, *rest), kw, where=np.zeros((Q, N), bool), label="all masked"),
            Case((s, rel, *rest), kw, where=base.where, weights=np.zeros(Q), label="zero weights"),
            Case((s, np.zeros_like(rel), *[np.zeros_like(x) for x in rest]), kw, where=base.where,
                 label="no relevant items (IDCG = 0)"),
            Case((np.zeros_like(s), rel, *rest), kw, where=base.where, label="all scores tied"),
            Case((inf, rel, *rest), kw, where=base.where, label="±inf and huge scores"),
            Case((s, rel, *rest), {**kw, "k": 50}, where=base.where, label="k > n"),
            Case((s, rel, *rest), {**kw, "k": 1}, label="k = 1, no mask"),
        ]

    return edges


def _bad(make, ndcg):
    def bad(rng):
        base = make(rng)
        s, rel, *rest = base.args
        kw = base.kwargs
        out = [
            (Case((s, rel[:, :-1], *rest), kw), "relevance"),
            (Case((s, rel[:-1], *rest), kw), "relevance"),
            (Case((s, rel, *rest), kw, where=np.ones((Q, N + 1), bool)), "where"),
            (Case((s, rel, *rest), kw, weights=np.ones((Q, 2))), "weights"),
            (Case((s, rel, *rest), kw, weights=np.ones(Q + 1)), "weights"),
            (Case((s, rel, *rest), {**kw, "k": 0}), "k"),
            (Case((s, rel, *rest), {**kw, "k": 2.5}), "k"),
            (Case((s, rel, *rest), {**kw, "gain": "exponential"}), "gain"),
            (Case((s, rel, *rest), {**kw, "ties": "random"}), "ties"),
        ]
        if ndcg:
            ideal_rel = rest[0]
            out += [
                (Case((s, rel, ideal_rel[:-1]), kw), "ideal_relevance"),
                (Case((s, rel, ideal_rel[:, None]), kw), "ideal_relevance"),
                (Case((s, rel), kw), "ideal_relevance"),
                (Case((s, rel, ideal_rel), {**kw, "ideal": "candidates"}), "ideal_relevance"),
                (Case((s, rel, ideal_rel), {**kw, "ideal": "qrels"}), "ideal"),
            ]
        return out

    return bad


SPECS = {
    "dcg": Spec(make=_dcg_make, edges=_edges(_dcg_make), bad=_bad(_dcg_make, False)),
    "ndcg": Spec(make=_ndcg_make, edges=_edges(_ndcg_make), bad=_bad(_ndcg_make, True)),
}
