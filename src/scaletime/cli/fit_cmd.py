"""``scaletime fit``, ``predict`` and ``evaluate``: scaling-law fits, predictions with intervals,
and the held-out comparison of every law (docs/fitting.md, docs/cli-fit.md)."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from scaletime.cli.columns import (
    Columns,
    DataColumn,
    Derive,
    GroupBy,
    MetricColumn,
    NoiseColumn,
    RunColumn,
    SeedColumn,
    SizeColumn,
    TimeColumn,
    Where,
    split_list,
)
from scaletime.cli.common import check_output, safe, user_errors
from scaletime.errors import ScaletimeError
from scaletime.fitting.errors import FitConvergenceWarning
from scaletime.fitting.laws import LAWS

if TYPE_CHECKING:
    import pandas as pd

    from scaletime.fitting.estimator import ScalingLawRegressor

console = Console()
err_console = Console(stderr=True)

Loss = Literal["huber", "mse", "mae"]
if TYPE_CHECKING:
    LawName = str
else:  # the catalogue's names, listed as the choices of --law
    LawName = Literal[tuple(LAWS)]


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, int | float):
        return f"{value:.{digits}g}"
    return str(value)


# ------------------------------------------------------------------------------------ fit


#: The symbol of each role in the laws' equations.
_SYMBOLS = {"size": "N", "time": "t", "data": "D", "noise": "s"}


def _params_table(est: ScalingLawRegressor, columns: dict[str, str] | None = None) -> Table:
    conf = round(100 * est.confidence)
    used = [r for r in est.law_.roles if columns and r in columns and r in _SYMBOLS]
    legend = ", ".join(f"{_SYMBOLS[r]} = {columns[r]}" for r in used) if columns else ""
    table = Table(
        title=f"{est.law_.name}: {est.law_.equation}" + (f"\n({safe(legend)})" if legend else "")
    )
    table.add_column("parameter")
    table.add_column("value", justify="right")
    table.add_column(f"{conf}% interval", justify="right")
    table.add_column("meaning")
    for row in est.summary().itertuples():
        interval = (
            "–"
            if not (math.isfinite(row.low) and math.isfinite(row.high))
            else f"[{_fmt(row.low)}, {_fmt(row.high)}]"
        )
        table.add_row(row.parameter, _fmt(row.value), interval, row.meaning)
    return table


def fit(
    ctx: typer.Context,
    table: str = typer.Argument(
        ..., metavar="TABLE", help="Tidy table (.csv/.parquet) or sweep folder."
    ),
    law: LawName = typer.Option(
        ..., "--law", metavar="LAW", help=f"Law, one of: {', '.join(LAWS)} (docs/fitting.md)."
    ),
    out: Path = typer.Option(..., "-o", "--out", help="Where to write the fit (JSON)."),
    size: SizeColumn = None,
    time: TimeColumn = None,
    data: DataColumn = None,
    noise: NoiseColumn = None,
    metric: MetricColumn = None,
    seed_column: SeedColumn = None,
    run: RunColumn = None,
    group_by: GroupBy = None,
    where: Where = None,
    derive: Derive = None,
    loss: Loss = typer.Option("huber", help="Loss on log error."),
    delta: float = typer.Option(1e-3, help="Huber threshold (log units)."),
    starts: int = typer.Option(8, help="Local optimisations (multi-start)."),
    random_starts: bool = typer.Option(False, help="Random starts instead of the best of a grid."),
    bootstrap: int = typer.Option(200, help="Bootstrap resamples (0: none; 4000 as Epoch)."),
    bootstrap_by: Literal["run", "seed", "point"] = typer.Option("run", help="Bootstrap unit."),
    confidence: float = typer.Option(0.9, help="Interval level."),
    breaks: int = typer.Option(1, help="Breaks of the bnsl law."),
    random_state: int = typer.Option(0, help="Seed of the start grid and the bootstrap."),
    jobs: int = typer.Option(1, help="Worker processes for the bootstrap."),
) -> None:
    """Fit a scaling law to a table and save it as JSON (with bootstrap intervals)."""
    check_output(out, "--out")
    from scaletime.fitting.api import check_law_fits_table
    from scaletime.fitting.api import fit as fit_law
    from scaletime.table import single_setting

    columns = Columns.from_command(ctx)
    with user_errors():
        fit_table = single_setting(columns.load(table))
        options = {"n_breaks": breaks} if law in ("bnsl", "bnsl2") and breaks != 1 else None
        law_name = "bnsl" if options else law
        check_law_fits_table(law_name, fit_table, options)
        err_console.print(
            f"fitting {law_name} to {len(fit_table.frame)} rows"
            + (" (choosing among its nested forms)" if law_name == "unified" else "")
            + (f", then {bootstrap} bootstrap refits" if bootstrap else "")
            + " ..."
        )
        with Progress(
            TextColumn("bootstrap"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
            disable=bootstrap == 0,
        ) as progress:
            task = progress.add_task("bootstrap", total=bootstrap)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", FitConvergenceWarning)
                est = fit_law(
                    fit_table,
                    law_name,
                    bootstrap_by=bootstrap_by,
                    progress=lambda k: progress.advance(task, k),
                    law_options=options,
                    loss=loss,
                    delta=delta,
                    n_starts=starts,
                    start="random" if random_starts else "grid",
                    n_bootstrap=bootstrap,
                    confidence=confidence,
                    random_state=random_state,
                    n_jobs=jobs,
                )
        est.metadata_.update(source=str(table), where=where, derive=list(derive or []))
        est.to_json(out)
    console.print(_params_table(est, fit_table.roles))
    console.print(
        f"loss {est.loss_:.4g} · log R² {est.train_score_:.4f} · {est.n_points_} points "
        f"({est.n_dropped_} dropped with time ≤ 0) · bootstrap over {est.n_groups_} "
        f"{bootstrap_by}s · {est.n_at_optimum_}/{len(est.starts_)} starts at the optimum"
    )
    unused = [r for r in ("size", "time", "data", "noise") if r not in est.law_.roles]
    for note in fit_table.notes:
        if not any(note.startswith(f"no {role} column") for role in unused):
            console.print(f"note: {safe(note)}")
    for name, why in getattr(est, "not_identified_", {}).items():
        how = "its value is arbitrary" if name in getattr(est, "identified_", {}) else "held fixed"
        console.print(f"note: {name} not identified, {how}: {safe(why)}")
    for message in dict.fromkeys(str(w.message) for w in caught):
        console.print(f"warning: {safe(message)}")
    console.print(f"wrote {safe(out)}")


# -------------------------------------------------------------------------------- predict


def predict(
    fit_file: Path = typer.Argument(..., metavar="FIT", help="A fit written by `scaletime fit`."),
    size: list[float] = typer.Option(None, help="Model size(s)."),
    time: list[float] = typer.Option(None, help="Training time(s)."),
    data: list[float] = typer.Option(None, help="Data size(s)."),
    noise: list[float] = typer.Option(None, help="Label-noise rate(s) [default: 0]."),
    confidence: float | None = typer.Option(None, help="Interval level [default: the fit's]."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Predict with a saved fit, with the law's interval and a new run's interval."""
    import numpy as np

    from scaletime.fitting.estimator import load_fit

    with user_errors():
        est = load_fit(fit_file)
        given = {"size": size, "time": time, "data": data, "noise": noise}
        for role, (lo, hi) in est.input_ranges_.items():  # constant when fitted: its value
            if not given.get(role) and lo == hi:
                given[role] = [lo]
        missing = [r for r in est.law_.roles if not given[r] and r != "noise"]
        if missing:
            raise typer.BadParameter(
                f"law {est.law_.name!r} needs {', '.join('--' + r for r in missing)}",
                param_hint="inputs",
            )
        columns = {r: np.asarray(given[r] or [0.0], dtype=float) for r in est.law_.roles}
        lengths = {len(v) for v in columns.values()} - {1}
        if len(lengths) > 1:
            raise typer.BadParameter(
                "repeat each input once, or the same number of times as the others",
                param_hint="inputs",
            )
        n = lengths.pop() if lengths else 1
        inputs = {r: np.broadcast_to(v, (n,)).copy() for r, v in columns.items()}
        frame = est.predict_frame(inputs, confidence)
    if as_json:
        console.print_json(json.dumps(frame.to_dict(orient="records")))
        return
    conf = round(100 * (confidence or est.confidence))
    table = Table(title=f"{est.law_.name} predictions ({conf}% intervals)")
    for col in frame.columns:
        table.add_column(col, justify="right")
    for record in frame.itertuples(index=False):
        table.add_row(*(_fmt(v) for v in record))
    console.print(table)
    for role, (lo, hi) in est.input_ranges_.items():
        values = frame[role].to_numpy()
        if ((values < lo) | (values > hi)).any():
            console.print(
                f"note: {role} outside the fitted range [{lo:.4g}, {hi:.4g}] (extrapolation)"
            )


