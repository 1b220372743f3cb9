"""Soft (differentiable) classification twins: AnyLoss soft confusion matrix, soft ratios, soft AUROC.

Oracles: the AnyLoss closed forms of METRICS.md §1.2; the exact metrics of
``jaxmetrics.classification`` and scikit-learn as the temperature goes to 0; a numpy reference of the
pairwise-sigmoid AUROC surrogate; and real data (breast cancer) trained with optax on the soft losses.
"""

from __future__ import annotations

import functools

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
import pytest  # noqa: E402
from scipy.special import expit  # noqa: E402
from sklearn import datasets, metrics as sk, model_selection, preprocessing  # noqa: E402

import jaxmetrics  # noqa: E402
from jaxmetrics import ShapeError, soft  # noqa: E402
from jaxmetrics import classification as jc  # noqa: E402

TAU_DEFAULT = 1.0 / 73.0


def _binary(seed, n=200, margin=0.0, ties=True):
    rng = np.random.default_rng(seed)
    p = rng.random(n)
    if margin:  # keep every p at least `margin` away from 1/2
        p = 0.5 + np.sign(p - 0.5) * (margin + np.abs(p - 0.5) * (1 - 2 * margin))
    if ties:
        p = np.round(p, 2)
    y = rng.integers(0, 2, n)
    return p, y, rng.random(n) > 0.2, rng.random(n) + 0.1


def _multiclass(seed, n=200, c=4, margin=0.0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, c)) * 2
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    if margin:  # drop rows whose top-2 probabilities are closer than `margin` (argmax near-ties)
        top2 = np.sort(p, -1)[:, -2:]
        p = p[top2[:, 1] - top2[:, 0] >= margin]
    y = rng.integers(0, c, len(p))
    return p, y, rng.random(len(p)) > 0.2, rng.random(len(p)) + 0.1


@functools.partial(jax.jit, static_argnums=0)
def _value_and_grad(f, p, y, where, weights, temperature):
    """Jitted value and gradient (w.r.t. ``p``) of a soft twin, scalarised by summing (the soft
    confusion matrix by its TP entry, since its total is the constant total weight)."""

    def scalar(q):
        out = f(q, y, where=where, weights=weights, temperature=temperature)
        return out[..., 1, 1].sum() if f is jc.soft_confusion_matrix else jnp.sum(out)

    return jax.value_and_grad(scalar)(p)


_SOFT_CONFUSION_TWINS = [jc.soft_confusion_matrix, jc.soft_precision, jc.soft_recall, jc.soft_f_beta,
                         jc.soft_accuracy, jc.soft_matthews_corrcoef]
_NAMES = [f.__name__ for f in _SOFT_CONFUSION_TWINS]


def _all_twins(q, y, where, weights, temperature):
    """Every soft confusion twin on the same input, as one vector (so one compiled Jacobian covers all
    six): the soft confusion matrix's TP entry, then precision, recall, F1, accuracy and MCC."""
    outs = [f(q, y, where=where, weights=weights, temperature=temperature) for f in _SOFT_CONFUSION_TWINS]
    outs[0] = outs[0][..., -1, -1]
    return jnp.stack(outs)


def _counts_np(p, y, w, tau):
    """AnyLoss closed form (METRICS.md §1.2), in numpy: [[TN, FP], [FN, TP]]."""
    a = expit((p - 0.5) / tau)
    tp = np.sum(w * y * a)
    fn = np.sum(w * y * (1 - a))
    fp = np.sum(w * (1 - y) * a)
    tn = np.sum(w * (1 - y) * (1 - a))
    return np.array([[tn, fp], [fn, tp]])


# ------------------------------------------------------------------------------------------------
# smooth_step


def test_smooth_step_values_and_gradients():
    x = jnp.array([-jnp.inf, -1e300, -1.0, 0.0, 1.0, 1e300, jnp.inf])
    for tau in (1e-3, TAU_DEFAULT, 1.0):
        h = soft.smooth_step(x, tau)
        assert h[3] == 0.5  # exactly ½ at 0, for every temperature
        np.testing.assert_array_equal(np.asarray(h)[[0, 1, 5, 6]], [0.0, 0.0, 1.0, 1.0])
        np.testing.assert_allclose(h + soft.smooth_step(-x, tau), 1.0, rtol=1e-15)
        g = jax.grad(lambda v: soft.smooth_step(v, tau).sum())(x)
        assert np.all(np.isfinite(g))
        np.testing.assert_allclose(g[3], 1 / (4 * tau))
    assert soft.smooth_step(jnp.zeros(2, jnp.bfloat16), 0.1).dtype == jnp.bfloat16
    assert soft.smooth_step(jnp.arange(3), 1.0).dtype == jnp.float32
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="`temperature`"):
            soft.smooth_step(x, bad)


