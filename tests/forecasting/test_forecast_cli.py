"""``scaletime forecast`` end to end: a forecast with its backtests, JSON and PNG; --factor;
clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from scaletime.cli import app

from .conftest import FAST

runner = CliRunner()


@pytest.fixture(scope="module")
def sweep_csv(tmp_path_factory, sweep: pd.DataFrame) -> Path:
    path = tmp_path_factory.mktemp("forecast_cli") / "sweep.csv"
    sweep.assign(width=(sweep["n_params"] / 10).round()).to_csv(path, index=False)
    return path


def test_forecast_prints_scores_band_and_writes_json_and_png(sweep_csv, tmp_path) -> None:
    out, png = tmp_path / "f.json", tmp_path / "f.png"
    res = runner.invoke(
        app,
        [
            "forecast",
            str(sweep_csv),
            "--size",
            "1e6",
            "--forecasters",
            ",".join(FAST),
            "-o",
            str(out),
            "--plot",
            str(png),
        ],
    )
    assert res.exit_code == 0, res.output
    for text in (
        "backtest RMSLE",
        "chinchilla-time",
        "80% interval",
        "coverage: nominal 80%",
        "how:",
    ):
        assert text in res.output
    data = json.loads(out.read_text())
    assert data["axis"] == "size" and data["interval_source"] == "conformal"
    assert {f["forecaster"] for f in data["forecasters"]} == set(FAST)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_forecast_by_width_and_budget(sweep_csv) -> None:
    res = runner.invoke(
        app, ["forecast", str(sweep_csv), "--width", "30000", "--forecasters", ",".join(FAST)]
    )
    assert res.exit_code == 0, res.output
    assert "width 3e+04 → size 3.0" in res.output
    res = runner.invoke(
        app, ["forecast", str(sweep_csv), "--factor", "4", "--forecasters", ",".join(FAST)]
    )
    assert res.exit_code == 0, res.output
    assert "grow the model" in res.output and "train longer" in res.output
    assert "more data" in res.output and "winner: grow the model" in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--noise", "0.1"], "give --size"),
        (["--size", "1e6", "--width", "10"], "not both"),
        (["--size", "1e6", "--method", "best"], "is not one of 'auto', 'select', 'ensemble'"),
        (["--size", "1e6", "--forecasters", "nope"], "unknown forecaster"),
        (["--budget", "1e20"], "examples_seen"),
    ],
)
def test_forecast_errors_are_clear(sweep_csv, args, message) -> None:
    res = runner.invoke(app, ["forecast", str(sweep_csv), *args])
    assert res.exit_code == 2
    assert message in res.output
