"""Uniformity, Gaussian-W₂ uniformity, average cosine similarity and IntDiv (jaxmetrics.diversity.geometry)
against scipy/numpy references, vendi-score's ``intdiv_K`` and the closed forms of METRICS.md §6.5/§8.3.

Compile budget: one jitted function per static configuration, called on batches x [B, N, D].
"""

from __future__ import annotations

import functools

import jax
import numpy as np
import pytest
import scipy.linalg
from scipy.spatial.distance import pdist, squareform
from scipy.special import logsumexp
from vendi_score import vendi as oracle

import jaxmetrics
from jaxmetrics.diversity import (
    average_cosine_similarity,
    intra_list_diversity,
    uniformity,
    wasserstein_uniformity,
)
from jaxmetrics.diversity.geometry import wasserstein_uniformity_metric

N, D, B = 32, 8, 3
RTOL = 1e-6


# --------------------------------------------------------------------------------------------------
# numpy references (independent of jaxmetrics)


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def ref_uniformity(x, t=2.0, w=None, normalize=True):
    z = _unit(x) if normalize else x
    if w is None:  # torch.pdist convention: pairs i < j
        d2 = pdist(z, "sqeuclidean")
        return float(logsumexp(-t * d2) - np.log(len(d2)))
    d2 = squareform(pdist(z, "sqeuclidean"))
    pw = np.outer(w, w)
    np.fill_diagonal(pw, 0.0)
    return float(logsumexp(-t * d2, b=pw) - np.log(pw.sum()))


def ref_w2(x, w=None):
    z = _unit(x)
    m = z.shape[1]
    mu = np.average(z, axis=0, weights=w)
    cov = np.atleast_2d(np.cov(z.T, bias=True, aweights=w))
    root = np.real(np.trace(scipy.linalg.sqrtm(cov)))
    return float(np.sqrt(max(mu @ mu + 1 + np.trace(cov) - 2 / np.sqrt(m) * root, 0.0)))


def ref_cosine(x, w=None):
    sim = 1 - squareform(pdist(x, "cosine"))
    pw = np.ones(len(x)) if w is None else w
    pw = np.outer(pw, pw)
    np.fill_diagonal(pw, 0.0)
    return float(np.sum(pw * sim) / pw.sum())


def _data(rng):
    x = rng.normal(size=(B, N, D)) + 0.7 * rng.normal(size=(B, 1, D))
    x[:, 3] = x[:, 2]  # ties
    return x


def _weights(rng):
    return rng.choice([0.5, 1.0, 2.0], size=(B, N))


@functools.lru_cache(maxsize=None)
def _jit(fn, **kwargs):
    return jax.jit(lambda x, where, weights: fn(x, **dict(kwargs), where=where, weights=weights))


# --------------------------------------------------------------------------------------------------
# uniformity


def test_uniformity_matches_reference_weights_chunks_and_mask():
    rng = np.random.default_rng(0)
    x, w = _data(rng), _weights(rng)
    where = np.ones((B, N), bool)
    where[:, -5:] = False
    x_nan = x.copy()
    x_nan[:, -5:] = np.nan
    f, f_chunked = _jit(uniformity), _jit(uniformity, chunk_size=5)
    plain = np.asarray(f(x, np.ones((B, N), bool), np.ones((B, N))))
    weighted = np.asarray(f(x_nan, where, w))
    np.testing.assert_allclose(np.asarray(f_chunked(x_nan, where, w)), weighted, rtol=1e-12)
    for b in range(B):
        np.testing.assert_allclose(plain[b], ref_uniformity(x[b]), rtol=RTOL)
        np.testing.assert_allclose(weighted[b], ref_uniformity(x[b, :-5], w=w[b, :-5]), rtol=RTOL)
    # un-normalised, far apart: the log-sum-exp form stays finite where exp underflows
    raw = _jit(uniformity, normalize=False, t=2.0)
    far = 30.0 * x
    out = np.asarray(raw(far, np.ones((B, N), bool), np.ones((B, N))))
    for b in range(B):
        np.testing.assert_allclose(out[b], ref_uniformity(far[b], normalize=False), rtol=RTOL)
    # closed forms: 4 points on a circle; a collapsed set → 0; fewer than two samples → NaN
    circle = np.zeros((B, N, D))
    circle[:, :4, :2] = [[1, 0], [0, 1], [-1, 0], [0, -1]]
    circle[1] = 1.0  # collapsed
    four = np.zeros((B, N), bool)
    four[:, :4] = True
    four[2] = False
    four[2, 0] = True  # a single sample
    out = np.asarray(f(circle, four, np.ones((B, N))))
    np.testing.assert_allclose(out[:2], [np.log((4 * np.exp(-4) + 2 * np.exp(-8)) / 6), 0.0], atol=1e-12)
    assert np.isnan(out[2])


