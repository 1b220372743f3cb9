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

Plots:

* :func:`reliability_diagram` — calibration (:mod:`jaxmetrics.calibration`);
* :func:`roc_curve_plot` and :func:`pr_curve_plot` — ROC and precision–recall curves, binary or one
  curve per class (:mod:`jaxmetrics.classification`);
* :func:`pit_histogram_plot` — the PIT histogram of an ensemble forecast (:mod:`jaxmetrics.scoring`);
* :func:`esd_plot` — a weight matrix's empirical spectral density on log-log axes with its power-law
  tail fit (:mod:`jaxmetrics.spectral.weights`);
* :func:`spectral_density_plot` — a (Hessian) spectral density on a grid, e.g. from stochastic Lanczos
  quadrature (:mod:`jaxmetrics.spectral.lanczos`);
* :func:`dsm_profile_plot` — the denoising score-matching loss per noise level
  (:mod:`jaxmetrics.score_matching.dsm`).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "dsm_profile_plot",
    "esd_plot",
    "pit_histogram_plot",
    "pr_curve_plot",
    "reliability_diagram",
    "roc_curve_plot",
    "spectral_density_plot",
    "unit_histogram",
]


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
        top = max(1.0, float(share.max(initial=0.0)) * 4)  # the bars fill the lower quarter at most
        twin.set_ylim(0.0, top)
        twin.set_yticks([t for t in (0.0, 0.25, 0.5, 0.75, 1.0) if t <= max(float(share.max(initial=0.0)), 0.25)])
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


