"""Differentiable primitives for the ``soft_*`` twins of piecewise-constant metrics.

Every primitive here takes a ``temperature`` (in the units of its input) and converges to the exact,
piecewise-constant operation as ``temperature -> 0``; gradients are finite for every finite or infinite
input. They are plain ``jax.numpy`` functions: ``jit``, ``vmap`` and ``grad`` work as usual.

* :func:`smooth_step` — the logistic relaxation of the Heaviside step ``1[x > 0]``.
* :func:`soft_binning` — soft (differentiable) histogram-bin membership, differences of smooth steps
  at the bin edges.
* :func:`soft_rank` — pairwise-sigmoid approximate ranks (ApproxNDCG, Qin et al. 2010; rax
  ``approx_ranks``); ties converge to the *average* rank.
* :func:`soft_sort` — SoftSort (Prillo & Eisenschlos 2020): the hard sort smoothed by a row-stochastic
  relaxed permutation matrix.
* :func:`soft_topk` — relaxed top-k membership: a smooth step at a threshold halfway between the k-th
  and (k+1)-th largest values (rax ``approx_cutoff`` style).

**Ranking primitives** work over the last axis (leading axes are batch axes) with an optional item mask
``where [..., n]``: masked items take no part (whatever their value, NaN and ±inf included) and get the
documented fill value 0. ``temperature`` is in the units of ``x``: pairs of items closer than a few
``temperature`` are "soft" (and get gradient), pairs much farther apart are resolved exactly. The two
pairwise primitives cost O(n²) time; with a static ``chunk_size`` their memory is
O(chunk_size·n) — also under ``grad`` (each chunk of rows is rematerialised) — and the result does not
depend on ``chunk_size``. ±inf inputs are allowed: two equal infinities are a tie (never ``inf − inf``),
and gradients stay finite. An O(n log n) regularised (isotonic / PAV) soft sort (Blondel et al. 2020) is
not provided.
"""

from __future__ import annotations

import numbers

import numpy as np

import jax
import jax.numpy as jnp

from jax import lax

from jaxmetrics._src import checks, numerics

Array = jax.Array

__all__ = ["smooth_step", "soft_binning", "soft_rank", "soft_sort", "soft_topk"]


def _validate_temperature(fn: str, temperature, name: str = "temperature") -> None:
    """Raises ``ValueError`` for a concrete (Python/NumPy) temperature that is not finite and > 0.

    A traced or array temperature (e.g. an annealing schedule inside a jitted step) is not checked.
    """
    if isinstance(temperature, numbers.Real) and not (0 < float(temperature) < float("inf")):
        raise ValueError(f"jaxmetrics.{fn}: argument `{name}` must be finite and > 0; got {temperature!r}.")


def smooth_step(x, temperature=1.0) -> Array:
    """Smooth step: the logistic relaxation σ(x / temperature) of the Heaviside step ``1[x > 0]``.

    .. math::

        H_\\tau(x) = \\sigma(x/\\tau) = \\frac{1}{1 + e^{-x/\\tau}}, \\qquad
        \\lim_{\\tau \\to 0} H_\\tau(x) = \\begin{cases} 1 & x > 0 \\\\ \\tfrac12 & x = 0 \\\\
        0 & x < 0 \\end{cases}

    The value at ``x = 0`` is exactly ½ for every temperature — the half credit that exact rank metrics
    give to ties. ``H(x) + H(-x) = 1``; use ``smooth_step(-x)`` rather than ``1 - smooth_step(x)`` for the
    complement (no cancellation near 1). The slope is at most ``1 / (4·temperature)``, at ``x = 0``;
    it decays like ``exp(-|x|/temperature)``, so points with ``|x| ≫ temperature`` get (almost) no
    gradient.

    Computed with ``lax.logistic``, which is stable for every input: ``x = ±inf`` gives exactly 1 / 0
    with gradient 0, never NaN.

    Args:
      x: array ``[...]``; floating dtypes are kept (integers compute in float32).
      temperature: width of the transition, in the units of ``x``; a positive Python float, or a
        scalar array (so it can be annealed inside ``jit`` without recompiling).

    Returns:
      ``[...]`` in [0, 1], the dtype of ``x`` (float32 for integer ``x``).

    Example:
      >>> smooth_step(jnp.array([-1.0, 0.0, 1.0]), temperature=0.1)
      Array([4.5397872e-05, 5.0000000e-01, 9.9995458e-01], dtype=float32)
    """
    _validate_temperature("smooth_step", temperature)
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = numerics.promote(x)
    return jax.nn.sigmoid(x / jnp.asarray(temperature, x.dtype))


