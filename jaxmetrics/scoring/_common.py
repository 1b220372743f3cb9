"""Shared machinery of the scoring family: the weighted-mean state, ``reduce=``, argument checks.

Every mean-type score is a per-observation function ``scores [..., N]`` plus this module's
:func:`mean_score_metric`, whose state is ``(Σ w·score, Σ w)`` over the observation axis N. The one-shot
``reduce="mean"`` path of every score is ``compute(update(init(dtype), ...))`` of that metric
(:func:`finish`), so streaming equals one-shot by construction.
"""

from __future__ import annotations

import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxmetrics._src import checks, numerics
from jaxmetrics._src.metric import MeanState, Metric, mean_metric, one_shot

Array = jax.Array

REDUCTIONS = ("mean", "none")


ScoreState = MeanState  # (Σ w·score, Σ w) over the observation axis N


def fail(fn: str, message: str):
    raise checks.ShapeError(f"jaxmetrics.{fn}: {message}")


def dtype_of(*arrays) -> jnp.dtype:
    """Compute dtype of a score: at least float32, float64 if any floating input is float64."""
    return numerics.accumulation_dtype(*[jnp.asarray(a) for a in arrays if a is not None])


def check_obs(fn: str, obs, name: str = "obs") -> Array:
    obs = jnp.asarray(obs)
    checks.check_min_rank(fn, name, obs, 1, "[..., N]")
    return obs


def check_like(fn: str, name: str, x, ref_name: str, ref, layout: str = "[..., N]") -> Array:
    """Requires ``x.shape == ref.shape`` exactly."""
    x = jnp.asarray(x)
    checks.check_same_shape(fn, name, x, ref_name, ref, layout)
    return x


def check_broadcast(fn: str, name: str, x, shape: tuple, what: str) -> Array:
    """Requires ``x`` to broadcast to ``shape`` (without changing it)."""
    x = jnp.asarray(x)
    try:
        ok = np.broadcast_shapes(x.shape, tuple(shape)) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        fail(fn, f"argument `{name}` must broadcast to {what} {tuple(shape)}; got {x.shape}.")
    return x


def check_ensemble(fn: str, forecasts, obs, *, multivariate: bool = False) -> tuple[Array, Array]:
    """``forecasts [..., N, M]`` with ``obs [..., N]`` (or ``[..., N, M, D]`` with ``[..., N, D]``)."""
    forecasts = jnp.asarray(forecasts)
    obs = jnp.asarray(obs)
    if multivariate:
        checks.check_min_rank(fn, "forecasts", forecasts, 3, "[..., N, M, D]")
        checks.check_min_rank(fn, "obs", obs, 2, "[..., N, D]")
        expected = forecasts.shape[:-2] + forecasts.shape[-1:]
        if obs.shape != expected:
            fail(fn, f"argument `obs` must have shape [..., N, D] = {expected} to match `forecasts` "
                 f"{forecasts.shape} ([..., N, M, D]); got {obs.shape}.")
    else:
        checks.check_min_rank(fn, "forecasts", forecasts, 2, "[..., N, M]")
        if obs.shape != forecasts.shape[:-1]:
            fail(fn, f"argument `obs` must have shape [..., N] = {forecasts.shape[:-1]} to match `forecasts` "
                 f"{forecasts.shape} ([..., N, M]); got {obs.shape}.")
    return forecasts, obs


