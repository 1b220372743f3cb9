"""Weight-matrix spectra: WeightWatcher oracles (WWFit on the same eigenvalues, RMT_Util.matrix_entropy,
and WeightWatcher.analyze on flat weight files — its whole pipeline), numpy SVD for the ESD and norms,
Pareto samples for α, closed-form Weibull checks (exact quantiles, k ≈ 1.205 for Gaussian weights), vmap
over stacked layers, the params-pytree helper, and a small MLP trained on scikit-learn's digits."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import logging

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxmetrics
from jaxmetrics.spectral import weights as sw

ww_powerlaw = pytest.importorskip("weightwatcher.WW_powerlaw")
rmt = pytest.importorskip("weightwatcher.RMT_Util")
logging.getLogger("weightwatcher").setLevel(logging.ERROR)

RTOL = 1e-6
WW_OPTIONS = dict(method="weightwatcher", min_evals=8)  # WeightWatcher 0.7.7's fit and layer policy


# ------------------------------------------------------------------------------------------------
# oracles


def _wwfit(evals):
    """WWFit on the eigenvalues WeightWatcher would fit (> 1e-5); its small-N branch prints."""
    data = np.sort(np.asarray(evals, np.float64))
    data = data[data > 1e-5]
    with contextlib.redirect_stdout(io.StringIO()):
        return ww_powerlaw.WWFit(data)


def _ww_standard(evals):
    """WWFit's standard (Clauset) path for any N, also below its small-N cutoff of 20."""
    fit = ww_powerlaw.WWFit.__new__(ww_powerlaw.WWFit)
    data = np.sort(np.asarray(evals, np.float64))
    fit.data = data[data > 1e-5]
    fit.N = len(fit.data)
    fit.fit_power_law_standard()
    i = np.argmin(fit.Ds)
    return fit.alphas[i], fit.data[i], fit.Ds[i], fit.sigmas[i]


def _fit(evals, **kwargs):
    """powerlaw_fit on ``evals`` zero-padded (and masked) to one of a few lengths: one compilation per
    length and configuration (padding is exact, see test_powerlaw_fit_mask_threshold_and_padding)."""
    evals = np.asarray(evals, np.float64)
    K = next(k for k in (32, 128, 512) if k >= len(evals))
    padded = np.concatenate([evals, np.zeros(K - len(evals))])
    return sw.powerlaw_fit(padded, where=np.arange(K) < len(evals), **kwargs)


def _assert_fit(ours, ref, evals, rtol=RTOL, sigma=True):
    np.testing.assert_allclose(ours.alpha, ref.alpha, rtol=rtol)
    np.testing.assert_allclose(ours.xmin, ref.xmin, rtol=rtol)
    np.testing.assert_allclose(ours.ks_distance, ref.D, rtol=rtol, atol=1e-12)
    if sigma:
        np.testing.assert_allclose(ours.sigma, ref.sigma, rtol=rtol)
    # WeightWatcher's num_pl_spikes = len(evals[evals >= fit.xmin])
    assert int(ours.num_tail) == int(np.sum(np.asarray(evals) >= ref.xmin))


def _ww_analyze(tmp_path, layers):
    """WeightWatcher.analyze over flat ``.npy`` weight files (no torch needed): its full pipeline.

    ``layers``: name -> (array in PyTorch layout, "dense" | "conv2d").
    """
    ww = pytest.importorskip("weightwatcher")
    config = {}
    for i, (name, (W, kind)) in enumerate(layers.items()):
        np.save(tmp_path / f"{name}.weight.npy", np.asarray(W, np.float64))
        config[i] = dict(key=name, name=name, longname=name, weightfile=f"{name}.weight.npy", biasfile=None,
                         type=kind, dims=json.dumps(list(np.shape(W))))
    with open(tmp_path / "ww_config.json", "w") as f:
        json.dump(dict(weights_dir=str(tmp_path), layers=config, framework="ww_flatfiles"), f)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        details = ww.WeightWatcher(model=str(tmp_path)).analyze()
    return details.set_index("name")


