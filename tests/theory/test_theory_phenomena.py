"""Each phenomenon, asserted on the exact linear model and on the unified law (docs/theory.md §5)."""

from __future__ import annotations

import numpy as np
import pytest

from scaletime.theory import curves, phenomena

SOURCES = ("exact", "law")


@pytest.fixture(scope="module")
def models() -> dict[str, phenomena.ErrorModel]:
    return {source: curves.error_model(source, realisations=4) for source in SOURCES}


@pytest.mark.parametrize("source", SOURCES)
def test_epoch_wise_error_is_non_monotone_with_noise(models, source):
    result = curves.phenomenon_curve("epoch-dd", models[source])
    assert result.measured["non_monotone"]
    assert result.measured["rise_after_minimum"] > 1.0  # climbs to over twice its minimum
    clean = phenomena.epoch_wise(models[source], 50, 100, 0.0, result.x)
    assert clean.measured["rise_after_minimum"] < 0.3 * result.measured["rise_after_minimum"]


@pytest.mark.parametrize("source", SOURCES)
def test_model_wise_double_descent_at_fixed_time(models, source):
    result = curves.phenomenon_curve("model-dd", models[source])
    assert result.measured["double_descent"] > 0.1
    assert 50 <= result.measured["peak_size"] <= 200  # near the interpolation point p ≈ n = 100


@pytest.mark.parametrize("source", SOURCES)
def test_sample_wise_double_descent(models, source):
    result = curves.phenomenon_curve("sample-dd", models[source])
    assert result.measured["double_descent"] > 0.05
    assert 30 <= result.measured["peak_data"] <= 120  # near n ≈ p = 60


@pytest.mark.parametrize("source", SOURCES)
def test_noise_sensitivity_grows_with_size_at_fixed_time(models, source):
    result = curves.phenomenon_curve("noise-sensitivity", models[source])
    assert result.measured["increasing"]
    assert result.measured["ratio_last_first"] > 3


@pytest.mark.parametrize("source", SOURCES)
def test_data_needed_falls_as_size_grows(models, source):
    result = curves.phenomenon_curve("data-needed", models[source])
    needed = result.y
    assert result.measured["non_increasing"]
    assert np.isinf(needed[0])  # the smallest model never reaches the target (capacity)
    assert needed[-1] < 0.7 * needed[1]


@pytest.mark.parametrize("source", SOURCES)
def test_a_larger_model_is_worse_at_fixed_time(models, source):
    result = curves.phenomenon_curve("larger-worse", models[source])
    assert result.measured["largest_relative_harm"] > 0.5
    assert result.measured["to_size"] > result.measured["from_size"]


@pytest.mark.parametrize("source", SOURCES)
def test_overfitting_time_shrinks_like_inverse_size(models, source):
    result = curves.phenomenon_curve("peak-time", models[source])
    assert abs(result.measured["slope"] + 1.0) < 0.2
    assert np.all(np.diff(result.measured["peak_times"]) < 0)


def test_double_descent_strength_measures_the_pattern():
    assert phenomena.double_descent_strength([3, 2, 1, 0.5]) == 0.0
    assert phenomena.double_descent_strength([1, 2, 3]) == 0.0
    assert phenomena.double_descent_strength([2, 1, 2, 1]) == pytest.approx(1.0)
    assert phenomena.double_descent_strength([2, 1, 1.2, 1]) == pytest.approx(0.2)


def test_exact_model_noise_is_linear_and_cached(models):
    exact = models["exact"]
    times = np.array([0.5, 5.0])
    e0, e1, e2 = (exact(40, times, 80, s) for s in (0.0, 0.5, 1.0))
    np.testing.assert_allclose(e2 - e1, e1 - e0, rtol=1e-10)
    assert np.all(e2 > e0)
