r"""Divergences between probability vectors, the characteristic-function distance and the two-sample
Kolmogorov–Smirnov test (METRICS.md §9.5, §9.6, §9.8).

**Probability vectors.** :func:`kl_divergence`, :func:`jensen_shannon`, :func:`total_variation`,
:func:`hellinger` and :func:`bhattacharyya` take ``p [..., K]`` and ``q [..., K]``: the last axis holds
the K categories, every leading axis is a batch axis (the two shapes broadcast), and the result is one
value per row, ``[...]``. So a batch of B histogram pairs ``[B, K]`` gives ``[B]``, and ``jax.vmap``
just works.

* **Normalisation.** Inputs are taken as given (``normalize=False``): they should be probability
  vectors, which :func:`jaxmetrics.validate` checks eagerly (``validate(probs=p)``: entries in [0, 1],
  rows summing to 1); the formulas below are then applied literally. ``normalize=True`` divides each row
  by its sum first (counts or unnormalised histograms; what ``scipy.stats.entropy`` and
  ``scipy.spatial.distance.jensenshannon`` always do); a row of ``p`` or ``q`` with zero total mass is
  then undefined and gives NaN.
* **where** ``[..., K]`` (bool, broadcastable to the rows) masks *categories*: a masked category is
  treated exactly as if it were absent (its entries may be NaN padding); with ``normalize=True`` the
  remaining categories are renormalised. ``weights`` are not supported (a divergence between two
  distributions has no per-category weighting); passing them raises ``ValueError``.
* **Conventions.** Natural logarithms unless ``base`` is given; 0·log 0 = 0.

  - :func:`kl_divergence`: KL(p‖q) = Σ_k p_k log(p_k/q_k), = ``scipy.stats.entropy(p, q)``; **+inf**
    when some q_k = 0 < p_k.
  - :func:`jensen_shannon`: the **divergence** JS = ½KL(p‖m) + ½KL(q‖m), m = (p + q)/2, ∈ [0, log 2]
    (natural log). ``distance=True`` returns its square root, the Jensen–Shannon *distance* (a metric),
    which is what ``scipy.spatial.distance.jensenshannon`` returns.
  - :func:`total_variation`: ½Σ|p_k − q_k| ∈ [0, 1].
  - :func:`hellinger`: the Hellinger **distance** H = √(½Σ(√p_k − √q_k)²) ∈ [0, 1] (the ½ makes disjoint
    supports give 1; some texts omit it and get [0, √2]). ``squared=True`` returns H², which equals
    1 − Σ√(p_k q_k) for probability vectors — the quantity the Inspection code calls "Hellinger"
    (METRICS.md §9.8, §17.17: it has no square root).
  - :func:`bhattacharyya`: the distance D_B = −log BC with the coefficient BC = Σ√(p_k q_k) ∈ [0, 1];
    ``coefficient=True`` returns BC. Disjoint supports give BC = 0 and D_B = +inf.

* **Numerics.** Jensen–Shannon is evaluated per category as ¼(p + q)·g(d) with d = (p − q)/(p + q)
  and g(d) = (1 + d)log(1 + d) + (1 − d)log(1 − d), using the series Σ_j d^{2j}/(j(2j − 1)) for
  |d| < 0.2, so nearly equal distributions keep full relative precision (no difference of entropies).
  Hellinger uses ½Σ(√p − √q)² (never 1 − BC, which cancels).
* **Gradients** are finite everywhere: at p_k = 0 the derivative of the 0·log 0 term is taken as 0
  (its one-sided value is −∞), at √0 as 0, and an infinite value (KL with q_k = 0 < p_k, D_B with
  BC = 0) has zero gradient with respect to the entries that make it infinite.

**Characteristic-function distance** (:func:`characteristic_function_distance`, METRICS.md §9.6).
Sample sets ``x [..., n, d]`` and ``y [..., m, d]``; the empirical characteristic function
φ_X(t) = Σ_i w_i exp(i⟨t, x_i⟩)/Σ_i w_i is evaluated at k frequencies T ``[k, d]`` (given, or drawn
from N(0, scale²·I) with ``key``) through its cosine and sine parts (no complex dtype), and the result
is the mean over t of |φ_X(t) − φ_Y(t)|². With random Gaussian frequencies this is a random-feature
estimate of the biased (V-statistic) MMD² with the Gaussian kernel exp(−scale²‖x − y‖²/2) (METRICS.md
§9.2); for any fixed T it *equals* the biased MMD² with the kernel mean_t cos⟨t, x − y⟩ exactly.
``alpha`` gives the NCFD amplitude/phase split.

**Two-sample Kolmogorov–Smirnov** (:func:`kolmogorov_smirnov`, alias :func:`ks_statistic`, METRICS.md
§9.5): D = sup_t |F_X(t) − G_Y(t)| over 1-D samples ``x [..., n]``, ``y [..., m]`` (n ≠ m allowed),
exact with ties, plus the asymptotic two-sided p-value.

**Sample masks and weights** (characteristic function, KS). ``where``/``weights`` apply to the samples
of *both* sets (they must broadcast to ``[..., n]`` and to ``[..., m]``: paired, equal-size padded
batches), ``where_x``/``weights_x`` to ``x`` only and ``where_y``/``weights_y`` to ``y`` only; they
combine multiplicatively. A sample with ``where=False`` or weight 0 is treated as absent (its values
may be NaN or inf padding). Weights are non-negative **frequency weights** (an integer weight equals
repeating the sample). A set without any remaining sample gives NaN.

Oracles: ``scipy.stats.entropy``, ``scipy.spatial.distance.jensenshannon``, numpy references for TV,
Hellinger and Bhattacharyya (``tests/reference/divergences.py``), a complex-exponential numpy ECF and
the biased Gaussian-kernel MMD², ``scipy.stats.ks_2samp`` (statistic) and ``scipy.stats.kstwobign``
(p-value).
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
from jaxmetrics._src.registry import MetricInfo, register

Array = jax.Array

__all__ = [
    "KSResult",
    "bhattacharyya",
    "characteristic_function_distance",
    "hellinger",
    "jensen_shannon",
    "kl_divergence",
    "kolmogorov_smirnov",
    "ks_statistic",
    "total_variation",
]

_JS_SERIES_CUTOFF = 0.2  # |d| below which g(d) is summed as a series
_JS_SERIES_TERMS = 14  # first omitted term d^30/(15·29) < 1e-22·d² for |d| < 0.2: full float64 precision
_KOLMOGOROV_TERMS = 6  # terms of each Kolmogorov series (truncation error < 1e-40; see _kolmogorov_sf)


# --------------------------------------------------------------------------------------------------
# argument handling


def _real_dtype(fn, name, a):
    if not (jnp.issubdtype(a.dtype, jnp.floating) or jnp.issubdtype(a.dtype, jnp.integer)):
        _fail(fn, f"argument `{name}` must be a real (floating or integer) array; got dtype {a.dtype}.")


def _static_bool(fn, name, value):
    if not isinstance(value, (bool, np.bool_)):
        _fail(fn, f"argument `{name}` must be a static bool; got {value!r}.")
    return bool(value)


def _static_float(fn, name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        _fail(fn, f"argument `{name}` must be a static Python number; got {type(value).__name__} {value!r}.")
    return float(value)


def _log_base(fn, base):
    if base is None:
        return 1.0
    base = _static_float(fn, "base", base)
    if not (math.isfinite(base) and base > 0 and base != 1):
        _fail(fn, f"argument `base` (of the logarithm) must be finite, > 0 and != 1; got {base}.")
    return math.log(base)


def _no_weights(fn, weights):
    if weights is not None:
        raise ValueError(
            f"jaxmetrics.{fn}: `weights` is not supported (a divergence between two probability vectors has "
            "no per-category weights); pass weights=None and mask categories with `where`."
        )


def _check_vectors(fn, p, q, where):
    """``p``, ``q`` ``[..., K]`` with the same K and broadcastable leading axes; ``where`` broadcast."""
    p, q = jnp.asarray(p), jnp.asarray(q)
    for name, a in (("p", p), ("q", q)):
        checks.check_min_rank(fn, name, a, 1, "[..., K]")
        _real_dtype(fn, name, a)
    if p.shape[-1] < 1:
        _fail(fn, f"argument `p` must have at least one category [..., K >= 1]; got shape {p.shape}.")
    if q.shape[-1] != p.shape[-1]:
        _fail(fn, f"argument `q` must have the K = {p.shape[-1]} categories of `p` on its last axis; "
                  f"got shape {q.shape}.")
    try:
        shape = np.broadcast_shapes(p.shape, q.shape)
    except ValueError as e:
        _fail(fn, f"argument `q` must have leading (batch) axes that broadcast with `p` {p.shape}; "
                  f"got shape {q.shape}.", e)
    if where is not None:
        where = checks.broadcast_arg(fn, "where", where, shape, "category shape [..., K]").astype(bool)
    return p, q, where


# --------------------------------------------------------------------------------------------------
# probability vectors


def _js_g(p, q):
    """Per category ``(p + q)·g(d)`` with g as in the module docstring (4 × the JS contribution)."""
    s = p + q
    pos = s > 0
    s_safe = jnp.where(pos, s, jnp.ones_like(s))
    d = jnp.where(pos, (p - q) / s_safe, jnp.zeros_like(s))
    small = jnp.abs(d) < _JS_SERIES_CUTOFF
    d2 = jnp.where(small, d * d, jnp.zeros_like(d))
    poly = jnp.zeros_like(d2)
    for j in range(_JS_SERIES_TERMS, 0, -1):  # Horner in d²: Σ_j d^{2(j-1)} / (j(2j − 1))
        poly = poly * d2 + 1.0 / (j * (2 * j - 1))
    series = d2 * poly
    a = jnp.where(pos & ~small, 2.0 * p / s_safe, jnp.ones_like(s))  # 1 + d
    b = jnp.where(pos & ~small, 2.0 * q / s_safe, jnp.ones_like(s))  # 1 − d
    direct = numerics.xlogy(a, a) + numerics.xlogy(b, b)
    g = jnp.where(small, series, direct)
    return jnp.where(pos, s * g, jnp.zeros_like(s))


@functools.partial(jax.jit, static_argnames=("kind", "normalize", "option", "log_base"))
def _vector_core(p, q, where, *, kind, normalize, option, log_base):
    dtype = numerics.accumulation_dtype(p, q)
    p, q = numerics.promote(p, dtype), numerics.promote(q, dtype)
    p, q = jnp.broadcast_arrays(p, q)
    zero = jnp.zeros((), dtype)
    if where is not None:
        p, q = jnp.where(where, p, zero), jnp.where(where, q, zero)
    if normalize:
        sp, sq = p.sum(-1, keepdims=True), q.sum(-1, keepdims=True)
        ok = (sp[..., 0] > 0) & (sq[..., 0] > 0)
        p, q = numerics.safe_div(p, sp), numerics.safe_div(q, sq)
    if kind == "kl":
        pos_p, pos_q = p > 0, q > 0
        ratio = jnp.where(pos_p, p, 1.0) / jnp.where(pos_q, q, 1.0)
        term = jnp.where(pos_p, jnp.where(pos_q, p * jnp.log(ratio), jnp.inf), zero)
        value = term.sum(-1) / log_base
    elif kind == "js":
        value = 0.25 * _js_g(p, q).sum(-1) / log_base
        if option:
            value = numerics.safe_sqrt(value)
    elif kind == "tv":
        value = 0.5 * jnp.abs(p - q).sum(-1)
    elif kind == "hellinger":
        value = 0.5 * jnp.square(numerics.safe_sqrt(p) - numerics.safe_sqrt(q)).sum(-1)
        if not option:
            value = numerics.safe_sqrt(value)
    else:  # bhattacharyya
        value = (numerics.safe_sqrt(p) * numerics.safe_sqrt(q)).sum(-1)
        if not option:
            value = -numerics.safe_log(value)
    if normalize:
        value = jnp.where(ok, value, jnp.asarray(jnp.nan, dtype))
    return value


def _vector_metric(fn, kind, p, q, where, weights, normalize, option=False, log_base=1.0):
    _no_weights(fn, weights)
    normalize = _static_bool(fn, "normalize", normalize)
    p, q, where = _check_vectors(fn, p, q, where)
    return _vector_core(p, q, where, kind=kind, normalize=normalize, option=option, log_base=log_base)


def kl_divergence(p, q, *, base: float | None = None, normalize: bool = False, where=None,
                  weights=None) -> Array:
    r"""Kullback–Leibler divergence KL(p‖q) = Σ_k p_k log(p_k / q_k) between probability vectors.

    Conventions (module docstring): 0·log 0 = 0; **+inf** when some q_k = 0 < p_k (with a zero gradient
    on those entries); natural log unless ``base``. Matches ``scipy.stats.entropy(p, q, base=base)``
    (which always normalises: ``normalize=True``). Not symmetric.

    Args:
      p: probabilities ``[..., K]`` (last axis = categories; leading axes are batch axes).
      q: probabilities ``[..., K]``, broadcastable with ``p``.
      base: static logarithm base (``2`` for bits); None = natural log.
      normalize: static; divide each row by its sum first (NaN for a row without mass).
      where: bool ``[..., K]`` category mask (masked categories are absent).
      weights: not supported (must be None).

    Returns:
      ``[...]``: KL(p‖q) per row, in [0, +inf] for probability vectors.

    Example:
      >>> p, q = jnp.array([0.5, 0.5]), jnp.array([0.9, 0.1])
      >>> print(round(float(kl_divergence(p, q)), 4), float(kl_divergence(p, jnp.array([1.0, 0.0]))))
      0.5108 inf
    """
    fn = "kl_divergence"
    return _vector_metric(fn, "kl", p, q, where, weights, normalize, log_base=_log_base(fn, base))


def jensen_shannon(p, q, *, base: float | None = None, distance: bool = False, normalize: bool = False,
                   where=None, weights=None) -> Array:
    r"""Jensen–Shannon divergence ½KL(p‖m) + ½KL(q‖m), m = (p + q)/2, between probability vectors.

    Symmetric, finite, in [0, log 2] (natural log; [0, 1] with ``base=2``): 0 for identical, log 2 for
    disjoint supports. ``distance=True`` returns √JS, the Jensen–Shannon **distance** (a metric), which is
    what ``scipy.spatial.distance.jensenshannon(p, q, base)`` returns (scipy also always normalises:
    ``normalize=True``). Evaluated without a difference of entropies (module docstring), so it keeps its
    relative precision for nearly equal p and q.

    Args:
      p: probabilities ``[..., K]`` (last axis = categories; leading axes are batch axes).
      q: probabilities ``[..., K]``, broadcastable with ``p``.
      base: static logarithm base; None = natural log.
      distance: static; return the square root (scipy's ``jensenshannon``).
      normalize: static; divide each row by its sum first (NaN for a row without mass).
      where: bool ``[..., K]`` category mask (masked categories are absent).
      weights: not supported (must be None).

    Returns:
      ``[...]``: the divergence (or distance) per row.

    Example:
      >>> p, q = jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0])
      >>> print(round(float(jensen_shannon(p, q)), 4), float(jensen_shannon(p, q, base=2)))
      0.6931 1.0
    """
    fn = "jensen_shannon"
    distance = _static_bool(fn, "distance", distance)
    return _vector_metric(fn, "js", p, q, where, weights, normalize, distance, _log_base(fn, base))


def total_variation(p, q, *, normalize: bool = False, where=None, weights=None) -> Array:
    r"""Total variation distance ½Σ_k |p_k − q_k| ∈ [0, 1] between probability vectors.

    Equals max over events A of |P(A) − Q(A)|; 0 for identical, 1 for disjoint supports. The gradient
    at p_k = q_k is 0 (the subgradient of |·| at 0 that ``jnp.abs`` uses).

    Args:
      p: probabilities ``[..., K]`` (last axis = categories; leading axes are batch axes).
      q: probabilities ``[..., K]``, broadcastable with ``p``.
      normalize: static; divide each row by its sum first (NaN for a row without mass).
      where: bool ``[..., K]`` category mask (masked categories are absent).
      weights: not supported (must be None).

    Returns:
      ``[...]``: the distance per row.

    Example:
      >>> print(float(total_variation(jnp.array([0.5, 0.5, 0.0]), jnp.array([0.25, 0.25, 0.5]))))
      0.5
    """
    return _vector_metric("total_variation", "tv", p, q, where, weights, normalize)


def hellinger(p, q, *, squared: bool = False, normalize: bool = False, where=None, weights=None) -> Array:
    r"""Hellinger distance H = √(½Σ_k (√p_k − √q_k)²) ∈ [0, 1] between probability vectors.

    0 for identical, 1 for disjoint supports. ``squared=True`` returns H² = ½Σ(√p − √q)², which equals
    1 − Σ√(p_k q_k) (one minus the Bhattacharyya coefficient) for probability vectors: the "Hellinger"
    of the Inspection code (METRICS.md §9.8, no square root). Always computed in the non-cancelling
    ½Σ(√p − √q)² form (for unnormalised inputs this is the Hellinger distance between the measures).

    Args:
      p: probabilities ``[..., K]`` (last axis = categories; leading axes are batch axes).
      q: probabilities ``[..., K]``, broadcastable with ``p``.
      squared: static; return H² instead of H.
      normalize: static; divide each row by its sum first (NaN for a row without mass).
      where: bool ``[..., K]`` category mask (masked categories are absent).
      weights: not supported (must be None).

    Returns:
      ``[...]``: the distance (or its square) per row.

    Example:
      >>> p, q = jnp.array([0.5, 0.5, 0.0]), jnp.array([0.0, 0.5, 0.5])
      >>> print(round(float(hellinger(p, q)), 4), round(float(hellinger(p, q, squared=True)), 4))
      0.7071 0.5
    """
    fn = "hellinger"
    return _vector_metric(fn, "hellinger", p, q, where, weights, normalize, _static_bool(fn, "squared", squared))


def bhattacharyya(p, q, *, coefficient: bool = False, normalize: bool = False, where=None,
                  weights=None) -> Array:
    r"""Bhattacharyya distance D_B = −log BC with the coefficient BC = Σ_k √(p_k q_k).

    For probability vectors BC ∈ [0, 1] and D_B ∈ [0, +inf]: 0 for identical (up to rounding, a few
    1e-16), +inf for disjoint supports (zero gradient there). ``coefficient=True`` returns BC;
    note H² = 1 − BC (:func:`hellinger`). D_B is not a metric (no triangle inequality).

    Args:
      p: probabilities ``[..., K]`` (last axis = categories; leading axes are batch axes).
      q: probabilities ``[..., K]``, broadcastable with ``p``.
      coefficient: static; return BC instead of −log BC.
      normalize: static; divide each row by its sum first (NaN for a row without mass).
      where: bool ``[..., K]`` category mask (masked categories are absent).
      weights: not supported (must be None).

    Returns:
      ``[...]``: the distance (or coefficient) per row.

    Example:
      >>> p, q = jnp.array([0.5, 0.5, 0.0]), jnp.array([0.0, 0.5, 0.5])
      >>> bc, db = bhattacharyya(p, q, coefficient=True), bhattacharyya(p, q)
      >>> print(round(float(bc), 4), round(float(db), 4))
      0.5 0.6931
    """
    fn = "bhattacharyya"
    return _vector_metric(fn, "bhattacharyya", p, q, where, weights, normalize,
                          _static_bool(fn, "coefficient", coefficient))


# --------------------------------------------------------------------------------------------------
# sample-set masks and weights (characteristic function, KS)


def _set_weights(fn, shape, dtype, which, where, weights, where_own, weights_own):
    """Weights ``shape`` of one sample set: shared ``where``/``weights`` times the set's own ones."""
    w = jnp.ones(shape, dtype)
    for name, mask in (("where", where), (f"where_{which}", where_own)):
        if mask is not None:
            w = jnp.where(checks.broadcast_arg(fn, name, mask, shape).astype(bool), w, jnp.zeros((), dtype))
    for name, wt in (("weights", weights), (f"weights_{which}", weights_own)):
        if wt is not None:
            w = w * numerics.promote(checks.broadcast_arg(fn, name, wt, shape), dtype)
    return w


