"""Diversity of a sample set: Vendi scores, precision/recall/density/coverage, uniformity and spread.

Inputs are feature arrays ``x [..., n, d]`` (features from any model the user chooses; no network
weights are bundled) or a kernel matrix; leading axes are batch axes.

* :mod:`~jaxmetrics.diversity.vendi` — the Vendi score of order ``q`` (primal/dual, kernels, prevalences).
* :mod:`~jaxmetrics.diversity.manifold` — precision, recall, density, coverage; improved precision/recall
  and the realism score (k-NN manifolds, chunked).
* :mod:`~jaxmetrics.diversity.geometry` — uniformity (Wang–Isola and Gaussian-W₂), average cosine
  similarity, intra-list diversity.
"""

from jaxmetrics.diversity.vendi import *  # noqa: F401,F403
from jaxmetrics.diversity.manifold import *  # noqa: F401,F403
from jaxmetrics.diversity.geometry import *  # noqa: F401,F403
from jaxmetrics.diversity import vendi, manifold, geometry  # noqa: F401
