"""Oracle, analytic and real-data tests for jaxmetrics.classification.roc (exact and binned AUROC / AP,
ROC and PR curves). Oracle: scikit-learn (METRICS.md §1.3–1.4).

Compilation dominates the run time on CPU, so the tests reuse a few fixed shapes (N = 64, 512, 2000)
and express smaller or masked problems with ``where`` — which is also what the library asks of users.
"""

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
N, N_BIG = 256, 2000  # the shared problem size (smaller problems are masked) and a large one
C = 4


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


def _mask_weights(rng, n, mode):
    """(where, weights) arrays for a mode; always arrays so that every mode shares one compilation."""
    where = rng.random(n) > 0.3 if "where" in mode else np.ones(n, bool)
    where[:2] = True
    weights = rng.random(n) + 0.05 if "weights" in mode else np.ones(n)
    return where, weights


def _counts_probs(rng, n, c):
    """Probabilities that sum to 1 exactly with many ties: small integer counts, normalised."""
    k = rng.integers(0, 4, size=(n, c)).astype(np.float64) + (rng.random((n, c)) < 0.5)
    k[:, 0] += 1  # no all-zero row
    return k / k.sum(-1, keepdims=True)


def _multiclass(rng, n, c=C):
    probs = _counts_probs(rng, n, c)
    labels = rng.integers(0, c, n).astype(np.int32)
    labels[:c] = np.arange(c)  # every class present
    return probs, labels


MODES = ["plain", "weights", "where+weights"]


# --------------------------------------------------------------------------------------------------
# Binary AUROC / AP


def test_binary_auroc_and_ap_match_sklearn():
    rng = np.random.default_rng(0)
    n = N
    for decimals in (1, 2, None):
        for mode in MODES:
            s, y = _binary(rng, n, decimals)
            where, w = _mask_weights(rng, n, mode)
            a = roc.auroc(s, y, where=where, weights=w)
            ap = roc.average_precision(s, y, where=where, weights=w)
            ref_a = skm.roc_auc_score(y[where], s[where], sample_weight=w[where])
            ref_ap = skm.average_precision_score(y[where], s[where], sample_weight=w[where])
            np.testing.assert_allclose(a, ref_a, rtol=RTOL, err_msg=f"{decimals} {mode}")
            np.testing.assert_allclose(ap, ref_ap, rtol=RTOL, err_msg=f"{decimals} {mode}")
            assert a.dtype == ap.dtype == jnp.float64


@pytest.mark.parametrize("max_fpr", [0.1, 0.37, 1.0])
def test_partial_auroc_max_fpr_matches_sklearn(max_fpr):
    rng = np.random.default_rng(int(max_fpr * 100))
    for decimals in (1, None):
        s, y = _binary(rng, N, decimals)
        s = s + 0.3 * y  # some signal
        where, w = _mask_weights(rng, N, "where+weights")
        out = roc.auroc(s, y, max_fpr=max_fpr, where=where, weights=w)
        ref = skm.roc_auc_score(y[where], s[where], sample_weight=w[where], max_fpr=max_fpr)
        np.testing.assert_allclose(out, ref, rtol=RTOL)


def test_infinite_scores_equal_finite_stand_ins():
    rng = np.random.default_rng(0)
    s, y = _binary(rng, N)
    s_inf, s_fin = s.copy(), s.copy()
    s_inf[:5], s_inf[5:9] = np.inf, -np.inf
    s_fin[:5], s_fin[5:9] = 1e9, -1e9
    kw = dict(where=np.ones(N, bool), weights=np.ones(N))
    np.testing.assert_allclose(roc.auroc(s_inf, y, **kw), skm.roc_auc_score(y, s_fin), rtol=RTOL)
    np.testing.assert_allclose(roc.average_precision(s_inf, y, **kw), skm.average_precision_score(y, s_fin),
                               rtol=RTOL)


def _signed_special(rng, n):
    """Signed scores with ties across zero (-0.0 and 0.0), ±inf, subnormals and repeated values."""
    s = np.round(rng.normal(size=n), 1)
    s[:6] = [0.0, -0.0, np.inf, -np.inf, 5e-324, -5e-324]
    s[6:12] = s[12:18]  # more exact ties
    return s


