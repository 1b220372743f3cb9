"""Independent numpy references for MMD² and KID (tests only; float64, no JAX).

Written from METRICS.md §9.2 and torch-fidelity's ``mmd2`` / ``kid`` (not from jaxmetrics' code, which
uses chunked weighted row sums): kernel matrices come from scikit-learn (``rbf_kernel``,
``polynomial_kernel``, ``linear_kernel``; the Euclidean Laplacian and IMQ kernels in numpy), the median
heuristic from ``scipy.spatial.distance.pdist``. Masked samples must be removed by the caller.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import pdist
from sklearn.metrics.pairwise import linear_kernel, polynomial_kernel, rbf_kernel


def median_bandwidth(x, y=None, sample_size=1000):
    """median{‖z_i − z_j‖, i < j} of the pooled sample, on ⌊i·n/k⌋ rows (k = sample_size // 2) per set."""
    sets = [np.asarray(x, np.float64)] + ([] if y is None else [np.asarray(y, np.float64)])
    half = sample_size if y is None else sample_size // 2
    rows = []
    for s in sets:
        k = min(len(s), half)
        rows.append(s[(np.arange(k) * len(s)) // k])
    med = float(np.median(pdist(np.concatenate(rows))))
    return med if med > 0 else 1.0


def kernel(a, b, name, *, bandwidth=1.0, degree=3, gamma=None, coef0=1.0, beta=0.5):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if name == "rbf":
        return rbf_kernel(a, b, gamma=1.0 / (2.0 * bandwidth**2))
    if name == "laplacian":  # sklearn's laplacian kernel is exp(-gamma * L1); ours is Euclidean
        d = np.sqrt(np.maximum(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1), 0))
        return np.exp(-d / bandwidth)
    if name == "imq":
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return (bandwidth**2 + d2) ** (-beta)
    if name == "polynomial":
        return polynomial_kernel(a, b, degree=degree, gamma=gamma, coef0=coef0)  # gamma None -> 1/d
    if name == "linear":
        return linear_kernel(a, b)
    raise ValueError(name)


def mmd2_from_kernels(kxx, kyy, kxy, estimator="unbiased"):
    """torch-fidelity's ``mmd2`` (``"unbiased"``: diagonals excluded, cross term / (n·m)) and the V-statistic."""
    n, m = kxx.shape[0], kyy.shape[0]
    if estimator == "biased":
        return float(kxx.mean() + kyy.mean() - 2.0 * kxy.mean())
    sxx = (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
    syy = (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(sxx + syy - 2.0 * kxy.sum() / (n * m))


def mmd2(x, y, name="rbf", estimator="unbiased", bandwidth=None, **params):
    if bandwidth is None:
        bandwidth = median_bandwidth(x, y)
    k = lambda a, b: kernel(a, b, name, bandwidth=bandwidth, **params)  # noqa: E731
    return mmd2_from_kernels(k(x, x), k(y, y), k(x, y), estimator)


def weighted_mmd2(x, y, wx, wy, name="rbf", estimator="unbiased", bandwidth=1.0, **params):
    """The weighted U/V statistic: Σ_{i≠j} w_i w_j k_ij / Σ_{i≠j} w_i w_j (U) or w'Kw / W² (V)."""
    k = lambda a, b: kernel(a, b, name, bandwidth=bandwidth, **params)  # noqa: E731
    wx, wy = np.asarray(wx, np.float64), np.asarray(wy, np.float64)

    def within(kk, w):
        outer = np.outer(w, w)
        if estimator == "unbiased":
            np.fill_diagonal(outer, 0.0)
        return (outer * kk).sum() / outer.sum()

    return float(within(k(x, x), wx) + within(k(y, y), wy) - 2.0 * (np.outer(wx, wy) * k(x, y)).sum()
                 / (wx.sum() * wy.sum()))


def kid(x, y, idx_x, idx_y, degree=3, gamma=None, coef0=1.0):
    """torch-fidelity's KID loop on given subset indices ``[S, s]``: (mean, std with ddof 0)."""
    vals = []
    for i, j in zip(np.asarray(idx_x), np.asarray(idx_y)):
        a, b = np.asarray(x, np.float64)[i], np.asarray(y, np.float64)[j]
        k = lambda p, q: polynomial_kernel(p, q, degree=degree, gamma=gamma, coef0=coef0)  # noqa: E731
        vals.append(mmd2_from_kernels(k(a, a), k(b, b), k(a, b), "unbiased"))
    vals = np.asarray(vals)
    return float(vals.mean()), float(vals.std())
