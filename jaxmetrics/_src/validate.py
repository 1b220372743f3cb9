"""Eager value validation (DESIGN.md §2.8).

Shape problems are caught at trace time by the metrics themselves. *Value* problems — probabilities
outside [0, 1], rows that do not sum to one, labels out of range, NaN/inf — cannot raise inside ``jit``.
:func:`validate` checks them eagerly (it pulls values to the host, so never call it inside ``jit``) and
raises :class:`ValidationError` with a message that says which argument, what is wrong, and where.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ValidationError", "validate"]


class ValidationError(ValueError):
    """Raised by :func:`validate` for values a metric must not be computed on."""


def _first_bad(mask: np.ndarray) -> str:
    idx = np.argwhere(mask)
    n = len(idx)
    first = tuple(int(i) for i in idx[0]) if n else ()
    return f"{n} entr{'y' if n == 1 else 'ies'}, first at index {first}"


def _finite(name: str, x: np.ndarray) -> None:
    if np.issubdtype(x.dtype, np.floating):
        bad = ~np.isfinite(x)
        if bad.any():
            raise ValidationError(f"`{name}` contains NaN or inf ({_first_bad(bad)}).")


def validate(
    *,
    probs=None,
    logits=None,
    scores=None,
    labels=None,
    weights=None,
    relevance=None,
    num_classes: int | None = None,
    binary: bool | None = None,
    atol: float = 1e-4,
) -> None:
    """Checks argument *values* eagerly; raises :class:`ValidationError` on the first problem.

    Args:
      probs: ``[..., N, C]`` class probabilities (rows must lie in [0, 1] and sum to 1 within ``atol``),
        or ``[..., N]`` binary probabilities P(y=1) in [0, 1] (set ``binary=True``, or it is inferred
        when ``probs.ndim == labels.ndim``).
      logits: ``[..., N, C]`` or ``[..., N]``: must be finite (±inf logits are rejected too).
      scores: ``[..., N]`` real scores: must be finite or ±inf; NaN is rejected.
      labels: ``[..., N]`` integer labels in ``[0, num_classes)``; ``num_classes`` defaults to the
        class axis of ``probs``/``logits`` (or 2 for binary inputs).
      weights: must be finite and ``>= 0``.
      relevance: ``[..., Q, n_items]`` graded relevance of ranked items (ranking metrics): numeric
        (bool, integer or float), finite and ``>= 0``; NaN, ±inf and negative grades are rejected.
        Every entry is checked, masked padding included, so pad with 0.
      num_classes: number of classes for the label range check.
      binary: whether ``probs`` holds P(y=1) per sample rather than rows of class probabilities.
      atol: tolerance of the row-sum check.

    Example:
      >>> validate(probs=np.array([[0.2, 0.8]]), labels=np.array([1]))
      >>> validate(probs=np.array([[0.2, 0.9]]), labels=np.array([1]))
      Traceback (most recent call last):
      ...
      jaxmetrics._src.validate.ValidationError: `probs` rows must sum to 1 (atol 0.0001): ...
    """
    if probs is not None:
        p = np.asarray(probs)
        if not np.issubdtype(p.dtype, np.floating):
            raise ValidationError(f"`probs` must be floating point; got dtype {p.dtype}.")
        if np.isnan(p).any():
            raise ValidationError(f"`probs` contains NaN ({_first_bad(np.isnan(p))}).")
        out = (p < 0) | (p > 1)
        if out.any():
            raise ValidationError(f"`probs` must lie in [0, 1]; {_first_bad(out)} outside.")
        if binary is None:
            binary = labels is not None and p.ndim == np.ndim(labels)
        if not binary:
            if p.ndim < 1:
                raise ValidationError("`probs` must have a class axis [..., C].")
            off = np.abs(p.astype(np.float64).sum(-1) - 1.0) > atol
            if off.any():
                raise ValidationError(f"`probs` rows must sum to 1 (atol {atol}): {_first_bad(off)} do not.")
            if num_classes is None:
                num_classes = p.shape[-1]
        elif num_classes is None:
            num_classes = 2
    if logits is not None:
        lg = np.asarray(logits)
        bad = ~np.isfinite(lg)
        if bad.any():
            raise ValidationError(f"`logits` must be finite; {_first_bad(bad)} are NaN or inf.")
        if num_classes is None:
            num_classes = lg.shape[-1] if labels is None or lg.ndim > np.ndim(labels) else 2
    if scores is not None:
        s = np.asarray(scores)
        if np.isnan(s).any():
            raise ValidationError(f"`scores` contains NaN ({_first_bad(np.isnan(s))}).")
    if labels is not None:
        y = np.asarray(labels)
        if np.issubdtype(y.dtype, np.floating):
            nonint = y != np.round(y)
            if nonint.any():
                raise ValidationError(f"`labels` must be integers; {_first_bad(nonint)} are not.")
        elif not (np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_):
            raise ValidationError(f"`labels` must be integers; got dtype {y.dtype}.")
        if num_classes is not None:
            out = (y < 0) | (y >= num_classes)
            if out.any():
                raise ValidationError(
                    f"`labels` must lie in [0, {num_classes}); {_first_bad(out)} outside "
                    f"(min {y.min()}, max {y.max()})."
                )
    if relevance is not None:
        r = np.asarray(relevance)
        if r.dtype.kind not in "biu":
            try:  # float16/32/64 and the ml_dtypes floats (bfloat16: kind "V", not an np.floating subtype)
                if r.dtype.kind not in "fV":
                    raise TypeError
                r = r.astype(np.float64)
            except (TypeError, ValueError):
                raise ValidationError(
                    f"`relevance` must be numeric (bool, integer or float); got dtype {r.dtype}.") from None
            _finite("relevance", r)
        neg = r < 0
        if neg.any():
            raise ValidationError(f"`relevance` grades must be >= 0; {_first_bad(neg)} are negative.")
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64)
        _finite("weights", w)
        if (w < 0).any():
            raise ValidationError(f"`weights` must be >= 0; {_first_bad(w < 0)} are negative.")
