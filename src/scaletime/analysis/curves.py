"""Measured curves of one setting: per-run arrays on a log-time axis, seed means, interpolation.

Every routine here takes the canonical frame of :func:`scaletime.table.resolve` (columns
``run, size, time, metric`` and optionally ``seed, width``) restricted to one setting. Time is
handled on a log axis (docs/scale-time.md, "Time axis"): checkpoints at time ≤ 0 (initialisation)
cannot be placed on it and are left out of every log-time computation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SizeCurves", "interp_log_time", "positive_time", "run_table", "size_curves"]


def positive_time(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows with ``time > 0`` (log time is undefined at the initialisation checkpoint)."""
    return rows.loc[rows["time"] > 0]


def interp_log_time(t_query: np.ndarray, t: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Interpolate ``values(t)`` linearly in ``log t`` at ``t_query``; NaN outside ``[t[0], t[-1]]``.

    ``t`` must be positive and increasing. ``values`` may be 1-D ``(n_t,)`` or 2-D
    ``(n_curves, n_t)`` (each row interpolated; NaN entries of a row are skipped). Outside the
    covered range the result is NaN: no extrapolation, ever.
    """
    t_query = np.asarray(t_query, dtype=float)
    log_q = np.log(np.where(t_query > 0, t_query, np.nan))
    log_t = np.log(np.asarray(t, dtype=float))
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        ok = np.isfinite(values)
        if ok.sum() == 0:
            return np.full(t_query.shape, np.nan)
        lt, v = log_t[ok], values[ok]
        out = np.interp(log_q, lt, v)
        out[~((log_q >= lt[0] - 1e-12) & (log_q <= lt[-1] + 1e-12))] = np.nan
        return out
    return np.stack([interp_log_time(t_query, t, row) for row in values])


@dataclass(frozen=True)
class SizeCurves:
    """The runs of one model size on a common time grid.

    Attributes
    ----------
    size : float
        Model size N.
    width : float
        Width (NaN when the table has none).
    runs : tuple of str
        Run identifiers, one per row of ``values``.
    seeds : ndarray, shape (n_runs,)
        Seed of each run (NaN when the table has none).
    time : ndarray, shape (n_times,)
        Union of the runs' positive checkpoint times, increasing.
    values : ndarray, shape (n_runs, n_times)
        Each run's metric on ``time`` (log-time interpolation between its own checkpoints, NaN
        outside them).
    """

    size: float
    width: float
    runs: tuple[str, ...]
    seeds: np.ndarray
    time: np.ndarray
    values: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        """Seed mean on ``time``, shape ``(n_times,)`` (NaN where no run has a value)."""
        finite = np.isfinite(self.values)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(finite, self.values, 0.0).sum(axis=0) / finite.sum(axis=0)

    @property
    def variance(self) -> np.ndarray:
        """Seed-to-seed variance on ``time`` (ddof=1; NaN with a single run)."""
        count = self.count
        finite = np.isfinite(self.values)
        centred = np.where(finite, self.values - self.mean, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count >= 2, (centred**2).sum(axis=0) / (count - 1), np.nan)

    @property
    def count(self) -> np.ndarray:
        """Number of runs with a value at each time."""
        return np.isfinite(self.values).sum(axis=0)


def size_curves(rows: pd.DataFrame) -> list[SizeCurves]:
    """Group one setting's rows into :class:`SizeCurves`, smallest size first.

    Repeated checkpoints of a run (same time) are averaged; times ≤ 0 are dropped.
    """
    rows = positive_time(rows)
    out: list[SizeCurves] = []
    for size, by_size in rows.groupby("size", sort=True):
        grid = np.unique(by_size["time"].to_numpy(dtype=float))
        run_ids: list[str] = []
        seeds: list[float] = []
        curves: list[np.ndarray] = []
        for run, by_run in by_size.groupby("run", sort=True):
            per_time = by_run.groupby("time")["metric"].mean()
            curves.append(
                interp_log_time(grid, per_time.index.to_numpy(float), per_time.to_numpy(float))
            )
            run_ids.append(str(run))
            seeds.append(float(by_run["seed"].iloc[0]) if "seed" in by_run else np.nan)
        width = float(by_size["width"].iloc[0]) if "width" in by_size else np.nan
        out.append(
            SizeCurves(
                size=float(size),
                width=width,
                runs=tuple(run_ids),
                seeds=np.asarray(seeds),
                time=grid,
                values=np.vstack(curves),
            )
        )
    return out


def run_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per run: ``run, size, width, seed`` (NaN where the table has no such column)."""
    info = rows.groupby("run", sort=True).first()
    out = pd.DataFrame(index=info.index)
    for column in ("size", "width", "seed"):
        out[column] = info[column].astype(float) if column in info else np.nan
    return out.reset_index()
