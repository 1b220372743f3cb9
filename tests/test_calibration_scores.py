"""Calibration scores: Brier, NLL, Balance (+ soft twin) and smooth ECE.

Oracles: ``sklearn.metrics.brier_score_loss`` (>= 1.7 scaling convention) and ``log_loss``;
``jaxmetrics.classification.log_loss``; the closed forms and identities of METRICS.md §2.3 for Balance;
``relplot.smECE_sigma`` / ``relplot.smECE`` (1.0.3) for smooth ECE; real data from scikit-learn's
bundled datasets with a LogisticRegression trained in the test.
"""

from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
import pytest  # noqa: E402
from scipy.special import expit, softmax  # noqa: E402
from sklearn import datasets, linear_model, metrics as sk, model_selection, preprocessing  # noqa: E402

import jaxmetrics  # noqa: E402
from jaxmetrics import ShapeError  # noqa: E402
from jaxmetrics import calibration as jc  # noqa: E402
from jaxmetrics import classification as jcl  # noqa: E402

relplot = pytest.importorskip("relplot")

RTOL = 1e-10  # float64 agreement with the oracles (measured: <= 1e-15 relative)
N = 256  # one sample count for most tests: compiled shapes are shared (keeps the file fast)


def _binary(seed, n=N, power=1.0):
    """p uniform on (0, 1), y ~ Bernoulli(p**power) (power 1: calibrated)."""
    rng = np.random.default_rng(seed)
    p = rng.random(n)
    y = (rng.random(n) < p**power).astype(np.int32)
    return p, y, rng.random(n) > 0.2, rng.random(n) + 0.1


def _multiclass(seed, n=N, c=4, scale=2.0):
    rng = np.random.default_rng(seed)
    p = softmax(rng.normal(size=(n, c)) * scale, axis=-1)
    y = rng.integers(0, c, n).astype(np.int32)
    return p, y, rng.random(n) > 0.2, rng.random(n) + 0.1


# ------------------------------------------------------------------------------------------------
# Brier score


@pytest.mark.parametrize("c", [None, 2, 3, 5])
@pytest.mark.parametrize("scale", ["auto", True, False])
def test_brier_matches_sklearn(c, scale):
    if c is None:
        p, y, m, w = _binary(0)
    else:
        p, y, m, w = _multiclass(1, c=c)
    sw = w * m
    ref = sk.brier_score_loss(y, p, sample_weight=sw, scale_by_half=scale,
                              **({} if c is None else dict(labels=np.arange(c))))
    np.testing.assert_allclose(jc.brier_score(p, y, scale_by_half=scale, where=m, weights=w), ref, rtol=RTOL)


def test_brier_auto_scaling_convention():
    # sklearn >= 1.7 "auto": halve for <= 2 classes (1-D input and 2-column input), not for >= 3
    p, y, _, _ = _binary(2)
    two = np.stack([1 - p, p], -1)
    b1 = jc.brier_score(p, y)
    np.testing.assert_allclose(b1, np.mean((p - y) ** 2), rtol=RTOL)
    np.testing.assert_allclose(jc.brier_score(two, y), b1, rtol=RTOL)
    np.testing.assert_allclose(jc.brier_score(p, y, scale_by_half=False), 2 * b1, rtol=RTOL)
    three = np.concatenate([two, np.zeros((len(p), 1))], -1)  # same rows, a third class with p = 0
    np.testing.assert_allclose(jc.brier_score(three, y), 2 * b1, rtol=RTOL)


def test_brier_known_values():
    y = np.array([0, 1, 2, 1], np.int32)
    np.testing.assert_allclose(jc.brier_score(np.eye(3)[y], y), 0.0, atol=0)  # one-hot correct
    wrong = np.eye(3)[(y + 1) % 3]
    np.testing.assert_allclose(jc.brier_score(wrong, y), 2.0)  # confidently wrong, C = 3: range [0, 2]
    np.testing.assert_allclose(sk.brier_score_loss(y, wrong, labels=[0, 1, 2]), 2.0)
    np.testing.assert_allclose(jc.brier_score(wrong, y, scale_by_half=True), 1.0)
    # binary: confidently wrong -> 1 (halved two-class sum), as sklearn
    np.testing.assert_allclose(jc.brier_score(np.array([1.0, 0.0]), np.array([0, 1])), 1.0)
    np.testing.assert_allclose(sk.brier_score_loss([0, 1], [1.0, 0.0]), 1.0)


