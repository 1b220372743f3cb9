"""``jaxmetrics report`` input files: the three formats read the same data, and every bad input is
refused with exit status 2, a message naming the problem, and no output written."""

from __future__ import annotations

import csv
import pathlib

import numpy as np
import pytest

from jaxmetrics.cli import InputError, main
from jaxmetrics.cli import _inputs

# --------------------------------------------------------------------------------------------------
# Synthetic inputs and writers for the three layouts (shared with test_cli_report.py)


def synthetic(task: str, seed: int = 0, **sizes) -> dict[str, np.ndarray]:
    """Random but valid inputs of ``task`` (``.npz`` keys)."""
    rng = np.random.default_rng(seed)
    if task == "classification":
        n, c = sizes.get("n", 12), sizes.get("c", 3)
        labels = np.arange(n) % c
        logits = rng.normal(size=(n, c)) + 1.5 * np.eye(c)[labels]
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        return {"probs": probs, "labels": labels}
    if task == "ranking":
        q, n = sizes.get("q", 4), sizes.get("n", 5)
        relevance = rng.integers(0, 3, size=(q, n)).astype(np.float64)
        relevance[:, 0] = 1.0  # every query has a relevant item and non-constant grades
        relevance[:, 1] = 0.0
        return {"scores": rng.normal(size=(q, n)) + 0.5 * relevance, "relevance": relevance}
    if task == "forecast":
        n, m = sizes.get("n", 10), sizes.get("m", 6)
        obs = rng.normal(size=n) * 3
        return {"ensemble": obs[:, None] + rng.normal(size=(n, m)) * 2 + 0.3, "obs": obs}
    n, m, d = sizes.get("n", 8), sizes.get("m", 7), sizes.get("d", 3)
    return {"real": rng.normal(size=(n, d)), "fake": rng.normal(size=(m, d)) + 0.2}


def write_npz(path: pathlib.Path, arrays: dict) -> pathlib.Path:
    np.savez(path, **arrays)
    return path


def write_npy(path: pathlib.Path, task: str, a: dict) -> pathlib.Path:
    if task == "classification":
        p = a["probs"] if a["probs"].ndim == 2 else a["probs"][:, None]
        x = np.column_stack([a["labels"], p])
    elif task == "ranking":
        q, n = a["scores"].shape
        x = np.column_stack([np.repeat(np.arange(q), n), a["scores"].ravel(), a["relevance"].ravel()])
    elif task == "forecast":
        x = np.column_stack([a["obs"], a["ensemble"]])
    else:
        x = np.vstack([np.column_stack([np.ones(len(a["real"])), a["real"]]),
                       np.column_stack([np.zeros(len(a["fake"])), a["fake"]])])
    np.save(path, x)
    return path


def write_csv(path: pathlib.Path, task: str, a: dict) -> pathlib.Path:
    if task == "classification":
        if a["probs"].ndim == 1:
            header, rows = ["label", "score"], [[int(y), p] for y, p in zip(a["labels"], a["probs"])]
        else:
            c = a["probs"].shape[1]
            header = ["label", *(f"p{j}" for j in range(c))]
            rows = [[int(y), *p] for y, p in zip(a["labels"], a["probs"])]
    elif task == "ranking":
        header = ["query", "score", "relevance"]
        rows = [[f"q{i}", s, r] for i in range(len(a["scores"])) for s, r in zip(a["scores"][i], a["relevance"][i])]
    elif task == "forecast":
        m = a["ensemble"].shape[1]
        bounds = [k for k in ("lower", "upper") if k in a]
        header = ["obs", *(f"m{j}" for j in range(m)), *bounds]
        rows = [[o, *e, *(a[k][i] for k in bounds)] for i, (o, e) in enumerate(zip(a["obs"], a["ensemble"]))]
    else:
        d = a["real"].shape[1]
        header = ["set", *(f"f{j}" for j in range(d))]
        rows = [["real", *r] for r in a["real"]] + [["fake", *r] for r in a["fake"]]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows([[repr(float(v)) if isinstance(v, (float, np.floating)) else v for v in r] for r in rows])
    return path


def write(tmp_path: pathlib.Path, fmt: str, task: str, arrays: dict, name: str = "preds") -> pathlib.Path:
    path = tmp_path / f"{name}.{fmt}"
    if fmt == "npz":
        return write_npz(path, arrays)
    return (write_npy if fmt == "npy" else write_csv)(path, task, arrays)


