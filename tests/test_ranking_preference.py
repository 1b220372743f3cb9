"""Pairwise and one-vs-many preference accuracy / MRR (jaxmetrics.ranking.preference).

Oracles: numpy brute force (pairwise credits; one-vs-many by enumerating every ordering of the valid
candidates that is consistent with the scores, so each tie option is the min / mean / max over tie
orders), ``sklearn.metrics.roc_auc_score`` (pairwise accuracy over all positive–negative pairs with
½ credit for ties), ``sklearn.metrics.label_ranking_average_precision_score`` (= pessimistic MRR for
one relevant label) and ``accuracy_score`` of a nearest-centroid classifier (= one-vs-many accuracy).
Analytic values from METRICS.md §4.4. Real data: scikit-learn's breast cancer and digits datasets.
"""

from __future__ import annotations

import itertools

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import jaxmetrics  # noqa: E402
from jaxmetrics.ranking import preference as jp  # noqa: E402

skm = pytest.importorskip("sklearn.metrics")

RTOL = 1e-6
N = 64  # pairs
P, C = 24, 6  # one-vs-many rows and candidates
H10 = sum(1 / j for j in range(1, 11))
TIES = ("pessimistic", "average", "optimistic")


# --------------------------------------------------------------------------------------------------
# Pairwise accuracy


def _pairs(rng, n=N):
    return np.round(rng.normal(size=n) + 0.3, 0), np.round(rng.normal(size=n), 0)


@pytest.mark.parametrize("ties,credit", [("half", 0.5), ("incorrect", 0.0), ("correct", 1.0)])
def test_pairwise_accuracy_matches_brute_force(ties, credit):
    rng = np.random.default_rng(0)
    c, r = _pairs(rng)
    assert (c == r).sum() > 5  # ties matter
    where = rng.random(N) > 0.3
    w = rng.random(N) + 0.1
    per_pair = np.array([1.0 if a > b else credit if a == b else 0.0 for a, b in zip(c, r)])
    np.testing.assert_allclose(jp.pairwise_accuracy(c, r, ties=ties, where=where, weights=w),
                               (per_pair * w * where).sum() / (w * where).sum(), rtol=RTOL)
    np.testing.assert_allclose(jp.pairwise_accuracy(c, r, ties=ties), per_pair.mean(), rtol=RTOL)
    np.testing.assert_allclose(jp.pairwise_accuracy(c, r, ties=ties, where=where, reduce=None),
                               np.where(where, per_pair, 0.0), rtol=RTOL)


def test_pairwise_accuracy_edge_cases_and_errors():
    c, r = _pairs(np.random.default_rng(1))
    assert np.isnan(jp.pairwise_accuracy(c, r, where=np.zeros(N, bool)))  # mean_metric convention
    c2 = c.copy()
    c2[:3], r2 = np.inf, r.copy()
    r2[:2] = np.inf  # inf == inf is a tie
    expected = np.mean([1.0 if a > b else 0.5 if a == b else 0.0 for a, b in zip(c2, r2)])
    np.testing.assert_allclose(jp.pairwise_accuracy(c2, r2), expected, rtol=RTOL)
    g = jax.grad(lambda a, b: jp.pairwise_accuracy(a, b), argnums=(0, 1))(c2, r2)
    assert all(np.all(np.asarray(x) == 0) for x in g)
    with pytest.raises(jaxmetrics.ShapeError, match="`ties`"):
        jp.pairwise_accuracy(c, r, ties="draw")
    with pytest.raises(jaxmetrics.ShapeError, match="`rejected`"):
        jp.pairwise_accuracy(c, r[:-1])
    with pytest.raises(ValueError, match="reduce='mean'"):
        jp.pairwise_accuracy(c, r, weights=np.ones(N), reduce=None)


