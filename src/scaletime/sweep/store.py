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
import os
import socket
import sqlite3
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scaletime import __version__
from scaletime.engine import Measurement
from scaletime.errors import ScaletimeError
from scaletime.sweep.plan import Run
from scaletime.sweep.spec import SweepSpec, parse_spec

if TYPE_CHECKING:
    import pandas as pd

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
SQLITE_HEADER = b"SQLite format 3\x00"


@contextmanager
def writer_lock(
    folder: str | Path, *, on_stale: Callable[[str], None] | None = None
) -> Iterator[Path]:
    """Hold the folder's exclusive writer lock for the life of the block.

    ``sweep.lock`` carries an OS advisory lock (released when the process ends, ``kill -9``
    included) and the holder's ``pid host start-time``. A second writer is refused at once, naming
    the holder, before it touches the database. A lock file left by a writer that died (the OS
    lock is free but the file still names it) is taken over, and ``on_stale`` gets its holder.
    """
    import fcntl

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    try:
        handle = path.open("a+")
    except OSError as err:
        raise StoreError(f"cannot write in {folder}: {err.strerror or err}") from None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise StoreError(
            f"{folder} is in use: a sweep is already writing it ({_describe(holder)}); wait for "
            "it to finish or stop it, then re-run to resume"
        ) from None
    try:
        handle.seek(0)
        previous = handle.read().strip()
        if previous and on_stale is not None:
            on_stale(_describe(previous))
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()} {socket.gethostname()} {time.strftime('%Y-%m-%dT%H:%M:%S')}")
        handle.flush()
        yield path
        handle.seek(0)
        handle.truncate()  # a clean exit leaves an empty lock file: nothing stale to report
    finally:
        handle.close()  # closing releases the lock


def lock_holder(folder: str | Path) -> str | None:
    """``"pid N on HOST since T"`` if a writer holds the folder's lock now, else ``None``."""
    import fcntl

    path = Path(folder) / LOCK_NAME
    try:
        handle = path.open("r")
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _describe(handle.read().strip())
        except OSError:
            return None
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return None


def _describe(holder: str) -> str:
    parts = holder.split()
    if len(parts) >= 3 and parts[0].isdigit():
        return f"pid {parts[0]} on {parts[1]} since {parts[2]}"
    return f"pid {holder}" if holder.isdigit() else holder or "another process"


def store_error(path: Path, err: sqlite3.Error) -> StoreError:
    """A :class:`StoreError` for an SQLite failure: what happened and what to do."""
    text = str(err)
    if "disk is full" in text or "disk I/O" in text:
        hint = (
            "free some space (or move the folder) and re-run the same command: committed "
            "checkpoints are kept and the unfinished runs resume"
        )
    elif "readonly" in text or "read-only" in text:
        hint = "the folder is read-only; copy it somewhere writable to resume the sweep"
    elif "malformed" in text or "not a database" in text or "no such" in text:
        hint = (
            "it is damaged or not a scaletime results database: restore it from a copy, or "
            "re-run into a new --out folder (run --restart replaces it, keeping a backup)"
        )
    elif "locked" in text or "busy" in text:
        hint = "another process holds it; wait for it to finish"
    else:
        hint = "check the file, or re-run into a new --out folder"
    return StoreError(f"results database {path}: {text}; {hint}")


@contextmanager
def database_errors(path: Path) -> Iterator[None]:
    """Turn SQLite failures inside the block into a :class:`StoreError` (:func:`store_error`)."""
    try:
        yield
    except sqlite3.Error as err:
        raise store_error(path, err) from None