def static_float(fn: str, name: str, value, lo: float, hi: float, *, closed: bool = False) -> float:
    """A static Python float in the open interval (lo, hi) (closed with ``closed=True``)."""
    if isinstance(value, jax.Array) and not isinstance(value, jax.core.Tracer) and value.ndim == 0:
        value = float(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        fail(fn, f"argument `{name}` must be a static Python float; got {type(value).__name__} {value!r}.")
    value = float(value)
    ok = lo <= value <= hi if closed else lo < value < hi
    if not ok:
        br = "[]" if closed else "()"
        fail(fn, f"argument `{name}` must lie in {br[0]}{lo}, {hi}{br[1]}; got {value}.")
    return value


def static_levels(fn: str, levels) -> tuple[float, ...]:
    """A static, non-empty tuple of distinct quantile levels in (0, 1)."""
    if levels is None:
        fail(fn, "argument `levels` (the static quantile levels, a tuple of floats) is required.")
    if isinstance(levels, jax.core.Tracer):
        fail(fn, "argument `levels` must be static (a tuple of Python floats), not a traced array.")
    try:
        out = tuple(float(v) for v in np.ravel(np.asarray(levels, dtype=np.float64)))
    except (TypeError, ValueError):
        fail(fn, f"argument `levels` must be a tuple of floats; got {levels!r}.")
    if not out:
        fail(fn, "argument `levels` must not be empty.")
    if any(not (0.0 < v < 1.0) for v in out):
        fail(fn, f"argument `levels` must lie in the open interval (0, 1); got {out}.")
    if len(set(out)) != len(out):
        fail(fn, f"argument `levels` must be distinct; got {out}.")
    return out


def check_reduce(fn: str, reduce: str) -> None:
    checks.check_choice(fn, "reduce", reduce, REDUCTIONS)


# --------------------------------------------------------------------------------------------------
# The weighted-mean metric and the one-shot path

PerObs = Callable[..., "tuple[Array, Array | None]"]


def mean_score_metric(fn: str, per_obs: PerObs) -> Metric:
    """The streaming weighted mean over the observation axis N (:func:`jaxmetrics._src.metric.mean_metric`).

    ``per_obs(*arrays, **array_kwargs) -> (scores [..., N], valid [..., N] bool or None)``; ``valid``
    marks observations that have a score at all (e.g. an ensemble with every member masked has none);
    invalid observations are treated exactly like ``where=False``.
    """
    return mean_metric(fn, per_obs)


def observation_weights(fn, shape, dtype, where, weights, valid=None) -> Array:
    w = checks.sample_weights(fn, shape, dtype, where, weights)
    if valid is not None:
        w = jnp.where(valid, w, jnp.zeros((), dtype))
    return w


def finish(fn: str, metric: Metric, per_obs: PerObs, reduce: str, arrays: tuple, *, where=None,
           weights=None, **kwargs) -> Array:
    """The one-shot path shared by every mean-type score.

    ``reduce="mean"``: :func:`jaxmetrics.one_shot` of ``metric`` (``compute(update(init(dtype), ...))``
    with the state dtype chosen from the inputs), with ``kwargs`` bound to ``update``.
    ``reduce="none"``: the per-observation scores ``[..., N]`` with masked (``where`` False, weight 0,
    or invalid) entries set to 0.
    """
    check_reduce(fn, reduce)
    if reduce == "mean":  # literally jaxmetrics.one_shot of the streaming metric
        if kwargs:  # per-member arrays (member_weights, member_where) are bound to update
            metric = metric._replace(update=functools.partial(metric.update, **kwargs))
        return one_shot(metric, *arrays, where=where, weights=weights)
    scores, valid = per_obs(*arrays, **kwargs)
    w = observation_weights(fn, scores.shape, scores.dtype, where, weights, valid)
    return jnp.where(w != 0, scores, jnp.zeros((), scores.dtype))



def score(fn: str, factory: Callable[..., PerObs], config: dict, reduce: str, arrays: tuple, *, where=None,
          weights=None, **array_kwargs) -> Array:
    """The public one-shot entry point of a mean-type score: checks ``reduce`` and runs :func:`finish`
    for ``mean_score_metric(fn, factory(**config))`` in a jitted core, so eager calls compile once per
    shape and static configuration (inside a user's ``jit``/``vmap``/``grad`` it simply inlines).

    ``factory`` must be a module-level function (it is a static jit argument) and ``config`` hashable.
    """
    check_reduce(fn, reduce)
    return _score_core(tuple(arrays), dict(array_kwargs), where, weights, fn=fn, factory=factory,
                       config=tuple(sorted(config.items())), reduce=reduce)


@functools.partial(jax.jit, static_argnames=("fn", "factory", "config", "reduce"))
def _score_core(arrays, array_kwargs, where, weights, *, fn, factory, config, reduce):
    per_obs = factory(**dict(config))
    metric = mean_score_metric(fn, per_obs)
    return finish(fn, metric, per_obs, reduce, arrays, where=where, weights=weights, **array_kwargs)
