"""Peak memory of the chunked MMD² and of KID at N = M = 50,000 samples, d = 512 (float32).

Two measurements:

* **compiled** — ``jax.jit(...).lower(...).compile().memory_analysis()``: the temp (scratch) bytes XLA
  allocates besides the arguments, at the full N for several ``chunk_size`` values and for one unchunked
  block (compiled only, never run: its kernel matrices alone are N²·4 bytes each);
* **measured** — one run of the chunked MMD and of KID (defaults: 100 subsets of 1000): the process's
  peak RSS during the run (VmHWM, reset through ``/proc/self/clear_refs`` just before) minus its RSS
  before it (inputs already resident). The chunked MMD is O((n + m)²·d) work
  (≈ 7.7 TFLOP at N = 50,000, d = 512), so on a small CPU it is run at ``--run-n`` samples (default
  20,000) and the time is extrapolated by (N/run-n)²; its memory does not depend on N beyond the inputs
  and the O(chunk·N) blocks.

Run: ``python bench/memory_kernel.py [--n 50000] [--run-n 20000] [--d 512] [--chunk 1024]
[--out bench/results/memory_kernel.md]`` (a few minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import pathlib
import platform
import resource
import sys
import time

import jax
import jax.numpy as jnp

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from jaxmetrics.distances import kernel as km  # noqa: E402

MB = 2.0**20


def _reset_peak():
    """Resets the kernel's VmHWM (peak RSS) of this process (Linux ``clear_refs``); False if unsupported."""
    try:
        pathlib.Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _rss_mb(field="VmHWM"):
    """Peak (VmHWM) or current (VmRSS) resident memory in MB; ``getrusage``'s lifetime peak as a fallback."""
    try:
        for line in pathlib.Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _compiled(fn, *shapes):
    t = time.perf_counter()
    compiled = jax.jit(fn).lower(*shapes).compile()
    stats = compiled.memory_analysis()
    return compiled, stats, time.perf_counter() - t


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=50_000)
    p.add_argument("--run-n", type=int, default=20_000)
    p.add_argument("--d", type=int, default=512)
    p.add_argument("--chunk", type=int, default=1024)
    p.add_argument("--out", type=str, default=None)
    a = p.parse_args()
    n, d = a.n, a.d
    rows = []
    spec = jax.ShapeDtypeStruct((n, d), jnp.float32)
    inputs_mb = 2 * n * d * 4 / MB

    # compiled temp memory at the full N
    for chunk in (256, a.chunk, None):
        fn = lambda x, y, c=chunk: km.mmd(x, y, chunk_size=c)  # noqa: E731
        _, stats, secs = _compiled(fn, spec, spec)
        rows.append((f"mmd rbf+median, chunk_size={chunk}", n, "compiled", stats.temp_size_in_bytes / MB,
                     f"compile {secs:.1f} s"))
    kid_fn = lambda x, y: km.kid(x, y, key=jax.random.key(0))  # noqa: E731
    kid_compiled, stats, secs = _compiled(kid_fn, spec, spec)
    rows.append(("kid (100 subsets of 1000)", n, "compiled", stats.temp_size_in_bytes / MB, f"compile {secs:.1f} s"))
    full_matrix_mb = n * n * 4 / MB

    # measured runs: KID at the full N, chunked MMD at run-n
    kx, ky = jax.random.split(jax.random.key(0))
    x = jax.random.normal(kx, (n, d), jnp.float32)
    y = jax.random.normal(ky, (n, d), jnp.float32) + 0.1
    jax.block_until_ready((x, y))
    _reset_peak()
    before = _rss_mb("VmRSS")
    t = time.perf_counter()
    out = jax.block_until_ready(kid_compiled(x, y))
    secs = time.perf_counter() - t
    rows.append(("kid (100 subsets of 1000)", n, "peak RSS above the inputs", _rss_mb() - before,
                 f"run {secs:.1f} s; mean {float(out.mean):.4g} ± {float(out.std):.2g}"))

    rn = min(a.run_n, n)
    xs, ys = x[:rn], y[:rn]
    mmd_compiled, stats, _ = _compiled(lambda u, v: km.mmd(u, v, chunk_size=a.chunk), xs, ys)
    jax.block_until_ready((xs, ys))
    _reset_peak()
    before = _rss_mb("VmRSS")
    t = time.perf_counter()
    val = float(jax.block_until_ready(mmd_compiled(xs, ys)))
    secs = time.perf_counter() - t
    rows.append((f"mmd rbf+median, chunk_size={a.chunk}", rn, "peak RSS above the inputs", _rss_mb() - before,
                 f"run {secs:.1f} s (≈ {secs * (n / rn) ** 2:.0f} s at N = {n}); MMD² {val:.4g}; "
                 f"compiled temp {stats.temp_size_in_bytes / MB:.0f} MB"))

    lines = [
        f"# Peak memory of chunked MMD² / KID (N = M = {n:,}, d = {d}, float32)",
        "",
        f"{platform.processor() or platform.machine()}, {jax.devices()[0].platform}, jax {jax.__version__}. "
        f"Inputs: {inputs_mb:.0f} MB; one N×N float32 kernel matrix would be {full_matrix_mb:,.0f} MB.",
        "",
        "| computation | N | measurement | MB | notes |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {r[0]} | {r[1]:,} | {r[2]} | {r[3]:,.0f} | {r[4]} |" for r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        pathlib.Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
