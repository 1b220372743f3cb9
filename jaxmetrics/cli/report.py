"""``jaxmetrics report``: a metric suite with bootstrap confidence intervals, a JSON report and plots.

Usage::

    jaxmetrics report [PATH] [--task classification|ranking|forecast|generative] [--bootstrap N]
                      [--ci 0.95] [--seed 0] [--k 10] [--level 0.9] [--out DIR] [--no-plots]

With ``PATH`` it reads one prediction file (``.npz``, ``.npy`` or ``.csv``; never pickle) — the layouts
are listed below and in :mod:`jaxmetrics.cli._inputs` — validates it, and reports the metric suite of
its task. Without ``PATH`` it runs on the real examples shipped in :mod:`jaxmetrics.data` (all four
tasks, or the one given by ``--task``); ``jaxmetrics report --out jaxmetrics-report`` is the README's
main job.

**Validation first.** Every problem with the input — an unknown extension, an unreadable or pickled
file, a missing key or column, a wrong shape, NaN, probabilities outside [0, 1] or rows not summing to 1
(within 1e-3), labels out of range, negative relevance, ``lower > upper`` — is reported as one line
naming the file, the key or column and the first offending entry, with exit status 2. Nothing is
computed and nothing is written on bad data.

**Metric suites** (the library's public functions; ↑ higher is better, ↓ lower, → a target value):

* classification (``probs`` [N, C] or binary [N]; ``logits`` are soft-maxed first): accuracy ↑; F1 ↑
  (macro over the C classes; for binary input the F1 of class 1); AUROC ↑ (one-vs-rest, macro, for
  C > 2); average precision ↑ (macro one-vs-rest); ECE, MCE, RMSCE ↓ (15 equal-width bins,
  top-label; binary input: P(y = 1) vs y); Brier ↓ (scikit-learn's scaling: halved for C <= 2); NLL ↓
  (nats; probabilities clipped at float32 epsilon); smooth ECE ↓ (automatic bandwidth).
* ranking (``scores``, ``relevance`` [Q, n]): nDCG@k ↑ (``--k``, linear gain, tie-averaged as
  scikit-learn); MRR ↑ (relevant = relevance > 0; ties pessimistic); MAP ↑ (mean over queries of the
  ranking AP, normaliser = relevant candidates); Spearman ↑ — the mean over queries of the rank
  correlation between a query's scores and its relevance grades (queries with constant scores or
  relevance, where it is undefined, are left out of the mean).
* forecast (``ensemble`` [N, M], ``obs`` [N]): CRPS ↓ (the ``"nrg"`` estimator: the CRPS of the
  ensemble's empirical CDF, as ``properscoring``); coverage → nominal level (share of observations
  inside ``[lower, upper]`` — given, or the ensemble's central ``--level`` interval); mean interval
  width ↓; PIT uniformity: the KS distance ↓ between the (mid-rank) PIT values and U(0, 1), and the
  PIT mean → 1/2 and variance → 1/12 (above: over-dispersed; below: under-dispersed).
* generative (``real`` [n, d], ``fake`` [m, d]): Fréchet distance ↓; precision, recall, density,
  coverage ↑ (k = 5, Naeem et al.); Vendi score (q = 1, cosine kernel) of the real and of the fake
  set (compare them: a fake set less diverse than the real one has a lower score).

**Bootstrap.** ``--bootstrap B`` (default 200; 0 disables) resamples the unit of independence with
replacement — samples, queries, observations, or the real and the fake rows independently — with
indices from ``jax.random`` (:func:`jaxmetrics.cli._bootstrap.bootstrap_indices` with ``--seed``),
computes each metric on all resamples with one ``jax.vmap`` (one jitted program per metric group,
applied to equal chunks of resamples, with a progress bar on stderr; the point estimate is the
identity resample of the first chunk) and reports percentile intervals at level ``--ci``. Resamples
on which a metric is undefined are dropped from its interval (``nan_resamples`` in the JSON).
Caveat: resampling duplicates rows, which shrinks k-NN radii, inflates the Fréchet distance and
lowers diversity on the resamples, so the generative intervals show the spread of the estimates
(and can exclude the value itself), not calibrated coverage; the report says so in a note.

**Output.** An aligned table per task on stdout, and in ``--out`` (default ``jaxmetrics-report``):

* ``report.json`` = ``{"jaxmetrics_version", "source", "bootstrap": {...}, "tasks": {task:
  {"source", "n", "groups", "unit", "info", "metrics": {name: {"value", "ci_low", "ci_high",
  "higher_is_better", "label", "target"?, "nan_resamples"?}}, "plots": [...], "notes"?,
  "pit_histogram"?}}, "elapsed_s"}``, NaN written as null;
* PNG plots named ``<task>_<plot>.png``: classification — reliability diagram, ROC and
  precision–recall curves (one curve per class for C > 2); forecast — PIT histogram (its counts are
  also in the JSON). Ranking and generative reports have no plot. Plots need matplotlib (the
  ``[plot]`` extra); without it the JSON is written and one line says the plots were skipped.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import math
import os
import textwrap
import time
from collections.abc import Callable
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from jaxmetrics import calibration, classification, distances, diversity, ranking, scoring
from jaxmetrics.cli import InputError
from jaxmetrics.cli import _bootstrap, _inputs
from jaxmetrics.plotting import unit_histogram

__all__ = ["DEFAULT_OUT", "MetricSpec", "Suite", "add_parser", "compute", "suite_for"]

DEFAULT_OUT = "jaxmetrics-report"
NUM_BINS = 15
PIT_BINS = 10

_EPILOG = """\
input files (pickle is never loaded; the task is inferred from the keys / columns unless --task):
  .npz  arrays keyed by name
    classification  probs [N, C] (rows sum to 1) | probs [N] (binary P(y=1)) | logits [N, C] or [N];
                    labels [N] ints in [0, C)
    ranking         scores [Q, n], relevance [Q, n] (>= 0), optional mask [Q, n] (bool)
    forecast        ensemble [N, M], obs [N], optional lower [N], upper [N]
    generative      real [n, d], fake [m, d]
  .csv  header row + one row per sample
    classification  label, then p0..p{C-1} | logit0..logit{C-1} | score (binary P(y=1))
    ranking         query, score, relevance (long format: one row per query-item pair)
    forecast        obs, m0..m{M-1}, optional lower, upper
    generative      set (real/fake), then feature columns
  .npy  one 2-D array; needs --task
    classification  [N, 1+C]: label, then C probabilities ([N, 2]: label, P(y=1))
    ranking         [R, 3]: query id, score, relevance
    forecast        [N, 1+M]: obs, then M members
    generative      [n+m, 1+d]: 1 (real) or 0 (fake), then d features

