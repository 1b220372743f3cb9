"""Differentiable ranking twins (jaxmetrics.ranking.relaxed): soft_ndcg, soft_mrr, soft_precision_at_k,
soft_spearman.

Oracles: the exact metrics as the temperature goes to 0 — scikit-learn ``ndcg_score``, ``scipy.stats.
spearmanr`` and small numpy references of RR / P@k on tie-free data, plus ``jaxmetrics.ranking``'s exact
metrics (a sequence of temperatures with decreasing error); numpy references of the documented relaxed
formulas at finite temperature; the documented limits with ties; and real data: optimising soft_ndcg
with optax improves the *exact* NDCG@10 of a linear scorer on scikit-learn's diabetes data.
"""

from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
import pytest  # noqa: E402
from scipy.special import expit, softmax  # noqa: E402
from scipy.stats import rankdata, spearmanr  # noqa: E402
from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.metrics import ndcg_score  # noqa: E402

import jaxmetrics  # noqa: E402
from jaxmetrics import ranking  # noqa: E402

Q, N = 10, 9
TEMPERATURES = [1.0, 0.3, 0.1, 0.03, 0.01, 0.001]  # the cut's margin is >= 0.05: σ(−50) at the end


def _queries(seed, ties=False):
    """Scores with pairwise gaps >= 0.1 inside each query (tie-free) or rounded (ties); graded relevance;
    a ragged mask with one fully masked query (0) and one query without relevant items (1)."""
    rng = np.random.default_rng(seed)
    scores = np.stack([rng.permutation(N) for _ in range(Q)]) * 0.2 + rng.random((Q, N)) * 0.1
    if ties:
        scores = np.round(scores * 2) / 2
    relevance = ((rng.random((Q, N)) < 0.45) * rng.integers(1, 4, (Q, N))).astype(np.float64)
    relevance[2:, 0] = np.maximum(relevance[2:, 0], 1)
    relevance[1] = 0
    where = rng.random((Q, N)) > 0.2
    where[0] = False
    where[1:, :3] = True
    return scores, relevance, where


def _valid_rows(where):
    return [q for q in range(Q) if where[q].any()]


# --------------------------------------------------------------------------------------------------
# numpy references


def _soft_ranks_np(s, tau, descending=True):
    d = s[None, :] - s[:, None]  # s_j - s_i
    k = expit((d if descending else -d) / tau) * (1 - np.eye(len(s)))
    return 1 + k.sum(1)


def _member_np(s, k, n_items, tau):
    if k is None or k >= n_items or len(s) <= k:
        return np.ones(len(s))
    top = -np.sort(-s)
    return expit((s - (top[k - 1] + top[k]) / 2) / tau)


def _gain_np(r, gain):
    return 2.0 ** r - 1 if gain == "exp2" else r


def _soft_ndcg_np(scores, relevance, where, k, gain, tau):
    out = np.zeros(Q)
    for q in _valid_rows(where):
        s, g = scores[q][where[q]], _gain_np(relevance[q][where[q]], gain)
        dcg = (g * _member_np(s, k, N, tau) / np.log2(1 + _soft_ranks_np(s, tau))).sum()
        kk = N if k is None else min(k, N)
        ideal = -np.sort(-g)[:kk]
        idcg = (ideal / np.log2(np.arange(len(ideal)) + 2)).sum()
        out[q] = dcg / idcg if idcg > 0 else 0.0
    return out


def _soft_mrr_np(scores, relevance, where, k, tau):
    out = np.zeros(Q)
    for q in _valid_rows(where):
        s, rel = scores[q][where[q]], relevance[q][where[q]] > 0
        if not rel.any():
            continue
        m = _member_np(s, k, N, tau)
        c = 1 + expit((s[~rel][None, :] - s[rel][:, None]) / tau).sum(1)
        out[q] = (softmax(s[rel] / tau) * m[rel] / c).sum()
    return out


