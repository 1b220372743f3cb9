"""The streaming contract: a metric as four pure functions over a fixed-shape state (DESIGN.md §3).

A :class:`Metric` bundles

* ``init(dtype=None) -> State`` — the identity element of ``merge``;
* ``update(state, *arrays, where=None, weights=None) -> State`` — folds one batch in;
* ``merge(a, b) -> State`` — associative and commutative;
* ``compute(state) -> result``.

States are NamedTuples of arrays whose shapes and dtypes are fixed by ``init`` (never weak-typed), so a
state can be the carry of ``lax.scan`` or the argument of a jitted step without retracing.

Most metrics have *additive* states (counts, weighted sums, histograms, confusion matrices): their
``merge`` is :func:`tree_add`, and the cross-device reduction is a ``psum``
(:func:`jaxmetrics.parallel.reduce_state` recognises ``tree_add`` and uses it).

Example::

    m = jaxmetrics.classification.accuracy_metric()
    state = m.init()
    for logits, labels in batches:
        state = m.update(state, logits, labels)
    acc = m.compute(state)
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from jaxmetrics._src import checks, numerics

State = Any

__all__ = ["Metric", "MeanState", "tree_add", "default_state_dtype", "mean_metric", "mean_or_per_sample", "one_shot"]


class Metric(NamedTuple):
    """A streaming metric: ``init``, ``update``, ``merge``, ``compute`` (see module docstring)."""

    init: Callable[..., State]
    update: Callable[..., State]
    merge: Callable[[State, State], State]
    compute: Callable[[State], Any]


def tree_add(a: State, b: State) -> State:
    """``merge`` for additive states: leaf-wise sum. Associative, commutative, zeros are the identity."""
    return jax.tree.map(jnp.add, a, b)


def default_state_dtype(dtype=None) -> jnp.dtype:
    """State dtype: ``dtype`` if given, else float64 under ``jax_enable_x64`` and float32 otherwise."""
    if dtype is not None:
        return jnp.dtype(dtype)
    return jnp.dtype(jax.dtypes.canonicalize_dtype(jnp.float64))


def one_shot(metric: Metric, *arrays, where=None, weights=None):
    """``compute(update(init(dtype), *arrays))`` with the state dtype chosen from the inputs.

    bf16/f16 inputs accumulate in float32 and float64 inputs in float64, so the one-shot result of a
    metric never depends on whether x64 happens to be enabled for float32 data.
    """
    dtype = numerics.accumulation_dtype(*[a for a in arrays if a is not None], weights)
    state = metric.update(metric.init(dtype), *arrays, where=where, weights=weights)
    return metric.compute(state)


class MeanState(NamedTuple):
    """Weighted sum of per-sample values and the total weight, each ``[...]`` (the batch axes)."""

    total: jax.Array
    weight: jax.Array


def mean_metric(fn: str, per_sample: Callable, *, forward_where: bool = False) -> Metric:
    """A streaming weighted mean over the sample axis N — the metric of every mean-type score.

    ``per_sample(*arrays, **kwargs)`` returns the per-sample values ``[..., N]``, or a pair
    ``(values, valid)`` where the bool ``valid [..., N]`` marks samples that have a value at all
    (invalid ones are treated exactly like ``where=False``). Masked samples contribute exactly 0, even
    when their value is NaN or inf (padding).

    With ``forward_where=True``, ``where`` is not a per-sample mask but is passed on as
    ``per_sample(*arrays, where=where, **kwargs)`` (ranking: ``where [..., Q, n_items]`` marks valid
    items and a query without any is reported invalid through ``valid``); ``weights`` stay per-sample.

    The state is :class:`MeanState` ``(Σ w·v, Σ w)``. ``init(dtype=None, batch_shape=())`` gives
    scalars that broadcast to the batch axes ``[...]`` on the first ``update`` (pass ``batch_shape`` to
    start a ``lax.scan`` carry at its final shape). ``merge`` is :func:`tree_add` (a ``psum`` across
    devices); ``compute`` is the ratio, NaN when the total weight is 0.
    """
    def init(dtype=None, batch_shape=()):
        d = default_state_dtype(dtype)
        return MeanState(jnp.zeros(batch_shape, d), jnp.zeros(batch_shape, d))

    def update(state, *arrays, where=None, weights=None, **kwargs):
        if forward_where:
            out = per_sample(*arrays, where=where, **kwargs)
            where = None
        else:
            out = per_sample(*arrays, **kwargs)
        values, valid = out if isinstance(out, tuple) else (out, None)
        d = state.total.dtype
        w = checks.sample_weights(fn, values.shape, d, where, weights)
        if valid is not None:
            w = jnp.where(valid, w, jnp.zeros((), d))
        v = jnp.where(w != 0, values.astype(d), jnp.zeros((), d))
        return MeanState(state.total + (w * v).sum(-1), state.weight + w.sum(-1))

    def compute(state):
        return numerics.safe_div(state.total, state.weight, jnp.nan)

    return Metric(init, update, tree_add, compute)


def mean_or_per_sample(fn: str, metric: Metric, per_sample: Callable, arrays, *, reduce, where, weights):
    """The one-shot of a mean-type metric: its weighted mean (``one_shot`` of ``metric``) for
    ``reduce="mean"``, or for ``reduce=None`` the per-sample values ``[..., N]`` with masked samples 0.

    ``per_sample(*arrays, where=where)`` returns ``(values, valid)``, ``valid`` already combining
    ``where``. ``weights`` only weight samples inside the mean, so they are an error with ``reduce=None``.
    """
    if reduce is None:
        if weights is not None:
            raise ValueError(f"jaxmetrics.{fn}: `weights` weight samples in the mean; pass reduce='mean'.")
        values, valid = per_sample(*arrays, where=where)
        return jnp.where(valid, values, jnp.zeros((), values.dtype))
    return one_shot(metric, *arrays, where=where, weights=weights)
