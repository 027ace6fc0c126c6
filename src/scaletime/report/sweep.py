"""The report of one sweep folder: every measurement as a figure or table a person can read.

``write_report(folder)`` → ``folder/report.html`` (self-contained) and ``folder/summary.json``
(every number the report shows, read back by the paper reproduction's claims table). The report
only lays out what :func:`scaletime.analysis.pipeline.analyse_table` computed; docs/report.md
lists its sections.
"""

from __future__ import annotations

import dataclasses
import html
import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scaletime.analysis.analyze import SettingAnalysis
from scaletime.analysis.pipeline import (
    PipelineOptions,
    TableAnalysis,
    analyse_table,
    finished_rows,
    run_counts,
    runs_per_width,
)
from scaletime.report import figures as F
from scaletime.report.claims import findings
from scaletime.report.context import SweepContext, fmt_list, fmt_num
from scaletime.report.html import Figure, Section, render
from scaletime.stats import to_jsonable
from scaletime.sweep.export import load_table
from scaletime.sweep.spec import SweepSpec
from scaletime.sweep.store import DB_NAME, ResultStore

__all__ = ["ReportOptions", "SweepReport", "analyse_sweep", "build_sections", "write_report"]

REPORT_NAME = "report.html"
SUMMARY_NAME = "summary.json"


@dataclass
class ReportOptions(PipelineOptions):
    """The analysis options (:class:`scaletime.analysis.pipeline.PipelineOptions`: ``n_boot``,
    ``tolerance``, ``gamma``, ``fit_options``, ``laws``, ``holdout_fraction``, ``confidence``)
    and the layout's own.

    Attributes
    ----------
    dpi : float
        Resolution of the figures.
    max_settings_drawn : int
        Settings drawn per figure family (t_min, predictions, collapse); every setting is in
        the tables regardless.
    """

    dpi: float = 100.0
    max_settings_drawn: int = 6


@dataclass(kw_only=True)
class SweepReport(TableAnalysis):
    """Everything measured on one sweep folder (:class:`TableAnalysis`), with its spec and runs."""

    folder: Path
    spec: SweepSpec
    context: SweepContext
    runs: pd.DataFrame
    options: ReportOptions

    def summary(self) -> dict[str, Any]:
        """Every number the claims table needs, JSON-ready."""
        head = {
            "sweep": self.spec.name,
            "spec_hash": self.spec.spec_hash(),
            "spec": self.spec.science_dict(),
            "context": self.context.describe(),
            "runs": run_counts(self.runs),
        }
        return to_jsonable({**head, **super().summary()})


