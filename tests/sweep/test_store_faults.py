"""Database faults are clear errors that lose nothing (issue 15): empty, foreign, damaged and
full databases, read-only folders, a running sweep's status, and ``run --restart``."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaletime.cli import app
from scaletime.sweep.executor import run_sweep
from scaletime.sweep.spec import parse_spec
from scaletime.sweep.store import DB_NAME, ResultStore, StoreError, writer_lock

SPEC = {
    "name": "faults",
    "seeds": [0],
    "data": {"dataset": "digits", "sizes": [200]},
    "model": {"widths": [2, 4]},
    "train": {"batch_size": 50, "epochs": 2, "checkpoints": 3, "first_checkpoint": 0.5},
    "execution": {"device": "cpu"},
}

runner = CliRunner()


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("finished") / "sweep"
    run_sweep(parse_spec(SPEC), out, show_progress=False)
    return out


@pytest.fixture()
def spec_file(tmp_path: Path) -> Path:
    import tomli_w

    path = tmp_path / "spec.toml"
    path.write_bytes(tomli_w.dumps(SPEC).encode())
    return path


def _digest(folder: Path) -> dict[str, str]:
    """Hashes of the folder's files, SQLite's transient ``-wal``/``-shm`` and the lock aside."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.endswith(("-wal", "-shm", ".lock"))
    }


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "is empty (0 bytes)"),
        (b"garbage, not a database at all" * 10, "not an SQLite database"),
    ],
    ids=["empty", "garbage"],
)
def test_an_empty_or_foreign_file_is_refused_never_retrained(
    tmp_path: Path, spec_file: Path, content: bytes, says: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / DB_NAME).write_bytes(content)
    for args in (
        ["run", str(spec_file), "-o", str(out)],
        ["status", str(out)],
        ["export", str(out), "-o", str(tmp_path / "t.csv")],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert says in result.output and "Traceback" not in result.output
    assert (out / DB_NAME).read_bytes() == content  # untouched
    # an explicit --restart sets it aside and trains the sweep
    result = runner.invoke(
        app, ["run", str(spec_file), "-o", str(out), "--restart", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    backups = list(out.glob(f"{DB_NAME}.replaced-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == content
    assert "2 runs trained" in result.output


def test_a_foreign_sqlite_database_is_refused(tmp_path: Path, spec_file: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with sqlite3.connect(out / DB_NAME) as c:
        c.execute("CREATE TABLE invoices (id INTEGER)")
    before = _digest(out)
    result = runner.invoke(app, ["run", str(spec_file), "-o", str(out)])
    assert result.exit_code == 2 and "not a scaletime sweep" in result.output
    assert _digest(out) == before


def test_a_damaged_database_is_a_clear_error(finished: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    db = copy / DB_NAME
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2] + b"\x00" * 4096)
    for args in (["status", str(copy)], ["export", str(copy), "-o", str(tmp_path / "t.csv")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "results database" in result.output and "Traceback" not in result.output


def test_reading_never_writes_the_folder(finished: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    before = _digest(copy)
    assert runner.invoke(app, ["status", str(copy)]).exit_code == 0
    assert runner.invoke(app, ["export", str(copy), "-o", str(tmp_path / "t.csv")]).exit_code == 0
    assert _digest(copy) == before  # the database and every other file unchanged


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_folder_can_be_shown_and_exported(finished: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    for p in copy.iterdir():
        p.chmod(0o444)
    copy.chmod(0o555)
    try:
        assert runner.invoke(app, ["status", str(copy)]).exit_code == 0
        result = runner.invoke(app, ["export", str(copy), "-o", str(tmp_path / "t.csv")])
        assert result.exit_code == 0, result.output
    finally:
        copy.chmod(0o755)


def test_the_immutable_fallback_reads_a_wal_database_without_shared_memory(
    finished: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a read-only filesystem ``mode=ro`` opens but its first query fails (no ``-shm`` can be
    made): the store falls back to ``immutable=1`` and reads the sweep."""
    import scaletime.sweep.store as store_mod

    real = sqlite3.connect
    uris: list[str] = []

    class ReadOnlyFilesystem:
        def execute(self, *args: object) -> None:
            raise sqlite3.OperationalError("unable to open database file")

        def close(self) -> None:
            pass

    def connect(target: object, *args: object, **kw: object) -> object:
        uris.append(str(target))
        if "mode=ro" in str(target):
            return ReadOnlyFilesystem()
        return real(target, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(store_mod.sqlite3, "connect", connect)
    with ResultStore(finished) as store:
        assert store.progress()["done"] == 2
    assert "mode=ro" in uris[0] and "immutable=1" in uris[1]


def test_disk_full_while_writing_is_a_store_error_keeping_committed_rows(
    finished: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    with ResultStore(copy, create=True) as store:
        n = store.progress()["measurements"]
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages}")  # the "disk" is now full
        with pytest.raises(StoreError, match="free some space"), store:
            store.conn.execute("BEGIN IMMEDIATE")
            store.conn.executemany(
                "INSERT INTO measurements VALUES (1, ?, ?, 0, 0, 0, 0, 0, 0, 0)",
                [(float(i), 10_000 + i) for i in range(20_000)],
            )
    with ResultStore(copy) as store:
        assert store.progress()["measurements"] == n


def test_status_of_a_running_sweep_names_the_writer(finished: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    with writer_lock(copy):
        result = runner.invoke(app, ["status", str(copy)])
        assert result.exit_code == 0 and f"running (pid {os.getpid()}" in result.output
    result = runner.invoke(app, ["status", str(copy)])
    assert "running" not in result.output


def test_a_lock_left_by_a_dead_writer_is_taken_over_with_a_message(tmp_path: Path) -> None:
    (tmp_path / "sweep.lock").write_text("999999 somehost 2026-01-01T00:00:00")
    seen: list[str] = []
    with writer_lock(tmp_path, on_stale=seen.append):
        pass
    assert seen == ["pid 999999 on somehost since 2026-01-01T00:00:00"]
    assert (tmp_path / "sweep.lock").read_text() == ""  # a clean exit leaves nothing stale
