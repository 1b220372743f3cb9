"""Spectral diagnostics of weights, representations and loss curvature.

* :mod:`~jaxmetrics.spectral.weights` — weight-matrix spectra (``W [..., n, m]``): ESD, heavy-tailed
  power-law fit (α, α̂), norm summaries, Weibull fit of |w|, and a helper over a params pytree.
* :mod:`~jaxmetrics.spectral.representations` — representation geometry (``X [..., n, d]``): effective
  rank / RankMe, α-ReQ, participation ratio, spectral entropy, NerVE statistics.
* :mod:`~jaxmetrics.spectral.hessian` — matrix-free curvature of any ``loss_fn(params, batch)``:
  Hessian- and Gauss–Newton-vector products, Hutchinson / Hutch++ trace, SAM sharpness.
* :mod:`~jaxmetrics.spectral.lanczos` — Lanczos top eigenvalues, power iteration and the stochastic
  Lanczos quadrature spectral density.
"""

from jaxmetrics.spectral._linop import SplitLoss  # noqa: F401
from jaxmetrics.spectral.weights import *  # noqa: F401,F403
from jaxmetrics.spectral.representations import *  # noqa: F401,F403
from jaxmetrics.spectral.hessian import *  # noqa: F401,F403
from jaxmetrics.spectral.lanczos import *  # noqa: F401,F403
from jaxmetrics.spectral import weights, representations, hessian, lanczos  # noqa: F401
