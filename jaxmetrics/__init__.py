"""jaxmetrics: evaluation metrics and diagnostics as pure, jit-able, vmap-able, differentiable JAX
functions, streamable over batches and reducible across devices."""

from jaxmetrics._src.checks import ShapeError
from jaxmetrics._src.metric import Metric, one_shot, tree_add
from jaxmetrics._src.registry import REGISTRY as registry, MetricInfo
from jaxmetrics._src.validate import ValidationError, validate
from jaxmetrics import parallel
from jaxmetrics import classification
from jaxmetrics import calibration
from jaxmetrics import scoring
from jaxmetrics import ranking
from jaxmetrics import spectral
from jaxmetrics import diversity
from jaxmetrics import distances
from jaxmetrics import score_matching

__version__ = "0.1.0"

__all__ = [
    "Metric",
    "MetricInfo",
    "ShapeError",
    "ValidationError",
    "calibration",
    "classification",
    "distances",
    "diversity",
    "ranking",
    "score_matching",
    "scoring",
    "spectral",
    "one_shot",
    "parallel",
    "registry",
    "tree_add",
    "validate",
    "__version__",
]