def test_unweighted_fast_path_matches_sklearn():
    """Without ``weights`` the metrics sort one packed integer key: signed and unsigned scores, ties
    (also across ±0), ±inf, subnormals, masks, float32 and float64 — against scikit-learn and against
    the weighted path with unit weights."""
    rng = np.random.default_rng(11)
    for kind in ("signed", "unit", "negative"):
        for dtype in (np.float64, np.float32):
            s = _signed_special(rng, N) if kind == "signed" else np.round(rng.random(N), 2)
            if kind == "negative":
                s = -s - 1.0  # every score negative: only the second sort holds samples
            s = s.astype(dtype)
            y = (rng.random(N) < 0.4).astype(np.int32)
            y[:12] = [0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0]
            for where in (None, rng.random(N) > 0.3):
                m = np.ones(N, bool) if where is None else where
                ss, yy = s[m].astype(np.float64), y[m]
                ss = np.where(np.isinf(ss), np.sign(ss) * 1e300, ss)  # scikit-learn rejects inf
                msg = f"{kind} {dtype.__name__} masked={where is not None}"
                np.testing.assert_allclose(roc.auroc(s, y, where=where), skm.roc_auc_score(yy, ss), rtol=RTOL,
                                           err_msg=msg)
                if dtype == np.float64:
                    np.testing.assert_allclose(roc.auroc(s, y, max_fpr=0.3, where=where),
                                               skm.roc_auc_score(yy, ss, max_fpr=0.3), rtol=RTOL, err_msg=msg)
                np.testing.assert_allclose(roc.average_precision(s, y, where=where),
                                           skm.average_precision_score(yy, ss), rtol=RTOL, err_msg=msg)
                if dtype == np.float32:
                    continue  # the curves' float32 path is the same code (compile time)
                w = np.ones(N)
                for fn in (roc.roc_curve, roc.precision_recall_curve):
                    fast, ref = fn(s, y, where=where), fn(s, y, where=where, weights=w)
                    for a, b in zip(fast, ref):
                        np.testing.assert_allclose(a, b, rtol=RTOL, err_msg=f"{fn.__name__} {msg}")
                fpr, tpr, thr = skm.roc_curve(yy, ss, drop_intermediate=False)
                c = roc.roc_curve(s, y, where=where)
                k = int(np.sum(c.valid))
                assert k == len(fpr), msg
                np.testing.assert_allclose(c.fpr[:k], fpr, rtol=RTOL, err_msg=msg)
                np.testing.assert_allclose(c.tpr[:k], tpr, rtol=RTOL, err_msg=msg)
                ours = np.asarray(c.thresholds[1:k], np.float64)
                np.testing.assert_array_equal(np.where(np.isinf(ours), np.sign(ours) * 1e300, ours), thr[1:],
                                              err_msg=msg)


def test_unweighted_fast_path_batches_mix_signs():
    """A batch whose rows need the second (negative-score) sort or not, with different masks; under
    ``vmap`` the sign test is per problem."""
    rng = np.random.default_rng(12)
    s = np.stack([np.round(rng.random(N), 1), np.round(rng.normal(size=N), 1), -np.round(rng.random(N), 1) - 2])
    y = (rng.random((3, N)) < 0.5).astype(np.int32)
    where = rng.random((3, N)) > 0.25
    ref_a = [skm.roc_auc_score(y[i][where[i]], s[i][where[i]]) for i in range(3)]
    ref_ap = [skm.average_precision_score(y[i][where[i]], s[i][where[i]]) for i in range(3)]
    np.testing.assert_allclose(roc.auroc(s, y, where=where), ref_a, rtol=RTOL)
    np.testing.assert_allclose(jax.vmap(lambda a, b, m: roc.auroc(a, b, where=m))(s, y, where), ref_a, rtol=RTOL)
    np.testing.assert_allclose(jax.jit(jax.vmap(lambda a, b, m: roc.average_precision(a, b, where=m)))(s, y, where),
                               ref_ap, rtol=RTOL)
    # the unweighted edge cases: all masked, one class left
    assert np.isnan(roc.auroc(s[1], y[1], where=np.zeros(N, bool)))
    assert float(roc.average_precision(s[1], y[1], where=y[1] == 0)) == 0.0


