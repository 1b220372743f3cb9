"""Contract inputs for the score error metrics (jaxmetrics.score_matching.errors).

Arrays of model outputs, N = 16 samples of d = 3 features, with a sample mask and sample weights:

* ``explicit_score_matching_error`` / ``fisher_divergence``: two score arrays ``[16, 3]``;
* ``score_fvu``: ``pred, reference, x [16, 3]`` and ``sigma [16]``; the ordinary case reads ``pred``
  as ε̂ and ``reference`` as a score (both converted to denoisers); the bad inputs also use the plain
  ``"x0"`` path; ``dim=3`` (the streaming state's feature dimension) is passed to both;
* ``tweedie_consistency``: ``denoiser_out, score_out, x [16, 3]`` and ``sigma [16]``, relative form.

Edges keep the ordinary case's static configuration (and where + weights), so they reuse its compiled
programs; the other configurations are covered by the family tests.
"""

from __future__ import annotations

import numpy as np

from tests.contract.spec import Case, Spec

N, D = 16, 3


def _vec(rng):
    return np.round(rng.normal(size=(N, D)), 1)  # rounded: ties between samples


def _mask(rng):
    return rng.random(N) > 0.2


def _weights(rng):
    return rng.random(N) + 0.1


def _nan_padded(a):
    a = a.copy()
    a[-4:] = np.nan
    return a


# ------------------------------------------------------------------------------------------------
# explicit score matching error, Fisher divergence


def _pair_make(rng):
    return Case((_vec(rng), _vec(rng)), {}, where=_mask(rng), weights=_weights(rng), diff_argnums=(0, 1))


def _pair_edges(rng):
    a, b = _vec(rng), _vec(rng)
    return [
        Case((a, b), {}, where=np.zeros(N, bool), weights=_weights(rng), diff_argnums=(0, 1), label="all masked"),
        Case((a, a.copy()), {}, where=_mask(rng), weights=_weights(rng), diff_argnums=(0, 1),
             label="identical scores (zero error)"),
        Case((_nan_padded(a), b), {}, where=np.arange(N) < N - 4, weights=_weights(rng), diff_argnums=(0, 1),
             label="NaN padding, masked"),
    ]


def _pair_bad(first, second):
    def bad(rng):
        a, b = _vec(rng), _vec(rng)
        return [
            (Case((a, b[:, :2]), {}), second),
            (Case((a[:, 0], b[:, 0]), {}), first),
            (Case((a, b), {}, where=np.ones(N - 1, bool)), "where"),
            (Case((a, b), dict(reduce="sum")), "reduce"),
        ]

    return bad


# ------------------------------------------------------------------------------------------------
# score FVU

_FVU = dict(dim=D, parameterization="epsilon", reference_parameterization="score")
_FVU_X0 = dict(dim=D)


def _sigma(rng):
    return np.full(N, 0.5) + 0.1 * rng.random()  # one noise level per call


def _fvu_make(rng):
    x = _vec(rng)
    return Case((_vec(rng), _vec(rng), x, _sigma(rng)), dict(_FVU), where=_mask(rng), weights=_weights(rng),
                diff_argnums=(0, 1, 2, 3))


def _fvu_edges(rng):
    # one static configuration (and where + weights) throughout, so the edges reuse one compiled program
    x, r, sig = _vec(rng), _vec(rng), _sigma(rng)
    eps_for = lambda den: (x - den) / sig[:, None]  # noqa: E731  (the ε̂ whose denoiser is `den`)
    return [
        Case((eps_for(np.ones((N, D))), r, x, sig), dict(_FVU), where=_mask(rng), weights=_weights(rng),
             diff_argnums=(0, 1, 2, 3), label="constant model denoiser (zero variance: NaN)"),
        Case((eps_for(r), (r - x) / sig[:, None] ** 2, x, sig), dict(_FVU), where=_mask(rng),
             weights=_weights(rng), diff_argnums=(0, 1, 2, 3), label="reference reproduces the model (FVU 0)"),
        Case((_nan_padded(r), r, x, sig), dict(_FVU), where=np.zeros(N, bool), weights=_weights(rng),
             diff_argnums=(0, 1, 2, 3), label="all masked, NaN padding"),
    ]


def _fvu_bad(rng):
    p, r, x, s = _vec(rng), _vec(rng), _vec(rng), _sigma(rng)
    return [
        (Case((p, r[:8]), dict(_FVU_X0)), "reference"),
        (Case((p[:, :2], r[:, :2]), dict(_FVU_X0)), "pred"),  # d = 2 but dim = 3
        (Case((p, r, x, s[:5]), dict(_FVU)), "sigma"),
        (Case((p, r, x[:, :1], s), dict(_FVU)), "x"),
        (Case((p, r), dict(_FVU)), "x"),  # a conversion without the noisy points
        (Case((p, r), dict(_FVU_X0, parameterization="v")), "parameterization"),
    ]


# ------------------------------------------------------------------------------------------------
# Tweedie consistency


_REL = dict(relative=True)


def _tweedie_make(rng):
    return Case((_vec(rng), _vec(rng), _vec(rng), _sigma(rng)), dict(_REL), where=_mask(rng), weights=_weights(rng),
                diff_argnums=(0, 1, 2, 3))


def _tweedie_edges(rng):
    # the ordinary configuration (relative, where + weights) throughout: one compiled program
    x, s, sig = _vec(rng), _vec(rng), _sigma(rng)
    consistent = x + sig[:, None] ** 2 * s
    kw = dict(where=_mask(rng), weights=_weights(rng), diff_argnums=(0, 1, 2, 3))
    return [
        Case((consistent, s, x, sig), dict(_REL), **kw, label="consistent pair (zero residual)"),
        Case((x.copy(), np.zeros((N, D)), x, sig), dict(_REL), **kw, label="D = x (zero denominator: NaN)"),
        Case((_nan_padded(x), s, x, sig), dict(_REL), where=np.zeros(N, bool), weights=kw["weights"],
             diff_argnums=(0, 1, 2, 3), label="all masked, NaN padding"),
    ]


def _tweedie_bad(rng):
    a, b, x, s = _vec(rng), _vec(rng), _vec(rng), _sigma(rng)
    return [
        (Case((a, b, x, s[:3]), {}), "sigma"),
        (Case((a, b, x[:8], s), {}), "x"),
        (Case((a, b[:, :2], x, s), {}), "score_out"),
        (Case((a, b, x, s), dict(relative=1)), "relative"),
        (Case((a, b, x, s), dict(reduce="sum")), "reduce"),
    ]


SPECS = {
    "explicit_score_matching_error": Spec(make=_pair_make, edges=_pair_edges,
                                          bad=_pair_bad("score_pred", "score_true")),
    "fisher_divergence": Spec(make=_pair_make, edges=_pair_edges, bad=_pair_bad("score_p", "score_q")),
    "score_fvu": Spec(make=_fvu_make, edges=_fvu_edges, bad=_fvu_bad),
    "tweedie_consistency": Spec(make=_tweedie_make, edges=_tweedie_edges, bad=_tweedie_bad),
}
