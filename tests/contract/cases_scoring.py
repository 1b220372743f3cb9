"""Contract inputs for the scoring family (jaxmetrics.scoring).

The ordinary cases of differentiable scores use continuous random data (no ties), because
``check_grads`` compares against finite differences, which are wrong at the kinks of |·| and of the
sorted form; ties, observations equal to a member / quantile, zero scales, all-masked input and extreme
values are in the edge cases (finite-gradient check only).
"""

from __future__ import annotations

import numpy as np

from tests.contract.spec import Case, Spec

N, M, D = 32, 7, 3
LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)
PINBALL_LEVELS = (0.1, 0.5, 0.7, 0.9)


def _obs_masks(rng):
    return dict(where=rng.random(N) > 0.2, weights=rng.random(N) + 0.1)


def _bad_common(case):
    """Wrong where / weights shapes (every entry takes them)."""
    return [
        (Case(case.args, case.kwargs, where=np.ones(N - 1, bool)), "where"),
        (Case(case.args, case.kwargs, weights=np.ones((N, 2))), "weights"),
    ]


# ------------------------------------------------------------------------------------------------
# ensembles: crps_ensemble, pit, rank_histogram, spread_skill_ratio


def _ensemble_case(rng, kwargs, *, ties=False):
    x = rng.normal(size=(N, M)) + rng.normal(size=(N, 1))
    y = rng.normal(size=N)
    if ties:  # rounded: ties among members and between obs and members
        x, y = np.round(x, 0), np.round(y, 0)
    return Case((x, y), dict(kwargs), diff_argnums=(0, 1), **_obs_masks(rng))


def _ensemble_edges(kwargs):
    def edges(rng):
        x, y = _ensemble_case(rng, kwargs).args
        tied = np.repeat(x[:, :1], M, axis=1)
        dup = x.copy()
        dup[:, 3] = dup[:, 1]
        return [
            Case((x, y), kwargs, where=np.zeros(N, bool), diff_argnums=(0, 1), label="all masked"),
            Case((x, y), kwargs, weights=np.zeros(N), diff_argnums=(0, 1), label="zero weights"),
            Case((tied, y), kwargs, diff_argnums=(0, 1), label="all members equal"),
            Case((tied, tied[:, 0]), kwargs, diff_argnums=(0, 1), label="all members equal to obs"),
            Case((x, x[:, 2].copy()), kwargs, diff_argnums=(0, 1), label="obs equal to a member"),
            Case((dup, y), kwargs, diff_argnums=(0, 1), label="two tied members"),
            Case((x * 1e8, y), kwargs, diff_argnums=(0, 1), label="extreme values"),
            Case((np.round(x), np.round(y)), kwargs, diff_argnums=(0, 1), label="rounded (many ties)"),
        ]

    return edges


def _ensemble_bad(kwargs):
    def bad(rng):
        case = _ensemble_case(rng, kwargs)
        x, y = case.args
        return [
            (Case((x, y[:-1]), kwargs), "obs"),
            (Case((x[:, 0], y), kwargs), "forecasts"),
            *_bad_common(case),
        ]

    return bad


def _ensemble_spec(kwargs, *, ties=False, extra_bad=None):
    bad = _ensemble_bad(kwargs)
    if extra_bad is not None:
        base_bad = bad
        bad = lambda rng: base_bad(rng) + extra_bad(rng)  # noqa: E731
    return Spec(make=lambda rng: _ensemble_case(rng, kwargs, ties=ties), edges=_ensemble_edges(kwargs), bad=bad)


def _rank_hist_bad(rng):
    x, y = _ensemble_case(rng, {}).args
    return [(Case((np.concatenate([x, x[:, :1]], 1), y), dict(num_members=M)), "forecasts")]


# ------------------------------------------------------------------------------------------------
# multivariate: energy_score


def _energy_case(rng, kwargs, m=5):
    x = rng.normal(size=(N, m, D))
    y = rng.normal(size=(N, D))
    return Case((x, y), dict(kwargs), diff_argnums=(0, 1), **_obs_masks(rng))


def _energy_edges(rng):
    kw = dict(estimator="fair")
    x, y = _energy_case(rng, kw).args
    tied = np.repeat(x[:, :1], x.shape[1], axis=1)
    return [
        Case((x, y), kw, where=np.zeros(N, bool), diff_argnums=(0, 1), label="all masked"),
        Case((tied, y), kw, diff_argnums=(0, 1), label="all members equal"),
        Case((tied, tied[:, 0]), kw, diff_argnums=(0, 1), label="all members equal to obs"),
        Case((x, x[:, 1].copy()), kw, diff_argnums=(0, 1), label="obs equal to a member"),
        Case((x * 1e8, y), kw, diff_argnums=(0, 1), label="extreme values"),
    ]


def _energy_bad(rng):
    kw = dict(estimator="fair")
    case = _energy_case(rng, kw)
    x, y = case.args
    return [
        (Case((x, y[:, :-1]), kw), "obs"),
        (Case((x[:, :, 0], y), kw), "forecasts"),
        *_bad_common(case),
    ]


# ------------------------------------------------------------------------------------------------
# parametric: crps_gaussian, crps_logistic, log_score_gaussian


def _param_case(rng):
    loc = rng.normal(size=N)
    scale = 0.3 + rng.random(N)
    y = rng.normal(size=N) * 1.5
    return Case((loc, scale, y), {}, diff_argnums=(0, 1, 2), **_obs_masks(rng))


