"""k-NN manifold metrics (jaxmetrics.diversity.manifold): PRDC, improved precision/recall, realism.

Oracles: the ``prdc`` 0.2 package (exact equality, float64) and the numpy references in
``tests/reference/prdc.py`` (strict/k, the Kynkäänniemi et al. ManifoldEstimator). Compile budget: every
random test uses one shape, ``[64, 8]``, and each static configuration is jitted once.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from prdc import compute_prdc
from sklearn.datasets import load_digits

import jaxmetrics
from jaxmetrics.diversity import manifold
from tests.reference import prdc as ref

N, D = 64, 8
FIELDS = ("precision", "recall", "density", "coverage")


def oracle(real, fake, k):
    with contextlib.redirect_stdout(io.StringIO()):  # compute_prdc prints on every call
        out = compute_prdc(np.asarray(real, np.float64), np.asarray(fake, np.float64), nearest_k=k)
    return tuple(float(out[f]) for f in FIELDS)


def assert_prdc_equal(actual, expected):
    """Exact for the three fractions; density (a mean of counts / k) to summation-order rounding."""
    actual = tuple(float(v) for v in actual)
    assert actual[0] == expected[0] and actual[1] == expected[1] and actual[3] == expected[3], (actual, expected)
    np.testing.assert_allclose(actual[2], expected[2], rtol=1e-12)


def datasets(rng):
    """Random Gaussians (fake shifted/scaled); integer grid points (many exact ties, exact float64
    distances: integer features and a dyadic mean, N = 64); grid points with duplicate blocks (a real
    point with ≥ k copies has radius 0; fake copies of real points)."""
    gauss = (rng.normal(size=(N, D)), 1.2 * rng.normal(size=(N, D)) + 0.3)
    grid = (rng.integers(0, 3, (N, D)).astype(float), rng.integers(0, 3, (N, D)).astype(float))
    dup_real = rng.integers(0, 3, (N, D)).astype(float)
    dup_real[:8] = dup_real[0]  # 7 copies of row 0 besides itself -> radius 0 for k = 5
    dup_fake = rng.integers(0, 3, (N, D)).astype(float)
    dup_fake[:16] = dup_real[:16]  # fake samples equal to real ones (incl. the radius-0 ball)
    dup_fake[40:44] = dup_fake[40]
    return {"gauss": gauss, "grid": grid, "duplicates": (dup_real, dup_fake)}


def test_prdc_matches_prdc_package_and_reference_both_comparisons():
    rng = np.random.default_rng(0)
    strict = jax.jit(functools.partial(manifold.prdc, k=5))
    loose_chunked = jax.jit(functools.partial(manifold.prdc, k=5, strict=False, chunk_size=24))  # 64 = 24+24+16
    differ = 0
    for name, (real, fake) in datasets(rng).items():
        expected = oracle(real, fake, 5)
        assert_prdc_equal(strict(real, fake), expected)
        assert_prdc_equal(ref.prdc(real, fake, 5, strict=True), expected)  # the reference is the package
        loose = ref.prdc(real, fake, 5, strict=False)
        assert_prdc_equal(loose_chunked(real, fake), loose)
        differ += loose != expected
        if name == "duplicates":  # the 8 copies have radius 0: under < their balls contain nothing
            radii = ref.manifold_radii(real, 5)
            assert np.all(radii[:8] == 0.0) and np.all(radii[8:] > 0)
    assert differ >= 2  # the tie-heavy data separate < from <=


def test_masks_equal_the_unmasked_subsets_and_undefined_cases():
    rng = np.random.default_rng(1)
    real, fake = datasets(rng)["gauss"]
    keep_r = rng.random(N) > 0.3
    keep_f = rng.random(N) > 0.5
    pad_r = np.where(keep_r[:, None], real, np.nan)  # masked rows may hold NaN
    pad_f = np.where(keep_f[:, None], fake, np.inf)
    f = jax.jit(functools.partial(manifold.prdc, k=5))
    assert_prdc_equal(f(pad_r, pad_f, where_real=keep_r, where_fake=keep_f), oracle(real[keep_r], fake[keep_f], 5))
    # the shared `where` masks both sets
    g = jax.jit(functools.partial(manifold.improved_precision_recall, k=3))
    both = keep_r & keep_f
    pr = g(np.where(both[:, None], real, np.nan), fake, where=both)
    assert float(pr.precision) == ref.manifold_membership(real[both], fake[both], 3)
    assert float(pr.recall) == ref.manifold_membership(fake[both], real[both], 3)
    # undefined cases: no fake sample -> precision/density NaN, coverage 0; <= k real -> NaN
    none = np.zeros(N, bool)
    few = np.arange(N) < 5
    out = f(real, fake, where_real=keep_r, where_fake=none)
    assert np.isnan([out.precision, out.recall, out.density]).all() and float(out.coverage) == 0.0
    out = f(real, fake, where_real=few, where_fake=keep_f)
    assert np.isnan([out.precision, out.density, out.coverage]).all()
    radii = ref.manifold_radii(fake[keep_f], 5)  # recall only needs the fake balls
    assert float(out.recall) == (ref.squared_distances(real[few], fake[keep_f]) < radii).any(1).mean()


def test_realism_score_matches_the_reference_both_forms():
    rng = np.random.default_rng(2)
    real, fake = datasets(rng)["gauss"]
    keep_r = rng.random(N) > 0.25
    keep_f = rng.random(N) > 0.25
    masks = dict(where_real=keep_r, where_fake=keep_f)
    sq = jax.jit(functools.partial(manifold.realism_score, squared=True, chunk_size=24))  # reference code
    plain = jax.jit(functools.partial(manifold.realism_score, prune_percentile=None, eps=0.0))  # paper
    worst = 0.0
    for real_, fake_ in [(real, fake), (real, real[::-1] + 0.05 * fake)]:
        got = np.asarray(sq(real_, fake_, **masks))
        want = ref.realism(real_[keep_r], fake_[keep_f], 3, clamp_to_percentile=50.0, eps=1e-5, squared=True)
        np.testing.assert_allclose(got[keep_f], want, rtol=1e-10)
        assert np.all(got[~keep_f] == 0.0)  # masked fake samples: 0
        got = np.asarray(plain(real_, fake_, **masks))[keep_f]
        want = np.sqrt(ref.realism(real_[keep_r], fake_[keep_f], 3, clamp_to_percentile=None, eps=0.0))
        np.testing.assert_allclose(got, want, rtol=1e-10)
        worst = max(worst, float(np.max(np.abs(got - want) / want)))
    assert worst < 1e-10  # (gradients: the contract's check_grads on the realism score)


def test_identical_distributions_analytic_coverage_and_density():
    """METRICS §9.3: two samples of one distribution, N = M = 1000, k = 5, d = 16 (one chunked call).

    E[coverage] = 1 − Π_{i=1..k} (N − i)/(N + M − i) (≈ 0.9690); the tolerance is 4 binomial standard
    errors of a mean of N indicators. E[density] ≈ 1 (1.03 at d = 16 in METRICS' Monte Carlo): ±0.1.
    """
    n, k = 1000, 5
    key_r, key_f = jax.random.split(jax.random.key(0))
    real = jax.random.normal(key_r, (n, 16), jnp.float64)
    fake = jax.random.normal(key_f, (n, 16), jnp.float64)
    out = jax.jit(functools.partial(manifold.prdc, k=k, chunk_size=256))(real, fake)
    expected = 1.0 - math.prod((n - i) / (2 * n - i) for i in range(1, k + 1))
    se = math.sqrt(expected * (1 - expected) / n)
    assert abs(float(out.coverage) - expected) < 4 * se, (float(out.coverage), expected)
    assert abs(float(out.density) - 1.0) < 0.1
    assert float(out.precision) > 0.5 and float(out.recall) > 0.5


def test_digits_mode_dropping_lowers_recall_and_coverage():
    """Real data: 8×8 digit images (raw 64-d pixels). Real = 512 images, fake = 512 other images or the
    held-out images of digits 0–2 only (padded to 512 and masked). Integer pixels with a dyadic mean
    (512 rows) make the float64 distances exact, so the prdc package must agree exactly."""
    digits = load_digits()
    x, y = digits.data.astype(np.float64), digits.target
    real, held = x[:512], x[-512:]
    dropped = np.zeros_like(held)
    keep = np.zeros(512, bool)
    few = x[-900:][y[-900:] <= 2][:512]
    dropped[: len(few)] = few
    keep[: len(few)] = True
    f = jax.jit(manifold.prdc)  # k = 5, <
    full = f(real, held, where_fake=np.ones(512, bool))
    mode = f(real, dropped, where_fake=keep)
    assert_prdc_equal(full, oracle(real, held, 5))
    assert_prdc_equal(mode, oracle(real, few, 5))
    assert float(full.recall) > float(mode.recall) + 0.2
    assert float(full.coverage) > float(mode.coverage) + 0.2
    assert float(full.precision) > 0.5 and float(mode.precision) > 0.5  # the kept modes are still real


def test_chunked_memory_scales_with_chunk_not_n_squared():
    n, chunk = 4096, 256
    spec = jax.ShapeDtypeStruct((n, 16), jnp.float32)
    compiled = jax.jit(functools.partial(manifold.prdc, chunk_size=chunk)).lower(spec, spec).compile()
    temp = compiled.memory_analysis().temp_size_in_bytes
    assert 0 < temp < n * n * 4 / 4, temp  # well below one N×N float32 matrix (67 MB); O(chunk·N)


def test_static_configuration_errors_and_registry():
    x = np.zeros((8, 2))
    with pytest.raises(jaxmetrics.ShapeError, match="`k`"):
        manifold.prdc(x, x, k=0)
    with pytest.raises(jaxmetrics.ShapeError, match="`strict`"):
        manifold.prdc(x, x, strict="yes")
    with pytest.raises(jaxmetrics.ShapeError, match="`chunk_size`"):
        manifold.prdc(x, x, chunk_size=0)
    with pytest.raises(jaxmetrics.ShapeError, match="`fake`"):
        manifold.prdc(x, x[:5])  # M <= k
    with pytest.raises(jaxmetrics.ShapeError, match="`prune_percentile`"):
        manifold.realism_score(x, x, prune_percentile=150)
    with pytest.raises(jaxmetrics.ShapeError, match="`fake`"):
        manifold.realism_score(np.zeros((3, 8, 2)), np.zeros((2, 4, 2)))  # batch axes do not broadcast
    reg = jaxmetrics.registry
    assert reg["prdc"].fn is manifold.prdc and not reg["prdc"].differentiable and reg["prdc"].streaming is None
    assert reg["realism_score"].differentiable and reg["improved_precision_recall"].family == "diversity"
    assert jaxmetrics.diversity.prdc is manifold.prdc
