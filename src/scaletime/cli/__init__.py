"""The ``scaletime`` command line. Each command group lives in its own module and registers
its commands on the one Typer app (see docs/cli.md)."""

from __future__ import annotations

import typer

from scaletime.cli import (
    analyze_cmd,
    data_cmd,
    fit_cmd,
    forecast_cmd,
    report_cmd,
    sweep_cmd,
    theory_cmd,
)

app = typer.Typer(
    name="scaletime",
    help="Scaling sweeps, scale-time equivalence and unified scaling laws for neural networks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help text as written: "[default: n_params]" is not markup
)


def _print_version(value: bool) -> None:
    if value:
        from scaletime import __version__

        print(f"scaletime {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Scaling sweeps, scale-time equivalence and unified scaling laws for neural networks."""


for _module in (data_cmd, sweep_cmd, analyze_cmd, fit_cmd, forecast_cmd, report_cmd, theory_cmd):
    _module.register(app)


def main() -> None:
    app()