def soft_binning(x, edges, temperature=0.01) -> Array:
    r"""Soft bin membership: a smooth relaxation of the one-hot histogram bin of ``x``.

    For bin edges :math:`e_0 < e_1 < \dots < e_B`, the membership of ``x`` in bin ``b`` is the
    difference of two smooth steps (:func:`smooth_step`) at the bin's edges,

    .. math::

        m_b(x) = H_\tau(x - e_b) - H_\tau(x - e_{b+1}), \qquad b = 0, \dots, B - 1,

    with the outer edges moved to infinity (:math:`H_\tau(x - e_0) := 1`, :math:`H_\tau(x - e_B) := 0`),
    so the first and last bins are open-ended, every membership is in [0, 1] and they sum to 1 (up to
    rounding) for every ``x``. As ``temperature -> 0``, ``m(x)`` converges to the one-hot vector of the
    bin ``[e_b, e_{b+1})`` containing ``x`` (for ``x`` not on an interior edge; on an edge it is ½/½
    between the two neighbours). The leak into a neighbouring bin is ``σ(−d/τ)`` for a point at
    distance ``d`` from the edge, so ``τ`` is in the units of ``x``: e.g. with 15 bins on [0, 1] (width
    0.067) and ``τ = 0.01``, a point 0.033 from both edges keeps ≈ 93% of its mass in its own bin.

    Gradients are finite for every finite or infinite ``x`` (``lax.logistic``); they vanish for
    points farther than a few ``τ`` from every interior edge.

    Args:
      x: ``[...]`` values (floating; integers compute in float32).
      edges: a static int ``B`` (``B`` equal-width bins on [0, 1], edges ``numpy.linspace(0, 1, B + 1)``)
        or a 1-D array of ``B + 1`` increasing edges (only the interior ones ``e_1..e_{B-1}`` matter).
      temperature: width of the soft edges, in the units of ``x``; a positive Python float or a scalar
        array (annealable inside ``jit``).

    Returns:
      ``[..., B]`` memberships in the dtype of ``x``.

    Example:
      >>> m = soft_binning(jnp.array([0.1, 0.5, 0.9]), 2, temperature=0.01)
      >>> m.round(4)
      Array([[1. , 0. ],
             [0.5, 0.5],
             [0. , 1. ]], dtype=float32)
    """
    _validate_temperature("soft_binning", temperature)
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = numerics.promote(x)
    if isinstance(edges, (int, np.integer)) and not isinstance(edges, (bool, np.bool_)):
        if edges < 1:
            raise ValueError(f"jaxmetrics.soft_binning: argument `edges` (number of bins) must be >= 1; got {edges}.")
        edges = np.linspace(0.0, 1.0, int(edges) + 1)
    edges = jnp.asarray(edges, x.dtype)
    if edges.ndim != 1 or edges.shape[0] < 2:
        raise ValueError(
            f"jaxmetrics.soft_binning: argument `edges` must be an int or a 1-D array of >= 2 edges; "
            f"got shape {tuple(edges.shape)}."
        )
    steps = smooth_step(x[..., None] - edges[1:-1], temperature)  # [..., B - 1]
    one = jnp.ones(x.shape + (1,), x.dtype)
    upper = jnp.concatenate([one, steps], -1)  # H(x - e_b), b = 0..B-1
    lower = jnp.concatenate([steps, jnp.zeros_like(one)], -1)  # H(x - e_{b+1})
    return upper - lower


# --------------------------------------------------------------------------------------------------
# Ranking primitives: soft_rank, soft_sort, soft_topk


def _ranking_input(fn: str, x, where):
    """``x [..., n]`` promoted (bf16/f16/int -> float32), the bool mask ``[..., n]``, and ``x`` with
    masked entries replaced by 0 (padding may be NaN or inf and must reach neither value nor gradient)."""
    x = jnp.asarray(x)
    checks.check_min_rank(fn, "x", x, 1, "[..., n]")
    x = numerics.promote(x)
    if where is None:
        valid = jnp.ones(x.shape, bool)
    else:
        valid = checks.broadcast_arg(fn, "where", where, x.shape, "item shape").astype(bool)
    return jnp.where(valid, x, jnp.zeros((), x.dtype)), valid


def _check_chunk_size(fn: str, chunk_size):
    if chunk_size is not None:
        checks.check_static_int(fn, "chunk_size", chunk_size, 1)


