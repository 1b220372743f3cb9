"""Oracle, analytic and real-data tests for jaxmetrics.ranking.retrieval (AP@k, MRR / RR, P@k, R@k, hit
rate, R-precision). Oracles (METRICS.md §4.2): pytrec_eval (TREC semantics: num_relevant from the qrels,
including unretrieved relevant documents; score ties broken by docno descending, reproduced by
``ties="stable"`` with docno = f"d{n - i:04d}"), ranx (tie-free scores) and loop-based numpy brute force
over tie permutations.

Compilation dominates on CPU, so each configuration is jitted once and the problem shapes are few.
"""

import functools
import itertools
import math

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import jaxmetrics  # noqa: E402
from jaxmetrics.ranking import retrieval as rt  # noqa: E402

pytrec_eval = pytest.importorskip("pytrec_eval")

RTOL = 1e-6


@functools.lru_cache(maxsize=None)
def _jit(fn, **kw):
    return jax.jit(functools.partial(fn, **kw))


def _call(fn, *args, **kw):
    """``fn(*args, **kw)`` jitted per static configuration (arrays in args / where / weights)."""
    where = kw.pop("where", None)
    weights = kw.pop("weights", None)
    args = tuple(None if a is None else jnp.asarray(a) for a in args)
    if args and args[-1] is None:
        args = args[:-1]
    return np.asarray(_jit(fn, **kw)(*args, where=where, weights=weights))


# ------------------------------------------------------------------------------------------------
# pytrec_eval


def _docno(n, i):
    return f"d{n - i:04d}"  # descending docno order == index order (trec_eval's tie-break)


def _trec(scores, relevance, valid, extra, measures):
    """pytrec_eval per-query results; ``extra [Q]`` unretrieved relevant docs (grades 1..3) in the qrels."""
    q, n = scores.shape
    qrels, run = {}, {}
    for a in range(q):
        qid = f"q{a:03d}"
        qrels[qid] = {_docno(n, i): int(relevance[a, i]) for i in range(n) if valid[a, i]}
        for j in range(int(extra[a])):
            qrels[qid][f"u{j:03d}"] = 1 + j % 3
        run[qid] = {_docno(n, i): float(scores[a, i]) for i in range(n) if valid[a, i]}
    out = pytrec_eval.RelevanceEvaluator(qrels, set(measures)).evaluate(run)
    return {m: np.array([out[f"q{a:03d}"][m] for a in range(q)]) for m in measures}


def _random_queries(rng, q, n, *, decimals=1, p_rel=0.3, p_valid=0.8):
    scores = np.round(rng.normal(size=(q, n)), decimals) if decimals is not None else rng.normal(size=(q, n))
    relevance = ((rng.random((q, n)) < p_rel) * rng.integers(1, 4, size=(q, n))).astype(np.int32)
    valid = rng.random((q, n)) < p_valid
    valid[:, 0] = True
    return scores, relevance, valid


def test_pytrec_eval_random_with_ties_masks_and_unretrieved_relevant():
    rng = np.random.default_rng(0)
    q, n = 48, 12
    scores, relevance, valid = _random_queries(rng, q, n)
    relevance[:4] = 0  # queries without relevant candidates ...
    extra = rng.integers(0, 3, size=q)
    extra[:2] = 0  # ... and two without any relevant document at all
    num_rel = ((relevance > 0) & valid).sum(-1) + extra
    measures = ["map", "map_cut_5", "map_cut_20", "P_5", "P_20", "recall_5", "recall_20", "recip_rank", "Rprec",
                "success_3"]
    ref = _trec(scores, relevance, valid, extra, measures)
    kw = dict(ties="stable", where=valid, reduce=None)
    got = {
        "map": _call(rt.average_precision_at_k, scores, relevance, num_rel, **kw),
        "map_cut_5": _call(rt.average_precision_at_k, scores, relevance, num_rel, k=5, **kw),
        "map_cut_20": _call(rt.average_precision_at_k, scores, relevance, num_rel, k=20, **kw),
        "P_5": _call(rt.precision_at_k, scores, relevance, k=5, **kw),
        "P_20": _call(rt.precision_at_k, scores, relevance, k=20, **kw),
        "recall_5": _call(rt.recall_at_k, scores, relevance, num_rel, k=5, **kw),
        "recall_20": _call(rt.recall_at_k, scores, relevance, num_rel, k=20, **kw),
        "recip_rank": _call(rt.reciprocal_rank, scores, relevance, **kw),
        "Rprec": _call(rt.r_precision, scores, relevance, num_rel, **kw),
        "success_3": _call(rt.hit_rate, scores, relevance, k=3, **kw),
    }
    for m in measures:
        np.testing.assert_allclose(got[m], ref[m], rtol=RTOL, atol=1e-12, err_msg=m)
    # the means over queries (all queries have a valid item) are the trec_eval "all" values
    mean = _call(rt.average_precision_at_k, scores, relevance, num_rel, ties="stable", where=valid)
    np.testing.assert_allclose(mean, ref["map"].mean(), rtol=RTOL)


