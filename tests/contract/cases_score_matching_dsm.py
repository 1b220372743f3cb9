"""Contract inputs for the denoising score-matching loss and its σ profile (jaxmetrics.score_matching.dsm).

``denoising_score_matching_loss`` takes arrays, not a network: ``pred [N, d]`` is the model output at
``x = x0 + sigma·eps``, so the gradient w.r.t. ``pred`` is what back-propagates into any network's
parameters (the chain rule; ``tests/test_score_matching_dsm.py`` and the training test differentiate
through a real MLP). The args are ``(pred [16, 3], x0 [16, 3], eps [16, 3], sigma [16])`` — the stream
check splits them along N and the vmap check stacks them, which is "vmap over σ and over keys" (the
noise ``eps`` and the σ draws are the key-seeded data). Edges: every parameterization/weighting not in
the ordinary case, σ spanning 1e-3..1e3, an exact prediction (zero residual), all masked.

``dsm_profile`` takes per-sample losses ``[16]`` and σ ``[16]`` (log-uniform over a range wider than the
bins, so clipping happens); the grad check differentiates w.r.t. the losses only (the profile is
piecewise constant in σ, zero gradient). Edges: all masked, every σ in one bin (empty bins → NaN
mean), out-of-range σ dropped, σ exactly at σ_min / σ_max, NaN losses on masked (padded) samples.
"""

from __future__ import annotations

import numpy as np

from tests.contract.spec import Case, Spec

N, D = 16, 3
_LOSS = dict(parameterization="epsilon", weighting="edm", sigma_data=0.5)
_PROFILE = dict(num_bins=4, sigma_min=0.1, sigma_max=10.0)


def _loss_args(rng, lo=-1.0, hi=1.0):
    x0 = rng.normal(size=(N, D))
    eps = rng.normal(size=(N, D))
    sigma = np.exp(rng.uniform(lo, hi, size=N))
    pred = eps + 0.3 * rng.normal(size=(N, D))
    return pred, x0, eps, sigma


def _masks(rng):
    where = rng.random(N) > 0.25
    where[:2] = True
    return dict(where=where, weights=rng.random(N) + 0.1)


def _loss_spec():
    all_args = (0, 1, 2, 3)

    def make(rng):
        return Case(_loss_args(rng), dict(_LOSS), diff_argnums=all_args, **_masks(rng))

    def edges(rng):
        pred, x0, eps, sigma = _loss_args(rng, -7.0, 7.0)
        return [
            Case((pred, x0, eps, sigma), dict(parameterization="x0", weighting="sigma2", feature_reduce="mean"),
                 diff_argnums=all_args, label="x0 / sigma2 / mean over d, sigma 1e-3..1e3"),
            Case((pred, x0, eps, sigma), dict(parameterization="score", weighting="none"),
                 diff_argnums=all_args, label="score / none, sigma 1e-3..1e3"),
            Case((eps, x0, eps, sigma), dict(_LOSS), diff_argnums=all_args, label="exact prediction (zero loss)"),
            Case((pred, x0, eps, sigma), dict(_LOSS), where=np.zeros(N, bool), diff_argnums=all_args,
                 label="all masked"),
        ]

    def bad(rng):
        pred, x0, eps, sigma = _loss_args(rng)
        return [
            (Case((pred[:, 0], x0[:, 0], eps[:, 0], sigma), dict(_LOSS)), "pred"),
            (Case((pred, x0[:, :2], eps, sigma), dict(_LOSS)), "x0"),
            (Case((pred, x0, eps[:-1], sigma), dict(_LOSS)), "eps"),
            (Case((pred, x0, eps, sigma[:-1]), dict(_LOSS)), "sigma"),
            (Case((pred, x0, eps, sigma), dict(_LOSS, parameterization="v")), "parameterization"),
            (Case((pred, x0, eps, sigma), dict(_LOSS, weighting="snr")), "weighting"),
            (Case((pred, x0, eps, sigma), dict(_LOSS, sigma_data=0.0)), "sigma_data"),
            (Case((pred, x0, eps, sigma), dict(_LOSS), where=np.ones(N - 1, bool)), "where"),
        ]

    return Spec(make=make, edges=edges, bad=bad)


def _profile_args(rng):
    return rng.gamma(2.0, size=N), np.exp(rng.uniform(np.log(0.03), np.log(30.0), size=N))


def _profile_spec():
    def make(rng):
        return Case(_profile_args(rng), dict(_PROFILE), diff_argnums=(0,), **_masks(rng))

    def edges(rng):
        loss, sigma = _profile_args(rng)
        nan_padded = loss.copy()
        nan_padded[::3] = np.nan
        where = np.isfinite(nan_padded)
        ends = np.where(np.arange(N) % 2 == 0, 0.1, 10.0)
        return [
            Case((loss, sigma), dict(_PROFILE), where=np.zeros(N, bool), label="all masked"),
            Case((loss, np.full(N, 0.5)), dict(_PROFILE), label="one occupied bin (empty bins NaN)"),
            Case((nan_padded, sigma), dict(_PROFILE, out_of_range="drop"), where=where,
                 label="out-of-range sigma dropped, NaN losses masked"),
            Case((loss, ends), dict(_PROFILE), label="sigma exactly at sigma_min / sigma_max"),
        ]

    def bad(rng):
        loss, sigma = _profile_args(rng)
        return [
            (Case((loss, sigma[:-1]), dict(_PROFILE)), "sigma"),
            (Case((np.float64(1.0), sigma), dict(_PROFILE)), "loss"),
            (Case((loss, sigma), dict(_PROFILE, num_bins=0)), "num_bins"),
            (Case((loss, sigma), dict(_PROFILE, sigma_max=0.1)), "sigma_max"),
            (Case((loss, sigma), dict(_PROFILE, out_of_range="wrap")), "out_of_range"),
            (Case((loss, sigma), dict(_PROFILE), weights=np.ones((N, 2))), "weights"),
        ]

    return Spec(make=make, edges=edges, bad=bad)


SPECS = {
    "denoising_score_matching_loss": _loss_spec(),
    "dsm_profile": _profile_spec(),
}
