"""Oracle, analytic and real-data tests for jaxmetrics.classification.roc (exact and binned AUROC / AP,
ROC and PR curves). Oracle: scikit-learn (METRICS.md §1.3–1.4)."""

import warnings

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402

import jaxmetrics  # noqa: E402
from jaxmetrics.classification import roc  # noqa: E402

skm = pytest.importorskip("sklearn.metrics")

RTOL = 1e-6


@pytest.fixture(autouse=True)
def _quiet_sklearn():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _binary(rng, n, decimals=1, prevalence=0.4):
    scores = np.round(rng.random(n), decimals) if decimals is not None else rng.random(n)
    labels = (rng.random(n) < prevalence).astype(np.int32)
    labels[:2] = [0, 1]  # both classes present
    return scores, labels


def _masked(where, *arrays):
    return [None if a is None else a[where] for a in arrays]


def _counts_probs(rng, n, c):
    """Probabilities that sum to 1 exactly with many ties: small integer counts, normalised."""
    k = rng.integers(0, 4, size=(n, c)).astype(np.float64) + (rng.random((n, c)) < 0.5)
    k[:, 0] += 1  # no all-zero row
    return k / k.sum(-1, keepdims=True)


def _multiclass(rng, n, c):
    probs = _counts_probs(rng, n, c)
    labels = rng.integers(0, c, n).astype(np.int32)
    labels[:c] = np.arange(c)  # every class present
    return probs, labels


# --------------------------------------------------------------------------------------------------
# Binary AUROC


@pytest.mark.parametrize("n", [16, 97, 1000])
@pytest.mark.parametrize("decimals", [1, 2, None])
@pytest.mark.parametrize("mode", ["plain", "weights", "where+weights"])
def test_binary_auroc_matches_sklearn(n, decimals, mode):
    rng = np.random.default_rng(n * 7 + (decimals or 0))
    s, y = _binary(rng, n, decimals)
    weights = rng.random(n) + 0.05 if mode != "plain" else None
    where = rng.random(n) > 0.3 if mode == "where+weights" else None
    if where is not None:
        where[:2] = True
    out = roc.auroc(s, y, where=where, weights=weights)
    sub = np.ones(n, bool) if where is None else where
    ss, yy, ww = _masked(sub, s, y, weights)
    np.testing.assert_allclose(out, skm.roc_auc_score(yy, ss, sample_weight=ww), rtol=RTOL)
    assert out.dtype == jnp.float64


@pytest.mark.parametrize("max_fpr", [0.05, 0.1, 0.3, 0.5, 0.77, 1.0])
@pytest.mark.parametrize("decimals", [1, None])
def test_partial_auroc_max_fpr_matches_sklearn(max_fpr, decimals):
    rng = np.random.default_rng(int(max_fpr * 100) + 3 * (decimals or 0))
    n = 400
    s, y = _binary(rng, n, decimals)
    s = s + 0.3 * y  # some signal
    w = rng.random(n) + 0.1
    where = rng.random(n) > 0.2
    out = roc.auroc(s, y, max_fpr=max_fpr, where=where, weights=w)
    ref = skm.roc_auc_score(y[where], s[where], sample_weight=w[where], max_fpr=max_fpr)
    np.testing.assert_allclose(out, ref, rtol=RTOL)


def test_auroc_with_infinite_scores_equals_finite_stand_ins():
    rng = np.random.default_rng(0)
    s, y = _binary(rng, 64)
    s_inf = s.copy()
    s_inf[:5], s_inf[5:9] = np.inf, -np.inf
    s_fin = s.copy()
    s_fin[:5], s_fin[5:9] = 1e9, -1e9
    np.testing.assert_allclose(roc.auroc(s_inf, y), skm.roc_auc_score(y, s_fin), rtol=RTOL)
    np.testing.assert_allclose(roc.average_precision(s_inf, y), skm.average_precision_score(y, s_fin), rtol=RTOL)


