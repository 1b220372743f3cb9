"""Optimal transport and energy distance against their oracles: scipy (``wasserstein_distance``,
``energy_distance``, ``cdist``), POT (``wasserstein_1d``, ``sliced_wasserstein_distance`` with the same
projections, the ``sinkhorn_log`` plan, ``emd2``), the closed forms of METRICS.md §9.4, masks, weights,
chunking, the envelope gradient against POT's plan, and real data (scikit-learn digits).

Compile budget: the tests call the public functions eagerly (their jitted cores are shared across
tests and with the contract suite), with the contract cases' sizes (x [32, 3], y [24, 3]; u [32],
v [24]), always passing both ``where`` and weight arrays, and mostly the contract's static
configurations, so few new programs are compiled.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as st
from scipy.spatial.distance import cdist

import jaxmetrics
from jaxmetrics.distances import transport as tr

ot = pytest.importorskip("ot")

N, M, D = 32, 24, 3
RTOL = 1e-6


def _close(actual, expected, rtol=RTOL, atol=1e-12):
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected, rtol=rtol, atol=atol)


def _sets(rng, ties=True):
    x = rng.normal(size=(N, D))
    y = 0.8 * rng.normal(size=(M, D)) + np.array([0.6, -0.4, 0.2])
    if ties:
        x[1] = x[0]
        y[2] = x[3]
    return x, y


def _masks(rng):
    wx, wy = rng.random(N) + 0.05, rng.random(M) + 0.05
    mx, my = rng.random(N) > 0.3, rng.random(M) > 0.3
    mx[0] = my[0] = True
    return wx, wy, mx, my


def _all(n):
    return np.ones(n, bool)


# ------------------------------------------------------------------------------------------------
# references (numpy / scipy / POT)


def _energy_ref(x, y, wx, wy, unbiased=False):
    """2E‖X−Y‖ − E‖X−X′‖ − E‖Y−Y′‖; unbiased: integer frequency weights expanded into repeated rows."""
    if unbiased:
        x, y = np.repeat(x, wx.astype(int), axis=0), np.repeat(y, wy.astype(int), axis=0)
        n, m = len(x), len(y)
        return 2 * cdist(x, y).mean() - cdist(x, x).sum() / (n * (n - 1)) - cdist(y, y).sum() / (m * (m - 1))
    a, b = wx / wx.sum(), wy / wy.sum()
    return 2 * a @ cdist(x, y) @ b - a @ cdist(x, x) @ a - b @ cdist(y, y) @ b


def _pot_plan(x, y, a, b, eps, metric):
    a, b = a / a.sum(), b / b.sum()
    cost = ot.dist(x, y, metric=metric)
    plan = ot.bregman.sinkhorn_log(a, b, cost, eps, numItermax=2000, stopThr=1e-12, warn=False)
    return plan, cost, a, b


def _entropic_ref(x, y, a, b, eps, metric="sqeuclidean"):
    """⟨P, C⟩ + ε KL(P ‖ a⊗b) on POT's converged log-domain Sinkhorn plan."""
    plan, cost, a, b = _pot_plan(x, y, a, b, eps, metric)
    ab = np.outer(a, b)
    pos = plan > 0
    kl = np.sum(plan[pos] * np.log(plan[pos] / ab[pos])) - plan.sum() + ab.sum()
    return np.sum(plan * cost) + eps * kl


def _divergence_ref(x, y, a, b, eps, metric="sqeuclidean"):
    return (_entropic_ref(x, y, a, b, eps, metric) - 0.5 * _entropic_ref(x, x, a, a, eps, metric)
            - 0.5 * _entropic_ref(y, y, b, b, eps, metric))


# ------------------------------------------------------------------------------------------------
# exact 1-D Wasserstein


def _xy_kw(wx=None, wy=None, mx=None, my=None):
    """Per-set weights and masks, always passed (one call signature, as in the contract cases)."""
    return dict(weights_x=np.ones(N) if wx is None else wx, weights_y=np.ones(M) if wy is None else wy,
                where_x=_all(N) if mx is None else mx, where_y=_all(M) if my is None else my)


def _uv_kw(wu=None, wv=None, mu=None, mv=None):
    return _xy_kw(wu, wv, mu, mv)


