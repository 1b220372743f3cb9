"""Kernel Stein discrepancy: the closed-form Stein kernels against autodiff of the base kernel, the
dense numpy reference (tests/reference/ksd.py) for both kernels and both estimators (masks, weights,
chunking, median heuristic, batch axes), the Gaussian analytic values (null expectation of the V- and
U-statistics, mean-shift closed form), the wild-bootstrap test (same multipliers as the reference,
null calibration over seeds, power under a shift), finite gradients on degenerate inputs, and real data
(scikit-learn's iris against a fitted Gaussian).

Compile budget: one sample shape (n = 48, d = 3) for the oracle checks, (S, 32, 2) batches for the
analytic and bootstrap checks; one call per static configuration.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxmetrics
from jaxmetrics.score_matching import stein
from jaxmetrics.score_matching import kernel_stein_discrepancy as ksd, kernel_stein_discrepancy_test as ksd_test
from tests.reference import ksd as ref

ESTIMATORS = ("unbiased", "biased")

RTOL = 1e-10
N, D = 48, 3


def _close(actual, expected, rtol=RTOL, atol=1e-13):
    np.testing.assert_allclose(np.asarray(actual, np.float64), np.asarray(expected, np.float64), rtol=rtol,
                               atol=atol)


def _data(rng, n=N, d=D):
    """Samples near (not from) the N(0, I) target, with duplicate rows (ties), and the target score."""
    x = rng.normal(size=(n, d)) * 1.3 + 0.4
    x[5] = x[4]
    x[17] = x[4]
    return x, -x


# --------------------------------------------------------------------------------------------------
# closed forms


def _autodiff_stein(kernel):
    """u_p(x_i, y_j) ``[n, m]`` from jax.grad / jax.jacfwd of the base kernel k(x, y), pair by pair."""
    def k(a, b, h, beta):
        r2 = jnp.sum((a - b) ** 2)
        return jnp.exp(-r2 / (2 * h * h)) if kernel == "rbf" else (h * h + r2) ** (-beta)

    def u(a, b, sa, sb, h, beta):
        gx = jax.grad(k, 0)(a, b, h, beta)
        gy = jax.grad(k, 1)(a, b, h, beta)
        trace = jnp.trace(jax.jacfwd(jax.grad(k, 1), 0)(a, b, h, beta))  # Σ_l ∂²k / ∂x_l ∂y_l
        return sa @ sb * k(a, b, h, beta) + sa @ gy + sb @ gx + trace

    pairs = jax.vmap(jax.vmap(u, (None, 0, None, 0, None, None)), (0, None, 0, None, None, None))
    return jax.jit(pairs)


def test_closed_form_stein_kernels_match_autodiff():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, D)), rng.normal(size=(6, D)) * 2.0
    y[0] = x[0]  # a coincident pair (r = 0)
    sx, sy = rng.normal(size=(6, D)), rng.normal(size=(6, D))
    configs = [("imq", 1.7, 0.3), ("rbf", 0.8, 0.5)]

    @jax.jit
    def everything(x, y, sx, sy):  # one compile for all configurations
        out = []
        for kernel, h, beta in configs:
            auto = _autodiff_stein(kernel)
            out.append((auto(x, y, sx, sy, h, beta), jnp.diagonal(auto(x, x, sx, sx, h, beta)),
                        stein._stein_block(x, sx, y, sy, kernel, h, beta), stein._stein_diagonal(sx, kernel, h, beta)))
        return out

    for (kernel, h, beta), (auto, auto_diag, block, diag) in zip(configs, everything(x, y, sx, sy)):
        _close(ref.stein_kernel(x, sx, y, sy, kernel, h, beta), auto, rtol=1e-12)  # the reference's forms
        _close(block, auto, rtol=1e-12)  # the library's expanded form
        _close(diag, auto_diag, rtol=1e-12)


# --------------------------------------------------------------------------------------------------
# reference agreement


def test_matches_reference_both_kernels_both_estimators():
    """Problem 0: plain samples with ties; problem 1: the same samples with NaN/inf in masked rows,
    a mask and integer weights (== the reference on the selected rows with those weights). All variants
    in one jit (one compile)."""
    rng = np.random.default_rng(1)
    x, s = _data(rng)
    where = rng.random(N) > 0.25
    where[:2] = True
    weights = rng.integers(1, 4, N).astype(float)
    xb = np.stack([x, np.where(where[:, None], x, np.nan)])  # masked rows hold NaN / inf: absent
    sb = np.stack([s, np.where(where[:, None], s, np.inf)])
    wb, mb = np.stack([np.ones(N), weights]), np.stack([np.ones(N, bool), where])
    plain = [(k, e) for k in ("imq", "rbf") for e in ("unbiased", "biased")]
    chunked = [("imq", "unbiased", 0.9, 0.7), ("rbf", "biased", None, 0.5)]  # 20-row blocks: a padded one

    @jax.jit
    def everything(xb, sb, mb, wb):
        out = [ksd(xb, sb, kernel=k, estimator=e, bandwidth=1.3, where=mb, weights=wb) for k, e in plain]
        out += [ksd(xb, sb, kernel=k, estimator=e, bandwidth=h, beta=b, where=mb, weights=wb, chunk_size=20)
                for k, e, h, b in chunked]
        # the score as a callable; a per-problem bandwidth; squared=False
        out.append(ksd(xb, lambda a: -a, kernel="rbf", bandwidth=jnp.array([1.0, 2.0]), where=mb, weights=wb,
                       estimator="biased", squared=False))
        return out

    out = iter(everything(xb, sb, mb, wb))

    def both(kernel, est, h, beta, post=lambda v: v):
        return [post(ref.ksd(x, s, kernel, h, beta, est)),
                post(ref.ksd(x[where], s[where], kernel, h, beta, est, weights=weights[where]))]

    for kernel, est in plain:
        _close(next(out), both(kernel, est, 1.3, 0.5))
    for kernel, est, h, beta in chunked:  # h None: the median heuristic (masked rows excluded)
        _close(next(out), both(kernel, est, h, beta))
    expected = [np.sqrt(ref.ksd(x, s, "rbf", 1.0, 0.5, "biased")),
                np.sqrt(ref.ksd(x[where], s[where], "rbf", 2.0, 0.5, "biased", weights=weights[where]))]
    _close(next(out), expected)
    # biased: integer weights == repeating samples (checks the reference's weighting)
    c = weights.astype(int)
    _close(ref.ksd(x, s, "imq", 1.3, 0.5, "biased", weights=weights),
           ref.ksd(np.repeat(x, c, 0), np.repeat(s, c, 0), "imq", 1.3, 0.5, "biased"), rtol=1e-12)


# --------------------------------------------------------------------------------------------------
# analytic (Gaussian target N(0, I), score −x)


def test_gaussian_null_expectations_and_mean_shift_closed_form():
    """Under the null E V = E u(x, x) / n and E U = 0; for samples N(μ, I) and an RBF kernel,
    KSD² = ‖μ‖² E k(x, x′) = ‖μ‖² (h² / (h² + 2))^(d/2) (Liu, Lee & Jordan 2016:
    KSD² = E (s_p − s_q)(x)ᵀ k(x, x′) (s_p − s_q)(x′), and here s_p − s_q = −μ).
    n = 32 samples per seed; n = 8 is the first 8 of them (a mask: same shapes, one compile)."""
    n, d, seeds, h = 32, 2, 300, 1.0
    z = jax.random.normal(jax.random.key(0), (seeds, n, d), jnp.float64)
    shifts = np.array([0.0, 0.5, 1.0, 2.0])
    first8 = np.stack([np.arange(n) < 8, np.ones(n, bool)])[:, None, :]  # [2, 1, n]: n = 8 and 32

    @jax.jit
    def everything(z):
        x = z[None] + jnp.asarray(shifts)[:, None, None, None] * jnp.array([1.0, 0.0])  # [4, S, n, d]
        u = ksd(x, -x, kernel="rbf", bandwidth=h)
        z2 = jnp.broadcast_to(z, (2, *z.shape))
        v = [ksd(z2, -z2, kernel=k, estimator="biased", bandwidth=h, where=first8) for k in ("rbf", "imq")]
        return u, v

    def mean_se(v):
        v = np.asarray(v)
        return v.mean(-1), v.std(-1, ddof=1) / np.sqrt(v.shape[-1])

    u, v = everything(z)
    # U-statistic, RBF: unbiased for ‖μ‖²(h²/(h²+2))^(d/2) at every shift, growing with the shift
    m, se = mean_se(u)
    expected = shifts**2 * (h * h / (h * h + 2.0)) ** (d / 2)
    assert np.all(np.abs(m - expected) < 4 * se + 1e-12), (m, expected, se)
    assert np.all(np.diff(m) > 0)
    # V-statistic under the null: E u(x, x)/n → 0 as n grows; rbf (E‖x‖² + d/h²)/n, imq (c=1, β=1/2) 2d/n
    for vk, eu in zip(v, (d + d / h**2, 2.0 * d)):
        assert np.all(np.asarray(vk) >= 0)
        mv, sev = mean_se(vk)
        np.testing.assert_array_less(np.abs(mv - eu / np.array([8, n])), 4 * sev)
        assert mv[1] < mv[0] / 2


# --------------------------------------------------------------------------------------------------
# wild-bootstrap test


def test_bootstrap_matches_reference_multipliers_and_chunking():
    """The p-value from the documented multipliers (rademacher(key, (n, B))) on the reference Stein
    kernel; chunked == unchunked; the U- and V-statistic tests agree for unit weights (V·n² = U·n(n−1) +
    Σu_ii, the same affine map for every replicate); a NaN statistic gives a NaN p-value."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(N, D))  # from the target: a p-value away from its floor
    x[5] = x[4]
    s = -x
    key, b = jax.random.key(7), 64
    eps = np.asarray(jax.random.rademacher(key, (N, b), jnp.float64))
    configs = [("imq", "unbiased", None), ("imq", "biased", 20), ("rbf", "biased", 20)]

    @jax.jit
    def everything(x, s, key):
        out = [ksd_test(x, s, key=key, num_bootstrap=b, kernel=k, estimator=e, chunk_size=c) for k, e, c in configs]
        return out, ksd_test(x, s, key=key, num_bootstrap=b, where=jnp.zeros(N, bool))

    out, masked = everything(x, s, key)
    for (kernel, est, _), res in zip(configs, out):
        stat = ref.ksd(x, s, kernel, 1.0, 0.5, est)
        boot = ref.wild_bootstrap(x, s, eps, kernel, 1.0, 0.5, est)
        _close(res.statistic, stat)
        assert 0.05 < float(res.pvalue) < 1.0
        _close(res.pvalue, (1 + np.sum(boot >= stat)) / (1 + b), rtol=1e-14)
    np.testing.assert_equal(float(out[0].pvalue), float(out[1].pvalue))
    assert np.isnan(float(masked.statistic)) and np.isnan(float(masked.pvalue))


