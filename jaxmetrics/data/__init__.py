"""Small real-data examples shipped inside the package (no download, no scikit-learn needed).

The files in this folder were generated once by ``scripts/make_embedded_data.py`` from datasets
bundled with scikit-learn; ``jaxmetrics/data/README.md`` documents the source, licence, model, split,
seed and command of each one.

* :func:`load_digits` — the UCI handwritten digits (scikit-learn's copy, 1797 8×8 images), for demos
  and tests that need real inputs.
* :func:`load_example` — real model predictions for one ``jaxmetrics report`` task
  (``"classification"``, ``"ranking"``, ``"forecast"``, ``"generative"``), as a dict keyed exactly
  like a report input file; ``jaxmetrics report`` with no PATH runs on these.

Example:

>>> from jaxmetrics import calibration, data
>>> ex = data.load_example("classification")
>>> acc = (ex["probs"].argmax(-1) == ex["labels"]).mean()
>>> conf = ex["probs"].max(-1).mean()
>>> bool(conf > acc)                     # over-confident on held-out digits
True
>>> bool(calibration.ece(ex["probs"], ex["labels"]) > 0.03)
True
"""

from __future__ import annotations

from importlib import resources

import numpy as np

__all__ = ["TASKS", "example_path", "load_digits", "load_example"]

#: The tasks with an embedded example, in report order.
TASKS = ("classification", "ranking", "forecast", "generative")


def _path(name: str):
    return resources.files(__name__).joinpath(f"{name}.npz")


def _load(name: str) -> dict[str, np.ndarray]:
    with resources.as_file(_path(name)) as p, np.load(p, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The scikit-learn digits (UCI optical recognition of handwritten digits, CC BY 4.0).

    Returns:
      ``(features, labels)``: ``features`` float32 ``[1797, 64]``, the 8×8 grey levels (0..16) divided
      by 16 so they lie in [0, 1], row-major pixels; ``labels`` int32 ``[1797]`` in 0..9. The rows are
      in scikit-learn's ``load_digits()`` order, so ``features * 16`` equals its ``data`` exactly.

    Example:

    >>> x, y = load_digits()
    >>> x.shape, y.shape, float(x.max())
    ((1797, 64), (1797,), 1.0)
    """
    d = _load("digits")
    return d["pixels"].astype(np.float32) / np.float32(16.0), d["labels"].astype(np.int32)


def example_path(task: str):
    """The packaged ``.npz`` file of ``task``'s example (a :class:`importlib.resources` Traversable)."""
    if task not in TASKS:
        raise ValueError(f"load_example: unknown task {task!r}; expected one of {', '.join(TASKS)}.")
    return _path(task)


def load_example(task: str) -> dict[str, np.ndarray]:
    """The embedded real example of one report task, keyed like a ``jaxmetrics report`` input file.

    Args:
      task: ``"classification"`` — ``probs`` float32 ``[600, 10]`` (rows sum to 1) and ``labels``
        int32 ``[600]``: an over-confident logistic regression on held-out digits;
        ``"ranking"`` — ``scores`` float32 ``[100, 100]`` and ``relevance`` uint8 ``[100, 100]``
        (binary): digit retrieval by PCA cosine similarity, 100 queries × 100 candidates;
        ``"forecast"`` — ``ensemble`` float32 ``[148, 50]`` and ``obs`` float32 ``[148]``: a bootstrap
        ridge ensemble forecasting held-out diabetes progression;
        ``"generative"`` — ``real`` and ``fake`` float32 ``[300, 16]``: held-out digits vs
        Gaussian-mixture samples in a 16-D PCA space.

    Returns:
      A dict of numpy arrays (fresh copies; modifying them does not affect later calls).
    """
    example_path(task)
    return _load(task)