def test_brier_float32_accuracy_and_masked_padding():
    """The multiclass Brier sum is one whole-array reduction with the label's term taken as (1 − p)²:
    float32 stays accurate for confident, correct models (no Σp² − 2p_y + 1 cancellation), and masked
    rows are exactly ignored even when they hold NaN/inf padding."""
    rng = np.random.default_rng(7)
    n, c = 4096, 10
    y = rng.integers(0, c, n).astype(np.int32)
    eps = 10.0 ** rng.uniform(-7, -3, (n, 1))  # confident and correct: scores ~1e-12 .. 1e-5 per row
    p = np.full((n, c), 1.0, np.float64) * eps
    p[np.arange(n), y] = 1.0 - (c - 1) * eps[:, 0]
    p32 = p.astype(np.float32)
    ref = sk.brier_score_loss(y, p32.astype(np.float64), labels=np.arange(c))
    np.testing.assert_allclose(jc.brier_score(jnp.asarray(p32), y), ref, rtol=1e-5)
    w = rng.random(n)
    ref_w = sk.brier_score_loss(y, p32.astype(np.float64), labels=np.arange(c), sample_weight=w)
    np.testing.assert_allclose(jc.brier_score(jnp.asarray(p32), y, weights=w.astype(np.float32)), ref_w, rtol=1e-5)
    padded = p.copy()
    where = rng.random(n) > 0.2
    padded[~where] = np.nan
    padded[~where, 0] = np.inf
    np.testing.assert_allclose(jc.brier_score(padded, y, where=where),
                               sk.brier_score_loss(y[where], p[where], labels=np.arange(c)), rtol=RTOL)


def test_brier_from_logits_and_batch_axes():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(3, 40, 4)) * 3
    y = rng.integers(0, 4, (3, 40)).astype(np.int32)
    out = jc.brier_score(logits, y, from_logits=True)
    assert out.shape == (3,)
    for b in range(3):
        ref = sk.brier_score_loss(y[b], softmax(logits[b], -1), labels=np.arange(4))
        np.testing.assert_allclose(out[b], ref, rtol=RTOL)
    z = rng.normal(size=40) * 3
    np.testing.assert_allclose(jc.brier_score(z, y[0] % 2, from_logits=True),
                               sk.brier_score_loss(y[0] % 2, expit(z)), rtol=RTOL)


# ------------------------------------------------------------------------------------------------
# Negative log-likelihood


@pytest.mark.parametrize("binary", [True, False])
def test_nll_matches_sklearn_and_log_loss(binary):
    p, y, m, w = _binary(4) if binary else _multiclass(5)
    sw = w * m
    ours = jc.negative_log_likelihood(p, y, where=m, weights=w)
    ref = sk.log_loss(y, p, sample_weight=sw, labels=np.arange(2 if binary else p.shape[-1]))
    np.testing.assert_allclose(ours, ref, rtol=RTOL)
    np.testing.assert_array_equal(ours, jcl.log_loss(p, y, where=m, weights=w))
    assert jc.nll is jc.negative_log_likelihood
    logits = np.log(np.stack([1 - p, p], -1) if binary else p)
    np.testing.assert_allclose(jc.negative_log_likelihood(logits, y, from_logits=True, where=m, weights=w), ref,
                               rtol=1e-9)


def test_nll_batch_axes_and_argument_names():
    p, y, _, _ = _multiclass(6, n=64)
    out = jc.negative_log_likelihood(p.reshape(2, 32, -1), y.reshape(2, 32))
    np.testing.assert_allclose(out, [sk.log_loss(y[:32], p[:32], labels=range(4)),
                                     sk.log_loss(y[32:], p[32:], labels=range(4))], rtol=RTOL)
    with pytest.raises(ShapeError, match="`probs`"):
        jc.negative_log_likelihood(p[:-1], y)


# ------------------------------------------------------------------------------------------------
# Balance


