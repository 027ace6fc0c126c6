"""From a tidy table to the fitter's inputs: roles, filters, derived columns, bootstrap groups.

Reading and column checks are :mod:`scaletime.table.roles` (``ColumnMapping``, ``resolve``);
``load_fit_table`` adds what fitting needs on top and returns the same :class:`CurveTable`
(docs/fitting.md, "Input").

========  =====================  ================================================================
role      sweep default          notes
========  =====================  ================================================================
size      ``n_params``           if the table has no such column, a constant (size-free tables)
time      ``lr_time``            cumulative learning rate Σηₜ when the table has it (sweeps),
                                 else ``epoch``; rows with time <= 0 are dropped for laws with t^-b
data      ``data_size``          optional
noise     ``label_noise``        optional; a law that needs it gets 0 when absent
metric    ``test_error``         must be positive (the loss is on log error)
group     ``run_id``             bootstrap unit: ``run`` (default), ``seed`` or ``point``
========  =====================  ================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from scaletime.engine.config import cumulative_lr
from scaletime.errors import FittingError
from scaletime.expressions import derive_column, filter_rows
from scaletime.table.curve_table import CurveTable
from scaletime.table.io import read_table
from scaletime.table.roles import ColumnMapping, resolve

__all__ = ["load_fit_table", "single_setting", "with_lr_time"]

#: Name given to a constant column standing in for a role the table lacks.
_CONSTANT_SIZE = "__constant_size__"
_CONSTANT_TIME = "__constant_time__"


def load_fit_table(
    source: str | Path | pd.DataFrame,
    *,
    size: str | None = None,
    time: str | None = None,
    data: str | None = None,
    noise: str | None = None,
    metric: str | None = None,
    seed: str | None = None,
    run: str | None = None,
    group_by: Sequence[str] | None = None,
    where: str | None = None,
    derive: Sequence[str] = (),
) -> CurveTable:
    """Read ``source`` and map its columns onto the fitting roles.

    Parameters
    ----------
    source : path or DataFrame
        CSV, Parquet, sweep folder or DataFrame (:func:`scaletime.table.read_table`).
    size, time, data, noise, metric, seed, run : str, optional
        Column of each role; ``None`` uses the tidy-table default (``n_params``, ``lr_time``
        — else ``epoch`` —,
        ``data_size``, ``label_noise``, ``test_error``, ``seed``, ``run_id``) when present.
        A size-free or time-free table (e.g. one curve per task, or a size × data table) gets a
        constant in place of the missing role.
    group_by : sequence of str, optional
        Columns identifying separate settings (default: the tidy table's setting columns).
    where : str, optional
        A row filter applied after ``derive``, e.g. ``"arch == 'mlp'"``
        (:func:`scaletime.expressions.filter_rows`: a restricted syntax, never ``eval``).
    derive : sequence of str
        ``"NAME = EXPRESSION"`` columns computed before mapping, e.g.
        ``"tokens = `Training FLOP` / (6 * `Model Size`)"``
        (:func:`scaletime.expressions.derive_column`).
    """
    df = read_table(source)
    for expression in derive:
        df = derive_column(df, expression)
    if where:
        df = filter_rows(df, where)
    constant: list[str] = []
    size_col = size or "n_params"
    if size is None and size_col not in df.columns:
        df = df.assign(**{_CONSTANT_SIZE: 1.0})
        size_col = _CONSTANT_SIZE
        constant.append("size")
    df = with_lr_time(df)
    time_col = time or ("lr_time" if "lr_time" in df.columns else "epoch")
    if time is None and time_col not in df.columns:
        df = df.assign(**{_CONSTANT_TIME: 1.0})
        time_col = _CONSTANT_TIME
        constant.append("time")
    mapping = ColumnMapping(
        size=size_col,
        time=time_col,
        metric=metric or "test_error",
        seed=seed,
        data=data,
        noise=noise,
        run=run,
        group_by=tuple(group_by) if group_by is not None else None,
    )
    resolved = resolve(df, mapping)
    frame = resolved.frame
    zero = frame["metric"].to_numpy() <= 0
    if zero.any():
        raise FittingError(
            f"column {resolved.roles['metric']!r} (role 'metric') is 0 on {int(zero.sum())} "
            "row(s); laws are fitted on log(metric), so every value must be positive (drop "
            'them with --where, e.g. "test_error > 0")'
        )
    columns = {r: c for r, c in resolved.roles.items() if c not in (_CONSTANT_SIZE, _CONSTANT_TIME)}
    role_setting_columns = {columns.get("data"), columns.get("noise")}
    varying = {
        c: sorted(frame[c].dropna().unique().tolist(), key=str)
        for c in resolved.setting_columns
        if c not in role_setting_columns and frame[c].nunique(dropna=False) > 1
    }
    notes = list(resolved.notes)
    if resolved.n_dropped_diverged:
        notes.append(f"dropped {resolved.n_dropped_diverged} rows flagged diverged")
    if resolved.n_dropped_missing:
        notes.append(f"dropped {resolved.n_dropped_missing} rows with a missing time or metric")
    for role in constant:
        notes.append(f"no {role} column: {role} is constant (laws needing it are unavailable)")
    return CurveTable(
        frame,
        columns,
        resolved.setting_columns,
        tuple(constant),
        varying,
        notes,
        resolved.n_dropped_diverged,
        resolved.n_dropped_missing,
    )


#: Columns of a sweep's tidy table from which the cumulative learning rate is derived.
_LR_TIME_INPUTS = ("step", "lr", "momentum", "optimizer")


def with_lr_time(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the ``lr_time`` column (Σηₜ, :func:`scaletime.engine.config.cumulative_lr`)
    added when it is missing and the sweep columns it derives from are present."""
    if "lr_time" in df.columns or not all(c in df.columns for c in _LR_TIME_INPUTS):
        return df
    return df.assign(lr_time=cumulative_lr(df["step"], df["lr"], df["momentum"], df["optimizer"]))


def single_setting(table: CurveTable) -> CurveTable:
    """``table`` if it holds one setting, else an error listing the varying columns."""
    if table.varying_settings:
        desc = "; ".join(f"{c}: {v[:5]}" for c, v in table.varying_settings.items())
        raise FittingError(
            f"the table mixes several settings ({desc}); fit one at a time, "
            'e.g. with --where "COLUMN == VALUE"'
        )
    return table
