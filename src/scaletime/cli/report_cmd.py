"""``scaletime report | reproduce``: the HTML report of a sweep, and the paper reproduction.

See docs/cli-report.md (options) and docs/report.md (what the report shows, the verdict rules).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

import typer
from rich.console import Console
from rich.table import Table

from scaletime.cli.common import check_output, fail, step_printer, user_errors

console = Console(stderr=True)


class Scale(StrEnum):
    smoke = "smoke"
    cpu = "cpu"
    full = "full"


class Suite(StrEnum):
    paper = "paper"


def _fit_options(n_starts: int | None, max_nfev: int | None) -> dict[str, int]:
    """The fitter's defaults (as ``scaletime evaluate``), with the options given here."""
    from scaletime.report import ReportOptions

    out = dict(ReportOptions().fit_options)
    if n_starts is not None:
        out["n_starts"] = n_starts
    if max_nfev is not None:
        out["max_nfev"] = max_nfev
    return out


def report(
    folder: Path = typer.Argument(
        ...,
        metavar="FOLDER",
        help="A sweep folder (holding results.sqlite), or a reproduction folder.",
    ),
    out: Path = typer.Option(
        None, "--out", "-o", help="Where to write (default FOLDER/report.html)."
    ),
    boot: int = typer.Option(1000, "--boot", help="Bootstrap resamples for every interval."),
    tolerance: float = typer.Option(
        2.0, help="A scale-time prediction holds at RMSLE ≤ this × the seed noise floor."
    ),
    gamma: str = typer.Option(
        "paper", help="Predictor exponent on N: paper (1/3), fit, or a number."
    ),
    laws: str = typer.Option(None, help="Comma-separated laws to score (default: every law)."),
    n_starts: int = typer.Option(None, "--n-starts", help="Law fits: local optimisations."),
    max_nfev: int = typer.Option(
        None, "--max-nfev", help="Law fits: evaluations per optimisation."
    ),
) -> None:
    """Write a self-contained HTML report (FOLDER/report.html) of a sweep, and print its path."""
    check_output(out, "--out")
    from scaletime.report import ReportOptions, write_report
    from scaletime.report.reproduce import rerender_index

    if not folder.is_dir():
        fail(f"{folder} is not a folder")
    if not (folder / "results.sqlite").is_file():
        if (folder / "claims.json").is_file():
            with user_errors():
                path = rerender_index(folder, out)
            print(path.resolve())
            return
        fail(f"{folder} holds no results.sqlite (a sweep folder) nor claims.json (a reproduction)")
    try:
        g: Literal["paper", "fit"] | float = (
            "fit" if gamma == "fit" else "paper" if gamma == "paper" else float(gamma)
        )
    except ValueError:
        fail(f"--gamma must be paper, fit or a number; got {gamma!r}")
    options = ReportOptions(
        n_boot=boot,
        tolerance=tolerance,
        gamma=g,
        fit_options=_fit_options(n_starts, max_nfev),
        laws=tuple(x.strip() for x in laws.split(",")) if laws else None,
    )
    with user_errors():
        path = write_report(folder, options, out=out, progress=step_printer(console))
    print(path.resolve())


def reproduce(
    suite: Suite = typer.Argument(..., metavar="SUITE", help="The experiment suite: paper."),
    scale: Scale = typer.Option(
        Scale.smoke, help="smoke (CI, minutes), cpu (≤ 2 h on 2 cores) or full (GPU)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (resumed if it exists)."),
    only: str = typer.Option(None, help="Comma-separated experiment names (default: all)."),
    device: Literal["auto", "cpu", "cuda"] | None = typer.Option(
        None, help="Device [default: each spec's]."
    ),
    progress: bool = typer.Option(False, help="Show each sweep's progress bar."),
) -> None:
    """Run the paper's experiments at a scale, analyse them, and judge every claim.

    Writes OUT/<experiment>/report.html per sweep, OUT/claims.md and OUT/report.html.
    """
    from scaletime.report.claims import claims_table
    from scaletime.report.reproduce import reproduce_paper

    def said(outcome) -> None:
        console.print(
            f"{outcome.experiment.name}: {outcome.status}"
            + (f" ({outcome.message})" if outcome.message else "")
            + f" — trained {outcome.trained}, skipped {outcome.skipped_runs}, "
            f"{outcome.train_seconds:.0f} s training, {outcome.report_seconds:.0f} s report"
        )

    with user_errors(interrupted="re-run the same command to resume."):
        rep = reproduce_paper(
            out,
            scale.value,
            only=[x.strip() for x in only.split(",")] if only else None,
            device=device,
            console=console,
            show_progress=progress,
            on_experiment=said,
        )
    table = Table(title=f"claims ({scale.value} scale, {rep.wall_seconds:.0f} s)")
    frame = claims_table(rep.claims)
    for column in ("#", "claim", "measured (95% CI)", "verdict"):
        table.add_column(column)
    for _, row in frame.iterrows():
        table.add_row(str(row["#"]), row["claim"], row["measured (95% CI)"], row["verdict"])
    Console().print(table)
    print(f"Claims: {rep.claims_md.resolve()}")
    print(f"Report: {rep.report.resolve()}")


def register(app: typer.Typer) -> None:
    """Register ``report`` and ``reproduce`` on ``app``."""
    app.command("report")(report)
    app.command("reproduce")(reproduce)


__all__ = ["register", "report", "reproduce"]
