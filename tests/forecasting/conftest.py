"""Fixtures of the forecast tests: synthetic sweeps from a known law (scaletime.fitting.synthetic)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scaletime.fitting.synthetic import synthetic_sweep

#: Chinchilla in size and time: E + A/N^alpha + B/t^beta.
TRUTH = {"E": 0.05, "A": 20.0, "B": 0.5, "alpha": 0.4, "beta": 0.6}
#: Forecasters of the fast tests (the whole catalogue is exercised by the benchmark).
FAST = ["chinchilla-time", "scale-time", "constant", "last-value"]


@pytest.fixture(scope="session")
def sweep() -> pd.DataFrame:
    """7 sizes x 12 times x 2 seeds from the chinchilla-time law, 3% point noise."""
    return synthetic_sweep(
        "chinchilla-time",
        TRUTH,
        sizes=np.geomspace(1e3, 1e5, 7),
        seeds=(0, 1),
        run_sd=0.01,
        point_sd=0.03,
        random_state=2,
    )
