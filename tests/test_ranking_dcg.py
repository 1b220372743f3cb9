"""DCG / nDCG: scikit-learn (candidates, linear, averaged ties), trec_eval via pytrec_eval (``ndcg_cut.k``:
given ideal, stable ties through the docno trick), ranx (``ndcg@k`` / ``ndcg_burges@k``), closed forms,
brute-force tie semantics, masks and padding, batch axes, weights, streaming, errors, real data (digits
retrieval), a 10,000 × 1,000 jitted run, and ``validate(relevance=...)``."""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, strategies as st

import jaxmetrics
from jaxmetrics.ranking import dcg, dcg_metric, ndcg, ndcg_metric

sk_metrics = pytest.importorskip("sklearn.metrics")
pytrec_eval = pytest.importorskip("pytrec_eval")

RTOL = 1e-6
TIES = ("average", "stable", "optimistic", "pessimistic")
close = lambda a, b, rtol=RTOL, atol=1e-12: np.testing.assert_allclose(  # noqa: E731
    np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol, atol=atol)


def _np_dcg(s, r, *, k=None, gain="linear", ties="average", ideal=None):
    """Plain numpy reference for one query (1-D arrays): DCG@k (``ideal=None``) or nDCG@k with the
    candidate ideal (``ideal="candidates"``)."""
    n = len(s)
    g = r if gain == "linear" else 2.0 ** r - 1
    if ties == "average":
        _, grp = np.unique(-s, return_inverse=True)
        order = np.argsort(grp, kind="stable")
        means = np.bincount(grp, g) / np.bincount(grp)
        ranked = means[grp[order]]
    else:
        tie_key = {"stable": np.zeros(n), "optimistic": -r, "pessimistic": r}[ties]
        ranked = g[np.lexsort((np.arange(n), tie_key, -s))]
    kk = n if k is None else min(k, n)
    disc = 1 / np.log2(np.arange(n) + 2)
    value = (ranked[:kk] * disc[:kk]).sum()
    if ideal is None:
        return value
    idcg = (np.sort(g)[::-1][:kk] * disc[:kk]).sum()
    return value / idcg if idcg > 0 else 0.0


def _tied_data(rng, q=40, n=9, levels=5, grades=4):
    """Scores from a few levels (many ties), graded relevance with zeros; special rows."""
    s = rng.integers(0, levels, (q, n)).astype(np.float64)
    r = rng.integers(0, grades, (q, n)).astype(np.float64)
    s[0] = 1.0  # every item tied
    r[1] = 0.0  # no relevant item
    r[2] = 0.0
    r[2, -1] = 3.0  # a single relevant item, at the bottom
    s[3] = np.arange(n)  # no ties
    r[4] = rng.random(n) * 3  # real-valued grades
    return s, r


def _sk_rows(fn, s, r, **kw):
    """scikit-learn's per-sample value: one row at a time (its functions average over rows)."""
    return np.array([fn(r[i:i + 1], s[i:i + 1], **kw) for i in range(len(s))])


# --------------------------------------------------------------------------------------------------
# scikit-learn: ideal="candidates", gain="linear", ties="average"


@pytest.mark.parametrize("k", [None, 1, 3, 20])
def test_matches_sklearn_per_query_with_ties(k):
    s, r = _tied_data(np.random.default_rng(0))
    close(dcg(s, r, k=k, reduce=None), _sk_rows(sk_metrics.dcg_score, s, r, k=k))
    close(ndcg(s, r, k=k, reduce=None), _sk_rows(sk_metrics.ndcg_score, s, r, k=k))
    if k in (None, 3):  # the means (scikit-learn averages over samples; all-zero rows count as 0 in both)
        close(ndcg(s, r, k=k), sk_metrics.ndcg_score(r, s, k=k))
        close(dcg(s, r, k=k), sk_metrics.dcg_score(r, s, k=k))


