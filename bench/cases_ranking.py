"""Benchmark cases: NDCG@10 and MRR over queries × items, Spearman's rank correlation, ensemble CRPS.

Peers: scikit-learn ``ndcg_score``, torchmetrics functional retrieval metrics (per query: a Python loop over
the queries is torchmetrics' honest cost for a batch of queries), ``spearman_corrcoef`` and
``continuous_ranked_probability_score``, metrax ``NDCGAtK`` / ``MRR``, scipy ``spearmanr``, scoringrules
``crps_ensemble`` (numpy and numba backends) and properscoring ``crps_ensemble``.
"""

from __future__ import annotations

import numpy as np

import jax
import jax.numpy as jnp

from harness import Case, Jitted, Setup
from cases_classification import SEEDS, _jit_warm, sort_int32_keys

import jaxmetrics.ranking as jrk
import jaxmetrics.scoring as jsc

try:
    import sklearn.metrics as skm
except ImportError:  # pragma: no cover
    skm = None
try:
    import scipy.stats as sps
except ImportError:  # pragma: no cover
    sps = None
try:
    import torch
    import torchmetrics.functional as tmf
except ImportError:  # pragma: no cover
    torch = tmf = None
try:
    from torchmetrics.functional.regression.crps import continuous_ranked_probability_score as tm_crps
except ImportError:  # pragma: no cover
    tm_crps = None
try:
    import metrax
except ImportError:  # pragma: no cover
    metrax = None
try:
    import scoringrules
except ImportError:  # pragma: no cover
    scoringrules = None
try:
    import properscoring
except ImportError:  # pragma: no cover
    properscoring = None

N_ITEMS = 100
K = 10
QUERY_BATCH = 1_000  # streaming update batch (queries) of the memory comparison
MEMBERS = 50
OBS_BATCH = 10_000


# --------------------------------------------------------------------------------------------------
# NDCG@10 / MRR on Q queries × 100 items


def _query_data(q: int, rng: np.random.Generator):
    """Tie-free float32 scores (a random permutation of 0..99 plus a jitter < 0.5, / 100) and binary
    relevance (~10 % relevant, at least one relevant item per query), both ``[q, 100]``."""
    perm = rng.permuted(np.tile(np.arange(N_ITEMS, dtype=np.float32), (q, 1)), axis=1)
    scores = ((perm + 0.5 * rng.random((q, N_ITEMS), dtype=np.float32)) / N_ITEMS).astype(np.float32)
    rel = (rng.random((q, N_ITEMS)) < 0.1).astype(np.int32)
    rel[np.arange(q), rng.integers(0, N_ITEMS, q)] = 1
    return scores, rel


def _torch_rows(scores, rel):
    s, r = torch.from_numpy(scores), torch.from_numpy(rel.astype(np.int64))
    return list(zip(s.unbind(0), r.unbind(0)))


def _ndcg_make(q: int, rng: np.random.Generator) -> Setup:
    s, r = _query_data(q, rng)
    sj, rj = jnp.asarray(s), jnp.asarray(r)
    f = lambda a, b: jrk.ndcg(a, b, k=K)  # noqa: E731  (linear gain, ties="average", ideal from candidates)
    ours = Jitted(f, (sj, rj))
    ours_val = float(jax.jit(f)(sj, rj))
    peers = {}
    if skm is not None:
        np.testing.assert_allclose(ours_val, skm.ndcg_score(r, s, k=K), rtol=1e-4, err_msg="NDCG vs scikit-learn")
        peers["scikit-learn"] = lambda: skm.ndcg_score(r, s, k=K)
    if tmf is not None:
        rows = _torch_rows(s, r)

        def tm():
            return torch.stack([tmf.retrieval_normalized_dcg(a, b, top_k=K) for a, b in rows]).mean()

        np.testing.assert_allclose(ours_val, float(tm()), rtol=1e-4, err_msg="NDCG vs torchmetrics")
        peers["torchmetrics (loop over queries)"] = tm
    if metrax is not None:
        ks = jnp.asarray([K])
        mx = _jit_warm(lambda a, b: metrax.NDCGAtK.from_model_output(a, b, ks).compute()[0], sj, rj)
        np.testing.assert_allclose(ours_val, float(mx()), rtol=1e-4, err_msg="NDCG vs metrax")
        peers["metrax"] = mx
    setup = Setup(ours=ours, peers=peers, primitive=("sort(int32 keys) per query", Jitted(sort_int32_keys, (sj,))))
    m = jrk.ndcg_metric(k=K)
    b = min(QUERY_BATCH, q)
    setup.memory = (f"`ndcg_metric.update` (state + a {b:,}-query batch)",
                    Jitted(lambda st, a, c: m.update(st, a, c), (m.init(), sj[:b], rj[:b])),
                    "one-shot `ndcg` on all queries", ours)
    return setup


