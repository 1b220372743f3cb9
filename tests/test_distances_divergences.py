"""Divergences between probability vectors (KL, Jensen–Shannon, TV, Hellinger, Bhattacharyya), the
characteristic-function distance and the two-sample KS test, against scipy (``entropy``,
``jensenshannon``, ``ks_2samp``, ``kstwobign``) and the numpy references of
tests/reference/divergences.py; the analytic values of METRICS.md §9; masks, weights, batch axes,
gradients; and real data (scikit-learn's digits and breast-cancer sets)."""

from __future__ import annotations

import math
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy, ks_2samp

import jaxmetrics
from jaxmetrics import distances as dist
from tests.reference import divergences as ref

RTOL = 1e-6
LN2 = math.log(2.0)
B, K = 6, 17  # one shape for every probability-vector test (the digits histograms have 17 bins)


def _close(actual, expected, rtol=RTOL, atol=1e-13):
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected, rtol=rtol, atol=atol, equal_nan=True)


def _pairs(rng):
    """``p``, ``q`` [B, K] probability rows: 0 generic, 1 zeros in p (0 log 0), 2 identical, 3 q = 0 < p
    (KL = inf), 4 nearly equal (JS ~ 1e-15), 5 disjoint supports."""
    p = rng.dirichlet(np.ones(K), size=B)
    q = rng.dirichlet(np.ones(K), size=B)
    p[1, :3] = 0.0
    q[2] = p[2]
    q[3, 0] = 0.0
    q[4] = p[4] * (1 + 1e-7 * rng.normal(size=K))
    p[5, 3:], q[5, :3] = 0.0, 0.0
    return p / p.sum(-1, keepdims=True), q / q.sum(-1, keepdims=True)


# ------------------------------------------------------------------------------------------------
# probability vectors


def test_probability_divergences_match_oracles_and_analytic_values():
    rng = np.random.default_rng(0)
    p, q = _pairs(rng)
    rows = range(B)
    kl = dist.kl_divergence(p, q)
    _close(kl, [entropy(p[i], q[i]) for i in rows])
    _close(dist.kl_divergence(p, q, base=2), [entropy(p[i], q[i], base=2) for i in rows])
    js_dist = np.array([jensenshannon(p[i], q[i]) for i in rows])
    js = dist.jensen_shannon(p, q)
    _close(dist.jensen_shannon(p, q, distance=True), js_dist, atol=1e-7)  # scipy: √ of a cancelled sum
    _close(js, js_dist ** 2)
    # full relative precision even for JS ~ 1e-15 (row 4), against 50-digit decimal arithmetic
    _close(js, [ref.jensen_shannon_decimal(p[i], q[i]) for i in rows], rtol=1e-11, atol=1e-40)
    tv = dist.total_variation(p, q)
    _close(tv, ref.total_variation(p, q))
    he = dist.hellinger(p, q)
    _close(he, ref.hellinger(p, q))
    h2 = dist.hellinger(p, q, squared=True)
    _close(h2, ref.hellinger(p, q, squared=True))
    bh = dist.bhattacharyya(p, q)
    _close(bh, ref.bhattacharyya(p, q))
    bc = dist.bhattacharyya(p, q, coefficient=True)
    _close(bc, ref.bhattacharyya_coefficient(p, q))
    # H² = 1 − BC for probability vectors (the Inspection "Hellinger", METRICS.md §9.8)
    _close(h2, 1 - ref.bhattacharyya_coefficient(p, q), atol=1e-15)
    # analytic: identical (row 2) → 0; disjoint (row 5) → KL inf, JS log 2, TV 1, H 1, BC 0, D_B inf
    for value, identical, disjoint in [(kl, 0, np.inf), (js, 0, LN2), (tv, 0, 1), (he, 0, 1), (bc, 1, 0),
                                       (bh, 0, np.inf)]:
        _close(np.asarray(value)[np.array([2, 5])], [identical, disjoint], atol=1e-15)
    assert float(kl[3]) == np.inf and np.isfinite(float(dist.kl_divergence(q[3], p[3])))
    # batch broadcasting: q [K] against p [B, K]
    _close(dist.total_variation(p, q[0]), ref.total_variation(p, q[0][None]))


