"""Contract inputs for the calibration scores: Brier, NLL, Balance (+ soft twin) and smooth ECE.

Ordinary cases are chosen so that ``check_grads``' finite differences (step ~1e-4) stay inside one
smooth piece of each metric:

* ``balance_score`` jumps at p = ½: binary probabilities keep |p − ½| >= 0.05.
* ``smooth_ece`` is piecewise smooth in ``probs``: relplot's linear-interpolation deposit has a kink
  whenever a confidence crosses a grid point j/1000 (the grid has E = 1001 points for every bandwidth
  >= 0.01, and the automatic bandwidth of 48 samples is far above that), and |·| has one where a
  smoothed residual crosses 0. The probabilities sit at cell midpoints (j + ½)/1000 — ties included —
  so the finite-difference step never crosses a grid point.
* ``soft_balance_score`` is C^∞ for binary input: rounded probabilities (ties) and p = ½ are fine.

Edge cases (finite gradients only) cover all-masked input, zero weights, probabilities exactly 0, ½ and
1, single-class labels, argmax ties and extreme logits.
"""

from __future__ import annotations

import numpy as np

from tests.contract.spec import Case, Spec

N, C = 48, 3


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _mask_weights(rng):
    return rng.random(N) > 0.2, rng.random(N) + 0.1


def _multiclass(rng, kwargs=None, logits=False):
    z = np.round(rng.normal(size=(N, C)) * 2, 1)  # rounding creates ties
    labels = rng.integers(0, C, N).astype(np.int32)
    where, weights = _mask_weights(rng)
    return Case((z if logits else _softmax(z), labels), dict(kwargs or {}), where=where, weights=weights)


def _binary(rng, kwargs=None, kind="rounded"):
    u = rng.random(N)
    if kind == "rounded":
        p = np.round(u, 2)
    elif kind == "away_from_half":
        p = 0.5 + np.where(u < 0.5, -1, 1) * (0.05 + 0.9 * np.abs(u - 0.5))
    else:  # "cell_midpoints" of relplot's E = 1001 grid
        p = (np.floor(u * 100) * 10 + 5.5) / 1000
    labels = (rng.random(N) < p).astype(np.int32)
    where, weights = _mask_weights(rng)
    return Case((p, labels), dict(kwargs or {}), where=where, weights=weights)


def _edges(make, kwargs=None):
    kwargs = dict(kwargs or {})

    def edges(rng):
        base = make(rng)
        x, y = base.args
        kw = base.kwargs
        yb = rng.integers(0, 2, N).astype(np.int32)
        exact = rng.choice([0.0, 0.5, 1.0], size=N)
        onehot = np.eye(C)[rng.integers(0, C, N)]
        logits = rng.normal(size=(N, C))
        return [
            Case((x, y), kw, where=np.zeros(N, bool), label="all masked"),
            Case((x, y), kw, weights=np.zeros(N), label="zero weights"),
            Case((x, np.zeros_like(y)), kw, label="single class"),
            Case((exact, yb), kwargs, label="binary p exactly 0, 1/2, 1"),
            Case((np.full(N, 0.5), yb), kwargs, label="binary p all 1/2"),
            Case((yb.astype(np.float64), yb), kwargs, label="perfect binary predictions"),
            Case((onehot, y % C), kwargs, label="probabilities exactly 0 and 1"),
            Case((np.full((N, C), 1.0 / C), y % C), kwargs, label="uniform rows (argmax ties)"),
            Case((logits * 1e6, y % C), dict(kwargs, from_logits=True), label="extreme logits"),
            Case((np.sign(logits[:, 0]) * 1e6, yb), dict(kwargs, from_logits=True), label="extreme binary logits"),
        ]

    return edges


def _bad(make):
    def bad(rng):
        base = make(rng)
        x, y = base.args
        kw = base.kwargs
        return [
            (Case((x, y[:-1]), kw), "probs"),
            (Case((x[..., None, None], y), kw), "probs"),
            (Case((x, y.astype(np.float64)), kw), "labels"),
            (Case(((x * 10).astype(np.int32), y), kw), "probs"),
            (Case((x, y), kw, where=np.ones(N - 1, bool)), "where"),
            (Case((x, y), kw, weights=np.ones((N, 2))), "weights"),
        ]

    return bad


def _spec(make, edge_kwargs=None, **spec_kwargs):
    return Spec(make=make, edges=_edges(make, edge_kwargs), bad=_bad(make), **spec_kwargs)


_brier = lambda rng: _multiclass(rng, dict(scale_by_half="auto"))  # noqa: E731  C = 3: not halved
_nll = lambda rng: _multiclass(rng, dict(from_logits=True), logits=True)  # noqa: E731
_balance = lambda rng: _binary(rng, dict(mode="auto"), kind="away_from_half")  # noqa: E731
_soft_balance = lambda rng: _binary(rng, dict(temperature=0.1))  # noqa: E731
_smooth_ece = lambda rng: _binary(rng, {}, kind="cell_midpoints")  # noqa: E731  automatic bandwidth

SPECS = {
    "brier_score": _spec(_brier),
    "negative_log_likelihood": _spec(_nll),
    "balance_score": _spec(_balance),
    "soft_balance_score": _spec(_soft_balance, dict(temperature=0.1)),
    "smooth_ece": _spec(_smooth_ece),
}
