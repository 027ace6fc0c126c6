"""Every law scored on held-out splits, with the fitted curves behind the scores (docs/report.md,
"Laws"; drawn by the report).

The protocol is :mod:`scaletime.fitting.evaluate`'s: hold out the largest values of one axis
(size, time or data), fit each law on the rest and score it on the held-out rows (RMSLE, MdARE).
Every law is fitted and scored by :func:`scaletime.fitting.evaluate.fit_and_score` — the
function behind ``scaletime evaluate`` — with the same options, so the report and ``evaluate``
print the same numbers for the same split; its predictions draw the figures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scaletime.fitting.errors import FittingError
from scaletime.fitting.evaluate import LawScore, fit_and_score, holdout_split
from scaletime.fitting.laws import LAWS, get_law
from scaletime.stats import finite_or_none, grouped_rms_interval
from scaletime.table import CurveTable

__all__ = ["FittedLaw", "LawEvaluation", "evaluate_laws_for_report"]

UNIFIED = "unified"


@dataclass
class FittedLaw:
    """One law fitted on the training part of a split, with its predictions on every row.

    Attributes
    ----------
    law : str
    frame : DataFrame
        The split's rows (``run, size, width, time, metric, ...``) with ``predicted`` and
        ``held_out`` (True for the rows the law was scored on).
    params : dict
        Fitted parameter values.
    """

    law: str
    frame: pd.DataFrame
    params: dict[str, float]

    def held_out_rmsle(self) -> float:
        """RMSLE over every held-out row (NaN without any)."""
        held = self.residuals(True)
        return float(np.sqrt(np.nanmean(held**2))) if held.size else np.nan

    def residuals(self, held_out: bool = True) -> np.ndarray:
        """``log(metric) − log(predicted)`` on the held-out (or fitted) rows."""
        rows = self.frame.loc[self.frame["held_out"] == held_out]
        with np.errstate(all="ignore"):
            return np.log(rows["metric"].to_numpy(float)) - np.log(
                rows["predicted"].to_numpy(float)
            )


@dataclass
class LawEvaluation:
    """Every law scored on one held-out split.

    Attributes
    ----------
    axis : {"size", "time", "data"}
    threshold : float
        Smallest held-out value of the axis.
    scores : DataFrame
        One row per law (and setting): ``law, roles, status, rmsle, mdare, n_train, n_test,
        n_curves, seconds, note`` plus ``rmsle_low, rmsle_high`` for the unified law.
    unified : FittedLaw or None
    baseline : FittedLaw or None
        The best multi-variable alternative on this split (for the figure).
    unified_rmsle_ci : tuple of float
        Bootstrap interval of the unified law's held-out RMSLE (held-out runs resampled).
    best_other : str
        The best-scoring other law (any kind), ``""`` if none scored.
    ratio : float
        Unified RMSLE / the best other law's RMSLE (NaN if either is missing).
    notes : list of str
    """

    axis: str
    threshold: float
    scores: pd.DataFrame
    unified: FittedLaw | None = None
    baseline: FittedLaw | None = None
    unified_rmsle_ci: tuple[float, float] = (np.nan, np.nan)
    best_other: str = ""
    ratio: float = np.nan
    notes: list[str] = field(default_factory=list)

    @property
    def unified_rmsle(self) -> float:
        row = self.scores.loc[(self.scores["law"] == UNIFIED) & (self.scores["status"] == "ok")]
        return float(row["rmsle"].iloc[0]) if len(row) else np.nan

    def to_dict(self) -> dict[str, Any]:
        scores = self.scores.astype(object).where(self.scores.notna(), None)
        return {
            "axis": self.axis,
            "threshold": self.threshold,
            "unified_rmsle": finite_or_none(self.unified_rmsle),
            "unified_rmsle_ci": [finite_or_none(v) for v in self.unified_rmsle_ci],
            "best_other": self.best_other,
            "best_other_rmsle": finite_or_none(self._best_other_rmsle()),
            "ratio": finite_or_none(self.ratio),
            "notes": self.notes,
            "scores": scores.to_dict(orient="records"),
        }

    def _best_other_rmsle(self) -> float:
        row = self.scores.loc[self.scores["law"] == self.best_other]
        return float(row["rmsle"].iloc[0]) if len(row) else np.nan


def fit_on_split(
    law_name: str, train: CurveTable, test: CurveTable, axis: str, fit_options: dict[str, Any]
) -> tuple[LawScore, FittedLaw | None]:
    """:func:`scaletime.fitting.evaluate.fit_and_score`, keeping the rows for the figures."""
    score, frame = fit_and_score(law_name, train, test, axis=axis, fit_options=fit_options)
    return score, (None if frame is None else FittedLaw(score.law, frame, {}))


def _bootstrap_rmsle(
    fitted: FittedLaw, n_boot: int, confidence: float, seed: int = 0
) -> tuple[float, float]:
    """Interval of the held-out RMSLE, resampling held-out runs."""
    rows = fitted.frame.loc[fitted.frame["held_out"]]
    with np.errstate(all="ignore"):
        sq = (
            np.log(rows["metric"].to_numpy(float)) - np.log(rows["predicted"].to_numpy(float))
        ) ** 2
    return grouped_rms_interval(
        sq, rows["run"].to_numpy(), n_boot=n_boot, confidence=confidence, random_state=seed
    )


def _multivariable(name: str) -> bool:
    return len(get_law(name).roles) > 1


def evaluate_laws_for_report(
    table: CurveTable,
    axes: Sequence[str],
    *,
    laws: Sequence[str] | None = None,
    fit_options: dict[str, Any] | None = None,
    fraction: float = 0.25,
    n_boot: int = 500,
    confidence: float = 0.95,
    progress: Callable[[str], None] | None = None,
) -> list[LawEvaluation]:
    """Score every law on each held-out ``axes`` split; fit the unified law and the best
    multi-variable alternative for the figures. Splits that cannot be made are skipped with a
    note in the first evaluation (or an evaluation with an empty score table). ``progress`` is
    told each fit before it starts."""
    names = list(laws) if laws is not None else list(LAWS)
    fit_options = dict(fit_options or {})
    out: list[LawEvaluation] = []
    for axis in axes:
        try:
            train, test, threshold = holdout_split(table, axis, fraction)
        except FittingError as exc:
            out.append(LawEvaluation(axis, np.nan, pd.DataFrame(), notes=[str(exc)]))
            continue
        rows: list[dict[str, Any]] = []
        fitted: dict[str, FittedLaw] = {}
        test_settings = {tuple(sorted(s.items())): t for s, t in test.settings()}
        settings = train.settings()
        for setting, train_part in settings:
            test_part = test_settings.get(tuple(sorted(setting.items())))
            if test_part is None:
                continue
            for k, name in enumerate(names):
                if progress is not None:
                    progress(f"fitting {name} with {axis} held out ({k + 1}/{len(names)})")
                score, fit = fit_on_split(name, train_part, test_part, axis, fit_options)
                if fit is not None and len(settings) == 1:
                    fitted[name] = fit
                rows.append({**setting, **asdict(score)})
        if not rows:
            out.append(LawEvaluation(axis, threshold, pd.DataFrame(), notes=["nothing to score"]))
            continue
        scores = pd.DataFrame(rows)
        ok = scores.loc[scores["status"] == "ok"]
        others = ok.loc[ok["law"] != UNIFIED].sort_values("rmsle")
        evaluation = LawEvaluation(axis, threshold, scores)
        if len(settings) > 1:
            evaluation.notes.append(
                f"{len(settings)} settings scored separately; figures and ratio use the first"
            )
        if len(others):
            evaluation.best_other = str(others["law"].iloc[0])
            unified_rmsle = evaluation.unified_rmsle
            evaluation.ratio = unified_rmsle / float(others["rmsle"].iloc[0])
        evaluation.unified = fitted.get(UNIFIED)
        if evaluation.unified is not None:
            evaluation.unified_rmsle_ci = _bootstrap_rmsle(evaluation.unified, n_boot, confidence)
        multi = [n for n in others["law"] if _multivariable(n)]
        if multi and len(settings) == 1:
            evaluation.baseline = fitted.get(multi[0])
        scores["rmsle_low"] = np.where(
            scores["law"] == UNIFIED, evaluation.unified_rmsle_ci[0], np.nan
        )
        scores["rmsle_high"] = np.where(
            scores["law"] == UNIFIED, evaluation.unified_rmsle_ci[1], np.nan
        )
        scores["_na"] = scores["status"] != "ok"
        scores["_first"] = scores["law"] != UNIFIED
        evaluation.scores = (
            scores.sort_values(["_na", "_first", "rmsle"], kind="stable")
            .drop(columns=["_na", "_first"])
            .reset_index(drop=True)
        )
        out.append(evaluation)
    return out
