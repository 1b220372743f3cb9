"""Differentiable ranking primitives of ``jaxmetrics.soft``: soft_rank, soft_sort, soft_topk.

Oracles: ``scipy.stats.rankdata`` (average ranks) and ``numpy.sort`` as the temperature goes to 0; the
exact top-k indicator; small numpy references of the documented formulas at finite temperature;
analytic identities (soft ranks always sum to n(n+1)/2, the soft sort tends to the mean as τ → ∞);
``jax.test_util.check_grads`` in float64.
"""

from __future__ import annotations

import functools

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy.special import expit, softmax  # noqa: E402
from scipy.stats import rankdata  # noqa: E402

from jaxmetrics import ShapeError, soft  # noqa: E402


def _data(seed, shape=(5, 12), ties=True, gap=None):
    """Random values; ``ties`` rounds to a coarse grid (many ties); ``gap`` makes them tie-free with
    every pairwise gap >= gap (a shuffled arithmetic sequence plus small jitter)."""
    rng = np.random.default_rng(seed)
    if gap is not None:
        n = shape[-1]
        base = np.stack([rng.permutation(n) for _ in range(int(np.prod(shape[:-1])))]).reshape(shape)
        return base * 2 * gap + rng.random(shape) * gap - n * gap
    x = rng.normal(size=shape)
    return np.round(x * 2) / 2 if ties else x


def _ref_rank(x, tau, descending=True):
    """numpy reference of the documented soft-rank formula (all items valid)."""
    d = x[..., None, :] - x[..., :, None]  # x_j - x_i
    k = expit((d if descending else -d) / tau)
    n = x.shape[-1]
    k = k * (1 - np.eye(n))
    return 1 + k.sum(-1)


def _ref_sort(x, tau, descending=True):
    """numpy reference of SoftSort: softmax(-|x_j - sort(x)_i| / tau) @ x."""
    h = -np.sort(-x, -1) if descending else np.sort(x, -1)
    p = softmax(-np.abs(x[..., None, :] - h[..., :, None]) / tau, axis=-1)
    return (p * x[..., None, :]).sum(-1)


rank = jax.jit(soft.soft_rank, static_argnames=("descending", "chunk_size"))
sort = jax.jit(soft.soft_sort, static_argnames=("descending", "chunk_size"))
topk = jax.jit(soft.soft_topk, static_argnames=("k", "stop_gradient"))


# --------------------------------------------------------------------------------------------------
# soft_rank


