"""Contract inputs for the binned calibration metrics (jaxmetrics.calibration.binned).

The contract exercises the streaming configurations (uniform bins):

* ``expected_calibration_error``: classwise RMSCE with netcal edges (``num_classes`` is passed, since
  the same kwargs build ``ece_metric``) — the most complex streaming path (K = C rows, l2, clipping);
* ``reliability_diagram``: binary probabilities with the default right-open edges (incl. p = 1.0 in
  the extra bin and empty bins, whose NaN means compare as equal);
* ``soft_ece``: top-label ECE from logits at a moderate temperature (0.05) so that ``check_grads``'
  finite differences resolve the soft bin edges.

Edge cases (finite gradients) add: all masked, zero weights, confidences exactly 0 / 1 and exactly on
bin edges, argmax ties, a single class, extreme logits with ``from_logits=True``, and the debiased and
quantile-binned one-shot paths. Quantile binning is one-shot only, so its oracle, vmap and jit tests
live in ``tests/test_calibration_binned.py``.
"""

from __future__ import annotations

import numpy as np

from tests.contract.spec import Case, Spec

N, C = 48, 3
NUM_BINS = 10


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _multiclass(rng):
    probs = _softmax(np.round(rng.normal(size=(N, C)) * 2, 1))  # rounding: ties
    labels = np.where(rng.random(N) < 0.6, probs.argmax(-1), rng.integers(0, C, N)).astype(np.int32)
    return probs, labels


def _binary(rng):
    probs = np.round(rng.random(N), 2)
    probs[:4] = [0.0, 1.0, 1.0, 0.5]
    labels = (rng.random(N) < probs).astype(np.int32)
    return probs, labels


def _on_edges(rng):
    """Top-label confidences exactly on the bin edges (and exactly 1.0)."""
    e = np.linspace(0.0, 1.0, NUM_BINS + 1)
    e = e[e > 0.5]
    rows = np.stack([e, (1 - e) / 2, (1 - e) / 2], -1)
    return rows[rng.integers(0, len(rows), N)]


def _masks(rng):
    return dict(where=rng.random(N) > 0.2, weights=rng.random(N) + 0.1)


def _case(args, kwargs, label="ordinary", **extra):
    return Case(args, dict(kwargs), label=label, **extra)


def _common_edges(rng, p, y, kw, multiclass):
    cases = [
        _case((p, y), kw, "all masked", where=np.zeros(N, bool)),
        _case((p, y), kw, "zero weights", weights=np.zeros(N)),
        _case((p, np.zeros_like(y)), kw, "single class"),
    ]
    if multiclass:
        onehot = np.eye(C)[rng.integers(0, C, N)]
        cases += [
            _case((onehot, y), kw, "probabilities exactly 0 and 1"),
            _case((np.full_like(p, 1.0 / C), y), kw, "uniform probabilities (argmax ties)"),
            _case((_on_edges(rng), y), kw, "confidences exactly on bin edges"),
        ]
    else:
        cases += [
            _case((np.linspace(0.0, 1.0, N), y), kw, "p on bin edges, exactly 0 and 1"),
            _case((np.ones(N), np.ones_like(y)), kw, "all p = 1, all positive"),
        ]
    return cases


def _bad(make):
    def bad(rng):
        base = make(rng)
        p, y = base.args
        kw = base.kwargs
        return [
            (Case((p, y[:-8]), kw), "probs"),
            (Case((p.reshape(p.shape + (1,) * (3 - p.ndim)), y), kw), "probs"),  # rank 3
            (Case((p, y.astype(np.float64)), kw), "labels"),
            (Case(((p * 10).astype(np.int32), y), kw), "probs"),
            (Case((p, y), kw, where=np.ones(N - 1, bool)), "where"),
            (Case((p, y), kw, weights=np.ones((N, 2))), "weights"),
        ]

    return bad


# ------------------------------------------------------------------------------------------------
# expected_calibration_error

_ECE_KW = dict(num_bins=NUM_BINS, norm="l2", mode="classwise", edges="netcal", num_classes=C)


def _ece_make(rng):
    p, y = _multiclass(rng)
    return _case((p, y), _ECE_KW, **_masks(rng))


def _ece_edges(rng):
    p, y = _multiclass(rng)
    logits = np.round(rng.normal(size=(N, C)) * 3, 1)
    extreme = logits.copy()
    extreme[:8] *= 1e4
    extreme[8:12, 0] = 1e300
    return _common_edges(rng, p, y, _ECE_KW, multiclass=True) + [
        _case((extreme, y), dict(num_bins=NUM_BINS, from_logits=True), "extreme logits (from_logits=True)"),
        _case((p, y), dict(norm="l2", debiased=True, mode="classwise"), "debiased classwise", **_masks(rng)),
        _case((_on_edges(rng), y), dict(norm="max"), "MCE, confidences on edges"),
        _case((p, y), dict(binning="quantile", mode="classwise"), "quantile bins (ties)", **_masks(rng)),
        _case((p, y), dict(binning="quantile"), "quantile bins, all masked", where=np.zeros(N, bool)),
    ]


# ------------------------------------------------------------------------------------------------
# reliability_diagram

_DIAGRAM_KW = dict(num_bins=8)


def _diagram_make(rng):
    p, y = _binary(rng)
    return _case((p, y), _DIAGRAM_KW, **_masks(rng))


def _diagram_edges(rng):
    p, y = _binary(rng)
    q, z = _multiclass(rng)
    return _common_edges(rng, p, y, _DIAGRAM_KW, multiclass=False) + [
        _case((q, z), dict(mode="classwise", edges="netcal"), "classwise, netcal edges", **_masks(rng)),
        _case((p, y), dict(binning="quantile"), "quantile bins", **_masks(rng)),
        _case((np.sign(p - 0.5) * 1e4, y), dict(from_logits=True), "extreme logits (from_logits=True)"),
    ]


# ------------------------------------------------------------------------------------------------
# soft_ece

_SOFT_KW = dict(num_bins=NUM_BINS, temperature=0.05, from_logits=True)


def _soft_make(rng):
    logits = rng.normal(size=(N, C)) * 2
    labels = np.where(rng.random(N) < 0.6, logits.argmax(-1), rng.integers(0, C, N)).astype(np.int32)
    return _case((logits, labels), _SOFT_KW, **_masks(rng))


def _soft_edges(rng):
    base = _soft_make(rng)
    z, y = base.args
    p, _ = _multiclass(rng)
    extreme = z.copy()
    extreme[:8] *= 1e4
    probs_kw = dict(num_bins=NUM_BINS, temperature=0.05)
    return _common_edges(rng, p, y, probs_kw, multiclass=True) + [
        _case((extreme, y), _SOFT_KW, "extreme logits"),
        _case((z, y), dict(_SOFT_KW, temperature=1e-6), "tiny temperature"),
        _case((p, y), dict(probs_kw, norm="l2", mode="classwise"), "classwise l2", **_masks(rng)),
        _case((np.eye(C)[y], y), dict(probs_kw, norm="l2"), "perfect one-hot predictions (l2 at 0)"),
    ]


SPECS: dict[str, Spec] = {
    "expected_calibration_error": Spec(make=_ece_make, edges=_ece_edges, bad=_bad(_ece_make)),
    "reliability_diagram": Spec(make=_diagram_make, edges=_diagram_edges, bad=_bad(_diagram_make)),
    "soft_ece": Spec(make=_soft_make, edges=_soft_edges, bad=_bad(_soft_make)),
}