def test_single_class_is_nan_and_no_positive_ap_is_zero():
    rng = np.random.default_rng(1)
    s, _ = _binary(rng, N)
    ones, zeros = np.ones(N, np.int32), np.zeros(N, np.int32)
    kw = dict(where=np.ones(N, bool), weights=np.ones(N))
    assert np.isnan(roc.auroc(s, ones, **kw)) and np.isnan(roc.auroc(s, zeros, **kw))
    assert np.isnan(skm.roc_auc_score(ones, s))  # scikit-learn >= 1.6 agrees
    assert np.isnan(roc.auroc(s, zeros, max_fpr=0.37, **kw))
    assert float(roc.average_precision(s, zeros, **kw)) == 0.0 == skm.average_precision_score(zeros, s)
    y = (s > 0.5).astype(np.int32)
    w = np.ones(N)
    assert np.isnan(roc.auroc(s, y, where=np.zeros(N, bool), weights=w))  # all masked
    assert np.isnan(roc.auroc(s, y, where=y == 1, weights=w))  # one class masked away
    assert float(roc.average_precision(s, y, where=y == 0, weights=w)) == 0.0
    assert float(roc.average_precision(s, y, where=y == 1, weights=np.zeros(N))) == 0.0


# --------------------------------------------------------------------------------------------------
# Multiclass AUROC and AP


def test_multiclass_ovr_matches_sklearn():
    rng = np.random.default_rng(11)
    n = N
    for average in ("macro", "weighted", "micro", "none"):
        sk_avg = None if average == "none" else average
        for mode in MODES:
            probs, labels = _multiclass(rng, n)
            where, w = _mask_weights(rng, n, mode)
            where[:C] = True
            out = roc.auroc(probs, labels, multi_class="ovr", average=average, where=where, weights=w)
            ref = skm.roc_auc_score(labels[where], probs[where], multi_class="ovr", average=sk_avg,
                                    sample_weight=w[where])
            np.testing.assert_allclose(out, ref, rtol=RTOL, err_msg=f"{average} {mode}")
            if average == "none":
                assert out.shape == (C,)
    # Absent classes: NaN per class, skipped by the averages (same compiled shapes as above).
    probs, labels = _multiclass(rng, n)
    where, w = labels != 2, np.ones(n)  # class 2 absent after masking
    per_class = roc.auroc(probs, labels, multi_class="ovr", average="none", where=where, weights=w)
    assert np.isnan(per_class[2]) and np.all(np.isfinite(np.delete(np.asarray(per_class), 2)))
    np.testing.assert_allclose(roc.auroc(probs, labels, multi_class="ovr", average="macro", where=where, weights=w),
                               np.nanmean(per_class), rtol=RTOL)
    np.testing.assert_allclose(  # sklearn forces 0-support classes to weight 0 as well
        roc.auroc(probs, labels, multi_class="ovr", average="weighted", where=where, weights=w),
        skm.roc_auc_score(np.eye(C)[labels[where]], probs[where], average="weighted"), rtol=RTOL)


def test_multiclass_ovo_matches_sklearn():
    rng = np.random.default_rng(3)
    n = N
    for average, c in (("macro", 3), ("macro", C), ("weighted", C)):  # C = 3: one more pair layout
        for masked in (False, True):
            probs, labels = _multiclass(rng, n, c)
            where = rng.random(n) > 0.25 if masked else np.ones(n, bool)
            where[:c] = True
            out = roc.auroc(probs, labels, multi_class="ovo", average=average, where=where)
            ref = skm.roc_auc_score(labels[where], probs[where], multi_class="ovo", average=average)
            np.testing.assert_allclose(out, ref, rtol=RTOL, err_msg=f"{average} {c} {masked}")
    # Absent class: Hand & Till over the present classes (pairs with the absent class are skipped).
    probs, labels = _multiclass(rng, n)
    where = labels != 2
    pairs = []
    for a, b in [(0, 1), (0, 3), (1, 3)]:
        m = where & ((labels == a) | (labels == b))
        pairs.append(0.5 * (skm.roc_auc_score(labels[m] == a, probs[m, a])
                            + skm.roc_auc_score(labels[m] == b, probs[m, b])))
    np.testing.assert_allclose(roc.auroc(probs, labels, multi_class="ovo", average="macro", where=where),
                               np.mean(pairs), rtol=RTOL)


