"""Lanczos top eigenpairs, power iteration and stochastic Lanczos quadrature against the dense oracle
(``jax.hessian`` / explicit ``Jᵀ H_out J`` + ``numpy.linalg.eigvalsh``): full Lanczos reproduces the
whole spectrum and SLQ's weights (uᵢᵀv)², top-k to 1e-8, both ranking conventions, breakdown on
spectra with few distinct eigenvalues, Gauss-quadrature moment identities, the Gauss–Newton operator,
and a small MLP trained on scikit-learn's iris / breast-cancer data."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.flatten_util import ravel_pytree

import jaxmetrics
from jaxmetrics.spectral import SplitLoss
from jaxmetrics.spectral import lanczos as lz

KEY = jax.random.key(0)


# ------------------------------------------------------------------------------------------------
# models and dense oracles


def _mlp_params(rng, d, h, c=None):
    p = {"W1": rng.normal(size=(d, h)) / np.sqrt(d), "b1": 0.1 * rng.normal(size=h)}
    if c is None:
        p.update(w2=rng.normal(size=h) / np.sqrt(h), b2=np.array(0.1))
    else:
        p.update(W2=rng.normal(size=(h, c)) / np.sqrt(h), b2=0.1 * rng.normal(size=c))
    return jax.tree.map(jnp.asarray, p)


def _mlp_out(params, x):
    hidden = jnp.tanh(x @ params["W1"] + params["b1"])
    if "w2" in params:
        return hidden @ params["w2"] + params["b2"]
    return hidden @ params["W2"] + params["b2"]


def _regression_loss(params, batch):
    x, y = batch
    return 0.5 * jnp.mean((_mlp_out(params, x) - y) ** 2)


def _regression_problem(seed, d=3, h=5, n=40):
    rng = np.random.default_rng(seed)
    params = _mlp_params(rng, d, h)
    x = rng.normal(size=(n, d))
    y = np.sin(x @ rng.normal(size=d)) + 0.1 * rng.normal(size=n)
    return params, (jnp.asarray(x), jnp.asarray(y))


def _quadratic_loss(params, a):
    return 0.5 * params @ a @ params


def _dense_hessian(loss_fn, params, batch):
    flat, unravel = ravel_pytree(params)
    return np.asarray(jax.jit(jax.hessian(lambda f, b: loss_fn(unravel(f), b)))(flat, batch))


def _with_spectrum(rng, eigenvalues):
    q, _ = np.linalg.qr(rng.normal(size=(len(eigenvalues), len(eigenvalues))))
    return (q * np.asarray(eigenvalues, float)) @ q.T, q


def _flat_vectors(tree):
    """Params pytree with a leading k axis -> [k, dim] (ravel_pytree's leaf order)."""
    return np.asarray(jax.vmap(lambda t: ravel_pytree(t)[0])(tree))


def _probes(key, num_probes, dim):
    """The documented SLQ probes: normalised Rademacher vectors from split(key, num_probes)."""
    keys = jax.random.split(key, num_probes)
    return np.stack([np.asarray(jax.random.rademacher(k, (dim,), dtype=jnp.float64)) for k in keys]) / np.sqrt(dim)


# ------------------------------------------------------------------------------------------------
# exactness of full Lanczos


def test_full_lanczos_reproduces_the_exact_spectrum_and_eigenvectors():
    params, batch = _regression_problem(0)
    h = _dense_hessian(_regression_loss, params, batch)
    dim = h.shape[0]
    lam, u = np.linalg.eigh(h)
    scale = np.abs(lam).max()
    out = lz.hessian_top_eigenvalues(_regression_loss, params, batch, key=KEY, k=dim, num_iters=dim)
    np.testing.assert_allclose(out.eigenvalues, lam[::-1], rtol=1e-6, atol=1e-9 * scale)
    vecs = _flat_vectors(out.eigenvectors)
    np.testing.assert_allclose(vecs @ vecs.T, np.eye(dim), atol=1e-9)
    assert np.all(np.asarray(out.residual_norms) < 1e-9 * scale)
    # eigenvectors of well-separated eigenvalues equal the dense ones up to sign; the sign is canonical
    gaps = np.minimum(np.diff(lam, prepend=-np.inf), np.diff(lam, append=np.inf))
    sep = gaps[::-1] > 1e-3 * scale
    overlap = np.abs(np.sum(vecs * u[:, ::-1].T, axis=1))
    np.testing.assert_allclose(overlap[sep], 1.0, atol=1e-8)
    lead = vecs[np.arange(dim), np.argmax(np.abs(vecs), axis=1)]
    assert np.all(lead > 0)


def test_full_slq_nodes_are_the_eigenvalues_with_weights_uTv_squared():
    params, batch = _regression_problem(1)
    h = _dense_hessian(_regression_loss, params, batch)
    dim = h.shape[0]
    lam, u = np.linalg.eigh(h)
    num_probes = 3
    # more iterations than dimensions are capped at dim (the Krylov space is then the whole space)
    sd = lz.hessian_spectral_density(_regression_loss, params, batch, key=KEY, num_probes=num_probes,
                                     num_iters=dim + 7, grid_size=2000)
    assert sd.nodes.shape == sd.weights.shape == (num_probes, dim)
    v = _probes(KEY, num_probes, dim)
    for p in range(num_probes):
        np.testing.assert_allclose(sd.nodes[p], lam, rtol=1e-6, atol=1e-9 * np.abs(lam).max())
        np.testing.assert_allclose(sd.weights[p], (u.T @ v[p]) ** 2, rtol=1e-6, atol=1e-10)


def test_private_lanczos_tridiagonal_is_the_projected_operator():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(20, 20))
    a = (a + a.T) / 2
    v0 = rng.normal(size=20)
    alphas, betas, q, _ = lz._lanczos(lambda x: jnp.asarray(a) @ x, jnp.asarray(v0), 12,
                                      jnp.asarray(rng.normal(size=20)))
    q = np.asarray(q)
    t = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
    np.testing.assert_allclose(q @ q.T, np.eye(12), atol=1e-12)
    np.testing.assert_allclose(q @ a @ q.T, t, atol=1e-12)
    np.testing.assert_allclose(q[0], v0 / np.linalg.norm(v0), rtol=1e-12)
    assert np.all(np.asarray(betas) > 0)


