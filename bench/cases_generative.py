"""Benchmark cases: generative-model metrics, weight spectra and loss curvature.

* Fréchet distance (d up to 2048, 10⁴ samples per set) vs torchmetrics' FID statistics + ``_compute_fid``
  and the pytorch-fid formula (``numpy.cov`` + ``scipy.linalg.sqrtm``).
* Vendi score (2,000 × 512, cosine kernel, q = 1), dual and primal, vs ``vendi-score``.
* PRDC (10⁴ × 10⁴ × 512, k = 5) vs the ``prdc`` package.
* Power-law α of a 4096 × 4096 weight matrix vs WeightWatcher (its SVD + ``WWFit``).
* Hessian trace (Hutchinson, 100 probes) and top-5 Hessian eigenvalues (Lanczos) of a ~1M-parameter MLP:
  no installed peer (PyHessian is torch-only and not installed), so the comparison is to primitives —
  one Hessian-vector product (HVP), one gradient, and a hand-written loop of the same number of HVPs.

Every ``make`` converts the data to each side's native type before timing and asserts, outside the timed
callables, that jaxmetrics and each peer agree on the value. ``vmap`` over 64 seeds is not measured for
these cases: they are large single problems (a 2048² covariance, a 4096² SVD, a 1M-parameter model),
not the N = 10⁴ per-seed workloads the issue's vmap target is about.
"""

from __future__ import annotations

import contextlib
import io
import math

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
from jax import lax

import harness
from jaxmetrics.distances import frechet_distance, frechet_distance_metric
from jaxmetrics.diversity import prdc as jm_prdc
from jaxmetrics.diversity import vendi_score
from jaxmetrics.spectral import hessian_top_eigenvalues, hessian_trace, powerlaw_alpha

try:  # peers: each one optional
    import scipy.linalg as _sla
except ImportError:  # pragma: no cover
    _sla = None
try:
    import torch
    from torchmetrics.image.fid import _compute_fid as _tm_compute_fid
except ImportError:  # pragma: no cover
    torch = None
try:
    from vendi_score import vendi as _vendi
except ImportError:  # pragma: no cover
    _vendi = None
try:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        from prdc import compute_prdc as _compute_prdc
except ImportError:  # pragma: no cover
    _compute_prdc = None
try:
    import logging

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        from weightwatcher.RMT_Util import svd_vals as _ww_svd_vals
        from weightwatcher.WW_powerlaw import WWFit as _WWFit
        from weightwatcher.constants import EVALS_THRESH as _WW_EVALS_THRESH
    logging.getLogger("weightwatcher").setLevel(logging.ERROR)
except ImportError:  # pragma: no cover
    _WWFit = None

_HI = lax.Precision.HIGHEST


def _compiled_x64(fn, *np_args):
    """``fn`` compiled with x64 on for float64 numpy inputs; returns a zero-argument callable.

    The harness traces ``ours`` with the process default (x64 off), so the float64 jaxmetrics variant is
    compiled here under ``jax.enable_x64`` and called on float64 device arrays (created once).
    """
    with jax.enable_x64(True):
        args = tuple(jnp.asarray(a, jnp.float64) for a in np_args)
        compiled = jax.jit(fn).lower(*args).compile()
    return lambda: compiled(*args)


# --------------------------------------------------------------------------------------------------
# Fréchet distance

FD_SAMPLES = 10_000
FD_BATCH = 1_000


def _fd_data(n, d, rng):
    """Two correlated, non-isotropic feature sets with different spectra and means (FD ≫ rounding)."""
    mix = (np.eye(d) + rng.standard_normal((d, d)) / (2.0 * math.sqrt(d))).astype(np.float32)
    scale = np.linspace(0.5, 2.0, d, dtype=np.float32)
    x = (rng.standard_normal((n, d), dtype=np.float32) * scale) @ mix + 1.0
    y = (rng.standard_normal((n, d), dtype=np.float32) * scale[::-1]) @ mix + 1.2
    return x.astype(np.float32), y.astype(np.float32)


