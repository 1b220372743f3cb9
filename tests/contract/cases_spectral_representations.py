"""Contract inputs for the representation spectra (jaxmetrics.spectral.representations).

``X [N, d]`` float64 with a decaying spectrum and a non-zero mean, a row mask and positive weights.
Every streaming constructor needs the static feature dimension, so ``dim`` (``dim_pre``/``dim_post``)
is part of the kwargs; the one-shot functions accept it and check it against X. The participation
ratio and spectral entropy use d = 40 > N = 32 so that their one-shot n×n Gram path is exercised.

The streaming state is (W, #rows, μ, M2) with Chan's merge, which is associative up to rounding
*relative to the terms it adds*; the suite compares the state leaves element-wise with rtol 1e-12
and atol 0, so an entry of μ or M2 that cancels to nearly 0 (an off-diagonal covariance of
independent features, the mean of a centred feature, the variance of a saturated tanh) is only
reproducible to ~1e-16 of its terms and would fail that comparison. The data therefore have a common
factor and an offset that keep every entry of μ and M2 away from 0 (the test file checks merges on
generic data against the one-shot values instead).
Edge cases (finite-gradient check only): all masked, zero weights, a single valid row, rank-deficient
X, constant X (zero covariance), duplicate rows, large values.
"""

from __future__ import annotations

import numpy as np

from tests.contract.spec import Case, Spec

N, D, D_WIDE, D_POST = 32, 8, 40, 12


def _x(rng, d=D, n=N):
    """A decaying spectrum plus a common factor and an offset (see the module docstring)."""
    scale = np.arange(1, d + 1) ** -0.6
    common = 2.0 * rng.normal(size=(n, 1))
    return rng.normal(size=(n, d)) * scale + common + 3.0 + rng.random(d)


def _masks(rng):
    where = rng.random(N) > 0.2
    where[:4] = True
    return dict(where=where, weights=rng.random(N) + 0.1)


def _edge_xs(x):
    rank2 = x[:, :2] @ np.stack([np.ones(x.shape[1]), np.arange(x.shape[1]) / x.shape[1]])
    dup = x.copy()
    dup[1::2] = dup[::2]
    return [
        (rank2, "rank-deficient X"),
        (np.repeat(x[:1], len(x), axis=0), "constant X"),
        (dup, "duplicate rows"),
        (x * 1e6, "large values"),
    ]


def _single(kwargs, d):
    def make(rng):
        return Case((_x(rng, d),), dict(kwargs), **_masks(rng))

    def edges(rng):
        x = _x(rng, d)
        one = np.zeros(N, bool)
        one[3] = True
        cases = [
            Case((x,), kwargs, where=np.zeros(N, bool), label="all masked"),
            Case((x,), kwargs, weights=np.zeros(N), label="zero weights"),
            Case((x,), kwargs, where=one, label="single valid row"),
        ]
        return cases + [Case((e,), kwargs, label=label) for e, label in _edge_xs(x)]

    def bad(rng):
        x = _x(rng, d)
        return [
            (Case((x[0],), kwargs), "X"),
            (Case((_x(rng, d + 1),), kwargs), "X"),
            (Case((x,), kwargs, where=np.ones(N - 1, bool)), "where"),
            (Case((x,), kwargs, weights=np.ones((N, 2))), "weights"),
        ]

    return Spec(make=make, edges=edges, bad=bad)


def _post(x, rng_or_w):
    """A non-saturated nonlinearity of X, sharing X's common factor (via its first column)."""
    w = rng_or_w.normal(size=(D, D_POST)) if isinstance(rng_or_w, np.random.Generator) else rng_or_w
    return np.tanh(0.3 * (x - x.mean(0)) @ w) + x[:, :1] + 1.5


def _js_spec():
    kwargs = dict(dim_pre=D, dim_post=D_POST)

    def make(rng):
        x = _x(rng)
        return Case((x, _post(x, rng)), dict(kwargs), diff_argnums=(0, 1), **_masks(rng))

    def edges(rng):
        x = _x(rng)
        w = rng.normal(size=(D, D_POST))
        d = (0, 1)
        cases = [
            Case((x, _post(x, w)), kwargs, where=np.zeros(N, bool), diff_argnums=d, label="all masked"),
            Case((x, _post(x, w)), kwargs, weights=np.zeros(N), diff_argnums=d, label="zero weights"),
            Case((x, np.zeros((N, D_POST))), kwargs, diff_argnums=d, label="zero post"),
        ]
        return cases + [Case((e, _post(e, w)), kwargs, diff_argnums=d, label=lab) for e, lab in _edge_xs(x)]

    def bad(rng):
        x = _x(rng)
        y = _post(x, rng)
        return [
            (Case((x, y[:-1]), kwargs), "X_post"),
            (Case((x[0], y), kwargs), "X_pre"),
            (Case((x, y[:, :-1]), kwargs), "X_post"),
            (Case((x, y), kwargs, where=np.ones(N - 1, bool)), "where"),
        ]

    return Spec(make=make, edges=edges, bad=bad)


SPECS = {
    "effective_rank": _single(dict(dim=D), D),
    "alpha_req": _single(dict(dim=D), D),
    "participation_ratio": _single(dict(dim=D_WIDE), D_WIDE),
    "spectral_entropy": _single(dict(dim=D_WIDE), D_WIDE),
    "eigenvalue_early_enrichment": _single(dict(dim=D), D),
    "spectral_jensen_shannon": _js_spec(),
}
