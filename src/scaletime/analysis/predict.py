"""Scale-time predictors and their errors against the seed noise floor (docs/scale-time.md, "Predictions").

The paper's predictor, in both directions, with γ on the parameter-count scale:

    Ê(N_T, t) = E(N_S, t·(N_T/N_S)^γ)

(small → large when N_T > N_S: the small model is read at a *later* time; large → small
when N_T < N_S). The source curve is read by log-time interpolation between its own checkpoints
and only inside them: target times whose rescaled time falls outside the source's range are not
predicted (no extrapolation).

Errors are computed run against run: every source run predicts every target run, pooled over
the predicted checkpoints:

    MARE  = median |Ê − E| / |E|,     RMSLE = sqrt(mean (log(1 + Ê) − log(1 + E))²).

The noise floor is the same pair of numbers between two seeds of one model, over the same
checkpoints: pairs of target runs at the target times and pairs of source runs at the rescaled
times, pooled (the prediction error of a perfect predictor carries one source and one target
seed's noise; so does this average). A pair *holds* when RMSLE ≤ tolerance × floor RMSLE.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Literal

import numpy as np
import pandas as pd

from scaletime.analysis.curves import SizeCurves, interp_log_time

__all__ = [
    "PairPrediction",
    "ValidityRegime",
    "errors_by_ratio",
    "predict_all_pairs",
    "predict_curve",
    "predict_pair",
    "prediction_errors",
    "validity_regime",
]

Direction = Literal["small_to_large", "large_to_small"]
DIRECTIONS: tuple[Direction, ...] = ("small_to_large", "large_to_small")


def predict_curve(
    source_time: np.ndarray,
    source_metric: np.ndarray,
    source_size: float,
    target_time: np.ndarray,
    target_size: float,
    gamma: float,
) -> np.ndarray:
    """Ê(N_T, t) = E(N_S, t·(N_T/N_S)^γ) at ``target_time``; NaN outside the source's time range.

    Parameters
    ----------
    source_time, source_metric : ndarray, shape (n_source,)
        The source curve (positive increasing times). ``source_metric`` may be 2-D
        ``(n_runs, n_source)`` to predict from several runs at once.
    source_size, target_size : float
        Model sizes N_S and N_T (parameter counts, or any scale whose exponent is ``gamma``).
    target_time : ndarray, shape (n_target,)
    gamma : float

    Returns
    -------
    ndarray, shape (n_target,) or (n_runs, n_target)
    """
    factor = (float(target_size) / float(source_size)) ** float(gamma)
    return interp_log_time(np.asarray(target_time, float) * factor, source_time, source_metric)


def _squared_log_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (np.log1p(a) - np.log1p(b)) ** 2


def _relative_error(predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.abs(predicted - actual) / np.abs(actual)


def prediction_errors(predicted: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """MARE and RMSLE of ``predicted`` against ``actual`` over the entries where both are finite.

    Returns
    -------
    dict
        ``mare`` (median absolute relative error), ``rmsle`` (root mean squared error of
        ``log(1 + ·)``), ``n_points``.
    """
    predicted = np.asarray(predicted, float)
    actual = np.asarray(actual, float)
    ok = np.isfinite(predicted) & np.isfinite(actual)
    if not ok.any():
        return {"mare": np.nan, "rmsle": np.nan, "n_points": 0}
    return {
        "mare": float(np.median(_relative_error(predicted[ok], actual[ok]))),
        "rmsle": float(np.sqrt(np.mean(_squared_log_error(predicted[ok], actual[ok])))),
        "n_points": int(ok.sum()),
    }


@dataclass
class PairPrediction:
    """The prediction of one model size's curve from another's.

    Attributes
    ----------
    source_size, target_size : float
        N_S (the curve read) and N_T (the curve predicted).
    source_width, target_width : float
    gamma : float
        Exponent used; ``gamma_source`` says where it came from (``"paper"``, ``"fit"`` on
        the other sizes, or ``"given"``).
    time, predicted, actual : ndarray
        Target checkpoints that could be predicted, the prediction from the source's seed-mean
        curve, and the target's seed-mean curve there (for plots).
    coverage : float
        Fraction of the target's checkpoints that could be predicted.
    mare, rmsle, n_points
        Errors pooled over every (source run, target run) combination.
    floor_mare, floor_rmsle
        The same errors between two seeds of one model over the same checkpoints (NaN when
        both sizes have a single run).
    valid_time : tuple of float or None
        Longest stretch of target time where the local error (3-checkpoint rolling mean of the
        squared log error) stays ≤ tolerance² × the local floor.
    tolerance : float
    """

    source_size: float
    target_size: float
    source_width: float
    target_width: float
    gamma: float
    gamma_source: str
    time: np.ndarray
    predicted: np.ndarray
    actual: np.ndarray
    coverage: float
    mare: float
    rmsle: float
    n_points: int
    floor_mare: float
    floor_rmsle: float
    valid_time: tuple[float, float] | None
    tolerance: float = 2.0
    local_error: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    local_floor: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    @property
    def direction(self) -> Direction:
        return "small_to_large" if self.target_size > self.source_size else "large_to_small"

    @property
    def size_ratio(self) -> float:
        """Larger over smaller size (≥ 1)."""
        return max(self.source_size, self.target_size) / min(self.source_size, self.target_size)

    @property
    def ratio(self) -> float:
        """``rmsle / floor_rmsle``: how many noise floors the prediction is off."""
        if not (np.isfinite(self.floor_rmsle) and self.floor_rmsle > 0):
            return np.nan
        return self.rmsle / self.floor_rmsle

    @property
    def holds(self) -> bool | None:
        """``ratio ≤ tolerance``; None when undetermined (no overlap or no noise floor)."""
        ratio = self.ratio
        return None if not np.isfinite(ratio) else bool(ratio <= self.tolerance)

    def to_dict(self, arrays: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source_size": self.source_size,
            "target_size": self.target_size,
            "source_width": self.source_width,
            "target_width": self.target_width,
            "direction": self.direction,
            "size_ratio": self.size_ratio,
            "gamma": self.gamma,
            "gamma_source": self.gamma_source,
            "coverage": self.coverage,
            "n_points": self.n_points,
            "mare": self.mare,
            "rmsle": self.rmsle,
            "floor_mare": self.floor_mare,
            "floor_rmsle": self.floor_rmsle,
            "ratio": self.ratio,
            "tolerance": self.tolerance,
            "holds": self.holds,
            "valid_time": list(self.valid_time) if self.valid_time else None,
        }
        if arrays:
            out.update(
                time=self.time.tolist(),
                predicted=self.predicted.tolist(),
                actual=self.actual.tolist(),
            )
        return out


#: Most runs of one size used in a pair's errors and noise floor: beyond it, this many, evenly
#: spaced in run order (their pair statistics are averages over run pairs, and the number of
#: pairs grows as the square of the runs: a table with 50 seeds per size took minutes).
MAX_PAIR_RUNS = 12


def _cap_runs(values: np.ndarray) -> np.ndarray:
    """At most :data:`MAX_PAIR_RUNS` rows of ``values``, evenly spaced."""
    if values.shape[0] <= MAX_PAIR_RUNS:
        return values
    keep = np.unique(np.linspace(0, values.shape[0] - 1, MAX_PAIR_RUNS).round().astype(int))
    return values[keep]


def _pair_differences(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Squared log errors and relative errors between every two rows of ``values``."""
    pairs = list(combinations(range(values.shape[0]), 2))
    if not pairs:
        empty = np.full((0, values.shape[1]), np.nan)
        return empty, empty
    first = values[[i for i, _ in pairs]]
    second = values[[j for _, j in pairs]]
    return _squared_log_error(first, second), _relative_error(first, second)


