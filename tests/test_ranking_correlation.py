"""Pearson, Spearman and Kendall tau-b (jaxmetrics.ranking.correlation) against scipy.stats.

Oracles: ``scipy.stats.pearsonr`` / ``spearmanr`` / ``kendalltau(variant="b")`` on the valid samples,
``numpy.cov(aweights=...)`` for weighted Pearson, exact rational arithmetic (``fractions``) for the
large-mean stability test, ``scipy.stats.rankdata`` for the average-rank helper. Real data: the
diabetes features against the target (scikit-learn's ``load_diabetes``).

Most tests reuse one problem size (N = 64, smaller problems are masked) so the jitted cores compile
once per shape.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, strategies as st  # noqa: E402

import jaxmetrics  # noqa: E402
from jaxmetrics.ranking import correlation as jc  # noqa: E402

ss = pytest.importorskip("scipy.stats")

RTOL = 1e-6
N = 64


@pytest.fixture(autouse=True)
def _quiet_scipy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConstantInputWarning etc.
        yield


def _tied(rng, n=N, decimals=0):
    """Paired data with many ties in both x and y."""
    x = np.round(rng.normal(size=n) * 2, decimals)
    y = np.round(0.5 * x + rng.normal(size=n) * 2, decimals)
    return x, y


def _scipy(name, x, y):
    if name == "pearson":
        return ss.pearsonr(x, y).statistic
    if name == "spearman":
        return ss.spearmanr(x, y).statistic
    return ss.kendalltau(x, y, variant="b").statistic


FNS = {"pearson": jc.pearson, "spearman": jc.spearman, "kendall_tau": jc.kendall_tau}


# --------------------------------------------------------------------------------------------------
# scipy oracles: ties, masks, leading axes


@pytest.mark.parametrize("name", sorted(FNS))
def test_matches_scipy_on_tied_masked_data(name):
    rng = np.random.default_rng(0)
    fn = FNS[name]
    for trial in range(6):
        x, y = _tied(rng, decimals=trial % 2)
        where = rng.random(N) > (0.0 if trial < 2 else 0.35)
        ours = fn(x, y, where=where)
        np.testing.assert_allclose(ours, _scipy(name, x[where], y[where]), rtol=RTOL, atol=1e-12)
        if trial < 2:  # the unmasked call (where=None) is the same
            np.testing.assert_allclose(fn(x, y), ours, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(FNS))
def test_leading_axes_and_vmap_equal_scipy_per_row(name):
    rng = np.random.default_rng(1)
    fn = FNS[name]
    xs, ys = zip(*[_tied(rng) for _ in range(3)])
    x, y = np.stack(xs), np.stack(ys)  # [3, N]
    where = rng.random((3, N)) > 0.2
    expected = [_scipy(name, x[b][where[b]], y[b][where[b]]) for b in range(3)]
    np.testing.assert_allclose(fn(x, y, where=where), expected, rtol=RTOL)
    vm = jax.vmap(lambda a, b, m: fn(a, b, where=m))(x, y, where)
    np.testing.assert_allclose(vm, expected, rtol=RTOL)
    if name != "pearson":
        return
    # a shared [N] mask broadcasts over the leading axis
    shared = where[0]
    np.testing.assert_allclose(fn(x, y, where=shared), [_scipy(name, x[b][shared], y[b][shared]) for b in range(3)],
                               rtol=RTOL)


@pytest.mark.parametrize("name", ["spearman", "kendall_tau"])
def test_infinite_scores_are_ordinary_extreme_values(name):
    rng = np.random.default_rng(2)
    x, y = _tied(rng)
    x[:3], x[3:5], y[5:8] = np.inf, -np.inf, np.inf
    np.testing.assert_allclose(FNS[name](x, y), _scipy(name, x, y), rtol=RTOL)


def test_pearson_of_infinite_values_is_nan_like_scipy():
    x, y = _tied(np.random.default_rng(3))
    x[0] = np.inf
    assert np.isnan(jc.pearson(x, y))
    where = np.ones(N, bool)
    where[0] = False  # masked inf padding has no effect
    np.testing.assert_allclose(jc.pearson(x, y, where=where), ss.pearsonr(x[1:], y[1:]).statistic, rtol=RTOL)


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3), st.booleans()), min_size=12, max_size=12))
def test_rank_correlations_match_scipy_hypothesis(rows):
    x, y, where = (np.asarray(c) for c in zip(*rows))
    x, y, where = x.astype(np.float64), y.astype(np.float64), where.astype(bool)
    for name in ("spearman", "kendall_tau"):
        expected = _scipy(name, x[where], y[where]) if where.sum() >= 2 else np.nan
        np.testing.assert_allclose(FNS[name](x, y, where=where), expected, rtol=RTOL, atol=1e-12, equal_nan=True)


# --------------------------------------------------------------------------------------------------
# Undefined cases: NaN with finite gradients


@pytest.mark.parametrize("name", sorted(FNS))
def test_undefined_cases_are_nan_with_finite_zero_gradients(name):
    rng = np.random.default_rng(4)
    fn = FNS[name]
    x, y = _tied(rng)
    one = np.zeros(N, bool)
    one[7] = True
    half = rng.random(N) > 0.5
    cases = [
        (np.full(N, 3.0), y, None),  # constant x
        (x, np.full(N, -1.0), None),  # constant y
        (x, y, np.zeros(N, bool)),  # all masked
        (x, y, one),  # one valid sample
        (np.where(half, 1.0, x), y, half),  # constant among the valid samples only
    ]
    grad = jax.jit(jax.grad(lambda a, b, m: fn(a, b, where=m), argnums=(0, 1)))
    for xc, yc, where in cases:
        where = np.ones(N, bool) if where is None else where
        assert np.isnan(fn(xc, yc, where=where))
        gx, gy = grad(xc, yc, where)
        assert np.all(np.asarray(gx) == 0) and np.all(np.asarray(gy) == 0)
    # two valid samples are enough (and give +-1)
    two = one.copy()
    two[9] = True
    np.testing.assert_allclose(abs(fn(x, y, where=two)), 1.0 if (x[7] != x[9] and y[7] != y[9]) else np.nan)


def test_constant_input_detected_exactly_not_by_a_variance_threshold():
    """Values 1e8 and 1e8 + 1 ulp are not constant: Pearson stays defined and exact (the offset by the
    minimum is exact), where scipy's mean subtraction is off by 30 % here."""
    base = 1e8
    x = base + np.spacing(base) * np.tile([0.0, 1.0], N // 2)
    y = np.arange(N, dtype=np.float64)
    exact = _exact_pearson(x, y)
    np.testing.assert_allclose(exact, _exact_pearson(np.tile([0.0, 1.0], N // 2), y), rtol=1e-15)
    np.testing.assert_allclose(jc.pearson(x, y), exact, rtol=1e-12)
    assert not abs(ss.pearsonr(x, y).statistic - exact) < 1e-3


def test_spearman_and_kendall_reject_weights():
    x, y = _tied(np.random.default_rng(5))
    for fn, name in ((jc.spearman, "spearman"), (jc.kendall_tau, "kendall_tau")):
        with pytest.raises(ValueError, match="does not support weights"):
            fn(x, y, weights=np.ones(N))
    assert jaxmetrics.registry["spearman"].streaming is None
    assert jaxmetrics.registry["kendall_tau"].streaming is None
    assert jaxmetrics.registry["pearson"].differentiable


def test_bad_shapes_name_the_argument():
    x, y = _tied(np.random.default_rng(6))
    with pytest.raises(jaxmetrics.ShapeError, match="`y`"):
        jc.pearson(x, y[:-1])
    with pytest.raises(jaxmetrics.ShapeError, match="`where`"):
        jc.spearman(x, y, where=np.ones(N + 1, bool))
    with pytest.raises(jaxmetrics.ShapeError, match="`chunk_size`"):
        jc.kendall_tau(x, y, chunk_size=0)


# --------------------------------------------------------------------------------------------------
# Pearson: weights, gradients, streaming, numerical stability


def test_weighted_pearson_matches_numpy_cov_aweights():
    rng = np.random.default_rng(7)
    for _ in range(4):
        x, y = _tied(rng, decimals=1)
        w = rng.random(N) * 3
        w[:5] = 0.0  # zero weights drop samples
        where = rng.random(N) > 0.2
        c = np.cov(x[where], y[where], aweights=w[where])
        expected = c[0, 1] / np.sqrt(c[0, 0] * c[1, 1])
        np.testing.assert_allclose(jc.pearson(x, y, where=where, weights=w), expected, rtol=RTOL)
    # integer weights are frequency weights: the same as repeating samples
    reps = rng.integers(1, 4, N)
    np.testing.assert_allclose(jc.pearson(x, y, weights=reps.astype(np.float64)),
                               ss.pearsonr(np.repeat(x, reps), np.repeat(y, reps)).statistic, rtol=RTOL)


def test_pearson_gradient_matches_finite_differences_and_closed_form():
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=N), rng.normal(size=N)
    w = rng.random(N) + 0.1
    f = jax.jit(lambda a, b: jc.pearson(a, b, weights=w))
    jax.test_util.check_grads(f, (x, y), order=1, modes=["rev"], atol=1e-5, rtol=1e-5)
    # unweighted closed form: dr/dx_i = (dy_i / sqrt(Sxx Syy)) − r dx_i / Sxx
    dx, dy = x - x.mean(), y - y.mean()
    sxx, syy = (dx * dx).sum(), (dy * dy).sum()
    r = (dx * dy).sum() / math.sqrt(sxx * syy)
    np.testing.assert_allclose(jax.grad(jc.pearson)(x, y), dy / math.sqrt(sxx * syy) - r * dx / sxx, rtol=1e-9)


def test_streaming_pearson_random_splits_and_merge_orders():
    rng = np.random.default_rng(9)
    x, y = _tied(rng, decimals=1)
    w = rng.random(N) + 0.05
    where = rng.random(N) > 0.2
    one = jc.pearson(x, y, where=where, weights=w)
    m = jc.pearson_metric()
    update, merge = jax.jit(m.update), jax.jit(m.merge)

    def batch(a, b):  # samples a:b, padded to N with masked slots (one compilation for every split)
        sel = np.zeros(N, bool)
        sel[a:b] = True
        return update(m.init(), x, y, where=where & sel, weights=w)

    for _ in range(3):
        cuts = np.sort(rng.choice(np.arange(1, N), size=5, replace=False))
        bounds = [0, *cuts.tolist(), N]
        states = [batch(a, b) for a, b in zip(bounds[:-1], bounds[1:])] + [batch(0, 0)]  # + an empty batch
        order = rng.permutation(len(states))
        seq = states[order[0]]
        for i in order[1:]:
            seq = merge(seq, states[i])
        np.testing.assert_allclose(m.compute(seq), one, rtol=1e-12)
        # a balanced tree of merges (the device reduction's pattern) gives the same
        level = list(states)
        while len(level) > 1:
            level = [merge(*level[i:i + 2]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
        np.testing.assert_allclose(m.compute(level[0]), one, rtol=1e-12)
    # real slices of different lengths agree too
    sliced = merge(update(m.init(), x[:20], y[:20], where=where[:20], weights=w[:20]),
                   update(m.init(), x[20:], y[20:], where=where[20:], weights=w[20:]))
    np.testing.assert_allclose(m.compute(sliced), one, rtol=1e-12)
    # commutativity is bit-exact, init() is the exact identity
    a, b = states[0], states[1]
    for u, v in zip(jax.tree.leaves(m.merge(a, b)), jax.tree.leaves(m.merge(b, a))):
        np.testing.assert_array_equal(u, v)
    for u, v in zip(jax.tree.leaves(m.merge(m.init(), a)), jax.tree.leaves(a)):
        np.testing.assert_array_equal(u, v)


def test_streaming_pearson_in_a_scan_with_batch_axes():
    rng = np.random.default_rng(10)
    x = rng.normal(size=(2, 8, 16))  # [B, steps, n]
    y = x + rng.normal(size=(2, 8, 16))
    m = jc.pearson_metric()

    def step(state, xy):
        return m.update(state, *xy), None

    state, _ = jax.lax.scan(step, m.init(batch_shape=(2,)), (jnp.moveaxis(x, 1, 0), jnp.moveaxis(y, 1, 0)))
    expected = [ss.pearsonr(x[b].ravel(), y[b].ravel()).statistic for b in range(2)]
    np.testing.assert_allclose(m.compute(state), expected, rtol=1e-10)


def _exact_pearson(x, y):
    fx, fy = [Fraction(v) for v in x], [Fraction(v) for v in y]
    n = len(fx)
    mx, my = sum(fx) / n, sum(fy) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(fx, fy))
    sxx = sum((a - mx) ** 2 for a in fx)
    syy = sum((b - my) ** 2 for b in fy)
    return float(sxy) / math.sqrt(float(sxx) * float(syy))


def test_chan_merge_is_stable_for_a_huge_mean_where_naive_power_sums_fail():
    rng = np.random.default_rng(11)
    n = 640
    x = 1e8 + rng.normal(size=n) * 1e-3
    y = 1e8 + 0.7 * (x - 1e8) + rng.normal(size=n) * 1e-3
    exact = _exact_pearson(x, y)
    # the naive power-sum formula (Σx² − n x̄², as metrax R² / clu Std) is garbage here
    sxx = (x * x).sum() - x.sum() ** 2 / n
    syy = (y * y).sum() - y.sum() ** 2 / n
    sxy = (x * y).sum() - x.sum() * y.sum() / n
    naive = sxy / np.sqrt(sxx * syy) if sxx * syy > 0 else np.nan
    assert not abs(naive - exact) < 1e-2
    # one-shot and streaming (many small batches, merged in a tree) are accurate
    np.testing.assert_allclose(jc.pearson(x, y), exact, rtol=1e-12)
    np.testing.assert_allclose(jc.pearson(x, y), ss.pearsonr(x, y).statistic, rtol=1e-9)
    m = jc.pearson_metric()
    update, merge = jax.jit(m.update), jax.jit(m.merge)
    for shift in (0.0, 1e8):  # the same data shifted back to mean 0 streams to the same value
        states = [update(m.init(), x[i:i + 10] - shift, y[i:i + 10] - shift) for i in range(0, n, 10)]
        while len(states) > 1:
            states = [merge(*states[i:i + 2]) if i + 1 < len(states) else states[i] for i in range(0, len(states), 2)]
        np.testing.assert_allclose(m.compute(states[0]), exact, rtol=1e-10)


# --------------------------------------------------------------------------------------------------
# Spearman ranks, Kendall chunks


def test_average_ranks_match_scipy_rankdata_on_valid_entries():
    rng = np.random.default_rng(12)
    x = np.round(rng.normal(size=(4, N)), 0)
    x[0, :3] = [np.inf, -np.inf, np.inf]
    valid = rng.random((4, N)) > 0.3
    ranks = np.asarray(jax.jit(jc._average_ranks)(x, valid))
    for b in range(4):
        np.testing.assert_allclose(ranks[b][valid[b]], ss.rankdata(x[b][valid[b]], method="average"), rtol=1e-12)
        assert np.all(ranks[b][~valid[b]] == 0)
    np.testing.assert_allclose(jax.jit(jc._average_ranks)(x[1], True), ss.rankdata(x[1]), rtol=1e-12)


def test_average_ranks_integer_keys_edge_values_and_float32():
    """Ranks come from a sort of integer order keys plus ``searchsorted``: -0.0 ties 0.0, ±inf and
    subnormals are ordinary values (as numpy orders them), invalid NaN padding is ignored, and float32
    input at a larger N with heavy ties matches scipy."""
    x = np.array([0.0, -0.0, 5e-324, -5e-324, np.inf, -np.inf, 1.0, 1.0, -2.0, np.nan, 3.0, 0.0])
    valid = ~np.isnan(x)
    ranks = np.asarray(jax.jit(jc._average_ranks)(x, valid))
    np.testing.assert_allclose(ranks[valid], ss.rankdata(x[valid]), rtol=1e-12)
    assert ranks[~valid] == 0
    rng = np.random.default_rng(14)
    big = np.round(rng.normal(size=(2, 3000)), 1).astype(np.float32)
    mask = rng.random((2, 3000)) > 0.1
    r32 = np.asarray(jax.jit(jax.vmap(jc._average_ranks))(big, mask))
    assert r32.dtype == np.float32
    for b in range(2):
        np.testing.assert_allclose(r32[b][mask[b]], ss.rankdata(big[b][mask[b]]), rtol=1e-6)
    np.testing.assert_allclose(jc.spearman(big[0], big[1], where=mask[0] & mask[1]),
                               ss.spearmanr(big[0][mask[0] & mask[1]], big[1][mask[0] & mask[1]]).statistic,
                               rtol=1e-5)


def test_kendall_chunked_equals_unchunked():
    rng = np.random.default_rng(13)
    x, y = _tied(rng)
    where = rng.random(N) > 0.25
    full = jc.kendall_tau(x, y, where=where)
    np.testing.assert_allclose(full, ss.kendalltau(x[where], y[where]).statistic, rtol=RTOL)
    for chunk in (1, 7, 16):  # 64 chunks of 1; 10 chunks with padding; 4 exact chunks
        np.testing.assert_allclose(jc.kendall_tau(x, y, where=where, chunk_size=chunk), full, rtol=1e-12)


def test_kendall_default_chunking_for_large_n_matches_scipy():
    rng = np.random.default_rng(14)
    n = 2500  # > 2048: default chunk of 1024 rows, 3 chunks with padding
    x, y = _tied(rng, n=n)
    where = rng.random(n) > 0.1
    np.testing.assert_allclose(jc.kendall_tau(x, y, where=where),
                               ss.kendalltau(x[where], y[where], variant="b").statistic, rtol=RTOL)


# --------------------------------------------------------------------------------------------------
# Real data


def test_diabetes_feature_target_correlations_match_scipy():
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    feats, target = data.data.T, data.target  # [10, 442], [442]; the sex feature is binary (ties)
    y = np.broadcast_to(target, feats.shape)
    everyone = np.ones(len(target), bool)
    for name, fn in FNS.items():
        expected = [_scipy(name, f, target) for f in feats]
        np.testing.assert_allclose(fn(feats, y, where=everyone), expected, rtol=RTOL, err_msg=name)
    # and on a masked subset (the patients above the median age)
    older = feats[0] > np.median(feats[0])
    for name, fn in FNS.items():
        expected = [_scipy(name, f[older], target[older]) for f in feats]
        np.testing.assert_allclose(fn(feats, y, where=older), expected, rtol=RTOL, err_msg=name)