def _esd_np(W):
    return np.sort(np.linalg.svd(np.asarray(W, np.float64), compute_uv=False) ** 2)


def _heavy(rng, n, m, df=3.0):
    return rng.standard_t(df, size=(n, m))


# ------------------------------------------------------------------------------------------------
# ESD and norms against numpy


def test_esd_matches_numpy_svd_squared():
    shape = (2, 3, 8, 17)
    W = np.random.default_rng(0).normal(size=shape)
    ref = np.sort(np.linalg.svd(W, compute_uv=False) ** 2, axis=-1)
    np.testing.assert_allclose(sw.esd(W), ref, rtol=RTOL, atol=1e-12)
    # WeightWatcher's normalize=True scales W by 1/sqrt(N), N = max(n, m)
    np.testing.assert_allclose(sw.esd(W, normalize=True), ref / max(shape[-2:]), rtol=RTOL, atol=1e-12)
    # orientation does not matter
    np.testing.assert_allclose(sw.esd(np.swapaxes(W, -1, -2)), ref, rtol=RTOL, atol=1e-12)


def test_norm_summaries_match_numpy():
    rng = np.random.default_rng(1)
    W = _heavy(rng, 64, 128)  # the shape of the WeightWatcher tests below: compiled once
    sv = np.linalg.svd(W, compute_uv=False)
    lam = sv**2
    N = 128
    np.testing.assert_allclose(sw.spectral_norm(W), lam.max(), rtol=RTOL)
    np.testing.assert_allclose(sw.spectral_norm(W, squared=False, normalize=True), sv.max() / np.sqrt(N), rtol=RTOL)
    np.testing.assert_allclose(sw.log_spectral_norm(W), np.log10(lam.max()), rtol=RTOL)
    np.testing.assert_allclose(sw.log_spectral_norm(W, squared=False, normalize=True), np.log10(sv.max() / np.sqrt(N)),
                               rtol=RTOL)
    np.testing.assert_allclose(sw.log_norm(W), np.log10(lam.sum()), rtol=RTOL)
    np.testing.assert_allclose(sw.log_norm(W, squared=False, normalize=True),
                               np.log10(np.linalg.norm(W, "fro") / np.sqrt(N)), rtol=RTOL)
    np.testing.assert_allclose(sw.stable_rank(W), lam.sum() / lam.max(), rtol=RTOL)
    fit = _wwfit(lam)
    np.testing.assert_allclose(sw.alpha_hat(W, **WW_OPTIONS), fit.alpha * np.log10(lam.max()), rtol=RTOL)
    np.testing.assert_allclose(sw.log_alpha_norm(W, **WW_OPTIONS), np.log10(np.sum(lam**fit.alpha)), rtol=RTOL)
    # α is scale invariant; α̂ is not
    np.testing.assert_allclose(sw.powerlaw_alpha(W, normalize=True).alpha, fit.alpha, rtol=RTOL)
    np.testing.assert_allclose(sw.alpha_hat(W, normalize=True), fit.alpha * np.log10(lam.max() / N), rtol=RTOL)


def test_norm_undefined_cases():
    Z = np.zeros((64, 128))
    assert float(sw.stable_rank(Z)) == 0.0
    assert float(sw.log_norm(Z)) == -np.inf and float(sw.log_spectral_norm(Z)) == -np.inf
    assert float(sw.spectral_norm(Z)) == 0.0
    assert np.isnan(sw.alpha_hat(Z)) and np.isnan(sw.log_alpha_norm(Z))
    # a large α on large eigenvalues does not overflow log10 Σ λ^α
    W = np.zeros((64, 128))
    W[np.arange(64), np.arange(64)] = 1e8 * np.linspace(1.0, 1.05, 64)
    lam = _esd_np(W)
    fit = _wwfit(lam)
    with np.errstate(over="ignore"):
        assert fit.alpha > 20 and np.isinf(np.sum(lam**fit.alpha))  # WeightWatcher's direct sum overflows
    ref = fit.alpha * np.log10(lam.max()) + np.log10(np.sum((lam / lam.max()) ** fit.alpha))
    np.testing.assert_allclose(sw.log_alpha_norm(W), ref, rtol=RTOL)