def test_real_data_digits_retrieval_against_pytrec_eval():
    """Each query is a digit image; the items are the other images of a 600-image pool ranked by negative
    squared distance (integer pixels: many exact ties), relevance = same label. Unretrieved relevant
    documents = same-label images outside the pool (TREC num_relevant)."""
    datasets = pytest.importorskip("sklearn.datasets")
    x, y = datasets.load_digits(return_X_y=True)
    pool, q = 600, 40
    xp, yp = x[:pool], y[:pool]
    xq, yq = xp[:q], yp[:q]
    d2 = ((xq[:, None, :] - xp[None, :, :]) ** 2).sum(-1)
    scores = -d2.astype(np.float64)
    relevance = (yq[:, None] == yp[None, :]).astype(np.int32)
    valid = np.ones((q, pool), bool)
    valid[np.arange(q), np.arange(q)] = False  # the query itself is not a candidate
    extra = np.array([(y[pool:] == yq[a]).sum() for a in range(q)])
    num_rel = relevance.sum(-1) - 1 + extra
    measures = ["map", "map_cut_10", "P_10", "recall_10", "recip_rank", "Rprec"]
    ref = _trec(scores, relevance, valid, extra, measures)
    assert len(np.unique(scores[0])) < pool - 50  # there are ties
    kw = dict(ties="stable", where=valid, reduce=None)
    got = {
        "map": _call(rt.average_precision_at_k, scores, relevance, num_rel, **kw),
        "map_cut_10": _call(rt.average_precision_at_k, scores, relevance, num_rel, k=10, **kw),
        "P_10": _call(rt.precision_at_k, scores, relevance, k=10, **kw),
        "recall_10": _call(rt.recall_at_k, scores, relevance, num_rel, k=10, **kw),
        "recip_rank": _call(rt.reciprocal_rank, scores, relevance, **kw),
        "Rprec": _call(rt.r_precision, scores, relevance, num_rel, **kw),
    }
    for m in measures:
        np.testing.assert_allclose(got[m], ref[m], rtol=RTOL, atol=1e-12, err_msg=m)
    assert ref["P_10"].mean() > 0.9  # nearest neighbours on digits are good: a meaningful test


# ------------------------------------------------------------------------------------------------
# ranx (one evaluate call: its first call JIT-compiles with numba)


