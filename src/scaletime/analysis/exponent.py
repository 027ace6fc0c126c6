"""The scale-time exponent γ from t_min: log t_min = c_k − γ·log x (docs/scale-time.md, "Exponent").

``x`` is the model-size scale: the parameter count N (``scale="size"``), the width
(``scale="width"``) or the paper's effective scale p = N^{1/3} (``scale="p"``). For each threshold
k the size-level point is the mean of log t_min over the seeds that reached k (a size enters only
when more than half of its seeds did). The pooled fit shares γ across thresholds, with one
intercept c_k per threshold (ordinary least squares on within-threshold centred values):

    γ = −Σ_k Σ_s (x_s − x̄_k)(y_sk − ȳ_k) / Σ_k Σ_s (x_s − x̄_k)²,   y = log t_min, x = log scale.

Confidence intervals are percentile bootstrap intervals: the runs of each size are resampled
with replacement (the seeds), or the sizes themselves when every size has a single run.
The paper's claim t_min ∝ 1/p (slope −1 in p = N^{1/3}) is γ = 1/3 on the N scale, 1 on the
p scale; it has no value on the width scale.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from scaletime.analysis.tmin import REACHED
from scaletime.stats import finite_interval

__all__ = ["PAPER_GAMMA", "SCALES", "ExponentFit", "fit_exponent", "pooled_gamma"]

Scale = Literal["size", "width", "p"]
SCALES: tuple[Scale, ...] = ("size", "width", "p")
#: The paper's exponent on each scale (t_min ∝ 1/p, p = N^{1/3}); None where it states none.
PAPER_GAMMA: dict[str, float | None] = {"size": 1.0 / 3.0, "p": 1.0, "width": None}


def _log_scale(sizes: np.ndarray, widths: np.ndarray, scale: str) -> np.ndarray:
    if scale == "size":
        return np.log(sizes)
    if scale == "p":
        return np.log(sizes) / 3.0
    if scale == "width":
        return np.log(widths)
    raise ValueError(f"scale must be one of {', '.join(SCALES)}; got {scale!r}")


def _log_tmin_by_size(
    tmin: pd.DataFrame, thresholds: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Sizes, widths and, per size, the ``(n_runs, n_thresholds)`` log t_min (NaN = not reached)."""
    table = tmin.assign(log_t=np.where(tmin["status"] == REACHED, np.log(tmin["t_min"]), np.nan))
    wide = (
        table.groupby(["size", "run", "threshold"])["log_t"]
        .first()
        .unstack("threshold")
        .reindex(columns=thresholds)
    )
    widths = table.groupby("size")["width"].first()
    sizes = np.array(sorted(table["size"].unique()), dtype=float)
    per_size = [wide.loc[size].to_numpy(float) for size in sizes]
    return sizes, widths.reindex(sizes).to_numpy(float), per_size


