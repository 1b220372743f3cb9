"""``jaxmetrics demo``: one quick in-process run (8 seeds, vmapped) and its bad-argument handling.

The run goes through the real command line (``main(["demo", "--quick", ...])``) while a spy on
:func:`jaxmetrics.cli.demo.run_demo` keeps the per-seed arrays it returned, so the printed numbers and
the claims of the demo are checked against those arrays with independent numpy code:

* the output shows every metric as mean ± std over the 8 seeds, with a nonzero std (seed variance);
* the exact ECE of the returned test and validation probabilities — recomputed here with a numpy
  top-label ECE (15 equal-width right-open bins, torchmetrics' convention) — is lower after the
  soft-ECE fine-tuning than before, on average and on most seeds, and matches what was printed;
* the metrics recorded inside the jitted train step (validation accuracy, ECE, NLL, Brier) equal the
  numpy formulas on the returned probabilities of the same network;
* the step counts are not multiples of ``--log-every`` (280 and 80 with chunks of 50), so the masked
  last chunk is exercised: the histories have exactly those lengths.

The run is a single test (about 10–20 s), so that pytest-xdist never repeats it on two workers. Bad
arguments must exit with status 2 before anything is computed.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from jaxmetrics.cli import demo, main

SEEDS = 8
STEPS, FINETUNE_STEPS = 280, 80


def _numpy_ece(probs, labels, num_bins=15):
    """Top-label ECE, bins [b/B, (b+1)/B) plus one bin for confidence exactly 1 (float64)."""
    probs = np.asarray(probs, dtype=np.float64)
    conf = probs.max(-1)
    correct = (probs.argmax(-1) == labels).astype(np.float64)
    idx = np.where(conf >= 1.0, num_bins, np.floor(conf * num_bins).astype(int))
    gaps = np.zeros(num_bins + 1)
    np.add.at(gaps, idx, correct - conf)
    return np.abs(gaps).sum() / len(conf)


def test_quick_demo(capsys, monkeypatch):
    """The one (costly) run, checked by the helpers below — a single test, so that pytest-xdist never
    runs it twice on two workers."""
    captured = {}
    original = demo.run_demo

    def spy(*args, **kwargs):  # keeps the per-seed arrays behind the printed report
        captured["result"] = original(*args, **kwargs)
        return captured["result"]

    monkeypatch.setattr(demo, "run_demo", spy)
    rc = main(["demo", "--quick", "--steps", str(STEPS), "--finetune-steps", str(FINETUNE_STEPS)])
    text, result = capsys.readouterr().out, captured["result"]
    assert rc == 0
    _check_run(text, result)
    _check_output_shows_mean_and_std_over_the_seeds(text, result)
    for split in ("test", "val"):
        _check_exact_ece_drops_after_finetuning(text, result, split)
    _check_in_step_metrics_against_numpy(result)


def _check_run(text, result):
    assert result.config.seeds == SEEDS and result.config.steps == STEPS
    h, f = result.train_history, result.finetune_history
    assert h.val_ece.shape == (SEEDS, STEPS) and f.val_ece.shape == (SEEDS, FINETUNE_STEPS)
    for history in (h, f):
        for name, values in history._asdict().items():
            assert np.isfinite(values).all(), name
    assert list(result.train_checkpoint_steps) == [50, 100, 150, 200, 250, 280]
    assert list(result.finetune_checkpoint_steps) == [50, 80]
    # the soft-ECE term is off while training and on while fine-tuning
    assert (h.soft_ece == 0).all() and (f.soft_ece > 0).all()
    # the network learns: validation accuracy at the end of training well above chance, per seed
    assert (result.metrics["val_before"].accuracy > 0.9).all()
    for phase in ("Phase wall times", "compile", "train", "fine-tune", "Total"):
        assert phase in text


def _check_output_shows_mean_and_std_over_the_seeds(text, result):
    assert f"{SEEDS} seeds" in text
    before = result.metrics["test_before"]
    row = re.search(r"^\s+accuracy\s+([\d.]+) ± ([\d.]+)\s+([\d.]+) ± ([\d.]+)\s*$", text, re.M)
    assert row, text
    val_mean, val_std, test_mean, test_std = map(float, row.groups())
    acc = np.asarray(before.accuracy, dtype=np.float64)
    assert test_mean == pytest.approx(acc.mean(), abs=6e-5)
    assert test_std == pytest.approx(acc.std(), abs=6e-5)
    assert val_mean == pytest.approx(np.mean(result.metrics["val_before"].accuracy), abs=6e-5)
    # seed variance: the runs differ (std > 0 is printed, and the per-seed values are not all equal)
    assert val_std > 0 and test_std > 0
    assert len(set(np.round(acc, 6))) > 1
    ece_stds = [float(s) for s in re.findall(r"ECE\s+[\d.]+ ± ([\d.]+)", text)]
    assert ece_stds and all(s > 0 for s in ece_stds)


def _check_exact_ece_drops_after_finetuning(text, result, split):
    labels = result.labels[split]
    before = np.array([_numpy_ece(p, labels) for p in result.probs[f"{split}_before"]])
    after = np.array([_numpy_ece(p, labels) for p in result.probs[f"{split}_after"]])
    # the library's ECE (reported) agrees with the numpy oracle on the same probabilities
    np.testing.assert_allclose(result.metrics[f"{split}_before"].ece, before, atol=1e-5)
    np.testing.assert_allclose(result.metrics[f"{split}_after"].ece, after, atol=1e-5)
    # label smoothing leaves the network under-confident: a large ECE that fine-tuning removes
    assert before.mean() > 0.08
    assert after.mean() < 0.6 * before.mean()
    assert (after < before).sum() >= SEEDS - 1
    # the printed line: "<split>  before ± std → after ± std   lower on k/8 seeds"
    name = {"test": "test", "val": "validation"}[split]
    pattern = rf"^\s+{name}\s+([\d.]+) ± [\d.]+ → ([\d.]+) ± [\d.]+\s+lower on (\d+)/{SEEDS} seeds"
    row = re.search(pattern, text, re.M)
    assert row, text
    assert float(row.group(1)) == pytest.approx(before.mean(), abs=6e-5)
    assert float(row.group(2)) == pytest.approx(after.mean(), abs=6e-5)
    assert int(row.group(3)) == int((after < before).sum())


def _check_in_step_metrics_against_numpy(result):
    # the first fine-tuning step records the metrics of the parameters it starts from: the trained
    # network, whose validation probabilities the run returned
    f, labels, probs = result.finetune_history, result.labels["val"], result.probs["val_before"]
    np.testing.assert_allclose(f.val_ece[:, 0], [_numpy_ece(p, labels) for p in probs], atol=1e-5)
    np.testing.assert_allclose(f.val_accuracy[:, 0], (probs.argmax(-1) == labels).mean(-1), atol=1e-6)
    picked = np.take_along_axis(probs.astype(np.float64), labels[None, :, None], -1)[..., 0]
    np.testing.assert_allclose(f.val_nll[:, 0], -np.log(picked).mean(-1), rtol=1e-4)
    brier = ((probs - np.eye(10)[labels]) ** 2).sum(-1).mean(-1)
    np.testing.assert_allclose(f.val_brier[:, 0], brier, rtol=1e-4)
    # the checkpoint after the last training chunk is the same network
    np.testing.assert_allclose(result.train_checkpoints.ece[:, -1], result.metrics["val_before"].ece, atol=1e-6)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--seeds", "0"], "--seeds must be >= 1"),
        (["--steps", "-3"], "--steps must be >= 1"),
        (["--finetune-steps", "-1"], "--finetune-steps must be >= 0"),
        (["--log-every", "0"], "--log-every must be >= 1"),
        (["--lr", "0"], "--lr must be a positive number"),
        (["--label-smoothing", "1.0"], "--label-smoothing must be in [0, 1)"),
        (["--ece-weight", "-1"], "--ece-weight must be >= 0"),
        (["--soft-temperature", "nan"], "--soft-temperature must be a positive number"),
    ],
)
def test_bad_arguments_exit_2_before_computing(argv, message, capsys, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("run_demo must not run on bad arguments")

    monkeypatch.setattr(demo, "run_demo", fail)
    assert main(["demo", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxmetrics demo: error: ") and message in err


def test_non_integer_argument_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--seeds", "many"])
    assert exc.value.code == 2
    assert "--seeds" in capsys.readouterr().err