def test_ranx_tie_free():
    ranx = pytest.importorskip("ranx")
    rng = np.random.default_rng(1)
    q, n, k = 32, 15, 5
    scores, relevance, valid = _random_queries(rng, q, n, decimals=None)
    extra = rng.integers(0, 3, size=q)
    extra[((relevance > 0) & valid).sum(-1) == 0] += 1  # ranx needs a relevant document per query
    num_rel = ((relevance > 0) & valid).sum(-1) + extra
    qrels, run = {}, {}
    for a in range(q):
        qid = f"q{a:03d}"
        qrels[qid] = {f"d{i:03d}": int(relevance[a, i]) for i in range(n) if valid[a, i] and relevance[a, i] > 0}
        qrels[qid].update({f"u{j:03d}": 1 + j % 3 for j in range(int(extra[a]))})
        run[qid] = {f"d{i:03d}": float(scores[a, i]) for i in range(n) if valid[a, i]}
    metrics = [f"map@{k}", f"mrr@{k}", f"precision@{k}", f"recall@{k}", f"hit_rate@{k}", "r-precision", "map@20"]
    run_obj = ranx.Run(run)
    ranx.evaluate(ranx.Qrels(qrels), run_obj, metrics, return_mean=False)
    ref = {m: np.array([run_obj.scores[m][f"q{a:03d}"] for a in range(q)]) for m in metrics}
    kw = dict(where=valid, reduce=None)
    got = {
        f"map@{k}": _call(rt.average_precision_at_k, scores, relevance, num_rel, k=k, **kw),
        f"mrr@{k}": _call(rt.mean_reciprocal_rank, scores, relevance, k=k, **kw),
        f"precision@{k}": _call(rt.precision_at_k, scores, relevance, k=k, **kw),
        f"recall@{k}": _call(rt.recall_at_k, scores, relevance, num_rel, k=k, **kw),
        f"hit_rate@{k}": _call(rt.hit_rate, scores, relevance, k=k, **kw),
        "r-precision": _call(rt.r_precision, scores, relevance, num_rel, **kw),
        "map@20": _call(rt.average_precision_at_k, scores, relevance, num_rel, k=20, **kw),
    }
    for m in metrics:
        np.testing.assert_allclose(got[m], ref[m], rtol=RTOL, atol=1e-12, err_msg=m)


# ------------------------------------------------------------------------------------------------
# analytic values


def test_mrr_random_ranking_of_one_relevant_among_ten():
    """METRICS.md §4.4: over all 10 positions of the single relevant item, MRR = H_10 / 10."""
    scores = np.tile(np.arange(10.0)[::-1], (10, 1))
    relevance = np.eye(10, dtype=np.int32)
    h10 = sum(1 / i for i in range(1, 11))
    assert abs(h10 / 10 - 0.2928968) < 1e-7
    np.testing.assert_allclose(_call(rt.mean_reciprocal_rank, scores, relevance), h10 / 10, rtol=1e-12)
    np.testing.assert_allclose(_call(rt.mrr, scores, relevance), h10 / 10, rtol=1e-12)
    # the same with a constant scorer and ties broken by index
    const = np.zeros((10, 10))
    np.testing.assert_allclose(_call(rt.mrr, const, relevance, ties="stable"), h10 / 10, rtol=1e-12)
    # a constant scorer gets no credit under the default "pessimistic" ties: the relevant item is last
    np.testing.assert_allclose(_call(rt.mrr, const, relevance), 0.1, rtol=1e-12)
    # ... and precision@k's tie average is the random-ranking expectation 1/10
    np.testing.assert_allclose(_call(rt.precision_at_k, const, relevance, k=3), 0.1, rtol=1e-12)
    np.testing.assert_allclose(_call(rt.hit_rate, scores, relevance, k=3), 0.3, rtol=1e-12)


def test_average_precision_denominators_closed_form():
    # ranked relevance [1, 0, 1, 0, 0]; 4 relevant in the qrels; k = 3: Σ P@r rel_r = 1 + 2/3
    scores = np.array([[5.0, 4.0, 3.0, 2.0, 1.0]])
    relevance = np.array([[1, 0, 2, 0, 0]])
    nr = np.array([4])
    s = 1 + 2 / 3
    ap = functools.partial(_call, rt.average_precision_at_k, scores, relevance, nr, k=3)
    np.testing.assert_allclose(ap(denominator="relevant"), s / 4, rtol=1e-12)
    np.testing.assert_allclose(ap(denominator="min_k_relevant"), s / 3, rtol=1e-12)
    np.testing.assert_allclose(ap(denominator="retrieved"), s / 2, rtol=1e-12)
    # without num_relevant R = 2 candidates; k=None: min(n_valid, R) = R
    ap2 = functools.partial(_call, rt.average_precision_at_k, scores, relevance)
    np.testing.assert_allclose(ap2(denominator="relevant"), s / 2, rtol=1e-12)
    np.testing.assert_allclose(ap2(k=1, denominator="min_k_relevant"), 1.0, rtol=1e-12)
    # perfect ranking: 1 for every denominator without unretrieved documents
    perfect = np.array([[1, 1, 0, 0, 0]])
    for den in rt.AP_DENOMINATORS:
        np.testing.assert_allclose(_call(rt.average_precision_at_k, scores, perfect, denominator=den), 1.0)
    # min(k, R) with R > k: a perfect top 3 of 4 relevant scores 1
    np.testing.assert_allclose(
        _call(rt.average_precision_at_k, scores, np.ones((1, 5)), nr, k=3, denominator="min_k_relevant"), 1.0)


