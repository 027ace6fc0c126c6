"""``scaletime theory CURVE``: the theory's curves (subspace equivalence and phenomena) as CSV + PNG.

See docs/cli-theory.md and docs/theory.md §5. matplotlib and scipy load inside the command.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

CURVE_NAMES = (
    "subspace",
    "epoch-dd",
    "model-dd",
    "sample-dd",
    "noise-sensitivity",
    "data-needed",
    "larger-worse",
    "peak-time",
)
SOURCE_NAMES = ("exact", "deterministic", "law")
_STYLE = {"exact": "-", "deterministic": ":", "law": "--"}
_COLOUR = {"exact": "C0", "deterministic": "C2", "law": "C1"}


def register(app: typer.Typer) -> None:
    """Register ``scaletime theory`` on ``app``."""
    app.command("theory", no_args_is_help=True)(theory_command)


def theory_command(
    curve: str = typer.Argument(
        ...,
        metavar="CURVE",
        help=f"One of: {', '.join(CURVE_NAMES)}, or 'all'.",
        show_default=False,
    ),
    out: Path = typer.Option(Path("theory-curves"), "--out", help="Folder for the CSV and PNG."),
    source: list[str] = typer.Option(
        ["exact", "law"],
        "--source",
        help="Models to evaluate (repeatable): exact, deterministic, law.",
    ),
    realisations: int = typer.Option(
        4, "--realisations", min=1, help="Realisations averaged by the exact model."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="First seed of the exact model."),
    seeds: int = typer.Option(4, "--subspace-seeds", min=1, help="Draws of R per size (subspace)."),
) -> None:
    """Compute a theory curve on the linear model and the law; write CURVE.csv, .png, .json."""
    console = Console()
    names = CURVE_NAMES if curve == "all" else (curve,)
    if curve != "all" and curve not in CURVE_NAMES:
        console.print(
            f"[red]unknown curve {curve!r}[/red]; choose one of {', '.join(CURVE_NAMES)}, all"
        )
        raise typer.Exit(2)
    bad = [s for s in source if s not in SOURCE_NAMES]
    if bad:
        console.print(f"[red]unknown source(s) {bad}[/red]; choose from {', '.join(SOURCE_NAMES)}")
        raise typer.Exit(2)
    out.mkdir(parents=True, exist_ok=True)
    summary = Table(title=f"theory curves → {out}")
    summary.add_column("curve", style="bold")
    summary.add_column("source")
    summary.add_column("measured")
    with console.status("computing…") as status:
        for name in names:
            status.update(f"computing {name}…")
            if name == "subspace":
                for label, text in _write_subspace(out, seeds).items():
                    summary.add_row(name, label, text)
            else:
                for label, text in _write_phenomenon(out, name, source, realisations, seed).items():
                    summary.add_row(name, label, text)
    console.print(summary)


def _format(measured: dict) -> str:
    parts = []
    for key, value in measured.items():
        if isinstance(value, list):
            value = "[" + ", ".join(f"{v:.3g}" for v in value) + "]"
        elif isinstance(value, float):
            value = f"{value:.3g}"
        parts.append(f"{key}={value}")
    return ", ".join(parts)


def _write_phenomenon(
    out: Path, name: str, sources: list[str], realisations: int, seed: int
) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    from scaletime.theory import curves

    spec = curves.CURVES[name]
    results = {
        src: curves.phenomenon_curve(
            name, curves.error_model(src, realisations=realisations, seed=seed)
        )
        for src in sources
    }
    rows = [{"source": src, **row} for src, result in results.items() for row in result.rows()]
    _write_csv(out / f"{name}.csv", rows)
    measured = {src: result.measured for src, result in results.items()}
    (out / f"{name}.json").write_text(json.dumps(measured, indent=2, default=float))

    figure, axis = plt.subplots(figsize=(5.5, 4.0))
    for src, result in results.items():
        ys = np.atleast_2d(result.y)
        labels = (
            [f"{src}, {result.series_label}={v:g}" for v in result.series]
            if result.series.size
            else [src]
        )
        for index, (y, label) in enumerate(zip(ys, labels, strict=True)):
            finite = np.isfinite(y)
            colour = f"C{index}" if result.series.size else _COLOUR[src]
            axis.plot(
                result.x[finite],
                y[finite],
                _STYLE[src],
                color=colour,
                marker=".",
                ms=3,
                label=label,
            )
    first = next(iter(results.values()))
    axis.set_xlabel(first.x_label)
    axis.set_ylabel(
        {
            "error": "test error",
            "noise_sensitivity": "dE/dσ²",
            "data_needed": "training examples needed (∞ not drawn)",
        }.get(first.y_label, first.y_label)
    )
    axis.set_xscale("log" if spec.x_log else "linear")
    axis.set_yscale("log" if spec.y_log else "linear")
    axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axis.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axis.set_title(spec.title, fontsize=9)
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out / f"{name}.png", dpi=120)
    plt.close(figure)
    return {src: _format(m) for src, m in measured.items()}


def _write_subspace(out: Path, seeds: int) -> dict[str, str]:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scaletime.theory import subspace
    from scaletime.theory.curves import subspace_curve

    tables = subspace_curve(seeds=seeds)
    rows = [{"setting": label, **row} for label, table in tables.items() for row in table.rows()]
    _write_csv(out / "subspace.csv", rows)
    figure, axes = plt.subplots(1, len(tables), figsize=(3.2 * len(tables), 3.3), sharey=True)
    summary = {}
    for axis, (label, table) in zip(np.atleast_1d(axes), tables.items(), strict=True):
        slopes = subspace.gap_slope(table)
        summary[label] = "slope(log gap, log p) per p·t: " + ", ".join(f"{s:+.2f}" for s in slopes)
        for j, tau in enumerate(table.taus):
            axis.plot(table.sizes, table.gap[:, j], marker="o", ms=3, label=f"p·t={tau:.2g}")
        anchor = table.gap[0, 0]
        axis.plot(
            table.sizes,
            anchor * (table.sizes / table.sizes[0]) ** -0.5,
            "k--",
            lw=0.8,
            label="∝ p^-1/2",
        )
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xticks(table.sizes, [str(int(p)) for p in table.sizes])
        axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        axis.set_xlabel("subspace dimension p")
        axis.set_title(label, fontsize=9)
        axis.grid(True, alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("‖α_t − A_pt‖ (RMS over seeds)")
    np.atleast_1d(axes)[0].legend(fontsize=6)
    figure.tight_layout()
    figure.savefig(out / "subspace.png", dpi=120)
    plt.close(figure)
    (out / "subspace.json").write_text(json.dumps(summary, indent=2))
    return summary


def _write_csv(path: Path, rows: list[dict]) -> None:
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
