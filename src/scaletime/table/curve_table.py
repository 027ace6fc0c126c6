"""The one table type: measured curves in canonical form, resolved once and passed down."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from scaletime.errors import FittingError

__all__ = ["BOOTSTRAP_UNITS", "CurveTable"]

#: Resampling units of the bootstrap: a run, a seed, or each point on its own.
BOOTSTRAP_UNITS = ("run", "seed", "point")


def _plain(value: Any) -> Any:
    """numpy scalar → Python scalar (JSON-friendly)."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass
class CurveTable:
    """A table in canonical form: one row per run × checkpoint, role columns renamed.

    Built by :func:`scaletime.table.resolve` (analysis: every setting column defines a setting)
    or :func:`scaletime.table.load_fit_table` (fitting: data and noise are roles, a missing
    size or time is a constant, and only the other setting columns that vary split the table).

    Attributes
    ----------
    frame : DataFrame
        Columns ``run, size, time, metric`` always; ``seed, data, noise, width`` when mapped;
        then the setting columns under their own names. Sorted by setting, run, time.
    roles : dict
        role → source column it was read from (only the roles present; a role filled by a
        constant is absent).
    setting_columns : tuple of str
        The columns that define a setting (curves are compared within one setting).
    constant_roles : tuple of str
        Roles the table lacks, filled with a constant 1 (fitting tables only).
    varying_settings : dict
        Setting columns other than data and noise that take several values → their values
        (fitting tables only; :meth:`settings` splits on them).
    notes : list of str
    n_dropped_diverged, n_dropped_missing : int
        Rows dropped because flagged diverged, or because the metric or time is missing.
    """

    frame: pd.DataFrame
    roles: dict[str, str]
    setting_columns: tuple[str, ...]
    constant_roles: tuple[str, ...] = ()
    varying_settings: dict[str, list[Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    n_dropped_diverged: int = 0
    n_dropped_missing: int = 0

    def setting_frames(self) -> Iterator[tuple[dict[str, Any], pd.DataFrame]]:
        """Yield ``(setting, rows)`` for each combination of the setting columns."""
        if not self.setting_columns:
            yield {}, self.frame
            return
        columns = list(self.setting_columns)
        for key, rows in self.frame.groupby(columns, sort=True, dropna=False):
            values = key if isinstance(key, tuple) else (key,)
            setting = {c: _plain(v) for c, v in zip(columns, values, strict=True)}
            yield setting, rows

    def settings(self) -> list[tuple[dict[str, Any], CurveTable]]:
        """One sub-table per combination of the varying setting columns (fitting)."""
        if not self.varying_settings:
            return [({}, self)]
        keys = list(self.varying_settings)
        out = []
        for key, rows in self.frame.groupby(keys, sort=True, dropna=False):
            values = key if isinstance(key, tuple) else (key,)
            setting = dict(zip(keys, [_plain(v) for v in values], strict=True))
            sub = replace(
                self, frame=rows.reset_index(drop=True), varying_settings={}, notes=list(self.notes)
            )
            out.append((setting, sub))
        return out

    def with_frame(self, frame: pd.DataFrame) -> CurveTable:
        """The same table (roles, settings, notes) over other rows of the same columns."""
        return replace(self, frame=frame, notes=list(self.notes))

    def varying_roles(self) -> set[str]:
        """Roles among size, time, data, noise that take more than one value."""
        return {
            r
            for r in ("size", "time", "data", "noise")
            if r in self.frame and r not in self.constant_roles and self.frame[r].nunique() > 1
        }

    def groups(self, unit: str = "run") -> np.ndarray:
        """Bootstrap group labels per row: the run, the seed, or each point on its own."""
        if unit not in BOOTSTRAP_UNITS:
            raise ValueError(f"bootstrap unit must be one of {BOOTSTRAP_UNITS}, got {unit!r}")
        if unit == "point":
            return np.arange(len(self.frame))
        if unit == "seed":
            if "seed" not in self.frame:
                raise FittingError(
                    "bootstrap over seeds needs a seed column (map it with seed=...)"
                )
            return self.frame["seed"].to_numpy()
        return self.frame["run"].to_numpy()