metrics (↑ higher is better, ↓ lower, → target):
  classification  accuracy ↑, F1 (macro) ↑, AUROC (ovr macro) ↑, average precision (macro) ↑,
                  ECE / MCE / RMSCE (15 bins) ↓, Brier ↓, NLL ↓, smooth ECE ↓
  ranking         nDCG@k ↑, MRR ↑, MAP ↑, Spearman (mean over queries) ↑
  forecast        CRPS ↓, coverage → level, interval width ↓, PIT KS distance ↓, PIT mean → 1/2,
                  PIT variance → 1/12
  generative      Fréchet distance ↓, precision / recall / density / coverage (k=5) ↑,
                  Vendi score of real and of fake

output (--out): report.json, and PNG plots with matplotlib installed (classification: reliability
diagram, ROC and PR curves; forecast: PIT histogram). Intervals: percentile bootstrap over the unit
of independence (samples, queries, observations, real and fake rows), all resamples of a metric in
one jax.vmap. Set JAX_COMPILATION_CACHE_DIR to reuse compilations across runs.

without PATH the embedded real examples (jaxmetrics.data) are reported: all four tasks, or --task.
bad input (missing key, wrong shape, NaN, probability outside [0, 1], label out of range ...) exits
with status 2 and writes nothing.

example:
  jaxmetrics report --out jaxmetrics-report
  jaxmetrics report preds.npz --bootstrap 1000 --ci 0.9
