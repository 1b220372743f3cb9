"""Closed-form Gaussian / logistic CRPS and the Gaussian log score vs properscoring, scoringrules,
scipy; the analytic value at z = 0; gradients vs properscoring's analytic gradient; degenerate scales."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxmetrics
from jaxmetrics import scoring as js

sr = pytest.importorskip("scoringrules")
ps = pytest.importorskip("properscoring")
stats = pytest.importorskip("scipy.stats")

RTOL = 1e-6


def _data(rng, n=64):
    mu = rng.normal(size=n) * 2
    sigma = 0.05 + rng.exponential(size=n)
    y = mu + sigma * rng.normal(size=n) * 3
    y[:4] = mu[:4]  # z = 0
    return mu, sigma, y


def test_crps_gaussian_matches_properscoring_and_scoringrules():
    mu, sigma, y = _data(np.random.default_rng(0))
    ours = js.crps_gaussian(mu, sigma, y, reduce="none")
    np.testing.assert_allclose(ours, ps.crps_gaussian(y, mu, sigma), rtol=RTOL)
    np.testing.assert_allclose(ours, sr.crps_normal(y, mu, sigma), rtol=RTOL)
    w = np.random.default_rng(1).random(64)
    np.testing.assert_allclose(js.crps_gaussian(mu, sigma, y, weights=w),
                               np.average(ps.crps_gaussian(y, mu, sigma), weights=w), rtol=RTOL)


def test_crps_gaussian_gradient_matches_properscoring_analytic_gradient():
    mu, sigma, y = _data(np.random.default_rng(2))
    _, (dmu, dsig) = ps.crps_gaussian(y, mu, sigma, grad=True)
    gmu, gsig, gy = jax.grad(lambda m, s, o: js.crps_gaussian(m, s, o, reduce="none").sum(), argnums=(0, 1, 2))(
        mu, sigma, y)
    np.testing.assert_allclose(gmu, dmu, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(gsig, dsig, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(gy, -dmu, rtol=RTOL, atol=1e-12)


def test_crps_gaussian_at_z_zero_and_scale_equivariance():
    for s in (0.1, 1.0, 7.5):
        val = float(js.crps_gaussian(np.array([3.0]), np.array([s]), np.array([3.0])))
        assert val == pytest.approx(0.2336950 * s, rel=1e-6)
        assert val == pytest.approx(s * (np.sqrt(2) - 1) / np.sqrt(np.pi), rel=1e-12)


def test_degenerate_and_invalid_scales():
    mu = np.tile([0.0, 0.0, 1.0, 1.0], 3)
    y = np.tile([2.0, 0.0, -1.0, 1.0], 3)
    scale = np.repeat([0.0, 1e-9, -1.0], 4)  # point mass, its limit, invalid
    fns = (js.crps_gaussian, js.crps_logistic, js.log_score_gaussian)

    @jax.jit  # one compiled program for all values and gradients
    def run(m, s, o):
        values = [f(m, s, o, reduce="none") for f in fns]
        grads = [jax.grad(lambda *a, f=f: f(*a, where=np.arange(12) < 8), argnums=(0, 1, 2))(m, s, o) for f in fns]
        return values, grads

    values, grads = run(mu, scale, y)
    for out in values[:2]:
        out = np.asarray(out)
        np.testing.assert_allclose(out[:4], np.abs(y - mu)[:4], rtol=1e-12)
        np.testing.assert_allclose(out[4:8], np.abs(y - mu)[4:8], atol=1e-8)  # the sigma -> 0 limit
        assert np.all(np.isnan(out[8:]))
    ls = np.asarray(values[2])
    assert np.all(np.isnan(ls[:4])) and np.all(np.isnan(ls[8:]))
    assert all(np.all(np.isfinite(g)) for gs in grads for g in gs)


def test_crps_logistic_matches_scoringrules():
    mu, sigma, y = _data(np.random.default_rng(3))
    y[-4:] = mu[-4:] + 60 * sigma[-4:]  # far tails: log_sigmoid keeps them exact
    y[-8:-4] = mu[-8:-4] - 60 * sigma[-8:-4]
    ours = js.crps_logistic(mu, sigma, y, reduce="none")
    np.testing.assert_allclose(ours, sr.crps_logistic(y, mu, sigma), rtol=RTOL)
    assert float(js.crps_logistic(0.0 * mu[:1], np.ones(1), 0.0 * mu[:1])) == pytest.approx(2 * np.log(2) - 1)


def test_log_score_gaussian_matches_scoringrules_and_scipy():
    mu, sigma, y = _data(np.random.default_rng(4))
    ours = js.log_score_gaussian(mu, sigma, y, reduce="none")
    np.testing.assert_allclose(ours, sr.logs_normal(y, mu, sigma), rtol=RTOL)
    np.testing.assert_allclose(ours, -stats.norm.logpdf(y, mu, sigma), rtol=RTOL)
    where = np.arange(64) % 3 != 0
    np.testing.assert_allclose(js.log_score_gaussian(mu, sigma, y, where=where),
                               -stats.norm.logpdf(y, mu, sigma)[where].mean(), rtol=RTOL)


def test_broadcast_parameters_streaming_and_errors():
    mu, sigma, y = _data(np.random.default_rng(5))
    full = js.crps_gaussian(mu, np.full(64, 0.7), y)
    np.testing.assert_allclose(js.crps_gaussian(mu, 0.7, y), full, rtol=1e-12)  # scalar std broadcasts
    m = js.crps_gaussian_metric()
    update = jax.jit(m.update)
    state = update(update(m.init(), mu[:32], sigma[:32], y[:32]), mu[32:], sigma[32:], y[32:])
    np.testing.assert_allclose(m.compute(state), js.crps_gaussian(mu, sigma, y), rtol=1e-12)
    with pytest.raises(jaxmetrics.ShapeError, match="`std`"):
        js.crps_gaussian(mu, sigma[:-1], y)
    with pytest.raises(jaxmetrics.ShapeError, match="`loc`"):
        js.crps_logistic(np.ones((2, 64)), sigma, y)
    with pytest.raises(jaxmetrics.ShapeError, match="`obs`"):
        js.log_score_gaussian(mu, sigma, np.float64(1.0))
    bf16 = [jnp.asarray(a, jnp.bfloat16) for a in (mu, sigma, y)]
    out = js.crps_gaussian(*bf16)
    assert out.dtype == jnp.float32