def _param_edges(rng):
    loc, scale, y = _param_case(rng).args
    d = (0, 1, 2)
    return [
        Case((loc, scale, y), {}, where=np.zeros(N, bool), diff_argnums=d, label="all masked"),
        Case((loc, np.zeros(N), y), {}, diff_argnums=d, label="zero scale"),
        Case((loc, np.zeros(N), loc.copy()), {}, diff_argnums=d, label="zero scale, obs at the location"),
        Case((loc, scale, loc.copy()), {}, diff_argnums=d, label="z = 0"),
        Case((loc, scale * 1e-6, y * 1e6), {}, diff_argnums=d, label="extreme z"),
        Case((loc * 1e8, scale, y), {}, diff_argnums=d, label="extreme location"),
    ]


def _param_bad(names):
    def bad(rng):
        case = _param_case(rng)
        loc, scale, y = case.args
        return [
            (Case((loc[:-1], scale, y)), names[0]),
            (Case((loc, np.ones((N, 2)), y)), names[1]),
            (Case((loc, scale, np.asarray(1.0))), "obs"),
            *_bad_common(case),
        ]

    return bad


# ------------------------------------------------------------------------------------------------
# quantiles and intervals


def _quantile_case(rng, levels):
    q = np.sort(rng.normal(size=(N, len(levels))), axis=-1) + rng.normal(size=(N, 1))
    return Case((q, rng.normal(size=N)), dict(levels=levels), diff_argnums=(0, 1), **_obs_masks(rng))


def _quantile_spec(levels):
    def edges(rng):
        q, y = _quantile_case(rng, levels).args
        kw = dict(levels=levels)
        return [
            Case((q, y), kw, where=np.zeros(N, bool), diff_argnums=(0, 1), label="all masked"),
            Case((q, q[:, 1].copy()), kw, diff_argnums=(0, 1), label="obs equal to a quantile"),
            Case((q[:, ::-1].copy(), y), kw, diff_argnums=(0, 1), label="crossing quantiles"),
            Case((np.zeros_like(q), np.zeros(N)), kw, diff_argnums=(0, 1), label="all tied"),
            Case((q * 1e8, y), kw, diff_argnums=(0, 1), label="extreme values"),
        ]

    def bad(rng):
        case = _quantile_case(rng, levels)
        q, y = case.args
        return [
            (Case((q[:, :-1], y), case.kwargs), "quantiles"),
            (Case((q, np.asarray(0.0)), case.kwargs), "obs"),
            *_bad_common(case),
        ]

    return Spec(make=lambda rng: _quantile_case(rng, levels), edges=edges, bad=bad)


def _interval_case(rng, kwargs, with_obs=True, ties=False):
    c = rng.normal(size=N)
    half = 0.2 + rng.random(N)
    y = rng.normal(size=N)
    lower, upper = c - half, c + half
    if ties:
        y[:4] = lower[:4]
        y[4:8] = upper[4:8]
    args = (lower, upper, y) if with_obs else (lower, upper)
    return Case(args, dict(kwargs), diff_argnums=tuple(range(len(args))), **_obs_masks(rng))


def _interval_spec(kwargs, with_obs=True, ties=False):
    def edges(rng):
        case = _interval_case(rng, kwargs, with_obs)
        a = case.args
        d = case.diff_argnums
        out = [
            Case(a, kwargs, where=np.zeros(N, bool), diff_argnums=d, label="all masked"),
            Case((a[1], a[0], *a[2:]), kwargs, diff_argnums=d, label="crossed intervals"),
            Case((a[0], a[0].copy(), *a[2:]), kwargs, diff_argnums=d, label="zero width"),
            Case(tuple(x * 1e8 for x in a), kwargs, diff_argnums=d, label="extreme values"),
        ]
        if with_obs:
            out.append(Case((a[0], a[1], a[0].copy()), kwargs, diff_argnums=d, label="obs on the bound"))
        return out

    def bad(rng):
        case = _interval_case(rng, kwargs, with_obs)
        a = case.args
        out = [(Case((a[0], a[1][:-1], *a[2:]), kwargs), "upper"), *_bad_common(case)]
        if with_obs:
            out.append((Case((a[0][:-1], *a[1:]), kwargs), "lower"))
            out.append((Case((*a[:2], np.asarray(0.0)), kwargs), "obs"))
        else:
            out.append((Case((np.asarray(0.0), a[1]), kwargs), "lower"))
        return out

    return Spec(make=lambda rng: _interval_case(rng, kwargs, with_obs, ties), edges=edges, bad=bad)


SPECS = {
    "crps_ensemble": _ensemble_spec(dict(estimator="afair", alpha=0.9)),
    "energy_score": Spec(make=lambda rng: _energy_case(rng, dict(estimator="fair")), edges=_energy_edges,
                         bad=_energy_bad),
    "crps_gaussian": Spec(make=_param_case, edges=_param_edges, bad=_param_bad(("mean", "std"))),
    "crps_logistic": Spec(make=_param_case, edges=_param_edges, bad=_param_bad(("loc", "scale"))),
    "log_score_gaussian": Spec(make=_param_case, edges=_param_edges, bad=_param_bad(("mean", "std"))),
    "pinball_loss": _quantile_spec(PINBALL_LEVELS),
    "weighted_interval_score": _quantile_spec(LEVELS),
    "interval_score": _interval_spec(dict(alpha=0.2)),
    "coverage": _interval_spec({}, ties=True),
    "interval_width": _interval_spec({}, with_obs=False),
    "pit": _ensemble_spec({}, ties=True),
    "rank_histogram": _ensemble_spec(dict(num_members=M), ties=True, extra_bad=_rank_hist_bad),
    "spread_skill_ratio": _ensemble_spec(dict(finite_ensemble_correction=True)),
}
