"""Measured phenomena recover the properties built into synthetic tables (and their opposites)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scaletime.analysis import phenomena
from scaletime.table import resolve

TIMES = np.array([0.5, 1.0])


def _canonical(table: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    resolved = resolve(table)
    return resolved.frame, resolved.setting_columns


def test_noise_sensitivity_slope_is_recovered(make_table) -> None:
    # E(N, ρ) = 0.1 + ρ·(0.2 + 0.1·log10 N): sensitivity grows by 0.1 per decade of N
    def error(size, t, n, rho):
        return np.full(t.shape, 0.1 + rho * (0.2 + 0.1 * np.log10(size)))

    frame, cols = _canonical(make_table(error, times=TIMES, noises=(0.0, 0.1, 0.2), jitter=0.002))
    est = phenomena.noise_sensitivity(frame, cols, n_boot=200)
    assert est is not None
    assert est.value == pytest.approx(0.1, abs=0.02)
    assert est.ci[0] < 0.1 < est.ci[1]
    assert est.ci[0] > 0  # the claim's "holds" rule


def test_noise_sensitivity_sign_follows_the_data(make_table) -> None:
    def error(size, t, n, rho):  # larger models *less* sensitive
        return np.full(t.shape, 0.1 + rho * (0.8 - 0.1 * np.log10(size)))

    frame, cols = _canonical(make_table(error, times=TIMES, noises=(0.0, 0.2)))
    est = phenomena.noise_sensitivity(frame, cols, n_boot=100)
    assert est.value == pytest.approx(-0.1, abs=0.02)
    assert est.ci[1] < 0


def test_noise_sensitivity_needs_noise_free_and_noisy_runs(make_table) -> None:
    frame, cols = _canonical(make_table(lambda s, t, n, r: 0.1 + 0 * t, times=TIMES))
    assert phenomena.noise_sensitivity(frame, cols) is None


def _data_error(larger_is_better: bool):
    """E(N, n) = 0.03 + capacity term + 3·n^(−0.4), the capacity term falling (or rising) in N."""

    def error(size, t, n, rho):
        capacity = 2.0 * size**-0.3 if larger_is_better else 0.002 * size**0.3
        return np.full(t.shape, 0.03 + capacity + 3.0 * n**-0.4)

    return error


def test_larger_models_need_less_data_when_they_do(make_table) -> None:
    table = make_table(_data_error(True), times=TIMES, data_sizes=(300.0, 1000.0, 3000.0, 10000.0))
    frame, cols = _canonical(table)
    conc = phenomena.data_concordance(frame, cols, n_boot=100)
    assert conc.value > 0.9 and conc.ci[0] > 0.5
    assert conc.details["concordant"] > conc.details["discordant"]
    needed = phenomena.data_needed(frame, cols, n_boot=100)
    assert needed.value > 0  # n_needed falls with N


def test_larger_models_need_more_data_is_detected(make_table) -> None:
    table = make_table(_data_error(False), times=TIMES, data_sizes=(300.0, 1000.0, 3000.0, 10000.0))
    frame, cols = _canonical(table)
    conc = phenomena.data_concordance(frame, cols, n_boot=100)
    assert conc.value < 0.1 and conc.ci[1] < 0.5


def test_data_measures_need_several_data_sizes(make_table) -> None:
    frame, cols = _canonical(make_table(_data_error(True), times=TIMES))
    assert phenomena.data_concordance(frame, cols) is None
    assert phenomena.data_needed(frame, cols) is None


def test_larger_is_worse_finds_the_bump(make_table) -> None:
    final = {2.0: 0.5, 5.0: 0.3, 10.0: 0.4, 20.0: 0.2}

    def error(size, t, n, rho):
        return np.full(t.shape, final[float(np.sqrt(size / 10.0))])

    table = make_table(error, widths=tuple(final), times=TIMES, jitter=0.005)
    frame, cols = _canonical(table)
    est = phenomena.larger_is_worse(frame, cols, n_boot=200)
    assert est.details["small_width"] == 5.0 and est.details["large_width"] == 10.0
    assert est.value == pytest.approx(0.4 / 0.3 - 1, abs=0.03)
    assert est.ci[0] > 0


def test_larger_is_never_worse_on_monotone_curves(make_table) -> None:
    def error(size, t, n, rho):
        return np.full(t.shape, 1.0 / np.log(size))

    frame, cols = _canonical(make_table(error, times=TIMES, jitter=0.0005))
    est = phenomena.larger_is_worse(frame, cols, n_boot=100)
    assert est.value < 0 and est.ci[1] < 0


def _dip_then_rise(gamma: float):
    # g(x) falls to a minimum near x ≈ 5 then rises by ~50%: epoch-wise double descent whose
    # overfitting time scales exactly as N^(−γ)
    def error(size, t, n, rho):
        x = size**gamma * t
        return 0.2 + 0.6 * np.exp(-x) + 0.15 * (1 - np.exp(-x / 30))

    return error


def test_epoch_wise_overfitting_time_scales_as_built(make_table) -> None:
    table = make_table(
        _dip_then_rise(0.5), times=np.geomspace(1e-4, 100, 80), noises=(0.1,), jitter=0.001
    )
    frame, cols = _canonical(table)
    [res] = phenomena.epoch_wise(frame, cols, n_boot=100)
    assert (res.per_size["rise"] > 0.3).all()
    assert (res.per_size["rise_low"] > 0).all()
    g = res.gamma_overfit
    assert g.value == pytest.approx(0.5, abs=0.05)
    assert g.ci[0] <= 0.5 <= g.ci[1] or abs(g.value - 0.5) < 0.02


def test_epoch_wise_no_rise_on_monotone_curves(make_table) -> None:
    frame, cols = _canonical(
        make_table(lambda s, t, n, r: 0.1 + 0.8 * np.exp(-np.sqrt(s) * t), jitter=0.0)
    )
    [res] = phenomena.epoch_wise(frame, cols, n_boot=50)
    assert (res.per_size["rise"] < 1e-9).all()
    assert not np.isfinite(res.gamma_overfit.value)


def test_model_wise_double_descent_strength(make_table) -> None:
    final = {2.0: 0.5, 5.0: 0.3, 10.0: 0.45, 20.0: 0.2, 50.0: 0.15}

    def error(size, t, n, rho):
        return np.full(t.shape, final[float(np.sqrt(size / 10.0))])

    frame, cols = _canonical(make_table(error, widths=tuple(final), times=TIMES, jitter=0.002))
    [est] = phenomena.model_wise(frame, cols, n_boot=100)
    # descent 0.5→0.3, ascent 0.3→0.45, descent 0.45→0.15: the smallest move is 0.45/0.3 − 1
    assert est.value == pytest.approx(0.5, abs=0.05)
    assert est.ci[0] > 0