# ------------------------------------------------------------------------------------------------
# power-law fit against WWFit


def _spectra(rng):
    """Eigenvalue sets with N >= 20: heavy-tailed and Marchenko–Pastur ESDs, Pareto samples, ties."""
    out = [
        _esd_np(_heavy(rng, 200, 100)),
        _esd_np(_heavy(rng, 64, 64, df=2.5)),
        _esd_np(rng.normal(size=(300, 80))),
        (rng.pareto(1.5, size=500) + 1.0) * 3.0,
        np.round((rng.pareto(2.0, size=120) + 1.0) * 4.0, 1),  # ties
        np.concatenate([np.zeros(10), np.full(5, 1e-7), _esd_np(_heavy(rng, 60, 30))]),  # below threshold
    ]
    return out


@pytest.mark.parametrize("method", ["clauset", "weightwatcher"])
def test_powerlaw_fit_matches_wwfit(method):
    for evals in _spectra(np.random.default_rng(2)):
        ref = _wwfit(evals)
        assert np.sum(evals > 1e-5) >= 20
        shuffled = np.random.default_rng(3).permutation(evals)
        _assert_fit(_fit(shuffled, method=method), ref, evals)


def test_powerlaw_alpha_matches_wwfit_on_numpy_eigenvalues():
    rng = np.random.default_rng(4)
    for shape in [(64, 128), (128, 64)]:
        W = _heavy(rng, *shape)
        _assert_fit(sw.powerlaw_alpha(W, **WW_OPTIONS), _wwfit(_esd_np(W)), _esd_np(W))


def test_clauset_method_below_the_small_n_cutoff_is_wwfits_standard_path():
    rng = np.random.default_rng(5)
    for n in (10, 13, 19):
        evals = (rng.pareto(1.5, size=n) + 1.0)
        alpha, xmin, D, sigma = _ww_standard(evals)
        fit = _fit(evals)
        np.testing.assert_allclose([fit.alpha, fit.xmin, fit.ks_distance, fit.sigma], [alpha, xmin, D, sigma],
                                   rtol=RTOL)


def test_weightwatcher_method_reproduces_the_small_n_branch():
    rng = np.random.default_rng(6)
    for n in (10, 12, 15, 19):
        for _ in range(5):
            evals = _esd_np(_heavy(rng, 2 * n, n)) if n % 2 else (rng.pareto(1.2, size=n) + 1.0)
            ref = _wwfit(evals)
            _assert_fit(_fit(evals, method="weightwatcher"), ref, evals)
    # fewer than k_min = 8 points: WWFit fits all of them (its reported sigma is stale there, so not compared)
    evals = rng.pareto(1.0, size=6) + 1.0
    ref = _wwfit(evals)
    fit = _fit(evals, method="weightwatcher", min_evals=1)
    _assert_fit(fit, ref, evals, sigma=False)
    np.testing.assert_allclose(fit.sigma, (fit.alpha - 1) / np.sqrt(6), rtol=RTOL)
    # its degenerate fallback (all points equal: WWFit 0.7.7 ends with alpha = 0) is a failure here
    assert _wwfit(np.full(12, 2.0)).alpha == 0.0
    assert np.isnan(_fit(np.full(12, 2.0), method="weightwatcher").alpha)


def test_powerlaw_fit_mask_threshold_and_padding():
    rng = np.random.default_rng(7)
    evals = _esd_np(_heavy(rng, 256, 128))
    where = rng.random(128) > 0.3
    ref = _wwfit(evals[where])
    _assert_fit(sw.powerlaw_fit(evals, where=where), ref, evals[where])
    # padding with masked garbage changes nothing
    padded = np.concatenate([evals[:100], rng.random(28) * 1e3])
    fit = sw.powerlaw_fit(padded, where=np.arange(128) < 100)
    _assert_fit(fit, _wwfit(evals[:100]), evals[:100])
    for a, b in zip(fit, _fit(evals[:100])):  # _fit pads with masked zeros
        np.testing.assert_array_equal(a, b)
    # a custom threshold
    thr = float(np.median(evals))
    ref = ww_powerlaw.WWFit(evals[evals > thr])
    np.testing.assert_allclose(_fit(evals, threshold=thr).alpha, ref.alpha, rtol=RTOL)