def test_precision_denominator_is_k_even_for_short_lists():
    scores = np.array([[3.0, 2.0, 1.0]])
    rel = np.array([[1, 1, 0]])
    np.testing.assert_allclose(_call(rt.precision_at_k, scores, rel, k=10), 0.2)
    np.testing.assert_allclose(_call(rt.precision_at_k, scores, rel), 2 / 3)  # k=None: the list length
    np.testing.assert_allclose(_call(rt.precision_at_k, scores, rel, where=np.array([[True, False, True]])), 0.5)
    np.testing.assert_allclose(_call(rt.recall_at_k, scores, rel, k=10), 1.0)
    np.testing.assert_allclose(_call(rt.r_precision, scores, rel, np.array([5])), 0.4)  # R > n


# ------------------------------------------------------------------------------------------------
# ties: brute force over the orderings of tied scores


def _np_metrics(ranked_rel, k, big_r):
    """Loop-based per-ordering values from the ranked 0/1 relevance list (independent of the library)."""
    n = len(ranked_rel)
    kk = min(k, n)
    hits = sum(ranked_rel[:kk])
    ap = sum(sum(ranked_rel[: r + 1]) / (r + 1) for r in range(kk) if ranked_rel[r])
    rr = next((1 / (r + 1) for r in range(kk) if ranked_rel[r]), 0.0)
    rprec = sum(ranked_rel[: int(big_r)]) / big_r if big_r else 0.0
    return dict(
        precision=hits / k,
        recall=hits / big_r if big_r else 0.0,
        r_precision=rprec,
        ap=ap / big_r if big_r else 0.0,
        rr=rr,
        hit=float(hits > 0),
    )


def _tie_orderings(scores):
    """All orderings of the item indices consistent with descending scores (ties permuted)."""
    groups = [list(np.flatnonzero(scores == v)) for v in sorted(set(scores.tolist()), reverse=True)]
    for perms in itertools.product(*[itertools.permutations(g) for g in groups]):
        yield [i for p in perms for i in p]


