"""Closed-form reference scores (jaxmetrics.score_matching.reference) against independent oracles.

* Gaussian and Gaussian mixture: ``jax.grad`` of the ``jax.scipy.stats.multivariate_normal`` log density
  of the noise-convolved distribution (covariances Σ_k + σ²I) — the score error is 0 to 1e-10; the
  denoisers against a numpy ``solve`` and Tweedie's D = x + σ²s.
* Empirical (delta mixture): a dense numpy softmax over the whole training set (real data: the iris
  features), chunked == unchunked, a single data point gives (x0 − x)/σ², and the mixture of zero-
  covariance Gaussians at the data points is the same distribution.

One query shape (``x [16, d]`` with per-sample σ) per function keeps the compiles few.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.special import logsumexp
from jax.scipy.stats import multivariate_normal

import jaxmetrics
from jaxmetrics.score_matching import reference as ref

D, NQ = 3, 16


def _rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


def _cov(rng, d=D, rank=None):
    a = rng.normal(size=(d, rank or d))
    return a @ a.T / d + (0.0 if rank else 0.2 * np.eye(d))


def _queries(rng):
    return rng.normal(size=(NQ, D)) * 2.0, np.exp(rng.uniform(np.log(0.05), np.log(5.0), size=NQ))


def _gauss_logpdf_grad(mean, cov):
    def logp(x, s):
        return multivariate_normal.logpdf(x, mean, cov + s * s * jnp.eye(len(mean)))

    return jax.jit(jax.vmap(jax.grad(logp)))


def test_gaussian_score_is_grad_log_density_and_denoiser_is_tweedie():
    rng = np.random.default_rng(0)
    x, sigma = _queries(rng)
    mean = rng.normal(size=D)
    for cov in (_cov(rng), _cov(rng, rank=1)):  # full rank, and singular (rank 1) at σ > 0
        score = ref.gaussian_score(x, sigma, mean, cov)
        oracle = _gauss_logpdf_grad(jnp.asarray(mean), jnp.asarray(cov))(jnp.asarray(x), jnp.asarray(sigma))
        assert _rel(score, oracle) < 1e-10
        den = ref.gaussian_denoiser(x, sigma, mean, cov)
        np_den = np.stack([mean + cov @ np.linalg.solve(cov + s * s * np.eye(D), xi - mean)
                           for xi, s in zip(x, sigma)])
        assert _rel(den, np_den) < 1e-10
        np.testing.assert_allclose(den, x + sigma[:, None] ** 2 * np.asarray(score), rtol=0, atol=1e-12)
    # σ = 0 on a singular Σ: the denoiser projects onto the support μ + range(Σ) (a point on it is fixed)
    cov = _cov(rng, rank=1)
    u = np.linalg.eigh(cov)[1][:, -1]
    on_support = mean + np.outer(rng.normal(size=NQ), u)
    np.testing.assert_allclose(ref.gaussian_denoiser(on_support, np.zeros(NQ), mean, cov), on_support, atol=1e-12)
    # scalar σ broadcasts over the leading axes, and leading axes are batch axes
    np.testing.assert_allclose(ref.gaussian_score(x.reshape(4, 4, D), 0.7, mean, cov).reshape(NQ, D),
                               ref.gaussian_score(x, np.full(NQ, 0.7), mean, cov), rtol=1e-13)


def test_gaussian_mixture_score_is_grad_log_density():
    rng = np.random.default_rng(1)
    x, sigma = _queries(rng)
    K = 3
    means = rng.normal(size=(K, D)) * 2.0
    covs = np.stack([_cov(rng), _cov(rng, rank=1), 0.3 * np.eye(D)])
    pi = np.array([0.5, 0.2, 0.3])

    def logp(xi, s):
        comps = jnp.stack([multivariate_normal.logpdf(xi, means[k], covs[k] + s * s * jnp.eye(D)) for k in range(K)])
        return logsumexp(comps + jnp.log(pi))

    oracle = jax.jit(jax.vmap(jax.grad(logp)))(jnp.asarray(x), jnp.asarray(sigma))
    score = ref.gaussian_mixture_score(x, sigma, means, covs, pi)
    assert _rel(score, oracle) < 1e-10
    den = ref.gaussian_mixture_denoiser(x, sigma, means, covs, pi)
    np.testing.assert_allclose(den, x + sigma[:, None] ** 2 * np.asarray(score), rtol=0, atol=1e-12)
    # unnormalised mixture weights are normalised; a zero weight removes its component
    np.testing.assert_allclose(ref.gaussian_mixture_score(x, sigma, means, covs, 10 * pi), score, rtol=1e-12)
    one = ref.gaussian_mixture_score(x, sigma, means, covs, np.array([0.0, 0.0, 1.0]))
    np.testing.assert_allclose(one, ref.gaussian_score(x, sigma, means[2], covs[2]), rtol=1e-12, atol=1e-14)


def _np_empirical_denoiser(x, sigma, data, w):
    """Dense numpy reference: softmax over all N data points, in float64."""
    d2 = ((x[:, None, :] - data[None, :, :]) ** 2).sum(-1)
    logits = np.where(w > 0, np.log(np.where(w > 0, w, 1.0)), -np.inf) - d2 / (2 * sigma[:, None] ** 2)
    logits -= logits.max(1, keepdims=True)
    p = np.exp(logits)
    return (p @ data) / p.sum(1, keepdims=True)


def test_empirical_score_matches_dense_numpy_on_iris_and_chunking_is_exact():
    datasets = pytest.importorskip("sklearn.datasets")
    iris = datasets.load_iris().data[:, :D]                       # real data, with duplicate rows
    data = (iris - iris.mean(0)) / iris.std(0)
    rng = np.random.default_rng(2)
    x, sigma = _queries(rng)
    x = x * 0.5
    w = np.ones(len(data))
    np_den = _np_empirical_denoiser(x, sigma, data, w)
    np_score = (np_den - x) / sigma[:, None] ** 2
    full = ref.empirical_score(x, sigma, data)
    chunked = ref.empirical_score(x, sigma, data, chunk_size=32)   # 32 does not divide 150
    assert _rel(full, np_score) < 1e-9
    assert _rel(chunked, np_score) < 1e-9
    np.testing.assert_allclose(chunked, full, rtol=1e-10, atol=1e-12)
    # padding + mask == the unpadded data (NaN padding never leaks); integer weights == repeated rows
    padded = np.concatenate([data, np.full((10, D), np.nan)])
    where = np.arange(len(padded)) < len(data)
    np.testing.assert_allclose(ref.empirical_score(x, sigma, padded, data_where=where, chunk_size=32), full,
                               rtol=1e-10, atol=1e-12)
    counts = rng.integers(0, 3, size=len(data)).astype(float)
    repeated = np.repeat(data, counts.astype(int), axis=0)
    np.testing.assert_allclose(ref.empirical_score(x, sigma, data, data_weights=counts, chunk_size=32),
                               _np_empirical_score(x, sigma, repeated), rtol=1e-9, atol=1e-12)
    # the same distribution as a mixture of zero-covariance Gaussians at the data points
    mix = ref.gaussian_mixture_score(x, sigma, data, np.zeros((len(data), D, D)))
    assert _rel(mix, np_score) < 1e-9


def _np_empirical_score(x, sigma, data):
    return (_np_empirical_denoiser(x, sigma, data, np.ones(len(data))) - x) / sigma[:, None] ** 2


def test_empirical_score_single_point_tiny_sigma_masks_and_gradients():
    rng = np.random.default_rng(3)
    x, sigma = _queries(rng)
    x0 = rng.normal(size=(1, D))
    np.testing.assert_allclose(ref.empirical_score(x, sigma, x0), (x0 - x) / sigma[:, None] ** 2, rtol=1e-12)
    # tiny σ: the denoiser snaps to the nearest data point (no underflow to 0/0)
    data = rng.normal(size=(24, D))
    nearest = data[np.argmin(((x[:, None] - data[None]) ** 2).sum(-1), axis=1)]
    np.testing.assert_allclose(ref.empirical_denoiser(x, np.full(NQ, 1e-4), data, chunk_size=5), nearest,
                               rtol=1e-12)
    # all data masked: NaN (one documented answer), with finite gradients
    none = np.zeros(24, bool)
    assert np.all(np.isnan(ref.empirical_score(x, sigma, data, data_where=none, chunk_size=5)))

    def total(x, sigma, data, where):
        s = ref.empirical_score(x, sigma, data, data_where=where, chunk_size=5)
        return jnp.sum(jnp.where(jnp.isnan(s), 0.0, s) ** 2)

    grad = jax.jit(jax.grad(total, argnums=(0, 1, 2)))
    for where in (np.ones(24, bool), none, np.arange(24) < 1):
        for g in grad(x, sigma, data, where):
            assert np.all(np.isfinite(g))
    smooth = np.maximum(sigma, 0.5)  # finite differences need a smooth softmax (σ not tiny)
    jax.test_util.check_grads(jax.jit(lambda x, data: total(x, smooth, data, np.ones(24, bool))), (x, data),
                              order=1, modes=["rev"], atol=1e-5, rtol=1e-5)
    # vmap over σ (a leading axis of noise levels) == the loop
    sig3 = np.array([0.1, 1.0, 10.0])
    batched = jax.vmap(lambda s: ref.empirical_score(x, s, data, chunk_size=5))(sig3)
    for s, b in zip(sig3, batched):
        np.testing.assert_allclose(b, _np_empirical_score(x, np.full(NQ, s), data), rtol=1e-9, atol=1e-12)


def test_reference_functions_raise_clear_errors():
    x = np.zeros((4, D))
    with pytest.raises(jaxmetrics.ShapeError, match="`cov`"):
        ref.gaussian_score(x, 1.0, np.zeros(D), np.eye(D + 1))
    with pytest.raises(jaxmetrics.ShapeError, match="`sigma`"):
        ref.gaussian_denoiser(x, np.ones(3), np.zeros(D), np.eye(D))
    with pytest.raises(jaxmetrics.ShapeError, match="`x`"):
        ref.empirical_score(np.zeros((4, D + 1)), 1.0, np.zeros((5, D)))
    with pytest.raises(jaxmetrics.ShapeError, match="`chunk_size`"):
        ref.empirical_denoiser(x, 1.0, np.zeros((5, D)), chunk_size=0)
    with pytest.raises(jaxmetrics.ShapeError, match="`covs`"):
        ref.gaussian_mixture_score(x, 1.0, np.zeros((2, D)), np.zeros((3, D, D)))
