"""Contract inputs for optimal transport and energy distance (jaxmetrics.distances.transport).

Two unpaired sets of different sizes: ``x [N=32, 3]`` and ``y [M=24, 3]`` (1-D ``u [32]``, ``v [24]``
for ``wasserstein_1d``). The suite's per-sample ``where``/``weights`` ``[N]`` are mapped by the ``call``
adapter onto the per-set arguments: ``where_x``/``weights_x`` get them as given, ``where_y``/``weights_y``
get them reversed and cut to M (``where[..., ::-1][..., :M]``), so the two sets are masked differently.
(The shared ``where``/``weights`` of the public functions need n = m; the family tests cover them.)
Both sizes are multiples of 8 (the shard check splits every argument's axis 0).

The ordinary inputs of the sort-based metrics (``wasserstein_1d``, ``sliced_wasserstein``) have no
ties: they are piecewise smooth with kinks where two (projected) values cross, and the finite-difference
gradient check needs a point away from the kinks (the 1-D values lie on two interleaved grids 0.05
apart). Energy distance and Sinkhorn get duplicated and shared points in their ordinary inputs (the
Euclidean norm is even, so central differences agree with its zero gradient at 0). Edge cases
(finite-gradient check): all masked (NaN result), identical constant sets (zero distance: roots at 0),
shared and duplicated points, few valid points.
"""

from __future__ import annotations

import jax
import numpy as np

from tests.contract.spec import Case, Spec

N, M, D = 32, 24, 3
_KEY = jax.random.key(7)


def _second(a):
    return None if a is None else a[..., ::-1][..., :M]


def _adapter(**fixed):
    def call(fn, args, kwargs, where, weights):
        kw = dict(kwargs, **fixed)
        if where is not None:
            kw.update(where_x=where, where_y=_second(where))
        if weights is not None:
            kw.update(weights_x=weights, weights_y=_second(weights))
        return fn(*args, **kw)

    return call


def _masks(rng):
    where = rng.random(N) > 0.25
    where[:4] = True
    where[-4:] = True
    return dict(where=where, weights=rng.random(N) + 0.1)


def _xy(rng, ties: bool):
    x = rng.normal(size=(N, D))
    y = 0.8 * rng.normal(size=(M, D)) + np.array([0.5, -0.3, 0.2])
    if ties:
        x[1] = x[0]
        y[2] = x[3]
        y[5] = y[4]
    return x, y


def _uv(rng):
    grid = 0.1 * rng.permutation(80)
    return grid[:N] - 2.0, grid[N:N + M] - 1.95 + 0.3


def _edge(args, kwargs, label, where=None, weights=None):
    """Every case passes both ``where`` and ``weights``: one signature, so one compile per check."""
    where = np.ones(N, bool) if where is None else where
    weights = np.ones(N) if weights is None else weights
    return Case(args, kwargs, where=where, weights=weights, diff_argnums=(0, 1), label=label)


def _few():
    one = np.zeros(N, bool)
    one[[3, 26]] = True  # the first set keeps samples 3 and 26; the second keeps sample 5 (= 31 - 26)
    return one


def _edges(x, y, kwargs):
    const = np.full_like(x, 0.7)
    return [
        _edge((x, y), kwargs, "all masked", where=np.zeros(N, bool)),
        _edge((const, const[:M]), kwargs, "identical constant sets"),
        _edge((x, x[:M].copy()), kwargs, "shared points"),
        _edge((x, y), kwargs, "few valid points", where=_few()),
    ]


def _bad_xy(x, y, kwargs):
    return [
        (Case((x[0], y), kwargs), "x"),
        (Case((x, y[:, :2]), kwargs), "y"),
        (Case((x, y), kwargs, where=np.ones(N - 1, bool)), "where_x"),
        (Case((x, y), kwargs, weights=np.ones((N, 2))), "weights_x"),
    ]


def _set_spec(kwargs, call, ties, low_precision_rtol=1e-4):
    def make(rng):
        x, y = _xy(rng, ties)
        return Case((x, y), dict(kwargs), diff_argnums=(0, 1), **_masks(rng))

    def edges(rng):
        return _edges(*_xy(rng, ties), kwargs)

    def bad(rng):
        return _bad_xy(*_xy(rng, ties), kwargs)

    return Spec(make=make, edges=edges, bad=bad, call=call, low_precision_rtol=low_precision_rtol)


def _wasserstein_spec():
    kwargs = {}
    call = _adapter()

    def make(rng):
        return Case(_uv(rng), dict(kwargs), diff_argnums=(0, 1), **_masks(rng))

    def edges(rng):
        u, v = _uv(rng)
        tied = np.round(u)
        return [
            _edge((u, v), kwargs, "all masked", where=np.zeros(N, bool)),
            _edge((np.full(N, 0.7), np.full(M, 0.7)), kwargs, "identical constant sets"),
            _edge((tied, tied[:M].copy()), kwargs, "ties, shared values"),
            _edge((u, v), kwargs, "few valid points", where=_few()),
        ]

    def bad(rng):
        u, v = _uv(rng)
        return [
            (Case((np.float64(1.0), v), kwargs), "x"),
            (Case((u, v.astype(bool)), kwargs), "y"),
            (Case((u, v), kwargs, where=np.ones(N - 1, bool)), "where_x"),
            (Case((u, v), kwargs, weights=np.ones((N, 2))), "weights_x"),
        ]

    return Spec(make=make, edges=edges, bad=bad, call=call)


_SINKHORN = dict(epsilon=1.0, num_iters=100)

SPECS = {
    "energy_distance": _set_spec({}, _adapter(), ties=True),
    "wasserstein_1d": _wasserstein_spec(),
    "sliced_wasserstein": _set_spec(dict(num_projections=8), _adapter(key=_KEY), ties=False),
    "sinkhorn_cost": _set_spec(_SINKHORN, _adapter(), ties=True),
    "sinkhorn_divergence": _set_spec(_SINKHORN, _adapter(), ties=True),
}
