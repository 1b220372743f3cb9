"""Test configuration: 8 fake CPU devices (set before jax is imported), float64, unoptimised XLA
compiles, hypothesis profile."""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
_flags = os.environ.get("XLA_FLAGS", "")
if "xla_force_host_platform_device_count" not in _flags:
    os.environ["XLA_FLAGS"] = (_flags + " --xla_force_host_platform_device_count=8").strip()

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
# Test inputs are tiny, so XLA's optimisation passes cost far more than they save: skipping them halves
# the suite's wall time. Results are unaffected beyond rounding (every check is tolerance-based);
# JAXMETRICS_TEST_OPTIMIZE=1 restores the default compiler pipeline.
if os.environ.get("JAXMETRICS_TEST_OPTIMIZE", "0") != "1":
    jax.config.update("jax_disable_most_optimizations", True)

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ci", max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
