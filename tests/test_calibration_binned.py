"""Binned calibration errors, reliability diagrams, soft ECE and the reliability plot.

Oracle: the independent numpy references in ``tests/reference/calibration_binning.py`` (torchmetrics
right-open binning with the extra bin for conf = 1.0; netcal clipping, closed last bin, equal-width and
equal-mass bins; Kumar et al.'s debiased L2), at rtol 1e-6 in float64, on random data with confidences
exactly on bin edges, exactly 0 and 1, ties, masks and weights. Plus analytic values, streaming,
gradients, and temperature scaling of a model trained on scikit-learn's digits.
"""

import zlib

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
import pytest  # noqa: E402

import jaxmetrics  # noqa: E402
from jaxmetrics import calibration as cal, soft  # noqa: E402
from jaxmetrics.calibration import binned  # noqa: E402
from tests.reference import calibration_binning as ref  # noqa: E402

C = 3
N = 96


# ------------------------------------------------------------------------------------------------
# data


def _edge_values(num_bins):
    return np.linspace(0.0, 1.0, num_bins + 1)


def _dataset(rng, mode, num_bins, n=N):
    """probs (with confidences exactly on bin edges, 0 and 1, and ties), labels."""
    e = _edge_values(num_bins)
    if mode == "binary":
        p = np.round(rng.random(n), 2)  # ties
        k = len(e)
        p[:k] = e  # every edge, incl. 0.0 and 1.0
        p[k : k + 4] = 1.0
        p[k + 4 : k + 6] = 0.0
        y = (rng.random(n) < p).astype(np.int32)
        return p, y
    logits = rng.normal(size=(n, C)) * 2.0
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    big = e[e > 0.5]
    p[: len(big)] = np.stack([big, (1 - big) / 2, (1 - big) / 2], -1)  # top-label conf exactly on an edge
    p[len(big) : len(big) + 4] = np.eye(C)[rng.integers(0, C, 4)]  # conf exactly 1.0 (and entries 0.0)
    p[len(big) + 4 : len(big) + 8] = np.round(p[len(big) + 4 : len(big) + 8], 1)  # ties
    if mode == "classwise":  # entries (not only the max) exactly on edges
        rows = rng.integers(0, n, 12)
        cols = rng.integers(0, C, 12)
        p[rows, cols] = rng.choice(e, 12)
    y = np.where(rng.random(n) < 0.7, p.argmax(-1), rng.integers(0, C, n)).astype(np.int32)
    return p, y


def _weighting(rng, kind, n=N):
    if kind == "none":
        return np.ones(n, bool), np.ones(n)
    where = rng.random(n) > 0.25
    if kind == "mask":
        return where, np.ones(n)
    weights = rng.random(n) * 2.0 + 0.05
    weights[:3] = 0.0
    return where, weights


def _batch(rng, mode, num_bins, kind, seeds=3):
    """``seeds`` datasets stacked on a leading axis (the metric maps over it natively)."""
    data = [(_dataset(rng, mode, num_bins), _weighting(rng, kind)) for _ in range(seeds)]
    p = np.stack([d[0][0] for d in data])
    y = np.stack([d[0][1] for d in data])
    where = np.stack([d[1][0] for d in data])
    weights = np.stack([d[1][1] for d in data])
    return p, y, where, weights


def _reference(p, y, where, weights, **kw):
    return np.array([ref.calibration_error(p[s], y[s], weights=where[s] * weights[s], **kw) for s in range(len(p))])


# ------------------------------------------------------------------------------------------------
# oracle agreement