"""


class MetricSpec(NamedTuple):
    """One reported metric: JSON name, table label, direction (True ↑, False ↓, None: see target)."""

    name: str
    label: str
    higher_is_better: bool | None
    target: float | None = None


class Suite(NamedTuple):
    """The metric suite of one task.

    ``programs`` is a tuple of ``(names, fn)``: ``fn(groups) -> [len(names)]`` is a pure function of
    the (resampled) canonical arrays computing the metrics ``names``; each program is batched over the
    resamples by one ``jax.vmap``. Metrics with eigendecompositions or k-NN searches get a program of
    their own (see :func:`jaxmetrics.cli._bootstrap.evaluate`); cheap ones share one.
    """

    specs: tuple[MetricSpec, ...]
    programs: tuple[tuple[tuple[str, ...], Callable], ...]
    unit: str
    bytes_per_resample: int


# --------------------------------------------------------------------------------------------------
# Metric suites


def _stack(*values):
    return jnp.stack(jnp.broadcast_arrays(*(jnp.asarray(v) for v in values)))


@functools.lru_cache(maxsize=None)
def _classification_programs(binary: bool, c: int):
    """Cached per static configuration, so repeated reports reuse the compiled programs."""
    f1_name = "f1" if binary else "f1_macro"

    def counting(g):
        p, y = g["samples"]["probs"], g["samples"]["labels"]
        f1 = classification.f1(p, y) if binary else classification.f1(p, y, num_classes=c, average="macro")
        return _stack(
            classification.accuracy(p, y), f1,
            *(calibration.expected_calibration_error(p, y, num_bins=NUM_BINS, norm=norm)
              for norm in ("l1", "max", "l2")),
            calibration.brier_score(p, y),
            calibration.negative_log_likelihood(p, y),
        )

    def auroc(g):
        p, y = g["samples"]["probs"], g["samples"]["labels"]
        return classification.auroc(p, y) if binary else classification.auroc(p, y, multi_class="ovr")

    def ap(g):
        return classification.average_precision(g["samples"]["probs"], g["samples"]["labels"], average="macro")

    def smece(g):
        return calibration.smooth_ece(g["samples"]["probs"], g["samples"]["labels"])

    return (
        (("accuracy", f1_name, "ece", "mce", "rmsce", "brier", "nll"), counting),
        (("auroc",), auroc),
        (("average_precision",), ap),
        (("smooth_ece",), smece),
    )


def _classification_suite(td: _inputs.TaskData) -> Suite:
    c = td.info["num_classes"]
    binary = td.info["binary"]
    f1_name = "f1" if binary else "f1_macro"
    programs = _classification_programs(binary, c)
    specs = (
        MetricSpec("accuracy", "accuracy", True),
        MetricSpec(f1_name, "F1 (class 1)" if binary else "F1 (macro)", True),
        MetricSpec("auroc", "AUROC" if binary else "AUROC (ovr macro)", True),
        MetricSpec("average_precision", "average precision" if binary else "average precision (macro)", True),
        MetricSpec("ece", f"ECE ({NUM_BINS} bins)", False),
        MetricSpec("mce", f"MCE ({NUM_BINS} bins)", False),
        MetricSpec("rmsce", f"RMSCE ({NUM_BINS} bins)", False),
        MetricSpec("brier", "Brier score", False),
        MetricSpec("nll", "NLL (nats)", False),
        MetricSpec("smooth_ece", "smooth ECE", False),
    )
    n = td.sizes()["samples"]
    return Suite(specs, programs, "samples", n * c * 4 * 48 + 2**20)


@functools.lru_cache(maxsize=None)
def _ranking_program(k: int):
    def program(g):
        s, r, m = g["queries"]["scores"], g["queries"]["relevance"], g["queries"]["mask"]
        return _stack(
            ranking.ndcg(s, r, k=k, where=m),
            ranking.mean_reciprocal_rank(s, r, where=m),
            ranking.average_precision_at_k(s, r, where=m),
            jnp.nanmean(ranking.spearman(s, r, where=m)),
        )

    return program


def _ranking_suite(td: _inputs.TaskData, k: int) -> Suite:
    program = _ranking_program(k)
    specs = (
        MetricSpec(f"ndcg@{k}", f"nDCG@{k}", True),
        MetricSpec("mrr", "MRR", True),
        MetricSpec("map", "MAP", True),
        MetricSpec("spearman", "Spearman (mean/query)", True),
    )
    q, n = td.arrays["queries"]["scores"].shape
    return Suite(specs, ((tuple(sp.name for sp in specs), program),), "queries", q * n * 4 * 48 + 2**20)


def _ks_uniform(u):
    """Kolmogorov–Smirnov distance sup |F_n − F| between the values ``u [N]`` and U(0, 1)."""
    u = jnp.sort(u)
    n = u.shape[0]
    i = jnp.arange(1, n + 1, dtype=u.dtype)
    return jnp.maximum(jnp.max(i / n - u), jnp.max(u - (i - 1) / n))


def _forecast_program(g):
    o = g["observations"]
    pit = scoring.pit(o["ensemble"], o["obs"])
    return _stack(
        scoring.crps_ensemble(o["ensemble"], o["obs"], estimator="nrg"),
        scoring.coverage(o["lower"], o["upper"], o["obs"]),
        scoring.interval_width(o["lower"], o["upper"]),
        _ks_uniform(pit), jnp.mean(pit), jnp.var(pit),
    )


def _forecast_suite(td: _inputs.TaskData) -> Suite:
    level = float(td.info["nominal_level"])
    program = _forecast_program
    specs = (
        MetricSpec("crps", "CRPS", False),
        MetricSpec("coverage", f"coverage (nominal {level:g})", None, level),
        MetricSpec("interval_width", "mean interval width", False),
        MetricSpec("pit_ks", "PIT KS distance", False),
        MetricSpec("pit_mean", "PIT mean", None, 0.5),
        MetricSpec("pit_var", "PIT variance", None, 1.0 / 12.0),
    )
    n, m = td.arrays["observations"]["ensemble"].shape
    return Suite(specs, ((tuple(sp.name for sp in specs), program),), "observations", n * m * 4 * 24 + 2**20)


def _fd(g):
    return distances.frechet_distance(g["real"]["x"], g["fake"]["x"])


def _prdc(g):
    return jnp.stack(diversity.prdc(g["real"]["x"], g["fake"]["x"], k=_inputs.PRDC_K))


def _vendi_real(g):
    return diversity.vendi_score(g["real"]["x"])


def _vendi_fake(g):
    return diversity.vendi_score(g["fake"]["x"])


_GENERATIVE_PROGRAMS = (
    (("frechet_distance",), _fd),
    (("precision", "recall", "density", "coverage"), _prdc),
    (("vendi_real",), _vendi_real),
    (("vendi_fake",), _vendi_fake),
)


def _generative_suite(td: _inputs.TaskData) -> Suite:
    k = _inputs.PRDC_K
    programs = _GENERATIVE_PROGRAMS
    specs = (
        MetricSpec("frechet_distance", "Fréchet distance", False),
        MetricSpec("precision", f"precision (k={k})", True),
        MetricSpec("recall", f"recall (k={k})", True),
        MetricSpec("density", f"density (k={k})", True),
        MetricSpec("coverage", f"coverage (k={k})", True),
        MetricSpec("vendi_real", "Vendi score, real", None),
        MetricSpec("vendi_fake", "Vendi score, fake", None),
    )
    n, d = td.arrays["real"]["x"].shape
    m = td.arrays["fake"]["x"].shape[0]
    return Suite(specs, programs, "real and fake rows, independently",
                 (n + m) ** 2 * 4 * 8 + (n + m) * d * 64 + 2**20)


def suite_for(td: _inputs.TaskData, *, k: int = 10) -> Suite:
    """The :class:`Suite` of ``td.task`` (``k``: the nDCG cutoff of ranking)."""
    if td.task == "classification":
        return _classification_suite(td)
    if td.task == "ranking":
        return _ranking_suite(td, k)
    if td.task == "forecast":
        return _forecast_suite(td)
    return _generative_suite(td)


# --------------------------------------------------------------------------------------------------
# Computing one task


_GENERATIVE_NOTE = (
    "resampling with replacement duplicates rows, which shrinks k-NN radii (PRDC), inflates the Fréchet "
    "distance and lowers diversity (Vendi) on the resamples: these intervals show the spread of the "
    "estimates and can exclude the value itself; they are not calibrated confidence intervals."
)


def _finite_or_none(v) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def compute(td: _inputs.TaskData, *, num_resamples: int, ci: float, seed: int, k: int = 10) -> dict:
    """The report entry of one task: point values and percentile intervals of its suite.

    Returns:
      ``{"source", "n", "groups", "unit", "info", "metrics": {name: {...}}}`` (JSON-ready; NaN → None).
    """
    suite = suite_for(td, k=k)
    sizes = td.sizes()
    indices = _bootstrap.bootstrap_indices(seed, sizes, num_resamples)
    chunk = _bootstrap.chunk_size(num_resamples + 1, suite.bytes_per_resample)
    point, samples = _bootstrap.evaluate([fn for _, fn in suite.programs], td.arrays, indices, chunk=chunk,
                                         desc=f"{td.task} bootstrap")
    column = {name: j for j, name in enumerate(n for names, _ in suite.programs for n in names)}
    metrics = {}
    for spec in suite.specs:
        j = column[spec.name]
        entry = {"value": _finite_or_none(point[j]), "ci_low": None, "ci_high": None,
                 "higher_is_better": spec.higher_is_better}
        if spec.target is not None:
            entry["target"] = spec.target
        if num_resamples > 0:
            lo, hi = _bootstrap.percentile_interval(samples[:, j], ci)
            entry["ci_low"], entry["ci_high"] = _finite_or_none(lo), _finite_or_none(hi)
            nan = int(np.isnan(samples[:, j]).sum())
            if nan:
                entry["nan_resamples"] = nan
        entry["label"] = spec.label
        metrics[spec.name] = entry
    n = sizes[next(iter(sizes))] if len(sizes) == 1 else dict(sizes)
    out = {"source": td.source, "n": n, "groups": dict(sizes), "unit": suite.unit, "info": dict(td.info),
           "metrics": metrics, "plots": []}
    if td.task == "generative" and num_resamples > 0:
        out["notes"] = [_GENERATIVE_NOTE]
    if td.task == "forecast":
        o = td.arrays["observations"]
        pit = np.asarray(scoring.pit(o["ensemble"], o["obs"]), np.float64)
        counts, edges = unit_histogram(pit, PIT_BINS)
        out["pit_histogram"] = {"edges": edges.tolist(), "counts": counts.tolist()}
    return out


# --------------------------------------------------------------------------------------------------
# Output


def _fmt(v) -> str:
    if v is None:
        return "nan"
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e5):
        return f"{v:.4g}"
    return f"{v:.4f}"


def _direction(entry: dict) -> str:
    if entry["higher_is_better"] is True:
        return "↑"
    if entry["higher_is_better"] is False:
        return "↓"
    if "target" in entry:
        return f"→ {entry['target']:.4g}"
    return ""


def format_table(task: str, entry: dict, *, num_resamples: int, ci: float) -> str:
    """The aligned text table of one task's entry."""
    groups = ", ".join(f"{g} = {n}" for g, n in entry["groups"].items())
    head = f"{task} — {entry['source']} ({groups})"
    if num_resamples > 0:
        head += f"; {ci:.0%} percentile bootstrap CI, {num_resamples} resamples of {entry['unit']}"
    else:
        head += "; no bootstrap"
    rows = [("metric", "value", "CI low", "CI high", "")]
    for e in entry["metrics"].values():
        rows.append((e["label"], _fmt(e["value"]), _fmt(e["ci_low"]) if num_resamples else "-",
                     _fmt(e["ci_high"]) if num_resamples else "-", _direction(e)))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [head]
    for r in rows:
        lines.append("  " + r[0].ljust(widths[0]) + "  " + "  ".join(r[i].rjust(widths[i]) for i in (1, 2, 3))
                     + ("  " + r[4] if r[4] else ""))
    lines.extend(f"  note: {note}" for note in entry.get("notes", ()))
    return "\n".join(lines)