# ------------------------------------------------------------------------------------------------
# top-k: accuracy, conventions, power iteration


@pytest.mark.parametrize("which", ["algebraic", "magnitude"])
def test_top_k_eigenvalues_match_dense_to_1e8(which):
    params, batch = _regression_problem(3, d=5, h=12, n=60)  # dim = 85
    h = _dense_hessian(_regression_loss, params, batch)
    lam = np.linalg.eigvalsh(h)
    ref = lam[::-1] if which == "algebraic" else lam[np.argsort(-np.abs(lam), kind="stable")]
    out = lz.hessian_top_eigenvalues(_regression_loss, params, batch, key=KEY, k=3, num_iters=60, which=which)
    np.testing.assert_allclose(out.eigenvalues, ref[:3], rtol=1e-8)
    assert out.eigenvectors["W1"].shape == (3, 5, 12) and out.eigenvectors["b2"].shape == (3,)


def _dominant_negative():
    rng = np.random.default_rng(4)
    eig = np.array([-10.0, 6.0, 4.0, 2.0, 1.0, 0.5, -0.3, -1.5, 0.1, 3.0, -2.5, 0.0])
    a, q = _with_spectrum(rng, eig)
    return jnp.asarray(a), eig, q


@pytest.mark.parametrize("method", ["lanczos", "power"])
def test_magnitude_vs_algebraic_when_the_most_negative_eigenvalue_dominates(method):
    a, eig, q = _dominant_negative()
    iters = 12 if method == "lanczos" else 300
    run = functools.partial(lz.hessian_top_eigenvalues, _quadratic_loss, jnp.zeros(12), a, key=KEY, k=2,
                            num_iters=iters, method=method)
    mag, alg = run(which="magnitude"), run(which="algebraic")
    np.testing.assert_allclose(mag.eigenvalues, [-10.0, 6.0], rtol=1e-8)
    np.testing.assert_allclose(alg.eigenvalues, [6.0, 4.0], rtol=1e-8)
    # eigenvectors: the dense ones with the canonical sign (largest entry positive)
    for out, lams in ((mag, [-10.0, 6.0]), (alg, [6.0, 4.0])):
        for vec, lam_i in zip(np.asarray(out.eigenvectors), lams):
            ref = q[:, np.argmin(np.abs(eig - lam_i))]
            ref = ref * np.sign(ref[np.argmax(np.abs(ref))])
            np.testing.assert_allclose(vec, ref, atol=1e-7)