@pytest.mark.parametrize("binning", ["uniform", "quantile"])
@pytest.mark.parametrize("edges", ["right_open", "netcal"])
@pytest.mark.parametrize("mode", ["binary", "top_label", "classwise"])
def test_ece_matches_reference(mode, edges, binning):
    rng = np.random.default_rng(zlib.crc32(f"{mode}-{edges}-{binning}".encode()))
    num_bins = 10 if edges == "netcal" else 15
    kind = ("none", "mask", "weights")[rng.integers(0, 3)]
    p, y, where, weights = _batch(rng, mode, num_bins, kind)
    out = cal.expected_calibration_error(p, y, num_bins=num_bins, mode=mode, edges=edges, binning=binning,
                                         where=where, weights=weights)
    expected = _reference(p, y, where, weights, n_bins=num_bins, norm="l1", mode=mode, convention=edges,
                          equal_intervals=binning == "uniform")
    assert out.shape == (3,) and out.dtype == jnp.float64
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize(
    "mode,edges,binning",
    [("binary", "right_open", "uniform"), ("top_label", "netcal", "quantile"), ("classwise", "right_open", "uniform")],
)
def test_norms_and_debiased_match_reference(mode, edges, binning):
    rng = np.random.default_rng(zlib.crc32(f"norms-{mode}-{edges}-{binning}".encode()))
    num_bins = 7
    p, y, where, weights = _batch(rng, mode, num_bins, "weights")
    for norm, debiased in (("l2", False), ("max", False), ("l2", True)):
        out = cal.ece(p, y, num_bins=num_bins, norm=norm, debiased=debiased, mode=mode, edges=edges,
                      binning=binning, where=where, weights=weights)
        expected = _reference(p, y, where, weights, n_bins=num_bins, norm=norm, debias=debiased, mode=mode,
                              convention=edges, equal_intervals=binning == "uniform")
        np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-12, err_msg=f"{norm} debiased={debiased}")


@pytest.mark.parametrize(
    "mode,edges,binning",
    [("top_label", "right_open", "uniform"), ("classwise", "netcal", "uniform"), ("binary", "netcal", "quantile")],
)
def test_unweighted_path_matches_reference(mode, edges, binning):
    """Without ``weights`` (a mask at most) only three per-bin sums are accumulated (Σw² and the support
    equal Σw): every norm, the debiased estimator and the state agree with the reference and with the
    weighted path given unit weights."""
    rng = np.random.default_rng(zlib.crc32(f"unit-{mode}-{edges}-{binning}".encode()))
    num_bins = 7
    p, y, where, _ = _batch(rng, mode, num_bins, "mask")
    ones = np.ones(where.shape)
    for norm, debiased in (("l1", False), ("l2", True)):
        kw = dict(num_bins=num_bins, norm=norm, debiased=debiased, mode=mode, edges=edges, binning=binning)
        out = cal.ece(p, y, where=where, **kw)
        expected = _reference(p, y, where, ones, n_bins=num_bins, norm=norm, debias=debiased, mode=mode,
                              convention=edges, equal_intervals=binning == "uniform")
        np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-12, err_msg=f"{norm} debiased={debiased}")
        if debiased:  # the estimator that reads Σw² and the support
            np.testing.assert_allclose(out, cal.ece(p, y, where=where, weights=ones, **kw), rtol=1e-12, atol=1e-15)
    if binning == "uniform":
        classes = p.shape[-1] if mode == "classwise" else None
        m = cal.ece_metric(num_bins=num_bins, mode=mode, edges=edges, num_classes=classes)
        unit = m.update(m.init(), p[0], y[0], where=where[0])
        weighted = m.update(m.init(), p[0], y[0], where=where[0], weights=ones[0])
        for a, b in zip(unit, weighted):
            np.testing.assert_allclose(a, b, rtol=1e-12)


def test_reliability_diagram_matches_reference():
    rng = np.random.default_rng(3)
    for mode, edges, binning in (("top_label", "right_open", "uniform"), ("classwise", "netcal", "quantile")):
        p, y = _dataset(rng, mode, 10)
        where, weights = _weighting(rng, "weights")
        d = cal.reliability_diagram(p, y, num_bins=10, mode=mode, edges=edges, binning=binning, where=where,
                                    weights=weights)
        rows = ref.reliability(p, y, n_bins=10, mode=mode, convention=edges, equal_intervals=binning == "uniform",
                               weights=where * weights)
        expected = [np.stack(x) for x in zip(*rows)]
        if mode != "classwise":
            expected = [x[0] for x in expected]
        for field, e in zip(d, expected):
            np.testing.assert_allclose(field, e, rtol=1e-6, atol=1e-12)
        assert np.isnan(d.accuracy[np.asarray(d.count) == 0]).all()  # empty bins are NaN
        slots = 11 if edges == "right_open" else 10
        assert d.count.shape[-1] == slots and d.edges.shape[-1] == slots + 1


