"""The unified law: contract, bounds, fixed point, reductions and its double descents."""

from __future__ import annotations

import numpy as np
import pytest

from scaletime.theory import law
from scaletime.theory._checks import TheoryParameterError
from scaletime.theory.phenomena import double_descent_strength


def test_parameter_tables_follow_the_contract():
    for table, limit in ((law.PARAMS, 8), (law.TIME_ONLY_PARAMS, 5)):
        names = [p.name for p in table]
        assert len(table) <= limit
        assert len(set(names)) == len(names)
        for param in table:
            assert param.lower <= param.default <= param.upper
            assert len(param.meaning) > 10


def test_broadcasting_over_the_four_inputs():
    size = np.array([10.0, 100.0])[:, None, None, None]
    time = np.geomspace(0.1, 10, 3)[None, :, None, None]
    data = np.array([50.0, np.inf])[None, None, :, None]
    noise = np.array([0.0, 0.2])
    out = law.unified_error(size, time, data, noise)
    assert out.shape == (2, 3, 2, 2)
    scalar = law.unified_error(100.0, 1.0, 50.0, 0.2)
    assert scalar == pytest.approx(out[1, 1, 0, 1])


def test_finite_and_positive_everywhere_in_the_bounds():
    rng = np.random.default_rng(0)
    points = 4000
    size = 10 ** rng.uniform(0, 9, points)
    time = 10 ** rng.uniform(-4, 8, points)
    data = np.where(rng.random(points) < 0.2, np.inf, 10 ** rng.uniform(0, 8, points))
    noise = rng.uniform(0, 1, points)
    for _ in range(40):
        params = {}
        for p in law.PARAMS:
            if p.lower > 0 and p.upper / p.lower > 1e3:
                params[p.name] = float(10 ** rng.uniform(np.log10(p.lower), np.log10(p.upper)))
            else:
                params[p.name] = float(rng.uniform(p.lower, p.upper))
        for link in law.LINKS:
            out = law.unified_error(size, time, data, noise, link=link, **params)
            assert np.isfinite(out).all()
            assert (out > 0).all()
        saturating = law.unified_error(size, time, data, noise, **params)
        low, high = params["floor"], max(params["floor"], params["ceiling"])
        assert (saturating >= low - 1e-12).all() and (saturating <= high + 1e-12).all()


def test_effective_time_is_c_size_gamma_time():
    tau = law.effective_time([1.0, 8.0], [2.0, 0.5], c=3.0, gamma=1 / 3)
    np.testing.assert_allclose(tau, [6.0, 3.0])


def test_fitted_directions_solve_the_fixed_point_and_saturate():
    rng = np.random.default_rng(1)
    reach = 10 ** rng.uniform(-2, 6, 500)
    capacity = 10 ** rng.uniform(0, 4, 500)
    data = 10 ** rng.uniform(0, 4, 500)
    d = law.fitted_directions(reach, capacity, data)
    residual = d - reach * (1 - d / capacity) * (1 - d / data)
    assert np.abs(residual / reach).max() < 1e-9
    assert (d <= np.minimum(capacity, data) * (1 + 1e-12)).all()
    limit = law.fitted_directions(np.inf, capacity, data)
    np.testing.assert_allclose(limit, np.minimum(capacity, data), rtol=1e-12)
    np.testing.assert_allclose(law.fitted_directions(reach, np.inf, np.inf), reach, rtol=1e-12)


def test_time_only_law_is_the_full_law_without_noise_at_infinite_data():
    time = np.geomspace(1e-3, 1e5, 50)
    params = {"rate": 3.0, "alpha": 0.7, "capacity": 200.0, "floor": 0.05, "ceiling": 0.9}
    reduced = law.unified_error_time_only(time, **params)
    full = law.unified_error(
        1.0, time, np.inf, 0.0, c=3.0, q=200.0, alpha=0.7, floor=0.05, ceiling=0.9
    )
    np.testing.assert_allclose(reduced, full, rtol=1e-12)
    assert reduced[0] == pytest.approx(0.9, abs=2e-3)  # untrained: ceiling
    assert np.all(np.diff(reduced) < 0)


def test_bad_parameters_name_the_field():
    with pytest.raises(TheoryParameterError, match=r"unknown law parameter.*allowed"):
        law.unified_error(1, 1, 1, 0, beta=1.0)
    with pytest.raises(TheoryParameterError, match=r"gamma=9\.0 is outside"):
        law.unified_error(1, 1, 1, 0, gamma=9.0)
    with pytest.raises(TheoryParameterError, match="data must be > 0"):
        law.unified_error(1, 1, 0, 0)
    with pytest.raises(TheoryParameterError, match="noise must be >= 0"):
        law.unified_error(1, 1, 1, -0.1)
    with pytest.raises(TheoryParameterError, match="link"):
        law.unified_error(1, 1, 1, 0, link="logit")


def test_double_descent_in_time_size_and_data_with_noise():
    times = np.geomspace(1e-3, 1e6, 60)
    epoch = law.unified_error(60.0, times, 100.0, 0.5)
    low = int(np.argmin(epoch))
    assert 0 < low < times.size - 1
    assert epoch[low:].max() > 1.5 * epoch[low]  # non-monotone: descent, then noise fitting

    sizes = np.geomspace(1, 1e4, 60)
    model_wise = law.unified_error(sizes, 1e4, 100.0, 0.5)
    assert double_descent_strength(model_wise) > 0.5
    assert 50 < sizes[np.argmax(model_wise)] < 200  # the peak sits where capacity q·p = n

    datas = np.geomspace(2, 1e5, 60)
    sample_wise = law.unified_error(100.0, 1e4, datas, 0.5)
    assert double_descent_strength(sample_wise) > 0.05
    # without label noise only the amplified unfitted signal rises (as in the linear model), less
    clean = law.unified_error(60.0, times, 100.0, 0.0)
    clean_low = int(np.argmin(clean))
    assert clean[clean_low:].max() / clean[clean_low] - 1 < 0.5 * (
        epoch[low:].max() / epoch[low] - 1
    )


def test_capacity_limit_small_model_trained_forever_loses_to_large_model():
    small_forever = law.unified_error(10.0, np.inf, np.inf, 0.0)
    large_short = law.unified_error(1000.0, 1.0, np.inf, 0.0)
    assert small_forever > 2 * large_short
    # and with scale-time equivalence the large model needs proportionally less time
    small_curve = law.unified_error(100.0, 1.0, np.inf, 0.0, q=1e6)
    large_curve = law.unified_error(1000.0, 0.1, np.inf, 0.0, q=1e6)
    assert small_curve == pytest.approx(large_curve, rel=1e-5)


def test_classification_use_stays_between_floor_and_chance():
    out = law.unified_error(
        np.geomspace(1, 1e5, 40), 1e4, 1000.0, 0.4, floor=0.02, ceiling=0.9, v=50.0
    )
    assert out.min() > 0.02 and out.max() <= 0.9
    assert law.unified_error(5.0, 0.0, 100.0, 0.3, floor=0.02, ceiling=0.9) == pytest.approx(0.9)


def test_bounds_tolerate_round_off_of_log_transforms():
    upper = float(np.exp(np.log(1e12)))
    assert law.unified_error(10.0, 1.0, 100.0, 0.0, c=upper * (1 + 1e-14)) > 0
    with pytest.raises(TheoryParameterError):
        law.unified_error(10.0, 1.0, 100.0, 0.0, c=1.01e12)