def _mrr_make(q: int, rng: np.random.Generator) -> Setup:
    s, r = _query_data(q, rng)
    sj, rj = jnp.asarray(s), jnp.asarray(r)
    f = lambda a, b: jrk.mean_reciprocal_rank(a, b)  # noqa: E731  (k=None: the whole list)
    ours = Jitted(f, (sj, rj))
    ours_val = float(jax.jit(f)(sj, rj))
    peers = {}
    if tmf is not None:
        rows = _torch_rows(s, r)

        def tm():
            return torch.stack([tmf.retrieval_reciprocal_rank(a, b) for a, b in rows]).mean()

        np.testing.assert_allclose(ours_val, float(tm()), rtol=1e-4, err_msg="MRR vs torchmetrics")
        peers["torchmetrics (loop over queries)"] = tm
    if metrax is not None:
        ks = jnp.asarray([N_ITEMS])
        mx = _jit_warm(lambda a, b: metrax.MRR.from_model_output(a, b, ks).compute()[0], sj, rj)
        np.testing.assert_allclose(ours_val, float(mx()), rtol=1e-4, err_msg="MRR vs metrax")
        peers["metrax"] = mx
    setup = Setup(ours=ours, peers=peers, primitive=("sort(int32 keys) per query", Jitted(sort_int32_keys, (sj,))))
    m = jrk.mean_reciprocal_rank_metric()
    b = min(QUERY_BATCH, q)
    setup.memory = (f"`mean_reciprocal_rank_metric.update` (state + a {b:,}-query batch)",
                    Jitted(lambda st, a, c: m.update(st, a, c), (m.init(), sj[:b], rj[:b])),
                    "one-shot `mean_reciprocal_rank` on all queries", ours)
    return setup


_QUERY_NOTE = (
    f"Q queries × {N_ITEMS} items: tie-free float32 scores, binary int32 relevance (~10 % relevant, ≥ 1 per "
    "query), so every library's gain (linear vs metrax's 2^rel − 1), tie rule and empty-query convention "
    "coincide; values checked equal (rtol 1e-4). torchmetrics' retrieval functions take one query at a "
    "time: the column is a Python loop over the Q queries (pre-split CPU tensors), its honest cost for a "
    "batch of queries. metrax is jitted here (compiled before timing). Primitive: `jnp.sort` of the "
    "int32 keys of the scores along the item axis.")


# --------------------------------------------------------------------------------------------------
# Spearman


def _pair(n: int, rng: np.random.Generator):
    x = rng.standard_normal(n, dtype=np.float32)
    y = (0.5 * x + rng.standard_normal(n, dtype=np.float32)).astype(np.float32)
    return x, y


def _spearman_make(n: int, rng: np.random.Generator) -> Setup:
    x, y = _pair(n, rng)
    xj, yj = jnp.asarray(x), jnp.asarray(y)
    ours = Jitted(lambda a, b: jrk.spearman(a, b), (xj, yj))
    ours_val = float(jax.jit(jrk.spearman)(xj, yj))
    peers = {}
    if sps is not None:
        np.testing.assert_allclose(ours_val, sps.spearmanr(x, y).statistic, rtol=1e-4, err_msg="Spearman vs scipy")
        peers["scipy"] = lambda: sps.spearmanr(x, y).statistic
    if tmf is not None:
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        np.testing.assert_allclose(ours_val, float(tmf.spearman_corrcoef(xt, yt)), rtol=1e-4,
                                   err_msg="Spearman vs torchmetrics")
        peers["torchmetrics"] = lambda: tmf.spearman_corrcoef(xt, yt)
    xy = jnp.stack([xj, yj])
    setup = Setup(ours=ours, peers=peers, primitive=("sort(int32 keys of x and y)", Jitted(sort_int32_keys, (xy,))))
    if n == 10_000:
        xs, ys = zip(*(_pair(n, np.random.default_rng(1000 + i)) for i in range(SEEDS)))
        xb, yb = jnp.asarray(np.stack(xs)), jnp.asarray(np.stack(ys))
        setup.vmap = (Jitted(jax.vmap(jrk.spearman), (xb, yb)), Jitted(jrk.spearman, (xb[0], yb[0])))
    return setup


# --------------------------------------------------------------------------------------------------
# CRPS ensemble


def _ensemble(n: int, rng: np.random.Generator):
    obs = rng.standard_normal(n, dtype=np.float32)
    fct = (0.3 * obs[:, None] + rng.standard_normal((n, MEMBERS), dtype=np.float32)).astype(np.float32)
    return fct, obs


