r"""k-NN manifold metrics: precision, recall, density and coverage (PRDC), improved precision/recall and
the per-sample realism score.

**Shapes and argument order.** ``real [..., N, d]`` and ``fake [..., M, d]`` (generated) feature sets, in
the order of the ``prdc`` package (``compute_prdc(real_features, fake_features)``; torch-fidelity's
``input1`` is the *generated* set — pass it as ``fake``). Leading axes are batch axes and broadcast
between the two sets. Every function here is one-shot (k-NN radii need the whole set; no sufficient
statistics), jit-able, and ``vmap``-able.

**k-NN balls.** The radius of a sample is the distance to its k-th nearest neighbour *in its own set*,
excluding the sample itself (one copy of it: an exact duplicate is a neighbour at distance 0), so
``N > k`` and ``M > k`` are required. With ``d_ij = ‖real_i − fake_j‖``, r_i the real radii and s_j the
fake radii (METRICS.md §9.3)::

    precision = mean_j 1[∃i: d_ij ≺ r_i]              (fake samples inside the real manifold)
    recall    = mean_i 1[∃j: d_ij ≺ s_j]              (real samples inside the fake manifold)
    density   = (1/k) · mean_j Σ_i 1[d_ij ≺ r_i]      (can exceed 1)
    coverage  = mean_i 1[min_j d_ij ≺ r_i]            (real balls that contain a fake sample)

``≺`` is ``<`` with ``strict=True`` (the ``prdc`` package, Naeem et al. 2020; k = 5) and ``≤`` with
``strict=False`` (torch-fidelity and Kynkäänniemi et al.'s reference code; k = 3). Consequence of
``<``: a sample with ≥ k exact duplicates has radius 0 and its ball contains nothing.

**Masks.** ``where_real [..., N]`` / ``where_fake [..., M]`` (bool) mask samples of one set; the shared
``where`` masks **both** sets (the library's two-sample convention, for paired padded batches; it must
broadcast to both sample shapes). A masked sample is exactly absent: it is neither a neighbour nor a
ball nor averaged over, even if it holds NaN/inf. There is no ``weights``: the k-th neighbour is a count
statistic, and frequency weights would make it a weighted k-NN that no reference implements.

**Undefined cases** (one answer, eager and jitted): a quantity whose balls come from a set with ≤ k
unmasked samples, or that averages over an empty set, is NaN — precision and density need > k real and
≥ 1 fake sample, recall > k fake and ≥ 1 real sample, coverage > k real samples (it is 0 when every
fake sample is masked). The per-sample realism score is 0 for masked fake samples (padding, like the
library's other per-sample outputs) and NaN everywhere when ≤ k real samples are unmasked.

**Numerics.** Squared distances from :func:`jaxmetrics._src.pairwise.squared_distances` (Gram expansion
on mean-centred inputs, accumulated in ≥ float32) are compared with squared radii — no square root.
Ties are resolved exactly when that computation is exact (e.g. small-integer features in float64 with a
dyadic mean); otherwise its absolute rounding ≈ ε·‖x − μ‖² (ε the float32/float64 machine epsilon) is
the resolution below which two distances, or a duplicate and a near-duplicate, are indistinguishable.
``prdc`` itself needs float64 input for the same reason.

**Gradients.** PRDC and improved precision/recall are piecewise constant: their gradients are exactly
zero (finite everywhere). :func:`realism_score` is differentiable almost everywhere.

**Memory and complexity.** O((N + M)²·d) time. With a static ``chunk_size`` the N×M, N×N and M×M
distance matrices are never materialised: rows of one set are processed ``chunk_size`` at a time
against all of the other (``lax.map``/``lax.scan``), so the peak temporary memory is
O(chunk_size·max(N, M)): at N = M = 50,000, d = 512, float32, ``chunk_size=1024`` XLA reports 588 MiB
of temporaries (three chunk × N blocks) where one N×N float32 matrix alone is 9.3 GiB
(``bench/memory_prdc.py``). ``chunk_size=None`` computes each matrix in one block. The k-th neighbour is
selected by k − 1 rounds of removing the row minimum (O(k·chunk_size·N) per block; on XLA:CPU much
faster than ``lax.top_k``, with the same values).

Oracles: ``prdc`` 0.2 ``compute_prdc`` (exact equality, float64) for ``strict=True``; a numpy port of
Kynkäänniemi et al.'s ``ManifoldEstimator`` with ``strict``/``k`` for the rest
(``tests/reference/prdc.py``).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxmetrics._src import checks, numerics, pairwise
from jaxmetrics._src.checks import _fail
from jaxmetrics._src.pairwise import map_row_chunks, scan_row_chunks
from jaxmetrics._src.registry import MetricInfo, register

Array = jax.Array

__all__ = [
    "PRDC",
    "PrecisionRecall",
    "improved_precision_recall",
    "prdc",
    "realism_score",
]


class PRDC(NamedTuple):
    """Precision, recall, density and coverage, each ``[...]``."""

    precision: Array
    recall: Array
    density: Array
    coverage: Array


class PrecisionRecall(NamedTuple):
    """Improved precision and recall (Kynkäänniemi et al. 2019), each ``[...]``."""

    precision: Array
    recall: Array


# --------------------------------------------------------------------------------------------------
# arguments


def _static_bool(fn, name, value):
    if not isinstance(value, (bool, np.bool_)):
        _fail(fn, f"argument `{name}` must be a static bool; got {value!r}.")
    return bool(value)


def _static_float(fn, name, value, lo, hi=math.inf):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        _fail(fn, f"argument `{name}` must be a static Python number; got {type(value).__name__} {value!r}.")
    value = float(value)
    if not (lo <= value <= hi):
        _fail(fn, f"argument `{name}` must be in [{lo}, {hi}]; got {value}.")
    return value


def _chunk(fn, chunk_size):
    return None if chunk_size is None else checks.check_static_int(fn, "chunk_size", chunk_size, 1)


def _inputs(fn, real, fake, k, where, where_real, where_fake, need_fake_k):
    """Checked, promoted, batch-broadcast sets with masked rows zeroed, and their bool masks."""
    real = pairwise.check_samples(fn, "real", real)
    fake = pairwise.check_samples(fn, "fake", fake, real.shape[-1], "real")
    if real.shape[-2] <= k:
        _fail(fn, f"argument `real` must have more than k = {k} samples [..., N > k, d] (the k-th nearest "
                  f"neighbour excludes the sample itself); got shape {real.shape}.")
    if need_fake_k and fake.shape[-2] <= k:
        _fail(fn, f"argument `fake` must have more than k = {k} samples [..., M > k, d] (the k-th nearest "
                  f"neighbour excludes the sample itself); got shape {fake.shape}.")
    try:
        batch = np.broadcast_shapes(real.shape[:-2], fake.shape[:-2])
    except ValueError as e:
        _fail(fn, f"argument `fake` must have leading (batch) axes that broadcast with those of `real` "
                  f"{real.shape[:-2]}; got shape {fake.shape}.", e)
    dtype = numerics.accumulation_dtype(real, fake)
    real = jnp.broadcast_to(real.astype(dtype), (*batch, *real.shape[-2:]))
    fake = jnp.broadcast_to(fake.astype(dtype), (*batch, *fake.shape[-2:]))

    def mask(shape, specific, name):
        keep = jnp.ones(shape, bool)
        for arg, arg_name in ((where, "where"), (specific, name)):
            if arg is not None:
                keep = keep & checks.broadcast_arg(fn, arg_name, arg, shape).astype(bool)
        return keep

    vr = mask(real.shape[:-1], where_real, "where_real")
    vf = mask(fake.shape[:-1], where_fake, "where_fake")
    zero = jnp.zeros((), dtype)
    return jnp.where(vr[..., None], real, zero), jnp.where(vf[..., None], fake, zero), vr, vf


def _batched(core, real, fake, vr, vf):
    """``core(real [N, d], fake [M, d], vr [N], vf [M])`` vmapped over the (broadcast) leading axes."""
    arrays = (real, fake, vr, vf)
    batch = real.shape[:-2]
    if not batch:
        return core(*arrays)
    flat = [a.reshape(-1, *a.shape[len(batch):]) for a in arrays]
    out = jax.vmap(core)(*flat)
    return jax.tree.map(lambda o: o.reshape(*batch, *o.shape[1:]), out)


# --------------------------------------------------------------------------------------------------
# k-NN radii and the cross pass (one problem: x [n, d], valid [n])


def _kth_smallest(d, k):
    """The k-th smallest entry of each row of ``d [c, n]``, counting repeated values (as ``lax.top_k``).

    k − 1 rounds of "remove one row minimum" (``argmin`` picks one copy of a repeated value) and a final
    ``min``: O(k·c·n) elementwise work. On XLA:CPU this is ~15× faster than ``lax.top_k`` (which sorts)
    for the k ≤ 10 used in practice, and it is cheap on accelerators too.
    """
    cols = jnp.arange(d.shape[-1])

    def remove_min(_, d):
        first = jnp.argmin(d, axis=-1)
        return jnp.where(cols == first[:, None], jnp.asarray(jnp.inf, d.dtype), d)

    return jnp.min(lax.fori_loop(0, k - 1, remove_min, d), axis=-1)


def _knn_radii2(x, valid, k, chunk_size):
    """Squared distance to the k-th nearest unmasked neighbour, excluding the sample itself.

    ``+inf`` when fewer than k neighbours are unmasked; ``-inf`` for masked samples (no ball).
    """
    n = x.shape[0]
    cols = jnp.arange(n)

    def rows(idx):
        d2 = pairwise.squared_distances(x[idx], x)
        drop = (idx[:, None] == cols[None, :]) | ~valid[None, :]
        return _kth_smallest(jnp.where(drop, jnp.asarray(jnp.inf, d2.dtype), d2), k)

    r2 = map_row_chunks(rows, cols, chunk_size=chunk_size)
    return jnp.where(valid, r2, -jnp.inf)


def _prdc_one(real, fake, vr, vf, *, k, strict, chunk_size):
    inside = jnp.less if strict else jnp.less_equal
    rr2 = _knn_radii2(real, vr, k, chunk_size)
    rf2 = _knn_radii2(fake, vf, k, chunk_size)
    m = fake.shape[0]

    def cross(counts, idx, row_ok):  # rows of real against all of fake
        d2 = pairwise.squared_distances(real[idx], fake)  # [c, M]
        in_real_ball = inside(d2, rr2[idx][:, None]) & vf[None, :] & row_ok[:, None]  # fake j in ball i
        in_fake_ball = inside(d2, rf2[None, :]) & vf[None, :]  # real i in ball j
        counts = counts + jnp.sum(in_real_ball, axis=0, dtype=jnp.int32)
        return counts, (jnp.any(in_fake_ball, axis=1), jnp.any(in_real_ball, axis=1))

    counts, (recalled, covered) = scan_row_chunks(
        cross, jnp.zeros((m,), jnp.int32), jnp.arange(real.shape[0]), chunk_size=chunk_size)
    dtype = real.dtype
    vr_f, vf_f = vr.astype(dtype), vf.astype(dtype)
    n_real, n_fake = vr_f.sum(), vf_f.sum()
    nan = jnp.asarray(jnp.nan, dtype)
    counts = counts.astype(dtype)  # masked fake samples have count 0
    precision = jnp.sum((counts > 0).astype(dtype)) / jnp.maximum(n_fake, 1)
    density = jnp.sum(counts) / (k * jnp.maximum(n_fake, 1))
    recall = jnp.sum(recalled.astype(dtype) * vr_f) / jnp.maximum(n_real, 1)
    coverage = jnp.sum(covered.astype(dtype) * vr_f) / jnp.maximum(n_real, 1)
    real_balls = (n_real > k) & (n_fake >= 1)
    return PRDC(
        precision=jnp.where(real_balls, precision, nan),
        recall=jnp.where((n_fake > k) & (n_real >= 1), recall, nan),
        density=jnp.where(real_balls, density, nan),
        coverage=jnp.where(n_real > k, coverage, nan),
    )


@functools.partial(jax.jit, static_argnames=("k", "strict", "chunk_size"))
def _prdc_core(real, fake, vr, vf, *, k, strict, chunk_size):
    one = functools.partial(_prdc_one, k=k, strict=strict, chunk_size=chunk_size)
    return _batched(one, real, fake, vr, vf)


def _prdc_checked(fn, real, fake, k, strict, chunk_size, where, where_real, where_fake):
    k = checks.check_static_int(fn, "k", k, 1)
    strict = _static_bool(fn, "strict", strict)
    chunk_size = _chunk(fn, chunk_size)
    real, fake, vr, vf = _inputs(fn, real, fake, k, where, where_real, where_fake, need_fake_k=True)
    # piecewise constant: the gradient is exactly 0, so AD need not trace (or compile) the passes
    real, fake = lax.stop_gradient(real), lax.stop_gradient(fake)
    return _prdc_core(real, fake, vr, vf, k=k, strict=strict, chunk_size=chunk_size)


# --------------------------------------------------------------------------------------------------
# public metrics


def prdc(real, fake, *, k: int = 5, strict: bool = True, chunk_size: int | None = None, where=None,
         where_real=None, where_fake=None) -> PRDC:
    r"""Precision, recall, density and coverage of generated samples w.r.t. real ones (k-NN balls).

    With r_i the distance from ``real_i`` to its k-th nearest real neighbour (itself excluded), s_j the
    same within ``fake``, d_ij = ‖real_i − fake_j‖ and ≺ = ``<`` (``strict``) or ``≤``:

    .. math::

        P = \frac1M\sum_j 1[\exists i: d_{ij} \prec r_i],\quad
        R = \frac1N\sum_i 1[\exists j: d_{ij} \prec s_j],\quad
        D = \frac{1}{kM}\sum_j\sum_i 1[d_{ij} \prec r_i],\quad
        C = \frac1N\sum_i 1[\min_j d_{ij} \prec r_i].

    Precision/density measure fidelity (fake samples on the real manifold; density counts how many real
    balls, so it rewards samples in dense real regions and can exceed 1), recall/coverage diversity.

    Args:
      real: real features ``[..., N, d]``, N > k.
      fake: generated features ``[..., M, d]``, M > k (leading axes broadcast with ``real``'s).
      k: static neighbourhood size (``prdc``/Naeem et al.: 5; torch-fidelity: 3).
      strict: static; ``True`` compares with ``<`` (the ``prdc`` package), ``False`` with ``≤``
        (torch-fidelity). Under ``<`` a sample with ≥ k exact duplicates has radius 0 and covers nothing.
      chunk_size: static rows per block; ``None`` computes each distance matrix in one block. Peak memory
        O(chunk_size·max(N, M)) instead of O(N·M).
      where: bool mask applied to **both** sets (sample shapes ``[..., N]`` and ``[..., M]``).
      where_real: bool mask ``[..., N]`` of real samples. where_fake: bool mask ``[..., M]`` of fake ones.
        A masked sample is absent (neither a neighbour, nor a ball, nor averaged).

    Returns:
      :class:`PRDC` ``(precision, recall, density, coverage)``, each ``[...]``; NaN where undefined
      (module docstring). Matches ``prdc.compute_prdc(real, fake, nearest_k=k)`` exactly for
      ``strict=True`` on float64 input (up to distance rounding at exact ties, module docstring).

    Complexity: O((N + M)²·d) time, O(chunk_size·max(N, M)) memory.

    Example:
      >>> real = jnp.array([[0.0], [1.0], [2.0], [3.0]])
      >>> fake = jnp.array([[0.5], [1.5], [9.0]])
      >>> p = prdc(real, fake, k=1)  # real radii 1; fake radii 1, 1 and 7.5 (an outlier's big ball)
      >>> print([round(float(v), 4) for v in p])
      [0.6667, 1.0, 1.3333, 0.75]
    """
    return _prdc_checked("prdc", real, fake, k, strict, chunk_size, where, where_real, where_fake)


def improved_precision_recall(real, fake, *, k: int = 3, strict: bool = False, chunk_size: int | None = None,
                              where=None, where_real=None, where_fake=None) -> PrecisionRecall:
    r"""Improved precision and recall (Kynkäänniemi et al. 2019): k-NN manifold membership of each set.

    precision = fraction of ``fake`` samples inside the union of the real k-NN balls,
    recall = fraction of ``real`` samples inside the union of the fake k-NN balls; a point is inside a
    ball when its distance is ``≤`` the ball's radius (the reference code and torch-fidelity; k = 3).
    These equal the precision and recall of :func:`prdc` with the same ``k``/``strict``, whose module
    docstring has the conventions, masks and undefined cases.

    Args:
      real: ``[..., N, d]``, N > k. fake: ``[..., M, d]``, M > k.
      k: static neighbourhood size (paper: 3). strict: static; ``False`` = ``≤`` (paper), ``True`` = ``<``.
      chunk_size: static rows per block (``None``: one block).
      where / where_real / where_fake: bool sample masks (both sets / ``[..., N]`` / ``[..., M]``).

    Returns:
      :class:`PrecisionRecall` ``(precision, recall)``, each ``[...]``. Oracle: a numpy port of the
      reference ``ManifoldEstimator`` (``tests/reference/prdc.py``).

    Complexity: as :func:`prdc`.

    Example:
      >>> real = jnp.array([[0.0], [1.0], [2.0], [3.0]])  # k = 1: real radii 1
      >>> fake = jnp.array([[0.25], [0.75], [9.0], [9.5]])  # fake radii 0.5
      >>> pr = improved_precision_recall(real, fake, k=1)  # 0.25, 0.75 in; real 0, 1 covered
      >>> print([round(float(v), 4) for v in pr])
      [0.5, 0.5]
    """
    out = _prdc_checked("improved_precision_recall", real, fake, k, strict, chunk_size, where, where_real,
                        where_fake)
    return PrecisionRecall(out.precision, out.recall)


def _realism_one(real, fake, vr, vf, *, k, percentile, squared, eps, chunk_size):
    dtype = real.dtype
    r2 = _knn_radii2(real, vr, k, chunk_size)
    n_real = jnp.sum(vr)
    finite = vr & jnp.isfinite(r2)
    if percentile is None:
        keep = finite
    else:
        threshold = jnp.nanpercentile(jnp.where(finite, lax.stop_gradient(r2), jnp.nan), percentile)
        keep = finite & (r2 <= threshold)
    r2_kept = jnp.where(keep, r2, jnp.zeros((), dtype))
    radius = r2_kept if squared else numerics.safe_sqrt(r2_kept)

    def rows(idx):  # rows of fake against all of real
        d2 = pairwise.squared_distances(fake[idx], real)  # [c, N]
        dist = d2 if squared else numerics.safe_sqrt(d2)
        den = dist + eps
        pos = den > 0  # only with eps = 0: r/0 = +inf (0 for a zero radius), with a finite gradient
        ratio = jnp.where(pos, radius[None, :] / jnp.where(pos, den, jnp.ones((), dtype)),
                          jnp.where(radius[None, :] > 0, jnp.asarray(jnp.inf, dtype), jnp.zeros((), dtype)))
        return jnp.max(jnp.where(keep[None, :], ratio, jnp.zeros((), dtype)), axis=1)

    score = map_row_chunks(rows, jnp.arange(fake.shape[0]), chunk_size=chunk_size)
    score = jnp.where(vf, score, jnp.zeros((), dtype))  # masked fake samples: 0 (padding)
    return jnp.where(n_real > k, score, jnp.asarray(jnp.nan, dtype))


@functools.partial(jax.jit, static_argnames=("k", "percentile", "squared", "eps", "chunk_size"))
def _realism_core(real, fake, vr, vf, *, k, percentile, squared, eps, chunk_size):
    one = functools.partial(_realism_one, k=k, percentile=percentile, squared=squared, eps=eps,
                            chunk_size=chunk_size)
    return _batched(one, real, fake, vr, vf)


def realism_score(real, fake, *, k: int = 3, prune_percentile: float | None = 50.0, squared: bool = False,
                  eps: float = 1e-5, chunk_size: int | None = None, where=None, where_real=None,
                  where_fake=None) -> Array:
    r"""Per-sample realism score of generated samples (Kynkäänniemi et al. 2019, §5).

    .. math::

        R(\phi_g) = \max_{r \in \text{kept}} \frac{\mathrm{NN}_k(\phi_r)}{\lVert\phi_g - \phi_r\rVert + \epsilon},

    with NN_k(φ_r) the distance from real sample φ_r to its k-th nearest real neighbour (itself
    excluded). R ≥ 1 means φ_g lies inside (the closure of) some kept real ball; it grows as φ_g
    approaches dense real regions. **Pruning:** the paper discards the real balls with the largest
    radii; ``prune_percentile=50`` (default, the reference code's ``clamp_to_percentile=50``) keeps the
    balls whose radius is ≤ the 50th percentile (numpy's linear interpolation) of the unmasked real
    radii; ``None`` keeps all. **Squared form:** the reference code (NVlabs ``ManifoldEstimator``)
    computes the ratio of *squared* distances, NN_k² / (‖φ_g − φ_r‖² + ε); ``squared=True`` returns
    exactly that (it is the square of the default score when ε = 0; the argmax is the same).

    Args:
      real: ``[..., N, d]``, N > k. fake: ``[..., M, d]`` (leading axes broadcast with ``real``'s).
      k: static neighbourhood size (paper: 3).
      prune_percentile: static percentile in [0, 100] of the real radii above which balls are
        discarded, or ``None`` (no pruning).
      squared: static; ratio of squared distances (reference code) instead of distances (paper).
      eps: static ε ≥ 0 added to the denominator (reference: 1e-5); with ε = 0 a fake sample equal to a
        kept real sample of positive radius scores +inf.
      chunk_size: static rows of ``fake`` per block (``None``: one block).
      where / where_real / where_fake: bool sample masks (both sets / ``[..., N]`` / ``[..., M]``).

    Returns:
      ``[..., M]``: one score per fake sample; 0 for masked fake samples (padding), NaN everywhere
      when ≤ k real samples are unmasked. Differentiable almost everywhere (a max of smooth ratios; the pruning
      and the neighbour choice are locally constant). Oracle: a numpy port of the reference
      ``ManifoldEstimator.evaluate(..., return_realism=True)`` (``tests/reference/prdc.py``).

    Complexity: O(N²·d + N·M·d) time, O(chunk_size·N) memory.

    Example:
      >>> real = jnp.array([[0.0], [1.0], [2.0], [4.0]])
      >>> fake = jnp.array([[1.0], [3.0]])
      >>> s = realism_score(real, fake, k=1, prune_percentile=None, eps=0.0)
      >>> print([round(float(v), 4) for v in s])  # radii 1, 1, 1, 2: 1/0 and max(2/1, 1/1)
      [inf, 2.0]
    """
    fn = "realism_score"
    k = checks.check_static_int(fn, "k", k, 1)
    if prune_percentile is not None:
        prune_percentile = _static_float(fn, "prune_percentile", prune_percentile, 0.0, 100.0)
    squared = _static_bool(fn, "squared", squared)
    eps = _static_float(fn, "eps", eps, 0.0)
    chunk_size = _chunk(fn, chunk_size)
    real, fake, vr, vf = _inputs(fn, real, fake, k, where, where_real, where_fake, need_fake_k=False)
    return _realism_core(real, fake, vr, vf, k=k, percentile=prune_percentile, squared=squared, eps=eps,
                         chunk_size=chunk_size)


# --------------------------------------------------------------------------------------------------
# registry

register(MetricInfo(
    name="prdc", family="diversity", fn=prdc, differentiable=False, higher_is_better=True, streaming=None,
    oracle="prdc 0.2 compute_prdc (exact, float64); numpy reference with strict/k (tests/reference/prdc.py)"))
register(MetricInfo(
    name="improved_precision_recall", family="diversity", fn=improved_precision_recall, differentiable=False,
    higher_is_better=True, streaming=None,
    oracle="numpy port of Kynkaanniemi et al.'s ManifoldEstimator (tests/reference/prdc.py); prdc 0.2 P/R"))
register(MetricInfo(
    name="realism_score", family="diversity", fn=realism_score, differentiable=True, higher_is_better=True,
    streaming=None,
    oracle="numpy port of the NVlabs ManifoldEstimator realism score (tests/reference/prdc.py)"))