def test_ties_average_is_brute_force_mean_and_orderings_are_extremes():
    rng = np.random.default_rng(2)
    q, n, k = 16, 6, 3
    scores = rng.integers(0, 3, size=(q, n)).astype(np.float64)
    scores[0] = 1.0  # a constant scorer
    relevance = ((rng.random((q, n)) < 0.4) * rng.integers(1, 3, size=(q, n))).astype(np.int32)
    relevance[0, :2] = 1
    relevance[1] = 0
    nr = (relevance > 0).sum(-1) + rng.integers(0, 2, size=q)
    names = ["precision", "recall", "r_precision", "ap", "rr", "hit"]
    brute = {m: [] for m in names}
    stable = {m: [] for m in names}
    for a in range(q):
        vals = [_np_metrics([int(relevance[a, i] > 0) for i in order], k, nr[a]) for order in _tie_orderings(scores[a])]
        for m in names:
            brute[m].append([v[m] for v in vals])
        index_order = sorted(range(n), key=lambda i: (-scores[a, i], i))
        st = _np_metrics([int(relevance[a, i] > 0) for i in index_order], k, nr[a])
        for m in names:
            stable[m].append(st[m])

    @functools.lru_cache(maxsize=None)
    def all_metrics(ties):
        def f(s, r, nr):
            kw = dict(ties=ties, reduce=None)
            out = dict(
                precision=rt.precision_at_k(s, r, k=k, **kw),
                recall=rt.recall_at_k(s, r, nr, k=k, **kw),
                r_precision=rt.r_precision(s, r, nr, **kw),
            )
            if ties != "average":
                out.update(
                    ap=rt.average_precision_at_k(s, r, nr, k=k, **kw),
                    rr=rt.reciprocal_rank(s, r, k=k, **kw),
                    hit=rt.hit_rate(s, r, k=k, **kw),
                )
            return out

        return jax.tree.map(np.asarray, jax.jit(f)(scores, relevance, nr))

    def ours(m, ties):
        return all_metrics(ties)[m]

    for m in names:
        lo = np.array([min(v) for v in brute[m]])
        hi = np.array([max(v) for v in brute[m]])
        np.testing.assert_allclose(ours(m, "optimistic"), hi, rtol=1e-12, atol=1e-12, err_msg=m)
        np.testing.assert_allclose(ours(m, "pessimistic"), lo, rtol=1e-12, atol=1e-12, err_msg=m)
        np.testing.assert_allclose(ours(m, "stable"), stable[m], rtol=1e-12, atol=1e-12, err_msg=m)
        assert np.all(hi >= lo)
        if m in ("precision", "recall", "r_precision"):
            mean = np.array([np.mean(v) for v in brute[m]])
            np.testing.assert_allclose(ours(m, "average"), mean, rtol=1e-12, atol=1e-12, err_msg=m)
    assert _call(rt.mrr, scores[:1], relevance[:1], ties="pessimistic") < _call(
        rt.mrr, scores[:1], relevance[:1], ties="optimistic")


def _np_first_rank(s, rel, valid, ties):
    """1-based rank of the first relevant valid item after a full Python sort (0 when none)."""
    tie = {"stable": lambda i: 0.0, "optimistic": lambda i: -rel[i], "pessimistic": lambda i: rel[i]}[ties]
    order = sorted((i for i in range(len(s)) if valid[i]), key=lambda i: (-s[i], tie(i), i))
    ranks = [p + 1 for p, i in enumerate(order) if rel[i] > 0]
    return ranks[0] if ranks else 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rank_of_first_relevant_with_infinities_signed_zeros_and_masks(dtype):
    """Reciprocal rank and hit rate count the items ranked before the best relevant one instead of
    sorting: checked against a full sort with ±inf, -0.0 == +0.0 ties, masks and graded relevance."""
    rng = np.random.default_rng(31)
    q, n = 40, 9
    s = rng.choice([np.inf, 1.0, 0.5, 0.0, -0.0, -2.0, -np.inf], size=(q, n))
    rel = rng.choice([0, 0, 0, 1, 2], size=(q, n)).astype(np.float64)
    valid = rng.random((q, n)) < 0.8
    s[0], rel[0], valid[0] = np.where(np.arange(n) % 2, 0.0, -0.0), 0.0, True  # all tied through signed zeros
    rel[0, [3, 7]] = 1.0
    valid[1] = False  # no valid item

    def f(a, r, w):
        return {t: (rt.reciprocal_rank(a, r, ties=t, where=w), rt.hit_rate(a, r, k=2, ties=t, where=w, reduce=None))
                for t in ("stable", "optimistic", "pessimistic")}

    out = jax.jit(f)(jnp.asarray(s.astype(dtype)), jnp.asarray(rel.astype(dtype)), valid)
    for t, (rr, hit) in out.items():
        ranks = np.array([_np_first_rank(s[a], rel[a], valid[a], t) for a in range(q)])
        np.testing.assert_allclose(rr, np.where(ranks > 0, 1 / np.maximum(ranks, 1), 0.0), rtol=1e-6, err_msg=t)
        np.testing.assert_array_equal(hit, ((ranks > 0) & (ranks <= 2)).astype(float), err_msg=t)
        assert rr.dtype == dtype


# ------------------------------------------------------------------------------------------------
# masks, undefined cases, reductions


