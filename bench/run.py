"""Run the side-by-side benchmarks and write the markdown results table.

    python bench/run.py                      # every case, full sizes -> bench/results/<platform>.md
    python bench/run.py --quick              # small sizes (a smoke run, minutes)
    python bench/run.py --only auroc,ndcg    # cases whose name contains any of these
    python bench/run.py --out results.md

Cases live in ``bench/cases_*.py`` (each exports ``CASES: list[harness.Case]``). For every case and size
the table reports the jaxmetrics time (median and interquartile range of interleaved warm repeats), its
compile time, each peer's time and the peer/jaxmetrics ratio (> 1: jaxmetrics is faster), the ratio
of jaxmetrics to a primitive on the same data (how close to the machine's limit), and per case the
scaling exponent of time vs N, ``vmap`` over 64 seeds vs a Python loop of 64 jitted calls, and the
compiled memory of the streaming state vs the one-shot computation. Runs on whatever device JAX
finds (CPU here; the same command on a GPU writes ``results/gpu-<device>.md``).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import pathlib
import sys
import traceback

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import jax  # noqa: E402

import harness  # noqa: E402


def _load_cases():
    cases = []
    for path in sorted((ROOT / "bench").glob("cases_*.py")):
        cases.extend(importlib.import_module(path.stem).CASES)
    return cases


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.3g}×" if b > 0 else "—"


def _run_case(case: harness.Case, sizes, repeats: int, lines: list[str]):
    lines.append(f"### {case.name}\n")
    if case.note:
        lines.append(case.note + "\n")
    header, rows, fit = None, [], []
    extras = []
    for n in sizes:
        rng = np.random.default_rng(0)
        setup = case.make(n, rng)
        ours, t_compile, _ = harness.compile_jitted(setup.ours)
        sides = {"jaxmetrics": ours, **setup.peers}
        prim_label = None
        if setup.primitive is not None:
            prim_label, prim_j = setup.primitive
            sides[prim_label], _, _ = harness.compile_jitted(prim_j)
        timings = harness.measure(sides, repeats=repeats, min_time=20.0)
        t_ours = timings["jaxmetrics"].median
        fit.append((n, t_ours))
        cols = [f"{n:,}", f"{timings['jaxmetrics'].fmt()}", f"{t_compile:.2f} s"]
        head = [case.size_label, "jaxmetrics (IQR)", "compile"]
        for peer in setup.peers:
            cols += [timings[peer].fmt(), _ratio(timings[peer].median, t_ours)]
            head += [peer, f"{peer} / jaxmetrics"]
        if prim_label is not None:
            cols += [timings[prim_label].fmt(), _ratio(t_ours, timings[prim_label].median)]
            head += [prim_label, "jaxmetrics / primitive"]
        header = header or head
        rows.append(cols)
        if setup.vmap is not None:
            batched, _, _ = harness.compile_jitted(setup.vmap[0])
            single, _, _ = harness.compile_jitted(setup.vmap[1])
            loop = lambda single=single: [single() for _ in range(64)]  # noqa: E731
            t = harness.measure({"vmap": batched, "loop": loop}, repeats=5)
            extras.append(f"* {case.size_label} = {n:,}: `vmap` over 64 seeds {t['vmap'].fmt()} vs a Python loop of 64 jitted "
                          f"calls {t['loop'].fmt()}: **{_ratio(t['loop'].median, t['vmap'].median)}**")
        if setup.memory is not None:
            la, ja, lb, jb = setup.memory
            ma = harness.memory_bytes(harness.compile_jitted(ja)[2])
            mb = harness.memory_bytes(harness.compile_jitted(jb)[2])
            if ma is not None and mb is not None:
                extras.append(f"* {case.size_label} = {n:,}: compiled memory (arguments + temporaries + outputs) of {la} "
                              f"{ma / 2**20:.2f} MiB vs {lb} {mb / 2**20:.2f} MiB")
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    lines.extend("| " + " | ".join(r) + " |" for r in rows)
    if len(fit) >= 2:
        x = np.log([n for n, _ in fit])
        y = np.log([t for _, t in fit])
        slope = float(np.polyfit(x, y, 1)[0])
        extras.insert(0, f"* scaling: time ∝ {case.size_label}^{slope:.2f} over {case.size_label} = "
                         f"{fit[0][0]:,}…{fit[-1][0]:,}")
    lines.append("")
    lines.extend(extras)
    lines.append("")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument("--only", default="", help="comma-separated substrings of case names")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", default=None, help="output markdown file")
    args = ap.parse_args(argv)

    dev = jax.devices()[0]
    default = "cpu" if dev.platform == "cpu" else f"gpu-{dev.device_kind.replace(' ', '_')}"
    out = pathlib.Path(args.out) if args.out else ROOT / "bench" / "results" / f"{default}{'-quick' if args.quick else ''}.md"
    wanted = [w for w in args.only.split(",") if w]
    lines = [f"# jaxmetrics benchmarks ({'quick' if args.quick else 'full'} sizes)", "",
             f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC} with `python bench/run.py"
             f"{' --quick' if args.quick else ''}`.", "",
             f"Machine: {harness.machine_description()}.", "", f"Versions: {harness.peer_versions()}.", "",
             "Times are medians of interleaved warm repeats (interquartile range in parentheses); compile time "
             "is separate. `peer / jaxmetrics` > 1 means jaxmetrics is faster.", ""]
    for case in _load_cases():
        if wanted and not any(w in case.name for w in wanted):
            continue
        sizes = case.quick_sizes if args.quick else case.sizes
        print(f"[bench] {case.name} {sizes}", flush=True)
        try:
            _run_case(case, sizes, args.repeats, lines)
        except Exception:  # noqa: BLE001 - one failing case must not lose the others
            lines.append(f"**{case.name} failed:**\n\n```\n{traceback.format_exc(limit=3)}```\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"[bench] wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
