"""Calibration of the intervals, by simulation from a known law with run-level noise."""

from __future__ import annotations

import numpy as np

from scaletime.fitting.estimator import ScalingLawRegressor
from scaletime.fitting.synthetic import synthetic_sweep

from .conftest import CHINCHILLA_TIME_TRUTH, as_roles

GRID = {"sizes": (1e3, 3e3, 1e4, 3e4, 1e5), "times": tuple(np.geomspace(0.5, 200.0, 10))}
NOISE = {"run_sd": 0.03, "point_sd": 0.04}


def test_new_run_prediction_intervals_cover_90_percent() -> None:
    """Nominal 90% new-run intervals hold 85-95% of fresh runs' measurements (issue 7)."""
    covered, total = 0, 0
    for sim in range(6):
        fitted = as_roles(
            synthetic_sweep(
                "chinchilla-time",
                CHINCHILLA_TIME_TRUTH,
                **GRID,
                **NOISE,
                seeds=(0, 1, 2, 3),
                random_state=sim,
            )
        )
        est = ScalingLawRegressor(
            "chinchilla-time", n_bootstrap=60, confidence=0.9, random_state=sim, n_starts=2
        ).fit(fitted, groups=fitted["run_id"])
        fresh = as_roles(
            synthetic_sweep(
                "chinchilla-time",
                CHINCHILLA_TIME_TRUTH,
                **GRID,
                **NOISE,
                seeds=(10, 11),
                random_state=1000 + sim,
            )
        )
        lo, hi = est.predict_interval(fresh, kind="new-run")
        y = fresh["metric"].to_numpy()
        covered += int(np.sum((y >= lo) & (y <= hi)))
        total += len(y)
    coverage = covered / total
    assert 0.85 <= coverage <= 0.95, coverage
