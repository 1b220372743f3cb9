"""Tests for jaxmetrics.ranking.overlap (rank-biased overlap). Oracle: tests/reference/rbo.py, a loop-based
numpy reference written from Webber, Moffat & Zobel (2010) (explicit prefix sets per depth; eq. 7 truncated
and eq. 32 extrapolated) — the PyPI ``rbo`` package pins numpy < 2. Plus closed forms and a real-data
comparison of two rankings of digit images.
"""

import functools

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import jaxmetrics  # noqa: E402
from jaxmetrics.ranking import overlap  # noqa: E402
from tests.reference import rbo as ref  # noqa: E402

RTOL = 1e-9


@functools.lru_cache(maxsize=None)
def _jit(**kw):
    return jax.jit(functools.partial(overlap.rank_biased_overlap, **kw))


def _rbo(a, b, where=None, weights=None, **kw):
    return np.asarray(_jit(**kw)(jnp.asarray(a), jnp.asarray(b), where=where, weights=weights))


def _reference(a, b, where, **kw):
    where = np.ones(a.shape, bool) if where is None else np.broadcast_to(where, a.shape)
    return np.array([ref.rbo_scores(a[i], b[i], where[i], **kw) for i in range(a.shape[0])])


def _pairs(rng, q, n, decimals=1):
    a = np.round(rng.normal(size=(q, n)), decimals)
    b = np.round(a + rng.normal(size=(q, n)), decimals)  # correlated, with ties in both
    return a, b


@pytest.mark.parametrize("p,k,extrapolate", [
    (0.9, None, False), (0.9, None, True), (0.5, 3, False), (0.5, 3, True), (0.98, 8, True), (0.7, 50, False),
])
def test_matches_loop_reference_with_ties_and_masks(p, k, extrapolate):
    rng = np.random.default_rng(0)
    q, n = 24, 11
    a, b = _pairs(rng, q, n)
    where = rng.random((q, n)) < 0.8
    where[0] = False  # a fully masked query
    where[1] = np.arange(n) < 1  # a single valid item
    kw = dict(p=p, k=k, extrapolate=extrapolate)
    got = _rbo(a, b, where, reduce=None, **kw)
    expected = _reference(a, b, where, **kw)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-12)
    assert got[0] == 0
    mean = _rbo(a, b, where, weights=np.ones(q), **kw)
    np.testing.assert_allclose(mean, expected[1:].mean(), rtol=RTOL)  # the masked query is left out


def test_identical_rankings_closed_forms():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 9))
    where = np.arange(9)[None, :] < np.array([[9], [5], [2], [1]])
    for p in (0.5, 0.9):
        depth = np.array([9, 5, 2, 1])
        np.testing.assert_allclose(_rbo(a, a, where, reduce=None, p=p), 1 - p**depth, rtol=1e-12)
        np.testing.assert_allclose(_rbo(a, a, where, reduce=None, p=p, k=4), 1 - p ** np.minimum(depth, 4),
                                   rtol=1e-12)
        np.testing.assert_allclose(_rbo(a, a, where, reduce=None, p=p, extrapolate=True), 1.0, rtol=1e-12)
        np.testing.assert_allclose(_rbo(a, a, where, reduce=None, p=p, k=3, extrapolate=True), 1.0, rtol=1e-12)


def test_reversed_rankings_closed_forms():
    p = 0.8
    two = np.array([[2.0, 1.0]])
    # n = 2: A = (0, 1): RBO@2 = (1 - p) p, RBO_ext = (1 - p) p + p^2 = p
    np.testing.assert_allclose(_rbo(two, -two, p=p), (1 - p) * p, rtol=1e-12)
    np.testing.assert_allclose(_rbo(two, -two, p=p, extrapolate=True), p, rtol=1e-12)
    # n = 3: A = (0, 1/2, 1)
    three = np.array([[3.0, 2.0, 1.0]])
    trunc = (1 - p) * (p / 2 + p**2)
    np.testing.assert_allclose(_rbo(three, -three, p=p), trunc, rtol=1e-12)
    np.testing.assert_allclose(_rbo(three, -three, p=p, extrapolate=True), trunc + p**3, rtol=1e-12)
    np.testing.assert_allclose(_rbo(three, -three, p=p, k=1, extrapolate=True), 0.0, atol=1e-15)
    # ties are broken by index in each ranking: all-tied vs an index-ordered ranking is identical
    np.testing.assert_allclose(_rbo(np.zeros((1, 3)), three, p=p, extrapolate=True), 1.0, rtol=1e-12)


def test_reference_extrapolation_is_persistent_agreement():
    """Sanity of the reference itself: eq. 30 = eq. 7 with A_d = A_k for every d > k (summed far)."""
    rng = np.random.default_rng(2)
    for _ in range(5):
        s = list(rng.permutation(8))
        t = list(rng.permutation(8))
        p, k = 0.85, 5
        a_k = ref.overlap(s, t, k) / k
        tail = (1 - p) * sum(p ** (d - 1) * a_k for d in range(k + 1, 2000))
        np.testing.assert_allclose(ref.rbo_ext(s, t, p, k), ref.rbo_truncated(s, t, p, k) + tail, rtol=1e-12)