def test_normalize_and_category_mask_match_scipy_on_selected_categories():
    """Counts with normalize=True = scipy (which normalises); a masked category is absent: NaN padding in
    it changes nothing, and the remaining ones are renormalised."""
    rng = np.random.default_rng(1)
    counts_p = rng.integers(0, 9, size=(B, K)).astype(np.float64)
    counts_q = rng.integers(1, 9, size=(B, K)).astype(np.float64)
    where = rng.random((B, K)) > 0.3
    where[:, :2] = True
    where[-1] = False  # no mass left: NaN under normalize (one documented answer)
    padded_p = np.where(where, counts_p, np.nan)
    padded_q = np.where(where, counts_q, np.inf)
    kl = dist.kl_divergence(padded_p, padded_q, normalize=True, where=where)
    js = dist.jensen_shannon(padded_p, padded_q, distance=True, normalize=True, where=where)
    tv = dist.total_variation(padded_p, padded_q, normalize=True, where=where)
    he = dist.hellinger(padded_p, padded_q, normalize=True, where=where)
    bh = dist.bhattacharyya(padded_p, padded_q, normalize=True, where=where)
    for i in range(B - 1):
        a, b = counts_p[i, where[i]], counts_q[i, where[i]]
        _close(kl[i], entropy(a, b))
        _close(js[i], jensenshannon(a, b))
        a, b = a / a.sum(), b / b.sum()
        _close(tv[i], ref.total_variation(a, b))
        _close(he[i], ref.hellinger(a, b))
        _close(bh[i], ref.bhattacharyya(a, b))
    for v in (kl, js, tv, he, bh):
        assert np.isnan(float(v[-1]))
    # without normalize the formulas apply literally to the unmasked entries
    _close(dist.total_variation(counts_p, counts_q, where=where),
           0.5 * np.where(where, np.abs(counts_p - counts_q), 0).sum(-1))


def test_kl_gradient_matches_the_analytic_gradient_and_is_finite_at_zeros():
    p, q = _pairs(np.random.default_rng(2))
    gp, gq = jax.grad(lambda a, b: jnp.sum(dist.kl_divergence(a, b)), argnums=(0, 1))(p, q)
    assert np.all(np.isfinite(gp)) and np.all(np.isfinite(gq))
    rows = [0, 2, 4]  # all entries positive
    gp, gq = np.asarray(gp), np.asarray(gq)
    _close(gp[rows], np.log(p[rows] / q[rows]) + 1)
    _close(gq[rows], -p[rows] / q[rows])
    # the conventions at zeros: 0 for ∂(0·log 0)/∂p and for the entries that make KL infinite
    np.testing.assert_array_equal(np.asarray(gp[1, :3]), 0.0)
    np.testing.assert_array_equal(np.asarray(gq[3, 0]), 0.0)


def test_bad_configuration_and_weights_raise():
    p = np.full((2, 3), 1 / 3)
    with pytest.raises(jaxmetrics.ShapeError, match="`q`"):
        dist.kl_divergence(p, p[:, :2])
    with pytest.raises(jaxmetrics.ShapeError, match="`base`"):
        dist.kl_divergence(p, p, base=1)
    with pytest.raises(jaxmetrics.ShapeError, match="`where`"):
        dist.hellinger(p, p, where=np.ones(2, bool))
    with pytest.raises(ValueError, match="weights"):
        dist.total_variation(p, p, weights=np.ones(3))


# ------------------------------------------------------------------------------------------------
# characteristic-function distance

N, M, D, NF = 24, 16, 3, 16


def _sets(rng):
    x = rng.normal(size=(N, D))
    y = 0.8 * rng.normal(size=(M, D)) + 0.3
    t = rng.normal(size=(NF, D))
    return x, y, t


def test_characteristic_function_distance_matches_complex_reference_with_masks_and_weights():
    rng = np.random.default_rng(3)
    x, y, t = _sets(rng)
    where_x = rng.random(N) > 0.25
    weights_y = rng.integers(0, 4, size=M).astype(np.float64)
    x_pad = np.where(where_x[:, None], x, np.nan)  # masked rows are padding
    cfd = dist.characteristic_function_distance  # its core is jitted: no outer jit (one compile less)
    _close(cfd(x_pad, y, frequencies=t, where_x=where_x, weights_y=weights_y),
           ref.characteristic_function_distance(x[where_x], y, t, wy=weights_y))
    plain = cfd(x, y, frequencies=t)
    _close(plain, ref.characteristic_function_distance(x, y, t))
    # the exact identity: CFD = biased MMD² with the random-feature kernel mean_t cos⟨t, x − y⟩
    _close(plain, ref.biased_mmd2(x, y, ref.cosine_feature_kernel(t)))
    # identical sets give 0; a common shift changes nothing (the far-from-origin copy, ⟨t, x⟩ ~ 1e4,
    # checks the centring)
    _close(cfd(x, x, frequencies=t), 0.0, atol=1e-15)
    _close(cfd(x + 1e4, y + 1e4, frequencies=t), plain, rtol=1e-8)
    # NCFD split (alpha is traced: one compile for every value); α = ½ gives half the CFD (METRICS §9.6)
    for alpha in (0.3, 1.0, 0.0):
        _close(cfd(x, y, frequencies=t, alpha=alpha), ref.characteristic_function_distance(x, y, t, alpha=alpha))
    _close(cfd(x, y, frequencies=t, alpha=0.5), 0.5 * np.asarray(plain), rtol=1e-12)


