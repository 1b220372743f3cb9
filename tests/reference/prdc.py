"""Numpy references for the k-NN manifold metrics (jaxmetrics.diversity.manifold).

* :func:`prdc` — precision, recall, density, coverage with ``k`` and ``strict`` (``<`` as the ``prdc``
  package, ``<=`` as torch-fidelity), written from the definitions of Naeem et al. (2020) with explicit
  (not Gram-expanded) distances, so that exact ties and duplicates are exact.
* :func:`manifold_radii` / :func:`manifold_membership` / :func:`realism` — a port of Kynkäänniemi et al.'s
  ``ManifoldEstimator`` (NVlabs improved-precision-recall code): squared distances, the radius is the
  (k+1)-th smallest squared distance of a row including the point itself, membership ``d² <= r²``,
  ``clamp_to_percentile`` sets radii above the percentile to 0, realism = max_r r² / (d² + eps).

No masks: tests compare the masked jaxmetrics call with these functions on the unmasked subset.
"""

from __future__ import annotations

import numpy as np


def squared_distances(x, y):
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)


def manifold_radii(x, k):
    """Squared distance to the k-th nearest neighbour excluding self (index k of the sorted row)."""
    return np.partition(squared_distances(x, x), k, axis=1)[:, k]


def prdc(real, fake, k=5, strict=True):
    """Returns (precision, recall, density, coverage) as floats."""
    lt = np.less if strict else np.less_equal
    rr = manifold_radii(real, k)
    rf = manifold_radii(fake, k)
    d = squared_distances(real, fake)  # [N, M]
    in_real = lt(d, rr[:, None])
    precision = in_real.any(axis=0).mean()
    recall = lt(d, rf[None, :]).any(axis=1).mean()
    density = in_real.sum(axis=0).mean() / k
    coverage = lt(d.min(axis=1), rr).mean()
    return float(precision), float(recall), float(density), float(coverage)


def manifold_membership(ref, probe, k=3):
    """Fraction of ``probe`` inside the union of the ``ref`` k-NN balls (<=): improved precision when
    ref = real and probe = fake, improved recall when swapped."""
    r = manifold_radii(ref, k)
    d = squared_distances(probe, ref)
    return float((d <= r[None, :]).any(axis=1).mean())


def realism(real, fake, k=3, clamp_to_percentile=50.0, eps=1e-5, squared=True):
    """Per-fake realism score. ``squared=True``: the reference code (max r² / (d² + eps)); ``False``: the
    paper's ratio of distances, max r / (d + eps)."""
    r = manifold_radii(real, k)
    if clamp_to_percentile is not None:
        r = np.where(r > np.percentile(r, clamp_to_percentile), 0.0, r)
    d = squared_distances(fake, real)
    if not squared:
        r, d = np.sqrt(r), np.sqrt(d)
    return (r[None, :] / (d + eps)).max(axis=1)
