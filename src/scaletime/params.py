"""The one law-parameter type, shared by the theory and the fitter (docs/fitting.md, "Laws").

A :class:`Param` names a parameter, bounds it, gives a default and a start grid, says whether it
is searched on a log scale or solved in closed form (an amplitude), and states its meaning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Smallest value a log-transformed parameter with lower bound 0 can take inside the optimiser.
LOG_FLOOR = 1e-30


@dataclass(frozen=True)
class Param:
    """One law parameter.

    Parameters
    ----------
    name : str
        Name used in ``params_`` and in the JSON artifact.
    lower, upper : float
        Bounds (``upper`` may be ``inf``).
    default : float
        A sensible value inside the bounds; always one of the multi-start candidates.
    log : bool
        Optimise ``log(value)`` instead of ``value`` (scales spanning decades).
    linear : bool
        The prediction is linear in this parameter (an amplitude): solved in closed form by
        variable projection and never gridded.
    grid : tuple of float, optional
        Start values for the multi-start grid; when absent the grid spans the bounds.
    meaning : str
        One line for docs and tables.
    """

    name: str
    lower: float
    upper: float
    default: float
    log: bool = False
    linear: bool = False
    grid: tuple[float, ...] | None = None
    meaning: str = ""

    def __post_init__(self) -> None:
        if not self.lower <= self.default <= self.upper:
            raise ValueError(
                f"parameter {self.name!r}: default {self.default} outside [{self.lower}, {self.upper}]"
            )
        if self.log and self.lower < 0:
            raise ValueError(
                f"parameter {self.name!r}: log scale needs lower >= 0, got {self.lower}"
            )

    # -- the optimiser works on z = log(v) for log parameters, z = v otherwise
    def to_internal(self, value: float | np.ndarray) -> np.ndarray:
        v = np.asarray(value, dtype=float)
        return np.log(np.maximum(v, LOG_FLOOR)) if self.log else v

    def from_internal(self, z: float | np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        return np.exp(z) if self.log else z

    def internal_bounds(self) -> tuple[float, float]:
        if self.log:
            lo = np.log(max(self.lower, LOG_FLOOR))
            hi = np.log(self.upper) if np.isfinite(self.upper) else np.inf
            return float(lo), float(hi)
        return float(self.lower), float(self.upper)

    def start_values(self, n: int) -> np.ndarray:
        """Grid of ``n`` start values (``grid`` if given, else spread over the bounds)."""
        if self.grid is not None:
            return np.asarray(self.grid, dtype=float)
        lo, hi = self.internal_bounds()
        if not (np.isfinite(lo) and np.isfinite(hi)):  # unbounded: two units around the default
            d = float(self.to_internal(self.default))
            lo, hi = d - 2.0, d + 2.0
        # interior points only: starting on a bound stalls bounded optimisers
        z = lo + (hi - lo) * (np.arange(n) + 0.5) / n
        return self.from_internal(z)
