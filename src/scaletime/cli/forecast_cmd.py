"""``scaletime forecast``: the metric of a bigger, longer-trained or more-data model, with the
forecasters' backtest scores and a calibrated band; ``--factor`` / ``--budget`` compare the three
ways to spend more compute (docs/forecast.md, docs/cli.md)."""

from __future__ import annotations

import math
import time as _time
from pathlib import Path
from typing import Any, Literal

import typer
from rich.console import Console
from rich.table import Table

from scaletime.cli.columns import (
    Columns,
    DataColumnNamed,
    Derive,
    GroupBy,
    MetricColumn,
    NoiseColumnNamed,
    RunColumn,
    SeedColumn,
    SizeColumnNamed,
    TimeColumnNamed,
    Where,
    split_list,
)
from scaletime.cli.common import check_output, safe, user_errors
from scaletime.cli.fit_cmd import _fmt

console = Console()
err_console = Console(stderr=True)


def _progress() -> Any:
    start = _time.perf_counter()
    state = {"last": 0.0, "n": 0}

    def say(message: str) -> None:
        state["n"] += 1
        now = _time.perf_counter() - start
        if message.startswith(("backtests", "option")) or now - state["last"] > 5.0:
            state["last"] = now
            err_console.print(f"  {now:5.0f} s  {message}", highlight=False)

    return say


def _interval(low: float, high: float, digits: int = 4) -> str:
    if math.isfinite(low) and math.isfinite(high):
        return f"[{_fmt(low, digits)}, {_fmt(high, digits)}]"
    return "–"


def _print_forecast(result: Any, rows: int = 8) -> None:
    import numpy as np

    m = result.model
    conf = round(100 * m.confidence)
    scores = Table(title=f"forecasters, backtested along {result.axis} (cuts {m.backtest_.cuts})")
    scores.add_column("forecaster", no_wrap=True)
    scores.add_column("backtest RMSLE", justify="right")
    scores.add_column("weight", justify="right")
    scores.add_column("note")
    for row in result.forecasters().itertuples():
        note = "final fit failed" if not row.final_fit else ""
        if row.failed_origins:
            note = (note + "; " if note else "") + f"failed at {row.failed_origins} origin(s)"
        scores.add_row(row.forecaster, _fmt(row.backtest_rmsle, 3), f"{row.weight:.0%}", note)
    console.print(scores)
    frame = result.frame.sort_values("time")
    idx = np.unique(np.round(np.linspace(0, len(frame) - 1, min(rows, len(frame)))).astype(int))
    band = "conformal" if m.interval_source_ == "conformal" else "bootstrap (not calibrated)"
    table = Table(title=f"forecast, {conf}% interval: {band}")
    for col in ("size", "time", "data", "noise"):
        if col in frame:
            table.add_column(col, justify="right")
    table.add_column("forecast", justify="right")
    table.add_column(f"{conf}% interval", justify="right")
    for _, row in frame.iloc[idx].iterrows():
        cells = [_fmt(row[c]) for c in ("size", "time", "data", "noise") if c in frame]
        table.add_row(*cells, _fmt(row["forecast"]), _interval(row["low"], row["high"]))
    console.print(table)
    coverage = m.backtest_coverage_
    console.print(
        f"how: {result.explanation()}\n"
        f"coverage: nominal {conf}% · backtest "
        + (f"{coverage:.0%}" if math.isfinite(coverage) else "– (too few origins)")
        + f" · asked {result.axis} ratio {result.asked_ratio:.3g}, backtested up to "
        f"{m.max_backtest_ratio():.3g}",
        highlight=False,
    )
    for name, why in m.skipped_.items():
        console.print(f"note: {name} not used: {safe(why)}", highlight=False)
    for message in result.warnings:
        console.print(f"warning: {safe(message)}", highlight=False)


