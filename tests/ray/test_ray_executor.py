"""The Ray executor on a real two-node cluster on this machine (``conftest.py``).

Each test compares a sweep run through Ray with the same spec run by the local executor:
the same rows, the same numbers. Faults are real: a worker process training a unit is killed
with SIGKILL, and so is the driver.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from scaletime.sweep.executor import run_sweep
from scaletime.sweep.export import load_table
from scaletime.sweep.spec import load_spec

pytest.importorskip("ray", reason="needs the ray extra: pip install 'scaletime[ray]'")

UNIT_TITLE = "ray::scaletime-unit:"  # process title of a Ray worker training a unit

pytestmark = [pytest.mark.ray, pytest.mark.timeout(240)]

# 6 units (3 seeds × 2 widths, one run each) of ~1-3 s each with one thread: long enough to be
# killed mid-unit, short enough for the whole file to run in well under 3 minutes on 2 cores.
SPEC_TOML = """
name = "ray-test"
seeds = [0, 1, 2]
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
epochs = 120
checkpoints = 8
first_checkpoint = 0.1
[execution]
device = "cpu"
unit_max_members = 1
"""

KEY_COLS = ["run_key", "step", "epoch", "examples_seen", "status"]
VALUE_COLS = ["train_loss", "test_loss", "train_error", "test_error"]


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "ray-test.toml"
    path.write_text(SPEC_TOML)
    return path


@pytest.fixture(scope="module")
def reference(spec_file: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The sweep run by the local executor, undisturbed (one thread, like each Ray task: two
    threads on two busy cores are many times slower)."""
    out = tmp_path_factory.mktemp("local")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run_sweep(load_spec(spec_file), out, show_progress=False)
    finally:
        torch.set_num_threads(threads)
    return load_table(out)


