"""The ``jaxmetrics`` command line: ``jaxmetrics report`` and ``jaxmetrics demo``.

Each subcommand lives in its own module exposing ``add_parser(subparsers)``, which registers the
subcommand's arguments and sets ``run=<callable(args) -> int>`` as the parser default. :func:`main`
parses, dispatches and turns :class:`InputError` (bad user input: a missing key, a wrong shape, a
probability outside [0, 1], ...) into one clear line on stderr and exit status 2 — the same status
argparse uses for bad arguments — so nothing is ever computed on bad data.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["InputError", "main"]


class InputError(ValueError):
    """Bad user input to a subcommand; reported as ``jaxmetrics <cmd>: error: <message>``, exit 2."""


def build_parser() -> argparse.ArgumentParser:
    from jaxmetrics.cli import demo, report

    parser = argparse.ArgumentParser(
        prog="jaxmetrics",
        description="Evaluation metrics and diagnostics in JAX: report metrics with bootstrap confidence "
        "intervals on your predictions (or the embedded real example), or run the training demo.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{report,demo}")
    report.add_parser(sub)
    demo.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``jaxmetrics`` console script; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except InputError as e:
        print(f"jaxmetrics {args.command}: error: {e}", file=sys.stderr)
        return 2