# ------------------------------------------------------------------------------- evaluate


def _results_table(result: pd.DataFrame, title: str, setting_cols: list[str]) -> Table:
    table = Table(title=title)
    for col in [
        *setting_cols,
        "law",
        "roles",
        "RMSLE",
        "MdARE",
        "fit pts",
        "held-out pts",
        "curves",
        "s",
        "note",
    ]:
        table.add_column(
            safe(col),
            justify="left" if col in ("law", "roles", "note") else "right",
            no_wrap=col in ("law", "RMSLE"),  # never cut a law's name or its score; notes wrap
        )
    for row in result.to_dict(orient="records"):
        ok = row["status"] == "ok"
        table.add_row(
            *[safe(row[c]) for c in setting_cols],
            f"[bold]{row['law']}[/]" if row["law"] == "unified" else row["law"],
            row["roles"],
            _fmt(row["rmsle"]) if ok else row["status"],
            _fmt(row["mdare"]) if ok else "–",
            str(row["n_train"]) if ok else "–",
            str(row["n_test"]) if ok else "–",
            str(row["n_curves"]) if ok else "–",
            f"{row['seconds']:.1f}",
            safe(row["note"]),
        )
    return table


def evaluate(
    ctx: typer.Context,
    table: str = typer.Argument(
        ..., metavar="TABLE", help="Tidy table (.csv/.parquet) or sweep folder."
    ),
    holdout: Literal["size", "time", "data"] = typer.Option("size", help="Axis held out."),
    fraction: float = typer.Option(0.25, help="Share of the axis' distinct values held out."),
    cut: float | None = typer.Option(
        None, help="Hold out values above this (overrides --fraction)."
    ),
    split_column: str | None = typer.Option(
        None, help="Column marking fitted rows (1/true) and held-out rows (0/false) instead."
    ),
    laws: str | None = typer.Option(
        None, help=f"Laws to compare, comma-separated, of: {', '.join(LAWS)} [default: all]."
    ),
    size: SizeColumn = None,
    time: TimeColumn = None,
    data: DataColumn = None,
    noise: NoiseColumn = None,
    metric: MetricColumn = None,
    seed_column: SeedColumn = None,
    run: RunColumn = None,
    group_by: GroupBy = None,
    where: Where = None,
    derive: Derive = None,
    loss: Loss = typer.Option("huber", help="Loss on log error."),
    starts: int = typer.Option(4, help="Local optimisations per fit."),
    max_rows: int = typer.Option(
        5000, "--max-rows", help="Fit each law on at most this many rows, drawn at random (0: all)."
    ),
    out: Path | None = typer.Option(None, "-o", "--out", help="Also write the table (.csv/.json)."),
) -> None:
    """Fit every law on the smaller models (earlier times, smaller data) and score the rest."""
    check_output(out, "--out")
    import pandas as pd

    from scaletime.fitting.evaluate import evaluate_holdout, evaluate_laws
    from scaletime.fitting.laws import LAWS
    from scaletime.table import read_table

    names = split_list(laws, "--laws") or list(LAWS)
    unknown = [n for n in names if n not in LAWS]
    if unknown:
        raise typer.BadParameter(
            f"unknown law(s) {unknown}; known: {', '.join(LAWS)}", param_hint="--laws"
        )
    if max_rows < 0 or 0 < max_rows < 10:
        raise typer.BadParameter(
            f"0 (all rows) or at least 10, got {max_rows}", param_hint="--max-rows"
        )
    fit_options = {"loss": loss, "n_starts": starts, "max_rows": max_rows or None}
    columns = Columns.from_command(ctx)
    with (
        user_errors(),
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err_console,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("fitting", total=None)

        def on_law(score) -> None:
            progress.update(task, advance=1, description=f"fitted {score.law}")

        if split_column is not None:
            df = read_table(table)
            if split_column not in df.columns:
                raise ScaletimeError(
                    f"split column {split_column!r} is not in the table; available: "
                    + ", ".join(map(str, df.columns))
                )
            flag = df[split_column].astype(bool)
            train = columns.load(df[flag])
            test = columns.load(df[~flag])
            result = evaluate_laws(
                train, test, laws=names, axis=None, fit_options=fit_options, on_law=on_law
            )
            title = f"held out: rows with {split_column} false"
            setting_cols = list(train.varying_settings)
        else:
            full = columns.load(table)
            result, threshold = evaluate_holdout(
                full,
                axis=holdout,
                fraction=fraction,
                cut=cut,
                laws=names,
                fit_options=fit_options,
                on_law=on_law,
            )
            column = full.roles.get(holdout, holdout)
            title = safe(f"held out: {column} ≥ {threshold:.4g} (fitted on the smaller values)")
            setting_cols = list(full.varying_settings)
    console.print(_results_table(result, title, setting_cols))
    console.print(
        "RMSLE: root mean squared natural-log error; MdARE: median absolute relative "
        "error; both on the held-out rows."
    )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix == ".json":
            out.write_text(json.dumps(result.to_dict(orient="records"), indent=1, default=str))
        else:
            pd.DataFrame(result).to_csv(out, index=False)
        console.print(f"wrote {safe(out)}")


def register(app: typer.Typer) -> None:
    """Register ``fit``, ``predict`` and ``evaluate`` on ``app``."""
    app.command("fit")(fit)
    app.command("predict")(predict)
    app.command("evaluate")(evaluate)