def test_single_class_is_nan_and_no_positive_ap_is_zero():
    rng = np.random.default_rng(1)
    s, _ = _binary(rng, 32)
    ones, zeros = np.ones(32, np.int32), np.zeros(32, np.int32)
    assert np.isnan(roc.auroc(s, ones)) and np.isnan(roc.auroc(s, zeros))
    assert np.isnan(skm.roc_auc_score(ones, s))  # scikit-learn >= 1.6 agrees
    assert np.isnan(roc.auroc(s, zeros, max_fpr=0.5))
    assert float(roc.average_precision(s, zeros)) == 0.0 == skm.average_precision_score(zeros, s)
    # all masked / masking away one class
    y = (s > 0.5).astype(np.int32)
    assert np.isnan(roc.auroc(s, y, where=np.zeros(32, bool)))
    assert np.isnan(roc.auroc(s, y, where=y == 1))
    assert float(roc.average_precision(s, y, where=y == 0)) == 0.0
    assert float(roc.average_precision(s, y, weights=np.zeros(32))) == 0.0


# --------------------------------------------------------------------------------------------------
# Multiclass AUROC and AP


@pytest.mark.parametrize("average", ["macro", "weighted", "micro", None])
@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_ovr_matches_sklearn(average, weighted):
    rng = np.random.default_rng(11 + weighted)
    n, c = 300, 4
    probs, labels = _multiclass(rng, n, c)
    w = rng.random(n) + 0.1 if weighted else None
    out = roc.auroc(probs, labels, multi_class="ovr", average=average, weights=w)
    ref = skm.roc_auc_score(labels, probs, multi_class="ovr", average=average, sample_weight=w)
    np.testing.assert_allclose(out, ref, rtol=RTOL)
    if average is None:
        assert out.shape == (c,)
        np.testing.assert_allclose(roc.auroc(probs, labels, multi_class="ovr", average="none", weights=w), ref,
                                   rtol=RTOL)


@pytest.mark.parametrize("average", ["macro", "weighted", "micro", "none"])
def test_multiclass_ovr_masked_matches_sklearn_on_subset(average):
    rng = np.random.default_rng(5)
    n, c = 256, 3
    probs, labels = _multiclass(rng, n, c)
    where = rng.random(n) > 0.3
    where[:c] = True
    w = rng.random(n) + 0.1
    out = roc.auroc(probs, labels, multi_class="ovr", average=average, where=where, weights=w)
    ref = skm.roc_auc_score(labels[where], probs[where], multi_class="ovr",
                            average=None if average == "none" else average, sample_weight=w[where])
    np.testing.assert_allclose(out, ref, rtol=RTOL)


@pytest.mark.parametrize("average", ["macro", "weighted"])
@pytest.mark.parametrize("c", [3, 5])
def test_multiclass_ovo_matches_sklearn(average, c):
    rng = np.random.default_rng(c)
    n = 240
    probs, labels = _multiclass(rng, n, c)
    where = rng.random(n) > 0.25
    where[:c] = True
    out = roc.auroc(probs, labels, multi_class="ovo", average=average, where=where)
    ref = skm.roc_auc_score(labels[where], probs[where], multi_class="ovo", average=average)
    np.testing.assert_allclose(out, ref, rtol=RTOL)
    # unmasked
    np.testing.assert_allclose(roc.auroc(probs, labels, multi_class="ovo", average=average),
                               skm.roc_auc_score(labels, probs, multi_class="ovo", average=average), rtol=RTOL)