def test_multiclass_config_errors():
    probs, labels = _multiclass(np.random.default_rng(0), 16, 3)
    with pytest.raises(jaxmetrics.ShapeError, match="`multi_class`"):
        roc.auroc(probs, labels)
    with pytest.raises(jaxmetrics.ShapeError, match="`max_fpr`"):
        roc.auroc(probs, labels, multi_class="ovr", max_fpr=0.5)
    with pytest.raises(jaxmetrics.ShapeError, match="`average`"):
        roc.auroc(probs, labels, multi_class="ovo", average="micro")
    with pytest.raises(jaxmetrics.ShapeError, match="`average`"):
        roc.average_precision(probs, labels, average="samples")
    with pytest.raises(jaxmetrics.ShapeError, match="`max_fpr`"):
        roc.auroc(probs[:, 0], (labels > 0).astype(np.int32), max_fpr=1.5)


def test_multiclass_average_precision_matches_sklearn():
    rng = np.random.default_rng(21)
    n = N
    for average in ("macro", "weighted", "micro", "none"):
        sk_avg = None if average == "none" else average
        for mode in MODES:
            probs, labels = _multiclass(rng, n)
            where, w = _mask_weights(rng, n, mode)
            out = roc.average_precision(probs, labels, average=average, where=where, weights=w)
            ref = skm.average_precision_score(np.eye(C)[labels[where]], probs[where], average=sk_avg,
                                              sample_weight=w[where])
            np.testing.assert_allclose(out, ref, rtol=RTOL, err_msg=f"{average} {mode}")
            if mode == "plain" and average != "micro":  # scikit-learn's own multiclass path
                ref2 = skm.average_precision_score(labels, probs, average=sk_avg)
                np.testing.assert_allclose(out, ref2, rtol=RTOL)
    # AP follows sklearn on label_binarize(range(C)): an absent class has AP 0 and counts in the macro.
    probs, labels = _multiclass(rng, n)
    where, w = labels != 2, np.ones(n)
    assert float(roc.average_precision(probs, labels, average="none", where=where, weights=w)[2]) == 0.0
    np.testing.assert_allclose(roc.average_precision(probs, labels, average="macro", where=where, weights=w),
                               skm.average_precision_score(np.eye(C)[labels[where]], probs[where]), rtol=RTOL)


# --------------------------------------------------------------------------------------------------
# Curves


def _check_roc_curve(s, y, where, w):
    n = s.shape[0]
    c = roc.roc_curve(s, y, where=where, weights=w)
    assert c.fpr.shape == c.tpr.shape == c.thresholds.shape == c.valid.shape == (n + 1,)
    fpr, tpr, thr = skm.roc_curve(y[where], s[where], sample_weight=w[where], drop_intermediate=False)
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
    p, r, thr = skm.precision_recall_curve(y[where], s[where], sample_weight=w[where], drop_intermediate=False)
    k = int(np.sum(c.valid))
    assert k == len(p) and np.all(np.asarray(c.valid)[:k])
    np.testing.assert_allclose(c.precision[:k], p, rtol=RTOL)
    np.testing.assert_allclose(c.recall[:k], r, rtol=RTOL)
    np.testing.assert_array_equal(c.thresholds[: k - 1], thr)
    assert np.asarray(c.thresholds)[k - 1] == np.inf
    np.testing.assert_array_equal(np.asarray(c.precision)[k - 1:], 1.0)
    np.testing.assert_array_equal(np.asarray(c.recall)[k - 1:], 0.0)


def test_curves_match_sklearn():
    rng = np.random.default_rng(5)
    for mode, decimals in [(m, d) for m in MODES for d in (1, 2, None)]:
        s, y = _binary(rng, N, decimals)
        where, w = _mask_weights(rng, N, mode)
        if mode == "where+weights":
            w[rng.random(N) < 0.1] = 0.0  # zero weights behave like masked samples
            w[:2] = 1.0
        _check_roc_curve(s, y, where, w)
        _check_pr_curve(s, y, where, w)


