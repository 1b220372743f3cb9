"""Contract inputs for the soft (differentiable) twins in ``jaxmetrics.classification.relaxed``.

Ordinary cases use a moderate temperature (0.1 for the AnyLoss family, in probability units; 0.5 for
soft AUROC, in score units) so that ``check_grads``' finite differences resolve the smooth step; one
entry (``soft_accuracy``) keeps the AnyLoss default 1/73. Soft AUROC uses ``chunk_size`` < N so the
``lax.scan`` chunk path (with padding: 64 = 3·20 + 4) is exercised.
"""

from __future__ import annotations

import numpy as np

from tests.contract.spec import Case, Spec

N, C = 64, 3
TAU = 0.1


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _binary(rng, kwargs):
    probs = np.round(rng.random(N), 2)  # rounding creates ties
    probs[:4] = [0.0, 0.5, 1.0, 0.5]
    labels = rng.integers(0, 2, N).astype(np.int32)
    return Case((probs, labels), dict(kwargs), where=rng.random(N) > 0.2, weights=rng.random(N) + 0.1)


def _multiclass(rng, kwargs):
    probs = _softmax(np.round(rng.normal(size=(N, C)) * 2, 1))
    labels = rng.integers(0, C, N).astype(np.int32)
    return Case((probs, labels), dict(kwargs), where=rng.random(N) > 0.2, weights=rng.random(N) + 0.1)


def _edges(kwargs, multiclass):
    def edges(rng):
        base = (_multiclass if multiclass else _binary)(rng, kwargs)
        p, y = base.args
        kw = base.kwargs
        exact = rng.choice([0.0, 0.5, 1.0], size=p.shape)
        if multiclass:
            onehot = np.eye(C)[rng.integers(0, C, N)]
            cases = [
                Case((onehot, y), kw, label="probabilities exactly 0 and 1"),
                Case((np.full_like(p, 1.0 / C), y), kw, label="uniform probabilities (argmax ties)"),
                Case((np.eye(C)[y], y), kw, label="perfect one-hot predictions"),
            ]
        else:
            cases = [
                Case((exact, y), kw, label="p exactly 0, 1/2, 1"),
                Case((np.full_like(p, 0.5), y), kw, label="all p = 1/2"),
                Case((y.astype(np.float64), y), kw, label="perfect predictions (p = y)"),
                Case((np.ones_like(p), np.ones_like(y)), kw, label="all p = 1, all positive"),
                Case((np.zeros_like(p), np.zeros_like(y)), kw, label="all p = 0, all negative"),
            ]
        return cases + [
            Case((p, y), kw, where=np.zeros(N, bool), label="all masked"),
            Case((p, y), kw, weights=np.zeros(N), label="zero weights"),
            Case((p, np.zeros_like(y)), kw, label="single class"),
        ]

    return edges


def _bad(kwargs, multiclass):
    def bad(rng):
        base = (_multiclass if multiclass else _binary)(rng, kwargs)
        p, y = base.args
        kw = base.kwargs
        return [
            (Case((p, y[:-1]), kw), "probs"),
            (Case((p[..., None, None] if not multiclass else p[..., None], y), kw), "probs"),
            (Case((p, y.astype(np.float64)), kw), "labels"),
            (Case(((p * 10).astype(np.int32), y), kw), "probs"),
            (Case((p, y), kw, where=np.ones(N - 1, bool)), "where"),
            (Case((p, y), kw, weights=np.ones((N, 2))), "weights"),
        ]

    return bad


def _spec(kwargs, multiclass=False):
    kwargs = dict(kwargs)
    if multiclass:
        kwargs["num_classes"] = C
    make = (lambda rng: _multiclass(rng, kwargs)) if multiclass else (lambda rng: _binary(rng, kwargs))
    return Spec(make=make, edges=_edges(kwargs, multiclass), bad=_bad(kwargs, multiclass))


# ------------------------------------------------------------------------------------------------
# soft AUROC

_AUROC_KW = dict(temperature=0.5, chunk_size=20)


def _auroc_case(rng):
    scores = np.round(rng.normal(size=N), 1)  # ties
    labels = rng.integers(0, 2, N).astype(np.int32)
    return Case((scores, labels), dict(_AUROC_KW), where=rng.random(N) > 0.2, weights=rng.random(N) + 0.1)


def _auroc_edges(rng):
    base = _auroc_case(rng)
    s, y = base.args
    kw = base.kwargs
    inf = s.copy()
    inf[:8] = [np.inf, -np.inf, np.inf, -np.inf, np.inf, 0.0, -np.inf, 1.0]
    return [
        Case((s, y), kw, where=np.zeros(N, bool), label="all masked"),
        Case((s, np.zeros_like(y)), kw, label="single class (negatives only)"),
        Case((s, np.ones_like(y)), kw, label="single class (positives only)"),
        Case((np.zeros_like(s), y), kw, label="all tied"),
        Case((np.sign(s) * 1e6, y), kw, label="extreme scores +-1e6"),
        Case((inf, y), kw, label="infinite scores (tied infinities)"),
        Case((s, y), kw, weights=np.zeros(N), label="zero weights"),
    ]


def _auroc_bad(rng):
    base = _auroc_case(rng)
    s, y = base.args
    kw = base.kwargs
    return [
        (Case((s, y[:-1]), kw), "labels"),
        (Case((s[:, None], y), kw), "labels"),
        (Case((s, y.astype(np.float64)), kw), "labels"),
        (Case(((s * 10).astype(np.int32), y), kw), "scores"),
        (Case((s, y), kw, where=np.ones(N - 1, bool)), "where"),
        (Case((s, y), kw, weights=np.ones((N, 2))), "weights"),
    ]


SPECS = {
    "soft_confusion_matrix": _spec(dict(temperature=TAU), multiclass=True),
    "soft_precision": _spec(dict(temperature=TAU, average="macro"), multiclass=True),
    "soft_recall": _spec(dict(temperature=TAU, average="weighted"), multiclass=True),
    "soft_f_beta": _spec(dict(temperature=TAU, beta=2.0)),
    "soft_accuracy": _spec({}),  # the AnyLoss default temperature 1/73
    "soft_matthews_corrcoef": _spec(dict(temperature=TAU)),
    "soft_auroc": Spec(make=_auroc_case, edges=_auroc_edges, bad=_auroc_bad),
}