def test_powerlaw_fit_chunking_is_exact():
    evals = _esd_np(_heavy(np.random.default_rng(8), 200, 100))
    full = _fit(evals)  # chunk_size=512 >= K: all candidates at once
    for a, b in zip(_fit(evals, chunk_size=7), full):
        np.testing.assert_array_equal(a, b)


def test_powerlaw_fit_undefined_cases_are_nan():
    rng = np.random.default_rng(9)
    evals = _esd_np(_heavy(rng, 40, 20))
    cases = {
        "fewer than min_evals": dict(evals=evals[:9] + 1.0),
        "all masked": dict(evals=np.zeros(0)),
        "all zero": dict(evals=np.zeros(20)),
        "all below threshold": dict(evals=np.full(20, 1e-6)),
        "point mass": dict(evals=np.full(30, 4.0)),
        "point mass up to rounding": dict(evals=4.0 * (1 + 1e-15 * rng.random(30))),
    }
    for label, kw in cases.items():
        fit = _fit(**kw)
        assert all(np.isnan(x) for x in fit[:4]), label
        assert int(fit.num_tail) == 0, label
    # WeightWatcher returns alpha = inf (a point mass) where this is NaN
    with np.errstate(divide="ignore"):
        assert np.isinf(_wwfit(np.full(30, 4.0)).alpha)
    # min_evals counts fitted eigenvalues: 10 is enough by default
    assert np.isfinite(_fit(evals[-10:]).alpha)


def test_pareto_samples_recover_alpha():
    rng = np.random.default_rng(10)
    for alpha in (2.0, 2.5, 4.0):
        x = (rng.pareto(alpha - 1, size=2000) + 1.0) * 0.7  # pdf ∝ x^(−α) on x ≥ 0.7
        fit = sw.powerlaw_fit(x)
        assert abs(float(fit.alpha) - alpha) < 4 * float(fit.sigma) + 0.05, (alpha, fit)
        assert float(fit.sigma) < 0.1


