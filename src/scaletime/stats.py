"""The one home of resampling statistics: bootstrap draws, percentile intervals, JSON cleaning.

Every interval the package reports is an equal-tailed percentile interval of bootstrap draws,
``[q_{(1−c)/2}, q_{(1+c)/2}]`` (docs/fitting.md, "Intervals"; docs/report.md). What is resampled
differs by use — runs of a law fit (:mod:`scaletime.fitting.bootstrap`), runs of a size for
t_min exponents (:mod:`scaletime.analysis.exponent`), seeds of a cell for the phenomena
(:func:`bootstrap_cells`), held-out runs for a law's RMSLE (:func:`grouped_rms_interval`) — but
the draws and intervals are computed here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "bootstrap_cells",
    "bootstrap_statistic",
    "check_confidence",
    "factorize",
    "finite_interval",
    "finite_or_none",
    "from_jsonable",
    "group_index",
    "grouped_rms_interval",
    "majority_interval",
    "percentile_interval",
    "to_jsonable",
]


def check_confidence(confidence: float) -> float:
    """``confidence`` if it lies strictly between 0 and 1, else a ValueError naming it."""
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    return float(confidence)


def percentile_interval(samples: np.ndarray, confidence: float, axis: int = 0) -> np.ndarray:
    """Equal-tailed percentile interval: ``[q_{(1-c)/2}, q_{(1+c)/2}]`` along ``axis``."""
    check_confidence(confidence)
    tail = (1.0 - confidence) / 2.0
    return np.quantile(samples, [tail, 1.0 - tail], axis=axis)


def finite_interval(
    draws: np.ndarray, confidence: float, min_finite: int = 2
) -> tuple[float, float]:
    """:func:`percentile_interval` of the finite draws; ``(nan, nan)`` with fewer than
    ``min_finite`` of them (a statistic undefined on most resamples has no interval)."""
    draws = np.asarray(draws, float)
    finite = draws[np.isfinite(draws)]
    if finite.size < max(min_finite, 1):
        return (np.nan, np.nan)
    tail = (1 - confidence) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return float(low), float(high)


def majority_interval(draws: np.ndarray, confidence: float) -> tuple[float, float]:
    """:func:`finite_interval` that needs finite draws on at least max(10, half) of the
    resamples (the phenomena's seed bootstrap: a statistic undefined on most seed resamples
    is not measured)."""
    draws = np.asarray(draws, float)
    return finite_interval(draws, confidence, max(10, draws.size // 2))


def bootstrap_statistic(
    values: np.ndarray,
    statistic: Callable[..., np.ndarray],
    *,
    n_boot: int,
    confidence: float = 0.95,
    random_state: int = 0,
) -> tuple[float, float]:
    """Percentile interval of ``statistic(values[resample], axis=1)`` over ``n_boot``
    resamples of the values with replacement (e.g. the median error ratio of a sweep's pairs)."""
    values = np.asarray(values, float)
    if values.size < 2:
        return (np.nan, np.nan)
    rng = np.random.default_rng(random_state)
    draws = statistic(values[rng.integers(0, values.size, (n_boot, values.size))], axis=1)
    return finite_interval(draws, confidence)


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, uniques)`` with ``uniques[codes] == values``, labels in order of first
    appearance."""
    uniques, first, codes = np.unique(values, return_index=True, return_inverse=True)
    rank = np.empty(len(uniques), dtype=int)
    rank[np.argsort(first)] = np.arange(len(uniques))
    return rank[codes.ravel()], uniques[np.argsort(first)]


def group_index(groups: Sequence[object] | np.ndarray) -> list[np.ndarray]:
    """Row indices of each group, in order of first appearance."""
    codes, uniques = factorize(np.asarray(groups))
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    return [order[bounds[g] : bounds[g + 1]] for g in range(len(uniques))]


def grouped_rms_interval(
    squared: np.ndarray,
    groups: np.ndarray,
    *,
    n_boot: int,
    confidence: float = 0.95,
    random_state: int = 0,
) -> tuple[float, float]:
    """Interval of ``sqrt(mean(squared))`` (an RMSLE) resampling whole groups (runs): each draw
    picks as many groups as there are, with replacement, and pools their rows."""
    labels, index = np.unique(groups, return_inverse=True)
    if labels.size < 2:
        return (np.nan, np.nan)
    sums = np.bincount(index, weights=squared)
    counts = np.bincount(index)
    rng = np.random.default_rng(random_state)
    pick = rng.integers(0, labels.size, size=(n_boot, labels.size))
    draws = np.sqrt(sums[pick].sum(axis=1) / counts[pick].sum(axis=1))
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return float(low), float(high)


def _cell_draws(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap draws of the mean of ``values`` (one cell's seeds), widened by
    ``sqrt(n/(n−1))`` so a few seeds do not understate the spread."""
    values = np.asarray(values, float)
    n = values.size
    mean = float(values.mean())
    if n < 2:
        return np.full(n_boot, np.nan)
    draws = values[rng.integers(0, n, size=(n_boot, n))].mean(axis=1)
    return mean + np.sqrt(n / (n - 1)) * (draws - draws.mean())