def test_uniform_bin_assignment_equals_searchsorted_at_and_around_edges():
    """The O(1) floor-and-correct bin index equals the searchsorted rule, also one ulp around edges."""
    for num_bins, dtype in ((1, np.float64), (15, np.float32), (99, np.float64)):
        e = _edge_values(num_bins).astype(dtype)
        x = np.concatenate([e, np.nextafter(e, -np.inf, dtype=dtype), np.nextafter(e, np.inf, dtype=dtype),
                            np.random.default_rng(num_bins).random(64).astype(dtype), np.array([-0.5, 1.5], dtype)])
        for conv in ("right_open", "netcal"):
            cfg = binned._config("t", num_bins=num_bins, edges=conv)
            both = jax.jit(lambda x, e, cfg=cfg: (binned._assign_uniform(x, e, cfg), binned._assign(x, e, cfg)))
            fast, slow = both(jnp.asarray(x), jnp.asarray(e))
            np.testing.assert_array_equal(fast, slow, err_msg=f"{num_bins} {dtype} {conv}")


def test_mask_equals_dropping_samples_and_weight_scale_invariance():
    rng = np.random.default_rng(4)
    p, y = _dataset(rng, "top_label", 15)
    keep = rng.random(N) > 0.3
    for kw in (dict(norm="l2", debiased=True), dict(norm="max", binning="quantile", edges="netcal")):
        f = jax.jit(lambda p, y, m, w, kw=kw: cal.ece(p, y, where=m, weights=w, **kw))
        masked = f(p, y, keep, np.ones(N))
        np.testing.assert_allclose(masked, f(p[keep], y[keep], None, None), rtol=1e-12, err_msg=str(kw))
        np.testing.assert_allclose(f(p, y, keep, np.full(N, 2.5)), masked, rtol=1e-12, err_msg=str(kw))


# ------------------------------------------------------------------------------------------------
# analytic values


def test_calibrated_model_has_ece_near_zero_within_standard_error():
    rng = np.random.default_rng(5)
    n = 20_000
    p = rng.random(n)
    y = (rng.random(n) < p).astype(np.int32)
    value = float(cal.ece(p, y))
    d = cal.reliability_diagram(p, y)
    count, conf = np.asarray(d.count), np.asarray(d.confidence)
    filled = count > 0
    # E|acc_b − conf_b| ≈ sqrt(2/π)·sd_b with sd_b = sqrt(conf_b(1 − conf_b)/n_b)
    se = np.sum(count[filled] / n * np.sqrt(conf[filled] * (1 - conf[filled]) / count[filled]))
    assert value < 3 * se, (value, se)
    assert value < 0.02


@pytest.mark.parametrize("edges", ["right_open", "netcal"])
def test_all_confident_model_has_ece_one_minus_accuracy(edges):
    n, a = 64, 0.75
    labels = np.zeros(n, np.int32)
    preds = np.where(np.arange(n) < a * n, 0, 1)
    probs = np.eye(C)[preds]  # confidence exactly 1.0
    for norm in ("l1", "max") if edges == "right_open" else ("l2",):
        out = cal.ece(probs, labels, norm=norm, edges=edges)
        np.testing.assert_allclose(out, 1 - a, rtol=1e-12)
    d = cal.reliability_diagram(probs, labels, edges=edges)
    # everything in the last slot: the extra bin (right_open) or the closed last bin (netcal)
    assert float(d.count[-1]) == n and float(d.accuracy[-1]) == a
    # binary input with P(y=1) = 1 everywhere: "accuracy" is the positive rate
    np.testing.assert_allclose(cal.ece(np.ones(n), (np.arange(n) < a * n).astype(np.int32), edges=edges), 1 - a)