def _soft_precision_np(scores, relevance, where, k, tau):
    out = np.zeros(Q)
    for q in _valid_rows(where):
        s, rel = scores[q][where[q]], relevance[q][where[q]] > 0
        out[q] = (_member_np(s, k, N, tau) * rel).sum() / (len(s) if k is None else k)
    return out


def _exact_rr_np(scores, relevance, where, k):
    out = np.zeros(Q)
    for q in _valid_rows(where):
        rel = (relevance[q][where[q]] > 0)[np.argsort(-scores[q][where[q]])][: (k or N)]
        out[q] = 1 / (np.argmax(rel) + 1) if rel.any() else 0.0
    return out


def _exact_precision_np(scores, relevance, where, k):
    out = np.zeros(Q)
    for q in _valid_rows(where):
        rel = (relevance[q][where[q]] > 0)[np.argsort(-scores[q][where[q]])]
        out[q] = rel[:k].sum() / k if k else rel.mean()
    return out


def _sklearn_ndcg(scores, relevance, where, k, gain):
    out = np.zeros(Q)
    for q in _valid_rows(where):
        s, g = scores[q][where[q]], _gain_np(relevance[q][where[q]], gain)
        out[q] = ndcg_score(g[None], s[None], k=k) if len(s) > 1 else float(g.sum() > 0)
    return out


_ndcg = jax.jit(ranking.soft_ndcg, static_argnames=("k", "gain", "reduce", "chunk_size"))
_mrr = jax.jit(ranking.soft_mrr, static_argnames=("k", "reduce", "chunk_size"))
_prec = jax.jit(ranking.soft_precision_at_k, static_argnames=("k", "reduce"))
_spear = jax.jit(ranking.soft_spearman, static_argnames=("chunk_size",))


def _decreasing(errors):
    return all(b < a or b < 1e-13 for a, b in zip(errors, errors[1:]))


# --------------------------------------------------------------------------------------------------
# convergence to the exact metrics (tie-free data)


@pytest.mark.parametrize("k, gain, chunk", [(None, "linear", None), (5, "exp2", 4), (1, "linear", None),
                                            (20, "exp2", 2)])
def test_soft_ndcg_converges_to_ndcg(k, gain, chunk):
    scores, relevance, where = _queries(0)
    exact = np.asarray(ranking.ndcg(scores, relevance, k=k, gain=gain, where=where, reduce=None))
    np.testing.assert_allclose(exact, _sklearn_ndcg(scores, relevance, where, k, gain), rtol=1e-12)
    errors = []
    for tau in TEMPERATURES:
        soft = np.asarray(_ndcg(scores, relevance, k=k, gain=gain, temperature=tau, where=where, reduce=None,
                                chunk_size=chunk))
        np.testing.assert_allclose(soft, _soft_ndcg_np(scores, relevance, where, k, gain, tau), rtol=1e-11,
                                   atol=1e-14)
        errors.append(np.abs(soft - exact).max())
    assert _decreasing(errors) and errors[-1] < 1e-9, errors
    mean = _ndcg(scores, relevance, k=k, gain=gain, temperature=1e-3, where=where, chunk_size=chunk)
    np.testing.assert_allclose(mean, ranking.ndcg(scores, relevance, k=k, gain=gain, where=where), rtol=1e-9)


@pytest.mark.parametrize("k, chunk", [(None, 3), (3, None), (1, None)])
def test_soft_mrr_converges_to_mrr(k, chunk):
    scores, relevance, where = _queries(1)
    exact = _exact_rr_np(scores, relevance, where, k)
    for ties in ["pessimistic", "optimistic", "stable"]:  # all agree without ties
        np.testing.assert_allclose(
            ranking.mean_reciprocal_rank(scores, relevance, k=k, ties=ties, where=where, reduce=None), exact,
            rtol=1e-12)
    errors = []
    for tau in TEMPERATURES:
        soft = np.asarray(_mrr(scores, relevance, k=k, temperature=tau, where=where, reduce=None, chunk_size=chunk))
        np.testing.assert_allclose(soft, _soft_mrr_np(scores, relevance, where, k, tau), rtol=1e-11, atol=1e-14)
        errors.append(np.abs(soft - exact).max())
    assert _decreasing(errors) and errors[-1] < 1e-9, errors