def test_wasserstein_1d_matches_scipy_and_pot_with_ties_weights_and_masks():
    rng = np.random.default_rng(0)
    w1 = tr.wasserstein_1d
    w2 = lambda u, v, **k: tr.wasserstein_1d(u, v, p=2, **k)  # noqa: E731
    for trial in range(3):
        u, v = rng.normal(size=N), rng.normal(size=M) + 0.3
        if trial == 1:  # heavy ties within and across the two samples
            u, v = np.round(u), np.round(v)
        wu, wv, mu, mv = _masks(rng)
        kw = _uv_kw(wu, wv, mu, mv)
        uu, vv, a, b = u[mu], v[mv], wu[mu], wv[mv]
        _close(w1(u, v, **kw), st.wasserstein_distance(uu, vv, a, b))
        _close(w2(u, v, **kw), np.sqrt(ot.wasserstein_1d(uu, vv, a / a.sum(), b / b.sum(), p=2)))
        _close(w1(u, v, **_uv_kw(mu=mu, mv=mv)), st.wasserstein_distance(uu, vv))  # unit weights
    # analytic: a shift c moves every quantile by c, so W_p = |c| for every p (v = the first M of u + c,
    # the rest of u masked out, holding NaN padding)
    u = rng.normal(size=N)
    pad = np.arange(N) < M
    u_pad = np.where(pad, u, np.nan)
    for c in (-1.25, 0.4):
        _close(w1(u_pad, u[:M] + c, **_uv_kw(mu=pad)), abs(c))
        _close(w2(u_pad, u[:M] + c, **_uv_kw(mu=pad)), abs(c))
    # equal sizes and weights: (1/n Σ|u_(i) − v_(i)|^p)^(1/p) over the sorted samples
    v = rng.normal(size=M) * 2.0
    _close(w2(u, v, **_uv_kw(mu=pad)), np.sqrt(np.mean((np.sort(u[:M]) - np.sort(v)) ** 2)))
    # the empty set: NaN
    assert np.isnan(w1(u, v, **_uv_kw(mu=~_all(N))))


# ------------------------------------------------------------------------------------------------
# energy distance


def test_energy_distance_matches_scipy_in_1d_and_cdist_in_3d():
    rng = np.random.default_rng(1)
    ed = tr.energy_distance
    ed_u = lambda x, y, **k: tr.energy_distance(x, y, squared=True, estimator="unbiased", chunk_size=5, **k)  # noqa
    for _ in range(2):
        x, y = _sets(rng)
        wx, wy, mx, my = _masks(rng)
        kw = _xy_kw(wx, wy, mx, my)
        # 1-D: scipy's definition (the square root), weighted
        x1, y1 = x[:, :1], y[:, :1]
        _close(ed(x1, y1, **kw), st.energy_distance(x1[mx, 0], y1[my, 0], wx[mx], wy[my]))
        # d = 3: D² is the energy statistic of the cdist sums
        _close(ed(x, y, **kw) ** 2, _energy_ref(x[mx], y[my], wx[mx], wy[my]))
        # unbiased U-statistic with integer frequency weights == repeated rows; chunked rows (5 ∤ 32)
        fx, fy = rng.integers(1, 4, N).astype(float), rng.integers(1, 4, M).astype(float)
        _close(ed_u(x, y, **_xy_kw(fx, fy, mx, my)), _energy_ref(x[mx], y[my], fx[mx], fy[my], unbiased=True))
    # identical samples (padding in the masked rows): exactly 0
    x, _ = _sets(rng)
    pad = np.arange(N) < M
    x_pad = np.where(pad[:, None], x, np.inf)
    assert float(ed(x_pad, x[:M], **_xy_kw(mx=pad))) == 0.0
    assert float(ed(x_pad[:, :1], x[:M, :1], **_xy_kw(mx=pad))) == 0.0
    # translation and rotation invariance; grows with a shift
    q, _ = np.linalg.qr(rng.normal(size=(D, D)))
    x, y = _sets(rng)
    kw = _xy_kw(*_masks(rng))
    base = float(ed(x, y, **kw))
    _close(ed(x @ q + 5.0, y @ q + 5.0, **kw), base, rtol=1e-9)
    assert float(ed(x, y + 3.0, **kw)) > base
    # an empty set, and an unbiased statistic of total weight 1: NaN
    assert np.isnan(ed(x, y, **_xy_kw(mx=~_all(N))))
    one = np.zeros(N, bool)
    one[3] = True
    assert np.isnan(ed_u(x, y, **_xy_kw(mx=one)))


# ------------------------------------------------------------------------------------------------
# sliced Wasserstein


def _directions(rng, num=8):
    theta = rng.normal(size=(D, num))
    return theta / np.linalg.norm(theta, axis=0)