# --------------------------------------------------------------------------------------------------
# Gaussian-W₂ uniformity


def test_wasserstein_uniformity_reference_closed_forms_and_frequency_weights():
    rng = np.random.default_rng(1)
    x, w = _data(rng), _weights(rng)
    f = _jit(wasserstein_uniformity)
    plain = np.asarray(f(x, np.ones((B, N), bool), np.ones((B, N))))
    weighted = np.asarray(f(x, np.ones((B, N), bool), w))
    for b in range(B):
        np.testing.assert_allclose(plain[b], ref_w2(x[b]), rtol=RTOL)
        np.testing.assert_allclose(weighted[b], ref_w2(x[b], w[b]), rtol=RTOL)
    # collapsed → √2; the 2D antipodal pairs ±e_k (μ = 0, Σ = I/D) → 0; rank-deficient (3-dim subspace)
    special = np.zeros((B, N, D))
    special[0] = 5.0
    special[1, : 2 * D] = np.concatenate([np.eye(D), -np.eye(D)]) * rng.uniform(0.5, 2, size=(2 * D, 1))
    special[2] = rng.normal(size=(N, 3)) @ rng.normal(size=(3, D))
    mask = np.ones((B, N), bool)
    mask[1, 2 * D:] = False
    out = np.asarray(f(special, mask, np.ones((B, N))))
    np.testing.assert_allclose(out[0], np.sqrt(2.0), rtol=1e-12)
    assert abs(out[1]) < 1e-7  # √(rounding of W₂² = 0)
    np.testing.assert_allclose(out[2], ref_w2(special[2]), atol=1e-7)  # √eps-accurate when Σ is singular
    # frequency weights == repeated rows (N/2 distinct rows, padded with masked NaN rows)
    counts = rng.permutation(np.tile([1, 2, 3, 2], N // 8))  # sums to N
    rep = np.repeat(x[0, : N // 2], counts, axis=0)
    padded = np.full((B, N, D), np.nan)
    padded[:, : N // 2] = x[0, : N // 2]
    padded[0] = rep
    mask = np.ones((B, N), bool)
    mask[1:, N // 2:] = False
    weights = np.ones((B, N))
    weights[1:, : N // 2] = counts
    out = np.asarray(f(padded, mask, weights))
    np.testing.assert_allclose(out, ref_w2(rep), rtol=RTOL)


# --------------------------------------------------------------------------------------------------
# average cosine similarity


def test_average_cosine_similarity_reference_and_closed_forms():
    rng = np.random.default_rng(2)
    x, w = _data(rng), _weights(rng)
    f = _jit(average_cosine_similarity)
    plain = np.asarray(f(x, np.ones((B, N), bool), np.ones((B, N))))
    weighted = np.asarray(f(x, np.ones((B, N), bool), w))
    for b in range(B):
        np.testing.assert_allclose(plain[b], np.mean(1 - pdist(x[b], "cosine")), rtol=RTOL)
        np.testing.assert_allclose(weighted[b], ref_cosine(x[b], w[b]), rtol=RTOL)
    # collapsed → 1; orthogonal rows → 0; a single sample → NaN
    special = np.zeros((B, N, D))
    special[0] = 2.0
    special[1, :D] = np.eye(D)
    mask = np.ones((B, N), bool)
    mask[1, D:] = False
    mask[2] = False
    mask[2, 0] = True
    out = np.asarray(f(special, mask, np.ones((B, N))))
    np.testing.assert_allclose(out[:2], [1.0, 0.0], atol=1e-12)
    assert np.isnan(out[2])


# --------------------------------------------------------------------------------------------------
# intra-list diversity


def test_intra_list_diversity_matches_intdiv_K():
    rng = np.random.default_rng(3)
    x, w = _data(rng), _weights(rng)
    ones = np.ones((B, N))
    full = np.ones((B, N), bool)
    cos1 = np.asarray(_jit(intra_list_diversity)(x, full, w))
    cos2 = np.asarray(_jit(intra_list_diversity, q=2.0, chunk_size=10)(x, full, ones))
    rbf = np.asarray(_jit(intra_list_diversity, q=0.5, kernel="rbf", bandwidth=3.0)(x, full, ones))
    for b in range(B):
        u = _unit(x[b])
        K = u @ u.T
        np.testing.assert_allclose(cos1[b], oracle.intdiv_K(K, q=1, p=w[b] / w[b].sum()), rtol=RTOL)
        np.testing.assert_allclose(cos2[b], oracle.intdiv_K(K, q=2), rtol=RTOL)
        Kr = np.exp(-squareform(pdist(x[b], "sqeuclidean")) / (2 * 3.0**2))
        np.testing.assert_allclose(rbf[b], oracle.intdiv_K(Kr, q=0.5), rtol=RTOL)
    # identical rows → 0; orthonormal rows → 1 − 1/n
    special = np.zeros((B, N, D))
    special[0] = 1.0
    special[1, :D] = np.eye(D)
    special[2] = x[2]
    mask = np.ones((B, N), bool)
    mask[1, D:] = False
    mask[2] = False
    out = np.asarray(_jit(intra_list_diversity)(special, mask, ones))
    np.testing.assert_allclose(out[:2], [0.0, 1 - 1 / D], atol=1e-12)
    assert np.isnan(out[2])


# --------------------------------------------------------------------------------------------------
# real data, errors (finite gradients on degenerate inputs: the contract edges)


def test_real_data_digits_one_class_is_less_uniform_than_all():
    """sklearn digits pixels: one digit class is less spread than all ten (higher uniformity loss, higher
    W₂, higher mean cosine, lower IntDiv), computed on one shape via `where`; values match the references."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X, y = X[:720], y[:720]  # ~72 images per digit keep the O(n²) references cheap
    X = X - X.mean(0)  # centred pixels: directions spread over the sphere
    masks = np.stack([np.ones(len(y), bool), y == 0])
    xs = np.broadcast_to(X, (2, *X.shape))
    uni = np.asarray(_jit(uniformity, chunk_size=256)(xs, masks, None))
    w2 = np.asarray(_jit(wasserstein_uniformity)(xs, masks, None))
    cos = np.asarray(_jit(average_cosine_similarity)(xs, masks, None))
    div = np.asarray(_jit(intra_list_diversity, chunk_size=256)(xs, masks, None))
    assert uni[0] < uni[1] and w2[0] < w2[1] and cos[0] < cos[1] and div[0] > div[1]
    for i, m in enumerate(masks):
        np.testing.assert_allclose(uni[i], ref_uniformity(X[m]), rtol=RTOL)
        np.testing.assert_allclose(w2[i], ref_w2(X[m]), rtol=RTOL)
        np.testing.assert_allclose(cos[i], np.mean(1 - pdist(X[m], "cosine")), rtol=RTOL)
        np.testing.assert_allclose(div[i], oracle.intdiv_K(_unit(X[m]) @ _unit(X[m]).T), rtol=RTOL)


def test_bad_arguments_raise_clear_errors():
    x = np.zeros((N, D))
    cases = [
        (lambda: uniformity(x[0]), "x"),
        (lambda: uniformity(x, t=-1.0), "t"),
        (lambda: uniformity(x, normalize=1), "normalize"),
        (lambda: uniformity(x, chunk_size=0), "chunk_size"),
        (lambda: wasserstein_uniformity(x, dim=D + 1), "x"),
        (lambda: wasserstein_uniformity_metric(dim=None), "dim"),
        (lambda: average_cosine_similarity(x, where=np.ones(N + 1, bool)), "where"),
        (lambda: intra_list_diversity(x, q=0.0), "q"),
        (lambda: intra_list_diversity(x, kernel="tanimoto"), "kernel"),
    ]
    for call, name in cases:
        with pytest.raises(jaxmetrics.ShapeError, match=f"`{name}`"):
            call()