@pytest.mark.parametrize("k", [None, 1, 3, 20])
def test_soft_precision_converges_to_precision(k):
    scores, relevance, where = _queries(2)
    exact = _exact_precision_np(scores, relevance, where, k)
    np.testing.assert_allclose(ranking.precision_at_k(scores, relevance, k=k, where=where, reduce=None), exact,
                               rtol=1e-12)
    errors = []
    for tau in TEMPERATURES:
        soft = np.asarray(_prec(scores, relevance, k=k, temperature=tau, where=where, reduce=None))
        np.testing.assert_allclose(soft, _soft_precision_np(scores, relevance, where, k, tau), rtol=1e-11,
                                   atol=1e-14)
        errors.append(np.abs(soft - exact).max())
    assert _decreasing(errors) and errors[-1] < 1e-9, errors


def test_soft_spearman_converges_also_with_ties():
    rng = np.random.default_rng(3)
    x = np.round(rng.normal(size=(4, 40)) * 2) / 2  # ties on a 0.5 grid
    y = np.round(0.7 * x + rng.normal(size=x.shape), 1)
    where = rng.random(x.shape) > 0.15
    exact = np.array([spearmanr(x[i][where[i]], y[i][where[i]]).statistic for i in range(4)])
    np.testing.assert_allclose(ranking.spearman(x, y, where=where), exact, rtol=1e-12)
    errors = []
    for tau in [1.0, 0.3, 0.1, 0.03, 0.01]:
        soft = np.asarray(_spear(x, y, temperature=tau, where=where, chunk_size=16))
        ref = [np.corrcoef(_soft_ranks_np(x[i][where[i]], tau, descending=False),
                           rankdata(y[i][where[i]]))[0, 1] for i in range(4)]
        np.testing.assert_allclose(soft, ref, rtol=1e-11)
        errors.append(np.abs(soft - exact).max())
    assert _decreasing(errors) and errors[-1] < 1e-12, errors


# --------------------------------------------------------------------------------------------------
# documented limits with ties, analytic values


def test_tie_limits():
    tau = 1e-6
    # MRR: one irrelevant item above and one tied with the relevant one: 1 / (1 + 1 + ½)
    s, rel = np.array([[2.0, 1.0, 1.0, 0.0]]), np.array([[0, 1, 0, 0]])
    assert float(_mrr(s, rel, temperature=tau)) == pytest.approx(0.4, rel=1e-12)
    assert float(ranking.mrr(s, rel, ties="pessimistic")) == pytest.approx(1 / 3)
    assert float(ranking.mrr(s, rel, ties="optimistic")) == pytest.approx(1 / 2)
    # relevant items tied with each other at the top do not matter
    s2, rel2 = np.array([[1.0, 1.0, 0.5]]), np.array([[1, 1, 0]])
    assert float(_mrr(s2, rel2, temperature=tau)) == pytest.approx(1.0, rel=1e-12)
    # P@2 with a three-way tie at the cut: each tied item gets ½ (ties="average" gives 1/3)
    s3, rel3 = np.array([[0.9, 0.5, 0.5, 0.5]]), np.array([[0, 1, 0, 0]])
    assert float(_prec(s3, rel3, k=2, temperature=tau)) == pytest.approx(0.25, rel=1e-12)
    assert float(ranking.precision_at_k(s3, rel3, k=2)) == pytest.approx(1 / 6)
    # nDCG with all scores tied: every item at the average rank 2 -> 1/log2(3)
    s4, rel4 = np.zeros((1, 3)), np.array([[1.0, 0.0, 0.0]])
    assert float(_ndcg(s4, rel4, temperature=tau)) == pytest.approx(1 / np.log2(3), rel=1e-12)
    assert float(ranking.ndcg(s4, rel4)) == pytest.approx((1 + 1 / np.log2(3) + 0.5) / 3)


