"""Real data: probabilistic regression on scikit-learn's bundled diabetes data set.

A Bayesian ridge regression gives Gaussian predictive distributions, a bootstrap ensemble of ridge
fits gives an ensemble forecast; both are scored on a held-out split against properscoring /
scoringrules, and the derived 90 % intervals and quantiles against scoringrules and numpy.
"""

from __future__ import annotations

import numpy as np
import pytest

from jaxmetrics import scoring as js

sr = pytest.importorskip("scoringrules")
ps = pytest.importorskip("properscoring")
sklearn = pytest.importorskip("sklearn")
stats = pytest.importorskip("scipy.stats")

from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.linear_model import BayesianRidge, Ridge  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

RTOL = 1e-6


@pytest.fixture(scope="module")
def fitted():
    x, y = load_diabetes(return_X_y=True)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.3, random_state=0)
    mu, sd = BayesianRidge().fit(xtr, ytr).predict(xte, return_std=True)
    rng = np.random.default_rng(0)
    members = []
    for _ in range(24):
        idx = rng.integers(0, len(ytr), len(ytr))
        members.append(Ridge(alpha=0.1).fit(xtr[idx], ytr[idx]).predict(xte))
    ens = np.stack(members, -1) + rng.normal(size=(len(yte), 24)) * np.std(ytr - mu.mean())  # + noise
    return mu, sd, ens, yte


def test_gaussian_scores_on_bayesian_ridge(fitted):
    mu, sd, _, y = fitted
    np.testing.assert_allclose(js.crps_gaussian(mu, sd, y, reduce="none"), ps.crps_gaussian(y, mu, sd), rtol=RTOL)
    assert float(js.crps_gaussian(mu, sd, y)) == pytest.approx(ps.crps_gaussian(y, mu, sd).mean(), rel=RTOL)
    assert float(js.log_score_gaussian(mu, sd, y)) == pytest.approx(-stats.norm.logpdf(y, mu, sd).mean(), rel=RTOL)
    # central 90 % interval from the predictive distribution
    z = stats.norm.ppf(0.95)
    lo, up = mu - z * sd, mu + z * sd
    assert float(js.coverage(lo, up, y)) == pytest.approx(np.mean((lo <= y) & (y <= up)), abs=1e-12)
    assert 0.75 < float(js.coverage(lo, up, y)) < 1.0  # roughly calibrated on held-out data
    assert float(js.interval_score(lo, up, y, alpha=0.1)) == pytest.approx(
        sr.interval_score(y, lo, up, 0.1).mean(), rel=RTOL)
    assert float(js.interval_width(lo, up)) == pytest.approx(np.mean(up - lo), rel=RTOL)
    # WIS of many Gaussian quantiles approaches the CRPS (within a few per cent)
    alphas = np.linspace(0.02, 0.98, 49)
    levels = tuple(sorted({*np.round(alphas / 2, 6), 0.5, *np.round(1 - alphas / 2, 6)}))
    q = mu[:, None] + sd[:, None] * stats.norm.ppf(np.asarray(levels))
    assert float(js.wis(q, y, levels=levels)) == pytest.approx(ps.crps_gaussian(y, mu, sd).mean(), rel=0.03)


def test_ensemble_scores_on_bootstrap_ridge(fitted):
    _, _, ens, y = fitted
    for e in ("nrg", "fair", "pwm", "qd"):
        np.testing.assert_allclose(js.crps_ensemble(ens, y, estimator=e, reduce="none"),
                                   sr.crps_ensemble(y, ens, estimator=e), rtol=RTOL)
    np.testing.assert_allclose(js.crps_ensemble(ens, y, estimator="nrg", reduce="none"), ps.crps_ensemble(y, ens),
                               rtol=RTOL)
    lo, up = np.quantile(ens, 0.05, axis=-1), np.quantile(ens, 0.95, axis=-1)
    assert float(js.interval_score(lo, up, y, alpha=0.1)) == pytest.approx(
        sr.interval_score(y, lo, up, 0.1).mean(), rel=RTOL)
    assert float(js.coverage(lo, up, y)) == pytest.approx(np.mean((lo <= y) & (y <= up)), abs=1e-12)
    hist = np.asarray(js.rank_histogram(ens, y))
    assert hist.sum() == pytest.approx(len(y))
    ssr = float(js.spread_skill_ratio(ens, y, finite_ensemble_correction=True))
    assert 0.5 < ssr < 2.0