def esd_plot(W_or_evals, *, fit=None, ax=None, bins=100, normalize=False, threshold=1e-5, show_xmin=True,
             title="Empirical spectral density", **fit_options):
    """Plots the empirical spectral density (ESD) of a weight matrix on log-log axes, with the fitted
    power-law tail and λ_min (the heavy-tailed self-regularization picture of WeightWatcher).

    Args:
      W_or_evals: a weight matrix ``[n, m]`` (its ESD λ = σ² is computed with
        :func:`jaxmetrics.spectral.esd`) or eigenvalues ``[K]``.
      fit: a :class:`~jaxmetrics.spectral.PowerLawFit` to draw; None (default) fits one with
        :func:`jaxmetrics.spectral.powerlaw_fit`, ``threshold`` and the keyword ``fit_options``
        (``method``, ``min_evals`` …); False draws no fit. A failed fit (NaN α) is not drawn.
      ax: matplotlib Axes to draw on (default: a new figure).
      bins: number of logarithmically spaced histogram bins between the smallest and largest eigenvalue
        above the fit threshold.
      normalize: for a matrix, WeightWatcher's normalisation λ = σ²/max(n, m) (see
        :func:`jaxmetrics.spectral.esd`).
      threshold: eigenvalues ``<= threshold`` are neither drawn nor fitted (WeightWatcher's 1e-5).
      show_xmin: draw a vertical line at λ_min.
      title: the Axes title (None for none).

    Returns:
      The matplotlib Axes with: the density histogram of the eigenvalues above the threshold (label
      ``"ESD"``, ``density=True`` over those eigenvalues); the fitted tail density (label starting with
      ``"power law"``) p(λ) = (n_tail/n)·(α − 1)/λ_min·(λ/λ_min)^(−α) on [λ_min, λ_max] — the power-law pdf
      of the tail scaled by the tail's share n_tail/n of the n plotted eigenvalues, so it overlays the
      histogram — and a vertical line at λ_min (label starting with ``"λ_min"``).
    """
    from jaxmetrics.spectral import weights as spectral_weights

    x = np.asarray(W_or_evals, dtype=np.float64)
    if x.ndim == 2:
        evals = np.asarray(spectral_weights.esd(x, normalize=normalize), dtype=np.float64)
    elif x.ndim == 1:
        evals = np.sort(x)
    else:
        raise ValueError(
            f"esd_plot: expected a weight matrix [n, m] or eigenvalues [K]; got shape {x.shape}. "
            "Index the leading (batch) axes first."
        )
    if fit is None:
        fit = spectral_weights.powerlaw_fit(evals, threshold=threshold, **fit_options)
    elif fit_options and fit is not False:
        raise TypeError("esd_plot: pass either a fit, or fit options to compute one.")
    shown = evals[evals > threshold]
    ax = _axes(ax)
    if shown.size:
        lo, hi = shown.min(), shown.max()
        if hi <= lo:
            lo, hi = lo / 1.1, hi * 1.1
        edges = np.geomspace(lo, hi, bins + 1)
        ax.hist(shown, bins=edges, density=True, color="tab:blue", alpha=0.6, label="ESD")
    if fit is not False:
        alpha, xmin, ks, sigma, num_tail = (np.asarray(v, dtype=np.float64) for v in fit)
        if alpha.ndim:
            raise ValueError("esd_plot: expected the fit of one spectrum; index the leading (batch) axes first.")
        if np.isfinite(alpha) and shown.size:
            grid = np.geomspace(xmin, max(shown.max(), xmin), 200)
            share = float(num_tail) / shown.size
            pdf = share * (alpha - 1.0) / xmin * (grid / xmin) ** (-alpha)
            ax.plot(grid, pdf, color="tab:red", linestyle="--", linewidth=2,
                    label=f"power law α = {float(alpha):.3f} (σ = {float(sigma):.3f}, D = {float(ks):.3f})")
            if show_xmin:
                ax.axvline(float(xmin), color="tab:red", linewidth=1.0, label=f"λ_min = {float(xmin):.4g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("eigenvalue λ of WᵀW")
    ax.set_ylabel("density")
    if title:
        ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower left", fontsize="small")
    return ax


def spectral_density_plot(density, *, ax=None, log_scale=True, label=None, title="Spectral density", **line_kwargs):
    """Plots a spectral density on a grid, e.g. the Gaussian-smoothed Hessian density of stochastic
    Lanczos quadrature.

    Args:
      density: an object with ``grid [G]`` and ``density [G]`` attributes (e.g. the ``SpectralDensity``
        returned by :func:`jaxmetrics.spectral.hessian_spectral_density`), or a ``(grid, density)``
        pair of arrays.
      ax: matplotlib Axes to draw on (default: a new figure).
      log_scale: logarithmic density axis (default, as PyHessian's plots: the bulk near 0 and the outliers
        differ by orders of magnitude); non-positive densities are then left out.
      label: legend label of the curve (None: no legend).
      title: the Axes title (None for none).
      **line_kwargs: passed on to ``Axes.plot``.

    Returns:
      The matplotlib Axes with one line whose data are ``(grid, density)``.
    """
    if hasattr(density, "grid") and hasattr(density, "density"):
        grid, dens = density.grid, density.density
    else:
        try:
            grid, dens = density
        except (TypeError, ValueError) as e:
            raise TypeError(
                "spectral_density_plot: `density` must have `.grid` and `.density` attributes or be a "
                "(grid, density) pair."
            ) from e
    grid = np.asarray(grid, dtype=np.float64)
    dens = np.asarray(dens, dtype=np.float64)
    if grid.ndim != 1 or grid.shape != dens.shape:
        raise ValueError(
            f"spectral_density_plot: expected grid [G] and density [G] of one spectrum; got {grid.shape} "
            f"and {dens.shape}. Index the leading (batch) axes first."
        )
    ax = _axes(ax)
    ax.plot(grid, dens, label=label, **line_kwargs)
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("eigenvalue")
    ax.set_ylabel("density")
    if title:
        ax.set_title(title)
    if label is not None:
        ax.legend(fontsize="small")
    return ax


def dsm_profile_plot(profile, *, ax=None, label=None, log_loss=True, show_counts=False,
                     title="DSM loss per noise level", **line_kwargs):
    """Plots a denoising score-matching profile: the mean loss per log-σ bin against σ (log axis).

    Args:
      profile: a :class:`~jaxmetrics.score_matching.DSMProfile` (from
        :func:`jaxmetrics.score_matching.dsm_profile` or the ``compute`` of its streaming metric) of one
        model: ``bin_centers [B]``, ``mean_loss [B]``, ``count [B]`` (index leading axes first).
      ax: matplotlib Axes to draw on (default: a new figure). Call again with the same ``ax`` (and a
        ``label``) to overlay checkpoints or models.
      label: legend label of the curve (None: no legend).
      log_loss: logarithmic loss axis (default: the loss spans orders of magnitude over σ for the
        ``"none"`` and ``"edm"`` weightings).
      show_counts: add the per-bin sample weight as a grey step curve on a second y axis.
      title: the Axes title (None for none).
      **line_kwargs: passed on to ``Axes.plot`` (default marker ``"o"``).

    Returns:
      The matplotlib Axes with one line whose data are ``(bin_centers, mean_loss)``; empty bins (NaN mean)
      leave a gap. The x axis is logarithmic.
    """
    centers = np.asarray(profile.bin_centers, dtype=np.float64)
    mean = np.asarray(profile.mean_loss, dtype=np.float64)
    count = np.asarray(profile.count, dtype=np.float64)
    if centers.ndim != 1 or mean.shape != centers.shape:
        raise ValueError(
            f"dsm_profile_plot: expected the profile of one model (bin_centers [B], mean_loss [B]); got "
            f"{centers.shape} and {mean.shape}. Index the leading (batch) axes first."
        )
    ax = _axes(ax)
    line_kwargs.setdefault("marker", "o")
    ax.plot(centers, mean, label=label, **line_kwargs)
    ax.set_xscale("log")
    if log_loss:
        ax.set_yscale("log")
    ax.set_xlabel("noise level σ")
    ax.set_ylabel("mean DSM loss")
    if show_counts:
        twin = ax.twinx()
        twin.step(centers, count, where="mid", color="grey", alpha=0.5, label="count")
        twin.set_ylabel("samples (weight) per bin")
    if title:
        ax.set_title(title)
    if label is not None:
        ax.legend(fontsize="small")
    return ax


def _curve_inputs(fn, curve_type, curve_or_scores, labels, options):
    """``[(name, curve)]``: the given curve, a binary curve, or one one-vs-rest curve per class."""
    if isinstance(curve_or_scores, curve_type):
        if labels is not None or options:
            raise TypeError(f"{fn}: pass either a {curve_type.__name__}, or scores, labels and options.")
        return [(None, curve_or_scores)], None
    if labels is None:
        raise TypeError(f"{fn}: `labels` is required when plotting from scores.")
    scores = np.asarray(curve_or_scores)
    y = np.asarray(labels)
    compute = _CURVE_FUNCTIONS[curve_type.__name__]()
    if scores.ndim == y.ndim + 1 and scores.ndim == 2:
        out = []
        for c in range(scores.shape[-1]):
            out.append((c, compute(scores[:, c], (y == c).astype(np.int32), **options)))
        return out, scores.shape[-1]
    if scores.ndim != 1 or scores.shape != y.shape:
        raise ValueError(
            f"{fn}: expected scores [N] (binary) or probs [N, C] (one-vs-rest) with labels [N]; got scores "
            f"{scores.shape} and labels {y.shape}. Index the leading (batch) axes first."
        )
    return [(None, compute(scores, y, **options))], None


def _roc_fn():
    from jaxmetrics.classification import roc_curve

    return roc_curve


def _pr_fn():
    from jaxmetrics.classification import precision_recall_curve

    return precision_recall_curve


_CURVE_FUNCTIONS = {"ROCCurve": _roc_fn, "PRCurve": _pr_fn}


def _valid_points(fn, curve, fields):
    host = _host(curve)
    valid = host.valid.astype(bool)
    if valid.ndim != 1:
        raise ValueError(f"{fn}: expected the curve of one problem ([N + 1] fields); got {valid.shape}. "
                         "Index the leading (batch) axes first.")
    return tuple(getattr(host, f)[valid] for f in fields)


def _curve_label(c, num_classes, label, class_names, value, what, show_value):
    """Legend text of curve ``c``: ``label`` or ``"<what> = value"`` for a single curve; the class name
    (``class_names[c]`` or ``"class c"``), followed by ``(<what> = value)`` when ``show_value``, for one of
    several."""
    text = f"{what} = {value:.3f}"
    if num_classes is None:
        return label if label is not None else (text if show_value else None)
    name = str(class_names[c]) if class_names is not None else f"class {c}"
    return f"{name} ({text})" if show_value else name


def _finish_curve_axes(ax, xlabel: str, ylabel: str, title, legend_loc: str, num_classes):
    """The unit square, axis labels, title and legend (smaller for many classes) of a curve plot."""
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc=legend_loc, fontsize="x-small" if num_classes and num_classes > 4 else "small")
    return ax