def test_balance_metrics_md_example_and_pointwise_table():
    p = np.array([0.8, 0.8, 0.3, 0.3])
    y = np.array([1, 0, 0, 1], np.int32)
    np.testing.assert_allclose(jc.balance_score(p, y), -0.25, rtol=1e-12)
    # one sample per leading index -> the pointwise values
    np.testing.assert_allclose(jc.balance_score(p[:, None], y[:, None]), [0.2, -0.8, 0.3, -0.7], rtol=1e-12)
    # the table of METRICS.md §2.3 (p >= 1/2: 1 - p / -p; p < 1/2: -(1 - p) / p), including p = 1/2
    q = np.array([0.5, 0.5, 0.9, 0.9, 0.1, 0.1])
    t = np.array([1, 0, 1, 0, 1, 0], np.int32)
    np.testing.assert_allclose(jc.balance_score(q[:, None], t[:, None]), [0.5, -0.5, 0.1, -0.9, -0.9, 0.1],
                               rtol=1e-12)


def test_balance_is_accuracy_minus_confidence():
    p, y, m, w = _binary(7)
    sw = w * m
    acc = np.average((p >= 0.5) == y, weights=sw)
    conf = np.average(np.maximum(p, 1 - p), weights=sw)
    np.testing.assert_allclose(jc.balance_score(p, y, where=m, weights=w), acc - conf, rtol=RTOL)
    # multiclass top-label
    p, y, m, w = _multiclass(8)
    sw = w * m
    acc = np.average(p.argmax(-1) == y, weights=sw)
    conf = np.average(p.max(-1), weights=sw)
    np.testing.assert_allclose(jc.balance_score(p, y, where=m, weights=w), acc - conf, rtol=RTOL)
    np.testing.assert_allclose(jc.balance_score(np.log(p), y, from_logits=True, where=m, weights=w), acc - conf,
                               rtol=1e-9)
    # classwise: mean over classes of the one-vs-rest binary Balance
    per_class = [jc.balance_score(p[:, k], (y == k).astype(np.int32), where=m, weights=w) for k in range(4)]
    np.testing.assert_allclose(jc.balance_score(p, y, mode="classwise", where=m, weights=w), np.mean(per_class),
                               rtol=RTOL)
    # two-class rows, top-label == binary on P(y = 1) (no p = 1/2)
    q, t, _, _ = _binary(9)
    np.testing.assert_allclose(jc.balance_score(np.stack([1 - q, q], -1), t), jc.balance_score(q, t), rtol=RTOL)


def test_balance_calibrated_is_zero_and_overconfident_is_minus_mean_gap():
    rng = np.random.default_rng(10)
    n = 400_000
    p = rng.random(n)
    y = (rng.random(n) < p).astype(np.int32)
    tol = 4 / np.sqrt(n)
    assert abs(float(jc.balance_score(p, y))) < tol
    # multiclass, top-label calibrated: y ~ Categorical(p)
    probs = rng.dirichlet(np.ones(3), size=n)
    lab = (rng.random(n)[:, None] > np.cumsum(probs, -1)).sum(-1).astype(np.int32)
    assert abs(float(jc.balance_score(probs, lab))) < tol
    # uniformly over-confident (p_hat on the same side of 1/2 as p, further out): E[Balance] = -E|p_hat - p|
    z = np.log(p / (1 - p))
    p_hat = expit(2 * z)
    b = float(jc.balance_score(p_hat, y))
    np.testing.assert_allclose(b, -np.mean(np.abs(p_hat - p)), atol=tol)
    assert b < -0.05


# ------------------------------------------------------------------------------------------------
# Soft Balance


@pytest.mark.parametrize("multiclass", [False, True])
def test_soft_balance_converges_to_exact(multiclass):
    if multiclass:
        p, y, m, w = _multiclass(11)
        top2 = np.sort(p, -1)[:, -2:]
        keep = top2[:, 1] - top2[:, 0] > 0.02
        p, y, m, w = p[keep], y[keep], m[keep], w[keep]
    else:
        p, y, m, w = _binary(11)
        p = p[np.abs(p - 0.5) > 0.02]
        y, m, w = y[: len(p)], m[: len(p)], w[: len(p)]
    exact = float(jc.balance_score(p, y, where=m, weights=w))
    errs = [abs(float(jc.soft_balance_score(p, y, temperature=t, where=m, weights=w)) - exact)
            for t in (0.1, 0.01, 0.001)]
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-6, errs


