"""Pinball loss, interval score, WIS, coverage and interval width: scoringrules oracles, the exact
WIS–pinball identity, sorting crossing quantiles never increases WIS, level validation."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import jaxmetrics
from jaxmetrics import scoring as js

sr = pytest.importorskip("scoringrules")

RTOL = 1e-6
LEVELS = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)  # K = 3 central intervals + the median


def _quantiles(rng, n=50, levels=LEVELS, crossing=False):
    q = rng.normal(size=(n, len(levels)))
    q = q if crossing else np.sort(q, -1)
    q = q + rng.normal(size=(n, 1))
    y = rng.normal(size=n)
    y[:3] = q[:3, 2]  # observations on a quantile
    return q, y


def _wis_scoringrules(q, y, levels):
    """(1/(K+½))[½|y − m| + Σ_k (α_k/2)·scoringrules.interval_score] with the canonical weights."""
    k = (len(levels) - 1) // 2
    lo, up = q[:, :k], q[:, ::-1][:, :k]
    alphas = 2 * np.asarray(levels[:k])
    is_k = sr.interval_score(y, lo, up, alphas)
    return (0.5 * np.abs(y - q[:, k]) + (is_k * alphas / 2).sum(-1)) / (k + 0.5)


def test_pinball_loss_matches_scoringrules_quantile_score():
    q, y = _quantiles(np.random.default_rng(0))
    ref = np.mean([sr.quantile_score(y, q[:, i], t) for i, t in enumerate(LEVELS)], axis=0)
    np.testing.assert_allclose(js.pinball_loss(q, y, levels=LEVELS, reduce="none"), ref, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(js.pinball_loss(q[:, 3:4], y, levels=(0.5,), reduce="none"), np.abs(q[:, 3] - y) / 2,
                               rtol=1e-12)


def test_interval_score_matches_scoringrules():
    rng = np.random.default_rng(1)
    lo = rng.normal(size=60)
    up = lo + rng.exponential(size=60)
    y = rng.normal(size=60) * 2
    y[:2] = lo[:2]
    y[2:4] = up[2:4]
    for alpha in (0.05, 0.2, 0.5):
        ours = js.interval_score(lo, up, y, alpha=alpha, reduce="none")
        np.testing.assert_allclose(ours, sr.interval_score(y, lo, up, alpha), rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("crossing", [False, True])
def test_wis_matches_scoringrules_and_equals_twice_the_mean_pinball(crossing):
    q, y = _quantiles(np.random.default_rng(2), crossing=crossing)
    wis = js.weighted_interval_score(q, y, levels=LEVELS, reduce="none")
    np.testing.assert_allclose(wis, _wis_scoringrules(q, y, LEVELS), rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(wis, 2 * js.pinball_loss(q, y, levels=LEVELS, reduce="none"), rtol=1e-12, atol=1e-14)
    # the exact scaling: WIS = (1/(K+½)) Σ_τ ρ_τ = ((2K+1)/(K+½)) · mean_τ ρ_τ = 2 · pinball_loss
    assert js.wis is js.weighted_interval_score


def test_scoringrules_numpy_wis_differs_only_by_its_median_term():
    """scoringrules 0.10's numpy backend adds w₀·m instead of w₀·|y − m| (its numba gufunc is right)."""
    q, y = _quantiles(np.random.default_rng(3), n=10)
    k = 3
    alphas = 2 * np.asarray(LEVELS[:k])
    theirs = sr.weighted_interval_score(y, q[:, k], q[:, :k], q[:, ::-1][:, :k], alphas, backend="numpy")
    corrected = theirs + 0.5 * (np.abs(y - q[:, k]) - q[:, k]) / (k + 0.5)
    np.testing.assert_allclose(js.wis(q, y, levels=LEVELS, reduce="none"), corrected, rtol=RTOL, atol=1e-12)


