"""Contract inputs for weight-matrix spectra (jaxmetrics.spectral.weights).

Matrix functions take ``W [n, m]`` only (no ``where``/``weights``): their adapter drops both. The
ordinary ``W`` is [32, 16] (16 eigenvalues >= the power-law fit's ``min_evals=10``; axis 0 divisible
by 8 for the shard check) with heavy-tailed Student-t entries, so the KS-chosen λ_min is well separated
from its neighbours and ``check_grads`` sees the smooth piece. Edge cases for the finite-gradient check:
rank-deficient, zero, tiny and huge matrices, repeated singular values (a scaled orthogonal matrix: a
point-mass ESD), rounded entries (ties) and a single spike.
"""

from __future__ import annotations

import numpy as np

from tests.contract.spec import Case, Spec

N, M = 32, 16
K = 64  # eigenvalues for powerlaw_fit


def _drop_masks(fn, args, kwargs, where, weights):
    return fn(*args, **kwargs)


def _where_only(fn, args, kwargs, where, weights):
    return fn(*args, **kwargs, where=where)


def _params(fn, args, kwargs, where, weights):
    """A flax-style params dict from the case's arrays (biases are constants: rank 1, skipped)."""
    dense, conv = args
    params = {
        "Conv_0": {"kernel": conv, "bias": np.zeros(5)},
        "Dense_0": {"kernel": dense, "bias": np.zeros(8)},
        "LayerNorm_0": {"scale": np.ones(8)},
    }
    return fn(params, **kwargs)


def _heavy_W(rng, shape=(N, M)):
    return rng.standard_t(3.0, size=shape)


def _matrix_edges(kwargs=None):
    kwargs = dict(kwargs or {})

    def edges(rng):
        W = _heavy_W(rng)
        q, _ = np.linalg.qr(rng.normal(size=(N, M)))
        spike = 0.01 * rng.normal(size=(N, M))
        spike[0, 0] = 50.0
        return [
            Case((rng.normal(size=(N, 3)) @ rng.normal(size=(3, M)),), kwargs, label="rank-deficient (rank 3)"),
            Case((np.zeros((N, M)),), kwargs, label="zero matrix"),
            Case((1e-30 * W,), kwargs, label="tiny entries (all eigenvalues below the fit threshold)"),
            Case((1e12 * W,), kwargs, label="huge entries"),
            Case((2.0 * q,), kwargs, label="repeated singular values (point-mass ESD)"),
            Case((np.round(W),), kwargs, label="rounded entries (ties)"),
            Case((spike,), kwargs, label="one spike over a small bulk"),
        ]

    return edges


def _matrix_bad(kwargs=None):
    kwargs = dict(kwargs or {})

    def bad(rng):
        return [
            (Case((rng.normal(size=N),), kwargs), "W"),
            (Case((np.zeros((N, 0)),), kwargs), "W"),
            (Case((np.ones((N, M), complex),), kwargs), "W"),
        ]

    return bad


def _matrix_spec(kwargs=None, rtol=1e-4):
    kwargs = dict(kwargs or {})
    return Spec(
        make=lambda rng: Case((_heavy_W(rng),), dict(kwargs)),
        edges=_matrix_edges(kwargs),
        bad=_matrix_bad(kwargs),
        low_precision_rtol=rtol,
        call=_drop_masks,
    )


# ------------------------------------------------------------------------------------------------
# powerlaw_fit over eigenvalues (with a mask)


def _evals(rng):
    """The ESD of a heavy-tailed [2K, K] matrix, shuffled (well-separated eigenvalues)."""
    lam = np.linalg.svd(rng.standard_t(3.0, size=(2 * K, K)), compute_uv=False) ** 2
    return rng.permutation(lam)


def _fit_case(rng, **kwargs):
    return Case((_evals(rng),), kwargs, where=rng.random(K) > 0.1)