# ------------------------------------------------------------------------------------------------
# AnyLoss closed forms


@pytest.mark.parametrize("tau", [TAU_DEFAULT, 0.1, 1.0])
def test_amplifier_at_one_half_is_exactly_one_half(tau):
    y = np.array([1, 1, 1, 0, 0])
    m = jc.soft_confusion_matrix(np.full(5, 0.5), y, temperature=tau)
    np.testing.assert_array_equal(m, [[1.0, 1.0], [1.5, 1.5]])
    m2 = jc.soft_confusion_matrix(np.full((5, 2), 0.5), y, temperature=tau)  # multiclass form
    np.testing.assert_array_equal(m2, [[1.0, 1.0], [1.5, 1.5]])


def test_confident_predictions_match_hard_counts_at_default_temperature():
    # σ(73·0.4) = 1 − 2.1e-13: at L = 73, p ∈ {0.9, 0.1} count as hard predictions to ~1e-12.
    assert 1 - expit(73 * 0.4) == pytest.approx(2.08e-13, rel=1e-2)
    y = np.array([1, 1, 1, 0, 0, 0, 0, 1])
    p = np.where(y == 1, 0.9, 0.1)
    hard = np.array([[4.0, 0.0], [0.0, 4.0]])
    m = jc.soft_confusion_matrix(p, y)  # default temperature 1/73
    assert m.dtype == jnp.float64
    np.testing.assert_allclose(m, hard, rtol=0, atol=1e-12)
    for f in (jc.soft_f_beta, jc.soft_accuracy, jc.soft_matthews_corrcoef, jc.soft_precision, jc.soft_recall):
        assert abs(float(f(p, y)) - 1.0) < 1e-12, f.__name__
    # wrong confident predictions are hard errors, too
    np.testing.assert_allclose(jc.soft_confusion_matrix(1 - p, y), hard[::-1], atol=1e-12)
    # ... and it is the amplification that makes this true: L = 40 leaves ~1e-7 per sample.
    assert np.abs(jc.soft_confusion_matrix(p, y, temperature=1 / 40) - hard).max() > 1e-8


def test_soft_confusion_matches_closed_form():
    p, y, where, w = _binary(0)
    for tau in (TAU_DEFAULT, 0.1, 0.7):
        m = jc.soft_confusion_matrix(p, y, temperature=tau, where=where, weights=w)
        np.testing.assert_allclose(m, _counts_np(p, y, w * where, tau), rtol=1e-12)
        tn, fp, fn, tp = np.asarray(m).ravel()
        np.testing.assert_allclose(
            jc.soft_f_beta(p, y, temperature=tau, beta=2.0, where=where, weights=w), 5 * tp / (5 * tp + 4 * fn + fp),
            rtol=1e-12,
        )
        mcc = (tp * tn - fp * fn) / np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
        np.testing.assert_allclose(
            jc.soft_matthews_corrcoef(p, y, temperature=tau, where=where, weights=w), mcc, rtol=1e-10
        )
        np.testing.assert_allclose(
            jc.soft_accuracy(p, y, temperature=tau, where=where, weights=w), (tp + tn) / m.sum(), rtol=1e-12
        )


def test_soft_confusion_converges_monotonically_to_exact():
    taus = [0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002]
    p, y, where, w = _binary(1, margin=0.05)
    exact = jax.jit(jc.confusion_matrix)(p, y, where=where, weights=w)
    np.testing.assert_allclose(exact, sk.confusion_matrix(y[where], p[where] > 0.5, sample_weight=w[where]))
    err = [float(np.abs(jc.soft_confusion_matrix(p, y, temperature=t, where=where, weights=w) - exact).max())
           for t in taus]
    assert np.all(np.diff(err) < 0), err
    assert err[-1] < 1e-8
    # multiclass, away from argmax near-ties
    p, y, where, w = _multiclass(2, margin=0.1)
    exact = jax.jit(jc.confusion_matrix)(p, y, where=where, weights=w)
    err = [float(np.abs(jc.soft_confusion_matrix(p, y, temperature=t, where=where, weights=w) - exact).max())
           for t in taus]
    assert np.all(np.diff(err) < 0), err
    assert err[-1] < 1e-8


