"""Independent, loop-based reference for rank-biased overlap (tests only; no JAX, no vectorisation).

Written from the definitions of Webber, Moffat & Zobel (2010), "A similarity measure for indefinite
rankings", ACM TOIS 28(4) — not from jaxmetrics' code (which uses a histogram of max positions):

* the overlap at depth d is X_d = |S_{:d} ∩ T_{:d}| (set intersection of the two depth-d prefixes),
  the agreement A_d = X_d / d;
* eq. 7 truncated at depth k: RBO@k = (1 − p) Σ_{d=1}^{k} p^{d−1} A_d;
* eq. 32 (RBO_ext for lists L, S of lengths l ≥ s; eq. 30 when l = s = k):

      RBO_ext = (1 − p)/p · ( Σ_{d=1}^{l} X_d/d · p^d + Σ_{d=s+1}^{l} X_s (d − s)/(s d) · p^d )
                + ( (X_l − X_s)/l + X_s/s ) · p^l

  where, for d > s, X_d counts the overlap of L_{:d} with all of S.

The PyPI ``rbo`` package pins numpy < 2 and is therefore not used.
"""

from __future__ import annotations

import numpy as np


def ranking(scores, valid=None):
    """Item indices by descending score, ties by ascending index (stable), valid items only."""
    scores = np.asarray(scores, dtype=np.float64)
    n = len(scores)
    valid = np.ones(n, bool) if valid is None else np.asarray(valid, bool)
    items = [i for i in range(n) if valid[i]]
    return sorted(items, key=lambda i: (-scores[i], i))


def overlap(s, t, d):
    """X_d = |S_{:d} ∩ T_{:d}| by explicit sets."""
    return len(set(s[:d]) & set(t[:d]))


def rbo_truncated(s, t, p, k):
    """Eq. 7 summed to depth k (k <= the shorter list's length)."""
    total = 0.0
    for d in range(1, k + 1):
        total += p ** (d - 1) * overlap(s, t, d) / d
    return (1 - p) * total


def rbo_ext(s, t, p, k=None):
    """Eq. 32 on the top-k prefixes of s and t (the longer one as L); eq. 30 when lengths are equal."""
    if k is not None:
        s, t = list(s)[:k], list(t)[:k]
    big, small = (list(s), list(t)) if len(s) >= len(t) else (list(t), list(s))
    l, sl = len(big), len(small)
    if sl == 0:
        return 0.0
    x = {}
    for d in range(1, l + 1):
        x[d] = len(set(big[:d]) & set(small[: min(d, sl)]))
    first = sum(x[d] / d * p**d for d in range(1, l + 1))
    second = sum(x[sl] * (d - sl) / (sl * d) * p**d for d in range(sl + 1, l + 1))
    return (1 - p) / p * (first + second) + ((x[l] - x[sl]) / l + x[sl] / sl) * p**l


def rbo_scores(scores_a, scores_b, valid=None, *, p=0.9, k=None, extrapolate=False):
    """RBO of the rankings induced by two score vectors over the same (valid) items; depth = k clipped
    to the number of valid items (all of them for k=None); 0 when there is no valid item."""
    s, t = ranking(scores_a, valid), ranking(scores_b, valid)
    n = len(s)
    if n == 0:
        return 0.0
    depth = n if k is None else min(k, n)
    if extrapolate:
        return rbo_ext(s, t, p, depth)
    return rbo_truncated(s, t, p, depth)
