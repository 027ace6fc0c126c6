"""End to end: a real `scaletime run` subprocess, killed with SIGKILL mid-sweep and re-run, ends
with exactly the rows of an uninterrupted run; export round-trips; diverging runs are recorded."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scaletime.sweep.executor import run_sweep
from scaletime.sweep.export import export_table, load_table
from scaletime.sweep.spec import load_spec

SPEC_TOML = """
name = "resume-test"
seeds = [0, 1]
[data]
dataset = "digits"
sizes = [600]
[model]
arch = "mlp"
widths = [2, 8]
[train]
optimizer = "sgd"
lr = [0.05]
batch_size = 16
epochs = 40
checkpoints = 8
first_checkpoint = 0.1
[execution]
device = "cpu"
unit_max_members = 1
"""

KEY_COLS = ["run_key", "step", "epoch", "examples_seen"]
VALUE_COLS = ["train_loss", "test_loss", "train_error", "test_error"]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "scaletime", *args]


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as c:
            return c.execute("SELECT COUNT(*) FROM measurements").fetchone()[0]
    except sqlite3.Error:
        return 0


def _start_run(spec_file: Path, out: Path, env: dict) -> subprocess.Popen:
    """``scaletime run SPEC --out OUT`` in a child process (stderr kept)."""
    return subprocess.Popen(
        _cli("run", str(spec_file), "--out", str(out), "--no-progress"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for_rows(proc: subprocess.Popen, out: Path, rows: int) -> None:
    """Wait (≤ 120 s) until ``out`` holds more than ``rows`` measurements; fail if ``proc``
    ends first."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _count(out / "results.sqlite") <= rows:
        if proc.poll() is not None:
            pytest.fail(f"the sweep ended too soon: {proc.stderr.read().decode()}")
        time.sleep(0.02)