def test_multiclass_absent_class_policy():
    """Undefined classes (pairs) are NaN per class and skipped by the averages."""
    rng = np.random.default_rng(3)
    n, c = 120, 4
    probs, labels = _multiclass(rng, n, c)
    where = labels != 2  # class 2 absent after masking
    per_class = roc.auroc(probs, labels, multi_class="ovr", average="none", where=where)
    assert np.isnan(per_class[2]) and np.all(np.isfinite(np.delete(np.asarray(per_class), 2)))
    np.testing.assert_allclose(roc.auroc(probs, labels, multi_class="ovr", where=where),
                               np.nanmean(per_class), rtol=RTOL)
    ref_w = skm.roc_auc_score(np.eye(c)[labels[where]], probs[where], average="weighted")  # 0-support -> 0
    np.testing.assert_allclose(roc.auroc(probs, labels, multi_class="ovr", average="weighted", where=where),
                               ref_w, rtol=RTOL)
    # ovo: Hand & Till over the present classes (pairs with the absent class are skipped)
    ovo = roc.auroc(probs, labels, multi_class="ovo", where=where)
    pairs = []
    for a, b in [(0, 1), (0, 3), (1, 3)]:
        m = where & ((labels == a) | (labels == b))
        pairs.append(0.5 * (skm.roc_auc_score(labels[m] == a, probs[m, a]) + skm.roc_auc_score(labels[m] == b, probs[m, b])))
    np.testing.assert_allclose(ovo, np.mean(pairs), rtol=RTOL)
    # AP follows sklearn on label_binarize(range(C)): an absent class has AP 0 and counts in the macro.
    ap = roc.average_precision(probs, labels, average="none", where=where)
    assert float(ap[2]) == 0.0
    np.testing.assert_allclose(roc.average_precision(probs, labels, where=where),
                               skm.average_precision_score(np.eye(c)[labels[where]], probs[where]), rtol=RTOL)


def test_multiclass_requires_multi_class_and_rejects_max_fpr():
    probs, labels = _multiclass(np.random.default_rng(0), 16, 3)
    with pytest.raises(jaxmetrics.ShapeError, match="`multi_class`"):
        roc.auroc(probs, labels)
    with pytest.raises(jaxmetrics.ShapeError, match="`max_fpr`"):
        roc.auroc(probs, labels, multi_class="ovr", max_fpr=0.5)
    with pytest.raises(jaxmetrics.ShapeError, match="`average`"):
        roc.auroc(probs, labels, multi_class="ovo", average="micro")
    with pytest.raises(jaxmetrics.ShapeError, match="`max_fpr`"):
        roc.auroc(probs[:, 0], (labels > 0).astype(np.int32), max_fpr=1.5)


@pytest.mark.parametrize("n", [16, 300])
@pytest.mark.parametrize("mode", ["plain", "weights", "where+weights"])
def test_binary_average_precision_matches_sklearn(n, mode):
    rng = np.random.default_rng(n + len(mode))
    s, y = _binary(rng, n, 1, prevalence=0.3)
    w = rng.random(n) + 0.05 if mode != "plain" else None
    where = rng.random(n) > 0.3 if mode == "where+weights" else np.ones(n, bool)
    where[:2] = True
    out = roc.average_precision(s, y, where=where if mode == "where+weights" else None, weights=w)
    ss, yy, ww = _masked(where, s, y, w)
    np.testing.assert_allclose(out, skm.average_precision_score(yy, ss, sample_weight=ww), rtol=RTOL)


@pytest.mark.parametrize("average", ["macro", "weighted", "micro", "none"])
def test_multiclass_average_precision_matches_sklearn(average):
    rng = np.random.default_rng(21)
    n, c = 300, 4
    probs, labels = _multiclass(rng, n, c)
    w = rng.random(n) + 0.1
    where = rng.random(n) > 0.2
    out = roc.average_precision(probs, labels, average=average, where=where, weights=w)
    sk_avg = None if average == "none" else average
    ref = skm.average_precision_score(np.eye(c)[labels[where]], probs[where], average=sk_avg, sample_weight=w[where])
    np.testing.assert_allclose(out, ref, rtol=RTOL)
    # scikit-learn's own multiclass path (all classes present)
    if average != "micro":
        ref2 = skm.average_precision_score(labels, probs, average=sk_avg)
        np.testing.assert_allclose(roc.average_precision(probs, labels, average=average), ref2, rtol=RTOL)


