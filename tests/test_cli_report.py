"""``jaxmetrics report``: every reported value and bootstrap interval equals an independent
scikit-learn / scipy / numpy computation on the same input and the same resamples, on the embedded
real examples and on synthetic files in each format; the files, table, plots and entry point work."""

from __future__ import annotations

import contextlib
import io
import json
import os
import pathlib
import subprocess
import sys
import time

import jax
import numpy as np
import pytest
import scipy.stats
from sklearn import metrics as sk
from sklearn.preprocessing import label_binarize

from jaxmetrics import data
from jaxmetrics.cli import _bootstrap, _progress, main
from jaxmetrics.cli import report as report_module
from tests.reference import calibration_binning, frechet, prdc as prdc_ref, vendi as vendi_ref
from tests.test_cli_inputs import synthetic, write

relplot = pytest.importorskip("relplot")
properscoring = pytest.importorskip("properscoring")

B = 20  # resamples in every run of this file (one chunk shape, so compiled programs are shared)
SEED = 3
CI = 0.9


def run_report(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["report", *map(str, args)])
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """One run of the main job (all embedded tasks), shared by the xdist workers of this test run: the
    first worker to get here computes it, the others wait for its files."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's temporary root, common to all workers
    base = root / "cli-report-embedded"
    out, log = base / "jaxmetrics-report", base / "stdout.txt"
    done, failed = base / "done", base / "failed"
    try:
        base.mkdir()  # atomic: exactly one worker computes
    except FileExistsError:
        deadline = time.monotonic() + 900
        while not (done.exists() or failed.exists()):
            assert time.monotonic() < deadline, "timed out waiting for another worker's report run"
            time.sleep(0.2)
    else:
        try:
            rc, stdout, stderr = run_report("--bootstrap", B, "--seed", SEED, "--ci", CI, "--out", out)
            assert rc == 0, stderr
            log.write_text(stdout, encoding="utf-8")
            done.touch()
        finally:
            if not done.exists():
                failed.touch()
    assert done.exists(), "the report run failed in another worker"
    return out, json.loads((out / "report.json").read_text()), log.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def synthetic_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("synthetic")


# --------------------------------------------------------------------------------------------------
# Oracles: plain numpy / scikit-learn / scipy, per task, from the .npz-style arrays


def classification_oracle(probs, labels):
    probs = np.asarray(probs, np.float32)  # the report stores probabilities in float32
    p64 = probs.astype(np.float64)
    c = probs.shape[1]
    pred = probs.argmax(1)
    conf, correct = relplot.multiclass_logits_to_confidences(np.log(np.maximum(p64, 1e-300)), labels)
    return {
        "accuracy": sk.accuracy_score(labels, pred),
        "f1_macro": sk.f1_score(labels, pred, average="macro", labels=range(c), zero_division=0),
        "auroc": sk.roc_auc_score(labels, p64, multi_class="ovr", average="macro", labels=range(c)),
        "average_precision": sk.average_precision_score(label_binarize(labels, classes=range(c)), p64,
                                                        average="macro"),
        "ece": calibration_binning.calibration_error(p64, labels, n_bins=15, norm="l1"),
        "mce": calibration_binning.calibration_error(p64, labels, n_bins=15, norm="max"),
        "rmsce": calibration_binning.calibration_error(p64, labels, n_bins=15, norm="l2"),
        "brier": sk.brier_score_loss(labels, p64, labels=range(c)),
        "nll": sk.log_loss(labels, probs, labels=range(c)),  # float32 input: clipped at float32 eps
        "smooth_ece": relplot.smECE(conf, correct),
    }


def ranking_oracle(scores, relevance, k=10):
    """scikit-learn nDCG (its mean over rows = queries); numpy MRR and AP from each query's ranking
    (untied float scores); Spearman = Pearson's r of scipy's average ranks, per query."""
    s, r = np.asarray(scores, np.float64), np.asarray(relevance, np.float64)
    order = np.argsort(-s, axis=1, kind="stable")
    hit = np.take_along_axis(r, order, axis=1) > 0
    position = np.arange(1, s.shape[1] + 1)
    first = np.where(hit.any(1), np.argmax(hit, axis=1) + 1, np.inf)
    precision_at_hits = np.cumsum(hit, axis=1) / position * hit
    num_relevant = hit.sum(1)
    ap = np.where(num_relevant > 0, precision_at_hits.sum(1) / np.maximum(num_relevant, 1), 0.0)
    rs, rr = scipy.stats.rankdata(s, axis=1), scipy.stats.rankdata(r, axis=1)
    rs, rr = rs - rs.mean(1, keepdims=True), rr - rr.mean(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (rs * rr).sum(1) / np.sqrt((rs**2).sum(1) * (rr**2).sum(1))
    return {f"ndcg@{k}": sk.ndcg_score(r, s, k=k), "mrr": np.mean(1.0 / first), "map": np.mean(ap),
            "spearman": np.nanmean(rho)}


def forecast_oracle(ensemble, obs, lower=None, upper=None, level=0.9):
    e, o = np.asarray(ensemble, np.float64), np.asarray(obs, np.float64)
    if lower is None:
        lower, upper = np.quantile(e, [(1 - level) / 2, (1 + level) / 2], axis=1)
    lower, upper = np.asarray(lower, np.float64), np.asarray(upper, np.float64)
    pit = ((e < o[:, None]).sum(1) + 0.5 * (e == o[:, None]).sum(1)) / e.shape[1]
    return {
        "crps": properscoring.crps_ensemble(o, e).mean(),
        "coverage": np.mean((o >= lower) & (o <= upper)),
        "interval_width": np.mean(upper - lower),
        "pit_ks": scipy.stats.kstest(pit, "uniform").statistic,
        "pit_mean": pit.mean(),
        "pit_var": pit.var(),
    }


def _vendi_cosine(x):
    """Vendi score (q = 1) of the cosine kernel: the nonzero eigenvalues of K/n = Z Zᵀ/n are those of
    Zᵀ Z/n (d × d), Z the unit-normalised rows; cross-checked against the n × n kernel form below."""
    z = x / np.linalg.norm(x, axis=1, keepdims=True)
    lam = np.linalg.eigvalsh(z.T @ z / len(z))
    lam = lam[lam > 0]
    return float(np.exp(-np.sum(lam * np.log(lam))))


def test_vendi_dual_oracle_equals_the_kernel_form():
    x = np.random.default_rng(2).normal(size=(40, 5))
    z = x / np.linalg.norm(x, axis=1, keepdims=True)
    np.testing.assert_allclose(_vendi_cosine(x), vendi_ref.vendi(z @ z.T), rtol=1e-10)


def generative_oracle(real, fake):
    x, y = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    p, r, d, c = prdc_ref.prdc(x, y, k=5)
    return {
        "frechet_distance": frechet.frechet_distance(x, y, form="a"),
        "precision": p, "recall": r, "density": d, "coverage": c,
        "vendi_real": _vendi_cosine(x),
        "vendi_fake": _vendi_cosine(y),
    }


def oracle(task, a, **kw):
    if task == "classification":
        return classification_oracle(a["probs"], a["labels"])
    if task == "ranking":
        return ranking_oracle(a["scores"], a["relevance"])
    if task == "forecast":
        return forecast_oracle(a["ensemble"], a["obs"], a.get("lower"), a.get("upper"), **kw)
    return generative_oracle(a["real"], a["fake"])


def resampled(task, a, idx):
    """The arrays of bootstrap resample ``idx`` ({group: indices}), as the report resamples them."""
    if task == "classification":
        i = idx["samples"]
        return {"probs": a["probs"][i], "labels": a["labels"][i]}
    if task == "ranking":
        i = idx["queries"]
        return {"scores": a["scores"][i], "relevance": a["relevance"][i]}
    if task == "forecast":
        i = idx["observations"]
        return {k: v[i] for k, v in a.items()}
    return {"real": a["real"][idx["real"]], "fake": a["fake"][idx["fake"]]}


# Tolerances: the report stores inputs in float32 and the metrics compute in float32 from them (also
# under the tests' x64); the oracles compute in float64 from the same float32 values.
RTOL = {"frechet_distance": 1e-4}


def check_values(entry, expected, names=None):
    for name in names or expected:
        got = entry["metrics"][name]["value"]
        np.testing.assert_allclose(got, expected[name], rtol=RTOL.get(name, 2e-5), atol=1e-6, err_msg=name)


def check_intervals(task, entry, a, *, seed=SEED, ci=CI, **kw):
    """ci_low / ci_high = numpy percentiles of the oracle on the very same resamples."""
    indices = _bootstrap.bootstrap_indices(seed, entry["groups"], B)
    values = [oracle(task, resampled(task, a, {g: indices[g][b] for g in indices}), **kw) for b in range(B)]
    for name in values[0]:
        v = np.array([row[name] for row in values], np.float64)
        lo, hi = np.percentile(v[~np.isnan(v)], [50 * (1 - ci), 50 * (1 + ci)])
        m = entry["metrics"][name]
        np.testing.assert_allclose([m["ci_low"], m["ci_high"]], [lo, hi], rtol=RTOL.get(name, 2e-5), atol=1e-6,
                                   err_msg=name)
        assert m.get("nan_resamples", 0) == int(np.isnan(v).sum())


# --------------------------------------------------------------------------------------------------
# The embedded examples (the README's main job)


def test_embedded_report_writes_the_json_the_table_and_the_plots(embedded):
    out, rep, stdout = embedded
    assert set(rep) == {"jaxmetrics_version", "source", "bootstrap", "tasks", "elapsed_s"}
    assert rep["source"] == "embedded:all"
    assert rep["bootstrap"]["resamples"] == B and rep["bootstrap"]["method"] == "percentile"
    assert rep["bootstrap"]["ci"] == CI and rep["bootstrap"]["seed"] == SEED
    assert list(rep["tasks"]) == list(data.TASKS)
    expected_plots = {"classification": ["classification_reliability.png", "classification_roc.png",
                                         "classification_pr.png"],
                      "ranking": [], "forecast": ["forecast_pit.png"], "generative": []}
    for task, entry in rep["tasks"].items():
        assert entry["source"] == f"embedded:{task}"
        assert entry["plots"] == expected_plots[task]
        for name in entry["plots"]:
            assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        for name, m in entry["metrics"].items():
            assert {"value", "ci_low", "ci_high", "higher_is_better", "label"} <= set(m), name
            assert m["label"] in stdout
            if m["higher_is_better"] is None:
                assert task in ("forecast", "generative")
    assert sorted(p.name for p in out.iterdir()) == sorted(["report.json", *sum(expected_plots.values(), [])])
    assert "generative" in rep["tasks"] and rep["tasks"]["generative"]["notes"]
    # an aligned table per task: the CI columns line up
    table = stdout.split("\n\n")[0].splitlines()
    assert table[0].startswith("classification — embedded:classification (samples = 600)")
    assert "90% percentile bootstrap CI, 20 resamples of samples" in table[0]
    ends = {len(line.split("  ↑")[0].split("  ↓")[0]) for line in table[2:]}
    assert len(ends) == 1, table
    assert stdout.rstrip().splitlines()[-1].startswith(f"wrote {out / 'report.json'} and 4 plot(s)")


@pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one")
def test_embedded_classification_matches_sklearn(embedded):
    entry = embedded[1]["tasks"]["classification"]
    a = data.load_example("classification")
    assert entry["n"] == 600 and entry["info"] == {"input": "probs", "num_classes": 10, "binary": False}
    check_values(entry, classification_oracle(a["probs"], a["labels"]))
    check_intervals("classification", entry, a)


def test_embedded_ranking_matches_sklearn_and_scipy(embedded):
    entry = embedded[1]["tasks"]["ranking"]
    a = data.load_example("ranking")
    check_values(entry, ranking_oracle(a["scores"], a["relevance"]))
    check_intervals("ranking", entry, a)


def test_embedded_forecast_matches_properscoring_and_scipy(embedded):
    entry = embedded[1]["tasks"]["forecast"]
    a = data.load_example("forecast")
    check_values(entry, forecast_oracle(a["ensemble"], a["obs"]))
    check_intervals("forecast", entry, a)
    assert entry["metrics"]["coverage"]["target"] == 0.9
    # the PIT histogram in the JSON: exact bins of (2·#below + #tied)/(2M)
    e, o = a["ensemble"], a["obs"]
    twice = 2 * (e < o[:, None]).sum(1) + (e == o[:, None]).sum(1)
    counts = np.bincount(np.minimum(twice * 10 // (2 * e.shape[1]), 9), minlength=10)
    assert entry["pit_histogram"]["counts"] == counts.tolist()


def test_embedded_generative_matches_numpy_references(embedded):
    entry = embedded[1]["tasks"]["generative"]
    a = data.load_example("generative")
    assert entry["groups"] == {"real": 300, "fake": 300}
    check_values(entry, generative_oracle(a["real"], a["fake"]))
    check_intervals("generative", entry, a)


# --------------------------------------------------------------------------------------------------
# Synthetic files in each format (embedded shapes, so the compiled programs are reused)

SHAPES = {"classification": {"n": 600, "c": 10}, "ranking": {"q": 100, "n": 100},
          "forecast": {"n": 148, "m": 50}, "generative": {"n": 300, "m": 300, "d": 16}}


@pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one")
@pytest.mark.parametrize("fmt, task", [
    ("csv", "classification"), ("npy", "ranking"), ("npy", "forecast"), ("csv", "forecast"),
    ("npz", "generative"),
])  # every format and every task; .npz classification: test_binary_logits_report_matches_sklearn
def test_synthetic_file_matches_oracles(synthetic_dir, fmt, task):
    a = synthetic(task, seed=11, **SHAPES[task])
    if task == "forecast" and fmt == "csv":  # a given interval instead of the ensemble's
        a["lower"], a["upper"] = a["obs"] - 2.5, a["obs"] + 1.0 + np.abs(a["obs"]) * 0.1
    path = write(synthetic_dir, fmt, task, a, name=f"{task}-{fmt}")
    out = synthetic_dir / f"out-{task}-{fmt}"
    args = ["--task", task] if fmt == "npy" else []
    rc, stdout, stderr = run_report(path, *args, "--bootstrap", B, "--seed", SEED, "--ci", CI, "--out", out,
                                    "--no-plots")
    assert rc == 0, stderr
    rep = json.loads((out / "report.json").read_text())
    assert rep["source"] == str(path) and list(rep["tasks"]) == [task]
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]
    entry = rep["tasks"][task]
    check_values(entry, oracle(task, a))
    # (the intervals are checked against the oracle bootstrap on the embedded examples)
    assert all(m["ci_low"] is not None for m in entry["metrics"].values())


def test_binary_logits_report_matches_sklearn(tmp_path):
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 64)
    logit = rng.normal(size=64) * 2 + 1.5 * (2 * y - 1)
    path = tmp_path / "binary.npz"
    np.savez(path, logits=logit, labels=y)
    rc, stdout, stderr = run_report(path, "--bootstrap", 0, "--out", tmp_path / "o", "--no-plots")
    assert rc == 0, stderr
    entry = json.loads((tmp_path / "o" / "report.json").read_text())["tasks"]["classification"]
    assert entry["info"] == {"input": "logits", "num_classes": 2, "binary": True}
    p = (1 / (1 + np.exp(-logit))).astype(np.float32)
    p64 = p.astype(np.float64)
    expected = {
        "accuracy": sk.accuracy_score(y, p > 0.5),
        "f1": sk.f1_score(y, p > 0.5),
        "auroc": sk.roc_auc_score(y, p64),
        "average_precision": sk.average_precision_score(y, p64),
        "ece": calibration_binning.calibration_error(p64, y, n_bins=15, norm="l1"),
        "brier": sk.brier_score_loss(y, p64),
        "nll": sk.log_loss(y, p),
        "smooth_ece": relplot.smECE(p64, y.astype(float)),
    }
    check_values(entry, expected)
    assert all(m["ci_low"] is None and m["ci_high"] is None for m in entry["metrics"].values())
    assert "no bootstrap" in stdout and entry["plots"] == []


# --------------------------------------------------------------------------------------------------
# Bootstrap machinery


def test_percentile_interval_is_numpys_linear_percentile_ignoring_nan():
    v = np.random.default_rng(0).normal(size=57)
    for ci in (0.5, 0.9, 0.95):
        np.testing.assert_allclose(_bootstrap.percentile_interval(v, ci),
                                   np.percentile(v, [50 * (1 - ci), 50 * (1 + ci)]), rtol=1e-12)
    w = np.concatenate([v, [np.nan] * 5])
    np.testing.assert_allclose(_bootstrap.percentile_interval(w, 0.8), np.percentile(v, [10, 90]), rtol=1e-12)
    lo, hi = _bootstrap.percentile_interval(np.arange(101.0), 0.9)
    assert (lo, hi) == (5.0, 95.0)
    assert all(np.isnan(_bootstrap.percentile_interval([np.nan, np.nan])))
    with pytest.raises(ValueError, match="ci"):
        _bootstrap.percentile_interval(v, 1.0)


def test_bootstrap_indices_are_seeded_independent_per_group_and_uniform():
    a = _bootstrap.bootstrap_indices(7, {"real": 50, "fake": 40}, 400)
    b = _bootstrap.bootstrap_indices(7, {"real": 50, "fake": 40}, 400)
    c = _bootstrap.bootstrap_indices(8, {"real": 50, "fake": 40}, 400)
    assert a["real"].shape == (400, 50) and a["fake"].shape == (400, 40)
    np.testing.assert_array_equal(a["real"], b["real"])
    assert not np.array_equal(a["real"], c["real"])
    assert not np.array_equal(a["real"][:, :40], a["fake"])  # independent keys per group
    assert a["real"].min() == 0 and a["real"].max() == 49
    # each index is drawn with probability 1/n: counts over 20 000 draws within 5 standard deviations
    counts = np.bincount(a["real"].ravel(), minlength=50)
    assert np.all(np.abs(counts - 400) < 5 * np.sqrt(400 * (1 - 1 / 50)))


def test_evaluate_is_independent_of_the_chunk_size():
    x = np.arange(10.0) ** 2
    idx = _bootstrap.bootstrap_indices(0, {"rows": 10}, 13)

    def stats(g):
        v = g["rows"]["x"]
        return jax.numpy.stack([v.mean(), v.max()])

    results = [_bootstrap.evaluate([stats], {"rows": {"x": x}}, idx, chunk=c) for c in (1, 4, 14, 100)]
    expected = np.stack([[x[i].mean(), x[i].max()] for i in idx["rows"]])
    for point, samples in results:
        np.testing.assert_allclose(point, [x.mean(), x.max()])
        np.testing.assert_allclose(samples, expected)
    assert _bootstrap.chunk_size(201, 10) == 21  # ~10 chunks for the progress bar
    assert _bootstrap.chunk_size(201, 2**40) == 1  # bounded memory


def test_progress_bar_plain_and_tty():
    class Stream(io.StringIO):
        def __init__(self, tty):
            super().__init__()
            self.tty = tty

        def isatty(self):
            return self.tty

    plain = Stream(False)
    assert list(_progress.progress(range(20), desc="boot", stream=plain, delay=0, min_interval=0)) == list(range(20))
    lines = plain.getvalue().splitlines()
    assert 2 <= len(lines) <= 11 and lines[-1].startswith("boot [") and "100% 20/20" in lines[-1]
    assert "\r" not in plain.getvalue()
    tty = Stream(True)
    list(_progress.progress(iter(range(5)), total=5, stream=tty, delay=0))
    assert tty.getvalue().count("\r") == 6 and tty.getvalue().endswith("\n") and "100% 5/5" in tty.getvalue()
    quiet = Stream(False)
    list(_progress.progress(range(3), stream=quiet))  # fast work: nothing printed
    assert quiet.getvalue() == ""


def test_without_matplotlib_the_json_is_written_and_plots_are_skipped(tmp_path, monkeypatch):
    real_find_spec = report_module.importlib.util.find_spec
    monkeypatch.setattr(report_module.importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real_find_spec(name, *a))
    out = tmp_path / "o"
    rc, stdout, _ = run_report("--task", "forecast", "--bootstrap", B, "--seed", SEED, "--out", out)
    assert rc == 0
    assert "plots skipped: matplotlib is not installed" in stdout
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]
    rep = json.loads((out / "report.json").read_text())
    assert rep["source"] == "embedded:forecast" and rep["tasks"]["forecast"]["plots"] == []


# --------------------------------------------------------------------------------------------------
# The installed entry point


def test_python_dash_m_entry_point(tmp_path):
    out = tmp_path / "report"
    env = dict(os.environ)
    env.setdefault("JAX_PLATFORMS", "cpu")
    # reuse this run's persistent compilation cache (set by conftest.py), if any
    cache = jax.config.jax_compilation_cache_dir
    if cache:
        env.update(JAX_COMPILATION_CACHE_DIR=cache, JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
                   JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0", JAX_ENABLE_X64=str(int(jax.config.jax_enable_x64)),
                   JAX_DISABLE_MOST_OPTIMIZATIONS=str(int(jax.config.read("jax_disable_most_optimizations"))))
    # one task and B = 20 (the chunk shape of this file's other runs, so the compilations can be reused)
    proc = subprocess.run([sys.executable, "-m", "jaxmetrics", "report", "--task", "forecast", "--bootstrap", str(B),
                           "--out", str(out)], capture_output=True, text=True, env=env, timeout=300,
                          cwd=pathlib.Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["forecast_pit.png", "report.json"]
    assert (out / "forecast_pit.png").read_bytes()[:4] == b"\x89PNG"
    rep = json.loads((out / "report.json").read_text())
    assert rep["source"] == "embedded:forecast" and rep["bootstrap"]["resamples"] == B
    a = data.load_example("forecast")
    expected = forecast_oracle(a["ensemble"], a["obs"])
    np.testing.assert_allclose(rep["tasks"]["forecast"]["metrics"]["crps"]["value"], expected["crps"], rtol=2e-5)
    assert "CRPS" in proc.stdout and f"wrote {out / 'report.json'}" in proc.stdout
