"""Writes ``tests/golden/demo-summary.json``: every number the analysis and the report compute
on the committed demo table (``benchmarks/data/demo-mnist-mlp.parquet``), no retraining.

Run it only when a change is *meant* to alter these numbers, and say so in the commit:
``python tests/golden/make_golden.py``. ``tests/golden/test_golden.py`` compares against it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
TABLE = HERE.parents[1] / "benchmarks" / "data" / "demo-mnist-mlp.parquet"
GOLDEN = HERE / "demo-summary.json"

#: Reduced effort so the comparison runs in CI time; the same options before and after.
OPTIONS = {
    "n_boot": 200,
    "laws": ("unified", "chinchilla-time", "rosenfeld-time", "power", "bnsl"),
    "fit_options": {"n_starts": 4},
}


def golden_numbers() -> dict:
    """The summary numbers of the demo table (everything but timings and options)."""
    from scaletime.analysis.pipeline import PipelineOptions, analyse_table

    table = pd.read_parquet(TABLE)
    result = analyse_table(table, PipelineOptions(**OPTIONS))
    summary = result.summary()
    for key in ("seconds", "options"):  # timings, and the options set above
        summary.pop(key)
    for evaluation in summary["laws"]:
        for row in evaluation["scores"]:
            row.pop("seconds")
    return summary


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(golden_numbers(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
