"""The benchmark harness: interleaved, warm, side-by-side timings with compile time reported separately.

A benchmark *case* (``bench/cases_*.py``) builds, for one problem size N, a :class:`Setup`: the jitted
jaxmetrics call, the peers' calls on the same data (already converted to their native types, so no
conversion is timed), an optional *primitive* (the fastest sort / one ``jnp.sum`` pass over the same
data: how close the implementation is to the machine), an optional ``vmap`` pair (64 seeds in one
``vmap`` vs a Python loop of 64 jitted calls) and an optional memory pair (streaming state vs
one-shot). :func:`measure` times every side **in the same run, interleaved** (the order rotates every
repeat, so drift and thermal effects hit all sides alike), after a warm-up call, and reports median and
interquartile range; jitted sides are compiled first with ``jax.jit(...).lower(...).compile()`` and that
time is reported on its own.

Peers that are not installed are skipped (their column says so); nothing here is imported by the
library.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import platform
import statistics
import time
from typing import Any, Callable

import jax
import numpy as np

__all__ = ["Case", "Setup", "Jitted", "Timing", "measure", "machine_description", "peer_versions"]


@dataclasses.dataclass
class Jitted:
    """A function to ``jax.jit`` and the (device) arguments to call it with; ``static`` kwargs are bound."""

    fn: Callable
    args: tuple
    kwargs: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Setup:
    """Everything timed for one case at one size.

    ours: the jaxmetrics call (jitted by the harness).
    peers: name -> zero-argument callable on pre-converted inputs (numpy / torch / metrax objects).
    primitive: (label, Jitted) — e.g. ``("jnp.sort(int32 keys)", Jitted(...))``.
    vmap: (Jitted vmapped over 64 seeds, Jitted single seed called 64 times in a Python loop).
    memory: (label_a, Jitted a, label_b, Jitted b) compared by XLA's compiled temporary + argument bytes.
    check: optional zero-argument callable returning (ours_value, peer_value) pairs for a sanity line.
    """

    ours: Jitted
    peers: dict[str, Callable[[], Any]] = dataclasses.field(default_factory=dict)
    primitive: tuple[str, Jitted] | None = None
    vmap: tuple[Jitted, Jitted] | None = None
    memory: tuple[str, Jitted, str, Jitted] | None = None


@dataclasses.dataclass
class Case:
    """A named benchmark over sizes: ``make(n, rng) -> Setup``."""

    name: str
    sizes: tuple[int, ...]
    quick_sizes: tuple[int, ...]
    make: Callable[[int, np.random.Generator], Setup]
    size_label: str = "N"
    note: str = ""


@dataclasses.dataclass
class Timing:
    median: float
    q25: float
    q75: float
    compile: float | None = None

    def fmt(self) -> str:
        return f"{_fmt_s(self.median)} ({_fmt_s(self.q25)}–{_fmt_s(self.q75)})"


def _fmt_s(t: float) -> str:
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.1f} ms"
    return f"{t * 1e6:.0f} µs"


def _block(out):
    try:
        jax.block_until_ready(out)
    except Exception:  # noqa: BLE001 - non-jax outputs (numpy, torch on CPU) are already computed
        pass
    return out


def compile_jitted(j: Jitted):
    """``(compiled callable, compile seconds)``."""
    fn = jax.jit(lambda *a: j.fn(*a, **j.kwargs))
    t0 = time.perf_counter()
    compiled = fn.lower(*j.args).compile()
    return (lambda: compiled(*j.args)), time.perf_counter() - t0, compiled


def measure(sides: dict[str, Callable[[], Any]], *, repeats: int = 7, warmup: int = 1,
            min_time: float = 0.0, settle: float = 0.25) -> dict[str, Timing]:
    """Median / IQR wall time of each zero-argument callable, interleaved over ``repeats`` rounds.

    Each round runs every side once, the order rotating round by round. ``min_time`` stops adding rounds
    after 3 once the slowest side has used that many seconds in total (large N). An untimed pause as long
    as the call itself, capped at ``settle`` seconds, follows every call: a program that frees gigabytes
    (metrax's binned AUROC at N = 10⁶) keeps the machine busy after its result is ready, and measured
    2.7× slower times for whichever side ran next (111 ms after a 0.2 s pause, 301 ms with none).
    """
    names = list(sides)
    for _ in range(warmup):
        for name in names:
            _block(sides[name]())
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            t0 = time.perf_counter()
            _block(sides[name]())
            times[name].append(time.perf_counter() - t0)
            time.sleep(min(settle, times[name][-1]))
        if min_time and r >= 2 and max(sum(v) for v in times.values()) > min_time:
            break
    out = {}
    for name, ts in times.items():
        q = np.quantile(ts, [0.25, 0.75]) if len(ts) > 1 else (ts[0], ts[0])
        out[name] = Timing(statistics.median(ts), float(q[0]), float(q[1]))
    return out


def memory_bytes(compiled) -> int | None:
    """Argument + temporary + output bytes of a compiled program (XLA's memory analysis), if available."""
    try:
        m = compiled.memory_analysis()
        return int(m.argument_size_in_bytes + m.temp_size_in_bytes + m.output_size_in_bytes)
    except Exception:  # noqa: BLE001
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_description() -> str:
    dev = jax.devices()[0]
    kind = getattr(dev, "device_kind", dev.platform)
    return (f"{_cpu_model()}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}; JAX {jax.__version__} on {dev.platform} ({kind}, "
            f"{len(jax.devices())} device(s))")


PEERS = ("jax", "jaxlib", "numpy", "scipy", "scikit-learn", "torch", "torchmetrics", "google-metrax",
         "scoringrules", "properscoring", "prdc", "vendi-score", "weightwatcher")


def peer_versions() -> str:
    parts = []
    for p in PEERS:
        try:
            parts.append(f"{p} {importlib.metadata.version(p)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{p} (not installed)")
    return ", ".join(parts)