@pytest.mark.parametrize("tau", [TAU_DEFAULT, 0.1])
def test_multiclass_form_reduces_to_binary_anyloss(tau):
    # softmax((1 − p, p)/(2τ))₁ = σ((2p − 1)/(2τ)) = σ((p − ½)/τ)
    p, y, where, w = _binary(3, ties=False)
    p2 = np.stack([1 - p, p], -1)
    kw = dict(temperature=tau, where=where, weights=w)
    np.testing.assert_allclose(jc.soft_confusion_matrix(p2, y, **kw), jc.soft_confusion_matrix(p, y, **kw),
                               rtol=1e-12)
    twins = jax.jit(_all_twins)  # TP, precision, recall, F1, accuracy, MCC
    np.testing.assert_allclose(twins(p2, y, where, w, tau), twins(p, y, where, w, tau), rtol=1e-11)


# ------------------------------------------------------------------------------------------------
# convergence of every twin to its exact metric (and to scikit-learn)

_TWINS = [
    # soft, exact, sklearn(y, pred, sample_weight, labels), kwargs
    (jc.soft_precision, jc.precision, lambda y, q, sw, c, a: sk.precision_score(
        y, q, sample_weight=sw, labels=range(c), average=a, zero_division=0), dict(average="macro")),
    (jc.soft_recall, jc.recall, lambda y, q, sw, c, a: sk.recall_score(
        y, q, sample_weight=sw, labels=range(c), average=a, zero_division=0), dict(average="weighted")),
    (jc.soft_f_beta, jc.f_beta, lambda y, q, sw, c, a: sk.fbeta_score(
        y, q, beta=2.0, sample_weight=sw, labels=range(c), average=a, zero_division=0),
     dict(beta=2.0, average="micro")),
    (jc.soft_accuracy, jc.accuracy, lambda y, q, sw, c, a: sk.accuracy_score(y, q, sample_weight=sw), {}),
    (jc.soft_matthews_corrcoef, jc.matthews_corrcoef,
     lambda y, q, sw, c, a: sk.matthews_corrcoef(y, q, sample_weight=sw), {}),
]


@pytest.mark.parametrize("multiclass", [False, True])
@pytest.mark.parametrize("soft_fn,exact_fn,sk_fn,kwargs", _TWINS, ids=[t[0].__name__ for t in _TWINS])
def test_soft_twin_converges_to_exact(soft_fn, exact_fn, sk_fn, kwargs, multiclass):
    if multiclass:
        p, y, where, w = _multiclass(4, margin=0.1)
        pred, c = p.argmax(-1), p.shape[-1]
    else:
        p, y, where, w = _binary(5, margin=0.05)
        pred, c = (p > 0.5).astype(int), 2
        kwargs = {k: v for k, v in kwargs.items() if k != "average"}  # "auto" = binary
    average = kwargs.get("average", "binary" if c == 2 else "macro")
    exact = float(jax.jit(functools.partial(exact_fn, **kwargs))(p, y, where=where, weights=w))
    np.testing.assert_allclose(exact, sk_fn(y[where], pred[where], w[where], c, average), rtol=1e-9)
    taus = [0.3, 0.1, 0.03, 0.01, 0.003, 0.001]
    soft_vals = np.array([float(soft_fn(p, y, temperature=t, where=where, weights=w, **kwargs)) for t in taus])
    err = np.abs(soft_vals - exact)
    # Errors of opposite sign in numerator and denominator can cancel at large τ, so monotone
    # convergence is asserted once τ is below the margin (|p − ½| >= 0.05, top-2 gap >= 0.1).
    tail = err[2:]
    assert np.all(np.diff(tail[:-1]) < 0) and tail[-1] <= tail[-2], err
    assert err[-2] < 1e-6 and err[-1] < 1e-12, err


# ------------------------------------------------------------------------------------------------
# masks, weights, batching, dtypes, streaming


