"""Classification metrics: confusion-count metrics, threshold-free ranking metrics (AUROC, AP, curves)
and their differentiable ``soft_*`` twins.

* :mod:`~jaxmetrics.classification.confusion` — accuracy, confusion matrix, precision/recall/F-beta,
  balanced accuracy, MCC, Cohen's kappa, log loss, each with a streaming ``*_metric``.
* :mod:`~jaxmetrics.classification.roc` — exact AUROC / average precision / ROC and PR curves, and the
  binned constant-memory streaming ``auroc_metric`` / ``average_precision_metric``.
* :mod:`~jaxmetrics.classification.relaxed` — ``soft_confusion_matrix`` (AnyLoss) and the soft twins.
"""

from jaxmetrics.classification.confusion import *  # noqa: F401,F403
from jaxmetrics.classification.roc import *  # noqa: F401,F403
from jaxmetrics.classification.relaxed import *  # noqa: F401,F403
from jaxmetrics.classification import confusion, roc, relaxed  # noqa: F401
