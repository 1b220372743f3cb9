"""Fréchet distance: the three trace-term forms of tests/reference/frechet.py (scipy sqrtm, eig, eigvalsh),
the closed forms of METRICS.md §9.1, masks/weights, streaming (additive state), finite and correct
gradients on degenerate inputs (identical sets, n < d, tied eigenvalues, all masked), and real data
(scikit-learn's digits)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxmetrics
from jaxmetrics.distances import frechet as fr
from tests.reference import frechet as ref

RTOL = 1e-6


def _close(actual, expected, rtol=RTOL, atol=1e-12):
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected, rtol=rtol, atol=atol)


def _sets(rng, n, m, d):
    x = rng.normal(size=(n, d)) * np.linspace(2.0, 0.5, d) + 1.0
    y = rng.normal(size=(m, d)) @ (np.eye(d) + 0.4 * rng.normal(size=(d, d))) - 0.3
    return x, y


def test_matches_the_three_reference_forms_with_masks_and_weights():
    rng = np.random.default_rng(0)
    x, y = _sets(rng, 48, 40, 6)
    # one compiled function for plain, masked (NaN/inf padding) and integer-weighted inputs
    f = jax.jit(lambda a, b, wx, wy, cx, cy: fr.frechet_distance(a, b, where_x=wx, where_y=wy, weights_x=cx,
                                                                 weights_y=cy))
    ones_x, ones_y = np.ones(48), np.ones(40)
    out = f(x, y, ones_x > 0, ones_y > 0, ones_x, ones_y)
    for form in "cab":  # eigvalsh, pytorch-fid (sqrtm) and torchmetrics/torch-fidelity (eigvals)
        _close(out, ref.frechet_distance(x, y, form=form), rtol=1e-9)
    wx, wy = rng.random(48) > 0.3, rng.random(40) > 0.3
    xp, yp = np.where(wx[:, None], x, np.nan), np.where(wy[:, None], y, np.inf)
    _close(f(xp, yp, wx, wy, ones_x, ones_y), ref.frechet_distance(x[wx], y[wy]), rtol=1e-9)
    cx, cy = rng.integers(0, 4, 48), rng.integers(1, 3, 40)
    expected = ref.frechet_distance(x, y, fweights_x=cx, fweights_y=cy)  # numpy.cov fweights
    _close(expected, ref.frechet_distance(np.repeat(x, cx, 0), np.repeat(y, cy, 0)), rtol=1e-9)
    _close(f(x, y, ones_x > 0, ones_y > 0, cx.astype(float), cy.astype(float)), expected, rtol=1e-9)
    # undefined: total weight <= ddof (a single row, or none) -> NaN
    one = np.arange(48) == 3
    assert np.isnan(f(x, y, one, ones_y > 0, ones_x, ones_y)) and np.isnan(f(x, y, ~wx & wx, wy, ones_x, ones_y))

    # n < d: rank-deficient covariances (rounding-level eigenvalues limit every form to ~1e-9); the
    # shared where acts on both sets; ddof = 0
    x, y = _sets(rng, 10, 10, 16)
    g = jax.jit(lambda a, b, w: fr.frechet_distance(a, b, where=w))
    out = g(x, y, np.ones(10, bool))
    for form in "cab":
        _close(out, ref.frechet_distance(x, y, form=form), rtol=RTOL)
    both = np.arange(10) != 4
    _close(g(x, y, both), ref.frechet_distance(x[both], y[both]), rtol=RTOL)
    _close(fr.frechet_distance(x, y, ddof=0), ref.frechet_distance(x, y, ddof=0), rtol=RTOL)


def test_closed_forms():
    rng = np.random.default_rng(1)
    x, _ = _sets(rng, 48, 40, 6)
    shift = rng.normal(size=6)
    # identical -> 0 (clipped; the raw value is rounding-level), equal covariances -> ||Δμ||²
    raw = jax.jit(lambda a, b: fr.frechet_distance(a, b, clip_negative=False))
    assert abs(float(raw(x, x))) < 1e-12 * np.trace(np.cov(x.T))
    _close(raw(x, x + shift), shift @ shift, rtol=1e-9)
    assert float(fr.frechet_distance(x, x)) == 0.0
    # diagonal covariances: Σ(√a − √b)² + ||Δμ||²; commuting: ||A^½ − B^½||_F² + ||Δμ||²
    a, b = rng.random(6) + 0.1, rng.random(6) + 0.1
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    fm = jax.jit(fr.frechet_distance_from_moments)
    dmu = ((mu1 - mu2) ** 2).sum()
    _close(fm(mu1, np.diag(a), mu2, np.diag(b)), ((np.sqrt(a) - np.sqrt(b)) ** 2).sum() + dmu, rtol=1e-10)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    sa, sb = q @ np.diag(np.sqrt(a)) @ q.T, q @ np.diag(np.sqrt(b)) @ q.T
    _close(fm(mu1, sa @ sa, mu2, sb @ sb), ((sa - sb) ** 2).sum() + dmu, rtol=1e-10)
    # from moments == from features
    y = x @ q + 0.5
    m1, c1 = ref.moments(x)
    m2, c2 = ref.moments(y)
    _close(fm(m1, c1, m2, c2), ref.frechet_distance(x, y), rtol=1e-9)
    eye = 1e-3 * np.eye(6)  # eps adds to both diagonals (pytorch-fid's offset)
    _close(fr.frechet_distance_from_moments(m1, c1, m2, c2, eps=1e-3),
           ref.frechet_from_moments(m1, c1 + eye, m2, c2 + eye), rtol=1e-9)


def test_streaming_is_additive_and_matches_one_shot():
    rng = np.random.default_rng(2)
    x, y = _sets(rng, 48, 40, 6)
    wx = rng.random(48) > 0.3
    m = fr.frechet_distance_metric(dim=6)
    assert m.init().x.weight.dtype == jnp.float64 and m.merge is jaxmetrics.tree_add
    # y once (the real statistics), x in three masked batches (x or y may be None)
    real = m.update(m.init(), None, y)
    parts = [m.update(m.init(), x[i:i + 16], where_x=wx[i:i + 16]) for i in (0, 16, 32)]
    expected = ref.frechet_distance(x[wx], y)
    state = real
    for p in parts:
        state = m.merge(state, p)
    _close(m.compute(state), expected, rtol=1e-9)
    # the state is additive: a psum of per-device states gives the same result
    stacked = jax.tree.map(lambda *s: jnp.stack(s), *parts)
    summed = jax.vmap(lambda s: jax.lax.psum(s, "i"), axis_name="i")(stacked)
    _close(m.compute(m.merge(real, jax.tree.map(lambda s: s[0], summed))), expected, rtol=1e-9)
    # bad arguments name themselves
    with pytest.raises(jaxmetrics.ShapeError, match="`dim`"):
        fr.frechet_distance_metric(dim=None)
    with pytest.raises(jaxmetrics.ShapeError, match="`x`"):
        m.update(m.init(), x[:, :5], None)
    with pytest.raises(jaxmetrics.ShapeError, match="`ddof`"):
        fr.frechet_distance(x, y, ddof=-1)
    with pytest.raises(jaxmetrics.ShapeError, match="`where_y`"):
        fr.frechet_distance(x, y, where_y=np.ones(48, bool))


def test_gradients_are_finite_and_correct_on_degenerate_inputs():
    rng = np.random.default_rng(3)
    fd = jax.jit(lambda a, b: fr.frechet_distance(a, b))
    g = jax.jit(jax.grad(lambda a, b, wx: fr.frechet_distance(a, b, where_x=wx), argnums=(0, 1)))
    # n < d (rank-deficient covariances, d − n + 1 tied zero eigenvalues): finite and = finite differences
    x, y = _sets(rng, 10, 10, 16)
    ones = np.ones(10, bool)
    gx, gy = g(x, y, ones)
    assert np.isfinite(gx).all() and np.isfinite(gy).all()
    # (the rounding-level eigenvalue cut makes the value smooth, so finite differences converge: step 1e-5)
    jax.test_util.check_grads(fd, (x, y), order=1, modes=["rev"], eps=1e-5, atol=1e-6, rtol=1e-6)
    # identical sets (the minimum): zero gradient; all masked: finite
    for a in (x, y):
        ga, gb = g(a, a, ones)
        assert np.isfinite(ga).all() and np.abs(ga).max() < 1e-6 and np.abs(gb).max() < 1e-6
    assert all(np.isfinite(t).all() for t in g(x, y, ~ones))
    # tied eigenvalues (isotropic covariances, where eigh's own derivative is NaN): the analytic gradient
    # 1 − √(b/a) per eigenvalue
    eye = np.eye(5)
    gc1, gc2 = jax.grad(lambda c1, c2: fr.frechet_distance_from_moments(np.zeros(5), c1, np.ones(5), c2),
                        argnums=(0, 1))(2.0 * eye, eye)
    _close(gc1, (1 - np.sqrt(0.5)) * eye, rtol=1e-9, atol=1e-12)
    _close(gc2, (1 - np.sqrt(2.0)) * eye, rtol=1e-9, atol=1e-12)


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_real_data_digits_mode_dropping():
    datasets = pytest.importorskip("sklearn.datasets")
    X, labels = datasets.load_digits(return_X_y=True)
    perm = np.random.default_rng(0).permutation(len(X))  # (the rows cycle through the digits)
    X, labels = X[perm] / 16.0, labels[perm]
    train, test = X[:898], X[898:]
    test_dropped = labels[898:] <= 2  # the mode-dropped set: the test half restricted to digits 0-2 (a mask)
    fd = jax.jit(lambda a, b, wy: fr.frechet_distance(a, b, where_y=wy))
    same, mode_dropped = float(fd(train, test, np.ones(len(test), bool))), float(fd(train, test, test_dropped))
    assert same < 0.1 * mode_dropped
    # raw pixels: a few always-zero pixels make Σ singular; all forms still agree to ~1e-8
    for actual, b in [(same, test), (mode_dropped, test[test_dropped])]:
        for form in "ca":
            _close(actual, ref.frechet_distance(train, b, form=form), rtol=RTOL)