def _crps_make(n: int, rng: np.random.Generator) -> Setup:
    fct, obs = _ensemble(n, rng)
    fj, oj = jnp.asarray(fct), jnp.asarray(obs)
    f = lambda a, b: jsc.crps_ensemble(a, b, estimator="nrg")  # noqa: E731
    ours = Jitted(f, (fj, oj))
    ours_val = float(jax.jit(f)(fj, oj))
    peers = {}
    if scoringrules is not None:
        for backend in ("numpy", "numba"):
            try:
                g = (lambda backend=backend: scoringrules.crps_ensemble(obs, fct, estimator="nrg",
                                                                        backend=backend).mean())
                np.testing.assert_allclose(ours_val, g(), rtol=1e-4, err_msg=f"CRPS vs scoringrules ({backend})")
            except (ImportError, ValueError, KeyError):  # backend unavailable
                continue
            peers[f"scoringrules ({backend})"] = g
    if properscoring is not None:
        np.testing.assert_allclose(ours_val, properscoring.crps_ensemble(obs, fct).mean(), rtol=1e-4,
                                   err_msg="CRPS vs properscoring")
        peers["properscoring"] = lambda: properscoring.crps_ensemble(obs, fct).mean()
    if tm_crps is not None:
        ft, ot = torch.from_numpy(fct), torch.from_numpy(obs)
        np.testing.assert_allclose(ours_val, float(tm_crps(ft, ot)), rtol=1e-4, err_msg="CRPS vs torchmetrics")
        peers["torchmetrics"] = lambda: tm_crps(ft, ot)
    setup = Setup(ours=ours, peers=peers,
                  primitive=("sort(int32 keys) along members", Jitted(sort_int32_keys, (fj,))))
    if n == 10_000:
        fs, os_ = zip(*(_ensemble(n, np.random.default_rng(1000 + i)) for i in range(SEEDS)))
        fb, ob = jnp.asarray(np.stack(fs)), jnp.asarray(np.stack(os_))
        setup.vmap = (Jitted(jax.vmap(f), (fb, ob)), Jitted(f, (fb[0], ob[0])))
    m = jsc.crps_ensemble_metric(estimator="nrg")
    b = min(OBS_BATCH, n)
    setup.memory = (f"`crps_ensemble_metric.update` (state + a {b:,}-obs batch)",
                    Jitted(lambda st, a, c: m.update(st, a, c), (m.init(), fj[:b], oj[:b])),
                    "one-shot `crps_ensemble` on all N", ours)
    return setup


CASES = [
    Case(f"ndcg@{K}", (1_000, 10_000), (1_000, 10_000), _ndcg_make, size_label="Q", note=(
        f"nDCG@{K} (scikit-learn `ndcg_score(k={K})` conventions: linear gain, ties averaged, IDCG from the "
        "candidates; jaxmetrics `ndcg(k=10)`). " + _QUERY_NOTE)),
    Case("mrr", (1_000, 10_000), (1_000, 10_000), _mrr_make, size_label="Q", note=(
        "Mean reciprocal rank over the whole list (jaxmetrics `mean_reciprocal_rank`, torchmetrics "
        f"`retrieval_reciprocal_rank`, metrax `MRR` with ks=[{N_ITEMS}]); scikit-learn has no MRR. " + _QUERY_NOTE)),
    Case("spearman", (10_000, 100_000, 1_000_000), (10_000, 100_000), _spearman_make, note=(
        "Spearman's ρ of float32 x ~ N(0,1), y = 0.5x + N(0,1) (average ranks for ties): scipy "
        "`spearmanr` (float64 internally), torchmetrics `spearman_corrcoef`; values checked (rtol 1e-4). "
        "Primitive: one `jnp.sort` of the int32 keys of x and y ([2, N], along N); jaxmetrics sorts twice "
        "(rank, then back to input order), each a 3-operand sort.")),
    Case(f"crps_ensemble (M={MEMBERS})", (10_000, 100_000), (10_000,), _crps_make, note=(
        f"CRPS of a {MEMBERS}-member float32 ensemble, `estimator='nrg'` (the CRPS of the empirical CDF; "
        "properscoring's and torchmetrics' definition, scoringrules `estimator='nrg'`), mean over N "
        "observations; values checked (rtol 1e-4). scoringrules with its numpy and numba backends (numba "
        "compiled before timing); torchmetrics `continuous_ranked_probability_score` builds the [N, M, M] "
        "pairwise tensor. Primitive: `jnp.sort` of the int32 keys of the forecasts along the members. "
        "Memory: the streaming (Σ score, Σ w) state with a 10⁴-observation batch vs the one-shot.")),
]