# --------------------------------------------------------------------------------------------------
# Curves


def _check_roc_curve(s, y, where, w):
    n = s.shape[0]
    c = roc.roc_curve(s, y, where=where, weights=w)
    assert c.fpr.shape == c.tpr.shape == c.thresholds.shape == c.valid.shape == (n + 1,)
    sub = np.ones(n, bool) if where is None else where
    ss, yy, ww = _masked(sub, s, y, w)
    fpr, tpr, thr = skm.roc_curve(yy, ss, sample_weight=ww, drop_intermediate=False)
    k = int(np.sum(c.valid))
    assert k == len(fpr) and np.all(np.asarray(c.valid)[:k])
    np.testing.assert_allclose(c.fpr[:k], fpr, rtol=RTOL)
    np.testing.assert_allclose(c.tpr[:k], tpr, rtol=RTOL)
    np.testing.assert_array_equal(c.thresholds[:k], thr)
    for field in (c.fpr, c.tpr, c.thresholds):  # padding repeats the last valid point
        np.testing.assert_array_equal(np.asarray(field)[k:], np.asarray(field)[k - 1])


def _check_pr_curve(s, y, where, w):
    n = s.shape[0]
    c = roc.precision_recall_curve(s, y, where=where, weights=w)
    assert c.precision.shape == c.recall.shape == c.thresholds.shape == c.valid.shape == (n + 1,)
    sub = np.ones(n, bool) if where is None else where
    ss, yy, ww = _masked(sub, s, y, w)
    p, r, thr = skm.precision_recall_curve(yy, ss, sample_weight=ww, drop_intermediate=False)
    k = int(np.sum(c.valid))
    assert k == len(p)
    np.testing.assert_allclose(c.precision[:k], p, rtol=RTOL)
    np.testing.assert_allclose(c.recall[:k], r, rtol=RTOL)
    np.testing.assert_array_equal(c.thresholds[: k - 1], thr)
    assert np.asarray(c.thresholds)[k - 1] == np.inf
    np.testing.assert_array_equal(np.asarray(c.precision)[k - 1:], 1.0)
    np.testing.assert_array_equal(np.asarray(c.recall)[k - 1:], 0.0)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("mode", ["plain", "weights", "where+weights"])
def test_curves_match_sklearn(seed, mode):
    rng = np.random.default_rng(seed)
    n = [16, 40, 200, 999][seed]
    s, y = _binary(rng, n, [1, 2, None, 1][seed])
    w = rng.random(n) + 0.05 if mode != "plain" else None
    where = None
    if mode == "where+weights":
        where = rng.random(n) > 0.3
        where[:2] = True
        w[rng.random(n) < 0.1] = 0.0  # zero weights behave like masked samples
        w[:2] = 1.0
    _check_roc_curve(s, y, where, w)
    _check_pr_curve(s, y, where, w)