def _plots(td: _inputs.TaskData, out_dir: str) -> list[str]:
    """Writes the task's PNG plots into ``out_dir``; returns their file names."""
    from matplotlib.figure import Figure

    from jaxmetrics import plotting

    written = []

    def save(fig, name):
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, name), dpi=110)
        written.append(name)

    if td.task == "classification":
        p, y = td.arrays["samples"]["probs"], td.arrays["samples"]["labels"]
        fig = Figure(figsize=(5, 5))
        plotting.reliability_diagram(p, y, num_bins=NUM_BINS, ax=fig.add_subplot(),
                                     title=f"Reliability diagram ({NUM_BINS} bins)")
        save(fig, f"{td.task}_reliability.png")
        fig = Figure(figsize=(5, 5))
        plotting.roc_curve_plot(p, y, ax=fig.add_subplot())
        save(fig, f"{td.task}_roc.png")
        fig = Figure(figsize=(5, 5))
        plotting.pr_curve_plot(p, y, ax=fig.add_subplot())
        save(fig, f"{td.task}_pr.png")
    elif td.task == "forecast":
        o = td.arrays["observations"]
        fig = Figure(figsize=(5, 4))
        plotting.pit_histogram_plot(o["ensemble"], o["obs"], bins=PIT_BINS, ax=fig.add_subplot())
        save(fig, f"{td.task}_pit.png")
    return written