def test_characteristic_function_distance_estimates_the_gaussian_kernel_mmd():
    """METRICS.md §9.2: with t ~ N(0, σ²I), E_t |φ_X − φ_Y|² = biased MMD² of exp(−σ²‖x − y‖²/2).
    Exact for the drawn frequencies (cosine-feature kernel), within 5 Monte Carlo standard errors of
    the Gaussian-kernel value."""
    rng = np.random.default_rng(4)
    x, y, _ = _sets(rng)
    key, k, scale = jax.random.key(7), 4096, 0.7
    out = dist.characteristic_function_distance(x, y, key=key, num_frequencies=k, scale=scale)
    t = scale * np.asarray(jax.random.normal(key, (k, D), jnp.float32), np.float64)
    per_t = np.abs(ref.ecf(x, t) - ref.ecf(y, t)) ** 2
    _close(out, per_t.mean())
    target = ref.biased_mmd2(x, y, ref.gaussian_kernel(scale))
    assert abs(float(out) - target) < 5 * per_t.std() / math.sqrt(k)


def test_characteristic_function_distance_bad_arguments():
    x, y, t = _sets(np.random.default_rng(5))
    cfd = dist.characteristic_function_distance
    with pytest.raises(jaxmetrics.ShapeError, match="`frequencies`"):
        cfd(x, y, frequencies=t[:, :2])
    with pytest.raises(jaxmetrics.ShapeError, match="`y`"):
        cfd(x, y[:, :2], frequencies=t)
    with pytest.raises(jaxmetrics.ShapeError, match="`where`"):
        cfd(x, y, frequencies=t, where=np.ones(N, bool))  # n != m: a shared mask cannot apply to y
    with pytest.raises(jaxmetrics.ShapeError, match="`alpha`"):
        cfd(x, y, frequencies=t, alpha=1.5)
    with pytest.raises(ValueError, match="key"):
        cfd(x, y)


# ------------------------------------------------------------------------------------------------
# Kolmogorov–Smirnov

NX, NY = 40, 24
ULP = 5e-16  # scipy rounds F and G before subtracting: a few 1e-16 from the exact rational


def test_ks_statistic_matches_scipy_with_ties_masks_and_weights():
    rng = np.random.default_rng(6)
    x = np.round(rng.normal(size=NX), 1)  # many ties, also across the samples
    y = np.round(rng.normal(0.4, 1.2, size=NY), 1)
    ks = dist.kolmogorov_smirnov  # its core is jitted; every call below passes where_x and weights_y, so
    ones_x, ones_y = np.ones(NX, bool), np.ones(NY)  # they share one compile
    res = ks(x, y, where_x=ones_x, weights_y=ones_y)
    sp = ks_2samp(x, y, method="asymp")
    # the exact rational sup |F − G| (fractions), correctly rounded
    exact = max(abs(Fraction(int((x <= v).sum()), NX) - Fraction(int((y <= v).sum()), NY))
                for v in np.concatenate([x, y]))
    assert float(res.statistic) == float(exact)
    _close(res.statistic, sp.statistic, rtol=0, atol=ULP)
    _close(res.pvalue, ref.ks_pvalue(sp.statistic, NX, NY))
    # SciPy ≥ 1.5 uses kstwo.sf(D, round(nₑ)) instead: close, not equal, at nₑ = 15
    assert abs(float(res.pvalue) - sp.pvalue) < 0.03
    # masks (NaN padding) and integer weights == repetition
    where_x = rng.random(NX) > 0.3
    weights_y = rng.integers(0, 3, size=NY).astype(np.float64)
    res = ks(np.where(where_x, x, np.nan), y, where_x=where_x, weights_y=weights_y)
    y_rep = np.repeat(y, weights_y.astype(int))
    sp = ks_2samp(x[where_x], y_rep, method="asymp")
    _close(res.statistic, sp.statistic, rtol=0, atol=ULP)
    _close(res.pvalue, ref.ks_pvalue(sp.statistic, where_x.sum(), len(y_rep)))
    # identical samples; all masked (NaN)
    same = ks(x, x[:NY], where_x=np.arange(NX) < NY, weights_y=ones_y)
    assert float(same.statistic) == 0.0 and float(same.pvalue) == 1.0
    empty = ks(x, y, where_x=np.zeros(NX, bool), weights_y=ones_y)
    assert np.isnan(float(empty.statistic)) and np.isnan(float(empty.pvalue))
    # leading batch axes (y broadcast)
    stacked = dist.kolmogorov_smirnov(np.stack([x, x[::-1]]), y)
    _close(stacked.statistic, [float(exact)] * 2, rtol=0, atol=0)