def _batch_shape(fn, x, y, batch_ndim_x, batch_ndim_y, layout):
    try:
        return np.broadcast_shapes(x.shape[:batch_ndim_x], y.shape[:batch_ndim_y])
    except ValueError as e:
        _fail(fn, f"argument `y` must have leading (batch) axes that broadcast with those of `x` "
                  f"{x.shape[:batch_ndim_x]}; got shape {y.shape} ({layout}).", e)


# --------------------------------------------------------------------------------------------------
# characteristic-function distance


@functools.partial(jax.jit, static_argnames=("num_frequencies",))
def _cf_core(x, y, frequencies, key, scale, alpha, masks, *, num_frequencies):
    fn = "characteristic_function_distance"
    where, weights, where_x, weights_x, where_y, weights_y = masks
    dtype = numerics.accumulation_dtype(x, y, frequencies, weights, weights_x, weights_y)
    x, y = numerics.promote(x, dtype), numerics.promote(y, dtype)
    wx = _set_weights(fn, x.shape[:-1], dtype, "x", where, weights, where_x, weights_x)
    wy = _set_weights(fn, y.shape[:-1], dtype, "y", where, weights, where_y, weights_y)
    zero = jnp.zeros((), dtype)
    x = jnp.where((wx != 0)[..., None], x, zero)  # masked rows may hold NaN/inf padding
    y = jnp.where((wy != 0)[..., None], y, zero)
    total_x, total_y = wx.sum(-1), wy.sum(-1)
    # |φ_X − φ_Y| is invariant under a common shift: centre both sets on their pooled weighted mean so
    # that ⟨t, x⟩ stays small (cos/sin of large arguments lose digits)
    shift = numerics.safe_div((wx[..., None] * x).sum(-2) + (wy[..., None] * y).sum(-2),
                              (total_x + total_y)[..., None])
    shift = lax.stop_gradient(shift)[..., None, :]
    x, y = x - shift, y - shift
    if frequencies is None:
        # drawn in float32 whatever the compute dtype, so that the frequencies (and the result up to
        # rounding) do not depend on the input precision or on jax_enable_x64
        base = jax.random.normal(key, (num_frequencies, x.shape[-1]), jnp.float32).astype(dtype)
        t = jnp.asarray(scale, dtype) * base
    else:
        t = numerics.promote(frequencies, dtype)

    def ecf(s, w, total):
        arg = jnp.matmul(s, jnp.swapaxes(t, -1, -2), precision=lax.Precision.HIGHEST)  # [..., n, k]
        re = (w[..., None] * jnp.cos(arg)).sum(-2)
        im = (w[..., None] * jnp.sin(arg)).sum(-2)
        return numerics.safe_div(re, total[..., None]), numerics.safe_div(im, total[..., None])

    ax, bx = ecf(x, wx, total_x)
    ay, by = ecf(y, wy, total_y)
    if alpha is None:
        per_t = jnp.square(ax - ay) + jnp.square(bx - by)
    else:
        mod_x = numerics.safe_sqrt(ax * ax + bx * bx)
        mod_y = numerics.safe_sqrt(ay * ay + by * by)
        amplitude = jnp.square(mod_x - mod_y)
        phase = 2.0 * jnp.maximum(mod_x * mod_y - (ax * ay + bx * by), zero)  # 2|φx||φy|(1 − cos Δθ)
        alpha = jnp.asarray(alpha, dtype)
        per_t = alpha * amplitude + (1.0 - alpha) * phase
    value = per_t.mean(-1)
    ok = (total_x > 0) & (total_y > 0)
    return jnp.where(ok, value, jnp.asarray(jnp.nan, dtype))


