"""Tables and helpers for the command-line tests: a small well-formed scaling table and the
in-process runner (typer's), with a check that a result is an exit, never a traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import Result
from typer.testing import CliRunner

from scaletime.cli import app

runner = CliRunner()


def scaling_table(n_sizes: int = 4, seeds: int = 2, times: int = 8) -> pd.DataFrame:
    """``E = 0.05 + 3 N^-0.3 + 2 t^-0.5`` on a grid of sizes × seeds × log-spaced times."""
    rows = []
    for i, n in enumerate(np.geomspace(1e3, 1e5, n_sizes)):
        for s in range(seeds):
            for t in np.geomspace(1, 100, times):
                error = (0.05 + 3 * n**-0.3 + 2 * t**-0.5) * (1 + 0.01 * s)
                rows.append(
                    {
                        "run_id": f"r{i}-{s}",
                        "n_params": n,
                        "epoch": t,
                        "seed": s,
                        "test_error": error,
                    }
                )
    return pd.DataFrame(rows)


def invoke(*args: object) -> Result:
    """Run ``scaletime ARGS`` in-process; fail the test on a traceback (an exception other than
    the exit), so every outcome is exit 0 or a clean error."""
    result = runner.invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(
            f"scaletime {' '.join(map(str, args))} raised {result.exception!r}\n{result.output}"
        ) from result.exception
    return result


@pytest.fixture()
def good_csv(tmp_path: Path) -> Path:
    path = tmp_path / "good.csv"
    scaling_table().to_csv(path, index=False)
    return path
