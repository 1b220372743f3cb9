"""Peak memory of chunked PRDC at scale: N = M = 50,000 samples, d = 512, float32.

:func:`jaxmetrics.diversity.prdc` with a static ``chunk_size`` never materialises an N×M (or N×N)
distance matrix: each pass takes ``chunk_size`` rows of one set against all of the other. This script
compiles ``jax.jit(prdc)`` for the given sizes and reports

* XLA's ``memory_analysis()`` of the compiled program: argument / output / **temporary** bytes (the
  temporaries are the per-chunk blocks; an N×N float32 matrix would be 10 GB at N = 50,000);
* the process's peak resident set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) before and after
  one run, and the run's wall time and result.

Run: ``python bench/memory_prdc.py`` (defaults: n=50000, d=512, chunk=1024, k=5; several minutes on two
CPU cores), or e.g. ``python bench/memory_prdc.py --n 20000`` for a quicker measurement. Add
``--compile-only`` to skip the run (memory_analysis only).
"""

from __future__ import annotations

import argparse
import functools
import pathlib
import platform
import resource
import sys
import time

import jax
import jax.numpy as jnp

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from jaxmetrics.diversity import prdc  # noqa: E402


def _mb(nbytes):
    return f"{nbytes / 2**20:,.1f} MiB"


def _rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="samples per set (N = M)")
    parser.add_argument("--d", type=int, default=512, help="feature dimension")
    parser.add_argument("--chunk", type=int, default=1024, help="chunk_size")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--compile-only", action="store_true")
    args = parser.parse_args(argv)
    n, d, chunk = args.n, args.d, args.chunk

    fn = jax.jit(functools.partial(prdc, k=args.k, chunk_size=chunk))
    spec = jax.ShapeDtypeStruct((n, d), jnp.float32)
    t0 = time.perf_counter()
    compiled = fn.lower(spec, spec).compile()
    compile_s = time.perf_counter() - t0
    mem = compiled.memory_analysis()
    print(f"jaxmetrics prdc, N = M = {n:,}, d = {d}, float32, chunk_size = {chunk}, k = {args.k}")
    print(f"platform: {jax.devices()[0].platform}, {platform.processor() or platform.machine()}, "
          f"jax {jax.__version__}; compile {compile_s:.1f} s")
    print(f"  arguments  {_mb(mem.argument_size_in_bytes)}")
    print(f"  outputs    {_mb(mem.output_size_in_bytes)}")
    print(f"  temporary  {_mb(mem.temp_size_in_bytes)}   (one N×N float32 matrix: {_mb(4 * n * n)}; "
          f"one chunk×N float32 block: {_mb(4 * chunk * n)})")
    if args.compile_only:
        return
    keys = jax.random.split(jax.random.key(0), 2)
    real = jax.random.normal(keys[0], (n, d), jnp.float32)
    fake = jax.random.normal(keys[1], (n, d), jnp.float32)  # same distribution: E[coverage] ≈ 1 − 2^−k
    jax.block_until_ready((real, fake))
    rss_before = _rss()
    t0 = time.perf_counter()
    out = jax.block_until_ready(compiled(real, fake))
    run_s = time.perf_counter() - t0
    rss_after = _rss()
    print(f"  run        {run_s:.1f} s: " + ", ".join(f"{f} = {float(v):.4f}" for f, v in zip(out._fields, out))
          + f" (identical distributions: E[coverage] = {1 - 2.0 ** -args.k:.4f} as N → ∞)")
    print(f"  peak RSS   {_mb(rss_before)} before the run (inputs on the host device), {_mb(rss_after)} after "
          f"(+{_mb(rss_after - rss_before)})")


if __name__ == "__main__":
    main()