def test_where_and_weights_semantics():
    p, y, where, _ = _binary(6)
    reps = np.random.default_rng(0).integers(0, 4, len(p))
    f = jc.soft_matthews_corrcoef
    np.testing.assert_allclose(f(p, y, where=where), f(p[where], y[where]), rtol=1e-12)
    np.testing.assert_allclose(f(p, y, weights=reps.astype(float)), f(np.repeat(p, reps), np.repeat(y, reps)),
                               rtol=1e-12)
    np.testing.assert_allclose(jc.soft_auroc(p, y, where=where, temperature=0.1, chunk_size=16),
                               jc.soft_auroc(p[where], y[where], temperature=0.1), rtol=1e-12)


def test_bool_and_out_of_range_labels():
    p, y, _, _ = _binary(17, n=40)
    np.testing.assert_allclose(jc.soft_f_beta(p, y.astype(bool)), jc.soft_f_beta(p, y), rtol=1e-15)
    np.testing.assert_allclose(jc.soft_auroc(p, y.astype(bool)), jc.soft_auroc(p, y), rtol=1e-15)
    # labels outside [0, C) are dropped, as in confusion_matrix
    y_bad, keep = y.copy(), np.ones(40, bool)
    y_bad[:5], keep[:5] = [-1, 2, 7, -3, 2], False
    np.testing.assert_allclose(jc.soft_confusion_matrix(p, y_bad), jc.soft_confusion_matrix(p, y, where=keep),
                               rtol=1e-15)


def test_leading_axes_are_batch_axes():
    rng = np.random.default_rng(7)
    p = rng.random((3, 40))
    y = rng.integers(0, 2, (3, 40))
    w = rng.random((3, 40))
    for f, kw in [(jc.soft_confusion_matrix, {}), (jc.soft_auroc, dict(chunk_size=16))]:
        batched = f(p, y, weights=w, **kw)
        looped = np.stack([f(p[i], y[i], weights=w[i], **kw) for i in range(3)])
        np.testing.assert_allclose(batched, looped, rtol=1e-12, err_msg=f.__name__)
        np.testing.assert_allclose(jax.vmap(lambda a, b, c: f(a, b, weights=c, **kw))(p, y, w), looped,
                                   rtol=1e-12, err_msg=f.__name__)


def test_low_precision_inputs_give_float32():
    # (every registered twin also gets the bf16 / f16 contract check)
    p, y, _, w = _binary(8)
    low = jnp.bfloat16
    pl = jnp.asarray(p, low)
    for f in (jc.soft_confusion_matrix, jc.soft_matthews_corrcoef, jc.soft_auroc):
        out = f(pl, y, weights=jnp.asarray(w, low))
        assert out.dtype == jnp.float32, f.__name__
        ref = f(np.asarray(pl, np.float64), y, weights=np.asarray(jnp.asarray(w, low), np.float64))
        np.testing.assert_allclose(out, ref, rtol=2e-5, atol=2e-5, err_msg=f.__name__)


def test_streaming_equals_one_shot():
    p, y, where, w = _multiclass(9)
    p, y, where, w = p[:120], y[:120], where[:120], w[:120]
    for ctor, fn, kw in [
        (jc.soft_confusion_matrix_metric, jc.soft_confusion_matrix, dict(temperature=0.05)),
        (jc.soft_f_beta_metric, jc.soft_f_beta, dict(beta=0.5, average="weighted")),
        (jc.soft_matthews_corrcoef_metric, jc.soft_matthews_corrcoef, {}),
    ]:
        m = ctor(num_classes=p.shape[-1], **kw)
        state = m.init()
        update = jax.jit(m.update)
        for lo in range(0, 120, 40):
            hi = lo + 40
            state = update(state, p[lo:hi], y[lo:hi], where=where[lo:hi], weights=w[lo:hi])
        np.testing.assert_allclose(jax.jit(m.compute)(state), fn(p, y, where=where, weights=w, **kw), rtol=1e-12)
    assert jaxmetrics.registry["soft_f_beta"].streaming is jc.soft_f_beta_metric
    assert jaxmetrics.registry["soft_auroc"].streaming is None


# ------------------------------------------------------------------------------------------------
# gradients

_jacobian = jax.jit(jax.jacrev(_all_twins))


