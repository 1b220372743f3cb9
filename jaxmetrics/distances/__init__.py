"""Distances between distributions: Fréchet distance, MMD/KID, optimal transport, divergences, KS.

Sample-set inputs are ``x [..., n, d]`` and ``y [..., m, d]``; probability-vector inputs are
``p [..., K]`` and ``q [..., K]``. Leading axes are batch axes.

* :mod:`~jaxmetrics.distances.frechet` — Fréchet (Gaussian W₂²) distance, one-shot and streaming.
* :mod:`~jaxmetrics.distances.kernel` — MMD² (biased/unbiased, kernels, median heuristic) and KID.
* :mod:`~jaxmetrics.distances.transport` — energy distance, exact 1-D Wasserstein, sliced Wasserstein,
  debiased Sinkhorn divergence.
* :mod:`~jaxmetrics.distances.divergences` — KL, Jensen–Shannon, total variation, Hellinger,
  Bhattacharyya, characteristic-function distance, two-sample KS statistic.
"""

from jaxmetrics.distances.frechet import *  # noqa: F401,F403
from jaxmetrics.distances.kernel import *  # noqa: F401,F403
from jaxmetrics.distances.transport import *  # noqa: F401,F403
from jaxmetrics.distances.divergences import *  # noqa: F401,F403
from jaxmetrics.distances import frechet, kernel, transport, divergences  # noqa: F401
