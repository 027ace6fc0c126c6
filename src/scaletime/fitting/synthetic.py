"""Synthetic sweep-shaped tables drawn from a known law, for tests, benchmarks and docs.

Noise model (docs/fitting.md, "Synthetic sweeps"): each run ``r`` (one size, data volume, noise
rate and seed) gets a log-offset ``u_r ~ N(0, run_sd^2)`` shared by its whole curve, and each
checkpoint an independent ``e ~ N(0, point_sd^2)``:

.. math::  y_{r,t} = f(x_{r,t}; \\theta) \\exp(u_r + e_{r,t}).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from scaletime.fitting.laws import Law, get_law

#: Reference scales of :data:`UNIFIED_TRUTH` (the law's parameters are in these units).
UNIFIED_REFERENCE = {"size_ref": 1e4, "time_ref": 1.0, "data_ref": 4000.0}
#: The unified law v2 (docs/theory.md §6) in a demo-like regime: capacity-limited small models,
#: data-limited large ones, label noise that hurts. A known truth for the fitting tests and
#: benchmarks; build the law with :func:`unified_truth_law`.
UNIFIED_TRUTH = {
    "c": 3.0,
    "gamma": 1.0,
    "r": 1e6,
    "q": 30.0,
    "mu": 1.0,
    "m": 100.0,
    "alpha": 0.8,
    "v": 2.0,
    "floor": 0.02,
    "ceiling": 0.9,
}


def unified_truth_law() -> Law:
    """The unified law at :data:`UNIFIED_REFERENCE` (every role fitted, with a floor)."""
    return get_law("unified", **UNIFIED_REFERENCE)


CHINCHILLA_TIME_TRUTH = {"E": 0.05, "A": 20.0, "B": 0.5, "alpha": 0.4, "beta": 0.6}
#: Tidy-table column → fitting role.
ROLE_NAMES = {
    "n_params": "size",
    "epoch": "time",
    "data_size": "data",
    "label_noise": "noise",
    "test_error": "metric",
}


def synthetic_sweep(
    law: str | Law,
    params: Mapping[str, float],
    *,
    sizes: Sequence[float] = (1e3, 3e3, 1e4, 3e4, 1e5),
    times: Sequence[float] = tuple(np.geomspace(0.5, 200.0, 12)),
    data_sizes: Sequence[float] = (4000.0,),
    label_noises: Sequence[float] = (0.0,),
    seeds: Sequence[int] = (0, 1, 2),
    run_sd: float = 0.02,
    point_sd: float = 0.03,
    random_state: int | None = 0,
    include_init: bool = False,
) -> pd.DataFrame:
    """A tidy table (columns as ``scaletime export``) sampled from ``law`` with noise.

    Parameters
    ----------
    law : str or Law
        Law generating the mean curves.
    params : mapping
        Its parameter values.
    sizes, times, data_sizes, label_noises, seeds : sequences
        The grid: one run per (size, data size, noise, seed), evaluated at every time.
    run_sd, point_sd : float
        Standard deviations of the per-run and per-point log noise.
    random_state : int or None
    include_init : bool
        Also add an ``epoch = 0`` row per run (a sweep's evaluation at initialisation): the law
        at ``t = 0`` where it is defined, else the first checkpoint's value (laws with power laws
        in time drop these rows when fitting).

    Returns
    -------
    DataFrame
        ``run_id, n_params, scale_p, data_size, label_noise, seed, epoch, test_error,
        diverged``.
    """
    law = get_law(law)
    rng = np.random.default_rng(random_state)
    time_grid = np.asarray(times, dtype=float)
    frames = []
    for run_id, (n, d, s, seed) in enumerate(
        itertools.product(sizes, data_sizes, label_noises, seeds)
    ):
        epochs = np.concatenate([[0.0], time_grid]) if include_init else time_grid
        k = len(epochs)
        inputs = {
            "size": np.full(k, float(n)),
            "time": epochs,
            "data": np.full(k, float(d)),
            "noise": np.full(k, float(s)),
        }
        with np.errstate(all="ignore"):
            mean = law.predict({r: inputs[r] for r in law.roles}, params)
        if include_init and not (np.isfinite(mean[0]) and mean[0] > 0):
            mean[0] = mean[1]  # the law is undefined at t = 0: repeat the first checkpoint
        y = mean * np.exp(rng.normal(0.0, run_sd) + rng.normal(0.0, point_sd, size=k))
        frames.append(
            pd.DataFrame(
                {
                    "run_id": run_id,
                    "n_params": float(n),
                    "scale_p": float(n) ** (1.0 / 3.0),
                    "data_size": float(d),
                    "label_noise": float(s),
                    "seed": int(seed),
                    "epoch": epochs,
                    "test_error": y,
                    "diverged": False,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
