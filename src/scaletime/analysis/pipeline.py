"""Every analysis of a tidy table, in one pass: what the report shows and the claims judge.

``analyse_table(table, options)`` runs, on the finished runs of a sweep's tidy table,

1. the scale-time analysis (:func:`scaletime.analysis.analyze`: t_min exponents, predictions
   of one size from another, the collapse), once per setting;
2. the measured phenomena (:mod:`scaletime.analysis.phenomena`: noise sensitivity, data needed,
   larger-is-worse, epoch-wise and model-wise double descent);
3. every law on the held-out splits of size, time and (where it varies) data
   (:func:`scaletime.fitting.splits.evaluate_laws_for_report`, the protocol of
   ``scaletime evaluate``),

and returns the numbers as a :class:`TableAnalysis`. The report
(:func:`scaletime.report.write_report`) only lays them out (docs/report.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from scaletime.analysis import phenomena
from scaletime.analysis.analyze import AnalysisResult, SettingAnalysis, analyze
from scaletime.fitting.splits import LawEvaluation, evaluate_laws_for_report
from scaletime.stats import bootstrap_statistic, to_jsonable
from scaletime.table import ColumnMapping, load_fit_table, resolve

__all__ = [
    "PipelineOptions",
    "TableAnalysis",
    "analyse_table",
    "finished_rows",
    "law_axes",
    "matching_setting",
    "run_counts",
    "setting_summary",
]


@dataclass
class PipelineOptions:
    """How much effort the analysis spends.

    Attributes
    ----------
    n_boot : int
        Bootstrap resamples for every interval (exponents, phenomena, law scores).
    tolerance : float
        A scale-time prediction holds when its RMSLE ≤ tolerance × the seed noise floor.
    gamma : "paper", "fit" or float
        Exponent of the scale-time predictor on N (see docs/scale-time.md).
    fit_options : dict
        Options of :class:`scaletime.fitting.estimator.ScalingLawRegressor` for every law
        (``n_starts``, ``max_grid``, ``max_nfev``); default ``{}``, the fitter's own defaults —
        what ``scaletime evaluate`` uses, so both print the same scores for the same split.
    laws : tuple of str or None
        Laws to score (None: the whole catalogue).
    holdout_fraction : float
        Fraction of an axis' distinct values held out (the largest ones).
    confidence : float
        Level of every interval.
    """

    n_boot: int = 1000
    tolerance: float = 2.0
    gamma: Literal["paper", "fit"] | float = "paper"
    fit_options: dict[str, Any] = field(default_factory=dict)
    laws: tuple[str, ...] | None = None
    holdout_fraction: float = 0.25
    confidence: float = 0.95


@dataclass(kw_only=True)
class TableAnalysis:
    """Everything measured on one table, before layout."""

    table: pd.DataFrame
    analysis: AnalysisResult
    frame: pd.DataFrame
    setting_columns: tuple[str, ...]
    laws: list[LawEvaluation]
    noise_sensitivity: phenomena.Estimate | None
    data_needed: phenomena.Estimate | None
    data_concordance: phenomena.Estimate | None
    larger_is_worse: phenomena.Estimate | None
    epoch_wise: list[phenomena.EpochWise]
    model_wise: list[phenomena.Estimate]
    options: PipelineOptions
    seconds: dict[str, float] = field(default_factory=dict)

    def epoch_wise_dict(self, e: phenomena.EpochWise) -> dict[str, Any]:
        """The epoch-wise result with the t_min exponent γ_N of the same setting."""
        out = e.to_dict()
        match = matching_setting(self.analysis.settings, e.values)
        fit = match.exponents.get("size") if match is not None else None
        out["gamma_tmin_n"] = {
            "value": fit.gamma_ if fit else None,
            "ci": list(fit.ci_) if fit else [None, None],
        }
        return out

    def summary(self) -> dict[str, Any]:
        """Every number the claims table needs, JSON-ready."""
        return to_jsonable(
            {
                "settings": [setting_summary(s, self.options) for s in self.analysis.settings],
                "laws": [e.to_dict() for e in self.laws],
                "noise_sensitivity": _maybe(self.noise_sensitivity),
                "data_needed": _maybe(self.data_needed),
                "data_concordance": _maybe(self.data_concordance),
                "larger_is_worse": _maybe(self.larger_is_worse),
                "epoch_wise": [self.epoch_wise_dict(e) for e in self.epoch_wise],
                "model_wise": [e.to_dict() for e in self.model_wise],
                "options": {**asdict(self.options), "laws": list(self.options.laws or [])},
                "seconds": self.seconds,
            }
        )


def matching_setting(
    settings: list[SettingAnalysis], values: dict[str, Any]
) -> SettingAnalysis | None:
    """The setting whose values include ``values`` (compared as text), or None."""
    for s in settings:
        if all(str(s.setting.get(k)) == str(v) for k, v in values.items()):
            return s
    return None


def _maybe(estimate: phenomena.Estimate | None) -> dict[str, Any] | None:
    return None if estimate is None else estimate.to_dict()


def run_counts(runs: pd.DataFrame) -> dict[str, Any]:
    """Totals of a run summary (:meth:`scaletime.sweep.store.ResultStore.run_summary`): runs by
    status, training wall time (the longest run of each ensemble unit, summed) and the span
    from the first start to the last finish."""
    started = runs["started_at"].dropna()
    finished = runs["finished_at"].dropna()
    span = float(finished.max() - started.min()) if len(started) and len(finished) else np.nan
    groups = runs.groupby(["data_size", "label_noise", "seed", "base_lr"])["wall_time"].max()
    return {
        "runs": len(runs),
        "done": int((runs["status"] == "done").sum()),
        "diverged": int((runs["status"] == "diverged").sum()),
        "pending": int((runs["status"] == "pending").sum()),
        "span_seconds": span,
        "training_seconds": float(groups.sum()),
    }


def runs_per_width(runs: pd.DataFrame) -> pd.DataFrame:
    """Per width of a run summary: N, p, runs by status and the median and largest wall time."""
    runs = runs.assign(diverged=runs["status"] == "diverged")
    return (
        runs.groupby("width")
        .agg(
            N=("n_params", "first"),
            p=("scale_p", "first"),
            runs=("run_id", "count"),
            done=("status", lambda x: int((x == "done").sum())),
            diverged=("diverged", "sum"),
            pending=("status", lambda x: int((x == "pending").sum())),
            wall_median_s=("wall_time", "median"),
            wall_max_s=("wall_time", "max"),
        )
        .reset_index()
    )


def setting_summary(s: SettingAnalysis, options: PipelineOptions) -> dict[str, Any]:
    """A setting's scale-time numbers: γ on p and N with CIs, predictions, collapse, verdict;
    the median error ratio's interval resamples the decided pairs."""
    row = s.summary_row()
    p = s.exponents.get("p")
    n = s.exponents.get("size")
    ratios = np.array([x.ratio for x in s.predictions if x.holds is not None])
    ci = bootstrap_statistic(
        ratios, np.median, n_boot=options.n_boot, confidence=options.confidence
    )
    return {
        "label": s.label,
        "setting": s.setting,
        "thresholds": s.thresholds,
        "gamma_p": {
            "value": p.gamma_ if p else None,
            "ci": list(p.ci_) if p else [None, None],
            "r2": p.r2_ if p else None,
            "n_sizes": p.n_sizes_ if p else 0,
        },
        "gamma_n": {"value": n.gamma_ if n else None, "ci": list(n.ci_) if n else [None, None]},
        "verdict": s.verdict,
        "reasons": s.reasons,
        "notes": s.notes,
        "median_error_ratio": row["median_error_ratio"],
        "median_error_ratio_ci": list(ci),
        "fraction_holding": row["fraction_holding"],
        "n_decided": int(ratios.size),
        "max_ratio_small_to_large": row["max_ratio_small_to_large"],
        "max_ratio_large_to_small": row["max_ratio_large_to_small"],
        "collapse_gamma": row["collapse_gamma"],
        "collapse_ratio": row["collapse_ratio"],
        "collapse_ratio_paper": row["collapse_ratio_paper"],
        "tolerance": options.tolerance,
    }


