"""The combination and conformal functions (scaletime.forecasting.combine), on arrays."""

from __future__ import annotations

import numpy as np
import pytest

from scaletime.forecasting import combine as cb


def test_point_weights_favour_nearby_ratios_and_later_origins() -> None:
    log_r = np.log([1.5, 2.0, 4.0, 1.5, 2.0, 4.0])
    origin = np.array([0, 0, 0, 1, 1, 1])
    w = cb.point_weights(np.log([2.0]), log_r, origin, bandwidth=np.log(2))[0]
    assert w[1] > w[0] and w[1] > w[2]  # nearest ratio weighs most within an origin
    assert np.allclose(w[3:], 2 * w[:3])  # origin 1 weighs twice origin 0


def test_scores_are_a_geometric_mean_over_origins() -> None:
    res = np.array([[0.1, 0.1, 1.0, 1.0]])
    origin = np.array([0, 0, 1, 1])
    s = cb.scores(res, np.ones((1, 4)), origin)[0, 0]
    assert s == pytest.approx(np.exp((1 / 3) * np.log(0.1) + (2 / 3) * np.log(1.0)))


def test_select_and_ensemble_weights() -> None:
    score = np.array([[0.3, 0.1], [0.1, 0.2], [0.2, 0.4], [0.9, 0.9]])
    select = cb.candidate_weights(score, "select")
    assert select[:, 0].tolist() == [0, 1, 0, 0] and select[:, 1].tolist() == [1, 0, 0, 0]
    ens = cb.candidate_weights(score, "ensemble", top_k=3)
    assert np.allclose(ens.sum(axis=0), 1.0)
    assert ens[3].max() == 0.0  # outside the top 3
    assert ens[1, 0] > ens[2, 0] > ens[0, 0]  # 1/S^2
    with pytest.raises(ValueError, match="method"):
        cb.candidate_weights(score, "median")


def test_conformal_band_matches_normal_quantiles_and_widens_with_few_points() -> None:
    rng = np.random.default_rng(0)
    r = rng.standard_normal(4000)
    lo, hi = cb.conformal_band(r, np.ones((1, r.size)), 0.8)
    assert lo[0] == pytest.approx(-1.2816, abs=0.08) and hi[0] == pytest.approx(1.2816, abs=0.08)
    lo, hi = cb.conformal_band(r[:3], np.ones((1, 3)), 0.8)
    assert np.isinf(hi[0]) and np.isinf(lo[0])  # three points cannot support an 80% band


def test_leave_one_origin_out_needs_two_origins() -> None:
    res = np.zeros((2, 3))
    out = cb.leave_one_origin_out(
        res, np.zeros((2, 3)), np.zeros(3), np.zeros(3), np.zeros(3, int), "select", 1.0
    )
    assert np.isnan(out).all()