METRICS = [
    (rt.average_precision_at_k, dict(k=4), True),
    (rt.average_precision_at_k, dict(denominator="min_k_relevant"), True),
    (rt.average_precision_at_k, dict(k=4, denominator="retrieved"), True),
    (rt.mean_reciprocal_rank, dict(k=4), False),
    (rt.reciprocal_rank, dict(), False),
    (rt.precision_at_k, dict(k=4), False),
    (rt.precision_at_k, dict(), False),
    (rt.recall_at_k, dict(k=4), True),
    (rt.hit_rate, dict(k=2), False),
    (rt.r_precision, dict(), True),
]
IDS = [f"{f.__name__}-{kw}" for f, kw, _ in METRICS]


@pytest.mark.parametrize("fn,kw,with_nr", METRICS, ids=IDS)
def test_padded_and_masked_equals_unpadded(fn, kw, with_nr):
    rng = np.random.default_rng(3)
    q, n, pad = 8, 7, 4
    scores, relevance, _ = _random_queries(rng, q, n)
    nr = (relevance > 0).sum(-1) + rng.integers(0, 2, size=q) if with_nr else None
    p_scores = np.concatenate([scores, np.full((q, pad), np.nan)], -1)
    p_scores[:, -1] = 1e9  # a huge score on a masked item must not count
    p_rel = np.concatenate([relevance, np.ones((q, pad), np.int32)], -1)  # relevant padding
    where = np.arange(n + pad) < n
    ties = "stable" if len(kw) % 2 else "pessimistic"
    expected = _call(fn, scores, relevance, nr, ties=ties, reduce=None, **kw)
    got = _call(fn, p_scores, p_rel, nr, ties=ties, where=where, reduce=None, **kw)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fn,kw,with_nr", METRICS, ids=IDS)
def test_masked_query_excluded_no_relevant_included(fn, kw, with_nr):
    scores = np.array([[3.0, 2.0, 1.0], [3.0, 2.0, 1.0], [3.0, 2.0, 1.0], [1.0, 2.0, 3.0]])
    relevance = np.array([[1, 0, 0], [0, 0, 0], [1, 1, 0], [1, 0, 0]])
    where = np.array([[False] * 3, [True] * 3, [True] * 3, [True] * 3])
    nr = (relevance > 0).sum(-1) if with_nr else None
    per_q = _call(fn, scores, relevance, nr, where=where, reduce=None, **kw)
    assert per_q.shape == (4,)
    assert per_q[0] == 0 and per_q[1] == 0  # all masked / no relevant item
    assert per_q[2] > 0
    mean = _call(fn, scores, relevance, nr, where=where, weights=np.ones(4), reduce="mean", **kw)
    np.testing.assert_allclose(mean, per_q[1:].mean(), rtol=1e-12)
    w = np.array([5.0, 1.0, 2.0, 3.0])
    weighted = _call(fn, scores, relevance, nr, where=where, weights=w, reduce="mean", **kw)
    np.testing.assert_allclose(weighted, (w[1:] * per_q[1:]).sum() / w[1:].sum(), rtol=1e-12)
    all_masked = _call(fn, scores, relevance, nr, where=np.zeros((4, 3), bool), weights=w, reduce="mean", **kw)
    assert np.isnan(all_masked)