def roc_curve_plot(curve_or_scores, labels=None, *, ax=None, label=None, class_names=None, show_auc=True,
                   show_chance=True, title="ROC curve", **options):
    """Plots ROC curves: true-positive rate against false-positive rate over all thresholds.

    Args:
      curve_or_scores: a :class:`~jaxmetrics.classification.ROCCurve` of one problem (from
        :func:`jaxmetrics.classification.roc_curve`), binary ``scores [N]``, or class probabilities
        ``probs [N, C]`` — then one one-vs-rest curve per class (scores ``probs[:, c]``, positives
        ``labels == c``) is drawn. With scores, ``labels`` and the keyword ``options`` (``where``,
        ``weights``) are passed on to :func:`~jaxmetrics.classification.roc_curve`.
      labels: ``[N]`` labels when plotting from scores (binary: 1 is positive; multiclass: class ids).
      ax: matplotlib Axes to draw on (default: a new figure).
      label: legend label of a single curve (default: its AUC when ``show_auc``). Multiclass curves are
        labelled with ``class_names[c]`` (default ``"class c"``) and their AUC.
      class_names: names of the C classes, for the legend.
      show_auc: put each curve's area (the trapezoid under its points, which equals
        :func:`jaxmetrics.classification.auroc`) in its label.
      show_chance: draw the diagonal of a random classifier (label ``"chance"``).
      title: the Axes title (None for none).

    Returns:
      The matplotlib Axes with one line per curve whose data are ``(fpr, tpr)`` at the curve's valid
      points — exactly ``sklearn.metrics.roc_curve(..., drop_intermediate=False)`` — in decreasing
      threshold order from (0, 0) to (1, 1), and the chance diagonal. A curve whose rates are undefined
      (no positives or no negatives; NaN) is skipped.
    """
    from jaxmetrics.classification import ROCCurve

    fn = "roc_curve_plot"
    curves, num_classes = _curve_inputs(fn, ROCCurve, curve_or_scores, labels, options)
    ax = _axes(ax)
    if show_chance:
        ax.plot([0.0, 1.0], [0.0, 1.0], linestyle="--", color="grey", linewidth=1.0, label="chance")
    for c, curve in curves:
        fpr, tpr = _valid_points(fn, curve, ("fpr", "tpr"))
        if not (np.isfinite(fpr).all() and np.isfinite(tpr).all()):
            continue
        area = float(np.trapezoid(tpr, fpr)) if hasattr(np, "trapezoid") else float(np.trapz(tpr, fpr))
        text = _curve_label(c, num_classes, label, class_names, area, "AUC", show_auc)
        ax.plot(fpr, tpr, linewidth=1.5 if num_classes is None else 1.0, label=text)
    return _finish_curve_axes(ax, "false-positive rate", "true-positive rate", title, "lower right", num_classes)