def test_debiased_l2_is_closer_to_zero_on_calibrated_data():
    rng = np.random.default_rng(6)
    seeds, n = 32, 400
    p = rng.random((seeds, n))
    y = (rng.random((seeds, n)) < p).astype(np.int32)
    plain = np.asarray(cal.ece(p, y, norm="l2"))
    debiased = np.asarray(cal.ece(p, y, norm="l2", debiased=True))
    assert np.all(debiased <= plain + 1e-15)
    assert debiased.mean() < 0.6 * plain.mean(), (debiased.mean(), plain.mean())
    # a miscalibrated model keeps a clearly positive debiased error
    shifted = np.asarray(cal.ece(np.clip(p + 0.15, 0, 1), y, norm="l2", debiased=True))
    assert shifted.mean() > 0.1


def test_all_masked_gives_nan_with_finite_gradients():
    rng = np.random.default_rng(7)
    p, y = _dataset(rng, "top_label", 15)
    where = np.zeros(N, bool)
    assert np.isnan(cal.ece(p, y, where=where, norm="l2", debiased=True))
    kw = dict(norm="max", binning="quantile", mode="classwise")
    value, g = jax.value_and_grad(lambda q: cal.ece(q, y, where=where, **kw))(jnp.asarray(p))
    assert np.isnan(value) and np.all(np.isfinite(g))
    # (the uniform-binned metrics, soft ECE and the diagram get all-masked cases in the contract suite)


def test_low_precision_inputs_give_float32_results():
    """(bf16/f16 for the uniform-binned metrics are in the contract suite; here quantile and float32.)"""
    rng = np.random.default_rng(8)
    p, y = _dataset(rng, "top_label", 15)
    q = jnp.asarray(p, jnp.bfloat16)
    out = cal.ece(q, y, binning="quantile", norm="l2")
    assert out.dtype == jnp.float32
    np.testing.assert_allclose(out, cal.ece(jnp.asarray(q, jnp.float64), y, binning="quantile", norm="l2"), rtol=1e-5)
    assert cal.ece(jnp.asarray(p, jnp.float32), y).dtype == jnp.float32  # float32 stays float32 under x64


# ------------------------------------------------------------------------------------------------
# streaming, configuration errors, registry


def test_streaming_over_batches_equals_one_shot():
    rng = np.random.default_rng(9)
    p, y = _dataset(rng, "classwise", 15)
    where, weights = _weighting(rng, "weights")
    kw = dict(norm="l2", debiased=True, mode="classwise", edges="netcal")
    m = cal.ece_metric(num_classes=C, **kw)
    batches = (p.reshape(6, 16, C), y.reshape(6, 16), where.reshape(6, 16), weights.reshape(6, 16))

    @jax.jit
    def stream(batches):
        state, _ = jax.lax.scan(lambda s, b: (m.update(s, b[0], b[1], where=b[2], weights=b[3]), None), m.init(),
                                batches)
        flat = [x.reshape(-1, *x.shape[2:]) for x in batches]
        halves = [m.update(m.init(), flat[0][s], flat[1][s], where=flat[2][s], weights=flat[3][s])
                  for s in (slice(0, 40), slice(40, N))]
        return state, m.compute(state), m.compute(m.merge(*halves))

    state, streamed, merged = stream(batches)
    assert state.count.shape == (C, 15)  # netcal convention: no extra bin
    np.testing.assert_allclose(streamed, cal.ece(p, y, where=where, weights=weights, **kw), rtol=1e-12)
    np.testing.assert_allclose(merged, streamed, rtol=1e-12)

    # the reliability-diagram and soft metrics stream the same way
    r = cal.reliability_diagram_metric(mode="classwise", num_classes=C)
    s = cal.soft_ece_metric(temperature=0.05)

    @jax.jit
    def others(p, y):
        d = r.compute(r.update(r.init(), p, y))
        soft_state = s.update(s.update(s.init(), p[:48], y[:48]), p[48:], y[48:])
        return d, s.compute(soft_state)

    d, soft_value = others(p, y)
    for a, b in zip(d, cal.reliability_diagram(p, y, mode="classwise")):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(soft_value, cal.soft_ece(p, y, temperature=0.05), rtol=1e-12)