def test_gradients_finite_at_edges():
    rng = np.random.default_rng(10)
    n = 24
    y = rng.integers(0, 2, n)
    exact = np.tile([0.0, 0.5, 1.0], n // 3)
    ones, yes = np.ones(n), np.ones(n, bool)

    def jac(p, labels, where=yes, weights=ones):
        return np.asarray(_jacobian(p, labels, where, weights, TAU_DEFAULT))  # [twin, N(, C)]

    cases = {
        "p exactly 0, 1/2, 1": jac(exact, y),
        "all p = 1/2": jac(np.full(n, 0.5), y),
        "all masked": jac(exact, y, where=np.zeros(n, bool)),
        "zero weights": jac(exact, y, weights=np.zeros(n)),
        "single class": jac(exact, np.ones_like(y)),
        "p = y": jac(y.astype(float), y),
        "all p = 0, all negative": jac(np.zeros(n), np.zeros_like(y)),
        "multiclass one-hot": jac(np.eye(3)[rng.integers(0, 3, n)], rng.integers(0, 3, n)),
        "multiclass uniform": jac(np.full((n, 3), 1 / 3), rng.integers(0, 3, n)),
    }
    for label, j in cases.items():
        for name, g in zip(_NAMES, j):
            assert np.all(np.isfinite(g)), (name, label)
    for name, g in zip(_NAMES, cases["all p = 1/2"]):  # a useful signal where the prediction is uncertain
        assert np.abs(g).max() > 1e-3, name
    np.testing.assert_array_equal(cases["all masked"], 0.0)


@pytest.mark.parametrize("multiclass", [False, True])
def test_check_grads(multiclass):
    # a vector-valued check: rev mode pulls back random cotangents, so every twin's gradient is checked
    p, y, where, w = (_multiclass(11, n=40, c=3) if multiclass else _binary(11, n=40, ties=False))
    f = jax.jit(lambda q: _all_twins(q, y, where, w, 0.2))
    # (the contract suite also runs check_grads on each registered twin separately)
    jax.test_util.check_grads(f, (jnp.asarray(p),), order=1, modes=["rev"])


def test_check_grads_soft_auroc():
    rng = np.random.default_rng(12)
    s, y, w = rng.normal(size=50), rng.integers(0, 2, 50), rng.random(50)
    # scores and weights are both differentiable
    f = jax.jit(lambda q, v: jc.soft_auroc(q, y, temperature=0.3, chunk_size=16, weights=v))
    jax.test_util.check_grads(f, (jnp.asarray(s), jnp.asarray(w)), order=1, modes=["rev"])


# ------------------------------------------------------------------------------------------------
# soft AUROC


def _soft_auroc_np(s, y, w, tau):
    pos, neg = w * (y == 1), w * (y != 1)
    k = expit((s[:, None] - s[None, :]) / tau)
    return pos @ k @ neg / (pos.sum() * neg.sum())


@pytest.mark.parametrize("chunk_size", [1, 7, 16, 50, 1024])
def test_soft_auroc_chunked_matches_unchunked_reference(chunk_size):
    rng = np.random.default_rng(13)
    s, y, w = np.round(rng.normal(size=50), 1), rng.integers(0, 2, 50), rng.random(50)
    for tau in (0.05, 1.0):
        np.testing.assert_allclose(jc.soft_auroc(s, y, temperature=tau, chunk_size=chunk_size, weights=w),
                                   _soft_auroc_np(s, y, w, tau), rtol=1e-12)


def test_soft_auroc_converges_to_sklearn_with_ties():
    rng = np.random.default_rng(14)
    n = 300
    s = np.round(rng.random(n), 2)  # many ties; smallest non-zero gap 0.01
    y = (rng.random(n) < expit(3 * (s - 0.5))).astype(int)
    w = rng.random(n) + 0.1
    exact = sk.roc_auc_score(y, s, sample_weight=w)
    np.testing.assert_allclose(jc.auroc(s, y, weights=w), exact, rtol=1e-12)
    taus = [0.1, 0.03, 0.01, 0.003, 1e-3, 3e-4]
    err = np.abs([float(jc.soft_auroc(s, y, temperature=t, chunk_size=64, weights=w)) - exact for t in taus])
    assert np.all(np.diff(err) < 0), err
    assert err[-1] < 1e-9, err
    # all scores tied: exactly ½ (σ(0) = ½ is the tie half credit)
    assert float(jc.soft_auroc(np.zeros(n), y, chunk_size=64)) == 0.5


def test_soft_auroc_undefined_and_extreme_inputs():
    rng = np.random.default_rng(15)
    s, y = rng.normal(size=40), rng.integers(0, 2, 40)

    f = functools.partial(jc.soft_auroc, chunk_size=16)

    def value_and_grad(scores, labels, where=np.ones(40, bool), temperature=0.05):
        return _value_and_grad(f, scores, labels, where, np.ones(40), temperature)

    for labels, where in [(np.zeros_like(y), None), (np.ones_like(y), None), (y, np.zeros(40, bool))]:
        v, g = value_and_grad(s, labels, **({} if where is None else dict(where=where)))
        assert np.isnan(v)  # as the exact auroc (scikit-learn >= 1.6)
        np.testing.assert_array_equal(g, 0.0)
        assert np.isnan(jc.auroc(s, labels, where=np.ones(40, bool) if where is None else where))
    big = np.where(y == 1, 1e6, -1e6)
    v, g = value_and_grad(big, y)
    assert float(v) == 1.0 and np.all(np.isfinite(g))
    inf = s.copy()
    inf[:6] = [np.inf, np.inf, -np.inf, -np.inf, np.inf, -np.inf]
    y_inf = y.copy()
    y_inf[:6] = [1, 0, 1, 0, 0, 1]
    v, g = value_and_grad(inf, y_inf, temperature=1e-4)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(v, sk.roc_auc_score(y_inf, np.clip(inf, -1e9, 1e9)), rtol=1e-9)


def _max_intermediate_size(closed):
    """Largest array (elements) produced anywhere in a jaxpr, including scan / checkpoint bodies."""
    best = 0

    def walk(jaxpr):
        nonlocal best
        for eqn in jaxpr.eqns:
            for v in eqn.outvars:
                best = max(best, int(np.prod(getattr(v.aval, "shape", ()))))
            for param in eqn.params.values():
                for sub in param if isinstance(param, (tuple, list)) else (param,):
                    if hasattr(sub, "eqns"):
                        walk(sub)
                    elif hasattr(getattr(sub, "jaxpr", None), "eqns"):
                        walk(sub.jaxpr)

    walk(closed.jaxpr)
    return best


def test_soft_auroc_memory_is_bounded_by_chunk_size():
    n, chunk = 4096, 128
    s = jnp.zeros(n)
    y = jnp.zeros(n, jnp.int32)
    f = lambda q: jc.soft_auroc(q, y, chunk_size=chunk)  # noqa: E731
    forward = _max_intermediate_size(jax.make_jaxpr(f)(s))
    backward = _max_intermediate_size(jax.make_jaxpr(jax.grad(f))(s))
    assert forward <= chunk * n and backward <= chunk * n, (forward, backward, n * n)
    # the unchunked path (chunk_size >= N) does build the N x N matrix
    assert _max_intermediate_size(jax.make_jaxpr(lambda q: jc.soft_auroc(q, y, chunk_size=n))(s)) == n * n


# ------------------------------------------------------------------------------------------------
# errors and registry


def test_shape_and_config_errors():
    p, y = np.full(8, 0.5), np.zeros(8, int)
    with pytest.raises(ShapeError, match="`probs`"):
        jc.soft_f_beta(p, y[:-1])
    with pytest.raises(ShapeError, match="`probs`"):
        jc.soft_f_beta(np.ones((8, 1)), y)  # C = 1
    with pytest.raises(ShapeError, match="`labels`"):
        jc.soft_accuracy(p, p)
    with pytest.raises(ShapeError, match="`probs`"):
        jc.soft_accuracy(y, y)
    with pytest.raises(ShapeError, match="`where`"):
        jc.soft_matthews_corrcoef(p, y, where=np.ones(7, bool))
    with pytest.raises(ShapeError, match="`weights`"):
        jc.soft_confusion_matrix(p, y, weights=np.ones((8, 2)))
    with pytest.raises(ShapeError, match="num_classes=3"):
        jc.soft_confusion_matrix(p, y, num_classes=3)
    with pytest.raises(ShapeError, match="binary"):
        jc.soft_f_beta(np.full((8, 3), 1 / 3), y, average="binary")
    with pytest.raises(ValueError, match="`average`"):
        jc.soft_recall(p, y, average="samples")
    with pytest.raises(ValueError, match="`temperature`"):
        jc.soft_f_beta(p, y, temperature=0.0)
    with pytest.raises(ShapeError, match="`labels`"):
        jc.soft_auroc(p, y[:-1])
    with pytest.raises(ShapeError, match="`scores`"):
        jc.soft_auroc(y, y)
    with pytest.raises(ShapeError, match="`chunk_size`"):
        jc.soft_auroc(p, y, chunk_size=0)
    with pytest.raises(ValueError, match="`temperature`"):
        jc.soft_auroc(p, y, temperature=-1.0)


def test_registry_entries_and_soft_twins():
    reg = jaxmetrics.registry
    for exact, twin in [("confusion_matrix", jc.soft_confusion_matrix), ("precision", jc.soft_precision),
                        ("recall", jc.soft_recall), ("f_beta", jc.soft_f_beta), ("accuracy", jc.soft_accuracy),
                        ("matthews_corrcoef", jc.soft_matthews_corrcoef), ("auroc", jc.soft_auroc)]:
        assert reg[exact].soft is twin, exact
        info = reg[twin.__name__]
        assert info.fn is twin and info.differentiable and info.family == "classification"
        assert info.higher_is_better is (None if exact == "confusion_matrix" else True)


def test_temperature_may_be_traced():
    # an annealed temperature inside jit does not recompile
    p, y, _, _ = _binary(16)
    f = jax.jit(lambda t: jc.soft_f_beta(p, y, temperature=t))
    np.testing.assert_allclose(f(0.1), jc.soft_f_beta(p, y, temperature=0.1), rtol=1e-12)
    g = jax.jit(lambda t: jc.soft_auroc(p, y, temperature=t, chunk_size=64))
    np.testing.assert_allclose(g(0.1), jc.soft_auroc(p, y, temperature=0.1), rtol=1e-12)


# ------------------------------------------------------------------------------------------------
# real data: optax on the soft losses improves the exact metrics (breast cancer)


@pytest.fixture(scope="module")
def breast_cancer():
    x, y = datasets.load_breast_cancer(return_X_y=True)
    xtr, xte, ytr, yte = model_selection.train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    scaler = preprocessing.StandardScaler().fit(xtr)
    return scaler.transform(xtr), scaler.transform(xte), ytr, yte


def _train_linear(loss_of_scores, x, steps=200, lr=0.05):
    """Adam on a linear model from a fixed small random init; returns (initial, trained) parameters."""
    w0 = np.random.default_rng(0).normal(size=x.shape[1]) * 0.1
    params = {"w": jnp.asarray(w0), "b": jnp.asarray(0.0)}
    opt = optax.adam(lr)
    x = jnp.asarray(x)

    def loss(p):
        return loss_of_scores(x @ p["w"] + p["b"])

    @jax.jit
    def run(p):
        def step(carry, _):
            p, s = carry
            grads = jax.grad(loss)(p)
            updates, s = opt.update(grads, s, p)
            return (optax.apply_updates(p, updates), s), None

        return jax.lax.scan(step, (p, opt.init(p)), None, length=steps)[0][0]

    return params, run(params)


def _scores(params, x):
    return x @ np.asarray(params["w"]) + float(params["b"])


@pytest.mark.parametrize(
    "name,loss,exact",
    [
        ("f1", lambda s, y: 1 - jc.soft_f_beta(jax.nn.sigmoid(s), y), lambda y, s: sk.f1_score(y, s > 0)),
        ("auroc", lambda s, y: 1 - jc.soft_auroc(s, y), lambda y, s: sk.roc_auc_score(y, s)),
        ("mcc", lambda s, y: 1 - jc.soft_matthews_corrcoef(jax.nn.sigmoid(s), y),
         lambda y, s: sk.matthews_corrcoef(y, s > 0)),
    ],
)
def test_optax_on_soft_loss_improves_exact_metric(breast_cancer, name, loss, exact):
    xtr, xte, ytr, yte = breast_cancer
    ytr_j = jnp.asarray(ytr, jnp.int32)
    init, trained = _train_linear(lambda s: loss(s, ytr_j), xtr)
    before, after = exact(yte, _scores(init, xte)), exact(yte, _scores(trained, xte))
    assert before < 0.7, (name, before)  # the fixed random init is a poor model...
    assert after > 0.9 and after - before > 0.25, (name, before, after)  # ...that the soft loss fixes
    if name == "f1":  # the library's exact F1 agrees with scikit-learn on the trained model
        p_te = jax.nn.sigmoid(jnp.asarray(_scores(trained, xte)))
        np.testing.assert_allclose(jc.f1(p_te, jnp.asarray(yte)), after, rtol=1e-12)
