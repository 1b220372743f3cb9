r"""Kernel Stein discrepancy (KSD) of samples against a target score, and its wild-bootstrap test.

For samples x₁..xₙ (from an unknown Q) and the **score** s = ∇ log p of a target density p (known up
to its normalising constant), the Stein kernel of a base kernel k is

.. math::

    u_p(x, y) = s(x)^\top s(y)\,k(x, y) + s(x)^\top \nabla_y k(x, y) + s(y)^\top \nabla_x k(x, y)
                + \operatorname{tr}\,\nabla_x \nabla_y^\top k(x, y),

and KSD²(Q, p) = E_{x, x′ ~ Q} u_p(x, x′), which is 0 iff Q = p (for the kernels below and p with a
smooth positive density; Liu, Lee & Jordan 2016; Chwialkowski, Strathmann & Gretton 2016; Gorham &
Mackey 2017). It needs only the score at the samples — the standard goodness-of-fit measure for MCMC and
diffusion samplers.

**Closed forms** (δ = x − y, r² = ‖δ‖², d the dimension, h = ``bandwidth``; no per-pair autodiff):

* ``"imq"`` (default) k = (h² + r²)^(−β), q = h² + r²:
  u = q^(−β) [s(x)ᵀs(y) + 2β (s(x) − s(y))ᵀδ / q + 2βd / q − 4β(β+1) r² / q²].
  Gorham & Mackey's convergence-determining choice is h = 1, β = 1/2 (``beta`` ∈ (0, 1)), the default.
* ``"rbf"`` k = exp(−r²/(2h²)):
  u = k [s(x)ᵀs(y) + (s(x) − s(y))ᵀδ / h² + d/h² − r²/h⁴].

The same parameter names as :func:`jaxmetrics._src.pairwise.kernel_matrix` (``bandwidth``, ``beta``).
``bandwidth=None`` is the **median heuristic**: h = the median pairwise Euclidean distance of the
(unmasked) samples, exactly :func:`jaxmetrics.distances.median_heuristic` ``(x, where_x=...)`` (at most
``median_sample_size`` evenly spaced rows; 1 when the median is 0); it is differentiable and not stopped.

**Estimators** (static ``estimator``, the library's MMD naming), with sample weights w, W = Σwᵢ:

* ``"unbiased"`` (U-statistic, default): Σ_{i≠j} wᵢwⱼ u(xᵢ, xⱼ) / (W² − Σwᵢ²) — unbiased for KSD², can
  be negative (reported as is); NaN with fewer than two samples.
* ``"biased"`` (V-statistic): Σ_{i,j} wᵢwⱼ u(xᵢ, xⱼ) / W² ≥ 0 (u is a positive-definite kernel);
  E = KSD² + (E u(x, x) − KSD²)/n, so O(1/n) when Q = p; NaN when W = 0.

**Returns KSD², the squared discrepancy** (``squared=False`` gives √max(KSD², 0)), like
:func:`jaxmetrics.distances.maximum_mean_discrepancy`.

**Test** (:func:`kernel_stein_discrepancy_test`): H₀ Q = p. The statistic is the KSD² estimate above;
its null distribution is approximated by the **wild bootstrap with Rademacher multipliers** ε ∈ {±1}ⁿ
(Chwialkowski, Strathmann & Gretton 2016, i.i.d. case; valid for degenerate U- and V-statistics,
Dehling & Mikosch 1994): B_b = Σ wᵢwⱼ εᵢεⱼ u(xᵢ, xⱼ) / (same normaliser), over i ≠ j for the U- and all
i, j for the V-statistic. p-value = (1 + #{b : B_b ≥ statistic}) / (1 + ``num_bootstrap``) (never 0;
the smallest attainable value is 1/(1 + ``num_bootstrap``)); NaN when the statistic is NaN. The
multipliers are drawn from ``key`` (``jax.random.rademacher``), the same draws for every leading batch
element; ``jax.vmap`` over keys gives independent tests.

**Samples and masks.** ``x [..., n, d]``; ``score [..., n, d]`` the target score at the samples (or a
callable ``score(x)`` returning it, e.g. ``lambda x: -x`` for N(0, I), evaluated once on ``x``);
leading axes are batch axes. ``where [..., n]`` drops samples (a masked sample is absent, even if its
``x`` or ``score`` holds NaN/inf); ``weights [..., n]`` are relative sample weights (the V-statistic of
integer weights equals repeating samples; 0/1 weights give exactly the statistics of the selected
samples). Weights are ignored by the median heuristic, masks are not.

**Memory.** The n × n Stein kernel is never formed when ``chunk_size`` is set: row blocks of
``chunk_size`` rows are contracted with the weight vector (and all bootstrap multiplier vectors at once)
under ``lax.map`` (:func:`jaxmetrics._src.pairwise.map_row_chunks`) and rematerialised in the backward
pass, so memory is O(chunk_size·n + num_bootstrap·n); compute O(n²·(d + num_bootstrap)).

Oracle: ``tests/reference/ksd.py`` — a dense numpy Stein kernel from the explicit pairwise differences,
itself checked against ``jax.grad``/``jax.jacfwd`` of the base kernel in the tests.
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
from jaxmetrics.distances.kernel import median_heuristic

Array = jax.Array

__all__ = [
    "KSDTest",
    "kernel_stein_discrepancy",
    "kernel_stein_discrepancy_test",
    "ksd",
    "ksd_test",
]

_HI = lax.Precision.HIGHEST
STEIN_KERNELS = ("imq", "rbf")
ESTIMATORS = ("unbiased", "biased")


class KSDTest(NamedTuple):
    """Result of :func:`kernel_stein_discrepancy_test`: the KSD² ``statistic`` and the wild-bootstrap
    ``pvalue``, each ``[...]``."""

    statistic: Array
    pvalue: Array


# --------------------------------------------------------------------------------------------------
# closed-form Stein kernels


def _stein_block(xa, sa, xb, sb, kernel, h, beta):
    """``u_p(xa_i, xb_j)`` for ``xa, sa [c, d]``, ``xb, sb [m, d]`` (one problem); ``[c, m]``."""
    d = xa.shape[-1]
    r2 = pairwise.squared_distances(xa, xb)
    ss = jnp.matmul(sa, sb.T, precision=_HI)
    # (s(x) − s(y))ᵀ(x − y) = s(x)ᵀx − s(x)ᵀy − s(y)ᵀx + s(y)ᵀy
    cross = (jnp.sum(sa * xa, -1)[:, None] - jnp.matmul(sa, xb.T, precision=_HI)
             - jnp.matmul(xa, sb.T, precision=_HI) + jnp.sum(sb * xb, -1)[None, :])
    if kernel == "rbf":
        inv = 1.0 / (h * h)
        return jnp.exp(-0.5 * inv * r2) * (ss + inv * (cross + d) - inv * inv * r2)
    qinv = 1.0 / (h * h + r2)
    return qinv ** beta * (ss + 2.0 * beta * qinv * (cross + d) - 4.0 * beta * (beta + 1.0) * r2 * qinv * qinv)


def _stein_diagonal(s, kernel, h, beta):
    """``u_p(x_i, x_i)`` ``[n]``: δ = 0, so only the score norm and the trace term remain."""
    d = s.shape[-1]
    s2 = jnp.sum(s * s, -1)
    if kernel == "rbf":
        return s2 + d / (h * h)
    c2 = h * h
    return c2 ** (-beta) * (s2 + 2.0 * beta * d / c2)


# --------------------------------------------------------------------------------------------------
# single-problem core: x, s [n, d], w [n], h [], multipliers E [n, k] (column 0 = ones: the statistic)


def _ksd_values(x, s, w, h, mult, kernel, beta, estimator, chunk_size):
    d = x.shape[-1]
    x = x - lax.stop_gradient(jnp.mean(x, axis=0))  # δ is shift-invariant; centring keeps sᵀx small
    wm = w[:, None] * mult  # [n, k]

    def rows(block):
        u = _stein_block(block[:, :d], block[:, d:], x, s, kernel, h, beta)
        return jnp.matmul(u, wm, precision=_HI)

    if chunk_size is not None:  # rematerialise each block in the backward pass: O(chunk·n) memory
        rows = jax.checkpoint(rows)
    rowsums = pairwise.map_row_chunks(rows, jnp.concatenate([x, s], axis=-1), chunk_size=chunk_size)
    total = jnp.sum(wm * rowsums, axis=0)  # Σ_ij wᵢwⱼ εᵢεⱼ u_ij per column
    tw = jnp.sum(w)
    if estimator == "unbiased":
        diag = jnp.sum(w * w * _stein_diagonal(s, kernel, h, beta))  # εᵢ² = 1
        return numerics.safe_div(total - diag, tw * tw - jnp.sum(w * w), jnp.nan)
    return numerics.safe_div(total, tw * tw, jnp.nan)


# --------------------------------------------------------------------------------------------------
# argument handling


def _config(fn, kernel, bandwidth, beta, estimator, chunk_size, median_sample_size):
    checks.check_choice(fn, "kernel", kernel, STEIN_KERNELS)
    checks.check_choice(fn, "estimator", estimator, ESTIMATORS)
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(beta)) or float(beta) <= 0:
        _fail(fn, f"argument `beta` must be a static finite Python number > 0; got {beta!r}.")
    if bandwidth is not None and isinstance(bandwidth, (int, float, np.integer, np.floating)):
        if isinstance(bandwidth, bool) or not math.isfinite(float(bandwidth)) or float(bandwidth) <= 0:
            _fail(fn, f"argument `bandwidth` must be None (median heuristic) or > 0; got {bandwidth!r}.")
    chunk = None if chunk_size is None else checks.check_static_int(fn, "chunk_size", chunk_size, 1)
    size = checks.check_static_int(fn, "median_sample_size", median_sample_size, 2)
    return (kernel, float(beta), estimator, chunk, bandwidth is None, size)


def _inputs(fn, x, score, bandwidth):
    x = jnp.asarray(x)
    pairwise.check_samples(fn, "x", x)  # validation only: the core promotes inside its jit
    if callable(score):
        score = score(x)
    score = jnp.asarray(score)
    checks.check_min_rank(fn, "score", score, 2, "[..., n, d]")
    if not (jnp.issubdtype(score.dtype, jnp.floating) or jnp.issubdtype(score.dtype, jnp.integer)):
        _fail(fn, f"argument `score` must be a real (floating or integer) array; got dtype {score.dtype}.")
    if score.shape[-2:] != x.shape[-2:]:
        _fail(fn, f"argument `score` must have shape [..., n, d] with (n, d) = {x.shape[-2:]} of `x`; "
                  f"got shape {score.shape}.")
    try:
        np.broadcast_shapes(x.shape[:-2], score.shape[:-2])
    except ValueError as e:
        _fail(fn, f"argument `score` must have leading (batch) axes broadcastable with those of `x` "
                  f"{x.shape[:-2]}; got shape {score.shape}.", e)
    if bandwidth is None:
        bandwidth = 1.0
    bw = jnp.asarray(bandwidth)
    if not (jnp.issubdtype(bw.dtype, jnp.floating) or jnp.issubdtype(bw.dtype, jnp.integer)):
        _fail(fn, f"argument `bandwidth` must be a real scalar or [...] array; got dtype {bw.dtype}.")
    try:
        np.broadcast_shapes(x.shape[:-2], score.shape[:-2], bw.shape)
    except ValueError as e:
        _fail(fn, f"argument `bandwidth` must be a scalar or broadcast with the batch axes of `x` "
                  f"{x.shape[:-2]}; got shape {bw.shape}.", e)
    return x, score, bw


def _check_key(fn, key):
    key = jnp.asarray(key)
    if not (jnp.issubdtype(key.dtype, jax.dtypes.prng_key) or (key.shape == (2,) and key.dtype == jnp.uint32)):
        _fail(fn, f"argument `key` must be a PRNG key (jax.random.key or PRNGKey); got {key.dtype}{key.shape}.")
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) and key.shape != ():
        _fail(fn, f"argument `key` must be a single PRNG key (vmap over keys for several); got shape {key.shape}.")
    return key


@functools.partial(jax.jit, static_argnames=("cfg", "fn", "num_bootstrap", "squared"))
def _ksd_core(x, score, bandwidth, where, weights, key, *, cfg, fn, num_bootstrap, squared=True):
    """KSD² ``[...]`` (``num_bootstrap=0``) or ``KSDTest`` (statistic, p-value) of the batched problems."""
    kernel, beta, estimator, chunk_size, median, size = cfg
    dtype = numerics.accumulation_dtype(x, score, weights)
    n, d = x.shape[-2:]
    batch = np.broadcast_shapes(x.shape[:-2], score.shape[:-2])
    w = checks.sample_weights(fn, batch + (n,), dtype, where, weights)
    valid = (w > 0)[..., None]
    zero = jnp.zeros((), dtype)
    x = jnp.where(valid, jnp.broadcast_to(x.astype(dtype), batch + (n, d)), zero)  # masked rows: absent
    s = jnp.where(valid, jnp.broadcast_to(score.astype(dtype), batch + (n, d)), zero)
    if median:
        h = median_heuristic(x, where_x=w > 0, median_sample_size=size).astype(dtype)
    else:
        h = jnp.asarray(bandwidth, dtype)
    mult = jnp.ones((n, 1), dtype)
    if num_bootstrap:
        eps = jax.random.rademacher(key, (n, num_bootstrap), dtype)
        mult = jnp.concatenate([mult, eps], axis=1)

    def single(a, sa, wa, ha):
        return _ksd_values(a, sa, wa, ha, mult, kernel, beta, estimator, chunk_size)

    vals = jnp.vectorize(single, signature="(n,d),(n,d),(n),()->(k)")(x, s, w, h)
    stat = vals[..., 0]
    if not num_bootstrap:
        return stat if squared else numerics.safe_sqrt(stat)
    exceed = jnp.sum(vals[..., 1:] >= stat[..., None], axis=-1).astype(dtype)
    pvalue = jnp.where(jnp.isnan(stat), jnp.nan, (1.0 + exceed) / (1.0 + num_bootstrap)).astype(dtype)
    return KSDTest(stat, pvalue)


# --------------------------------------------------------------------------------------------------
# public functions


def kernel_stein_discrepancy(x, score, *, kernel: str = "imq", bandwidth=1.0, beta: float = 0.5,
                             estimator: str = "unbiased", squared: bool = True, chunk_size: int | None = None,
                             median_sample_size: int = 1000, where=None, weights=None) -> Array:
    r"""Kernel Stein discrepancy KSD² of samples ``x`` against a target with score ``score``.

    KSD² = E_{x, x′} u_p(x, x′) with the closed-form IMQ or RBF Stein kernel u_p, estimated by the U- or
    V-statistic over the samples (definitions, weights and masks in the module docstring). 0 in
    expectation (U) when the samples come from the target; grows as they move away from it.

    Args:
      x: samples ``[..., n, d]``.
      score: target score ∇ log p at the samples, ``[..., n, d]`` (leading axes broadcast with ``x``), or
        a callable ``score(x) -> [..., n, d]`` evaluated once on ``x`` (for a diffusion model's score at
        noise level σ: ``lambda x: score_fn(x, sigma)``).
      kernel: static ``"imq"`` ((bandwidth² + r²)^(−beta), default) or ``"rbf"``
        (exp(−r²/(2·bandwidth²))).
      bandwidth: positive scalar or ``[...]`` array (may be traced and differentiated); None for the
        median heuristic. Default 1 (Gorham & Mackey's IMQ c = 1).
      beta: static IMQ exponent > 0 (default 1/2; Gorham & Mackey require beta ∈ (0, 1)).
      estimator: static ``"unbiased"`` (U-statistic, default; may be negative) or ``"biased"``
        (V-statistic, ≥ 0).
      squared: static; True (default) returns KSD², False returns √max(KSD², 0).
      chunk_size: static rows per Stein-kernel block (None: one n × n block).
      median_sample_size: static cap on the points of the median heuristic.
      where: bool ``[..., n]`` sample mask. weights: ``[..., n]`` relative sample weights.

    Returns:
      ``[...]``; NaN when fewer than two (unbiased) or no (biased) samples are left. Oracle:
      ``tests/reference/ksd.py`` (dense numpy Stein kernel).

    Complexity: O(n²·d) time, O(chunk_size·n) memory.

    Example:
      >>> x = jnp.array([[-1.0], [1.0]])  # target N(0, 1): score −x
      >>> v = ksd(x, -x, kernel="rbf", estimator="biased")  # (2 + 2 − 2·8e⁻²) / 4
      >>> print(round(float(v), 4))
      0.4587
    """
    fn = "kernel_stein_discrepancy"
    cfg = _config(fn, kernel, bandwidth, beta, estimator, chunk_size, median_sample_size)
    if not isinstance(squared, (bool, np.bool_)):
        _fail(fn, f"argument `squared` must be a static bool; got {squared!r}.")
    x, score, bw = _inputs(fn, x, score, bandwidth)
    return _ksd_core(x, score, bw, where, weights, None, cfg=cfg, fn=fn, num_bootstrap=0, squared=bool(squared))


def kernel_stein_discrepancy_test(x, score, *, key, num_bootstrap: int = 1000, kernel: str = "imq",
                                  bandwidth=1.0, beta: float = 0.5, estimator: str = "unbiased",
                                  chunk_size: int | None = None, median_sample_size: int = 1000, where=None,
                                  weights=None) -> KSDTest:
    r"""Goodness-of-fit test of samples against a target score: KSD² and a wild-bootstrap p-value.

    H₀: the samples come from the target p. The statistic is :func:`kernel_stein_discrepancy` (KSD²,
    same arguments); its null distribution is approximated by ``num_bootstrap`` Rademacher wild-bootstrap
    replicates B_b = Σ wᵢwⱼ εᵢεⱼ u(xᵢ, xⱼ) / (normaliser) (Chwialkowski, Strathmann & Gretton 2016;
    diagonal excluded for the U-statistic), and p = (1 + #{B_b ≥ statistic}) / (1 + num_bootstrap).
    Each row block of the Stein kernel is computed once and contracted with all multiplier vectors.

    Args:
      x, score, kernel, bandwidth, beta, estimator, chunk_size, median_sample_size, where, weights: as
        :func:`kernel_stein_discrepancy`.
      key: PRNG key of the multipliers (shared by leading batch axes; ``jax.vmap`` over keys for several).
      num_bootstrap: static number of bootstrap replicates ≥ 1 (default 1000).

    Returns:
      :class:`KSDTest` ``(statistic, pvalue)``, each ``[...]``; the p-value is in
      [1/(1 + num_bootstrap), 1], NaN with the statistic. Piecewise constant in the data (zero gradient).

    Complexity: O(n²·(d + num_bootstrap)) time, O(chunk_size·n + num_bootstrap·n) memory.

    Example:
      >>> x = jnp.linspace(-2.0, 2.0, 9)[:, None]  # spread like the target N(0, 1)
      >>> out = ksd_test(x, -x, key=jax.random.key(0), num_bootstrap=99)
      >>> print(bool(0.01 <= out.pvalue <= 1.0))
      True
    """
    fn = "kernel_stein_discrepancy_test"
    cfg = _config(fn, kernel, bandwidth, beta, estimator, chunk_size, median_sample_size)
    num_bootstrap = checks.check_static_int(fn, "num_bootstrap", num_bootstrap, 1)
    key = _check_key(fn, key)
    x, score, bw = _inputs(fn, x, score, bandwidth)
    return _ksd_core(x, score, bw, where, weights, key, cfg=cfg, fn=fn, num_bootstrap=num_bootstrap)


ksd = kernel_stein_discrepancy
ksd_test = kernel_stein_discrepancy_test


# --------------------------------------------------------------------------------------------------
# registry

register(MetricInfo(
    name="kernel_stein_discrepancy", family="score_matching", fn=kernel_stein_discrepancy, differentiable=True,
    higher_is_better=False, aliases=("ksd",),
    oracle="tests/reference/ksd.py: dense numpy IMQ/RBF Stein kernel (checked against jax autodiff of k), "
           "U/V statistics; Gaussian mean-shift closed form ||mu||^2 (h^2/(h^2+2))^(d/2)"))
register(MetricInfo(
    name="kernel_stein_discrepancy_test", family="score_matching", fn=kernel_stein_discrepancy_test,
    differentiable=False, higher_is_better=None, aliases=("ksd_test",),
    oracle="tests/reference/ksd.py: same statistic; Rademacher wild bootstrap on the same multipliers; "
           "null rejection rate within a binomial band"))