def test_state_is_constant_size_and_dtype():
    m = cal.ece_metric(num_bins=20, mode="classwise", num_classes=5)
    s = m.init()
    assert isinstance(s, cal.BinnedCalibrationState)
    assert all(x.shape == (5, 21) and x.dtype == jnp.float64 for x in s)
    assert all(x.dtype == jnp.float32 for x in m.init(jnp.float32))
    assert m.merge is jaxmetrics.tree_add
    assert cal.ece_metric(edges="netcal").init().count.shape == (1, 15)


def test_configuration_errors_are_clear():
    p, y = _dataset(np.random.default_rng(10), "top_label", 15)
    with pytest.raises(jaxmetrics.ShapeError, match="`binning`.*one-shot only"):
        cal.ece_metric(binning="quantile")
    with pytest.raises(jaxmetrics.ShapeError, match="`binning`"):
        cal.reliability_diagram_metric(binning="quantile")
    with pytest.raises(jaxmetrics.ShapeError, match="`num_classes` is required"):
        cal.ece_metric(mode="classwise")
    m = cal.ece_metric(mode="classwise", num_classes=4)
    with pytest.raises(jaxmetrics.ShapeError, match="`probs`"):
        m.update(m.init(), p, y)
    with pytest.raises(jaxmetrics.ShapeError, match="`probs`"):
        cal.ece(p, y, mode="classwise", num_classes=4)
    with pytest.raises(jaxmetrics.ShapeError, match="`debiased` needs norm='l2'"):
        cal.ece(p, y, debiased=True)
    with pytest.raises(jaxmetrics.ShapeError, match="`norm`"):
        cal.ece(p, y, norm="l3")
    with pytest.raises(jaxmetrics.ShapeError, match="`norm`"):
        cal.soft_ece(p, y, norm="max")
    with pytest.raises(jaxmetrics.ShapeError, match="`num_bins`"):
        cal.ece(p, y, num_bins=0)
    with pytest.raises(jaxmetrics.ShapeError, match="`edges`"):
        cal.ece(p, y, edges="left_open")
    with pytest.raises(jaxmetrics.ShapeError, match="mode='classwise' needs class probabilities `probs`"):
        cal.ece(p[:, 0], y, mode="classwise")
    with pytest.raises(jaxmetrics.ShapeError, match="`mode`"):
        cal.ece(p, y, mode="marginal")
    with pytest.raises(ValueError, match="`temperature`"):
        cal.soft_ece(p, y, temperature=0.0)
    with pytest.raises(jaxmetrics.ShapeError, match="`labels`"):
        jax.jit(cal.ece)(p, y[:-1].astype(np.float64))


def test_registry_entries_alias_and_soft_twin():
    info = jaxmetrics.registry["expected_calibration_error"]
    assert cal.ece is cal.expected_calibration_error is info.fn
    assert info.aliases == ("ece",) and info.streaming is cal.ece_metric and info.soft is cal.soft_ece
    assert info.family == "calibration" and info.higher_is_better is False
    assert jaxmetrics.registry["soft_ece"].differentiable
    assert jaxmetrics.registry["reliability_diagram"].higher_is_better is None


def test_quantile_binning_jit_and_vmap():
    rng = np.random.default_rng(11)
    p, y, where, weights = _batch(rng, "classwise", 10, "weights")
    kw = dict(binning="quantile", mode="classwise", norm="l2")
    f = lambda a, b, m, w: cal.ece(a, b, where=m, weights=w, **kw)  # noqa: E731
    batched = jax.vmap(f)(p, y, where, weights)
    looped = [f(p[s], y[s], where[s], weights[s]) for s in range(3)]
    np.testing.assert_allclose(batched, looped, rtol=1e-12)
    # equal mass: every quantile bin of distinct unit-weight confidences holds N/B samples
    x = rng.permutation(np.arange(1, 101) / 101.0)
    d = cal.reliability_diagram(x, (rng.random(100) < x).astype(np.int32), num_bins=5, binning="quantile",
                                edges="netcal")
    np.testing.assert_array_equal(d.count, [20, 20, 20, 20, 20])


# ------------------------------------------------------------------------------------------------
# soft ECE and soft_binning


