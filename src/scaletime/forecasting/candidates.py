"""The forecasters a forecast chooses among (docs/forecast.md, "Forecasters").

Each candidate is fitted on a :class:`~scaletime.table.CurveTable` and returns a predictor:
a function from a frame of query rows (canonical columns ``size, time, data, noise``) to the
predicted metric, NaN where it has no answer. Four kinds:

* **laws** of the catalogue (:data:`scaletime.fitting.laws.LAWS`) that can take the table and
  reach the extrapolated axis; one-variable laws (time only) are fitted curve by curve;
* **scale-time**, the paper's shift predictor with γ fitted on the table:
  ``Ê(N, t) = E(N_s, t·(N/N_s)^γ)``, read from the fitted model N_s nearest above (time axis) or
  the largest fitted model (size axis), the source curve held at its first / last checkpoint
  outside its range;
* **constant** and **last-value**, the naive forecasters of the law benchmark
  (:func:`scaletime.fitting.evaluate.baseline_predictions`).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scaletime.fitting.errors import FitConvergenceWarning, FittingError
from scaletime.fitting.estimator import ScalingLawRegressor
from scaletime.fitting.evaluate import (
    BASELINES,
    baseline_predictions,
    curve_keys,
    is_one_variable,
    not_applicable,
    positive_mask,
)
from scaletime.fitting.laws import LAWS, get_law
from scaletime.table import CurveTable

Predictor = Callable[[pd.DataFrame], np.ndarray]

#: The scale-time shift predictor's name among the forecasters.
SCALE_TIME = "scale-time"
#: γ searched on this grid (N scale) when fitting the shift predictor; the paper's is 1/3.
GAMMA_GRID = np.linspace(0.0, 1.5, 61)


@dataclass(frozen=True)
class Candidate:
    """One forecaster: a law name, ``scale-time``, ``constant`` or ``last-value``."""

    name: str

    @property
    def kind(self) -> str:
        if self.name in BASELINES:
            return "baseline"
        return "scale-time" if self.name == SCALE_TIME else "law"

    def not_applicable(self, train: CurveTable, axis: str) -> str | None:
        """Why this forecaster cannot extrapolate ``train`` along ``axis``, or None."""
        if self.kind == "baseline":
            return None
        if self.kind == "scale-time":
            if axis not in ("size", "time"):
                return "shifts along size and time only"
            for role in ("size", "time"):
                if role in train.constant_roles or train.frame[role].nunique() < 2:
                    return f"needs several {role} values"
            return None
        return not_applicable(get_law(self.name), train, axis)

    def fit(
        self,
        train: CurveTable,
        axis: str,
        fit_options: dict[str, Any],
        query: pd.DataFrame | None = None,
    ) -> Predictor:
        """Fit on ``train``; raises :class:`FittingError` when the fit fails. With ``query``,
        a one-variable law fits only the curves the query rows lie on (its curves are fitted
        independently, so their predictions are unchanged)."""
        if self.kind == "baseline":
            return _baseline(train, axis, self.name)
        if self.kind == "scale-time":
            return fit_scale_time(train)
        law = get_law(self.name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            if is_one_variable(law):
                return _fit_per_curve(self.name, train, fit_options, query)
            rows = train.frame.loc[positive_mask(train.frame, law)]
            est = ScalingLawRegressor(self.name, **fit_options)
            est.fit(rows, groups=rows["run"].to_numpy())
        return _law_predictor(est)


def default_candidates(train: CurveTable, axis: str) -> list[Candidate]:
    """Every forecaster that can extrapolate ``train`` along ``axis``: the applicable laws, the
    scale-time predictor, then the two baselines."""
    names = [*LAWS, SCALE_TIME, *BASELINES]
    return [c for c in map(Candidate, names) if c.not_applicable(train, axis) is None]


def _clean(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, float)
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def _law_predictor(est: ScalingLawRegressor) -> Predictor:
    def predict(frame: pd.DataFrame) -> np.ndarray:
        with np.errstate(all="ignore"):
            return _clean(est.predict(frame))

    return predict


def _fit_per_curve(
    name: str, train: CurveTable, fit_options: dict[str, Any], query: pd.DataFrame | None = None
) -> Predictor:
    law = get_law(name)
    keys = curve_keys(train, law.roles[0])
    n_params = len(law.param_specs(None))
    rows = train.frame.loc[positive_mask(train.frame, law)]
    if query is not None and keys:
        wanted = pd.MultiIndex.from_frame(query[keys].drop_duplicates())
        rows = rows.loc[pd.MultiIndex.from_frame(rows[keys]).isin(wanted)]
    fitted: dict[Any, ScalingLawRegressor] = {}
    groups = rows.groupby(keys, dropna=False) if keys else [((), rows)]
    for key, part in groups:
        if len(part) <= n_params + 1:
            continue
        try:
            fitted[key] = ScalingLawRegressor(name, **fit_options).fit(
                part, groups=part["run"].to_numpy()
            )
        except FittingError:
            continue
    if not fitted:
        raise FittingError(f"{name}: no curve has enough points to fit")

    def predict(frame: pd.DataFrame) -> np.ndarray:
        out = np.full(len(frame), np.nan)
        if not keys:
            return _clean(fitted[()].predict(frame)) if () in fitted else out
        for key, idx in frame.groupby(keys, dropna=False).indices.items():
            est = fitted.get(key)
            if est is not None:
                with np.errstate(all="ignore"):
                    out[idx] = _clean(est.predict(frame.iloc[idx]))
        return out

    return predict


def _as_table(like: CurveTable, frame: pd.DataFrame) -> CurveTable:
    return CurveTable(frame, like.roles, like.setting_columns, like.constant_roles)


def _baseline(train: CurveTable, axis: str, name: str) -> Predictor:
    def predict(frame: pd.DataFrame) -> np.ndarray:
        if len(frame) == 0:
            return np.zeros(0)
        query = frame if "run" in frame else frame.assign(run="__query__")
        return _clean(baseline_predictions(train, _as_table(train, query), axis)[name])

    return predict


# ----------------------------------------------------------------------- scale-time shift


@dataclass
class _Curve:
    size: float
    key: tuple[float, ...]
    time: np.ndarray  # positive, increasing
    log_metric: np.ndarray  # seed mean of log metric

    def read(self, t: np.ndarray, clamp: bool) -> np.ndarray:
        """The curve at ``t`` by log-time interpolation; outside its range NaN, or with
        ``clamp`` its first / last value."""
        with np.errstate(divide="ignore", invalid="ignore"):
            lt = np.log(np.asarray(t, float))
        lx = np.log(self.time)
        out = np.exp(np.interp(lt, lx, self.log_metric))
        if not clamp:
            out[(lt < lx[0] - 1e-12) | (lt > lx[-1] + 1e-12)] = np.nan
        out[~np.isfinite(lt)] = np.nan
        return out


_OTHER = ("data", "noise")


def _key(frame: pd.DataFrame, table_roles: list[str]) -> np.ndarray:
    cols = [np.log1p(np.abs(frame[r].to_numpy(float))) for r in table_roles]
    return np.column_stack(cols) if cols else np.zeros((len(frame), 0))


def _curves(train: CurveTable) -> tuple[list[_Curve], list[str]]:
    frame = train.frame
    frame = frame.loc[(frame["time"] > 0) & (frame["metric"] > 0)]
    others = [r for r in _OTHER if r in frame and r not in train.constant_roles]
    curves = []
    for key, part in frame.groupby(["size", *others], sort=True):
        values = key if isinstance(key, tuple) else (key,)
        mean = part.assign(ly=np.log(part["metric"])).groupby("time")["ly"].mean().sort_index()
        if len(mean) < 2:
            continue
        k = tuple(float(np.log1p(abs(v))) for v in values[1:])
        curves.append(_Curve(float(values[0]), k, mean.index.to_numpy(float), mean.to_numpy()))
    return curves, others


def _fit_gamma(curves: list[_Curve]) -> float:
    """γ minimising the squared log error of predicting each fitted size from the next smaller
    one (same other roles), at every checkpoint of the larger, the source held at its last value
    beyond its range (as the predictor is used); 1/3 without a pair."""
    pairs = []
    by_key: dict[tuple[float, ...], list[_Curve]] = {}
    for c in curves:
        by_key.setdefault(c.key, []).append(c)
    for group in by_key.values():
        group.sort(key=lambda c: c.size)
        pairs += list(itertools.pairwise(group))
    if not pairs:
        return 1.0 / 3.0
    losses = []
    for gamma in GAMMA_GRID:
        sq, n = 0.0, 0
        for src, tgt in pairs:
            pred = src.read(tgt.time * (tgt.size / src.size) ** gamma, clamp=True)
            ok = np.isfinite(pred)
            d = np.log(pred[ok]) - tgt.log_metric[ok]
            sq, n = sq + float(np.sum(d * d)), n + int(ok.sum())
        losses.append(sq / n if n else np.inf)
    losses_arr = np.asarray(losses)
    if not np.isfinite(losses_arr).any():
        return 1.0 / 3.0
    return float(GAMMA_GRID[int(np.argmin(losses_arr))])


def fit_scale_time(train: CurveTable, gamma: float | None = None) -> Predictor:
    """The shift predictor ``Ê(N, t) = E(N_s, t·(N/N_s)^γ)`` (module docstring); γ fitted by
    :func:`_fit_gamma` unless given. The predictor's ``gamma`` attribute holds it."""
    curves, others = _curves(train)
    if not curves:
        raise FittingError("scale-time: no curve with two positive times")
    g = _fit_gamma(curves) if gamma is None else float(gamma)
    keys = np.array([c.key for c in curves]).reshape(len(curves), len(others))
    sizes = np.array([c.size for c in curves])

    def predict(frame: pd.DataFrame) -> np.ndarray:
        out = np.full(len(frame), np.nan)
        if len(frame) == 0:
            return out
        q_keys = _key(frame, others)
        q_size = frame["size"].to_numpy(float)
        q_time = frame["time"].to_numpy(float)
        for i in range(len(frame)):
            dist = np.abs(keys - q_keys[i]).sum(axis=1) if others else np.zeros(len(curves))
            same = dist <= dist.min() + 1e-12
            above = same & (sizes > q_size[i] * (1 + 1e-9))
            if q_size[i] > sizes[same].max() * (1 - 1e-9):  # beyond: the largest, clamped
                src = curves[int(np.flatnonzero(same)[np.argmax(sizes[same])])]
                t = q_time[i] * (q_size[i] / src.size) ** g
                out[i] = src.read(np.array([t]), clamp=True)[0]
                continue
            for j in np.flatnonzero(above)[np.argsort(sizes[above])]:  # nearest larger first
                src = curves[int(j)]
                t = q_time[i] * (q_size[i] / src.size) ** g
                value = src.read(np.array([t]), clamp=False)[0]
                if np.isfinite(value):
                    out[i] = value
                    break
        return out

    predict.gamma = g  # type: ignore[attr-defined]
    return predict


__all__ = [
    "SCALE_TIME",
    "Candidate",
    "Predictor",
    "default_candidates",
    "fit_scale_time",
]