def _print_budget(comparison: Any) -> None:
    conf = round(100 * comparison.confidence)
    base = ", ".join(f"{k} {_fmt(v)}" for k, v in comparison.base.items())
    console.print(f"{_fmt(comparison.factor)}× the compute of the base point ({base}):")
    table = Table()
    table.add_column("option", no_wrap=True)
    table.add_column("change", no_wrap=True)
    table.add_column("forecast", justify="right", no_wrap=True)
    table.add_column(f"{conf}% interval", justify="right", no_wrap=True)
    for o in comparison.options:
        change = ", ".join(
            f"{k} {_fmt(v)}"
            for k, v in o.point.items()
            if k != "noise" and v != comparison.base.get(k)
        )
        table.add_row(o.name, change, _fmt(o.forecast, 3), _interval(o.low, o.high, 3))
    console.print(table)
    for o in comparison.options:
        if o.reason:
            console.print(f"note: {o.name}: {safe(o.reason)}", highlight=False)
    if comparison.winner is None:
        console.print("no option could be forecast")
        return
    p = comparison.probability
    console.print(
        f"winner: {comparison.winner}"
        + (
            f" (probability {p:.0%} that it is best, over the forecasts' uncertainty)"
            if math.isfinite(p)
            else " (its band is unbounded: how sure is unknown)"
        ),
        highlight=False,
    )


def forecast(
    ctx: typer.Context,
    table: str = typer.Argument(
        ..., metavar="TABLE", help="Tidy table (.csv/.parquet) or sweep folder."
    ),
    size: float | None = typer.Option(None, "--size", help="Model size asked (size units)."),
    width: float | None = typer.Option(
        None, "--width", help="Width asked (needs width and n_params columns)."
    ),
    time: float | None = typer.Option(None, "--time", help="Training time asked (time units)."),
    data: float | None = typer.Option(None, "--data", help="Data size asked."),
    noise: float | None = typer.Option(None, "--noise", help="Label noise asked."),
    factor: float | None = typer.Option(
        None, "--factor", help="Compare three ways to spend this many times the base compute."
    ),
    budget: float | None = typer.Option(
        None, "--budget", help="Like --factor, as total FLOPs (6·N·examples seen)."
    ),
    laws: str | None = typer.Option(
        None, "--forecasters", help="Forecasters, comma-separated (default: all that apply)."
    ),
    confidence: float = typer.Option(0.8, help="Interval level (0.8 = 80%)."),
    method: Literal["auto", "select", "ensemble"] = typer.Option(
        "auto", help="Pick the best forecaster, or weight the top ones."
    ),
    out: Path | None = typer.Option(None, "-o", "--out", help="Write the forecast as JSON."),
    plot: Path | None = typer.Option(None, "--plot", help="Write a PNG of data and forecast."),
    size_column: SizeColumnNamed = None,
    time_column: TimeColumnNamed = None,
    data_column: DataColumnNamed = None,
    noise_column: NoiseColumnNamed = None,
    metric: MetricColumn = None,
    seed_column: SeedColumn = None,
    run: RunColumn = None,
    group_by: GroupBy = None,
    where: Where = None,
    derive: Derive = None,
) -> None:
    """Forecast a bigger / longer / more-data model, with backtested forecaster choice and a
    calibrated interval; or, with --factor or --budget, which way to spend more compute wins."""
    check_output(out, "--out")
    check_output(plot, "--plot")
    from scaletime.forecasting import compare_budget, size_for_width
    from scaletime.forecasting import forecast as run_forecast
    from scaletime.forecasting.api import base_point, budget_factor
    from scaletime.table import read_table

    if size is not None and width is not None:
        raise typer.BadParameter("give --size or --width, not both", param_hint="--width")
    if factor is not None and budget is not None:
        raise typer.BadParameter("give --factor or --budget, not both", param_hint="--budget")
    with user_errors():
        fit_table = Columns.from_command(ctx).load(table)
        candidates = split_list(laws, "--forecasters")
        if width is not None:
            size = size_for_width(read_table(table), width)
            err_console.print(f"width {_fmt(width)} → size {_fmt(size)} (from the table's widths)")
        say = _progress()
        if factor is not None or budget is not None:
            from scaletime.table import single_setting

            fit_table = single_setting(fit_table)
            base = base_point(fit_table)
            if budget is not None:
                factor = budget_factor(read_table(table), budget, base)
            assert factor is not None  # given, or set from the budget just above
            err_console.print(f"comparing three ways to spend {_fmt(factor)}× the compute ...")
            comparison = compare_budget(
                fit_table,
                factor=factor,
                base=base,
                candidates=candidates,
                confidence=confidence,
                on_progress=say,
            )
            _print_budget(comparison)
            if out is not None:
                import json

                out.write_text(json.dumps(comparison.to_dict(), indent=1))
                console.print(f"wrote {safe(out)}")
            return
        err_console.print("backtesting the forecasters on the table, then fitting them ...")
        result = run_forecast(
            fit_table,
            size=size,
            time=time,
            data=data,
            noise=noise,
            candidates=candidates,
            confidence=confidence,
            method=method,
            on_progress=say,
        )
    _print_forecast(result)
    if out is not None:
        result.to_json(out)
        console.print(f"wrote {safe(out)}")
    if plot is not None:
        result.plot(plot)
        console.print(f"wrote {safe(plot)}")