def test_curves_without_positives_or_negatives():
    s = np.round(np.random.default_rng(0).random(N), 1)
    zeros = np.zeros(N, np.int32)
    where, w = np.ones(N, bool), np.ones(N)
    c = roc.roc_curve(s, zeros, where=where, weights=w)
    fpr, tpr, _ = skm.roc_curve(zeros, s, drop_intermediate=False)
    k = int(c.valid.sum())
    np.testing.assert_allclose(c.fpr[:k], fpr)
    assert np.all(np.isnan(c.tpr)) and np.all(np.isnan(tpr))
    pr = roc.precision_recall_curve(s, zeros, where=where, weights=w)
    p, r, _ = skm.precision_recall_curve(zeros, s, drop_intermediate=False)
    np.testing.assert_allclose(pr.precision[:k], p)
    np.testing.assert_allclose(pr.recall[:k], r)  # recall = 1 (then the final 0), as sklearn
    # all masked: only the (0, 0) / (1, 0) point remains
    c = roc.roc_curve(s, zeros, where=~where, weights=w)
    assert int(c.valid.sum()) == 1 and c.thresholds[0] == np.inf
    pr = roc.precision_recall_curve(s, zeros, where=~where, weights=w)
    assert int(pr.valid.sum()) == 1 and pr.precision[0] == 1 and pr.recall[0] == 0


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 64),
    levels=st.integers(1, 6),
    seed=st.integers(0, 2**31 - 1),
    use_w=st.booleans(),
)
def test_property_against_sklearn(n, levels, seed, use_w):
    """Random small problems (n <= 64) with heavy ties, padded to N with a mask (one compilation)."""
    rng = np.random.default_rng(seed)
    s = rng.integers(0, levels, N).astype(np.float64) / levels
    y = rng.integers(0, 2, N).astype(np.int32)
    w = rng.random(N) + 0.1 if use_w else np.ones(N)
    where = np.arange(N) < n
    both = 0 < y[where].sum() < n
    out = roc.auroc(s, y, where=where, weights=w)
    if both:
        np.testing.assert_allclose(out, skm.roc_auc_score(y[where], s[where], sample_weight=w[where]), rtol=RTOL)
        _check_roc_curve(s, y, where, w)
    else:
        assert np.isnan(out)
    np.testing.assert_allclose(roc.average_precision(s, y, where=where, weights=w),
                               skm.average_precision_score(y[where], s[where], sample_weight=w[where]),
                               rtol=RTOL, atol=1e-12)
    _check_pr_curve(s, y, where, w)


# --------------------------------------------------------------------------------------------------
# Analytic identities and values (METRICS.md §1.3, §1.4)


def _tie_free(rng, n, shift=0.7, prevalence=0.3):
    y = (rng.random(n) < prevalence).astype(np.int32)
    return rng.normal(size=n) + shift * y, y


def test_random_scores_give_auroc_one_half_and_ap_prevalence():
    rng = np.random.default_rng(123)
    y = (rng.random(N_BIG) < 0.3).astype(np.int32)
    n1, n0 = y.sum(), N_BIG - y.sum()
    se = np.sqrt((n1 + n0 + 1) / (12.0 * n1 * n0))  # null standard error of AUROC
    for _ in range(3):
        s = rng.random(N_BIG)
        assert abs(float(roc.auroc(s, y)) - 0.5) < 4 * se
        # random-score AP ≈ prevalence (its sd is about prev·sqrt((1 − prev)/n₁) ≈ 0.01)
        assert abs(float(roc.average_precision(s, y)) - y.mean()) < 0.04


def test_auroc_and_ap_identities_on_tie_free_scores():
    rng = np.random.default_rng(7)
    s, y = _tie_free(rng, N_BIG)
    t = s[y == 1]
    fpr = (s[y == 0][None, :] >= t[:, None]).mean(1)  # FPR(t) at each positive's score
    np.testing.assert_allclose(roc.auroc(s, y), 1.0 - fpr.mean(), rtol=1e-12)
    p_ge = (s[None, :] >= t[:, None]).mean(1)  # P(s >= t)
    np.testing.assert_allclose(roc.average_precision(s, y), 1.0 - (1 - y.mean()) * np.mean(fpr / p_ge), rtol=1e-12)


def test_auroc_invariant_to_class_reweighting_but_ap_is_not():
    rng = np.random.default_rng(9)
    s, y = _tie_free(rng, N)
    where = np.ones(N, bool)
    w = np.where(y == 1, 3.0, 0.5)
    ones = np.ones(N)
    np.testing.assert_allclose(roc.auroc(s, y, where=where, weights=w), roc.auroc(s, y, where=where, weights=ones),
                               rtol=1e-12)
    ap_w = float(roc.average_precision(s, y, where=where, weights=w))
    assert abs(ap_w - float(roc.average_precision(s, y, where=where, weights=ones))) > 1e-3


