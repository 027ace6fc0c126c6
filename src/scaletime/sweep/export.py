"""The tidy table: one row per run × checkpoint, every spec field as a column.

This is the interchange format of the project: ``scaletime export`` writes it as CSV or Parquet,
and analysis and fitting read it (or any table shaped like it) — see ``docs/architecture.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pandas as pd

from scaletime.engine.config import cumulative_lr
from scaletime.errors import ScaletimeError
from scaletime.sweep.store import ResultStore

RUN_COLUMNS = [
    "run_id",
    "run_key",
    "width",
    "n_params",
    "scale_p",
    "data_size",
    "label_noise",
    "seed",
    "base_lr",
    "lr",
    "status",
]
MEASUREMENT_COLUMNS = [
    "epoch",
    "step",
    "examples_seen",
    "train_loss",
    "test_loss",
    "train_error",
    "test_error",
    "wall_time",
    "diverged",
]


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}_" if prefix or k == "options" else ""))
        elif isinstance(v, list):
            continue  # grid axes (widths, sizes, seeds, ...) are per-run columns already
        else:
            out[f"{prefix}{k}"] = v
    return out


def spec_columns(store: ResultStore) -> dict[str, Any]:
    """Scalar spec fields, flattened (``dataset``, ``arch``, ``optimizer``, ``lr_rule``, ...)."""
    spec = store.spec()
    if spec is None:
        raise ScaletimeError(f"{store.folder} has no sweep spec")
    d = spec.science_dict()
    d["train"].pop("epochs_by_width", None)  # per run: the ``epochs`` column (load_table)
    cols = {"sweep": d.pop("name"), **_flatten(d)}
    cols["depth"] = spec.model.resolved_depth
    return {k: (float("nan") if v is None else v) for k, v in cols.items()}  # None → NaN (CSV-safe)


def load_table(folder: str | Path) -> pd.DataFrame:
    """The tidy table of a sweep folder (finished and unfinished runs alike)."""
    with ResultStore(folder) as store:
        runs = store.runs_frame(RUN_COLUMNS)
        meas = store.measurements_frame(MEASUREMENT_COLUMNS)
        fixed = spec_columns(store)
        spec = store.spec()
    df = meas.merge(runs, on="run_id", how="left")
    for k, v in fixed.items():
        df[k] = v
    if spec is not None and spec.train.epochs_by_width:
        df["epochs"] = df["width"].map(spec.train.epochs_for).astype(float)
    df["diverged"] = df["diverged"].astype(bool)
    df["lr_time"] = cumulative_lr(df["step"], df["lr"], df["momentum"], df["optimizer"])
    order = list(fixed) + RUN_COLUMNS + MEASUREMENT_COLUMNS + ["lr_time"]
    return df[order].sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)


def export_table(
    folder: str | Path, out: str | Path, fmt: Literal["csv", "parquet"] | None = None
) -> pd.DataFrame:
    """Write the tidy table to ``out`` (format from ``fmt`` or the file suffix)."""
    out = Path(out)
    fmt = fmt or ("parquet" if out.suffix in (".parquet", ".pq") else "csv")
    if fmt not in ("csv", "parquet"):
        raise ScaletimeError(f"export format must be 'csv' or 'parquet', got {fmt!r}")
    df = load_table(folder)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        df.to_csv(out, index=False)
    else:
        df.to_parquet(out, index=False)
    return df
