"""Tests for jaxmetrics._src.sortkeys (order-preserving integer keys of floats), against numpy's order."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in cast:RuntimeWarning")

from jaxmetrics._src.sortkeys import count_true, from_order_key, key_dtype, order_key, prefix_counts, prefix_sum


def _special(dtype):
    info = np.finfo(dtype)
    return np.array(
        [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, info.tiny, -info.tiny, info.max, -info.max,
         info.smallest_subnormal, -info.smallest_subnormal, 0.5, -0.5, 3.0, -3.0],
        dtype=dtype,
    )


def _values(dtype, n, seed):
    """Random bit patterns (every exponent, incl. subnormals/inf/nan) plus special values and ties."""
    rng = np.random.default_rng(seed)
    width = np.dtype(dtype).itemsize * 8
    bits = rng.integers(np.iinfo(f"int{width}").min, np.iinfo(f"int{width}").max, size=n, dtype=f"int{width}")
    x = bits.view(dtype)
    x = np.concatenate([x, _special(dtype), rng.choice(_special(dtype), 50), rng.normal(size=200).astype(dtype)])
    return x


def _check_order(x, k):
    """Keys order exactly as the (non-NaN) values; NaN keys all equal and above +inf."""
    x = np.asarray(x, np.float64)
    k = np.asarray(k)
    ok = ~np.isnan(x)
    xs, ks = x[ok], k[ok]
    i, j = np.random.default_rng(0).integers(0, xs.size, size=(2, 20000))
    np.testing.assert_array_equal(xs[i] < xs[j], ks[i] < ks[j])
    np.testing.assert_array_equal(xs[i] == xs[j], ks[i] == ks[j])
    # sorting the keys sorts the values
    np.testing.assert_array_equal(xs[np.argsort(ks, kind="stable")], np.sort(xs))
    if (~ok).any():
        assert len(np.unique(k[~ok])) == 1
        assert k[~ok][0] > ks.max()
    # non-negative values (and NaN) have non-negative keys, negative values negative keys
    np.testing.assert_array_equal(ks >= 0, xs >= 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_order_key_matches_numpy_order(dtype):
    x = _values(dtype, 5000, seed=1)
    k = order_key(jnp.asarray(x))
    assert k.dtype == key_dtype(dtype) and k.shape == x.shape
    _check_order(x, k)
    # -0.0 and +0.0 share key 0
    assert int(order_key(jnp.asarray(np.array(-0.0, dtype)))) == 0


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_order_key_half_precision_upcasts(dtype):
    x = np.asarray(_values(np.float32, 3000, seed=2)).astype(dtype)
    k = order_key(jnp.asarray(x))
    assert k.dtype == jnp.int32
    _check_order(np.asarray(x, np.float32), k)
    np.testing.assert_array_equal(k, order_key(jnp.asarray(x, jnp.float32)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_from_order_key_roundtrip(dtype):
    x = _values(dtype, 2000, seed=3)
    back = np.asarray(from_order_key(order_key(jnp.asarray(x)), dtype))
    nan = np.isnan(x)
    np.testing.assert_array_equal(np.isnan(back), nan)
    np.testing.assert_array_equal(back[~nan], np.where(x[~nan] == 0, 0.0, x[~nan]))
    assert not np.signbit(back[x == 0]).any()


def test_order_key_integers_and_jit_vmap():
    i = jnp.array([3, -1, 7], jnp.int32)
    np.testing.assert_array_equal(order_key(i), i)
    assert order_key(jnp.array([True, False])).dtype == jnp.int32
    x = jnp.asarray(np.random.default_rng(4).normal(size=(3, 50)), jnp.float32)
    np.testing.assert_array_equal(jax.jit(jax.vmap(order_key))(x), order_key(x))
    # grad through a sort of keys is zero and finite
    g = jax.grad(lambda v: jnp.sum(jnp.sort(order_key(v)).astype(jnp.float32)))(x[0])
    assert np.all(np.asarray(g) == 0)


@pytest.mark.parametrize("n", [1, 63, 64, 65, 4097, 300_001])
def test_prefix_counts_and_count_true_are_exact(n):
    """Blockwise-matmul prefix counts (1-3 packed 0/1 columns) equal numpy's integer cumsum."""
    rng = np.random.default_rng(n)
    cols = [rng.random(n) < p for p in (0.5, 0.05, 0.97)]
    f = jax.jit(lambda *c: prefix_counts(list(c)))
    for k in (1, 2, 3):
        out = f(*cols[:k])
        for c, o in zip(cols, out):
            assert o.dtype == jnp.int32
            np.testing.assert_array_equal(o, np.cumsum(c))
    assert int(count_true(jnp.asarray(cols[1]))) == int(cols[1].sum())


def test_prefix_sum_of_floats_matches_cumsum():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 10_000))
    np.testing.assert_allclose(jax.jit(prefix_sum)(jnp.asarray(x)), np.cumsum(x, -1), rtol=1e-9, atol=1e-9)
    x32 = jnp.asarray(rng.random((1, 100_000)), jnp.float32)
    # blockwise sums: float32 error well below a sequential sum's
    np.testing.assert_allclose(jax.jit(prefix_sum)(x32)[0, -1], np.sum(np.asarray(x32, np.float64)), rtol=1e-6)