def _size_means(per_size_sampled: list[np.ndarray]) -> np.ndarray:
    """Seed means of log t_min, shape ``(n_boot, n_sizes, n_thresholds)``.

    Each input is ``(n_boot, n_runs, n_thresholds)``; a size counts for a threshold only when
    more than half of its (resampled) runs reached it.
    """
    out = []
    for logt in per_size_sampled:
        reached = np.isfinite(logt)
        count = reached.sum(axis=1)
        total = np.where(reached, logt, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / count
        out.append(np.where(2 * count > logt.shape[1], mean, np.nan))
    return np.stack(out, axis=1)


def _slopes(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Per-threshold and pooled OLS slopes of ``y`` on ``x`` over finite entries.

    ``x``: ``(B, S, 1)``; ``y``: ``(B, S, T)``. Returns per-threshold ``slope`` ``(B, T)``,
    ``pooled`` ``(B,)``, residual and total sums of squares, means and counts.
    """
    mask = np.isfinite(y)
    x_b = np.broadcast_to(x, y.shape)
    n = mask.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        x_mean = np.where(mask, x_b, 0).sum(axis=1) / n
        y_mean = np.where(mask, y, 0).sum(axis=1) / n
        xc = np.where(mask, x_b - x_mean[:, None, :], 0.0)
        yc = np.where(mask, y - y_mean[:, None, :], 0.0)
        sxy = (xc * yc).sum(axis=1)
        sxx = (xc * xc).sum(axis=1)
        syy = (yc * yc).sum(axis=1)
        usable = (n >= 2) & (sxx > 0)
        slope = np.where(usable, sxy / sxx, np.nan)
        pooled = np.where(usable, sxy, 0).sum(axis=1) / np.where(usable, sxx, 0).sum(axis=1)
        ss_res_k = np.where(usable, syy - slope * sxy, np.nan)  # per-threshold own slope
        ss_res_pooled = np.where(
            usable, syy - 2 * pooled[:, None] * sxy + pooled[:, None] ** 2 * sxx, 0
        )
    return {
        "slope": slope,
        "pooled": pooled,
        "ss_res": ss_res_k,
        "ss_tot": np.where(usable, syy, np.nan),
        "ss_res_pooled": ss_res_pooled.sum(axis=1),
        "ss_tot_pooled": np.where(usable, syy, 0).sum(axis=1),
        "x_mean": x_mean,
        "y_mean": y_mean,
        "n": n,
        "usable": usable,
    }


def pooled_gamma(
    tmin: pd.DataFrame, scale: Scale = "size", exclude_sizes: tuple[float, ...] = ()
) -> float:
    """Point estimate of the pooled γ, optionally leaving some sizes out (no bootstrap).

    Used to predict a pair of sizes with an exponent fitted on the *other* sizes only.
    """
    table = tmin.loc[~tmin["size"].isin(exclude_sizes)]
    if table.empty:
        return np.nan
    thresholds = np.sort(table["threshold"].unique())[::-1]
    sizes, widths, per_size = _log_tmin_by_size(table, thresholds)
    y = _size_means([logt[None] for logt in per_size])
    x = _log_scale(sizes, widths, scale)[None, :, None]
    return float(-_slopes(x, y)["pooled"][0])


class ExponentFit:
    """Fit ``log t_min = c_k − γ·log x`` on a t_min table, with bootstrap CIs and the paper test.

    Parameters
    ----------
    scale : {"size", "width", "p"}
        Model-size scale x: parameters N, width, or p = N^{1/3}.
    n_boot : int
        Bootstrap resamples for the confidence intervals.
    confidence : float
        Coverage of the intervals.
    random_state : int
        Seed of the bootstrap.

    Attributes
    ----------
    gamma_ : float
        Pooled exponent (shared across thresholds).
    ci_ : tuple of float
        Percentile bootstrap interval of ``gamma_``.
    se_ : float
        Bootstrap standard deviation of ``gamma_``.
    r2_ : float
        Pooled within-threshold R² of the size-level means (1 = a perfect power law).
    intercepts_ : dict
        threshold → c_k.
    per_threshold_ : DataFrame
        ``threshold, gamma, ci_low, ci_high, r2, n_sizes`` for each threshold's own fit.
    n_sizes_ : int
        Sizes entering at least one threshold's fit.
    ci_method_ : str
        ``"seeds"`` (runs resampled within each size) or ``"sizes"``.
    paper_gamma_ : float or None
        The paper's value on this scale (1/3 for N, 1 for p, None for width).
    paper_consistent_ : bool or None
        Whether ``paper_gamma_`` lies inside ``ci_``.
    paper_z_ : float or None
        ``(gamma_ − paper_gamma_) / se_``.
    """

    def __init__(
        self,
        scale: Scale = "size",
        n_boot: int = 1000,
        confidence: float = 0.95,
        random_state: int = 0,
    ) -> None:
        self.scale = scale
        self.n_boot = n_boot
        self.confidence = confidence
        self.random_state = random_state

    def _validate(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {', '.join(SCALES)}; got {self.scale!r}")
        if self.n_boot < 1:
            raise ValueError(f"n_boot must be at least 1, got {self.n_boot}")
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence must be in (0, 1), got {self.confidence}")

    def fit(self, tmin: pd.DataFrame) -> ExponentFit:
        """Fit on a table from :func:`scaletime.analysis.tmin_table`."""
        self._validate()
        thresholds = np.sort(tmin["threshold"].unique())[::-1]
        sizes, widths, per_size = _log_tmin_by_size(tmin, thresholds)
        log_x = _log_scale(sizes, widths, self.scale)
        if self.scale == "width" and not np.all(np.isfinite(log_x)):
            raise ValueError(
                "scale='width' needs a width column (map one with ColumnMapping.width)"
            )

        point = _slopes(log_x[None, :, None], _size_means([v[None] for v in per_size]))
        rng = np.random.default_rng(self.random_state)
        n_runs = np.array([v.shape[0] for v in per_size])
        if n_runs.max() >= 2:
            self.ci_method_ = "seeds"
            sampled = [
                v[rng.integers(0, v.shape[0], size=(self.n_boot, v.shape[0]))] for v in per_size
            ]
            boot = _slopes(
                np.broadcast_to(log_x[None, :, None], (self.n_boot, len(sizes), 1)),
                _size_means(sampled),
            )
        else:
            self.ci_method_ = "sizes"
            means = _size_means([v[None] for v in per_size])[0]
            pick = rng.integers(0, len(sizes), size=(self.n_boot, len(sizes)))
            boot = _slopes(log_x[pick][:, :, None], means[pick])

        gamma = -point["pooled"][0]
        # the naive bootstrap of a mean of n values has variance (n−1)/n of the true one:
        # widen the resampled deviations by sqrt(n/(n−1)) (n = median runs per size)
        n_typical = float(np.median(n_runs)) if self.ci_method_ == "seeds" else len(sizes)
        inflation = np.sqrt(n_typical / (n_typical - 1)) if n_typical > 1 else 1.0
        boot_gamma = _recentre(-boot["pooled"], gamma, inflation)
        boot_slopes = _recentre(-boot["slope"], -point["slope"][0], inflation)
        self.gamma_ = float(gamma)
        self.ci_ = finite_interval(boot_gamma, self.confidence)
        self.se_ = (
            float(np.nanstd(boot_gamma, ddof=1)) if np.isfinite(boot_gamma).sum() > 1 else np.nan
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            self.r2_ = float(1 - point["ss_res_pooled"][0] / point["ss_tot_pooled"][0])
        self.intercepts_ = {
            float(k): float(point["y_mean"][0, j] + gamma * point["x_mean"][0, j])
            for j, k in enumerate(thresholds)
            if point["usable"][0, j]
        }
        rows = []
        for j, k in enumerate(thresholds):
            low, high = finite_interval(boot_slopes[:, j], self.confidence)
            with np.errstate(invalid="ignore", divide="ignore"):
                r2 = 1 - point["ss_res"][0, j] / point["ss_tot"][0, j]
            rows.append(
                {
                    "threshold": float(k),
                    "gamma": float(-point["slope"][0, j]),
                    "ci_low": low,
                    "ci_high": high,
                    "r2": float(r2),
                    "n_sizes": int(point["n"][0, j]),
                }
            )
        self.per_threshold_ = pd.DataFrame.from_records(rows)
        self.n_sizes_ = int(
            np.isfinite(_size_means([v[None] for v in per_size])[0]).any(axis=1).sum()
        )
        self.paper_gamma_ = PAPER_GAMMA[self.scale]
        if self.paper_gamma_ is None or not np.isfinite(self.gamma_):
            self.paper_consistent_ = None
            self.paper_z_ = None
        else:
            self.paper_consistent_ = bool(self.ci_[0] <= self.paper_gamma_ <= self.ci_[1])
            self.paper_z_ = (
                float((self.gamma_ - self.paper_gamma_) / self.se_) if self.se_ > 0 else None
            )
        return self

    def predict(self, x: np.ndarray, threshold: float) -> np.ndarray:
        """t_min at scale values ``x`` for a fitted threshold: ``exp(c_k) · x^(−γ)``."""
        if float(threshold) not in self.intercepts_:
            raise ValueError(
                f"threshold {threshold} was not fitted; fitted: {sorted(self.intercepts_)}"
            )
        return np.exp(self.intercepts_[float(threshold)]) * np.asarray(x, float) ** (-self.gamma_)

    def to_dict(self) -> dict[str, Any]:
        """Every fitted number, JSON-ready."""
        return {
            "scale": self.scale,
            "gamma": self.gamma_,
            "ci": list(self.ci_),
            "confidence": self.confidence,
            "se": self.se_,
            "r2": self.r2_,
            "n_sizes": self.n_sizes_,
            "ci_method": self.ci_method_,
            "n_boot": self.n_boot,
            "paper_gamma": self.paper_gamma_,
            "paper_consistent": self.paper_consistent_,
            "paper_z": self.paper_z_,
            "intercepts": {str(k): v for k, v in self.intercepts_.items()},
            "per_threshold": self.per_threshold_.to_dict(orient="records"),
        }


def _recentre(samples: np.ndarray, estimate: np.ndarray | float, inflation: float) -> np.ndarray:
    """``estimate + inflation·(samples − mean(samples))``: bootstrap draws, widened, about the estimate."""
    finite = np.isfinite(samples)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.where(finite, samples, 0.0).sum(axis=0) / finite.sum(axis=0)
    return estimate + inflation * (samples - centre)


def fit_exponent(
    tmin: pd.DataFrame,
    scale: Scale = "size",
    n_boot: int = 1000,
    confidence: float = 0.95,
    random_state: int = 0,
) -> ExponentFit:
    """Shorthand for ``ExponentFit(scale, n_boot, confidence, random_state).fit(tmin)``."""
    return ExponentFit(scale, n_boot, confidence, random_state).fit(tmin)
