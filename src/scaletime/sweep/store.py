"""The results database: one SQLite file (WAL mode) per sweep folder.

Tables
------
``sweep``         one row: the spec (JSON), its hash, the package version, creation time.
``runs``          one row per run: grid coordinates, exact parameter count, status.
``measurements``  one row per run × checkpoint: losses, errors, examples seen, wall time, diverged.

Only the sweep driver writes. Each checkpoint's measurements are committed in one transaction;
a run is marked ``done`` (or ``diverged``) in the transaction of its last checkpoint. Resuming
deletes the measurements of runs that are not finished and trains them again, so nothing is
duplicated and nothing finished is lost (``docs/user-guide.md``, *Resuming*).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scaletime import __version__
from scaletime.engine import Measurement
from scaletime.errors import ScaletimeError
from scaletime.sweep.plan import Run
from scaletime.sweep.spec import SweepSpec, parse_spec

DB_NAME = "results.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS sweep (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    scaletime_version TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY,
    run_key TEXT NOT NULL UNIQUE,
    width INTEGER NOT NULL,
    n_params INTEGER NOT NULL,
    scale_p REAL NOT NULL,
    data_size INTEGER NOT NULL,
    label_noise REAL NOT NULL,
    seed INTEGER NOT NULL,
    base_lr REAL NOT NULL,
    lr REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'diverged')),
    started_at REAL,
    finished_at REAL
);
CREATE TABLE IF NOT EXISTS measurements (
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    epoch REAL NOT NULL,
    step INTEGER NOT NULL,
    examples_seen INTEGER NOT NULL,
    train_loss REAL,
    test_loss REAL,
    train_error REAL,
    test_error REAL,
    wall_time REAL NOT NULL,
    diverged INTEGER NOT NULL,
    PRIMARY KEY (run_id, step)
);
"""

FINISHED = ("done", "diverged")


class StoreError(ScaletimeError):
    """The sweep folder cannot be used as asked."""


LOCK_NAME = "sweep.lock"


@contextmanager
def writer_lock(folder: str | Path) -> Iterator[Path]:
    """Hold the folder's exclusive writer lock (``sweep.lock``, an OS advisory lock released when
    the process ends, ``kill -9`` included) for the life of the block; a second writer is refused
    at once with the holder's process id, before it touches the database."""
    import fcntl
    import os

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    handle = path.open("a+")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise StoreError(
            f"{folder} is in use: a sweep is already writing it (pid {holder}); wait for it to "
            "finish or stop it, then re-run to resume"
        ) from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield path
    finally:
        handle.close()  # closing releases the lock