def test_soft_binning_memberships():
    x = jnp.array([-np.inf, -0.3, 0.0, 0.1, 0.3, 0.5, 0.6, 0.9, 1.0, 7.0, np.inf])
    member = jax.jit(lambda x, t: soft.soft_binning(x, 4, t))
    for tau in (1.0, 0.05, 1e-4):
        m = member(x, tau)
        assert m.shape == (11, 4)
        np.testing.assert_allclose(m.sum(-1), 1.0, rtol=1e-12)
        assert np.all(np.asarray(m) >= 0)
    hard = np.asarray(member(x, 1e-4))
    np.testing.assert_allclose(hard[[3, 4, 6, 7]], np.eye(4), atol=1e-12)  # 0.1, 0.3, 0.6, 0.9
    np.testing.assert_allclose(hard[5], [0, 0.5, 0.5, 0], atol=1e-12)  # exactly on an edge: half/half
    np.testing.assert_allclose(hard[[0, -1]], [[1, 0, 0, 0], [0, 0, 0, 1]])  # open-ended outer bins
    explicit = soft.soft_binning(jnp.array([0.3]), jnp.array([0.0, 0.25, 1.0]), 1e-4)  # explicit edges
    np.testing.assert_allclose(explicit, [[0, 1]], atol=1e-12)
    g = jax.jacrev(lambda t: member(t, 0.1))(x)
    assert np.all(np.isfinite(g))


def test_soft_ece_converges_to_exact_away_from_edges():
    rng = np.random.default_rng(12)
    for mode, norm in (("binary", "l1"), ("top_label", "l2"), ("classwise", "l1")):
        p, y = _dataset(rng, mode, 15)
        where, weights = _weighting(rng, "weights")
        conf = p if p.ndim == 1 else (p if mode == "classwise" else p.max(-1, keepdims=True))
        dist = np.abs(conf[..., None] - _edge_values(15)).min(-1)
        far = (dist > 0.005).reshape(N, -1).all(-1)  # keep samples > 0.005 from every edge
        exact = float(cal.ece(p, y, norm=norm, mode=mode, where=where & far, weights=weights))
        errs = [abs(float(cal.soft_ece(p, y, norm=norm, mode=mode, temperature=t, where=where & far,
                                       weights=weights)) - exact) for t in (3e-2, 3e-3, 1e-4)]
        assert errs[0] > errs[1] > errs[2], (mode, norm, errs)
        assert errs[2] < 1e-9, (mode, norm, errs)


def test_soft_ece_gradients_check_grads_and_finite_at_edges():
    rng = np.random.default_rng(13)
    p, y = _dataset(rng, "top_label", 15)
    logits = jnp.log(jnp.asarray(np.clip(p, 1e-3, 1)))
    where, weights = _weighting(rng, "weights")
    f = jax.jit(lambda z: cal.soft_ece(z, y, from_logits=True, temperature=0.05, where=where, weights=weights))
    jax.test_util.check_grads(f, (logits,), order=1, modes=["rev"], atol=1e-5, rtol=1e-5)
    # finite gradients on probabilities exactly 0 / 1 / on edges, one-hot rows, all masked, tiny temperature
    onehot = jnp.asarray(np.eye(C)[y])
    grad = jax.jit(jax.grad(lambda q, t: cal.soft_ece(q, y, temperature=t)))
    for q, t in ((jnp.asarray(p), 0.01), (onehot, 0.01), (onehot, 1e-6), (jnp.zeros_like(onehot), 1e-3)):
        assert np.all(np.isfinite(grad(q, t)))


# ------------------------------------------------------------------------------------------------
# real data: temperature scaling of a model trained on scikit-learn's digits


def _nll(logits, labels):
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), labels[:, None], 1))


def _fit_temperature(loss, logits, labels, steps=200, lr=0.05):
    """Minimises ``loss(logits / T, labels)`` over log T with optax (Adam), from T = 1."""
    opt = optax.adam(lr)

    @jax.jit
    def run(log_t):
        def step(carry, _):
            log_t, state = carry
            g = jax.grad(lambda lt: loss(logits / jnp.exp(lt), labels))(log_t)
            updates, state = opt.update(g, state)
            return (optax.apply_updates(log_t, updates), state), None

        (log_t, _), _ = jax.lax.scan(step, (log_t, opt.init(log_t)), None, length=steps)
        return log_t

    return float(jnp.exp(run(jnp.zeros((), logits.dtype))))