def plan(
    target_width: int = typer.Option(..., "--target-width", help="Width to be predicted."),
    out: Path = typer.Option(..., "-o", "--out", help="Where to write the spec (TOML)."),
    spec: Path | None = typer.Option(
        None, "--spec", help="Base spec: dataset, widths, seeds, ... (default: the demo's)."
    ),
    gamma: float | None = typer.Option(
        None, "--gamma", help="Scale-time exponent on the N scale (default 1/3, the paper's)."
    ),
    pilot: Path | None = typer.Option(
        None, "--pilot", help="Fit gamma on this pilot sweep or table instead."
    ),
    epochs: float | None = typer.Option(
        None, "--epochs", help="Horizon T of the target's curve (default: the spec's epochs)."
    ),
    budget: float | None = typer.Option(
        None, "--budget", help="FLOPs to spend; sets the horizon it pays for."
    ),
) -> None:
    """Write a spec whose smaller widths train longer, epochs ∝ N^-γ, so that the scale-time
    predictor covers the target width's whole curve (docs/forecast.md, "Planned sweeps")."""
    check_output(out, "--out")
    from importlib.resources import files

    from scaletime.forecasting.design import plan_sweep
    from scaletime.sweep.spec import load_spec

    if gamma is not None and pilot is not None:
        raise typer.BadParameter("give --gamma or --pilot, not both", param_hint="--pilot")
    with user_errors():
        base = load_spec(spec or Path(str(files("scaletime") / "configs" / "demo.toml")))
        if pilot is not None:
            from scaletime.forecasting.candidates import fit_scale_time
            from scaletime.table import load_fit_table, single_setting

            # epochs are what the plan sets, so γ is fitted on the epoch axis
            pilot_table = single_setting(load_fit_table(pilot, time="epoch"))
            # fit_scale_time attaches gamma to the predictor function
            gamma = float(fit_scale_time(pilot_table).gamma)  # type: ignore[attr-defined]
            err_console.print(f"gamma {gamma:.3g}, fitted on the pilot {pilot} (time in epochs)")
        planned = plan_sweep(
            base,
            target_width,
            gamma=1.0 / 3.0 if gamma is None else gamma,
            epochs=epochs,
            budget=budget,
        )
        planned.write(out)
    table = Table(
        title=f"{planned.spec.name}: γ = {planned.gamma:.3g}, horizon "
        f"{planned.horizon:.4g} epochs for width {target_width}"
    )
    for col in ("width", "n_params", "epochs", "FLOPs"):
        table.add_column(col, justify="right")
    for row in planned.table.itertuples():
        table.add_row(str(row.width), str(row.n_params), _fmt(row.epochs), f"{row.flops:.3g}")
    console.print(table)
    console.print(
        f"compute {planned.flops:.3g} FLOPs; the same widths at equal epochs "
        f"{planned.equal_epochs_flops:.3g} ({planned.flops / planned.equal_epochs_flops:.2f}×)",
        highlight=False,
    )
    console.print(f"wrote {safe(out)}")


def register(app: typer.Typer) -> None:
    app.command("forecast")(forecast)
    app.command("plan")(plan)
