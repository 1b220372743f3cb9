"""Contract inputs for the threshold-free ranking metrics (jaxmetrics.classification.roc).

Every entry is binary: ``scores [N]`` float64 with heavy ties, ``labels [N]`` int32 in {0, 1}; the
multiclass paths of ``auroc`` / ``average_precision`` are covered (including vmap and gradients) by
``tests/test_classification_roc.py``. The binned metrics get probabilities in [0, 1].
"""

from __future__ import annotations

import numpy as np

from tests.contract.spec import Case, Spec

N = 48


def _data(rng, unit: bool):
    scores = np.round(rng.random(N), 1) if unit else np.round(rng.normal(size=N), 1)  # rounding: ties
    labels = (rng.random(N) < 0.4).astype(np.int32)
    labels[:2] = [0, 1]  # both classes present
    return scores, labels


def _make(kwargs, unit):
    def make(rng):
        s, y = _data(rng, unit)
        return Case((s, y), dict(kwargs), where=rng.random(N) > 0.2, weights=rng.random(N) + 0.1)

    return make


def _edges(kwargs, unit):
    def edges(rng):
        s, y = _data(rng, unit)
        kw = dict(kwargs)
        extreme = s.copy()
        if unit:  # binned metrics: the ends of [0, 1]
            extreme[: N // 2] = np.where(y[: N // 2] == 1, 1.0, 0.0)
        else:
            extreme[:4], extreme[4:8] = np.inf, -np.inf
            extreme[8:12] = 1e300
        return [
            Case((s, y), kw, where=np.zeros(N, bool), label="all masked"),
            Case((s, np.ones(N, np.int32)), kw, label="single class (all positive)"),
            Case((s, np.zeros(N, np.int32)), kw, label="single class (no positives)"),
            Case((np.full(N, 0.5), y), kw, label="all tied"),
            Case((extreme, y), kw, label="extreme scores" if unit else "+-inf scores"),
            Case((s, y), kw, weights=np.zeros(N), label="zero weights"),
            Case((s, y), kw, where=y == 1, label="one class masked away"),
        ]

    return edges


def _bad(kwargs, unit):
    def bad(rng):
        s, y = _data(rng, unit)
        kw = dict(kwargs)
        return [
            (Case((s, y[:-8]), kw), "labels"),
            (Case((s, y.astype(np.float64)), kw), "labels"),
            (Case((s.astype(np.int32), y), kw), "scores"),
            (Case((s, y), kw, where=np.ones(N - 1, bool)), "where"),
            (Case((s, y), kw, weights=np.ones((N, 2))), "weights"),
        ]

    return bad


def _spec(kwargs=None, unit=False):
    kwargs = dict(kwargs or {})
    return Spec(make=_make(kwargs, unit), edges=_edges(kwargs, unit), bad=_bad(kwargs, unit))


SPECS: dict[str, Spec] = {
    "auroc": _spec(),
    "average_precision": _spec(),
    "roc_curve": _spec(),
    "precision_recall_curve": _spec(),
    "binned_auroc": _spec(dict(num_thresholds=20), unit=True),
    "binned_average_precision": _spec(dict(num_thresholds=20), unit=True),
}