def test_sliced_wasserstein_matches_pot_given_the_same_projections():
    rng = np.random.default_rng(2)
    sw2 = tr.sliced_wasserstein
    sw1 = lambda x, y, **k: tr.sliced_wasserstein(x, y, p=1, **k)  # noqa: E731
    for _ in range(2):
        x, y = _sets(rng, ties=False)
        wx, wy, mx, my = _masks(rng)
        theta = _directions(rng)
        kw = dict(_xy_kw(wx, wy, mx, my), projections=theta)
        a, b = wx[mx] / wx[mx].sum(), wy[my] / wy[my].sum()
        _close(sw2(x, y, **kw), ot.sliced_wasserstein_distance(x[mx], y[my], a, b, p=2, projections=theta))
        _close(sw1(x, y, **kw), ot.sliced_wasserstein_distance(x[mx], y[my], a, b, p=1, projections=theta))
    # a pure shift c: SW_2² = mean_l ⟨θ_l, c⟩² exactly; along ±the d coordinate axes that is ‖c‖²/d
    x, _ = _sets(rng, ties=False)
    c = np.array([0.5, -1.0, 2.0])
    kw = _xy_kw(mx=np.arange(N) < M)
    theta = _directions(rng)
    _close(sw2(x, x[:M] + c, projections=theta, **kw) ** 2, np.mean((c @ theta) ** 2))
    axes = np.concatenate([np.eye(D), -np.eye(D), np.zeros((D, 2))], axis=1)  # 8 columns: ±e_i and 2 zeros
    _close(sw2(x, x[:M] + c, projections=axes, **kw) ** 2, 2 * (c @ c) / 8)


def test_sliced_wasserstein_random_directions_are_uniform_and_keyed():
    rng = np.random.default_rng(3)
    x, _ = _sets(rng, ties=False)
    c = np.array([0.5, -1.0, 2.0])
    kw = _xy_kw(mx=np.arange(N) < M)
    keys = jax.random.split(jax.random.key(0), 2)
    # the directions `key` draws: unit vectors, uniform on the sphere — E θ = 0 and E θθᵀ = I/d (so
    # E SW_2² of a shift c is ‖c‖²/d); 4000 draws: standard errors ≈ 0.009 and ≈ 0.005
    theta = np.asarray(tr._sphere_directions(keys[0], D, 4000, jnp.float64))
    _close(np.linalg.norm(theta, axis=0), 1.0, rtol=1e-12)
    assert np.abs(theta.mean(1)).max() < 0.04
    assert np.abs(theta @ theta.T / 4000 - np.eye(D) / D).max() < 0.025
    # sliced_wasserstein(key=...) uses exactly those directions (the first 8 of a fresh draw of 8)
    sw = lambda key: float(tr.sliced_wasserstein(x, x[:M] + c, key=key, num_projections=8, **kw))  # noqa
    v0, v1 = sw(keys[0]), sw(keys[1])
    assert v0 != v1 and sw(keys[0]) == v0
    theta8 = np.asarray(tr._sphere_directions(keys[0], D, 8, jnp.float64))
    _close(v0 ** 2, np.mean((c @ theta8) ** 2))
    with pytest.raises(jaxmetrics.ShapeError, match="`key`"):
        tr.sliced_wasserstein(x, x)
    with pytest.raises(jaxmetrics.ShapeError, match="`projections`"):
        tr.sliced_wasserstein(x, x, projections=np.ones((D + 1, 4)))


# ------------------------------------------------------------------------------------------------
# entropic OT and the Sinkhorn divergence

SK = dict(num_iters=100)  # the contract's configuration: converged to ~1e-10 here for ε >= 0.25


def test_sinkhorn_cost_and_divergence_match_pot_plans():
    rng = np.random.default_rng(4)
    cost = lambda x, y, **k: tr.sinkhorn_cost(x, y, **SK, **k)  # noqa: E731
    div = lambda x, y, **k: tr.sinkhorn_divergence(x, y, **SK, **k)  # noqa: E731
    div_eu = lambda x, y, **k: tr.sinkhorn_divergence(x, y, cost="euclidean", chunk_size=10, **SK, **k)  # noqa
    for eps in (1.0, 2.0):  # POT's alternating iterations converge in < 200 steps here (ε = 0.5: ~1e-7)
        x, y = _sets(rng)
        wx, wy, mx, my = _masks(rng)
        kw = dict(_xy_kw(wx, wy, mx, my), epsilon=eps)
        xs, ys, a, b = x[mx], y[my], wx[mx], wy[my]
        _close(cost(x, y, **kw), _entropic_ref(xs, ys, a, b, eps))
        _close(div(x, y, **kw), _divergence_ref(xs, ys, a, b, eps))
        _close(div_eu(x, y, **kw), _divergence_ref(xs, ys, a, b, eps, "euclidean"))
    # S_ε(a, a) = 0 (the cross term of identical sets converges slowest: ε = 2 here); S_ε > 0 and grows
    # with a shift
    x, y = _sets(rng)
    kw = dict(_xy_kw(mx=np.arange(N) < M), epsilon=2.0)
    _close(div(x, x[:M], **kw), 0.0, atol=1e-10)
    s1, s2 = float(div(x, x[:M] + 0.5, **kw)), float(div(x, x[:M] + 1.0, **kw))
    assert 0 < s1 < s2
    # an empty set: NaN
    assert np.isnan(div(x, y, **dict(kw, where_x=~_all(N))))
    # ε → 0: OT ≤ OT_ε ≤ OT + ε·KL(P*‖a⊗b) ≤ OT + ε log min(n, m) (P* has marginal entropies ≤ its own);
    # OT from ot.emd2
    emd = ot.emd2(np.ones(N) / N, np.ones(M) / M, ot.dist(x, y))
    small = float(tr.sinkhorn_cost(x, y, num_iters=3000, **dict(kw, where_x=_all(N), epsilon=0.02)))
    assert emd - 1e-9 <= small <= emd + 0.02 * np.log(M), (small, emd)