def test_powerlaw_fit_gradient_is_the_mle_derivative_at_fixed_xmin():
    evals = np.sort(_esd_np(_heavy(np.random.default_rng(11), 64, 32)))
    fit = sw.powerlaw_fit(evals)
    i = int(np.argmax(evals >= float(fit.xmin)))
    g = np.asarray(jax.grad(lambda e: sw.powerlaw_fit(e).alpha)(evals))
    # α = 1 + n / Σ_{j≥i} ln(x_j / x_i):  ∂α/∂x_j = −n/s² · 1/x_j (j > i),  ∂α/∂x_i = n/s² · (n − 1)/x_i
    n = len(evals) - i
    s = np.sum(np.log(evals[i:] / evals[i]))
    ref = np.zeros_like(evals)
    ref[i + 1:] = -n / s**2 / evals[i + 1:]
    ref[i] = n / s**2 * (n - 1) / evals[i]
    np.testing.assert_allclose(g, ref, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------------------------------------
# matrix entropy against RMT_Util


def test_matrix_entropy_matches_weightwatcher():
    rng = np.random.default_rng(12)
    mats = [
        rng.normal(size=(30, 12)),
        _heavy(rng, 12, 30),
        rng.normal(size=(25, 3)) @ rng.normal(size=(3, 20)),  # rank 3 of 20
        np.diag([5.0, 1.0]),
        np.eye(6),
    ]
    for W in mats:
        sv = np.linalg.svd(W, compute_uv=False)
        ref = rmt.matrix_entropy(sv, max(W.shape))
        np.testing.assert_allclose(sw.matrix_entropy(W), ref, rtol=RTOL)
    np.testing.assert_allclose(sw.matrix_entropy(np.eye(6)), 1.0, rtol=1e-8)
    # undefined cases: rank 1 -> 0 (WeightWatcher's EPSILON makes it an artifact), zero -> NaN (as WeightWatcher)
    rank1 = np.outer(rng.normal(size=8), rng.normal(size=5))
    assert float(sw.matrix_entropy(rank1)) == 0.0
    assert np.isnan(sw.matrix_entropy(np.zeros((8, 5))))
    with np.errstate(all="ignore"):
        assert np.isnan(rmt.matrix_entropy(np.zeros(5), 8))


# ------------------------------------------------------------------------------------------------
# WeightWatcher.analyze: the whole pipeline on flat weight files


def _check_against_analyze(row, W):
    fit = sw.powerlaw_alpha(W, **WW_OPTIONS)
    np.testing.assert_allclose(fit.alpha, row["alpha"], rtol=RTOL)
    np.testing.assert_allclose(fit.xmin, row["xmin"], rtol=RTOL)
    np.testing.assert_allclose(fit.ks_distance, row["D"], rtol=RTOL, atol=1e-12)
    assert int(fit.num_tail) == int(row["num_pl_spikes"])
    np.testing.assert_allclose(sw.alpha_hat(W, **WW_OPTIONS), row["alpha_weighted"], rtol=RTOL)
    np.testing.assert_allclose(sw.log_alpha_norm(W, **WW_OPTIONS), row["log_alpha_norm"], rtol=RTOL)
    np.testing.assert_allclose(sw.log_norm(W), row["log_norm"], rtol=RTOL)
    np.testing.assert_allclose(sw.spectral_norm(W), row["spectral_norm"], rtol=RTOL)
    np.testing.assert_allclose(sw.log_spectral_norm(W), row["log_spectral_norm"], rtol=RTOL)
    np.testing.assert_allclose(sw.stable_rank(W), row["stable_rank"], rtol=RTOL)
    np.testing.assert_allclose(sw.matrix_entropy(W), row["entropy"], rtol=RTOL)


def test_weightwatcher_analyze_on_random_layers_and_a_conv_kernel(tmp_path):
    rng = np.random.default_rng(13)
    # the shapes of the digits MLP below (compiled once for both tests)
    dense = {"fc1": _heavy(rng, 64, 128), "fc2": rng.normal(size=(128, 64)), "fc3": _heavy(rng, 64, 10)}
    kernel = rng.normal(size=(3, 3, 8, 24))  # flax layout [kh, kw, c_in, c_out]
    layers = {k: (v, "dense") for k, v in dense.items()}
    layers["conv"] = (np.transpose(kernel, (3, 2, 0, 1)), "conv2d")  # PyTorch layout [c_out, c_in, kh, kw]
    details = _ww_analyze(tmp_path, layers)
    for name, W in dense.items():
        _check_against_analyze(details.loc[name], W)
    # WeightWatcher's Conv2D default: one pooled ESD of the kh·kw slices, each W scaled by sqrt(1/2)
    pooled = 0.5 * sw.esd(kernel).reshape(-1)
    fit = _fit(pooled)
    np.testing.assert_allclose(fit.alpha, details.loc["conv", "alpha"], rtol=RTOL)
    np.testing.assert_allclose(fit.xmin, details.loc["conv", "xmin"], rtol=RTOL)
    np.testing.assert_allclose(float(jnp.max(pooled)), details.loc["conv", "spectral_norm"], rtol=RTOL)


# ------------------------------------------------------------------------------------------------
# Weibull fit


def _weibull(w, where=None):
    """weibull_fit of the entries of ``w`` padded (and masked) to 2048 samples: one compilation."""
    w = np.ravel(w)
    where = np.ones(w.shape, bool) if where is None else np.ravel(where)
    pad = 2048 - len(w)
    return sw.weibull_fit(np.concatenate([w, np.ones(pad)])[:, None],
                          where=np.concatenate([where, np.zeros(pad, bool)])[:, None])


def _weibull_reference(w):
    """The middle-80% probability plot in numpy: polyfit, R², scipy's KS statistic."""
    stats = pytest.importorskip("scipy.stats")
    x = np.sort(np.abs(np.ravel(w)))
    x = x[x > 0]
    n = len(x)
    F = (np.arange(1, n + 1) - 0.5) / n
    sel = (F >= 0.1) & (F <= 0.9)
    X, Y = np.log(x[sel]), np.log(-np.log(1 - F[sel]))
    k, b = np.polyfit(X, Y, 1)
    scale = np.exp(-b / k)
    r2 = np.corrcoef(X, Y)[0, 1] ** 2
    ks = stats.kstest(x, stats.weibull_min(k, scale=scale).cdf).statistic
    return k, scale, r2, ks


def test_weibull_fit_matches_numpy_probability_plot():
    rng = np.random.default_rng(14)
    for W in [rng.normal(size=(60, 30)), rng.standard_t(4.0, size=(33, 17)), rng.laplace(size=(128, 1))]:
        np.testing.assert_allclose(_weibull(W), _weibull_reference(W), rtol=RTOL)
    W = rng.normal(size=(60, 30))
    np.testing.assert_allclose(sw.weibull_fit(W), _weibull_reference(W), rtol=RTOL)


def test_weibull_fit_recovers_exact_quantiles():
    for k, lam, n in [(1.5, 2.0, 1000), (0.7, 0.05, 999), (3.0, 10.0, 465)]:
        F = (np.arange(1, n + 1) - 0.5) / n
        w = lam * (-np.log1p(-F)) ** (1 / k)
        w = np.random.default_rng(15).permutation(w) * np.where(np.arange(n) % 2, -1.0, 1.0)
        fit = _weibull(w)
        np.testing.assert_allclose([fit.shape, fit.scale, fit.r_squared], [k, lam, 1.0], rtol=1e-9)
        # KS against the exact CDF: the midpoint ECDF is 1/(2n) from it at every point
        np.testing.assert_allclose(fit.ks_distance, 0.5 / n, rtol=1e-6)


def test_weibull_fit_of_gaussian_weights_is_1205_with_this_protocol():
    stats = pytest.importorskip("scipy.stats")
    sigma = 0.02
    w = np.random.default_rng(16).normal(scale=sigma, size=(1000, 1000))
    fit = sw.weibull_fit(w)
    assert abs(float(fit.shape) - 1.2053) < 0.005
    assert abs(float(fit.scale) / sigma - 0.887) < 0.004
    assert float(fit.r_squared) > 0.99
    # on exact half-normal quantiles: 1.2054 (METRICS.md 5.3)
    n = 100_000
    q = stats.norm.ppf(0.5 + 0.5 * (np.arange(1, n + 1) - 0.5) / n)
    np.testing.assert_allclose(sw.weibull_fit(q[:, None]).shape, 1.2054, atol=1e-4)
    # a maximum-likelihood fit of the same weights gives a different k (≈ 1.26): the protocol matters
    k_mle = stats.weibull_min.fit(np.abs(w.ravel()[:200_000]), floc=0)[0]
    assert 1.24 < k_mle < 1.28


def test_weibull_fit_mask_and_zeros():
    rng = np.random.default_rng(17)
    W = rng.normal(size=(40, 30))
    where = rng.random((40, 30)) > 0.25
    np.testing.assert_allclose(_weibull(W, where), _weibull_reference(W[where]), rtol=RTOL)
    pruned = np.where(rng.random(W.shape) < 0.3, 0.0, W)  # exact zeros are not fitted
    np.testing.assert_allclose(_weibull(pruned), _weibull_reference(pruned[pruned != 0]), rtol=RTOL)
    # two points span the middle 80 % (F = 1/4, 3/4): a defined fit; one point, or no spread, is not
    assert np.isfinite(_weibull(W[:1, :2]).shape)
    for bad in (np.zeros((8, 8)), np.full((8, 8), 3.0), W[:1, :1]):
        assert all(np.isnan(x) for x in _weibull(bad))


# ------------------------------------------------------------------------------------------------
# batching


def test_vmap_over_stacked_layers_equals_loop_and_leading_axes():
    rng = np.random.default_rng(18)
    stack = np.stack([_heavy(rng, 64, 128) for _ in range(4)])
    # (every registered function gets this check in the contract suite; here: the WeightWatcher options)
    for fn in [functools.partial(sw.powerlaw_alpha, **WW_OPTIONS)]:
        looped = jax.tree.map(lambda *xs: np.stack(xs), *[fn(W) for W in stack])
        for out in (jax.vmap(fn)(stack), fn(stack.reshape(2, 2, 64, 128))):
            for a, b in zip(jax.tree.leaves(out), jax.tree.leaves(looped)):
                np.testing.assert_allclose(np.reshape(a, np.shape(b)), b, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------------------------------------
# params pytree helper


def _params(rng):
    return {
        "Conv_0": {"kernel": rng.normal(size=(3, 3, 4, 16)), "bias": np.zeros(16)},
        "Dense_0": {"kernel": _heavy(rng, 64, 128), "bias": np.zeros(128)},
        "Dense_1": {"kernel": rng.normal(size=(32, 1)), "bias": np.zeros(1)},
        "LayerNorm_0": {"scale": np.ones(32), "bias": np.zeros(32)},
        "step": np.int32(3),
        "blocks": [{"kernel": rng.normal(size=(8, 8))}],
    }


def test_weight_spectra_on_a_flax_style_params_dict():
    p = _params(np.random.default_rng(19))
    out = sw.weight_spectra(p)
    assert list(out) == ["Conv_0/kernel", "Dense_0/kernel", "blocks/0/kernel"]  # leaf order; [32, 1] < min_dim
    kernel = p["Conv_0"]["kernel"]
    assert out["Conv_0/kernel"].shape == (3, 3, 4)
    for i in range(3):
        for j in range(3):
            np.testing.assert_allclose(out["Conv_0/kernel"][i, j], _esd_np(kernel[i, j]), rtol=RTOL)
    np.testing.assert_allclose(out["Dense_0/kernel"], _esd_np(p["Dense_0"]["kernel"]), rtol=RTOL)
    flat = sw.weight_spectra(p, sw.stable_rank, conv="flatten")
    W = kernel.reshape(36, 16)
    np.testing.assert_allclose(flat["Conv_0/kernel"], np.sum(W**2) / np.linalg.norm(W, 2) ** 2, rtol=RTOL)
    assert list(sw.weight_spectra(p, conv="skip")) == ["Dense_0/kernel", "blocks/0/kernel"]
    assert "Dense_1/kernel" in sw.weight_spectra(p, min_dim=1)
    # options are forwarded, and the whole thing jits
    norms = jax.jit(lambda q: sw.weight_spectra(q, sw.spectral_norm, squared=False))(p)
    np.testing.assert_allclose(norms["Conv_0/kernel"], np.linalg.norm(kernel, 2, axis=(-2, -1)), rtol=RTOL)
    fits = sw.weight_spectra({"Dense_0": p["Dense_0"]}, sw.powerlaw_alpha, **WW_OPTIONS)
    _assert_fit(fits["Dense_0/kernel"], _wwfit(_esd_np(p["Dense_0"]["kernel"])), _esd_np(p["Dense_0"]["kernel"]))
    # vmapped over stacked models, every leaf keeps its per-model rank (biases stay 1-D)
    stacked = jax.tree.map(lambda *xs: np.stack(xs), p, _params(np.random.default_rng(20)))
    out2 = jax.vmap(lambda q: sw.weight_spectra(q, sw.stable_rank))(stacked)
    assert list(out2) == list(out)
    np.testing.assert_allclose(out2["Dense_0/kernel"][0], sw.stable_rank(p["Dense_0"]["kernel"]), rtol=1e-10)


# ------------------------------------------------------------------------------------------------
# argument errors


def test_bad_arguments_raise_shape_errors():
    W = np.ones((8, 4))
    with pytest.raises(jaxmetrics.ShapeError, match="`W`"):
        sw.esd(np.ones(8))
    with pytest.raises(jaxmetrics.ShapeError, match="`W`"):
        sw.stable_rank(np.ones((8, 0)))
    with pytest.raises(jaxmetrics.ShapeError, match="`method`"):
        sw.powerlaw_alpha(W, method="mle")
    with pytest.raises(jaxmetrics.ShapeError, match="`min_evals`"):
        sw.powerlaw_alpha(W, min_evals=0)
    with pytest.raises(jaxmetrics.ShapeError, match="`threshold`"):
        sw.powerlaw_alpha(W, threshold=-1.0)
    with pytest.raises(jaxmetrics.ShapeError, match="`chunk_size`"):
        sw.powerlaw_fit(np.ones(8), chunk_size=0)
    with pytest.raises(jaxmetrics.ShapeError, match="`where`"):
        sw.powerlaw_fit(np.ones(8), where=np.ones(7, bool))
    with pytest.raises(jaxmetrics.ShapeError, match="`where`"):
        sw.weibull_fit(W, where=np.ones((4, 8), bool))
    with pytest.raises(jaxmetrics.ShapeError, match="`conv`"):
        sw.weight_spectra({"k": W}, conv="pooled")


# ------------------------------------------------------------------------------------------------
# real data: an MLP trained on scikit-learn's digits


@pytest.fixture(scope="module")
def digits_mlp():
    optax = pytest.importorskip("optax")
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_digits(return_X_y=True)
    X = jnp.asarray(X / 16.0)
    y = jnp.asarray(y)
    sizes = [64, 128, 64, 10]
    keys = jax.random.split(jax.random.key(0), len(sizes) - 1)
    params = {
        f"Dense_{i}": {"kernel": jax.random.normal(k, (a, b)) * jnp.sqrt(2.0 / a), "bias": jnp.zeros(b)}
        for i, (k, a, b) in enumerate(zip(keys, sizes[:-1], sizes[1:]))
    }

    def logits(p, x):
        for i in range(len(sizes) - 1):
            x = x @ p[f"Dense_{i}"]["kernel"] + p[f"Dense_{i}"]["bias"]
            if i < len(sizes) - 2:
                x = jax.nn.relu(x)
        return x

    def loss(p):
        return optax.softmax_cross_entropy_with_integer_labels(logits(p, X), y).mean()

    opt = optax.adam(5e-3)

    @jax.jit
    def train(p):
        def step(carry, _):
            p, s = carry
            g = jax.grad(loss)(p)
            u, s = opt.update(g, s, p)
            return (optax.apply_updates(p, u), s), None

        (p, _), _ = jax.lax.scan(step, (p, opt.init(p)), None, length=150)
        return p

    params = train(params)
    accuracy = float(jnp.mean(jnp.argmax(logits(params, X), -1) == y))
    return params, accuracy


def test_real_data_trained_mlp_alpha_matches_weightwatcher(digits_mlp, tmp_path):
    params, accuracy = digits_mlp
    assert accuracy > 0.97  # the network is trained
    kernels = {k: np.asarray(v["kernel"]) for k, v in params.items()}
    # WWFit on the same (numpy) eigenvalues: all three layers, incl. the 10-eigenvalue head (small-N branch)
    fits = sw.weight_spectra(params, sw.powerlaw_alpha, **WW_OPTIONS)
    assert list(fits) == [f"Dense_{i}/kernel" for i in range(3)]
    for name, W in kernels.items():
        evals = _esd_np(W)
        _assert_fit(fits[f"{name}/kernel"], _wwfit(evals), evals)
    # the full WeightWatcher pipeline (PyTorch layout [out, in]) agrees on every summary
    details = _ww_analyze(tmp_path, {k: (W.T, "dense") for k, W in kernels.items()})
    for name, W in kernels.items():
        _check_against_analyze(details.loc[name], W)
