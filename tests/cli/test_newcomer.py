"""What a newcomer reads (issue 17): the law in the user's column names, no note about a role the
law does not use, and law names never cut on an 80-column terminal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from scaletime.cli import app

runner = CliRunner()


def _table(path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = np.repeat([1e6, 3e6, 1e7, 3e7, 1e8], 6)
    d = np.tile([1e8, 3e8, 1e9, 3e9, 1e10, 3e10], 5)
    loss = (1.7 + 400 / n**0.34 + 2000 / d**0.37) * np.exp(rng.normal(0, 0.005, n.size))
    pd.DataFrame({"params": n, "tokens": d, "loss": loss}).to_csv(path, index=False)
    return path


def test_fit_speaks_the_users_columns(tmp_path: Path) -> None:
    table = _table(tmp_path / "t.csv")
    args = ["fit", str(table), "--law", "chinchilla", "--size", "params", "--data", "tokens"]
    res = runner.invoke(
        app,
        [*args, "--metric", "loss", "--bootstrap", "0", "-o", str(tmp_path / "f.json")],
        terminal_width=100,
    )
    assert res.exit_code == 0, res.output
    assert "E + A / N^alpha + B / D^beta" in res.output
    assert "N = params, D = tokens" in res.output
    assert "no time column" not in res.output  # chinchilla has no time role


def test_evaluate_keeps_law_names_whole_at_80_columns(tmp_path: Path) -> None:
    table = _table(tmp_path / "t.csv")
    laws = "chinchilla,chinchilla-time-tied,kaplan"
    res = runner.invoke(
        app,
        [
            "evaluate",
            str(table),
            "--size",
            "params",
            "--data",
            "tokens",
            "--metric",
            "loss",
            "--laws",
            laws,
            "--holdout",
            "size",
        ],
        terminal_width=80,
    )
    assert res.exit_code == 0, res.output
    assert "chinchilla-time-tied" in res.output and "kaplan" in res.output
