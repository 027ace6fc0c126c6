"""Rolling-origin backtests on the table itself (docs/forecast.md, "Backtests").

Along the extrapolated axis ``a`` (size, time or data), an *origin* is a cut ``c``: every
forecaster is fitted on the rows with ``a <= c`` and predicts the rows with ``a > c``. Each
predicted row carries its extrapolation ratio ``r = a / c`` and its log residual
``e = log y − log ŷ``. Cuts: the ``max_origins`` largest distinct values that leave at least two
fitted values and one predicted (size, data with fewer than 8 distinct values), or the distinct
values at 55%, 70% and 85% of the fitted ones (time; size and data with 8 or more). A forecaster that fails at an origin, or has no answer for a row, is
replaced there by ``last-value`` — what the forecast would have done.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scaletime.fitting.errors import FittingError
from scaletime.fitting.evaluate import subset
from scaletime.forecasting.candidates import Candidate
from scaletime.table import CurveTable

#: Fractions of the distinct fitted values at which backtests cut: along time (6 values or
#: more), and along size or data when there are :data:`MANY_VALUES` or more (language-model
#: grids), so that each origin predicts a sizeable part of the table.
TIME_CUTS = (0.55, 0.70, 0.85)
MANY_VALUES = 8
FALLBACK = "last-value"


def axis_values(table: CurveTable, axis: str) -> np.ndarray:
    """Distinct values of ``axis`` in ``table`` (positive ones for time), sorted."""
    values = np.unique(table.frame[axis].to_numpy(float))
    return values[values > 0] if axis == "time" else values


def origin_cuts(table: CurveTable, axis: str, max_origins: int = 3) -> list[float]:
    """The backtest cuts along ``axis`` (module docstring), smallest first."""
    values = axis_values(table, axis)
    if len(values) < 3:
        return []
    if len(values) >= (6 if axis == "time" else MANY_VALUES):
        idx = sorted({round(f * (len(values) - 1)) for f in TIME_CUTS})
        cuts = [float(values[i]) for i in idx if 1 <= i <= len(values) - 2]
        return cuts[-max_origins:]
    return [float(v) for v in values[1:-1][-max_origins:]]


@dataclass
class Backtest:
    """The residuals of every forecaster at every origin.

    Attributes
    ----------
    cuts : list of float
    points : DataFrame
        One row per origin and predicted row: ``origin, cut, row, ratio, y`` (``row`` indexes the
        table's frame).
    log_pred : ndarray, shape (n_candidates, n_points)
        Each candidate's log prediction (the fallback's where it had none).
    names : list of str
    failures : dict
        candidate -> list of ``"cut: message"`` for the origins where its fit failed.
    """

    cuts: list[float]
    points: pd.DataFrame
    log_pred: np.ndarray
    names: list[str]
    failures: dict[str, list[str]] = field(default_factory=dict)

    @property
    def residuals(self) -> np.ndarray:
        """``log y − log ŷ``, shape (n_candidates, n_points)."""
        return np.log(self.points["y"].to_numpy(float))[None, :] - self.log_pred


def run_backtests(
    table: CurveTable,
    axis: str,
    candidates: Sequence[Candidate],
    cuts: Sequence[float],
    fit_options: dict[str, Any],
    on_fit: Callable[[str, float], None] | None = None,
) -> Backtest:
    """Fit every candidate at every cut and predict the rows beyond it."""
    names = [c.name for c in candidates]
    frames, preds = [], []
    failures: dict[str, list[str]] = {}
    values = table.frame[axis].to_numpy(float)
    for o, cut in enumerate(cuts):
        fit_rows = values <= cut
        test_rows = (values > cut) & (table.frame["metric"].to_numpy(float) > 0)
        train, test = subset(table, fit_rows), table.frame.loc[test_rows]
        if len(test) == 0:
            continue
        fallback = Candidate(FALLBACK).fit(train, axis, fit_options)(test)
        block = np.empty((len(candidates), len(test)))
        for i, cand in enumerate(candidates):
            pred = np.full(len(test), np.nan)
            if cand.not_applicable(train, axis) is None:
                try:
                    pred = cand.fit(train, axis, fit_options)(test)
                except FittingError as exc:
                    failures.setdefault(cand.name, []).append(f"{cut:g}: {exc}")
            else:
                failures.setdefault(cand.name, []).append(f"{cut:g}: not applicable")
            block[i] = np.log(np.where(np.isfinite(pred), pred, fallback))
            if on_fit is not None:
                on_fit(cand.name, cut)
        preds.append(block)
        frames.append(
            pd.DataFrame(
                {
                    "origin": o,
                    "cut": cut,
                    "row": np.flatnonzero(test_rows),
                    "ratio": test[axis].to_numpy(float) / cut,
                    "y": test["metric"].to_numpy(float),
                }
            )
        )
    if not frames:
        empty = pd.DataFrame(columns=["origin", "cut", "row", "ratio", "y"])
        return Backtest(list(cuts), empty, np.zeros((len(candidates), 0)), names, failures)
    return Backtest(
        list(cuts), pd.concat(frames, ignore_index=True), np.hstack(preds), names, failures
    )