def characteristic_function_distance(x, y, *, frequencies=None, key=None, num_frequencies: int = 256,
                                     scale=None, alpha=None, where=None, weights=None,
                                     where_x=None, weights_x=None, where_y=None, weights_y=None) -> Array:
    r"""Mean squared distance between the empirical characteristic functions of two sample sets.

    CFD = (1/k) Σ_t |φ_X(t) − φ_Y(t)|², φ_X(t) = Σ_i w_i e^{i⟨t, x_i⟩} / Σ_i w_i, computed from the cosine
    and sine parts (no complex dtype). Frequencies: ``frequencies [k, d]`` (or ``[..., k, d]``) as given,
    or ``num_frequencies`` draws from N(0, scale²·I) made with ``key`` (the same frequencies for every
    batch element; drawn in float32 and cast, so they do not depend on the input dtype).

    Identities (METRICS.md §9.2, §9.6): for fixed T the CFD is exactly the biased (V-statistic) MMD² of
    the kernel k_T(x, y) = mean_t cos⟨t, x − y⟩; for t ~ N(0, scale²·I) its expectation is the biased MMD²
    of the Gaussian kernel exp(−scale²‖x − y‖²/2) (an RBF kernel of bandwidth 1/scale).

    **NCFD split** (``alpha``, METRICS.md §9.6, *Dataset Distillation with Neural Characteristic
    Function*): |φ_X − φ_Y|² = A + P with the amplitude term A = (|φ_X| − |φ_Y|)² and the phase term
    P = 2|φ_X||φ_Y|(1 − cos Δθ); with ``alpha`` the result is mean_t [α·A + (1 − α)·P] (so α = ½ gives
    ½·CFD, α = 1 the amplitude part, α = 0 the phase part). The paper's convention for α is
    [unverified]; this is the one METRICS.md states.

    Args:
      x: samples ``[..., n, d]``.
      y: samples ``[..., m, d]`` (same d; leading axes broadcast with ``x``'s).
      frequencies: ``[k, d]`` or ``[..., k, d]`` frequencies T; exclusive with ``key``.
      key: PRNG key to draw ``num_frequencies`` Gaussian frequencies (when ``frequencies`` is None).
      num_frequencies: static number k of drawn frequencies.
      scale: standard deviation of the drawn frequencies (a scalar; may be traced); default 1. Only
        with ``key``.
      alpha: float in [0, 1] (a Python number, or a traced scalar: changing it does not recompile) for
        the NCFD amplitude/phase weighting; None = plain CFD.
      where, weights: ``[..., n]`` mask / frequency weights applied to the samples of both sets.
      where_x, weights_x: ``[..., n]``, for ``x`` only.
      where_y, weights_y: ``[..., m]``, for ``y`` only.

    Returns:
      ``[...]``: the distance (≥ 0); NaN when ``x`` or ``y`` has no unmasked sample.

    Complexity: O((n + m)·k·d) time, O((n + m)·k) memory. Differentiable in ``x``, ``y`` and the
    frequencies (finite gradients also at φ = 0 with ``alpha``).

    Example:
      >>> x = jnp.array([[0.0], [1.0]]); y = jnp.array([[0.0], [2.0]]); t = jnp.array([[jnp.pi]])
      >>> print(round(float(characteristic_function_distance(x, y, frequencies=t)), 4))
      1.0
      >>> d = characteristic_function_distance(x, y, key=jax.random.key(0), num_frequencies=8)
      >>> print(d.shape, bool(d > 0), float(characteristic_function_distance(x, x, frequencies=t)))
      () True 0.0
    """
    fn = "characteristic_function_distance"
    x = jnp.asarray(x)
    y = jnp.asarray(y)
    pairwise.check_samples(fn, "x", x)  # (checks only: the jitted core promotes)
    pairwise.check_samples(fn, "y", y, d=x.shape[-1], ref_name="x")
    _batch_shape(fn, x, y, x.ndim - 2, y.ndim - 2, "[..., m, d]")
    if isinstance(alpha, (int, float, np.integer, np.floating)) and not isinstance(alpha, (bool, np.bool_)):
        if not 0.0 <= float(alpha) <= 1.0:
            _fail(fn, f"argument `alpha` must be in [0, 1]; got {alpha}.")
    if alpha is not None:
        alpha = jnp.asarray(alpha)
        if alpha.ndim != 0 or not jnp.issubdtype(alpha.dtype, jnp.floating):
            _fail(fn, f"argument `alpha` must be a float scalar in [0, 1]; got {alpha.dtype} {alpha.shape}.")
    if frequencies is not None:
        if key is not None:
            raise ValueError(f"jaxmetrics.{fn}: pass either `frequencies` or `key`, not both.")
        if scale is not None:
            raise ValueError(f"jaxmetrics.{fn}: `scale` applies to frequencies drawn with `key`; scale the "
                             "given `frequencies` yourself.")
        frequencies = jnp.asarray(frequencies)
        checks.check_min_rank(fn, "frequencies", frequencies, 2, "[..., k, d]")
        _real_dtype(fn, "frequencies", frequencies)
        if frequencies.shape[-1] != x.shape[-1]:
            _fail(fn, f"argument `frequencies` must have the feature dimension d = {x.shape[-1]} of `x`; "
                      f"got shape {frequencies.shape}.")
        num_frequencies = None
    else:
        if key is None:
            raise ValueError(f"jaxmetrics.{fn}: pass `frequencies` [k, d] or a PRNG `key` to draw them.")
        num_frequencies = checks.check_static_int(fn, "num_frequencies", num_frequencies, 1)
        scale = jnp.asarray(1.0 if scale is None else scale)
        if scale.ndim != 0:
            _fail(fn, f"argument `scale` must be a scalar; got shape {scale.shape}.")
    masks = (where, weights, where_x, weights_x, where_y, weights_y)
    return _cf_core(x, y, frequencies, key, scale, alpha, masks, num_frequencies=num_frequencies)


