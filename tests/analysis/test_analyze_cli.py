"""``scaletime analyze``: tables printed, --json written, bad input refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from scaletime.cli import analyze_cmd


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    app.callback()(lambda: None)  # keep "analyze" a sub-command, as in the real app
    analyze_cmd.register(app)
    return app


@pytest.fixture(scope="module")
def csv_path(make_curves, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "curves.csv"
    table = make_curves(sizes=(100.0, 1_000.0, 10_000.0), seed=51)
    table.rename(columns={"test_error": "err", "epoch": "steps"}).to_csv(path, index=False)
    return path


def test_analyze_prints_every_table_and_writes_json(app, csv_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.json"
    result = CliRunner().invoke(
        app,
        [
            "analyze",
            str(csv_path),
            "--metric",
            "err",
            "--time",
            "steps",
            "--boot",
            "50",
            "--thresholds",
            "0.3,0.1",
            "--json",
            str(out),
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    for title in (
        "t_min",
        "exponent γ",
        "collapse",
        "predictions",
        "regime of validity",
        "across settings",
    ):
        assert title in result.output
    assert "consistent" in result.output and "holds" in result.output
    data = json.loads(out.read_text())
    (setting,) = data["settings"]
    assert setting["thresholds"] == [0.3, 0.1]
    assert data["roles"]["metric"] == "err"
    assert abs(setting["exponents"]["size"]["gamma"] - 1 / 3) < 0.02
    assert len(setting["predictions"]) == 6


def test_missing_column_exits_with_its_name(app, csv_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["analyze", str(csv_path), "--time", "steps"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 2
    assert "'test_error'" in result.output and "available columns" in result.output


def test_bad_options_are_refused(app, csv_path: Path) -> None:
    runner = CliRunner()
    base = ["analyze", str(csv_path), "--metric", "err", "--time", "steps"]
    bad_gamma = runner.invoke(app, [*base, "--gamma", "best"])
    assert bad_gamma.exit_code == 2 and "--gamma" in bad_gamma.output
    bad_thresholds = runner.invoke(app, [*base, "--thresholds", "0.2,x"])
    assert bad_thresholds.exit_code == 2 and "--thresholds" in bad_thresholds.output