def test_bootstrap_null_calibration_and_power():
    """Over 40 seeds (vmapped data and keys, one jit): rejections at α = 0.05 within the binomial band
    (Binomial(40, 0.05) ≥ 7 has probability 0.004), mean p-value near 1/2; a shift of 1 always rejects
    with the smallest attainable p-value."""
    seeds, n, d, b = 40, 32, 2, 199
    keys = jax.random.split(jax.random.key(3), seeds)
    z = jax.random.normal(jax.random.key(4), (seeds, n, d), jnp.float64)
    test = jax.jit(jax.vmap(lambda a, k: ksd_test(a, -a, key=k, num_bootstrap=b)))
    p_null = np.asarray(test(z, keys).pvalue)
    assert np.sum(p_null <= 0.05) <= 6, p_null
    assert 0.3 < p_null.mean() < 0.7, p_null.mean()
    assert np.all((p_null >= 1 / (1 + b)) & (p_null <= 1))
    p_alt = np.asarray(test(z + 1.0, keys).pvalue)
    np.testing.assert_allclose(p_alt, 1 / (1 + b))


# --------------------------------------------------------------------------------------------------
# degenerate inputs, errors


def test_degenerate_inputs():
    """Values on degenerate inputs (their finite gradients are checked by the contract suite's edges):
    all masked and a single valid sample → NaN (the U-statistic needs two samples; V of one sample is
    u(x, x)); identical points → median 0 → bandwidth 1."""
    rng = np.random.default_rng(5)
    x, s = _data(rng)
    xi, si = np.repeat(x[:1], N, 0), np.repeat(s[:1], N, 0)
    masks = np.stack([np.zeros(N, bool), np.arange(N) == 3, np.ones(N, bool)])
    f = jax.jit(lambda a, sa, m: [ksd(a, sa, kernel="rbf", bandwidth=None, where=m, estimator=e)
                                  for e in ESTIMATORS])
    (u_masked, u_one, u_same), (v_masked, v_one, v_same) = np.asarray(
        f(np.stack([x, x, xi]), np.stack([s, s, si]), masks))
    assert np.isnan(u_masked) and np.isnan(u_one) and np.isnan(v_masked)
    _close(v_one, ref.ksd(x[3:4], s[3:4], "rbf", 1.0, 0.5, "biased"))
    _close([u_same, v_same], [ref.ksd(xi, si, "rbf", 1.0, 0.5, e) for e in ESTIMATORS])


