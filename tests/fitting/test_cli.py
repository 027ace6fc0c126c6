"""``scaletime fit``, ``predict`` and ``evaluate`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scaletime.cli import app
from scaletime.fitting.estimator import load_fit

runner = CliRunner()


@pytest.fixture(scope="module")
def sweep_csv(tmp_path_factory, unified_sweep) -> Path:
    path = tmp_path_factory.mktemp("fit_cli") / "sweep.csv"
    unified_sweep.to_csv(path, index=False)
    return path


def test_fit_then_predict_with_intervals(sweep_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "fit.json"
    res = runner.invoke(
        app,
        [
            "fit",
            str(sweep_csv),
            "--law",
            "chinchilla-time",
            "-o",
            str(out),
            "--bootstrap",
            "20",
            "--starts",
            "2",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "alpha" in res.output and "90% interval" in res.output
    est = load_fit(out)
    assert est.bootstrap_params_.shape == (20, 5)
    assert est.n_dropped_ == int((pd.read_csv(sweep_csv)["epoch"] == 0).sum())  # t = 0 rows
    res = runner.invoke(
        app, ["predict", str(out), "--size", "1e6", "--size", "1e4", "--time", "30", "--json"]
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    expected = est.predict({"size": np.array([1e6, 1e4]), "time": np.array([30.0, 30.0])})
    np.testing.assert_allclose([r["prediction"] for r in rows], expected, rtol=1e-9)
    for r in rows:
        assert r["new_run_low"] < r["mean_low"] <= r["prediction"] <= r["mean_high"]
        assert r["mean_high"] < r["new_run_high"]
    res = runner.invoke(app, ["predict", str(out), "--size", "1e6"])
    assert res.exit_code != 0 and "--time" in res.output


def test_evaluate_prints_the_unified_law_beside_the_baselines(
    sweep_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "eval.json"
    res = runner.invoke(
        app,
        [
            "evaluate",
            str(sweep_csv),
            "--laws",
            "unified,chinchilla-time,kaplan,bnsl",
            "--starts",
            "2",
            "-o",
            str(out),
        ],
        env={"COLUMNS": "200"},
    )
    assert res.exit_code == 0, res.output
    for name in ("unified", "chinchilla-time", "kaplan", "bnsl"):
        assert name in res.output
    rows = {r["law"]: r for r in json.loads(out.read_text())}
    assert rows["unified"]["status"] == "ok" and np.isfinite(rows["unified"]["rmsle"])
    assert rows["kaplan"]["status"] == "ok"
    assert rows["bnsl"]["status"] == "n/a"


def test_evaluate_an_imported_table_with_its_own_split(shared_dir: Path) -> None:
    path = shared_dir / "data" / "external" / "alabdulmohsin_benchmark_lang.csv"
    if not path.exists():
        pytest.skip("external benchmark file missing")
    res = runner.invoke(
        app,
        [
            "evaluate",
            str(path),
            "--where",
            "Domain == 'LM'",
            "--time",
            "Seen Examples",
            "--metric",
            "Loss",
            "--split-column",
            "Training",
            "--group-by",
            "Domain,Task,Model",
            "--laws",
            "power,kaplan",
            "--starts",
            "2",
        ],
        env={"COLUMNS": "200"},
    )
    assert res.exit_code == 0, res.output
    assert "no size column" in res.output  # kaplan needs model sizes: reported, not crashed
    assert "power" in res.output


def test_a_missing_column_exits_2_naming_it(sweep_csv: Path, tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "fit",
            str(sweep_csv),
            "--law",
            "kaplan",
            "--metric",
            "acc",
            "-o",
            str(tmp_path / "x.json"),
        ],
    )
    assert res.exit_code == 2
    assert "'acc'" in res.output


def test_a_one_variable_law_refuses_a_table_of_many_curves(sweep_csv: Path, tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        ["fit", str(sweep_csv), "--law", "power", "-o", str(tmp_path / "x.json")],
        env={"COLUMNS": "200"},
    )
    assert res.exit_code == 2
    assert "size" in res.output and "--where" in res.output
    res = runner.invoke(
        app,
        [
            "fit",
            str(sweep_csv),
            "--law",
            "power",
            "--bootstrap",
            "0",
            "--where",
            "n_params == 1000 and data_size == 1000 and label_noise == 0",
            "-o",
            str(tmp_path / "x.json"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert load_fit(tmp_path / "x.json").n_groups_ == 2  # the curve's two seeds
