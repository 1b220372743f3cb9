"""The registry of every public metric (DESIGN.md §6).

Each family module registers its metrics at import time with :func:`register`. The contract suite in
``tests/contract/`` iterates over :data:`REGISTRY` and puts every entry through the jit / vmap / grad /
stream / merge / shard / dtype / bad-input checks, so registering a metric (plus an input generator in
the tests) is all it takes to get the whole contract.

``exceptions`` records, per contract check, a documented reason why a check does not apply to the entry
(for example a curve whose output length is data-independent but whose values are not mergeable). An
exception is a statement of fact about the metric, never a way around a failing check.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Mapping

__all__ = ["MetricInfo", "REGISTRY", "register", "attach_soft", "metric_table", "CONTRACT_CHECKS"]

CONTRACT_CHECKS = ("jit", "vmap", "grad", "stream", "shard", "dtype", "bad_input")


@dataclasses.dataclass(frozen=True)
class MetricInfo:
    """One registry entry.

    Attributes:
      name: public name, unique across families (``"auroc"``).
      family: module name under ``jaxmetrics`` (``"classification"``).
      fn: the one-shot callable.
      differentiable: True when ``grad`` carries useful (not almost-everywhere zero) signal. Every
        metric must still have *finite* gradients.
      higher_is_better: True / False, or None for non-scalar diagnostics (curves, matrices).
      streaming: the ``*_metric`` constructor returning a :class:`~jaxmetrics.Metric`, taking the same
        static keyword configuration as ``fn``; None for one-shot-only metrics.
      soft: the differentiable ``soft_*`` twin, if any.
      oracle: the independent implementation the family tests compare against.
      aliases: other public names bound to the same callable (``"f1"`` has none, ``"ece"`` would).
      exceptions: contract check name -> documented reason it does not apply.
    """

    name: str
    family: str
    fn: Callable
    differentiable: bool
    higher_is_better: bool | None
    streaming: Callable | None = None
    soft: Callable | None = None
    oracle: str = ""
    aliases: tuple[str, ...] = ()
    exceptions: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def mergeable(self) -> bool:
        return self.streaming is not None


REGISTRY: dict[str, MetricInfo] = {}


def register(info: MetricInfo) -> MetricInfo:
    """Adds ``info`` to :data:`REGISTRY`; names are unique."""
    if info.name in REGISTRY and REGISTRY[info.name].fn is not info.fn:
        raise ValueError(f"metric {info.name!r} is already registered")
    unknown = set(info.exceptions) - set(CONTRACT_CHECKS)
    if unknown:
        raise ValueError(f"{info.name}: unknown contract checks in exceptions: {sorted(unknown)}")
    REGISTRY[info.name] = info
    return info


def attach_soft(name: str, soft: Callable) -> None:
    """Records ``soft`` as the differentiable twin of the registered metric ``name``."""
    REGISTRY[name] = dataclasses.replace(REGISTRY[name], soft=soft)


def metric_table(registry: Mapping[str, MetricInfo] | None = None) -> str:
    """The registry as a markdown table, one row per metric, in registration order (grouped by family).

    Columns: the metric and its aliases, its family module, ``↑``/``↓`` for higher/lower is better
    (``·`` for non-scalar diagnostics), whether ``grad`` carries signal (``✓``, or the ``soft_*`` twin to
    differentiate instead), whether a streaming ``*_metric`` exists, and the oracle the family tests compare
    against (its first clause). The README's metric index is this table verbatim
    (``scripts/update_readme_table.py`` rewrites it; a test fails when the two drift apart).
    """
    registry = REGISTRY if registry is None else registry
    rows = [
        "| metric | module | better | differentiable | streaming | tested against |",
        "|---|---|---|---|---|---|",
    ]
    for info in registry.values():
        name = f"`{info.name}`" + "".join(f" / `{a}`" for a in info.aliases)
        better = {True: "↑", False: "↓", None: "·"}[info.higher_is_better]
        if info.differentiable:
            grad = "✓"
        elif info.soft is not None:
            grad = f"via `{info.soft.__name__}`"
        else:
            grad = "–"
        oracle = info.oracle.split("; ")[0]
        if oracle.count("(") != oracle.count(")"):  # the first clause ends inside parentheses
            oracle = info.oracle
        oracle = oracle.replace("|", "\\|")
        rows.append(
            f"| {name} | `jaxmetrics.{info.family}` | {better} | {grad} | {'✓' if info.mergeable else '–'} | {oracle} |"
        )
    return "\n".join(rows)
