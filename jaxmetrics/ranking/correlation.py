"""Correlation between two score vectors: Pearson (streaming, Chan merge), Spearman, Kendall tau-b.

**Layout.** ``x [..., N]`` and ``y [..., N]`` are paired samples; every function reduces over the last
axis N and leaves the leading axes as batch axes (``[B, N]`` inputs give ``[B]`` results, and
``jax.vmap`` just works). ``where [..., N]`` (bool, broadcastable) masks samples out; ``weights
[..., N]`` (non-negative, broadcastable) weight them — only :func:`pearson` supports weights. A sample
with ``where=False`` or weight 0 is left out entirely (its values may be NaN or inf padding).

**Undefined cases** have scipy's answer, NaN: fewer than two valid samples, or a constant ``x`` or ``y``
among the valid samples (zero variance), or — for Pearson — a non-finite valid value. Constancy is
detected *exactly* (the running minimum equals the running maximum), not by a variance threshold.
Gradients are finite everywhere, NaN results included (double-``where``).

**Streaming.** Pearson's state is the weighted co-moments ``(w, mean_x, mean_y, M2x, M2y, Cxy)`` (plus
the running min/max that detect constant and non-finite input), merged with Chan et al.'s pairwise
update, never ``Σx² − N·mean²``: it stays accurate for data with a large mean and a small spread.
The merge is associative (up to rounding), bit-exactly commutative, and ``init()`` is its exact
identity, so :func:`jaxmetrics.parallel.reduce_state` reduces it across devices by gather + fold.
Spearman and Kendall have no finite sufficient statistics and are one-shot only.

**Oracles.** ``scipy.stats.pearsonr``, ``scipy.stats.spearmanr`` and
``scipy.stats.kendalltau(variant="b")`` on the valid samples; weighted Pearson equals the correlation
of ``numpy.cov(x, y, aweights=weights)``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from jaxmetrics._src import checks, numerics
from jaxmetrics._src.metric import Metric, default_state_dtype
from jaxmetrics._src.registry import MetricInfo, register
from jaxmetrics._src.sortkeys import order_key, prefix_counts

Array = jax.Array

__all__ = [
    "PearsonState",
    "kendall_tau",
    "pearson",
    "pearson_metric",
    "spearman",
]

LAYOUT = "[..., N]"
_BIG_N = 2048  # kendall_tau: above this N the default chunk is _CHUNK rows
_CHUNK = 1024


# --------------------------------------------------------------------------------------------------
# Argument handling


def _check_pair(fn: str, x, y):
    """``x``, ``y`` ``[..., N]`` of one shape (rank >= 1), promoted to their accumulation dtype."""
    x, y = jnp.asarray(x), jnp.asarray(y)
    checks.check_min_rank(fn, "x", x, 1, LAYOUT)
    checks.check_same_shape(fn, "y", y, "x", x, LAYOUT)
    dtype = numerics.accumulation_dtype(x, y)
    return numerics.promote(x, dtype), numerics.promote(y, dtype)


def _mask(fn: str, where, shape: tuple) -> Array:
    if where is None:
        return jnp.ones(shape, bool)
    return checks.broadcast_arg(fn, "where", where, shape).astype(bool)


def _no_weights(fn: str, weights) -> None:
    if weights is not None:
        raise ValueError(
            f"jaxmetrics.{fn}: {fn} does not support weights (a rank correlation has no standard weighted "
            "form); pass weights=None and mask samples with `where`."
        )


# --------------------------------------------------------------------------------------------------
# Pearson: weighted co-moments with a Chan merge


class PearsonState(NamedTuple):
    """Weighted co-moments of the valid samples seen so far, each ``[...]`` (the batch axes).

    Attributes:
      weight: Σ w.
      mean_x, mean_y: *offset* weighted means, x̄ − shift_x and ȳ − shift_y, where the shift is the
        running minimum (``min_x``) when it is finite and 0 otherwise. Storing the means relative to
        an exact data value keeps the merge accurate when |x̄| ≫ the spread (e.g. x ≈ 1e8 ± 1e-3).
      m2x, m2y: Σ w (x − x̄)², Σ w (y − ȳ)².
      cxy: Σ w (x − x̄)(y − ȳ).
      min_x, max_x, min_y, max_y: running extremes (``±inf`` when empty; NaN once a NaN was seen). They
        detect constant input exactly (max == min) and non-finite input (an infinite or NaN extreme).
    """

    weight: Array
    mean_x: Array
    mean_y: Array
    m2x: Array
    m2y: Array
    cxy: Array
    min_x: Array
    max_x: Array
    min_y: Array
    max_y: Array


def _pearson_init(dtype=None, batch_shape=()) -> PearsonState:
    d = default_state_dtype(dtype)
    zero = jnp.zeros(batch_shape, d)
    inf = jnp.full(batch_shape, jnp.inf, d)
    return PearsonState(zero, zero, zero, zero, zero, zero, inf, -inf, inf, -inf)


def _shift(minimum: Array) -> Array:
    """The offset of the stored means: the running minimum when finite, else 0 (no gradient)."""
    return jnp.where(jnp.isfinite(minimum), minimum, jnp.zeros_like(minimum))


def _batch_state(x, y, w) -> PearsonState:
    """Co-moments of one batch: corrected two-pass (Chan, Golub & LeVeque 1983) on x − min(x), O(N).

    The per-sample terms are stacked so that the batch takes three reductions over N in all (the
    extremes, the first and the second pass), which keeps compilation cheap.
    """
    d = w.dtype
    zero = jnp.zeros((), d)
    inf = jnp.asarray(jnp.inf, d)
    keep = w != 0
    z = jnp.stack([x, y], axis=-2)  # [..., 2, N]
    zs = lax.stop_gradient(z)
    ext = jnp.where(keep[..., None, :], jnp.concatenate([zs, -zs], axis=-2), inf).min(-1)
    lo, hi = ext[..., :2], -ext[..., 2:]  # [..., 2]: (min_x, min_y), (max_x, max_y)
    # Non-finite values are excluded from the moments (so every gradient stays finite) but recorded
    # in the extremes, which make the result NaN.
    fin = keep & jnp.isfinite(x) & jnp.isfinite(y)
    wf = jnp.where(fin, w, zero)
    z0 = jnp.where(fin[..., None, :], z - _shift(lo)[..., None], zero)  # exact within a factor 2 of min
    first = jnp.concatenate([w[..., None, :], wf[..., None, :], wf[..., None, :] * z0], axis=-2).sum(-1)
    total = first[..., 1:2]
    mean = numerics.safe_div(first[..., 2:], total)  # [..., 2]
    dz = jnp.where(fin[..., None, :], z0 - mean[..., None], zero)
    wdz = wf[..., None, :] * dz
    second = jnp.concatenate([wdz, wdz * dz, wdz[..., :1, :] * dz[..., 1:, :]], axis=-2).sum(-1)
    s = second[..., :2]  # Σ w dz ≈ 0: the rounding error of the first pass, corrected below
    m2 = jnp.maximum(second[..., 2:4] - numerics.safe_div(s * s, total), zero)
    cxy = second[..., 4] - numerics.safe_div(s[..., 0] * s[..., 1], total[..., 0])
    mean = mean + numerics.safe_div(s, total)
    return PearsonState(first[..., 0], mean[..., 0], mean[..., 1], m2[..., 0], m2[..., 1], cxy,
                        lo[..., 0], hi[..., 0], lo[..., 1], hi[..., 1])


def _pearson_merge(a: PearsonState, b: PearsonState) -> PearsonState:
    """Chan et al. pairwise merge; bit-exactly commutative; an empty side returns the other unchanged."""
    min_x, max_x = jnp.minimum(a.min_x, b.min_x), jnp.maximum(a.max_x, b.max_x)
    min_y, max_y = jnp.minimum(a.min_y, b.min_y), jnp.maximum(a.max_y, b.max_y)
    sx, sy = _shift(min_x), _shift(min_y)
    # both offset means re-expressed relative to the merged shift (differences of data values near
    # each other are exact: Sterbenz)
    ax, bx = a.mean_x + (_shift(a.min_x) - sx), b.mean_x + (_shift(b.min_x) - sx)
    ay, by = a.mean_y + (_shift(a.min_y) - sy), b.mean_y + (_shift(b.min_y) - sy)
    total = a.weight + b.weight
    safe = jnp.where(total == 0, jnp.ones_like(total), total)
    dx, dy = bx - ax, by - ay
    h = a.weight * b.weight / safe
    merged = PearsonState(
        total,
        (a.weight * ax + b.weight * bx) / safe,
        (a.weight * ay + b.weight * by) / safe,
        (a.m2x + b.m2x) + h * dx * dx,
        (a.m2y + b.m2y) + h * dy * dy,
        (a.cxy + b.cxy) + h * dx * dy,
        min_x, max_x, min_y, max_y,
    )
    a_empty, b_empty = a.weight == 0, b.weight == 0
    return jax.tree.map(lambda ai, bi, mi: jnp.where(a_empty, bi, jnp.where(b_empty, ai, mi)), a, b, merged)


def _pearson_compute(s: PearsonState) -> Array:
    finite = jnp.isfinite(s.min_x) & jnp.isfinite(s.max_x) & jnp.isfinite(s.min_y) & jnp.isfinite(s.max_y)
    den = numerics.safe_sqrt(s.m2x) * numerics.safe_sqrt(s.m2y)
    ok = (s.weight > 0) & finite & (s.max_x > s.min_x) & (s.max_y > s.min_y) & (den > 0)
    r = s.cxy / jnp.where(ok, den, jnp.ones_like(den))
    return jnp.where(ok, jnp.clip(r, -1, 1), jnp.asarray(jnp.nan, r.dtype))


def pearson_metric() -> Metric:
    """Streaming :func:`pearson`: ``update(state, x, y, *, where=None, weights=None)``.

    The state is :class:`PearsonState` (weighted co-moments, not raw power sums), ``init(dtype=None,
    batch_shape=())`` gives an empty state whose scalars broadcast to the batch axes on the first
    ``update``. ``merge`` is Chan et al.'s pairwise update: associative up to rounding, commutative, and
    ``init()`` is its exact identity. It is not a tree-add, so across devices
    :func:`jaxmetrics.parallel.reduce_state` gathers the per-device states and folds them with ``merge``.

    Example:
      >>> m = pearson_metric()
      >>> s = m.update(m.init(), jnp.array([1.0, 2.0]), jnp.array([1.0, 3.0]))
      >>> s = m.merge(s, m.update(m.init(), jnp.array([3.0, 4.0]), jnp.array([2.0, 5.0])))
      >>> round(float(m.compute(s)), 4)
      0.8315
    """

    def update(state, x, y, *, where=None, weights=None):
        x, y = _check_pair("pearson", x, y)
        d = state.weight.dtype
        w = checks.sample_weights("pearson", x.shape, d, where, weights)
        return _pearson_merge(state, _batch_state(x.astype(d), y.astype(d), w))

    return Metric(_pearson_init, update, _pearson_merge, _pearson_compute)


def _pearson_one_shot(fn, x, y, where, weights):
    """``compute(update(init(dtype), x, y))`` without the (identity) merge with the empty state."""
    dtype = numerics.accumulation_dtype(x, y, weights)
    w = checks.sample_weights(fn, x.shape, dtype, where, weights)
    return _pearson_compute(_batch_state(x.astype(dtype), y.astype(dtype), w))


@jax.jit
def _pearson_core(x, y, where, weights):
    x, y = _check_pair("pearson", x, y)
    return _pearson_one_shot("pearson", x, y, where, weights)


def pearson(x, y, *, where=None, weights=None) -> Array:
    r"""Pearson correlation coefficient of paired samples (optionally weighted).

    r = Σ w (x − x̄)(y − ȳ) / sqrt(Σ w (x − x̄)² · Σ w (y − ȳ)²),  x̄ = Σ w x / Σ w,  ȳ likewise,

    over the valid samples (``where`` True and weight != 0). Differentiable: the gradient is the exact
    derivative of r, and finite (zero) where r is undefined.

    Args:
      x: scores ``[..., N]`` (any real dtype; bf16/f16/int accumulate in float32).
      y: scores ``[..., N]``, same shape as ``x``.
      where: bool sample mask broadcastable to ``[..., N]``.
      weights: non-negative sample weights broadcastable to ``[..., N]`` (frequency/reliability
        weights: only their ratios matter).

    Returns:
      ``[...]`` in [−1, 1]; NaN with fewer than two valid samples, a constant ``x`` or ``y`` among the
      valid samples, or a non-finite valid value.

    Matches ``scipy.stats.pearsonr(x[valid], y[valid]).statistic`` (unweighted, clipped to [−1, 1] like
    scipy) and the weighted correlation ``c[0, 1] / sqrt(c[0, 0] c[1, 1])`` of
    ``c = numpy.cov(x, y, aweights=weights)``. O(N); streaming via :func:`pearson_metric`.

    Example:
      >>> round(float(pearson(jnp.array([1.0, 2.0, 3.0, 4.0]), jnp.array([1.0, 3.0, 2.0, 5.0]))), 4)
      0.8315
    """
    return _pearson_core(x, y, where, weights)


# --------------------------------------------------------------------------------------------------
# Spearman: Pearson on average ranks


def _average_ranks(x, valid) -> Array:
    """Average 1-based ranks of ``x [..., N]`` among the entries where ``valid [..., N]`` is True.

    Ascending order; tied values share the mean of the positions they occupy (scipy's
    ``rankdata(method="average")`` on the valid entries); invalid entries get rank 0 and do not affect
    the others. No float sort and no payload sort (both slow on XLA:CPU): the integer order keys
    (:func:`~jaxmetrics._src.sortkeys.order_key`; invalid entries get the largest key) are sorted alone,
    each entry finds the first position of its value with ``searchsorted``, and the last position of
    that tie group is read from a per-group table (a prefix count and a scatter). O(N log N). The
    result is piecewise constant in ``x`` (no gradient flows through it) and has the accumulation dtype
    of ``x`` (at least float32). Values are ordered by their IEEE bits: ``-0.0 == 0.0``, NaN above
    ``+inf``, subnormals distinct from 0.
    """
    x = numerics.promote(x)
    valid = jnp.broadcast_to(jnp.asarray(valid, bool), x.shape)
    n = x.shape[-1]
    key = order_key(lax.stop_gradient(x))
    key = jnp.where(valid, key, jnp.iinfo(key.dtype).max)
    ranks = jax.vmap(_average_ranks_1d)(key.reshape(-1, n)).reshape(x.shape).astype(x.dtype)
    return jnp.where(valid, ranks, jnp.zeros((), x.dtype))


def _average_ranks_1d(key) -> Array:
    """Average 1-based ranks (float32, or float64 for int64 keys) of the integer keys ``[N]``."""
    n = key.shape[-1]
    i32 = jnp.int32
    s = jnp.sort(key)
    first = jnp.searchsorted(s, key, side="left", method="scan").astype(i32)  # first position of the value
    end = jnp.concatenate([s[1:] != s[:-1], jnp.ones((1,), bool)])  # a tie group's last position
    start = jnp.concatenate([jnp.ones((1,), bool), end[:-1]])
    group = prefix_counts([start])[0] - 1  # tie group of each sorted position
    idx = jnp.arange(n, dtype=i32)
    last_of_group = jnp.zeros((n,), i32).at[jnp.where(end, group, n)].set(idx, mode="drop")
    last = last_of_group[group[first]]
    dtype = jnp.float64 if key.dtype.itemsize == 8 else jnp.float32
    return (first + last).astype(dtype) / 2 + 1


@jax.jit
def _spearman_core(x, y, where):
    x, y = _check_pair("spearman", x, y)
    valid = _mask("spearman", where, x.shape)
    ranks = _average_ranks(jnp.stack([x, y]), jnp.stack([valid, valid]))  # one sort for both
    rx, ry = ranks[0], ranks[1]
    return _pearson_one_shot("spearman", rx, ry, valid, None)


def spearman(x, y, *, where=None, weights=None) -> Array:
    r"""Spearman rank correlation: Pearson's r of the average ranks of the valid samples.

    ρ = pearson(rank(x), rank(y)), with ``rank`` the average 1-based rank among the valid samples
    (ties share the mean of their positions; masked samples get no rank and are left out).

    Args:
      x: scores ``[..., N]``.
      y: scores ``[..., N]``, same shape as ``x``.
      where: bool sample mask broadcastable to ``[..., N]``.
      weights: must be None — spearman does not support weights (the keyword exists so that every
        correlation has the same call signature); a ValueError otherwise.

    Returns:
      ``[...]`` in [−1, 1]; NaN with fewer than two valid samples or all of ``x`` (or ``y``) tied.
      ±inf scores are ordinary (extreme) values.

    Matches ``scipy.stats.spearmanr(x[valid], y[valid]).statistic``. One-shot only (exact ranks have
    no finite streaming state). O(N log N): per argument, one sort of integer keys and one
    ``searchsorted`` (see ``_average_ranks``). Piecewise constant: the gradient is
    0 (finite); :func:`jaxmetrics.ranking.soft_spearman` is the differentiable twin.

    Example:
      >>> round(float(spearman(jnp.array([1.0, 2.0, 3.0, 4.0]), jnp.array([1.0, 3.0, 2.0, 50.0]))), 4)
      0.8
    """
    _no_weights("spearman", weights)
    return _spearman_core(x, y, where)


# --------------------------------------------------------------------------------------------------
# Kendall tau-b: chunked pairwise signs


def _sign(a, b) -> Array:
    return (a > b).astype(jnp.int32) - (a < b).astype(jnp.int32)


def _kendall_sums(x, y, valid, chunk: int) -> Array:
    """``[..., 3]``: Σ_{i,j} sx·sy, Σ_{i,j} [x_i ≠ x_j], Σ_{i,j} [y_i ≠ y_j] over valid ordered pairs.

    Rows are processed ``chunk`` at a time (``lax.map``), so memory is O(chunk · N) per problem.
    """
    n = x.shape[-1]
    d = x.dtype
    n_chunks = -(-n // chunk)

    def block(rows):
        xc, yc, vc = rows  # [..., chunk]
        xi, yi, vi = xc[..., :, None], yc[..., :, None], vc[..., :, None]
        xj, yj, vj = x[..., None, :], y[..., None, :], valid[..., None, :]
        pair = vi & vj
        zero = jnp.zeros((), jnp.int32)
        s = jnp.where(pair, _sign(xi, xj) * _sign(yi, yj), zero).sum(-1)
        tx = (pair & (xi != xj)).astype(jnp.int32).sum(-1)
        ty = (pair & (yi != yj)).astype(jnp.int32).sum(-1)
        per_row = jnp.stack([s, tx, ty], axis=-1).astype(d)  # row sums (<= N) are exact integers
        return per_row.sum(-2)

    if n_chunks == 1:
        return block((x, y, valid))
    pad = n_chunks * chunk - n
    widths = [(0, 0)] * (x.ndim - 1) + [(0, pad)]

    def rows(a):  # [..., N] -> [n_chunks, ..., chunk]
        a = jnp.pad(a, widths)
        a = a.reshape(a.shape[:-1] + (n_chunks, chunk))
        return jnp.moveaxis(a, -2, 0)

    return lax.map(block, (rows(x), rows(y), rows(valid))).sum(0)


def _default_chunk(n: int) -> int:
    return n if n <= _BIG_N else _CHUNK


def _kendall_core_impl(x, y, where, chunk_size):
    x, y = _check_pair("kendall_tau", x, y)
    n = x.shape[-1]
    chunk = _default_chunk(n) if chunk_size is None else checks.check_static_int("kendall_tau", "chunk_size",
                                                                                 chunk_size)
    chunk = max(1, min(chunk, n))
    valid = _mask("kendall_tau", where, x.shape)
    zero = jnp.zeros((), x.dtype)
    x = lax.stop_gradient(jnp.where(valid, x, zero))
    y = lax.stop_gradient(jnp.where(valid, y, zero))
    sums = _kendall_sums(x, y, valid, chunk)
    s, tx, ty = sums[..., 0], sums[..., 1], sums[..., 2]
    den2 = tx * ty
    ok = den2 > 0
    tau = s / jnp.sqrt(jnp.where(ok, den2, jnp.ones_like(den2)))
    return jnp.where(ok, jnp.clip(tau, -1, 1), jnp.asarray(jnp.nan, tau.dtype))


_kendall_core = jax.jit(_kendall_core_impl, static_argnames=("chunk_size",))


def kendall_tau(x, y, *, where=None, weights=None, chunk_size=None) -> Array:
    r"""Kendall's tau-b rank correlation (ties corrected, scipy's variant ``"b"``).

    τ_b = (C − D) / sqrt((n₀ − n₁)(n₀ − n₂)) over the valid samples, with C / D the concordant /
    discordant pairs, n₀ = n(n − 1)/2, n₁ (n₂) the pairs tied in ``x`` (``y``) — a pair tied in both
    counts in both.

    Args:
      x: scores ``[..., N]``.
      y: scores ``[..., N]``, same shape as ``x``.
      where: bool sample mask broadcastable to ``[..., N]``.
      weights: must be None — kendall_tau does not support weights; a ValueError otherwise.
      chunk_size: static number of rows of the N × N pair-sign matrix computed at once (``lax.map``
        over row chunks); default N when N <= 2048, else 1024. Memory is O(chunk_size · N) per problem;
        the result does not depend on it.

    Returns:
      ``[...]`` in [−1, 1]; NaN with fewer than two valid samples or all of ``x`` (or ``y``) tied.
      ±inf scores are ordinary (extreme) values.

    Matches ``scipy.stats.kendalltau(x[valid], y[valid], variant="b").statistic``. One-shot only.
    Complexity O(N²) time (exact pairwise signs, integer counts), O(chunk_size · N) memory.
    Piecewise constant: the gradient is 0 (finite).

    Example:
      >>> round(float(kendall_tau(jnp.array([1.0, 2.0, 3.0, 4.0]), jnp.array([1.0, 3.0, 2.0, 50.0]))), 4)
      0.6667
    """
    _no_weights("kendall_tau", weights)
    if chunk_size is not None:
        chunk_size = checks.check_static_int("kendall_tau", "chunk_size", chunk_size)
    return _kendall_core(x, y, where, chunk_size=chunk_size)


# --------------------------------------------------------------------------------------------------
# Registry

register(MetricInfo(name="pearson", family="ranking", fn=pearson, differentiable=True, higher_is_better=True,
                    streaming=pearson_metric,
                    oracle="scipy.stats.pearsonr (valid samples); weighted: numpy.cov(aweights=weights)"))
register(MetricInfo(name="spearman", family="ranking", fn=spearman, differentiable=False, higher_is_better=True,
                    oracle="scipy.stats.spearmanr (valid samples)"))
register(MetricInfo(name="kendall_tau", family="ranking", fn=kendall_tau, differentiable=False,
                    higher_is_better=True, oracle="scipy.stats.kendalltau(variant='b') (valid samples)"))