class ResultStore:
    """The SQLite results database of one sweep folder."""

    def __init__(self, folder: str | Path, *, create: bool = False) -> None:
        self.folder = Path(folder)
        self.path = self.folder / DB_NAME
        if not self.path.exists() and not create:
            raise StoreError(f"no sweep results in {self.folder} (expected {self.path})")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.executescript(SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- the sweep ---------------------------------------------------------------------------
    def spec(self) -> SweepSpec | None:
        row = self.conn.execute("SELECT spec_json FROM sweep").fetchone()
        return None if row is None else parse_spec(json.loads(row["spec_json"]), str(self.path))

    def attach_spec(self, spec: SweepSpec) -> bool:
        """Record ``spec`` in a new folder, or check it matches the folder's. True if new."""
        row = self.conn.execute("SELECT spec_hash, spec_json FROM sweep").fetchone()
        if row is None:
            with self.transaction() as c:
                c.execute(
                    "INSERT INTO sweep VALUES (1, ?, ?, ?, ?, ?)",
                    (spec.name, spec.to_json(), spec.spec_hash(), __version__, time.time()),
                )
            return True
        if row["spec_hash"] != spec.spec_hash():
            old = parse_spec(json.loads(row["spec_json"]))
            diffs = _diff(old.science_dict(), spec.science_dict())
            raise StoreError(
                f"{self.folder} holds a different sweep (spec hash {row['spec_hash']}, "
                f"this spec {spec.spec_hash()}); differing fields: {', '.join(diffs)}. "
                "Use a new --out folder, or the original spec to resume."
            )
        return False

    # -- runs -----------------------------------------------------------------------------------
    def register_runs(self, runs: Sequence[Run], n_params: dict[str, int]) -> None:
        """Insert the planned runs (idempotent: existing runs keep their status)."""
        with self.transaction() as c:
            c.executemany(
                "INSERT OR IGNORE INTO runs (run_key, width, n_params, scale_p, data_size,"
                " label_noise, seed, base_lr, lr) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.key,
                        r.width,
                        n_params[r.key],
                        n_params[r.key] ** (1 / 3),
                        r.data_size,
                        r.label_noise,
                        r.seed,
                        r.base_lr,
                        r.lr,
                    )
                    for r in runs
                ],
            )

    def run_ids(self) -> dict[str, int]:
        return {row[0]: row[1] for row in self.conn.execute("SELECT run_key, run_id FROM runs")}

    def finished_keys(self) -> set[str]:
        q = "SELECT run_key FROM runs WHERE status IN ('done', 'diverged')"
        return {row[0] for row in self.conn.execute(q)}

    def reset_unfinished(self) -> int:
        """Delete measurements of unfinished runs (a previous interrupted attempt). Returns rows deleted."""
        with self.transaction() as c:
            cur = c.execute(
                "DELETE FROM measurements WHERE run_id IN "
                "(SELECT run_id FROM runs WHERE status = 'pending')"
            )
            c.execute("UPDATE runs SET started_at = NULL WHERE status = 'pending'")
            return cur.rowcount

    def mark_started(self, keys: Iterable[str]) -> None:
        with self.transaction() as c:
            c.executemany(
                "UPDATE runs SET started_at = ? WHERE run_key = ?",
                [(time.time(), k) for k in keys],
            )

    def write_checkpoint(self, rows: Sequence[Measurement], finished: Iterable[str] = ()) -> None:
        """Commit one checkpoint's measurements, and mark ``finished`` runs done, atomically.

        A row with ``diverged=True`` marks its run ``diverged`` (terminal) in the same transaction.
        """
        ids = self.run_ids()
        now = time.time()
        with self.transaction() as c:
            c.executemany(
                "INSERT INTO measurements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        ids[m.key],
                        m.epoch,
                        m.step,
                        m.examples_seen,
                        _finite(m.train_loss),
                        _finite(m.test_loss),
                        _finite(m.train_error),
                        _finite(m.test_error),
                        m.wall_time,
                        int(m.diverged),
                    )
                    for m in rows
                ],
            )
            diverged = [m.key for m in rows if m.diverged]
            c.executemany(
                "UPDATE runs SET status = 'diverged', finished_at = ? WHERE run_key = ?",
                [(now, k) for k in diverged],
            )
            c.executemany(
                "UPDATE runs SET status = 'done', finished_at = ? "
                "WHERE run_key = ? AND status = 'pending'",
                [(now, k) for k in finished],
            )

    # -- reading ----------------------------------------------------------------------------------
    def progress(self) -> dict[str, Any]:
        counts = dict(
            self.conn.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall()
        )
        n_meas = self.conn.execute("SELECT COUNT(*) FROM measurements").fetchone()[0]
        t = self.conn.execute(
            "SELECT MIN(started_at), MAX(finished_at) FROM runs WHERE started_at IS NOT NULL"
        ).fetchone()
        return {
            "runs": sum(counts.values()),
            "done": counts.get("done", 0),
            "diverged": counts.get("diverged", 0),
            "pending": counts.get("pending", 0),
            "measurements": n_meas,
            "first_start": t[0],
            "last_finish": t[1],
        }


def _finite(x: float) -> float | None:
    """NaN/inf are stored as NULL (a diverged run's last losses)."""
    return x if x == x and abs(x) != float("inf") else None


def _diff(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += _diff(va, vb, f"{prefix}{k}.")
        elif va != vb:
            out.append(f"{prefix}{k} ({va!r} → {vb!r})")
    return out
