"""Real use: a tiny score network trained by denoising score matching on real data (scikit-learn's
bundled iris measurements, standardised and projected to 2-D by PCA), with optax's adam.

* The network is a plain-jax MLP (2 tanh layers of 64) predicting ε̂ from (c_in(σ)·x, ln σ) with
  c_in = 1/√(σ² + 1); it is trained on the ε-MSE (``weighting="sigma2"``) with σ log-uniform in
  [0.02, 10], 600 full-batch adam steps (a jitted 20-step ``lax.scan`` called 30 times).
* ``dsm_profile`` of a fixed evaluation set (the data with 8 fixed noise draws each, 1200 samples, the
  same σ draws and noise for every checkpoint) is streamed over 4 batches with
  ``dsm_profile_metric`` at an early checkpoint (step 20) and at the end. Asserted: the
  late profile is strictly lower than the early one in at least 5 of the 6 log-σ bins, and the
  count-weighted mean over the bins (the overall loss) is lower.
* The trained model's FVU against the empirical (training-set) denoiser is reported at σ = 0.5 and must
  be below 1: FVU = E‖D_θ − D_emp‖² / E‖D_θ − E D_θ‖² (denoiser space, the model's own variance in the
  denominator — the ``score_fvu`` convention), computed with a numpy formula and, when available, with
  :func:`jaxmetrics.score_matching.score_fvu` (must agree to 1e-9).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxmetrics import score_matching as sm
from jaxmetrics.score_matching import dsm, reference

optax = pytest.importorskip("optax")
datasets = pytest.importorskip("sklearn.datasets")

SIGMA_MIN, SIGMA_MAX, NUM_BINS = 0.02, 10.0, 6


def _iris_2d():
    x = datasets.load_iris().data
    x = (x - x.mean(0)) / x.std(0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    z = x @ vt[:2].T
    return z / z.std(0)


def _init(key, sizes=(3, 64, 64, 2)):
    params = []
    for k, (m, n) in zip(jax.random.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:])):
        params.append((jax.random.normal(k, (m, n)) / np.sqrt(m), jnp.zeros(n)))
    return params


def _eps_hat(params, x, sigma):
    h = jnp.concatenate([x / jnp.sqrt(sigma[..., None] ** 2 + 1), jnp.log(sigma)[..., None] / 4], -1)
    for W, b in params[:-1]:
        h = jnp.tanh(h @ W + b)
    W, b = params[-1]
    return h @ W + b


def _draw(key, x0):
    k1, k2 = jax.random.split(key)
    log_sigma = jax.random.uniform(k1, x0.shape[:-1], minval=np.log(SIGMA_MIN), maxval=np.log(SIGMA_MAX))
    return jax.random.normal(k2, x0.shape), jnp.exp(log_sigma)


def _objective(params, x0, eps, sigma):
    pred = _eps_hat(params, x0 + sigma[..., None] * eps, sigma)
    return dsm.denoising_score_matching_loss(pred, x0, eps, sigma, parameterization="epsilon", weighting="sigma2")


def test_dsm_training_lowers_the_profile_and_fits_the_empirical_score():
    data = jnp.asarray(_iris_2d())
    opt = optax.adam(3e-3)

    @jax.jit
    def train(params, opt_state, key, num_steps):
        def step(carry, k):
            params, opt_state = carry
            eps, sigma = _draw(k, data)
            loss, grads = jax.value_and_grad(_objective)(params, data, eps, sigma)
            updates, opt_state = opt.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), loss

        keys = jax.random.split(key, num_steps.shape[0])
        return jax.lax.scan(step, (params, opt_state), keys)

    # a fixed evaluation set: every point with 8 noise draws, streamed in 4 batches of 300
    x_eval = jnp.tile(data, (8, 1))
    eps_eval, sigma_eval = _draw(jax.random.key(1), x_eval)
    metric = dsm.dsm_profile_metric(num_bins=NUM_BINS, sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX)

    @jax.jit
    def profile(params):
        state = metric.init()
        for i in range(0, x_eval.shape[0], 300):
            sl = slice(i, i + 300)
            pred = _eps_hat(params, x_eval[sl] + sigma_eval[sl, None] * eps_eval[sl], sigma_eval[sl])
            loss = dsm.denoising_score_matching_loss(pred, x_eval[sl], eps_eval[sl], sigma_eval[sl], reduce=None)
            state = metric.update(state, loss, sigma_eval[sl])
        return metric.compute(state)

    params = _init(jax.random.key(0))
    opt_state = opt.init(params)
    chunk = jnp.zeros(20)  # one compiled 20-step scan, called 30 times
    for i in range(30):
        (params, opt_state), losses = train(params, opt_state, jax.random.key(10 + i), chunk)
        if i == 0:
            early = jax.tree.map(np.asarray, profile(params))
    late = jax.tree.map(np.asarray, profile(params))

    np.testing.assert_array_equal(early.count, late.count)      # the same evaluation samples in each bin
    assert early.count.min() > 0
    lower = late.mean_loss < early.mean_loss
    print("DSM profile (ε-MSE per log-σ bin)\n  centres", early.bin_centers.round(3),
          "\n  step 20", early.mean_loss.round(4), "\n  step 600", late.mean_loss.round(4))
    assert lower.sum() >= NUM_BINS - 1, (early.mean_loss, late.mean_loss)
    overall = lambda p: np.sum(p.count * p.mean_loss) / np.sum(p.count)  # noqa: E731
    assert overall(late) < overall(early)
    assert np.all(np.isfinite(np.asarray(losses)))

    # FVU of the trained denoiser against the empirical (training-set) denoiser at a moderate σ
    sigma = 0.5
    x = np.asarray(x_eval + sigma * eps_eval)
    sig = jnp.full(x.shape[0], sigma)
    model_den = np.asarray(sm.to_denoiser(_eps_hat(params, jnp.asarray(x), sig), x, sig, "epsilon"))
    emp_den = np.asarray(reference.empirical_denoiser(x, sigma, data, chunk_size=64))
    fvu = np.mean(((model_den - emp_den) ** 2).sum(-1)) / np.mean(((model_den - model_den.mean(0)) ** 2).sum(-1))
    print(f"FVU of the trained denoiser vs the empirical denoiser at sigma = {sigma}: {fvu:.4f}")
    assert 0 < fvu < 1
    if hasattr(sm, "score_fvu"):
        emp_score = reference.empirical_score(x, sigma, data, chunk_size=64)
        lib = sm.score_fvu(_eps_hat(params, jnp.asarray(x), sig), emp_score, x, sig, parameterization="epsilon",
                           reference_parameterization="score")
        np.testing.assert_allclose(lib, fvu, rtol=1e-9)
