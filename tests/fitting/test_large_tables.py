"""Large tables (issue 15, item 9): the start search on a random subset then a polish on every
row, thinned bootstrap resamples, ``max_rows``, capped run pairs and vectorised JSON records
give the same answers as the full computations (thresholds lowered so the tests stay small)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scaletime.fitting.optimize as optimize
from scaletime.fitting.bootstrap import group_resamples
from scaletime.fitting.estimator import ScalingLawRegressor


def _table(runs: int = 40, checkpoints: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = np.geomspace(1e3, 1e6, 8)
    n = np.repeat(sizes[np.arange(runs) % len(sizes)], checkpoints)
    t = np.tile(np.geomspace(1, 1e3, checkpoints), runs)
    noise = np.repeat(rng.normal(0, 0.02, runs), checkpoints)
    return pd.DataFrame(
        {
            "size": n,
            "time": t,
            "metric": (0.05 + 3 * n**-0.3 + 2 * t**-0.5) * np.exp(noise),
            "run": np.repeat(np.arange(runs), checkpoints),
        }
    )


def test_the_subset_search_reaches_the_full_search_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _table()
    full = ScalingLawRegressor("chinchilla-time").fit(frame, groups=frame["run"])
    monkeypatch.setattr(optimize, "MULTISTART_ROWS", 300)
    quick = ScalingLawRegressor("chinchilla-time").fit(frame, groups=frame["run"])
    assert quick.n_points_ == len(frame)  # polished on every row
    assert quick.loss_ <= full.loss_ * (1 + 1e-6)
    for name, value in full.params_.items():
        assert quick.params_[name] == pytest.approx(value, rel=1e-3), name
    assert quick.n_at_optimum_ >= 1


def test_max_rows_fits_a_random_subset_and_says_so() -> None:
    frame = _table()
    est = ScalingLawRegressor("chinchilla-time", max_rows=500).fit(frame, groups=frame["run"])
    assert est.n_points_ == 500 and est.n_rows_available_ == len(frame)
    full = ScalingLawRegressor("chinchilla-time").fit(frame, groups=frame["run"])
    assert est.params_["beta"] == pytest.approx(full.params_["beta"], rel=0.05)
    with pytest.raises(ValueError, match="max_rows"):
        ScalingLawRegressor("chinchilla-time", max_rows=3).fit(frame)


def test_thinned_bootstrap_resamples_keep_whole_groups_drawn_and_cap_rows() -> None:
    groups = np.repeat(np.arange(50), 100)
    rng = np.random.default_rng(0)
    capped = group_resamples(groups, 20, rng, max_rows=1000)
    assert all(len(r) == 1000 and np.all(np.diff(r) >= 0) for r in capped)
    uncapped = group_resamples(groups, 5, np.random.default_rng(0))
    assert all(len(r) == 5000 for r in uncapped)


def test_a_capped_pair_uses_twelve_runs_but_predicts_with_all() -> None:
    from scaletime.analysis import predict as predict_mod
    from scaletime.analysis.curves import SizeCurves

    times = np.geomspace(1, 100, 30)
    rng = np.random.default_rng(1)

    def curves(size: float, runs: int) -> SizeCurves:
        values = (0.1 + size**-0.3 * times[None, :] ** -0.5) * np.exp(
            rng.normal(0, 0.01, (runs, 1))
        )
        return SizeCurves(
            size=size,
            width=float("nan"),
            runs=tuple(f"r{k}" for k in range(runs)),
            seeds=np.arange(runs, dtype=float),
            time=times,
            values=values,
        )

    small, large = curves(1e3, 40), curves(1e4, 40)
    pair = predict_mod.predict_pair(small, large, gamma=0.3)
    assert pair.n_points == predict_mod.MAX_PAIR_RUNS**2 * len(pair.time)
    expected = predict_mod.predict_curve(
        small.time, small.values, small.size, pair.time, large.size, 0.3
    ).mean(axis=0)
    np.testing.assert_allclose(pair.predicted, expected)
    assert np.isfinite(pair.floor_rmsle) and pair.floor_rmsle > 0


def test_frame_records_match_the_slow_conversion() -> None:
    from scaletime.stats import to_jsonable

    frame = pd.DataFrame({"a": [1.0, np.nan, np.inf], "b": [1, 2, 3], "c": ["x", None, "z"]})
    assert to_jsonable(frame) == [
        {"a": 1.0, "b": 1, "c": "x"},
        {"a": None, "b": 2, "c": None},
        {"a": None, "b": 3, "c": "z"},
    ]