@pytest.mark.parametrize("which", ["algebraic", "magnitude"])
def test_power_iteration_agrees_with_lanczos_and_dense_on_a_separated_spectrum(which):
    rng = np.random.default_rng(5)
    eig = np.concatenate([[16.0, 8.0, -4.0, 2.0], rng.uniform(-1.0, 1.0, size=16)])
    a, _ = _with_spectrum(rng, eig)
    a = jnp.asarray(a)
    ref = np.sort(eig)[::-1] if which == "algebraic" else eig[np.argsort(-np.abs(eig), kind="stable")]
    power = lz.hessian_top_eigenvalues(_quadratic_loss, jnp.zeros(20), a, key=KEY, k=3, num_iters=400,
                                       which=which, method="power")
    lanczos = lz.hessian_top_eigenvalues(_quadratic_loss, jnp.zeros(20), a, key=KEY, k=3, num_iters=20,
                                         which=which)
    np.testing.assert_allclose(power.eigenvalues, ref[:3], rtol=1e-8)
    np.testing.assert_allclose(lanczos.eigenvalues, ref[:3], rtol=1e-8)
    np.testing.assert_allclose(np.asarray(power.eigenvectors), np.asarray(lanczos.eigenvectors), atol=1e-6)
    assert np.all(np.asarray(power.residual_norms) < 1e-6)


# ------------------------------------------------------------------------------------------------
# breakdown (β = 0) and degenerate operators


def test_breakdown_on_few_distinct_eigenvalues_restarts_and_stays_exact():
    rng = np.random.default_rng(6)
    eig = np.repeat([5.0, 2.0, -1.0], 3)
    a, q = _with_spectrum(rng, eig)
    aj = jnp.asarray(a)
    # the Krylov space of any vector is 3-dimensional: β₂ = β₅ = 0, the basis stays orthonormal
    alphas, betas, basis, _ = lz._lanczos(lambda x: aj @ x, jnp.asarray(rng.normal(size=9)), 9,
                                          jnp.asarray(rng.normal(size=9)))
    betas = np.asarray(betas)
    assert np.all(np.isfinite(np.asarray(alphas))) and betas[2] == 0.0 and betas[5] == 0.0
    assert np.all(np.delete(betas, [2, 5]) > 1e-3)
    np.testing.assert_allclose(np.asarray(basis) @ np.asarray(basis).T, np.eye(9), atol=1e-12)
    # top-k finds the whole degenerate eigenspace thanks to the restarts
    out = lz.hessian_top_eigenvalues(_quadratic_loss, jnp.zeros(9), aj, key=KEY, k=4, num_iters=9)
    np.testing.assert_allclose(out.eigenvalues, [5.0, 5.0, 5.0, 2.0], rtol=1e-10)
    vecs = np.asarray(out.eigenvectors)
    np.testing.assert_allclose(vecs @ vecs.T, np.eye(4), atol=1e-10)
    proj5 = q[:, :3] @ q[:, :3].T
    np.testing.assert_allclose(proj5 @ vecs[:3].T, vecs[:3].T, atol=1e-10)
    # SLQ: nodes are the eigenvalues, restart nodes get weight 0, per-eigenvalue mass = ‖P_λ v‖²
    sd = lz.hessian_spectral_density(_quadratic_loss, jnp.zeros(9), aj, key=KEY, num_probes=2, num_iters=9,
                                     grid_size=500)
    v = _probes(KEY, 2, 9)
    for p in range(2):
        np.testing.assert_allclose(sd.nodes[p], np.sort(eig), atol=1e-10)
        w = np.asarray(sd.weights[p])
        assert np.sum(w > 1e-12) == 3
        for j, lam in enumerate([-1.0, 2.0, 5.0]):
            qs = q[:, 3 * (2 - j): 3 * (3 - j)]
            np.testing.assert_allclose(w[np.abs(np.asarray(sd.nodes[p]) - lam) < 1e-6].sum(),
                                       np.sum((qs.T @ v[p]) ** 2), rtol=1e-10)
    assert np.all(np.isfinite(np.asarray(sd.density)))