@pytest.mark.parametrize("descending", [True, False])
def test_soft_rank_converges_to_average_ranks_with_ties(descending):
    x = _data(0, ties=True)  # grid 0.5: gaps >= 0.5 between distinct values
    exact = np.stack([rankdata(-r if descending else r, method="average") for r in x])
    errors = []
    for tau in [1.0, 0.3, 0.1, 0.03, 0.01]:
        errors.append(np.abs(np.asarray(rank(x, temperature=tau, descending=descending)) - exact).max())
    assert all(b < a for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 1e-12
    np.testing.assert_allclose(rank(x, temperature=1e-6, descending=descending), exact, rtol=1e-12)


def test_soft_rank_matches_formula_and_sum_identity():
    x = _data(1, ties=False)
    for tau in [0.05, 0.7, 3.0]:
        r = np.asarray(rank(x, temperature=tau))
        np.testing.assert_allclose(r, _ref_rank(x, tau), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(rank(x, temperature=tau, descending=False)),
                                   _ref_rank(x, tau, descending=False), rtol=1e-12)
        n = x.shape[-1]  # σ(a) + σ(−a) = 1: soft ranks always sum to n(n+1)/2
        np.testing.assert_allclose(r.sum(-1), n * (n + 1) / 2, rtol=1e-13)
    # τ → ∞: every pair is ½, every rank is the middle rank
    np.testing.assert_allclose(rank(x, temperature=1e12), np.full(x.shape, (x.shape[-1] + 1) / 2), rtol=1e-9)


@pytest.mark.parametrize("chunk_size", [1, 5, 40])
def test_soft_rank_chunked_equals_unchunked(chunk_size):
    x = _data(2, shape=(3, 4, 12), ties=True)
    where = np.random.default_rng(2).random(x.shape) > 0.25
    f = lambda v, cs: rank(v, temperature=0.4, where=where, chunk_size=cs)  # noqa: E731
    np.testing.assert_allclose(f(x, chunk_size), f(x, None), rtol=1e-14, atol=0)
    g = lambda cs: jax.grad(lambda v: (f(v, cs) * jnp.arange(12.0)).sum())(x)  # noqa: E731
    np.testing.assert_allclose(g(chunk_size), g(None), rtol=1e-12, atol=1e-15)


def test_soft_rank_mask_equals_compacted_list():
    rng = np.random.default_rng(3)
    x = _data(3, shape=(6, 10), ties=True)
    where = rng.random(x.shape) > 0.3
    where[0] = False  # a fully masked row
    padded = np.where(where, x, np.nan)  # padding values never matter
    padded[1, ~where[1]] = np.inf
    out = np.asarray(rank(padded, temperature=0.3, where=where, chunk_size=4))
    for i in range(x.shape[0]):
        expect = np.zeros(x.shape[-1])
        if where[i].any():
            expect[where[i]] = _ref_rank(x[i][where[i]], 0.3)
        np.testing.assert_allclose(out[i], expect, rtol=1e-12)


def test_soft_rank_infinite_values():
    x = np.array([np.inf, 1.0, -np.inf, np.inf, 0.0, -np.inf])
    r = np.asarray(rank(x, temperature=1e-3))
    np.testing.assert_allclose(r, rankdata(-x, method="average"), rtol=1e-12)  # equal infinities tie
    g = jax.grad(lambda v: (rank(v, temperature=0.5) * jnp.arange(6.0)).sum())(x)
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(np.asarray(g)[[0, 2, 3, 5]], 0)  # infinite values: saturated, no slope


# --------------------------------------------------------------------------------------------------
# soft_sort


@pytest.mark.parametrize("descending", [True, False])
def test_soft_sort_converges_to_sort_with_ties(descending):
    x = _data(4, ties=True)
    exact = -np.sort(-x, -1) if descending else np.sort(x, -1)
    errors = [np.abs(np.asarray(sort(x, temperature=t, descending=descending)) - exact).max()
              for t in [1.0, 0.3, 0.1, 0.03]]
    assert all(b < a for a, b in zip(errors, errors[1:])), errors
    np.testing.assert_allclose(sort(x, temperature=1e-4, descending=descending), exact, rtol=1e-12, atol=1e-12)


def test_soft_sort_matches_softsort_formula():
    x = _data(5, ties=False)
    for tau in [0.05, 0.5, 2.0]:
        for desc in [True, False]:
            np.testing.assert_allclose(sort(x, temperature=tau, descending=desc), _ref_sort(x, tau, desc),
                                       rtol=1e-11, atol=1e-12)
    out = np.asarray(sort(x, temperature=0.5))  # convex combinations: within the range of the inputs
    assert np.all(out <= x.max(-1, keepdims=True) + 1e-12) and np.all(out >= x.min(-1, keepdims=True) - 1e-12)
    np.testing.assert_allclose(sort(x, temperature=1e9), np.broadcast_to(x.mean(-1, keepdims=True), x.shape),
                               rtol=1e-6)  # τ → ∞: uniform rows


@pytest.mark.parametrize("chunk_size", [4, 30])
def test_soft_sort_chunked_and_masked(chunk_size):
    rng = np.random.default_rng(6)
    x = _data(6, shape=(4, 9), ties=True)
    where = rng.random(x.shape) > 0.3
    where[0] = False
    padded = np.where(where, x, np.nan)
    out = np.asarray(sort(padded, temperature=0.3, where=where, chunk_size=chunk_size))
    np.testing.assert_allclose(out, np.asarray(sort(padded, temperature=0.3, where=where)), rtol=1e-13, atol=1e-15)
    for i in range(x.shape[0]):
        m = where[i].sum()
        expect = np.zeros(x.shape[-1])
        if m:
            expect[:m] = _ref_sort(x[i][where[i]], 0.3)
        np.testing.assert_allclose(out[i], expect, rtol=1e-11, atol=1e-12)


def test_soft_sort_infinite_values():
    x = np.array([np.inf, 1.0, -np.inf, np.inf, 0.0, 2.5])
    out = np.asarray(sort(x, temperature=1e-3))
    np.testing.assert_array_equal(out, -np.sort(-x))
    g = jax.grad(lambda v: jnp.where(jnp.isfinite(sort(v, temperature=0.7)), sort(v, temperature=0.7), 0)
                 @ jnp.arange(6.0))(x)
    assert np.all(np.isfinite(g))


# --------------------------------------------------------------------------------------------------
# soft_topk


def _exact_topk(x, k, valid):
    out = np.zeros(x.shape)
    for i in range(x.shape[0]):
        idx = np.flatnonzero(valid[i])
        top = idx[np.argsort(-x[i, idx], kind="stable")[:k]]
        out[i, top] = 1
    return out


@pytest.mark.parametrize("k", [1, 3, 8])
def test_soft_topk_converges_to_indicator(k):
    rng = np.random.default_rng(7)
    x = _data(7, shape=(6, 10), ties=False, gap=0.05)
    where = rng.random(x.shape) > 0.2
    where[0, 3:] = False  # 3 valid items: with k >= 3 all are in
    exact = _exact_topk(x, k, where)
    errors = [np.abs(np.asarray(topk(x, k, temperature=t, where=where)) - exact).max() for t in [0.1, 0.03, 0.01]]
    assert all(b < a for a, b in zip(errors, errors[1:])) or errors[0] == 0, errors
    np.testing.assert_allclose(topk(x, k, temperature=1e-5, where=where), exact, atol=1e-12)


def test_soft_topk_formula_ties_and_edges():
    x = np.array([[0.1, 0.9, 0.5, 0.3, 0.5]])
    # k = 2: the 2nd and 3rd values tie at 0.5 -> both get exactly ½
    np.testing.assert_allclose(topk(x, 2, temperature=1e-4), [[0, 1, 0.5, 0, 0.5]], atol=1e-12)
    # formula: σ((x − t)/τ), t halfway between x_(k) and x_(k+1)
    tau = 0.2
    np.testing.assert_allclose(topk(x, 1, temperature=tau), expit((x - 0.7) / tau), rtol=1e-12)
    np.testing.assert_allclose(topk(x, 4, temperature=tau), expit((x - 0.2) / tau), rtol=1e-12)
    np.testing.assert_array_equal(topk(x, 5, temperature=tau), np.ones_like(x))  # k >= n
    np.testing.assert_array_equal(topk(x, 9, temperature=tau, where=x > 0.2), (x > 0.2).astype(float))
    inf = np.array([[np.inf, -np.inf, np.inf, 0.0, 1.0]])
    np.testing.assert_allclose(topk(inf, 2, temperature=0.1), [[1, 0, 1, 0, 0]], atol=1e-12)
    np.testing.assert_allclose(topk(inf, 1, temperature=0.1), [[0.5, 0, 0.5, 0, 0]], atol=1e-12)  # tied infs
    np.testing.assert_allclose(topk(inf, 3, temperature=1e-3), [[1, 0, 1, 0, 1]], atol=1e-12)


def test_soft_topk_stop_gradient_semantics():
    x = _data(8, shape=(10,), ties=False, gap=0.1)
    jac_sg = np.asarray(jax.jacobian(lambda v: topk(v, 4, temperature=0.2))(x))
    np.testing.assert_array_equal(jac_sg, np.diag(np.diag(jac_sg)))  # each item moves only itself
    assert np.all(np.diag(jac_sg) > 0)
    jac = np.asarray(jax.jacobian(lambda v: topk(v, 4, temperature=0.2, stop_gradient=False))(x))
    order = np.argsort(-x)
    boundary = order[[3, 4]]  # the k-th and (k+1)-th items move the cut for everybody
    off = jac - np.diag(np.diag(jac))
    others = np.delete(np.arange(10), boundary)
    assert np.all(off[np.ix_(others, boundary)] < 0) and off[boundary[0], boundary[1]] < 0
    assert np.count_nonzero(off[:, others]) == 0
    # the true derivative: matches finite differences
    jax.test_util.check_grads(lambda v: topk(v, 4, temperature=0.2, stop_gradient=False), (x,), order=1,
                              modes=["fwd", "rev"], atol=1e-6, rtol=1e-6)


# --------------------------------------------------------------------------------------------------
# gradients, transformations, dtypes, errors


def test_check_grads_float64():
    x = _data(9, shape=(3, 8), ties=False, gap=0.05)
    where = np.ones(x.shape, bool)
    where[1, 2] = False
    jax.test_util.check_grads(lambda v: rank(v, temperature=0.3, where=where), (x,), order=2, modes=["rev"],
                              atol=1e-5, rtol=1e-5)
    for f in [
        lambda v: rank(v, temperature=0.3, descending=False, chunk_size=3),
        lambda v: sort(v, temperature=0.3, where=where, chunk_size=5),
        lambda v: sort(v, temperature=0.3, descending=False),
    ]:
        jax.test_util.check_grads(f, (x,), order=1, modes=["fwd", "rev"], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ["rank", "sort", "topk", "topk_through"])
def test_gradients_finite_on_edges(name):
    fns = {
        "rank": lambda v, w, t: rank(v, temperature=t, where=w, chunk_size=3),
        "sort": lambda v, w, t: sort(v, temperature=t, where=w, chunk_size=3),
        "topk": lambda v, w, t: topk(v, 3, temperature=t, where=w),
        "topk_through": lambda v, w, t: topk(v, 3, temperature=t, where=w, stop_gradient=False),
    }
    f = fns[name]
    x = _data(10, shape=(7,), ties=True)
    inputs = [
        (np.zeros(7), None, "all tied"),
        (np.round(x), None, "ties"),
        (np.array([np.inf, -np.inf, np.inf, 0.0, 1.0, -np.inf, 2.0]), None, "+-inf"),
        (np.array([np.inf, np.inf, np.inf, np.inf, -np.inf, -np.inf, 0.0]), None, "only infinities near the cut"),
        (np.array([np.inf, -np.inf, np.nan, 1.0, np.nan, 0.0, 2.0]),
         np.array([1, 1, 0, 1, 0, 1, 0], bool), "NaN padding masked, inf valid"),
        (np.array([np.inf, -np.inf, 5.0, 5.0, 5.0, 5.0, 5.0]), np.array([1, 1, 0, 0, 0, 0, 0], bool),
         "masked between +inf and -inf"),
        (x, np.zeros(7, bool), "all masked"),
        (np.sign(x) * 1e300, None, "huge"),
    ]
    for v, w, label in inputs:
        for t in [1e-6, 0.5]:
            out = f(v, w, t)
            assert not np.any(np.isnan(np.asarray(out))), (name, label)

            def scalar(u, w=w, t=t):
                o = f(u, w, t)
                return jnp.where(jnp.isfinite(o), o, 0) @ jnp.linspace(-1.0, 2.0, 7)

            g = np.asarray(jax.grad(scalar)(v))
            assert np.all(np.isfinite(g)), (name, label, t, g)
            if w is not None:
                assert np.all(g[~w] == 0), (name, label)


def test_vmap_jit_and_traced_temperature():
    x = _data(11, shape=(4, 9), ties=True)
    vmapped = jax.jit(jax.vmap(lambda v: jnp.stack([soft.soft_rank(v, temperature=0.3),
                                                     soft.soft_sort(v, temperature=0.3, chunk_size=4),
                                                     soft.soft_topk(v, 3, temperature=0.3)])))(x)
    np.testing.assert_allclose(vmapped[:, 0], rank(x, temperature=0.3), rtol=1e-14)
    np.testing.assert_allclose(vmapped[:, 1], sort(x, temperature=0.3), rtol=1e-13)
    np.testing.assert_allclose(vmapped[:, 2], topk(x, 3, temperature=0.3), rtol=1e-14)

    traces = []

    @jax.jit
    def f(v, t):
        traces.append(1)
        return soft.soft_rank(v, temperature=t) + soft.soft_sort(v, temperature=t) + soft.soft_topk(v, 2, temperature=t)

    f(x, 0.5)
    f(x, jnp.asarray(0.1))  # an annealed (traced) temperature does not recompile
    assert len(traces) == 1


def test_low_precision_and_integer_inputs():
    x = _data(12, shape=(10,), ties=True)
    for fn in [rank, sort, functools.partial(topk, k=3)]:
        low = fn(jnp.asarray(x, jnp.bfloat16), temperature=0.5)
        assert low.dtype == jnp.float32
        ref = fn(jnp.asarray(jnp.asarray(x, jnp.bfloat16), jnp.float64), temperature=0.5)
        np.testing.assert_allclose(low, ref, rtol=1e-5, atol=1e-6)
    assert rank(jnp.arange(5), temperature=1.0).dtype == jnp.float32


def test_errors():
    x = jnp.ones(5)
    for fn in [soft.soft_rank, soft.soft_sort, functools.partial(soft.soft_topk, k=2)]:
        for bad in [0.0, -1.0, float("inf"), float("nan")]:
            with pytest.raises(ValueError, match="`temperature`"):
                fn(x, temperature=bad)
        with pytest.raises(ShapeError, match="`where`"):
            fn(x, where=jnp.ones(4, bool))
        with pytest.raises(ShapeError, match="`x`"):
            fn(jnp.float32(1.0))
    for fn in [soft.soft_rank, soft.soft_sort]:
        for bad in [0, 2.5, True]:
            with pytest.raises(ShapeError, match="`chunk_size`"):
                fn(x, chunk_size=bad)
    for bad in [0, 1.5, None]:
        with pytest.raises(ShapeError, match="`k`"):
            soft.soft_topk(x, bad)


def test_chunked_memory_is_bounded():
    """With chunk_size, no n×n intermediate exists in the jaxpr of the value or of its gradient."""
    n, cs = 96, 8
    x = jnp.linspace(-1.0, 1.0, n)

    def shapes(jaxpr):
        out = set()
        for eqn in jaxpr.eqns:
            for v in list(eqn.invars) + list(eqn.outvars):
                if hasattr(v, "aval") and hasattr(v.aval, "shape"):
                    out.add(tuple(v.aval.shape))
            for p in eqn.params.values():
                for sub in (p if isinstance(p, (tuple, list)) else [p]):
                    inner = getattr(sub, "jaxpr", None)
                    if inner is not None:
                        out |= shapes(getattr(inner, "jaxpr", inner))
                    elif hasattr(sub, "eqns"):
                        out |= shapes(sub)
        return out

    for fn in [soft.soft_rank, soft.soft_sort]:
        for g in [lambda v, fn=fn: fn(v, temperature=0.1, chunk_size=cs).sum(),
                  jax.grad(lambda v, fn=fn: (fn(v, temperature=0.1, chunk_size=cs) * v).sum())]:
            found = shapes(jax.make_jaxpr(g)(x).jaxpr)
            assert (cs, n) in found, fn
            assert not any(len(s) >= 2 and s[-1] == n and s[-2] == n for s in found), (fn, sorted(found))
