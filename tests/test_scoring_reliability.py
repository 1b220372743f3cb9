"""PIT values, rank histograms and the spread–skill ratio vs numpy references; tie conventions;
streaming; calibrated-ensemble sanity checks."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxmetrics
from jaxmetrics import scoring as js


def _ensemble(rng, n=60, m=6, ties=True):
    x = rng.normal(size=(n, m))
    y = rng.normal(size=n)
    if ties:
        x, y = np.round(x, 0), np.round(y, 0)
    return x, y


def _below_tied(x, y):
    return (x < y[:, None]).sum(-1), (x == y[:, None]).sum(-1)


def test_pit_mid_rank_vs_numpy_and_masking():
    x, y = _ensemble(np.random.default_rng(0))
    b, t = _below_tied(x, y)
    assert t.sum() > 10  # the data do have ties
    np.testing.assert_allclose(js.pit(x, y), (b + t / 2) / 6, rtol=1e-12)
    where = np.arange(60) % 5 != 0
    out = np.asarray(js.pit(x, y, where=where))
    assert np.all(np.isnan(out[~where])) and np.allclose(out[where], ((b + t / 2) / 6)[where])
    g = jax.grad(lambda a: jnp.nansum(js.pit(a, y)))(x)
    assert np.all(np.asarray(g) == 0)


def test_randomized_pit_stays_in_the_tie_interval_and_averages_to_the_mid_rank():
    x, y = _ensemble(np.random.default_rng(1))
    b, t = _below_tied(x, y)
    keys = jax.random.split(jax.random.key(0), 400)
    draws = np.asarray(jax.vmap(lambda k: js.pit(x, y, randomize_ties=True, key=k))(keys))
    assert np.all(draws >= b / 6 - 1e-12) and np.all(draws <= (b + t) / 6 + 1e-12)
    np.testing.assert_allclose(draws[:, t == 0], np.broadcast_to(b[t == 0] / 6, (400, (t == 0).sum())))
    np.testing.assert_allclose(draws.mean(0), (b + t / 2) / 6, atol=0.05)
    with pytest.raises(ValueError, match="`key`"):
        js.pit(x, y, randomize_ties=True)


def test_rank_histogram_vs_bincount_and_tie_splitting():
    rng = np.random.default_rng(2)
    x, y = _ensemble(rng, ties=False)
    w = rng.random(60)
    b, _ = _below_tied(x, y)
    np.testing.assert_allclose(js.rank_histogram(x, y, weights=w), np.bincount(b, weights=w, minlength=7), rtol=1e-12)
    x, y = _ensemble(rng)
    b, t = _below_tied(x, y)
    ref = np.zeros(7)
    for bi, ti, wi in zip(b, t, w):
        ref[bi:bi + ti + 1] += wi / (ti + 1)
    np.testing.assert_allclose(js.rank_histogram(x, y, weights=w), ref, rtol=1e-12)
    np.testing.assert_allclose(js.rank_histogram(x, y, weights=w, normalize=True), ref / ref.sum(), rtol=1e-12)
    # the randomised histogram puts each observation in one bin of its tie range
    rnd = np.asarray(js.rank_histogram(x, y, randomize_ties=True, key=jax.random.key(1)))
    assert rnd.sum() == pytest.approx(60) and np.all(rnd == np.round(rnd))
    with pytest.raises(jaxmetrics.ShapeError, match="`forecasts`"):
        js.rank_histogram(x, y, num_members=5)


def test_rank_histogram_streaming_equals_one_shot_and_is_flat_when_calibrated():
    rng = np.random.default_rng(3)
    x, y = _ensemble(rng, n=4000, m=9, ties=False)  # members and obs exchangeable
    m = js.rank_histogram_metric(num_members=9)
    update = jax.jit(m.update)
    states = [update(m.init(), x[lo:hi], y[lo:hi]) for lo, hi in [(0, 1000), (1000, 2000), (2000, 4000)]]
    merged = functools.reduce(m.merge, states)
    np.testing.assert_allclose(m.compute(merged), js.rank_histogram(x, y, num_members=9), rtol=1e-12)
    freq = np.asarray(m.compute(merged)) / 4000
    assert np.all(np.abs(freq - 0.1) < 0.025)
    # under-dispersed ensemble: U-shaped
    hist = np.asarray(js.rank_histogram(0.3 * x, y, normalize=True))
    assert hist[0] > 0.2 and hist[-1] > 0.2 and hist[4] < 0.05


def test_spread_skill_ratio_vs_numpy_and_calibration():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(50, 5)) * 2 + 1
    y = rng.normal(size=50)
    w = rng.random(50)
    var = x.var(-1, ddof=1)
    err2 = (x.mean(-1) - y) ** 2
    ref = np.sqrt(np.sum(w * var) / np.sum(w * err2))
    assert float(js.spread_skill_ratio(x, y, weights=w)) == pytest.approx(ref, rel=1e-12)
    assert float(js.spread_skill_ratio(x, y, weights=w, finite_ensemble_correction=True)) == pytest.approx(
        ref * np.sqrt(6 / 5), rel=1e-12)
    # exchangeable members and observation: uncorrected → sqrt(M/(M+1)), corrected → 1
    n, m = 20000, 4
    center = rng.normal(size=(n, 1)) * 3
    x = center + rng.normal(size=(n, m))
    y = center[:, 0] + rng.normal(size=n)
    assert float(js.spread_skill_ratio(x, y)) == pytest.approx(np.sqrt(m / (m + 1)), abs=0.02)
    assert float(js.spread_skill_ratio(x, y, finite_ensemble_correction=True)) == pytest.approx(1.0, abs=0.02)


def test_spread_skill_ratio_edge_cases_and_streaming():
    x = np.array([[1.0, 3.0], [0.0, 2.0]])
    y = np.array([2.0, 1.0])  # the ensemble mean is exact
    assert float(js.spread_skill_ratio(x, y)) == np.inf
    assert np.isnan(js.spread_skill_ratio(np.ones((2, 2)), np.ones(2)))
    assert np.isnan(js.spread_skill_ratio(x, y, where=np.zeros(2, bool)))
    g = jax.grad(lambda a, b: js.spread_skill_ratio(a, b), argnums=(0, 1))(np.ones((2, 2)), np.ones(2))
    assert all(np.all(np.isfinite(v)) for v in g)
    with pytest.raises(jaxmetrics.ShapeError, match="M >= 2"):
        js.spread_skill_ratio(x[:, :1], y)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 40, 6))
    y = rng.normal(size=(3, 40))
    metric = js.spread_skill_ratio_metric(finite_ensemble_correction=True)
    s = metric.init(batch_shape=(3,))
    update = jax.jit(metric.update)
    s = update(update(s, x[:, :20], y[:, :20]), x[:, 20:], y[:, 20:])
    np.testing.assert_allclose(metric.compute(s), js.spread_skill_ratio(x, y, finite_ensemble_correction=True),
                               rtol=1e-12)
