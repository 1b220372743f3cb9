"""Percentile bootstrap confidence intervals, with every resample evaluated by one ``jax.vmap``.

The unit of independence of each task is resampled with replacement (samples for classification,
queries for ranking, observations for forecasts, and the real and the fake rows *independently* for
generative metrics). Resample indices come from ``jax.random`` (:func:`bootstrap_indices`), so a
report is reproducible from its seed, and tests can regenerate exactly the same resamples.

:func:`evaluate` maps a metric-suite function over the identity resample (the point estimate) and the
B bootstrap resamples with **one** ``jax.jit(jax.vmap(...))``, applied chunk by chunk (a Python loop
over equally sized chunks: one compilation, bounded memory, and a progress bar). :func:`percentile_interval`
turns the B values of a metric into the percentile interval
``[q_{(1-ci)/2}, q_{(1+ci)/2}]`` (numpy's default linear interpolation between order statistics),
ignoring resamples on which the metric is undefined (NaN).

Example:

>>> import numpy as np
>>> percentile_interval(np.arange(101.0), ci=0.9)
(5.0, 95.0)
>>> idx = bootstrap_indices(0, {"samples": 4}, 3)["samples"]
>>> idx.shape, bool(((idx >= 0) & (idx < 4)).all())
((3, 4), True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxmetrics.cli._progress import progress

__all__ = ["bootstrap_indices", "chunk_size", "evaluate", "percentile_interval", "resample_indices"]


def resample_indices(key, n: int, num_resamples: int) -> jax.Array:
    """``[num_resamples, n]`` int32 indices drawn uniformly from ``0..n-1`` with replacement."""
    return jax.random.randint(key, (num_resamples, n), 0, n, dtype=jnp.int32)


def bootstrap_indices(seed: int, sizes: Mapping[str, int], num_resamples: int) -> dict[str, np.ndarray]:
    """The resample indices a report uses: one independent ``[B, n_g]`` array per group.

    ``key = jax.random.key(seed)`` is split into ``len(sizes)`` keys, one per group in the order of
    ``sizes``; group g gets ``resample_indices(keys[g], n_g, num_resamples)``.

    Args:
      seed: the report's ``--seed``.
      sizes: ``{group: number of units}`` (e.g. ``{"samples": N}`` or ``{"real": n, "fake": m}``).
      num_resamples: B (``--bootstrap``); 0 gives ``[0, n_g]`` arrays.

    Returns:
      ``{group: int32 numpy array [B, n_g]}``.
    """
    keys = jax.random.split(jax.random.key(seed), len(sizes))
    return {g: np.asarray(resample_indices(k, int(n), int(num_resamples))) for (g, n), k in zip(sizes.items(), keys)}


def percentile_interval(values, ci: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of one metric from its values on the resamples.

    Args:
      values: ``[B]`` metric values (NaN entries — resamples where the metric is undefined — are
        dropped).
      ci: coverage of the interval, in (0, 1).

    Returns:
      ``(low, high)`` = ``np.percentile(v, [100·(1−ci)/2, 100·(1+ci)/2])`` over the non-NaN values
      (linear interpolation; the levels rounded to 10 decimals, so ``ci=0.9`` is exactly [5, 95]);
      ``(nan, nan)`` when none is left.
    """
    if not 0.0 < ci < 1.0:
        raise ValueError(f"percentile_interval: ci must lie in (0, 1); got {ci!r}.")
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[~np.isnan(v)]
    if v.size == 0:
        return math.nan, math.nan
    # percentile levels rounded to 10 decimals, so that ci=0.9 gives exactly the 5th and 95th
    q = [round(50.0 * (1.0 - ci), 10), round(50.0 * (1.0 + ci), 10)]
    low, high = np.percentile(v, q)
    return float(low), float(high)


def chunk_size(num_rows: int, bytes_per_row: int, *, memory_budget: int = 256 * 2**20, min_chunks: int = 10) -> int:
    """Resamples per vmapped call: at most ``memory_budget / bytes_per_row`` and about
    ``num_rows / min_chunks`` (so the progress bar moves), at least 1."""
    by_memory = max(1, memory_budget // max(1, int(bytes_per_row)))
    by_progress = max(1, math.ceil(num_rows / min_chunks))
    return int(max(1, min(by_memory, by_progress, num_rows)))


_RUNNERS: dict = {}


def _batched(fn):
    """``jax.jit(vmap over resamples of fn)``, cached per ``fn`` so repeated reports reuse compilations."""
    run = _RUNNERS.get(fn)
    if run is None:
        @jax.jit
        def run(data, idx):
            def one(ix):
                return jnp.atleast_1d(fn({g: {k: v[ix[g]] for k, v in data[g].items()} for g in data}))

            return jax.vmap(one)(idx)

        _RUNNERS[fn] = run
    return run


def evaluate(fns, groups: Mapping[str, Mapping[str, np.ndarray]], indices: Mapping[str, np.ndarray], *,
             chunk: int, desc: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Evaluates metric functions on the data and on every bootstrap resample, one vmap per function.

    Each function is jitted once as ``jax.jit(jax.vmap(resample-then-fn))`` and applied to equally sized
    chunks of resamples (the last chunk is padded with the identity resample, so every call has the same
    shape and compiles once). Metrics are separate programs rather than one fused program: the XLA CPU
    runtime (jaxlib 0.10) was seen to deadlock intermittently when several eigendecompositions and
    k-NN sorts were batched in a single program, and one program per metric also bounds peak memory.

    Args:
      fns: a sequence of ``fn(groups) -> [k_i]`` (pure, jit-able) where ``groups`` has the structure of
        ``groups`` below, resampled.
      groups: ``{group: {name: array}}``; every array of a group is resampled along its axis 0.
      indices: ``{group: [B, n_g]}`` resample indices (from :func:`bootstrap_indices`).
      chunk: resamples per vmapped call (see :func:`chunk_size`).
      desc: progress-bar label.

    Returns:
      ``(point [K], resamples [B, K])`` as float64 numpy arrays, K = Σ k_i in the order of ``fns``;
      ``point`` is each function on the data itself (the identity resample, evaluated in the first
      chunk).
    """
    sizes = {g: next(iter(a.values())).shape[0] for g, a in groups.items()}
    rows = {g: np.concatenate([np.arange(n, dtype=np.int32)[None], np.asarray(indices[g], np.int32)])
            for g, n in sizes.items()}
    total = next(iter(rows.values())).shape[0]
    chunk = max(1, min(int(chunk), total))
    num_chunks = -(-total // chunk)
    data = jax.tree.map(jnp.asarray, {g: dict(a) for g, a in groups.items()})
    chunks = []
    for c in range(num_chunks):
        idx = {}
        for g, r in rows.items():
            part = r[c * chunk:(c + 1) * chunk]
            if part.shape[0] < chunk:  # pad with the identity resample; dropped below
                part = np.concatenate([part, np.repeat(r[:1], chunk - part.shape[0], axis=0)])
            idx[g] = part
        chunks.append(idx)

    runs = [_batched(fn) for fn in fns]
    out: list[list[np.ndarray]] = [[] for _ in fns]
    steps = [(i, c) for i in range(len(fns)) for c in range(num_chunks)]
    for i, c in progress(steps, desc=desc):
        out[i].append(np.asarray(runs[i](data, chunks[c]), dtype=np.float64))
    values = np.concatenate([np.concatenate(o)[:total] for o in out], axis=1)
    return values[0], values[1:]