def _torchmetrics_fd(xt, yt):
    """torchmetrics' FrechetInceptionDistance after feature extraction: its float64 update + compute."""
    def stats(f):
        f = f.double()
        n = f.shape[0]
        s, c = f.sum(dim=0), f.t().mm(f)
        mean = (s / n).unsqueeze(0)
        return mean.squeeze(0), (c - n * mean.t().mm(mean)) / (n - 1)

    mu1, s1 = stats(xt)
    mu2, s2 = stats(yt)
    return _tm_compute_fid(mu1, s1, mu2, s2)


def _pytorch_fid(x, y, eps=1e-6):
    """pytorch-fid's ``calculate_frechet_distance`` on ``np.mean`` / ``np.cov`` (float64) statistics."""
    mu1, mu2 = np.mean(x, axis=0), np.mean(y, axis=0)
    sigma1, sigma2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    diff = mu1 - mu2
    covmean, _ = _sla.sqrtm(sigma1.dot(sigma2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = _sla.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    covmean = covmean.real
    return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)


def _gram_eigh(x):
    xc = x - jnp.mean(x, axis=0)
    c = jnp.matmul(xc.T, xc, precision=_HI) / (x.shape[0] - 1)
    return jnp.linalg.eigh(c)[0]


def _make_fd(d, rng, with_sqrtm=False):
    n = FD_SAMPLES
    x, y = _fd_data(n, d, rng)
    xj, yj = jnp.asarray(x), jnp.asarray(y)
    ours = harness.Jitted(frechet_distance, (xj, yj))
    peers = {"jaxmetrics float64": _compiled_x64(frechet_distance, x, y)}
    value32 = float(jax.jit(frechet_distance)(xj, yj))
    value64 = float(peers["jaxmetrics float64"]())
    if torch is not None:
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        peers["torchmetrics"] = lambda: _torchmetrics_fd(xt, yt)
        ref = float(peers["torchmetrics"]())
        np.testing.assert_allclose(value64, ref, rtol=1e-8)
        np.testing.assert_allclose(value32, ref, rtol=2e-3)
    if with_sqrtm and _sla is not None:
        peers["scipy (pytorch-fid)"] = lambda: _pytorch_fid(x, y)
        np.testing.assert_allclose(value64, _pytorch_fid(x, y), rtol=1e-6)
    metric = frechet_distance_metric(dim=d)
    state = metric.init()
    xb, yb = xj[:FD_BATCH], yj[:FD_BATCH]
    return harness.Setup(
        ours=ours,
        peers=peers,
        primitive=("XᵀX (n×d) + eigh (d×d)", harness.Jitted(_gram_eigh, (xj,))),
        memory=(f"streaming `update` (state + a {FD_BATCH:,}-row batch of each set)",
                harness.Jitted(lambda s, a, b: metric.update(s, a, b), (state, xb, yb)),
                f"one-shot `frechet_distance` on all {n:,} rows", ours),
    )


FRECHET = harness.Case(
    name="frechet_distance",
    sizes=(1024, 2048),
    quick_sizes=(256, 512),
    make=_make_fd,
    size_label="d",
    note=(f"Fréchet distance between two sets of n = {FD_SAMPLES:,} float32 feature vectors of dimension d "
          "(FID / FAD formula), **from the features**: every side computes both means and covariances and "
          "the trace term. jaxmetrics: `frechet_distance(x, y)` on float32 features (computes in float32: "
          "two-pass covariances, three d×d `eigh`); `jaxmetrics float64` is the same call on float64 copies "
          "(compiled with x64), the precision torchmetrics and pytorch-fid use. torchmetrics: its FID "
          "`update` statistics (features `.double()`, Σx, XᵀX) and `compute` → `_compute_fid` "
          "(`torch.linalg.eigvals` of Σ₁Σ₂, float64, default torch threads). The float32 jaxmetrics value "
          "agrees with torchmetrics to ~1e-3 relative (checked in `make`; the float64 one to 1e-8). Primitive: "
          "one centred Gram matrix XᵀX of a set plus one `eigh` of the d×d covariance, float32 — FD needs two "
          "of each (plus two d×d products), so ≈ 2–3× is the floor. Scaling is vs d at fixed n. Memory: the "
          "streaming state (Σw, Σwx, Σwxxᵀ per set, float32 here; float64 under x64) updated with a "
          f"{FD_BATCH:,}-row batch vs the one-shot on all rows. vmap: not measured (one large problem)."),
)

FRECHET_SQRTM = harness.Case(
    name="frechet_distance vs pytorch-fid",
    sizes=(512,),
    quick_sizes=(256,),
    make=lambda d, rng: _make_fd(d, rng, with_sqrtm=True),
    size_label="d",
    note=("The case above with the pytorch-fid formula added, at small d only: `np.mean`/`np.cov` (float64) "
          "and `scipy.linalg.sqrtm(Σ₁Σ₂)` (pytorch-fid's `calculate_frechet_distance`, its 1e-6 offset only "
          "on failure). `sqrtm` of the non-symmetric d×d product takes ~39 s at d = 1024 on this 2-core "
          "machine (and ~8× that at 2048), so it is timed at d = 512 only; the float64 jaxmetrics value "
          "agrees with it to 1e-6 (checked)."),
)


# --------------------------------------------------------------------------------------------------
# Vendi score

VENDI_DIM = 512


def _vendi_data(n, d, rng):
    """Samples around 64 random directions (so the score is far from both 1 and n)."""
    centres = rng.standard_normal((64, d)).astype(np.float32)
    labels = rng.integers(0, 64, n)
    return (centres[labels] + 0.7 * rng.standard_normal((n, d), dtype=np.float32)).astype(np.float32)


def _dual_floor(x):
    c = jnp.matmul(x.T, x, precision=_HI) / x.shape[0]
    return jnp.linalg.eigvalsh(c)


def _primal_floor(x):
    k = jnp.matmul(x, x.T, precision=_HI) / x.shape[0]
    return jnp.linalg.eigvalsh(k)


def _make_vendi(method):
    def make(n, rng):
        x = _vendi_data(n, VENDI_DIM, rng)
        xj = jnp.asarray(x)
        fn = lambda a: vendi_score(a, q=1, kernel="cosine", method=method)  # noqa: E731
        ours = harness.Jitted(fn, (xj,))
        peers = {}
        if _vendi is not None:
            if method == "dual":
                peers["vendi-score"] = lambda: _vendi.score_dual(x, q=1)
            else:
                peers["vendi-score"] = lambda: _vendi.score_X(x, q=1)
            np.testing.assert_allclose(float(jax.jit(fn)(xj)), float(peers["vendi-score"]()), rtol=2e-3)
        floor = _dual_floor if method == "dual" else _primal_floor
        label = "XᵀX + eigvalsh (d×d)" if method == "dual" else "XXᵀ + eigvalsh (n×n)"
        return harness.Setup(ours=ours, peers=peers, primitive=(label, harness.Jitted(floor, (xj,))))

    return make


VENDI_DUAL = harness.Case(
    name="vendi_score (dual)",
    sizes=(1000, 2000, 8000),
    quick_sizes=(1000, 2000),
    make=_make_vendi("dual"),
    size_label="n",
    note=(f"Vendi score of order q = 1 (exp of the von Neumann entropy) with the cosine kernel, n samples × "
          f"d = {VENDI_DIM} float32 features (the issue's size is n = 2,000). jaxmetrics: "
          "`vendi_score(x, q=1, kernel='cosine', method='dual')` (the d×d eigenproblem of the normalised "
          "rows, what `method='auto'` picks when d < n). vendi-score: `score_dual(X, q=1)` (sklearn "
          "`normalize`, XᵀX/n, `scipy.linalg.eigvalsh`, float32 numpy input). Values agree to 2e-3 relative "
          "(checked). Primitive: one XᵀX and one `eigvalsh` of the d×d matrix (float32) — the floor of the "
          "dual method. vmap: not measured (one problem of fixed shape)."),
)

VENDI_PRIMAL = harness.Case(
    name="vendi_score (primal)",
    sizes=(1000, 2000, 4000),
    quick_sizes=(500, 1000),
    make=_make_vendi("primal"),
    size_label="n",
    note=("As above with the n×n kernel: jaxmetrics `vendi_score(x, q=1, kernel='cosine', method='primal')` "
          "vs vendi-score `score_X(X, q=1)` (normalise, K = XXᵀ, `score_K` → `scipy.linalg.eigvalsh` of "
          "K/n, float32). The primal path is the one every non-linear kernel (rbf, laplacian, callables) "
          "takes. Primitive: XXᵀ + `eigvalsh` (n×n), float32."),
)


# --------------------------------------------------------------------------------------------------
# PRDC

PRDC_DIM = 512
PRDC_K = 5
PRDC_CHUNK = 1024


def _prdc_floor(real, fake):
    """The three distance matmuls PRDC cannot avoid (real·realᵀ, fake·fakeᵀ, real·fakeᵀ), reduced."""
    out = jnp.zeros((), real.dtype)
    for a, b in ((real, real), (fake, fake), (real, fake)):
        out = out + jnp.sum(jnp.min(jnp.matmul(a, b.T, precision=_HI), axis=1))
    return out


def _make_prdc(n, rng):
    d = PRDC_DIM
    real = rng.standard_normal((n, d), dtype=np.float32)
    fake = (1.1 * rng.standard_normal((n, d), dtype=np.float32) + 0.05).astype(np.float32)
    rj, fj = jnp.asarray(real), jnp.asarray(fake)
    chunked = lambda a, b: jm_prdc(a, b, k=PRDC_K, chunk_size=PRDC_CHUNK)  # noqa: E731
    whole = lambda a, b: jm_prdc(a, b, k=PRDC_K, chunk_size=None)  # noqa: E731
    ours = harness.Jitted(chunked, (rj, fj))
    whole_c = jax.jit(whole).lower(rj, fj).compile()
    peers = {"jaxmetrics chunk_size=None": lambda: whole_c(rj, fj)}
    got = np.array([float(v) for v in jax.jit(chunked)(rj, fj)])
    np.testing.assert_array_equal(got, np.array([float(v) for v in whole_c(rj, fj)]))
    if _compute_prdc is not None:
        def run_prdc():
            with contextlib.redirect_stdout(io.StringIO()):
                return _compute_prdc(real, fake, PRDC_K)

        peers["prdc"] = run_prdc
        ref = run_prdc()
        want = np.array([ref["precision"], ref["recall"], ref["density"], ref["coverage"]], dtype=float)
        # float32 distances on both sides, computed differently: allow a few boundary samples to flip
        np.testing.assert_allclose(got, want, rtol=0, atol=5.0 / n)
    return harness.Setup(
        ours=ours,
        peers=peers,
        primitive=("3 distance matmuls (n×d·d×n)", harness.Jitted(_prdc_floor, (rj, fj))),
        memory=(f"chunk_size={PRDC_CHUNK}", ours, "chunk_size=None", harness.Jitted(whole, (rj, fj))),
    )


PRDC_CASE = harness.Case(
    name="prdc",
    sizes=(2500, 5000, 10_000),
    quick_sizes=(1000, 2000),
    make=_make_prdc,
    size_label="N = M",
    note=(f"Precision, recall, density and coverage (k = {PRDC_K}, strict `<`, the `prdc` package's "
          f"convention) of N real vs M = N fake float32 samples, d = {PRDC_DIM} (the issue's size is "
          f"10⁴ × 10⁴ × 512). jaxmetrics: `prdc(real, fake, k=5, chunk_size={PRDC_CHUNK})` (never "
          "materialises an N×M matrix) and, as a second column, `chunk_size=None` (three full matrices). "
          "prdc: `compute_prdc(real, fake, nearest_k=5)` (sklearn `pairwise_distances`, n_jobs=8 threads, "
          "`np.argpartition`; its print silenced), float32 numpy. Values agree within 5/N (a few boundary "
          "samples may flip: both sides use float32 distances computed differently; checked in `make`). "
          "Primitive: the three N×d·d×N distance matmuls every exact PRDC needs, each reduced by a row "
          "`min` (the matmul floor). Memory: XLA's compiled memory of the chunked vs unchunked program at "
          "the same N. vmap: not measured."),
)


# --------------------------------------------------------------------------------------------------
# power-law alpha (WeightWatcher)


def _ww_alpha(W):
    """WeightWatcher's path for one layer: float64 SVD (``RMT_Util.svd_vals``), λ = σ², λ > 1e-5, WWFit."""
    sv = np.sort(_ww_svd_vals(W.astype(float)).flatten())
    evals = sv * sv
    evals = evals[evals > _WW_EVALS_THRESH]
    return _WWFit(evals).alpha


def _np32_alpha(W):
    """The same fit on float32 singular values from ``numpy.linalg.svd`` (sanity check only, not timed)."""
    sv = np.sort(np.linalg.svd(W, compute_uv=False))
    evals = sv.astype(np.float64) ** 2
    return _WWFit(evals[evals > _WW_EVALS_THRESH]).alpha


def _svdvals(W):
    return jnp.linalg.svd(W, compute_uv=False)


def _make_alpha(n, rng):
    W = (rng.standard_t(3.0, (n, n)) / math.sqrt(n)).astype(np.float32)  # heavy-tailed entries
    Wj = jnp.asarray(W)
    fn = lambda w: powerlaw_alpha(w).alpha  # noqa: E731
    ours = harness.Jitted(fn, (Wj,))
    peers = {}
    if _WWFit is not None:
        with contextlib.redirect_stdout(io.StringIO()):
            peers["weightwatcher (float64 SVD + WWFit)"] = lambda: _ww_alpha(W)
            got = float(jax.jit(fn)(Wj))
            np.testing.assert_allclose(got, _np32_alpha(W), rtol=1e-3)
            np.testing.assert_allclose(got, _ww_alpha(W), rtol=1e-2)
    return harness.Setup(ours=ours, peers=peers,
                         primitive=("jnp.linalg.svd (values only)", harness.Jitted(_svdvals, (Wj,))))


ALPHA = harness.Case(
    name="powerlaw_alpha",
    sizes=(1024, 2048, 4096),
    quick_sizes=(512, 1024),
    make=_make_alpha,
    size_label="n (W is n×n)",
    note=("Heavy-tailed self-regularisation α of an n×n float32 weight matrix with Student-t(3) entries, "
          "end-to-end from W (the issue's size is 4096 × 4096). jaxmetrics: `powerlaw_alpha(W).alpha` "
          "(float32 `svd(compute_uv=False)`, λ = σ², λ > 1e-5, the Clauset MLE with the KS-chosen λ_min over "
          "every candidate, fixed shapes, chunks of 512 candidates). weightwatcher: its own per-layer path "
          "(`W.astype(float)` → `RMT_Util.svd_vals` (float64 SVD) → σ² → λ > `EVALS_THRESH` → `WWFit`, a "
          "Python loop over the candidates); it casts W to float64, so its SVD does float64 work. α agrees to "
          "1e-3 with `WWFit` on numpy's float32 singular values and to 1e-2 with WeightWatcher's float64 "
          "path (checked in `make`, not timed). Primitive: `jnp.linalg.svd(W, compute_uv=False)` alone, "
          "float32 (the fit itself is negligible next to it). vmap: not measured."),
)


# --------------------------------------------------------------------------------------------------
# Hessian trace and top eigenvalues of an MLP

IN_DIM, CLASSES, BATCH = 256, 10, 256
NUM_PROBES = 100
TOP_K, LANCZOS_ITERS = 5, 100


def _width(num_params):
    """Hidden width h of the MLP 256 → h → h → 10 with h² + 268h + 10 = num_params parameters."""
    h = round((-268 + math.sqrt(268**2 - 4 * (10 - num_params))) / 2)
    assert h * h + 268 * h + 10 == num_params, (num_params, h)
    return h


def _mlp_problem(num_params, rng):
    h = _width(num_params)
    sizes = [IN_DIM, h, h, CLASSES]
    params = [(jnp.asarray(rng.standard_normal((a, b), dtype=np.float32) / math.sqrt(a)),
               jnp.asarray(0.1 * rng.standard_normal(b, dtype=np.float32)))
              for a, b in zip(sizes[:-1], sizes[1:])]
    batch = (jnp.asarray(rng.standard_normal((BATCH, IN_DIM), dtype=np.float32)),
             jnp.asarray(rng.integers(0, CLASSES, BATCH)))
    assert sum(w.size + b.size for w, b in params) == num_params
    return params, batch


def _loss(params, batch):
    x, labels = batch
    for w, b in params[:-1]:
        x = jnp.tanh(x @ w + b)
    w, b = params[-1]
    logits = x @ w + b
    logp = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))


