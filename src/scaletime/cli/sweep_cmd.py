"""``scaletime run | status | export | demo``: sweeps and their results."""

from __future__ import annotations

from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from scaletime.cli.common import check_output, step_printer, user_errors
from scaletime.errors import ScaletimeError

Device = Literal["auto", "cpu", "cuda"]
console = Console(stderr=True)


class ExportFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


def config_path(name: str) -> Path:
    """Path of a spec shipped in ``scaletime/configs`` (also ``configs/`` at the repo root)."""
    ref = resources.files("scaletime") / "configs" / f"{name}.toml"
    return Path(str(ref))


def run(
    spec_file: Path = typer.Argument(
        ..., metavar="SPEC", help="Sweep spec (TOML); see docs/user-guide.md."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Sweep folder (created; resumed if it exists)."
    ),
    device: Device | None = typer.Option(None, help="Override the spec's device."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
    executor: Literal["local", "ray"] = typer.Option(
        "local",
        "--executor",
        help="local (train here) or ray (one Ray task per work unit; "
        "pip install 'scaletime\\[ray]'; see docs/distributed.md).",
    ),
    restart: bool = typer.Option(
        False,
        "--restart",
        help="Start afresh: an existing results.sqlite (finished, empty or damaged) is renamed "
        "to a timestamped backup first, never deleted.",
    ),
    address: str = typer.Option(
        None,
        "--address",
        help="Ray cluster address (head host:port, ray://host:10001, or auto); default: "
        "RAY_ADDRESS, else start a local Ray instance. Only with --executor ray.",
    ),
) -> None:
    """Run a sweep, or resume it: finished runs are never retrained."""

    from scaletime.sweep.executor import Executor, LocalExecutor, run_sweep
    from scaletime.sweep.spec import load_spec

    with user_errors(interrupted="re-run the same command to resume."):
        spec = load_spec(spec_file)
        if address is not None and executor != "ray":
            raise ScaletimeError("--address is the Ray cluster's: use it with --executor ray")
        chosen: Executor
        if executor == "ray":
            from scaletime.sweep.ray_executor import RayExecutor

            chosen = RayExecutor(address=address, device=device, console=console)
        else:
            chosen = LocalExecutor(device)
        outcome = run_sweep(
            spec, out, executor=chosen, console=console, show_progress=progress, restart=restart
        )
    console.print(
        f"done: {outcome.trained} runs trained, {outcome.skipped} skipped (already finished), "
        f"{outcome.diverged} diverged, {outcome.wall_time:.1f} s. Results: {out / 'results.sqlite'}"
    )


def status(folder: Path = typer.Argument(..., help="Sweep folder.")) -> None:
    """Show a sweep's progress: runs done, diverged and pending."""
    from scaletime.sweep.store import ResultStore, lock_holder

    with user_errors(), ResultStore(folder) as store:
        spec = store.spec()
        p = store.progress()
        rows = store.runs_by_width()
    holder = lock_holder(folder)
    table = Table(title=escape(f"sweep {spec.name if spec else '?'} ({folder})"))
    for col in ("runs", "done", "diverged", "pending", "measurements"):
        table.add_column(col, justify="right")
    table.add_row(*(str(p[c]) for c in ("runs", "done", "diverged", "pending", "measurements")))
    Console().print(table)
    by_width = Table(title="runs by width")
    by_width.add_column("width", justify="right")
    by_width.add_column("status")
    by_width.add_column("runs", justify="right")
    for w, s, n in rows:
        by_width.add_row(str(w), s, str(n))
    Console().print(by_width)
    if holder is not None:
        Console().print(f"running ({escape(holder)}): {p['pending']} runs still to finish.")
    elif p["pending"]:
        Console().print(
            f"{p['pending']} runs pending and no sweep is running: re-run "
            f"`scaletime run SPEC --out {escape(str(folder))}` to resume."
        )


def export(
    folder: Path = typer.Argument(..., metavar="FOLDER", help="Sweep folder."),
    output: Path = typer.Option(..., "--output", "-o", help="File to write."),
    fmt: ExportFormat = typer.Option(
        None, "--format", "-f", help="csv or parquet (default: from suffix)."
    ),
) -> None:
    """Export the tidy table (one row per run × checkpoint, every spec field a column)."""
    check_output(output, "--output")
    from scaletime.sweep.export import export_table

    with user_errors():
        df = export_table(folder, output, fmt.value if fmt else None)
    console.print(f"wrote {len(df)} rows × {df.shape[1]} columns to {output}")


def demo(
    out: Path = typer.Option(Path("demo-out"), "--out", "-o", help="Folder for the demo sweep."),
    device: Device | None = typer.Option(None, help="Override the spec's device."),
) -> None:
    """Fetch MNIST, run the default sweep (configs/demo.toml), analyse it and write the report."""
    from scaletime.data import fetch
    from scaletime.sweep.executor import LocalExecutor, run_sweep
    from scaletime.sweep.spec import load_spec

    with user_errors():
        spec = load_spec(config_path("demo"))
        fetch(spec.data.dataset)
        outcome = run_sweep(spec, out, executor=LocalExecutor(device), console=console)
    console.print(f"sweep finished in {outcome.wall_time:.1f} s → {out / 'results.sqlite'}")
    from scaletime.report import write_report
    from scaletime.sweep.export import export_table

    table = out / "results.csv"
    export_table(out, table)
    console.print("analysing the sweep and writing the report ...")
    report = write_report(out, progress=step_printer(console))
    console.print(f"tidy table: {table}")
    print(f"Report: {report.resolve()}")
    print_findings(out)


def print_findings(folder: Path) -> None:
    """The findings block: each claim of the paper the sweep tests, its verdict and number."""
    from scaletime.report.claims import findings
    from scaletime.report.sweep import read_summary

    summary = read_summary(folder)
    if summary is None:
        return
    lines = [f.line() for f in findings(summary, folder.name)]
    print("\nFindings (verdict rules: docs/report.md; evidence: the report's sections)")
    print("\n".join(lines) if lines else "  no claim of the paper could be tested on this sweep")


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("status")(status)
    app.command("export")(export)
    app.command("demo")(demo)
