"""A sweep folder (results.sqlite) as input: read through the sweep export, analysed end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scaletime.analysis import analyze
from scaletime.engine import Measurement
from scaletime.sweep.plan import plan_runs
from scaletime.sweep.spec import parse_spec
from scaletime.sweep.store import ResultStore
from scaletime.table import read_table
from scaletime.theory import unified_error

SPEC = parse_spec(
    {"seeds": [0, 1, 2], "model": {"widths": [4, 8, 16, 32, 64]}, "data": {"dataset": "digits"}}
)


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory, law_params) -> Path:
    """Measurements from the law (equivalence holds), one run diverging half-way."""
    folder = tmp_path_factory.mktemp("sweep") / "demo"
    rng = np.random.default_rng(0)
    epochs = np.concatenate([[0.0], np.geomspace(0.1, 1000.0, 30)])
    with ResultStore(folder, create=True) as store:
        store.attach_spec(SPEC)
        runs = plan_runs(SPEC)
        store.register_runs(runs, {r.key: r.width**2 for r in runs})
        diverging = runs[0].key
        for run in runs:
            speed = np.exp(0.02 * rng.standard_normal())
            error = unified_error(
                run.width**2, epochs * speed, np.inf, 0.0, gamma=1 / 3, q=1e6, **law_params
            )
            error = error + 0.002 * rng.standard_normal(epochs.size)
            for step, (epoch, value) in enumerate(zip(epochs, error, strict=True)):
                diverged = run.key == diverging and step == 20
                row = Measurement(
                    key=run.key, epoch=float(epoch), step=step, examples_seen=step * 100,
                    train_loss=float(value), test_loss=float(value), train_error=float(value),
                    test_error=float("nan") if diverged else float(value),
                    wall_time=0.0, diverged=diverged,
                )  # fmt: skip
                store.write_checkpoint([row], finished=[run.key] if step == 30 else [])
                if diverged:
                    break
    return folder


def test_sweep_folder_is_read_and_analysed(sweep_folder: Path) -> None:
    table = read_table(sweep_folder)
    assert {"run_id", "n_params", "epoch", "test_error", "optimizer", "base_lr"} <= set(table)
    result = analyze(sweep_folder, n_boot=100)
    (setting,) = result.settings
    assert setting.setting["dataset"] == "digits"
    assert any("diverged" in note for note in result.notes)
    assert len(setting.runs) == 15
    assert abs(setting.exponents["size"].gamma_ - 1 / 3) / (1 / 3) < 0.05
    # width scale: N = width², so the width exponent is twice the N exponent
    assert setting.exponents["width"].gamma_ == pytest.approx(2 * setting.exponents["size"].gamma_)
    assert setting.verdict == "holds"