def test_bad_configuration_raises():
    x = np.zeros((16, 2))
    bad = [
        (dict(kernel="laplacian"), "kernel"), (dict(estimator="u"), "estimator"), (dict(beta=0.0), "beta"),
        (dict(bandwidth=-1.0), "bandwidth"), (dict(chunk_size=0), "chunk_size"), (dict(squared=1), "squared"),
    ]
    for kw, name in bad:
        with pytest.raises(jaxmetrics.ShapeError, match=f"`{name}`"):
            ksd(x, x, **kw)
    with pytest.raises(jaxmetrics.ShapeError, match="`score`"):
        ksd(x, np.zeros((16, 3)))
    with pytest.raises(jaxmetrics.ShapeError, match="`num_bootstrap`"):
        ksd_test(x, x, key=jax.random.key(0), num_bootstrap=0)
    with pytest.raises(jaxmetrics.ShapeError, match="`key`"):
        ksd_test(x, x, key=np.zeros(3))


# --------------------------------------------------------------------------------------------------
# real data


def test_iris_against_a_fitted_gaussian():
    """Iris (n = 150), standardised and projected on its first 3 principal components scaled to unit
    variance: the Gaussian fitted to it is N(0, I) (score −z). Iris is bimodal along PC1 (setosa vs the
    rest), so the test (IMQ, U-statistic) rejects it with the smallest p-value, while none of 8 sets of
    150 samples drawn from the fitted Gaussian is rejected at α = 0.05, and their KSD² is far smaller."""
    from sklearn.datasets import load_iris

    x = load_iris().data
    x = (x - x.mean(0)) / x.std(0)
    lam, vec = np.linalg.eigh(np.cov(x, rowvar=False))
    z = x @ vec[:, ::-1][:, :3] / np.sqrt(lam[::-1][:3])  # whitened: fitted Gaussian N(0, I)
    draws = np.random.default_rng(12).normal(size=(8, 150, 3))
    test = jax.jit(jax.vmap(lambda a, k: ksd_test(a, -a, key=k, num_bootstrap=199)))
    out = test(np.concatenate([z[None], draws]), jax.random.split(jax.random.key(11), 9))
    stat, p = np.asarray(out.statistic), np.asarray(out.pvalue)
    _close(stat[0], ref.ksd(z, -z, "imq"))
    assert stat[0] > 0 and p[0] == 1 / 200, (stat, p)  # iris is not Gaussian
    assert np.all(p[1:] > 0.05), p
    assert stat[0] > 4 * np.max(np.abs(stat[1:])), stat
