"""The contract suite (DESIGN.md §6): every registered metric, every check.

A metric gets all of this by being registered (``jaxmetrics.registry``) and having a
:class:`~tests.contract.spec.Spec` in some ``tests/contract/cases_*.py``. A check that cannot apply to
an entry must be listed, with its reason, in the entry's ``exceptions``; the test then reports a skip
carrying that reason.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import zlib

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import NamedSharding, PartitionSpec as P

import jaxmetrics
from jaxmetrics import parallel
from jaxmetrics._src.registry import CONTRACT_CHECKS
from tests import contract
from tests.contract.spec import Case, Spec

SPECS: dict[str, Spec] = {}
for _mod in pkgutil.iter_modules(contract.__path__):
    if _mod.name.startswith("cases_"):
        SPECS.update(importlib.import_module(f"tests.contract.{_mod.name}").SPECS)

NAMES = sorted(jaxmetrics.registry)
RTOL = 1e-6  # float64 streaming/sharding agreement (DESIGN.md §6.4)


# ------------------------------------------------------------------------------------------------
# helpers


def _entry(name, check):
    info = jaxmetrics.registry[name]
    if check in info.exceptions:
        pytest.skip(f"{name}: documented exception for '{check}': {info.exceptions[check]}")
    if name not in SPECS:
        pytest.fail(f"registered metric {name!r} has no contract Spec in tests/contract/cases_*.py")
    return info, SPECS[name]


def _rng(name, check):
    """A generator seeded by (name, check) — stable across processes (``hash`` of a str is not)."""
    return np.random.default_rng(zlib.crc32(f"{name}/{check}".encode()))


def _call(info, case, args=None, where="case", weights="case"):
    args = case.args if args is None else args
    where = case.where if isinstance(where, str) else where
    weights = case.weights if isinstance(weights, str) else weights
    call = SPECS[info.name].call if info.name in SPECS else None
    if call is not None:
        return call(info.fn, tuple(args), case.kwargs, where, weights)
    return info.fn(*args, **case.kwargs, where=where, weights=weights)


def _as_tree(x):
    return jax.tree.map(np.asarray, x)


def _assert_close(actual, expected, rtol, atol=0.0, what=""):
    a_leaves, a_def = jax.tree.flatten(_as_tree(actual))
    e_leaves, e_def = jax.tree.flatten(_as_tree(expected))
    assert a_def == e_def, f"{what}: output structure {a_def} != {e_def}"
    for a, e in zip(a_leaves, e_leaves):
        np.testing.assert_allclose(
            np.asarray(a, np.float64), np.asarray(e, np.float64), rtol=rtol, atol=atol, equal_nan=True,
            err_msg=what,
        )


def _cast_floats(args, dtype):
    return tuple(
        jnp.asarray(a, dtype) if np.issubdtype(np.asarray(a).dtype, np.floating) else jnp.asarray(a) for a in args
    )


def _take(x, idx):
    return None if x is None else x[idx]


def _split(case: Case, bounds):
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        yield tuple(a[lo:hi] for a in case.args), _take(case.where, slice(lo, hi)), _take(case.weights, slice(lo, hi))


# ------------------------------------------------------------------------------------------------
# registry-wide sanity


def test_every_registered_metric_has_a_spec():
    missing = [n for n in NAMES if n not in SPECS]
    assert not missing, f"registered metrics without a contract Spec: {missing}"


def test_every_spec_names_a_registered_metric():
    unknown = [n for n in SPECS if n not in jaxmetrics.registry]
    assert not unknown, f"Specs for names that are not registered: {unknown}"


def test_registry_entries_are_complete():
    for name, info in jaxmetrics.registry.items():
        assert info.name == name and callable(info.fn), name
        assert info.family, name
        assert info.oracle, f"{name}: registry entry names no oracle"
        assert set(info.exceptions) <= set(CONTRACT_CHECKS)
        for reason in info.exceptions.values():
            assert len(reason) > 20, f"{name}: exception reasons must explain themselves"


# ------------------------------------------------------------------------------------------------
# 1. jit == eager, no retrace


@pytest.mark.parametrize("name", NAMES)
def test_jit_matches_eager_without_retrace(name):
    info, spec = _entry(name, "jit")
    rng = _rng(name, "jit")
    case = spec.make(rng)
    eager = _call(info, case)

    @jax.jit
    @chex.assert_max_traces(n=1)
    def jitted(args, where, weights):
        return _call(info, case, args, where, weights)

    out = jitted(case.args, case.where, case.weights)
    _assert_close(out, eager, rtol=1e-9, atol=1e-12, what=f"{name}: jit vs eager")
    case2 = spec.make(rng)  # same shapes, new values: must not retrace
    jitted(case2.args, case2.where, case2.weights)
    chex.clear_trace_counter()


# ------------------------------------------------------------------------------------------------
# 2. vmap over a leading seeds axis == Python loop == a leading batch axis


@pytest.mark.parametrize("name", NAMES)
def test_vmap_over_seeds_matches_loop(name):
    info, spec = _entry(name, "vmap")
    rng = _rng(name, "vmap")
    cases = [spec.make(rng) for _ in range(3)]
    stack = lambda xs: None if xs[0] is None else np.stack(xs)  # noqa: E731
    args = tuple(np.stack([c.args[i] for c in cases]) for i in range(len(cases[0].args)))
    where = stack([c.where for c in cases])
    weights = stack([c.weights for c in cases])
    batched = jax.vmap(lambda a, m, w: _call(info, cases[0], a, m, w))(args, where, weights)
    looped = [_call(info, c) for c in cases]
    expected = jax.tree.map(lambda *xs: np.stack(xs), *[_as_tree(x) for x in looped])
    _assert_close(batched, expected, rtol=1e-9, atol=1e-12, what=f"{name}: vmap vs loop")
    # leading axes are batch axes (DESIGN.md §2.4): the stacked call itself equals the loop too
    leading = _call(info, cases[0], args, where, weights)
    _assert_close(leading, expected, rtol=1e-9, atol=1e-12, what=f"{name}: leading batch axis vs loop")


# ------------------------------------------------------------------------------------------------
# 3. finite gradients on ordinary and edge inputs; check_grads for differentiable metrics


def _grad_case(info, case):
    float_idx = [i for i in case.diff_argnums if np.issubdtype(np.asarray(case.args[i]).dtype, np.floating)]

    def total(*diff):
        args = list(case.args)
        for i, x in zip(float_idx, diff):
            args[i] = x
        out = _call(info, case, tuple(args))
        return sum(jnp.sum(leaf) for leaf in jax.tree.leaves(out) if jnp.issubdtype(leaf.dtype, jnp.floating))

    primals = [jnp.asarray(case.args[i]) for i in float_idx]
    return total, primals


@pytest.mark.parametrize("name", NAMES)
def test_gradients_are_finite(name):
    info, spec = _entry(name, "grad")
    rng = _rng(name, "grad")
    cases = [spec.make(rng)] + list(spec.edges(rng))
    assert len(cases) >= 2, f"{name}: Spec.edges must provide edge cases for the gradient check"
    for case in cases:
        total, primals = _grad_case(info, case)
        grad = jax.grad(total, argnums=tuple(range(len(primals))))
        grads = (jax.jit(grad) if spec.jit_grad else grad)(*primals)
        for g in grads:
            assert np.all(np.isfinite(np.asarray(g))), f"{name}: non-finite gradient on '{case.label}' input"


@pytest.mark.parametrize("name", [n for n in NAMES if jaxmetrics.registry[n].differentiable])
def test_gradients_match_finite_differences(name):
    info, spec = _entry(name, "grad")
    case = spec.make(_rng(name, "check_grads"))
    total, primals = _grad_case(info, case)
    jax.test_util.check_grads(total, primals, order=1, modes=["rev"], atol=1e-4, rtol=1e-4)


# ------------------------------------------------------------------------------------------------
# 4. streaming: random batch splits == one-shot; merge laws; fixed state shapes and dtypes


def _state_signature(state):
    leaves, treedef = jax.tree.flatten(state)
    return treedef, [(jnp.shape(x), jnp.result_type(x), bool(getattr(x, "weak_type", False))) for x in leaves]


@pytest.mark.parametrize("name", [n for n in NAMES if jaxmetrics.registry[n].mergeable])
def test_streaming_merge_matches_one_shot(name):
    info, spec = _entry(name, "stream")
    rng = _rng(name, "stream")
    case = spec.make(rng)
    n = case.args[0].shape[0]
    metric = info.streaming(**case.kwargs)
    init = metric.init()
    sig = _state_signature(init)
    assert not any(weak for _, _, weak in sig[1]), (
        f"{name}: init() state has weak-typed leaves"
    )
    cuts = np.sort(rng.choice(np.arange(1, n), size=3, replace=False))
    bounds = [0, *cuts.tolist(), n]
    update = jax.jit(metric.update)
    states = [update(init, *a, where=m, weights=w) for a, m, w in _split(case, bounds)]
    for s in states:
        assert _state_signature(s) == sig, f"{name}: update changed the state's shapes/dtypes"
    # sequential streaming == one-shot
    seq = init
    for a, m, w in _split(case, bounds):
        seq = update(seq, *a, where=m, weights=w)
    one_shot = _call(info, case)
    _assert_close(metric.compute(seq), one_shot, rtol=RTOL, atol=1e-12, what=f"{name}: stream vs one-shot")
    # merge of independent batch states == one-shot, in a shuffled order
    order = rng.permutation(len(states))
    merged = functools.reduce(metric.merge, [states[i] for i in order])
    _assert_close(metric.compute(merged), one_shot, rtol=RTOL, atol=1e-12, what=f"{name}: merge vs one-shot")
    # associativity and identity
    a, b, c = states[0], states[1], states[2]
    # associative up to rounding: non-additive merges (Chan's co-moments) cancel, so the tolerance is
    # relative to each leaf's magnitude, not to each (possibly ~0) entry
    left, right = metric.merge(metric.merge(a, b), c), metric.merge(a, metric.merge(b, c))
    for l_leaf, r_leaf in zip(jax.tree.leaves(_as_tree(left)), jax.tree.leaves(_as_tree(right))):
        scale = float(np.max(np.abs(np.nan_to_num(np.asarray(r_leaf, np.float64), posinf=0, neginf=0)), initial=0))
        np.testing.assert_allclose(np.asarray(l_leaf, np.float64), np.asarray(r_leaf, np.float64), rtol=1e-12,
                                   atol=1e-12 * scale, equal_nan=True, err_msg=f"{name}: merge associativity")
    _assert_close(metric.merge(init, a), a, rtol=0, what=f"{name}: init() is the left identity")
    _assert_close(metric.merge(a, init), a, rtol=0, what=f"{name}: init() is the right identity")


# ------------------------------------------------------------------------------------------------
# 5. shard_map over 8 CPU devices == single device


@pytest.mark.parametrize("name", NAMES)
def test_shard_map_matches_single_device(name):
    info, spec = _entry(name, "shard")
    case = spec.make(_rng(name, "shard"))
    assert len(jax.devices()) == 8, "conftest must provide 8 CPU devices"
    mesh = jax.make_mesh((8,), ("data",))
    expected = _call(info, case)
    if info.mergeable:
        metric = info.streaming(**case.kwargs)
        out = parallel.sharded_compute(metric, *case.args, mesh=mesh, axis_name="data", where=case.where,
                                       weights=case.weights)
    else:  # one-shot metric: gather the shards inside shard_map, compute on every device
        inputs = [x for x in (*case.args, case.where, case.weights) if x is not None]
        inputs = [jax.device_put(jnp.asarray(x), NamedSharding(mesh, P("data"))) for x in inputs]
        n_args = len(case.args)

        def local(*xs):
            xs = [parallel.gather(x, "data") for x in xs]
            args, rest = xs[:n_args], xs[n_args:]
            where = rest.pop(0) if case.where is not None else None
            weights = rest.pop(0) if case.weights is not None else None
            return _call(info, case, tuple(args), where, weights)

        fn = jax.shard_map(local, mesh=mesh, in_specs=tuple(P("data") for _ in inputs), out_specs=P(),
                           check_vma=False)
        out = jax.jit(fn)(*inputs)
    _assert_close(out, expected, rtol=RTOL, atol=1e-12, what=f"{name}: shard_map vs single device")


# ------------------------------------------------------------------------------------------------
# 6. bf16/f16 inputs: float32 results within the documented tolerance


@pytest.mark.parametrize("low", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", NAMES)
def test_low_precision_inputs_accumulate_in_float32(name, low):
    info, spec = _entry(name, "dtype")
    case = spec.make(_rng(name, "dtype"))
    low_args = _cast_floats(case.args, low)
    low_weights = None if case.weights is None else jnp.asarray(case.weights, low)
    out = _call(info, case, low_args, case.where, low_weights)
    # reference: the same (rounded) values computed in float64
    ref_args = _cast_floats(low_args, jnp.float64)
    ref_weights = None if low_weights is None else jnp.asarray(low_weights, jnp.float64)
    ref = _call(info, case, ref_args, case.where, ref_weights)
    for leaf in jax.tree.leaves(out):
        if jnp.issubdtype(leaf.dtype, jnp.floating):
            assert leaf.dtype == jnp.float32, f"{name}: {low} inputs gave a {leaf.dtype} result, not float32"
    _assert_close(out, ref, rtol=spec.low_precision_rtol, atol=spec.low_precision_rtol,
                  what=f"{name}: {low} vs float64 on the same values")


# ------------------------------------------------------------------------------------------------
# 7. bad shapes raise a ShapeError naming the argument, at trace time


@pytest.mark.parametrize("name", NAMES)
def test_bad_shapes_raise_clear_error(name):
    info, spec = _entry(name, "bad_input")
    bad = list(spec.bad(_rng(name, "bad")))
    assert bad, f"{name}: Spec.bad must provide at least one wrong-shape input"
    for case, argname in bad:
        fn = jax.jit(lambda args, where, weights, case=case: _call(info, case, args, where, weights))
        with pytest.raises(jaxmetrics.ShapeError, match=f"`{argname}`"):
            fn(case.args, case.where, case.weights)