def test_curves_without_positives_or_negatives():
    s = np.round(np.random.default_rng(0).random(24), 1)
    zeros = np.zeros(24, np.int32)
    c = roc.roc_curve(s, zeros)
    fpr, tpr, _ = skm.roc_curve(zeros, s, drop_intermediate=False)
    k = int(c.valid.sum())
    np.testing.assert_allclose(c.fpr[:k], fpr)
    assert np.all(np.isnan(c.tpr)) and np.all(np.isnan(tpr))
    pr = roc.precision_recall_curve(s, zeros)
    p, r, _ = skm.precision_recall_curve(zeros, s, drop_intermediate=False)
    np.testing.assert_allclose(pr.precision[:k], p)
    np.testing.assert_allclose(pr.recall[:k], r)  # recall = 1 (then the final 0), as sklearn
    # all masked: only the (0, 0) / (1, 0) point remains
    c = roc.roc_curve(s, zeros, where=np.zeros(24, bool))
    assert int(c.valid.sum()) == 1 and c.thresholds[0] == np.inf
    pr = roc.precision_recall_curve(s, zeros, where=np.zeros(24, bool))
    assert int(pr.valid.sum()) == 1 and pr.precision[0] == 1 and pr.recall[0] == 0


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 40),
    levels=st.integers(1, 6),
    seed=st.integers(0, 2**31 - 1),
    use_w=st.booleans(),
)
def test_property_against_sklearn(n, levels, seed, use_w):
    rng = np.random.default_rng(seed)
    s = rng.integers(0, levels, n).astype(np.float64) / levels  # heavy ties
    y = rng.integers(0, 2, n).astype(np.int32)
    w = rng.random(n) + 0.1 if use_w else None
    both = 0 < y.sum() < n
    out = roc.auroc(s, y, weights=w)
    if both:
        np.testing.assert_allclose(out, skm.roc_auc_score(y, s, sample_weight=w), rtol=RTOL)
    else:
        assert np.isnan(out)
    np.testing.assert_allclose(roc.average_precision(s, y, weights=w),
                               skm.average_precision_score(y, s, sample_weight=w), rtol=RTOL, atol=1e-12)
    if both:
        _check_roc_curve(s, y, None, w)
    _check_pr_curve(s, y, None, w)


# --------------------------------------------------------------------------------------------------
# Analytic identities and values (METRICS.md §1.3, §1.4)


def _tie_free(rng, n, shift=0.7, prevalence=0.3):
    y = (rng.random(n) < prevalence).astype(np.int32)
    s = rng.normal(size=n) + shift * y
    return s, y


def test_random_scores_give_auroc_one_half_and_ap_prevalence():
    rng = np.random.default_rng(123)
    n, prev = 4000, 0.3
    y = (rng.random(n) < prev).astype(np.int32)
    s = rng.random(n)
    n1, n0 = y.sum(), n - y.sum()
    se = np.sqrt((n1 + n0 + 1) / (12.0 * n1 * n0))  # null standard error of AUROC
    assert abs(float(roc.auroc(s, y)) - 0.5) < 4 * se
    # random-score AP ≈ prevalence (slightly above; its sd ~ prev·sqrt((1-prev)/n1))
    assert abs(float(roc.average_precision(s, y)) - y.mean()) < 0.03


def test_auroc_identity_one_minus_expected_fpr():
    rng = np.random.default_rng(7)
    s, y = _tie_free(rng, 2000)
    neg = s[y == 0]
    fpr_at_pos = (neg[None, :] >= s[y == 1][:, None]).mean(1)  # FPR(t) for t = each positive's score
    np.testing.assert_allclose(roc.auroc(s, y), 1.0 - fpr_at_pos.mean(), rtol=1e-12)


def test_ap_identity():
    rng = np.random.default_rng(8)
    s, y = _tie_free(rng, 2000)
    t = s[y == 1]
    fpr = (s[y == 0][None, :] >= t[:, None]).mean(1)
    p_ge = (s[None, :] >= t[:, None]).mean(1)
    expected = 1.0 - (1 - y.mean()) * np.mean(fpr / p_ge)
    np.testing.assert_allclose(roc.average_precision(s, y), expected, rtol=1e-12)


def test_auroc_invariant_to_class_reweighting_but_ap_is_not():
    rng = np.random.default_rng(9)
    s, y = _tie_free(rng, 500)
    w = np.where(y == 1, 3.0, 0.5)
    np.testing.assert_allclose(roc.auroc(s, y, weights=w), roc.auroc(s, y), rtol=1e-12)
    assert abs(float(roc.average_precision(s, y, weights=w)) - float(roc.average_precision(s, y))) > 1e-3


