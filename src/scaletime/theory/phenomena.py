"""Double descent, noise sensitivity, data needs and scale-time effects, measured on any error model.

An *error model* is a callable ``model(size, time, data, noise) -> errors`` that broadcasts its
four array inputs like :func:`scaletime.theory.law.unified_error`. Three are provided:

* :class:`ExactModel` — the linear model of :mod:`scaletime.theory.linear`, exact per
  realisation (a), averaged over realisations and analytically over the label noise;
* :class:`DeterministicModel` — its large-system limit (b);
* :class:`LawModel` — the unified law with given parameters.

Each phenomenon is a function of a model and grids that returns the curve(s) and the measured
quantity the claim is about (docs/theory.md §5 states each claim and where it holds).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from scaletime.theory import law as law_module
from scaletime.theory import linear
from scaletime.theory._checks import TheoryParameterError, check_positive_int

__all__ = [
    "DeterministicModel",
    "ErrorModel",
    "ExactModel",
    "LawModel",
    "PhenomenonCurve",
    "data_needed",
    "double_descent_strength",
    "epoch_wise",
    "larger_is_worse",
    "model_wise",
    "noise_sensitivity",
    "overfitting_time",
    "peak_time",
    "sample_wise",
]

ErrorModel = Callable[[object, object, object, object], np.ndarray]


class _CurveModel:
    """Evaluate a model that computes whole learning curves per (size, data), linear in noise."""

    def _parts(self, size: int, data: int, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def __call__(self, size: object, time: object, data: object, noise: object) -> np.ndarray:
        arrays = np.broadcast_arrays(
            *(np.asarray(a, dtype=float) for a in (size, time, data, noise))
        )
        sizes, times, datas, noises = (a.ravel() for a in arrays)
        out = np.empty(sizes.size)
        pairs = np.stack([sizes, datas], axis=1)
        for pair in np.unique(pairs, axis=0):
            members = np.flatnonzero((pairs == pair).all(axis=1))
            unique_times, where = np.unique(times[members], return_inverse=True)
            clean, unit = self._parts(int(pair[0]), int(pair[1]), unique_times)
            out[members] = clean[where] + noises[members] * unit[where]
        return out.reshape(arrays[0].shape)


@dataclass
class ExactModel(_CurveModel):
    """The exact linear model (a): mean over ``realisations`` draws, label noise averaged.

    ``E(p, t, n, σ²) = mean_seeds[clean(t) + σ²·unit(t)]`` (docs/theory.md Eq. X2); the
    problem's own ``noise`` is ignored (the ``noise`` argument is σ²). Curves are cached.
    """

    problem: linear.LinearProblem
    realisations: int = 4
    seed: int = 0
    _cache: dict = field(default_factory=dict, init=False, repr=False)

    def _parts(self, size: int, data: int, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = (size, data, times.tobytes())
        if key not in self._cache:
            parts = [
                linear.exact_error_parts(self.problem, size, data, times, seed=self.seed + k)
                for k in range(check_positive_int("realisations", self.realisations))
            ]
            self._cache[key] = tuple(np.mean([part[i] for part in parts], axis=0) for i in (0, 1))
        return self._cache[key]


@dataclass
class DeterministicModel(_CurveModel):
    """The large-system limit (b) of the linear model; ``size = np.inf`` is not supported."""

    problem: linear.LinearProblem
    _cache: dict = field(default_factory=dict, init=False, repr=False)

    def _parts(self, size: int, data: int, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = (size, data, times.tobytes())
        if key not in self._cache:
            # without ``parts`` the error is one array
            clean = cast(
                np.ndarray,
                linear.deterministic_error(self.problem.with_noise(0.0), size, data, times),
            )
            noisy = cast(
                np.ndarray,
                linear.deterministic_error(self.problem.with_noise(1.0), size, data, times),
            )
            self._cache[key] = (clean, noisy - clean)
        return self._cache[key]


@dataclass(frozen=True)
class LawModel:
    """The unified law with fixed parameters (defaults for those not given)."""

    params: dict = field(default_factory=dict)
    link: str = "saturating"

    def __call__(self, size: object, time: object, data: object, noise: object) -> np.ndarray:
        return law_module.unified_error(size, time, data, noise, link=self.link, **self.params)


@dataclass(frozen=True)
class PhenomenonCurve:
    """A curve ``y(x)`` (one per ``series`` value when 2-D) and the quantity measured on it."""

    name: str
    x_label: str
    x: np.ndarray
    y: np.ndarray
    series_label: str = ""
    series: np.ndarray = field(default_factory=lambda: np.array([]))
    measured: dict = field(default_factory=dict)
    y_label: str = "error"

    def rows(self) -> list[dict[str, float]]:
        """Tidy rows ``{x_label, [series_label], y_label}`` for CSV export."""
        y = np.atleast_2d(self.y)
        series = self.series if self.series.size else np.array([np.nan])
        rows = []
        for value, curve in zip(series, y, strict=True):
            for x, e in zip(self.x, curve, strict=True):
                row = {self.x_label: float(x), self.y_label: float(e)}
                if self.series.size:
                    row[self.series_label] = float(value)
                rows.append(row)
        return rows


def double_descent_strength(errors: np.ndarray) -> float:
    """Largest ``min(y_i/y_j, y_k/y_j, y_k/y_l) − 1`` over ``i < j < k < l``: descent, ascent, descent.

    0 for a monotone or single-U curve; > 0 measures the smallest of the three relative moves of
    the best double-descent pattern (docs/theory.md §5.1).
    """
    y = np.asarray(errors, dtype=float)
    best = 0.0
    for j in range(1, y.size - 2):
        left = y[:j].max() / y[j]
        for k in range(j + 1, y.size - 1):
            strength = min(left, y[k] / y[j], y[k] / y[k + 1 :].min()) - 1.0
            best = max(best, strength)
    return float(best)


def _rise_after_minimum(errors: np.ndarray) -> float:
    """``max_{t > argmin} E / min E − 1``: how far the curve climbs after its minimum."""
    y = np.asarray(errors, dtype=float)
    low = int(np.argmin(y))
    return float(y[low:].max() / y[low] - 1.0)


def epoch_wise(
    model: ErrorModel, size: float, data: float, noise: float, times: np.ndarray
) -> PhenomenonCurve:
    """Epoch-wise curve ``E(t)``; measures the rise after the minimum and the DD strength (§5.1)."""
    times = np.asarray(times, dtype=float)
    errors = model(size, times, data, noise)
    low = int(np.argmin(errors))
    return PhenomenonCurve(
        "epoch-wise double descent",
        "time",
        times,
        errors,
        measured={
            "rise_after_minimum": _rise_after_minimum(errors),
            "double_descent": double_descent_strength(errors),
            "time_of_minimum": float(times[low]),
            "non_monotone": bool(_rise_after_minimum(errors) > 0 and low > 0),
        },
    )


def model_wise(
    model: ErrorModel, sizes: np.ndarray, time: float, data: float, noise: float
) -> PhenomenonCurve:
    """Model-wise curve ``E(p)`` at a fixed training time; measures the DD strength and peak (§5.2)."""
    sizes = np.asarray(sizes, dtype=float)
    return _double_descent_curve("model-wise", "size", sizes, model(sizes, time, data, noise))


def sample_wise(
    model: ErrorModel, size: float, time: float, datas: np.ndarray, noise: float
) -> PhenomenonCurve:
    """Sample-wise curve ``E(n)``; measures the DD strength and where more data hurts (§5.3)."""
    datas = np.asarray(datas, dtype=float)
    return _double_descent_curve("sample-wise", "data", datas, model(size, time, datas, noise))


def _double_descent_curve(
    kind: str, axis: str, xs: np.ndarray, errors: np.ndarray
) -> PhenomenonCurve:
    """The curve ``errors(xs)`` with its DD strength and the ``xs`` of its interior peak."""
    return PhenomenonCurve(
        f"{kind} double descent",
        axis,
        xs,
        errors,
        measured={
            "double_descent": double_descent_strength(errors),
            f"peak_{axis}": float(xs[_interior_peak(errors)]),
        },
    )


def _interior_peak(errors: np.ndarray) -> int:
    """Index of the highest point that follows a lower one (the double-descent peak)."""
    y = np.asarray(errors, dtype=float)
    running_min = np.minimum.accumulate(y)
    lift = y / running_min
    return int(np.argmax(lift))


def noise_sensitivity(
    model: ErrorModel, sizes: np.ndarray, time: float, data: float, noise: float
) -> PhenomenonCurve:
    """``(E(σ²) − E(0))/σ²`` per size at a fixed time; measures whether it grows with p (§5.4)."""
    sizes = np.asarray(sizes, dtype=float)
    if noise <= 0:
        raise TheoryParameterError(f"noise must be > 0 to measure a sensitivity, got {noise!r}")
    sensitivity = (model(sizes, time, data, noise) - model(sizes, time, data, 0.0)) / noise
    steps = np.diff(sensitivity)
    return PhenomenonCurve(
        "label-noise sensitivity",
        "size",
        sizes,
        sensitivity,
        measured={
            "increasing": bool((steps > 0).all()),
            "ratio_last_first": float(sensitivity[-1] / sensitivity[0]),
        },
        y_label="noise_sensitivity",
    )


def data_needed(
    model: ErrorModel,
    sizes: np.ndarray,
    time: float,
    noise: float,
    target: float,
    datas: np.ndarray,
) -> PhenomenonCurve:
    """Smallest n on the grid reaching ``E ≤ target`` per size (``inf`` if none), §5.5.

    The first crossing is interpolated linearly in (log n, E); the measured flag says whether the
    data needed never increases with size.
    """
    sizes = np.asarray(sizes, dtype=float)
    datas = np.sort(np.asarray(datas, dtype=float))
    errors = model(sizes[:, None], time, datas[None, :], noise)
    needed = np.full(sizes.size, np.inf)
    for i, row in enumerate(errors):
        hits = np.flatnonzero(row <= target)
        if hits.size == 0:
            continue
        k = int(hits[0])
        if k == 0:
            needed[i] = datas[0]
            continue
        fraction = (row[k - 1] - target) / (row[k - 1] - row[k])
        needed[i] = float(np.exp(np.log(datas[k - 1]) + fraction * np.log(datas[k] / datas[k - 1])))
    finite = needed[np.isfinite(needed)]
    return PhenomenonCurve(
        "data needed to reach a target error",
        "size",
        sizes,
        needed,
        measured={
            "target": float(target),
            "non_increasing": bool(all(b <= a * (1 + 1e-9) for a, b in itertools.pairwise(needed))),
            "ratio_last_first": float(finite[-1] / finite[0]) if finite.size > 1 else np.nan,
        },
        y_label="data_needed",
    )


def larger_is_worse(
    model: ErrorModel, sizes: np.ndarray, time: float, data: float, noise: float
) -> PhenomenonCurve:
    """``E(p)`` at a fixed time; measures the largest relative harm of growing the model (§5.6)."""
    sizes = np.asarray(sizes, dtype=float)
    errors = model(sizes, time, data, noise)
    later_max = np.maximum.accumulate(errors[::-1])[::-1]
    harm = later_max / errors - 1.0
    worst = int(np.argmax(harm))
    larger = worst + int(np.argmax(errors[worst:]))
    return PhenomenonCurve(
        "a larger model is worse",
        "size",
        sizes,
        errors,
        measured={
            "largest_relative_harm": float(harm[worst]),
            "from_size": float(sizes[worst]),
            "to_size": float(sizes[larger]),
        },
    )


def overfitting_time(times: np.ndarray, errors: np.ndarray) -> float:
    """Time at which ``E(t)``, after its minimum, first climbs halfway to its later maximum.

    Gradient flow on a linear model fits the noise monotonically, so its epoch-wise "peak" is a
    rise to a plateau; this midpoint times it (log-interpolated). ``nan`` if it never rises.
    """
    times = np.asarray(times, dtype=float)
    y = np.asarray(errors, dtype=float)
    low = int(np.argmin(y))
    top = y[low:].max()
    if top <= y[low] * (1 + 1e-6):
        return float("nan")
    half = 0.5 * (y[low] + top)
    k = low + int(np.flatnonzero(y[low:] >= half)[0])
    fraction = (half - y[k - 1]) / (y[k] - y[k - 1])
    return float(np.exp(np.log(times[k - 1]) + fraction * np.log(times[k] / times[k - 1])))


def peak_time(
    model: ErrorModel, sizes: np.ndarray, data: float, noise: float, times: np.ndarray
) -> PhenomenonCurve:
    """Epoch-wise curves per size; measures the overfitting time and its slope in log p (§5.7).

    Scale-time equivalence predicts ``t_peak ∝ p^{-γ}`` (γ = 1 in the linear model); the measured
    ``slope`` is the least-squares slope of ``log t_peak`` against ``log p``.
    """
    sizes = np.asarray(sizes, dtype=float)
    times = np.asarray(times, dtype=float)
    curves = model(sizes[:, None], times[None, :], data, noise)
    peaks = np.array([overfitting_time(times, curve) for curve in curves])
    minima = times[np.argmin(curves, axis=1)]
    ok = np.isfinite(peaks)
    slope = np.polyfit(np.log(sizes[ok]), np.log(peaks[ok]), 1)[0] if ok.sum() >= 2 else np.nan
    return PhenomenonCurve(
        "epoch-wise peak time",
        "time",
        times,
        curves,
        series_label="size",
        series=sizes,
        measured={
            "peak_times": peaks.tolist(),
            "minimum_times": minima.tolist(),
            "slope": float(slope),
        },
    )