def test_undefined_cases_and_reduction():
    scores, relevance, where = _queries(4)
    for f, kw in [(_ndcg, dict(k=4)), (_mrr, dict(k=4)), (_prec, dict(k=4))]:
        per_q = np.asarray(f(scores, relevance, temperature=0.2, where=where, reduce=None, **kw))
        assert per_q[0] == 0 and per_q[1] == 0  # no valid item / no relevant item
        w = np.random.default_rng(4).random(Q) + 0.1
        mean = float(f(scores, relevance, temperature=0.2, where=where, weights=w, **kw))
        # the fully masked query 0 is excluded, the no-relevant query 1 included
        assert mean == pytest.approx((w[1:] * per_q[1:]).sum() / w[1:].sum(), rel=1e-12)
        batched = np.asarray(f(np.stack([scores, -scores]), np.stack([relevance, relevance]), temperature=0.2,
                               where=where, **kw))
        assert batched.shape == (2,)
        assert batched[0] == pytest.approx(float(f(scores, relevance, temperature=0.2, where=where, **kw)))
        assert np.isnan(float(f(scores, relevance, temperature=0.2, where=np.zeros((Q, N), bool), **kw)))


# --------------------------------------------------------------------------------------------------
# gradients


def _twins(scores, relevance, where, tau):
    return jnp.stack([
        ranking.soft_ndcg(scores, relevance, k=4, gain="exp2", temperature=tau, where=where, chunk_size=4),
        ranking.soft_ndcg(scores, relevance, temperature=tau, where=where),
        ranking.soft_mrr(scores, relevance, temperature=tau, where=where, chunk_size=3),
        ranking.soft_mrr(scores, relevance, k=2, temperature=tau, where=where),
        ranking.soft_precision_at_k(scores, relevance, k=3, temperature=tau, where=where),
    ])


@jax.jit
def _twins_jacobian(scores, relevance, where, tau):
    return jax.jacobian(_twins)(scores, relevance, where, tau)


def test_gradients_finite_with_ties_masks_and_infinities():
    scores, relevance, where = _queries(5, ties=True)
    extreme = scores.copy()
    extreme[:, 0], extreme[:, 1], extreme[2:5, 2] = np.inf, -np.inf, np.inf
    nan_pad = np.where(where, scores, np.nan)
    inputs = [scores, np.zeros_like(scores), extreme, nan_pad, np.where(where, scores, np.inf)]
    for s in inputs:
        for tau in [1e-6, 0.3]:
            jac = np.asarray(_twins_jacobian(s, relevance, where, tau))
            assert np.all(np.isfinite(jac)), (tau, s)
            assert np.all(jac[:, ~where] == 0)  # masked items get no gradient
    # on ordinary data the twins carry signal (unlike the exact metrics)
    jac = np.asarray(_twins_jacobian(scores + 0.05 * np.arange(N), relevance, where, 0.3))
    assert np.all(np.abs(jac).sum((1, 2)) > 1e-3)
    x = np.array([np.inf, -np.inf, 1.0, 1.0, np.nan, 2.0])
    g = jax.grad(lambda v: _spear(v, np.arange(6.0), temperature=0.5, where=~np.isnan(x)))(x)
    assert np.all(np.isfinite(g))
    g = jax.grad(lambda v: _spear(v, np.arange(6.0), temperature=0.5))(np.ones(6))  # constant: NaN value
    assert np.all(np.isfinite(g))


def test_check_grads_float64():
    scores, relevance, where = _queries(6)
    for f in [
        lambda s: _ndcg(s, relevance, k=4, gain="exp2", temperature=0.3, where=where, reduce=None, chunk_size=4),
        lambda s: _mrr(s, relevance, k=3, temperature=0.3, where=where, reduce=None),
        lambda s: _prec(s, relevance, k=3, temperature=0.3, where=where, reduce=None),
    ]:
        jax.test_util.check_grads(f, (scores,), order=1, modes=["rev"], atol=1e-6, rtol=1e-6)
    x = np.random.default_rng(6).normal(size=30)
    jax.test_util.check_grads(lambda v: _spear(v, x ** 3, temperature=0.3), (x + 0.1,), order=1,
                              modes=["fwd", "rev"], atol=1e-6, rtol=1e-6)


