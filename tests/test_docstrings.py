"""Docstring examples run as written (doctest), so the documentation cannot rot."""

import doctest
import importlib
import pkgutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxmetrics

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(jaxmetrics.__path__, "jaxmetrics.") if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    with jax.enable_x64(False):  # examples show the default float32 behaviour
        result = doctest.testmod(
            module, extraglobs=dict(jnp=jnp, np=np, jax=jax),
            optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        )
    assert result.failed == 0, f"{name}: {result.failed} failing docstring example(s)"

