#!/usr/bin/env python
"""Regenerates the small real-data examples shipped in ``jaxmetrics/data/``.

Run from the repository root (needs scikit-learn, from the ``[test]`` extra; no network access —
both source datasets are bundled inside scikit-learn)::

    python scripts/make_embedded_data.py            # writes jaxmetrics/data/*.npz
    python scripts/make_embedded_data.py --check    # regenerates in memory, compares with the files

Every step is deterministic (fixed seeds, deterministic solvers), so re-running it with the same
scikit-learn / numpy versions reproduces the committed files bit for bit; ``--check`` verifies that
(to 1e-5 for floating-point arrays, exactly for integer arrays). Provenance, licences and the exact
contents of every file are documented in ``jaxmetrics/data/README.md``.

Files (the keys are the ``jaxmetrics report`` input keys of each task):

* ``digits.npz`` — the scikit-learn copy of the UCI handwritten digits: ``pixels`` uint8 [1797, 64]
  (0..16), ``labels`` uint8 [1797].
* ``classification.npz`` — ``probs`` float32 [600, 10], ``labels`` int32 [600]: a deliberately
  over-confident classifier (weakly regularised multinomial logistic regression, C = 1e4, fitted on
  only 200 digits) evaluated on 600 held-out digits.
* ``ranking.npz`` — ``scores`` float32 [100, 100], ``relevance`` uint8 [100, 100]: digit retrieval;
  100 held-out query digits, 100 random gallery digits per query, cosine similarity in a 16-D PCA space
  fitted on the gallery, relevance = same class.
* ``forecast.npz`` — ``ensemble`` float32 [148, 50], ``obs`` float32 [148]: the diabetes progression
  target of 148 held-out patients, forecast by 50 bootstrap ridge regressions, each adding one draw of
  its own Gaussian residual noise.
* ``generative.npz`` — ``real`` float32 [300, 16], ``fake`` float32 [300, 16]: 300 held-out digits in
  a 16-D PCA space vs 300 samples of a 10-component Gaussian mixture fitted in that space on the
  other digits.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[1] / "jaxmetrics" / "data"
SEED = 0


def _digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    pixels = d.data.astype(np.uint8)  # integer grey levels 0..16
    assert np.array_equal(pixels, d.data), "digits pixels are not integers"
    return pixels, d.target.astype(np.uint8)


def make_digits():
    pixels, labels = _digits()
    return {"pixels": pixels, "labels": labels}


def make_classification():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    pixels, labels = _digits()
    x = pixels.astype(np.float64) / 16.0
    x_tr, x_te, y_tr, y_te = train_test_split(x, labels, train_size=200, test_size=600, stratify=labels,
                                              random_state=SEED)
    # Nearly unregularised on a small training set: separable data, so the logits grow large and the
    # model is over-confident on held-out digits (mean confidence ~0.98 vs accuracy ~0.92).
    model = LogisticRegression(C=1e4, max_iter=10_000)
    model.fit(x_tr, y_tr)
    logp = model.predict_log_proba(x_te)
    probs = np.exp(logp - logp.max(axis=1, keepdims=True))
    probs = (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)
    return {"probs": probs, "labels": y_te.astype(np.int32)}


def make_ranking(num_queries=100, num_candidates=100, dim=16):
    from sklearn.decomposition import PCA
    from sklearn.model_selection import train_test_split

    pixels, labels = _digits()
    x = pixels.astype(np.float64) / 16.0
    x_gal, x_q, y_gal, y_q = train_test_split(x, labels, test_size=num_queries, stratify=labels,
                                              random_state=SEED)
    pca = PCA(n_components=dim, svd_solver="full").fit(x_gal)
    z_gal, z_q = pca.transform(x_gal), pca.transform(x_q)
    z_gal /= np.linalg.norm(z_gal, axis=1, keepdims=True)
    z_q /= np.linalg.norm(z_q, axis=1, keepdims=True)
    rng = np.random.default_rng(SEED)
    cand = np.stack([rng.choice(len(x_gal), size=num_candidates, replace=False) for _ in range(num_queries)])
    scores = np.einsum("qd,qnd->qn", z_q, z_gal[cand]).astype(np.float32)
    relevance = (y_gal[cand] == y_q[:, None]).astype(np.uint8)
    return {"scores": scores, "relevance": relevance}


def make_forecast(num_members=50, alpha=1.0):
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import train_test_split

    x, y = load_diabetes(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=148, random_state=SEED)
    rng = np.random.default_rng(SEED)
    members = []
    for _ in range(num_members):
        idx = rng.integers(0, len(x_tr), size=len(x_tr))  # bootstrap resample of the training patients
        model = Ridge(alpha=alpha).fit(x_tr[idx], y_tr[idx])
        resid = y_tr[idx] - model.predict(x_tr[idx])
        sigma = np.sqrt(np.sum(resid**2) / (len(idx) - x.shape[1] - 1))
        members.append(model.predict(x_te) + sigma * rng.standard_normal(len(x_te)))
    ensemble = np.stack(members, axis=1).astype(np.float32)
    return {"ensemble": ensemble, "obs": y_te.astype(np.float32)}


def make_generative(num_real=300, num_fake=300, dim=16, components=10):
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture
    from sklearn.model_selection import train_test_split

    pixels, labels = _digits()
    x = pixels.astype(np.float64) / 16.0
    x_fit, x_real = train_test_split(x, test_size=num_real, stratify=labels, random_state=SEED)
    pca = PCA(n_components=dim, svd_solver="full").fit(x_fit)
    z_fit, z_real = pca.transform(x_fit), pca.transform(x_real)
    gmm = GaussianMixture(n_components=components, covariance_type="full", random_state=SEED).fit(z_fit)
    fake, _ = gmm.sample(num_fake)
    perm = np.random.default_rng(SEED).permutation(num_fake)  # gmm.sample groups rows by component
    return {"real": z_real.astype(np.float32), "fake": fake[perm].astype(np.float32)}


MAKERS = {
    "digits": make_digits,
    "classification": make_classification,
    "ranking": make_ranking,
    "forecast": make_forecast,
    "generative": make_generative,
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    parser.add_argument("--out", type=pathlib.Path, default=OUT, help=f"output folder (default {OUT})")
    args = parser.parse_args(argv)
    ok = True
    for name, make in MAKERS.items():
        arrays = make()
        path = args.out / f"{name}.npz"
        if args.check:
            with np.load(path, allow_pickle=False) as f:
                stored = {k: f[k] for k in f.files}
            same = stored.keys() == arrays.keys() and all(
                stored[k].dtype == v.dtype and stored[k].shape == v.shape
                and (np.allclose(stored[k], v, rtol=1e-5, atol=1e-5) if v.dtype.kind == "f"
                     else np.array_equal(stored[k], v))
                for k, v in arrays.items())
            ok &= same
            print(f"{path.name}: {'matches' if same else 'DIFFERS'}")
        else:
            args.out.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(path, **arrays)
            shapes = ", ".join(f"{k} {v.dtype}{list(v.shape)}" for k, v in arrays.items())
            print(f"wrote {path} ({path.stat().st_size / 1024:.1f} KiB): {shapes}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
