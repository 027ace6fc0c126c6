"""The report's law scores are `scaletime evaluate`'s: same split, same options, same numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scaletime.fitting import evaluate_holdout, load_fit_table
from scaletime.fitting.splits import evaluate_laws_for_report

DEMO = Path(__file__).parents[2] / "benchmarks" / "data" / "demo-mnist-mlp.parquet"


def test_report_and_evaluate_print_identical_scores_for_the_same_split() -> None:
    table = load_fit_table(DEMO)
    laws = ["unified", "chinchilla-time", "kaplan"]
    options = {"n_starts": 2}
    evaluated, threshold = evaluate_holdout(table, axis="size", laws=laws, fit_options=options)
    (report,) = evaluate_laws_for_report(table, ["size"], laws=laws, fit_options=options)
    assert report.threshold == threshold
    mine = evaluated.set_index("law")["rmsle"]
    theirs = report.scores.set_index("law")["rmsle"]
    for law in laws:
        assert np.isfinite(mine[law]) and mine[law] == theirs[law], law
    # the figure's rows are the scored rows: their RMSLE is the printed score
    held = report.unified.frame.loc[report.unified.frame["held_out"]]
    d = np.log(held["predicted"]) - np.log(held["metric"])
    assert np.sqrt(np.mean(d**2)) == mine["unified"]
