"""The paper's predictor in both directions, its errors and the seed noise floor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scaletime.analysis import (
    predict_all_pairs,
    predict_curve,
    predict_pair,
    prediction_errors,
    size_curves,
    validity_regime,
)
from scaletime.table import resolve
from scaletime.theory import unified_error


def test_prediction_is_near_exact_when_equivalence_holds(law_params) -> None:
    times = np.geomspace(0.1, 1000.0, 60)
    law = dict(gamma=1 / 3, q=1e6, **law_params)
    small = unified_error(100.0, times, np.inf, 0.0, **law)
    large = unified_error(8_000.0, times, np.inf, 0.0, **law)
    up = predict_curve(times, small, 100.0, times, 8_000.0, 1 / 3)  # small → large
    down = predict_curve(times, large, 8_000.0, times, 100.0, 1 / 3)  # large → small
    for predicted, actual in ((up, large), (down, small)):
        errors = prediction_errors(predicted, actual)
        assert errors["n_points"] > 30
        assert errors["mare"] < 0.01 and errors["rmsle"] < 0.002


def test_no_extrapolation_beyond_the_source_run() -> None:
    source_time = np.geomspace(1.0, 100.0, 20)
    target_time = np.geomspace(1.0, 100.0, 20)
    predicted = predict_curve(source_time, 1 / source_time, 1.0, target_time, 8.0, 1 / 3)
    factor = 8.0 ** (1 / 3)  # the small source is read at 2·t
    inside = target_time * factor <= 100.0 * (1 + 1e-12)
    assert np.isfinite(predicted[inside]).all() and np.isnan(predicted[~inside]).all()
    np.testing.assert_allclose(predicted[inside], 1 / (target_time[inside] * factor), rtol=0.05)


def test_prediction_errors_by_hand() -> None:
    actual = np.array([0.5, 0.4, 0.2, np.nan])
    errors = prediction_errors(actual * 1.1, actual)
    assert errors["n_points"] == 3
    assert np.isclose(errors["mare"], 0.1)
    expected = np.sqrt(np.mean((np.log1p(actual[:3] * 1.1) - np.log1p(actual[:3])) ** 2))
    assert np.isclose(errors["rmsle"], expected)


def test_pairs_hold_against_the_noise_floor_when_equivalent(equivalent_rows: pd.DataFrame) -> None:
    curves = size_curves(equivalent_rows)
    pairs = predict_all_pairs(curves, 1 / 3, "paper")
    n = len(curves)
    assert len(pairs) == n * (n - 1)  # every ordered pair, both directions
    assert {p.direction for p in pairs} == {"small_to_large", "large_to_small"}
    assert all(p.holds for p in pairs)
    ratios = np.array([p.ratio for p in pairs])
    assert np.median(ratios) < 1.5
    for p in pairs:
        assert 0 < p.coverage <= 1 and len(p.time) == len(p.predicted) == len(p.actual)
        assert np.all(np.isfinite(p.predicted))
    regime = validity_regime(pairs, "small_to_large")
    assert regime.max_ratio == max(p.size_ratio for p in pairs)
    assert regime.n_holding == regime.n_decided == n * (n - 1) // 2


def test_capacity_floor_breaks_predictions(capacity_rows: pd.DataFrame) -> None:
    pairs = predict_all_pairs(size_curves(capacity_rows), 1 / 3, "paper")
    worst = max(pairs, key=lambda p: p.ratio)
    assert worst.ratio > 10 and worst.holds is False
    assert worst.size_ratio == max(p.size_ratio for p in pairs)  # the widest gap fails most
    assert np.mean([p.holds for p in pairs]) < 0.5
    for direction in ("small_to_large", "large_to_small"):
        regime = validity_regime(pairs, direction)
        assert regime.max_ratio < max(p.size_ratio for p in pairs)
    # the error grows with the size ratio
    by_ratio = sorted(pairs, key=lambda p: p.size_ratio)
    assert np.mean([p.ratio for p in by_ratio[:6]]) < np.mean([p.ratio for p in by_ratio[-6:]])


def test_wrong_gamma_is_flagged_and_local_window_found(make_curves) -> None:
    curves = size_curves(resolve(make_curves(gamma=0.6, seed=4)).frame)
    pair = predict_pair(curves[0], curves[-1], 1 / 3, "paper")
    assert pair.holds is False and pair.ratio > 5
    right = predict_pair(curves[0], curves[-1], 0.6, "given")
    assert right.holds is True
    assert right.valid_time is not None
    assert right.valid_time[1] / right.valid_time[0] > 100  # valid over most of the range


def test_single_seed_leaves_predictions_undecided(make_curves) -> None:
    curves = size_curves(resolve(make_curves(n_seeds=1)).frame)
    pair = predict_pair(curves[1], curves[3], 1 / 3)
    assert pair.rmsle < 0.01 and np.isnan(pair.floor_rmsle)
    assert pair.holds is None


def test_errors_by_ratio_bins_pairs_and_planned_budgets_raise_coverage(make_curves) -> None:
    """Equal epochs: a small source cannot reach the late times of a 100x larger target; with
    the small models trained (N*/N)^γ longer (``scaletime plan``), it covers the whole curve."""
    from scaletime.analysis.analyze import prediction_errors_by_ratio

    times = np.geomspace(0.1, 1000.0, 40)
    equal = make_curves(times=times)
    sizes = sorted(equal["n_params"].unique())
    frames = []
    for size in sizes:
        stretch = (max(sizes) / size) ** (1 / 3)
        frames.append(make_curves(sizes=(size,), times=times * stretch, seed=int(size)))
    planned = pd.concat(frames, ignore_index=True)
    e = prediction_errors_by_ratio(equal).set_index(["direction", "ratio"])
    p = prediction_errors_by_ratio(planned).set_index(["direction", "ratio"])
    assert set(e.index.get_level_values("ratio")) == {"2", "5", "10", "largest"}
    assert e.loc[("small_to_large", "largest"), "size_ratio"] == pytest.approx(300.0)
    assert p.loc[("small_to_large", "largest"), "coverage"] == pytest.approx(1.0)
    assert e.loc[("small_to_large", "largest"), "coverage"] < 0.9
    assert (p["n_pairs"] > 0).all()