def test_temperature_scaling_on_digits_reduces_exact_ece():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    from sklearn.model_selection import train_test_split

    x, y = sklearn_datasets.load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    x_tr, x_rest, y_tr, y_rest = train_test_split(x, y, train_size=0.25, random_state=0, stratify=y)
    x_cal, x_te, y_cal, y_te = train_test_split(x_rest, y_rest, test_size=0.6, random_state=0, stratify=y_rest)
    y_tr, y_cal, y_te = (jnp.asarray(a, jnp.int32) for a in (y_tr, y_cal, y_te))

    # A linear softmax model trained (unregularised, Adam, 2000 full-batch steps) to near-zero training
    # loss on 449 images: accurate but overconfident on held-out data.
    opt = optax.adam(0.1)

    @jax.jit
    def train(params):
        def step(carry, _):
            p, s = carry
            g = jax.grad(lambda p: _nll(x_tr @ p[0] + p[1], y_tr))(p)
            u, s = opt.update(g, s)
            return (optax.apply_updates(p, u), s), None

        (params, _), _ = jax.lax.scan(step, (params, opt.init(params)), None, length=2000)
        return params

    w, b = train((jnp.zeros((64, 10), jnp.float32), jnp.zeros(10, jnp.float32)))
    z_cal, z_te = (jnp.asarray(a @ w + b, jnp.float64) for a in (x_cal, x_te))
    accuracy = float(jnp.mean(jnp.argmax(z_te, -1) == y_te))
    before = float(cal.ece(z_te, y_te, from_logits=True))

    t_soft = _fit_temperature(lambda z, t: cal.soft_ece(z, t, from_logits=True), z_cal, y_cal)
    t_nll = _fit_temperature(_nll, z_cal, y_cal)
    after_soft = float(cal.ece(z_te / t_soft, y_te, from_logits=True))
    after_nll = float(cal.ece(z_te / t_nll, y_te, from_logits=True))
    print(
        f"\ndigits linear model: test accuracy {accuracy:.4f}; exact test ECE (15 bins) {before:.4f} -> "
        f"{after_soft:.4f} (soft_ece temperature scaling, T = {t_soft:.3f}), {after_nll:.4f} (NLL, T = {t_nll:.3f})"
    )
    assert accuracy > 0.9
    assert before > 0.025  # overconfident
    assert t_soft > 1.2 and t_nll > 1.2  # both soften the logits
    assert after_soft < 0.6 * before and after_nll < 0.6 * before


# ------------------------------------------------------------------------------------------------
# plotting


def test_reliability_plot_smoke():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from jaxmetrics import plotting

    rng = np.random.default_rng(14)
    p, y = _dataset(rng, "top_label", 10)
    stats = cal.reliability_diagram(p, y, num_bins=10)
    filled = np.asarray(stats.count[:-1]) > 0  # equal-width bins (the extra conf = 1.0 bin is a marker)
    ax = plotting.reliability_diagram(stats, show_counts=False)
    containers = {c.get_label(): c for c in ax.containers}
    acc_bars = [c for name, c in containers.items() if name.startswith("accuracy")][0]
    assert len(acc_bars.patches) == filled.sum()
    np.testing.assert_allclose([r.get_height() for r in acc_bars.patches], np.asarray(stats.accuracy[:-1])[filled])
    assert "gap" in containers
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    np.testing.assert_allclose(lines["perfect calibration"].get_xydata(), [[0, 0], [1, 1]])
    assert "confidence = 1.0" in lines  # one-hot rows fill the extra bin
    assert "ECE = " in acc_bars.get_label()
    plt.close(ax.figure)
    # from raw probabilities, classwise, with the count histogram on a twin axis
    ax = plotting.reliability_diagram(p, y, num_bins=5, mode="classwise", class_index=1, edges="netcal")
    assert hasattr(ax, "twin_axis") and len(ax.twin_axis.patches) == 5
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="class_index"):
        plotting.reliability_diagram(cal.reliability_diagram(p, y, mode="classwise"))
