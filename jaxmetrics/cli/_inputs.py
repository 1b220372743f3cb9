"""Reading and validating the prediction files of ``jaxmetrics report``.

Nothing here computes a metric: :func:`load` reads a ``.npz``, ``.npy`` or ``.csv`` file (never a
pickle: ``np.load(..., allow_pickle=False)`` always), works out the task, checks every value and
returns a :class:`TaskData` of canonical arrays, or raises :class:`jaxmetrics.cli.InputError` with a
message naming the file, the key or column, the expected and actual shape or range and, for NaN and
out-of-range values, the first offending entry. :func:`from_arrays` applies the same checks to
arrays already in memory (the embedded examples go through it too).

File layouts (also printed by ``jaxmetrics report --help``):

``.npz`` — arrays keyed by name:

* classification: ``probs`` [N, C] (rows sum to 1 within 1e-3) or ``probs`` [N] (binary P(y = 1)) or
  ``logits`` [N, C] / [N] (softmax / sigmoid applied); ``labels`` [N] integers in [0, C).
* ranking: ``scores`` [Q, n], ``relevance`` [Q, n] (graded, >= 0), optional ``mask`` [Q, n] (bool,
  False = padding; every query needs one valid item).
* forecast: ``ensemble`` [N, M] (M >= 2 members), ``obs`` [N], optional ``lower`` and ``upper`` [N]
  (a prediction interval; default: the ensemble's central ``--level`` interval).
* generative: ``real`` [n, d], ``fake`` [m, d] (n, m > 5, the k of PRDC).

``.csv`` — a header row, then one row per sample:

* classification: ``label`` and either ``p0`` … ``p{C-1}`` (probabilities), ``logit0`` …
  ``logit{C-1}``, or ``score`` (binary P(y = 1)).
* ranking (long format): ``query`` (any id), ``score``, ``relevance`` — one row per (query, item);
  a query's items keep file order; queries of different lengths are padded and masked.
* forecast: ``obs``, members ``m0`` … ``m{M-1}``, optional ``lower``, ``upper``.
* generative: ``set`` (``real`` or ``fake``) and the feature columns (every other column).

``.npy`` — one 2-D numeric array, and ``--task`` is required:

* classification: [N, 1 + C] = label, then the C class probabilities; [N, 2] = label, P(y = 1).
* ranking: [R, 3] = query id, score, relevance (the long format of the CSV).
* forecast: [N, 1 + M] = obs, then the M members.
* generative: [n + m, 1 + d] = 1 for a real row or 0 for a fake one, then the d features.

Tasks are inferred from the keys (``.npz``) or marker columns (``.csv``: ``label``, ``query``,
``obs``, ``set``) when ``--task`` is omitted; input that fits several tasks is an error asking for
``--task``. Unknown keys or columns are errors (typos must not silently change what is computed);
``.npz`` keys that belong to another task are ignored when ``--task`` picks one.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import zipfile
from collections.abc import Callable, Mapping

import numpy as np

from jaxmetrics.cli import InputError

__all__ = ["PRDC_K", "ROW_SUM_ATOL", "TASKS", "TaskData", "from_arrays", "load"]

TASKS = ("classification", "ranking", "forecast", "generative")
ROW_SUM_ATOL = 1e-3
PRDC_K = 5

# .npz keys of each task: (required, optional). Classification needs one of probs / logits.
_KEYS = {
    "classification": ({"labels"}, {"probs", "logits"}),
    "ranking": ({"scores", "relevance"}, {"mask"}),
    "forecast": ({"ensemble", "obs"}, {"lower", "upper"}),
    "generative": ({"real", "fake"}, set()),
}
_KEY_HELP = {
    "classification": "`probs` or `logits`, and `labels`",
    "ranking": "`scores`, `relevance` (optional `mask`)",
    "forecast": "`ensemble`, `obs` (optional `lower`, `upper`)",
    "generative": "`real`, `fake`",
}
# .csv marker column of each task
_MARKERS = {"classification": "label", "ranking": "query", "forecast": "obs", "generative": "set"}
_CSV_HELP = {
    "classification": "`label` + `p0`..`p{C-1}` | `logit0`..`logit{C-1}` | `score`",
    "ranking": "`query`, `score`, `relevance`",
    "forecast": "`obs`, `m0`..`m{M-1}` (optional `lower`, `upper`)",
    "generative": "`set` (real/fake) + feature columns",
}
_NPY_HELP = {
    "classification": "[N, 1 + C]: label, then C class probabilities ([N, 2]: label, P(y=1))",
    "ranking": "[R, 3]: query id, score, relevance",
    "forecast": "[N, 1 + M]: obs, then M members",
    "generative": "[n + m, 1 + d]: 1 (real) or 0 (fake), then d features",
}


@dataclasses.dataclass(frozen=True)
class TaskData:
    """Validated, canonical inputs of one report task.

    Attributes:
      task: one of :data:`TASKS`.
      source: the file path, or ``"embedded:<task>"``.
      arrays: ``{group: {name: array}}``; each group is one bootstrap unit, resampled along axis 0
        (``"samples"``: classification ``probs`` float32 [N, C] or [N] and ``labels`` int32 [N];
        ``"queries"``: ranking ``scores`` float32 [Q, n], ``relevance`` float32 [Q, n], ``mask`` bool
        [Q, n]; ``"observations"``: forecast ``ensemble`` float32 [N, M], ``obs``, ``lower``,
        ``upper`` float32 [N]; generative ``"real"`` {``x`` [n, d]} and ``"fake"`` {``x`` [m, d]}).
      info: JSON-ready description of the input (sizes, input kind, interval source …).
    """

    task: str
    source: str
    arrays: dict
    info: dict

    def sizes(self) -> dict[str, int]:
        """Number of bootstrap units per group."""
        return {g: int(next(iter(a.values())).shape[0]) for g, a in self.arrays.items()}


# --------------------------------------------------------------------------------------------------
# Locating entries for messages


Locate = Callable[[str, tuple], str]


def _default_locate(name: str, index: tuple) -> str:
    return f"index {index[0] if len(index) == 1 else index}"


def _first(mask: np.ndarray, values: np.ndarray | None, name: str, locate: Locate, what: str = "") -> str:
    """``"<n> entries <what>, first at <where>: <value>"`` for the True entries of ``mask``."""
    idx = np.argwhere(mask)
    n = len(idx)
    first = tuple(int(i) for i in idx[0])
    where = locate(name, first)
    value = "" if values is None else f": {np.asarray(values)[first].item()!r}"
    return f"{n} entr{'y' if n == 1 else 'ies'}{' ' + what if what else ''}, first at {where}{value}"


def _num(v) -> str:
    return f"{float(v):.6g}"


# --------------------------------------------------------------------------------------------------
# Generic checks


class _Checker:
    """Checks with messages ``<source>: <what> `<name>` ...`` (``what`` = "key" or "column(s)")."""

    def __init__(self, source: str, task: str, locate: Locate | None = None, what: Mapping[str, str] | None = None):
        self.source = source
        self.task = task
        self.locate = locate or _default_locate
        self.what = dict(what or {})

    def name(self, key: str) -> str:
        return self.what.get(key, f"key `{key}`")

    def fail(self, message: str):
        raise InputError(f"{self.source}: {message}")

    def numeric(self, key: str, x) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype == object:
            self.fail(f"{self.name(key)} holds Python objects (dtype object); expected a numeric array.")
        if x.dtype.kind not in "biuf":
            self.fail(f"{self.name(key)} must be numeric (bool, integer or float); got dtype {x.dtype}.")
        return x

    def ndim(self, key: str, x: np.ndarray, ndims: tuple[int, ...], layout: str) -> None:
        if x.ndim not in ndims:
            self.fail(f"{self.name(key)} must be {layout}; got shape {list(x.shape)} ({x.ndim}-D).")

    def rows(self, key: str, x: np.ndarray, n: int, layout: str, ref: str) -> None:
        if x.shape[0] != n:
            self.fail(f"{self.name(key)} must be {layout} with {n} rows, matching {ref}; "
                      f"got shape {list(x.shape)}.")

    def finite(self, key: str, x: np.ndarray, allow_inf: bool = False) -> None:
        if x.dtype.kind != "f":
            return
        bad = np.isnan(x) if allow_inf else ~np.isfinite(x)
        if bad.any():
            kind = "NaN" if allow_inf else "NaN or inf"
            self.fail(f"{self.name(key)} contains {kind} ({_first(bad, None, key, self.locate)}); "
                      "nothing was computed.")

    def in_range(self, key: str, x: np.ndarray, lo: float, hi: float) -> None:
        bad = (x < lo) | (x > hi)
        if bad.any():
            self.fail(f"{self.name(key)} must lie in [{lo:g}, {hi:g}]; {_first(bad, x, key, self.locate, 'outside')}.")

    def integers(self, key: str, x: np.ndarray) -> np.ndarray:
        if x.dtype.kind == "f":
            self.finite(key, x)
            bad = x != np.round(x)
            if bad.any():
                self.fail(f"{self.name(key)} must hold integers; {_first(bad, x, key, self.locate, 'not')}.")
        return x.astype(np.int64)

    def nonempty(self, key: str, x: np.ndarray, minimum: int = 1, what: str = "rows") -> None:
        if x.shape[0] < minimum:
            self.fail(f"{self.name(key)} needs at least {minimum} {what}; got shape {list(x.shape)}.")


# --------------------------------------------------------------------------------------------------
# Per-task validation into canonical arrays


def _classification(c: _Checker, a: dict) -> tuple[dict, dict]:
    if "probs" in a and "logits" in a:
        c.fail("give either `probs` or `logits`, not both.")
    if "probs" not in a and "logits" not in a:
        c.fail(f"missing {c.name('probs')} (or `logits`): classification needs {_KEY_HELP['classification']}.")
    kind = "probs" if "probs" in a else "logits"
    p = c.numeric(kind, a[kind])
    y = c.numeric("labels", a["labels"])
    c.ndim("labels", y, (1,), "[N]")
    c.nonempty("labels", y)
    n = y.shape[0]
    c.ndim(kind, p, (1, 2), f"[N, C] or [N] (binary), with N = {n} as `labels`")
    c.rows(kind, p, n, "[N, C] or [N]", f"`labels` (N = {n})")
    if p.dtype.kind not in "f":
        p = p.astype(np.float64)
    binary = p.ndim == 1
    num_classes = 2 if binary else p.shape[1]
    if not binary and num_classes < 2:
        c.fail(f"{c.name(kind)} must have C >= 2 classes; got shape {list(p.shape)}.")
    if kind == "probs":
        c.finite(kind, p)
        c.in_range(kind, p, 0.0, 1.0)
        if not binary:
            s = p.astype(np.float64).sum(axis=1)
            off = np.abs(s - 1.0) > ROW_SUM_ATOL
            if off.any():
                i = int(np.argmax(off))
                k = int(off.sum())
                c.fail(f"{c.name(kind)}: rows must sum to 1 within {ROW_SUM_ATOL:g}; {k} row{'s' if k > 1 else ''} "
                       f"{'do' if k > 1 else 'does'} not, first at {c.locate(kind, (i,))} (sum {_num(s[i])}). "
                       "Unnormalised scores or logits belong under `logits`, which are passed through a softmax.")
        probs = p.astype(np.float32)
    else:
        c.finite(kind, p)
        z = p.astype(np.float64)
        if binary:
            probs = (0.5 * (1.0 + np.tanh(0.5 * z))).astype(np.float32)  # sigmoid, overflow-free
        else:
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            probs = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    labels = c.integers("labels", y)
    bad = (labels < 0) | (labels >= num_classes)
    if bad.any():
        classes = f"binary {c.name(kind)}" if binary else c.name(kind)
        c.fail(f"{c.name('labels')} must lie in [0, {num_classes}), the {num_classes} classes of {classes}; "
               f"{_first(bad, labels, 'labels', c.locate, 'outside')}.")
    info = {"input": kind, "num_classes": num_classes, "binary": binary}
    return {"samples": {"probs": probs, "labels": labels.astype(np.int32)}}, info


def _ranking(c: _Checker, a: dict) -> tuple[dict, dict]:
    s = c.numeric("scores", a["scores"])
    r = c.numeric("relevance", a["relevance"])
    c.ndim("scores", s, (2,), "[Q, n] (queries × candidate items)")
    c.nonempty("scores", s, 1, "query")
    if s.shape[1] < 1:
        c.fail(f"{c.name('scores')} needs at least one item per query; got shape {list(s.shape)}.")
    if r.shape != s.shape:
        c.fail(f"{c.name('relevance')} must have the shape of `scores`, {list(s.shape)}; got {list(r.shape)}.")
    if "mask" in a:
        m = np.asarray(a["mask"])
        if m.dtype.kind not in "biu" or (m.dtype.kind != "b" and not np.isin(m, (0, 1)).all()):
            c.fail(f"{c.name('mask')} must be boolean (or 0/1); got dtype {m.dtype}.")
        if m.shape != s.shape:
            c.fail(f"{c.name('mask')} must have the shape of `scores`, {list(s.shape)}; got {list(m.shape)}.")
        mask = m.astype(bool)
    else:
        mask = np.ones(s.shape, bool)
    empty = ~mask.any(axis=1)
    if empty.any():
        k = int(empty.sum())
        where = c.locate("mask", (int(np.argmax(empty)),))
        c.fail(f"{c.name('mask')}: every query needs at least one valid item; "
               f"{k} quer{'y has' if k == 1 else 'ies have'} none, first at {where}.")
    c.finite("scores", np.where(mask, s, 0).astype(s.dtype) if s.dtype.kind == "f" else s, allow_inf=True)
    rv = np.where(mask, r, 0)
    c.finite("relevance", rv.astype(r.dtype) if r.dtype.kind == "f" else rv)
    neg = rv < 0
    if neg.any():
        c.fail(f"{c.name('relevance')} grades must be >= 0; {_first(neg, rv, 'relevance', c.locate, 'negative')}.")
    scores = np.where(mask, s, 0).astype(np.float32)
    relevance = rv.astype(np.float32)
    info = {"num_queries": int(s.shape[0]), "max_items": int(s.shape[1]), "items": int(mask.sum()),
            "binary_relevance": bool(np.isin(relevance[mask], (0.0, 1.0)).all())}
    return {"queries": {"scores": scores, "relevance": relevance, "mask": mask}}, info


def _forecast(c: _Checker, a: dict, level: float) -> tuple[dict, dict]:
    e = c.numeric("ensemble", a["ensemble"])
    o = c.numeric("obs", a["obs"])
    c.ndim("obs", o, (1,), "[N]")
    c.nonempty("obs", o)
    n = o.shape[0]
    c.ndim("ensemble", e, (2,), f"[N, M] (observations × members), with N = {n} as `obs`")
    c.rows("ensemble", e, n, "[N, M]", f"`obs` (N = {n})")
    if e.shape[1] < 2:
        c.fail(f"{c.name('ensemble')} needs at least 2 members; got shape {list(e.shape)}.")
    c.finite("obs", o)
    c.finite("ensemble", e)
    if ("lower" in a) != ("upper" in a):
        have, miss = ("lower", "upper") if "lower" in a else ("upper", "lower")
        c.fail(f"{c.name(have)} is given without `{miss}`; give both interval bounds or neither.")
    if "lower" in a:
        lo = c.numeric("lower", a["lower"])
        hi = c.numeric("upper", a["upper"])
        for key, x in (("lower", lo), ("upper", hi)):
            c.ndim(key, x, (1,), f"[N] with N = {n} as `obs`")
            c.rows(key, x, n, "[N]", f"`obs` (N = {n})")
            c.finite(key, x)
        bad = lo > hi
        if bad.any():
            c.fail(f"{c.name('lower')} must be <= `upper`; {_first(bad, lo, 'lower', c.locate, 'above it')}.")
        source = "given lower/upper"
    else:
        ens = e.astype(np.float64)
        lo, hi = np.quantile(ens, [(1 - level) / 2, (1 + level) / 2], axis=1)
        source = f"central {level:.0%} interval of the ensemble members (numpy linear quantiles)"
    arrays = {"ensemble": e.astype(np.float32), "obs": o.astype(np.float32),
              "lower": np.asarray(lo, np.float32), "upper": np.asarray(hi, np.float32)}
    info = {"num_observations": n, "members": int(e.shape[1]), "interval": source, "nominal_level": level}
    return {"observations": arrays}, info


def _generative(c: _Checker, a: dict) -> tuple[dict, dict]:
    x = c.numeric("real", a["real"])
    y = c.numeric("fake", a["fake"])
    for key, v in (("real", x), ("fake", y)):
        c.ndim(key, v, (2,), "[n, d] (samples × features)")
        if v.shape[0] <= PRDC_K:
            c.fail(f"{c.name(key)} needs more than {PRDC_K} rows (the k of PRDC); got shape {list(v.shape)}.")
        if v.shape[1] < 1:
            c.fail(f"{c.name(key)} needs at least one feature column; got shape {list(v.shape)}.")
    if x.shape[1] != y.shape[1]:
        c.fail(f"{c.name('fake')} must have the {x.shape[1]} feature columns of `real`; got shape {list(y.shape)}.")
    c.finite("real", x)
    c.finite("fake", y)
    info = {"num_real": int(x.shape[0]), "num_fake": int(y.shape[0]), "dim": int(x.shape[1])}
    return {"real": {"x": x.astype(np.float32)}, "fake": {"x": y.astype(np.float32)}}, info


def from_arrays(arrays: Mapping[str, np.ndarray], task: str, *, source: str, level: float = 0.9,
                locate: Locate | None = None, what: Mapping[str, str] | None = None,
                found: list[str] | None = None) -> TaskData:
    """Validates named arrays (the ``.npz`` keys of ``task``) into a :class:`TaskData`.

    Raises:
      InputError: a missing key, a wrong shape, NaN, or a value out of range.
    """
    c = _Checker(source, task, locate, what)
    required, _ = _KEYS[task]
    missing = sorted(required - set(arrays))
    if missing:
        found = sorted(arrays) if found is None else found
        c.fail(f"missing {', '.join(c.name(k) for k in missing)}: {task} needs {_KEY_HELP[task]}; "
               f"found {', '.join(f'`{k}`' for k in found) or 'nothing'}.")
    if task == "classification":
        canon, info = _classification(c, dict(arrays))
    elif task == "ranking":
        canon, info = _ranking(c, dict(arrays))
    elif task == "forecast":
        canon, info = _forecast(c, dict(arrays), level)
    else:
        canon, info = _generative(c, dict(arrays))
    return TaskData(task=task, source=source, arrays=canon, info=info)


# --------------------------------------------------------------------------------------------------
# Files


def _infer(source: str, found: set[str], by_task: Mapping[str, set[str]], kind: str, task: str | None) -> str:
    if task is not None:
        return task
    matches = [t for t in TASKS if found & by_task[t]]
    if len(matches) == 1:
        return matches[0]
    listing = "; ".join(f"{t}: {(_KEY_HELP if kind == 'keys' else _CSV_HELP)[t]}" for t in TASKS)
    names = ", ".join(f"`{k}`" for k in sorted(found)) or "none"
    if not matches:
        raise InputError(f"{source}: cannot tell the task from the {kind} ({names}); expected {listing}. "
                         "Rename them, or pass --task.")
    raise InputError(f"{source}: the {kind} ({names}) fit several tasks ({', '.join(matches)}); pass --task.")


def _read_npz(path: str, task: str | None, level: float) -> TaskData:
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not a .npz archive (a .npz file is a zip of .npy arrays, as np.savez writes).")
    try:
        f = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise InputError(f"{path}: cannot read it as a .npz archive ({type(e).__name__}: {e}).") from None
    if not isinstance(f, np.lib.npyio.NpzFile):
        raise InputError(f"{path}: not a .npz archive (it holds a single array); use the .npy extension.")
    with f:
        keys = set(f.files)
        all_keys = {t: r | o for t, (r, o) in _KEYS.items()}
        task = _infer(path, keys, all_keys, "keys", task)
        known = set().union(*all_keys.values())
        unknown = sorted(keys - known)
        if unknown:
            raise InputError(f"{path}: unexpected key(s) {', '.join(f'`{k}`' for k in unknown)}; "
                             f"{task} expects {_KEY_HELP[task]}.")
        arrays = {}
        for k in sorted(keys & all_keys[task]):
            try:
                arrays[k] = f[k]
            except ValueError as e:  # object arrays need pickle, which is never enabled
                raise InputError(f"{path}: key `{k}` cannot be loaded without pickle ({e}); store plain "
                                 "numeric arrays (pickled objects are never loaded).") from None
            except (OSError, zipfile.BadZipFile, EOFError) as e:
                raise InputError(f"{path}: key `{k}` is unreadable ({type(e).__name__}: {e}).") from None
    return from_arrays(arrays, task, source=path, level=level, found=sorted(keys))


def _read_npy(path: str, task: str | None, level: float) -> TaskData:
    if task is None:
        listing = "; ".join(f"{t}: {_NPY_HELP[t]}" for t in TASKS)
        raise InputError(f"{path}: a .npy file holds one unnamed array, so the task cannot be inferred; "
                         f"pass --task (layouts — {listing}).")
    try:
        x = np.load(path, allow_pickle=False)
    except ValueError as e:
        raise InputError(f"{path}: cannot be loaded without pickle ({e}); store a plain numeric array "
                         "(pickled objects are never loaded).") from None
    except (OSError, EOFError) as e:
        raise InputError(f"{path}: cannot read it as a .npy array ({type(e).__name__}: {e}).") from None
    if not isinstance(x, np.ndarray):
        raise InputError(f"{path}: not a .npy array; use the .npz extension for archives.")
    c = _Checker(path, task, what={"array": "the array"})
    x = c.numeric("array", x)
    layout = _NPY_HELP[task]
    if x.ndim != 2:
        c.fail(f"the array must be 2-D for {task}, {layout}; got shape {list(x.shape)}.")

    def col(j: int, name: str) -> str:
        return f"column {j} ({name})"

    if task == "classification":
        if x.shape[1] < 2:
            c.fail(f"the array must be {layout}; got shape {list(x.shape)}.")
        probs = x[:, 1] if x.shape[1] == 2 else x[:, 1:]
        what = {"labels": col(0, "labels"),
                "probs": col(1, "P(y=1)") if x.shape[1] == 2 else f"columns 1..{x.shape[1] - 1} (probabilities)"}
        off = 1

        def locate(name, index):
            if name == "labels":
                return f"row {index[0]}"
            return f"row {index[0]}" + (f", column {index[1] + off}" if len(index) > 1 else "")

        return from_arrays({"labels": x[:, 0], "probs": probs}, task, source=path, level=level,
                           locate=locate, what=what)
    if task == "ranking":
        if x.shape[1] != 3:
            c.fail(f"the array must be {layout}; got shape {list(x.shape)}.")
        c.finite("array", x[:, 0:1])
        return _long_ranking(path, list(x[:, 0]), x[:, 1], x[:, 2], level,
                             row_name=lambda i: f"row {i}", cols=(col(1, "score"), col(2, "relevance")))
    if task == "forecast":
        if x.shape[1] < 3:
            c.fail(f"the array must be {layout} with M >= 2; got shape {list(x.shape)}.")
        what = {"obs": col(0, "obs"), "ensemble": f"columns 1..{x.shape[1] - 1} (members)"}

        def locate(name, index):
            return f"row {index[0]}" + (f", column {index[1] + 1}" if len(index) > 1 else "")

        return from_arrays({"obs": x[:, 0], "ensemble": x[:, 1:]}, task, source=path, level=level,
                           locate=locate, what=what)
    # generative
    if x.shape[1] < 2:
        c.fail(f"the array must be {layout}; got shape {list(x.shape)}.")
    flag = x[:, 0]
    bad = ~np.isin(flag, (0, 1))
    if bad.any():
        c.fail(f"{col(0, 'set flag')} must be 1 (real) or 0 (fake); "
               f"{_first(bad, flag, 'flag', lambda n, i: f'row {i[0]}', 'not')}.")
    real_rows, fake_rows = np.flatnonzero(flag == 1), np.flatnonzero(flag == 0)

    def locate(name, index):
        rows = real_rows if name == "real" else fake_rows
        return f"row {int(rows[index[0]])}" + (f", column {index[1] + 1}" if len(index) > 1 else "")

    what = {"real": "the real rows (column 0 = 1)", "fake": "the fake rows (column 0 = 0)"}
    return from_arrays({"real": x[real_rows, 1:], "fake": x[fake_rows, 1:]}, task, source=path, level=level,
                       locate=locate, what=what)


def _csv_table(path: str) -> tuple[list[str], list[list[str]], list[int]]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not a UTF-8 text file ({e}); is it really a .csv?") from None
    except (OSError, csv.Error) as e:
        raise InputError(f"{path}: cannot read it as CSV ({type(e).__name__}: {e}).") from None
    lines = [i + 1 for i, r in enumerate(rows) if any(cell.strip() for cell in r)]
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise InputError(f"{path}: the file is empty; expected a header row and data rows.")
    header = [h.strip() for h in rows[0]]
    if "" in header:
        raise InputError(f"{path}: the header (line {lines[0]}) has an empty column name at position "
                         f"{header.index('')}.")
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise InputError(f"{path}: duplicate column(s) {', '.join(f'`{d}`' for d in dup)} in the header.")
    body, body_lines = rows[1:], lines[1:]
    if not body:
        raise InputError(f"{path}: the file has a header but no data rows.")
    for r, ln in zip(body, body_lines):
        if len(r) != len(header):
            raise InputError(f"{path}: line {ln} has {len(r)} fields; the header has {len(header)}.")
    return header, body, body_lines


def _csv_numbers(path: str, header: list[str], body: list[list[str]], lines: list[int], names: list[str]) -> np.ndarray:
    cols = [header.index(n) for n in names]
    out = np.empty((len(body), len(cols)), np.float64)
    for i, (r, ln) in enumerate(zip(body, lines)):
        for j, ci in enumerate(cols):
            cell = r[ci].strip()
            try:
                out[i, j] = float(cell)
            except ValueError:
                shown = repr(cell) if cell else "an empty cell"
                raise InputError(f"{path}: column `{names[j]}`, line {ln}: {shown} is not a number.") from None
    return out


def _indexed_columns(header: list[str], prefix: str) -> list[str] | None:
    """``prefix0 .. prefix{K-1}`` if present (contiguous), [] if none, None if not contiguous."""
    found = sorted(int(h[len(prefix):]) for h in header if h.startswith(prefix) and h[len(prefix):].isdigit())
    if not found:
        return []
    if found != list(range(len(found))):
        return None
    return [f"{prefix}{j}" for j in found]


def _unexpected(path: str, header: list[str], allowed: set[str], task: str) -> None:
    extra = [h for h in header if h not in allowed]
    if extra:
        raise InputError(f"{path}: unexpected column(s) {', '.join(f'`{h}`' for h in extra)}; {task} CSV "
                         f"expects {_CSV_HELP[task]}.")


def _long_ranking(path, qids, score, rel, level, *, row_name, cols) -> TaskData:
    groups: dict = {}
    for i, q in enumerate(qids):
        groups.setdefault(q, []).append(i)
    q_count, n_max = len(groups), max(len(v) for v in groups.values())
    s = np.zeros((q_count, n_max), score.dtype)
    r = np.zeros((q_count, n_max), rel.dtype)
    m = np.zeros((q_count, n_max), bool)
    src = np.full((q_count, n_max), -1)
    names = list(groups)
    for qi, rows in enumerate(groups.values()):
        s[qi, : len(rows)] = score[rows]
        r[qi, : len(rows)] = rel[rows]
        m[qi, : len(rows)] = True
        src[qi, : len(rows)] = rows

    def locate(name, index):
        if len(index) == 2 and src[index] >= 0:
            return f"{row_name(int(src[index]))} (query {names[index[0]]!r})"
        return f"query {names[index[0]]!r}"

    return from_arrays({"scores": s, "relevance": r, "mask": m}, "ranking", source=path, level=level,
                       locate=locate, what={"scores": cols[0], "relevance": cols[1], "mask": "the rows"})


def _read_csv(path: str, task: str | None, level: float) -> TaskData:
    header, body, lines = _csv_table(path)
    markers = {t: {m} for t, m in _MARKERS.items()}
    task = _infer(path, set(header), markers, "columns", task)
    if _MARKERS[task] not in header:
        raise InputError(f"{path}: missing column `{_MARKERS[task]}`; {task} CSV expects {_CSV_HELP[task]}.")

    def line_of(i: int) -> str:
        return f"line {lines[i]}"

    if task == "classification":
        options = []
        for prefix, kind in (("p", "probs"), ("logit", "logits")):
            cols = _indexed_columns(header, prefix)
            if cols is None:
                raise InputError(f"{path}: the `{prefix}<j>` columns must be numbered 0..C-1 without gaps.")
            if cols:
                options.append((kind, cols))
        if "score" in header:
            options.append(("probs", ["score"]))
        if len(options) != 1:
            got = " and ".join(f"`{o[1][0]}`.." for o in options) if options else "none of them"
            raise InputError(f"{path}: classification CSV needs exactly one of `p0`..`p{{C-1}}`, "
                             f"`logit0`..`logit{{C-1}}` or `score` (binary P(y=1)); found {got}.")
        kind, cols = options[0]
        _unexpected(path, header, {"label", *cols}, task)
        y = _csv_numbers(path, header, body, lines, ["label"])[:, 0]
        p = _csv_numbers(path, header, body, lines, cols)
        p = p[:, 0] if cols == ["score"] else p
        what = {"labels": "column `label`",
                kind: "column `score`" if cols == ["score"] else f"columns `{cols[0]}`..`{cols[-1]}`"}

        def locate(name, index):
            if len(index) == 2:
                return f"{line_of(index[0])}, column `{cols[index[1]]}`"
            return line_of(index[0])

        return from_arrays({"labels": y, kind: p}, task, source=path, level=level, locate=locate, what=what)
    if task == "ranking":
        _unexpected(path, header, {"query", "score", "relevance"}, task)
        for col in ("score", "relevance"):
            if col not in header:
                raise InputError(f"{path}: missing column `{col}`; ranking CSV expects {_CSV_HELP[task]}.")
        qi = header.index("query")
        qids = [r[qi].strip() for r in body]
        num = _csv_numbers(path, header, body, lines, ["score", "relevance"])
        return _long_ranking(path, qids, num[:, 0], num[:, 1], level, row_name=line_of,
                             cols=("column `score`", "column `relevance`"))
    if task == "forecast":
        members = _indexed_columns(header, "m")
        if members is None:
            raise InputError(f"{path}: the member columns `m<j>` must be numbered 0..M-1 without gaps.")
        if len(members) < 2:
            raise InputError(f"{path}: forecast CSV needs at least 2 member columns `m0`, `m1`, ...; "
                             f"found {len(members)}.")
        optional = [h for h in ("lower", "upper") if h in header]
        _unexpected(path, header, {"obs", *members, "lower", "upper"}, task)
        num = _csv_numbers(path, header, body, lines, ["obs", *optional, *members])
        arrays = {"obs": num[:, 0], "ensemble": num[:, 1 + len(optional):]}
        for j, h in enumerate(optional):
            arrays[h] = num[:, 1 + j]
        what = {"obs": "column `obs`", "ensemble": f"columns `m0`..`{members[-1]}`", "lower": "column `lower`",
                "upper": "column `upper`"}

        def locate(name, index):
            if len(index) == 2:
                return f"{line_of(index[0])}, column `{members[index[1]]}`"
            return line_of(index[0])

        return from_arrays(arrays, task, source=path, level=level, locate=locate, what=what)
    # generative
    si = header.index("set")
    features = [h for h in header if h != "set"]
    if not features:
        raise InputError(f"{path}: generative CSV needs feature columns besides `set`.")
    flags = [r[si].strip().lower() for r in body]
    for i, f in enumerate(flags):
        if f not in ("real", "fake"):
            raise InputError(f"{path}: column `set`, {line_of(i)}: {body[i][si].strip()!r} is neither "
                             "'real' nor 'fake'.")
    num = _csv_numbers(path, header, body, lines, features)
    real_rows = [i for i, f in enumerate(flags) if f == "real"]
    fake_rows = [i for i, f in enumerate(flags) if f == "fake"]

    def locate(name, index):
        rows = real_rows if name == "real" else fake_rows
        out = line_of(rows[index[0]]) if index[0] < len(rows) else f"row {index[0]}"
        return out + (f", column `{features[index[1]]}`" if len(index) > 1 else "")

    what = {"real": "the `real` rows", "fake": "the `fake` rows"}
    return from_arrays({"real": num[real_rows].reshape(len(real_rows), -1),
                        "fake": num[fake_rows].reshape(len(fake_rows), -1)}, task, source=path, level=level,
                       locate=locate, what=what)


def load(path: str, task: str | None = None, *, level: float = 0.9) -> TaskData:
    """Reads and validates one prediction file (layouts in the module docstring).

    Args:
      path: a ``.npz``, ``.npy`` or ``.csv`` file.
      task: one of :data:`TASKS`, or None to infer it from the keys / columns.
      level: nominal level of the forecast interval taken from the ensemble when the file has no
        ``lower``/``upper``.

    Raises:
      InputError: an unreadable file, an unknown extension, pickled data, a missing key or column, a
        wrong shape, NaN, or a value out of range — before anything is computed.
    """
    path = os.fspath(path)
    if task is not None and task not in TASKS:
        raise InputError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}.")
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".npz", ".npy", ".csv"):
        raise InputError(f"{path}: unsupported file type {ext or '(no extension)'!r}; expected .npz, .npy "
                         "or .csv (pickle files are never loaded).")
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file.")
    if os.path.isdir(path):
        raise InputError(f"{path}: is a directory; expected a .npz, .npy or .csv file.")
    reader = {".npz": _read_npz, ".npy": _read_npy, ".csv": _read_csv}[ext]
    return reader(path, task, level)
