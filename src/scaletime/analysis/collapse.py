"""Curve collapse: the γ for which E(N, t) falls onto one curve of N^γ·t (docs/scale-time.md, "Collapse").

Each model size contributes its seed-mean curve m_N(t). Shifted onto the effective-time axis
x = log t + γ·log N, two sizes a and b are compared where their shifted ranges overlap:

    d_ab(t) = m_a(t) − m_b(t·(N_a/N_b)^γ)        (log-time interpolation of m_b, never extrapolated)

The collapse residual is the root mean square of d over every ordered pair of sizes and every
overlapping checkpoint; the seed spread is the root mean square, over the same points, of the
standard deviation d would have from seed noise alone, sqrt(s_a²/n_a + s_b²/n_b). Their ratio
is ≈ 1 when the curves collapse to within seed noise. γ is chosen to minimise the residual on
``[0, gamma_max]`` (3 by default); γ values at which fewer than ``min_overlap`` of the γ = 0 comparisons
remain are not allowed (a shift that separates the curves would trivially "collapse" them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar

from scaletime.analysis.curves import SizeCurves, interp_log_time, size_curves

__all__ = ["CollapseFit", "CollapseScore", "collapse", "collapse_score"]


@dataclass(frozen=True)
class CollapseScore:
    """Residual of the collapse at one γ.

    Attributes
    ----------
    gamma : float
    residual : float
        RMS difference between shifted seed-mean curves (metric units).
    seed_spread : float
        RMS of the difference expected from seed noise alone (NaN with single runs).
    n_points : int
        Number of (pair, checkpoint) comparisons.
    """

    gamma: float
    residual: float
    seed_spread: float
    n_points: int

    @property
    def ratio(self) -> float:
        """``residual / seed_spread`` (≈ 1: collapse within seed noise)."""
        if not np.isfinite(self.seed_spread) or self.seed_spread <= 0:
            return np.nan
        return self.residual / self.seed_spread

    def to_dict(self) -> dict[str, Any]:
        return {
            "gamma": self.gamma,
            "residual": self.residual,
            "seed_spread": self.seed_spread,
            "ratio": self.ratio,
            "n_points": self.n_points,
        }


def collapse_score(curves: list[SizeCurves], gamma: float) -> CollapseScore:
    """Residual and seed spread of the collapse of ``curves`` at exponent ``gamma``."""
    squared: list[np.ndarray] = []
    variance: list[np.ndarray] = []
    summaries = [(c.time, c.mean, c.variance / np.maximum(c.count, 1), c.size) for c in curves]
    for i, (t_a, m_a, v_a, n_a) in enumerate(summaries):
        for j, (t_b, m_b, v_b, n_b) in enumerate(summaries):
            if i == j:
                continue
            t_on_b = t_a * (n_a / n_b) ** gamma
            m_b_at = interp_log_time(t_on_b, t_b, m_b)
            ok = np.isfinite(m_b_at) & np.isfinite(m_a)
            if not ok.any():
                continue
            squared.append((m_a[ok] - m_b_at[ok]) ** 2)
            variance.append(v_a[ok] + interp_log_time(t_on_b[ok], t_b, v_b))
    if not squared:
        return CollapseScore(float(gamma), np.inf, np.nan, 0)
    sq = np.concatenate(squared)
    var = np.concatenate(variance)
    spread = float(np.sqrt(np.nanmean(var))) if np.isfinite(var).any() else np.nan
    return CollapseScore(float(gamma), float(np.sqrt(np.mean(sq))), spread, int(sq.size))


class CollapseFit:
    """Find the γ that best collapses E(N, t) onto one curve of N^γ·t.

    Parameters
    ----------
    gamma_max : float
        Upper end of the search range ``[0, gamma_max]`` (γ on the parameter-count scale).
    n_grid : int
        Grid points of the coarse search (then refined by a bounded scalar search).
    min_overlap : float
        Smallest allowed fraction of the γ = 0 comparisons.

    Attributes
    ----------
    gamma_ : float
        The best-collapsing exponent.
    score_ : CollapseScore
        Residual, seed spread and their ratio at ``gamma_``.
    profile_ : DataFrame
        ``gamma, residual`` on the grid (inf where too little overlap remains).
    at_bound_ : bool
        Whether ``gamma_`` sits at the upper end of the allowed range (no interior minimum:
        the curves do not collapse at any γ searched). γ = 0 is a legitimate answer (size
        does not matter) and is not flagged.
    """

    def __init__(self, gamma_max: float = 3.0, n_grid: int = 61, min_overlap: float = 0.25) -> None:
        self.gamma_max = gamma_max
        self.n_grid = n_grid
        self.min_overlap = min_overlap

    def fit(self, rows: pd.DataFrame) -> CollapseFit:
        """Fit on the canonical rows of one setting (:func:`scaletime.table.resolve`)."""
        if self.gamma_max <= 0:
            raise ValueError(f"gamma_max must be positive, got {self.gamma_max}")
        if not 0 < self.min_overlap <= 1:
            raise ValueError(f"min_overlap must be in (0, 1], got {self.min_overlap}")
        self.curves_ = size_curves(rows)
        if len(self.curves_) < 2:
            raise ValueError(f"a collapse needs at least two model sizes, got {len(self.curves_)}")
        needed = self.min_overlap * collapse_score(self.curves_, 0.0).n_points

        def objective(gamma: float) -> float:
            score = collapse_score(self.curves_, gamma)
            return score.residual if score.n_points >= needed else np.inf

        grid = np.linspace(0.0, self.gamma_max, self.n_grid)
        values = np.array([objective(g) for g in grid])
        self.profile_ = pd.DataFrame({"gamma": grid, "residual": values})
        best = int(np.argmin(values))
        low, high = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
        refined = minimize_scalar(objective, bounds=(low, high), method="bounded")
        gamma = float(refined.x) if refined.fun <= values[best] else float(grid[best])
        self.gamma_ = gamma
        self.score_ = collapse_score(self.curves_, gamma)
        allowed = grid[np.isfinite(values)]
        step = grid[1] - grid[0]
        self.at_bound_ = bool(allowed.size and gamma >= allowed[-1] - step / 2)
        return self

    def score(self, gamma: float) -> CollapseScore:
        """The collapse at a given γ (e.g. the paper's 1/3 or the t_min exponent)."""
        return collapse_score(self.curves_, gamma)

    def to_dict(self) -> dict[str, Any]:
        return {
            "gamma": self.gamma_,
            "at_bound": self.at_bound_,
            **{k: v for k, v in self.score_.to_dict().items() if k != "gamma"},
            "profile": {
                "gamma": self.profile_["gamma"].tolist(),
                "residual": self.profile_["residual"].tolist(),
            },
        }


def collapse(
    rows: pd.DataFrame, gamma_max: float = 3.0, n_grid: int = 61, min_overlap: float = 0.25
) -> CollapseFit:
    """Shorthand for ``CollapseFit(gamma_max, n_grid, min_overlap).fit(rows)``."""
    return CollapseFit(gamma_max, n_grid, min_overlap).fit(rows)
