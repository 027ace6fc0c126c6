"""MATCHED_LAW_PARAMS are reproduced by fit_matched_law() on the full grid (docs/theory.md §4)."""

from __future__ import annotations

import pytest

from scaletime.theory import curves


@pytest.fixture(scope="module")
def fit() -> tuple[dict[str, float], float]:
    return curves.fit_matched_law()  # full 576-point grid, ~5 s (the deterministic limit)


def test_fit_reproduces_the_stored_constants(fit):
    params, rms = fit
    assert set(params) == set(curves.MATCHED_LAW_PARAMS)
    for name, stored in curves.MATCHED_LAW_PARAMS.items():
        # stored to 3–4 significant digits
        assert stored == pytest.approx(params[name], rel=1e-3), name
    assert rms == pytest.approx(0.2926, abs=5e-4)  # the figure quoted in docs/theory.md §4


def test_stored_constants_sit_at_the_optimum(fit):
    _, rms = fit
    assert curves.matched_law_rms(curves.MATCHED_LAW_PARAMS) <= 1.001 * rms


@pytest.mark.parametrize(("name", "factor"), [("c", 1.2), ("alpha", 0.95), ("mu", 1.05)])
def test_the_objective_sees_a_wrong_constant(fit, name, factor):
    _, rms = fit
    wrong = dict(curves.MATCHED_LAW_PARAMS, **{name: curves.MATCHED_LAW_PARAMS[name] * factor})
    assert curves.matched_law_rms(wrong) > 1.01 * rms
