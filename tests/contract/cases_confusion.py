"""Contract inputs for the confusion-count metrics and log loss."""

from __future__ import annotations

import numpy as np

from tests.contract.spec import Case, Spec

N, C = 48, 4


def _multiclass(rng, kwargs=None, masked=True):
    logits = np.round(rng.normal(size=(N, C)), 1)  # rounding creates ties
    labels = rng.integers(0, C, N).astype(np.int32)
    where = rng.random(N) > 0.2 if masked else None
    weights = rng.random(N) + 0.1
    return Case((logits, labels), dict(kwargs or {}), where=where, weights=weights)


def _binary(rng, kwargs=None):
    scores = np.round(rng.random(N), 2)
    labels = rng.integers(0, 2, N).astype(np.int32)
    return Case((scores, labels), dict(kwargs or {}), where=rng.random(N) > 0.2, weights=rng.random(N) + 0.1)


def _edges(kwargs=None, binary=False):
    def edges(rng):
        base = _binary(rng, kwargs) if binary else _multiclass(rng, kwargs)
        x, y = base.args
        out = [
            Case((x, y), base.kwargs, where=np.zeros(N, bool), label="all masked"),
            Case((np.zeros_like(x), y), base.kwargs, label="all tied"),
            Case((x, np.zeros_like(y)), base.kwargs, label="single class"),
            Case((x, y), base.kwargs, weights=np.zeros(N), label="zero weights"),
        ]
        if not binary:
            out.append(Case((x * 1e6, y), base.kwargs, label="extreme logits"))
        return out

    return edges


def _bad(kwargs=None, binary=False):
    def bad(rng):
        base = _binary(rng, kwargs) if binary else _multiclass(rng, kwargs)
        x, y = base.args
        return [
            (Case((x, y[:-1]), base.kwargs), "preds"),
            (Case((x, y.astype(np.float64)), base.kwargs), "labels"),
            (Case((x, y), base.kwargs, where=np.ones(N - 1, bool)), "where"),
            (Case((x, y), base.kwargs, weights=np.ones((N, 2))), "weights"),
        ]

    return bad


def _spec(kwargs=None, binary=False):
    kwargs = dict(kwargs or {}) if binary else dict(num_classes=C, **(kwargs or {}))
    make = (lambda rng: _binary(rng, kwargs)) if binary else (lambda rng: _multiclass(rng, kwargs))
    return Spec(make=make, edges=_edges(kwargs, binary), bad=_bad(kwargs, binary))


def _log_loss_case(rng, from_logits):
    logits = rng.normal(size=(N, C)) * 2
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    labels = rng.integers(0, C, N).astype(np.int32)
    x = logits if from_logits else probs
    return Case((x, labels), dict(from_logits=from_logits), where=rng.random(N) > 0.2, weights=rng.random(N) + 0.1)


def _log_loss_edges(rng):
    base = _log_loss_case(rng, True)
    x, y = base.args
    onehot = np.eye(C)[y]
    return [
        Case((x, y), base.kwargs, where=np.zeros(N, bool), label="all masked"),
        Case((x * 1e4, y), base.kwargs, label="extreme logits"),
        Case((onehot, y), dict(from_logits=False), label="probabilities exactly 0 and 1"),
        Case((1 - onehot, y), dict(from_logits=False), label="true-class probability 0"),
    ]


SPECS = {
    "accuracy": Spec(make=lambda rng: _multiclass(rng, dict(k=2)), edges=_edges(dict(k=2)), bad=_bad(dict(k=2))),
    "confusion_matrix": _spec(dict(normalize="true")),
    "precision": _spec(dict(average="macro")),
    "recall": _spec(dict(average="weighted")),
    "f_beta": _spec(dict(beta=2.0, average="micro")),
    "f1": _spec(dict(threshold=0.4), binary=True),
    "balanced_accuracy": _spec(dict(adjusted=True)),
    "matthews_corrcoef": _spec(),
    "cohen_kappa": _spec(dict(kappa_weights="quadratic")),
    "log_loss": Spec(
        make=lambda rng: _log_loss_case(rng, True),
        edges=_log_loss_edges,
        bad=_bad(dict(from_logits=True)),
    ),
}