def test_breast_cancer_logistic_regression():
    datasets = pytest.importorskip("sklearn.datasets")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = datasets.load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(y))
    train, test = idx[:300], idx[300:]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=1000)).fit(x[train], y[train])
    p = model.predict_proba(x[test])[:, 1]
    yt = y[test].astype(np.int32)
    a = roc.auroc(p, yt)
    np.testing.assert_allclose(a, skm.roc_auc_score(yt, p), rtol=RTOL)
    np.testing.assert_allclose(roc.average_precision(p, yt), skm.average_precision_score(yt, p), rtol=RTOL)
    np.testing.assert_allclose(roc.auroc(p, yt, max_fpr=0.1), skm.roc_auc_score(yt, p, max_fpr=0.1), rtol=RTOL)
    assert float(a) > 0.95
    # binned on real probabilities: close to exact
    assert abs(float(roc.binned_auroc(p, yt)) - float(a)) < 2e-3


# --------------------------------------------------------------------------------------------------
# Batching, jit, dtypes, gradients, errors


def test_leading_axes_match_loop_and_jit():
    rng = np.random.default_rng(4)
    b, n = 3, 64
    s = np.round(rng.random((b, n)), 1)
    y = (rng.random((b, n)) < 0.5).astype(np.int32)
    where = rng.random(n) > 0.2  # broadcast over the batch axis
    for fn in (roc.auroc, roc.average_precision, roc.binned_auroc, roc.binned_average_precision):
        batched = jax.jit(lambda s, y, m, fn=fn: fn(s, y, where=m))(s, y, where)
        looped = [fn(s[i], y[i], where=where) for i in range(b)]
        np.testing.assert_allclose(batched, looped, rtol=1e-12)
    c = roc.roc_curve(s, y, where=where)
    assert c.fpr.shape == (b, n + 1)
    np.testing.assert_allclose(c.tpr[1], roc.roc_curve(s[1], y[1], where=where).tpr, rtol=1e-12)
    probs = _counts_probs(rng, n, 3)
    labels = rng.integers(0, 3, (b, n)).astype(np.int32)
    pb = np.broadcast_to(probs, (b, n, 3))
    for kw in (dict(multi_class="ovr"), dict(multi_class="ovo"), dict(multi_class="ovr", average="micro")):
        batched = jax.vmap(lambda p, l, kw=kw: roc.auroc(p, l, **kw))(pb, labels)
        np.testing.assert_allclose(roc.auroc(pb, labels, **kw), batched, rtol=1e-12)
        np.testing.assert_allclose(batched[2], roc.auroc(probs, labels[2], **kw), rtol=1e-12)


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16, jnp.float32])
def test_low_precision_inputs_give_float32(dtype):
    rng = np.random.default_rng(0)
    s, y = _binary(rng, 64)
    s_low = jnp.asarray(s, dtype)
    ref_s = np.asarray(s_low, np.float64)
    for fn in (roc.auroc, roc.average_precision, roc.binned_auroc):
        out = fn(s_low, y)
        assert out.dtype == jnp.float32
        np.testing.assert_allclose(out, fn(ref_s, y), rtol=1e-6)
    assert roc.roc_curve(s_low, y).thresholds.dtype == jnp.float32
    assert roc.auroc(s, y).dtype == jnp.float64


def _edge_inputs():
    rng = np.random.default_rng(0)
    s, y = _binary(rng, 32)
    s_inf = s.copy()
    s_inf[:3], s_inf[3:6] = np.inf, -np.inf
    yield "ordinary", s, y, None
    yield "all masked", s, y, np.zeros(32, bool)
    yield "single class", s, np.ones(32, np.int32), None
    yield "no positives", s, np.zeros(32, np.int32), None
    yield "all tied", np.zeros(32), y, None
    yield "inf scores", s_inf, y, None