def _hvp_flat(params, batch):
    flat, unravel = jax.flatten_util.ravel_pytree(params)

    def hvp(v):
        g = lambda p: jax.flatten_util.ravel_pytree(jax.grad(_loss)(unravel(p), batch))[0]  # noqa: E731
        return jax.jvp(g, (flat,), (v,))[1]

    return flat, hvp


def _one_hvp(params, batch, v):
    return jax.jvp(lambda p: jax.grad(_loss)(p, batch), (params,), (v,))[1]


def _hutchinson_loop(params, batch, key):
    """Hand-written Hutchinson: ``NUM_PROBES`` Rademacher probes, one HVP each, sequentially (lax.map)."""
    flat, hvp = _hvp_flat(params, batch)
    probes = jax.random.rademacher(key, (NUM_PROBES, flat.size), dtype=flat.dtype)
    return jnp.mean(lax.map(lambda v: jnp.vdot(v, hvp(v)), probes))


def _power_chain(params, batch, key):
    """``LANCZOS_ITERS`` sequential HVPs (power iteration): the dependency chain Lanczos cannot avoid."""
    flat, hvp = _hvp_flat(params, batch)
    v0 = jax.random.normal(key, flat.shape, flat.dtype)

    def step(_, v):
        w = hvp(v)
        return w / jnp.linalg.norm(w)

    v = lax.fori_loop(0, LANCZOS_ITERS, step, v0 / jnp.linalg.norm(v0))
    return jnp.vdot(v, hvp(v))


