"""Cross-device reduction of metric states: ``shard_map``, ``pmap`` and sharded ``jit``.

Inside ``shard_map`` or ``pmap`` every device holds a shard of the data and builds a local state with
``metric.update``; :func:`reduce_state` then combines the local states across a named mesh axis:

* additive states (``metric.merge is tree_add``) are reduced with one ``lax.psum`` — the sufficient
  statistics of the whole dataset, on every device;
* any other state is gathered (one slot per device) and folded with ``metric.merge`` (correct for every
  associative merge, at the cost of gathering one state per device).

Under a plain sharded ``jit`` over a mesh with ``Auto`` axes (arrays placed with a ``NamedSharding``)
no helper is needed: call the metric on the global arrays and XLA inserts the collectives. With
``Explicit`` axes (the default of ``jax.make_mesh`` in recent JAX), sorts and scatters refuse an input
sharded along the sample axis: use :func:`sharded_compute` (mergeable metrics) or replicate the inputs
first with ``jax.sharding.reshard(x, P())`` (one-shot metrics such as exact AUROC).

Example (8 devices, ``N`` divisible by 8)::

    mesh = jax.make_mesh((8,), ("data",))
    m = jaxmetrics.classification.accuracy_metric()
    acc = jaxmetrics.parallel.sharded_compute(m, logits, labels, mesh=mesh, axis_name="data")
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec as P

from jaxmetrics._src.metric import Metric, State, default_state_dtype, tree_add
from jaxmetrics._src import numerics

__all__ = ["psum_state", "reduce_state", "gather", "sharded_compute"]


def psum_state(state: State, axis_name) -> State:
    """Sums an additive state over the named axis ``axis_name`` (inside ``shard_map`` / ``pmap``)."""
    return jax.tree.map(lambda x: jax.lax.psum(x, axis_name), state)


def reduce_state(metric: Metric, state: State, axis_name) -> State:
    """Merges the per-device states of ``metric`` across ``axis_name``; every device gets the result.

    Uses ``psum`` when ``metric.merge`` is :func:`jaxmetrics.tree_add` (additive state), otherwise an
    ``all_gather`` followed by a left fold of ``metric.merge`` over the devices.
    """
    if metric.merge is tree_add:
        return psum_state(state, axis_name)
    # Gather every device's state with a psum of one-hot slots: unlike all_gather, the result is typed
    # as replicated across the axis, so it can leave shard_map with out_specs=P().
    size = jax.lax.axis_size(axis_name)
    me = jax.lax.axis_index(axis_name)

    def slots(x):
        return jax.lax.psum(jnp.zeros((size, *x.shape), x.dtype).at[me].set(x), axis_name)

    gathered = jax.tree.map(slots, state)
    out = jax.tree.map(lambda x: x[0], gathered)
    for i in range(1, size):
        out = metric.merge(out, jax.tree.map(lambda x, i=i: x[i], gathered))
    return out


def gather(x: jax.Array, axis_name, axis: int = 0) -> jax.Array:
    """Concatenates the shards of ``x`` along ``axis`` (for one-shot metrics without sufficient
    statistics, e.g. exact AUROC, which need all samples)."""
    return jax.lax.all_gather(x, axis_name, axis=axis, tiled=True)


def sharded_compute(metric: Metric, *arrays, mesh, axis_name, where=None, weights=None, dtype=None):
    """Computes ``metric`` over ``arrays`` split along their first axis across ``mesh[axis_name]``.

    Each device runs ``update`` on its shard, the states are combined with :func:`reduce_state`, and
    ``compute`` runs on the reduced state. The leading axis must be divisible by the axis size.
    ``where``/``weights`` (if given) are sharded the same way and must have the samples' leading axis.
    """
    dtype = default_state_dtype(dtype or numerics.accumulation_dtype(*arrays, weights))
    has_where, has_weights = where is not None, weights is not None
    inputs = list(arrays) + ([where] if has_where else []) + ([weights] if has_weights else [])
    inputs = [jax.device_put(jnp.asarray(x), NamedSharding(mesh, P(axis_name))) for x in inputs]

    def local(*xs):
        xs = list(xs)
        w = xs.pop() if has_weights else None
        m = xs.pop() if has_where else None
        state = metric.update(metric.init(dtype), *xs, where=m, weights=w)
        return reduce_state(metric, state, axis_name)

    fn = jax.shard_map(local, mesh=mesh, in_specs=tuple(P(axis_name) for _ in inputs), out_specs=P())
    return metric.compute(jax.jit(fn)(*inputs))
