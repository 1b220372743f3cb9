"""The information-estimation metric (jaxmetrics.score_matching.information).

Analytic oracle (METRICS.md §10.3): for a Gaussian prior N(μ, Σ) with its exact denoiser
D = μ + Σ(Σ + σ²I)⁻¹(x − μ), IEM² is the squared Mahalanobis distance (x₁ − x₂)ᵀΣ⁻¹(x₁ − x₂), for any
noise draw. METRICS.md quotes "2.431159 vs Mahalanobis² 2.431159" without its inputs, so the
Mahalanobis values here are computed independently (numpy on random Gaussians; scipy's
``mahalanobis`` on the Gaussian fitted to scikit-learn's iris).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.tree_util import Partial

from jaxmetrics.score_matching import information_estimation_metric, log_gamma_quadrature

D = 3


def _gaussian_denoiser(mu, cov, x, sigma):
    """Closed form in the eigenbasis of Σ: D = μ + U diag(λ/(λ + σ²)) Uᵀ(x − μ)."""
    lam, u = jnp.linalg.eigh(cov)
    shrink = lam / (lam + sigma[..., None] ** 2)
    return mu + jnp.einsum("ij,...j->...i", u, shrink * jnp.einsum("ji,...j->...i", u, x - mu))


def _gaussian_score(mu, cov, x, sigma):
    return (_gaussian_denoiser(mu, cov, x, sigma) - x) / sigma[..., None] ** 2


def test_iem_equals_mahalanobis_for_gaussian_priors():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(D, D))
    cov = a @ a.T / D + 0.2 * np.eye(D)
    mu = rng.normal(size=D)
    x1, x2 = rng.normal(size=(8, D)) * 2, rng.normal(size=(8, D))
    x2[0] = x1[0]  # a pair at distance 0
    delta = x1 - x2
    maha2 = np.einsum("ni,ij,nj->n", delta, np.linalg.inv(cov), delta)
    key = jax.random.key(0)
    den = Partial(_gaussian_denoiser, jnp.asarray(mu), jnp.asarray(cov))

    @jax.jit
    def iem(x1, x2):
        return (information_estimation_metric(x1, x2, den, key=key, num_noise=2, squared=True),
                information_estimation_metric(x1, x2, den, key=key, num_noise=2),
                information_estimation_metric(x1, x2, Partial(_gaussian_score, jnp.asarray(mu), jnp.asarray(cov)),
                                              key=key, num_noise=2, squared=True, parameterization="score",
                                              chunk_size=10))

    sq, dist, from_score = iem(x1, x2)
    np.testing.assert_allclose(sq[1:], maha2[1:], rtol=1e-6)
    assert abs(float(sq[0])) < 1e-12
    np.testing.assert_allclose(dist, np.sqrt(maha2), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(from_score, sq, rtol=1e-9, atol=1e-12)  # a score model, chunked grid

    # differentiable through the inputs: d IEM² / d x1 = 2 Σ⁻¹ (x1 − x2); zero (finite) at x1 = x2 for IEM
    g_sq = jax.jit(jax.grad(lambda u: jnp.sum(iem(u, x2)[0])))(x1)
    np.testing.assert_allclose(g_sq, 2 * delta @ np.linalg.inv(cov), rtol=1e-5, atol=1e-8)
    g_dist = jax.jit(jax.grad(lambda u: jnp.sum(iem(u, x2)[1])))(x1)
    assert np.all(np.isfinite(g_dist)) and np.allclose(g_dist[0], 0.0)

    # the quadrature rule integrates the Gaussian integrand 1/(1 + γλ)² to 1/λ with the documented relative
    # error ≈ (γ_min λ)² + (γ_max λ)⁻² (below 1e-6 for λ in [2.3e-3, 8] on the default grid)
    sigma_grid, weight = log_gamma_quadrature()
    gamma = sigma_grid ** -2.0
    for lam in [2.5e-3, 1e-2, 1.0, 8.0, 1e2]:
        bound = (gamma[0] * lam) ** 2 + (gamma[-1] * lam) ** -2
        rel = abs(np.sum(weight / (1 + gamma * lam) ** 2) * lam - 1)
        assert rel < 1.5 * bound + 1e-9 and (rel < 1e-6 or lam > 8), (lam, rel, bound)


def test_iem_on_iris_with_the_fitted_gaussian_denoiser_matches_scipy_mahalanobis():
    """Real data: pairs of iris flowers; scipy.spatial.distance.mahalanobis with the fitted covariance."""
    from scipy.spatial.distance import mahalanobis
    from sklearn.datasets import load_iris

    data = load_iris().data
    mu, cov = data.mean(0), np.cov(data.T)
    rng = np.random.default_rng(1)
    i, j = rng.integers(0, len(data), size=(2, 16))
    den = Partial(_gaussian_denoiser, jnp.asarray(mu), jnp.asarray(cov))
    iem = jax.jit(lambda a, b: information_estimation_metric(a, b, den, key=jax.random.key(1), num_noise=1))
    # iris is unscaled (cm) and its covariance eigenvalues span ~0.02..4.2: the default grid suffices
    expected = [mahalanobis(data[p], data[q], np.linalg.inv(cov)) for p, q in zip(i, j)]
    np.testing.assert_allclose(iem(data[i], data[j]), expected, rtol=1e-6, atol=1e-9)


def test_iem_noise_convention_vmap_over_keys_and_network_gradients():
    """A non-Gaussian denoiser (a tiny network): the result depends on the noise draws, which are shared
    by all pairs (a pair's value does not depend on the batch) — vmap over keys == loop over keys, a
    leading axis == vmap with one key; gradients with respect to the network parameters are finite and
    match finite differences; a plain closure (eager path) gives the same number as the Partial."""
    rng = np.random.default_rng(2)
    theta = jnp.asarray(rng.normal(size=16) * 0.5)

    def net(th, x, sigma):
        w1, w2 = th[:6].reshape(D, 2), th[6:12].reshape(2, D)
        s = sigma[..., None]
        return x / (1 + s ** 2) + s / jnp.sqrt(1 + s ** 2) * jnp.tanh(x @ w1 + th[12:14]) @ w2

    x1, x2 = rng.normal(size=(2, 4, D)), rng.normal(size=(2, 4, D))
    iem = jax.jit(lambda th, a, b, k: information_estimation_metric(a, b, Partial(net, th), key=k, num_noise=2,
                                                                    num_gammas=16))
    keys = jax.random.split(jax.random.key(0), 3)
    batched = jax.vmap(iem, (None, None, None, 0))(theta, x1, x2, keys)
    for n in range(3):
        np.testing.assert_allclose(batched[n], iem(theta, x1, x2, keys[n]), rtol=1e-12)
    assert not np.allclose(batched[0], batched[1])  # the noise matters for a non-Gaussian denoiser
    leading = iem(theta, x1, x2, keys[0])  # [2, 4]
    np.testing.assert_allclose(jax.vmap(iem, (None, 0, 0, None))(theta, x1, x2, keys[0]), leading, rtol=1e-12)
    np.testing.assert_allclose(iem(theta, x1[0, :1], x2[0, :1], keys[0]), leading[0, :1], rtol=1e-12)
    eager = information_estimation_metric(x1[0], x2[0], lambda x, s: net(theta, x, s), key=keys[0], num_noise=2,
                                          num_gammas=16)
    # the noise is drawn in float32 and cast; compiled, XLA may keep excess precision in the cast
    # (xla_allow_excess_precision), so eager and compiled draws agree to float32 rounding only
    np.testing.assert_allclose(eager, leading[0], rtol=1e-6)

    def objective(th):
        return jnp.sum(iem(th, x1, x2, keys[0]))

    g = jax.jit(jax.grad(objective))(theta)
    assert np.all(np.isfinite(g))
    direction = rng.normal(size=16)
    eps = 1e-6
    fd = (objective(theta + eps * direction) - objective(theta - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(np.dot(g, direction), fd, rtol=1e-6)