def _run_and_kill_a_third_through(spec_file: Path, out: Path, env: dict, total: int) -> None:
    """Start ``scaletime run``, SIGKILL it once a third of the ``total`` rows are committed."""
    proc = _start_run(spec_file, out, env)
    _wait_for_rows(proc, out, total // 3 - 1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < _count(out / "results.sqlite") < total, "the kill must land mid-sweep"


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("spec") / "resume.toml"
    p.write_text(SPEC_TOML)
    return p


@pytest.fixture(scope="module")
def reference(spec_file: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("ref")
    run_sweep(load_spec(spec_file), out, show_progress=False)
    return load_table(out)


def test_sigkill_mid_sweep_then_resume_gives_exactly_the_uninterrupted_rows(
    spec_file: Path, reference: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    total = len(reference)
    _run_and_kill_a_third_through(spec_file, out, env, total)

    done = subprocess.run(
        _cli("run", str(spec_file), "--out", str(out), "--no-progress"),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    resumed = load_table(out)
    assert len(resumed) == total
    assert not resumed.duplicated(["run_key", "step"]).any()
    a = reference.sort_values(["run_key", "step"]).reset_index(drop=True)
    b = resumed.sort_values(["run_key", "step"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[KEY_COLS], b[KEY_COLS])
    np.testing.assert_allclose(
        a[VALUE_COLS].to_numpy(), b[VALUE_COLS].to_numpy(), rtol=1e-5, atol=1e-7
    )

    again = subprocess.run(
        _cli("run", str(spec_file), "--out", str(out), "--no-progress"),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0 and "0 to train" in again.stderr
    assert len(load_table(out)) == total


def test_other_spec_in_same_folder_is_refused(spec_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    other = tmp_path / "other.toml"
    other.write_text(
        SPEC_TOML.replace("epochs = 40", "epochs = 1").replace("seeds = [0, 1]", "seeds = [0]")
    )
    assert (
        subprocess.run(
            _cli("run", str(other), "--out", str(out), "--no-progress"), capture_output=True
        ).returncode
        == 0
    )
    res = subprocess.run(
        _cli("run", str(spec_file), "--out", str(out), "--no-progress"),
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2
    assert "different sweep" in res.stderr and "train.epochs" in res.stderr


def test_invalid_spec_exits_with_the_field_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[train]\noptimizer = "rmsprop"\n')
    res = subprocess.run(
        _cli("run", str(bad), "--out", str(tmp_path / "o")), capture_output=True, text=True
    )
    assert res.returncode == 2
    assert "train.optimizer" in res.stderr and "rmsprop" in res.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_round_trips(
    reference: pd.DataFrame, spec_file: Path, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / "sweep"
    run_sweep(load_spec(spec_file).model_copy(update={"seeds": [0]}), out, show_progress=False)
    table = load_table(out)
    path = tmp_path / f"t.{fmt}"
    export_table(out, path)
    back = pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
    assert list(back.columns) == list(table.columns)
    for col in ("dataset", "arch", "optimizer", "lr_rule", "width", "n_params", "scale_p", "epoch"):
        assert col in back.columns
    pd.testing.assert_frame_equal(back, table, check_dtype=False)


def test_diverging_runs_are_recorded_not_crashed(tmp_path: Path) -> None:
    spec_path = tmp_path / "div.toml"
    spec_path.write_text(
        SPEC_TOML.replace("lr = [0.05]", "lr = [0.05, 1000.0]").replace("epochs = 40", "epochs = 2")
    )
    out = tmp_path / "sweep"
    run_sweep(load_spec(spec_path), out, show_progress=False)
    df = load_table(out)
    runs = df.groupby("run_key").agg(status=("status", "first"), lr=("base_lr", "first"))
    assert set(runs.loc[runs.lr == 0.05, "status"]) == {"done"}
    assert set(runs.loc[runs.lr == 1000.0, "status"]) == {"diverged"}
    div = df[df.status == "diverged"]
    assert div.groupby("run_key").diverged.sum().eq(1).all()


def test_a_second_writer_is_refused_and_the_first_loses_nothing(tmp_path: Path) -> None:
    """Issue 15: a second `scaletime run` on a folder being written died with a UNIQUE
    constraint error after discarding the first's rows. Now it is refused at once, and the first
    finishes with every row."""
    spec_file = tmp_path / "long.toml"
    spec_file.write_text(SPEC_TOML.replace("epochs = 40", "epochs = 600"))
    out = tmp_path / "sweep"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = _start_run(spec_file, out, env)
    _wait_for_rows(first, out, 0)
    second = subprocess.run(
        _cli("run", str(spec_file), "--out", str(out), "--no-progress"),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.poll() is None, "the first sweep must still be running"
    assert second.returncode == 2
    said = " ".join(second.stderr.split())
    assert "is in use" in said and f"pid {first.pid}" in said
    assert first.wait(timeout=600) == 0
    table = load_table(out)
    assert (table["status"] == "done").all() and table["run_key"].nunique() == 4
    assert len(table) == 4 * 9 and not table.duplicated(["run_key", "step"]).any()


def test_kill_then_two_competing_writers_end_with_exactly_the_uninterrupted_rows(
    spec_file: Path, reference: pd.DataFrame, tmp_path: Path
) -> None:
    """Issue 15: a writer killed mid-sweep, then two writers started at once on its folder. One
    takes the lock (over the dead writer's stale file) and resumes; the other is refused or,
    if it comes after the first has finished, finds nothing to train. The rows are exactly the
    uninterrupted sweep's."""
    out = tmp_path / "sweep"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    total = len(reference)
    _run_and_kill_a_third_through(spec_file, out, env, total)

    racers = [_start_run(spec_file, out, env) for _ in range(2)]
    outcomes = [(p.wait(timeout=300), p.stderr.read().decode()) for p in racers]
    codes = sorted(code for code, _ in outcomes)
    assert codes in ([0, 2], [0, 0]), outcomes
    said = " ".join(" ".join(text for _, text in outcomes).split())
    assert "taking over the lock left by a writer that ended" in said
    if codes == [0, 2]:
        assert "is in use" in said

    resumed = load_table(out)
    assert len(resumed) == total and not resumed.duplicated(["run_key", "step"]).any()
    a = reference.sort_values(["run_key", "step"]).reset_index(drop=True)
    b = resumed.sort_values(["run_key", "step"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[KEY_COLS], b[KEY_COLS])
    np.testing.assert_allclose(
        a[VALUE_COLS].to_numpy(), b[VALUE_COLS].to_numpy(), rtol=1e-5, atol=1e-7
    )


def test_the_writer_lock_is_released_after_the_block(tmp_path: Path) -> None:
    from scaletime.sweep.store import StoreError, writer_lock

    with writer_lock(tmp_path), pytest.raises(StoreError, match="in use"), writer_lock(tmp_path):
        pass
    with writer_lock(tmp_path):  # free again
        pass
