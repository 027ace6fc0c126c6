"""Reading tidy tables: CSV, Parquet, a sweep folder or a DataFrame, with clear errors.

A file that cannot be read as a table (empty, header-only, binary, ragged, an unreadable
Parquet file) is refused by name; nothing in it is executed or unpickled (docs/architecture.md,
"Tidy table").
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from scaletime.errors import ScaletimeError

__all__ = ["TableError", "read_table", "read_tables"]


class TableError(ScaletimeError, ValueError):
    """A table cannot be read, or its columns do not fit the requested mapping."""


# --------------------------------------------------------------------------------------------
# reading


def read_table(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Read a tidy table from a CSV or Parquet file, or from a sweep folder.

    Parameters
    ----------
    source : str, Path or DataFrame
        ``*.csv``, ``*.parquet`` / ``*.pq``, a sweep folder holding ``results.sqlite`` (read
        with :func:`scaletime.sweep.export.load_table`), or a DataFrame (returned as a copy).

    Returns
    -------
    DataFrame
        One row per run × checkpoint, columns as in the file.
    """
    if isinstance(source, pd.DataFrame):
        return source.copy()
    path = Path(source)
    if not path.exists():
        raise TableError(f"table source {str(path)!r} does not exist")
    if path.is_dir():
        if not (path / "results.sqlite").exists():
            raise TableError(
                f"folder {str(path)!r} is not a sweep folder: it has no results.sqlite "
                "(give a sweep folder, a .csv or a .parquet file)"
            )
        from scaletime.sweep.export import load_table  # lazy: sweep is a heavier layer

        return load_table(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        df = _read_csv(path)
    elif suffix in (".parquet", ".pq"):
        df = _read_parquet(path)
    else:
        raise TableError(
            f"cannot read {str(path)!r}: unknown extension {suffix!r} "
            "(allowed: .csv, .parquet, .pq, or a sweep folder)"
        )
    if df.empty:
        raise TableError(f"{str(path)!r} has no data rows (columns: {_names(df.columns)})")
    return df


def _names(columns: Any, limit: int = 20) -> str:
    """Column names for a message: quoted (so control characters are shown escaped), capped."""
    names = [repr(str(c)) for c in list(columns)[:limit]]
    more = len(columns) - limit
    return ", ".join(names) + (f", ... ({more} more)" if more > 0 else "") if names else "none"


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV with a header row; empty, non-UTF-8 and ragged files are refused by name."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(path, index_col=False)
    except pd.errors.EmptyDataError:
        raise TableError(
            f"{str(path)!r} is empty: a table needs a header row and at least one data row"
        ) from None
    except UnicodeDecodeError as err:
        raise TableError(
            f"{str(path)!r} is not UTF-8 text (byte {err.start}); save the table as UTF-8 CSV "
            "or Parquet"
        ) from None
    except pd.errors.ParserWarning:
        raise TableError(
            f"{str(path)!r}: a row has more fields than the header; every row must have one "
            "value per column (ragged CSV)"
        ) from None
    except (pd.errors.ParserError, ValueError, OSError) as err:
        raise TableError(f"{str(path)!r} is not a readable CSV table: {err}") from None


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError, TypeError, ImportError) as err:
        raise TableError(f"{str(path)!r} is not a readable Parquet file: {err}") from None
    except Exception as err:  # pyarrow's own errors (ArrowInvalid, ...) are not all OSError
        if type(err).__module__.startswith("pyarrow"):
            raise TableError(f"{str(path)!r} is not a readable Parquet file: {err}") from None
        raise


def read_tables(sources: Sequence[str | Path | pd.DataFrame]) -> pd.DataFrame:
    """Read several tables (:func:`read_table`) into one.

    With more than one source, a ``source`` column (the file or folder name, or ``table<i>``
    for a DataFrame) keeps them apart: it is a setting column, and run identifiers are prefixed
    with it so that runs of different sweeps never merge.
    """
    if len(sources) == 0:
        raise TableError("no table source given")
    if len(sources) == 1:
        return read_table(sources[0])
    names = [
        f"table{i}" if isinstance(source, pd.DataFrame) else Path(source).stem
        for i, source in enumerate(sources)
    ]
    if len(set(names)) != len(names):
        raise TableError(f"table sources must have distinct names, got {names}")
    frames = []
    for name, source in zip(names, sources, strict=True):
        frame = read_table(source)
        frame.insert(0, "source", name)
        if "run_id" in frame:
            frame["run_id"] = name + ":" + frame["run_id"].astype(str)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
