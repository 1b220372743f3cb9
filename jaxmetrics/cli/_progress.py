"""A dependency-free progress bar on stderr for the command line.

:func:`progress` wraps an iterable and reports how far it got:

* on a terminal (``stream.isatty()``) it redraws one line in place with ``\\r``:
  ``bootstrap  [#########-----------]  45% 9/20  1.2s``;
* otherwise (CI logs, pipes, captured output) it prints plain lines, at most one per 10 % of the work
  and never more than one every ``min_interval`` seconds plus the final one, so logs stay short.

Nothing is printed for work that finishes within ``delay`` seconds (default 0.5 s), so fast runs stay
quiet. The bar writes only to ``stream`` (default ``sys.stderr``): stdout stays clean for tables and
pipes.

Example::

    from jaxmetrics.cli._progress import progress

    for chunk in progress(range(8), desc="bootstrap"):
        ...
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["progress"]

T = TypeVar("T")

_WIDTH = 24


def _format_seconds(s: float) -> str:
    if s < 60:
        return f"{s:.1f}s"
    m, s = divmod(int(round(s)), 60)
    return f"{m}m{s:02d}s"


def progress(iterable: Iterable[T], *, total: int | None = None, desc: str = "", stream=None,
             delay: float = 0.5, min_interval: float = 1.0) -> Iterator[T]:
    """Yields the items of ``iterable`` while drawing a progress bar on ``stream`` (stderr).

    Args:
      iterable: the work items.
      total: the number of items (default ``len(iterable)`` when it has one; without a total the bar
        shows only the count and the elapsed time).
      desc: a short label printed in front of the bar.
      stream: a text stream (default ``sys.stderr``, looked up at call time so pytest's capture works).
      delay: seconds of silence before the first report (fast loops print nothing).
      min_interval: in plain-text mode, the least number of seconds between two reported lines.

    Yields:
      The items of ``iterable``, unchanged.
    """
    stream = sys.stderr if stream is None else stream
    if total is None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            total = None
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):
        tty = False
    start = time.perf_counter()
    state = {"shown": False, "last": -float("inf"), "last_frac": -1.0}

    def line(done: int) -> str:
        elapsed = _format_seconds(time.perf_counter() - start)
        head = f"{desc} " if desc else ""
        if total:
            frac = min(done / total, 1.0)
            filled = int(round(frac * _WIDTH))
            bar = "#" * filled + "-" * (_WIDTH - filled)
            return f"{head}[{bar}] {frac * 100:3.0f}% {done}/{total} {elapsed}"
        return f"{head}{done} done {elapsed}"

    def report(done: int, final: bool = False) -> None:
        now = time.perf_counter()
        if not state["shown"] and now - start < delay:
            return
        if tty:
            stream.write("\r" + line(done) + ("\n" if final else ""))
            stream.flush()
            state["shown"] = True
            return
        frac = done / total if total else 0.0
        if not final and (now - state["last"] < min_interval or (total and frac - state["last_frac"] < 0.1)):
            return
        stream.write(line(done) + "\n")
        stream.flush()
        state.update(shown=True, last=now, last_frac=frac)

    done = 0
    for item in iterable:
        yield item
        done += 1
        report(done)
    if state["shown"] or time.perf_counter() - start >= delay:
        if not (not tty and state["last_frac"] >= 1.0):
            report(done, final=True)
