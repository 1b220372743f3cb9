"""Independent numpy references for the representation spectra (tests only; float64, no JAX).

Written from the definitions in METRICS.md §6 (not from jaxmetrics' code, which uses weighted
sufficient statistics, a Gram-matrix path, a trace-form PR and masks instead of row selection):

* RankMe / effective rank (Roy & Vetterli): singular values of the (optionally centred) rows by
  ``numpy.linalg.svd``; p_k = v_k/Σv + ε with v = σ or σ²; exp(−Σp ln p), or the entropy / ln K.
* NerVE: Σ = ``numpy.cov(X, rowvar=False, ddof=1)`` (or with ``aweights`` for weighted rows), λ by
  ``numpy.linalg.eigvalsh`` sorted descending, clamped ≥ 1e-12, λ̂ = λ/Σλ; SE, EEE and PR from λ̂ / λ
  in their eigenvalue forms; JS with ``scipy.spatial.distance.jensenshannon`` (squared, base e).
* α-ReQ: log-log least squares of the covariance eigenvalues over a rank window with
  ``numpy.polyfit`` (weights 1/i for reptrix's ``get_powerlaw``; polyfit's ``w`` multiplies the
  residuals, so it receives √v).

Rows must be selected by the caller (masked rows removed, integer weights expanded by repetition)
except where ``aweights`` is taken.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import jensenshannon

FLOOR = 1e-12


def rankme(X, *, squared=False, center=False, eps=1e-7, normalize_by_log_dim=False):
    X = np.asarray(X, np.float64)
    if center:
        X = X - X.mean(axis=0)
    s = np.linalg.svd(X, compute_uv=False)
    v = s**2 if squared else s
    if v.sum() == 0:
        return 0.0
    p = v / v.sum() + eps
    nz = p > 0
    h = -np.sum(p[nz] * np.log(p[nz]))
    if normalize_by_log_dim:
        return h / np.log(len(s)) if len(s) > 1 else np.nan
    return float(np.exp(h))


def covariance_eigenvalues(X, *, ddof=1, aweights=None):
    """Descending eigenvalues of numpy.cov (unclamped)."""
    X = np.asarray(X, np.float64)
    cov = np.atleast_2d(np.cov(X, rowvar=False, ddof=ddof, aweights=aweights))
    return np.linalg.eigvalsh(cov)[::-1]


def nerve_spectrum(X, *, ddof=1, floor=FLOOR, aweights=None):
    lam = np.maximum(covariance_eigenvalues(X, ddof=ddof, aweights=aweights), floor)
    return lam / lam.sum()


def spectral_entropy(X, **kw):
    p = nerve_spectrum(X, **kw)
    return float(-np.sum(p * np.log(p)))


def eigenvalue_early_enrichment(X, **kw):
    p = nerve_spectrum(X, **kw)
    d = len(p)
    c = np.cumsum(p)
    return float(np.clip(np.sum(c - np.arange(1, d + 1) / d) / (d / 2), 0.0, 1.0))


def participation_ratio(X, *, ddof=1, aweights=None, **_):
    lam = np.clip(covariance_eigenvalues(X, ddof=ddof, aweights=aweights), 0.0, None)
    return float(lam.sum() ** 2 / np.sum(lam**2))


def spectral_jensen_shannon(X_pre, X_post, **kw):
    p, q = nerve_spectrum(X_pre, **kw), nerve_spectrum(X_post, **kw)
    n = max(len(p), len(q))
    p, q = np.pad(p, (0, n - len(p))), np.pad(q, (0, n - len(q)))
    return float(jensenshannon(p, q) ** 2)


def alpha_req(X, *, start=1, stop=None, weighting="uniform", rtol=None):
    X = np.asarray(X, np.float64)
    n, d = X.shape
    lam = covariance_eigenvalues(X)
    rtol = d * np.finfo(np.float64).eps if rtol is None else rtol
    i = np.arange(1, d + 1)
    keep = (i >= start) & (i <= (stop or d)) & (i <= n - 1) & (lam > rtol * lam[0])
    if keep.sum() < 2:
        return np.nan
    v = 1.0 / i[keep] if weighting == "inverse_rank" else np.ones(keep.sum())
    slope, _ = np.polyfit(np.log(i[keep]), np.log(lam[keep]), 1, w=np.sqrt(v))
    return float(-slope)


def reptrix_powerlaw(eigen, trange):
    """reptrix.alpha.get_powerlaw's α (Stringer–Pachitariu form), restated: the weighted normal
    equations of y = −α·ln(i) + c with weights 1/i on 0-based indices ``trange``."""
    y = np.log(np.abs(eigen))[trange]
    i = np.asarray(trange) + 1.0
    x = np.stack([-np.log(i), np.ones_like(i)], axis=1)
    w = 1.0 / i
    b = np.linalg.solve(x.T @ (x * w[:, None]), (x * w[:, None]).T @ y)
    return float(b[0])
