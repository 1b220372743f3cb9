"""Ensemble CRPS (nrg / fair / pwm / qd / afair) and the energy score: oracles, identities, analytic
values, member weights and masks, gradients, streaming."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxmetrics
from jaxmetrics import scoring as js

sr = pytest.importorskip("scoringrules")
ps = pytest.importorskip("properscoring")

RTOL = 1e-6
ESTIMATORS = ("nrg", "fair", "pwm", "qd")
ALL = (*ESTIMATORS, "afair")


@functools.partial(jax.jit, static_argnames=("reduce", "alpha"))
def _crps_all(x, y, member_weights=None, member_where=None, reduce="none", alpha=0.95):
    """Every estimator in one compiled program (compilation, not arithmetic, dominates test time)."""
    return {e: js.crps_ensemble(x, y, estimator=e, alpha=alpha, member_weights=member_weights,
                                member_where=member_where, reduce=reduce) for e in ALL}


def _data(rng, n=40, m=9, ties=True, batch=()):
    x = rng.normal(size=(*batch, n, m)) + rng.normal(size=(*batch, n, 1))
    y = rng.normal(size=(*batch, n))
    if ties:  # ties among members and observations equal to members
        x = np.round(x, 1)
        y = np.round(y, 1)
        y[..., :3] = x[..., :3, 2]
        x[..., 3:6, :] = x[..., 3:6, :1]
    return x, y


# ------------------------------------------------------------------------------------------------
# references


def _pairwise_crps(x, y, c):
    """(1/M)Σ|x_j − y| − c·Σ_{j,k}|x_j − x_k| with the M×M tensor (reference only)."""
    e1 = np.abs(x - y[..., None]).mean(-1)
    e2 = np.abs(x[..., :, None] - x[..., None, :]).sum((-2, -1))
    return e1 - c * e2


def _afair_definition(x, y, alpha):
    """afCRPS_α = (1/(2M(M−1))) Σ_{j≠k}(|x_j−y| + |x_k−y| − (1−ε)|x_j−x_k|), ε = (1−α)/M."""
    m = x.shape[-1]
    eps = (1 - alpha) / m
    a = np.abs(x - y[..., None])
    terms = a[..., :, None] + a[..., None, :] - (1 - eps) * np.abs(x[..., :, None] - x[..., None, :])
    off = ~np.eye(m, dtype=bool)
    return (terms * off).sum((-2, -1)) / (2 * m * (m - 1))


def _integral_crps(x, y):
    """∫(F(z) − 1{y ≤ z})² dz, exactly: the integrand is constant between consecutive breakpoints."""
    pts = np.sort(np.append(x, y))
    mids = (pts[:-1] + pts[1:]) / 2
    f = (x[None, :] <= mids[:, None]).mean(-1)
    h = (y <= mids).astype(float)
    return float(((f - h) ** 2 * np.diff(pts)).sum())


# ------------------------------------------------------------------------------------------------
# oracles


def test_crps_matches_scoringrules_with_ties_and_batch_axes():
    x, y = _data(np.random.default_rng(0), batch=(2,))
    per_obs = _crps_all(x, y)
    means = _crps_all(x, y, reduce="mean")
    for estimator in ESTIMATORS:
        ref = sr.crps_ensemble(y, x, estimator=estimator)
        np.testing.assert_allclose(per_obs[estimator], ref, rtol=RTOL, atol=1e-12, err_msg=estimator)
        assert per_obs[estimator].shape == (2, 40)
        np.testing.assert_allclose(means[estimator], ref.mean(-1), rtol=RTOL, err_msg=estimator)


def test_crps_member_weights_match_scoringrules():
    rng = np.random.default_rng(1)
    x, y = _data(rng)
    w = rng.random(x.shape) + 0.05
    ours = _crps_all(x, y, member_weights=w)
    for estimator in ESTIMATORS:
        ref = sr.crps_ensemble(y, x, ens_w=w, estimator=estimator)
        np.testing.assert_allclose(ours[estimator], ref, rtol=RTOL, atol=1e-12, err_msg=estimator)


def test_crps_nrg_matches_properscoring_with_and_without_weights():
    rng = np.random.default_rng(2)
    x, y = _data(rng)
    w = rng.random(x.shape)
    np.testing.assert_allclose(js.crps_ensemble(x, y, estimator="nrg", reduce="none"),
                               ps.crps_ensemble(y, x), rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(js.crps_ensemble(x, y, estimator="nrg", member_weights=w, reduce="none"),
                               ps.crps_ensemble(y, x, weights=w), rtol=RTOL, atol=1e-12)


def test_sorted_form_equals_pairwise_definition():
    x, y = _data(np.random.default_rng(3))
    m = x.shape[-1]
    np.testing.assert_allclose(js.crps_ensemble(x, y, estimator="nrg", reduce="none"),
                               _pairwise_crps(x, y, 1 / (2 * m * m)), rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(js.crps_ensemble(x, y, estimator="fair", reduce="none"),
                               _pairwise_crps(x, y, 1 / (2 * m * (m - 1))), rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("alpha", [0.0, 0.95])
def test_almost_fair_matches_its_pairwise_definition_and_the_identity(alpha):
    x, y = _data(np.random.default_rng(4))
    ours = js.crps_ensemble(x, y, estimator="afair", alpha=alpha, reduce="none")
    np.testing.assert_allclose(ours, _afair_definition(x, y, alpha), rtol=RTOL, atol=1e-12)
    fair = sr.crps_ensemble(y, x, estimator="fair")
    nrg = sr.crps_ensemble(y, x, estimator="nrg")
    np.testing.assert_allclose(ours, alpha * fair + (1 - alpha) * nrg, rtol=RTOL, atol=1e-12)


# ------------------------------------------------------------------------------------------------
# analytic values and identities (METRICS.md §3.1)


def test_two_member_example():
    x, y = np.array([[-1.0, 3.0]]), np.array([0.0])
    val = {e: float(v) for e, v in _crps_all(x, y, reduce="mean").items()}
    assert val["nrg"] == pytest.approx(1.0, abs=1e-12) and val["qd"] == pytest.approx(1.0, abs=1e-12)
    assert val["fair"] == pytest.approx(0.0, abs=1e-12) and val["pwm"] == pytest.approx(0.0, abs=1e-12)
    assert val["afair"] == pytest.approx(0.05, abs=1e-12)


def test_fair_crps_is_zero_for_two_members_bracketing_the_observation():
    rng = np.random.default_rng(5)
    y = rng.normal(size=50)
    lo = y - rng.exponential(size=50) * 10 ** rng.uniform(-3, 3, 50)
    hi = y + rng.exponential(size=50) * 10 ** rng.uniform(-3, 3, 50)
    x = np.stack([lo, hi], -1)
    out = _crps_all(x, y)
    for e in ("fair", "pwm"):
        np.testing.assert_allclose(out[e], 0.0, atol=1e-9 * np.abs(x).max())


def test_nrg_and_qd_equal_the_integral_fair_equals_pwm():
    rng = np.random.default_rng(6)
    for _ in range(20):
        x = rng.normal(size=7) * rng.uniform(0.1, 3)
        y = rng.normal()
        if rng.random() < 0.3:
            x = np.round(x, 0)
            y = float(np.round(y))
        integral = _integral_crps(x, y)
        out = _crps_all(x[None], np.array([y]))
        nrg, qd, fair, pwm = (float(out[e][0]) for e in ("nrg", "qd", "fair", "pwm"))
        assert nrg == pytest.approx(integral, rel=1e-9, abs=1e-12)
        assert qd == pytest.approx(integral, rel=1e-9, abs=1e-12)
        assert pwm == pytest.approx(fair, rel=1e-9, abs=1e-12)
        # fair = nrg + (spread term) · (1/(M−1)): (fair − E1) = M/(M−1) · (nrg − E1)
        e1 = np.abs(x - y).mean()
        assert fair - e1 == pytest.approx((nrg - e1) * 7 / 6, rel=1e-9, abs=1e-12)


# ------------------------------------------------------------------------------------------------
# masks, variable ensemble sizes, weights


def test_member_mask_equals_the_unpadded_ensembles():
    rng = np.random.default_rng(7)
    x, y = _data(rng, n=12, m=8)
    mask = rng.random(x.shape) > 0.35
    mask[0] = False  # no members: treated as masked
    mask[1] = False
    mask[1, 3] = True  # a single member
    mask[2] = True
    x_pad = np.where(mask, x, np.nan)  # padding may hold NaN
    per_obs = _crps_all(x_pad, y, member_where=mask)
    means = _crps_all(x_pad, y, member_where=mask, reduce="mean")
    for estimator in ALL:
        ours = np.asarray(per_obs[estimator])
        for i in range(12):
            xi = x[i][mask[i]]
            if xi.size == 0:
                assert ours[i] == 0.0
                continue
            if xi.size == 1:  # one effective member: the deterministic score for every estimator
                assert ours[i] == pytest.approx(abs(xi[0] - y[i]), rel=1e-12)
                continue
            if estimator == "afair":
                ref = _afair_definition(xi[None], y[i:i + 1], 0.95)[0]
            else:
                ref = sr.crps_ensemble(y[i:i + 1], xi[None], estimator=estimator)[0]
            assert ours[i] == pytest.approx(ref, rel=RTOL, abs=1e-12), (estimator, i)
        # the member-less row is excluded from the mean
        assert float(means[estimator]) == pytest.approx(ours[1:].mean(), rel=RTOL)


def test_member_mask_and_weights_combine():
    rng = np.random.default_rng(8)
    x, y = _data(rng, n=10, m=6)
    mask = rng.random(x.shape) > 0.3
    mask[:, 0] = True
    w = rng.random(x.shape) + 0.1
    ours = _crps_all(x, y, member_where=mask, member_weights=w)
    for e in ESTIMATORS:
        ref = sr.crps_ensemble(y, x, ens_w=np.where(mask, w, 0.0), estimator=e)
        np.testing.assert_allclose(ours[e], ref, rtol=RTOL, atol=1e-12)


def test_member_weights_broadcast_and_uniform_weights_change_nothing():
    x, y = _data(np.random.default_rng(9))
    a = _crps_all(x, y)
    b = _crps_all(x, y, member_weights=np.full(x.shape[-1], 3.0))
    for e in ALL:
        np.testing.assert_allclose(a[e], b[e], rtol=1e-12, atol=1e-13)


def test_observation_weights_mask_and_reduce_none():
    rng = np.random.default_rng(10)
    x, y = _data(rng)
    where = rng.random(40) > 0.3
    w = rng.random(40)
    per = sr.crps_ensemble(y, x, estimator="fair")
    out = js.crps_ensemble(x, y, estimator="fair", where=where, weights=w)
    np.testing.assert_allclose(out, np.sum(per * w * where) / np.sum(w * where), rtol=RTOL)
    none = js.crps_ensemble(x, y, estimator="fair", where=where, weights=w, reduce="none")
    np.testing.assert_allclose(none, np.where(where, per, 0.0), rtol=RTOL, atol=1e-12)  # weights only mask
    assert np.isnan(js.crps_ensemble(x, y, estimator="fair", where=np.zeros(40, bool)))


# ------------------------------------------------------------------------------------------------
# gradients and numerics


def test_gradients_finite_at_ties_masks_and_weights():
    rng = np.random.default_rng(11)
    x, y = _data(rng, n=6, m=5)
    x[0] = 1.0  # all members equal
    x[1, :] = y[1]  # all members equal to the observation
    mask = np.ones(x.shape, bool)
    mask[2, 1:] = False  # a single effective member
    mask[3] = False  # no member at all
    w = rng.random(x.shape) + 0.1

    def total(a, b):  # every estimator x {plain, masked members, weighted members}: one compilation
        out = 0.0
        for e in (*ESTIMATORS, "afair"):
            for kwargs in ({}, dict(member_where=mask), dict(member_weights=w)):
                out = out + js.crps_ensemble(a, b, estimator=e, **kwargs)
        return out

    gx, gy = jax.jit(jax.grad(total, argnums=(0, 1)))(x, y)
    assert np.all(np.isfinite(gx)) and np.all(np.isfinite(gy))


@pytest.mark.parametrize("estimator", ("nrg", "fair", "afair"))
def test_gradient_away_from_ties_is_the_pairwise_gradient(estimator):
    x, y = _data(np.random.default_rng(21), n=6, m=5, ties=False)
    c = {"nrg": 1 / 50, "fair": 1 / 40}.get(estimator)
    if c is None:
        ref = lambda a, b: _afair_jnp(a, b, 0.95)  # noqa: E731
    else:
        ref = lambda a, b: (jnp.abs(a - b[:, None]).mean(-1)  # noqa: E731
                            - c * jnp.abs(a[:, :, None] - a[:, None, :]).sum((-2, -1))).mean()
    g = jax.grad(lambda a, b: js.crps_ensemble(a, b, estimator=estimator), argnums=(0, 1))(x, y)
    g_ref = jax.grad(ref, argnums=(0, 1))(x, y)
    for a, b in zip(g, g_ref):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_weighted_gradient_is_the_pairwise_gradient():
    """Members are sorted by integer keys with the weights riding along; the sort's JVP must still
    route each member's and each weight's tangent to its own position (away from ties)."""
    x, y = _data(np.random.default_rng(22), n=6, m=5, ties=False)
    w = np.random.default_rng(23).random(x.shape) + 0.2

    def pairwise(a, b, v, fair):
        v = v / v.sum(-1, keepdims=True)
        spread = 0.5 * (v[:, :, None] * v[:, None, :] * jnp.abs(a[:, :, None] - a[:, None, :])).sum((-2, -1))
        if fair:
            spread = spread / (1 - (v * v).sum(-1))
        return ((v * jnp.abs(a - b[:, None])).sum(-1) - spread).mean()

    for estimator, fair in (("nrg", False), ("qd", False), ("fair", True)):
        g = jax.grad(lambda a, b, v: js.crps_ensemble(a, b, estimator=estimator, member_weights=v),
                     argnums=(0, 1, 2))(x, y, w)
        g_ref = jax.grad(functools.partial(pairwise, fair=fair), argnums=(0, 1, 2))(x, y, w)
        for a, b in zip(g, g_ref):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=estimator)


def test_float32_members_with_ties_and_signed_zeros_match_scoringrules():
    """float32 members are sorted as int32 order keys (-0.0 ties +0.0, ±inf-free data)."""
    x, y = _data(np.random.default_rng(24), n=30, m=7)
    x[6:9, :3] = 0.0
    x[6:9, 3:5] = -0.0
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    out = _crps_all(jnp.asarray(x32), jnp.asarray(y32))
    for e in ESTIMATORS:
        assert out[e].dtype == jnp.float32
        ref = sr.crps_ensemble(y32.astype(np.float64), x32.astype(np.float64), estimator=e)
        np.testing.assert_allclose(out[e], ref, rtol=2e-5, atol=1e-6, err_msg=e)


def _afair_jnp(x, y, alpha):
    m = x.shape[-1]
    fair = jnp.abs(x - y[:, None]).mean(-1) - jnp.abs(x[:, :, None] - x[:, None, :]).sum((-2, -1)) / (2 * m * (m - 1))
    nrg = jnp.abs(x - y[:, None]).mean(-1) - jnp.abs(x[:, :, None] - x[:, None, :]).sum((-2, -1)) / (2 * m * m)
    return (alpha * fair + (1 - alpha) * nrg).mean()


def test_nan_padding_under_mask_gives_finite_values_and_gradients():
    x, y = _data(np.random.default_rng(12), n=5, m=6)
    mask = np.ones(x.shape, bool)
    mask[:, 4:] = False
    x = np.where(mask, x, np.nan)

    def values(a):
        return jnp.stack([js.crps_ensemble(a, y, estimator=e, member_where=mask) for e in (*ESTIMATORS, "afair")])

    v, vjp = jax.vjp(jax.jit(values), x)
    (g,) = vjp(jnp.ones_like(v))
    assert np.all(np.isfinite(v)) and np.all(np.isfinite(g)) and np.all(np.asarray(g)[~mask] == 0)


def test_large_offsets_do_not_cancel_in_float32():
    rng = np.random.default_rng(13)
    x64 = 1e6 + rng.normal(size=(20, 16))
    y64 = 1e6 + rng.normal(size=20)
    ref = sr.crps_ensemble(y64, x64, estimator="fair").mean()
    x32, y32 = x64.astype(np.float32), y64.astype(np.float32)
    ref32 = sr.crps_ensemble(y32.astype(np.float64), x32.astype(np.float64), estimator="fair").mean()
    out = js.crps_ensemble(jnp.asarray(x32), jnp.asarray(y32), estimator="fair")
    assert out.dtype == jnp.float32
    assert float(out) == pytest.approx(ref32, rel=1e-5) and float(out) == pytest.approx(ref, rel=1e-2)


def test_low_precision_inputs_accumulate_in_float32():
    x, y = _data(np.random.default_rng(14), ties=False)
    out = js.crps_ensemble(jnp.asarray(x, jnp.bfloat16), jnp.asarray(y, jnp.bfloat16), estimator="pwm")
    assert out.dtype == jnp.float32


# ------------------------------------------------------------------------------------------------
# streaming, batching, errors


def test_streaming_with_member_weights_equals_one_shot_and_merges():
    rng = np.random.default_rng(15)
    x, y = _data(rng, n=48)
    mw = rng.random(x.shape)
    mm = rng.random(x.shape) > 0.2
    where = rng.random(48) > 0.1
    w = rng.random(48)
    kw = dict(estimator="afair", alpha=0.8)
    one = js.crps_ensemble(x, y, member_weights=mw, member_where=mm, where=where, weights=w, **kw)
    metric = js.crps_ensemble_metric(**kw)
    states = []
    for lo, hi in [(0, 16), (16, 32), (32, 48)]:
        states.append(jax.jit(metric.update)(metric.init(), x[lo:hi], y[lo:hi], member_weights=mw[lo:hi],
                                             member_where=mm[lo:hi], where=where[lo:hi], weights=w[lo:hi]))
    merged = functools.reduce(metric.merge, states[::-1])
    np.testing.assert_allclose(metric.compute(merged), one, rtol=1e-12)


def test_batch_axes_and_vmap_agree_and_batched_state():
    x, y = _data(np.random.default_rng(16), batch=(3,))
    out = js.crps_ensemble(x, y, estimator="qd")
    vm = jax.vmap(lambda a, b: js.crps_ensemble(a, b, estimator="qd"))(x, y)
    np.testing.assert_allclose(out, vm, rtol=1e-12)
    metric = js.crps_ensemble_metric(estimator="qd")
    state = metric.init(batch_shape=(3,))
    state = jax.lax.fori_loop(0, 2, lambda i, s: metric.update(s, x, y), state)
    np.testing.assert_allclose(metric.compute(state), out, rtol=1e-12)


def test_errors_are_clear():
    x, y = _data(np.random.default_rng(17))
    with pytest.raises(TypeError):
        js.crps_ensemble(x, y)  # estimator is required
    with pytest.raises(jaxmetrics.ShapeError, match="`estimator` must be one of"):
        js.crps_ensemble(x, y, estimator="int")
    with pytest.raises(jaxmetrics.ShapeError, match="`obs`"):
        js.crps_ensemble(x, y[:-1], estimator="nrg")
    with pytest.raises(jaxmetrics.ShapeError, match="`member_weights`"):
        js.crps_ensemble(x, y, estimator="nrg", member_weights=np.ones((40, 3)))
    with pytest.raises(jaxmetrics.ShapeError, match="`member_where`"):
        js.crps_ensemble(x, y, estimator="nrg", member_where=np.ones(5, bool))
    with pytest.raises(jaxmetrics.ShapeError, match="at least 2 members"):
        js.crps_ensemble(x[..., :1], y, estimator="fair")
    with pytest.raises(jaxmetrics.ShapeError, match="`reduce`"):
        js.crps_ensemble(x, y, estimator="nrg", reduce="sum")
    with pytest.raises(jaxmetrics.ShapeError, match="`alpha`"):
        js.crps_ensemble(x, y, estimator="afair", alpha=1.5)
    # one member is fine for nrg: |x − y|
    np.testing.assert_allclose(js.crps_ensemble(x[..., :1], y, estimator="nrg", reduce="none"),
                               np.abs(x[..., 0] - y), rtol=1e-12)


# ------------------------------------------------------------------------------------------------
# energy score


@pytest.mark.parametrize("estimator", ["nrg", "fair"])
def test_energy_score_matches_scoringrules(estimator):
    rng = np.random.default_rng(18)
    x = np.round(rng.normal(size=(2, 20, 6, 3)), 1)
    y = np.round(rng.normal(size=(2, 20, 3)), 1)
    y[:, :2] = x[:, :2, 0]  # observation equal to a member
    ours = js.energy_score(x, y, estimator=estimator, reduce="none")
    np.testing.assert_allclose(ours, sr.es_ensemble(y, x, estimator=estimator), rtol=RTOL, atol=1e-12)
    w = rng.random(x.shape[:-1]) + 0.1
    ours_w = js.energy_score(x, y, estimator=estimator, member_weights=w, reduce="none")
    np.testing.assert_allclose(ours_w, sr.es_ensemble(y, x, ens_w=w, estimator=estimator), rtol=RTOL, atol=1e-12)


def test_energy_score_in_one_dimension_is_the_crps_and_masks_match_subsets():
    rng = np.random.default_rng(19)
    x, y = _data(rng, n=10, m=7)
    for e in ("nrg", "fair"):
        np.testing.assert_allclose(js.energy_score(x[..., None], y[..., None], estimator=e, reduce="none"),
                                   js.crps_ensemble(x, y, estimator=e, reduce="none"), rtol=1e-9, atol=1e-12)
    xm = rng.normal(size=(4, 6, 2))
    ym = rng.normal(size=(4, 2))
    mask = np.array([[1, 1, 1, 0, 0, 0], [1] * 6, [0, 1, 0, 1, 0, 1], [1, 1, 0, 0, 0, 0]], bool)
    ours = js.energy_score(np.where(mask[..., None], xm, np.nan), ym, estimator="fair", member_where=mask,
                           reduce="none")
    for i in range(4):
        ref = sr.es_ensemble(ym[i:i + 1], xm[i][mask[i]][None], estimator="fair")[0]
        assert float(ours[i]) == pytest.approx(ref, rel=RTOL)


def test_energy_score_gradients_finite_with_coincident_points():
    rng = np.random.default_rng(20)
    x = rng.normal(size=(5, 4, 3))
    y = x[:, 0].copy()
    x[1] = x[1, :1]
    g = jax.grad(lambda a, b: js.energy_score(a, b, estimator="fair"), argnums=(0, 1))(x, y)
    assert all(np.all(np.isfinite(v)) for v in g)
    with pytest.raises(jaxmetrics.ShapeError, match="`obs`"):
        js.energy_score(x, y[..., :2])
