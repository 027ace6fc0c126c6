"""Fixtures of the report tests: synthetic tables with known properties, and one smoke
reproduction (``scaletime reproduce paper --scale smoke``) shared by the tests that need real
sweeps, reports and claims."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from scaletime.cli import report_cmd


def cli_app() -> typer.Typer:
    """A local Typer app with only this package's commands (the lead wires the real one)."""
    app = typer.Typer(pretty_exceptions_enable=False)
    report_cmd.register(app)
    return app


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
    """:func:`tidy_table` itself."""
    return tidy_table


@pytest.fixture(scope="session")
def app() -> typer.Typer:
    """:func:`cli_app`."""
    return cli_app()


@pytest.fixture(scope="session")
def ste_table() -> pd.DataFrame:
    """Curves obeying scale-time equivalence with γ = 1/3 on N (γ_p = 1)."""
    return tidy_table(ste_error(1.0 / 3.0))


@dataclass
class Smoke:
    """The shared smoke reproduction."""

    out: Path
    stdout: str
    exit_code: int
    seconds: float


@pytest.fixture(scope="session")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Smoke:
    """``scaletime reproduce paper --scale smoke --out DIR``, run once through the CLI."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    out = tmp_path_factory.mktemp("repro") / "smoke"
    start = time.perf_counter()
    result = CliRunner().invoke(
        cli_app(), ["reproduce", "paper", "--scale", "smoke", "--out", str(out)]
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Smoke(out, result.stdout, result.exit_code, time.perf_counter() - start)
