"""Curvature functions (jaxmetrics.spectral.hessian) against independent oracles: the dense
``jax.hessian`` / explicit ``Jᵀ H_out J`` of small models with numpy.linalg, closed forms for quadratic
and quartic losses, exact Rademacher-variance formulas for the trace estimators, and a small MLP
trained in the test on scikit-learn's breast-cancer data."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import jaxmetrics
from jaxmetrics import spectral as js
from jaxmetrics.spectral import SplitLoss

# ------------------------------------------------------------------------------------------------
# fixtures: a small softmax MLP and quadratic losses


def _mlp_params(rng, d=3, h=5, c=2, scale=0.7):
    return {
        "W1": jnp.asarray(rng.normal(size=(d, h)) * scale),
        "b1": jnp.asarray(rng.normal(size=h) * 0.1),
        "W2": jnp.asarray(rng.normal(size=(h, c)) * scale),
        "b2": jnp.asarray(rng.normal(size=c) * 0.1),
    }


def _mlp(p, batch):
    x, _ = batch
    return jnp.tanh(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]


def _cross_entropy(logits, batch):
    _, y = batch
    logp = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


MLP_LOSS = SplitLoss(_mlp, _cross_entropy)


def _mlp_batch(rng, n=24, d=3, c=2):
    return jnp.asarray(rng.normal(size=(n, d))), jnp.asarray(rng.integers(0, c, size=n))


def _dense_hessian(loss_fn, params, batch):
    flat, unravel = ravel_pytree(params)
    return np.asarray(jax.jit(jax.hessian(lambda f, b: loss_fn(unravel(f), b)))(flat, batch))


def _dense_ggn(loss: SplitLoss, params, batch):
    """Explicit Jᵀ H_out J from jax.jacobian / jax.hessian, multiplied in numpy."""
    flat, unravel = ravel_pytree(params)
    out = loss.model_fn(params, batch)
    J = np.asarray(jax.jit(jax.jacobian(lambda f, b: loss.model_fn(unravel(f), b).ravel()))(flat, batch))
    H_out = np.asarray(jax.jit(jax.hessian(lambda o, b: loss.output_loss(o.reshape(out.shape), b)))(out.ravel(),
                                                                                                    batch))
    return J.T @ H_out @ J


def _quadratic(x, A):
    return 0.5 * x @ A @ x


def _sym(rng, n):
    a = rng.normal(size=(n, n))
    return (a + a.T) / 2


@functools.lru_cache(maxsize=None)
def _trace_fn(loss_fn, **kwargs):
    """Jitted ``hessian_trace(loss_fn, params, batch, key=key, **kwargs)`` (eager dispatch is slow)."""
    return jax.jit(lambda p, b, k: js.hessian_trace(loss_fn, p, b, key=k, **kwargs))


def _hutchinson_var(A):
    """Exact variance of one Rademacher quadratic form vᵀAv (A symmetric): 2 Σ_{i≠j} A_ij²."""
    return 2 * (np.sum(A**2) - np.sum(np.diag(A) ** 2))


# ------------------------------------------------------------------------------------------------
# products


def test_hvp_matches_dense_hessian():
    rng = np.random.default_rng(0)
    params, batch = _mlp_params(rng), _mlp_batch(rng)
    H = _dense_hessian(MLP_LOSS, params, batch)
    hvp = jax.jit(functools.partial(js.hessian_vector_product, MLP_LOSS))
    for _ in range(3):
        v = _mlp_params(rng, scale=1.0)
        hv = hvp(params, batch, v)
        assert jax.tree.structure(hv) == jax.tree.structure(params)
        np.testing.assert_allclose(ravel_pytree(hv)[0], H @ ravel_pytree(v)[0], rtol=1e-10, atol=1e-12)
    # a plain function (not a SplitLoss) works the same
    plain = lambda p, b: MLP_LOSS(p, b)  # noqa: E731
    hv = js.hessian_vector_product(plain, params, batch, v)
    np.testing.assert_allclose(ravel_pytree(hv)[0], H @ ravel_pytree(v)[0], rtol=1e-10, atol=1e-12)


def test_ggn_vp_matches_explicit_jt_h_j():
    rng = np.random.default_rng(1)
    params, batch = _mlp_params(rng), _mlp_batch(rng)
    G = _dense_ggn(MLP_LOSS, params, batch)
    assert np.linalg.eigvalsh(G).min() > -1e-12  # convex output loss: PSD
    gvp = jax.jit(functools.partial(js.ggn_vector_product, MLP_LOSS))
    for _ in range(3):
        v = _mlp_params(rng, scale=1.0)
        gv = gvp(params, batch, v)
        np.testing.assert_allclose(ravel_pytree(gv)[0], G @ ravel_pytree(v)[0], rtol=1e-10, atol=1e-12)
    # GGN differs from the Hessian of a nonlinear model
    assert np.abs(G - _dense_hessian(MLP_LOSS, params, batch)).max() > 1e-3


def test_ggn_equals_hessian_for_a_linear_model():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(30, 4)), rng.normal(size=30)
    loss = SplitLoss(lambda w, b: b[0] @ w, lambda out, b: 0.5 * jnp.mean((out - b[1]) ** 2))
    w, v = jnp.asarray(rng.normal(size=4)), jnp.asarray(rng.normal(size=4))
    ref = X.T @ X @ np.asarray(v) / 30  # closed form H = G = XᵀX / N
    np.testing.assert_allclose(js.ggn_vector_product(loss, w, (X, y), v), ref, rtol=1e-12)
    np.testing.assert_allclose(js.hessian_vector_product(loss, w, (X, y), v), ref, rtol=1e-12)


def test_products_reject_mismatched_arguments():
    rng = np.random.default_rng(3)
    params, batch = _mlp_params(rng), _mlp_batch(rng)
    v = _mlp_params(rng)
    for fn in (js.hessian_vector_product, js.ggn_vector_product):
        with pytest.raises(jaxmetrics.ShapeError, match="`v`"):  # tree structure
            fn(MLP_LOSS, params, batch, {k: v[k] for k in ("W1", "b1", "W2")})
        with pytest.raises(jaxmetrics.ShapeError, match="`v`"):  # leaf shapes
            fn(MLP_LOSS, params, batch, dict(v, W1=v["W1"].T))
        with pytest.raises(jaxmetrics.ShapeError, match="`v`"):  # flat vector for a pytree
            fn(MLP_LOSS, params, batch, ravel_pytree(v)[0])
        with pytest.raises(jaxmetrics.ShapeError, match="`params`"):
            fn(MLP_LOSS, dict(params, b2=jnp.array([1, 2])), batch, v)
    with pytest.raises(TypeError, match="`loss`"):
        js.ggn_vector_product(lambda p, b: MLP_LOSS(p, b), params, batch, v)
    with pytest.raises(jaxmetrics.ShapeError, match="`loss_fn`"):  # per-example (non-scalar) loss
        js.hessian_vector_product(lambda p, b: _mlp(p, b).sum(-1), params, batch, v)


def test_products_promote_low_precision_and_jit():
    rng = np.random.default_rng(4)
    params, batch = _mlp_params(rng), _mlp_batch(rng)
    v = _mlp_params(rng)
    low = jax.tree.map(lambda x: x.astype(jnp.bfloat16), params)
    out = js.hessian_vector_product(MLP_LOSS, low, batch, v)
    assert all(leaf.dtype == jnp.float32 for leaf in jax.tree.leaves(out))
    jitted = jax.jit(functools.partial(js.ggn_vector_product, MLP_LOSS))(params, batch, v)
    eager = js.ggn_vector_product(MLP_LOSS, params, batch, v)
    np.testing.assert_allclose(ravel_pytree(jitted)[0], ravel_pytree(eager)[0], rtol=1e-12)


# ------------------------------------------------------------------------------------------------
# Hutchinson / Hutch++ trace


def test_hutchinson_is_exact_for_a_diagonal_hessian():
    a = jnp.asarray(np.random.default_rng(5).normal(size=40))  # indefinite diagonal
    loss = lambda x, a: 0.5 * jnp.sum(a * x**2)  # noqa: E731
    for seed in range(3):
        est = js.hessian_trace(loss, jnp.ones(40), a, key=jax.random.key(seed), num_probes=7)
        np.testing.assert_allclose(est.samples, np.full(7, float(np.sum(a))), rtol=1e-12)
        np.testing.assert_allclose(est.estimate, np.sum(a), rtol=1e-12)
        assert float(est.std_error) == 0.0
    raw = js.hessian_trace(loss, jnp.ones(40), a, key=jax.random.PRNGKey(0), num_probes=3)  # raw uint32 key
    np.testing.assert_allclose(raw.estimate, np.sum(a), rtol=1e-12)


def test_hutchinson_is_unbiased_with_an_honest_standard_error():
    rng = np.random.default_rng(6)
    A = _sym(rng, 20)
    m, n_keys = 50, 400
    keys = jax.random.split(jax.random.key(0), n_keys)
    f = _trace_fn(_quadratic, num_probes=m)
    est = jax.jit(jax.vmap(lambda k: f(jnp.zeros(20), A, k)))(keys)
    var1 = _hutchinson_var(A)
    # unbiased: the mean of 400 independent estimates is within 4 standard errors of tr A
    assert abs(float(est.estimate.mean()) - np.trace(A)) < 4 * np.sqrt(var1 / (m * n_keys))
    # the sample variance is unbiased for the exact single-probe variance 2 Σ_{i≠j} A_ij²
    np.testing.assert_allclose(np.mean(m * np.asarray(est.std_error) ** 2), var1, rtol=0.1)
    # z-scores are roughly standard normal (t with 49 degrees of freedom)
    z = (np.asarray(est.estimate) - np.trace(A)) / np.asarray(est.std_error)
    assert 0.9 < np.mean(np.abs(z) < 1.96) < 0.99
    assert 0.85 < np.std(z) < 1.2 and abs(np.mean(z)) < 0.2
    # samples are the quadratic forms and their mean is the estimate
    np.testing.assert_allclose(np.asarray(est.samples).mean(-1), est.estimate, rtol=1e-12)


def test_hutchinson_std_error_convention_for_one_probe():
    est = js.hessian_trace(_quadratic, jnp.zeros(5), jnp.eye(5), key=jax.random.key(0), num_probes=1)
    assert est.samples.shape == (1,) and np.isnan(est.std_error)


def _low_rank_plus_noise(rng, n=100, rank=10, noise=0.05):
    U = np.linalg.qr(rng.normal(size=(n, rank)))[0]
    G = rng.normal(size=(n, n))
    return U @ np.diag(np.linspace(20, 100, rank)) @ U.T + noise * G @ G.T / n


def test_hutchpp_has_lower_variance_at_equal_matvecs():
    rng = np.random.default_rng(7)
    A = _low_rank_plus_noise(rng)
    keys = jax.random.split(jax.random.key(1), 200)
    run = lambda method: jax.jit(jax.vmap(  # noqa: E731
        lambda k: _trace_fn(_quadratic, num_probes=30, method=method)(jnp.zeros(100), A, k)))(keys)
    hutch, hpp = run("hutchinson"), run("hutch++")
    assert hpp.samples.shape == (200, 30 - 2 * 10)
    var_h, var_pp = np.var(hutch.estimate), np.var(hpp.estimate)
    assert var_pp < 0.05 * var_h
    # both unbiased (within 5 standard errors of the mean over keys)
    for e in (hutch.estimate, hpp.estimate):
        assert abs(np.mean(e) - np.trace(A)) < 5 * np.std(e) / np.sqrt(200) + 1e-9
    # Hutchinson's variance is the closed form; Hutch++'s std_error matches its empirical spread
    np.testing.assert_allclose(var_h, _hutchinson_var(A) / 30, rtol=0.3)
    np.testing.assert_allclose(np.mean(np.asarray(hpp.std_error) ** 2), var_pp, rtol=0.3)


def test_hutchpp_is_exact_when_rank_fits_in_the_sketch():
    rng = np.random.default_rng(8)
    U = np.linalg.qr(rng.normal(size=(60, 5)))[0]
    A = U @ np.diag([9.0, -4.0, 3.0, 2.0, 1.0]) @ U.T  # rank 5 (indefinite), sketch k = 6
    for seed in range(3):
        est = js.hessian_trace(_quadratic, jnp.zeros(60), A, key=jax.random.key(seed), num_probes=18,
                               method="hutch++")
        np.testing.assert_allclose(est.estimate, np.trace(A), rtol=1e-10)
        assert float(est.std_error) < 1e-10


@pytest.mark.parametrize("curvature", ["hessian", "ggn"])
def test_hutchpp_with_a_full_sketch_gives_the_dense_trace(curvature):
    """num_probes ≥ 3·dim: the sketch spans everything and Hutch++ returns the exact trace."""
    rng = np.random.default_rng(9)
    params, batch = _mlp_params(rng), _mlp_batch(rng)
    dense = _dense_hessian(MLP_LOSS, params, batch) if curvature == "hessian" else _dense_ggn(MLP_LOSS, params, batch)
    est = _trace_fn(MLP_LOSS, num_probes=3 * 32, method="hutch++", curvature=curvature)(params, batch,
                                                                                        jax.random.key(2))
    np.testing.assert_allclose(est.estimate, np.trace(dense), rtol=1e-10)


def test_trace_gradient_with_a_full_sketch_is_the_gradient_of_the_trace():
    """Hutch++ holds Q fixed under differentiation; with a full sketch that is exactly ∇ tr H.

    L(x) = Σ_j log cosh((Bx)_j): tr H = Σ_j c_j sech²(z_j), c_j = Σ_i B_ji², z = Bx, so
    ∇ tr H = Bᵀ(−2 c ⊙ sech² z ⊙ tanh z) (closed form)."""
    rng = np.random.default_rng(18)
    B, x = rng.normal(size=(9, 6)), rng.normal(size=6) * 0.5
    loss = lambda x, B: jnp.sum(jnp.log(jnp.cosh(B @ x)))  # noqa: E731
    z = B @ x
    c = np.sum(B**2, axis=1)
    sech2 = 1 / np.cosh(z) ** 2
    f = _trace_fn(loss, num_probes=18, method="hutch++")
    value, grad = jax.value_and_grad(lambda x: f(x, B, jax.random.key(0)).estimate)(jnp.asarray(x))
    np.testing.assert_allclose(value, np.sum(c * sech2), rtol=1e-10)
    np.testing.assert_allclose(grad, B.T @ (-2 * c * sech2 * np.tanh(z)), rtol=1e-9)


@pytest.mark.parametrize("method,curvature", [("hutchinson", "hessian"), ("hutch++", "ggn")])
def test_trace_is_deterministic_jittable_vmappable_and_chunkable(method, curvature):
    rng = np.random.default_rng(10)
    params, batch = _mlp_params(rng), _mlp_batch(rng)
    kw = dict(num_probes=10, method=method, curvature=curvature)
    key = jax.random.key(3)
    jitted = _trace_fn(MLP_LOSS, **kw)  # jit == eager is the contract suite's check
    first = jitted(params, batch, key)
    others = [jitted(params, batch, key)]
    if method == "hutchinson":  # lax.map in chunks of 3 (Hutch++/GGN chunks: the contract's edge cases)
        others.append(_trace_fn(MLP_LOSS, chunk_size=3, **kw)(params, batch, key))
    for other in others:
        for a, b in zip(first, other):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    keys = jax.random.split(key, 4)
    batched = jax.jit(jax.vmap(lambda k: jitted(params, batch, k)))(keys)
    looped = [jitted(params, batch, k) for k in keys]
    np.testing.assert_allclose(batched.estimate, [x.estimate for x in looped], rtol=1e-10)
    np.testing.assert_allclose(batched.samples, np.stack([x.samples for x in looped]), rtol=1e-10)
    assert len(set(np.round(np.asarray(batched.estimate), 8))) > 1  # different keys, different probes


def test_trace_rejects_bad_configuration():
    rng = np.random.default_rng(11)
    params, batch = _mlp_params(rng), _mlp_batch(rng)
    key = jax.random.key(0)
    for kwargs, name in [
        (dict(num_probes=0), "num_probes"),
        (dict(num_probes=2, method="hutch++"), "num_probes"),
        (dict(num_probes=4.0), "num_probes"),
        (dict(method="lanczos"), "method"),
        (dict(curvature="fisher"), "curvature"),
        (dict(chunk_size=0), "chunk_size"),
    ]:
        with pytest.raises(jaxmetrics.ShapeError, match=f"`{name}`"):
            js.hessian_trace(MLP_LOSS, params, batch, key=key, **kwargs)
    with pytest.raises(TypeError, match="`loss_fn`"):
        js.hessian_trace(lambda p, b: MLP_LOSS(p, b), params, batch, key=key, curvature="ggn")


# ------------------------------------------------------------------------------------------------
# sharpness


def test_sharpness_matches_the_closed_form_for_quadratics():
    rng = np.random.default_rng(12)
    A = _sym(rng, 8)  # indefinite
    x = rng.normal(size=8)
    g = A @ x
    ng = np.linalg.norm(g)
    rhos = np.array([0.0, 0.01, 0.05, 0.5, 3.0])
    ref = rhos * ng + 0.5 * rhos**2 * (g @ A @ g) / ng**2  # S = ρ‖g‖ + ½ρ² gᵀAg/‖g‖²
    got = jax.vmap(lambda r: js.sharpness(_quadratic, jnp.asarray(x), A, rho=r))(jnp.asarray(rhos))
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(js.sharpness(_quadratic, jnp.asarray(x), A), ref[2], rtol=1e-10)  # ρ = 0.05


def test_sharpness_toward_the_minimum_and_at_it():
    rng = np.random.default_rng(13)
    U = np.linalg.qr(rng.normal(size=(6, 6)))[0]
    lam = np.array([0.5, 1.0, 2.0, 3.0, 5.0, 7.0])
    A = U @ np.diag(lam) @ U.T
    rho = 0.05
    # along the top eigenvector, x = c·u: S = ρλ_max|c| + ½ρ²λ_max → ½ρ²λ_max (the ball maximum at
    # the minimum) as c → 0
    for c in (1e-2, 1e-4, 1e-6):
        s = js.sharpness(_quadratic, jnp.asarray(c * U[:, -1]), A, rho=rho)
        np.testing.assert_allclose(s, rho * 7.0 * c + 0.5 * rho**2 * 7.0, rtol=1e-8)
    # at the exact minimum g = 0: the documented answer 0, with finite gradients
    s, grad = jax.value_and_grad(lambda x: js.sharpness(_quadratic, x, A, rho=rho))(jnp.zeros(6))
    assert float(s) == 0.0 and np.all(np.isfinite(grad))


def test_sharpness_on_a_quartic_pytree():
    rng = np.random.default_rng(14)
    params = {"a": jnp.asarray(rng.normal(size=(2, 3))), "b": jnp.asarray(rng.normal(size=4))}
    scale = 1.7
    loss = lambda p, s: s * sum(jnp.sum(x**4) / 4 for x in jax.tree.leaves(p))  # noqa: E731
    w = np.concatenate([np.asarray(params["a"]).ravel(), np.asarray(params["b"])])
    g = scale * w**3
    eps = 0.1 * g / np.linalg.norm(g)  # global norm over both leaves
    ref = scale * (np.sum((w + eps) ** 4) - np.sum(w**4)) / 4
    np.testing.assert_allclose(js.sharpness(loss, params, scale, rho=0.1), ref, rtol=1e-10)


def test_sharpness_rejects_bad_rho():
    for rho in (-0.1, np.ones(2)):
        with pytest.raises(jaxmetrics.ShapeError, match="`rho`"):
            js.sharpness(_quadratic, jnp.ones(3), jnp.eye(3), rho=rho)


# ------------------------------------------------------------------------------------------------
# empirical Fisher


def test_empirical_fisher_trace_least_squares_closed_form():
    rng = np.random.default_rng(15)
    X, y, w = rng.normal(size=(20, 5)), rng.normal(size=20), rng.normal(size=5)
    loss = lambda w, b: 0.5 * jnp.mean((b[0] @ w - b[1]) ** 2)  # noqa: E731
    r = X @ w - y
    ref = np.mean(r**2 * np.sum(X**2, axis=1))  # gᵢ = rᵢ xᵢ
    np.testing.assert_allclose(js.empirical_fisher_trace(loss, jnp.asarray(w), (X, y)), ref, rtol=1e-12)
    np.testing.assert_allclose(js.empirical_fisher_trace(loss, jnp.asarray(w), (X, y), chunk_size=7), ref,
                               rtol=1e-12)
    with pytest.raises(jaxmetrics.ShapeError, match="`batch`"):
        js.empirical_fisher_trace(loss, jnp.asarray(w), (X, y[:-1]))


def test_empirical_fisher_trace_matches_a_per_example_loop():
    rng = np.random.default_rng(16)
    params, (X, y) = _mlp_params(rng), _mlp_batch(rng, n=10)
    grad = jax.jit(jax.grad(MLP_LOSS))
    ref = np.mean([np.sum(ravel_pytree(grad(params, (X[i:i + 1], y[i:i + 1])))[0] ** 2) for i in range(10)])
    np.testing.assert_allclose(js.empirical_fisher_trace(MLP_LOSS, params, (X, y)), ref, rtol=1e-10)


# ------------------------------------------------------------------------------------------------
# real data: an MLP trained on breast cancer


@pytest.fixture(scope="module")
def trained_breast_cancer_mlp():
    optax = pytest.importorskip("optax")
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    batch = (jnp.asarray(X), jnp.asarray(y))
    params = _mlp_params(np.random.default_rng(17), d=30, h=8, c=2, scale=0.3)  # 266 parameters
    opt = optax.adam(1e-2)

    @jax.jit
    def step(p, s):
        loss, g = jax.value_and_grad(MLP_LOSS)(p, batch)
        upd, s = opt.update(g, s)
        return optax.apply_updates(p, upd), s, loss

    state = opt.init(params)
    for _ in range(200):
        params, state, loss = step(params, state)
    assert float(loss) < 0.1  # trained (full-batch training loss)
    return params, batch


def test_real_data_hutchinson_trace_vs_dense_hessian(trained_breast_cancer_mlp):
    params, batch = trained_breast_cancer_mlp
    H = _dense_hessian(MLP_LOSS, params, batch)
    exact = np.trace(H)
    np.testing.assert_allclose(np.sum(np.linalg.eigvalsh(H)), exact, rtol=1e-8)
    m = 400
    est = _trace_fn(MLP_LOSS, num_probes=m, chunk_size=100)(params, batch, jax.random.key(0))
    sigma = np.sqrt(_hutchinson_var(H) / m)  # exact standard deviation of the estimate
    assert abs(float(est.estimate) - exact) < 4 * sigma
    np.testing.assert_allclose(est.std_error, sigma, rtol=0.25)  # the reported error is honest
    pp = _trace_fn(MLP_LOSS, num_probes=90, method="hutch++")(params, batch, jax.random.key(1))
    assert abs(float(pp.estimate) - exact) < 5 * float(pp.std_error) + 1e-9 * abs(exact)


def test_real_data_ggn_trace_vs_dense_jt_h_j(trained_breast_cancer_mlp):
    params, batch = trained_breast_cancer_mlp
    G = _dense_ggn(MLP_LOSS, params, batch)
    exact = np.trace(G)
    assert np.linalg.eigvalsh(G).min() > -1e-10 * np.abs(exact)
    m = 400
    est = _trace_fn(MLP_LOSS, num_probes=m, curvature="ggn", chunk_size=100)(params, batch, jax.random.key(2))
    sigma = np.sqrt(_hutchinson_var(G) / m)
    assert abs(float(est.estimate) - exact) < 4 * sigma
    np.testing.assert_allclose(est.std_error, sigma, rtol=0.25)