@pytest.mark.parametrize("label,s,y,where", list(_edge_inputs()), ids=[e[0] for e in _edge_inputs()])
def test_gradients_finite_and_zero(label, s, y, where):
    fns = [
        roc.auroc,
        lambda s, y, where: roc.auroc(s, y, max_fpr=0.3, where=where),
        roc.average_precision,
        roc.binned_auroc,
        roc.binned_average_precision,
        lambda s, y, where: roc.roc_curve(s, y, where=where).fpr,
        lambda s, y, where: roc.precision_recall_curve(s, y, where=where).precision,
    ]
    for fn in fns:
        g = jax.grad(lambda x, fn=fn: jnp.sum(fn(x, y, where=where)))(jnp.asarray(s))
        assert np.all(np.isfinite(g)) and np.all(g == 0), label
    # thresholds are the scores themselves: gradient is a finite selection
    g = jax.grad(lambda x: jnp.sum(roc.roc_curve(x, y, where=where).thresholds))(jnp.asarray(s))
    assert np.all(np.isfinite(g))


def test_multiclass_gradients_finite():
    rng = np.random.default_rng(0)
    probs, labels = _multiclass(rng, 32, 3)
    for where in (None, np.zeros(32, bool), labels == 0):
        for kw in (dict(multi_class="ovr"), dict(multi_class="ovr", average="weighted"),
                   dict(multi_class="ovo"), dict(multi_class="ovo", average="weighted")):
            g = jax.grad(lambda p, kw=kw: roc.auroc(p, labels, where=where, **kw))(jnp.asarray(probs))
            assert np.all(np.isfinite(g))
        g = jax.grad(lambda p: roc.average_precision(p, labels, where=where))(jnp.asarray(probs))
        assert np.all(np.isfinite(g))


def test_bad_shapes_name_the_argument():
    s, y = _binary(np.random.default_rng(0), 16)
    cases = [
        (lambda: roc.auroc(s, y[:-1]), "labels"),
        (lambda: roc.auroc(s.astype(np.int32), y), "scores"),
        (lambda: roc.auroc(s, y.astype(np.float64)), "labels"),
        (lambda: roc.auroc(s, y, where=np.ones(15, bool)), "where"),
        (lambda: roc.average_precision(s, y, weights=np.ones((16, 2))), "weights"),
        (lambda: roc.roc_curve(np.ones((16, 3)), y), "labels"),
        (lambda: roc.auroc(np.ones((16, 3)), y[:8], multi_class="ovr"), "labels"),
        (lambda: roc.auroc(np.float64(1.0), y), "scores"),
        (lambda: roc.auroc_metric(num_thresholds=0), "num_thresholds"),
        (lambda: roc.binned_auroc(s, y[:-1]), "labels"),
    ]
    for call, name in cases:
        with pytest.raises(jaxmetrics.ShapeError, match=f"`{name}`"):
            call()


def test_registry_entries():
    reg = jaxmetrics.registry
    for name in ("auroc", "average_precision", "roc_curve", "precision_recall_curve"):
        assert reg[name].streaming is None and not reg[name].differentiable
    assert reg["binned_auroc"].streaming is roc.auroc_metric
    assert reg["binned_average_precision"].streaming is roc.average_precision_metric


# --------------------------------------------------------------------------------------------------
# Binned streaming metrics


def _quantised(s, t):
    return np.minimum(np.floor(np.clip(s, 0, 1) * t), t - 1)


def _numpy_binned_auroc(s, y, w, t):
    """Independent reference: pairwise Mann–Whitney on bin indices (½ credit within a bin)."""
    b = _quantised(s, t)
    bp, bn = b[y == 1], b[y != 1]
    wp, wn = w[y == 1], w[y != 1]
    gt = (bp[:, None] > bn[None, :]) + 0.5 * (bp[:, None] == bn[None, :])
    return float(wp @ gt @ wn / (wp.sum() * wn.sum()))