TASKS = _inputs.TASKS

# --------------------------------------------------------------------------------------------------
# Good files


def _canonical(td):
    return {f"{g}/{k}": v for g, arrays in td.arrays.items() for k, v in arrays.items()}


@pytest.mark.parametrize("task", TASKS)
def test_the_three_formats_read_the_same_arrays(tmp_path, task):
    a = synthetic(task)
    loaded = {}
    for fmt in ("npz", "npy", "csv"):
        path = write(tmp_path, fmt, task, a)
        td = _inputs.load(str(path), None if fmt != "npy" else task)
        assert td.task == task and td.source == str(path)
        loaded[fmt] = _canonical(td)
    ref = loaded["npz"]
    for fmt in ("npy", "csv"):
        assert loaded[fmt].keys() == ref.keys()
        for k in ref:
            np.testing.assert_allclose(loaded[fmt][k], ref[k], rtol=1e-7, err_msg=f"{fmt} {k}")
    # canonical values are the input values (float32) — nothing is transformed except logits / quantiles
    if task == "classification":
        np.testing.assert_allclose(ref["samples/probs"], a["probs"], rtol=1e-6)
        np.testing.assert_array_equal(ref["samples/labels"], a["labels"])
    elif task == "ranking":
        np.testing.assert_allclose(ref["queries/scores"], a["scores"], rtol=1e-6)
        assert ref["queries/mask"].all()
    elif task == "forecast":
        lo, hi = np.quantile(a["ensemble"], [0.05, 0.95], axis=1)
        np.testing.assert_allclose(ref["observations/lower"], lo, rtol=1e-6)
        np.testing.assert_allclose(ref["observations/upper"], hi, rtol=1e-6)
    else:
        np.testing.assert_allclose(ref["fake/x"], a["fake"], rtol=1e-6)


def test_logits_are_softmaxed_and_binary_inputs_are_accepted(tmp_path):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(9, 4)) * 30  # large logits: the softmax must not overflow
    labels = np.arange(9) % 4
    td = _inputs.load(str(write_npz(tmp_path / "l.npz", {"logits": logits, "labels": labels})))
    e = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(td.arrays["samples"]["probs"], e / e.sum(1, keepdims=True), rtol=1e-5, atol=1e-30)
    assert td.info == {"input": "logits", "num_classes": 4, "binary": False}
    p = rng.uniform(size=9)
    y = (p > 0.4).astype(int)
    for fmt in ("npz", "npy", "csv"):
        td = _inputs.load(str(write(tmp_path, fmt, "classification", {"probs": p, "labels": y}, f"b{fmt}")),
                          "classification")
        assert td.info["binary"] and td.info["num_classes"] == 2
        np.testing.assert_allclose(td.arrays["samples"]["probs"], p, rtol=1e-6)
    td = _inputs.load(str(write_npz(tmp_path / "bl.npz", {"logits": np.array([-800.0, 0.0, 800.0]),
                                                            "labels": np.array([0, 1, 1])})))
    np.testing.assert_allclose(td.arrays["samples"]["probs"], [0.0, 0.5, 1.0])