# --------------------------------------------------------------------------------------------------
# two-sample Kolmogorov–Smirnov


class KSResult(NamedTuple):
    """Two-sample Kolmogorov–Smirnov test: the statistic D and its asymptotic two-sided p-value."""

    statistic: Array
    pvalue: Array


def _kolmogorov_sf(lam):
    """Q_KS(λ) = P(K > λ) = 2Σ_{j≥1} (−1)^{j−1} e^{−2j²λ²} (Kolmogorov's limit distribution).

    For λ ≥ 1 the alternating series; for λ < 1 its Jacobi-theta form
    1 − (√(2π)/λ) Σ_{j≥1} e^{−(2j−1)²π²/(8λ²)}, which converges fast there. Each is truncated at
    ``_KOLMOGOROV_TERMS`` = 6 terms: the first omitted term is below e^{−98} (λ ≥ 1) and
    e^{−(13π)²/8} ≈ e^{−208} (λ < 1), far below float64 resolution. Q(λ ≤ 0) = 1.
    """
    dtype = lam.dtype
    j = jnp.arange(1, _KOLMOGOROV_TERMS + 1, dtype=dtype)
    big = lam >= 1.0
    lb = jnp.where(big, lam, jnp.ones_like(lam))[..., None]
    sign = jnp.where(j % 2 == 1, 1.0, -1.0).astype(dtype)
    q_big = 2.0 * jnp.sum(sign * jnp.exp(-2.0 * j * j * lb * lb), axis=-1)
    pos = lam > 0
    ls = jnp.where(pos & ~big, lam, jnp.ones_like(lam))[..., None]
    q_small = 1.0 - math.sqrt(2.0 * math.pi) / ls[..., 0] * jnp.sum(
        jnp.exp(-jnp.square(2.0 * j - 1.0) * (math.pi ** 2) / (8.0 * ls * ls)), axis=-1)
    return jnp.clip(jnp.where(big, q_big, jnp.where(pos, q_small, jnp.ones_like(lam))), 0.0, 1.0)


