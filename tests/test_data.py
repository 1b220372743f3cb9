"""The embedded real-data files: contents equal their documented sources, the committed script
reproduces them, and they stay small, pickle-free and documented."""

from __future__ import annotations

import importlib.util
import pathlib
import re

import numpy as np
import pytest

from jaxmetrics import data

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "jaxmetrics" / "data"
FILES = ("digits", *data.TASKS)

sklearn = pytest.importorskip("sklearn")


def _script():
    spec = importlib.util.spec_from_file_location("make_embedded_data", ROOT / "scripts" / "make_embedded_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_load_digits_is_scikit_learns_digits_scaled_to_unit_interval():
    from sklearn.datasets import load_digits

    ref = load_digits()
    x, y = data.load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int32
    np.testing.assert_array_equal(x * 16, ref.data)  # exact: pixel / 16 is exact in float32
    np.testing.assert_array_equal(y, ref.target)
    assert x.min() == 0.0 and x.max() == 1.0


@pytest.mark.parametrize("task, keys", [
    ("classification", {"probs": ((600, 10), np.float32), "labels": ((600,), np.int32)}),
    ("ranking", {"scores": ((100, 100), np.float32), "relevance": ((100, 100), np.uint8)}),
    ("forecast", {"ensemble": ((148, 50), np.float32), "obs": ((148,), np.float32)}),
    ("generative", {"real": ((300, 16), np.float32), "fake": ((300, 16), np.float32)}),
])
def test_load_example_shapes_and_dtypes(task, keys):
    ex = data.load_example(task)
    assert set(ex) == set(keys)
    for k, (shape, dtype) in keys.items():
        assert ex[k].shape == shape and ex[k].dtype == dtype, k
        if ex[k].dtype.kind == "f":
            assert np.isfinite(ex[k]).all()


def test_examples_have_their_documented_properties():
    c = data.load_example("classification")
    np.testing.assert_allclose(c["probs"].astype(np.float64).sum(1), 1.0, atol=1e-6)
    assert set(np.unique(c["labels"])) == set(range(10))
    accuracy = np.mean(c["probs"].argmax(1) == c["labels"])
    confidence = np.mean(c["probs"].max(1))
    assert 0.9 < accuracy < confidence  # the deliberately over-confident model (README: 0.923 vs 0.979)
    r = data.load_example("ranking")
    assert set(np.unique(r["relevance"])) == {0, 1}
    assert r["relevance"].sum(1).min() >= 1  # every query has a relevant candidate
    assert np.all(np.abs(r["scores"]) <= 1 + 1e-6)  # cosine similarities
    f = data.load_example("forecast")
    lo, hi = np.quantile(f["ensemble"].astype(np.float64), [0.05, 0.95], axis=1)
    np.testing.assert_allclose(np.mean((f["obs"] >= lo) & (f["obs"] <= hi)), 0.878, atol=1e-3)
    d = data.load_digits()[1]
    assert f["obs"].min() >= 25 and f["obs"].max() <= 346  # the diabetes target's range
    assert d.max() == 9


def test_the_committed_script_reproduces_every_file():
    script = _script()
    for name in FILES:
        fresh = script.MAKERS[name]()
        with np.load(DATA / f"{name}.npz", allow_pickle=False) as f:
            stored = {k: f[k] for k in f.files}
        assert stored.keys() == fresh.keys(), name
        for k, v in fresh.items():
            assert stored[k].dtype == v.dtype and stored[k].shape == v.shape, (name, k)
            if v.dtype.kind == "f":  # solver round-off may differ across BLAS builds
                np.testing.assert_allclose(stored[k], v, rtol=1e-4, atol=1e-4, err_msg=f"{name}/{k}")
            else:
                np.testing.assert_array_equal(stored[k], v, err_msg=f"{name}/{k}")


def test_files_are_small_pickle_free_packaged_and_documented():
    sizes = {name: (DATA / f"{name}.npz").stat().st_size for name in FILES}
    assert sum(sizes.values()) < 300 * 1024, sizes
    for name in FILES:
        with np.load(DATA / f"{name}.npz", allow_pickle=False) as f:  # raises on object arrays
            assert all(f[k].dtype != object for k in f.files)
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for name in FILES:
        assert f"`{name}.npz`" in readme, name
    for needle in ("CC BY 4.0", "BSD-3-Clause", "random_state=0", "python scripts/make_embedded_data.py",
                   "Alpaydin", "Efron"):
        assert needle in readme, needle
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'jaxmetrics = \[.*"data/\*\.npz".*"data/\*\.md"', pyproject)
    assert all(data.example_path(t).is_file() for t in data.TASKS)


def test_load_example_rejects_unknown_tasks():
    with pytest.raises(ValueError, match="classification"):
        data.load_example("regression")