@pytest.mark.parametrize("c", [0.0, 3.0])
def test_scalar_curvature_breaks_down_every_step_and_stays_finite(c):
    a = jnp.asarray(c * np.eye(7))
    for method in ("lanczos", "power"):
        out = lz.hessian_top_eigenvalues(_quadratic_loss, jnp.zeros(7), a, key=KEY, k=3, num_iters=5,
                                         method=method)
        np.testing.assert_allclose(out.eigenvalues, [c] * 3, atol=1e-12)
        vecs = np.asarray(out.eigenvectors)
        np.testing.assert_allclose(vecs @ vecs.T, np.eye(3), atol=1e-10)
    sd = lz.hessian_spectral_density(_quadratic_loss, jnp.zeros(7), a, key=KEY, num_probes=2, num_iters=5,
                                     grid_size=300)
    np.testing.assert_allclose(sd.nodes, c, atol=1e-12)
    np.testing.assert_allclose(np.asarray(sd.weights).sum(1), 1.0, rtol=1e-12)
    assert np.all(np.isfinite(np.asarray(sd.density)))
    np.testing.assert_allclose(np.trapezoid(sd.density, sd.grid), 1.0, rtol=1e-6)


def test_gradients_are_finite_through_breakdown_and_degeneracy():
    rng = np.random.default_rng(7)
    cases = [np.zeros((6, 6)), _with_spectrum(rng, np.repeat([3.0, -1.0], 3))[0]]

    def top(a, method):
        out = lz.hessian_top_eigenvalues(_quadratic_loss, jnp.zeros(6), a, key=KEY, k=2, num_iters=6,
                                         method=method, which="algebraic")
        return sum(jnp.sum(x) for x in jax.tree.leaves(out))

    def density(a):
        sd = lz.hessian_spectral_density(_quadratic_loss, jnp.zeros(6), a, key=KEY, num_probes=2,
                                         num_iters=4, grid_size=64)
        return sum(jnp.sum(x) for x in sd)

    for a in cases:  # (power iteration: finite by construction, its normalisations are guarded)
        a = jnp.asarray(a)
        for g in (jax.grad(top)(a, "lanczos"), jax.grad(density)(a)):
            assert np.all(np.isfinite(np.asarray(g)))


def test_gradient_of_a_simple_top_eigenvalue_is_u_uT():
    a, eig, q = _dominant_negative()
    g = jax.grad(lambda a: lz.hessian_top_eigenvalues(_quadratic_loss, jnp.zeros(12), a, key=KEY, k=1,
                                                      num_iters=12).eigenvalues[0])(a)
    u = q[:, np.argmax(eig)]
    np.testing.assert_allclose(g, np.outer(u, u), atol=1e-8)


# ------------------------------------------------------------------------------------------------
# keys, jit, dtypes