@jax.jit
def _ks_core(x, y, masks):
    fn = "kolmogorov_smirnov"
    where, weights, where_x, weights_x, where_y, weights_y = masks
    dtype = numerics.accumulation_dtype(x, y, weights, weights_x, weights_y)
    batch = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
    wx = _set_weights(fn, x.shape, dtype, "x", where, weights, where_x, weights_x)
    wy = _set_weights(fn, y.shape, dtype, "y", where, weights, where_y, weights_y)
    # values are only compared: keep their common dtype (no rounding of large integers to float32)
    vdtype = jnp.result_type(x, y)
    x = jnp.broadcast_to(x.astype(vdtype), batch + x.shape[-1:])
    y = jnp.broadcast_to(y.astype(vdtype), batch + y.shape[-1:])
    wx = jnp.broadcast_to(wx, batch + wx.shape[-1:])
    wy = jnp.broadcast_to(wy, batch + wy.shape[-1:])
    zero = jnp.zeros((), dtype)
    z = jnp.concatenate([x, y], axis=-1)
    from_x = jnp.concatenate([wx, jnp.zeros_like(wy)], axis=-1)
    from_y = jnp.concatenate([jnp.zeros_like(wx), wy], axis=-1)
    order = jnp.argsort(z, axis=-1, stable=True)
    zs = jnp.take_along_axis(z, order, axis=-1)
    # weights (counts) of the x and y samples ≤ t: scipy's searchsorted(·, side="right")
    cx = jnp.cumsum(jnp.take_along_axis(from_x, order, axis=-1), axis=-1)
    cy = jnp.cumsum(jnp.take_along_axis(from_y, order, axis=-1), axis=-1)
    total_x, total_y = wx.sum(-1), wy.sum(-1)
    # (F − G)·n·m = cx·m − cy·n: exact in floating point for integer weights (counts), so the sup is
    # found exactly and D = max|cx·m − cy·n| / (n·m) is the correctly rounded rational
    diff = cx * total_y[..., None] - cy * total_x[..., None]
    # F − G is evaluated after the last of each run of tied values (where the step functions are)
    last = jnp.concatenate([zs[..., 1:] != zs[..., :-1], jnp.ones(batch + (1,), bool)], axis=-1)
    stat = numerics.safe_div(jnp.max(jnp.where(last, jnp.abs(diff), zero), axis=-1), total_x * total_y)
    n_e = numerics.safe_div(total_x * total_y, total_x + total_y)
    root = numerics.safe_sqrt(n_e)
    lam = (root + 0.12 + numerics.safe_div(jnp.asarray(0.11, dtype), root)) * stat
    pvalue = _kolmogorov_sf(lam)
    ok = (total_x > 0) & (total_y > 0)
    nan = jnp.asarray(jnp.nan, dtype)
    return KSResult(jnp.where(ok, stat, nan), jnp.where(ok, pvalue, nan))