def _map_row_chunks(block, rows: tuple, chunk_size):
    """``block(*rows) -> [..., m]`` evaluated on static chunks of the last (row) axis of ``rows``.

    Each array in ``rows`` has the row axis last (``[..., m]`` or ``[m]``). Without ``chunk_size`` (or
    with ``chunk_size >= m``) this is one call; otherwise the rows are zero-padded to a multiple of
    ``chunk_size`` and ``block`` runs under ``lax.map`` on one ``[..., chunk_size]`` chunk at a time,
    rematerialised under reverse mode (``jax.checkpoint``) so the backward pass holds one chunk's
    pairwise block too. Rows are independent, so the result does not depend on ``chunk_size``.
    """
    m = rows[0].shape[-1]
    if chunk_size is None or chunk_size >= m:
        return block(*rows)
    n_chunks = -(-m // chunk_size)

    def split(r):  # [..., m] -> [n_chunks, ..., chunk_size]
        pad = [(0, 0)] * (r.ndim - 1) + [(0, n_chunks * chunk_size - m)]
        r = jnp.pad(r, pad).reshape(*r.shape[:-1], n_chunks, chunk_size)
        return jnp.moveaxis(r, -2, 0)

    remat = jax.checkpoint(lambda xs: block(*xs), prevent_cse=False)
    out = lax.map(remat, tuple(split(r) for r in rows))  # [n_chunks, ..., chunk_size]
    out = jnp.moveaxis(out, 0, -2)
    return out.reshape(*out.shape[:-2], n_chunks * chunk_size)[..., :m]


def _pair_diff(rows, cols):
    """``cols[..., None, :] - rows[..., :, None]`` (``[..., m, n]``) with equal infinities giving 0
    (a tie) rather than NaN. Only infinite ties are overridden, so finite ties keep their gradient."""
    r, c = rows[..., :, None], cols[..., None, :]
    inf_tie = (r == c) & jnp.isinf(r)
    return jnp.where(inf_tie, jnp.zeros((), rows.dtype), c - r)


def _soft_count_above(x, col_mask, temperature, *, descending: bool, chunk_size):
    """``c_i = Σ_{j ≠ i, col_mask_j} σ((x_j − x_i)/τ)`` (``descending``; ``σ((x_i − x_j)/τ)`` otherwise)
    over the last axis, ``[..., n]``: the soft number of (column-masked) items ranked before item i.

    ``x`` must already be sanitised (finite or ±inf, no NaN). O(n²) time, O(chunk_size·n) memory.
    """
    n = x.shape[-1]
    tau = jnp.asarray(temperature, x.dtype)
    cols = jnp.arange(n, dtype=jnp.int32)

    def block(x_rows, row_index):  # [..., cs], [cs] -> [..., cs]
        diff = _pair_diff(x_rows, x)
        if not descending:
            diff = -diff
        kernel = jax.nn.sigmoid(diff / tau)  # lax.logistic: exact 0/1, zero slope, at ±inf
        keep = col_mask[..., None, :] & (row_index[:, None] != cols[None, :])
        return jnp.where(keep, kernel, jnp.zeros((), x.dtype)).sum(-1)

    return _map_row_chunks(block, (x, jnp.arange(n, dtype=jnp.int32)), chunk_size)


def soft_rank(x, *, temperature=1.0, where=None, descending: bool = True, chunk_size: int | None = None) -> Array:
    r"""Soft ranks: pairwise-sigmoid approximate 1-based ranks over the last axis.

    .. math::

        \hat r_i = 1 + \sum_{j \ne i,\ j\ \mathrm{valid}} \sigma\big((x_j - x_i)/\tau\big)
        \quad (\texttt{descending=True}; \ \sigma((x_i - x_j)/\tau) \text{ for ascending}),

    the approximate ranks of ApproxNDCG (Qin, Liu & Li 2010, "A general approximation framework for
    direct optimization of information retrieval measures") and rax ``approx_ranks``. Rank 1 is the
    largest value (``descending=True``) or the smallest (``descending=False``).

    As ``τ → 0`` every pair term tends to ``1[x_j > x_i] + ½·1[x_j = x_i]`` (σ(0) = ½ exactly, for
    every τ), so the soft ranks converge to the exact ranks without ties and, with ties, to the
    **average** rank of each tie group (``scipy.stats.rankdata(method="average")``, reversed for
    descending), with error ``O(n·e^{−δ/τ})`` for the smallest non-zero gap δ. Each pair's slope is at
    most ``1/(4τ)``; pairs farther apart than a few τ get almost no gradient.

    Masked items (``where`` False) take no part — they are not counted in anybody's rank, whatever
    their value — and get rank **0**. Equal infinities are a tie (½), never ``inf − inf``; gradients
    are finite for every input.

    Args:
      x: ``[..., n]`` values (floating; bf16/f16/integers compute in float32).
      temperature: τ > 0 in the units of ``x``; a Python float or a scalar array (annealable in ``jit``).
      where: bool item mask broadcastable to ``[..., n]``.
      descending: static; True ranks the largest value first.
      chunk_size: static number of rows of the n×n pairwise matrix computed at once (``lax.map`` over
        row chunks, rematerialised under ``grad``); None computes it in one block.

    Returns:
      ``[..., n]`` soft ranks in ``[1, n_valid]`` for valid items, 0 for masked ones.

    Complexity: O(n²) time; O(n²) memory, or O(chunk_size·n) with ``chunk_size``.

    Example:
      >>> soft_rank(jnp.array([3.0, 1.0, 2.0, 2.0]), temperature=1e-3)  # tie -> average rank 2.5
      Array([1. , 4. , 2.5, 2.5], dtype=float32)
    """
    fn = "soft_rank"
    _validate_temperature(fn, temperature)
    _check_chunk_size(fn, chunk_size)
    x, valid = _ranking_input(fn, x, where)
    count = _soft_count_above(x, valid, temperature, descending=descending, chunk_size=chunk_size)
    return jnp.where(valid, 1 + count, jnp.zeros((), x.dtype))


def soft_sort(x, *, temperature=1.0, where=None, descending: bool = True, chunk_size: int | None = None) -> Array:
    r"""Soft sort: SoftSort (Prillo & Eisenschlos 2020), the sorted values seen through a relaxed
    permutation matrix.

    With :math:`h = \mathrm{sort}(x)` the hard sort of the valid values (descending by default), row i of
    the relaxed permutation matrix is a softmax over the valid items j,

    .. math::

        \hat P_{ij} = \frac{\exp(-|x_j - h_i|/\tau)}{\sum_{l\ \mathrm{valid}} \exp(-|x_l - h_i|/\tau)},
        \qquad \hat y_i = \sum_j \hat P_{ij}\, x_j = h_i + \sum_j \hat P_{ij}\,(x_j - h_i),

    ("SoftSort: A Continuous Relaxation for the argsort Operator", ICML 2020, with ``d = |·|``). As
    ``τ → 0`` row i concentrates on the item(s) whose value is ``h_i`` — tied items share the row but
    have the same value — so ``ŷ → jnp.sort`` exactly (ties included), with error
    ``O(δ·e^{−δ/τ})`` for gaps δ. Gradients flow through both the weights and the values; each output
    is a convex combination of valid inputs, so it lies within their range.

    Positions ``i >= n_valid`` (as many as there are masked items, at the end) get **0**; masked items
    take no part. ±inf values are allowed (an infinite sorted value stays infinite; gradients stay
    finite).

    Args:
      x: ``[..., n]`` values (floating; bf16/f16/integers compute in float32).
      temperature: τ > 0 in the units of ``x``; a Python float or a scalar array.
      where: bool item mask broadcastable to ``[..., n]``.
      descending: static; True sorts largest first (``-jnp.sort(-x)``), False ascending (``jnp.sort``).
      chunk_size: static number of rows (sorted positions) computed at once; None: one block.

    Returns:
      ``[..., n]``: the soft-sorted valid values, then zeros.

    Complexity: one O(n log n) sort plus O(n²) time; memory O(n²), or O(chunk_size·n) with
    ``chunk_size``.

    Example:
      >>> soft_sort(jnp.array([1.0, 3.0, 2.0]), temperature=1e-2)
      Array([3., 2., 1.], dtype=float32)
    """
    fn = "soft_sort"
    _validate_temperature(fn, temperature)
    _check_chunk_size(fn, chunk_size)
    x, valid = _ranking_input(fn, x, where)
    axis = x.ndim - 1
    index = lax.broadcasted_iota(jnp.int32, x.shape, axis)
    key = -x if descending else x
    _, _, perm = lax.sort(((~valid).astype(jnp.int32), key, index), dimension=axis, is_stable=True, num_keys=2)
    hard = jnp.take_along_axis(x, perm, axis=-1)
    row_valid = jnp.take_along_axis(valid, perm, axis=-1)  # the first n_valid positions
    tau = jnp.asarray(temperature, x.dtype)
    zero = jnp.zeros((), x.dtype)

    def block(h, h_valid):  # [..., cs] sorted values -> [..., cs] soft-sorted values
        diff = _pair_diff(h, x)  # x_j − h_i, [..., cs, n]
        logits = jnp.where(valid[..., None, :], -jnp.abs(diff) / tau, -jnp.inf)
        # rows past n_valid are discarded: a uniform, finite row keeps their (zero) gradient finite
        logits = jnp.where(h_valid[..., :, None], logits, zero)
        p = jax.nn.softmax(logits, axis=-1)
        finite = jnp.isfinite(diff)  # an infinite difference has weight exactly 0
        step = jnp.where(finite & valid[..., None, :], p * jnp.where(finite, diff, zero), zero)
        return h + step.sum(-1)

    out = _map_row_chunks(block, (hard, row_valid), chunk_size)
    return jnp.where(row_valid, out, zero)


def soft_topk(x, k: int, *, temperature=1.0, where=None, stop_gradient: bool = True) -> Array:
    r"""Soft top-k membership: a smooth indicator in [0, 1] of the ``k`` largest valid values.

    .. math::

        m_i = \sigma\big((x_i - t)/\tau\big), \qquad t = \tfrac12\big(x_{(k)} + x_{(k+1)}\big),

    with :math:`x_{(k)}` the k-th largest valid value: the threshold lies halfway between the last item
    in and the first item out (rax ``approx_cutoff``-style cutoff). With ``stop_gradient=True`` (the
    default, as rax's ``approx_t12n``) the threshold is held constant under differentiation, so each
    item's membership moves only with its own value — a surrogate gradient: it is *not* the derivative
    of ``m`` as a function of ``x`` (``t`` moves with the k-th and (k+1)-th values), so
    ``jax.test_util.check_grads`` does not apply. ``stop_gradient=False`` differentiates through the
    threshold too (the exact derivative of this piecewise-smooth function: the k-th and (k+1)-th items
    also move the cut for everybody); the ``soft_*`` ranking twins use that form.

    As ``τ → 0``, ``m`` converges to the exact top-k indicator when ``x_(k) > x_(k+1)``, with error
    ``σ(−(x_(k) − x_(k+1))/(2τ))`` at the boundary. When the k-th and (k+1)-th values tie, every item
    with that value gets ½ (and ``Σ m`` need not be k). If there are at most ``k`` valid items, every
    valid item has membership exactly 1.

    Masked items take no part and get **0**. ±inf values are allowed: equal infinities never form
    ``inf − inf`` (an infinite value equal to the threshold side counts as a tie), gradients are finite.

    Args:
      x: ``[..., n]`` values (floating; bf16/f16/integers compute in float32).
      k: static int >= 1 (k >= the number of valid items: all valid items are in).
      temperature: τ > 0 in the units of ``x``; a Python float or a scalar array.
      where: bool item mask broadcastable to ``[..., n]``.
      stop_gradient: static; hold the threshold constant under differentiation (default True).

    Returns:
      ``[..., n]`` memberships in [0, 1]; 0 for masked items.

    Complexity: O(n log k) (``lax.top_k`` of k + 1) plus O(n).

    Example:
      >>> soft_topk(jnp.array([0.1, 0.9, 0.5, 0.3]), 2, temperature=1e-2).round(4)
      Array([0., 1., 1., 0.], dtype=float32)
    """
    fn = "soft_topk"
    _validate_temperature(fn, temperature)
    k = checks.check_static_int(fn, "k", k, 1)
    x, valid = _ranking_input(fn, x, where)
    zero, one = jnp.zeros((), x.dtype), jnp.ones((), x.dtype)
    n = x.shape[-1]
    if k >= n:
        return jnp.where(valid, one, zero)
    top = lax.top_k(jnp.where(valid, x, -jnp.inf), k + 1)[0]
    v_in, v_out = top[..., k - 1:k], top[..., k:k + 1]  # x_(k), x_(k+1): [..., 1]
    if stop_gradient:
        v_in, v_out = lax.stop_gradient(v_in), lax.stop_gradient(v_out)

    def minus(v):  # x − v with equal infinities a tie (only those are overridden: finite ties keep slope)
        inf_tie = (x == v) & jnp.isinf(x)
        return jnp.where(inf_tie, zero, x - v)

    a, b = minus(v_in), minus(v_out)
    # x − t. −inf + inf only arises for a masked (zero-filled) row between x_(k) = +inf and
    # x_(k+1) = −inf; double-where it away so it reaches neither value nor gradient.
    bad = jnp.isinf(a) & jnp.isinf(b) & (a != b)
    margin = jnp.where(bad, zero, 0.5 * jnp.where(bad, zero, a) + 0.5 * jnp.where(bad, zero, b))
    m = jax.nn.sigmoid(margin / jnp.asarray(temperature, x.dtype))
    few = valid.sum(-1, keepdims=True) <= k
    return jnp.where(valid, jnp.where(few, one, m), zero)