@pytest.mark.parametrize("t", [1, 7, 50, 200])
def test_binned_equals_exact_on_quantised_scores(t):
    rng = np.random.default_rng(t)
    n = 600
    y = (rng.random(n) < 0.4).astype(np.int32)
    s = np.clip(rng.normal(0.5 + 0.15 * y, 0.25), -0.1, 1.1)  # includes values outside [0, 1]
    s[:3] = [0.0, 1.0, 0.5]
    w = rng.random(n) + 0.1
    where = rng.random(n) > 0.2
    wm = w * where
    out = roc.binned_auroc(s, y, num_thresholds=t, where=where, weights=w)
    np.testing.assert_allclose(out, _numpy_binned_auroc(s, y, wm, t), rtol=1e-10)
    q = _quantised(s, t)
    np.testing.assert_allclose(out, skm.roc_auc_score(y[where], q[where], sample_weight=w[where]), rtol=1e-10)
    ap = roc.binned_average_precision(s, y, num_thresholds=t, where=where, weights=w)
    np.testing.assert_allclose(ap, skm.average_precision_score(y[where], q[where], sample_weight=w[where]),
                               rtol=1e-10)


@pytest.mark.parametrize("ctor", [roc.auroc_metric, roc.average_precision_metric])
def test_binned_streaming_equals_one_shot(ctor):
    rng = np.random.default_rng(0)
    n = 1000
    y = (rng.random(n) < 0.3).astype(np.int32)
    s = rng.beta(2 + 2 * y, 3)
    w = rng.random(n)
    m = ctor(num_thresholds=64)
    one = (roc.binned_auroc if ctor is roc.auroc_metric else roc.binned_average_precision)(
        s, y, num_thresholds=64, weights=w)
    state = m.init()
    assert state.pos.shape == (64,) and state.pos.dtype == jnp.float64
    update = jax.jit(m.update)
    bounds = [0, 17, 400, 401, 999, n]
    parts = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        state = update(state, s[lo:hi], y[lo:hi], weights=w[lo:hi])
        parts.append(update(m.init(), s[lo:hi], y[lo:hi], weights=w[lo:hi]))
    assert state.pos.shape == (64,)
    np.testing.assert_allclose(m.compute(state), one, rtol=1e-12)
    merged = parts[0]
    for p in parts[:0:-1]:
        merged = m.merge(p, merged)
    np.testing.assert_allclose(m.compute(merged), one, rtol=1e-12)
    # state does not grow with N; init(dtype) fixes the dtype
    assert m.init(jnp.float32).pos.dtype == jnp.float32


def test_binned_edge_values():
    s = np.array([0.2, 0.2, 0.7, 0.9])
    assert np.isnan(roc.binned_auroc(s, np.ones(4, np.int32)))
    assert float(roc.binned_average_precision(s, np.zeros(4, np.int32))) == 0.0
    # a single bin ties everything: AUROC 1/2, AP = prevalence
    y = np.array([0, 1, 0, 1], np.int32)
    assert float(roc.binned_auroc(s, y, num_thresholds=1)) == 0.5
    assert float(roc.binned_average_precision(s, y, num_thresholds=1)) == 0.5


def test_binned_approximation_error_is_small():
    """Measured (bench/binned_error.py): |binned − exact| ≲ 3e-4 (AUROC), ≲ 1.3e-3 (AP) at T = 200."""
    rng = np.random.default_rng(42)
    n = 3000
    y = (rng.random(n) < 0.3).astype(np.int32)
    for s in (rng.random(n), 1 / (1 + np.exp(-(rng.normal(size=n) + 1.5 * y)))):
        for t, tol_roc, tol_ap in ((50, 3e-3, 1e-2), (200, 1e-3, 3e-3), (1000, 1e-4, 1e-3)):
            err_roc = abs(float(roc.binned_auroc(s, y, num_thresholds=t)) - float(roc.auroc(s, y)))
            err_ap = abs(float(roc.binned_average_precision(s, y, num_thresholds=t))
                         - float(roc.average_precision(s, y)))
            assert err_roc < tol_roc and err_ap < tol_ap, (t, err_roc, err_ap)
