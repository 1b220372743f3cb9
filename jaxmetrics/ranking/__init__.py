"""Ranking, retrieval and rank correlation.

Inputs are ``scores [..., Q, n_items]`` and ``relevance [..., Q, n_items]`` (graded, >= 0; an item is
*relevant* when its relevance is > 0) with ``where [..., Q, n_items]`` marking valid items (ragged
candidate lists are padding + mask) and ``weights [..., Q]`` weighting queries. Cutoffs ``k`` are
static. ``reduce="mean"`` (default) gives the weighted mean over queries that have a valid item,
``reduce=None`` the per-query values ``[..., Q]``. Tie handling is always an explicit ``ties=`` option
(see :mod:`jaxmetrics.ranking._queries`).

* :mod:`~jaxmetrics.ranking.dcg` — ``dcg``, ``ndcg`` (gain, ties and ideal-DCG conventions).
* :mod:`~jaxmetrics.ranking.retrieval` — AP@k, reciprocal rank / MRR, precision@k, recall@k,
  hit rate, R-precision.
* :mod:`~jaxmetrics.ranking.overlap` — rank-biased overlap between two rankings.
* :mod:`~jaxmetrics.ranking.preference` — pairwise (chosen vs rejected) and one-vs-many accuracy / MRR.
* :mod:`~jaxmetrics.ranking.correlation` — Pearson (streaming, Chan merge), Spearman, Kendall tau-b.
* :mod:`~jaxmetrics.ranking.relaxed` — differentiable twins: ``soft_ndcg``, ``soft_mrr``,
  ``soft_precision_at_k``, ``soft_spearman`` (built on :mod:`jaxmetrics.soft`).
"""

from jaxmetrics.ranking.dcg import *  # noqa: F401,F403
from jaxmetrics.ranking.retrieval import *  # noqa: F401,F403
from jaxmetrics.ranking.overlap import *  # noqa: F401,F403
from jaxmetrics.ranking.preference import *  # noqa: F401,F403
from jaxmetrics.ranking.correlation import *  # noqa: F401,F403
from jaxmetrics.ranking.relaxed import *  # noqa: F401,F403
from jaxmetrics.ranking import dcg as _dcg_module, retrieval, overlap, preference, correlation, relaxed  # noqa: F401