def test_vmap_over_keys_matches_loop_and_converged_values_do_not_depend_on_the_key():
    params, batch = _regression_problem(8)
    dim = ravel_pytree(params)[0].size
    keys = jax.random.split(KEY, 3)
    fn = lambda key: lz.hessian_top_eigenvalues(_regression_loss, params, batch, key=key, k=2,  # noqa: E731
                                                num_iters=dim)
    batched = jax.vmap(fn)(keys)
    for i, key in enumerate(keys):
        single = fn(key)
        for a, b in zip(jax.tree.leaves(batched), jax.tree.leaves(single)):
            np.testing.assert_allclose(np.asarray(a)[i], b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(batched.eigenvalues, np.broadcast_to(batched.eigenvalues[0], (3, 2)), rtol=1e-10)


def test_chunked_probes_match_vmapped_probes_under_jit():
    params, batch = _regression_problem(9)
    kw = dict(num_probes=4, num_iters=8, grid_size=256)
    # an eager call is itself one jitted program; wrapping it in the user's jit changes nothing
    jitted = jax.jit(functools.partial(lz.hessian_spectral_density, _regression_loss, **kw))(params, batch,
                                                                                           key=KEY)
    chunked = lz.hessian_spectral_density(_regression_loss, params, batch, key=KEY, chunk_size=3, **kw)
    for a, b in zip(chunked, jitted):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("low", [jnp.bfloat16])  # f16 goes through the same promotion (contract suite)
def test_low_precision_params_give_float32_results(low):
    params, batch = _regression_problem(10)
    p_low = jax.tree.map(lambda x: x.astype(low), params)
    b_low = jax.tree.map(lambda x: x.astype(low), batch)
    out = lz.hessian_top_eigenvalues(_regression_loss, p_low, b_low, key=KEY, k=1, num_iters=20)
    assert out.eigenvalues.dtype == jnp.float32
    assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(out.eigenvectors))
    ref = np.linalg.eigvalsh(_dense_hessian(_regression_loss, jax.tree.map(lambda x: x.astype(jnp.float64), p_low),
                                            jax.tree.map(lambda x: x.astype(jnp.float64), b_low)))
    np.testing.assert_allclose(out.eigenvalues[0], ref[-1], rtol=1e-5)


# ------------------------------------------------------------------------------------------------
# SLQ: normalisation and moments


def test_density_integrates_to_one_and_its_mean_is_exact_for_a_diagonal_hessian():
    # separable loss: diagonal Hessian, so every normalised Rademacher probe gives vᵀHv = tr(H)/dim
    c = jnp.asarray(np.random.default_rng(11).uniform(-2.0, 5.0, size=30))
    loss = lambda p, c: jnp.sum(c * (0.5 * p ** 2 + 0.1 * jnp.sin(p)))  # noqa: E731
    params = jnp.asarray(np.random.default_rng(12).normal(size=30))
    trace = float(np.trace(_dense_hessian(loss, params, c)))
    sd = lz.hessian_spectral_density(loss, params, c, key=KEY, num_probes=3, num_iters=10)
    assert sd.grid.shape == sd.density.shape == (10_000,)
    np.testing.assert_allclose(np.asarray(sd.weights).sum(1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.sum(sd.nodes * sd.weights, axis=1), trace / 30, rtol=1e-10)
    np.testing.assert_allclose(np.trapezoid(sd.density, sd.grid), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.trapezoid(sd.grid * sd.density, sd.grid), trace / 30, rtol=1e-6)
    assert sd.grid[0] < np.min(sd.nodes) and sd.grid[-1] > np.max(sd.nodes)


def test_quadrature_moments_are_exact_and_the_mean_estimates_the_normalised_trace():
    params, batch = _regression_problem(13)
    h = _dense_hessian(_regression_loss, params, batch)
    dim = h.shape[0]
    num_probes = 200
    sd = lz.hessian_spectral_density(_regression_loss, params, batch, key=KEY, num_probes=num_probes,
                                     num_iters=6, grid_size=4000)
    v = _probes(KEY, num_probes, dim)
    nodes, weights = np.asarray(sd.nodes), np.asarray(sd.weights)
    # Gauss quadrature with m = 6 nodes is exact for polynomials of degree < 12
    for power in (1, 2, 5, 11):
        exact = np.einsum("pi,pi->p", v @ np.linalg.matrix_power(h, power), v)
        np.testing.assert_allclose(np.sum(weights * nodes ** power, axis=1), exact,
                                   rtol=1e-8, atol=1e-12 * np.abs(np.linalg.eigvalsh(h)).max() ** power)
    # unbiased for tr(H)/dim: within 5 standard errors (Var vᵀHv = 2 Σ_{i≠j} H_ij² / dim²)
    off = h - np.diag(np.diag(h))
    se = np.sqrt(2 * np.sum(off ** 2) / dim ** 2 / num_probes)
    assert abs(np.mean(np.sum(weights * nodes, axis=1)) - np.trace(h) / dim) < 5 * se
    # the smoothed density's mean is the probe-averaged quadrature mean
    np.testing.assert_allclose(np.trapezoid(sd.grid * sd.density, sd.grid),
                               np.mean(np.sum(weights * nodes, axis=1)), rtol=1e-6)


# ------------------------------------------------------------------------------------------------
# Gauss–Newton curvature


def _softmax_split_loss():
    def model_fn(params, batch):
        return _mlp_out(params, batch[0])

    def output_loss(logits, batch):
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), batch[1][:, None], axis=1))

    return SplitLoss(model_fn, output_loss)