def kolmogorov_smirnov(x, y, *, where=None, weights=None, where_x=None, weights_x=None, where_y=None,
                       weights_y=None) -> KSResult:
    r"""Two-sample Kolmogorov–Smirnov statistic D = sup_t |F_X(t) − G_Y(t)| and its asymptotic p-value.

    F_X(t) = Σ_i w_i 1[x_i ≤ t] / Σ_i w_i (and G_Y likewise) are the (weighted) empirical CDFs. One sort of
    the pooled sample and two cumulative sums: F − G is evaluated after the last of every run of tied
    values, so ties are handled exactly. With integer weights (counts) the supremum is located in exact
    arithmetic, max_t |c_x(t)·m − c_y(t)·n|, and divided once by n·m: the statistic is the correctly
    rounded rational (float64), within 4e-16 of ``scipy.stats.ks_2samp(x, y).statistic``, which rounds
    F and G before subtracting. Counts are exact up to 2^24 in float32 (2^53 in float64).

    **p-value** (METRICS.md §9.5): the two-sided asymptotic p = Q_KS(λ), Kolmogorov's limit survival
    function Q_KS(λ) = 2Σ_{j≥1}(−1)^{j−1}e^{−2j²λ²} (evaluated with 6 terms of this series for λ ≥ 1 and
    of its theta-function form below: error < 1e-40), with Stephens' finite-sample correction
    λ = (√n_e + 0.12 + 0.11/√n_e)·D and n_e = nm/(n + m), where n = Σw_x and m = Σw_y (the numbers of
    valid samples when unweighted). This is Numerical Recipes' ``probks`` and what
    ``scipy.stats.ks_2samp`` returned up to SciPy 1.4: ``kstwobign.sf(λ)``. SciPy ≥ 1.5 with
    ``method="asymp"`` instead uses the exact one-sample distribution ``kstwo.sf(D, round(n_e))``, which
    is not jit-friendly; the two differ by up to a few 1e-2 for n_e in the tens and agree as n_e grows.
    Ties make the test conservative (p too large). Use integer (frequency) weights for a meaningful
    p-value.

    Args:
      x: 1-D samples ``[..., n]`` (the last axis is the sample axis; leading axes are batch axes).
      y: 1-D samples ``[..., m]`` (m may differ from n; leading axes broadcast with ``x``'s).
      where, weights: ``[..., n]`` mask / frequency weights applied to the samples of both sets.
      where_x, weights_x: ``[..., n]``, for ``x`` only.
      where_y, weights_y: ``[..., m]``, for ``y`` only.

    Returns:
      :class:`KSResult` ``(statistic [...], pvalue [...])``; both NaN when a set has no valid sample.

    Complexity: O((n + m) log(n + m)) (one sort). Piecewise constant in the data: zero gradients
    (finite), not differentiable.

    Example:
      >>> res = kolmogorov_smirnov(jnp.array([0.0, 1.0, 2.0, 3.0]), jnp.array([2.0, 3.0, 4.0, 5.0]))
      >>> print(float(res.statistic), round(float(res.pvalue), 4))
      0.5 0.5344
    """
    fn = "kolmogorov_smirnov"
    x, y = jnp.asarray(x), jnp.asarray(y)
    for name, a in (("x", x), ("y", y)):
        checks.check_min_rank(fn, name, a, 1, "[..., n]")
        _real_dtype(fn, name, a)
        if a.shape[-1] < 1:
            _fail(fn, f"argument `{name}` must have at least one sample [..., n >= 1]; got shape {a.shape}.")
    _batch_shape(fn, x, y, x.ndim - 1, y.ndim - 1, "[..., m]")
    return _ks_core(x, y, (where, weights, where_x, weights_x, where_y, weights_y))