class ResultStore:
    """The SQLite results database of one sweep folder.

    Opened for writing (``create=True``, the sweep driver) it is created if absent and switched to
    WAL mode. Opened for reading (the default: ``status``, ``export``, ``report``) it is opened
    read-only and never changed, so a finished sweep on a read-only filesystem can be read. Either
    way an empty, foreign or damaged ``results.sqlite`` is refused with a :class:`StoreError`,
    never silently replaced.
    """

    def __init__(self, folder: str | Path, *, create: bool = False) -> None:
        self.folder = Path(folder)
        self.path = self.folder / DB_NAME
        exists = self.path.exists()
        if not exists and not create:
            raise StoreError(f"no sweep results in {self.folder} (expected {self.path})")
        if exists:
            check_database_file(self.path)
        with database_errors(self.path):
            if create:
                self.folder.mkdir(parents=True, exist_ok=True)
                self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
                if exists:
                    _check_tables(self.conn, self.path)  # before anything changes the file
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=NORMAL")
                self.conn.execute("PRAGMA foreign_keys=ON")
                self.conn.executescript(SCHEMA)
            else:
                self.conn = _open_read_only(self.path)
                _check_tables(self.conn, self.path)
        self.conn.row_factory = sqlite3.Row

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: object
    ) -> None:
        with suppress(sqlite3.Error):
            self.close()
        # any SQLite failure in the block (pandas' read_sql wraps it), named and explained
        cause = err if isinstance(err, sqlite3.Error) else getattr(err, "__cause__", None)
        if isinstance(cause, sqlite3.Error):
            raise store_error(self.path, cause) from None

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
    def runs_by_width(self) -> list[tuple[int, str, int]]:
        """``(width, status, number of runs)`` rows, by width."""
        q = "SELECT width, status, COUNT(*) FROM runs GROUP BY width, status ORDER BY width"
        return [tuple(r) for r in self.conn.execute(q).fetchall()]

    def runs_frame(self, columns: Sequence[str]) -> pd.DataFrame:
        """The ``runs`` table's ``columns``, one row per run."""
        import pandas as pd

        return pd.read_sql_query(f"SELECT {', '.join(columns)} FROM runs", self.conn)

    def measurements_frame(self, columns: Sequence[str]) -> pd.DataFrame:
        """``run_id`` and the ``measurements`` table's ``columns``, one row per checkpoint."""
        import pandas as pd

        q = f"SELECT run_id, {', '.join(columns)} FROM measurements"
        return pd.read_sql_query(q, self.conn)

    def run_summary(self) -> pd.DataFrame:
        """One row per run with its last wall time, last checkpoint and whether it diverged."""
        import pandas as pd

        return pd.read_sql_query(
            "SELECT r.run_id, r.width, r.n_params, r.scale_p, r.data_size, r.label_noise, r.seed, "
            "r.base_lr, r.lr, r.status, r.started_at, r.finished_at, "
            "MAX(m.wall_time) AS wall_time, MAX(m.epoch) AS last_epoch, "
            "MAX(m.diverged) AS diverged FROM runs r LEFT JOIN measurements m "
            "ON m.run_id = r.run_id GROUP BY r.run_id",
            self.conn,
        )

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


def check_database_file(path: Path) -> None:
    """Refuse an existing ``results.sqlite`` that is empty or not SQLite, before opening it."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError as err:
        raise StoreError(f"cannot read {path}: {err.strerror or err}") from None
    if not head:
        raise StoreError(
            f"{path} is empty (0 bytes), not a sweep database; it was not replaced. Move it away, "
            "or run with --restart to start the sweep afresh (the file is kept as a backup)"
        )
    if head != SQLITE_HEADER:
        raise StoreError(
            f"{path} is not an SQLite database (it starts {head[:8]!r}); it was not replaced. "
            "Move it away, or run with --restart to start the sweep afresh (kept as a backup)"
        )


def _open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection; on a read-only filesystem a WAL database cannot create its shared
    memory file, so it is opened as immutable (no writer can exist there)."""
    uri = f"file:{urllib.parse.quote(str(path.resolve()))}"
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None, timeout=30)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        conn.close()
        conn = sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)
    return conn


def _check_tables(conn: sqlite3.Connection, path: Path) -> None:
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    ours = {"sweep", "runs", "measurements"}
    if names and not ours <= names:
        raise StoreError(
            f"{path} is an SQLite database but not a scaletime sweep (tables: "
            f"{', '.join(sorted(names)) or 'none'}); it was not replaced. Use another --out "
            "folder, or run with --restart to start afresh (the file is kept as a backup)"
        )


def set_aside(folder: str | Path) -> Path | None:
    """Rename the folder's ``results.sqlite`` (and its WAL files) to a timestamped backup, for
    ``run --restart``. Returns the backup path, or ``None`` if there was nothing to move."""
    path = Path(folder) / DB_NAME
    if not path.exists():
        return None
    backup = path.with_name(f"{DB_NAME}.replaced-{time.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            part.rename(backup.with_name(backup.name + suffix))
    return backup


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
