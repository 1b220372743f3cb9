"""Core: numerics, shape checks, validate, the Metric contract helpers and cross-device reduction."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import NamedSharding, PartitionSpec as P

import jaxmetrics
from jaxmetrics import classification as jmc, parallel
from jaxmetrics._src import checks, numerics


# ------------------------------------------------------------------------------------------------
# numerics


def test_safe_div_value_and_finite_gradient_at_zero_denominator():
    f = lambda n, d: numerics.safe_div(n, d, fill=7.0)  # noqa: E731
    assert float(f(1.0, 0.0)) == 7.0 and float(f(1.0, 4.0)) == 0.25
    gn, gd = jax.grad(f, argnums=(0, 1))(1.0, 0.0)
    assert float(gn) == 0.0 and float(gd) == 0.0
    # the naive single-where version is NaN: the double where is what makes the difference
    naive = jax.grad(lambda d: jnp.where(d == 0, 0.0, 1.0 / d))(0.0)
    assert not np.isfinite(naive)


def test_safe_log_sqrt_xlogy_gradients():
    assert float(jax.grad(lambda x: numerics.safe_sqrt(x))(0.0)) == 0.0
    assert float(jax.grad(lambda x: numerics.safe_log(x, fill=0.0))(0.0)) == 0.0
    assert float(numerics.xlogy(0.0, 0.0)) == 0.0
    g = jax.grad(lambda y: numerics.xlogy(0.0, y))(0.0)
    assert np.isfinite(g)
    np.testing.assert_allclose(numerics.xlogy(2.0, 3.0), 2 * np.log(3.0), rtol=1e-12)
    np.testing.assert_allclose(numerics.safe_sqrt(jnp.array([-1.0, 4.0])), [0.0, 2.0])


def test_promotion_rules():
    assert numerics.promote(jnp.ones(2, jnp.bfloat16)).dtype == jnp.float32
    assert numerics.promote(jnp.ones(2, jnp.float16)).dtype == jnp.float32
    assert numerics.promote(jnp.ones(2, jnp.int32)).dtype == jnp.float32
    assert numerics.promote(jnp.ones(2, jnp.float64)).dtype == jnp.float64  # x64 is on in tests
    assert numerics.accumulation_dtype(jnp.ones(2, jnp.bfloat16), jnp.ones(2, jnp.int32)) == jnp.float32


# ------------------------------------------------------------------------------------------------
# checks


def test_shape_errors_name_argument_expected_and_received():
    with pytest.raises(jaxmetrics.ShapeError, match=r"`labels` must have shape \[..., N\] matching `scores` \(5,\); got \(4,\)"):
        checks.check_same_shape("auroc", "labels", np.zeros(4), "scores", np.zeros(5))
    with pytest.raises(jaxmetrics.ShapeError, match=r"jaxmetrics.f1: argument `labels` must be an integer"):
        jmc.f1(np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(jaxmetrics.ShapeError, match=r"`where` must broadcast to the sample shape \(4,\); got \(3,\)"):
        jmc.accuracy(np.zeros((4, 3)), np.zeros(4, int), where=np.ones(3, bool))
    with pytest.raises(jaxmetrics.ShapeError, match=r"`num_classes` is required"):
        jmc.precision(np.zeros(4, int), np.zeros(4, int))
    with pytest.raises(jaxmetrics.ShapeError, match=r"`average` must be one of"):
        jmc.precision(np.zeros((4, 3)), np.zeros(4, int), average="sample")
    assert issubclass(jaxmetrics.ShapeError, ValueError)


def test_shape_errors_happen_at_trace_time_under_jit():
    fn = jax.jit(lambda x, y: jmc.accuracy(x, y))
    with pytest.raises(jaxmetrics.ShapeError, match="`preds`"):
        fn(jnp.zeros((4, 3)), jnp.zeros(5, jnp.int32))


def test_sample_weights_combines_mask_and_weights():
    w = checks.sample_weights("t", (2, 3), jnp.float32, where=np.array([True, False, True]), weights=np.array([[1.0], [2.0]]))
    np.testing.assert_array_equal(w, [[1, 0, 1], [2, 0, 2]])


# ------------------------------------------------------------------------------------------------
# validate


def test_validate_reports_value_problems():
    v = jaxmetrics.validate
    v(probs=np.array([[0.3, 0.7]]), labels=np.array([1]))
    v(probs=np.array([0.3, 0.7]), labels=np.array([1, 0]))  # binary P(y=1)
    cases = [
        (dict(probs=np.array([[0.3, 0.8]])), "sum to 1"),
        (dict(probs=np.array([[1.2, -0.2]])), r"\[0, 1\]"),
        (dict(probs=np.array([[np.nan, 1.0]])), "NaN"),
        (dict(probs=np.array([[0.5, 0.5]]), labels=np.array([2])), r"labels` must lie in \[0, 2\)"),
        (dict(logits=np.array([[0.0, np.inf]])), "finite"),
        (dict(scores=np.array([0.0, np.nan])), "NaN"),
        (dict(labels=np.array([0.5])), "integers"),
        (dict(weights=np.array([1.0, -1.0])), ">= 0"),
    ]
    for kwargs, msg in cases:
        with pytest.raises(jaxmetrics.ValidationError, match=msg):
            v(**kwargs)


# ------------------------------------------------------------------------------------------------
# Metric helpers and parallel reduction


class _Moments(NamedTuple):
    n: jax.Array
    mean: jax.Array
    m2: jax.Array


def _variance_metric():
    """A non-additive state (Chan's parallel variance) to exercise the all_gather path."""

    def init(dtype=None):
        d = jnp.float64
        return _Moments(jnp.zeros((), d), jnp.zeros((), d), jnp.zeros((), d))

    def update(state, x, *, where=None, weights=None):
        x = jnp.asarray(x, state.mean.dtype)
        batch = _Moments(jnp.asarray(x.size, x.dtype), x.mean(), ((x - x.mean()) ** 2).sum())
        return merge(state, batch)

    def merge(a, b):
        n = a.n + b.n
        delta = b.mean - a.mean
        frac = numerics.safe_div(b.n, n)
        return _Moments(n, a.mean + delta * frac, a.m2 + b.m2 + delta**2 * a.n * frac)

    return jaxmetrics.Metric(init, update, merge, lambda s: numerics.safe_div(s.m2, s.n))


def test_reduce_state_with_non_additive_merge_under_shard_map():
    x = np.random.default_rng(0).normal(size=64) * 3 + 1
    mesh = jax.make_mesh((8,), ("d",))
    out = parallel.sharded_compute(_variance_metric(), x, mesh=mesh, axis_name="d")
    np.testing.assert_allclose(out, np.var(x), rtol=1e-12)


def test_reduce_state_under_pmap_and_sharded_jit():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(8, 16, 3))
    labels = rng.integers(0, 3, (8, 16))
    m = jmc.f1_metric(num_classes=3, average="macro")

    def per_device(x, y):
        return parallel.reduce_state(m, m.update(m.init(), x, y), "i")

    states = jax.pmap(per_device, axis_name="i")(logits, labels)
    expected = jmc.f1(logits.reshape(-1, 3), labels.reshape(-1), average="macro")
    np.testing.assert_allclose(m.compute(jax.tree.map(lambda s: s[0], states)), expected, rtol=1e-12)
    # sharded jit over Auto axes: no helper, XLA inserts the collectives
    mesh = jax.make_mesh((8,), ("d",), axis_types=(jax.sharding.AxisType.Auto,))
    xs = jax.device_put(logits.reshape(-1, 3), NamedSharding(mesh, P("d")))
    ys = jax.device_put(labels.reshape(-1), NamedSharding(mesh, P("d")))
    out = jax.jit(lambda a, b: jmc.f1(a, b, average="macro"))(xs, ys)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    auc = jax.jit(lambda a, b: jmc.auroc(jax.nn.softmax(a), b, multi_class="ovr"))(xs, ys)
    np.testing.assert_allclose(auc, jmc.auroc(jax.nn.softmax(logits.reshape(-1, 3)), labels.reshape(-1), multi_class="ovr"), rtol=1e-12)