def test_kolmogorov_series_matches_kstwobign_over_its_range():
    from scipy.stats import kstwobign

    from jaxmetrics.distances.divergences import _kolmogorov_sf

    lam = np.concatenate([[0.0, 1e-3], np.linspace(0.05, 4.0, 80)])
    _close(jax.jit(_kolmogorov_sf)(jnp.asarray(lam)), kstwobign.sf(lam), rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------------------------------------
# real data


def test_real_data_digits_histograms_and_features():
    """sklearn digits: the train half is closer to the test half than to a mode-dropped subset (digits
    0–2 only) under every divergence, on class and pixel-intensity histograms and on raw pixels (CFD);
    each value matches its oracle on these exact inputs."""
    datasets = pytest.importorskip("sklearn.datasets")
    X, labels = datasets.load_digits(return_X_y=True)
    train, test = slice(0, 900), slice(900, None)
    dropped = labels[test] <= 2

    def hist(values, bins=17):  # class histograms (10 classes) padded with empty categories
        return np.bincount(np.ravel(values).astype(int), minlength=bins).astype(np.float64)

    # rows: class (train, test), class (train, dropped), intensity (train, test), intensity (train,
    # dropped), class (test, train), class (test, dropped); [6, 17] like the other tests (shared compiles)
    cls = [hist(v) for v in (labels[train], labels[test], labels[test][dropped])]
    pix = [hist(v) for v in (X[train], X[test], X[test][dropped])]
    p = np.stack([cls[0], cls[0], pix[0], pix[0], cls[1], cls[1]])
    q = np.stack([cls[1], cls[2], pix[1], pix[2], cls[0], cls[2]])
    every = np.ones(p.shape, bool)  # where as in the mask test: the same compiled programs
    kw = dict(normalize=True, where=every)
    js = dist.jensen_shannon(p, q, distance=True, **kw)
    kl = dist.kl_divergence(q, p, **kw)  # KL(q‖p): finite (supp q ⊆ supp p)
    tv = dist.total_variation(p, q, **kw)
    he = dist.hellinger(p, q, **kw)
    bh = dist.bhattacharyya(p, q, **kw)
    for v in (js, kl, tv, he, bh):
        v = np.asarray(v)
        assert v[0] < v[1] and v[2] < v[3] and v[4] < v[5]
    pn, qn = p / p.sum(-1, keepdims=True), q / q.sum(-1, keepdims=True)
    _close(js, [jensenshannon(p[i], q[i]) for i in range(6)])
    _close(kl, [entropy(q[i], p[i]) for i in range(6)])
    _close(tv, ref.total_variation(pn, qn))
    _close(he, ref.hellinger(pn, qn))
    _close(bh, ref.bhattacharyya(pn, qn))
    # dropped modes: KL(train‖dropped) is infinite
    assert float(dist.kl_divergence(p, q, **kw)[1]) == np.inf
    # CFD on raw 64-d pixels, 64 samples per set; frequencies ~ N(0, σ²I) with σ ≈ 1/median distance
    rng = np.random.default_rng(8)
    xs = X[train][rng.choice(900, 64, replace=False)]
    xt = X[test][rng.choice(len(labels) - 900, 64, replace=False)]
    xd = X[test][dropped][rng.choice(dropped.sum(), 64, replace=False)]
    t = rng.normal(size=(32, 64)) / 40.0
    cfd = lambda a, b: dist.characteristic_function_distance(a, b, frequencies=t)  # noqa: E731
    near, far = float(cfd(xs, xt)), float(cfd(xs, xd))
    assert near < far
    _close([near, far], [ref.characteristic_function_distance(xs, b, t) for b in (xt, xd)])


def test_real_data_ks_on_breast_cancer_feature():
    """KS of 'mean radius' between benign and malignant tumours (357 vs 212 samples) vs scipy, and a
    random half-split of the benign class is not significant."""
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_breast_cancer(return_X_y=True)
    radius = X[:, 0]
    benign, malignant = y == 1, y == 0
    ks = dist.kolmogorov_smirnov
    # one shape for both calls: the full feature twice, the sets selected with masks
    res = ks(radius, radius, where_x=benign, where_y=malignant)
    sp = ks_2samp(radius[benign], radius[malignant], method="asymp")
    _close(res.statistic, sp.statistic, rtol=0, atol=ULP)
    assert float(res.pvalue) < 1e-30
    _close(res.pvalue, ref.ks_pvalue(sp.statistic, benign.sum(), malignant.sum()))
    half = np.random.default_rng(9).random(len(y)) < 0.5
    res = ks(radius, radius, where_x=benign & half, where_y=benign & ~half)
    sp = ks_2samp(radius[benign & half], radius[benign & ~half], method="asymp")
    _close(res.statistic, sp.statistic, rtol=0, atol=ULP)
    assert float(res.pvalue) > 0.01
    _close(res.pvalue, ref.ks_pvalue(sp.statistic, (benign & half).sum(), (benign & ~half).sum()))
