"""DSM profile plot (Agg backend): the drawn line is exactly (bin_centers, mean_loss) of the profile."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from jaxmetrics import plotting  # noqa: E402
from jaxmetrics.score_matching import dsm  # noqa: E402


def test_dsm_profile_plot_draws_the_profile():
    rng = np.random.default_rng(0)
    sigma = np.exp(rng.uniform(np.log(0.01), np.log(1.0), size=32))   # the top bins stay empty
    loss = rng.gamma(2.0, size=32) / sigma
    profile = dsm.dsm_profile(loss, sigma, num_bins=6, sigma_min=0.01, sigma_max=100.0)
    try:
        ax = plotting.dsm_profile_plot(profile, label="step 1000", show_counts=True)
        (line,) = ax.get_lines()
        x, y = line.get_data()
        np.testing.assert_array_equal(x, np.asarray(profile.bin_centers))
        np.testing.assert_array_equal(y, np.asarray(profile.mean_loss))   # NaN (empty bins) included
        assert np.isnan(y[-2:]).all()
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["step 1000"]
        # overlaying a second checkpoint on the same Axes
        assert plotting.dsm_profile_plot(profile, ax=ax, label="step 2000", log_loss=False) is ax
        assert len(ax.get_lines()) == 2
        twin = [a for a in ax.figure.axes if a is not ax][0]
        np.testing.assert_array_equal(twin.get_lines()[0].get_ydata(), np.asarray(profile.count))
        with pytest.raises(ValueError, match="one model"):
            plotting.dsm_profile_plot(dsm.DSMProfile(*(np.stack([np.asarray(a)] * 2) for a in profile)))
    finally:
        plt.close("all")