def test_weighted_mean_matches_sklearn_sample_weight_and_int_relevance():
    rng = np.random.default_rng(1)
    s, r = _tied_data(rng)
    w = rng.random(len(s)) + 0.05
    ri = r.astype(np.int32)
    close(ndcg(s, ri, k=4, weights=w), sk_metrics.ndcg_score(ri, s, k=4, sample_weight=w))
    close(dcg(s, ri, weights=w), sk_metrics.dcg_score(ri, s, sample_weight=w))
    assert ndcg(s, ri).dtype == jnp.float64


@pytest.mark.parametrize("k", [None, 2])
def test_masked_rows_match_sklearn_on_the_unpadded_rows(k):
    rng = np.random.default_rng(2)
    q, n = 30, 12
    s, r = _tied_data(rng, q, n)
    lengths = rng.integers(2, n + 1, q)
    lengths[0] = n
    where = np.arange(n)[None, :] < lengths[:, None]
    # padding that would dominate if it leaked in: huge or infinite scores, huge or NaN relevance
    sp = np.where(where, s, rng.choice([1e300, np.inf, np.nan], size=(q, n)))
    rp = np.where(where, r, rng.choice([1e6, np.nan], size=(q, n)))
    ours_dcg = dcg(sp, rp, k=k, where=where, reduce=None)
    ours_ndcg = ndcg(sp, rp, k=k, where=where, reduce=None)
    for i in range(q):
        li = lengths[i]
        close(ours_dcg[i], sk_metrics.dcg_score(r[i:i + 1, :li], s[i:i + 1, :li], k=k))
        close(ours_ndcg[i], sk_metrics.ndcg_score(r[i:i + 1, :li], s[i:i + 1, :li], k=k))


def test_masked_items_anywhere_in_the_list():
    """A random (non-suffix) mask equals dropping those items, for every ties option and gain (numpy
    reference on the kept items)."""
    rng = np.random.default_rng(3)
    s, r = _tied_data(rng)
    where = rng.random(s.shape) > 0.35
    where[:, 0] = True
    sp = np.where(where, s, 1e300)
    rp = np.where(where, r, 50.0)
    kept = [(s[i, where[i]], r[i, where[i]]) for i in range(len(s))]
    configs = zip(TIES, ("linear", "exp2", "linear", "exp2"), (None, 3, 3, None), (ndcg, dcg, dcg, ndcg))
    for ties, gain, k, f in configs:
        ours = f(sp, rp, where=where, k=k, ties=ties, gain=gain, reduce=None)
        ideal = "candidates" if f is ndcg else None
        close(ours, [_np_dcg(a, b, k=k, gain=gain, ties=ties, ideal=ideal) for a, b in kept])


# --------------------------------------------------------------------------------------------------
# trec_eval (pytrec_eval): ideal="given", gain="linear", ties="stable" via descending docno


def _trec(s, r, where, extra, cutoffs):
    """Runs trec_eval ``ndcg_cut`` and ``ndcg``. Retrieved item i of an n-list gets docno d{n-i:04d} so
    that trec_eval's tie break (descending docno) is the index order; unretrieved judged documents
    (masked items and ``extra``) appear only in the qrels."""
    q, n = s.shape
    qrels, run = {}, {}
    for i in range(q):
        qid = f"q{i:03d}"
        qrels[qid] = {f"d{n - j:04d}": int(r[i, j]) for j in range(n)}
        qrels[qid].update({f"u{j:04d}": int(g) for j, g in enumerate(extra[i])})
        docs = {f"d{n - j:04d}": float(s[i, j]) for j in range(n) if where[i, j]}
        if docs:
            run[qid] = docs
    measures = {"ndcg_cut." + ",".join(map(str, cutoffs)), "ndcg"}
    res = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
    out = {}
    for k in (*cutoffs, None):
        key = "ndcg" if k is None else f"ndcg_cut_{k}"
        out[k] = np.array([res[f"q{i:03d}"][key] if f"q{i:03d}" in res else np.nan for i in range(q)])
    return out