def test_breast_cancer_logistic_regression():
    """Real data: a logistic regression on scikit-learn's breast-cancer set, test split padded to a fixed
    size with a mask (the fixed-shape idiom for a ragged evaluation set)."""
    datasets = pytest.importorskip("sklearn.datasets")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = datasets.load_breast_cancer(return_X_y=True)
    idx = np.random.default_rng(0).permutation(len(y))
    train, test = idx[:320], idx[320:]  # 249 test samples
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=1000)).fit(x[train], y[train])
    p, yt = model.predict_proba(x[test])[:, 1], y[test].astype(np.int32)
    pad = N - len(yt)
    p_pad, y_pad = np.concatenate([p, np.full(pad, 0.5)]), np.concatenate([yt, np.zeros(pad, np.int32)])
    kw = dict(where=np.arange(N) < len(yt), weights=np.ones(N))
    a = roc.auroc(p_pad, y_pad, **kw)
    np.testing.assert_allclose(a, skm.roc_auc_score(yt, p), rtol=RTOL)
    np.testing.assert_allclose(roc.average_precision(p_pad, y_pad, **kw), skm.average_precision_score(yt, p),
                               rtol=RTOL)
    np.testing.assert_allclose(roc.auroc(p_pad, y_pad, max_fpr=0.1, **kw), skm.roc_auc_score(yt, p, max_fpr=0.1),
                               rtol=RTOL)
    assert float(a) > 0.95
    assert abs(float(roc.binned_auroc(p_pad, y_pad, num_thresholds=200, **kw)) - float(a)) < 2e-3


# --------------------------------------------------------------------------------------------------
# Batching, dtypes, gradients, errors


def test_leading_axes_are_batch_axes():
    """A batch of problems [B, N] (mask broadcast from [N]) equals the per-row oracle values."""
    rng = np.random.default_rng(4)
    b, n = 3, N
    s = np.round(rng.random((b, n)), 1)
    y = (rng.random((b, n)) < 0.5).astype(np.int32)
    where = rng.random(n) > 0.2
    ones = np.ones(n)
    rows = [(s[i][where], y[i][where]) for i in range(b)]
    np.testing.assert_allclose(roc.auroc(s, y, where=where, weights=ones),
                               [skm.roc_auc_score(yy, ss) for ss, yy in rows], rtol=RTOL)
    np.testing.assert_allclose(roc.binned_auroc(s, y, num_thresholds=7, where=where, weights=ones),
                               [skm.roc_auc_score(yy, _quantised(ss, 7)) for ss, yy in rows], rtol=RTOL)
    c = roc.roc_curve(s, y, where=where, weights=ones)
    assert c.fpr.shape == (b, n + 1)
    fpr, tpr, _ = skm.roc_curve(rows[1][1], rows[1][0], drop_intermediate=False)
    np.testing.assert_allclose(c.tpr[1, : len(tpr)], tpr, rtol=RTOL)


def test_multiclass_leading_axes():
    rng = np.random.default_rng(6)
    probs = np.stack([_counts_probs(rng, N, C) for _ in range(2)])
    labels = rng.integers(0, C, (2, N)).astype(np.int32)
    labels[:, :C] = np.arange(C)
    for mc in ("ovr", "ovo"):
        np.testing.assert_allclose(roc.auroc(probs, labels, multi_class=mc),
                                   [skm.roc_auc_score(labels[i], probs[i], multi_class=mc) for i in range(2)],
                                   rtol=RTOL)


def test_low_precision_inputs_give_float32():
    rng = np.random.default_rng(0)
    s, y = _binary(rng, N, decimals=None)
    s_low = jnp.asarray(s, jnp.bfloat16)
    s_rounded = np.asarray(s_low, np.float64)  # bf16 rounding creates ties; the oracle sees the same values
    a = roc.auroc(s_low, y)
    assert a.dtype == jnp.float32
    np.testing.assert_allclose(a, skm.roc_auc_score(y, s_rounded), rtol=1e-6)
    c = roc.roc_curve(s_low, y)
    assert c.fpr.dtype == c.thresholds.dtype == jnp.float32
    k = int(c.valid.sum())
    np.testing.assert_array_equal(c.thresholds[:k], skm.roc_curve(y, s_rounded, drop_intermediate=False)[2])