def test_ragged_ranking_csv_is_padded_and_masked(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("query,score,relevance\nb,0.3,1\na,0.9,0\nb,0.1,0\na,0.2,2\na,0.5,0\n")
    td = _inputs.load(str(path))
    q = td.arrays["queries"]
    np.testing.assert_array_equal(q["mask"], [[True, True, False], [True, True, True]])
    np.testing.assert_allclose(q["scores"], [[0.3, 0.1, 0.0], [0.9, 0.2, 0.5]], rtol=1e-6)
    np.testing.assert_array_equal(q["relevance"], [[1, 0, 0], [0, 2, 0]])
    assert td.info["num_queries"] == 2 and td.info["items"] == 5 and not td.info["binary_relevance"]


def test_forecast_given_interval_and_level(tmp_path):
    a = synthetic("forecast")
    a["lower"], a["upper"] = a["obs"] - 1.0, a["obs"] + 2.0
    td = _inputs.load(str(write_npz(tmp_path / "f.npz", a)), level=0.8)
    np.testing.assert_allclose(td.arrays["observations"]["lower"], a["lower"], rtol=1e-6)
    assert td.info["interval"] == "given lower/upper" and td.info["nominal_level"] == 0.8
    td = _inputs.load(str(write_npz(tmp_path / "g.npz", synthetic("forecast"))), level=0.5)
    lo = np.quantile(synthetic("forecast")["ensemble"], 0.25, axis=1)
    np.testing.assert_allclose(td.arrays["observations"]["lower"], lo, rtol=1e-6)


# --------------------------------------------------------------------------------------------------
# Bad files: exit 2, a message naming the problem, nothing written


def _npz(name, **arrays):
    def build(tmp):
        return write_npz(tmp / name, arrays), []
    return build


def _text(name, content, *args):
    def build(tmp):
        p = tmp / name
        p.write_text(content)
        return p, list(args)
    return build


def _bytes(name, content):
    def build(tmp):
        p = tmp / name
        p.write_bytes(content)
        return p, []
    return build


def _object_npz(tmp):
    p = tmp / "obj.npz"
    np.savez(p, probs=np.array([{"a": 1}, None], dtype=object), labels=np.array([0, 1]))
    return p, []


def _object_npy(tmp):
    p = tmp / "obj.npy"
    np.save(p, np.array([[1, "x"]], dtype=object), allow_pickle=True)
    return p, ["--task", "forecast"]


def _npy(name, x, task=None):
    def build(tmp):
        p = tmp / name
        np.save(p, x)
        return p, (["--task", task] if task else [])
    return build


_C = synthetic("classification")
_R = synthetic("ranking")
_F = synthetic("forecast")
_G = synthetic("generative")


def _with(base, **changes):
    out = {k: np.array(v, copy=True) for k, v in base.items()}
    for k, v in changes.items():
        if v is None:
            out.pop(k)
        else:
            out[k] = v
    return out


def _set(a, index, value):
    a = np.array(a, dtype=np.float64, copy=True)
    a[index] = value
    return a


_shifted = _C["probs"].copy()
_shifted[3] *= 1.5

BAD = {
    # file level
    "missing file": (lambda tmp: (tmp / "nope.npz", []), ["nope.npz", "no such file"]),
    "unsupported extension": (_bytes("preds.pkl", b"\x80\x04N."), ["'.pkl'", ".npz, .npy or .csv", "pickle"]),
    "directory": (lambda tmp: ((tmp / "d.npz").mkdir() or tmp / "d.npz", []), ["directory"]),
    "corrupt npz": (_bytes("bad.npz", b"not a zip"), ["bad.npz", "not a .npz archive"]),
    "pickled object array in npz": (_object_npz, ["`probs`", "pickle"]),
    "pickled object array in npy": (_object_npy, ["obj.npy", "pickle"]),
    "ambiguous keys": (_npz("amb.npz", **_C, **_R), ["fit several tasks", "classification", "ranking", "--task"]),
    "no task keys": (_npz("none.npz", foo=np.zeros(3)), ["cannot tell the task", "`foo`", "--task"]),
    "unknown key": (_npz("typo.npz", **_F, lowr=_F["obs"]), ["unexpected key", "`lowr`"]),
    "npy without task": (_npy("x.npy", np.zeros((4, 3))), ["x.npy", "pass --task"]),
    "keys of another task": (lambda tmp: (write_npz(tmp / "c.npz", _C), ["--task", "ranking"]),
                             ["missing key `relevance`, key `scores`", "found `labels`, `probs`"]),
    # classification
    "missing labels": (_npz("c.npz", probs=_C["probs"]), ["missing key `labels`", "found `probs`"]),
    "probs and logits": (_npz("c.npz", **_C, logits=_C["probs"]), ["either `probs` or `logits`"]),
    "probs wrong rows": (_npz("c.npz", probs=_C["probs"][:-1], labels=_C["labels"]),
                         ["key `probs`", "12 rows", "[11, 3]"]),
    "probs 3-D": (_npz("c.npz", probs=_C["probs"][None], labels=_C["labels"]), ["key `probs`", "3-D"]),
    "probs NaN": (_npz("c.npz", **_with(_C, probs=_set(_C["probs"], (4, 2), np.nan))),
                  ["key `probs`", "NaN", "index (4, 2)", "nothing was computed"]),
    "probs outside unit interval": (_npz("c.npz", **_with(_C, probs=_set(_C["probs"], (5, 1), 1.2))),
                                    ["key `probs`", "[0, 1]", "index (5, 1): 1.2"]),
    "rows not normalised": (_npz("c.npz", **_with(_C, probs=np.clip(_shifted, 0, 1))),
                            ["key `probs`", "sum to 1", "1 row does not, first at index 3 (sum 1.5)", "`logits`"]),
    "label out of range": (_npz("c.npz", **_with(_C, labels=_set(_C["labels"], 7, 3).astype(int))),
                           ["key `labels`", "[0, 3)", "1 entry outside, first at index 7: 3."]),
    "label not integer": (_npz("c.npz", **_with(_C, labels=_set(_C["labels"], 2, 0.5))),
                          ["key `labels`", "integers", "1 entry not, first at index 2: 0.5."]),
    "string labels": (_npz("c.npz", **_with(_C, labels=np.array(["a"] * 12))), ["key `labels`", "numeric"]),
    "binary label 2": (_npz("c.npz", probs=np.full(4, 0.5), labels=np.array([0, 1, 2, 1])),
                       ["key `labels`", "[0, 2)", "index 2"]),
    "logits inf": (_npz("c.npz", logits=_set(_C["probs"], (0, 0), np.inf), labels=_C["labels"]),
                   ["key `logits`", "NaN or inf", "index (0, 0)"]),
    # ranking
    "relevance shape": (_npz("r.npz", scores=_R["scores"], relevance=_R["relevance"][:, :4]),
                        ["key `relevance`", "[4, 5]", "[4, 4]"]),
    "negative relevance": (_npz("r.npz", **_with(_R, relevance=_set(_R["relevance"], (2, 3), -1))),
                           ["key `relevance`", ">= 0", "index (2, 3)"]),
    "scores NaN": (_npz("r.npz", **_with(_R, scores=_set(_R["scores"], (1, 1), np.nan))),
                   ["key `scores`", "NaN", "index (1, 1)"]),
    "query without valid items": (_npz("r.npz", **_R, mask=np.array([[True] * 5, [False] * 5, [True] * 5, [True] * 5])),
                                  ["key `mask`", "valid item", "index 1"]),
    # forecast
    "obs NaN": (_npz("f.npz", **_with(_F, obs=_set(_F["obs"], 6, np.nan))), ["key `obs`", "NaN", "index 6"]),
    "one member": (_npz("f.npz", **_with(_F, ensemble=_F["ensemble"][:, :1])), ["key `ensemble`", "2 members"]),
    "ensemble rows": (_npz("f.npz", **_with(_F, ensemble=_F["ensemble"][:9])), ["key `ensemble`", "10 rows"]),
    "lower without upper": (_npz("f.npz", **_F, lower=_F["obs"]), ["key `lower`", "without `upper`"]),
    "lower above upper": (_npz("f.npz", **_F, lower=_F["obs"] + _set(np.zeros(10), 8, 5.0), upper=_F["obs"] + 1),
                          ["key `lower`", "<= `upper`", "index 8"]),
    # generative
    "feature mismatch": (_npz("g.npz", real=_G["real"], fake=_G["fake"][:, :2]), ["key `fake`", "3 feature columns"]),
    "too few rows": (_npz("g.npz", real=_G["real"][:5], fake=_G["fake"]), ["key `real`", "more than 5 rows"]),
    "fake inf": (_npz("g.npz", **_with(_G, fake=_set(_G["fake"], (3, 0), -np.inf))),
                 ["key `fake`", "NaN or inf", "index (3, 0)"]),
    # csv
    "csv not a number": (_text("c.csv", "label,p0,p1\n0,0.5,0.5\n1,0.3,abc\n"),
                         ["c.csv", "column `p1`", "line 3", "'abc'", "not a number"]),
    "csv empty cell": (_text("c.csv", "label,p0,p1\n0,0.5,0.5\n1,,0.7\n"), ["column `p0`", "line 3", "empty cell"]),
    "csv ragged line": (_text("c.csv", "label,p0,p1\n0,0.5,0.5\n1,0.3\n"), ["line 3", "2 fields", "header has 3"]),
    "csv NaN located": (_text("c.csv", "label,p0,p1\n0,0.5,0.5\n1,nan,0.7\n"),
                        ["columns `p0`..`p1`", "NaN", "line 3, column `p0`"]),
    "csv label out of range": (_text("c.csv", "label,p0,p1\n0,0.5,0.5\n2,0.3,0.7\n"),
                               ["column `label`", "[0, 2)", "line 3"]),
    "csv gap in columns": (_text("c.csv", "label,p0,p2\n0,0.5,0.5\n"), ["`p<j>`", "without gaps"]),
    "csv unknown column": (_text("f.csv", "obs,m0,m1,id\n1,2,3,4\n"), ["unexpected column", "`id`"]),
    "csv no probabilities": (_text("c.csv", "label,x\n0,1\n"), ["exactly one of", "`score`"]),
    "csv duplicate column": (_text("c.csv", "label,p0,p0\n0,1,0\n"), ["duplicate", "`p0`"]),
    "csv header only": (_text("c.csv", "label,p0,p1\n"), ["no data rows"]),
    "csv empty": (_text("c.csv", ""), ["empty"]),
    "csv ambiguous": (_text("x.csv", "label,query,score,relevance\n0,1,2,3\n"), ["several tasks", "--task"]),
    "csv bad set": (_text("g.csv", "set,f0\nreal,1\nfake,2\nmaybe,3\n"), ["column `set`", "line 4", "'maybe'"]),
    "csv missing marker with task": (_text("g.csv", "f0,f1\n1,2\n", "--task", "generative"), ["missing column `set`"]),
    "csv negative relevance": (_text("r.csv", "query,score,relevance\na,0.1,1\na,0.2,-1\n"),
                               ["column `relevance`", ">= 0", "line 3"]),
    "not utf-8 csv": (_bytes("c.csv", b"\xff\xfe\x00l\x00a"), ["UTF-8"]),
    # npy
    "npy wrong layout": (_npy("f.npy", np.zeros((4, 2)), "forecast"), ["[N, 1 + M]", "[4, 2]"]),
    "npy 1-D": (_npy("c.npy", np.zeros(4), "classification"), ["2-D", "[4]"]),
    "npy label out of range": (_npy("c.npy", np.array([[0, 0.2, 0.8], [2, 0.5, 0.5]]), "classification"),
                               ["column 0 (labels)", "[0, 2)", "row 1"]),
    "npy bad set flag": (_npy("g.npy", np.array([[1, 0.0], [2, 1.0]]), "generative"), ["column 0", "row 1"]),
    "npy prob located": (_npy("c.npy", np.array([[0, 0.2, 0.8], [1, 1.5, -0.5]]), "classification"),
                         ["columns 1..2", "[0, 1]", "row 1, column 1"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_exits_2_with_a_clear_message_and_writes_nothing(tmp_path, capsys, case):
    build, words = BAD[case]
    path, extra = build(tmp_path)
    out = tmp_path / "out"
    rc = main(["report", str(path), *extra, "--out", str(out), "--bootstrap", "5"])
    captured = capsys.readouterr()
    assert rc == 2
    assert not out.exists()
    assert captured.out == ""  # nothing computed, no table
    err = captured.err.strip()
    assert err.startswith("jaxmetrics report: error: ") and "\n" not in err, err
    for word in words:
        assert word in err, f"{word!r} not in {err!r}"


@pytest.mark.parametrize("args, word", [
    (["--ci", "1.5"], "--ci"),
    (["--ci", "x"], "--ci"),
    (["--bootstrap", "-1"], "--bootstrap"),
    (["--k", "0"], "--k"),
    (["--level", "0"], "--level"),
    (["--task", "regression"], "--task"),
])
def test_bad_options_exit_2(tmp_path, capsys, args, word):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as e:
        main(["report", *args, "--out", str(out)])
    assert e.value.code == 2 and not out.exists()
    assert word in capsys.readouterr().err


def test_out_must_not_be_a_file(tmp_path, capsys):
    path = write_npz(tmp_path / "f.npz", synthetic("forecast"))
    (tmp_path / "taken").write_text("x")
    assert main(["report", str(path), "--out", str(tmp_path / "taken"), "--bootstrap", "0"]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_input_errors_are_value_errors_raised_before_reading():
    assert issubclass(InputError, ValueError)
    with pytest.raises(InputError, match="unknown task 'regression'"):
        _inputs.load("anything.csv", "regression")
    with pytest.raises(InputError, match="unsupported file type '.txt'"):
        _inputs.load("nothing.txt")
