"""Independent numpy reference for the kernel Stein discrepancy (tests only; float64, no JAX).

Written from the definition u_p(x, y) = s(x)ᵀs(y)k + s(x)ᵀ∇_y k + s(y)ᵀ∇_x k + tr ∇_x∇_yᵀk
(Liu, Lee & Jordan 2016; Chwialkowski et al. 2016) with the gradients of the base kernel written out
term by term on the explicit pairwise difference tensor δ_ij = x_i − x_j (jaxmetrics instead expands
(s(x) − s(y))ᵀδ into matrix products and sums chunked rows). The closed forms here are themselves
checked against ``jax.grad``/``jax.jacfwd`` of the base kernel in ``tests/test_score_matching_stein.py``.
Weights are relative sample weights (V: Σ wᵢwⱼu/W²; U: Σ_{i≠j} wᵢwⱼu/(W² − Σw²)); masked samples are
removed by the caller.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import pdist


def median_bandwidth(x, sample_size=1000):
    """median{‖x_i − x_j‖, i < j} on the rows ⌊i·n/k⌋, k = min(n, sample_size); 1 when it is 0."""
    x = np.asarray(x, np.float64)
    k = min(len(x), sample_size)
    med = float(np.median(pdist(x[(np.arange(k) * len(x)) // k])))
    return med if med > 0 else 1.0


def base_kernel_terms(x, y, kernel, bandwidth=1.0, beta=0.5):
    """(k [n, m], ∇_x k [n, m, d], ∇_y k [n, m, d], tr ∇_x∇_yᵀ k [n, m]) from δ = x_i − y_j."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    d = x.shape[1]
    delta = x[:, None, :] - y[None, :, :]
    r2 = np.einsum("ijk,ijk->ij", delta, delta)
    if kernel == "rbf":
        h2 = bandwidth**2
        k = np.exp(-r2 / (2.0 * h2))
        grad_x = -delta / h2 * k[..., None]
        grad_y = -grad_x
        # ∂²k/∂x_l∂y_l = (1/h² − δ_l²/h⁴) k, summed over l
        trace = np.sum(1.0 / h2 - delta**2 / h2**2, axis=-1) * k
    elif kernel == "imq":
        q = bandwidth**2 + r2
        k = q ** (-beta)
        grad_x = -2.0 * beta * delta * (q ** (-beta - 1.0))[..., None]
        grad_y = -grad_x
        # ∂/∂x_l of 2β δ_l q^(−β−1) = 2β q^(−β−1) − 4β(β+1) δ_l² q^(−β−2), summed over l
        trace = np.sum(2.0 * beta * q[..., None] ** (-beta - 1.0)
                       - 4.0 * beta * (beta + 1.0) * delta**2 * q[..., None] ** (-beta - 2.0), axis=-1)
    else:
        raise ValueError(kernel)
    assert trace.shape == k.shape and d == delta.shape[-1]
    return k, grad_x, grad_y, trace


def stein_kernel(x, sx, y, sy, kernel, bandwidth=1.0, beta=0.5):
    """The dense Stein kernel matrix u_p(x_i, y_j) ``[n, m]``."""
    sx = np.asarray(sx, np.float64)
    sy = np.asarray(sy, np.float64)
    k, gx, gy, trace = base_kernel_terms(x, y, kernel, bandwidth, beta)
    return (sx @ sy.T) * k + np.einsum("id,ijd->ij", sx, gy) + np.einsum("jd,ijd->ij", sy, gx) + trace


def ksd(x, score, kernel="imq", bandwidth=1.0, beta=0.5, estimator="unbiased", weights=None):
    """KSD² (U- or V-statistic) of samples ``x [n, d]`` with target score values ``score [n, d]``."""
    x = np.asarray(x, np.float64)
    if bandwidth is None:
        bandwidth = median_bandwidth(x)
    u = stein_kernel(x, score, x, score, kernel, bandwidth, beta)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, np.float64)
    ww = np.outer(w, w)
    if estimator == "biased":
        return float(np.sum(ww * u) / w.sum() ** 2)
    off = ~np.eye(len(x), dtype=bool)
    return float(np.sum((ww * u)[off]) / (w.sum() ** 2 - np.sum(w * w)))


def wild_bootstrap(x, score, eps, kernel="imq", bandwidth=1.0, beta=0.5, estimator="unbiased"):
    """Rademacher wild-bootstrap replicates ``[B]`` for multipliers ``eps [n, B]`` (unit weights)."""
    x = np.asarray(x, np.float64)
    n = len(x)
    u = stein_kernel(x, score, x, score, kernel, bandwidth, beta)
    if estimator == "unbiased":
        u = u - np.diag(np.diag(u))
        norm = n * (n - 1)
    else:
        norm = n * n
    return np.einsum("ib,ij,jb->b", eps, u, eps) / norm
