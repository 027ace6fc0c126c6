"""The held-out protocol and its metrics."""

from __future__ import annotations

import numpy as np
import pytest

from scaletime.fitting.evaluate import (
    evaluate_holdout,
    holdout_split,
    holdout_threshold,
    median_abs_rel_error,
    rmsle,
)
from scaletime.table import load_fit_table


def test_metrics_follow_their_definitions() -> None:
    y = np.array([0.1, 0.2, 0.4])
    pred = np.array([0.1 * np.e, 0.2, 0.4 / np.e])
    assert rmsle(y, pred) == pytest.approx(np.sqrt(2 / 3))
    assert median_abs_rel_error(y, np.array([0.11, 0.3, 0.4])) == pytest.approx(0.1)


def test_holdout_keeps_the_largest_distinct_values() -> None:
    values = np.repeat([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0], 3)
    assert holdout_threshold(values, fraction=0.25) == 64.0
    assert holdout_threshold(values, cut=10.0) == 16.0
    assert holdout_threshold(values, fraction=0.01) == 128.0  # at least one value held out
    with pytest.raises(Exception, match="empty side"):
        holdout_threshold(values, cut=500.0)


def test_split_by_size_then_evaluate_the_unified_law_beside_every_baseline(unified_sweep) -> None:
    table = load_fit_table(unified_sweep)
    train, test, threshold = holdout_split(table, "size", fraction=0.34)
    assert train.frame["size"].max() < threshold <= test.frame["size"].min()
    laws = ["unified", "chinchilla-time", "chinchilla", "kaplan", "rosenfeld-time", "m4"]
    result, _ = evaluate_holdout(
        table, axis="size", fraction=0.34, laws=laws, fit_options={"n_starts": 2}
    )
    assert result["law"].iloc[0] == "unified"
    by_law = result.set_index("law")
    assert set(laws) == set(by_law.index)
    assert by_law.loc["m4", "status"] == "n/a"  # one-variable: cannot reach unseen sizes
    scored = by_law[by_law["status"] == "ok"]
    assert {"unified", "chinchilla-time", "chinchilla", "kaplan"} <= set(scored.index)
    assert (
        (scored["n_test"] == len(test.frame[test.frame["time"] > 0]))
        .loc[["chinchilla-time", "kaplan"]]
        .all()
    )
    # the data come from the unified law: it extrapolates to larger models better than any
    # baseline, and close to the noise level of the synthetic sweep (~0.04 in log units)
    baselines = scored.drop(index="unified")["rmsle"]
    assert by_law.loc["unified", "rmsle"] < 0.5 * baselines.min()
    assert by_law.loc["unified", "rmsle"] < 0.08


def test_time_holdout_scores_one_variable_laws_curve_by_curve(chinchilla_sweep) -> None:
    table = load_fit_table(chinchilla_sweep)
    result, _ = evaluate_holdout(
        table,
        axis="time",
        fraction=0.25,
        laws=["power", "chinchilla-time"],
        fit_options={"n_starts": 2},
    )
    by_law = result.set_index("law")
    n_curves = chinchilla_sweep["n_params"].nunique()  # seeds of one size form one curve
    assert by_law.loc["power", "n_curves"] == n_curves
    assert by_law.loc["power", "status"] == "ok"
    # the data follow E + A N^-a + B t^-b exactly (plus noise): the joint law is near noise
    assert by_law.loc["chinchilla-time", "rmsle"] < 0.06