def _curvature_peers(params, batch, count):
    """``count`` jitted HVPs / gradients called one by one from Python (per-call time = column / count)."""
    v = jax.tree.map(jnp.ones_like, params)
    hvp_c = jax.jit(_one_hvp).lower(params, batch, v).compile()
    grad_c = jax.jit(jax.grad(_loss)).lower(params, batch).compile()
    return {f"{count} × 1 HVP (Python loop)": lambda: [hvp_c(params, batch, v) for _ in range(count)],
            f"{count} × 1 gradient (Python loop)": lambda: [grad_c(params, batch) for _ in range(count)]}


def _make_trace(num_params, rng):
    params, batch = _mlp_problem(num_params, rng)
    key = jax.random.key(0)
    fn = lambda p, b, k: hessian_trace(_loss, p, b, key=k, num_probes=NUM_PROBES)  # noqa: E731
    chunked = lambda p, b, k: hessian_trace(_loss, p, b, key=k, num_probes=NUM_PROBES, chunk_size=10)  # noqa: E731
    est = jax.jit(fn)(params, batch, key)
    hand = float(jax.jit(_hutchinson_loop)(params, batch, jax.random.key(1)))
    assert np.isfinite(float(est.estimate)) and float(est.std_error) > 0
    # two independent unbiased estimates of the same trace: within 6 standard errors (√2 for the 2nd one)
    assert abs(float(est.estimate) - hand) <= 6 * math.sqrt(2) * float(est.std_error), (est, hand)
    return harness.Setup(
        ours=harness.Jitted(fn, (params, batch, key)),
        peers=_curvature_peers(params, batch, NUM_PROBES),
        primitive=(f"{NUM_PROBES} HVPs (lax.map)", harness.Jitted(_hutchinson_loop, (params, batch, key))),
        memory=("chunk_size=10", harness.Jitted(chunked, (params, batch, key)),
                "chunk_size=None (all probes vmapped)", harness.Jitted(fn, (params, batch, key))),
    )


