"""Property: ``analyze`` on any valid tidy table (1–5 seeds, ragged checkpoints, epoch 0 present
or not, any ``gamma`` mode) returns a result and never raises (issue 14, item 5)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaletime.analysis import analyze


@st.composite
def tables(draw: st.DrawFn) -> pd.DataFrame:
    n_sizes = draw(st.integers(1, 7))
    n_seeds = draw(st.integers(1, 5))
    with_zero = draw(st.booleans())
    n_times = draw(st.integers(1, 40))
    ragged = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_sizes):
        width = 2 ** (i + 1)
        for s in range(n_seeds):
            times = np.unique(np.round(np.geomspace(1, 500, n_times)))
            if ragged:
                keep = rng.random(times.size) < 0.7
                keep[0] = True
                times = times[keep]
            if with_zero:
                times = np.concatenate([[0.0], times])
            error = 0.05 + 0.9 / (1 + times * width / 50) + 0.01 * rng.random(times.size)
            for t, e in zip(times, error, strict=True):
                rows.append(
                    {
                        "run_id": f"w{width}-s{s}",
                        "n_params": float(width * 100),
                        "width": width,
                        "seed": s,
                        "epoch": t,
                        "test_error": min(e, 0.99),
                        "diverged": False,
                    }
                )
    return pd.DataFrame(rows)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(), gamma=st.sampled_from(["paper", "fit", 0.5]))
def test_analyze_never_raises_on_valid_tables(table: pd.DataFrame, gamma) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = analyze(table, gamma=gamma, n_boot=20)
    assert len(result.settings) >= 1


def test_gamma_fit_on_the_issue_table(tmp_path) -> None:
    """The table that crashed ``analyze --gamma fit``: 3 seeds, 7 widths, epoch 0 and 40
    log-spaced epochs, read back from CSV."""
    rows = []
    for width in (1, 2, 5, 10, 20, 50, 100):
        for s in range(3):
            for t in np.concatenate([[0.0], np.geomspace(1, 300, 40)]):
                error = 0.05 + 0.9 / (1 + t * width / 50) + 0.001 * s
                rows.append((f"w{width}-s{s}", width * 800.0, width, s, t, error))
    frame = pd.DataFrame(
        rows, columns=["run_id", "n_params", "width", "seed", "epoch", "test_error"]
    )
    path = tmp_path / "curves.csv"
    frame.to_csv(path, index=False)
    result = analyze(path, gamma="fit", n_boot=20)
    predictions = result.settings[0].predictions
    assert len(predictions) == 7 * 6
    assert any(np.isfinite(p.rmsle) for p in predictions)
