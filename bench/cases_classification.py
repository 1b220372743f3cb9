"""Benchmark cases: exact AUROC and average precision, top-label ECE and the multiclass Brier score.

Peers: scikit-learn (``roc_auc_score``, ``average_precision_score``, ``brier_score_loss``),
torchmetrics functional on CPU tensors (``binary_auroc`` / ``binary_average_precision`` with
``thresholds=None`` = exact, ``multiclass_calibration_error``), metrax (``AUCROC`` / ``AUCPR``: binned with
200 thresholds — a different, approximate computation, timed for speed only), each on the same data
converted to its native type before timing. See ``bench/harness.py`` for how sides are timed.
"""

from __future__ import annotations

import dataclasses

import numpy as np

import jax
import jax.numpy as jnp

from harness import Case, Jitted, Setup

import jaxmetrics.calibration as jcal
import jaxmetrics.classification as jcls
from jaxmetrics._src.sortkeys import order_key

try:
    import sklearn.metrics as skm
except ImportError:  # pragma: no cover - optional peer
    skm = None
try:
    import torch
    import torchmetrics.functional.classification as tmc
except ImportError:  # pragma: no cover
    torch = tmc = None
try:
    import metrax
except ImportError:  # pragma: no cover
    metrax = None

VMAP_N = 10_000  # the vmap target size
SEEDS = 64
BATCH = 10_000  # streaming update batch of the memory comparison
NUM_CLASSES = 10
NUM_BINS = 15
METRAX_THRESHOLDS = 200  # metrax's default num_thresholds
METRAX_CHUNK = 1_000_000  # metrax materialises 3-4 float32 [T, N] arrays: 32 GB at N = 10^7 in one call

SIZES = (10_000, 100_000, 1_000_000, 10_000_000)
QUICK = (10_000, 100_000)


# --------------------------------------------------------------------------------------------------
# Primitives


def sort_int32_keys(x):
    """The primitive of the sort-bound metrics: one sort of the order-preserving int32 keys of ``x``."""
    return jnp.sort(order_key(x), axis=-1)


def one_sum(x):
    """The primitive of the one-pass metrics: one ``jnp.sum`` over the inputs."""
    return jnp.sum(x)


# --------------------------------------------------------------------------------------------------
# Data


def _binary_data(n: int, rng: np.random.Generator):
    """Imbalanced binary problem (30 % positives), informative float32 scores in (0, 1)."""
    y = (rng.random(n) < 0.3).astype(np.int32)
    z = rng.standard_normal(n, dtype=np.float32) + 1.2 * y
    s = (1.0 / (1.0 + np.exp(-z))).astype(np.float32)
    return s, y


def _multiclass_data(n: int, rng: np.random.Generator, c: int = NUM_CLASSES):
    """``probs [n, c]`` float32 (softmax of normal logits) and labels drawn from a *sharpened* version of
    them (so the model is miscalibrated and ECE is far from 0)."""
    logits = rng.standard_normal((n, c), dtype=np.float32) * np.float32(2.0)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    sharp = np.exp(np.float32(1.5) * (logits - logits.max(1, keepdims=True)))
    cdf = np.cumsum(sharp, 1)
    u = rng.random(n, dtype=np.float32) * cdf[:, -1]
    y = np.minimum((cdf < u[:, None]).sum(1), c - 1).astype(np.int32)
    del sharp, cdf
    return p.astype(np.float32), y


def _jit_warm(f, *args):
    """A jitted, compiled and warmed zero-argument callable for a JAX peer (metrax)."""
    jf = jax.jit(f)
    jax.block_until_ready(jf(*args))
    return lambda: jf(*args)


def _metrax_curve(cls, sj, yj):
    """metrax ``AUCROC`` / ``AUCPR`` as its users run it on large data: ``from_model_output`` (jitted) on
    chunks of at most ``METRAX_CHUNK`` samples, states summed (its ``merge``), then ``compute`` (jitted).
    For N <= 10^6 this is one jitted call; chunks are sliced before timing."""
    n = sj.shape[0]
    upd = jax.jit(lambda a, b: cls.from_model_output(a, b, num_thresholds=METRAX_THRESHOLDS))
    names = [f.name for f in dataclasses.fields(cls) if f.name != "num_thresholds"]
    fin = jax.jit(lambda *arrs: cls(**dict(zip(names, arrs)), num_thresholds=METRAX_THRESHOLDS).compute())
    chunks = [(sj[i:i + METRAX_CHUNK], yj[i:i + METRAX_CHUNK]) for i in range(0, n, METRAX_CHUNK)]

    def run():
        acc = None
        for a, b in chunks:
            m = upd(a, b)
            arrs = [getattr(m, k) for k in names]
            acc = arrs if acc is None else [x + y for x, y in zip(acc, arrs)]
        return fin(*acc)

    # Compile (and warm) on one chunk only: a full warm-up call at 10^7 would cost ~15 s of setup.
    m0 = upd(*chunks[0])
    jax.block_until_ready(fin(*[getattr(m0, k) for k in names]))
    if chunks[-1][0].shape != chunks[0][0].shape:
        jax.block_until_ready(upd(*chunks[-1]))
    return run