def pr_curve_plot(curve_or_scores, labels=None, *, ax=None, label=None, class_names=None, show_ap=True,
                  show_chance=True, title="Precision–recall curve", **options):
    """Plots precision–recall curves (step curves, as scikit-learn's ``PrecisionRecallDisplay``).

    Args:
      curve_or_scores: a :class:`~jaxmetrics.classification.PRCurve` of one problem (from
        :func:`jaxmetrics.classification.precision_recall_curve`), binary ``scores [N]``, or class
        probabilities ``probs [N, C]`` — then one one-vs-rest curve per class is drawn. With scores,
        ``labels`` and the keyword ``options`` (``where``, ``weights``) are passed on to
        :func:`~jaxmetrics.classification.precision_recall_curve`.
      labels: ``[N]`` labels when plotting from scores.
      ax: matplotlib Axes to draw on (default: a new figure).
      label: legend label of a single curve (default: its AP when ``show_ap``); multiclass curves are
        labelled with ``class_names[c]`` (default ``"class c"``) and their AP.
      class_names: names of the C classes, for the legend.
      show_ap: put each curve's average precision Σ_n (R_n − R_{n−1})·P_n (the step sum of
        :func:`jaxmetrics.classification.average_precision`) in its label.
      show_chance: for a single curve, draw the precision of a random classifier (the positive share
        P/N, label starting with ``"chance"``); it is omitted for several curves (one level per class).
      title: the Axes title (None for none).

    Returns:
      The matplotlib Axes with one line per curve (``drawstyle="steps-post"``) whose data are
      ``(recall, precision)`` at the curve's valid points, in scikit-learn's order (increasing
      thresholds; the final point is (recall 0, precision 1)) — exactly
      ``sklearn.metrics.precision_recall_curve(..., drop_intermediate=False)``.
    """
    from jaxmetrics.classification import PRCurve

    fn = "pr_curve_plot"
    curves, num_classes = _curve_inputs(fn, PRCurve, curve_or_scores, labels, options)
    ax = _axes(ax)
    for c, curve in curves:
        precision, recall = _valid_points(fn, curve, ("precision", "recall"))
        ap = float(-np.sum(np.diff(recall) * precision[:-1]))
        text = _curve_label(c, num_classes, label, class_names, ap, "AP", show_ap)
        ax.plot(recall, precision, drawstyle="steps-post", linewidth=1.5 if num_classes is None else 1.0,
                label=text)
    if show_chance and num_classes is None and labels is not None:
        y = np.asarray(labels)
        prevalence = float(np.mean(y == 1)) if y.size else np.nan
        if np.isfinite(prevalence) and not options:
            ax.axhline(prevalence, linestyle="--", color="grey", linewidth=1.0,
                       label=f"chance (P/N = {prevalence:.3f})")
    return _finish_curve_axes(ax, "recall", "precision", title, "lower left", num_classes)


