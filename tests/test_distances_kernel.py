"""MMD² and KID against numpy references on scikit-learn kernels (tests/reference/mmd.py): U and V
estimators, every kernel, the median heuristic (scipy pdist), chunking, masks and weights, KID on the
same subset indices, analytic values, gradients, compiled memory of the chunked path, and real data
(scikit-learn's digits)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxmetrics
from jaxmetrics.distances import kernel as km
from tests.reference import mmd as ref

RTOL = 1e-6


def _close(actual, expected, rtol=RTOL, atol=1e-12):
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected, rtol=rtol, atol=atol)


def _sets(rng, n=40, m=32, d=5):
    x = rng.normal(size=(n, d))
    y = rng.normal(size=(m, d)) * 1.2 + 0.4
    y[3] = y[2]  # a tie
    return x, y


def test_mmd_matches_reference_for_every_kernel_and_estimator():
    rng = np.random.default_rng(0)
    x, y = _sets(rng)
    # the default: RBF, median heuristic, unbiased (torch-fidelity's mmd2); chunked == one block
    bw = ref.median_bandwidth(x, y)
    _close(km.median_heuristic(x, y), bw, rtol=1e-12)
    expected = ref.mmd2(x, y)
    _close(km.mmd(x, y), expected)
    _close(km.mmd(x, y, chunk_size=7), expected)  # 40 = 5·7 + 5: a padded last block
    for kernel, estimator, params in [
        ("laplacian", "unbiased", dict(bandwidth=1.5)),
        ("imq", "biased", dict(bandwidth=1.0, beta=0.7)),
        ("polynomial", "unbiased", dict(degree=2, gamma=0.3, coef0=0.5)),
    ]:
        out = km.mmd(x, y, kernel=kernel, estimator=estimator, **params)
        bandwidth = params.pop("bandwidth", 1.0)
        _close(out, ref.mmd2(x, y, kernel, estimator, bandwidth=bandwidth, **params))
    # MMD (not squared) = √max(MMD², 0); a callable kernel is used as is ("linear": test_analytic_values)
    _close(km.mmd(x, y, squared=False, estimator="biased", bandwidth=0.8),
           np.sqrt(ref.mmd2(x, y, "rbf", "biased", bandwidth=0.8)))
    lin = lambda a, b: a @ b.T  # noqa: E731
    _close(km.mmd(x, y, kernel=lin, estimator="biased"), ref.mmd2(x, y, "linear", "biased"))


def test_median_heuristic_subsample_masks_and_weights():
    rng = np.random.default_rng(1)
    x, y = _sets(rng)
    # the evenly spaced subset when the pooled sample is larger than median_sample_size
    _close(km.median_heuristic(x, y, median_sample_size=20), ref.median_bandwidth(x, y, sample_size=20), rtol=1e-12)
    _close(km.median_heuristic(x), ref.median_bandwidth(x), rtol=1e-12)
    # masks: NaN padding with where_x / where_y == the selected rows (median heuristic included)
    wx, wy = rng.random(40) > 0.3, rng.random(32) > 0.3
    xp, yp = np.where(wx[:, None], x, np.nan), np.where(wy[:, None], y, np.inf)
    f = jax.jit(lambda a, b, mx, my, cx, cy: km.mmd(a, b, where_x=mx, where_y=my, weights_x=cx, weights_y=cy,
                                                    chunk_size=16))
    ox, oy = np.ones(40), np.ones(32)
    _close(f(xp, yp, wx, wy, ox, oy), ref.mmd2(x[wx], y[wy]))
    # weighted U/V statistics; the biased one equals repetition for integer weights
    cx, cy = rng.integers(0, 4, 40).astype(float), rng.random(32) + 0.5
    bw = ref.median_bandwidth(x[cx > 0], y)  # weight-0 samples are left out of the median too
    _close(f(x, y, ox > 0, oy > 0, cx, cy), ref.weighted_mmd2(x, y, cx, cy, bandwidth=bw))
    v = km.mmd(x, y, weights_x=cx, estimator="biased", bandwidth=bw)
    _close(v, ref.mmd2(np.repeat(x, cx.astype(int), 0), y, "rbf", "biased", bandwidth=bw))
    _close(v, ref.weighted_mmd2(x, y, cx, oy, estimator="biased", bandwidth=bw))
    # the shared where acts on both sets; undefined cases are NaN
    both = rng.random(32) > 0.3
    _close(km.mmd(x[:32], y, where=both, bandwidth=bw), ref.mmd2(x[:32][both], y[both], bandwidth=bw))
    one = np.arange(40) == 0
    assert np.isnan(f(x, y, one, oy > 0, ox, oy))  # one sample: no U-statistic
    assert np.isnan(f(x, y, ~ox.astype(bool), oy > 0, ox, oy))


def test_analytic_values():
    rng = np.random.default_rng(2)
    x, y = _sets(rng)
    # V-statistic of a set with itself is 0; linear kernel V-statistic = ||mean x − mean y||²
    _close(km.mmd(x, x, estimator="biased"), 0.0, atol=1e-12)
    _close(km.mmd(x, y, kernel="linear", estimator="biased"), ((x.mean(0) - y.mean(0)) ** 2).sum(), rtol=1e-10)
    # U-statistic of the linear kernel: unbiased for ||μx − μy||², = V − tr Σx / n − tr Σy / m
    v = ((x.mean(0) - y.mean(0)) ** 2).sum()
    u = v - np.trace(np.cov(x.T)) / 40 - np.trace(np.cov(y.T)) / 32
    _close(km.mmd(x, y, kernel="linear"), u, rtol=1e-10)
    # bad configuration names the argument
    for kwargs, name in [(dict(estimator="u"), "estimator"), (dict(kernel="gauss"), "kernel"),
                         (dict(chunk_size=0), "chunk_size"), (dict(bandwidth=-1.0), "bandwidth")]:
        with pytest.raises(jaxmetrics.ShapeError, match=f"`{name}`"):
            km.mmd(x, y, **kwargs)
    with pytest.raises(jaxmetrics.ShapeError, match="`y`"):
        km.mmd(x, y[:, :3])


def test_kid_matches_reference_on_the_same_subsets():
    rng = np.random.default_rng(3)
    x, y = _sets(rng)
    key = jax.random.key(7)
    kid = jax.jit(lambda a, b, mx: km.kid(a, b, key=key, num_subsets=6, subset_size=12, where_x=mx))
    subsets = jax.jit(km._kid_subsets, static_argnums=(3, 4))  # the indices kid draws from `key`
    ones = np.ones(40, bool)
    out = kid(x, y, ones)
    ix, iy = subsets(key, ones, np.ones(32, bool), 6, 12)
    ix, iy = np.asarray(ix), np.asarray(iy)
    assert all(len(set(r)) == 12 for r in ix) and all(len(set(r)) == 12 for r in iy)  # without replacement
    mean, std = ref.kid(x, y, ix, iy)
    _close(out.mean, mean)
    _close(out.std, std)
    # a mask: subsets are drawn from the valid rows only
    wx = np.arange(40) % 3 != 0
    out = kid(np.where(wx[:, None], x, np.nan), y, wx)
    ix, iy = subsets(key, wx, np.ones(32, bool), 6, 12)
    assert wx[np.asarray(ix)].all()
    mean, std = ref.kid(x, y, ix, iy)
    _close(out.mean, mean)
    _close(out.std, std)
    # subset_size = n: every subset is the whole set -> std 0, mean = the polynomial U-statistic
    full = km.kid(x[:32], y, key=key, num_subsets=3, subset_size=32)
    _close(full.mean, ref.mmd2(x[:32], y, "polynomial", "unbiased"))
    _close(full.std, 0.0, atol=1e-12)
    with pytest.raises(jaxmetrics.ShapeError, match="`subset_size`"):
        km.kid(x, y, key=key, subset_size=33)
    with pytest.raises(jaxmetrics.ShapeError, match="`key`"):
        km.kid(x, y, key=np.zeros(3), subset_size=8)


def test_gradients():
    rng = np.random.default_rng(4)
    x, y = _sets(rng)
    # chunked, median heuristic (differentiated through the order statistics): = finite differences
    f = jax.jit(lambda a, b: km.mmd(a, b, chunk_size=16))
    jax.test_util.check_grads(f, (x, y), order=1, modes=["rev"], eps=1e-5, atol=1e-7, rtol=1e-6)
    g = jax.jit(jax.grad(f, argnums=(0, 1)))
    for a, b in [(x, x[:32]), (np.repeat(x[:1], 40, 0), y)]:  # identical-ish sets; a constant set
        assert all(np.isfinite(t).all() for t in g(a, b))
    # a learnable bandwidth
    gb = jax.grad(lambda h: km.mmd(x, y, bandwidth=h))(1.3)
    assert np.isfinite(gb) and gb != 0


def test_chunked_memory_is_linear_in_n():
    """Compiled temp memory of the chunked MMD at N = M = 4096 is far below one N×N kernel matrix."""
    n, d, chunk = 4096, 16, 256
    x = jax.ShapeDtypeStruct((n, d), jnp.float32)
    compiled = jax.jit(lambda a, b: km.mmd(a, b, chunk_size=chunk, median_sample_size=256)).lower(x, x).compile()
    stats = compiled.memory_analysis()
    if stats is None:
        pytest.skip("this backend reports no memory analysis")
    full = n * n * 4
    assert stats.temp_size_in_bytes < full / 4, (stats.temp_size_in_bytes, full)


def test_real_data_digits_mode_dropping():
    datasets = pytest.importorskip("sklearn.datasets")
    X, labels = datasets.load_digits(return_X_y=True)
    perm = np.random.default_rng(0).permutation(len(X))[:896]  # (the rows cycle through the digits)
    X, labels = X[perm] / 16.0, labels[perm]
    train, test = X[:448], X[448:]
    dropped = labels[448:] <= 2  # mode-dropped set: the test half restricted to digits 0-2 (a mask)
    ones = np.ones(448, bool)
    f = jax.jit(lambda a, b, wy: km.mmd(a, b, where_y=wy, chunk_size=128))
    same, mode_dropped = float(f(train, test, ones)), float(f(train, test, dropped))
    assert same < 0.1 * mode_dropped
    _close(same, ref.mmd2(train, test))
    _close(mode_dropped, ref.mmd2(train, test[dropped]))
    key = jax.random.key(0)
    k = jax.jit(lambda a, b, wy: km.kid(a, b, key=key, num_subsets=10, subset_size=100, where_y=wy))
    kid_same, kid_dropped = k(train, test, ones), k(train, test, dropped)
    assert kid_same.mean + 3 * kid_same.std < kid_dropped.mean
    ix, iy = jax.jit(km._kid_subsets, static_argnums=(3, 4))(key, ones, dropped, 10, 100)
    _close(kid_dropped.mean, ref.kid(train, test, ix, iy)[0])