def test_matches_trec_eval_ndcg_cut_with_unretrieved_relevant_documents():
    rng = np.random.default_rng(4)
    q, n, n_extra = 40, 10, 4
    s, r = _tied_data(rng, q, n, levels=4, grades=4)
    r = np.round(r)  # trec_eval grades are integers
    extra = rng.integers(0, 3, (q, n_extra))
    extra[rng.random(q) < 0.3] = 0  # some queries have no unretrieved relevant document
    extra[1] = 0  # row 1: nothing relevant at all -> 0
    where = rng.random((q, n)) > 0.15
    where[5] = False  # not retrieved at all: trec_eval skips it, we exclude it from the mean
    where[6, :3] = False  # the top of the list unretrieved
    # judged documents: every candidate (retrieved or masked) plus the unretrieved extras, zero-padded
    ideal_rel = np.concatenate([r, extra, np.zeros((q, 3))], axis=1).astype(np.int32)
    cutoffs = (1, 5, 20)
    ref = _trec(s, r, where, extra, cutoffs)
    valid = where.any(1)
    for k in (*cutoffs, None):
        ours = ndcg(s, r, ideal_rel, k=k, ties="stable", ideal="given", where=where, reduce=None)
        close(np.asarray(ours)[valid], ref[k][valid])
        assert np.all(np.asarray(ours)[~valid] == 0)
    close(ndcg(s, r, ideal_rel, k=5, ties="stable", ideal="given", where=where), ref[5][valid].mean())
    # unretrieved relevant documents lower nDCG below the candidate-ideal value
    given = ndcg(s, r, ideal_rel, k=5, ties="stable", ideal="given", where=where, reduce=None)
    cand = ndcg(s, r, k=5, ties="stable", where=where, reduce=None)
    assert np.all(np.asarray(given) <= np.asarray(cand) + 1e-12)
    assert np.any(np.asarray(given) < np.asarray(cand) - 1e-3)


def test_given_ideal_of_the_candidates_equals_the_candidate_ideal():
    rng = np.random.default_rng(5)
    s, r = _tied_data(rng)
    pad = np.concatenate([r, np.zeros((len(r), 5))], axis=1)
    for k, gain in ((None, "linear"), (3, "exp2")):
        close(ndcg(s, r, pad, k=k, gain=gain, ideal="given", reduce=None), ndcg(s, r, k=k, gain=gain, reduce=None),
              rtol=1e-12)
    close(ndcg(s, r, pad, k=30, ideal="given", reduce=None), ndcg(s, r, reduce=None), rtol=1e-12)


# --------------------------------------------------------------------------------------------------
# ranx: ndcg@k (linear) and ndcg_burges@k (exp2), ideal="given", untied scores


def test_matches_ranx_linear_and_exp2_without_ties():
    ranx = pytest.importorskip("ranx")
    rng = np.random.default_rng(6)
    q, n, n_extra = 25, 12, 3
    s = np.stack([rng.permutation(n) for _ in range(q)]).astype(np.float64) + rng.random((q, 1))
    r = rng.integers(0, 4, (q, n)).astype(np.float64)
    extra = rng.integers(0, 3, (q, n_extra))
    r[:, 0] = np.maximum(r[:, 0], 1)  # ranx needs >= 1 relevant judged document per query
    where = rng.random((q, n)) > 0.2
    where[:, 0] = True
    ideal_rel = np.concatenate([r, extra], axis=1)
    qrels = ranx.Qrels({
        f"q{i:03d}": {**{f"d{j:03d}": int(r[i, j]) for j in range(n) if r[i, j] > 0},
                      **{f"u{j:03d}": int(g) for j, g in enumerate(extra[i]) if g > 0}}
        for i in range(q)
    })
    run = ranx.Run({f"q{i:03d}": {f"d{j:03d}": float(s[i, j]) for j in range(n) if where[i, j]}
                    for i in range(q)})
    ks = (3, 20)
    metrics = [f"{m}@{k}" for m in ("ndcg", "ndcg_burges") for k in ks] + ["ndcg", "ndcg_burges"]
    ranx.evaluate(qrels, run, metrics, save_results_in_run=True)  # one numba-compiled call
    for metric in metrics:
        name, _, kk = metric.partition("@")
        k = int(kk) if kk else None
        gain = "exp2" if name == "ndcg_burges" else "linear"
        ref = np.array([run.scores[metric][f"q{i:03d}"] for i in range(q)])
        for ties in ("stable", "pessimistic") if metric == "ndcg_burges@3" else ("stable",):  # untied: all agree
            ours = ndcg(s, r, ideal_rel, where=where, k=k, gain=gain, ties=ties, ideal="given", reduce=None)
            close(ours, ref)


