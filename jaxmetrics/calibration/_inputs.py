"""Shared input handling of the calibration family: (confidence, outcome) pairs from probabilities.

Every calibration metric compares a *confidence* c with an *outcome* o ∈ {0, 1} whose conditional mean
should equal it. Which pair is compared is the ``mode``:

* ``"top_label"`` — c = max_k p_k, o = 1[argmax_k p_k = y] (ties: lowest class index, as ``argmax``);
  one pair per sample (K = 1). The default for class probabilities ``[..., N, C]``.
* ``"binary"`` — binary input ``[..., N]`` = P(y = 1): c = p, o = y (the positive rate, as torchmetrics
  and netcal do for binary ECE); one pair per sample (K = 1). The default for ``[..., N]`` input.
* ``"classwise"`` — (marginal / per-class) c = p_k, o = 1[y = k] for every class k (K = C); metrics
  average the per-class values over classes.

Logits are accepted with ``from_logits=True`` (softmax for ``[..., N, C]``, sigmoid for ``[..., N]``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxmetrics._src import checks, numerics

MODES = ("auto", "top_label", "binary", "classwise")


def confidence_outcome(fn: str, probs, labels, *, mode: str = "auto", from_logits: bool = False, dtype=None):
    """Returns ``(confidence, outcome)``, both ``[..., N, K]`` float, and the resolved mode.

    Args:
      fn: public function name, for error messages.
      probs: ``[..., N, C]`` class probabilities (or logits) or ``[..., N]`` binary P(y=1) (or logit).
      labels: integer labels ``[..., N]`` (``0/1`` for binary input).
      mode: one of :data:`MODES`; ``"auto"`` = ``"binary"`` for ``[..., N]`` input, else ``"top_label"``.
      from_logits: static; apply softmax / sigmoid first.
      dtype: float dtype of the results (default: the accumulation dtype of ``probs``).
    """
    probs = jnp.asarray(probs)
    labels = jnp.asarray(labels)
    checks.check_choice(fn, "mode", mode, MODES)
    checks.check_float(fn, "probs", probs)
    checks.check_integer(fn, "labels", labels)
    checks.check_min_rank(fn, "labels", labels, 1, "[..., N]")
    dtype = numerics.accumulation_dtype(probs) if dtype is None else dtype
    p = numerics.promote(probs, dtype)
    if p.ndim == labels.ndim:  # binary P(y = 1)
        checks.check_same_shape(fn, "probs", p, "labels", labels)
        if mode not in ("auto", "binary"):
            raise checks.ShapeError(
                f"jaxmetrics.{fn}: mode={mode!r} needs class probabilities `probs` [..., N, C]; got binary "
                f"probabilities of shape {tuple(probs.shape)}."
            )
        if from_logits:
            p = jax.nn.sigmoid(p)
        return p[..., None], (labels == 1).astype(dtype)[..., None], "binary"
    if p.ndim != labels.ndim + 1 or p.shape[:-1] != labels.shape:
        raise checks.ShapeError(
            f"jaxmetrics.{fn}: argument `probs` must have shape [..., N, C] or [..., N] matching `labels` "
            f"{tuple(labels.shape)}; got {tuple(probs.shape)}."
        )
    if mode == "binary":
        raise checks.ShapeError(
            f"jaxmetrics.{fn}: mode='binary' takes `probs` [..., N] = P(y=1); got class probabilities "
            f"{tuple(probs.shape)} (pass probs[..., 1] for a two-class model)."
        )
    if from_logits:
        p = jax.nn.softmax(p, axis=-1)
    if mode == "classwise":
        onehot = jax.nn.one_hot(labels, p.shape[-1], dtype=dtype)
        return p, onehot, "classwise"
    conf = p.max(-1)
    correct = (jnp.argmax(p, -1) == labels).astype(dtype)
    return conf[..., None], correct[..., None], "top_label"
