"""Independent numpy references for binned calibration errors (tests only; loops, no JAX).

Written from the libraries' documented behaviour, not from jaxmetrics' code:

* **torchmetrics** (``_binning_bucketize`` / ``_ce_compute``): edges ``linspace(0, 1, n + 1)``, bin
  ``bucketize(conf, edges, right=True) − 1`` (``np.digitize`` is the same rule), so bins are
  ``[e_b, e_{b+1})`` and conf = 1.0 lands in an extra bin n. Norms l1 / l2 / max; empty bins count 0.
* **netcal** (``_Miscalibration``): confidences clipped to ``[eps, 1 − eps]`` with
  ``eps = np.finfo(float).eps``; ``np.histogramdd`` / ``binned_statistic_dd`` bins, i.e. ``[e_b, e_{b+1})``
  with the last bin closed; ``equal_intervals=False`` takes ``np.quantile`` edges of the clipped
  confidences with the ends set to 0 and 1.
* **Kumar et al. 2019** (``uncertainty-calibration``'s ``unbiased_l2_ce``): per bin with >= 2 samples
  ``(acc − conf)² − acc(1 − acc)/(n − 1)``, bins with < 2 samples give 0, the mass-weighted sum is
  clipped at 0; marginal (classwise) CE = sqrt(mean over classes of the per-class squared CE).

Extensions shared with jaxmetrics' documented conventions (not in the libraries): per-sample weights
(weighted counts; the debiased term uses the effective size (Σw)²/Σw²), weighted quantiles (linear
interpolation in the cumulative weight before each sample — numpy's default for unit weights),
classwise l1 / max = mean over classes, all-masked input → NaN, confidences < 0 in the first bin.
"""

from __future__ import annotations

import bisect
from fractions import Fraction

import numpy as np

NETCAL_EPS = np.finfo(float).eps


def confidence_outcome_rows(probs, labels, mode):
    """List of ``(conf [N], outcome [N])`` pairs: one for top-label / binary, C for classwise."""
    probs = np.asarray(probs, np.float64)
    labels = np.asarray(labels)
    if probs.ndim == 1:
        assert mode in ("auto", "binary")
        return [(probs, (labels == 1).astype(np.float64))]
    if mode == "classwise":
        return [(probs[:, k], (labels == k).astype(np.float64)) for k in range(probs.shape[1])]
    conf = np.array([row.max() for row in probs])
    pred = np.array([int(np.argmax(row)) for row in probs])
    return [(conf, (pred == labels).astype(np.float64))]


def weighted_quantile_edges(conf, w, n_bins):
    """Equal-mass edges with exact (rational) quantile positions.

    Quantile j/n sits at cumulative weight ``T = (j/n)·W_{<last}`` (weight strictly before each sorted
    retained sample); for unit weights this is numpy's default ``np.quantile`` (virtual index
    ``(m − 1)·q``) except that the position is exact rather than ``(m − 1)·linspace(...)[j]`` in floats.
    """
    keep = w > 0
    order = np.argsort(conf[keep], kind="stable")
    x, ww = conf[keep][order], w[keep][order]
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    if len(x) == 0:
        return edges
    before = [Fraction(0)]
    for wi in ww[:-1]:
        before.append(before[-1] + Fraction(float(wi)))
    total = before[-1]
    for j in range(n_bins + 1):
        t = Fraction(j, n_bins) * total
        k = bisect.bisect_right(before, t) - 1
        nxt = min(k + 1, len(x) - 1)
        gamma = float((t - before[k]) / Fraction(float(ww[k])))
        a, b = x[k], x[nxt]
        edges[j] = b - (b - a) * (1 - gamma) if gamma >= 0.5 else a + (b - a) * gamma  # numpy's _lerp
    edges[0], edges[-1] = 0.0, 1.0
    return edges