def _make_top(num_params, rng):
    params, batch = _mlp_problem(num_params, rng)
    key = jax.random.key(0)
    fn = lambda p, b, k: hessian_top_eigenvalues(_loss, p, b, key=k, k=TOP_K,  # noqa: E731
                                                 num_iters=LANCZOS_ITERS).eigenvalues
    lam = np.asarray(jax.jit(fn)(params, batch, key))
    rq = float(jax.jit(_power_chain)(params, batch, key))
    assert lam.shape == (TOP_K,) and np.all(np.isfinite(lam)) and np.all(np.diff(lam) <= 0), lam
    # any Rayleigh quotient is <= λ_max: the Lanczos top eigenvalue must not be below the power iterate's
    assert lam[0] >= rq - 1e-3 * abs(rq), (lam, rq)
    return harness.Setup(
        ours=harness.Jitted(fn, (params, batch, key)),
        peers=_curvature_peers(params, batch, LANCZOS_ITERS),
        primitive=(f"{LANCZOS_ITERS} sequential HVPs (power iteration)",
                   harness.Jitted(_power_chain, (params, batch, key))),
    )


_MLP_NOTE = (f"MLP {IN_DIM} → h → h → {CLASSES} (tanh, softmax cross-entropy) on a synthetic batch of {BATCH}; "
             "the size is the parameter count (h = 896 gives 1,042,954 ≈ 1M, the issue's size). No peer is "
             "installed (PyHessian is torch-only), so the columns are primitives of the same loss: as many "
             "jitted single Hessian-vector products (forward-over-reverse) or gradients as the estimator "
             "uses, called one by one from Python (one HVP's time = the column / that count; HVPs per "
             "second = its inverse). ")

