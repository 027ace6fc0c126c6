"""The column options shared by ``fit``, ``evaluate`` and ``forecast``, declared once.

Each option is an ``Annotated`` type (Typer's way to reuse an option); a command takes them as
parameters and hands them on as one :class:`Columns`, which loads the table
(:func:`scaletime.table.load_fit_table`) with every option passed by name.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from scaletime.table import CurveTable

__all__ = [
    "Columns",
    "DataColumn",
    "Derive",
    "GroupBy",
    "MetricColumn",
    "NoiseColumn",
    "RunColumn",
    "SeedColumn",
    "SizeColumn",
    "TimeColumn",
    "Where",
    "split_list",
]

_SIZE = "Model-size column [default: n_params]."
_TIME = "Training-time column [default: lr_time if present, else epoch]."
_DATA = "Data-size column [default: data_size if present]."
_NOISE = "Label-noise column [default: label_noise if present]."

# fit and evaluate: --size, --time, --data, --noise name columns
SizeColumn = Annotated[str | None, typer.Option("--size", help=_SIZE)]
TimeColumn = Annotated[str | None, typer.Option("--time", help=_TIME)]
DataColumn = Annotated[str | None, typer.Option("--data", help=_DATA)]
NoiseColumn = Annotated[str | None, typer.Option("--noise", help=_NOISE)]
# forecast: --size, --time, ... are the values asked, so the columns are --size-column, ...
SizeColumnNamed = Annotated[str | None, typer.Option("--size-column", help=_SIZE)]
TimeColumnNamed = Annotated[str | None, typer.Option("--time-column", help=_TIME)]
DataColumnNamed = Annotated[str | None, typer.Option("--data-column", help=_DATA)]
NoiseColumnNamed = Annotated[str | None, typer.Option("--noise-column", help=_NOISE)]

MetricColumn = Annotated[
    str | None, typer.Option("--metric", help="Metric column, positive [default: test_error].")
]
SeedColumn = Annotated[
    str | None, typer.Option("--seed-column", help="Seed column [default: seed].")
]
RunColumn = Annotated[
    str | None, typer.Option("--run", help="Run-identifier column [default: run_id].")
]
GroupBy = Annotated[
    str | None, typer.Option("--group-by", help="Setting / curve columns, comma-separated.")
]
Where = Annotated[str | None, typer.Option("--where", help="Row filter, e.g. \"arch == 'mlp'\".")]
Derive = Annotated[
    list[str] | None,
    typer.Option("--derive", help="Computed column 'NAME = EXPR' (repeatable)."),
]


def split_list(text: str | None, option: str) -> list[str] | None:
    """``"a, b"`` → ``["a", "b"]`` (empty items dropped); None stays None; a list with no name
    is refused naming ``option``."""
    if text is None:
        return None
    items = [part.strip() for part in text.split(",") if part.strip()]
    if not items:
        raise typer.BadParameter("give at least one name", param_hint=option)
    return items


@dataclass(frozen=True)
class Columns:
    """Which column plays which role, and which rows and derived columns to use."""

    size: str | None = None
    time: str | None = None
    data: str | None = None
    noise: str | None = None
    metric: str | None = None
    seed: str | None = None
    run: str | None = None
    group_by: str | None = None
    where: str | None = None
    derive: tuple[str, ...] = ()

    @classmethod
    def of(cls, derive: list[str] | None = None, **options: str | None) -> Columns:
        """From the command's option values (``derive`` as Typer gives it: None or a list)."""
        return cls(derive=tuple(derive or ()), **options)

    @classmethod
    def from_command(cls, ctx: typer.Context) -> Columns:
        """From the command's column options (``ctx.params``), read by parameter name: for each
        role ``NAME_column`` where the command declares it (``forecast --size-column``), else
        ``NAME``."""
        params = ctx.params
        roles = [f.name for f in fields(cls)]
        values = {r: params.get(f"{r}_column", params.get(r)) for r in roles}
        return cls.of(**values)

    def load_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`scaletime.table.load_fit_table`."""
        return {
            "size": self.size,
            "time": self.time,
            "data": self.data,
            "noise": self.noise,
            "metric": self.metric,
            "seed": self.seed,
            "run": self.run,
            "group_by": split_list(self.group_by, "--group-by"),
            "where": self.where,
            "derive": self.derive,
        }

    def load(self, source: str | Path | pd.DataFrame) -> CurveTable:
        """The table mapped onto the fitting roles."""
        from scaletime.table import load_fit_table

        return load_fit_table(source, **self.load_options())