# --------------------------------------------------------------------------------------------------
# closed forms (METRICS.md §4.1)


def test_closed_forms():
    """METRICS.md §4.1 values; the rows share one padded [5, 5] batch (padding masked)."""
    l2 = math.log2
    rows = [  # (scores, relevance)
        ([3.0, 2.0, 1.0], [0.0, 1.0, 1.0]),
        ([3.0, 2.0, 1.0], [3.0, 0.0, 1.0]),
        ([5.0, 4.0, 3.0, 2.0, 1.0], [3.0, 2.0, 2.0, 1.0, 0.0]),  # a perfect ranking
        ([1.0, 2.0, 3.0, 4.0, 5.0], [3.0, 2.0, 2.0, 1.0, 0.0]),  # reversed
        ([1.0, 2.0], [0.0, 0.0]),  # no relevant item
    ]
    s, r, where = np.zeros((5, 5)), np.zeros((5, 5)), np.zeros((5, 5), bool)
    for i, (a, b) in enumerate(rows):
        s[i, :len(a)], r[i, :len(b)], where[i, :len(a)] = a, b, True
    d0 = 1 / l2(1 + 2) + 1 / l2(1 + 3)
    close(dcg(s, r, where=where, reduce=None)[:2], [d0, 3 + 1 / l2(4)], rtol=1e-14)
    close(dcg(s, r, gain="exp2", where=where, reduce=None)[1], 7 + 1 / l2(4), rtol=1e-14)
    close(dcg(s, r, k=2, where=where, reduce=None)[0], 1 / l2(3), rtol=1e-14)
    nd = np.asarray(ndcg(s, r, where=where, reduce=None))
    close(nd[[0, 2, 4]], [d0 / (1 + 1 / l2(3)), 1.0, 0.0], rtol=1e-14)
    assert nd[3] < 1.0
    nd2 = np.asarray(ndcg(s, r, k=2, gain="exp2", where=where, reduce=None))
    close(nd2[[0, 2, 4]], [(1 / l2(3)) / (1 + 1 / l2(3)), 1.0, 0.0], rtol=1e-14)
    # no relevant item: 0, included in the mean
    close(ndcg(s[[0, 4]], r[[0, 4]], where=where[[0, 4]], weights=np.ones(2)), nd[0] / 2, rtol=1e-14)
    # given ideal: DCG = 1/log2(3) + 1/log2(4), IDCG@3 over 3 judged relevant = 1 + 1/log2(3) + 1/log2(4)
    judged = np.array([[1.0, 1.0, 1.0, 0.0]])
    close(ndcg(s[:1, :3], r[:1, :3], judged, k=3, ideal="given"), d0 / (1 + d0), rtol=1e-14)


# --------------------------------------------------------------------------------------------------
# ties


def test_tie_options_against_all_permutations():
    """average / optimistic / pessimistic = mean / max / min of the ties="stable" value over all 720
    item permutations (each tie group's orders appear equally often); one batched call each."""
    s = np.array([2.0, 1.0, 2.0, 1.0, 1.0, 0.0])
    r = np.array([0.0, 3.0, 2.0, 1.0, 0.0, 2.0])
    perms = np.array(list(itertools.permutations(range(6))))
    for gain, f, k in (("linear", dcg, 3), ("exp2", ndcg, None)):
        stable = np.asarray(f(s[perms], r[perms], k=k, gain=gain, ties="stable", reduce=None))
        close(f(s[None], r[None], k=k, gain=gain, ties="average"), stable.mean(), rtol=1e-12)
        close(f(s[None], r[None], k=k, gain=gain, ties="optimistic"), stable.max(), rtol=1e-12)
        close(f(s[None], r[None], k=k, gain=gain, ties="pessimistic"), stable.min(), rtol=1e-12)
        assert stable.max() > stable.min()