def test_leading_batch_axes_and_streaming():
    rng = np.random.default_rng(4)
    b, q, n = 3, 8, 6
    scores = np.round(rng.normal(size=(b, q, n)), 1)
    relevance = (rng.random((b, q, n)) < 0.4).astype(np.int32)
    nr = relevance.sum(-1) + 1
    where = rng.random((b, q, n)) < 0.8
    weights = rng.random((b, q)) + 0.1
    batched = _call(rt.average_precision_at_k, scores, relevance, nr, k=3, where=where, weights=weights)
    per_q = _call(rt.average_precision_at_k, scores, relevance, nr, k=3, where=where, reduce=None)
    assert batched.shape == (b,) and per_q.shape == (b, q)
    for i in range(b):
        one = _call(rt.average_precision_at_k, scores[i], relevance[i], nr[i], k=3, where=where[i],
                    weights=weights[i])
        np.testing.assert_allclose(batched[i], one, rtol=1e-12)
        np.testing.assert_allclose(per_q[i], _call(rt.average_precision_at_k, scores[i], relevance[i], nr[i], k=3,
                                                   where=where[i], reduce=None), rtol=1e-12)
    # streaming over query batches == one-shot
    m = rt.average_precision_at_k_metric(k=3)
    state = m.init()
    update = jax.jit(m.update)
    for lo, hi in [(0, 4), (4, 8)]:
        state = update(state, scores[0, lo:hi], relevance[0, lo:hi], nr[0, lo:hi], where=where[0, lo:hi],
                         weights=weights[0, lo:hi])
    np.testing.assert_allclose(m.compute(state), batched[0], rtol=1e-12)
    # the alias is the same function; the streaming alias too
    assert rt.mrr is rt.mean_reciprocal_rank and rt.mrr_metric is rt.mean_reciprocal_rank_metric
    assert jaxmetrics.ranking.mrr is rt.mean_reciprocal_rank


def test_registry_entries():
    reg = jaxmetrics.registry
    for name in ["average_precision_at_k", "mean_reciprocal_rank", "reciprocal_rank", "precision_at_k",
                 "recall_at_k", "hit_rate", "r_precision"]:
        info = reg[name]
        assert info.family == "ranking" and info.higher_is_better and not info.differentiable
    assert reg["reciprocal_rank"].streaming is None
    assert reg["mean_reciprocal_rank"].aliases == ("mrr",)


BAD = [
    (rt.average_precision_at_k, dict(ties="average"), "ties"),
    (rt.average_precision_at_k, dict(denominator="k"), "denominator"),
    (rt.mean_reciprocal_rank, dict(ties="average"), "ties"),
    (rt.hit_rate, dict(ties="random"), "ties"),
    (rt.precision_at_k, dict(k=0), "k"),
    (rt.precision_at_k, dict(k=2.0), "k"),
    (rt.recall_at_k, dict(k=True), "k"),
    (rt.r_precision, dict(ties="best"), "ties"),
    (rt.precision_at_k, dict(reduce="sum"), "reduce"),
]


@pytest.mark.parametrize("fn,kw,arg", BAD, ids=[f"{f.__name__}-{kw}" for f, kw, _ in BAD])
def test_bad_config_raises(fn, kw, arg):
    s, r = np.zeros((2, 3)), np.zeros((2, 3))
    with pytest.raises(jaxmetrics.ShapeError, match=f"`{arg}`"):
        fn(s, r, **kw)


def test_bad_shapes_raise():
    s, r = np.zeros((2, 3)), np.zeros((2, 3))
    with pytest.raises(jaxmetrics.ShapeError, match="`num_relevant`"):
        rt.recall_at_k(s, r, np.ones(3))
    with pytest.raises(jaxmetrics.ShapeError, match="`num_relevant`"):
        rt.average_precision_at_k(s, r, np.ones((2, 1)))
    with pytest.raises(jaxmetrics.ShapeError, match="`relevance`"):
        rt.precision_at_k(s, r[:, :2])
    with pytest.raises(jaxmetrics.ShapeError, match="`where`"):
        rt.hit_rate(s, r, where=np.ones((3, 3), bool))
    with pytest.raises(jaxmetrics.ShapeError, match="`scores`"):
        rt.mrr(s[0], r[0])  # the mean needs a query axis
    assert rt.reciprocal_rank(s[0], r[0]).shape == ()  # a single query, per-query value
    with pytest.raises(ValueError, match="`weights`"):
        rt.reciprocal_rank(s, r, weights=np.ones(2))


def test_float32_and_int_inputs():
    scores = jnp.asarray([[0.5, 0.25, 0.75]], jnp.bfloat16)
    rel = jnp.asarray([[1, 0, 0]], jnp.int32)
    out = rt.mean_reciprocal_rank(scores, rel)
    assert out.dtype == jnp.float32 and math.isclose(float(out), 0.5)