def assert_same_rows(reference: pd.DataFrame, table: pd.DataFrame) -> None:
    """Exactly the reference's (run, checkpoint) rows, once each, with the same numbers."""
    assert len(table) == len(reference)
    assert not table.duplicated(["run_key", "step"]).any()
    a = reference.sort_values(["run_key", "step"]).reset_index(drop=True)
    b = table.sort_values(["run_key", "step"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[KEY_COLS], b[KEY_COLS])
    np.testing.assert_allclose(
        a[VALUE_COLS].to_numpy(float), b[VALUE_COLS].to_numpy(float), rtol=1e-5, atol=1e-7
    )


def _cli(spec: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "scaletime", "run", str(spec), "--out", str(out),
            "--executor", "ray", "--no-progress", *extra]  # fmt: skip


def _rows(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as c:
            return int(c.execute("SELECT COUNT(*) FROM measurements").fetchone()[0])
    except sqlite3.Error:
        return 0


def _wait(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the sweep ended before {what}: {proc.stderr.read().decode()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_two_node_sweep_gives_the_local_rows_and_uses_both_nodes(
    ray_cluster, spec_file: Path, reference: pd.DataFrame, tmp_path: Path
) -> None:
    before = ray_cluster.units_started()
    out = tmp_path / "sweep"
    res = subprocess.run(
        _cli(spec_file, out, "--address", ray_cluster.address),
        env=ray_cluster.driver_env(), capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "2 node(s)" in " ".join(res.stderr.split())
    assert_same_rows(reference, load_table(out))
    after = ray_cluster.units_started()
    ran = {node: after[node] - before[node] for node in after}
    assert sum(ran.values()) == 6, ran  # one execution per unit: nothing retried, nothing twice
    assert ran["head"] >= 1 and ran["worker"] >= 1, ran
    # the data came from the driver's object store: no node loaded (and cached) it itself
    assert list(ray_cluster.worker_data_cache.iterdir()) == []


def _unit_runs(db: Path, unit_title: str) -> int:
    """Measurements already written for the unit a worker's process title names."""
    key = unit_title.removeprefix(UNIT_TITLE).strip()  # e.g. n600-noise0-lr0.05-seed1-w8..8
    seed = int(key.split("-seed")[1].split("-")[0])
    width = int(key.split("-w")[-1].split("..")[0])
    with sqlite3.connect(db, timeout=5) as c:
        q = "SELECT COUNT(*) FROM measurements JOIN runs USING (run_id) WHERE seed=? AND width=?"
        return int(c.execute(q, (seed, width)).fetchone()[0])


def test_worker_killed_mid_unit_is_retried_and_the_rows_are_exact(
    ray_cluster, spec_file: Path, reference: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    before = ray_cluster.units_started()
    env = ray_cluster.driver_env()  # RAY_ADDRESS names the cluster (no --address)
    proc = subprocess.Popen(_cli(spec_file, out), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        _wait(lambda: ray_cluster.unit_workers(), 120, "a worker training a unit", proc)
        time.sleep(0.3)  # into the unit's training, not its start
        victims = ray_cluster.unit_workers()
        assert victims, "the unit finished before it could be killed"
        pid, title = next(iter(victims.items()))
        os.kill(pid, signal.SIGKILL)
        written_at_kill = _unit_runs(out / "results.sqlite", title)
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode()
    assert written_at_kill == 0, "the killed unit must not have been written yet"
    after = ray_cluster.units_started()
    assert sum(after.values()) - sum(before.values()) == 7  # 6 units + the killed one's retry
    checkpoints = len(reference) // reference.run_key.nunique()
    assert _unit_runs(out / "results.sqlite", title) == checkpoints  # redone, written once
    assert_same_rows(reference, load_table(out))


def test_driver_killed_then_rerun_resumes_with_whole_units_and_no_duplicates(
    ray_cluster, spec_file: Path, reference: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    db = out / "results.sqlite"
    env = ray_cluster.driver_env()
    args = _cli(spec_file, out, "--address", ray_cluster.address)
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait(lambda: _rows(db) > 0, 120, "the first finished unit", proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with sqlite3.connect(db) as c:
        per_run = c.execute(
            "SELECT r.run_key, r.status, COUNT(m.step) FROM runs r "
            "LEFT JOIN measurements m USING (run_id) GROUP BY r.run_id"
        ).fetchall()
    written = [(key, status, n) for key, status, n in per_run if n > 0]
    assert 0 < len(written) < len(per_run), "the kill must land mid-sweep"
    # one transaction per unit: a run is either absent or complete and marked done
    checkpoints = len(reference) // reference.run_key.nunique()
    assert all(status == "done" and n == checkpoints for _, status, n in written), written
    # Ray ends the dead driver's tasks: no worker keeps training a unit for nobody
    _wait(lambda: not ray_cluster.unit_workers(), 60, "the dead driver's tasks to end")

    res = subprocess.run(args, env=env, capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr
    assert f"{len(written)} already finished" in " ".join(res.stderr.split())  # rich wraps lines
    assert_same_rows(reference, load_table(out))


def test_without_an_address_a_private_local_instance_is_started_and_stopped(
    spec_file: Path,
    reference: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    processes_naming,
    quiet_ray_env,
) -> None:
    from scaletime.sweep.ray_executor import RayExecutor

    quiet_ray_env(monkeypatch)
    temp = tempfile.mkdtemp(prefix="st-ray-local-", dir="/tmp")
    spec = load_spec(spec_file).model_copy(update={"seeds": [0]})
    executor = RayExecutor(num_cpus=1, temp_dir=temp)
    try:
        run_sweep(spec, tmp_path / "sweep", executor=executor, show_progress=False)
        deadline = time.monotonic() + 20
        while processes_naming(temp) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert processes_naming(temp) == {}, "the executor must stop the instance it started"
    finally:
        for pid in processes_naming(temp):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)
    assert_same_rows(reference[reference.seed == 0], load_table(tmp_path / "sweep"))


def test_an_error_raised_by_training_is_reported_once_not_retried(
    ray_cluster, tmp_path: Path
) -> None:
    spec = tmp_path / "too-big.toml"  # digits has 1,297 training images: the engine refuses
    spec.write_text(SPEC_TOML.replace("sizes = [600]", "sizes = [5000]").replace(
        "seeds = [0, 1, 2]", "seeds = [0]").replace("widths = [2, 8]", "widths = [2]"))  # fmt: skip
    before = ray_cluster.units_started()
    res = subprocess.run(
        _cli(spec, tmp_path / "sweep", "--address", ray_cluster.address),
        env=ray_cluster.driver_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "data_size=5000 exceeds" in " ".join(res.stderr.split())
    after = ray_cluster.units_started()
    assert sum(after.values()) - sum(before.values()) == 1  # deterministic: no retry