def test_registry_and_errors():
    for name, exact in [("soft_ndcg", "ndcg"), ("soft_mrr", "mean_reciprocal_rank"),
                        ("soft_precision_at_k", "precision_at_k"), ("soft_spearman", "spearman")]:
        info = jaxmetrics.registry[name]
        assert info.differentiable and info.higher_is_better and info.family == "ranking"
        assert jaxmetrics.registry[exact].soft is info.fn
    assert jaxmetrics.registry["soft_spearman"].streaming is None
    s, r = np.zeros((2, 3)), np.ones((2, 3))
    for f in [ranking.soft_ndcg, ranking.soft_mrr, ranking.soft_precision_at_k]:
        for bad in [0.0, -0.5, float("inf")]:
            with pytest.raises(ValueError, match="`temperature`"):
                f(s, r, temperature=bad)
        with pytest.raises(ValueError, match="weights"):
            f(s, r, weights=np.ones(2), reduce=None)
    with pytest.raises(ValueError, match="weights"):
        ranking.soft_spearman(s[0], r[0], weights=np.ones(3))
    with pytest.raises(jaxmetrics.ShapeError, match="`gain`"):
        ranking.soft_ndcg(s, r, gain="log")


# --------------------------------------------------------------------------------------------------
# real data: learning to rank on scikit-learn's diabetes data


def test_training_on_soft_ndcg_improves_exact_ndcg():
    """A linear scorer of the 10 standardised diabetes features, initialised at the *negated*
    least-squares direction (a reversed ranking), trained with adam on −soft_nDCG@10 over fixed random
    queries of 20 patients (graded relevance: the disease-progression target binned into 0..4 by
    quintiles). The exact nDCG@10 of held-out queries must improve by a wide margin."""
    features, target = load_diabetes(return_X_y=True)
    features = (features - features.mean(0)) / features.std(0)
    grades = np.digitize(target, np.quantile(target, [0.2, 0.4, 0.6, 0.8])).astype(np.float64)
    groups = np.random.default_rng(0).permutation(len(target))[:440].reshape(22, 20)
    train, test = groups[:14], groups[14:]
    x_train, r_train, x_test, r_test = features[train], grades[train], features[test], grades[test]
    design = np.c_[features[train.ravel()], np.ones(train.size)]
    w_ls = np.linalg.lstsq(design, target[train.ravel()], rcond=None)[0][:10]
    w0 = jnp.asarray(-w_ls / np.linalg.norm(w_ls))

    exact = jax.jit(lambda w, x, r: ranking.ndcg(x @ w, r, k=10, gain="exp2"))
    opt = optax.adam(0.05)

    def loss(w):
        return -ranking.soft_ndcg(x_train @ w, r_train, k=10, gain="exp2", temperature=0.1)

    @jax.jit
    def train_loop(w):
        def step(carry, _):
            w, state = carry
            value, grad = jax.value_and_grad(loss)(w)
            updates, state = opt.update(grad, state, w)
            return (optax.apply_updates(w, updates), state), value

        (w, _), losses = jax.lax.scan(step, (w, opt.init(w)), None, length=300)
        return w, losses

    w, losses = train_loop(w0)
    before, after = float(exact(w0, x_test, r_test)), float(exact(w, x_test, r_test))
    assert np.all(np.isfinite(np.asarray(losses))) and losses[-1] < losses[0] - 0.5
    assert before < 0.3  # the reversed scorer is poor ...
    assert after > before + 0.45 and after > 0.75, (before, after)  # ... and training fixes it
    assert float(exact(w, x_train, r_train)) > 0.8
