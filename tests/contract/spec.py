"""How a registered metric tells the contract suite what inputs to use.

Every ``tests/contract/cases_*.py`` module defines ``SPECS: dict[str, Spec]`` keyed by the registry
name. The suite (``test_contract.py``) fails if a registered metric has no spec.

Conventions for a :class:`Case`:

* ``args`` are the positional *data* arrays, exactly as passed to both the one-shot ``fn`` and
  ``streaming(**kwargs).update(state, *args, ...)``. Their axis 0 is the sample axis (``N``), which the
  suite splits into batches (stream/merge check) and shards over 8 devices (shard check), so ``N``
  must be divisible by 8 and >= 16. No extra leading batch axes: the vmap check adds one.
* floating arrays are float64 numpy arrays (the suite casts to f32/bf16/f16 for the dtype check);
  integer arrays are int32.
* ``kwargs`` is the static configuration (``num_classes=``, ``average=`` ...), passed to ``fn`` and to
  the streaming constructor.
* ``where`` / ``weights`` are per-sample ``[N]`` arrays or None.
* ``diff_argnums`` lists the positions in ``args`` that the grad check differentiates.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np


@dataclasses.dataclass
class Case:
    args: tuple
    kwargs: dict = dataclasses.field(default_factory=dict)
    where: np.ndarray | None = None
    weights: np.ndarray | None = None
    diff_argnums: tuple = (0,)
    label: str = "ordinary"


@dataclasses.dataclass
class Spec:
    """Input generators for one registry entry.

    make: rng -> ordinary Case (random data, including ties).
    edges: rng -> list of edge Cases for the finite-gradient check (all masked, ties, zero
      denominators, extreme logits, ...). Each must still run without error.
    bad: rng -> list of (Case, argument_name): inputs with a wrong shape/rank/dtype; the suite expects a
      ``jaxmetrics.ShapeError`` at trace time whose message contains `argument_name` in backticks.
    low_precision_rtol: tolerance of the bf16/f16 check (result on the rounded inputs computed in
      float32 vs in float64); documented per metric when looser than the default.
    call: optional adapter ``call(fn, args, kwargs, where, weights) -> output`` used instead of
      ``fn(*args, **kwargs, where=where, weights=weights)``, for entries whose public signature is not
      ``fn(*arrays, *, where, weights)``: weight-matrix spectra (no mask) or functional metrics over a
      ``loss_fn`` (the adapter closes over a fixed loss and passes the array args as params / batch /
      key data).
    jit_grad: take the finite-gradient check's gradients under ``jax.jit`` instead of eagerly. Only for
      entries whose eager gradient is a third derivative traced op by op (Hutchinson / Hutch++ traces:
      14 s eager vs 4 s jitted for ``hessian_trace``'s cases); the values checked are the same, and the
      jit check still compares the eager and jitted forward passes.
    """

    make: Callable[[np.random.Generator], Case]
    edges: Callable[[np.random.Generator], list] = lambda rng: []
    bad: Callable[[np.random.Generator], list] = lambda rng: []
    low_precision_rtol: float = 1e-4
    call: Callable | None = None
    jit_grad: bool = False
