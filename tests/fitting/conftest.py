"""Fixtures of the fitting tests: small synthetic sweeps drawn from known laws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scaletime.fitting.synthetic import (
    CHINCHILLA_TIME_TRUTH,
    ROLE_NAMES,
    UNIFIED_TRUTH,
    synthetic_sweep,
    unified_truth_law,
)


def as_roles(df: pd.DataFrame) -> pd.DataFrame:
    """A tidy synthetic table with its columns renamed to the fitting roles."""
    return df.rename(columns=ROLE_NAMES)


@pytest.fixture(scope="session")
def unified_sweep() -> pd.DataFrame:
    """A demo-shaped sweep from the unified law: 6 sizes x 12 times x 2 data x 2 noise x 2 seeds
    (576 points), with an epoch-0 checkpoint per run."""
    return synthetic_sweep(
        unified_truth_law(),
        UNIFIED_TRUTH,
        sizes=np.geomspace(1e3, 3e5, 6),
        times=np.geomspace(0.05, 50, 12),
        data_sizes=(1000.0, 8000.0),
        label_noises=(0.0, 0.2),
        seeds=(0, 1),
        random_state=0,
        include_init=True,
    )


@pytest.fixture(scope="session")
def chinchilla_sweep() -> pd.DataFrame:
    return synthetic_sweep("chinchilla-time", CHINCHILLA_TIME_TRUTH, random_state=1)
