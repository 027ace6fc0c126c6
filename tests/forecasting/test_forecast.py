"""``ScalingForecaster`` and ``forecast`` on synthetic sweeps with a known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scaletime.fitting.errors import FittingError
from scaletime.fitting.evaluate import holdout_split, rmsle
from scaletime.fitting.synthetic import synthetic_sweep
from scaletime.forecasting import ScalingForecaster, compare_budget, forecast, size_for_width
from scaletime.forecasting.backtest import origin_cuts
from scaletime.forecasting.candidates import fit_scale_time
from scaletime.table import load_fit_table

from .conftest import FAST


def test_origin_cuts_leave_two_fitted_values_and_one_predicted(sweep: pd.DataFrame) -> None:
    table = load_fit_table(sweep)
    sizes = np.unique(table.frame["size"])
    cuts = origin_cuts(table, "size", max_origins=3)
    assert cuts == [float(s) for s in sizes[-4:-1]]
    assert origin_cuts(table, "size", max_origins=10)[0] == sizes[1]
    times = np.unique(table.frame["time"])
    t_cuts = origin_cuts(table, "time")
    assert len(t_cuts) == 3 and t_cuts[-1] < times[-1] and t_cuts[0] > times[0]


def test_forecast_of_held_out_sizes_beats_the_baselines(sweep: pd.DataFrame) -> None:
    table = load_fit_table(sweep)
    train, test, _ = holdout_split(table, "size")
    model = ScalingForecaster("size", candidates=FAST).fit(train)
    frame = model.predict_frame(test.frame)
    y = test.frame["metric"].to_numpy()
    err = rmsle(y, frame["forecast"].to_numpy())
    scores = model.scores_.set_index("forecaster")["backtest_rmsle"]
    assert scores["chinchilla-time"] < scores["constant"]  # the true law backtests best
    assert err < 0.06  # 3% point noise; the true law in the pool
    assert set(frame.columns) >= {"ratio", "forecast", "low", "high", "w:chinchilla-time"}
    assert np.all(frame["ratio"] > 1)
    assert model.interval_source_ == "conformal"
    inside = np.mean((y >= frame["low"]) & (y <= frame["high"]))
    assert 0.5 <= inside <= 1.0
    assert np.allclose(frame.filter(like="w:").sum(axis=1), 1.0)


def test_scale_time_predictor_recovers_gamma_on_an_exact_shift() -> None:
    """E(N, t) = g(N^γ t): the shift predictor is exact where the source covers the time."""
    gamma = 0.5
    rows = []
    for size in (100.0, 400.0, 1600.0):
        for t in np.geomspace(1, 1e4, 30):
            rows.append(
                {
                    "run_id": f"n{size}",
                    "n_params": size,
                    "epoch": t,
                    "test_error": 0.05 + 1.0 / (1 + (size**gamma * t) ** 0.7),
                }
            )
    table = load_fit_table(pd.DataFrame(rows))
    small = table.frame.loc[table.frame["size"] < 1600]
    sub = type(table)(
        small.reset_index(drop=True), table.roles, table.setting_columns, table.constant_roles
    )
    predict = fit_scale_time(sub)
    assert predict.gamma == pytest.approx(gamma, abs=0.03)
    big = table.frame.loc[(table.frame["size"] == 1600) & (table.frame["time"] < 5e3)]
    assert rmsle(big["metric"], predict(big)) < 0.01


def test_size_for_width_is_exact_on_quadratic_counts() -> None:
    widths = np.array([1, 2, 5, 10, 20])
    frame = pd.DataFrame({"width": widths, "n_params": 794 * widths + 13 * widths**2 + 10})
    assert size_for_width(frame, 400) == pytest.approx(794 * 400 + 13 * 400**2 + 10)
    with pytest.raises(FittingError, match="quadratic"):
        size_for_width(frame.assign(n_params=np.exp(widths)), 400)
    with pytest.raises(FittingError, match="width"):
        size_for_width(frame.drop(columns="width"), 400)


def test_forecast_answers_a_curve_and_explains_itself(sweep: pd.DataFrame, tmp_path) -> None:
    result = forecast(sweep, size=1e6, candidates=FAST)
    assert result.axis == "size" and result.asked_ratio == pytest.approx(10.0)
    assert (result.frame["size"] == 1e6).all()
    assert result.frame["time"].nunique() == 12  # the largest model's checkpoints
    truth = 0.05 + 20.0 / 1e6**0.4 + 0.5 / result.final["time"] ** 0.6
    assert result.final["forecast"] == pytest.approx(truth, rel=0.15)
    assert "backtest" in result.explanation()
    assert not any("beyond any backtested ratio" in w for w in result.warnings)  # cut 1e4: 10x
    data = result.to_dict()
    assert data["axis"] == "size" and len(data["forecast"]) == 12
    png = result.plot(tmp_path / "f.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    far = forecast(sweep, size=1e8, time=200.0, candidates=FAST)
    assert len(far.frame) == 1
    assert any("beyond any backtested ratio" in w for w in far.warnings)
    assert far.plot(tmp_path / "g.png").exists()


def test_forecast_rejects_what_it_cannot_answer(sweep: pd.DataFrame) -> None:
    with pytest.raises(FittingError, match="give --size"):
        forecast(sweep, noise=0.1, candidates=FAST)
    with pytest.raises(FittingError, match="positive"):
        forecast(sweep, size=-5, candidates=FAST)
    with pytest.raises(FittingError, match="give --size"):
        forecast(sweep, data=1e5, candidates=FAST)  # one data size: data does not vary
    with pytest.raises(ValueError, match="confidence"):
        forecast(sweep, size=1e6, confidence=1.5, candidates=FAST)
    with pytest.raises(FittingError, match=r"unknown forecaster .no-such-law.; known: unified"):
        forecast(sweep, size=1e6, candidates=["no-such-law"])


def test_budget_compares_the_options_and_says_which_cannot_be_forecast(
    sweep: pd.DataFrame,
) -> None:
    comparison = compare_budget(sweep, factor=4.0, candidates=FAST)
    names = [o.name for o in comparison.options]
    assert names == ["grow the model", "train longer", "more data"]
    grow, longer, more = comparison.options
    assert np.isfinite(grow.forecast) and np.isfinite(longer.forecast)
    assert "one data value" in more.reason
    assert comparison.winner in ("grow the model", "train longer")
    assert 0.0 <= comparison.probability <= 1.0
    # truth at the base point (1e5, 200): growing N x4 gains A(N^-a)(1 - 4^-a) = 0.0377 ... vs
    # training x4 longer B t^-b (1 - 4^-b) = 0.0138: the truth says grow
    assert comparison.winner == "grow the model"
    with pytest.raises(FittingError, match="factor"):
        compare_budget(sweep, factor=0.5, candidates=FAST)


def test_fewer_than_three_origins_fall_back_to_bootstrap_intervals() -> None:
    df = synthetic_sweep(
        "chinchilla-time",
        {"E": 0.05, "A": 20.0, "B": 0.5, "alpha": 0.4, "beta": 0.6},
        sizes=(1e3, 1e4, 1e5),
        seeds=(0, 1),
        random_state=5,
    )
    result = forecast(df, size=1e6, candidates=["chinchilla-time", "last-value"])
    assert result.model.interval_source_ == "bootstrap"
    assert any("bootstrap intervals" in w for w in result.warnings)
    row = result.final
    assert row["low"] < row["forecast"] < row["high"]