def _longest_true_run(flags: np.ndarray) -> tuple[int, int] | None:
    best: tuple[int, int] | None = None
    start = None
    for i, flag in enumerate([*flags.tolist(), False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if best is None or i - start > best[1] - best[0] + 1:
                best = (start, i - 1)
            start = None
    return best


def _nanmean(values: np.ndarray, axis: int | None = None) -> np.ndarray:
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(finite, values, 0.0).sum(axis=axis) / finite.sum(axis=axis)


def predict_pair(
    source: SizeCurves,
    target: SizeCurves,
    gamma: float,
    gamma_source: str = "given",
    tolerance: float = 2.0,
) -> PairPrediction:
    """Predict ``target``'s runs from ``source``'s with exponent ``gamma``; errors vs noise floor."""
    if tolerance <= 0:
        raise ValueError(f"tolerance must be positive, got {tolerance}")
    times = target.time
    if not np.isfinite(gamma):
        from_source = np.full((len(source.runs), times.size), np.nan)
    else:
        from_source = predict_curve(
            source.time, source.values, source.size, times, target.size, gamma
        )
    covered = np.isfinite(from_source).any(axis=0) & np.isfinite(target.values).any(axis=0)
    actual = _cap_runs(target.values[:, covered])
    predicted_runs = _cap_runs(from_source[:, covered])

    squared = _squared_log_error(predicted_runs[:, None, :], actual[None, :, :])
    relative = _relative_error(predicted_runs[:, None, :], actual[None, :, :])
    n_points = int(np.isfinite(squared).sum())
    floor_sq_target, floor_rel_target = _pair_differences(actual)
    floor_sq_source, floor_rel_source = _pair_differences(predicted_runs)
    # local (per checkpoint) mean squared log error of the prediction and of the floor
    n_pairs = squared.shape[0] * squared.shape[1]  # explicit: -1 is ambiguous when empty
    local_error = _nanmean(squared.reshape(n_pairs, actual.shape[1]), axis=0)
    local_floor = _nanmean(
        np.vstack([_nanmean(floor_sq_target, axis=0), _nanmean(floor_sq_source, axis=0)]), axis=0
    )

    rmsle = float(np.sqrt(_nanmean(squared))) if n_points else np.nan
    mare = float(np.nanmedian(relative)) if n_points else np.nan
    floor_points = np.concatenate([floor_sq_target.ravel(), floor_sq_source.ravel()])
    floor_relative = np.concatenate([floor_rel_target.ravel(), floor_rel_source.ravel()])
    has_floor = np.isfinite(floor_points).any()
    floor_rmsle = float(np.sqrt(_nanmean(local_floor))) if has_floor else np.nan
    floor_mare = float(np.nanmedian(floor_relative)) if has_floor else np.nan

    valid_time = None
    if n_points and has_floor:
        smooth_error = pd.Series(local_error).rolling(3, center=True, min_periods=1).mean()
        smooth_floor = pd.Series(local_floor).rolling(3, center=True, min_periods=1).mean()
        good = (smooth_error <= tolerance**2 * smooth_floor).to_numpy()
        run = _longest_true_run(good)
        if run is not None:
            valid_time = (float(times[covered][run[0]]), float(times[covered][run[1]]))

    return PairPrediction(
        source_size=source.size,
        target_size=target.size,
        source_width=source.width,
        target_width=target.width,
        gamma=float(gamma),
        gamma_source=gamma_source,
        time=times[covered],
        predicted=_nanmean(from_source[:, covered], axis=0) if covered.any() else np.empty(0),
        actual=target.mean[covered],
        coverage=float(covered.mean()) if covered.size else 0.0,
        mare=mare,
        rmsle=rmsle,
        n_points=n_points,
        floor_mare=floor_mare,
        floor_rmsle=floor_rmsle,
        valid_time=valid_time,
        tolerance=tolerance,
        local_error=local_error,
        local_floor=local_floor,
    )


def predict_all_pairs(
    curves: Sequence[SizeCurves],
    gamma: float | Callable[[float, float], float],
    gamma_source: str = "given",
    tolerance: float = 2.0,
) -> list[PairPrediction]:
    """Every ordered pair of distinct sizes, both directions.

    ``gamma`` is a number or a function ``(source_size, target_size) -> γ`` (e.g. a fit that
    leaves the pair out).
    """
    out = []
    for source in curves:
        for target in curves:
            if source is target:
                continue
            g = gamma(source.size, target.size) if callable(gamma) else float(gamma)
            out.append(predict_pair(source, target, g, gamma_source, tolerance))
    return out


@dataclass(frozen=True)
class ValidityRegime:
    """Where the predictions of one direction stay within tolerance × the noise floor.

    Attributes
    ----------
    direction : {"small_to_large", "large_to_small"}
    max_ratio : float or None
        Largest size ratio R such that every decided pair with ratio ≤ R holds: 1.0 when even
        the smallest ratio fails (no transfer between sizes holds), None when no pair could be
        decided.
    time_range : tuple of float or None
        Longest stretch of target time over which every pair within ``max_ratio`` that predicts
        that time is inside its own valid window.
    n_pairs, n_decided, n_holding : int
        Pairs in this direction, pairs with an error ratio, pairs that hold.
    median_ratio, worst_ratio : float
        Median and largest error ratio (RMSLE / floor RMSLE) over the decided pairs.
    worst_pair : tuple of float or None
        ``(source_size, target_size)`` of the worst pair.
    """

    direction: str
    max_ratio: float | None
    time_range: tuple[float, float] | None
    n_pairs: int
    n_decided: int
    n_holding: int
    median_ratio: float
    worst_ratio: float
    worst_pair: tuple[float, float] | None

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["time_range"] = list(self.time_range) if self.time_range else None
        out["worst_pair"] = list(self.worst_pair) if self.worst_pair else None
        return out


def validity_regime(predictions: Sequence[PairPrediction], direction: Direction) -> ValidityRegime:
    """Summarise where one direction's predictions hold (see :class:`ValidityRegime`)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}; got {direction!r}")
    pairs = [p for p in predictions if p.direction == direction]
    decided = [p for p in pairs if p.holds is not None]
    ratios = np.array([p.ratio for p in decided])
    if not decided:
        return ValidityRegime(direction, None, None, len(pairs), 0, 0, np.nan, np.nan, None)
    worst = decided[int(np.argmax(ratios))]

    max_ratio = 1.0
    for size_ratio in sorted({round(p.size_ratio, 9) for p in decided}):
        within = [p for p in decided if round(p.size_ratio, 9) <= size_ratio]
        if all(p.holds for p in within):
            max_ratio = float(size_ratio)
        else:
            break

    time_range = None
    if max_ratio > 1.0:
        within = [p for p in decided if round(p.size_ratio, 9) <= max_ratio]
        grid = np.unique(np.concatenate([p.time for p in within]))
        good = np.ones(grid.size, dtype=bool)
        for p in within:
            predicted_here = (grid >= p.time.min()) & (grid <= p.time.max())
            if p.valid_time is None:
                inside = np.zeros(grid.size, dtype=bool)
            else:
                inside = (grid >= p.valid_time[0]) & (grid <= p.valid_time[1])
            good &= ~predicted_here | inside
        run = _longest_true_run(good)
        if run is not None:
            time_range = (float(grid[run[0]]), float(grid[run[1]]))

    return ValidityRegime(
        direction=direction,
        max_ratio=max_ratio,
        time_range=time_range,
        n_pairs=len(pairs),
        n_decided=len(decided),
        n_holding=sum(bool(p.holds) for p in decided),
        median_ratio=float(np.median(ratios)),
        worst_ratio=float(ratios.max()),
        worst_pair=(worst.source_size, worst.target_size),
    )


#: Size ratios at which :func:`errors_by_ratio` reports (plus the largest available).
RATIOS: tuple[float, ...] = (2.0, 5.0, 10.0)


def errors_by_ratio(
    predictions: Sequence[PairPrediction],
    ratios: Sequence[float] = RATIOS,
    width: float = 1.5,
) -> pd.DataFrame:
    """Prediction error against the noise floor by size ratio and direction.

    Pairs whose size ratio lies within a factor ``width`` of each asked ratio (and the pairs at
    the largest ratio available) are pooled: ``n_pairs``, the median ``error_ratio`` (RMSLE over
    the floor's), the share of pairs that ``hold`` and the median ``coverage`` (share of the
    target's checkpoints the source could predict).
    """
    rows = []
    for direction in DIRECTIONS:
        pairs = [p for p in predictions if p.direction == direction]
        if not pairs:
            continue
        largest = max(p.size_ratio for p in pairs)
        bins = [(f"{r:g}", r) for r in ratios] + [("largest", largest)]
        for label, r in bins:
            near = [p for p in pairs if abs(np.log(p.size_ratio / r)) <= np.log(width)]
            if label == "largest":
                near = [p for p in pairs if p.size_ratio >= largest / width]
            decided = [p for p in near if p.holds is not None]
            rows.append(
                {
                    "direction": direction,
                    "ratio": label,
                    "size_ratio": float(np.median([p.size_ratio for p in near])) if near else r,
                    "n_pairs": len(near),
                    "error_ratio": float(np.median([p.ratio for p in decided]))
                    if decided
                    else np.nan,
                    "holds": float(np.mean([bool(p.holds) for p in decided]))
                    if decided
                    else np.nan,
                    "coverage": float(np.median([p.coverage for p in near])) if near else np.nan,
                }
            )
    return pd.DataFrame(rows)