def test_tie_orderings_are_ordered_and_stable_is_index_order():
    s, r = _tied_data(np.random.default_rng(7))
    for f, k in ((dcg, None), (ndcg, 3)):
        opt, avg, pes = (np.asarray(f(s, r, k=k, ties=t, reduce=None))
                         for t in ("optimistic", "average", "pessimistic"))
        assert np.all(opt >= avg - 1e-12) and np.all(avg >= pes - 1e-12)
        assert np.any(opt > pes + 1e-6)
    # constant scores: stable = index order; pessimistic gets the worst order
    s0 = np.zeros((1, 3))
    r0 = np.array([[0.0, 0.0, 1.0]])
    close(dcg(s0, r0, ties="stable"), 0.5, rtol=1e-14)
    close(dcg(s0, r0, ties="pessimistic"), 0.5, rtol=1e-14)
    close(dcg(s0, r0, ties="optimistic"), 1.0, rtol=1e-14)
    close(ndcg(s0, r0, k=1, ties="pessimistic"), 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cutoff_inside_a_tie_group_infinities_and_signed_zeros(dtype):
    """The top-k path (``ties="average"`` / ``"stable"``): a tie group straddling the cutoff is averaged
    over all its members, also those past k; -0.0 ties +0.0; ±inf are ordinary scores; float32 and
    float64 scores (int32 / int64 ranking keys)."""
    rng = np.random.default_rng(8)
    q, n = 24, 12
    s = rng.choice([np.inf, 2.0, 1.0, 0.0, -0.0, -1.0, -np.inf], size=(q, n))
    s[0] = [3.0] + [1.0] * 10 + [0.0]  # a group of 10 straddling every cutoff from 2 to 10
    s[1] = np.where(np.arange(n) % 2, 0.0, -0.0)  # one group through signed zeros
    r = rng.integers(0, 4, (q, n)).astype(np.float64)
    ks = (1, 2, 5, None)

    configs = [(k, t) for k in ks for t in ("average", "stable")]

    def f(a, b):
        return [(dcg(a, b, k=k, ties=t, reduce=None), ndcg(a, b, k=k, ties=t, reduce=None)) for k, t in configs]

    out = jax.jit(f)(jnp.asarray(s.astype(dtype)), jnp.asarray(r.astype(dtype)))
    for (k, t), (d_ours, n_ours) in zip(configs, out):
        close(d_ours, [_np_dcg(s[i], r[i], k=k, ties=t) for i in range(q)])
        close(n_ours, [_np_dcg(s[i], r[i], k=k, ties=t, ideal="candidates") for i in range(q)])


def test_infinite_and_huge_scores_rank_like_any_other_order():
    s = np.array([[np.inf, 1e300, -np.inf, 0.0, np.inf]])
    r = np.array([[1.0, 2.0, 3.0, 0.0, 2.0]])
    ref = np.array([[4.0, 3.0, 1.0, 2.0, 4.0]])  # the same order (and the same tie between the two +inf)
    for ties in TIES:
        close(ndcg(s, r, ties=ties), ndcg(ref, r, ties=ties), rtol=1e-14)
    close(dcg(s, r, ties="optimistic", k=2), dcg(ref, r, ties="optimistic", k=2), rtol=1e-14)


@given(st.integers(0, 2**31 - 1))
def test_properties_range_and_permutation_invariance(seed):
    rng = np.random.default_rng(seed)
    k, gain = 3, "exp2"
    s, r = _tied_data(rng, 6, 7, levels=3)
    where = rng.random(s.shape) > 0.3
    out = {t: np.asarray(ndcg(s, r, where=where, k=k, gain=gain, ties=t, reduce=None)) for t in TIES}
    for v in out.values():
        assert np.all((v >= -1e-12) & (v <= 1 + 1e-12))
    assert np.all(out["optimistic"] >= out["average"] - 1e-12)
    assert np.all(out["average"] >= out["pessimistic"] - 1e-12)
    # "average" does not depend on the input order of the items
    p = rng.permutation(s.shape[1])
    close(ndcg(s[:, p], r[:, p], where=where[:, p], k=k, gain=gain, reduce=None), out["average"], rtol=1e-12)


# --------------------------------------------------------------------------------------------------
# shapes, reduction, weights, streaming, gradients


def test_reduce_none_batch_axes_and_weights():
    rng = np.random.default_rng(8)
    b, q, n = 3, 5, 6
    s = rng.integers(0, 4, (b, q, n)).astype(np.float64)
    r = rng.integers(0, 3, (b, q, n)).astype(np.float64)
    where = rng.random((b, q, n)) > 0.2
    where[0, 1] = False  # an all-masked query
    where[2] = False  # a batch element without any valid query: NaN mean
    w = rng.random((b, q)) + 0.1
    valid = where.any(-1)
    for f in (dcg, ndcg):
        per = np.asarray(f(s, r, k=3, where=where, reduce=None))
        assert per.shape == (b, q)
        assert per[0, 1] == 0.0 and np.all(per[2] == 0.0)
        mean = np.asarray(f(s, r, k=3, where=where, weights=w))
        assert mean.shape == (b,) and np.isnan(mean[2])
        close(mean[:2], (per * w * valid).sum(-1)[:2] / (w * valid).sum(-1)[:2], rtol=1e-12)
        unweighted = np.asarray(f(s, r, k=3, where=where, weights=np.ones((b, q))))
        close(unweighted[:2], (per * valid).sum(-1)[:2] / valid.sum(-1)[:2], rtol=1e-12)
    for i in range(b):  # leading axes are batch axes
        close(per[i], ndcg(s[i], r[i], k=3, where=where[i], reduce=None), rtol=1e-14)
    # where broadcasts: an item mask [n] shared by all queries
    close(ndcg(s, r, k=3, where=where[0, 0], reduce=None),
          ndcg(s, r, k=3, where=np.broadcast_to(where[0, 0], s.shape), reduce=None), rtol=1e-14)
    # ideal_relevance keeps its own m, with the leading axes of scores
    ideal_rel = np.concatenate([r, rng.integers(0, 3, (b, q, 2))], -1)
    assert ndcg(s, r, ideal_rel, ideal="given", reduce=None).shape == (b, q)


def test_streaming_equals_one_shot_with_given_ideal():
    rng = np.random.default_rng(9)
    q, n = 24, 6
    s, r = _tied_data(rng, q, n)
    ideal_rel = np.concatenate([r, rng.integers(0, 3, (q, 4))], axis=1)
    where = rng.random((q, n)) > 0.2
    w = rng.random(q)
    m = ndcg_metric(k=3, gain="exp2", ideal="given")
    update = jax.jit(m.update)
    state = m.init()
    for lo in (0, 8, 16):
        hi = lo + 8
        state = update(state, s[lo:hi], r[lo:hi], ideal_rel[lo:hi], where=where[lo:hi], weights=w[lo:hi])
    close(m.compute(state), ndcg(s, r, ideal_rel, k=3, gain="exp2", ideal="given", where=where, weights=w),
          rtol=1e-12)
    d = dcg_metric(ties="pessimistic")
    state = jax.jit(d.update)(d.init(), s, r, where=where, weights=w)
    close(d.compute(state), dcg(s, r, ties="pessimistic", where=where, weights=w), rtol=1e-12)


def test_gradients_are_zero_and_finite():
    s = np.array([[np.inf, 1.0, 1.0, -np.inf], [0.0, 0.0, 0.0, 0.0], [1.0, 2.0, 3.0, 4.0]])
    r = np.array([[1.0, 0.0, 2.0, 1.0], [0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 2.0]])
    where = np.array([[True] * 4, [True] * 4, [False] * 4])
    for ties in ("average", "pessimistic"):
        g = jax.grad(lambda x: ndcg(x, r, k=2, ties=ties, where=where))(jnp.asarray(s))
        assert np.all(np.asarray(g) == 0)
    for f, ties, gain in ((dcg, "average", "exp2"), (ndcg, "optimistic", "linear")):
        gr = jax.grad(lambda y: f(s, y, ties=ties, gain=gain, where=where))(jnp.asarray(r))
        assert np.all(np.isfinite(np.asarray(gr)))
        if f is dcg:  # linear in the gains: d/drel on the all-tied row (rel 0) is 2^0·ln2·mean discount / 2 queries
            close(gr[1], np.log(2) * np.mean(1 / np.log2(np.arange(4) + 2)) / 2, rtol=1e-12)
            assert np.all(np.asarray(gr[2]) == 0)  # the masked query


def test_low_precision_inputs_accumulate_in_float32():
    s, r = _tied_data(np.random.default_rng(10), 8, 6)
    for dt in (jnp.bfloat16,):
        out = ndcg(jnp.asarray(s, dt), jnp.asarray(r, dt), k=3)
        assert out.dtype == jnp.float32
        close(out, ndcg(np.asarray(jnp.asarray(s, dt), np.float64), np.asarray(jnp.asarray(r, dt), np.float64), k=3),
              rtol=1e-5)


# --------------------------------------------------------------------------------------------------
# errors


def test_invalid_configuration_and_shapes_raise_clear_errors():
    s = np.zeros((4, 5))
    r = np.zeros((4, 5))
    bad_config = [
        (dict(k=0), "k"), (dict(k=2.5), "k"), (dict(k=True), "k"), (dict(k=np.float64(3)), "k"),
        (dict(gain="exp"), "gain"), (dict(ties="random"), "ties"), (dict(reduce="sum"), "reduce"),
    ]
    for f in (dcg, ndcg):
        for kw, name in bad_config:
            with pytest.raises(jaxmetrics.ShapeError, match=f"`{name}`"):
                f(s, r, **kw)
        with pytest.raises(jaxmetrics.ShapeError, match="`relevance`"):
            f(s, r[:, :4])
        with pytest.raises(jaxmetrics.ShapeError, match="`where`"):
            f(s, r, where=np.ones((4, 6), bool))
        with pytest.raises(jaxmetrics.ShapeError, match="`weights`"):
            f(s, r, weights=np.ones(5))
        with pytest.raises(jaxmetrics.ShapeError, match="`scores`"):
            f(s[0], r[0])  # the mean needs the query axis
        with pytest.raises(ValueError, match="`weights`"):
            f(s, r, weights=np.ones(4), reduce=None)
    with pytest.raises(jaxmetrics.ShapeError, match="`ideal`"):
        ndcg(s, r, ideal="qrels")
    with pytest.raises(jaxmetrics.ShapeError, match="`ideal_relevance`"):
        ndcg(s, r, ideal="given")
    with pytest.raises(jaxmetrics.ShapeError, match="`ideal_relevance`"):
        ndcg(s, r, np.zeros((4, 7)))  # ideal_relevance with ideal="candidates"
    for bad in (np.zeros((3, 7)), np.zeros((4,)), np.zeros((1, 4, 7)), np.zeros((4, 0))):
        with pytest.raises(jaxmetrics.ShapeError, match="`ideal_relevance`"):
            ndcg(s, r, bad, ideal="given")
    with pytest.raises(jaxmetrics.ShapeError, match="`ideal_relevance`"):  # streaming too
        m = ndcg_metric(ideal="given")
        m.update(m.init(), s, r)
    for kw, name in [(dict(k=-1), "k"), (dict(gain="x"), "gain"), (dict(ideal="x"), "ideal")]:
        with pytest.raises(jaxmetrics.ShapeError, match=f"`{name}`"):
            ndcg_metric(**kw)
    # errors are raised at trace time, under jit too
    with pytest.raises(jaxmetrics.ShapeError, match="`ideal_relevance`"):
        jax.jit(lambda a, b, c: ndcg(a, b, c, ideal="given"))(s, r, np.zeros((3, 2)))


def test_registry_entries():
    for name, fn, stream in (("dcg", dcg, dcg_metric), ("ndcg", ndcg, ndcg_metric)):
        info = jaxmetrics.registry[name]
        assert info.fn is fn and info.streaming is stream and info.family == "ranking"
        assert info.higher_is_better is True and info.differentiable is False
    assert jaxmetrics.ranking.ndcg is ndcg


def test_validate_relevance():
    from jaxmetrics import validate
    from jaxmetrics._src.validate import ValidationError

    validate(relevance=np.array([[0, 1, 3]]))
    validate(relevance=np.array([[0.0, 0.5]]), scores=np.array([[np.inf, 1.0]]))
    validate(relevance=jnp.array([[0.0, 2.0]], jnp.bfloat16))
    validate(relevance=np.array([True, False]))
    with pytest.raises(ValidationError, match=r"`relevance` grades must be >= 0; 1 entry, first at index \(1, 0\)"):
        validate(relevance=np.array([[0.0, 1.0], [-1.0, 2.0]]))
    with pytest.raises(ValidationError, match="`relevance` contains NaN or inf"):
        validate(relevance=np.array([0.0, np.nan]))
    with pytest.raises(ValidationError, match="`relevance` contains NaN or inf"):
        validate(relevance=np.array([np.inf]))
    with pytest.raises(ValidationError, match="`relevance` must be numeric"):
        validate(relevance=np.array(["1", "2"]))
    with pytest.raises(ValidationError, match="`relevance` grades must be >= 0"):
        validate(relevance=np.array([-3]))


# --------------------------------------------------------------------------------------------------
# real data and scale


def test_digits_retrieval_matches_sklearn():
    """Each query is a digit image; the items are 120 other images ranked by negative squared distance
    (integer pixels: exact ties occur), relevant when they show the same digit. The query itself is
    in the candidate list but masked out."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(11)
    idx = rng.choice(len(x), 160, replace=False)
    x, y = x[idx].astype(np.int64), y[idx]
    queries, items = np.arange(40), np.arange(40, 160)
    cand = np.concatenate([queries[:, None], np.broadcast_to(items, (40, 120))], axis=1)  # self first
    d2 = ((x[queries][:, None, :] - x[cand]) ** 2).sum(-1)
    scores = -d2.astype(np.float64)
    rel = (y[cand] == y[queries][:, None]).astype(np.float64)
    where = np.ones_like(rel, bool)
    where[:, 0] = False
    assert any(len(np.unique(row)) < len(row) for row in scores[:, 1:])  # ties present
    for k in (1, 10, None):
        ours = ndcg(scores, rel, k=k, where=where, reduce=None)
        close(ours, _sk_rows(sk_metrics.ndcg_score, scores[:, 1:], rel[:, 1:], k=k))
    close(dcg(scores, rel, k=10, where=where), sk_metrics.dcg_score(rel[:, 1:], scores[:, 1:], k=10))
    # nearest-neighbour retrieval on digits is far better than chance
    chance = float(ndcg(rng.random(scores.shape), rel, k=10, where=where))
    assert float(ndcg(scores, rel, k=10, where=where)) > max(0.6, 3 * chance)


def test_thousands_of_queries_in_one_jitted_call():
    rng = np.random.default_rng(12)
    q, n = 2_000, 1_000
    s = rng.integers(0, 300, (q, n)).astype(np.float32)  # ~3 ties per score level
    r = rng.integers(0, 4, (q, n)).astype(np.float32) * (rng.random((q, n)) < 0.1)
    f = jax.jit(lambda a, b: ndcg(a, b, k=10, reduce=None))
    out = np.asarray(f(s, r))
    assert out.shape == (q,) and out.dtype == np.float32
    rows = rng.choice(q, 40, replace=False)
    ref = _sk_rows(sk_metrics.ndcg_score, s[rows].astype(np.float64), r[rows].astype(np.float64), k=10)
    close(out[rows], ref, rtol=2e-5, atol=1e-6)
