"""Score error metrics (jaxmetrics.score_matching.errors) against numpy references, closed-form Gaussian
scores (true score = ``jax.grad`` of ``jax.scipy.stats.multivariate_normal.logpdf``), and real data
(scikit-learn's iris: a Gaussian denoiser against the exact empirical denoiser of the training set).

Shapes are fixed per test ([2, 16, 3] batches, iris [3, 64, 4]) and the metrics are jitted once, so the
file compiles a handful of programs.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.stats import multivariate_normal

import jaxmetrics
from jaxmetrics.score_matching import (
    explicit_score_matching_error,
    explicit_score_matching_error_metric,
    fisher_divergence,
    score_fvu,
    score_fvu_metric,
    tweedie_consistency,
)

B, N, D = 2, 16, 3


def _gaussian(rng, d=D):
    a = rng.normal(size=(d, d))
    return rng.normal(size=d), a @ a.T / d + 0.3 * np.eye(d)


def _np_weighted_mean(values, w):
    return (w * values).sum(-1) / w.sum(-1)


def _np_gaussian_denoiser(x, sigma, mu, cov):
    """D = μ + Σ(Σ + σ²I)⁻¹(x − μ), per sample σ ``[..., N]``."""
    eye = np.eye(len(mu))
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape[:-1]):
        s = np.broadcast_to(sigma, x.shape[:-1])[idx]
        out[idx] = mu + cov @ np.linalg.solve(cov + s * s * eye, x[idx] - mu)
    return out


def _np_gaussian_score(x, sigma, mu, cov):
    """s = −(Σ + σ²I)⁻¹(x − μ)."""
    eye = np.eye(len(mu))
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape[:-1]):
        s = np.broadcast_to(sigma, x.shape[:-1])[idx]
        out[idx] = -np.linalg.solve(cov + s * s * eye, x[idx] - mu)
    return out


def _np_fvu(pred, ref, w):
    err = ((pred - ref) ** 2).sum(-1)
    mean = (w[..., None] * pred).sum(-2) / w.sum(-1)[..., None]
    var = ((pred - mean[..., None, :]) ** 2).sum(-1)
    return _np_weighted_mean(err, w) / _np_weighted_mean(var, w)


def test_esm_and_fisher_match_numpy_and_closed_forms():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(B, N, D)), rng.normal(size=(B, N, D))
    b[:, :3] = a[:, :3]  # ties: zero error rows
    where = rng.random((B, N)) > 0.25
    weights = rng.random((B, N)) + 0.1
    w = where * weights
    per = ((a - b) ** 2).sum(-1)
    esm = jax.jit(lambda *args: explicit_score_matching_error(args[0], args[1], where=args[2], weights=args[3]))
    fisher = jax.jit(lambda *args: fisher_divergence(args[0], args[1], where=args[2], weights=args[3]))
    np.testing.assert_allclose(esm(a, b, where, weights), 0.5 * _np_weighted_mean(per, w), rtol=1e-12)
    np.testing.assert_allclose(fisher(a, b, where, weights), _np_weighted_mean(per, w), rtol=1e-12)
    np.testing.assert_allclose(explicit_score_matching_error(a, b, where=where, reduce=None), 0.5 * per * where,
                               rtol=1e-12)
    # streaming over two batches == one shot; NaN padding under the mask is ignored
    m = explicit_score_matching_error_metric()
    update = jax.jit(m.update)
    half = N // 2
    state = update(m.init(), a[:, :half], b[:, :half], where=where[:, :half], weights=weights[:, :half])
    state = update(state, a[:, half:], b[:, half:], where=where[:, half:], weights=weights[:, half:])
    np.testing.assert_allclose(m.compute(state), 0.5 * _np_weighted_mean(per, w), rtol=1e-12)
    padded = np.where(where[..., None], a, np.nan)
    np.testing.assert_allclose(esm(padded, b, where, weights), esm(a, b, where, weights), rtol=1e-12)
    assert np.isnan(esm(a, b, np.zeros((B, N), bool), weights)).all()

    # analytic: a closed-form Gaussian score against jax.grad of its log density -> 0; equal-covariance
    # Gaussians p, q: F(p||q) = (mu_p - mu_q)' Sigma^-2 (mu_p - mu_q) on every sample
    mu_p, cov = _gaussian(rng)
    mu_q = mu_p + rng.normal(size=D)
    x = rng.multivariate_normal(mu_p, cov, size=(B, N))
    grad_logp = jax.jit(jax.vmap(jax.vmap(jax.grad(lambda z, m: multivariate_normal.logpdf(z, m, cov)),
                                          (0, None)), (0, None)))
    s_p, s_q = grad_logp(x, mu_p), grad_logp(x, mu_q)
    closed = _np_gaussian_score(x, 0.0, mu_p, cov)
    assert float(jnp.max(esm(closed, s_p, where, weights))) < 1e-24
    prec = np.linalg.inv(cov)
    dmu = mu_p - mu_q
    np.testing.assert_allclose(fisher(s_p, s_q, where, weights), dmu @ prec @ prec @ dmu, rtol=1e-9)


def test_score_fvu_matches_numpy_across_parameterizations_and_noise_levels():
    rng = np.random.default_rng(1)
    s_levels = np.array([0.3, 1.0])  # leading axis: one noise level per row (vmap over sigma)
    x = rng.normal(size=(B, N, D))
    den_pred = x * 0.6 + rng.normal(size=(B, N, D)) * 0.3
    den_ref = den_pred + rng.normal(size=(B, N, D)) * 0.2
    where = rng.random((B, N)) > 0.2
    weights = rng.random((B, N)) + 0.1
    expected = _np_fvu(den_pred, den_ref, where * weights)
    sig = s_levels[:, None]
    fvu_x0 = jax.jit(lambda p, r, m, w: score_fvu(p, r, where=m, weights=w))
    np.testing.assert_allclose(fvu_x0(den_pred, den_ref, where, weights), expected, rtol=1e-10)
    # the same denoisers as ε̂ (pred) and scores (reference): converted to x0 space -> identical FVU
    eps_pred = (x - den_pred) / sig[..., None]
    score_ref = (den_ref - x) / sig[..., None] ** 2
    fvu_mixed = jax.jit(lambda p, r, x_, s, m, w: score_fvu(p, r, x_, s, parameterization="epsilon",
                                                            reference_parameterization="score", where=m, weights=w))
    np.testing.assert_allclose(fvu_mixed(eps_pred, score_ref, x, sig, where, weights), expected, rtol=1e-10)
    per_level = jax.vmap(fvu_mixed)(eps_pred, score_ref, x, s_levels, where, weights)  # vmap over sigma
    np.testing.assert_allclose(per_level, expected, rtol=1e-10)

    # Chan-merged streaming: outputs far from the origin (offset 1e6, unit spread) stay accurate, where
    # Σ‖D‖² − W‖μ‖² would lose every digit
    far_pred, far_ref = den_pred[0] + 1e6, den_ref[0] + 1e6
    m = score_fvu_metric(dim=D)
    update, merge = jax.jit(m.update), jax.jit(m.merge)
    state = m.init()
    for lo in range(0, N, 4):
        state = merge(state, update(m.init(), far_pred[lo:lo + 4], far_ref[lo:lo + 4], where=where[0, lo:lo + 4],
                                    weights=weights[0, lo:lo + 4]))
    np.testing.assert_allclose(m.compute(state), expected[0], rtol=1e-7)
    # undefined: constant model output (zero variance) and all masked -> NaN
    const = np.ones((B, N, D))
    assert np.isnan(fvu_x0(const, den_ref, where, weights)).all()
    assert np.isnan(fvu_x0(den_pred, den_ref, np.zeros((B, N), bool), weights)).all()
    with pytest.raises(jaxmetrics.ShapeError, match="`x`"):
        score_fvu(eps_pred, score_ref, parameterization="epsilon")


def test_score_fvu_on_iris_gaussian_vs_empirical_denoiser():
    """Real data: how much of the exact training-set (delta-mixture) denoiser of iris the Gaussian
    denoiser leaves unexplained, per noise level (Wang & Vastola's diagnostic)."""
    from sklearn.datasets import load_iris

    data = load_iris().data
    data = (data - data.mean(0)) / data.std(0)
    mu, cov = data.mean(0), np.cov(data.T, ddof=0)
    rng = np.random.default_rng(2)
    sigmas = np.array([0.2, 1.0, 5.0])
    x0 = data[rng.integers(0, len(data), size=(3, 64))]
    x = x0 + sigmas[:, None, None] * rng.normal(size=x0.shape)

    def empirical(xs, s):  # numpy: softmax over the training points of −‖x − x_i‖²/(2σ²)
        logits = -((xs[:, None, :] - data[None]) ** 2).sum(-1) / (2 * s * s)
        p = np.exp(logits - logits.max(1, keepdims=True))
        return (p / p.sum(1, keepdims=True)) @ data

    d_emp = np.stack([empirical(x[i], sigmas[i]) for i in range(3)])
    d_gauss = _np_gaussian_denoiser(x, sigmas[:, None], mu, cov)
    fvu = jax.jit(score_fvu)(d_emp, d_gauss)  # one stacked call: [3 noise levels]
    np.testing.assert_allclose(fvu, _np_fvu(d_emp, d_gauss, np.ones((3, 64))), rtol=1e-9)
    # the Gaussian explains the empirical denoiser well at high noise, less so at intermediate noise
    assert fvu[2] < 0.05 and fvu[2] < fvu[1]


def test_tweedie_consistency_exact_for_gaussian_pair_and_numpy_values():
    rng = np.random.default_rng(3)
    mu, cov = _gaussian(rng)
    x = rng.normal(size=(B, N, D)) * 2
    sigma = np.exp(rng.uniform(-2, 2, size=(B, N)))  # one noise level per sample
    den, score = _np_gaussian_denoiser(x, sigma, mu, cov), _np_gaussian_score(x, sigma, mu, cov)
    where = rng.random((B, N)) > 0.2
    weights = rng.random((B, N)) + 0.1
    absolute = jax.jit(lambda *a: tweedie_consistency(*a[:4], where=a[4], weights=a[5]))
    relative = jax.jit(lambda *a: tweedie_consistency(*a[:4], relative=True, where=a[4], weights=a[5]))
    scale = _np_weighted_mean(((den - x) ** 2).sum(-1), where * weights)
    assert float(jnp.max(absolute(den, score, x, sigma, where, weights))) < 1e-20 * float(scale.max())
    assert float(jnp.max(relative(den, score, x, sigma, where, weights))) < 1e-20
    # a perturbed score: numpy residual means
    bad = score + rng.normal(size=score.shape) * 0.1
    resid = ((den - x - sigma[..., None] ** 2 * bad) ** 2).sum(-1)
    w = where * weights
    np.testing.assert_allclose(absolute(den, bad, x, sigma, where, weights), _np_weighted_mean(resid, w), rtol=1e-10)
    np.testing.assert_allclose(relative(den, bad, x, sigma, where, weights),
                               (w * resid).sum(-1) / (w * ((den - x) ** 2).sum(-1)).sum(-1), rtol=1e-10)
    np.testing.assert_allclose(tweedie_consistency(den, bad, x, sigma, where=where, reduce=None), resid * where,
                               rtol=1e-10)