def _edge_inputs():
    rng = np.random.default_rng(0)
    s, y = _binary(rng, N)
    s_inf = s.copy()
    s_inf[:3], s_inf[3:6] = np.inf, -np.inf
    everything = np.ones(N, bool)
    return [
        ("ordinary", s, y, everything),
        ("all masked", s, y, ~everything),
        ("single class", s, np.ones(N, np.int32), everything),
        ("no positives", s, np.zeros(N, np.int32), everything),
        ("all tied", np.zeros(N), y, everything),
        ("inf scores", s_inf, y, everything),
    ]


_GRAD_FNS = {
    "auroc": roc.auroc,
    "auroc max_fpr": lambda s, y, where: roc.auroc(s, y, max_fpr=0.37, where=where),
    "average_precision": roc.average_precision,
    "binned_auroc": roc.binned_auroc,
    "binned_average_precision": roc.binned_average_precision,
    "roc_curve": lambda s, y, where: roc.roc_curve(s, y, where=where).fpr,
    "precision_recall_curve": lambda s, y, where: roc.precision_recall_curve(s, y, where=where).precision,
}


@pytest.mark.parametrize("name", list(_GRAD_FNS))
def test_gradients_are_finite_and_zero(name):
    fn = _GRAD_FNS[name]
    grad = jax.jit(jax.grad(lambda x, y, m: jnp.sum(fn(x, y, where=m))))
    for label, s, y, where in _edge_inputs():
        g = grad(jnp.asarray(s), y, where)
        assert np.all(np.isfinite(g)) and np.all(g == 0), label


def test_threshold_gradients_are_finite():
    grad = jax.jit(jax.grad(lambda x, y, m: jnp.sum(roc.roc_curve(x, y, where=m).thresholds)))
    for label, s, y, where in _edge_inputs():
        assert np.all(np.isfinite(grad(jnp.asarray(s), y, where))), label


def test_multiclass_gradients_finite():
    rng = np.random.default_rng(0)
    probs, labels = _multiclass(rng, N)
    fns = [
        lambda p, m: roc.auroc(p, labels, multi_class="ovr", average="weighted", where=m),
        lambda p, m: roc.auroc(p, labels, multi_class="ovo", average="macro", where=m),
        lambda p, m: roc.average_precision(p, labels, average="macro", where=m),
    ]
    for fn in fns:
        grad = jax.jit(jax.grad(fn))
        for where in (np.ones(N, bool), np.zeros(N, bool), labels == 0):
            assert np.all(np.isfinite(grad(jnp.asarray(probs), where)))


