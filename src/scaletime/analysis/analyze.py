"""The whole scale-time analysis of a table, setting by setting (docs/scale-time.md).

For each setting (dataset, architecture, optimiser, lr rule, data size, label noise, ...):
t_min table → exponent γ on the N, width and p scales → curve collapse → predictions of every
size from every other size in both directions, against the seed noise floor → validity regime →
verdict. :class:`AnalysisResult` keeps every number and the curves behind them; ``to_json``
writes them all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from scaletime.analysis.collapse import CollapseFit, CollapseScore
from scaletime.analysis.curves import run_table, size_curves
from scaletime.analysis.exponent import ExponentFit, Scale, pooled_gamma
from scaletime.analysis.predict import (
    DIRECTIONS,
    PairPrediction,
    ValidityRegime,
    predict_all_pairs,
    validity_regime,
)
from scaletime.analysis.tmin import auto_thresholds, tmin_summary, tmin_table
from scaletime.stats import to_jsonable
from scaletime.table import ColumnMapping, CurveTable, TableError, read_tables, resolve

__all__ = [
    "PAPER_GAMMA_N",
    "AnalysisResult",
    "SettingAnalysis",
    "analyze",
    "exponent_by_time_axis",
    "prediction_errors_by_ratio",
]

#: The paper's exponent on the parameter-count scale: t_min ∝ 1/p with p = N^{1/3}.
PAPER_GAMMA_N = 1.0 / 3.0

Verdict = Literal["holds", "partial", "breaks", "undetermined"]


@dataclass
class SettingAnalysis:
    """Every result for one setting.

    Attributes
    ----------
    setting : dict
        ``{column: value}`` of the setting columns.
    rows : DataFrame
        The setting's canonical rows (``run, size, time, metric, ...``), the per-run curves.
    runs : DataFrame
        One row per run: ``run, size, width, seed``.
    thresholds : ndarray
        The t_min ladder (decreasing).
    tmin : DataFrame
        Per run × threshold (:func:`scaletime.analysis.tmin_table`).
    tmin_summary : DataFrame
        Per size × threshold, geometric mean and CI over seeds.
    exponents : dict
        scale (``"size"``, ``"width"``, ``"p"``) → fitted :class:`ExponentFit`.
    collapse : CollapseFit or None
    collapse_at : dict
        ``"paper"`` and ``"tmin"`` → :class:`CollapseScore` at γ = 1/3 and at the t_min γ.
    predictions : list of PairPrediction
        Every ordered pair of sizes.
    validity : dict
        direction → :class:`ValidityRegime`.
    verdict : {"holds", "partial", "breaks", "undetermined"}
    reasons : list of str
        The numbers behind the verdict, in words.
    notes : list of str
        Parts that could not be computed, and why.
    """

    setting: dict[str, Any]
    rows: pd.DataFrame
    runs: pd.DataFrame
    thresholds: np.ndarray
    tmin: pd.DataFrame
    tmin_summary: pd.DataFrame
    exponents: dict[str, ExponentFit]
    collapse: CollapseFit | None
    collapse_at: dict[str, CollapseScore]
    predictions: list[PairPrediction]
    validity: dict[str, ValidityRegime]
    verdict: Verdict
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    label_columns: tuple[str, ...] | None = None

    @property
    def label(self) -> str:
        """``"optimizer=adam, data_size=10000"``: the setting columns that differ between the
        settings of the analysis (all of them if unknown; ``"all"`` if none)."""
        columns = self.setting if self.label_columns is None else self.label_columns
        return ", ".join(f"{k}={self.setting[k]}" for k in columns) or "all"

    def summary_row(self) -> dict[str, Any]:
        """One line of the across-settings summary."""
        fit = self.exponents.get("size")
        decided = [p for p in self.predictions if p.holds is not None]
        ratios = np.array([p.ratio for p in decided])
        s2l, l2s = self.validity.get("small_to_large"), self.validity.get("large_to_small")
        return {
            "setting": self.label,
            **self.setting,
            "n_sizes": int(self.runs["size"].nunique()),
            "n_runs": len(self.runs),
            "gamma": fit.gamma_ if fit else np.nan,
            "gamma_ci_low": fit.ci_[0] if fit else np.nan,
            "gamma_ci_high": fit.ci_[1] if fit else np.nan,
            "r2": fit.r2_ if fit else np.nan,
            "paper_consistent": fit.paper_consistent_ if fit else None,
            "collapse_gamma": self.collapse.gamma_ if self.collapse else np.nan,
            "collapse_ratio": self.collapse.score_.ratio if self.collapse else np.nan,
            "collapse_ratio_paper": self.collapse_at["paper"].ratio
            if "paper" in self.collapse_at
            else np.nan,
            "median_error_ratio": float(np.median(ratios)) if ratios.size else np.nan,
            "fraction_holding": float(np.mean(ratios <= decided[0].tolerance))
            if ratios.size
            else np.nan,
            "max_ratio_small_to_large": s2l.max_ratio if s2l else None,
            "max_ratio_large_to_small": l2s.max_ratio if l2s else None,
            "verdict": self.verdict,
        }

    def to_dict(self, arrays: bool = True) -> dict[str, Any]:
        """Every number of this setting; ``arrays=False`` leaves out curves and predictions."""
        out: dict[str, Any] = {
            "setting": self.setting,
            "label": self.label,
            "verdict": self.verdict,
            "reasons": self.reasons,
            "notes": self.notes,
            "thresholds": self.thresholds,
            "runs": self.runs,
            "tmin": self.tmin,
            "tmin_summary": self.tmin_summary,
            "exponents": {scale: fit.to_dict() for scale, fit in self.exponents.items()},
            "collapse": self.collapse.to_dict() if self.collapse else None,
            "collapse_at": {k: v.to_dict() for k, v in self.collapse_at.items()},
            "predictions": [p.to_dict(arrays=arrays) for p in self.predictions],
            "validity": {k: v.to_dict() for k, v in self.validity.items()},
            "summary": self.summary_row(),
        }
        if arrays:
            out["curves"] = self.rows
        return to_jsonable(out)


@dataclass
class AnalysisResult:
    """The analysis of every setting of a table.

    Attributes
    ----------
    settings : list of SettingAnalysis
    mapping : ColumnMapping
    roles : dict
        role → column of the input table.
    parameters : dict
        The options the analysis ran with (gamma mode, tolerance, bootstrap size, ...).
    notes : list of str
        Table-level notes (dropped rows, how settings were formed).
    """

    settings: list[SettingAnalysis]
    mapping: ColumnMapping
    roles: dict[str, str]
    parameters: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """One row per setting: γ with CI, collapse, prediction error ratios, verdict (item 6)."""
        return pd.DataFrame.from_records([s.summary_row() for s in self.settings])

    def to_dict(self, arrays: bool = True) -> dict[str, Any]:
        head = to_jsonable(
            {
                "mapping": self.mapping.to_dict(),
                "roles": self.roles,
                "parameters": self.parameters,
                "notes": self.notes,
                "summary": self.summary(),
            }
        )
        return {**head, "settings": [s.to_dict(arrays=arrays) for s in self.settings]}

    def to_json(self, path: str | Path | None = None, arrays: bool = True) -> str:
        """Every number as JSON (NaN written as null); also written to ``path`` if given.
        Indented, except with the curves of a large table (over 20,000 rows: compact, which
        the C encoder writes many times faster)."""
        rows = sum(len(s.rows) for s in self.settings) if arrays else 0
        indent = 2 if rows <= 20_000 else None
        text = json.dumps(self.to_dict(arrays=arrays), indent=indent, allow_nan=False)
        if path is not None:
            Path(path).write_text(text)
        return text


def _verdict(
    predictions: list[PairPrediction],
    validity: dict[str, ValidityRegime],
    collapse: CollapseFit | None,
    tolerance: float,
) -> tuple[Verdict, list[str]]:
    """holds: median pair error ≤ tolerance × floor and collapse within tolerance × spread;
    partial: otherwise, but in one direction every pair up to some size ratio > 1 holds;
    breaks: otherwise; undetermined: no noise floor to compare with."""
    decided = [p for p in predictions if p.holds is not None]
    if not decided:
        return "undetermined", [
            "no prediction could be compared with a noise floor (a single seed per size, or "
            "no overlapping times)"
        ]
    ratios = np.array([p.ratio for p in decided])
    n_holding = int(np.sum(ratios <= tolerance))
    reasons = [
        f"{n_holding}/{len(decided)} predictions within {tolerance:g}× the seed noise floor "
        f"(median error {np.median(ratios):.2f}× the floor, worst {ratios.max():.2f}×)"
    ]
    collapse_ok = True
    if collapse is not None and np.isfinite(collapse.score_.ratio):
        collapse_ok = collapse.score_.ratio <= tolerance
        reasons.append(
            f"best collapse at γ = {collapse.gamma_:.3f}: residual {collapse.score_.ratio:.2f}× "
            "the seed spread"
        )
    if np.median(ratios) <= tolerance and collapse_ok:
        return "holds", reasons
    regimes = [
        f"{r.direction.replace('_', ' ')} up to a size ratio of {r.max_ratio:.3g}"
        for r in validity.values()
        if r.max_ratio is not None and r.max_ratio > 1
    ]
    if regimes:
        return "partial", [*reasons, "holds " + " and ".join(regimes)]
    return "breaks", reasons


def _analyze_setting(
    setting: dict[str, Any],
    rows: pd.DataFrame,
    thresholds: Sequence[float] | None,
    n_thresholds: int,
    gamma: float | str,
    tolerance: float,
    n_boot: int,
    confidence: float,
    random_state: int,
) -> SettingAnalysis:
    notes: list[str] = []
    runs = run_table(rows)
    ladder = (
        np.unique(np.asarray(thresholds, float))[::-1]
        if thresholds is not None
        else auto_thresholds(rows, n_thresholds)
    )
    if not (np.all(np.isfinite(ladder)) and np.all(ladder > 0)):
        raise TableError(f"thresholds must be finite and positive, got {list(ladder)}")
    table = tmin_table(rows, ladder)
    summary = tmin_summary(table, confidence) if not table.empty else pd.DataFrame()
    curves = size_curves(rows)

    exponents: dict[str, ExponentFit] = {}
    scales: list[Scale] = ["size", "p"]
    if runs["width"].notna().all():
        scales.insert(1, "width")
    if len(curves) >= 2 and (table["status"] == "reached").any():
        for scale in scales:
            exponents[scale] = ExponentFit(scale, n_boot, confidence, random_state).fit(table)
    else:
        notes.append("exponent not fitted: fewer than two sizes or no threshold reached")

    collapse_fit: CollapseFit | None = None
    collapse_at: dict[str, CollapseScore] = {}
    if len(curves) >= 2:
        collapse_fit = CollapseFit().fit(rows)
        if collapse_fit.at_bound_:
            notes.append(
                f"the best collapse (γ = {collapse_fit.gamma_:.3f}) is at the end of the searched "
                "range: no γ collapses these curves"
            )
        collapse_at["paper"] = collapse_fit.score(PAPER_GAMMA_N)
        if "size" in exponents and np.isfinite(exponents["size"].gamma_):
            collapse_at["tmin"] = collapse_fit.score(exponents["size"].gamma_)
    else:
        notes.append("collapse not computed: fewer than two model sizes")

    if gamma == "paper":
        predictions = predict_all_pairs(curves, PAPER_GAMMA_N, "paper", tolerance)
    elif gamma == "fit":
        predictions = predict_all_pairs(
            curves,
            lambda s, t: pooled_gamma(table, "size", exclude_sizes=(s, t)),
            "fit",
            tolerance,
        )
        if any(not np.isfinite(p.gamma) for p in predictions):
            notes.append("some pairs not predicted: fewer than two other sizes to fit γ on")
    else:
        predictions = predict_all_pairs(curves, float(gamma), "given", tolerance)
    validity: dict[str, ValidityRegime] = {d: validity_regime(predictions, d) for d in DIRECTIONS}
    verdict, reasons = _verdict(predictions, validity, collapse_fit, tolerance)
    if "size" in exponents and exponents["size"].paper_consistent_ is not None:
        fit = exponents["size"]
        relation = "consistent" if fit.paper_consistent_ else "inconsistent"
        reasons.append(
            f"t_min exponent γ = {fit.gamma_:.3f} [{fit.ci_[0]:.3f}, {fit.ci_[1]:.3f}] is "
            f"{relation} with the paper's 1/3"
        )
    return SettingAnalysis(
        setting=setting,
        rows=rows.reset_index(drop=True),
        runs=runs,
        thresholds=ladder,
        tmin=table,
        tmin_summary=summary,
        exponents=exponents,
        collapse=collapse_fit,
        collapse_at=collapse_at,
        predictions=predictions,
        validity=validity,
        verdict=verdict,
        reasons=reasons,
        notes=notes,
    )


def _distinguishing_columns(settings: list[dict[str, Any]]) -> tuple[str, ...]:
    """The setting columns needed to tell the settings apart, in order: a column is kept only
    if it splits settings that the columns kept before it do not (``sweep`` after ``source``,
    or ``momentum`` after ``optimizer``, add nothing)."""
    kept: list[str] = []
    n_groups = 1
    for column in settings[0] if settings else ():
        groups = {tuple(repr(s[c]) for c in [*kept, column]) for s in settings}
        if len(groups) > n_groups:
            kept.append(column)
            n_groups = len(groups)
    return tuple(kept)


def analyze(
    source: str | Path | pd.DataFrame | CurveTable | Sequence[str | Path | pd.DataFrame],
    mapping: ColumnMapping | None = None,
    *,
    thresholds: Sequence[float] | None = None,
    n_thresholds: int = 5,
    gamma: Literal["paper", "fit"] | float = "paper",
    tolerance: float = 2.0,
    n_boot: int = 1000,
    confidence: float = 0.95,
    random_state: int = 0,
) -> AnalysisResult:
    """Scale-time equivalence analysis of measured curves, per setting.

    Parameters
    ----------
    source : path, DataFrame, CurveTable, or a list of paths / DataFrames
        A sweep folder, a CSV/Parquet tidy table, a DataFrame, or an already resolved table.
        Several sources are read into one table whose ``source`` column tells them apart
        (:func:`scaletime.table.read_tables`), e.g. the fixed-lr, Adam and lr ∝ 1/width sweeps.
    mapping : ColumnMapping, optional
        Column roles (defaults: the tidy-table names).
    thresholds : sequence of float, optional
        The t_min ladder for every setting; default: :func:`auto_thresholds` per setting.
    n_thresholds : int
        Size of the automatic ladder.
    gamma : "paper", "fit" or float
        Exponent of the predictor on the N scale: 1/3 (the paper's p = N^{1/3}), the pooled
        t_min fit on the *other* sizes (never the pair predicted), or a given value.
    tolerance : float
        A prediction holds when its RMSLE ≤ tolerance × the seed noise floor.
    n_boot, confidence, random_state
        Bootstrap of the exponent CIs.
    """
    if isinstance(gamma, str) and gamma not in ("paper", "fit"):
        raise ValueError(f"gamma must be 'paper', 'fit' or a number; got {gamma!r}")
    if not isinstance(gamma, str) and not (np.isfinite(gamma) and gamma >= 0):
        raise ValueError(f"gamma must be a non-negative number, got {gamma}")
    if tolerance <= 0:
        raise ValueError(f"tolerance must be positive, got {tolerance}")
    if isinstance(source, CurveTable):
        resolved = source
        mapping = mapping or ColumnMapping()
    else:
        mapping = mapping or ColumnMapping()
        sources = list(source) if isinstance(source, list | tuple) else [source]
        resolved = resolve(read_tables(sources), mapping)

    notes = list(resolved.notes)
    if resolved.n_dropped_diverged:
        notes.append(f"dropped {resolved.n_dropped_diverged} rows flagged diverged")
    if resolved.n_dropped_missing:
        notes.append(f"dropped {resolved.n_dropped_missing} rows with a missing time or metric")
    settings = [
        _analyze_setting(
            setting,
            rows,
            thresholds,
            n_thresholds,
            gamma,
            tolerance,
            n_boot,
            confidence,
            random_state,
        )
        for setting, rows in resolved.setting_frames()
    ]
    label_columns = _distinguishing_columns([s.setting for s in settings])
    for analysis in settings:
        analysis.label_columns = label_columns
    parameters = {
        "thresholds": list(thresholds) if thresholds is not None else "auto",
        "n_thresholds": n_thresholds,
        "gamma": gamma,
        "paper_gamma_n": PAPER_GAMMA_N,
        "tolerance": tolerance,
        "n_boot": n_boot,
        "confidence": confidence,
        "random_state": random_state,
        "setting_columns": list(resolved.setting_columns),
    }
    return AnalysisResult(settings, mapping, resolved.roles, parameters, notes)


def prediction_errors_by_ratio(
    source: str | Path | pd.DataFrame, gamma: float = PAPER_GAMMA_N
) -> pd.DataFrame:
    """The scale-time predictor's error against the seed floor at size ratios 2, 5, 10 and the
    largest available, both directions (:func:`scaletime.analysis.predict.errors_by_ratio`),
    pooled over the settings of ``source``, with exponent ``gamma`` on the N scale."""
    from scaletime.analysis.predict import errors_by_ratio

    result = analyze(source, gamma=float(gamma), n_boot=50)
    predictions = [p for s in result.settings for p in s.predictions]
    return errors_by_ratio(predictions)


def exponent_by_time_axis(
    source: str | Path | pd.DataFrame,
    times: Sequence[str] = ("epoch", "lr_time"),
    n_boot: int = 500,
) -> pd.DataFrame:
    """The pooled t_min exponent γ on the N scale with its interval, measuring time as each of
    ``times`` (``lr_time`` = Σηₜ, the theory's time; docs/theory.md), one row per setting and
    time column: ``time, setting, gamma_n, low, high, n_sizes``."""
    rows = []
    for time in times:
        result = analyze(source, ColumnMapping(time=time), n_boot=n_boot)
        for s in result.settings:
            fit = s.exponents.get("size")
            if fit is None:
                continue
            low, high = fit.ci_
            rows.append(
                {
                    "time": time,
                    "setting": s.label,
                    "gamma_n": fit.gamma_,
                    "low": low,
                    "high": high,
                    "n_sizes": fit.n_sizes_,
                }
            )
    return pd.DataFrame(rows)
