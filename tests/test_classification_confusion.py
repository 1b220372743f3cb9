"""Confusion-count metrics and log loss against scikit-learn (the independent oracle)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, strategies as st
from sklearn import datasets, linear_model, metrics as sk, model_selection, preprocessing

import jaxmetrics
from jaxmetrics import classification as jc

RTOL = 1e-6


def _data(seed, n=300, c=4, ties=True):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, c))
    if ties:
        logits = np.round(logits, 1)
    labels = rng.integers(0, c, n)
    where = rng.random(n) > 0.25
    weights = rng.random(n) + 0.05
    return logits, labels, where, weights


def _sk_preds(logits):
    return np.argmax(logits, -1)  # first maximum, as jnp.argmax


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", "none"])
@pytest.mark.parametrize("masked", [False, True])
def test_precision_recall_fbeta_match_sklearn(average, masked):
    logits, labels, where, weights = _data(1)
    c = logits.shape[1]
    sel = where if masked else np.ones_like(where)
    kw = dict(where=where if masked else None, weights=weights, average=average)
    sk_avg = None if average == "none" else average
    skw = dict(sample_weight=weights[sel], labels=np.arange(c), average=sk_avg, zero_division=0.0)
    y, p = labels[sel], _sk_preds(logits)[sel]
    np.testing.assert_allclose(jc.precision(logits, labels, **kw), sk.precision_score(y, p, **skw), rtol=RTOL)
    np.testing.assert_allclose(jc.recall(logits, labels, **kw), sk.recall_score(y, p, **skw), rtol=RTOL)
    np.testing.assert_allclose(jc.f1(logits, labels, **kw), sk.f1_score(y, p, **skw), rtol=RTOL)
    np.testing.assert_allclose(
        jc.f_beta(logits, labels, beta=0.5, **kw), sk.fbeta_score(y, p, beta=0.5, **skw), rtol=RTOL
    )


def test_absent_classes_use_zero_division_like_sklearn():
    labels = np.array([0, 0, 1, 1, 1])
    preds = np.array([0, 1, 1, 1, 0])
    for zd in (0.0, 1.0):
        for fn, skfn in [(jc.precision, sk.precision_score), (jc.recall, sk.recall_score), (jc.f1, sk.f1_score)]:
            ours = fn(preds, labels, num_classes=4, average="macro", zero_division=zd)
            ref = skfn(labels, preds, labels=np.arange(4), average="macro", zero_division=zd)
            np.testing.assert_allclose(ours, ref, rtol=RTOL)


@given(seed=st.integers(0, 10_000), c=st.integers(2, 6), masked=st.booleans())
def test_matrix_metrics_match_sklearn_property(seed, c, masked):
    logits, labels, where, weights = _data(seed, n=64, c=c)
    sel = where if masked else np.ones_like(where)
    if not sel.any():
        return
    kw = dict(where=where if masked else None, weights=weights)
    y, p, w = labels[sel], _sk_preds(logits)[sel], weights[sel]
    np.testing.assert_allclose(
        jc.confusion_matrix(logits, labels, **kw), sk.confusion_matrix(y, p, labels=np.arange(c), sample_weight=w),
        rtol=RTOL,
    )
    np.testing.assert_allclose(jc.accuracy(logits, labels, **kw), sk.accuracy_score(y, p, sample_weight=w), rtol=RTOL)
    np.testing.assert_allclose(
        jc.matthews_corrcoef(logits, labels, **kw), sk.matthews_corrcoef(y, p, sample_weight=w), rtol=RTOL, atol=1e-12
    )
    np.testing.assert_allclose(
        jc.balanced_accuracy(logits, labels, **kw), sk.balanced_accuracy_score(y, p, sample_weight=w), rtol=RTOL
    )
    for kappa_w in (None, "linear", "quadratic"):
        np.testing.assert_allclose(
            jc.cohen_kappa(logits, labels, kappa_weights=kappa_w, **kw),
            sk.cohen_kappa_score(y, p, weights=kappa_w, sample_weight=w),
            rtol=RTOL, atol=1e-12,
        )


def test_confusion_matrix_normalize_matches_sklearn():
    logits, labels, _, weights = _data(3)
    p = _sk_preds(logits)
    for norm in ("true", "pred", "all"):
        np.testing.assert_allclose(
            jc.confusion_matrix(logits, labels, normalize=norm, weights=weights),
            sk.confusion_matrix(labels, p, normalize=norm, sample_weight=weights),
            rtol=RTOL,
        )


def test_balanced_accuracy_adjusted_and_absent_class():
    labels = np.array([0, 0, 0, 1, 1, 2])
    preds = np.array([0, 3, 0, 1, 0, 2])  # class 3 is predicted but never a label
    for adjusted in (False, True):
        np.testing.assert_allclose(
            jc.balanced_accuracy(preds, labels, num_classes=4, adjusted=adjusted),
            sk.balanced_accuracy_score(labels, preds, adjusted=adjusted),
            rtol=RTOL,
        )


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracy_matches_sklearn(k):
    rng = np.random.default_rng(k)
    logits = rng.normal(size=(200, 5))  # tie-free
    labels = rng.integers(0, 5, 200)
    w = rng.random(200)
    np.testing.assert_allclose(
        jc.accuracy(logits, labels, k=k, weights=w),
        sk.top_k_accuracy_score(labels, logits, k=k, sample_weight=w, labels=np.arange(5)),
        rtol=RTOL,
    )


def test_binary_inputs_threshold_and_integer_predictions():
    rng = np.random.default_rng(5)
    scores = np.round(rng.random(100), 1)
    labels = rng.integers(0, 2, 100)
    for t in (0.3, 0.5, 0.7):
        p = (scores > t).astype(int)
        np.testing.assert_allclose(jc.f1(scores, labels, threshold=t), sk.f1_score(labels, p), rtol=RTOL)
        np.testing.assert_allclose(jc.accuracy(scores, labels, threshold=t), sk.accuracy_score(labels, p), rtol=RTOL)
        np.testing.assert_allclose(jc.f1(p, labels, num_classes=2), sk.f1_score(labels, p), rtol=RTOL)
        np.testing.assert_allclose(
            jc.matthews_corrcoef(scores, labels, threshold=t), sk.matthews_corrcoef(labels, p), rtol=RTOL, atol=1e-12
        )


@pytest.mark.parametrize("from_logits", [False, True])
def test_log_loss_matches_sklearn(from_logits):
    logits, labels, where, weights = _data(7, ties=False)
    probs = np.asarray(jax.nn.softmax(logits, -1))
    x = logits if from_logits else probs
    ours = jc.log_loss(x, labels, from_logits=from_logits, where=where, weights=weights)
    ref = sk.log_loss(labels[where], probs[where], sample_weight=weights[where], labels=np.arange(4))
    np.testing.assert_allclose(ours, ref, rtol=RTOL)
    # binary form
    z = logits[:, 0]
    pb = 1 / (1 + np.exp(-z))
    yb = labels % 2
    xb = z if from_logits else pb
    np.testing.assert_allclose(jc.log_loss(xb, yb, from_logits=from_logits), sk.log_loss(yb, pb), rtol=RTOL)


def test_log_loss_clips_like_sklearn():
    probs = np.array([[1.0, 0.0], [0.0, 1.0], [0.3, 0.7]])
    labels = np.array([1, 1, 0])
    np.testing.assert_allclose(jc.log_loss(probs, labels), sk.log_loss(labels, probs), rtol=RTOL)


def test_undefined_cases_have_documented_answers():
    labels = np.array([0, 0, 0, 0])
    preds = np.array([0, 0, 0, 0])
    none = np.zeros(4, bool)
    assert float(jc.matthews_corrcoef(preds, labels, num_classes=2)) == 0.0  # constant marginals
    assert np.isnan(jc.cohen_kappa(preds, labels, num_classes=2))  # chance agreement 1
    assert np.isnan(jc.accuracy(preds, labels, where=none))  # no samples
    assert np.isnan(jc.log_loss(np.full(4, 0.5), labels, where=none))
    assert float(jc.precision(preds, labels, num_classes=2)) == 0.0  # zero_division
    assert float(jc.precision(preds, labels, num_classes=2, zero_division=1.0)) == 1.0


def test_out_of_range_labels_are_ignored_and_validate_rejects_them():
    logits = np.array([[2.0, 0.0], [0.0, 2.0], [0.0, 2.0]])
    labels = np.array([0, 1, -1])  # -1: padding
    np.testing.assert_allclose(jc.accuracy(logits, labels, where=labels >= 0), 1.0)
    np.testing.assert_allclose(jc.confusion_matrix(logits, labels).sum(), 2.0)
    with pytest.raises(jaxmetrics.ValidationError, match="labels"):
        jaxmetrics.validate(logits=logits, labels=labels)


def test_leading_axes_are_batch_axes():
    logits, labels, _, weights = _data(11, n=64)
    stacked = np.stack([logits, logits[::-1]]), np.stack([labels, labels[::-1]])
    out = jc.f1(*stacked, average="macro")
    for i in range(2):
        np.testing.assert_allclose(out[i], jc.f1(stacked[0][i], stacked[1][i], average="macro"), rtol=1e-12)
    cm = jc.confusion_matrix(*stacked)
    assert cm.shape == (2, 4, 4)
    for fn in (jc.accuracy, lambda x, y: jc.log_loss(x, y, from_logits=True)):
        out = fn(*stacked)
        assert out.shape == (2,)
        for i in range(2):
            np.testing.assert_allclose(out[i], fn(stacked[0][i], stacked[1][i]), rtol=1e-12)


def test_float32_default_and_bf16_promotion():
    logits, labels, _, _ = _data(2)
    assert jc.accuracy(jnp.asarray(logits, jnp.bfloat16), labels).dtype == jnp.float32
    assert jc.log_loss(jnp.asarray(logits, jnp.float16), labels, from_logits=True).dtype == jnp.float32


def test_real_data_breast_cancer_and_wine_match_sklearn():
    for loader in (datasets.load_breast_cancer, datasets.load_wine):
        x, y = loader(return_X_y=True)
        x_tr, x_te, y_tr, y_te = model_selection.train_test_split(x, y, test_size=0.4, random_state=0, stratify=y)
        scaler = preprocessing.StandardScaler().fit(x_tr)
        clf = linear_model.LogisticRegression(max_iter=2000, C=0.05).fit(scaler.transform(x_tr), y_tr)
        probs = clf.predict_proba(scaler.transform(x_te))
        pred = probs.argmax(-1)
        c = probs.shape[1]
        np.testing.assert_allclose(jc.accuracy(probs, y_te), sk.accuracy_score(y_te, pred), rtol=RTOL)
        np.testing.assert_allclose(
            jc.f1(probs, y_te, average="macro"), sk.f1_score(y_te, pred, average="macro"), rtol=RTOL
        )
        np.testing.assert_allclose(jc.matthews_corrcoef(probs, y_te), sk.matthews_corrcoef(y_te, pred), rtol=RTOL)
        np.testing.assert_allclose(jc.cohen_kappa(probs, y_te), sk.cohen_kappa_score(y_te, pred), rtol=RTOL)
        np.testing.assert_allclose(jc.log_loss(probs, y_te), sk.log_loss(y_te, probs, labels=np.arange(c)), rtol=RTOL)
        jaxmetrics.validate(probs=probs, labels=y_te)


def test_streaming_over_real_batches_equals_sklearn():
    x, y = datasets.load_digits(return_X_y=True)
    clf = linear_model.LogisticRegression(max_iter=300, C=0.01).fit(x[:1000], y[:1000])
    probs, labels = clf.predict_proba(x[1000:]), y[1000:]
    m = jc.f1_metric(num_classes=10, average="weighted")
    step = jax.jit(m.update)
    state = m.init()
    for lo in range(0, len(labels), 128):
        state = step(state, probs[lo:lo + 128], labels[lo:lo + 128])
    np.testing.assert_allclose(
        m.compute(state), sk.f1_score(labels, probs.argmax(-1), average="weighted"), rtol=RTOL
    )
