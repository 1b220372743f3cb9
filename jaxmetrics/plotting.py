"""Optional plots of jaxmetrics diagnostics (matplotlib, the ``[plot]`` extra).

Every plotting function here follows one pattern, so new plots (ROC / PR curves, ESD fits, Hessian
densities) slot in the same way:

1. it takes either the *statistics* NamedTuple a metric returns (e.g.
   :class:`~jaxmetrics.calibration.ReliabilityDiagram`) or the raw arrays plus that metric's keyword
   options, and computes the statistics itself in the second case;
2. it moves them to the host with :func:`_host` (plotting is eager: never call these inside ``jit``);
3. it draws on ``ax`` (a new figure's axes when None, via :func:`_axes`) and **returns the Axes**, so
   the caller controls figures, styles and saving.

matplotlib is imported lazily inside the functions (:func:`_pyplot`): importing ``jaxmetrics`` or this
module never requires it, and a missing install raises an ``ImportError`` naming the extra.

Example::

    import matplotlib
    matplotlib.use("Agg")
    from jaxmetrics import calibration, plotting

    ax = plotting.reliability_diagram(probs, labels, num_bins=10)
    ax.figure.savefig("reliability.png")
"""

from __future__ import annotations

import numpy as np

__all__ = ["reliability_diagram"]


def _pyplot():
    """``matplotlib.pyplot``, or an ImportError that names the ``[plot]`` extra."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - exercised only without matplotlib
        raise ImportError(
            "jaxmetrics.plotting needs matplotlib; install it with `pip install 'jaxmetrics[plot]'`."
        ) from e
    return plt


def _axes(ax):
    """``ax`` itself, or the axes of a new figure."""
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots(figsize=(4.5, 4.5))
    return ax


def _host(tree):
    """Every leaf of a (NamedTuple) pytree as a float64 numpy array (a host transfer)."""
    return type(tree)(*(np.asarray(x, dtype=np.float64) for x in tree))


def reliability_diagram(stats_or_probs, labels=None, *, ax=None, class_index=None, show_gap=True,
                        show_counts=True, show_ece=True, title="Reliability diagram", **options):
    """Plots a reliability diagram: per-bin accuracy bars against the diagonal of perfect calibration.

    Args:
      stats_or_probs: a :class:`~jaxmetrics.calibration.ReliabilityDiagram` (from
        :func:`jaxmetrics.calibration.reliability_diagram` or its streaming metric), or ``probs`` to
        compute one from (then ``labels`` and the keyword ``options`` — ``num_bins``, ``binning``,
        ``mode``, ``edges``, ``from_logits``, ``where``, ``weights`` … — are passed on).
      labels: ``[N]`` labels when ``stats_or_probs`` holds probabilities.
      ax: matplotlib Axes to draw on (default: a new figure).
      class_index: which class to draw for classwise statistics ``[C, S]`` (required then).
      show_gap: overlay the gap between each bar and its mean confidence (hatched red).
      show_counts: add the per-bin share of samples as a grey histogram on a second y axis.
      show_ece: put the ECE (Σ count·|accuracy − confidence| / Σ count) in the legend.
      title: the Axes title (None for none).

    Returns:
      The matplotlib Axes with: one accuracy bar per non-empty bin (label ``"accuracy"``), optional gap
      bars (label ``"gap"``), the diagonal (label ``"perfect calibration"``) and, for the right-open
      convention's extra bin of confidences exactly 1.0 when it is non-empty, one marker.
      Empty bins (NaN accuracy) are not drawn. The count histogram, if shown, is drawn on a twin Axes
      (sharing x), stored as ``ax.twin_axis``.
    """
    from jaxmetrics.calibration import ReliabilityDiagram
    from jaxmetrics.calibration import reliability_diagram as compute_diagram

    if isinstance(stats_or_probs, ReliabilityDiagram):
        if labels is not None or options:
            raise TypeError("reliability_diagram: pass either a ReliabilityDiagram, or probs, labels and options.")
        stats = stats_or_probs
    else:
        if labels is None:
            raise TypeError("reliability_diagram: `labels` is required when plotting from probabilities.")
        stats = compute_diagram(stats_or_probs, labels, **options)
    count, conf, acc, edges = _host(stats)
    if count.ndim == 2:
        if class_index is None:
            raise ValueError("reliability_diagram: classwise statistics [C, S]; pass `class_index=`.")
        count, conf, acc, edges = count[class_index], conf[class_index], acc[class_index], edges[class_index]
    if count.ndim != 1:
        raise ValueError(
            f"reliability_diagram: expected statistics of one diagram ([S] fields); got count {count.shape}. "
            "Index the leading (batch) axes first."
        )

    ax = _axes(ax)
    left, right = edges[:-1], edges[1:]
    width = right - left
    filled = count > 0
    bars = filled & (width > 0)
    point = filled & (width == 0)  # the right-open extra bin [1, 1]
    ax.plot([0.0, 1.0], [0.0, 1.0], linestyle="--", color="black", linewidth=1.0, label="perfect calibration")
    label = "accuracy"
    if show_ece:
        total = count.sum()
        ece = np.sum(count[filled] * np.abs(acc[filled] - conf[filled])) / total if total > 0 else np.nan
        label = f"accuracy (ECE = {ece:.4f})"
    ax.bar(left[bars], acc[bars], width=width[bars], align="edge", color="tab:blue", edgecolor="black",
           linewidth=0.5, alpha=0.85, label=label)
    if show_gap and bars.any():
        ax.bar(left[bars], conf[bars] - acc[bars], bottom=acc[bars], width=width[bars], align="edge",
               color="tab:red", alpha=0.3, hatch="//", edgecolor="tab:red", linewidth=0.5, label="gap")
    if point.any():
        ax.plot(left[point], acc[point], marker="D", linestyle="none", color="tab:blue",
                label="confidence = 1.0")
    if show_counts:
        twin = ax.twinx()
        share = count / count.sum() if count.sum() > 0 else count
        twin.bar(left[width > 0], share[width > 0], width=width[width > 0], align="edge", color="grey",
                 alpha=0.25, label="share of samples")
        twin.set_ylim(0.0, max(1.0, float(share.max(initial=0.0)) * 4))
        twin.set_ylabel("share of samples")
        ax.twin_axis = twin
        ax.set_zorder(twin.get_zorder() + 1)
        ax.patch.set_visible(False)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small")
    return ax