# --------------------------------------------------------------------------------------------------
# AUROC / AP


def _curve_case(kind: str):
    exact = jcls.auroc if kind == "auroc" else jcls.average_precision
    stream_ctor = jcls.auroc_metric if kind == "auroc" else jcls.average_precision_metric

    def make(n: int, rng: np.random.Generator) -> Setup:
        s, y = _binary_data(n, rng)
        sj, yj = jnp.asarray(s), jnp.asarray(y)
        ours = Jitted(lambda a, b: exact(a, b), (sj, yj))
        ours_val = float(jax.jit(exact)(sj, yj))
        peers = {}
        if skm is not None:
            f = skm.roc_auc_score if kind == "auroc" else skm.average_precision_score
            np.testing.assert_allclose(ours_val, f(y, s), rtol=1e-4, err_msg=f"{kind} vs scikit-learn")
            peers["scikit-learn"] = lambda: f(y, s)
        if tmc is not None:
            st, yt = torch.from_numpy(s), torch.from_numpy(y.astype(np.int64))
            tf = tmc.binary_auroc if kind == "auroc" else tmc.binary_average_precision
            # thresholds=None: the exact computation; validate_args=False: its fastest path.
            np.testing.assert_allclose(ours_val, float(tf(st, yt, thresholds=None, validate_args=False)), rtol=1e-4,
                                       err_msg=f"{kind} vs torchmetrics")
            peers["torchmetrics"] = lambda: tf(st, yt, thresholds=None, validate_args=False)
        if metrax is not None:
            cls = metrax.AUCROC if kind == "auroc" else metrax.AUCPR
            # Binned (200 thresholds): not the same computation — no value check, speed only.
            peers[f"metrax ({METRAX_THRESHOLDS} thr.)"] = _metrax_curve(cls, sj, yj)
        setup = Setup(ours=ours, peers=peers, primitive=("sort(int32 keys)", Jitted(sort_int32_keys, (sj,))))
        if n == VMAP_N:
            ss, ys = zip(*(_binary_data(n, np.random.default_rng(1000 + i)) for i in range(SEEDS)))
            sb, yb = jnp.asarray(np.stack(ss)), jnp.asarray(np.stack(ys))
            setup.vmap = (Jitted(jax.vmap(lambda a, b: exact(a, b)), (sb, yb)),
                          Jitted(lambda a, b: exact(a, b), (sb[0], yb[0])))
        m = stream_ctor(num_thresholds=METRAX_THRESHOLDS)
        b = min(BATCH, n)
        setup.memory = (f"binned `{stream_ctor.__name__}(num_thresholds={METRAX_THRESHOLDS}).update` "
                        f"(state + a {b:,} batch)",
                        Jitted(lambda st, a, c: m.update(st, a, c), (m.init(), sj[:b], yj[:b])),
                        f"exact `{exact.__name__}` on all N", ours)
        return setup

    return make


_CURVE_NOTE = (
    "Binary, float32 scores in (0, 1) (sigmoid of normal + 1.2·label), int32 labels with 30 % positives; "
    "every side gets the same data in its native type (numpy / CPU torch / jax arrays) before timing. "
    "scikit-learn and torchmetrics (functional, `thresholds=None` = exact, `validate_args=False`, default "
    "torch threads) compute the same exact value (checked to rtol 1e-4 at every size). metrax "
    f"`{{cls}}` is **binned with {METRAX_THRESHOLDS} thresholds** (a [T, N] comparison, O(N·T)), an "
    "approximation and not the same computation: its column is for speed only (value not checked); it is "
    "jitted and compiled before timing, and fed in chunks of 10⁶ samples whose states are summed (its "
    "`merge`), because one call materialises 3–4 float32 [200, N] arrays (32 GB at N = 10⁷). "
    "Primitive: `jnp.sort` of the scores bitcast to order-preserving int32 keys (the fastest sort XLA has "
    "on this data). Memory: the binned streaming metric's update (a 10⁴ batch + its 2×200 state) vs the "
    "exact one-shot on all N.")


# --------------------------------------------------------------------------------------------------
# ECE / Brier