HESSIAN_TRACE = harness.Case(
    name="hessian_trace",
    sizes=(250_378, 1_042_954),
    quick_sizes=(15_178, 50_698),
    make=_make_trace,
    size_label="params",
    note=(_MLP_NOTE + f"jaxmetrics: `hessian_trace(loss, params, batch, key=key, num_probes={NUM_PROBES})` "
          "(Hutchinson, Rademacher probes, all probes vmapped: `chunk_size=None`). Primitive: a hand-written "
          f"Hutchinson with {NUM_PROBES} HVPs one after the other (`lax.map`), so `jaxmetrics / primitive` is "
          f"trace time / ({NUM_PROBES} × HVP time); both estimates agree within their standard error "
          "(checked). Memory: `chunk_size=10` vs all probes at once. vmap: not measured."),
)

HESSIAN_TOP = harness.Case(
    name="hessian_top_eigenvalues",
    sizes=(250_378, 1_042_954),
    quick_sizes=(15_178, 50_698),
    make=_make_top,
    size_label="params",
    note=(_MLP_NOTE + f"jaxmetrics: `hessian_top_eigenvalues(loss, params, batch, key=key, k={TOP_K}, "
          f"num_iters={LANCZOS_ITERS})` (Lanczos, full CGS2 reorthogonalisation, basis {LANCZOS_ITERS} × dim). "
          f"Primitive: {LANCZOS_ITERS} sequential HVPs (power iteration, normalised each step) — the "
          "dependency chain any Krylov method of that length pays; the rest is reorthogonalisation. "
          "Checked: λ₁ ≥ the power iterate's Rayleigh quotient. vmap: not measured."),
)


CASES = [FRECHET, FRECHET_SQRTM, VENDI_DUAL, VENDI_PRIMAL, PRDC_CASE, ALPHA, HESSIAN_TRACE, HESSIAN_TOP]
