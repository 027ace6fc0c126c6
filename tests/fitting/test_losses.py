"""The robust losses on log residuals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import least_squares, minimize_scalar

from scaletime.fitting.losses import Loss, get_loss, huber, log_residual


def test_huber_is_quadratic_inside_and_linear_outside() -> None:
    r = np.array([-3e-3, -1e-3, 0.0, 5e-4, 2e-3])
    delta = 1e-3
    expected = np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))
    np.testing.assert_allclose(huber(r, delta), expected)
    # continuous with a continuous slope at |r| = delta
    eps = 1e-9
    assert huber(np.array([delta + eps]), delta)[0] == pytest.approx(0.5 * delta**2, rel=1e-5)


def test_scipy_huber_minimises_the_same_objective() -> None:
    """least_squares(loss='huber', f_scale=delta) lands on the minimiser of our mean Huber."""
    rng = np.random.default_rng(0)
    y = np.exp(rng.normal(0.0, 0.05, 200))
    y[:10] *= 3.0  # outliers
    loss = get_loss("huber", 0.01)
    ours = minimize_scalar(
        lambda m: loss.mean(log_residual(np.full_like(y, m), y)),
        bounds=(0.5, 2.0),
        method="bounded",
        options={"xatol": 1e-10},
    )
    res = least_squares(
        lambda m: log_residual(np.full_like(y, m[0]), y), x0=[1.5], **loss.scipy_options()
    )
    assert res.x[0] == pytest.approx(ours.x, rel=1e-5)


def test_log_residual_penalises_non_positive_predictions() -> None:
    r = log_residual(np.array([1.0, 0.0, -1.0]), np.array([1.0, 1.0, 1.0]))
    assert r[0] == 0.0
    assert np.all(r[1:] >= 100.0)


def test_unknown_loss_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'hubber'"):
        Loss("hubber")
    with pytest.raises(ValueError, match="delta"):
        Loss("huber", delta=0.0)
