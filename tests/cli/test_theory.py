"""``scaletime theory CURVE``: CSV + PNG + JSON for every curve."""

from __future__ import annotations

import csv
import json

import typer
from typer.testing import CliRunner

from scaletime.cli import theory_cmd

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:  # keep "theory" a sub-command
        """Test app."""

    theory_cmd.register(app)
    return app


def test_all_curves_from_the_law(tmp_path):
    result = CliRunner().invoke(
        _app(),
        ["theory", "all", "--out", str(tmp_path), "--source", "law", "--subspace-seeds", "1"],
    )
    assert result.exit_code == 0, result.output
    for name in theory_cmd.CURVE_NAMES:
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == PNG_MAGIC
        with (tmp_path / f"{name}.csv").open() as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) >= 4
        assert json.loads((tmp_path / f"{name}.json").read_text())
    with (tmp_path / "model-dd.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert set(rows[0]) == {"source", "size", "error"}
    errors = [float(row["error"]) for row in rows]
    assert max(errors) > 2 * min(errors)
    with (tmp_path / "subspace.csv").open() as handle:
        settings = {row["setting"] for row in csv.DictReader(handle)}
    assert len(settings) == 4


def test_exact_and_law_side_by_side(tmp_path):
    result = CliRunner().invoke(
        _app(),
        [
            "theory",
            "peak-time",
            "--out",
            str(tmp_path),
            "--source",
            "exact",
            "--source",
            "law",
            "--realisations",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    measured = json.loads((tmp_path / "peak-time.json").read_text())
    assert set(measured) == {"exact", "law"}
    for values in measured.values():
        assert -1.3 < values["slope"] < -0.7


def test_unknown_curve_and_source_exit_with_usage_error(tmp_path):
    runner = CliRunner()
    result = runner.invoke(_app(), ["theory", "loss-landscape", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown curve" in result.output
    result = runner.invoke(_app(), ["theory", "epoch-dd", "--source", "nn", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown source" in result.output
