"""Independent numpy/scipy references for the Fréchet distance (tests only; float64, no JAX).

Written from METRICS.md §9.1, not from jaxmetrics' code (which uses weighted two-pass moments, an
``eigh`` square root with a custom derivative and masks):

* statistics: ``numpy.mean`` and ``numpy.cov(rowvar=False, ddof=...)`` (``fweights`` for integer
  frequency weights), as torchmetrics / pytorch-fid;
* trace term tr(Σ₁Σ₂)^{½} in the three forms of METRICS.md:
  (a) ``trace(scipy.linalg.sqrtm(Σ₁ @ Σ₂)).real`` (pytorch-fid; without its 1e-6 retry),
  (b) ``sum(sqrt(eigvals(Σ₁ @ Σ₂))).real`` (torchmetrics / torch-fidelity),
  (c) ``sum(sqrt(max(eigvalsh(Σ₁^½ Σ₂ Σ₁^½), 0)))`` with Σ₁^½ from ``eigh``.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg


def moments(x, *, ddof=1, fweights=None):
    x = np.asarray(x, np.float64)
    mu = np.average(x, axis=0, weights=fweights)
    cov = np.atleast_2d(np.cov(x, rowvar=False, ddof=ddof, fweights=fweights))
    return mu, cov


def _sqrt_psd(a):
    lam, v = np.linalg.eigh(a)
    return (v * np.sqrt(np.clip(lam, 0, None))) @ v.T


def trace_sqrt(c1, c2, form="c"):
    c1 = np.asarray(c1, np.float64)
    c2 = np.asarray(c2, np.float64)
    if form == "a":
        return float(np.trace(scipy.linalg.sqrtm(c1 @ c2)).real)
    if form == "b":
        return float(np.sqrt(np.linalg.eigvals(c1 @ c2).astype(complex)).sum().real)
    if form == "c":
        s1 = _sqrt_psd(c1)
        lam = np.linalg.eigvalsh(s1 @ c2 @ s1)
        return float(np.sqrt(np.clip(lam, 0, None)).sum())
    raise ValueError(form)


def frechet_from_moments(mu1, c1, mu2, c2, form="c"):
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(c1) + np.trace(c2) - 2.0 * trace_sqrt(c1, c2, form))


def frechet_distance(x, y, *, ddof=1, form="c", fweights_x=None, fweights_y=None):
    mu1, c1 = moments(x, ddof=ddof, fweights=fweights_x)
    mu2, c2 = moments(y, ddof=ddof, fweights=fweights_y)
    return frechet_from_moments(mu1, c1, mu2, c2, form)
