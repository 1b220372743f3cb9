"""Vendi score (jaxmetrics.diversity.vendi) against vendi-score 0.0.3, a numpy reference and METRICS.md §8.1.

Compile budget: every jitted function below is built once per static configuration (order q, method,
kernel) and called on a batch of inputs of one shape: kernels [B, N, N] and features [B, N, D].
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from vendi_score import vendi as oracle

import jaxmetrics
from jaxmetrics.diversity import vendi_score, vendi_score_from_kernel
from tests.reference import vendi as ref

N, D, B = 32, 8, 3
ORDERS = (0.0, 0.5, 1.0, 2.0, 3.0, math.inf)
RTOL = 1e-6


def _oracle_q(q):
    return "inf" if math.isinf(q) else q


@functools.lru_cache(maxsize=None)
def _from_kernel(q):
    return jax.jit(lambda K, where, weights: vendi_score_from_kernel(K, q=q, where=where, weights=weights))


@functools.lru_cache(maxsize=None)
def _features(q, method="auto", kernel="cosine", chunk_size=None):
    return jax.jit(lambda x, where, weights, bw=1.0: vendi_score(
        x, q=q, method=method, kernel=kernel, bandwidth=bw, chunk_size=chunk_size, where=where, weights=weights))


def _cosine_kernels(rng, d=40):
    """B full-rank cosine Gram matrices [B, N, N] (N rows in d > N dims)."""
    return np.stack([ref.cosine_kernel(rng.normal(size=(N, d))) for _ in range(B)])


def _features_batch(rng):
    x = rng.normal(size=(B, N, D)) + rng.normal(size=(B, 1, D))  # a common direction: non-trivial spectrum
    x[:, 5] = x[:, 4]  # tied rows
    return x


def _ones_mask():
    return np.ones((B, N), bool)


def _weights(rng):
    w = rng.choice([0.5, 1.0, 2.0, 3.0], size=(B, N))  # ties in the prevalences
    return w


def test_kernel_matches_oracle_and_reference_for_every_order():
    rng = np.random.default_rng(0)
    K = _cosine_kernels(rng)
    w = _weights(rng)
    ones = np.ones((B, N))
    worst = 0.0
    for q in ORDERS:
        f = _from_kernel(q)
        plain = np.asarray(f(K, _ones_mask(), ones))
        weighted = np.asarray(f(K, _ones_mask(), w))
        for b in range(B):
            p = w[b] / w[b].sum()
            expect = [ref.vendi(K[b], q), ref.vendi(K[b], q, p)]
            if q > 0:  # vendi-score counts every λ > 0 at q = 0; K is full rank here, but skip that case
                np.testing.assert_allclose(expect, [oracle.score_K(K[b], q=_oracle_q(q)),
                                                    oracle.score_K(K[b], q=_oracle_q(q), p=p)], rtol=1e-9)
            if q in (2.0, 3.0):
                np.testing.assert_allclose(expect, [ref.vendi(K[b], q, form="trace"),
                                                    ref.vendi(K[b], q, p, form="trace")], rtol=1e-9)
            got = [plain[b], weighted[b]]
            np.testing.assert_allclose(got, expect, rtol=RTOL, err_msg=f"q={q}")
            worst = max(worst, float(np.max(np.abs(np.array(got) / np.array(expect) - 1))))
    assert worst < RTOL


def test_analytic_values_identity_ones_blocks_and_hill_numbers():
    """VS_q(I) = n, VS_q(11ᵀ) = 1, 4 equal all-ones blocks → 4; K = I with prevalences → Hill numbers;
    the 3×3 kernel of METRICS.md §8.1 (padded into N×N with NaN and masked)."""
    blocks = np.kron(np.eye(4), np.ones((N // 4, N // 4)))
    K = np.stack([np.eye(N), np.ones((N, N)), blocks])
    small = np.full((N, N), np.nan)
    small[:3, :3] = [[1, 0.9, 0], [0.9, 1, 0], [0, 0, 1]]
    where = _ones_mask()
    where_small = np.zeros((B, N), bool)
    where_small[:, :3] = True
    p = np.random.default_rng(1).dirichlet(np.ones(N), size=B)
    expected_small = {1.0: 2.1573, 2.0: 1.9481, math.inf: 1.5789}
    for q in (0.0, 0.5, 1.0, 2.0, math.inf):
        f = _from_kernel(q)
        np.testing.assert_allclose(np.asarray(f(K, where, np.ones((B, N)))), [N, 1, 4], rtol=1e-9, err_msg=f"q={q}")
        hill = np.asarray(f(np.broadcast_to(np.eye(N), (B, N, N)), where, p))
        if q == 0:
            expect = np.full(B, N)
        elif q == 1:
            expect = np.exp(-np.sum(p * np.log(p), axis=1))
        elif math.isinf(q):
            expect = 1 / p.max(axis=1)
        else:
            expect = np.sum(p**q, axis=1) ** (1 / (1 - q))
        np.testing.assert_allclose(hill, expect, rtol=1e-9, err_msg=f"Hill q={q}")
        small_out = np.asarray(f(np.broadcast_to(small, (B, N, N)), where_small, np.ones((B, N))))
        if q in expected_small:
            np.testing.assert_allclose(small_out, expected_small[q], atol=5e-5)
        elif q == 0:
            np.testing.assert_array_equal(small_out, 3.0)
    # VS_2 = n² / ‖K‖_F² (no eigendecomposition), and it equals the eigen form
    Kr = _cosine_kernels(np.random.default_rng(2))
    vs2 = np.asarray(_from_kernel(2.0)(Kr, where, np.ones((B, N))))
    np.testing.assert_allclose(vs2, N**2 / np.sum(Kr**2, axis=(1, 2)), rtol=1e-12)
    lam = np.linalg.eigvalsh(Kr / N)
    np.testing.assert_allclose(vs2, 1 / np.sum(lam**2, axis=1), rtol=1e-10)


def test_rank_deficient_kernel_rank_and_degenerate_values():
    rng = np.random.default_rng(3)
    K = np.stack([ref.cosine_kernel(rng.normal(size=(N, 5))),  # rank 5
                  np.zeros((N, N)),  # zero kernel → 0
                  ref.cosine_kernel(rng.normal(size=(N, 40)))])
    where = _ones_mask()
    ranks = np.asarray(_from_kernel(0.0)(K, where, np.ones((B, N))))
    np.testing.assert_array_equal(ranks, [5, 0, N])
    assert ranks[0] == np.linalg.matrix_rank(K[0] / N, hermitian=True)
    for q in (0.5, 1.0, 2.0, math.inf):
        out = np.asarray(_from_kernel(q)(K, where, np.ones((B, N))))
        assert out[1] == 0.0
        # vendi-score drops λ <= 0; noise eigenvalues of the rank-5 kernel contribute (n·eps)^q at most
        np.testing.assert_allclose(out[0], oracle.score_K(K[0], q=_oracle_q(q)), rtol=1e-6 if q == 0.5 else 1e-9)
        assert 1.0 <= out[0] <= 5.0 + 1e-9
    # all masked → NaN (the one undefined case)
    out = np.asarray(_from_kernel(1.0)(K, np.zeros((B, N), bool), np.ones((B, N))))
    assert np.isnan(out).all()


def test_features_primal_dual_oracle_and_weights():
    """cosine: dual (auto, D < N) == primal == score_dual == score_K; weights == score_K(p); where with NaN
    padding == the unpadded rows; exp-entropy of the squared singular values (METRICS.md §8.1)."""
    rng = np.random.default_rng(4)
    x = _features_batch(rng)
    w = _weights(rng)
    where = _ones_mask()
    ones = np.ones((B, N))
    # the first N/2 rows only, the rest NaN and masked
    x_pad = x.copy()
    x_pad[:, N // 2:] = np.nan
    where_half = np.zeros((B, N), bool)
    where_half[:, : N // 2] = True
    # the dual for every order; the primal (whose spectrum → score step is the same code) at q = 1
    for q, method in [(0.5, "auto"), (1.0, "auto"), (2.0, "auto"), (math.inf, "auto"), (1.0, "primal")]:
        for f in (_features(q, method),):
            out = np.asarray(f(x, where, ones))
            out_w = np.asarray(f(x, where, w))
            out_half = np.asarray(f(x_pad, where_half, ones))
            for b in range(B):
                K = ref.cosine_kernel(x[b])
                np.testing.assert_allclose(out[b], oracle.score_dual(x[b], q=_oracle_q(q)), rtol=RTOL)
                np.testing.assert_allclose(out[b], oracle.score_K(K, q=_oracle_q(q)), rtol=RTOL)
                np.testing.assert_allclose(out_w[b], oracle.score_K(K, q=_oracle_q(q), p=w[b] / w[b].sum()),
                                           rtol=RTOL)
                np.testing.assert_allclose(out_half[b], oracle.score_dual(x[b, : N // 2], q=_oracle_q(q)),
                                           rtol=RTOL)
                if q == 1.0:
                    np.testing.assert_allclose(out[b], ref.cosine_entropy_via_svd(x[b]), rtol=RTOL)
    # rank: dual and primal agree (rank ≤ D)
    np.testing.assert_array_equal(np.asarray(_features(0.0)(x, where, ones)), D)
    np.testing.assert_array_equal(np.asarray(_features(0.0, "primal")(x, where, ones)), D)


def test_integer_weights_equal_repeated_rows():
    rng = np.random.default_rng(5)
    counts = np.array([1, 2, 3, 4, 5, 6, 7, 4])
    uniq = rng.normal(size=(B, len(counts), D))
    rep = np.repeat(uniq, counts, axis=1)  # [B, 32, D]
    padded = np.full((B, N, D), np.nan)
    padded[:, : len(counts)] = uniq
    where = np.zeros((B, N), bool)
    where[:, : len(counts)] = True
    weights = np.zeros((B, N))
    weights[:, : len(counts)] = counts
    f = _features(1.0)
    np.testing.assert_allclose(np.asarray(f(padded, where, weights)), np.asarray(f(rep, _ones_mask(), np.ones((B, N)))),
                               rtol=1e-9)


def test_linear_rbf_callable_and_chunked_kernels():
    rng = np.random.default_rng(6)
    x = _features_batch(rng)
    where, ones = _ones_mask(), np.ones((B, N))
    lin_dual = np.asarray(_features(1.0, "auto", "linear")(x / 6.0, where, ones))
    rbf = np.asarray(_features(1.0, "auto", "rbf")(x, where, ones, 2.5))

    def gauss(a, b):  # the rbf kernel with bandwidth 2.5, written out
        return jnp.exp(-jnp.sum((a[:, None] - b[None]) ** 2, -1) / (2 * 2.5**2))

    custom = np.asarray(_features(1.0, "auto", gauss)(x, where, ones))
    rbf2 = np.asarray(_features(2.0, "auto", "rbf")(x, where, ones, 2.5))
    rbf2_chunked = np.asarray(_features(2.0, "auto", "rbf", 7)(x, where, ones, 2.5))  # 7 ∤ 32: padded chunk
    for b in range(B):
        xs = x[b] / 6.0
        np.testing.assert_allclose(lin_dual[b], oracle.score_K(xs @ xs.T), rtol=RTOL)
        Kr = ref.rbf_kernel(x[b], 2.5)
        np.testing.assert_allclose([rbf[b], custom[b]], oracle.score_K(Kr), rtol=RTOL)
        np.testing.assert_allclose([rbf2[b], rbf2_chunked[b]], oracle.score_K(Kr, q=2), rtol=RTOL)


def test_gradients_finite_on_degenerate_inputs():
    """Rank-deficient kernels (all-ones, equal blocks, duplicate rows) and a zero kernel: the score's
    gradient is finite (eigenvalues ≤ tol contribute neither value nor gradient). One compile for the
    orders with an eigenvalue derivative (q = 0 is a count, q = 2 a Frobenius norm); the contract edges
    cover the default dual path and all-masked sets."""
    rng = np.random.default_rng(7)
    K = np.stack([np.ones((N, N)), np.kron(np.eye(4), np.ones((N // 4, N // 4))), np.zeros((N, N))])

    def total(k):
        return sum(jnp.sum(vendi_score_from_kernel(k, q=q)) for q in (0.5, 1.0, math.inf))

    g = np.asarray(jax.jit(jax.grad(total))(K))
    assert np.isfinite(g).all()
    # at K = 11ᵀ only λ = 1 (eigenvector 1/√n) has a derivative: dVS_q/dλ = 1, −1, −1 for q = ½, 1, ∞,
    # and dλ/dK = 11ᵀ/n², so the summed gradient is exactly −11ᵀ/n²
    np.testing.assert_allclose(g[0], -np.ones((N, N)) / N**2, atol=1e-12)
    x = _features_batch(rng)
    x[0] = x[0, :1]  # identical rows
    x[1, 1::2] = x[1, ::2]  # duplicate rows
    x[2] = 0.0  # zero rows: zero cosine kernel → 0
    out, pullback = jax.vjp(jax.jit(lambda z: vendi_score(z, method="primal")), x)
    np.testing.assert_allclose(np.asarray(out), [1.0, oracle.score_dual(x[1, ::2]), 0.0], rtol=1e-6)
    assert np.isfinite(np.asarray(pullback(jnp.ones(B))[0])).all()


def test_real_data_digits_mode_dropping_lowers_vendi():
    """sklearn digits pixels: the full set (10 digits) is more diverse than digits 0–2 only (a mode-dropped
    subset, expressed with `where` so both share one compile), and both match vendi-score's dual."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    sub = y <= 2
    f = jax.jit(lambda x, m: vendi_score(x, where=m))
    full, dropped = (float(f(X, np.ones(len(y), bool))), float(f(X, sub)))
    np.testing.assert_allclose(full, oracle.score_dual(X), rtol=RTOL)
    np.testing.assert_allclose(dropped, oracle.score_dual(X[sub]), rtol=RTOL)
    assert full > dropped + 0.5


def test_bad_arguments_raise_clear_errors():
    x = np.zeros((N, D))
    cases = [
        (lambda: vendi_score(x, q=-1.0), "q"),
        (lambda: vendi_score(x, q="two"), "q"),
        (lambda: vendi_score(x, kernel="rbf", method="dual"), "method"),
        (lambda: vendi_score(x, method="fast"), "method"),
        (lambda: vendi_score(x, kernel="sigmoid"), "kernel"),
        (lambda: vendi_score(x[0]), "x"),
        (lambda: vendi_score(x, where=np.ones(N - 1, bool)), "where"),
        (lambda: vendi_score_from_kernel(np.ones((N, N - 1))), "K"),
        (lambda: vendi_score_from_kernel(np.ones((N, N)), weights=np.ones(3)), "weights"),
    ]
    for call, name in cases:
        with pytest.raises(jaxmetrics.ShapeError, match=f"`{name}`"):
            call()