ks_statistic = kolmogorov_smirnov


# --------------------------------------------------------------------------------------------------
# registry

_NUMPY_REF = "numpy reference (tests/reference/divergences.py)"
for _name, _fn, _diff, _oracle, _aliases in [
    ("kl_divergence", kl_divergence, True, "scipy.stats.entropy(p, q, base=base)", ()),
    ("jensen_shannon", jensen_shannon, True,
     "scipy.spatial.distance.jensenshannon(p, q, base=base) (the distance; squared for the divergence)", ()),
    ("total_variation", total_variation, True, f"0.5 * sum|p - q|, {_NUMPY_REF}", ()),
    ("hellinger", hellinger, True, f"sqrt(0.5 * sum(sqrt p - sqrt q)^2), {_NUMPY_REF}", ()),
    ("bhattacharyya", bhattacharyya, True, f"-log sum sqrt(p q), {_NUMPY_REF}", ()),
    ("characteristic_function_distance", characteristic_function_distance, True,
     "numpy complex-exponential ECF and the biased MMD^2 with kernel mean_t cos<t, x - y> "
     "(tests/reference/divergences.py)", ()),
    ("kolmogorov_smirnov", kolmogorov_smirnov, False,
     "scipy.stats.ks_2samp (statistic); scipy.stats.kstwobign.sf of Stephens' lambda (p-value)",
     ("ks_statistic",)),
]:
    register(MetricInfo(name=_name, family="distances", fn=_fn, differentiable=_diff, higher_is_better=False,
                        streaming=None, oracle=_oracle, aliases=_aliases))
del _name, _fn, _diff, _oracle, _aliases