def bootstrap_cells(
    per_run: pd.DataFrame,
    cells: Sequence[str],
    statistic: Callable[[pd.Series], float],
    *,
    n_boot: int = 500,
    confidence: float = 0.95,
    random_state: int = 0,
) -> tuple[float, tuple[float, float], np.ndarray]:
    """Point value and seed-bootstrap interval of ``statistic(cell means)``.

    Parameters
    ----------
    per_run : DataFrame
        One row per run with the ``cells`` columns and a ``value`` column.
    cells : sequence of str
        Columns defining a cell; the runs of a cell are its seeds.
    statistic : callable
        Maps a Series of cell means (indexed by the cells) to a number.

    Returns
    -------
    (value, (low, high), draws)
        The interval needs finite draws on at least max(10, half) of the resamples.
    """
    grouped = per_run.groupby(list(cells), sort=True)["value"]
    means = grouped.mean()
    value = float(statistic(means))
    rng = np.random.default_rng(random_state)
    draws_by_cell = np.stack([_cell_draws(g.to_numpy(), n_boot, rng) for _, g in grouped])
    if np.isnan(draws_by_cell).all():
        return value, (np.nan, np.nan), np.full(n_boot, np.nan)
    # cells with a single run keep their value in every draw
    draws_by_cell = np.where(np.isnan(draws_by_cell), means.to_numpy()[:, None], draws_by_cell)
    draws = np.array(
        [statistic(pd.Series(draws_by_cell[:, b], index=means.index)) for b in range(n_boot)]
    )
    return value, majority_interval(draws, confidence), draws


# --------------------------------------------------------------------------------------------
# plain values


def finite_or_none(x: Any) -> float | None:
    """``float(x)`` when it is a finite number, else None (JSON's null)."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def to_jsonable(value: Any, nonfinite: str = "null") -> Any:
    """Plain JSON values: numpy → Python, DataFrames → lists of records, and NaN/inf → None
    (``nonfinite="null"``) or their text ``"nan"``, ``"inf"``, ``"-inf"`` (``"text"``, read
    back by :func:`from_jsonable`)."""
    if nonfinite not in ("null", "text"):
        raise ValueError(f"nonfinite must be 'null' or 'text', got {nonfinite!r}")
    return _jsonable(value, nonfinite == "text")


def from_jsonable(value: Any) -> Any:
    """Inverse of ``to_jsonable(..., nonfinite="text")`` for the non-finite floats."""
    if isinstance(value, dict):
        return {k: from_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_jsonable(v) for v in value]
    if value in ("inf", "-inf", "nan"):
        return float(value)
    return value


def _jsonable(value: Any, as_text: bool) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v, as_text) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if (
            not as_text
            and len(value) > 32
            and all(type(v) is float or type(v) is int for v in value[:32])
        ):
            numbers = np.asarray(value)  # a long numeric list (a curve): vectorised
            if numbers.dtype.kind in "fiu" and numbers.ndim == 1:
                return _numbers(numbers)
        return [_jsonable(v, as_text) for v in value]
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu" and value.ndim == 1:
        return [_jsonable(v, True) for v in value.tolist()] if as_text else _numbers(value)
    if isinstance(value, pd.DataFrame):
        return _frame_records(value, as_text)
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist(), as_text)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value) if as_text else None
    return value


def _numbers(values: np.ndarray) -> list[Any]:
    """A 1-D numeric array as a JSON list, NaN/inf as None."""
    listed = values.tolist()
    if values.dtype.kind == "f":
        ok = np.isfinite(values)
        if not ok.all():
            listed = [v if k else None for v, k in zip(listed, ok.tolist(), strict=True)]
    return listed


def _frame_records(frame: pd.DataFrame, as_text: bool) -> list[dict[str, Any]]:
    """``frame`` as JSON records, vectorised (a 10⁶-row curve table in about a second): numeric
    columns with NaN/inf as None, other columns value by value."""
    columns: dict[str, list[Any]] = {}
    for name in frame.columns:
        col = frame[name]
        numeric = pd.api.types.is_float_dtype(col) or pd.api.types.is_integer_dtype(col)
        if numeric and not as_text:
            listed = _numbers(col.to_numpy())
        else:
            listed = [v if type(v) is str else _jsonable(v, as_text) for v in col.tolist()]
        columns[str(name)] = listed
    keys = list(columns)
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns.values(), strict=True)]
