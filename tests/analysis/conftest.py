"""Fixtures of the analysis tests: synthetic curves from the theory module.

Curves are the unified law ``scaletime.theory.unified_error`` (docs/theory.md §4), whose size
enters only through the effective time τ = c·N^γ·t while the capacity q·N^μ is out of reach: then
scale-time equivalence holds by construction with exponent γ. A small capacity coefficient
(``capacity=1``) makes small models plateau above large ones (a capacity floor that depends on
N), which breaks it. Seed noise: a per-run jitter of the time scale plus i.i.d. Gaussian noise
per checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from scaletime.table import resolve
from scaletime.theory import unified_error

SIZES = (100.0, 300.0, 1_000.0, 3_000.0, 10_000.0, 30_000.0)
UNLIMITED = 1e6  # capacity coefficient q (largest allowed): capacity ≥ 1e8 ≫ any τ reached
LAW = {"c": 1.0, "alpha": 0.5, "floor": 0.02, "ceiling": 0.9}


def theory_curves(
    gamma: float = 1.0 / 3.0,
    sizes: tuple[float, ...] = SIZES,
    n_seeds: int = 3,
    times: np.ndarray | None = None,
    noise: float = 0.002,
    time_jitter: float = 0.02,
    capacity: float = UNLIMITED,
    data: float = np.inf,
    label_noise: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Tidy table (run_id, n_params, width, seed, epoch, test_error, diverged) of law curves."""
    rng = np.random.default_rng(seed)
    times = np.geomspace(0.1, 1000.0, 40) if times is None else np.asarray(times, float)
    times = np.concatenate([[0.0], times])  # the initialisation checkpoint a sweep writes
    frames = []
    for size in sizes:
        for s in range(n_seeds):
            speed = np.exp(time_jitter * rng.standard_normal())
            error = unified_error(
                size, times * speed, data, label_noise, gamma=gamma, q=capacity, **LAW
            )
            error = error + noise * rng.standard_normal(times.size)
            frames.append(
                pd.DataFrame(
                    {
                        "run_id": f"n{size:g}-d{data:g}-s{s}",
                        "n_params": size,
                        "width": np.sqrt(size),
                        "seed": s,
                        "epoch": times,
                        "test_error": error,
                        "diverged": False,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="session")
def make_curves() -> Callable[..., pd.DataFrame]:
    """The generator itself, for tests that need other parameters."""
    return theory_curves


@pytest.fixture(scope="session")
def equivalent_table() -> pd.DataFrame:
    """Scale-time equivalence holds by construction (γ = 1/3 on N)."""
    return theory_curves()


@pytest.fixture(scope="session")
def equivalent_rows(equivalent_table: pd.DataFrame) -> pd.DataFrame:
    return resolve(equivalent_table).frame


@pytest.fixture(scope="session")
def capacity_rows() -> pd.DataFrame:
    """Small models plateau above large ones (capacity q·N, q = 1): equivalence broken."""
    return resolve(theory_curves(capacity=1.0, seed=1)).frame


@pytest.fixture(scope="session")
def law_params() -> dict[str, float]:
    """The law's parameters used by :func:`theory_curves` (γ and q aside)."""
    return dict(LAW)
