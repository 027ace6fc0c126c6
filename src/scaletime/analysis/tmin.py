"""Minimum training time to reach an error threshold, t_min (the paper's Figure 1).

For a run with checkpoints ``(t_i, E_i)`` (``t_i > 0``) and a threshold ``e``, t_min is the
first time the curve reaches ``e``, linear interpolation of E in log t between the checkpoints
``i-1`` and ``i`` that bracket the first crossing (docs/scale-time.md, "t_min"):

    log t_min = log t_{i-1} + (e − E_{i-1}) / (E_i − E_{i-1}) · (log t_i − log t_{i-1}).

A run that never reaches ``e`` is right-censored (``status = "not_reached"``, t_min NaN); a run
already at or below ``e`` at its first positive checkpoint is left-censored
(``status = "before_first"``, t_min NaN): neither is guessed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from scaletime.analysis.curves import positive_time, size_curves

__all__ = ["auto_thresholds", "crossing_time", "tmin_summary", "tmin_table"]

REACHED, NOT_REACHED, BEFORE_FIRST = "reached", "not_reached", "before_first"


def crossing_time(time: np.ndarray, metric: np.ndarray, threshold: float) -> tuple[float, str]:
    """First time ``metric`` reaches ``threshold`` (log-time interpolation) and a status.

    Parameters
    ----------
    time : ndarray, shape (n,)
        Positive, increasing checkpoint times.
    metric : ndarray, shape (n,)
        The metric at those times (lower is better).
    threshold : float

    Returns
    -------
    (t_min, status)
        ``status`` is ``"reached"``, ``"not_reached"`` or ``"before_first"``; t_min is NaN
        unless reached.
    """
    time = np.asarray(time, dtype=float)
    metric = np.asarray(metric, dtype=float)
    ok = np.isfinite(metric) & (time > 0)
    time, metric = time[ok], metric[ok]
    below = np.flatnonzero(metric <= threshold)
    if below.size == 0:
        return np.nan, NOT_REACHED
    i = int(below[0])
    if i == 0:
        return np.nan, BEFORE_FIRST
    e0, e1 = metric[i - 1], metric[i]
    lt0, lt1 = np.log(time[i - 1]), np.log(time[i])
    fraction = (threshold - e0) / (e1 - e0)  # e0 > threshold >= e1, so 0 < fraction <= 1
    return float(np.exp(lt0 + fraction * (lt1 - lt0))), REACHED


def auto_thresholds(rows: pd.DataFrame, n_thresholds: int = 5, min_sizes: int = 3) -> np.ndarray:
    """A ladder of thresholds spanning the observed range of one setting, decreasing.

    Each threshold must lie below where at least ``min_sizes`` model sizes start and above
    where at least ``min_sizes`` sizes end, so that each is crossed by that many sizes: the
    top of the range is the ``min_sizes``-th highest starting metric (seed median of each run's
    metric at its first positive checkpoint), the bottom the ``min_sizes``-th lowest best metric
    (seed median of each run's minimum). ``n_thresholds`` values are spaced evenly in log metric
    strictly inside this range (evenly in the metric if it is not positive).
    """
    if n_thresholds < 1:
        raise ValueError(f"n_thresholds must be at least 1, got {n_thresholds}")
    rows = positive_time(rows).sort_values(["run", "time"])
    per_run = rows.groupby("run").agg(
        size=("size", "first"), first=("metric", "first"), best=("metric", "min")
    )
    per_size = per_run.groupby("size")[["first", "best"]].median()
    k = min(min_sizes, len(per_size))
    top = float(per_size["first"].sort_values(ascending=False).iloc[k - 1])
    bottom = float(per_size["best"].sort_values().iloc[k - 1])
    if not bottom < top:  # curves barely move: fall back to the inner quantiles of the metric
        values = rows["metric"].to_numpy(float)
        return np.sort(np.quantile(values, np.linspace(0.2, 0.8, n_thresholds)))[::-1]
    if bottom > 0:
        ladder = np.geomspace(top, bottom, n_thresholds + 2)[1:-1]
    else:
        ladder = np.linspace(top, bottom, n_thresholds + 2)[1:-1]
    return np.array([float(f"{x:.4g}") for x in ladder])


def tmin_table(rows: pd.DataFrame, thresholds: Sequence[float] | np.ndarray) -> pd.DataFrame:
    """t_min of every run for every threshold.

    Parameters
    ----------
    rows : DataFrame
        Canonical rows of one setting (:func:`scaletime.table.resolve`).
    thresholds : sequence of float

    Returns
    -------
    DataFrame
        One row per run × threshold: ``run, size, width, seed, threshold, t_min, status``.
    """
    records = []
    for curves in size_curves(rows):
        for run, seed, values in zip(curves.runs, curves.seeds, curves.values, strict=True):
            for threshold in thresholds:
                t_min, status = crossing_time(curves.time, values, float(threshold))
                records.append(
                    {
                        "run": run,
                        "size": curves.size,
                        "width": curves.width,
                        "seed": seed,
                        "threshold": float(threshold),
                        "t_min": t_min,
                        "status": status,
                    }
                )
    columns = ["run", "size", "width", "seed", "threshold", "t_min", "status"]
    if not records:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame.from_records(records, columns=columns)


def tmin_summary(table: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per threshold and size: geometric mean of t_min over the seeds that reached it, with CI.

    The interval is the Student-t interval of the mean of ``log t_min`` over the reaching seeds,
    mapped back by ``exp`` (NaN with fewer than two reaching seeds).

    Returns
    -------
    DataFrame
        ``threshold, size, width, n_runs, n_reached, t_min, ci_low, ci_high, log_sd``, sorted
        by decreasing threshold then size.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    records = []
    for (threshold, size), rows in table.groupby(["threshold", "size"], sort=True):
        reached = rows.loc[rows["status"] == REACHED, "t_min"].to_numpy(float)
        log_t = np.log(reached)
        n = log_t.size
        centre = float(np.mean(log_t)) if n else np.nan
        sd = float(np.std(log_t, ddof=1)) if n >= 2 else np.nan
        half = stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / np.sqrt(n) if n >= 2 else np.nan
        records.append(
            {
                "threshold": float(threshold),
                "size": float(size),
                "width": float(rows["width"].iloc[0]),
                "n_runs": len(rows),
                "n_reached": n,
                "t_min": float(np.exp(centre)),
                "ci_low": float(np.exp(centre - half)),
                "ci_high": float(np.exp(centre + half)),
                "log_sd": sd,
            }
        )
    summary = pd.DataFrame.from_records(records)
    if summary.empty:
        return summary
    return summary.sort_values(["threshold", "size"], ascending=[False, True]).reset_index(
        drop=True
    )