def numpy_quantile_edges(conf, n_bins):
    """netcal's equal-mass edges verbatim: ``np.quantile(conf, np.linspace(0, 1, n + 1))``, ends 0 and 1."""
    edges = np.quantile(conf, np.linspace(0.0, 1.0, n_bins + 1))
    edges[0], edges[-1] = 0.0, 1.0
    return edges


def bin_statistics(conf, outcome, w, n_bins, convention="right_open", equal_intervals=True):
    """Per-bin ``(count, Σw·conf, Σw·outcome, Σw²)`` and the edges, by a plain loop over samples."""
    conf = np.asarray(conf, np.float64)
    if convention == "netcal":
        conf = np.clip(conf, NETCAL_EPS, 1.0 - NETCAL_EPS)
    edges = np.linspace(0.0, 1.0, n_bins + 1) if equal_intervals else weighted_quantile_edges(conf, w, n_bins)
    slots = n_bins + 1 if convention == "right_open" else n_bins
    count, sconf, sout, ssq, support = (np.zeros(slots) for _ in range(5))
    for c, o, wi in zip(conf, outcome, w):
        if wi == 0:
            continue
        b = int(np.digitize(c, edges)) - 1  # edges[b] <= c < edges[b + 1]
        b = min(max(b, 0), slots - 1)  # netcal: last bin closed; torchmetrics: c >= 1 -> extra bin
        count[b] += wi
        sconf[b] += wi * c
        sout[b] += wi * o
        ssq[b] += wi * wi
        support[b] += 1
    return (count, sconf, sout, ssq, support), edges


def row_error(stats, norm, debias=False):
    """ECE (l1), *squared* CE (l2) or MCE (max) of one row of bin statistics; NaN if empty."""
    count, sconf, sout, ssq, support = stats
    total = count.sum()
    if total == 0:
        return np.nan
    value = 0.0
    for n, sc, so, sq, m in zip(count, sconf, sout, ssq, support):
        if n == 0:
            continue
        acc, cf = so / n, sc / n
        gap = abs(acc - cf)
        if norm == "l1":
            value += n / total * gap
        elif norm == "max":
            value = max(value, gap)
        elif not debias:
            value += n / total * gap**2
        else:
            if m >= 2:  # Kumar et al.: bins with fewer than two samples contribute 0
                n_eff = n * n / sq
                value += n / total * (gap**2 - acc * (1 - acc) / (n_eff - 1))
    if norm == "l2" and debias:
        value = max(value, 0.0)
    return value


def calibration_error(probs, labels, *, n_bins=15, norm="l1", mode="auto", convention="right_open",
                      equal_intervals=True, weights=None, debias=False):
    """Calibration error with classwise aggregation (mean for l1 / max, RMS for l2)."""
    n = len(labels)
    w = np.ones(n) if weights is None else np.asarray(weights, np.float64)
    rows = [
        row_error(bin_statistics(c, o, w, n_bins, convention, equal_intervals)[0], norm, debias)
        for c, o in confidence_outcome_rows(probs, labels, mode)
    ]
    value = float(np.mean(rows))
    return float(np.sqrt(value)) if norm == "l2" else value


def reliability(probs, labels, *, n_bins=15, mode="auto", convention="right_open", equal_intervals=True,
                weights=None):
    """Per row: counts, mean confidences, accuracies (NaN when empty), edges (extra ``1.0`` for right-open)."""
    n = len(labels)
    w = np.ones(n) if weights is None else np.asarray(weights, np.float64)
    out = []
    for c, o in confidence_outcome_rows(probs, labels, mode):
        (count, sconf, sout, _, _), edges = bin_statistics(c, o, w, n_bins, convention, equal_intervals)
        with np.errstate(invalid="ignore", divide="ignore"):
            conf_mean = np.where(count > 0, sconf / np.where(count > 0, count, 1), np.nan)
            acc = np.where(count > 0, sout / np.where(count > 0, count, 1), np.nan)
        if convention == "right_open":
            edges = np.append(edges, 1.0)
        out.append((count, conf_mean, acc, edges))
    return out
