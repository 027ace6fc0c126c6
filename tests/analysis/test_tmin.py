"""t_min: minimum time to reach a threshold, interpolated in log time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scaletime.analysis import auto_thresholds, crossing_time, tmin_summary, tmin_table
from scaletime.table import resolve
from scaletime.theory import unified_error


def test_crossing_time_is_exact_for_a_curve_linear_in_log_time() -> None:
    time = np.geomspace(1.0, 1000.0, 7)
    metric = 1.0 - 0.1 * np.log10(time)  # reaches 0.87 at t = 10^1.3
    t_min, status = crossing_time(time, metric, 0.87)
    assert status == "reached"
    assert abs(t_min - 10**1.3) / 10**1.3 < 1e-9


def test_crossing_time_never_guesses_outside_the_checkpoints() -> None:
    time = np.array([0.0, 1.0, 2.0, 4.0])
    metric = np.array([0.9, 0.5, 0.4, 0.3])
    t_min, status = crossing_time(time, metric, 0.1)
    assert status == "not_reached" and np.isnan(t_min)
    # reached already at the first positive checkpoint (t = 0 cannot be placed on a log axis)
    t_min, status = crossing_time(time, metric, 0.6)
    assert status == "before_first" and np.isnan(t_min)
    # noisy curve that dips below then rises again: the *first* crossing counts
    t_min, status = crossing_time(
        np.array([1.0, 2.0, 4.0, 8.0]), np.array([0.5, 0.3, 0.6, 0.2]), 0.35
    )
    assert status == "reached" and 1.0 < t_min < 2.0


def test_tmin_matches_the_law_on_noiseless_curves(make_curves, law_params) -> None:
    rows = resolve(make_curves(noise=0.0, time_jitter=0.0, n_seeds=1)).frame
    threshold = 0.2
    table = tmin_table(rows, [threshold])
    assert (table["status"] == "reached").all()
    # the law's t_min: solve E(N, t) = threshold on a fine grid, size by size
    fine = np.geomspace(0.1, 1000.0, 200_001)
    for _, row in table.iterrows():
        error = unified_error(row["size"], fine, np.inf, 0.0, gamma=1 / 3, q=1e6, **law_params)
        exact = fine[np.argmax(error <= threshold)]
        assert abs(row["t_min"] - exact) / exact < 0.02


def test_auto_thresholds_are_crossed_by_several_sizes(equivalent_rows: pd.DataFrame) -> None:
    ladder = auto_thresholds(equivalent_rows, n_thresholds=4)
    assert len(ladder) == 4 and np.all(np.diff(ladder) < 0)
    table = tmin_table(equivalent_rows, ladder)
    reached_sizes = table[table["status"] == "reached"].groupby("threshold")["size"].nunique()
    assert (reached_sizes.reindex(ladder) >= 3).all()


def test_tmin_summary_counts_seeds_and_brackets_the_mean(equivalent_rows: pd.DataFrame) -> None:
    table = tmin_table(equivalent_rows, [0.3, 0.1])
    summary = tmin_summary(table)
    assert len(summary) == 2 * equivalent_rows["size"].nunique()
    assert (summary["n_runs"] == 3).all() and (summary["n_reached"] <= 3).all()
    ok = summary["n_reached"] >= 2
    assert (summary.loc[ok, "ci_low"] < summary.loc[ok, "t_min"]).all()
    assert (summary.loc[ok, "t_min"] < summary.loc[ok, "ci_high"]).all()
    # geometric mean of the reaching seeds
    first = summary.iloc[0]
    seeds = table[(table["threshold"] == first["threshold"]) & (table["size"] == first["size"])]
    assert np.isclose(first["t_min"], np.exp(np.log(seeds["t_min"]).mean()))