def test_symmetric_padding_batch_axes_and_weights():
    rng = np.random.default_rng(3)
    b, q, n, pad = 2, 8, 6, 3
    a, c = _pairs(rng, b * q, n)
    a, c = a.reshape(b, q, n), c.reshape(b, q, n)
    kw = dict(p=0.9, k=4, extrapolate=True)
    per_q = _rbo(a, c, reduce=None, **kw)
    assert per_q.shape == (b, q)
    np.testing.assert_allclose(_rbo(c, a, reduce=None, **kw), per_q, rtol=1e-12)
    # padded + masked == unpadded (NaN / huge padding scores are ignored)
    pa = np.concatenate([a, np.full((b, q, pad), np.nan)], -1)
    pc = np.concatenate([c, np.full((b, q, pad), 1e300)], -1)
    where = np.arange(n + pad) < n
    np.testing.assert_allclose(_rbo(pa, pc, where, reduce=None, **kw), per_q, rtol=1e-12)
    # weighted mean over queries, per leading batch element
    w = rng.random((b, q)) + 0.1
    np.testing.assert_allclose(_rbo(a, c, weights=w, **kw), (w * per_q).sum(-1) / w.sum(-1), rtol=1e-12)
    # streaming in two batches == one-shot
    m = overlap.rank_biased_overlap_metric(**kw)
    update = jax.jit(m.update)
    state = update(m.init(), a[0, :3], c[0, :3], weights=w[0, :3])
    state = update(state, a[0, 3:], c[0, 3:], weights=w[0, 3:])
    np.testing.assert_allclose(m.compute(state), (w[0] * per_q[0]).sum() / w[0].sum(), rtol=1e-12)
    # finite (zero) gradients with ±inf scores and a masked query
    inf = a[0].copy()
    inf[:, 0] = np.inf
    mask = np.ones((q, n), bool)
    mask[2] = False
    g = jax.grad(lambda x, y: overlap.rbo(x, y, where=mask, **kw), argnums=(0, 1))(jnp.asarray(inf),
                                                                                   jnp.asarray(-inf))
    assert all(np.all(np.asarray(x) == 0) for x in g)


def test_real_data_two_metrics_on_digits():
    """Rankings of 300 digit images by Euclidean vs cosine similarity to each of 12 queries."""
    datasets = pytest.importorskip("sklearn.datasets")
    x, _ = datasets.load_digits(return_X_y=True)
    xq, xp = x[:12], x[12:312]
    euclid = -((xq[:, None, :] - xp[None, :, :]) ** 2).sum(-1)
    unit = lambda v: v / np.linalg.norm(v, axis=-1, keepdims=True)  # noqa: E731
    cosine = np.round(unit(xq) @ unit(xp).T, 3)  # rounded: ties
    for kw in (dict(p=0.9, k=None, extrapolate=False), dict(p=0.95, k=40, extrapolate=True)):
        got = _rbo(euclid, cosine, reduce=None, **kw)
        np.testing.assert_allclose(got, _reference(euclid, cosine, None, **kw), rtol=RTOL, atol=1e-12)
    assert 0.3 < got.mean() < 1.0  # related but different rankings


BAD = [
    (dict(p=1.0), "p"),
    (dict(p=0.0), "p"),
    (dict(p=-0.5), "p"),
    (dict(p="0.9"), "p"),
    (dict(k=0), "k"),
    (dict(k=3.0), "k"),
    (dict(ties="average"), "ties"),
    (dict(ties="pessimistic"), "ties"),
    (dict(reduce="sum"), "reduce"),
]


@pytest.mark.parametrize("kw,arg", BAD, ids=[str(kw) for kw, _ in BAD])
def test_bad_config_raises(kw, arg):
    a = np.zeros((2, 3))
    with pytest.raises(jaxmetrics.ShapeError, match=f"`{arg}`"):
        overlap.rank_biased_overlap(a, a, **kw)
    if "reduce" not in kw:
        with pytest.raises(jaxmetrics.ShapeError, match=f"`{arg}`"):
            overlap.rank_biased_overlap_metric(**kw)


def test_bad_shapes_and_registry():
    a = np.zeros((2, 3))
    with pytest.raises(jaxmetrics.ShapeError, match="`scores_b`"):
        overlap.rbo(a, a[:, :2])
    with pytest.raises(jaxmetrics.ShapeError, match="`scores_a`"):
        overlap.rbo(a[0], a[0])
    with pytest.raises(jaxmetrics.ShapeError, match="`where`"):
        overlap.rbo(a, a, where=np.ones((3, 3), bool))
    assert overlap.rbo(a[0], a[0], reduce=None).shape == ()
    info = jaxmetrics.registry["rank_biased_overlap"]
    assert info.aliases == ("rbo",) and info.fn is overlap.rbo and info.streaming is overlap.rbo_metric