def law_axes(frame: pd.DataFrame) -> list[str]:
    """The axes a law is held out on: size and time, and data where it varies."""
    axes = ["size", "time"]
    if "data" in frame and frame["data"].nunique() >= 2:
        axes.append("data")
    return axes


def finished_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of finished runs (done or diverged); all rows of a table without a status."""
    if "status" not in table:
        return table
    return table.loc[table["status"].isin(["done", "diverged"])]


def analyse_table(
    table: pd.DataFrame,
    options: PipelineOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> TableAnalysis:
    """Run every analysis the report shows on a sweep's tidy table (its finished runs);
    ``progress`` is told each step (and each law fit) before it starts."""
    options = options or PipelineOptions()
    say = progress or (lambda _: None)
    seconds: dict[str, float] = {}
    finished = finished_rows(table)
    if finished.empty:
        raise ValueError("no finished run to analyse")

    t0 = time.perf_counter()
    say("scale-time analysis: t_min, exponents, predictions")
    result = analyze(
        finished, gamma=options.gamma, tolerance=options.tolerance, n_boot=options.n_boot
    )
    seconds["analysis"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    say("phenomena: noise sensitivity, data needed, double descent")
    resolved = resolve(finished, ColumnMapping())
    frame, columns = resolved.frame, resolved.setting_columns
    n_boot, confidence = min(options.n_boot, 500), options.confidence
    noise = phenomena.noise_sensitivity(frame, columns, n_boot=n_boot, confidence=confidence)
    data = phenomena.data_needed(frame, columns, n_boot=n_boot, confidence=confidence)
    concordance = phenomena.data_concordance(frame, columns, n_boot=n_boot, confidence=confidence)
    worse = phenomena.larger_is_worse(frame, columns, n_boot=n_boot, confidence=confidence)
    noisy = (
        frame.loc[frame["noise"] > 0] if "noise" in frame and (frame["noise"] > 0).any() else frame
    )
    n_boot = min(options.n_boot, 300)
    epoch = phenomena.epoch_wise(noisy, columns, n_boot=n_boot, confidence=confidence)
    model = phenomena.model_wise(frame, columns, n_boot=n_boot, confidence=confidence)
    seconds["phenomena"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    fit_table = load_fit_table(finished)
    laws = evaluate_laws_for_report(
        fit_table,
        law_axes(fit_table.frame),
        laws=options.laws,
        fit_options=options.fit_options,
        fraction=options.holdout_fraction,
        n_boot=min(options.n_boot, 500),
        confidence=options.confidence,
        progress=progress,
    )
    seconds["laws"] = time.perf_counter() - t0
    return TableAnalysis(
        table=table,
        analysis=result,
        frame=frame,
        setting_columns=columns,
        laws=laws,
        noise_sensitivity=noise,
        data_needed=data,
        data_concordance=concordance,
        larger_is_worse=worse,
        epoch_wise=epoch,
        model_wise=model,
        options=options,
        seconds=seconds,
    )
