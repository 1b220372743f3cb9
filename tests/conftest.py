"""Test configuration: 8 fake CPU devices (set before jax is imported), float64, unoptimised XLA
compiles, hypothesis profile."""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
_OPTIMIZE = os.environ.get("JAXMETRICS_TEST_OPTIMIZE", "0") == "1"
_flags = os.environ.get("XLA_FLAGS", "")
if "xla_force_host_platform_device_count" not in _flags:
    _flags += " --xla_force_host_platform_device_count=8"
# Eager tests compile hundreds of tiny programs each; XLA:CPU's fusion emitters cost ~40 ms a compile
# there and the classic elemental emitters about half that (measured on this suite: -45% wall time).
if not _OPTIMIZE and "xla_cpu_use_fusion_emitters" not in _flags:
    _flags += " --xla_cpu_use_fusion_emitters=false"
# XLA:CPU splits each program into LLVM modules compiled on a thread pool; with two xdist workers on two
# cores the threads only contend, and one module per program measured ~10% less wall time.
if not _OPTIMIZE and "xla_cpu_parallel_codegen_split_count" not in _flags:
    _flags += " --xla_cpu_parallel_codegen_split_count=1"
os.environ["XLA_FLAGS"] = _flags.strip()

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
# Test inputs are tiny, so XLA's optimisation passes cost far more than they save: skipping them halves
# the suite's wall time. Results are unaffected beyond rounding (every check is tolerance-based);
# JAXMETRICS_TEST_OPTIMIZE=1 restores the default compiler pipeline (and the fusion emitters).
# Set through the environment too, so that the subprocesses of the suite (the notebooks' kernels, the
# README quickstart, `python -m jaxmetrics`) compile the same way.
if not _OPTIMIZE:
    os.environ["JAX_DISABLE_MOST_OPTIMIZATIONS"] = "true"
    jax.config.update("jax_disable_most_optimizations", True)

# A persistent compilation cache shared by the xdist workers of one run: the suite compiles the same
# small programs many times over (eager ops, fresh closures with identical HLO, the same metric in
# several tests and workers); the cache is keyed by the HLO, so every repeat is a disk read.
if os.environ.get("JAXMETRICS_TEST_CACHE", "1") == "1":
    import tempfile  # noqa: E402

    _run = os.environ.get("PYTEST_XDIST_TESTRUNUID", f"pid{os.getpid()}")
    jax.config.update("jax_compilation_cache_dir", os.path.join(tempfile.gettempdir(), f"jaxmetrics-xla-{_run}"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ci", max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
