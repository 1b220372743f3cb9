"""Sliced score matching and the Hutchinson divergence (jaxmetrics.score_matching.sliced).

Oracles: the dense ``jax.jacfwd`` Jacobian (numpy trace, and per-draw quadratic forms vᵀJv recomputed in
numpy from the same documented probe draw), closed forms for linear (Gaussian) scores — Hyvärinen's
objective −tr A + ½‖A(x − μ)‖² — and real data (iris): score matching ranks the fitted Gaussian above
perturbed ones. Every metric call is jitted once per configuration (a handful of compiles).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.tree_util import Partial

from jaxmetrics.score_matching import hutchinson_divergence, sliced_score_matching_loss

N, D, M = 16, 3, 6


def _probes(key, kind, shape):
    """The documented draw: float32 Rademacher / normal of shape [M, N, d], cast up."""
    if kind == "rademacher":
        return np.asarray(jax.random.rademacher(key, shape, dtype=jnp.float32), np.float64)
    return np.asarray(jax.random.normal(key, shape, dtype=jnp.float32), np.float64)


def _mlp(theta, x):
    w1, b1, w2 = theta[:12].reshape(3, 4), theta[12:16], theta[16:28].reshape(4, 3)
    return jnp.tanh(x @ w1 + b1) @ w2 - 0.5 * x


def test_sliced_score_matching_linear_score_closed_forms():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(D, D))
    A = a @ a.T / D + 0.5 * np.eye(D)  # precision of a Gaussian: s(x) = −A(x − μ), ∂s/∂x = −A
    mu = rng.normal(size=D)
    x = rng.normal(size=(2, N, D))  # a leading batch axis
    where = rng.random((2, N)) > 0.2
    weights = rng.random((2, N)) + 0.1
    key = jax.random.key(3)
    score = Partial(lambda A_, z: -(z - mu) @ A_, jnp.asarray(A))  # (A symmetric)

    @jax.jit
    def losses(x, where, weights):
        common = dict(key=key, num_projections=M, where=where, weights=weights)
        return (sliced_score_matching_loss(score, x, **common),
                sliced_score_matching_loss(score, x, **common, variance_reduced=True),
                sliced_score_matching_loss(score, x, **common, projection="gaussian", chunk_size=4))

    ssm, ssm_vr, ssm_gauss = losses(x, where, weights)
    s = -(x - mu) @ A
    w = where * weights

    def expected(v, vr):  # per-draw numpy values from the same probes, [M, N, d] shared by the batch axis
        quad = -np.einsum("mni,ij,mnj->mn", v, A, v)[:, None]
        second = 0.5 * (s * s).sum(-1) if vr else 0.5 * np.einsum("mnd,bnd->mbn", v, s) ** 2
        per = (quad + second).mean(0)
        return (w * per).sum(-1) / w.sum(-1)

    v_rad, v_gauss = _probes(key, "rademacher", (M, N, D)), _probes(key, "gaussian", (M, N, D))
    np.testing.assert_allclose(ssm, expected(v_rad, False), rtol=1e-10)
    np.testing.assert_allclose(ssm_vr, expected(v_rad, True), rtol=1e-10)
    np.testing.assert_allclose(ssm_gauss, expected(v_gauss, False), rtol=1e-10)

    # a diagonal precision: vᵀAv = tr A for every Rademacher draw, so SSM-VR is Hyvärinen's objective
    # −tr A + ½‖A(x − μ)‖² exactly, and a leading axis equals vmap with the same key
    A_diag = np.diag(rng.uniform(0.5, 2.0, size=D))
    exact = -np.trace(A_diag) + 0.5 * (((x - mu) @ A_diag) ** 2).sum(-1)
    diag = jax.jit(lambda x_, m_, w_: sliced_score_matching_loss(
        Partial(lambda A_, z: -(z - mu) @ A_, jnp.asarray(A_diag)), x_, key=key, num_projections=M,
        variance_reduced=True, where=m_, weights=w_))
    np.testing.assert_allclose(diag(x, where, weights), (w * exact).sum(-1) / w.sum(-1), rtol=1e-12)
    np.testing.assert_allclose(jax.vmap(diag)(x, where, weights), diag(x, where, weights), rtol=1e-12)

    # many projections: the plain SSM converges to the same exact objective (A non-diagonal); the
    # Rademacher standard deviation of one draw's value is computed by enumerating the 2^d sign vectors
    signs = np.array(np.meshgrid(*[[-1.0, 1.0]] * D)).reshape(D, -1).T
    per_draw = -np.einsum("ki,ij,kj->k", signs, A, signs)[:, None] + 0.5 * (signs @ s[0].T) ** 2  # [2^d, N]
    many = jax.jit(lambda x_: sliced_score_matching_loss(score, x_, key=jax.random.key(9), num_projections=2048,
                                                         reduce=None))(x[0])
    exact_full = -np.trace(A) + 0.5 * (s[0] ** 2).sum(-1)
    np.testing.assert_allclose(per_draw.mean(0), exact_full, rtol=1e-12)  # the enumeration is the expectation
    np.testing.assert_array_less(np.abs(np.asarray(many) - exact_full), 5 * per_draw.std(0) / np.sqrt(2048) + 1e-12)


def test_sliced_score_matching_parameterizations_and_network_gradients():
    """A denoiser read as a score (s = (D − x)/σ²) gives the loss of that score; gradients with respect to
    the network parameters are finite and match finite differences."""
    rng = np.random.default_rng(1)
    theta = jnp.asarray(rng.normal(size=28) * 0.5)
    x = rng.normal(size=(N, D))
    sigma = np.exp(rng.uniform(-1, 1, size=N))
    key = jax.random.key(0)
    denoiser = Partial(lambda th, z, s: _mlp(th, z) * s[..., None] + z, theta)
    as_score = Partial(lambda th, z, s: _mlp(th, z) / s[..., None], theta)  # (D − z)/σ²
    loss = jax.jit(lambda f, x_, s_: sliced_score_matching_loss(f, x_, s_, key=key, num_projections=M,
                                                                parameterization="x0"))
    loss_score = jax.jit(lambda f, x_, s_: sliced_score_matching_loss(f, x_, s_, key=key, num_projections=M))
    np.testing.assert_allclose(loss(denoiser, x, sigma), loss_score(as_score, x, sigma), rtol=1e-10)

    def objective(th):
        return loss_score(Partial(lambda t, z, s: _mlp(t, z) / s[..., None], th), x, sigma)

    g = jax.jit(jax.grad(objective))(theta)
    assert np.all(np.isfinite(g))
    direction = rng.normal(size=28)
    eps = 1e-6
    fd = (objective(theta + eps * direction) - objective(theta - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(np.dot(g, direction), fd, rtol=1e-6)


def test_sliced_score_matching_on_iris_prefers_the_fitted_gaussian():
    """Real data: Hyvärinen's estimator for a Gaussian family is the sample mean and covariance, so on
    iris the sliced loss (common probes) is lower for the fitted Gaussian than for perturbed ones."""
    from sklearn.datasets import load_iris

    data = load_iris().data[:144]
    data = (data - data.mean(0)) / data.std(0)
    mu, prec = data.mean(0), np.linalg.inv(np.cov(data.T, ddof=0))
    loss = jax.jit(lambda m, p: sliced_score_matching_loss(Partial(lambda m_, p_, z: -(z - m_) @ p_, m, p), data,
                                                           key=jax.random.key(0), num_projections=64,
                                                           variance_reduced=True))
    fitted = float(loss(mu, prec))
    exact = -np.trace(prec) + 0.5 * (((data - mu) @ prec) ** 2).sum(-1).mean()
    assert abs(fitted - exact) < 0.05 * abs(exact)  # the trace term's Monte Carlo error only
    for m, p in [(mu + 0.3, prec), (mu, prec * 1.3), (mu, prec / 1.3), (mu, np.diag(np.diag(prec)))]:
        assert float(loss(m, p)) > fitted


def test_hutchinson_divergence_against_dense_jacobian():
    rng = np.random.default_rng(2)
    theta = jnp.asarray(rng.normal(size=28) * 0.7)
    x = rng.normal(size=(2, N, D))
    key = jax.random.key(4)
    field = Partial(_mlp, theta)
    hutch = jax.jit(lambda f, x_, k: hutchinson_divergence(f, x_, key=k, num_probes=M))
    est = hutch(field, x, key)
    jac = np.asarray(jax.jit(jax.vmap(jax.vmap(jax.jacfwd(lambda z: _mlp(theta, z)))))(x))  # [2, N, d, d]
    v = _probes(key, "rademacher", (M, N, D))
    quad = np.einsum("mni,bnji,mnj->mbn", v, jac, v)  # vᵀJv with J[j, i] = ∂f_j/∂x_i
    np.testing.assert_allclose(est.estimate, quad.mean(0), rtol=1e-10)
    np.testing.assert_allclose(est.std_error, quad.std(0, ddof=1) / np.sqrt(M), rtol=1e-8)
    # unbiased: many probes approach the exact trace
    many = jax.jit(lambda f, x_: hutchinson_divergence(f, x_, key=jax.random.key(1), num_probes=4096,
                                                       chunk_size=1024))(field, x)
    trace = np.trace(jac, axis1=-2, axis2=-1)
    np.testing.assert_array_less(np.abs(np.asarray(many.estimate) - trace), 5 * np.asarray(many.std_error) + 1e-9)
    # vmap over keys == a loop over keys; a leading axis == vmap with one shared key
    keys = jax.random.split(jax.random.key(7), 3)
    batched = jax.vmap(lambda k: hutch(field, x, k).estimate)(keys)
    for i in range(3):
        np.testing.assert_allclose(batched[i], hutch(field, x, keys[i]).estimate, rtol=1e-12)
    np.testing.assert_allclose(jax.vmap(lambda x_: hutch(field, x_, key).estimate)(x), est.estimate, rtol=1e-12)


def test_hutchinson_divergence_exact_for_diagonal_jacobians_eager():
    """An elementwise field has a diagonal Jacobian: every Rademacher probe gives the exact divergence
    (std_error 0). Runs the eager (plain closure) path; one probe gives std_error NaN with finite grads."""
    x = jnp.asarray(np.random.default_rng(3).normal(size=(N, D)))
    est = hutchinson_divergence(lambda z: jnp.sin(z) * 2.0, x, key=jax.random.key(0), num_probes=2)
    np.testing.assert_allclose(est.estimate, (2 * np.cos(np.asarray(x))).sum(-1), rtol=1e-12)
    np.testing.assert_allclose(est.std_error, 0.0, atol=1e-12)
    one = jax.jit(lambda z: hutchinson_divergence(lambda u: u * z, z, key=jax.random.key(0), num_probes=1))
    assert np.isnan(one(x).std_error).all()
    g = jax.grad(lambda z: jnp.sum(jnp.nan_to_num(jnp.stack(one(z)), nan=0.0)))(x)
    assert np.all(np.isfinite(g))