def test_soft_balance_check_grads_float64():
    p, y, m, w = _binary(12)
    f = lambda q: jc.soft_balance_score(q, y, temperature=0.1, where=m, weights=w)  # noqa: E731
    jax.test_util.check_grads(f, (jnp.asarray(p),), order=1, modes=["rev"], atol=1e-6, rtol=1e-6)
    q, t, m, w = _multiclass(13)
    g = lambda x: jc.soft_balance_score(x, t, temperature=0.1, from_logits=True, where=m, weights=w)  # noqa: E731
    jax.test_util.check_grads(g, (jnp.asarray(np.log(q)),), order=1, modes=["rev"], atol=1e-6, rtol=1e-6)
    # finite gradients at p exactly 0, 1/2, 1 and for extreme logits
    for x, kw in [(np.array([0.0, 0.5, 1.0, 0.5]), {}), (np.array([1e6, -1e6, 0.0, 40.0]), dict(from_logits=True))]:
        grad = jax.grad(lambda v: jc.soft_balance_score(v, np.array([1, 0, 1, 0]), **kw))(jnp.asarray(x))
        assert np.all(np.isfinite(grad))


def test_soft_balance_trains_a_temperature_with_optax():
    # an over-confident binary model: reports sigma(3 z) where the truth is sigma(z)
    rng = np.random.default_rng(14)
    z = rng.normal(size=4000) * 2
    y = (rng.random(4000) < expit(z)).astype(np.int32)
    logits = jnp.asarray(3 * z)

    def loss(log_t):
        return jc.soft_balance_score(logits / jnp.exp(log_t), y, from_logits=True) ** 2

    opt = optax.adam(0.05)

    @jax.jit
    def step(carry, _):
        log_t, state = carry
        g = jax.grad(loss)(log_t)
        updates, state = opt.update(g, state)
        return (optax.apply_updates(log_t, updates), state), None

    log_t0 = jnp.zeros(())
    (log_t, _), _ = jax.lax.scan(step, (log_t0, opt.init(log_t0)), None, length=300)
    before = abs(float(jc.balance_score(logits, y, from_logits=True)))
    after = abs(float(jc.balance_score(logits / jnp.exp(log_t), y, from_logits=True)))
    assert before > 0.05 and after < 0.1 * before, (before, after)
    assert 2.0 < float(jnp.exp(log_t)) < 4.5  # the true temperature is 3


# ------------------------------------------------------------------------------------------------
# Smooth ECE vs relplot


@pytest.mark.parametrize("sigma", [0.05, 0.003])  # E = 1001 (sigma >= 0.01) and E = 3334
def test_smooth_ece_fixed_bandwidth_matches_relplot(sigma):
    for seed, power in [(15, 1.0), (16, 2.5), (17, 0.4)]:
        p, y, _, _ = _binary(seed, power=power)
        ref = relplot.smECE_sigma(p, y.astype(float), sigma)
        np.testing.assert_allclose(jc.smooth_ece(p, y, bandwidth=sigma), ref, rtol=RTOL)


@pytest.mark.parametrize("power", [1.0, 3.0, 0.3])
def test_smooth_ece_automatic_matches_relplot(power):
    for seed, n in [(18, 24), (19, N), (20, 2048)]:
        p, y, _, _ = _binary(seed, n=n, power=power)
        ref = relplot.smECE(p, y.astype(float))
        np.testing.assert_allclose(jc.smooth_ece(p, y), ref, rtol=RTOL)
    # calibrated data has a small smECE, miscalibrated a large one
    p, y, _, _ = _binary(21, n=2048, power=power)
    assert (float(jc.smooth_ece(p, y)) < 0.04) == (power == 1.0)


