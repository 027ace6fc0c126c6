"""The exponent γ in t_min ∝ N^−γ: recovery, intervals, the paper test, the scales."""

from __future__ import annotations

import numpy as np
import pytest

from scaletime.analysis import ExponentFit, auto_thresholds, fit_exponent, pooled_gamma, tmin_table
from scaletime.table import resolve


def _tmin(make_curves, **kwargs):
    rows = resolve(make_curves(**kwargs)).frame
    return tmin_table(rows, auto_thresholds(rows))


@pytest.mark.parametrize("gamma", [1 / 3, 0.6])
def test_recovers_gamma_within_five_percent(make_curves, gamma: float) -> None:
    fit = fit_exponent(_tmin(make_curves, gamma=gamma, seed=7), n_boot=300)
    assert abs(fit.gamma_ - gamma) / gamma < 0.05
    assert fit.ci_[0] < fit.gamma_ < fit.ci_[1]
    assert fit.r2_ > 0.99
    assert fit.ci_method_ == "seeds"
    # the paper's value 1/3 is accepted exactly when it is the truth
    assert fit.paper_consistent_ is (gamma == 1 / 3)
    for _, row in fit.per_threshold_.iterrows():
        assert abs(row["gamma"] - gamma) / gamma < 0.1


def test_scales_are_consistent(make_curves) -> None:
    table = _tmin(make_curves, seed=3)
    by_n = fit_exponent(table, "size", n_boot=200)
    by_p = fit_exponent(table, "p", n_boot=200)
    by_width = fit_exponent(table, "width", n_boot=200)
    # p = N^(1/3): slope in p is 3γ; the synthetic width is sqrt(N): slope in width is 2γ
    assert by_p.gamma_ == pytest.approx(3 * by_n.gamma_)
    assert by_width.gamma_ == pytest.approx(2 * by_n.gamma_)
    assert by_p.paper_gamma_ == 1.0 and by_width.paper_gamma_ is None
    assert by_p.paper_consistent_ == by_n.paper_consistent_


def test_single_seed_bootstraps_over_sizes(make_curves) -> None:
    fit = fit_exponent(_tmin(make_curves, n_seeds=1, seed=5), n_boot=300)
    assert fit.ci_method_ == "sizes"
    assert fit.ci_[0] < 1 / 3 < fit.ci_[1]


def test_intervals_cover_the_truth_most_of_the_time(make_curves) -> None:
    covered = []
    for seed in range(12):
        fit = fit_exponent(_tmin(make_curves, seed=100 + seed), n_boot=200, random_state=seed)
        covered.append(fit.ci_[0] <= 1 / 3 <= fit.ci_[1])
    assert np.mean(covered) >= 0.75  # nominal 95%; measured 0.975 over 40 repeats


def test_predict_and_leave_out_fit(make_curves) -> None:
    table = _tmin(make_curves, seed=11)
    fit = ExponentFit(n_boot=100).fit(table)
    threshold = next(iter(fit.intercepts_))
    measured = table[(table["threshold"] == threshold) & (table["status"] == "reached")]
    predicted = fit.predict(measured["size"].to_numpy(), threshold)
    assert np.median(np.abs(np.log(predicted / measured["t_min"].to_numpy()))) < 0.1
    left_out = pooled_gamma(table, exclude_sizes=(100.0, 30_000.0))
    assert abs(left_out - 1 / 3) < 0.03 and left_out != fit.gamma_
    with pytest.raises(ValueError, match="was not fitted"):
        fit.predict(np.array([1.0]), 0.123456)
    with pytest.raises(ValueError, match="scale must be one of"):
        ExponentFit(scale="depth").fit(table)  # type: ignore[arg-type]
