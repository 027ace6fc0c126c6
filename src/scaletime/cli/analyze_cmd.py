"""``scaletime analyze``: scale-time equivalence from measured curves (docs/scale-time.md)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from scaletime.cli.common import check_output, safe, user_errors

if TYPE_CHECKING:
    from scaletime.analysis import AnalysisResult, SettingAnalysis

err_console = Console(stderr=True)


def _number(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:.{digits}g}"


def _interval(low: float, high: float, digits: int = 3) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return "–"
    return f"[{low:.{digits}g}, {high:.{digits}g}]"


def _parse_thresholds(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a comma-separated list of numbers (e.g. 0.2,0.1,0.05)",
            param_hint="--thresholds",
        ) from None
    if not values:
        raise typer.BadParameter("give at least one threshold", param_hint="--thresholds")
    bad = [v for v in values if not (math.isfinite(v) and v > 0)]
    if bad:
        raise typer.BadParameter(
            f"thresholds are metric values to reach: finite and positive, got {bad}",
            param_hint="--thresholds",
        )
    return sorted(set(values), reverse=True)


def _parse_gamma(text: str) -> str | float:
    if text in ("paper", "fit"):
        return text
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise typer.BadParameter(
            f"{text!r}: use 'paper' (γ = 1/3 on N), 'fit' (fitted on the other sizes) or a "
            "non-negative number",
            param_hint="--gamma",
        )
    return value


def _tmin_table(analysis: SettingAnalysis) -> Table:
    summary = analysis.tmin_summary
    table = Table(title="t_min: geometric mean over seeds [95% CI] (reached/runs)")
    table.add_column("N", justify="right")
    table.add_column("width", justify="right")
    thresholds = list(analysis.thresholds)
    for threshold in thresholds:
        table.add_column(f"≤ {threshold:.4g}", justify="right")
    if summary.empty:
        return table
    for size, rows in summary.groupby("size", sort=True):
        cells = [f"{size:.4g}", _number(rows["width"].iloc[0])]
        by_threshold = rows.set_index("threshold")
        for threshold in thresholds:
            row = by_threshold.loc[threshold]
            counts = f"({int(row['n_reached'])}/{int(row['n_runs'])})"
            if row["n_reached"] == 0:
                cells.append(f"– {counts}")
            else:
                interval = _interval(row["ci_low"], row["ci_high"], 2)
                cells.append(f"{row['t_min']:.3g} {interval} {counts}")
        table.add_row(*cells)
    return table


def _exponent_table(analysis: SettingAnalysis) -> Table:
    table = Table(title="exponent γ in t_min ∝ scale^−γ (pooled over thresholds)")
    for column in ("scale", "γ", "95% CI", "R²", "sizes", "CI over", "paper", "paper test"):
        table.add_column(column, justify="right" if column != "scale" else "left")
    names = {"size": "N", "width": "width", "p": "p = N^1/3"}
    for scale, fit in analysis.exponents.items():
        if fit.paper_consistent_ is None:
            verdict = "–"
        elif fit.paper_consistent_:
            verdict = "[green]consistent[/]"
        else:
            verdict = f"[red]rejected[/] (z = {_number(fit.paper_z_, 2)})"
        table.add_row(
            names[scale],
            _number(fit.gamma_),
            _interval(*fit.ci_),
            _number(fit.r2_),
            str(fit.n_sizes_),
            fit.ci_method_,
            _number(fit.paper_gamma_),
            verdict,
        )
    return table


def _collapse_table(analysis: SettingAnalysis) -> Table:
    table = Table(title="collapse of E(N, t) onto one curve of N^γ·t")
    for column in ("γ", "residual", "seed spread", "residual / spread", "comparisons"):
        table.add_column(column, justify="right")
    scores = []
    if analysis.collapse is not None:
        scores.append(("best", analysis.collapse.score_))
    scores += [(name, score) for name, score in analysis.collapse_at.items()]
    for name, score in scores:
        table.add_row(
            f"{score.gamma:.3f} ({name})",
            _number(score.residual),
            _number(score.seed_spread),
            _number(score.ratio),
            str(score.n_points),
        )
    return table


def _predictions_table(analysis: SettingAnalysis) -> Table:
    table = Table(title="predictions Ê(N_T, t) = E(N_S, t·(N_T/N_S)^γ) vs the seed noise floor")
    for column in (
        "N_S → N_T",
        "γ",
        "coverage",
        "MARE",
        "floor MARE",
        "RMSLE",
        "floor RMSLE",
        "× floor",
        "holds",
        "valid t",
    ):
        table.add_column(column, justify="right")
    for pair in sorted(analysis.predictions, key=lambda p: (p.direction, p.size_ratio)):
        holds = {True: "[green]yes[/]", False: "[red]no[/]", None: "–"}[pair.holds]
        valid = _interval(*pair.valid_time) if pair.valid_time else "–"
        table.add_row(
            f"{pair.source_size:.3g} → {pair.target_size:.3g}",
            _number(pair.gamma),
            f"{pair.coverage:.0%}",
            _number(pair.mare, 2),
            _number(pair.floor_mare, 2),
            _number(pair.rmsle, 2),
            _number(pair.floor_rmsle, 2),
            _number(pair.ratio, 2),
            holds,
            valid,
        )
    return table


def _validity_table(analysis: SettingAnalysis) -> Table:
    table = Table(title="regime of validity (error ≤ tolerance × noise floor)")
    for column in (
        "direction",
        "largest size ratio",
        "time range",
        "holding",
        "median × floor",
        "worst × floor",
        "worst pair",
    ):
        table.add_column(column, justify="right" if column != "direction" else "left")
    for regime in analysis.validity.values():
        worst = (
            f"{regime.worst_pair[0]:.3g} → {regime.worst_pair[1]:.3g}" if regime.worst_pair else "–"
        )
        table.add_row(
            regime.direction.replace("_", " "),
            _number(regime.max_ratio),
            _interval(*regime.time_range) if regime.time_range else "–",
            f"{regime.n_holding}/{regime.n_decided}",
            _number(regime.median_ratio),
            _number(regime.worst_ratio),
            worst,
        )
    return table


def _summary_table(result: AnalysisResult) -> Table:
    table = Table(title="across settings: where does scale-time equivalence break, and by how much")
    for column in (
        "setting",
        "γ (N)",
        "95% CI",
        "R²",
        "paper 1/3",
        "collapse γ",
        "collapse / spread",
        "median × floor",
        "holding",
        "max ratio s→l",
        "max ratio l→s",
        "verdict",
    ):
        table.add_column(column, justify="left" if column == "setting" else "right")
    colours = {"holds": "green", "partial": "yellow", "breaks": "red", "undetermined": "dim"}
    for row in result.summary().to_dict(orient="records"):
        table.add_row(
            safe(row["setting"]),
            _number(row["gamma"]),
            _interval(row["gamma_ci_low"], row["gamma_ci_high"]),
            _number(row["r2"]),
            _number(row["paper_consistent"]),
            _number(row["collapse_gamma"]),
            _number(row["collapse_ratio"]),
            _number(row["median_error_ratio"]),
            _number(row["fraction_holding"], 2),
            _number(row["max_ratio_small_to_large"]),
            _number(row["max_ratio_large_to_small"]),
            f"[{colours[row['verdict']]}]{row['verdict']}[/]",
        )
    return table


def analyze(
    sources: list[Path] = typer.Argument(
        ...,
        metavar="SOURCES",
        help="Sweep folders (with results.sqlite) or tidy tables (.csv / .parquet); several are "
        "analysed together, told apart by a 'source' setting column.",
    ),
    size: str = typer.Option(
        "n_params", help="Model-size column (parameters, or a width with --size-rule)."
    ),
    size_rule: str = typer.Option(
        None, help="Parameter count from the width w in --size, e.g. 'w**2 + 796*w + 10'."
    ),
    time: str = typer.Option(
        "epoch", help="Time column: epoch, step, examples_seen or lr_time (Σηₜ, the theory's)."
    ),
    metric: str = typer.Option("test_error", help="Metric column (lower is better)."),
    seed: str = typer.Option(None, help="Seed column (default: seed, if present)."),
    data: str = typer.Option(None, help="Data-size column (default: data_size, if present)."),
    noise: str = typer.Option(None, help="Label-noise column (default: label_noise, if present)."),
    run: str = typer.Option(None, help="Run-id column (default: run_id, if present)."),
    width: str = typer.Option(None, help="Width column (default: width, if present)."),
    group_by: str = typer.Option(
        None, help="Comma-separated setting columns (default: the setting columns present)."
    ),
    thresholds: str = typer.Option(
        None,
        help="t_min thresholds, comma-separated (e.g. 0.2,0.1) (default: an automatic ladder).",
    ),
    n_thresholds: int = typer.Option(5, min=1, help="Size of the automatic threshold ladder."),
    gamma: str = typer.Option(
        "paper", help="Predictor exponent on N: paper (1/3), fit (on the other sizes) or a number."
    ),
    tolerance: float = typer.Option(2.0, help="Holds if error ≤ tolerance × noise floor (> 0)."),
    boot: int = typer.Option(1000, min=1, help="Bootstrap resamples for the γ intervals."),
    random_state: int = typer.Option(0, help="Seed of the bootstrap."),
    pairs: bool = typer.Option(True, help="Print the per-pair prediction table."),
    json_out: Path = typer.Option(None, "--json", help="Write every number (and the curves) here."),
) -> None:
    """Scale-time equivalence from measured curves: t_min, γ, collapse, predictions, validity."""
    check_output(json_out, "--json")
    from scaletime.analysis import analyze as run_analysis
    from scaletime.table import ColumnMapping

    if not tolerance > 0:
        raise typer.BadParameter(f"must be positive, got {tolerance}", param_hint="--tolerance")

    mapping = ColumnMapping(
        size=size,
        time=time,
        metric=metric,
        seed=seed,
        data=data,
        noise=noise,
        run=run,
        width=width,
        group_by=tuple(c.strip() for c in group_by.split(",") if c.strip()) if group_by else None,
        size_rule=size_rule,
    )
    with user_errors():
        result = run_analysis(
            sources,
            mapping,
            thresholds=_parse_thresholds(thresholds),
            n_thresholds=n_thresholds,
            gamma=_parse_gamma(gamma),  # type: ignore[arg-type]
            tolerance=tolerance,
            n_boot=boot,
            random_state=random_state,
        )

    out = Console()
    for note in result.notes:
        out.print(f"[dim]note: {safe(note)}[/]")
    for analysis in result.settings:
        out.rule(f"setting: {safe(analysis.label)}")
        out.print(
            "[dim]" + safe(", ".join(f"{k}={v}" for k, v in analysis.setting.items())) + "[/]",
            soft_wrap=True,
        )
        for note in analysis.notes:
            out.print(f"[yellow]note:[/] {safe(note)}")
        out.print(_tmin_table(analysis))
        if analysis.exponents:
            out.print(_exponent_table(analysis))
        out.print(_collapse_table(analysis))
        if pairs and analysis.predictions:
            out.print(_predictions_table(analysis))
        out.print(_validity_table(analysis))
        out.print(f"verdict: [bold]{analysis.verdict}[/] — " + safe("; ".join(analysis.reasons)))
    out.rule("summary")
    out.print(_summary_table(result))
    if json_out is not None:
        result.to_json(json_out)
        out.print(f"wrote {safe(json_out)}")


def register(app: typer.Typer) -> None:
    """Register ``scaletime analyze`` on ``app``."""
    app.command("analyze")(analyze)
