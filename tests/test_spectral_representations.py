"""Representation spectra: effective rank / RankMe, α-ReQ, participation ratio and the NerVE statistics
against numpy SVD / eigvalsh references (tests/reference/spectral.py), scipy's Jensen–Shannon, the
closed forms of METRICS.md §6, masks, weights, streaming, vmap, gradients and real data (digits
pixels and the hidden layer of an MLP trained here)."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxmetrics
from jaxmetrics import spectral as sp
from jaxmetrics.spectral import representations as rep
from tests.reference import spectral as ref

RTOL = 1e-6
LN2 = math.log(2.0)

# name -> (one-shot, streaming constructor, numpy reference on selected rows)
SINGLE = {
    "effective_rank": (sp.effective_rank, sp.effective_rank_metric, ref.rankme),
    "alpha_req": (sp.alpha_req, sp.alpha_req_metric, ref.alpha_req),
    "participation_ratio": (sp.participation_ratio, sp.participation_ratio_metric, ref.participation_ratio),
    "spectral_entropy": (sp.spectral_entropy, sp.spectral_entropy_metric, ref.spectral_entropy),
    "eigenvalue_early_enrichment": (sp.eigenvalue_early_enrichment, sp.eigenvalue_early_enrichment_metric,
                                    ref.eigenvalue_early_enrichment),
}
NERVE = ("participation_ratio", "spectral_entropy", "eigenvalue_early_enrichment")


def _data(rng, n, d, decay=0.7):
    return rng.normal(size=(n, d)) * np.arange(1, d + 1) ** -decay + rng.normal(size=d)


def _close(actual, expected, rtol=RTOL, atol=1e-12):
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected, rtol=rtol, atol=atol, equal_nan=True)


def _orthogonal_centered(rng, n, d):
    """Q [n, d] with orthonormal, zero-mean columns."""
    a = rng.normal(size=(n, d))
    q, _ = np.linalg.qr(a - a.mean(0))
    return q


def _with_covariance_spectrum(rng, lam, n):
    """X [n, d] whose sample covariance (ddof 1) has exactly the eigenvalues ``lam`` (plus a mean)."""
    d = len(lam)
    v, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return _orthogonal_centered(rng, n, d) * np.sqrt((n - 1) * np.asarray(lam)) @ v.T + rng.normal(size=d)


# ------------------------------------------------------------------------------------------------
# effective rank / RankMe


@pytest.mark.parametrize("shape", [(50, 8), (6, 20)])
@pytest.mark.parametrize("squared,center,eps,normalize", [
    (False, False, 1e-7, False), (True, False, 1e-7, False), (False, True, 1e-7, False),
    (True, True, 0.0, False), (False, False, 1e-7, True), (True, True, 1e-7, True),
])
def test_effective_rank_matches_numpy_svd(shape, squared, center, eps, normalize):
    x = _data(np.random.default_rng(0), *shape)
    kw = dict(squared=squared, center=center, eps=eps, normalize_by_log_dim=normalize)
    _close(sp.effective_rank(x, **kw), ref.rankme(x, **kw), rtol=1e-9)


def test_rankme_is_the_registered_alias():
    assert sp.rankme is sp.effective_rank and sp.rankme_metric is sp.effective_rank_metric
    assert "rankme" in jaxmetrics.registry["effective_rank"].aliases


def test_effective_rank_closed_forms():
    rng = np.random.default_rng(1)
    d = 10
    iso = rng.normal(size=(20000, d))
    assert d * 0.99 < float(sp.effective_rank(iso)) <= d + 1e-4  # isotropic, n >> d -> d
    # rank-r data -> <= r (up to the eps of the zero singular values)
    for r in (1, 3):
        low = rng.normal(size=(100, r)) @ rng.normal(size=(r, 12))
        er = float(sp.effective_rank(low))
        assert 1.0 <= er <= r + 1e-4
        _close(er, ref.rankme(low), rtol=1e-8)
    # equal singular values of r orthonormal directions -> r exactly (eps = 0)
    q = _orthogonal_centered(rng, 30, 4) @ np.linalg.qr(rng.normal(size=(9, 4)))[0].T
    _close(sp.effective_rank(q, eps=0.0), 4.0, rtol=1e-12)
    _close(sp.effective_rank(q, eps=0.0, squared=True, normalize_by_log_dim=True), math.log(4) / math.log(9),
           rtol=1e-12)


def test_effective_rank_undefined_cases():
    x = _data(np.random.default_rng(2), 12, 5)
    const = np.repeat(x[:1], 12, axis=0)
    assert float(sp.effective_rank(np.zeros((12, 5)))) == 0.0
    assert float(sp.effective_rank(const, center=True)) == 0.0  # centres to exactly 0
    _close(sp.effective_rank(const), 1.0, rtol=1e-5)  # one singular value (+ eps of the others)
    assert np.isnan(sp.effective_rank(x, where=np.zeros(12, bool)))
    assert np.isnan(sp.effective_rank(x[:1], normalize_by_log_dim=True))  # K = 1: 0/0


# ------------------------------------------------------------------------------------------------
# NerVE statistics and the participation ratio


@pytest.mark.parametrize("shape", [(60, 10), (7, 20)])
def test_nerve_statistics_match_numpy_eigvalsh(shape):
    x = _data(np.random.default_rng(3), *shape)
    for name in NERVE:
        fn, _, oracle = SINGLE[name]
        _close(fn(x), oracle(x), rtol=1e-9, atol=1e-12)
    y = np.tanh(x @ np.random.default_rng(4).normal(size=(shape[1], 6)))
    _close(sp.spectral_jensen_shannon(x, y), ref.spectral_jensen_shannon(x, y), rtol=1e-9, atol=1e-13)
    _close(sp.spectral_jensen_shannon(y, x), ref.spectral_jensen_shannon(x, y), rtol=1e-9, atol=1e-13)


def test_participation_ratio_trace_form_equals_eigenvalue_form_with_and_without_gram():
    rng = np.random.default_rng(5)
    for n, d in [(5, 40), (40, 5), (16, 16)]:
        x = _data(rng, n, d) * 100.0
        _close(sp.participation_ratio(x), ref.participation_ratio(x), rtol=1e-10)


def test_nerve_closed_forms_one_hot_and_uniform_spectra():
    rng = np.random.default_rng(6)
    d = 10
    one_hot = np.outer(rng.normal(size=40), rng.normal(size=d)) + rng.normal(size=d)  # rank-1 covariance
    _close(sp.eigenvalue_early_enrichment(one_hot), 0.9, atol=1e-9)
    _close(sp.participation_ratio(one_hot), 1.0, rtol=1e-9)
    _close(sp.spectral_entropy(one_hot), 0.0, atol=1e-9)
    uniform = 3.0 * _orthogonal_centered(rng, 20, d) + rng.normal(size=d)  # covariance 9/19 · I
    _close(sp.eigenvalue_early_enrichment(uniform), 0.0, atol=1e-12)
    _close(sp.participation_ratio(uniform), float(d), rtol=1e-12)
    _close(sp.spectral_entropy(uniform), math.log(d), rtol=1e-12)
    _close(sp.spectral_jensen_shannon(uniform, uniform), 0.0, atol=1e-15)


def test_spectral_jensen_shannon_bounds_padding_and_disjoint_supports():
    p = jnp.array([0.5, 0.5, 0.0, 0.0])
    q = jnp.array([0.0, 0.0, 0.3, 0.7])
    _close(rep._js_divergence(p, q), LN2, rtol=1e-12)  # disjoint supports
    _close(rep._js_divergence(jnp.array([1.0]), jnp.array([0.0, 1.0])), LN2, rtol=1e-12)  # padded
    rng = np.random.default_rng(7)
    x, y = _data(rng, 30, 4), _data(rng, 30, 9, decay=2.0)
    js = float(sp.spectral_jensen_shannon(x, y))
    assert 0.0 < js < LN2
    _close(js, ref.spectral_jensen_shannon(x, y), rtol=1e-9)
    # a rank-1 pre spectrum vs a uniform post spectrum of the same rows
    flat = _orthogonal_centered(rng, 30, 8)
    _close(sp.spectral_jensen_shannon(flat[:, :1] @ np.ones((1, 8)), flat),
           ref.spectral_jensen_shannon(flat[:, :1] @ np.ones((1, 8)), flat), rtol=1e-9)


def test_zero_covariance_and_undefined_cases():
    x = _data(np.random.default_rng(8), 16, 6)
    const = np.repeat(x[:1], 16, axis=0)
    every, one = np.ones(16, bool), np.zeros(16, bool)
    one[5] = True
    _close(sp.spectral_entropy(const, where=every), math.log(6), rtol=1e-12)  # uniform clamped spectrum
    _close(sp.eigenvalue_early_enrichment(const, where=every), 0.0, atol=1e-15)
    _close(sp.participation_ratio(const, where=every), 6.0, rtol=0)
    _close(sp.spectral_entropy(const, where=every), ref.spectral_entropy(const), rtol=1e-12)
    for name in NERVE:
        fn = SINGLE[name][0]
        assert np.isnan(fn(x, where=~every)), name
        assert np.isnan(fn(x, where=one)), name  # W = 1 <= ddof
    _close(sp.spectral_entropy(x, where=one, ddof=0), math.log(6), rtol=1e-12)  # one row, ddof 0: zero cov.
    assert np.isnan(sp.spectral_jensen_shannon(x, x, weights=np.zeros(16)))
    assert np.isnan(sp.alpha_req(const, where=every)) and np.isnan(sp.alpha_req(x, where=one))


# ------------------------------------------------------------------------------------------------
# α-ReQ


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.3])
def test_alpha_req_recovers_an_exact_power_law(alpha):
    d = 20
    lam = 3.0 * np.arange(1, d + 1) ** -alpha
    x = _with_covariance_spectrum(np.random.default_rng(9), lam, 64)
    for kw in [{}, dict(start=3, stop=15), dict(weighting="inverse_rank"), dict(start=6, stop=100)]:
        _close(sp.alpha_req(x, **kw), alpha, rtol=1e-8)


def test_alpha_req_matches_numpy_and_reptrix_fits():
    rng = np.random.default_rng(10)
    x = _data(rng, 300, 40, decay=0.9) + 0.05 * rng.normal(size=(300, 40))
    for kw in [{}, dict(start=2, stop=30), dict(weighting="inverse_rank"), dict(start=6, stop=35,
                                                                                  weighting="inverse_rank")]:
        _close(sp.alpha_req(x, **kw), ref.alpha_req(x, **kw), rtol=1e-9)
    eigen = ref.covariance_eigenvalues(x)
    eigen = eigen / eigen.sum()  # reptrix fits PCA explained-variance ratios: same slope
    _close(sp.alpha_req(x, start=6, stop=35, weighting="inverse_rank"), ref.reptrix_powerlaw(eigen, np.arange(5, 35)),
           rtol=1e-9)


def test_alpha_req_drops_the_null_space():
    rng = np.random.default_rng(11)
    x = _data(rng, 8, 20)  # centred rank <= 7
    _close(sp.alpha_req(x), ref.alpha_req(x), rtol=1e-9)
    low = rng.normal(size=(50, 3)) * np.array([3.0, 1.0, 0.2]) @ np.linalg.qr(rng.normal(size=(10, 3)))[0].T
    _close(sp.alpha_req(low), ref.alpha_req(low), rtol=1e-9)  # duplicate/degenerate features: rank 3
    assert np.isfinite(sp.alpha_req(low))


# ------------------------------------------------------------------------------------------------
# masks, weights, streaming, vmap


def _all_one_shots(x, y, **kw):
    out = {name: fn(x, **kw) for name, (fn, _, _) in SINGLE.items()}
    out["spectral_jensen_shannon"] = sp.spectral_jensen_shannon(x, y, **kw)
    return out


def test_padded_and_masked_equals_unpadded():
    n, d = 5, 9  # n < d: the Gram path, and K = min(#rows, d) counts only the unmasked rows
    rng = np.random.default_rng(12)
    x = _data(rng, n, d)
    y = np.tanh(x @ rng.normal(size=(d, 4)))
    pad = 7
    xp = np.concatenate([x[:3], np.full((pad, d), np.nan), x[3:]])
    yp = np.concatenate([y[:3], np.full((pad, 4), np.inf), y[3:]])
    where = np.concatenate([np.ones(3, bool), np.zeros(pad, bool), np.ones(n - 3, bool)])
    plain, masked = _all_one_shots(x, y), _all_one_shots(xp, yp, where=where)
    for name in plain:
        _close(masked[name], plain[name], rtol=1e-10, atol=1e-14)


def test_integer_weights_equal_repeated_rows():
    rng = np.random.default_rng(13)
    x = _data(rng, 15, 6)
    y = np.tanh(x @ rng.normal(size=(6, 5)))
    counts = rng.integers(1, 4, size=15)
    counts[[2, 9]] = 0
    rep_x, rep_y = np.repeat(x, counts, axis=0), np.repeat(y, counts, axis=0)
    weighted, repeated = _all_one_shots(x, y, weights=counts.astype(float)), _all_one_shots(rep_x, rep_y)
    for name in weighted:
        _close(weighted[name], repeated[name], rtol=1e-10, atol=1e-14)
    _close(sp.effective_rank(x, weights=counts.astype(float), center=True), ref.rankme(rep_x, center=True),
           rtol=1e-9)


def test_fractional_weights_match_numpy_aweights():
    rng = np.random.default_rng(14)
    x = _data(rng, 40, 7)
    w = rng.random(40)
    w /= w.sum()  # probability weights: ddof=0
    for name in NERVE:
        fn, _, oracle = SINGLE[name]
        _close(fn(x, weights=w, ddof=0), oracle(x, ddof=0, aweights=w), rtol=1e-9, atol=1e-13)


def _stream(metric, batches, order=None):
    update, merge, compute = jax.jit(metric.update), jax.jit(metric.merge), jax.jit(metric.compute)
    states = [update(metric.init(), *b[:-2], where=b[-2], weights=b[-1]) for b in batches]
    seq = metric.init()
    for b in batches:
        seq = update(seq, *b[:-2], where=b[-2], weights=b[-1])
    order = range(len(states)) if order is None else order
    merged = functools.reduce(merge, [states[i] for i in order])
    return compute(seq), compute(merged), states


def test_streaming_splits_match_one_shot():
    rng = np.random.default_rng(15)
    n, d, dp, b = 90, 7, 5, 18
    x = _data(rng, n, d) + 50.0  # a large mean: Chan's merge keeps the covariance accurate
    y = np.tanh((x - 50.0) @ rng.normal(size=(d, dp)))
    where = rng.random(n) > 0.1
    where[36:54] = False  # one batch entirely masked
    weights = rng.random(n) + 0.2
    sl = lambda a, i: a[i * b:(i + 1) * b]  # noqa: E731
    batches = [(sl(x, i), sl(where, i), sl(weights, i)) for i in range(n // b)]
    pair_batches = [(sl(x, i), sl(y, i), sl(where, i), sl(weights, i)) for i in range(n // b)]
    # (every metric's split/merge/identity laws are also checked by the contract suite)
    for name in ("effective_rank", "participation_ratio", "spectral_entropy"):
        fn, ctor, _ = SINGLE[name]
        one = fn(x, where=where, weights=weights)
        seq, merged, states = _stream(ctor(dim=d), batches, order=[3, 0, 4, 2, 1])
        _close(seq, one, rtol=1e-9)
        _close(merged, one, rtol=1e-9)
        metric = ctor(dim=d)
        for leaf_a, leaf_b in zip(jax.tree.leaves(metric.merge(metric.init(), states[1])),
                                  jax.tree.leaves(states[1])):
            np.testing.assert_array_equal(leaf_a, leaf_b)  # init() is the exact identity
    one = sp.spectral_jensen_shannon(x, y, where=where, weights=weights)
    seq, merged, _ = _stream(sp.spectral_jensen_shannon_metric(dim_pre=d, dim_post=dp), pair_batches, [4, 1, 0, 3, 2])
    _close(seq, one, rtol=1e-9)
    _close(merged, one, rtol=1e-9)


def test_streaming_state_with_leading_batch_axes():
    rng = np.random.default_rng(16)
    x = np.stack([_data(rng, 24, 5) for _ in range(3)])
    m = sp.spectral_entropy_metric(dim=5)
    update, state = jax.jit(m.update), m.init(batch_shape=(3,))
    for lo in (0, 8, 16):
        state = update(state, x[:, lo:lo + 8])
    _close(m.compute(state), sp.spectral_entropy(x), rtol=1e-10)
    with pytest.raises(jaxmetrics.ShapeError, match="`X`"):
        m.update(m.init(), x[0, :, :4])


def test_streamed_effective_rank_precision_against_svd():
    rng = np.random.default_rng(17)
    m = sp.effective_rank_metric(dim=12)
    full = _data(rng, 200, 12)
    _close(m.compute(m.update(m.init(), full)), ref.rankme(full), rtol=1e-10)
    # numerically rank-deficient: the Gram eigenvalues of the null space are noise of size eps·σ_1²
    low = rng.normal(size=(200, 4)) @ rng.normal(size=(4, 12))
    streamed = float(m.compute(m.update(m.init(), low)))
    _close(streamed, ref.rankme(low), rtol=1e-5)
    _close(sp.effective_rank(low), ref.rankme(low), rtol=1e-9)  # the SVD one-shot stays exact


def test_stacked_layers_as_leading_axes_equal_loop():
    rng = np.random.default_rng(18)
    xs = np.stack([_data(rng, 16, 6) for _ in range(4)])
    ys = np.tanh(xs @ rng.normal(size=(6, 3)))
    wh = rng.random((4, 16)) > 0.2
    for name, (fn, _, _) in SINGLE.items():
        loop = np.array([fn(xs[i], where=wh[i]) for i in range(4)])
        _close(fn(xs, where=wh), loop, rtol=1e-10)  # (jax.vmap == loop is the contract suite's check)
    loop = np.array([sp.spectral_jensen_shannon(xs[i], ys[i]) for i in range(4)])
    _close(jax.jit(jax.vmap(sp.spectral_jensen_shannon))(xs, ys), loop, rtol=1e-10)


# ------------------------------------------------------------------------------------------------
# gradients, dtypes, errors


def test_gradients_finite_on_degenerate_inputs_and_match_finite_differences():
    rng = np.random.default_rng(19)
    x = _data(rng, 12, 5)
    degenerate = [np.repeat(x[:1], 12, axis=0), np.zeros((12, 5)), x[:, :1] @ np.ones((1, 5)),
                  _orthogonal_centered(rng, 12, 5)]
    for name in ("effective_rank", "alpha_req", "spectral_entropy"):  # all: contract suite edge cases
        fn = SINGLE[name][0]
        grad = jax.jit(jax.grad(lambda a, m: fn(a, where=m)))  # noqa: B023
        for xd in degenerate:
            for mask in (np.ones(12, bool), np.zeros(12, bool)):
                assert np.all(np.isfinite(grad(jnp.asarray(xd), mask))), name
    for kw in (dict(center=True, squared=True),):
        jax.test_util.check_grads(lambda a: sp.effective_rank(a, **kw), (jnp.asarray(x),), order=1,  # noqa: B023
                                  modes=["rev"], atol=1e-5, rtol=1e-5)
    jax.test_util.check_grads(lambda a: sp.alpha_req(a, weighting="inverse_rank"), (jnp.asarray(x),), order=1,
                              modes=["rev"], atol=1e-5, rtol=1e-5)


def test_low_precision_inputs_compute_in_float32():
    x = _data(np.random.default_rng(20), 32, 6)
    for name, (fn, _, _) in SINGLE.items():
        out = fn(jnp.asarray(x, jnp.bfloat16))
        assert out.dtype == jnp.float32, name
        _close(out, fn(jnp.asarray(jnp.asarray(x, jnp.bfloat16), jnp.float64)), rtol=1e-4, atol=1e-4)


def test_bad_arguments_raise_clear_errors():
    x = np.ones((10, 4))
    with pytest.raises(jaxmetrics.ShapeError, match="`X`"):
        sp.spectral_entropy(np.ones(4))
    with pytest.raises(jaxmetrics.ShapeError, match="`X`"):
        sp.participation_ratio(x, dim=5)
    with pytest.raises(jaxmetrics.ShapeError, match="`X_post`"):
        sp.spectral_jensen_shannon(x, np.ones((9, 4)))
    with pytest.raises(jaxmetrics.ShapeError, match="`where`"):
        sp.effective_rank(x, where=np.ones(9, bool))
    with pytest.raises(jaxmetrics.ShapeError, match="`weighting`"):
        sp.alpha_req(x, weighting="log")
    with pytest.raises(jaxmetrics.ShapeError, match="`stop`"):
        sp.alpha_req(x, start=5, stop=2)
    with pytest.raises(jaxmetrics.ShapeError, match="`floor`"):
        sp.spectral_entropy(x, floor=0.0)
    with pytest.raises(jaxmetrics.ShapeError, match="`dim`"):
        sp.participation_ratio_metric(dim=None)
    with pytest.raises(jaxmetrics.ShapeError, match="`squared`"):
        sp.effective_rank(x, squared=1)


# ------------------------------------------------------------------------------------------------
# real data


def _digits():
    datasets = pytest.importorskip("sklearn.datasets")
    d = datasets.load_digits()
    return d.data.astype(np.float64), d.target


def test_digits_pixels_against_numpy():
    x, _ = _digits()  # 1797 x 64, with constant (always-zero) pixels: a rank-deficient covariance
    _close(sp.effective_rank(x), ref.rankme(x), rtol=1e-9)
    _close(sp.effective_rank(x, center=True, squared=True), ref.rankme(x, center=True, squared=True), rtol=1e-9)
    for name in NERVE:
        fn, _, oracle = SINGLE[name]
        _close(fn(x), oracle(x), rtol=1e-9, atol=1e-12)
    kw = dict(start=2, stop=40, weighting="inverse_rank")
    _close(sp.alpha_req(x, **kw), ref.alpha_req(x, **kw), rtol=1e-9)
    m = sp.participation_ratio_metric(dim=64)
    update, state = jax.jit(m.update), m.init()
    for lo in range(0, 1797, 599):
        state = update(state, x[lo:lo + 599])
    _close(m.compute(state), ref.participation_ratio(x), rtol=1e-9)


def test_trained_mlp_hidden_representation_against_numpy():
    optax = pytest.importorskip("optax")
    x, labels = _digits()
    x = (x - x.mean(0)) / (x.std(0) + 1e-6)
    rng = np.random.default_rng(21)
    width = 64  # the digits' shapes: the jitted metrics compiled by the pixel test are reused
    params = dict(w1=rng.normal(size=(64, width)) * 0.15, b1=np.zeros(width),
                  w2=rng.normal(size=(width, 10)) * 0.15, b2=np.zeros(10))

    def hidden(p, a):
        return jnp.tanh(a @ p["w1"] + p["b1"])

    def loss(p):
        logits = hidden(p, x) @ p["w2"] + p["b2"]
        return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

    opt = optax.adam(1e-2)

    @jax.jit
    def step(p, s):
        u, s = opt.update(jax.grad(loss)(p), s)
        return optax.apply_updates(p, u), s

    trained, state = params, opt.init(params)
    for _ in range(60):
        trained, state = step(trained, state)
    acc = float(((hidden(trained, x) @ trained["w2"] + trained["b2"]).argmax(-1) == labels).mean())
    assert acc > 0.95
    h0, h1 = np.asarray(hidden(params, x)), np.asarray(hidden(trained, x))
    y_pre = x @ np.asarray(trained["w1"]) + np.asarray(trained["b1"])
    for h in (h0, h1):
        _close(sp.effective_rank(h), ref.rankme(h), rtol=1e-9)
        for name in NERVE:
            fn, _, oracle = SINGLE[name]
            _close(fn(h), oracle(h), rtol=1e-9, atol=1e-12)
        kw = dict(start=2, stop=40, weighting="inverse_rank")
        _close(sp.alpha_req(h, **kw), ref.alpha_req(h, **kw), rtol=1e-9)
    # NerVE's use: the spectra before and after the nonlinearity of the same tokens
    _close(sp.spectral_jensen_shannon(y_pre, h1), ref.spectral_jensen_shannon(y_pre, h1), rtol=1e-9)
    # one-shot on the stacked checkpoints == per checkpoint
    _close(sp.spectral_entropy(np.stack([h0, h1])), [ref.spectral_entropy(h0), ref.spectral_entropy(h1)], rtol=1e-9)
