"""Contract inputs for the correlations (jaxmetrics.ranking.correlation): ``x [N]``, ``y [N]`` with
N = 32 samples (float64, rounded so that both have ties), a ``where [N]`` sample mask and, for Pearson
only, ``weights [N]`` (Spearman and Kendall reject weights). Kendall's ordinary case uses
``chunk_size=12`` so the ``lax.map`` row-chunk path with padding (32 = 2·12 + 8) is exercised.
"""

from __future__ import annotations

import numpy as np

from tests.contract.spec import Case, Spec

N = 32


def _data(rng):
    x = np.round(rng.normal(size=N) + 2.0, 1)
    y = np.round(0.6 * x + rng.normal(size=N) + 1.0, 1)
    return x, y


def _make(kwargs, weighted):
    def make(rng):
        x, y = _data(rng)
        where = rng.random(N) > 0.2
        where[:3] = True
        return Case((x, y), dict(kwargs), where=where, weights=rng.random(N) + 0.1 if weighted else None,
                    diff_argnums=(0, 1))

    return make


def _edges(kwargs, weighted):
    def edges(rng):
        x, y = _data(rng)
        kw = dict(kwargs)
        one = np.zeros(N, bool)
        one[5] = True
        two = one.copy()
        two[9] = True
        inf_x = x.copy()
        inf_x[:3], inf_x[3:6] = np.inf, -np.inf
        nan_pad = x.copy()
        nan_pad[-4:] = np.nan
        pad_mask = np.arange(N) < N - 4
        cases = [
            Case((x, y), kw, where=np.zeros(N, bool), diff_argnums=(0, 1), label="all masked"),
            Case((x, y), kw, where=one, diff_argnums=(0, 1), label="one valid sample"),
            Case((x, y), kw, where=two, diff_argnums=(0, 1), label="two valid samples"),
            Case((np.full(N, 1.5), y), kw, diff_argnums=(0, 1), label="constant x (zero variance)"),
            Case((x, np.full(N, -2.0)), kw, diff_argnums=(0, 1), label="constant y (zero variance)"),
            Case((x, x.copy()), kw, diff_argnums=(0, 1), label="perfect correlation (r = 1)"),
            Case((x, -x), kw, diff_argnums=(0, 1), label="perfect anticorrelation (r = -1)"),
            Case((inf_x, y), kw, diff_argnums=(0, 1), label="+-inf values"),
            Case((nan_pad, y), kw, where=pad_mask, diff_argnums=(0, 1), label="NaN padding, masked"),
            Case((x + 1e8, y), kw, diff_argnums=(0, 1), label="huge mean, small spread"),
        ]
        if weighted:
            cases.append(Case((x, y), kw, weights=np.zeros(N), diff_argnums=(0, 1), label="zero weights"))
            w = np.zeros(N)
            w[:4] = [0.5, 1.0, 2.0, 0.1]
            cases.append(Case((x, y), kw, weights=w, diff_argnums=(0, 1), label="mostly zero weights"))
        return cases

    return edges


def _bad(kwargs, weighted):
    def bad(rng):
        x, y = _data(rng)
        kw = dict(kwargs)
        out = [
            (Case((x, y[:-8]), kw), "y"),
            (Case((np.float64(1.0), np.float64(2.0)), kw), "x"),
            (Case((x, y), kw, where=np.ones(N - 1, bool)), "where"),
        ]
        if weighted:
            out.append((Case((x, y), kw, weights=np.ones((N, 2))), "weights"))
        else:
            out.append((Case((x, y), kw, where=np.ones((2, N + 1), bool)), "where"))
        if "chunk_size" in kw:
            out.append((Case((x, y), dict(kw, chunk_size=0)), "chunk_size"))
            out.append((Case((x, y), dict(kw, chunk_size=2.5)), "chunk_size"))
        return out

    return bad


def _spec(kwargs=None, weighted=False):
    kwargs = dict(kwargs or {})
    return Spec(make=_make(kwargs, weighted), edges=_edges(kwargs, weighted), bad=_bad(kwargs, weighted))


SPECS: dict[str, Spec] = {
    "pearson": _spec(weighted=True),
    "spearman": _spec(),
    "kendall_tau": _spec(dict(chunk_size=12)),
}