def _fit_edges(rng):
    lam = _evals(rng)
    tied = lam.copy()
    tied[10:20] = tied[10]
    below = lam.copy()
    below[:4] = 1e-7  # below the 1e-5 threshold: never fitted
    return [
        Case((below,), {}, label="eigenvalues below the threshold"),
        Case((lam,), {}, where=np.zeros(K, bool), label="all masked"),
        Case((np.zeros(K),), {}, label="all eigenvalues zero"),
        Case((np.full(K, 3.0),), {}, label="all eigenvalues equal (point mass)"),
        Case((tied,), {}, label="tied eigenvalues"),
        Case((lam,), {}, where=np.arange(K) < 9, label="fewer than min_evals fitted"),
        Case((lam,), dict(method="weightwatcher"), where=np.arange(K) < 19, label="WW small-N branch"),
        Case((lam,), dict(method="weightwatcher", min_evals=1), where=np.arange(K) < 11,
             label="WW small-N fallback"),
        Case((lam,), dict(chunk_size=7), label="chunked candidates"),
    ]


def _fit_bad(rng):
    return [
        (Case((np.float64(3.0),), {}), "evals"),
        (Case((_evals(rng),), {}, where=np.ones(K - 1, bool)), "where"),
        (Case((np.zeros(0),), {}), "evals"),
    ]


# ------------------------------------------------------------------------------------------------
# weibull_fit (entry mask)


def _separated_gaussian(rng, shape):
    """Gaussian-like weights whose sorted magnitudes are >= 1e-3 apart and >= 0.01 from 0, so the
    ±1e-4 steps of check_grads never reorder them (the sort's kinks) nor cross the kink of |w| at 0."""
    a = np.sort(np.abs(rng.normal(size=int(np.prod(shape))))) + 0.01
    i = np.arange(a.size) * 1e-3
    a = np.maximum.accumulate(a - i) + i
    return (rng.permutation(a) * rng.choice([-1.0, 1.0], size=a.size)).reshape(shape)


def _weibull_case(rng):
    return Case((_separated_gaussian(rng, (N, M)),), {}, where=rng.random((N, M)) > 0.1)


def _weibull_edges(rng):
    W = rng.normal(size=(N, M))
    pruned = W.copy()
    pruned[:, :4] = 0.0
    return [
        Case((W,), {}, label="Gaussian (near-ties in |w|)"),
        Case((W,), {}, where=np.zeros((N, M), bool), label="all masked"),
        Case((np.zeros((N, M)),), {}, label="zero matrix"),
        Case((np.full((N, M), -2.0),), {}, label="constant magnitude"),
        Case((pruned,), {}, label="pruned (exact zeros)"),
        Case((np.round(W, 1),), {}, label="rounded (ties)"),
        Case((1e-30 * W,), {}, label="tiny entries"),
    ]


def _weibull_bad(rng):
    return [
        (Case((rng.normal(size=N),), {}), "W"),
        (Case((rng.normal(size=(N, M)),), {}, where=np.ones((N, M + 1), bool)), "where"),
    ]


# ------------------------------------------------------------------------------------------------
# weight_spectra (params pytree)


def _params_case(rng, **kwargs):
    return Case((rng.normal(size=(16, 8)), rng.normal(size=(16, 3, 4, 5))), kwargs, diff_argnums=(0, 1))


def _params_edges(rng):
    dense, conv = _params_case(rng).args
    return [
        Case((np.zeros_like(dense), np.zeros_like(conv)), {}, diff_argnums=(0, 1), label="zero kernels"),
        Case((dense, conv), dict(conv="flatten"), diff_argnums=(0, 1), label="conv flattened"),
        Case((dense, conv), dict(conv="skip"), diff_argnums=(0, 1), label="conv skipped"),
    ]


def _params_bad(rng):
    case = _params_case(rng)
    return [
        (Case(case.args, dict(conv="pooled")), "conv"),
        (Case(case.args, dict(min_dim=0)), "min_dim"),
    ]


SPECS = {
    "esd": _matrix_spec(),
    "powerlaw_alpha": _matrix_spec(),
    "alpha_hat": _matrix_spec(),
    "log_alpha_norm": _matrix_spec(),
    "stable_rank": _matrix_spec(),
    "spectral_norm": _matrix_spec(),
    "log_spectral_norm": _matrix_spec(),
    "log_norm": _matrix_spec(),
    "matrix_entropy": _matrix_spec(),
    "powerlaw_fit": Spec(make=_fit_case, edges=_fit_edges, bad=_fit_bad, call=_where_only),
    "weibull_fit": Spec(make=_weibull_case, edges=_weibull_edges, bad=_weibull_bad, call=_where_only),
    "weight_spectra": Spec(make=_params_case, edges=_params_edges, bad=_params_bad, call=_params),
}