def test_bad_shapes_name_the_argument():
    s, y = _binary(np.random.default_rng(0), 16)
    cases = [
        (lambda: roc.auroc(s, y[:-1]), "labels"),
        (lambda: roc.auroc(s.astype(np.int32), y), "scores"),
        (lambda: roc.auroc(s, y.astype(np.float64)), "labels"),
        (lambda: roc.auroc(s, y, where=np.ones(15, bool)), "where"),
        (lambda: roc.average_precision(s, y, weights=np.ones((16, 2))), "weights"),
        (lambda: roc.roc_curve(np.ones((16, 3)), y), "labels"),
        (lambda: roc.precision_recall_curve(s, y[:8]), "labels"),
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
    bp, bn, wp, wn = b[y == 1], b[y != 1], w[y == 1], w[y != 1]
    beats = (bp[:, None] > bn[None, :]) + 0.5 * (bp[:, None] == bn[None, :])
    return float(wp @ beats @ wn / (wp.sum() * wn.sum()))


@pytest.mark.parametrize("t", [1, 7, 200])
def test_binned_equals_exact_on_quantised_scores(t):
    rng = np.random.default_rng(t)
    y = (rng.random(N) < 0.4).astype(np.int32)
    s = np.clip(rng.normal(0.5 + 0.15 * y, 0.25), -0.1, 1.1)  # includes values outside [0, 1]
    s[:3] = [0.0, 1.0, 0.5]
    where, w = _mask_weights(rng, N, "where+weights")
    out = roc.binned_auroc(s, y, num_thresholds=t, where=where, weights=w)
    np.testing.assert_allclose(out, _numpy_binned_auroc(s, y, w * where, t), rtol=1e-10)
    q = _quantised(s, t)
    np.testing.assert_allclose(out, skm.roc_auc_score(y[where], q[where], sample_weight=w[where]), rtol=1e-10)
    ap = roc.binned_average_precision(s, y, num_thresholds=t, where=where, weights=w)
    np.testing.assert_allclose(ap, skm.average_precision_score(y[where], q[where], sample_weight=w[where]),
                               rtol=1e-10)


@pytest.mark.parametrize("ctor", [roc.auroc_metric, roc.average_precision_metric], ids=["auroc", "ap"])
def test_binned_streaming_equals_one_shot(ctor):
    rng = np.random.default_rng(0)
    n, t = 1000, 64
    y = (rng.random(n) < 0.3).astype(np.int32)
    s = rng.beta(2 + 2 * y, 3)
    w = rng.random(n)
    one = (roc.binned_auroc if ctor is roc.auroc_metric else roc.binned_average_precision)(
        s, y, num_thresholds=t, weights=w)
    m = ctor(num_thresholds=t)
    state = m.init()
    assert state.pos.shape == (t,) and state.pos.dtype == jnp.float64
    assert m.init(jnp.float32).pos.dtype == jnp.float32
    update, compute = jax.jit(m.update), jax.jit(m.compute)
    bounds = [0, 100, 500, 600, n]  # batches of 100 and 400 samples
    parts = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        state = update(state, s[lo:hi], y[lo:hi], weights=w[lo:hi])
        parts.append(update(m.init(), s[lo:hi], y[lo:hi], weights=w[lo:hi]))
    assert state.pos.shape == (t,)  # the state does not grow with N
    np.testing.assert_allclose(compute(state), one, rtol=1e-12)
    merged = parts[3]
    for p in parts[2::-1]:
        merged = m.merge(p, merged)
    np.testing.assert_allclose(compute(merged), one, rtol=1e-12)


def test_binned_edge_values():
    rng = np.random.default_rng(2)
    s = np.round(rng.random(N), 1)
    y = (rng.random(N) < 0.5).astype(np.int32)
    kw = dict(where=np.ones(N, bool), weights=np.ones(N))
    assert np.isnan(roc.binned_auroc(s, np.ones(N, np.int32), num_thresholds=200, **kw))
    assert float(roc.binned_average_precision(s, np.zeros(N, np.int32), num_thresholds=200, **kw)) == 0.0
    # a single bin ties everything: AUROC 1/2, AP = prevalence
    assert float(roc.binned_auroc(s, y, num_thresholds=1, **kw)) == 0.5
    np.testing.assert_allclose(roc.binned_average_precision(s, y, num_thresholds=1, **kw), y.mean(), rtol=1e-12)


def test_binned_approximation_error_is_small():
    """bench/binned_error.py measures at N = 10⁵: max error at T = 200 is 2.4e-4 (AUROC), 4.4e-3 (AP)."""
    rng = np.random.default_rng(42)
    y = (rng.random(N_BIG) < 0.3).astype(np.int32)
    dists = {
        "uniform calibrated": rng.random(N_BIG),
        "sigmoid normal": 1 / (1 + np.exp(-rng.normal(np.where(y == 1, 2.0, -2.0), 1.0))),
    }
    y_cal = (rng.random(N_BIG) < dists["uniform calibrated"]).astype(np.int32)
    errors = {}
    for name, s in dists.items():
        yy = y_cal if name == "uniform calibrated" else y
        exact_roc, exact_ap = float(roc.auroc(s, yy)), float(roc.average_precision(s, yy))
        for t in (50, 200):
            errors[name, t] = (abs(float(roc.binned_auroc(s, yy, num_thresholds=t)) - exact_roc),
                               abs(float(roc.binned_average_precision(s, yy, num_thresholds=t)) - exact_ap))
    for (name, t), (e_roc, e_ap) in errors.items():
        assert e_roc < {50: 2e-3, 200: 3e-4}[t], (name, t, e_roc)
        assert e_ap < {50: 1e-2, 200: 3e-3}[t], (name, t, e_ap)
    for name in dists:  # more thresholds, smaller error
        assert errors[name, 200][1] < errors[name, 50][1]
