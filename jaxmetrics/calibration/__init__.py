"""Calibration metrics: binned ECE/MCE/RMSCE (and their streaming and soft versions), reliability
diagrams, Brier score, negative log-likelihood, Balance score and smooth ECE.

* :mod:`~jaxmetrics.calibration.binned` — ``expected_calibration_error`` / ``ece`` (norms, binning
  schemes, modes, bin-edge conventions, debiased L2), ``ece_metric`` (per-bin sums),
  ``reliability_diagram`` statistics and ``soft_ece``.
* :mod:`~jaxmetrics.calibration.scores` — ``brier_score``, ``negative_log_likelihood``,
  ``balance_score`` and its smooth twin, ``smooth_ece`` (kernel-smoothed calibration error).
"""

from jaxmetrics.calibration.binned import *  # noqa: F401,F403
from jaxmetrics.calibration.scores import *  # noqa: F401,F403
from jaxmetrics.calibration import binned, scores  # noqa: F401
