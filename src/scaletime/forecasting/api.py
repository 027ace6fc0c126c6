"""``forecast``: "how good will size N* (time T*, data n*) be?" from a table, and the
equal-compute comparison of growing the model, training longer and getting more data
(docs/forecast.md).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scaletime.fitting.errors import FittingError
from scaletime.fitting.evaluate import HOLDOUT_AXES
from scaletime.forecasting.model import ScalingForecaster
from scaletime.stats import to_jsonable
from scaletime.table import CurveTable, load_fit_table, single_setting

ROLES = ("size", "time", "data", "noise")
#: Warn when the asked ratio exceeds the largest backtested one by this factor.
BEYOND_FACTOR = 1.5


def size_for_width(frame: pd.DataFrame, width: float) -> float:
    """Parameter count of a model of ``width`` in the family of ``frame`` (columns ``width`` and
    ``n_params``): the least-squares ``N = a·w² + b·w + c`` (exact for the MLPs and CNNs of a
    sweep, whose count is quadratic in width), checked to reproduce the table's sizes to 1%."""
    if not {"width", "n_params"} <= set(frame.columns):
        raise FittingError("--width needs a table with width and n_params columns; give --size")
    if not (math.isfinite(width) and width > 0):
        raise FittingError(f"width must be a positive number, got {width}")
    pairs = frame[["width", "n_params"]].dropna().drop_duplicates().astype(float)
    if len(pairs) < 3:
        raise FittingError("--width needs at least three widths in the table; give --size")
    w, n = pairs["width"].to_numpy(), pairs["n_params"].to_numpy()
    coef = np.polyfit(w, n, 2)
    if np.max(np.abs(np.polyval(coef, w) / n - 1.0)) > 0.01:
        raise FittingError("n_params is not quadratic in width in this table; give --size")
    return float(np.polyval(coef, width))


def _base_rows(table: CurveTable, asked: dict[str, float]) -> pd.DataFrame:
    """The rows a query starts from: the largest model (and the largest data, when data is
    asked), their times and other roles."""
    frame = table.frame
    frame = frame.loc[frame["size"] == frame["size"].max()]
    if "data" in asked and "data" in frame:
        frame = frame.loc[frame["data"] == frame["data"].max()]
    return frame


def query_grid(table: CurveTable, asked: dict[str, float]) -> pd.DataFrame:
    """Rows to forecast: the base rows' (time, data, noise) combinations — every checkpoint of
    the largest model — with the asked roles set."""
    base = _base_rows(table, asked)
    cols = [r for r in ROLES if r in base]
    grid = base[cols].drop_duplicates()
    for role, value in asked.items():
        grid = grid.assign(**{role: float(value)})
    if "time" not in asked:
        grid = grid.loc[grid["time"] > 0]
    grid = grid.drop_duplicates().sort_values(cols).reset_index(drop=True)
    settings = {c: base[c].iloc[0] for c in table.setting_columns if c in base and c not in grid}
    return grid.assign(run="__forecast__", **settings)


def pick_axis(table: CurveTable, asked: dict[str, float]) -> tuple[str, float]:
    """The asked role farthest beyond the table (largest log ratio to its maximum), with that
    ratio; among varying roles only."""
    varying = table.varying_roles()
    best, ratio = None, -np.inf
    for role in HOLDOUT_AXES:
        if role in asked and role in varying:
            values = table.frame[role].to_numpy(float)
            top = values[values > 0].max() if role == "time" else values.max()
            r = asked[role] / top
            if r > ratio:
                best, ratio = role, r
    if best is None:
        given = ", ".join(sorted(asked)) or "nothing"
        raise FittingError(
            f"asked {given}: give --size (or --width), --time or --data for a role that varies "
            f"in the table (it varies {', '.join(sorted(varying)) or 'none'})"
        )
    return best, float(ratio)


