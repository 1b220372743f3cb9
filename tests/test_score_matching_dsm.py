"""Denoising score-matching loss and its σ profile (jaxmetrics.score_matching.dsm).

Oracles:

* numpy per-sample formulas of the three weightings (written from the definitions: λ(σ)·‖s + ε/σ‖²
  with s read through ``to_score``, and the EDM λ_EDM·‖D − x0‖² with D read through ``to_denoiser``);
  the same model in the three parameterizations gives the same loss;
* the closed-form DSM minimum on Gaussian data, E‖s*(x) + ε/σ‖² = d/σ² − tr((Σ + σ²I)⁻¹), **exactly**
  by Gauss–Hermite quadrature over (x0, ε) (the integrand is a quadratic polynomial, so a 3-point rule
  per dimension integrates it exactly) passed as sample ``weights``, together with the identity
  E‖s_θ + ε/σ‖² = E‖s_θ − s*‖² + E‖s* + ε/σ‖² for a linear s_θ (both sides analytic), and **by Monte
  Carlo** (20 000 draws per σ, within 4 standard errors);
* a numpy histogram (``numpy.digitize`` on ln σ) for the profile, streamed over batches.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxmetrics
from jaxmetrics.score_matching import dsm, reference, to_denoiser, to_score

D, N = 3, 32


def _data(rng, n=N):
    x0 = rng.normal(size=(n, D))
    eps = rng.normal(size=(n, D))
    sigma = np.exp(rng.uniform(np.log(0.01), np.log(50.0), size=n))
    return x0, eps, sigma


def test_parameterizations_agree_and_match_the_numpy_definitions():
    rng = np.random.default_rng(0)
    x0, eps, sigma = _data(rng)
    x = x0 + sigma[:, None] * eps
    eps_hat = eps + 0.5 * rng.normal(size=(N, D))          # one model, written three ways
    preds = {"epsilon": eps_hat, "x0": x - sigma[:, None] * eps_hat, "score": -eps_hat / sigma[:, None]}
    sd = 0.5
    lam_edm = (sigma ** 2 + sd ** 2) / (sigma * sd) ** 2
    for weighting in dsm.WEIGHTINGS:
        losses = {p: np.asarray(dsm.denoising_score_matching_loss(pred, x0, eps, sigma, parameterization=p,
                                                                   weighting=weighting, reduce=None))
                  for p, pred in preds.items()}
        for p, pred in preds.items():
            s = np.asarray(to_score(pred, x, sigma, p))
            score_err = ((s + eps / sigma[:, None]) ** 2).sum(-1)
            lam = {"none": 1.0, "sigma2": sigma ** 2, "edm": sigma ** 4 * lam_edm}[weighting]
            np.testing.assert_allclose(losses[p], lam * score_err, rtol=1e-7)
            if weighting == "edm":   # the EDM loss on the denoiser, whatever the parameterization
                den = np.asarray(to_denoiser(pred, x, sigma, p))
                np.testing.assert_allclose(losses[p], lam_edm * ((den - x0) ** 2).sum(-1), rtol=1e-7)
            if weighting == "sigma2":  # the ε-prediction MSE
                np.testing.assert_allclose(losses[p], ((eps_hat - eps) ** 2).sum(-1), rtol=1e-7)
        # exact conversions: the native residuals agree to rounding (no x reconstruction)
        for a, b in itertools.combinations(losses, 2):
            np.testing.assert_allclose(losses[a], losses[b], rtol=1e-10)
    # mean over d == sum / d; reduce="mean" is the weighted mean over the unmasked samples
    where = rng.random(N) > 0.3
    w = rng.random(N)
    per = np.asarray(dsm.denoising_score_matching_loss(eps_hat, x0, eps, sigma, reduce=None))
    mean_d = dsm.denoising_score_matching_loss(eps_hat, x0, eps, sigma, feature_reduce="mean", reduce=None)
    np.testing.assert_allclose(mean_d, per / D, rtol=1e-12)
    got = dsm.denoising_score_matching_loss(eps_hat, x0, eps, sigma, where=where, weights=w)
    np.testing.assert_allclose(got, np.sum((w * per)[where]) / np.sum(w[where]), rtol=1e-12)
    masked = dsm.denoising_score_matching_loss(eps_hat, x0, eps, sigma, where=where, reduce=None)
    np.testing.assert_allclose(masked, np.where(where, per, 0.0), rtol=1e-12)
    assert dsm.dsm_loss is dsm.denoising_score_matching_loss
    with pytest.raises(ValueError, match="`weights`"):
        dsm.denoising_score_matching_loss(eps_hat, x0, eps, sigma, weights=w, reduce=None)
    with pytest.raises(jaxmetrics.ShapeError, match="`reduce`"):
        dsm.denoising_score_matching_loss(eps_hat, x0, eps, sigma, reduce="sum")


def _gauss_hermite(mean, cov, sigmas, nodes=3):
    """Exact quadrature of E over x0 ~ N(mean, cov), ε ~ N(0, I): nodes [S, nodes^(2d), d] and weights."""
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    grid = np.array(list(itertools.product(range(nodes), repeat=2 * D)))
    zz, ww = z[grid], np.prod(w[grid], axis=1)
    chol = np.linalg.cholesky(cov)
    x0 = mean + zz[:, :D] @ chol.T
    eps = zz[:, D:]
    S = len(sigmas)
    return np.broadcast_to(x0, (S, *x0.shape)), np.broadcast_to(eps, (S, *eps.shape)), ww


def test_dsm_minimum_on_gaussian_data_is_the_closed_form():
    rng = np.random.default_rng(1)
    mean = rng.normal(size=D)
    a = rng.normal(size=(D, D))
    cov = a @ a.T / D + 0.1 * np.eye(D)
    sigmas = np.array([0.1, 0.7, 3.0])
    C = cov[None] + sigmas[:, None, None] ** 2 * np.eye(D)          # [S, d, d]
    closed = D / sigmas ** 2 - np.trace(np.linalg.inv(C), axis1=1, axis2=2)

    loss = jax.jit(lambda pred, x0, eps, sig, w: dsm.denoising_score_matching_loss(
        pred, x0, eps, sig, parameterization="score", weighting="none", weights=w))
    exact_score = jax.jit(jax.vmap(lambda x, s: reference.gaussian_score(x, s, mean, cov)))

    # exact: Gauss–Hermite over the 2d-dimensional Gaussian (x0, ε) — a batch axis of σ in front
    x0, eps, w = _gauss_hermite(mean, cov, sigmas)
    sig = np.broadcast_to(sigmas[:, None], x0.shape[:2])
    x = x0 + sig[..., None] * eps
    star = loss(exact_score(x, sigmas), x0, eps, sig, w)
    np.testing.assert_allclose(star, closed, rtol=1e-10)
    # a linear score s_θ(x) = −A(x − b): DSM loss − minimum = E‖s_θ − s*‖² = tr(M C Mᵀ) + ‖A(μ − b)‖²
    A = np.linalg.inv(cov + 0.5 * np.eye(D)) + 0.1 * rng.normal(size=(D, D))
    b = mean + rng.normal(size=D)
    s_theta = -np.einsum("ij,snj->sni", A, x - b)
    M = A[None] - np.linalg.inv(C)
    gap = np.einsum("sij,sjk,sik->s", M, C, M) + np.sum((A @ (mean - b)) ** 2)
    np.testing.assert_allclose(loss(s_theta, x0, eps, sig, w) - star, gap, rtol=1e-9)

    # Monte Carlo: 20 000 draws per σ, within 4 standard errors of the closed form
    n = 20_000
    x0 = mean + rng.normal(size=(len(sigmas), n, D)) @ np.linalg.cholesky(cov).T
    eps = rng.normal(size=(len(sigmas), n, D))
    sig = np.broadcast_to(sigmas[:, None], (len(sigmas), n))
    x = x0 + sig[..., None] * eps
    per = np.asarray(dsm.denoising_score_matching_loss(exact_score(x, sigmas), x0, eps, sig,
                                                       parameterization="score", weighting="none", reduce=None))
    se = per.std(1) / np.sqrt(n)
    assert np.all(np.abs(per.mean(1) - closed) < 4 * se), (per.mean(1), closed, se)


def test_gradients_wrt_network_parameters_are_finite():
    rng = np.random.default_rng(2)
    x0, eps, sigma = _data(rng)
    sigma[:4] = [1e-4, 1e-3, 1e3, 1e4]
    params = {"W": rng.normal(size=(D + 1, D)) * 0.3, "b": np.zeros(D)}

    def model(p, x, s):
        h = jnp.concatenate([x / jnp.sqrt(1 + s[:, None] ** 2), jnp.log(s)[:, None]], -1)
        return jnp.tanh(h @ p["W"]) + p["b"]

    for parameterization, weighting in [("epsilon", "sigma2"), ("x0", "edm"), ("score", "none")]:
        def objective(p, parameterization=parameterization, weighting=weighting):
            x = x0 + sigma[:, None] * eps
            return dsm.denoising_score_matching_loss(model(p, x, sigma), x0, eps, sigma, weighting=weighting,
                                                     parameterization=parameterization)

        grads = jax.jit(jax.grad(objective))(params)
        assert all(np.all(np.isfinite(g)) for g in jax.tree.leaves(grads))


def _np_profile(loss, sigma, w, edges, clip):
    k = len(edges) - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        log_sigma = np.where(sigma > 0, np.log(np.abs(sigma)), -np.inf)  # σ <= 0: below the range
    idx = np.digitize(log_sigma, np.log(edges[1:-1]))   # bins [e_j, e_j+1); σ = e_k goes to k (last)
    keep = ~np.isnan(sigma)
    if not clip:
        keep &= (sigma >= 0.05) & (sigma <= 20.0)   # the static σ_min, σ_max: both inclusive
    sums = np.bincount(idx[keep], (w * loss)[keep], minlength=k)
    counts = np.bincount(idx[keep], w[keep], minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts, counts


def test_profile_matches_numpy_histogram_and_streams():
    rng = np.random.default_rng(3)
    n, cfg = 64, dict(num_bins=5, sigma_min=0.05, sigma_max=20.0)
    sigma = np.exp(rng.uniform(np.log(0.005), np.log(200.0), size=n))
    sigma[:6] = [0.05, 20.0, 0.0, -1.0, np.nan, 0.05 * (400.0 ** 0.4)]  # edges, σ <= 0, NaN, an inner edge
    loss = rng.gamma(2.0, size=n)
    where = rng.random(n) > 0.2
    w = rng.random(n) * where
    loss_padded = np.where(where, loss, np.nan)                        # masked samples may hold NaN
    edges = np.exp(np.linspace(np.log(0.05), np.log(20.0), 6))
    for mode in ("clip", "drop"):
        prof = jax.jit(lambda lo, s, m, ww, mode=mode: dsm.dsm_profile(lo, s, out_of_range=mode, where=m, weights=ww,
                                                                      **cfg))
        got = prof(loss_padded, sigma, where, w)
        mean, count = _np_profile(loss, sigma, w, edges, clip=mode == "clip")
        np.testing.assert_allclose(got.bin_edges, edges, rtol=1e-12)
        np.testing.assert_allclose(got.bin_centers, np.sqrt(edges[:-1] * edges[1:]), rtol=1e-12)
        np.testing.assert_allclose(got.count, count, rtol=1e-12)
        np.testing.assert_allclose(got.mean_loss, mean, rtol=1e-12)
    # streaming over batches (one jitted update) and merging == one-shot; an empty bin is NaN
    metric = dsm.dsm_profile_metric(**cfg)
    update = jax.jit(metric.update)
    states = [update(metric.init(), loss[i:i + 16], sigma[i:i + 16], weights=w[i:i + 16]) for i in range(0, n, 16)]
    streamed = metric.compute(jax.tree.map(lambda *s: sum(s), *states))
    one = dsm.dsm_profile(loss, sigma, weights=w, **cfg)
    for a, b in zip(streamed, one):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    single = jax.tree.map(np.asarray, dsm.dsm_profile(loss[:16], np.full(16, 1.0), **cfg))
    assert np.isnan(single.mean_loss[[0, 1, 3, 4]]).all() and single.count[2] == 16
    np.testing.assert_allclose(single.mean_loss[2], loss[:16].mean(), rtol=1e-12)