def test_sinkhorn_envelope_gradient_is_the_pot_plan_gradient():
    """∇_x OT_ε = Σ_j P_ij ∇_x C(x_i, y_j) = 2 Σ_j P_ij (x_i − y_j) for the squared Euclidean cost, and
    ∂OT_ε/∂ε = KL(P ‖ a⊗b), with P POT's plan (the weights a, b are normalised into the marginals)."""
    rng = np.random.default_rng(5)
    x, y = _sets(rng)
    wx, wy, _, _ = _masks(rng)
    kw = _xy_kw(wx, wy)
    gx, geps = jax.grad(lambda x, eps: tr.sinkhorn_cost(x, y, epsilon=eps, **kw, **SK), argnums=(0, 1))(x, 0.5)
    plan, _, a, b = _pot_plan(x, y, wx, wy, 0.5, "sqeuclidean")
    _close(gx, 2 * (plan.sum(1)[:, None] * x - plan @ y), rtol=1e-6, atol=1e-9)
    _close(geps, np.sum(plan * np.log(plan / np.outer(a, b))), rtol=1e-6)


# ------------------------------------------------------------------------------------------------
# real data


def test_digits_test_half_is_closer_than_a_mode_dropped_subset():
    """Raw digits pixels (64-d, scaled to [0, 1]): 240 train-half samples against 240 test-half samples
    (the same distribution) and 240 test-half samples of digits 0–2 only (mode-dropped). Every distance
    must rank them so, and match its oracle on the real data. Both comparisons run as one batched call
    (a leading axis of 2)."""
    datasets = pytest.importorskip("sklearn.datasets")
    digits = datasets.load_digits()
    X, labels = digits.data / 16.0, digits.target
    rng = np.random.default_rng(6)
    perm = rng.permutation(len(X))
    train, test = perm[: len(X) // 2], perm[len(X) // 2:]
    n = 240
    x = X[rng.choice(train, n, replace=False)]
    ys = np.stack([X[rng.choice(test, n, replace=False)], X[rng.choice(test[labels[test] <= 2], n, replace=False)]])
    ones = dict(where=_all(n))  # the shared mask (n = m)
    w = rng.random(n) + 0.5
    mu = X[train].mean(0)
    pc = np.linalg.svd(X[train] - mu, full_matrices=False)[2][0]  # first principal direction of the train half
    key = jax.random.key(1)
    theta = np.asarray(tr._sphere_directions(key, 64, 50, jnp.float64))  # the directions `key` draws
    out = {
        "energy": tr.energy_distance(x, ys, chunk_size=80, weights=w, **ones),  # shared weights: both sets
        "wasserstein_1d": tr.wasserstein_1d(x @ pc, ys @ pc),
        "sliced": tr.sliced_wasserstein(x, ys, key=key, **ones),
        "sinkhorn": tr.sinkhorn_divergence(x, ys, epsilon=4.0, **ones),
    }
    for k, y in enumerate(ys):
        _close(out["energy"][k], np.sqrt(_energy_ref(x, y, w, w)))
        _close(out["wasserstein_1d"][k], st.wasserstein_distance(x @ pc, y @ pc))
        _close(out["sliced"][k], ot.sliced_wasserstein_distance(x, y, projections=theta))
        _close(out["sinkhorn"][k], _divergence_ref(x, y, np.ones(n), np.ones(n), 4.0))
    for name, (same, dropped) in out.items():
        assert float(same) < 0.6 * float(dropped), (name, out)