def analyse_sweep(
    folder: str | Path,
    options: ReportOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> SweepReport:
    """Run every analysis the report shows on the sweep in ``folder``
    (:func:`scaletime.analysis.pipeline.analyse_table` on its tidy table)."""
    folder = Path(folder)
    options = options or ReportOptions()
    t0 = time.perf_counter()
    with ResultStore(folder) as store:
        spec = store.spec()
        runs = store.run_summary()
    if spec is None:
        raise FileNotFoundError(f"{folder} holds no sweep spec")
    table = load_table(folder)
    context = SweepContext.from_table(spec, table)
    if finished_rows(table).empty:
        raise ValueError(f"{folder}: no finished run to report on")
    load_seconds = time.perf_counter() - t0
    measured = analyse_table(table, options, progress)
    fields = {f.name: getattr(measured, f.name) for f in dataclasses.fields(TableAnalysis)}
    fields["seconds"] = {"load": load_seconds, **measured.seconds}
    fields["options"] = options
    return SweepReport(**fields, folder=folder, spec=spec, context=context, runs=runs)


# ============================================================================================
# layout


def _png(r: SweepReport, fig: Any) -> bytes:
    """The figure as PNG bytes at the report's resolution."""
    return F.to_png(fig, dpi=r.options.dpi)


def _ci(value: float | None, ci: Any, digits: int = 3) -> str:
    if value is None or not np.isfinite(value):
        return "not measured"
    lo, hi = (ci or (None, None))[:2]
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return f"{value:.{digits}g} (no interval)"
    return f"{value:.{digits}g} [{lo:.{digits}g}, {hi:.{digits}g}]"


def _spec_section(r: SweepReport) -> Section:
    s = r.spec
    fields = [
        ("name", s.name),
        ("spec hash", s.spec_hash()),
        ("dataset", s.data.dataset),
        ("training examples n", fmt_list(s.data.sizes)),
        ("test examples", fmt_num(r.context.n_test) if r.context.n_test else "all"),
        ("label noise", fmt_list(s.data.label_noise)),
        ("architecture", f"{s.model.arch.upper()}, depth {s.model.resolved_depth}"),
        ("widths", fmt_list(s.model.widths)),
        ("optimiser", r.context.optimizer),
        ("batch size", "full batch" if s.train.optimizer == "gd" else str(s.train.batch_size)),
        ("loss", s.train.loss.upper()),
        ("epochs", fmt_num(s.train.epochs)),
        (
            "checkpoints",
            f"{s.train.checkpoints}, log-spaced from epoch {fmt_num(s.train.first_checkpoint)}",
        ),
        ("seeds", fmt_list(s.seeds)),
        ("data seed", str(s.data.data_seed)),
    ]
    spec_table = pd.DataFrame(fields, columns=["field", "value"])
    counts = run_counts(r.runs)
    runs = r.runs.assign(diverged=r.runs["status"] == "diverged")
    per_width = runs_per_width(r.runs)
    tables = [
        ("The sweep's spec.", spec_table),
        (
            "Runs per width. Wall time: seconds from the start of the run's ensemble unit to "
            "its last checkpoint (runs of one unit are trained together).",
            per_width,
        ),
    ]
    diverged = runs.loc[
        runs["diverged"], ["width", "data_size", "label_noise", "seed", "lr", "last_epoch"]
    ]
    if len(diverged):
        tables.append(
            (
                "Diverged runs (loss became NaN or infinite; dropped from every analysis). "
                "last_epoch: the checkpoint where it was detected.",
                diverged,
            )
        )
    text = (
        f"{counts['runs']} runs: {counts['done']} done, {counts['diverged']} diverged, "
        f"{counts['pending']} pending. Training took {counts['training_seconds']:.0f} s of unit "
        f"wall time (first start to last finish: {counts['span_seconds']:.0f} s). "
        f"Report computed in {sum(r.seconds.values()):.0f} s. {r.context.describe()}"
    )
    return Section("Sweep", text=text, tables=tables)


def _curves_section(r: SweepReport) -> Section:
    t = r.table.loc[r.table["status"].isin(["done", "diverged"])]
    by = None
    if t["label_noise"].nunique() > 1:
        by = "label_noise"
        t = t.loc[t["data_size"] == t["data_size"].max()]
    elif t["data_size"].nunique() > 1:
        by = "data_size"
    figs = []
    split = f", one panel per {by.replace('_', ' ')}" if by else ""
    extra = (
        " (largest data size)" if by == "label_noise" and r.table["data_size"].nunique() > 1 else ""
    )
    for metric in ("test_error", "train_error"):
        fig = F.learning_curves(t, metric=metric, by=by)
        figs.append(
            Figure(
                _png(r, fig),
                (
                    f"{metric.replace('_', ' ').capitalize()} against epoch, one line per width "
                    f"(colour: log width), mean over seeds with the seed range shaded{split}{extra}. "
                    f"Log–log axes. {r.context.describe()}"
                ),
            )
        )
    return Section("Learning curves", figures=figs)


def _label(r: SweepReport, s: SettingAnalysis) -> str:
    """The setting's label, or the sweep's name when the sweep has a single setting."""
    return r.spec.name if s.label == "all" else s.label


def _settings(r: SweepReport) -> list[SettingAnalysis]:
    return r.analysis.settings[: r.options.max_settings_drawn]


def _setting_context(r: SweepReport, s: SettingAnalysis) -> str:
    return r.context.describe(
        data_size=s.setting.get("data_size"), noise=s.setting.get("label_noise")
    )


def _tmin_section(r: SweepReport) -> Section:
    figs = []
    rows = []
    for s in r.analysis.settings:
        p = s.exponents.get("p")
        n = s.exponents.get("size")
        rows.append(
            {
                "setting": _label(r, s),
                "thresholds": ", ".join(f"{x:.3g}" for x in s.thresholds),
                "γ_p (paper: 1)": _ci(p.gamma_ if p else None, p.ci_ if p else None),
                "R²": p.r2_ if p else np.nan,
                "γ_N (paper: 1/3)": _ci(n.gamma_ if n else None, n.ci_ if n else None),
                "paper test": ("consistent" if n.paper_consistent_ else "rejected")
                if n is not None and n.paper_consistent_ is not None
                else "–",
                "sizes fitted": p.n_sizes_ if p else 0,
            }
        )
    for s in _settings(r):
        if s.tmin_summary is None or s.tmin_summary.empty:
            continue
        p = s.exponents.get("p")
        fig = F.tmin_vs_scale(s, title=_label(r, s))
        slope = (
            f"fitted pooled slope −γ_p = −{p.gamma_:.3f}, 95% CI [{p.ci_[0]:.3f}, "
            f"{p.ci_[1]:.3f}] ({p.ci_method_} bootstrap), R² {p.r2_:.2f}"
            if p is not None and np.isfinite(p.gamma_)
            else "no slope could be fitted"
        )
        figs.append(
            Figure(
                _png(r, fig),
                (
                    f"The paper's Figure 1 for {_label(r, s)}: minimum training time t_min to reach each "
                    f"test-error threshold ({', '.join(f'{x:.3g}' for x in s.thresholds)}; automatic "
                    "ladder, docs/scale-time.md) against p = N^(1/3). Points: geometric mean over the "
                    "seeds that reached it, bars: 95% Student-t interval; hollow: at most half the seeds "
                    f"reached it (not fitted). Solid: {slope}. Dotted: slope −1 (t_min ∝ 1/p). "
                    f"{_setting_context(r, s)}"
                ),
            )
        )
    return Section(
        "t_min against scale (Figure 1)",
        text="Under scale-time equivalence the lines are parallel with slope −1 on the p axis.",
        figures=figs,
        tables=[
            (
                "Exponent of t_min ∝ p^(−γ_p) per setting (95% bootstrap intervals).",
                pd.DataFrame(rows),
            )
        ],
    )


def _prediction_section(r: SweepReport) -> Section:
    figs = []
    rows = []
    for s in r.analysis.settings:
        for d, v in s.validity.items():
            rows.append(
                {
                    "setting": _label(r, s),
                    "direction": {
                        "small_to_large": "small → large",
                        "large_to_small": "large → small",
                    }.get(d, d),
                    "pairs holding": f"{v.n_holding}/{v.n_decided}",
                    "median × floor": v.median_ratio,
                    "worst × floor": v.worst_ratio,
                    "largest size ratio holding": v.max_ratio,
                    "verdict (setting)": s.verdict,
                }
            )
    for s in _settings(r):
        if not s.predictions:
            continue
        gamma = s.predictions[0].gamma
        tol = s.predictions[0].tolerance
        figs.append(
            Figure(
                _png(r, F.prediction_curves(s, title=_label(r, s))),
                (
                    f"Scale-time predictions for {_label(r, s)}: the largest model predicted from each smaller "
                    "one (left) and the smallest from each larger one (right) by "
                    f"Ê(N_T, t) = E(N_S, t·(N_T/N_S)^γ) with γ = {gamma:.3g} on N, read only inside the "
                    "source's checkpoints (a dashed line stops where the source run ends). Solid: the "
                    "target's seed mean, grey: ± one seed s.d. Labels: RMSLE in units of the seed noise "
                    f"floor (a pair holds at ≤ {tol:g}×). {_setting_context(r, s)}"
                ),
            )
        )
        figs.append(
            Figure(
                _png(r, F.prediction_matrix(s, title=_label(r, s))),
                (
                    f"Every ordered pair's prediction error for {_label(r, s)}, RMSLE / noise-floor RMSLE "
                    f"(pooled over all source × target seed pairs); tolerance {tol:g}. Below the diagonal: "
                    f"large → small; above: small → large. Verdict: {s.verdict}. "
                    f"{'; '.join(s.reasons)}. {_setting_context(r, s)}"
                ),
            )
        )
    return Section(
        "Predicting large ↔ small",
        figures=figs,
        tables=[("Validity regime per direction (docs/scale-time.md §5).", pd.DataFrame(rows))],
    )


def _collapse_section(r: SweepReport) -> Section:
    figs = []
    for s in _settings(r):
        if s.collapse is None:
            continue
        c = s.collapse
        figs.append(
            Figure(
                _png(r, F.collapse_plot(s, title=_label(r, s))),
                (
                    f"Collapse for {_label(r, s)}: seed-mean test error against N^γ·t. Left: the γ that best "
                    f"collapses the curves (γ = {c.gamma_:.3f}, residual {c.score_.residual:.3g} = "
                    f"{c.score_.ratio:.2f}× the seed spread); right: the paper's γ = 1/3 "
                    f"({s.collapse_at['paper'].ratio:.2f}× the seed spread). ≈ 1× means the curves "
                    f"coincide within seed noise. {_setting_context(r, s)}"
                ),
            )
        )
    return Section("Collapse", figures=figs)


def _laws_section(r: SweepReport) -> Section:
    figs, tables = [], []
    opts = r.options
    effort = f"fitter options {opts.fit_options or 'default (as scaletime evaluate)'}"
    for e in r.laws:
        if e.scores.empty:
            tables.append(
                (f"Held out along {e.axis}: not scored ({'; '.join(e.notes)}).", pd.DataFrame())
            )
            continue
        held = {
            "size": "the largest model sizes",
            "time": "the latest checkpoints",
            "data": "the largest training sets",
        }[e.axis]
        cols = [
            c
            for c in (
                "law",
                "roles",
                "status",
                "rmsle",
                "rmsle_low",
                "rmsle_high",
                "mdare",
                "n_train",
                "n_test",
                "n_curves",
                "seconds",
                "note",
            )
            if c in e.scores
        ]
        ratio = (
            f"unified / best other ({e.best_other}) = {e.ratio:.2f}"
            if np.isfinite(e.ratio)
            else "no ratio"
        )
        scored = e.scores.loc[e.scores["status"] != "n/a"]
        skipped = e.scores.loc[e.scores["status"] == "n/a"]
        reasons = "; ".join(
            f"{', '.join(g['law'])}: {note}" for note, g in skipped.groupby("note", sort=False)
        )
        tables.append(
            (
                f"Held out along {e.axis}: {held} (≥ {fmt_num(e.threshold)}, the top "
                f"{opts.holdout_fraction:.0%} of its distinct values); every law fitted on the rest "
                f"and scored on them. RMSLE of the unified law with a 95% interval over held-out "
                f"runs; {ratio}. {effort}. "
                + (f"Not applicable to this split — {reasons}. " if reasons else "")
                + "; ".join(e.notes),
                scored[cols],
            )
        )
        shown_law = e.unified or e.baseline
        if shown_law is None:
            continue
        frame = shown_law.frame
        shown = F.law_frame_shown(frame)
        data_note = ""
        if "noise" in frame and frame["noise"].nunique() > 1:
            data_note += f" Shown: label noise {fmt_num(shown['noise'].iloc[0])} only."
        if "data" in frame and frame["data"].nunique() > 1:
            data_note += f" Shown: n = {fmt_num(shown['data'].iloc[0])} only."
        figs.append(
            Figure(
                _png(r, F.law_vs_data(e, title=f"held out: {held}")),
                (
                    f"Fitted laws against the data, held out along {e.axis} ({held}, ≥ "
                    f"{fmt_num(e.threshold)}): the unified law (left) and the best multi-variable "
                    "alternative (right), fitted on the rest. Top: seed-mean test error (dots), the "
                    "law (solid where fitted, dashed on held-out rows); bottom: log residuals per run "
                    f"(o fitted, x held out).{data_note} {effort}. {r.context.describe()}"
                ),
            )
        )
    return Section(
        "Scaling laws: fits and held-out scores",
        text="Each law is fitted on the smaller models (or earlier times, or smaller data) and "
        "scored on the held-out rest: RMSLE = sqrt(mean (log ŷ − log y)²), MdARE = median "
        "|ŷ − y| / y (docs/fitting.md).",
        figures=figs,
        tables=tables,
    )


def _double_descent_section(r: SweepReport) -> Section:
    figs, tables = [], []
    frame = r.frame
    pairs = [((res.setting, res.rows), res) for res in r.epoch_wise if res.rows is not None]
    if pairs:
        fig = F.epoch_wise_plot([p[0] for p in pairs], [p[1] for p in pairs])
        figs.append(
            Figure(
                _png(r, fig),
                (
                    "Epoch-wise double descent: seed-mean test error per width against epoch "
                    f"({'label-noise settings' if (frame['noise'] > 0).any() else 'no label noise in this sweep'}). "
                    "●: the curve's minimum; ▲: its overfitting time (halfway from the minimum to the "
                    "later maximum). Scale-time equivalence predicts the ▲ to move earlier with size as "
                    f"N^(−γ). {r.context.describe()}"
                ),
            )
        )
        rows = []
        for res in r.epoch_wise:
            for _, row in res.per_size.iterrows():
                rows.append(
                    {
                        "setting": res.setting,
                        "width": row["width"],
                        "N": row["size"],
                        "rise after minimum": _ci(row["rise"], (row["rise_low"], row["rise_high"])),
                        "t_best": row["t_best"],
                        "t_overfit": row["t_overfit"],
                    }
                )
            g = res.gamma_overfit
            rows.append(
                {
                    "setting": res.setting,
                    "width": "γ_overfit",
                    "N": np.nan,
                    "rise after minimum": _ci(g.value, g.ci),
                    "t_best": np.nan,
                    "t_overfit": np.nan,
                }
            )
        tables.append(
            (
                "Epoch-wise: rise of each size's mean curve after its minimum (95% seed "
                "bootstrap), its time, the overfitting time, and γ_overfit of "
                "t_overfit ∝ N^(−γ) over the sizes that rise ≥ 2%.",
                pd.DataFrame(rows),
            )
        )
    t = r.table.loc[r.table["status"].isin(["done", "diverged"])]
    by = "label_noise" if t["label_noise"].nunique() > 1 else "data_size"
    dd = ", ".join(f"{e.where}: {_ci(e.value, e.ci)}" for e in r.model_wise) or "fewer than 4 sizes"
    figs.append(
        Figure(
            _png(r, F.final_vs_width(t, by=by)),
            (
                "Model-wise: test error against parameters N at four checkpoints (mean ± seed s.d.), "
                f"one panel per {by.replace('_', ' ')}. Double-descent strength at the last epoch "
                f"(0 = none; min of the descent/ascent/descent moves): {dd}. {r.context.describe()}"
            ),
        )
    )
    if t["data_size"].nunique() > 1:
        figs.append(
            Figure(
                _png(r, F.versus_data(t)),
                (
                    "Sample-wise: test error against the training-set size n, one line per width, at "
                    f"the end of training (left) and best over training (right); n = "
                    f"{fmt_list(sorted(t['data_size'].unique()))}. {r.context.describe()}"
                ),
            )
        )
    return Section("Double descent in time, scale and data", figures=figs, tables=tables)


def _noise_section(r: SweepReport) -> Section | None:
    e = r.noise_sensitivity
    if e is None:
        return None
    t = r.table.loc[r.table["status"].isin(["done", "diverged"])]
    fig = F.noise_sensitivity(t)
    return Section(
        "Label-noise sensitivity",
        figures=[
            Figure(
                _png(r, fig),
                (
                    "Label-noise sensitivity: (final test error at noise ρ − at ρ = 0) / ρ against N, per "
                    f"data size and rate ρ = {fmt_list(sorted(t['label_noise'].unique()))}. Slope per decade "
                    f"of N (averaged over rates): {_ci(e.value, e.ci)} (95% seed bootstrap); > 0: larger "
                    f"models lose more to label noise. {r.context.describe()}"
                ),
            )
        ],
    )


def _data_section(r: SweepReport) -> Section | None:
    e = r.data_needed
    if e is None:
        return None
    c = r.data_concordance
    concordance = ""
    if c is not None:
        concordance = (
            f"Concordance (a larger model needs fewer examples, censored sizes included; 0.5 = no "
            f"relation, 1 = always): {_ci(c.value, c.ci)} over {c.details.get('concordant', 0)} "
            f"concordant and {c.details.get('discordant', 0)} discordant size pairs × thresholds "
            f"({', '.join(f'{x:.3g}' for x in c.details.get('thresholds', []))}). "
        )
    thresholds = ", ".join(f"{x:.3g}" for x in e.details.get("thresholds", []))
    return Section(
        "Data needed against model size",
        figures=[
            Figure(
                _png(r, F.data_needed_plot(e)),
                (
                    f"Training examples needed to reach final test error ≤ each threshold ({thresholds}; "
                    "automatic ladder over the final errors) against N, interpolated in log n between the "
                    f"measured sizes n = {fmt_list(e.details.get('data_sizes', []))}; a size that never "
                    f"reaches a threshold is left out ({e.details.get('not_reached', 0)} run × threshold "
                    f"cases), as is one already below it at the smallest n ({e.details.get('before_first', 0)}). "
                    f"Fitted n_needed ∝ N^(−γ_data): γ_data = {_ci(e.value, e.ci)}, {e.where}. "
                    f"{concordance}{r.context.describe()}"
                ),
            )
        ],
    )


def _notes_section(r: SweepReport) -> Section:
    notes = list(r.analysis.notes)
    for s in r.analysis.settings:
        notes.extend(f"{_label(r, s)}: {n}" for n in s.notes)
    for e in r.laws:
        notes.extend(f"laws ({e.axis}): {n}" for n in e.notes)
    w = r.larger_is_worse
    if w is not None:
        notes.append(
            f"largest harm of a larger model at the end of training: {_ci(w.value, w.ci)} "
            f"({w.where}; relative error increase, 95% seed bootstrap)"
        )
    seconds = ", ".join(f"{k} {v:.1f} s" for k, v in r.seconds.items())
    notes.append(f"time spent on this report: {seconds}")
    return Section("Notes", text=" · ".join(notes))


#: The section that draws each claim's evidence (claims.CLAIMS keys → section titles).
_EVIDENCE = {
    "tmin": "t_min against scale (Figure 1)",
    "predict": "Predicting large ↔ small",
    "unified": "Scaling laws: fits and held-out scores",
    "data": "Data needed against model size",
    "noise": "Label-noise sensitivity",
    "larger": "Double descent in time, scale and data",
    "cause": "Double descent in time, scale and data",
}


def _findings_section(r: SweepReport, sections: list[Section]) -> Section:
    """The findings card: each claim this sweep tests, its verdict and number, linked to the
    section that shows the evidence (verdict rules: docs/report.md)."""
    anchors = {s.title: s.anchor for s in sections}
    items = []
    for f in findings(r.summary(), r.spec.name):
        anchor = anchors.get(_EVIDENCE.get(f.key, ""))
        claim = html.escape(f.claim)
        link = f'<a href="#{anchor}">{claim}</a>' if anchor else claim
        note = f" <span class='meta'>({html.escape(f.note)})</span>" if f.note else ""
        items.append(
            f"<li><span class='verdict-{f.verdict.replace(' ', '-')}'>"
            f"{html.escape(f.verdict)}</span> {link}: {html.escape(f.measured)}{note}</li>"
        )
    body = (
        f"<ul class='findings'>{''.join(items)}</ul>"
        if items
        else "<p>No claim of the paper could be tested on this sweep.</p>"
    )
    return Section("Findings", html=body)


def build_sections(r: SweepReport) -> list[Section]:
    """The report's sections in reading order, the findings first (sections without data are
    left out)."""
    sections = [
        _spec_section(r),
        _curves_section(r),
        _tmin_section(r),
        _prediction_section(r),
        _collapse_section(r),
        _laws_section(r),
        _double_descent_section(r),
        _noise_section(r),
        _data_section(r),
        _notes_section(r),
    ]
    shown = [s for s in sections if s is not None]
    return [_findings_section(r, shown), *shown]


def write_report(
    folder: str | Path,
    options: ReportOptions | None = None,
    *,
    out: str | Path | None = None,
    extra_sections: list[Section] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Analyse the sweep in ``folder`` and write ``report.html`` (and ``summary.json``) there.

    Returns the path of the report (``out`` if given). ``progress`` is told each analysis step
    and each law fit before it starts.
    """
    folder = Path(folder)
    if not (folder / DB_NAME).is_file():
        raise FileNotFoundError(f"{folder} is not a sweep folder (no {DB_NAME})")
    report = analyse_sweep(folder, options, progress)
    sections = [*(extra_sections or []), *build_sections(report)]
    html = render(f"Sweep report: {report.spec.name}", str(folder), sections)
    path = Path(out) if out is not None else folder / REPORT_NAME
    path.write_text(html, encoding="utf-8")
    (folder / SUMMARY_NAME).write_text(json.dumps(report.summary(), indent=1, allow_nan=False))
    return path


def read_summary(folder: str | Path) -> dict[str, Any] | None:
    """``folder/summary.json`` if present and readable."""
    path = Path(folder) / SUMMARY_NAME
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, sqlite3.Error):
        return None