@dataclass
class ForecastResult:
    """A forecast with its backtests. ``frame`` holds the query rows with ``ratio, forecast,
    low, high`` and the weight of each forecaster (``w:NAME``)."""

    frame: pd.DataFrame
    model: ScalingForecaster
    axis: str
    asked: dict[str, float]
    asked_ratio: float
    table: CurveTable
    warnings: list[str] = field(default_factory=list)

    @property
    def final(self) -> pd.Series:
        """The row at the latest time (the forecast of the end of training)."""
        return self.frame.sort_values("time").iloc[-1]

    def forecasters(self) -> pd.DataFrame:
        """Per forecaster: backtest RMSLE and its weight in this forecast (mean over rows)."""
        scores = self.model.scores_.copy()
        scores["weight"] = [
            float(self.frame[f"w:{n}"].mean()) if f"w:{n}" in self.frame else 0.0
            for n in scores["forecaster"]
        ]
        return scores.reset_index(drop=True)

    def explanation(self) -> str:
        """Which forecasters the forecast used, and why, in one sentence."""
        m = self.model
        used = {n: w for n, w in self.forecasters()[["forecaster", "weight"]].values if w > 0.005}
        parts = ", ".join(f"{n} {w:.0%}" for n, w in sorted(used.items(), key=lambda kv: -kv[1]))
        why = (
            f"leave-one-origin-out backtest RMSLE select {m.loo_rmsle_['select']:.3g} vs "
            f"ensemble {m.loo_rmsle_['ensemble']:.3g}"
            if m.loo_rmsle_
            else "too few backtest origins to compare select and ensemble"
        )
        return f"{m.method_} ({why}) of {parts}, by backtest error at ratios near {self.asked_ratio:.3g}"

    def to_dict(self) -> dict[str, Any]:
        m = self.model
        keep = [c for c in (*ROLES, "ratio", "forecast", "low", "high") if c in self.frame]
        return to_jsonable(
            {
                "axis": self.axis,
                "asked": self.asked,
                "asked_ratio": self.asked_ratio,
                "confidence": m.confidence,
                "method": m.method_,
                "explanation": self.explanation(),
                "interval_source": m.interval_source_,
                "backtest_coverage": m.backtest_coverage_,
                "backtest_cuts": m.backtest_.cuts,
                "max_backtest_ratio": m.max_backtest_ratio(),
                "forecasters": self.forecasters().to_dict(orient="records"),
                "skipped": m.skipped_,
                "final_fit_failures": m.final_failures_,
                "warnings": self.warnings,
                "forecast": self.frame[keep].to_dict(orient="records"),
            }
        )

    def to_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=1))
        return path

    def plot(self, path: str | Path) -> Path:
        """PNG of the table's curves (seed means), the forecast and its band."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        path = Path(path)
        fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
        frame = self.table.frame.loc[
            (self.table.frame["time"] > 0) & (self.table.frame["metric"] > 0)
        ]
        sizes = sorted(frame["size"].unique())
        colors = plt.cm.viridis(np.linspace(0, 0.85, max(len(sizes), 1)))
        f = self.frame.sort_values("time")
        curve = f["time"].nunique() > 1
        x_role = "time" if curve else self.axis
        for color, size in zip(colors, sizes, strict=True):
            rows = frame.loc[frame["size"] == size]
            if curve:
                mean = rows.groupby("time")["metric"].mean()
                ax.plot(mean.index, mean.to_numpy(), color=color, lw=1.2, label=f"N={size:.3g}")
            else:
                ax.scatter(rows[x_role], rows["metric"], color=color, s=8, label=f"N={size:.3g}")
        label = f"forecast N={self.frame['size'].iloc[0]:.3g}"
        if curve:
            ax.plot(f["time"], f["forecast"], "k--", lw=2, label=label)
            ok = np.isfinite(f["low"]) & np.isfinite(f["high"])
            ax.fill_between(
                f["time"][ok],
                f["low"][ok],
                f["high"][ok],
                color="k",
                alpha=0.15,
                label=f"{self.model.confidence:.0%} interval",
            )
        else:
            lo = (f["forecast"] - f["low"]).clip(lower=0)
            hi = (f["high"] - f["forecast"]).clip(lower=0)
            ax.errorbar(
                f[x_role], f["forecast"], yerr=[lo, hi], fmt="ks", ms=7, capsize=4, label=label
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(self.table.roles.get(x_role, x_role))
        ax.set_ylabel(self.table.roles.get("metric", "metric"))
        ax.set_title(
            f"Forecast along {self.axis} (ratio {self.asked_ratio:.3g}): {self.model.method_}"
        )
        ax.legend(fontsize=8, ncol=2)
        ax.grid(True, which="both", alpha=0.2)
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
        return path


def _table(source: Any, load_options: dict[str, Any] | None) -> CurveTable:
    if isinstance(source, CurveTable):
        return single_setting(source)
    return single_setting(load_fit_table(source, **(load_options or {})))


def forecast(
    source: Any,
    *,
    size: float | None = None,
    time: float | None = None,
    data: float | None = None,
    noise: float | None = None,
    candidates: list[str] | None = None,
    confidence: float = 0.8,
    method: str = "auto",
    fit_options: dict[str, Any] | None = None,
    load_options: dict[str, Any] | None = None,
    axis: str | None = None,
    on_progress: Any = None,
) -> ForecastResult:
    """Forecast the metric at the asked size, time, data and noise (docs/forecast.md).

    ``source`` is a :class:`CurveTable`, a table path, a sweep folder or a DataFrame (read with
    :func:`~scaletime.table.load_fit_table` and ``load_options``; one setting). Roles not
    asked take the largest model's values: without ``time``, the forecast is a whole curve at
    the largest model's checkpoints. The extrapolated axis is ``axis``, or the asked role
    farthest beyond the table; the forecaster is :class:`ScalingForecaster` along it.
    """
    table = _table(source, load_options)
    asked = {
        r: float(v) for r, v in zip(ROLES, (size, time, data, noise), strict=True) if v is not None
    }
    for role, value in asked.items():
        if not math.isfinite(value) or value < 0 or (value == 0 and role != "noise"):
            raise FittingError(f"{role} must be a positive number, got {value}")
    picked, ratio = pick_axis(table, asked)
    if axis is not None and axis != picked:
        if axis not in asked or axis not in table.varying_roles():
            raise FittingError(f"axis {axis!r} must be asked and vary in the table")
        values = table.frame[axis].to_numpy(float)
        ratio = asked[axis] / (values[values > 0].max() if axis == "time" else values.max())
    axis = axis or picked
    model = ScalingForecaster(
        axis,
        candidates=candidates,
        confidence=confidence,
        method=method,
        fit_options=fit_options,
        on_progress=on_progress,
    )
    grid = query_grid(table, asked)
    model.fit(table, query=grid)
    frame = model.predict_frame(grid)
    notes = list(model.warnings_)
    reach = model.max_backtest_ratio()
    if ratio > BEYOND_FACTOR * reach:
        notes.append(
            f"the asked {axis} ratio {ratio:.3g} is beyond any backtested ratio (at most "
            f"{reach:.3g}): the interval extrapolates the backtest errors"
        )
    if ratio <= 1.0:
        notes.append(f"the asked {axis} lies inside the table's range (ratio {ratio:.3g})")
    return ForecastResult(frame, model, axis, asked, ratio, table, notes)


# ------------------------------------------------------------------ equal-compute options

#: Time columns counted in passes over the data: more data at the same value is more compute.
EPOCH_TIME_COLUMNS = ("epoch", "epochs")


@dataclass
class Option:
    """One way to spend the extra compute, with its forecast (``reason`` when it has none)."""

    name: str
    point: dict[str, float]
    forecast: float = float("nan")
    low: float = float("nan")
    high: float = float("nan")
    result: ForecastResult | None = None
    reason: str = ""


@dataclass
class BudgetComparison:
    """Grow the model, train longer or get more data, each ``factor``× the base compute
    (compute ∝ N × examples seen)."""

    base: dict[str, float]
    factor: float
    options: list[Option]
    winner: str | None
    probability: float
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(
            {
                "base": self.base,
                "factor": self.factor,
                "winner": self.winner,
                "probability_winner_best": self.probability,
                "confidence": self.confidence,
                "options": [
                    {
                        "name": o.name,
                        "point": o.point,
                        "forecast": o.forecast,
                        "low": o.low,
                        "high": o.high,
                        "method": o.result.model.method_ if o.result else None,
                        "explanation": o.result.explanation() if o.result else None,
                        "warnings": o.result.warnings if o.result else [],
                        "reason": o.reason,
                    }
                    for o in self.options
                ],
            }
        )


def base_point(table: CurveTable) -> dict[str, float]:
    """The largest model at its latest time (and largest data, noise as measured there)."""
    rows = _base_rows(table, {"data": 0.0})
    rows = rows.loc[rows["time"] == rows["time"].max()]
    return {r: float(rows[r].iloc[0]) for r in ROLES if r in rows}


def budget_factor(frame: pd.DataFrame, budget: float, base: dict[str, float]) -> float:
    """``budget / C0`` with ``C0 = 6·N·examples_seen`` at the base point (a sweep's table has
    ``n_params`` and ``examples_seen``)."""
    if not {"n_params", "examples_seen"} <= set(frame.columns):
        raise FittingError("--budget needs n_params and examples_seen columns; give --factor")
    rows = frame.loc[np.isclose(frame["n_params"].astype(float), base["size"])]
    c0 = 6.0 * base["size"] * float(rows["examples_seen"].max())
    if not (math.isfinite(budget) and budget > c0):
        raise FittingError(f"budget {budget:g} FLOPs must exceed the base run's {c0:.3g}")
    return budget / c0


def _sigma(o: Option, confidence: float) -> float:
    from scipy.stats import norm

    if not (math.isfinite(o.low) and math.isfinite(o.high) and o.high > o.low > 0):
        return float("inf")
    return math.log(o.high / o.low) / (2.0 * float(norm.ppf(0.5 + confidence / 2.0)))


def compare_budget(
    source: Any,
    *,
    factor: float,
    base: dict[str, float] | None = None,
    candidates: list[str] | None = None,
    confidence: float = 0.8,
    load_options: dict[str, Any] | None = None,
    on_progress: Any = None,
    n_draws: int = 20_000,
    random_state: int = 0,
) -> BudgetComparison:
    """Forecast three ways to spend ``factor``× the base compute (module docstring): the model
    ``factor``× larger; trained ``factor``× longer; ``factor``× the data (at the same epochs,
    so the time grows too unless time is counted in epochs). The winner has the lowest forecast;
    its probability of being best is the share of joint log-normal draws (each option's band
    read as a normal interval in log space) in which it is lowest."""
    if not (math.isfinite(factor) and factor > 1.0):
        raise FittingError(f"factor must be a number above 1, got {factor}")
    table = _table(source, load_options)
    point = dict(base or base_point(table))
    time_in_epochs = table.roles.get("time") in EPOCH_TIME_COLUMNS
    plans = {
        "grow the model": ({"size": point["size"] * factor}, "size"),
        "train longer": ({"time": point["time"] * factor}, "time"),
        "more data": (
            {"data": point.get("data", float("nan")) * factor}
            | ({} if time_in_epochs else {"time": point["time"] * factor}),
            "data",
        ),
    }
    options = []
    varying = table.varying_roles()
    for name, (change, axis) in plans.items():
        asked = {**point, **change}
        option = Option(name, asked)
        if axis not in varying:
            option.reason = f"the table has one {axis} value: {axis} cannot be forecast"
            options.append(option)
            continue
        if on_progress is not None:
            on_progress(f"option: {name}")
        try:
            result = forecast(
                table,
                size=asked.get("size"),
                time=asked.get("time"),
                data=asked.get("data"),
                noise=asked.get("noise"),
                candidates=candidates,
                confidence=confidence,
                axis=axis,
                on_progress=on_progress,
            )
        except FittingError as exc:
            option.reason = str(exc)
            options.append(option)
            continue
        row = result.frame.iloc[0]
        option.forecast, option.low, option.high = (
            float(row["forecast"]),
            float(row["low"]),
            float(row["high"]),
        )
        option.result = result
        options.append(option)
    scored = [o for o in options if math.isfinite(o.forecast)]
    winner, probability = None, float("nan")
    if scored:
        rng = np.random.default_rng(random_state)
        mu = np.log([o.forecast for o in scored])
        sd = np.array([_sigma(o, confidence) for o in scored])
        best = int(np.argmin(mu))
        winner = scored[best].name
        if len(scored) == 1:
            probability = 1.0
        elif np.isfinite(sd).all():
            draws = mu[:, None] + sd[:, None] * rng.standard_normal((len(scored), n_draws))
            probability = float(np.mean(np.argmin(draws, axis=0) == best))
    return BudgetComparison(point, factor, options, winner, probability, confidence)
