"""The shared pairwise internals (jaxmetrics._src.pairwise) against scikit-learn / scipy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.metrics.pairwise import cosine_similarity, polynomial_kernel, rbf_kernel

from jaxmetrics._src import pairwise


def test_squared_distances_keep_small_distances_far_from_the_origin():
    rng = np.random.default_rng(0)
    x = 1e4 + rng.normal(size=(6, 3)) * 1e-3  # the naive ‖x‖² + ‖y‖² − 2xᵀy loses every digit here
    y = 1e4 + rng.normal(size=(5, 3)) * 1e-3
    np.testing.assert_allclose(pairwise.squared_distances(x, y), cdist(x, y, "sqeuclidean"), rtol=1e-7)
    d_xx = np.asarray(pairwise.squared_distances(x, x))
    assert np.all(d_xx >= 0) and np.all(np.abs(np.diag(d_xx)) < 1e-9 * d_xx.max())
    # coincident points: the Euclidean distance has a finite (zero) gradient
    g = jax.grad(lambda a: pairwise.distances(a, a).sum())(jnp.asarray(x))
    assert np.all(np.isfinite(np.asarray(g)))


def test_named_kernels_match_scikit_learn():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(7, 4)), rng.normal(size=(5, 4))
    bw = 1.3
    cases = {
        "rbf": rbf_kernel(x, y, gamma=1 / (2 * bw**2)),
        "laplacian": np.exp(-cdist(x, y) / bw),  # (scikit-learn's laplacian_kernel uses the L1 norm)
        "polynomial": polynomial_kernel(x, y, degree=3, gamma=1 / 4, coef0=1.0),
        "linear": x @ y.T,
        "imq": (bw**2 + cdist(x, y, "sqeuclidean")) ** -0.5,
        "cosine": cosine_similarity(x, y),
    }
    for name, expected in cases.items():
        np.testing.assert_allclose(pairwise.kernel_matrix(x, y, name, bandwidth=bw), expected, rtol=1e-10,
                                   err_msg=name)
    custom = pairwise.kernel_matrix(x[None], y[None], lambda a, b: a @ b.T)  # leading axes are vmapped
    np.testing.assert_allclose(custom[0], x @ y.T, rtol=1e-12)
    with pytest.raises(ValueError, match="unknown kernel"):
        pairwise.kernel_matrix(x, y, "sigmoid")


def test_row_chunks_equal_one_block_and_scan_sees_only_valid_rows():
    x = jnp.asarray(np.random.default_rng(2).normal(size=(10, 3)))
    row_fn = lambda rows: (rows**2).sum(-1)  # noqa: E731
    for chunk in (None, 3, 4, 10, 64):
        np.testing.assert_array_equal(pairwise.map_row_chunks(row_fn, x, chunk_size=chunk), row_fn(x))
        total, out = pairwise.scan_row_chunks(
            lambda c, rows, valid: (c + jnp.where(valid, row_fn(rows), 0.0).sum(), row_fn(rows)), 0.0, x,
            chunk_size=chunk)
        np.testing.assert_allclose(total, row_fn(x).sum(), rtol=1e-12)
        np.testing.assert_array_equal(out, row_fn(x))
