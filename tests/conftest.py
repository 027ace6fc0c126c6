"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED


@pytest.fixture(autouse=True, scope="session")
def _threads() -> None:
    # Two cores on CI: keep torch from oversubscribing.
    os.environ.setdefault("OMP_NUM_THREADS", "2")


def tidy_table(
    error: Callable[[float, np.ndarray, float, float], np.ndarray],
    *,
    widths: tuple[float, ...] = (2.0, 5.0, 10.0, 20.0, 50.0),
    seeds: int = 3,
    times: np.ndarray | None = None,
    data_sizes: tuple[float, ...] = (1000.0,),
    noises: tuple[float, ...] = (0.0,),
    jitter: float = 0.003,
    seed: int = 0,
) -> pd.DataFrame:
    """A tidy table (the sweep export's columns) of ``error(N, t, n, ρ)`` plus Gaussian seed
    noise of s.d. ``jitter``; N = 10·w² (so sizes span decades), an init checkpoint at t = 0."""
    rng = np.random.default_rng(seed)
    times = np.geomspace(0.01, 100.0, 40) if times is None else np.asarray(times, float)
    times = np.concatenate([[0.0], times])
    frames = []
    run = 0
    for n in data_sizes:
        for rho in noises:
            for w in widths:
                size = 10.0 * w * w
                for s in range(seeds):
                    values = error(size, times, n, rho) + jitter * rng.standard_normal(times.size)
                    frames.append(
                        pd.DataFrame(
                            {
                                "sweep": "synthetic",
                                "dataset": "synthetic",
                                "arch": "mlp",
                                "optimizer": "sgd",
                                "batch_size": 128,
                                "lr_rule": "fixed",
                                "base_lr": 0.05,
                                "run_id": run,
                                "width": w,
                                "n_params": size,
                                "data_size": n,
                                "label_noise": rho,
                                "seed": s,
                                "epoch": times,
                                "test_error": np.clip(values, 1e-4, None),
                                "diverged": False,
                            }
                        )
                    )
                    run += 1
    return pd.concat(frames, ignore_index=True)


def ste_error(gamma: float = 1.0 / 3.0) -> Callable[..., np.ndarray]:
    """E(N, t) = 0.05 + 0.85·exp(−sqrt(c·N^γ·t)): scale-time equivalence by construction."""

    def error(size: float, t: np.ndarray, n: float, rho: float) -> np.ndarray:
        return 0.05 + 0.85 * np.exp(-np.sqrt(0.2 * size**gamma * t))

    return error


@pytest.fixture(scope="session")
def make_table() -> Callable[..., pd.DataFrame]:
    """:func:`tidy_table` itself (report and analysis tests build tables with it)."""
    return tidy_table


@pytest.fixture(scope="session", name="ste_error")
def _ste_error_fixture() -> Callable[..., Callable[..., np.ndarray]]:
    """:func:`ste_error` itself."""
    return ste_error
