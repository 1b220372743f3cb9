"""Proper scoring rules and diagnostics for probabilistic forecasts.

* :mod:`~jaxmetrics.scoring.ensemble` — ``crps_ensemble`` (estimators ``nrg``, ``fair``, ``pwm``,
  ``qd``, ``afair``; member weights and masks; O(M log M) sorted form) and ``energy_score``.
* :mod:`~jaxmetrics.scoring.parametric` — closed-form ``crps_gaussian``, ``crps_logistic`` and
  ``log_score_gaussian``.
* :mod:`~jaxmetrics.scoring.quantile` — ``pinball_loss``, ``interval_score``,
  ``weighted_interval_score`` (``wis``), ``coverage`` and ``interval_width``.
* :mod:`~jaxmetrics.scoring.reliability` — ``pit``, ``rank_histogram`` and ``spread_skill_ratio``.

**Conventions shared by the family.** Observations are ``obs [..., N]`` (N = observation axis, leading
axes = batch axes); ensembles ``forecasts [..., N, M]``. ``where``/``weights`` are per observation
``[..., N]``. Every score takes a static ``reduce``: ``"mean"`` (default) is the weighted mean over N
(``[...]``; NaN when every observation is masked), ``"none"`` the per-observation scores ``[..., N]``,
for which ``where``/``weights`` only mask (masked entries are 0). Each mean-type score has a streaming
``*_metric`` with the same static configuration whose state is ``(Σ w·score, Σ w)`` (additive: merge is
a tree-add, the cross-device reduction a ``psum``), and the one-shot ``reduce="mean"`` result *is*
``compute(update(init(), ...))`` of it. Inputs accumulate in at least float32.
"""

from jaxmetrics.scoring.ensemble import *  # noqa: F401,F403
from jaxmetrics.scoring.parametric import *  # noqa: F401,F403
from jaxmetrics.scoring.quantile import *  # noqa: F401,F403
from jaxmetrics.scoring.reliability import *  # noqa: F401,F403
from jaxmetrics.scoring import ensemble, parametric, quantile, reliability  # noqa: F401
from jaxmetrics.scoring._common import ScoreState  # noqa: F401
