"""Fixtures of the report tests: synthetic tables with known properties, and one smoke
reproduction (``scaletime reproduce paper --scale smoke``) shared by the tests that need real
sweeps, reports and claims."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from scaletime.cli import report_cmd


def cli_app() -> typer.Typer:
    """A local Typer app with only this package's commands (the lead wires the real one)."""
    app = typer.Typer(pretty_exceptions_enable=False)
    report_cmd.register(app)
    return app


@pytest.fixture(scope="session")
def app() -> typer.Typer:
    """:func:`cli_app`."""
    return cli_app()


@pytest.fixture(scope="session")
def ste_table(make_table, ste_error) -> pd.DataFrame:
    """Curves obeying scale-time equivalence with γ = 1/3 on N (γ_p = 1)."""
    return make_table(ste_error(1.0 / 3.0))


@dataclass
class Smoke:
    """The shared smoke reproduction."""

    out: Path
    stdout: str
    exit_code: int
    seconds: float


@pytest.fixture(scope="session")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Smoke:
    """``scaletime reproduce paper --scale smoke --out DIR``, run once through the CLI."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    out = tmp_path_factory.mktemp("repro") / "smoke"
    start = time.perf_counter()
    result = CliRunner().invoke(
        cli_app(), ["reproduce", "paper", "--scale", "smoke", "--out", str(out)]
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Smoke(out, result.stdout, result.exit_code, time.perf_counter() - start)