def test_pairwise_accuracy_equals_roc_auc_on_breast_cancer():
    """A logistic-regression model's scores: accuracy over all (positive, negative) pairs = AUROC."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    data = load_breast_cancer()
    xs = StandardScaler().fit_transform(data.data)
    y = data.target
    model = LogisticRegression(C=0.05, max_iter=2000).fit(xs[::2], y[::2])
    raw = model.decision_function(xs[1::2])
    yt = y[1::2]
    w = np.random.default_rng(2).random(len(yt)) + 0.2
    for scores in (raw, np.round(raw, 0)):  # rounding creates many ties: ½ credit
        pos, neg = scores[yt == 1], scores[yt == 0]
        chosen = np.repeat(pos, len(neg))
        rejected = np.tile(neg, len(pos))
        pair_w = np.repeat(w[yt == 1], len(neg)) * np.tile(w[yt == 0], len(pos))
        np.testing.assert_allclose(jp.pairwise_accuracy(chosen, rejected), skm.roc_auc_score(yt, scores),
                                   rtol=RTOL)
        np.testing.assert_allclose(jp.pairwise_accuracy(chosen, rejected, weights=pair_w),
                                   skm.roc_auc_score(yt, scores, sample_weight=w), rtol=RTOL)


def test_pairwise_streaming_equals_one_shot():
    rng = np.random.default_rng(3)
    c, r = _pairs(rng)
    where = rng.random(N) > 0.2
    w = rng.random(N)
    m = jp.pairwise_accuracy_metric(ties="incorrect")
    s1 = m.update(m.init(), c[:20], r[:20], where=where[:20], weights=w[:20])
    s2 = m.update(m.init(), c[20:], r[20:], where=where[20:], weights=w[20:])
    np.testing.assert_allclose(m.compute(m.merge(s1, s2)),
                               jp.pairwise_accuracy(c, r, ties="incorrect", where=where, weights=w), rtol=1e-12)


# --------------------------------------------------------------------------------------------------
# One vs many: brute force over tie orders


def _enumerated(scores, valid):
    """(accuracy, reciprocal rank) of the correct candidate (index 0) for every ordering of the valid
    candidates that sorts the scores in non-increasing order."""
    idx = [i for i in range(len(scores)) if valid[i]]
    out = []
    for perm in itertools.permutations(idx):
        s = scores[list(perm)]
        if np.all(s[:-1] >= s[1:]):
            rank = perm.index(0) + 1
            out.append((float(rank == 1), 1.0 / rank))
    return np.array(out)


def _reference(scores, where, ties):
    """Per-row (accuracy, rr) under ``ties`` and row validity, by enumeration."""
    acc, rr, ok = [], [], []
    for s, v in zip(scores, where):
        ok.append(bool(v[0]))
        if not v[0]:
            acc.append(0.0)
            rr.append(0.0)
            continue
        e = _enumerated(s, v)
        pick = {"pessimistic": e.min(0), "optimistic": e.max(0), "average": e.mean(0)}[ties]
        acc.append(pick[0])
        rr.append(pick[1])
    return np.array(acc), np.array(rr), np.array(ok)


def _ovm_data(rng):
    scores = rng.integers(0, 3, size=(P, C)).astype(np.float64)  # heavy ties
    scores[:, 0] += rng.random(P) < 0.3
    where = rng.random((P, C)) > 0.3  # ragged K
    where[:4] = True
    where[4, 1:] = False  # a row without distractors
    where[5:7, 0] = False  # rows without an answer
    return scores, where


@pytest.mark.parametrize("ties", TIES)
def test_one_vs_many_matches_tie_order_enumeration(ties):
    rng = np.random.default_rng(4)
    scores, where = _ovm_data(rng)
    w = rng.random(P) + 0.1
    acc, rr, ok = _reference(scores, where, ties)
    np.testing.assert_allclose(jp.one_vs_many_accuracy(scores, ties=ties, where=where, reduce=None), acc,
                               rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(jp.one_vs_many_mrr(scores, ties=ties, where=where, reduce=None), rr,
                               rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(jp.one_vs_many_accuracy(scores, ties=ties, where=where, weights=w),
                               (acc * w * ok).sum() / (w * ok).sum(), rtol=RTOL)
    np.testing.assert_allclose(jp.one_vs_many_mrr(scores, ties=ties, where=where, weights=w),
                               (rr * w * ok).sum() / (w * ok).sum(), rtol=RTOL)


def test_one_vs_many_analytic_values_metrics_4_4():
    """1 correct among 10 candidates in each of the 10 positions: MRR = H10/10, accuracy = 1/10."""
    scores = np.zeros((10, 10))
    for p in range(10):  # the correct candidate (column 0) has rank p + 1
        scores[p, 0] = 10 - p
        scores[p, 1:] = [v for v in range(10, 0, -1) if v != 10 - p]
    np.testing.assert_allclose(H10 / 10, 0.2928968, atol=5e-8)
    for ties in TIES:  # no ties: every option agrees
        np.testing.assert_allclose(jp.one_vs_many_mrr(scores, ties=ties), H10 / 10, rtol=1e-12)
        np.testing.assert_allclose(jp.one_vs_many_accuracy(scores, ties=ties), 0.1, rtol=1e-12)
    # a constant scorer: "average" is exactly the expectation of a random ranking
    flat = np.ones((10, 10))
    np.testing.assert_allclose(jp.one_vs_many_mrr(flat, ties="average"), H10 / 10, rtol=1e-12)
    np.testing.assert_allclose(jp.one_vs_many_accuracy(flat, ties="average"), 0.1, rtol=1e-12)
    np.testing.assert_allclose(jp.one_vs_many_mrr(flat), 0.1, rtol=1e-12)  # pessimistic: last place
    np.testing.assert_allclose(jp.one_vs_many_accuracy(flat), 0.0, atol=0)
    np.testing.assert_allclose(jp.one_vs_many_mrr(flat, ties="optimistic"), 1.0, rtol=1e-12)


def test_pessimistic_mrr_matches_sklearn_lrap_with_ties():
    rng = np.random.default_rng(5)
    scores = rng.integers(0, 4, size=(P, C)).astype(np.float64)
    perm = np.argsort(rng.random((P, C)), axis=1)  # put the correct label in a random column
    shuffled = np.take_along_axis(scores, perm, axis=1)
    truth = (perm == 0).astype(int)
    np.testing.assert_allclose(jp.one_vs_many_mrr(scores), skm.label_ranking_average_precision_score(truth, shuffled),
                               rtol=RTOL)


def test_digits_nearest_centroid_accuracy_and_mrr_match_sklearn():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    train, test = np.arange(len(y)) % 3 != 0, np.arange(len(y)) % 3 == 0
    centroids = np.stack([x[train][y[train] == k].mean(0) for k in range(10)])
    dist = ((x[test][:, None, :] - centroids[None]) ** 2).sum(-1)  # [n_test, 10]
    yt = y[test]
    neg = -dist
    # column 0 = the true class, then the other nine classes
    others = np.array([[k for k in range(10) if k != t] for t in yt])
    scores = np.concatenate([np.take_along_axis(neg, yt[:, None], 1), np.take_along_axis(neg, others, 1)], 1)
    np.testing.assert_allclose(jp.one_vs_many_accuracy(scores), skm.accuracy_score(yt, dist.argmin(1)), rtol=RTOL)
    np.testing.assert_allclose(jp.one_vs_many_mrr(scores),
                               skm.label_ranking_average_precision_score(np.eye(10)[yt], neg), rtol=RTOL)
    # ragged: drop the two nearest wrong classes of every second image via the candidate mask
    where = np.ones(scores.shape, bool)
    nearest_wrong = np.argsort(-scores[:, 1:], axis=1)[:, :2] + 1
    np.put_along_axis(where, nearest_wrong, False, axis=1)
    where[::2] = True
    keep = np.where(where, scores, -np.inf)
    ref_acc = np.mean(scores[:, 0] > keep[:, 1:].max(1))
    np.testing.assert_allclose(jp.one_vs_many_accuracy(scores, where=where), ref_acc, rtol=RTOL)


def test_one_vs_many_leading_axes_vmap_and_streaming():
    rng = np.random.default_rng(6)
    data = [_ovm_data(rng) for _ in range(3)]
    scores = np.stack([d[0] for d in data])  # [3, P, C]
    where = np.stack([d[1] for d in data])
    w = rng.random((3, P))
    for fn in (jp.one_vs_many_accuracy, jp.one_vs_many_mrr):
        loop = [fn(scores[b], ties="average", where=where[b], weights=w[b]) for b in range(3)]
        np.testing.assert_allclose(fn(scores, ties="average", where=where, weights=w), loop, rtol=1e-12)
        vm = jax.vmap(lambda s, m, ww, fn=fn: fn(s, ties="average", where=m, weights=ww))(scores, where, w)
        np.testing.assert_allclose(vm, loop, rtol=1e-12)
    m = jp.one_vs_many_mrr_metric(ties="average")

    def step(state, batch):
        s, mk, ww = batch
        return m.update(state, s, where=mk, weights=ww), None

    split = lambda a: a[0].reshape(4, P // 4, *a.shape[2:])  # noqa: E731
    state, _ = jax.lax.scan(step, m.init(), (split(scores), split(where), split(w)))
    np.testing.assert_allclose(m.compute(state), jp.one_vs_many_mrr(scores[0], ties="average", where=where[0],
                                                                    weights=w[0]), rtol=1e-12)


def test_one_vs_many_edge_cases_and_errors():
    rng = np.random.default_rng(7)
    scores, where = _ovm_data(rng)
    no_answer = where.copy()
    no_answer[:, 0] = False
    for fn in (jp.one_vs_many_accuracy, jp.one_vs_many_mrr):
        assert np.isnan(fn(scores, where=no_answer))
        assert np.isnan(fn(scores, where=np.zeros_like(where)))
        only0 = np.zeros_like(where)
        only0[:, 0] = True
        np.testing.assert_allclose(fn(scores, where=only0), 1.0)  # no competitor: rank 1
        inf = scores.copy()
        inf[:3, 0], inf[2:5, 1] = np.inf, np.inf
        g = jax.grad(lambda s, fn=fn: fn(s, ties="average"))(inf)
        assert np.all(np.asarray(g) == 0)
        with pytest.raises(jaxmetrics.ShapeError, match="`ties`"):
            fn(scores, ties="half")
        with pytest.raises(jaxmetrics.ShapeError, match="`scores`"):
            fn(scores[:, 0])
        with pytest.raises(jaxmetrics.ShapeError, match="`where`"):
            fn(scores, where=np.ones((P, C + 1), bool))
        with pytest.raises(jaxmetrics.ShapeError, match="`weights`"):
            fn(scores, weights=np.ones((P, C)))
    # K = 0: a single candidate per row is always first
    np.testing.assert_allclose(jp.one_vs_many_mrr(scores[:, :1]), 1.0)
    # the registry entries stream
    for name in ("pairwise_accuracy", "one_vs_many_accuracy", "one_vs_many_mrr"):
        info = jaxmetrics.registry[name]
        assert info.mergeable and info.higher_is_better and not info.differentiable
    assert isinstance(jp.one_vs_many_accuracy_metric().init(), tuple)
    assert jnp.asarray(jp.one_vs_many_mrr(scores.astype(np.float32))).dtype == jnp.float32
