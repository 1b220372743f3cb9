"""numpy reference for the Vendi score (METRICS.md §8.1), independent of jaxmetrics and of vendi-score.

* eigen form: λ = numpy.linalg.eigvalsh(K ∘ √p√pᵀ) with λ ≤ 0 dropped (vendi-score's convention),
  VS_q = (Σ λ^q)^{1/(1−q)}, exp(−Σ λ log λ) at q = 1, 1/λ_max at q = ∞;
* q = 0: ``numpy.linalg.matrix_rank`` (tolerance σ_max·n·eps, the one jaxmetrics documents);
* trace form for integer q ≥ 2: Σ λ^q = tr(K̃^q) (``numpy.linalg.matrix_power``), no eigendecomposition.
"""

from __future__ import annotations

import numpy as np


def weighted_kernel(K, p=None):
    K = np.asarray(K, np.float64)
    n = K.shape[0]
    p = np.full(n, 1.0 / n) if p is None else np.asarray(p, np.float64) / np.sum(p)
    s = np.sqrt(p)
    return K * np.outer(s, s)


def vendi(K, q=1.0, p=None, form="eigen"):
    """VS_q of a kernel matrix ``K [n, n]`` with prevalences ``p`` (uniform by default)."""
    kt = weighted_kernel(K, p)
    kt = 0.5 * (kt + kt.T)
    if q == 0:
        return float(np.linalg.matrix_rank(kt, hermitian=True))
    if form == "trace":
        assert float(q).is_integer() and q >= 2
        s = np.trace(np.linalg.matrix_power(kt, int(q)))
        return float(s ** (1.0 / (1.0 - q)))
    lam = np.linalg.eigvalsh(kt)
    if np.isinf(q):
        return float(1.0 / lam.max())
    lam = lam[lam > 0]
    if q == 1:
        return float(np.exp(-np.sum(lam * np.log(lam))))
    return float(np.sum(lam**q) ** (1.0 / (1.0 - q)))


def cosine_kernel(X):
    X = np.asarray(X, np.float64)
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    return U @ U.T


def rbf_kernel(X, bandwidth):
    X = np.asarray(X, np.float64)
    d2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    return np.exp(-d2 / (2.0 * bandwidth**2))


def cosine_entropy_via_svd(X):
    """exp-entropy of the squared singular values of the row-normalised X, divided by n (§8.1)."""
    X = np.asarray(X, np.float64)
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    lam = np.linalg.svd(U, compute_uv=False) ** 2 / X.shape[0]
    lam = lam[lam > 0]
    return float(np.exp(-np.sum(lam * np.log(lam))))
