"""ESD / power-law and spectral-density plots (Agg backend): what is drawn equals the data and the fit."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from jaxmetrics import plotting  # noqa: E402
from jaxmetrics.spectral import weights as sw  # noqa: E402


class SpectralDensity(NamedTuple):
    """Stand-in for jaxmetrics.spectral.lanczos.SpectralDensity (duck-typed by the plot)."""

    grid: np.ndarray
    density: np.ndarray
    nodes: np.ndarray
    weights: np.ndarray


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _lines(ax, prefix):
    return [line for line in ax.get_lines() if line.get_label().startswith(prefix)]


def test_esd_plot_draws_the_histogram_the_power_law_and_xmin():
    W = np.random.default_rng(0).standard_t(3.0, size=(128, 64))
    evals = np.sort(np.linalg.svd(W, compute_uv=False) ** 2)
    fit = sw.powerlaw_fit(evals)
    ax = plotting.esd_plot(W, title="layer 0")
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log" and ax.get_title() == "layer 0"
    # the histogram is a density over the plotted eigenvalues, on log-spaced bins spanning them
    patches = [p for p in ax.patches if p.get_label() == "ESD" or p.get_label().startswith("_")]
    assert len(patches) == 100
    widths = np.array([p.get_width() for p in patches])
    heights = np.array([p.get_height() for p in patches])
    np.testing.assert_allclose(np.sum(widths * heights), 1.0, rtol=1e-9)
    np.testing.assert_allclose(patches[0].get_x(), evals.min(), rtol=1e-9)
    np.testing.assert_allclose(patches[-1].get_x() + patches[-1].get_width(), evals.max(), rtol=1e-9)
    # the fitted curve: (n_tail/n) (α − 1)/λ_min (λ/λ_min)^(−α) on [λ_min, λ_max]
    (curve,) = _lines(ax, "power law")
    x, y = curve.get_data()
    alpha, xmin, n_tail = float(fit.alpha), float(fit.xmin), int(fit.num_tail)
    np.testing.assert_allclose([x[0], x[-1]], [xmin, evals.max()], rtol=1e-9)
    np.testing.assert_allclose(y, n_tail / 64 * (alpha - 1) / xmin * (x / xmin) ** -alpha, rtol=1e-9)
    assert f"α = {alpha:.3f}" in curve.get_label()
    (vline,) = _lines(ax, "λ_min")
    np.testing.assert_allclose(vline.get_xdata(), [xmin, xmin], rtol=1e-9)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "ESD" and any(t.startswith("power law") for t in legend)


def test_esd_plot_from_eigenvalues_with_a_given_or_no_fit():
    rng = np.random.default_rng(1)
    evals = np.concatenate([np.zeros(5), (rng.pareto(1.5, size=200) + 1.0)])
    fit = sw.powerlaw_fit(evals, method="weightwatcher", min_evals=20)
    fig, ax = plt.subplots()
    assert plotting.esd_plot(rng.permutation(evals), fit=fit, ax=ax, bins=20, title=None) is ax
    # zeros (below the threshold) are neither drawn nor counted
    assert sum(p.get_height() > 0 for p in ax.patches) > 0
    assert np.isclose(sum(p.get_width() * p.get_height() for p in ax.patches), 1.0)
    (curve,) = _lines(ax, "power law")
    x, y = curve.get_data()
    np.testing.assert_allclose(y, int(fit.num_tail) / 200 * (float(fit.alpha) - 1) / float(fit.xmin)
                               * (x / float(fit.xmin)) ** -float(fit.alpha), rtol=1e-9)
    ax2 = plotting.esd_plot(evals, fit=False, show_xmin=False)
    assert not _lines(ax2, "power law") and not _lines(ax2, "λ_min")
    # a failed fit (too few eigenvalues) draws only the histogram
    ax3 = plotting.esd_plot(evals[-8:])
    assert np.isnan(sw.powerlaw_fit(evals[-8:]).alpha) and not _lines(ax3, "power law")
    with pytest.raises(ValueError, match="leading"):
        plotting.esd_plot(np.ones((2, 4, 4)))
    with pytest.raises(TypeError):
        plotting.esd_plot(evals, fit=fit, method="clauset")


def test_spectral_density_plot_draws_the_grid_density():
    grid = np.linspace(-1.0, 5.0, 400)
    dens = np.exp(-0.5 * (grid / 0.1) ** 2) + 1e-3 * np.exp(-0.5 * ((grid - 4) / 0.1) ** 2)
    dens = dens / np.trapezoid(dens, grid)
    sd = SpectralDensity(grid, dens, nodes=np.zeros((2, 5)), weights=np.full((2, 5), 0.2))
    ax = plotting.spectral_density_plot(sd, label="Hessian")
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), grid)
    np.testing.assert_array_equal(line.get_ydata(), dens)
    assert ax.get_yscale() == "log" and line.get_label() == "Hessian"
    ax2 = plotting.spectral_density_plot((grid, dens), log_scale=False, title=None, color="k")
    assert ax2.get_yscale() == "linear" and ax2.get_title() == ""
    np.testing.assert_array_equal(ax2.get_lines()[0].get_ydata(), dens)
    with pytest.raises(ValueError, match="leading"):
        plotting.spectral_density_plot((np.stack([grid, grid]), np.stack([dens, dens])))
    with pytest.raises(TypeError):
        plotting.spectral_density_plot(np.ones(3))