def _dense_ggn(loss: SplitLoss, params, batch):
    flat, unravel = ravel_pytree(params)

    @jax.jit
    def parts(flat, batch):
        out = loss.model_fn(unravel(flat), batch)
        jac = jax.jacobian(lambda f: loss.model_fn(unravel(f), batch))(flat).reshape(out.size, -1)
        h_out = jax.hessian(lambda o: loss.output_loss(o, batch))(out).reshape(out.size, out.size)
        return jac, h_out

    jac, h_out = (np.asarray(x) for x in parts(flat, batch))
    return jac.T @ h_out @ jac


def test_ggn_curvature_matches_dense_jT_h_j():
    rng = np.random.default_rng(14)
    params = _mlp_params(rng, 3, 4, c=3)  # dim = 31
    x = jnp.asarray(rng.normal(size=(50, 3)))
    y = jnp.asarray(rng.integers(0, 3, size=50))
    loss = _softmax_split_loss()
    g = _dense_ggn(loss, params, (x, y))
    lam = np.linalg.eigvalsh(g)
    out = lz.hessian_top_eigenvalues(loss, params, (x, y), key=KEY, k=3, num_iters=31, curvature="ggn")
    np.testing.assert_allclose(out.eigenvalues, lam[::-1][:3], rtol=1e-8)
    sd = lz.hessian_spectral_density(loss, params, (x, y), key=KEY, num_probes=4, num_iters=8, curvature="ggn")
    v = _probes(KEY, 4, 31)
    np.testing.assert_allclose(np.sum(sd.nodes * sd.weights, axis=1), np.einsum("pi,ij,pj->p", v, g, v),
                               rtol=1e-8)
    assert np.all(np.asarray(sd.nodes) > -1e-10 * lam[-1])  # G is positive semi-definite


# ------------------------------------------------------------------------------------------------
# real data: small MLPs trained in the test


def _train(loss_fn, params, batch, steps, lr):
    opt = optax.adam(lr)

    @jax.jit
    def run(params):
        def step(carry, _):
            params, state = carry
            grads = jax.grad(loss_fn)(params, batch)
            updates, state = opt.update(grads, state, params)
            return (optax.apply_updates(params, updates), state), None

        return jax.lax.scan(step, (params, opt.init(params)), None, length=steps)[0][0]

    return run(params)


def _standardize(x):
    return (x - x.mean(0)) / x.std(0)


