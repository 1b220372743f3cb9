"""Independent numpy references for jaxmetrics.distances.divergences (tests only; float64, no JAX).

Written from the definitions (METRICS.md §9.2, §9.5, §9.6, §9.8), not from the library's code, which
uses masks, a series form of Jensen–Shannon, cosine/sine parts and a sorted cumulative-sum KS:

* TV, Hellinger, Bhattacharyya as plain numpy sums on (already selected) categories;
* Jensen–Shannon in 50-digit decimal arithmetic (``decimal``), for nearly equal distributions;
* the empirical characteristic function with complex exponentials ``numpy.exp(1j·X Tᵀ)``, the NCFD
  amplitude/phase terms with ``numpy.abs``/``numpy.angle``;
* the biased (V-statistic) MMD² with an explicit n×m kernel (Gaussian, or the random-feature kernel
  mean_t cos⟨t, x − y⟩);
* the KS p-value as ``scipy.stats.kstwobign.sf`` of Stephens' λ.
Weighted sets take normalised weights; masked samples must be removed by the caller.
"""

from __future__ import annotations

import decimal

import numpy as np
from scipy.stats import kstwobign


def total_variation(p, q):
    return 0.5 * np.abs(np.asarray(p, np.float64) - np.asarray(q, np.float64)).sum(-1)


def hellinger(p, q, squared=False):
    h2 = 0.5 * ((np.sqrt(np.asarray(p, np.float64)) - np.sqrt(np.asarray(q, np.float64))) ** 2).sum(-1)
    return h2 if squared else np.sqrt(h2)


def bhattacharyya_coefficient(p, q):
    return np.sqrt(np.asarray(p, np.float64) * np.asarray(q, np.float64)).sum(-1)


def bhattacharyya(p, q):
    with np.errstate(divide="ignore"):
        return -np.log(bhattacharyya_coefficient(p, q))


def jensen_shannon_decimal(p, q, digits=50):
    """JS divergence (natural log) of one pair of vectors in ``digits``-digit decimal arithmetic."""
    ctx = decimal.Context(prec=digits)
    total = decimal.Decimal(0)
    for a, b in zip(np.asarray(p, np.float64).tolist(), np.asarray(q, np.float64).tolist()):
        a, b = decimal.Decimal(a), decimal.Decimal(b)  # exact binary values
        m = ctx.divide(ctx.add(a, b), 2)
        for v in (a, b):
            if v > 0:
                total = ctx.add(total, ctx.multiply(v, ctx.ln(ctx.divide(v, m))))
    return float(ctx.divide(total, 2))


def ecf(x, t, w=None):
    """φ(t_j) = Σ_i w_i exp(i⟨t_j, x_i⟩) / Σ w_i, complex ``[k]``."""
    x = np.asarray(x, np.float64)
    w = np.ones(len(x)) if w is None else np.asarray(w, np.float64)
    return (w[:, None] * np.exp(1j * x @ np.asarray(t, np.float64).T)).sum(0) / w.sum()


def characteristic_function_distance(x, y, t, wx=None, wy=None, alpha=None):
    fx, fy = ecf(x, t, wx), ecf(y, t, wy)
    if alpha is None:
        return float(np.mean(np.abs(fx - fy) ** 2))
    amplitude = (np.abs(fx) - np.abs(fy)) ** 2
    phase = 2 * np.abs(fx) * np.abs(fy) * (1 - np.cos(np.angle(fx) - np.angle(fy)))
    return float(np.mean(alpha * amplitude + (1 - alpha) * phase))


def biased_mmd2(x, y, kernel, wx=None, wy=None):
    """V-statistic MMD² = E k(x,x') + E k(y,y') − 2 E k(x,y) with (normalised) sample weights."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    wx = np.full(len(x), 1 / len(x)) if wx is None else np.asarray(wx, np.float64) / np.sum(wx)
    wy = np.full(len(y), 1 / len(y)) if wy is None else np.asarray(wy, np.float64) / np.sum(wy)
    kxx = np.array([[kernel(a, b) for b in x] for a in x])
    kyy = np.array([[kernel(a, b) for b in y] for a in y])
    kxy = np.array([[kernel(a, b) for b in y] for a in x])
    return float(wx @ kxx @ wx + wy @ kyy @ wy - 2 * wx @ kxy @ wy)


def gaussian_kernel(scale):
    return lambda a, b: np.exp(-(scale ** 2) * np.sum((a - b) ** 2) / 2)


def cosine_feature_kernel(t):
    t = np.asarray(t, np.float64)
    return lambda a, b: np.mean(np.cos(t @ (a - b)))


def ks_pvalue(statistic, n, m):
    """Stephens-corrected asymptotic two-sided p-value, kstwobign.sf((√nₑ + 0.12 + 0.11/√nₑ)·D)."""
    en = np.sqrt(n * m / (n + m))
    return float(kstwobign.sf((en + 0.12 + 0.11 / en) * statistic))
