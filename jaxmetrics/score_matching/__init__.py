"""Score-matching and diffusion diagnostics: denoising losses per noise level, reference scores,
score errors, sliced score matching, kernel Stein discrepancy, information-estimation distance.

Noise convention (one for the whole module, :mod:`~jaxmetrics.score_matching._noise`): a clean sample
``x0`` is perturbed as ``x = x0 + sigma * eps`` with ``eps ~ N(0, I)`` (variance exploding / EDM
without input scaling). A model's output is read through ``parameterization``: ``"score"``
(``s(x, sigma) ≈ ∇ log p_sigma(x)``), ``"epsilon"`` (``ε̂``, with ``s = −ε̂ / sigma``) or ``"x0"`` (the
denoiser ``D(x, sigma) ≈ E[x0 | x]``, with ``s = (D − x) / sigma²``, Tweedie's formula). Callables
are ``score_fn(x, sigma)`` / ``denoiser(x, sigma)`` over ``x [..., d]``; nothing assumes a network
library.

* :mod:`~jaxmetrics.score_matching.dsm` — denoising score-matching loss (weightings σ², EDM, none)
  and ``dsm_profile``: the loss binned over log σ, streamable.
* :mod:`~jaxmetrics.score_matching.reference` — closed-form scores and denoisers: Gaussian,
  empirical (training set as a delta mixture, chunked), Gaussian mixture.
* :mod:`~jaxmetrics.score_matching.errors` — explicit score-matching error, Fisher divergence, score
  FVU per noise level, Tweedie consistency.
* :mod:`~jaxmetrics.score_matching.sliced` — sliced score matching and Hutchinson divergence.
* :mod:`~jaxmetrics.score_matching.stein` — kernel Stein discrepancy with a bootstrap p-value.
* :mod:`~jaxmetrics.score_matching.information` — the information-estimation metric (IEM).
"""

from jaxmetrics.score_matching._noise import PARAMETERIZATIONS, to_denoiser, to_score  # noqa: F401
from jaxmetrics.score_matching.dsm import *  # noqa: F401,F403
from jaxmetrics.score_matching.reference import *  # noqa: F401,F403
from jaxmetrics.score_matching.errors import *  # noqa: F401,F403
from jaxmetrics.score_matching.sliced import *  # noqa: F401,F403
from jaxmetrics.score_matching.stein import *  # noqa: F401,F403
from jaxmetrics.score_matching.information import *  # noqa: F401,F403
from jaxmetrics.score_matching import dsm, reference, errors, sliced, stein, information  # noqa: F401