def test_smooth_ece_multiclass_logits_mask_weights_classwise():
    p, y, m, w = _multiclass(22, scale=3.0)
    conf, correct = relplot.multiclass_logits_to_confidences(np.log(p), y)  # top-label pairs
    ref = relplot.smECE(conf, correct)
    np.testing.assert_allclose(jc.smooth_ece(p, y), ref, rtol=RTOL)
    np.testing.assert_allclose(jc.smooth_ece(np.log(p), y, from_logits=True), ref, rtol=1e-9)
    # a `where` mask is relplot on the kept samples; weights are scale-free
    conf_m, correct_m = relplot.multiclass_logits_to_confidences(p[m], y[m], probs=True)
    np.testing.assert_allclose(jc.smooth_ece(p, y, where=m), relplot.smECE(conf_m, correct_m), rtol=RTOL)
    np.testing.assert_allclose(jc.smooth_ece(p, y, weights=3.7 * w), jc.smooth_ece(p, y, weights=w), rtol=1e-12)
    # classwise: mean of the one-vs-rest smECE, each with its own bandwidth
    ref_cw = np.mean([relplot.smECE(p[:, k], (y == k).astype(float)) for k in range(4)])
    np.testing.assert_allclose(jc.smooth_ece(p, y, mode="classwise"), ref_cw, rtol=RTOL)


def test_smooth_ece_batch_axes_jit_and_edge_values():
    ps, ys = [], []
    for seed in range(3):
        p, y, _, _ = _binary(23 + seed, n=64, power=1 + seed)
        ps.append(p)
        ys.append(y)
    out = jax.jit(jc.smooth_ece)(np.stack(ps), np.stack(ys))
    np.testing.assert_allclose(out, [relplot.smECE(p, y.astype(float)) for p, y in zip(ps, ys)], rtol=RTOL)
    assert np.isnan(jc.smooth_ece(ps[0], ys[0], where=np.zeros(64, bool)))
    # perfect predictions: only the regulariser-free numerator 0 remains
    assert float(jc.smooth_ece(ys[0].astype(float), ys[0])) == 0.0
    exact = np.tile([0.0, 0.5, 1.0, 0.5], 16)
    np.testing.assert_allclose(jc.smooth_ece(exact, ys[1]), relplot.smECE(exact, ys[1].astype(float)), rtol=RTOL)


# ------------------------------------------------------------------------------------------------
# Real data: a LogisticRegression trained here, scored on held-out predictions


def _fit(loader, seed=0):
    x, y = loader(return_X_y=True)
    x_tr, x_te, y_tr, y_te = model_selection.train_test_split(x, y, test_size=0.4, random_state=seed, stratify=y)
    scaler = preprocessing.StandardScaler().fit(x_tr)
    model = linear_model.LogisticRegression(C=10.0, max_iter=2000).fit(scaler.transform(x_tr), y_tr)
    return model.predict_proba(scaler.transform(x_te)), y_te.astype(np.int32)


def test_real_data_breast_cancer_binary():
    probs, y = _fit(datasets.load_breast_cancer)
    p1 = probs[:, 1]
    np.testing.assert_allclose(jc.brier_score(p1, y), sk.brier_score_loss(y, p1), rtol=RTOL)
    np.testing.assert_allclose(jc.brier_score(probs, y), sk.brier_score_loss(y, probs), rtol=RTOL)
    np.testing.assert_allclose(jc.negative_log_likelihood(probs, y), sk.log_loss(y, probs), rtol=1e-9)
    np.testing.assert_allclose(jc.negative_log_likelihood(p1, y), sk.log_loss(y, p1), rtol=1e-9)
    acc_minus_conf = np.mean((p1 >= 0.5) == y) - np.mean(np.maximum(p1, 1 - p1))
    np.testing.assert_allclose(jc.balance_score(p1, y), acc_minus_conf, rtol=RTOL)
    np.testing.assert_allclose(jc.smooth_ece(p1, y), relplot.smECE(p1, y.astype(float)), rtol=RTOL)


def test_real_data_digits_multiclass():
    probs, y = _fit(datasets.load_digits)
    labels = np.arange(10)
    np.testing.assert_allclose(jc.brier_score(probs, y), sk.brier_score_loss(y, probs, labels=labels), rtol=RTOL)
    np.testing.assert_allclose(jc.negative_log_likelihood(probs, y), sk.log_loss(y, probs, labels=labels),
                               rtol=1e-9)
    conf, correct = relplot.multiclass_logits_to_confidences(probs, y, probs=True)
    np.testing.assert_allclose(jc.balance_score(probs, y), np.mean(correct - conf), rtol=RTOL)
    np.testing.assert_allclose(jc.smooth_ece(probs, y), relplot.smECE(conf, correct), rtol=RTOL)


