"""Contract inputs for preference accuracy (jaxmetrics.ranking.preference).

``pairwise_accuracy``: ``chosen [N]``, ``rejected [N]`` rewards (N = 32, rounded: many ties), a pair
mask and pair weights. ``one_vs_many_*``: ``scores [P, 1+K]`` with P = 16 rows of 1 + K = 6 candidates
(column 0 correct; rounded: many ties), a candidate mask ``where [16, 6]`` (ragged K, some rows with
column 0 masked) and row weights ``[16]``; the ordinary case uses ``ties="average"``, the path with the
harmonic-number table.
"""

from __future__ import annotations

import numpy as np

from tests.contract.spec import Case, Spec

N = 32
P, C = 16, 6


def _pairs(rng):
    return np.round(rng.normal(size=N) + 0.3, 0), np.round(rng.normal(size=N), 0)


def _pair_make(rng):
    c, r = _pairs(rng)
    return Case((c, r), dict(ties="half"), where=rng.random(N) > 0.2, weights=rng.random(N) + 0.1)


def _pair_edges(rng):
    c, r = _pairs(rng)
    kw = dict(ties="half")
    inf_c = c.copy()
    inf_c[:3], inf_c[3:6] = np.inf, -np.inf
    inf_r = r.copy()
    inf_r[:2] = np.inf
    nan_c = c.copy()
    nan_c[-4:] = np.nan
    return [
        Case((c, r), kw, where=np.zeros(N, bool), label="all masked"),
        Case((c, r), kw, weights=np.zeros(N), label="zero weights"),
        Case((c, c.copy()), kw, label="all tied"),
        Case((inf_c, inf_r), kw, label="+-inf rewards (inf vs inf ties)"),
        Case((nan_c, r), kw, where=np.arange(N) < N - 4, label="NaN padding, masked"),
        Case((c, r), dict(ties="incorrect"), label="ties incorrect"),
        Case((c, r), dict(ties="correct"), label="ties correct"),
    ]


def _pair_bad(rng):
    c, r = _pairs(rng)
    kw = dict(ties="half")
    return [
        (Case((c, r[:-8]), kw), "rejected"),
        (Case((np.float64(1.0), np.float64(0.0)), kw), "chosen"),
        (Case((c, r), kw, where=np.ones(N - 1, bool)), "where"),
        (Case((c, r), kw, weights=np.ones((N, 2))), "weights"),
        (Case((c, r), dict(ties="draw")), "ties"),
    ]


def _scores(rng):
    return np.round(rng.normal(size=(P, C)) + np.eye(1, C)[0] * 0.5, 0)


def _ovm_make(kwargs):
    def make(rng):
        where = rng.random((P, C)) > 0.25
        where[:2] = True
        where[-1, 0] = False  # one row without an answer
        return Case((_scores(rng),), dict(kwargs), where=where, weights=rng.random(P) + 0.1)

    return make


def _ovm_edges(kwargs):
    def edges(rng):
        s = _scores(rng)
        kw = dict(kwargs)
        inf_s = s.copy()
        inf_s[:4, 0], inf_s[2:6, 1:3], inf_s[6:8, 0] = np.inf, np.inf, -np.inf
        nan_s = s.copy()
        nan_s[:, -2:] = np.nan
        pad = np.ones((P, C), bool)
        pad[:, -2:] = False
        only0 = np.zeros((P, C), bool)
        only0[:, 0] = True
        no_answer = np.ones((P, C), bool)
        no_answer[:, 0] = False
        return [
            Case((s,), kw, where=np.zeros((P, C), bool), label="all masked"),
            Case((s,), kw, where=no_answer, label="column 0 masked in every row"),
            Case((s,), kw, where=only0, label="no valid distractor"),
            Case((s,), kw, weights=np.zeros(P), label="zero weights"),
            Case((np.zeros((P, C)),), kw, label="all tied (constant scorer)"),
            Case((inf_s,), kw, label="+-inf scores"),
            Case((nan_s,), kw, where=pad, label="NaN padding, masked (ragged K)"),
            Case((s,), dict(kw, ties="pessimistic"), label="ties pessimistic"),
            Case((s,), dict(kw, ties="optimistic"), label="ties optimistic"),
        ]

    return edges


def _ovm_bad(kwargs):
    def bad(rng):
        s = _scores(rng)
        kw = dict(kwargs)
        return [
            (Case((s[:, 0],), kw), "scores"),
            (Case((s,), kw, where=np.ones((P, C + 1), bool)), "where"),
            (Case((s,), kw, weights=np.ones((P, C))), "weights"),
            (Case((s,), dict(kw, ties="half")), "ties"),
        ]

    return bad


def _ovm_spec():
    kwargs = dict(ties="average")
    return Spec(make=_ovm_make(kwargs), edges=_ovm_edges(kwargs), bad=_ovm_bad(kwargs))


SPECS: dict[str, Spec] = {
    "pairwise_accuracy": Spec(make=_pair_make, edges=_pair_edges, bad=_pair_bad),
    "one_vs_many_accuracy": _ovm_spec(),
    "one_vs_many_mrr": _ovm_spec(),
}
