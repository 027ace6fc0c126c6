"""The results database: spec identity, atomic checkpoints, run status, resume bookkeeping."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaletime.engine import Measurement
from scaletime.sweep.plan import plan_runs, plan_units
from scaletime.sweep.spec import parse_spec
from scaletime.sweep.store import ResultStore, StoreError

SPEC = parse_spec({"seeds": [0, 1], "model": {"widths": [1, 3]}, "data": {"dataset": "digits"}})


def _row(key: str, step: int, diverged: bool = False, loss: float = 0.5) -> Measurement:
    return Measurement(
        key=key,
        epoch=step / 10,
        step=step,
        examples_seen=step * 128,
        train_loss=loss,
        test_loss=loss,
        train_error=0.1,
        test_error=0.2,
        wall_time=0.01 * step,
        diverged=diverged,
    )


@pytest.fixture
def store(tmp_path: Path) -> ResultStore:
    s = ResultStore(tmp_path / "sweep", create=True)
    s.attach_spec(SPEC)
    runs = plan_runs(SPEC)
    s.register_runs(runs, {r.key: 100 * r.width for r in runs})
    yield s
    s.close()


def test_plan_groups_widths_of_one_seed(store: ResultStore) -> None:
    units = plan_units(SPEC, plan_runs(SPEC))
    assert len(units) == 2
    assert [r.width for r in units[0].runs] == [1, 3]
    assert {r.seed for r in units[1].runs} == {1}


def test_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no sweep results"):
        ResultStore(tmp_path / "nothing")


def test_same_spec_reattaches_and_different_spec_is_refused(store: ResultStore) -> None:
    assert store.attach_spec(SPEC) is False
    other = parse_spec({**SPEC.model_dump(mode="json"), "seeds": [0, 1, 2]})
    with pytest.raises(StoreError) as err:
        store.attach_spec(other)
    assert "seeds" in str(err.value) and "different sweep" in str(err.value)


def test_register_runs_is_idempotent_and_exact(store: ResultStore) -> None:
    runs = plan_runs(SPEC)
    store.register_runs(runs, {r.key: 100 * r.width for r in runs})
    got = store.conn.execute("SELECT COUNT(*), SUM(n_params) FROM runs").fetchone()
    assert tuple(got) == (4, 2 * (100 + 300))


def test_checkpoint_marks_done_and_diverged_atomically(store: ResultStore) -> None:
    k1, k3 = (r.key for r in plan_runs(SPEC)[:2])
    store.write_checkpoint([_row(k1, 1), _row(k3, 1)])
    store.write_checkpoint(
        [_row(k1, 2), _row(k3, 2, diverged=True, loss=float("nan"))], finished=[k1]
    )
    status = dict(store.conn.execute("SELECT run_key, status FROM runs").fetchall())
    assert status[k1] == "done" and status[k3] == "diverged"
    assert store.finished_keys() == {k1, k3}
    nan_row = store.conn.execute(
        "SELECT test_loss, diverged FROM measurements m JOIN runs r USING (run_id) "
        "WHERE run_key = ? AND step = 2",
        (k3,),
    ).fetchone()
    assert nan_row[0] is None and nan_row[1] == 1


def test_duplicate_checkpoint_is_rejected_whole(store: ResultStore) -> None:
    k1, k3 = (r.key for r in plan_runs(SPEC)[:2])
    store.write_checkpoint([_row(k1, 1)])
    with pytest.raises(Exception, match="UNIQUE"):
        store.write_checkpoint([_row(k3, 1), _row(k1, 1)])
    # the transaction rolled back: k3's row is not there either
    assert store.conn.execute("SELECT COUNT(*) FROM measurements").fetchone()[0] == 1


def test_reset_unfinished_drops_only_partial_runs(store: ResultStore) -> None:
    k1, k3, k1b, _ = (r.key for r in plan_runs(SPEC))
    store.write_checkpoint([_row(k1, 1), _row(k3, 1)], finished=[k1])
    store.write_checkpoint([_row(k1b, 1)])
    assert store.reset_unfinished() == 2
    left = store.conn.execute(
        "SELECT run_key FROM measurements JOIN runs USING (run_id)"
    ).fetchall()
    assert [r[0] for r in left] == [k1]
    p = store.progress()
    assert (p["done"], p["pending"], p["measurements"]) == (1, 3, 1)
