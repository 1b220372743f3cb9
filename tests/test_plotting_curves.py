"""ROC, precision–recall and PIT-histogram plots (Agg backend): what is drawn equals scikit-learn's
curves and numpy's histogram of independently computed PIT values."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn import metrics as sk  # noqa: E402

from jaxmetrics import data, plotting  # noqa: E402
from jaxmetrics.classification import precision_recall_curve, roc_curve  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _curves(ax):
    return [line for line in ax.get_lines() if not line.get_label().startswith(("chance", "_"))]


def _binary_data():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    s = np.round(rng.normal(size=200) + 1.2 * y, 1)  # rounded: many tied scores
    return s, y


def test_roc_curve_plot_binary_matches_sklearn_roc_curve():
    s, y = _binary_data()
    ax = plotting.roc_curve_plot(s, y)
    (line,) = _curves(ax)
    fpr, tpr, _ = sk.roc_curve(y, s, drop_intermediate=False)
    x, yy = line.get_data()
    np.testing.assert_allclose(x, fpr, atol=1e-12)
    np.testing.assert_allclose(yy, tpr, atol=1e-12)
    assert line.get_label() == f"AUC = {sk.roc_auc_score(y, s):.3f}"
    (chance,) = [ln for ln in ax.get_lines() if ln.get_label() == "chance"]
    np.testing.assert_array_equal(chance.get_xdata(), [0.0, 1.0])
    assert ax.get_xlabel() == "false-positive rate" and ax.get_ylabel() == "true-positive rate"


def test_roc_curve_plot_accepts_a_precomputed_curve_and_a_label():
    s, y = _binary_data()
    ax = plotting.roc_curve_plot(roc_curve(s, y), label="model A", show_chance=False, title=None)
    (line,) = ax.get_lines()
    fpr, tpr, _ = sk.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(line.get_data(), [fpr, tpr], atol=1e-12)
    assert line.get_label() == "model A" and ax.get_title() == ""


def test_roc_curve_plot_multiclass_draws_one_vs_rest_curves_on_real_data():
    ex = data.load_example("classification")  # an over-confident model on held-out digits
    p, y = ex["probs"], ex["labels"]
    ax = plotting.roc_curve_plot(p, y, class_names=[f"digit {c}" for c in range(10)])
    lines = _curves(ax)
    assert len(lines) == 10
    for c, line in enumerate(lines):
        fpr, tpr, _ = sk.roc_curve(y == c, p[:, c], drop_intermediate=False)
        np.testing.assert_allclose(line.get_data(), [fpr, tpr], atol=1e-7)
        assert line.get_label() == f"digit {c} (AUC = {sk.roc_auc_score(y == c, p[:, c]):.3f})"


def test_pr_curve_plot_binary_matches_sklearn_precision_recall_curve():
    s, y = _binary_data()
    ax = plotting.pr_curve_plot(s, y)
    (line,) = _curves(ax)
    precision, recall, _ = sk.precision_recall_curve(y, s, drop_intermediate=False)
    x, yy = line.get_data()
    np.testing.assert_allclose(x, recall, atol=1e-12)
    np.testing.assert_allclose(yy, precision, atol=1e-12)
    assert line.get_drawstyle() == "steps-post"
    assert line.get_label() == f"AP = {sk.average_precision_score(y, s):.3f}"
    (chance,) = [ln for ln in ax.get_lines() if ln.get_label().startswith("chance")]
    np.testing.assert_allclose(chance.get_ydata(), [y.mean(), y.mean()])


def test_pr_curve_plot_multiclass_and_precomputed():
    ex = data.load_example("classification")
    p, y = ex["probs"], ex["labels"]
    ax = plotting.pr_curve_plot(p, y)
    lines = _curves(ax)
    assert len(lines) == 10
    for c, line in enumerate(lines):
        precision, recall, _ = sk.precision_recall_curve(y == c, p[:, c], drop_intermediate=False)
        np.testing.assert_allclose(line.get_data(), [recall, precision], atol=1e-6)
        assert line.get_label() == f"class {c} (AP = {sk.average_precision_score(y == c, p[:, c]):.3f})"
    s, yb = _binary_data()
    ax = plotting.pr_curve_plot(precision_recall_curve(s, yb), label="m")
    (line,) = ax.get_lines()  # no chance level without labels
    precision, recall, _ = sk.precision_recall_curve(yb, s, drop_intermediate=False)
    np.testing.assert_allclose(line.get_data(), [recall, precision], atol=1e-12)


def _exact_pit_bins(ens, obs, bins):
    """Bin of the mid-rank PIT (#below + ½ #tied)/M = (2·#below + #tied)/(2M), in exact integer
    arithmetic: floor(PIT · bins), the last bin closed."""
    twice = 2 * (ens < obs[:, None]).sum(1) + (ens == obs[:, None]).sum(1)
    return np.minimum(twice * bins // (2 * ens.shape[1]), bins - 1)


@pytest.mark.parametrize("bins", [10, 7, 25])
def test_pit_histogram_plot_from_forecasts_on_real_data(bins):
    ex = data.load_example("forecast")  # a bootstrap ridge ensemble on held-out diabetes patients
    ens, obs = ex["ensemble"], ex["obs"]  # M = 50: PIT values k/100, many exactly on bin edges
    ax = plotting.pit_histogram_plot(ens, obs, bins=bins)
    heights = np.array([p.get_height() for p in ax.patches])
    counts = np.bincount(_exact_pit_bins(ens, obs, bins), minlength=bins)
    np.testing.assert_allclose(heights, counts * bins / len(obs), rtol=1e-12)
    np.testing.assert_allclose(np.sum(heights) / bins, 1.0)
    np.testing.assert_allclose([p.get_x() for p in ax.patches], np.arange(bins) / bins, atol=1e-15)
    (uniform,) = [ln for ln in ax.get_lines() if ln.get_label() == "uniform"]
    np.testing.assert_array_equal(uniform.get_ydata(), [1.0, 1.0])


def test_pit_histogram_plot_from_values_drops_nan():
    u = np.array([0.05, 0.05, 0.15, 0.95, np.nan])
    ax = plotting.pit_histogram_plot(u, bins=5, show_uniform=False)
    heights = np.array([p.get_height() for p in ax.patches])
    np.testing.assert_allclose(heights, [3 / 4 * 5, 0, 0, 0, 1 / 4 * 5])
    assert not ax.get_lines()


def test_curve_plots_reject_bad_input():
    with pytest.raises(TypeError, match="labels"):
        plotting.roc_curve_plot(np.zeros(3))
    with pytest.raises(ValueError, match="scores"):
        plotting.pr_curve_plot(np.zeros((2, 3, 4)), np.zeros((2, 3), int))
    with pytest.raises(TypeError, match="either"):
        plotting.roc_curve_plot(roc_curve(np.array([0.1, 0.9]), np.array([0, 1])), np.array([0, 1]))
    with pytest.raises(ValueError, match="one problem"):
        plotting.roc_curve_plot(roc_curve(np.zeros((2, 3)), np.array([[0, 1, 1], [1, 0, 0]])))
    with pytest.raises(ValueError, match="bins"):
        plotting.pit_histogram_plot(np.array([0.5]), bins=0)
    with pytest.raises(ValueError, match="forecasts"):
        plotting.pit_histogram_plot(np.zeros(3), np.zeros(3))