def _ece_make(n: int, rng: np.random.Generator) -> Setup:
    p, y = _multiclass_data(n, rng)
    pj, yj = jnp.asarray(p), jnp.asarray(y)
    opts = dict(num_bins=NUM_BINS, norm="l1", mode="top_label", edges="right_open")
    ours = Jitted(lambda a, b: jcal.ece(a, b, **opts), (pj, yj))
    ours_val = float(jax.jit(lambda a, b: jcal.ece(a, b, **opts))(pj, yj))
    peers = {}
    if tmc is not None:
        pt, yt = torch.from_numpy(p), torch.from_numpy(y.astype(np.int64))

        def tm():
            return tmc.multiclass_calibration_error(pt, yt, num_classes=NUM_CLASSES, n_bins=NUM_BINS, norm="l1",
                                                    validate_args=False)

        np.testing.assert_allclose(ours_val, float(tm()), rtol=1e-4, atol=1e-6, err_msg="ECE vs torchmetrics")
        peers["torchmetrics"] = tm
    setup = Setup(ours=ours, peers=peers, primitive=("jnp.sum(probs)", Jitted(one_sum, (pj,))))
    if n == VMAP_N:
        ps, ys = zip(*(_multiclass_data(n, np.random.default_rng(1000 + i)) for i in range(SEEDS)))
        pb, yb = jnp.asarray(np.stack(ps)), jnp.asarray(np.stack(ys))
        f = lambda a, b: jcal.ece(a, b, **opts)  # noqa: E731
        setup.vmap = (Jitted(jax.vmap(f), (pb, yb)), Jitted(f, (pb[0], yb[0])))
    m = jcal.ece_metric(**opts)
    b = min(BATCH, n)
    setup.memory = (f"`ece_metric.update` (state + a {b:,} batch)",
                    Jitted(lambda st, a, c: m.update(st, a, c), (m.init(), pj[:b], yj[:b])),
                    "one-shot `ece` on all N", ours)
    return setup


def _brier_make(n: int, rng: np.random.Generator) -> Setup:
    p, y = _multiclass_data(n, rng)
    pj, yj = jnp.asarray(p), jnp.asarray(y)
    ours = Jitted(lambda a, b: jcal.brier_score(a, b), (pj, yj))
    ours_val = float(jax.jit(jcal.brier_score)(pj, yj))
    peers = {}
    if skm is not None:
        labels = np.arange(NUM_CLASSES)
        try:
            ref = skm.brier_score_loss(y, p, labels=labels, scale_by_half="auto")  # multiclass: sklearn >= 1.7
        except (TypeError, ValueError):  # older scikit-learn: no multiclass Brier
            ref = None
        if ref is not None:
            np.testing.assert_allclose(ours_val, ref, rtol=1e-4, err_msg="Brier vs scikit-learn")
            peers["scikit-learn"] = lambda: skm.brier_score_loss(y, p, labels=labels, scale_by_half="auto")
    setup = Setup(ours=ours, peers=peers, primitive=("jnp.sum(probs)", Jitted(one_sum, (pj,))))
    if n == VMAP_N:
        ps, ys = zip(*(_multiclass_data(n, np.random.default_rng(1000 + i)) for i in range(SEEDS)))
        pb, yb = jnp.asarray(np.stack(ps)), jnp.asarray(np.stack(ys))
        setup.vmap = (Jitted(jax.vmap(jcal.brier_score), (pb, yb)), Jitted(jcal.brier_score, (pb[0], yb[0])))
    m = jcal.brier_score_metric()
    b = min(BATCH, n)
    setup.memory = (f"`brier_score_metric.update` (state + a {b:,} batch)",
                    Jitted(lambda st, a, c: m.update(st, a, c), (m.init(), pj[:b], yj[:b])),
                    "one-shot `brier_score` on all N", ours)
    return setup


_CAL_DATA = (f"{NUM_CLASSES} classes, float32 `probs [N, {NUM_CLASSES}]` (softmax of 2·normal logits), int32 labels "
             "drawn from a sharpened version (a miscalibrated model)")

CASES = [
    Case("auroc", SIZES, QUICK, _curve_case("auroc"), note=_CURVE_NOTE.format(cls="AUCROC")),
    Case("average_precision", SIZES, QUICK, _curve_case("ap"), note=_CURVE_NOTE.format(cls="AUCPR")
         + " metrax's AUCPR is moreover an interpolated (Davis & Goadrich) area, not the step-sum AP."),
    Case("ece", SIZES, QUICK, _ece_make, note=(
        f"Top-label ECE, {NUM_BINS} equal-width bins, L1; {_CAL_DATA}. jaxmetrics "
        "`ece(num_bins=15, mode='top_label', edges='right_open')` is torchmetrics' binning (bins "
        "[e_b, e_{b+1}), confidence 1.0 in an extra bin); torchmetrics `multiclass_calibration_error(n_bins=15, "
        "norm='l1', validate_args=False)` (it still checks whether probs lie in [0, 1] to decide on a softmax). "
        "Values checked equal (rtol 1e-4). No scikit-learn or metrax ECE. Primitive: one `jnp.sum` over probs. "
        "Memory: the streaming `ece_metric` state (5 × 16 per-bin sums) updated with a 10⁴ batch vs the one-shot.")),
    Case("brier", SIZES, QUICK, _brier_make, note=(
        f"Multiclass Brier score (sum over classes of (p − onehot)², not halved for C ≥ 3 = scikit-learn's "
        f"`scale_by_half='auto'`); {_CAL_DATA}. scikit-learn `brier_score_loss(labels=range(10))` (multiclass "
        "needs scikit-learn >= 1.7), value checked (rtol 1e-4). No torchmetrics or metrax Brier score. "
        "Primitive: one `jnp.sum` over probs. Memory: the streaming (Σ w·score, Σ w) state vs one-shot.")),
]