# ------------------------------------------------------------------------------------------------
# Streaming, dtypes, errors, registry


@pytest.mark.parametrize(
    "name,kwargs,multiclass",
    [
        ("brier_score", {}, True),
        ("negative_log_likelihood", dict(from_logits=True), True),
        ("balance_score", {}, False),
        ("soft_balance_score", dict(temperature=0.05, mode="classwise"), True),
    ],
)
def test_streaming_equals_one_shot(name, kwargs, multiclass):
    info = jaxmetrics.registry[name]
    p, y, m, w = _multiclass(27) if multiclass else _binary(27)
    metric = info.streaming(**kwargs)
    state = metric.init()
    parts = []
    for lo, hi in [(0, 17), (17, 100), (100, N)]:
        s = metric.update(metric.init(), p[lo:hi], y[lo:hi], where=m[lo:hi], weights=w[lo:hi])
        state = metric.update(state, p[lo:hi], y[lo:hi], where=m[lo:hi], weights=w[lo:hi])
        parts.append(s)
    one = info.fn(p, y, **kwargs, where=m, weights=w)
    np.testing.assert_allclose(metric.compute(state), one, rtol=1e-12)
    merged = metric.merge(metric.merge(parts[2], parts[0]), parts[1])
    np.testing.assert_allclose(metric.compute(merged), one, rtol=1e-12)


def test_smooth_ece_streaming_automatic_and_classwise():
    p, y, m, w = _multiclass(28)
    metric = jc.smooth_ece_metric(mode="classwise", num_classes=4)
    update = jax.jit(metric.update)
    state = update(update(metric.init(), p[:128], y[:128], where=m[:128]), p[128:], y[128:], where=m[128:])
    np.testing.assert_allclose(metric.compute(state), jc.smooth_ece(p, y, mode="classwise", where=m), rtol=1e-12)
    with pytest.raises(ShapeError, match="num_classes"):
        jc.smooth_ece_metric(mode="classwise")


@pytest.mark.parametrize("low", [jnp.bfloat16, jnp.float16])
def test_low_precision_inputs_give_float32(low):
    p, y, m, w = _binary(29)
    for f in (jc.brier_score, jc.negative_log_likelihood, jc.balance_score, jc.soft_balance_score):
        assert f(jnp.asarray(p, low), y, where=m).dtype == jnp.float32
    if low == jnp.bfloat16:  # smECE accumulates in float32: vs relplot (float64) on the same rounded values
        out = jc.smooth_ece(jnp.asarray(p, low), y)
        assert out.dtype == jnp.float32
        ref = relplot.smECE(np.asarray(jnp.asarray(p, low), np.float64), y.astype(float))
        np.testing.assert_allclose(out, ref, rtol=1e-5)


@pytest.mark.parametrize("fn", [jc.brier_score, jc.negative_log_likelihood, jc.balance_score,
                                jc.soft_balance_score, jc.smooth_ece])
def test_bad_shapes_name_the_argument(fn):
    p, y, _, _ = _multiclass(30, n=16)
    for args, kw, name in [
        ((p, y[:-1]), {}, "probs"),
        ((p, y.astype(np.float64)), {}, "labels"),
        (((p * 10).astype(np.int32), y), {}, "probs"),
        ((p, y), dict(where=np.ones(15, bool)), "where"),
        ((p, y), dict(weights=np.ones((16, 2))), "weights"),
    ]:
        with pytest.raises(ShapeError, match=f"`{name}`"):
            fn(*args, **kw)


def test_registry_entries():
    reg = jaxmetrics.registry
    for name in ("brier_score", "negative_log_likelihood", "balance_score", "soft_balance_score", "smooth_ece"):
        assert reg[name].family == "calibration" and reg[name].streaming is not None and reg[name].oracle
    assert reg["brier_score"].higher_is_better is False and reg["smooth_ece"].higher_is_better is False
    assert reg["negative_log_likelihood"].higher_is_better is False
    assert reg["balance_score"].higher_is_better is None  # signed; 0 is best
    assert reg["balance_score"].soft is jc.soft_balance_score
    assert reg["negative_log_likelihood"].fn is not reg["log_loss"].fn
