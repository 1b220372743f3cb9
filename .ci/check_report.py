"""Checks what the README's main-job command wrote: ``report.json`` with every task and its plots.

Usage: ``python .ci/check_report.py DIR`` (exit 1 with the reason on failure).
"""

import json
import math
import pathlib
import sys

TASKS = ("classification", "ranking", "forecast", "generative")


def check(out: pathlib.Path) -> list[str]:
    problems = []
    report_path = out / "report.json"
    if not report_path.is_file():
        return [f"{report_path} was not written"]
    report = json.loads(report_path.read_text())
    tasks = report.get("tasks", {})
    for task in TASKS:
        if task not in tasks:
            problems.append(f"report.json has no {task!r} task")
            continue
        metrics = tasks[task].get("metrics", {})
        if not metrics:
            problems.append(f"{task}: no metrics")
        for name, entry in metrics.items():
            value = entry.get("value")
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                problems.append(f"{task}.{name}: value {value!r} is not a finite number")
                continue
            low, high = entry.get("ci_low"), entry.get("ci_high")
            if low is not None and not low <= high:
                problems.append(f"{task}.{name}: confidence interval [{low}, {high}] is empty")
        for plot in tasks[task].get("plots", []):
            path = out / plot
            if not path.is_file() or path.stat().st_size == 0:
                problems.append(f"{task}: plot {plot} is missing or empty")
    pngs = sorted(p.name for p in out.glob("*.png"))
    if not pngs:
        problems.append("no PNG plots were written")
    return problems


if __name__ == "__main__":
    out = pathlib.Path(sys.argv[1])
    problems = check(out)
    for p in problems:
        print("check_report:", p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"check_report: {out}/report.json has {len(TASKS)} tasks; plots: {', '.join(sorted(p.name for p in out.glob('*.png')))}")
