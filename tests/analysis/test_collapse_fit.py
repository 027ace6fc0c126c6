"""Curve collapse onto one curve of N^γ·t, and its residual against the seed spread."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scaletime.analysis import collapse, collapse_score, size_curves
from scaletime.table import resolve


def test_collapse_recovers_gamma_and_stays_within_seed_noise(make_curves) -> None:
    for gamma in (1 / 3, 0.6):
        fit = collapse(resolve(make_curves(gamma=gamma, seed=2)).frame)
        assert abs(fit.gamma_ - gamma) / gamma < 0.05
        assert fit.score_.ratio < 1.5
        assert np.isfinite(fit.score_.seed_spread) and fit.score_.seed_spread > 0


def test_capacity_floor_is_flagged(capacity_rows: pd.DataFrame) -> None:
    fit = collapse(capacity_rows)
    assert fit.score_.ratio > 3  # no γ brings the plateaus together
    assert fit.score(1 / 3).ratio > fit.score_.ratio


def test_wrong_gamma_is_worse_than_the_best(equivalent_rows: pd.DataFrame) -> None:
    fit = collapse(equivalent_rows)
    assert fit.score(0.0).residual > 5 * fit.score_.residual
    assert fit.score(2 / 3).ratio > 2


def test_separated_curves_cannot_fake_a_collapse(equivalent_rows: pd.DataFrame) -> None:
    curves = size_curves(equivalent_rows)
    # at γ = 5 the shifted curves hardly overlap: the fit must not pick it
    assert collapse_score(curves, 5.0).n_points < 0.25 * collapse_score(curves, 0.0).n_points
    fit = collapse(equivalent_rows, gamma_max=5.0, n_grid=101)
    assert abs(fit.gamma_ - 1 / 3) < 0.03
    assert np.isinf(fit.profile_["residual"].iloc[-1])


def test_single_seed_has_no_spread(make_curves) -> None:
    fit = collapse(resolve(make_curves(n_seeds=1)).frame)
    assert np.isnan(fit.score_.seed_spread) and np.isnan(fit.score_.ratio)
    assert abs(fit.gamma_ - 1 / 3) < 0.03


def test_best_gamma_at_the_search_bound_is_flagged(equivalent_rows) -> None:
    assert not collapse(equivalent_rows).at_bound_
    bounded = collapse(equivalent_rows, gamma_max=0.2, n_grid=21)  # the truth (1/3) is outside
    assert bounded.at_bound_ and bounded.gamma_ > 0.19