def unit_histogram(values, bins: int = 10, *, tol: float = 1e-5):
    """Counts of values in ``bins`` equal-width bins on [0, 1], robust to values on the edges.

    Bin b is ``[b/bins, (b+1)/bins)`` (the last one closed, values outside [0, 1] clipped into the end
    bins, NaN dropped). The index is ``floor((v + tol)·bins)``: a value less than ``tol`` below an edge
    — e.g. a PIT value k/(2M) exactly on an edge, a few float32 ulps off after rounding — counts on the
    edge.

    Returns:
      ``(counts [bins] int64, edges [bins + 1])``.

    Example:
      >>> unit_histogram(np.float32([0.7, 0.3, 0.05, 1.0]), bins=10)[0]
      array([1, 0, 0, 1, 0, 0, 0, 1, 0, 1])
    """
    bins = int(bins)
    if bins < 1:
        raise ValueError(f"unit_histogram: bins must be a positive integer; got {bins}.")
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[~np.isnan(v)]
    idx = np.clip(np.floor((v + tol) * bins), 0, bins - 1).astype(np.int64)
    return np.bincount(idx, minlength=bins), np.linspace(0.0, 1.0, bins + 1)


def pit_histogram_plot(pit_or_forecasts, obs=None, *, ax=None, bins=10, show_uniform=True, label=None,
                       title="PIT histogram", **options):
    """Plots the histogram of probability integral transform (PIT) values as a density on [0, 1].

    A calibrated forecast has uniform PIT values (a flat histogram at density 1); a U shape means an
    under-dispersed (over-confident) forecast, a hump an over-dispersed one, a slope a biased one.

    Args:
      pit_or_forecasts: PIT values ``[N]`` (e.g. from :func:`jaxmetrics.scoring.pit`), or ensemble
        forecasts ``[N, M]`` — then ``obs`` and the keyword ``options`` (``randomize_ties``, ``key``,
        ``where``, ``weights``) are passed on to :func:`jaxmetrics.scoring.pit`.
      obs: ``[N]`` observations when plotting from forecasts.
      ax: matplotlib Axes to draw on (default: a new figure).
      bins: number of equal-width bins on [0, 1].
      show_uniform: draw the density of a calibrated forecast (1; label ``"uniform"``).
      label: legend label of the histogram.
      title: the Axes title (None for none).

    Returns:
      The matplotlib Axes with one bar per bin whose heights are the densities count_b / (n · width) of
      the non-NaN PIT values (masked observations are NaN and left out) and, if shown, the line at
      density 1. Bins are ``[b/bins, (b+1)/bins)``, the last one closed. The PIT values of an M-member
      ensemble are multiples of 1/(2M) and often fall exactly on an edge, where float32 rounding would
      pick a bin at random: values within 1e-5 below an edge are counted on the edge
      (:func:`unit_histogram`).
    """
    x = np.asarray(pit_or_forecasts)
    if obs is not None:
        from jaxmetrics.scoring import pit as compute_pit

        if x.ndim != 2:
            raise ValueError(f"pit_histogram_plot: expected forecasts [N, M] with obs [N]; got {x.shape}.")
        values = np.asarray(compute_pit(x, obs, **options), dtype=np.float64)
    else:
        if options:
            raise TypeError("pit_histogram_plot: options are only used with forecasts and obs.")
        values = np.asarray(x, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"pit_histogram_plot: expected PIT values [N]; got {values.shape}. "
                         "Index the leading (batch) axes first.")
    counts, edges = unit_histogram(values, bins)
    total = counts.sum()
    density = counts * bins / total if total > 0 else counts.astype(np.float64)
    ax = _axes(ax)
    ax.bar(edges[:-1], density, width=np.diff(edges), align="edge", color="tab:blue", edgecolor="black",
           linewidth=0.5, alpha=0.85, label=label)
    if show_uniform:
        ax.axhline(1.0, linestyle="--", color="black", linewidth=1.0, label="uniform")
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel("PIT value")
    ax.set_ylabel("density")
    if title:
        ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    return ax