def test_wis_levels_in_any_order():
    q, y = _quantiles(np.random.default_rng(4))
    perm = np.random.default_rng(5).permutation(len(LEVELS))
    np.testing.assert_allclose(js.wis(q[:, perm], y, levels=tuple(np.asarray(LEVELS)[perm])),
                               js.wis(q, y, levels=LEVELS), rtol=1e-12)


def test_sorting_crossing_quantiles_never_increases_wis():
    rng = np.random.default_rng(6)
    q = rng.normal(size=(4000, len(LEVELS))) * rng.exponential(size=(4000, 1))
    y = rng.normal(size=4000) * 1.5
    raw = np.asarray(js.wis(q, y, levels=LEVELS, reduce="none"))
    sorted_ = np.asarray(js.wis(np.sort(q, -1), y, levels=LEVELS, reduce="none"))
    assert np.all(sorted_ <= raw + 1e-12)
    assert np.mean(sorted_ < raw - 1e-9) > 0.5  # and usually strictly decreases it


def test_wis_level_validation():
    q, y = _quantiles(np.random.default_rng(7))
    for bad in [(0.1, 0.5, 0.8), (0.1, 0.9), (0.1, 0.25, 0.75, 0.9), (0.0, 0.5, 1.0), (0.5, 0.5, 0.5)]:
        with pytest.raises(jaxmetrics.ShapeError, match="`levels`"):
            js.wis(q[:, : len(bad)], y, levels=bad)
    with pytest.raises(jaxmetrics.ShapeError, match="`quantiles`"):
        js.wis(q, y, levels=(0.25, 0.5, 0.75))
    with pytest.raises(jaxmetrics.ShapeError, match="`quantiles`"):
        js.pinball_loss(q[:-1], y, levels=LEVELS)
    with pytest.raises(jaxmetrics.ShapeError, match="`alpha`"):
        js.interval_score(y, y, y, alpha=1.0)
    assert float(js.wis(q[:, 3:4], y, levels=(0.5,))) == pytest.approx(np.abs(q[:, 3] - y).mean())


def test_coverage_and_width_vs_numpy():
    rng = np.random.default_rng(8)
    lo = np.round(rng.normal(size=80), 1)
    up = lo + np.round(rng.exponential(size=80), 1)
    y = np.round(rng.normal(size=80), 1)
    y[:5] = lo[:5]  # closed interval: on the bound counts as covered
    y[5:10] = up[5:10]
    w = rng.random(80)
    inside = (lo <= y) & (y <= up)
    assert float(js.coverage(lo, up, y)) == pytest.approx(inside.mean(), rel=1e-12)
    assert float(js.coverage(lo, up, y, weights=w)) == pytest.approx(np.average(inside, weights=w), rel=1e-12)
    np.testing.assert_array_equal(js.coverage(lo, up, y, reduce="none"), inside.astype(float))
    assert float(js.interval_width(lo, up, weights=w)) == pytest.approx(np.average(up - lo, weights=w), rel=1e-12)
    g = jax.grad(lambda a, b, c: js.coverage(a, b, c), argnums=(0, 1, 2))(lo, up, y)
    assert all(np.all(np.asarray(v) == 0) for v in g)
    with pytest.raises(jaxmetrics.ShapeError, match="`upper`"):
        js.interval_width(lo, up[:-1])


def test_streaming_equals_one_shot():
    q, y = _quantiles(np.random.default_rng(9))
    where = np.arange(50) % 4 != 0
    for fn, metric in [(js.pinball_loss, js.pinball_loss_metric), (js.wis, js.wis_metric)]:
        m = metric(levels=LEVELS)
        s = m.init()
        update = jax.jit(m.update)
        for lo, hi in [(0, 25), (25, 50)]:
            s = update(s, q[lo:hi], y[lo:hi], where=where[lo:hi])
        np.testing.assert_allclose(m.compute(s), fn(q, y, levels=LEVELS, where=where), rtol=1e-12)