def test_real_data_iris_mlp_top_eigenvalues():
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_iris()
    x, y = jnp.asarray(_standardize(data.data)), jnp.asarray(data.target)
    loss = _softmax_split_loss()
    params = _train(loss, _mlp_params(np.random.default_rng(15), 4, 16, c=3), (x, y), steps=300, lr=1e-2)
    assert float(loss(params, (x, y))) < 0.2  # trained
    h = _dense_hessian(loss, params, (x, y))  # 131 × 131
    lam = np.linalg.eigvalsh(h)
    out = lz.hessian_top_eigenvalues(loss, params, (x, y), key=KEY, k=2, num_iters=40)
    np.testing.assert_allclose(out.eigenvalues, lam[::-1][:2], rtol=1e-3)
    assert np.all(np.asarray(out.residual_norms) < 1e-3 * lam[-1])


def test_real_data_breast_cancer_ggn_top_eigenvalue():
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_breast_cancer()
    x, y = jnp.asarray(_standardize(data.data)), jnp.asarray(data.target)
    loss = _softmax_split_loss()
    params = _train(loss, _mlp_params(np.random.default_rng(16), 30, 8, c=2), (x, y), steps=200, lr=1e-2)
    assert float(loss(params, (x, y))) < 0.15
    g = _dense_ggn(loss, params, (x, y))  # 266 × 266
    out = lz.hessian_top_eigenvalues(loss, params, (x, y), key=KEY, k=1, num_iters=30, curvature="ggn")
    np.testing.assert_allclose(out.eigenvalues[0], np.linalg.eigvalsh(g)[-1], rtol=1e-3)


# ------------------------------------------------------------------------------------------------
# argument errors


@pytest.mark.parametrize("kwargs, name", [
    (dict(k=0), "k"), (dict(k=2.0), "k"), (dict(k=3, num_iters=2), "num_iters"), (dict(which="largest"), "which"),
    (dict(method="arnoldi"), "method"), (dict(curvature="fisher"), "curvature"), (dict(k=8, num_iters=8), "k"),
    (dict(key=None), "key"),
])
def test_top_eigenvalues_bad_arguments_raise_shape_error_naming_them(kwargs, name):
    kwargs = {"key": KEY, **kwargs}
    with pytest.raises(jaxmetrics.ShapeError, match=f"`{name}`"):
        lz.hessian_top_eigenvalues(_quadratic_loss, jnp.zeros(7), jnp.eye(7), **kwargs)


@pytest.mark.parametrize("kwargs, name", [
    (dict(num_probes=0), "num_probes"), (dict(num_iters=0), "num_iters"), (dict(grid_size=1), "grid_size"),
    (dict(sigma_squared=-1.0), "sigma_squared"), (dict(chunk_size=0), "chunk_size"),
    (dict(curvature="fisher"), "curvature"),
])
def test_density_bad_arguments_raise_shape_error_naming_them(kwargs, name):
    with pytest.raises(jaxmetrics.ShapeError, match=f"`{name}`"):
        lz.hessian_spectral_density(_quadratic_loss, jnp.zeros(7), jnp.eye(7), key=KEY, **kwargs)


def test_params_and_loss_errors():
    with pytest.raises(jaxmetrics.ShapeError, match="`params`"):
        lz.hessian_top_eigenvalues(_quadratic_loss, {}, jnp.eye(3), key=KEY)
    with pytest.raises(jaxmetrics.ShapeError, match="`params`"):
        lz.hessian_top_eigenvalues(_quadratic_loss, jnp.zeros(3, jnp.int32), jnp.eye(3), key=KEY)
    with pytest.raises(jaxmetrics.ShapeError, match="`loss_fn`"):
        lz.hessian_top_eigenvalues(lambda p, b: b @ p, jnp.zeros(3), jnp.eye(3), key=KEY)
    with pytest.raises(TypeError, match="SplitLoss"):
        lz.hessian_spectral_density(_quadratic_loss, jnp.zeros(3), jnp.eye(3), key=KEY, curvature="ggn")


def test_registered():
    for name in ("hessian_top_eigenvalues", "hessian_spectral_density"):
        info = jaxmetrics.registry[name]
        assert info.family == "spectral" and info.fn is getattr(lz, name)
        assert "eigvalsh" in info.oracle