def test_state_is_a_valid_scan_carry_without_retrace():
    m = jmc.accuracy_metric()
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(5, 32, 4))
    labels = rng.integers(0, 4, (5, 32))
    state, _ = jax.lax.scan(lambda s, b: (m.update(s, *b), None), m.init(), (logits, labels))
    np.testing.assert_allclose(m.compute(state), jmc.accuracy(logits.reshape(-1, 4), labels.reshape(-1)), rtol=1e-12)


def test_one_shot_state_dtype_follows_inputs():
    logits = np.random.default_rng(0).normal(size=(16, 3))
    labels = np.zeros(16, np.int32)
    assert jmc.accuracy(jnp.asarray(logits, jnp.float32), labels).dtype == jnp.float32
    assert jmc.accuracy(logits, labels).dtype == jnp.float64


def test_registry_lists_every_public_classification_callable():
    import inspect

    import jaxmetrics.classification as fam

    known = {id(info.fn) for info in jaxmetrics.registry.values()}
    known |= {id(info.soft) for info in jaxmetrics.registry.values() if info.soft is not None}
    missing = []
    for name in fam.__all__ if hasattr(fam, "__all__") else dir(fam):
        obj = getattr(fam, name)
        if name.startswith("_") or not callable(obj) or inspect.isclass(obj) or name.endswith("_metric"):
            continue
        if name.endswith("_from_confusion") or name == "confusion_counts":
            continue  # building blocks on confusion matrices, not metrics over data
        if id(obj) not in known:
            missing.append(name)
    assert not missing, f"public classification callables not in the registry: {missing}"