def _json_safe(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    return x


# --------------------------------------------------------------------------------------------------
# Command line


def _nonnegative_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer; got {s!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer; got {v}")
    return v


def _positive_int(s: str) -> int:
    v = _nonnegative_int(s)
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {v}")
    return v


def _open_unit(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1); got {s!r}") from None
    if not 0.0 < v < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1); got {v}")
    return v


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Registers ``jaxmetrics report``."""
    p = subparsers.add_parser(
        "report",
        help="metrics with bootstrap confidence intervals on a prediction file (or the embedded examples)",
        description=textwrap.fill(
            "Validate a prediction file, compute the metric suite of its task with percentile bootstrap "
            "confidence intervals, print a table, and write report.json and plots into --out. Without PATH, "
            "report the embedded real examples.", width=100),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", nargs="?", metavar="PATH",
                   help="predictions: .npz, .npy or .csv (default: the embedded examples)")
    p.add_argument("--task", choices=_inputs.TASKS,
                   help="the task (default: inferred from the file; without PATH, all four examples)")
    p.add_argument("--bootstrap", type=_nonnegative_int, default=200, metavar="N",
                   help="bootstrap resamples (default 200; 0 disables the intervals)")
    p.add_argument("--ci", type=_open_unit, default=0.95, help="confidence level of the intervals (default 0.95)")
    p.add_argument("--seed", type=_nonnegative_int, default=0, help="seed of the resample indices (default 0)")
    p.add_argument("--k", type=_positive_int, default=10, help="ranking: the nDCG@k cutoff (default 10)")
    p.add_argument("--level", type=_open_unit, default=0.9,
                   help="forecast: nominal level of the ensemble's central interval, or of the given "
                   "lower/upper (default 0.9)")
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                   help=f"output folder for report.json and plots (default {DEFAULT_OUT})")
    p.add_argument("--no-plots", action="store_true", help="write report.json only")
    p.set_defaults(run=run)
    return p


def _load_all(args) -> tuple[str, list[_inputs.TaskData]]:
    if args.path is not None:
        td = _inputs.load(args.path, args.task, level=args.level)
        return args.path, [td]
    from jaxmetrics import data

    tasks = [args.task] if args.task else list(_inputs.TASKS)
    loaded = [_inputs.from_arrays(data.load_example(t), t, source=f"embedded:{t}", level=args.level) for t in tasks]
    return (f"embedded:{tasks[0]}" if len(tasks) == 1 else "embedded:all"), loaded


def run(args) -> int:
    """Runs ``jaxmetrics report`` for parsed ``args``; returns the exit status."""
    import jaxmetrics

    start = time.perf_counter()
    source, loaded = _load_all(args)  # raises InputError (exit 2) before anything is computed or written
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise InputError(f"--out {args.out}: exists and is not a directory.")
    report = {
        "jaxmetrics_version": jaxmetrics.__version__,
        "source": source,
        "bootstrap": {
            "resamples": args.bootstrap, "ci": args.ci, "seed": args.seed, "method": "percentile",
            "indices": "jaxmetrics.cli._bootstrap.bootstrap_indices(seed, groups, resamples)",
        },
        "tasks": {},
    }
    for td in loaded:
        entry = compute(td, num_resamples=args.bootstrap, ci=args.ci, seed=args.seed, k=args.k)
        report["tasks"][td.task] = entry
        print(format_table(td.task, entry, num_resamples=args.bootstrap, ci=args.ci))
        print()

    os.makedirs(args.out, exist_ok=True)
    if args.no_plots:
        pass
    elif importlib.util.find_spec("matplotlib") is None:
        print("plots skipped: matplotlib is not installed (pip install 'jaxmetrics[plot]').")
    else:
        for td in loaded:
            report["tasks"][td.task]["plots"] = _plots(td, args.out)
    report["elapsed_s"] = round(time.perf_counter() - start, 3)
    path = os.path.join(args.out, "report.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(_json_safe(report), fh, indent=2, allow_nan=False)
        fh.write("\n")
    plots = [p for e in report["tasks"].values() for p in e["plots"]]
    print(f"wrote {path}" + (f" and {len(plots)} plot(s)" if plots else "") + f" in {report['elapsed_s']:.1f} s")
    return 0

