"""The paper's phenomena measured on a sweep's tidy table, each with a seed-bootstrap interval
(the measured counterparts of :mod:`scaletime.theory.phenomena`'s predictions).

Every function here takes the *canonical* frame of :func:`scaletime.table.resolve` (columns
``run, size, time, metric, seed, width, data, noise`` and the setting columns) and returns plain
numbers (docs/report.md, "Measured phenomena"):

* :func:`final_errors` — each run's metric at its last checkpoint;
* :func:`noise_sensitivity` — ``S(N) = (E(N, ρ) − E(N, 0)) / ρ`` and its slope per decade of N;
* :func:`data_needed` — the training-set size needed to reach an error threshold, against N,
  fitted as ``n_needed ∝ N^(−γ_data)`` with the t_min machinery of :mod:`scaletime.analysis`;
* :func:`larger_is_worse` — the largest relative harm of a larger model at the end of training;
* :func:`epoch_wise` — the rise after the minimum of each size's mean curve (epoch-wise double
  descent), its overfitting time, and how that time scales with N;
* :func:`model_wise` — the double-descent strength of the final error against N.

Intervals are percentile intervals of a bootstrap that resamples the seeds of each cell
(one model size in one setting); with n seeds the resampled deviations are widened by
``sqrt(n / (n − 1))``, as in :mod:`scaletime.analysis.exponent` (a plain bootstrap of a mean of
n values has (n − 1)/n of its variance). With one seed per cell there is no interval (NaN).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scaletime.analysis.exponent import ExponentFit
from scaletime.analysis.tmin import auto_thresholds, tmin_table
from scaletime.stats import bootstrap_cells, finite_or_none, majority_interval, to_jsonable
from scaletime.theory.phenomena import double_descent_strength, overfitting_time

__all__ = [
    "Estimate",
    "base_setting_columns",
    "data_concordance",
    "data_needed",
    "epoch_wise",
    "final_errors",
    "larger_is_worse",
    "model_wise",
    "noise_sensitivity",
]

#: Setting columns that are grid axes of one sweep rather than a distinct experiment.
GRID_COLUMNS = ("data_size", "label_noise", "data", "noise")


@dataclass
class Estimate:
    """A measured number with its bootstrap interval and where it comes from.

    Attributes
    ----------
    value : float
        Point estimate (NaN when it could not be measured).
    ci : tuple of float
        Percentile bootstrap interval (NaN, NaN when there is none).
    confidence : float
    where : str
        The cell or setting the number refers to, in words.
    details : dict
        Everything else measured on the way (per-size values, thresholds, ...), JSON-ready.
    """

    value: float
    ci: tuple[float, float] = (np.nan, np.nan)
    confidence: float = 0.95
    where: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def measured(self) -> bool:
        return bool(np.isfinite(self.value))

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": finite_or_none(self.value),
            "ci": [finite_or_none(self.ci[0]), finite_or_none(self.ci[1])],
            "confidence": self.confidence,
            "where": self.where,
            "details": to_jsonable(self.details),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Estimate:
        ci = data.get("ci") or [None, None]
        return cls(
            value=_float(data.get("value")),
            ci=(_float(ci[0]), _float(ci[1])),
            confidence=float(data.get("confidence", 0.95)),
            where=str(data.get("where", "")),
            details=dict(data.get("details") or {}),
        )


def _float(x: Any) -> float:
    return float("nan") if x is None else float(x)


def base_setting_columns(frame: pd.DataFrame, setting_columns: Sequence[str]) -> list[str]:
    """Setting columns other than the data-size and label-noise grid axes."""
    return [c for c in setting_columns if c not in GRID_COLUMNS and c in frame]


def _describe(columns: Sequence[str], key: Any, frame: pd.DataFrame | None = None) -> str:
    """``"label_noise=0.1, data_size=1000"``: the columns (of those that vary in ``frame``, if
    given) with this group's values; ``"all"`` if none."""
    values = key if isinstance(key, tuple) else (key,)
    pairs = list(zip(columns, values, strict=False))
    if frame is not None:
        pairs = [(c, v) for c, v in pairs if c in frame and frame[c].nunique(dropna=False) > 1]
    return (
        ", ".join(f"{c}={v:g}" if isinstance(v, float) else f"{c}={v}" for c, v in pairs) or "all"
    )


def _groups(frame: pd.DataFrame, columns: Sequence[str]) -> list[tuple[Any, pd.DataFrame]]:
    if not columns:
        return [((), frame)]
    return list(frame.groupby(list(columns), sort=True, dropna=False))


def _prefix(where: str) -> str:
    return "" if where == "all" else f"{where}: "


def final_errors(rows: pd.DataFrame) -> pd.DataFrame:
    """Each run's metric at its last checkpoint: one row per run (all non-time columns kept)."""
    last = rows.sort_values(["run", "time"]).groupby("run", sort=True).tail(1)
    return last.reset_index(drop=True)


def _ols_slope(x: np.ndarray, y: np.ndarray) -> float:
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2 or np.ptp(x[ok]) == 0:
        return np.nan
    return float(np.polyfit(x[ok], y[ok], 1)[0])


# --------------------------------------------------------------------------------------------
# phenomena


def noise_sensitivity(
    frame: pd.DataFrame,
    setting_columns: Sequence[str],
    *,
    n_boot: int = 500,
    confidence: float = 0.95,
) -> Estimate | None:
    """Label-noise sensitivity ``S(N) = (E(N, ρ) − E(N, 0)) / ρ`` at the end of training.

    The measured value is the slope of S against ``log10 N`` (least squares over the sizes),
    averaged over the noise rates ρ > 0, data sizes and settings; > 0 means larger models lose
    more per unit of label noise. None when the table has no noise-free and noisy runs.
    """
    if "noise" not in frame or frame["noise"].nunique() < 2 or not (frame["noise"] == 0).any():
        return None
    final = final_errors(frame).rename(columns={"metric": "value"})
    base = base_setting_columns(final, setting_columns)
    keys = [*base, *(["data"] if "data" in final else [])]
    cells = [*keys, "noise", "size"]

    def statistic(means: pd.Series) -> float:
        table = means.unstack("noise")
        clean = table[0.0]
        slopes = []
        for rate in [c for c in table.columns if c > 0]:
            sens = ((table[rate] - clean) / rate).dropna()
            for _, s in _series_groups(sens, keys):
                slopes.append(_ols_slope(np.log10(s.index.get_level_values("size")), s.to_numpy()))
        return float(np.nanmean(slopes)) if np.isfinite(slopes).any() else np.nan

    value, ci, _ = bootstrap_cells(final, cells, statistic, n_boot=n_boot, confidence=confidence)
    means = final.groupby(cells)["value"].mean().unstack("noise")
    per_size = {}
    for rate in [c for c in means.columns if c > 0]:
        sens = ((means[rate] - means[0.0]) / rate).groupby(level="size").mean()
        per_size[f"{rate:g}"] = {f"{k:g}": float(v) for k, v in sens.items()}
    first_last = []
    for values in per_size.values():
        v = list(values.values())
        if len(v) >= 2:
            first_last.append((v[0], v[-1]))
    return Estimate(
        value,
        ci,
        confidence,
        where="end of training; " + ", ".join(f"ρ = {r}" for r in per_size),
        details={
            "unit": "Δ error / noise rate per decade of N",
            "sensitivity_by_noise_and_size": per_size,
            "smallest_largest": first_last,
        },
    )


def _series_groups(series: pd.Series, keys: Sequence[str]) -> list[tuple[Any, pd.Series]]:
    if not keys:
        return [((), series)]
    return list(series.groupby(level=list(keys)))


def crossing_thresholds(
    curves: pd.DataFrame, n_thresholds: int = 3, min_sizes: int = 2
) -> np.ndarray:
    """Thresholds that at least ``min_sizes`` sizes *cross* (start above, end at or below).

    Each size's range runs from its seed-median metric at the first "time" (here: the smallest
    data size) to its seed-median best. Candidates are 200 log-spaced levels over the observed
    metric; of those crossed by the most sizes (at least ``min_sizes``), ``n_thresholds`` are
    taken evenly in log. Falls back to :func:`scaletime.analysis.auto_thresholds` when no level
    is crossed by ``min_sizes`` sizes.
    """
    ordered = curves.loc[curves["time"] > 0].sort_values(["run", "time"])
    per_run = ordered.groupby("run").agg(
        size=("size", "first"), first=("metric", "first"), best=("metric", "min")
    )
    per_size = per_run.groupby("size")[["first", "best"]].median()
    low, high = float(per_size["best"].min()), float(per_size["first"].max())
    if not (low > 0 and high > low):
        return auto_thresholds(curves, n_thresholds, min_sizes=min_sizes)
    levels = np.geomspace(low, high, 200)[1:-1]
    crossed = np.array([((per_size["best"] <= e) & (per_size["first"] > e)).sum() for e in levels])
    if crossed.max() < min_sizes:
        return auto_thresholds(curves, n_thresholds, min_sizes=min_sizes)
    good = levels[crossed >= max(min_sizes, crossed.max() - 1)]
    picks = good[np.unique(np.linspace(0, good.size - 1, n_thresholds).round().astype(int))]
    return np.array([float(f"{x:.4g}") for x in picks[::-1]])


def data_needed(
    frame: pd.DataFrame,
    setting_columns: Sequence[str],
    *,
    n_thresholds: int = 3,
    n_boot: int = 500,
    confidence: float = 0.95,
    random_state: int = 0,
) -> Estimate | None:
    """Training examples needed to reach an error threshold, against model size.

    The final error of each (width, seed) is a curve over the data sizes; the "time" of the
    t_min machinery becomes the data size: ``n_needed`` is the first data size at which the
    curve reaches the threshold (log-interpolated), and ``n_needed ∝ N^(−γ_data)`` is fitted with
    :class:`scaletime.analysis.ExponentFit` (seed bootstrap, thresholds from
    :func:`scaletime.analysis.auto_thresholds`). γ_data > 0: larger models need less data.
    None when there are fewer than two data sizes. Only the first base setting is measured when
    a table holds several (the others are listed in ``details``).
    """
    if "data" not in frame or frame["data"].nunique() < 2:
        return None
    final = final_errors(frame)
    base = base_setting_columns(final, setting_columns)
    noise_free = final.loc[final["noise"] == final["noise"].min()] if "noise" in final else final
    groups = _groups(noise_free, base)
    key, rows = groups[0]
    curves = pd.DataFrame(
        {
            "run": rows["width"].astype(str) + "|" + rows["seed"].astype(str),
            "size": rows["size"],
            "time": rows["data"],
            "metric": rows["metric"],
            "seed": rows["seed"],
            "width": rows["width"],
        }
    )
    ladder = crossing_thresholds(curves, n_thresholds)
    table = tmin_table(curves, ladder)
    needed = (
        table.loc[table["status"] == "reached"]
        .groupby(["threshold", "size"])["t_min"]
        .apply(lambda t: float(np.exp(np.mean(np.log(t)))))
    )
    details: dict[str, Any] = {
        "thresholds": ladder.tolist(),
        "data_sizes": sorted(float(d) for d in rows["data"].unique()),
        "needed": {
            f"{thr:.4g}": {f"{s:g}": float(v) for s, v in g.droplevel(0).items()}
            for thr, g in needed.groupby(level=0)
        },
        "not_reached": int((table["status"] == "not_reached").sum()),
        "before_first": int((table["status"] == "before_first").sum()),
        "other_settings": [_describe(base, k, noise_free) for k, _ in groups[1:]],
    }
    where = _describe(base, key, noise_free)
    if not (table["status"] == "reached").any() or table["size"].nunique() < 2:
        return Estimate(np.nan, where=where, details=details)
    fit = ExponentFit("size", n_boot, confidence, random_state).fit(table)
    details.update(
        r2=fit.r2_,
        n_sizes=fit.n_sizes_,
        per_threshold=fit.per_threshold_.to_dict(orient="records"),
    )
    details["intercepts"] = {f"{k:.4g}": v for k, v in fit.intercepts_.items()}
    return Estimate(fit.gamma_, fit.ci_, confidence, where=where, details=details)


def _needed_status(data: np.ndarray, errors: np.ndarray, threshold: float) -> tuple[float, int]:
    """(log n_needed, status) for one size: status −1 before the first n, +1 never, 0 reached."""
    from scaletime.analysis import crossing_time

    t, status = crossing_time(data, errors, threshold)
    if status == "before_first":
        return np.nan, -1
    if status == "not_reached":
        return np.nan, 1
    return float(np.log(t)), 0


def _concordance(curves: dict[float, tuple[np.ndarray, np.ndarray]], thresholds: np.ndarray):
    """(concordant, discordant) size pairs over thresholds: does the larger need fewer examples?"""
    sizes = sorted(curves)
    conc = disc = 0
    for threshold in thresholds:
        needed = [_needed_status(*curves[s], threshold) for s in sizes]
        for i in range(len(sizes)):
            for j in range(i + 1, len(sizes)):
                (ls, ss), (ll, sl) = needed[i], needed[j]  # smaller, larger
                if ss == sl != 0:
                    continue  # both censored on the same side: not comparable
                if ss == 0 and sl == 0:
                    if ll < ls:
                        conc += 1
                    elif ll > ls:
                        disc += 1
                    continue
                # at least one censored: order by (before first < reached < never)
                key_s = (ss, ls if ss == 0 else 0.0)
                key_l = (sl, ll if sl == 0 else 0.0)
                if key_l < key_s:
                    conc += 1
                elif key_l > key_s:
                    disc += 1
    return conc, disc


def data_concordance(
    frame: pd.DataFrame,
    setting_columns: Sequence[str],
    *,
    n_thresholds: int = 5,
    n_boot: int = 500,
    confidence: float = 0.95,
    random_state: int = 0,
) -> Estimate | None:
    """How often a larger model needs fewer training examples, censoring included.

    For each size, the seed-mean final error over the data sizes is a curve; for each threshold
    (``n_thresholds`` log-spaced levels strictly between the lowest and highest seed-mean final
    error) the examples needed are read off it (log-interpolated), or the curve is *censored*:
    already below the threshold at the smallest n, or never reaching it. Every pair of sizes
    (smaller, larger) is compared per threshold — a censored size is ordered by its censoring
    (below at the smallest n < reached < never) and two sizes censored on the same side are not
    comparable. The value is the concordance: concordant / (concordant + discordant) pairs, 1 when
    a larger model always needs fewer examples, 0.5 for no relation (Harrell's C with censoring).
    The interval resamples seeds. None with fewer than two data sizes or two model sizes.
    """
    if "data" not in frame or frame["data"].nunique() < 2 or frame["size"].nunique() < 2:
        return None
    final = final_errors(frame).rename(columns={"metric": "value"})
    if "noise" in final:
        final = final.loc[final["noise"] == final["noise"].min()]
    base = base_setting_columns(final, setting_columns)
    groups = _groups(final, base)
    key, rows = groups[0]
    means = rows.groupby(["size", "data"])["value"].mean()
    low, high = float(means.min()), float(means.max())
    if not (low > 0 and high > low):
        return Estimate(np.nan, where="final errors do not vary")
    thresholds = np.geomspace(low, high, n_thresholds + 2)[1:-1]

    def statistic(cell_means: pd.Series) -> float:
        curves = {
            float(size): (g.index.get_level_values("data").to_numpy(float), g.to_numpy(float))
            for size, g in cell_means.groupby(level="size")
        }
        conc, disc = _concordance(curves, thresholds)
        return conc / (conc + disc) if conc + disc else np.nan

    value, ci, _ = bootstrap_cells(
        rows,
        ["size", "data"],
        statistic,
        n_boot=n_boot,
        confidence=confidence,
        random_state=random_state,
    )
    curves = {
        float(size): (g.index.get_level_values("data").to_numpy(float), g.to_numpy(float))
        for size, g in means.groupby(level="size")
    }
    conc, disc = _concordance(curves, thresholds)
    return Estimate(
        value,
        ci,
        confidence,
        where=_describe(base, key, final),
        details={
            "thresholds": [float(f"{x:.4g}") for x in thresholds],
            "concordant": conc,
            "discordant": disc,
            "data_sizes": sorted(float(d) for d in rows["data"].unique()),
        },
    )


def larger_is_worse(
    frame: pd.DataFrame,
    setting_columns: Sequence[str],
    *,
    n_boot: int = 500,
    confidence: float = 0.95,
    random_state: int = 0,
) -> Estimate | None:
    """The largest relative harm of a larger model at the end of training.

    Within each setting (all setting columns, including data size and noise), for every pair of
    sizes N_a < N_b the harm is ``E(N_b) / E(N_a) − 1`` on seed-mean final errors. The value is
    the largest harm over all pairs and settings (≤ 0: larger was never worse); its interval is
    the seed bootstrap of *that* pair's harm. None with fewer than two sizes.
    """
    final = final_errors(frame).rename(columns={"metric": "value"})
    columns = [c for c in setting_columns if c in final]
    best: tuple[float, Any, float, float, pd.DataFrame] | None = None
    n_pairs = 0
    for key, rows in _groups(final, columns):
        means = rows.groupby("size")["value"].mean()
        sizes = means.index.to_numpy(float)
        values = means.to_numpy(float)
        for i in range(len(sizes)):
            for j in range(i + 1, len(sizes)):
                n_pairs += 1
                harm = values[j] / values[i] - 1.0
                if best is None or harm > best[0]:
                    best = (harm, key, sizes[i], sizes[j], rows)
    if best is None:
        return None
    harm, key, small, large, rows = best
    pair = rows.loc[rows["size"].isin([small, large])]

    def statistic(means: pd.Series) -> float:
        return float(means.loc[large] / means.loc[small] - 1.0)

    value, ci, _ = bootstrap_cells(
        pair, ["size"], statistic, n_boot=n_boot, confidence=confidence, random_state=random_state
    )
    widths = rows.groupby("size")["width"].first()
    return Estimate(
        value,
        ci,
        confidence,
        where=(
            f"{_prefix(_describe(columns, key, final))}width {widths.loc[small]:g} → {widths.loc[large]:g} "
            f"(N = {small:,.0f} → {large:,.0f})"
        ),
        details={
            "small_size": small,
            "large_size": large,
            "small_width": float(widths.loc[small]),
            "large_width": float(widths.loc[large]),
            "n_pairs": n_pairs,
            "setting": _describe(columns, key, final),
        },
    )


def _mean_curve(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times (> 0), the per-run matrix and its seed mean for one size, over the runs that
    have every checkpoint (a diverged run stops early and is left out)."""
    wide = rows.loc[rows["time"] > 0].pivot_table(index="run", columns="time", values="metric")
    matrix = wide.to_numpy(float)
    matrix = matrix[np.isfinite(matrix).all(axis=1)]
    if matrix.shape[0] == 0:
        return np.empty(0), matrix, np.empty(0)
    return wide.columns.to_numpy(float), matrix, matrix.mean(axis=0)


def _rise(curve: np.ndarray) -> float:
    low = int(np.argmin(curve))
    return float(np.max(curve[low:]) / curve[low] - 1.0)


@dataclass
class EpochWise:
    """Epoch-wise double descent in one setting (see :func:`epoch_wise`).

    Attributes
    ----------
    setting : str
    noise : float
    per_size : DataFrame
        ``size, width, rise, rise_low, rise_high, t_best, t_overfit``.
    gamma_overfit : Estimate
        Exponent of ``t_overfit ∝ N^(−γ)`` over the sizes whose curves rise.
    """

    setting: str
    noise: float
    per_size: pd.DataFrame
    gamma_overfit: Estimate
    rows: pd.DataFrame | None = field(default=None, repr=False)
    values: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "setting": self.setting,
            "values": to_jsonable(self.values),
            "noise": self.noise,
            "per_size": to_jsonable(self.per_size.to_dict(orient="records")),
            "gamma_overfit": self.gamma_overfit.to_dict(),
        }


def epoch_wise(
    frame: pd.DataFrame,
    setting_columns: Sequence[str],
    *,
    min_rise: float = 0.02,
    n_boot: int = 300,
    confidence: float = 0.95,
    random_state: int = 0,
) -> list[EpochWise]:
    """Epoch-wise double descent per setting: does each size's mean curve rise after its minimum?

    For each size: ``rise = max_{t > t_best} E(t) / E(t_best) − 1`` of the seed-mean curve (its
    interval from resampled seeds), and the overfitting time ``t_overfit`` (the time the curve,
    after its minimum, first climbs halfway to its later maximum;
    :func:`scaletime.theory.phenomena.overfitting_time`). Over the sizes whose rise is at least
    ``min_rise``, ``log t_overfit = c − γ log N`` is fitted by least squares, its interval by
    resampling seeds. Scale-time equivalence predicts γ equal to the t_min exponent: the same
    overfitting, reached sooner by larger models.
    """
    rng = np.random.default_rng(random_state)
    out = []
    columns = [c for c in setting_columns if c in frame]
    for key, rows in _groups(frame, columns):
        records = []
        boot_times: list[np.ndarray] = []
        for size, by_size in rows.groupby("size", sort=True):
            times, matrix, mean = _mean_curve(by_size)
            if times.size < 3:
                continue
            n = matrix.shape[0]
            rises, overfits = np.full(n_boot, np.nan), np.full(n_boot, np.nan)
            if n >= 2:
                for b in range(n_boot):
                    sample = matrix[rng.integers(0, n, n)].mean(axis=0)
                    rises[b] = _rise(sample)
                    overfits[b] = overfitting_time(times, sample)
            rise = _rise(mean)
            low, high = (
                majority_interval(
                    rise + np.sqrt(n / max(n - 1, 1)) * (rises - np.nanmean(rises)), confidence
                )
                if n >= 2
                else (np.nan, np.nan)
            )
            records.append(
                {
                    "size": float(size),
                    "width": float(by_size["width"].iloc[0]),
                    "rise": rise,
                    "rise_low": low,
                    "rise_high": high,
                    "t_best": float(times[int(np.nanargmin(mean))]),
                    "t_overfit": overfitting_time(times, mean),
                }
            )
            boot_times.append(overfits)
        if not records:
            continue
        per_size = pd.DataFrame.from_records(records)
        use = (per_size["rise"] >= min_rise) & np.isfinite(per_size["t_overfit"])
        x = np.log(per_size["size"].to_numpy(float))
        gamma = -_ols_slope(x[use], np.log(per_size["t_overfit"].to_numpy(float))[use])
        draws = np.full(n_boot, np.nan)
        if use.sum() >= 2:
            logt = np.log(np.stack(boot_times))  # (sizes, boot)
            draws = np.array([-_ols_slope(x[use], logt[use.to_numpy(), b]) for b in range(n_boot)])
        noise = float(rows["noise"].iloc[0]) if "noise" in rows else 0.0
        estimate = Estimate(
            gamma,
            majority_interval(draws, confidence),
            confidence,
            where=_describe(columns, key, frame),
            details={"n_rising": int(use.sum()), "min_rise": min_rise},
        )
        values = dict(zip(columns, key if isinstance(key, tuple) else (key,), strict=False))
        out.append(
            EpochWise(_describe(columns, key, frame), noise, per_size, estimate, rows, values)
        )
    return out


def model_wise(
    frame: pd.DataFrame,
    setting_columns: Sequence[str],
    *,
    n_boot: int = 300,
    confidence: float = 0.95,
    random_state: int = 0,
) -> list[Estimate]:
    """Model-wise double-descent strength of the final error against N, per setting.

    :func:`scaletime.theory.phenomena.double_descent_strength` of the seed-mean final errors in
    order of N: the smallest of the three relative moves (descent, ascent, descent) of the best
    such pattern; 0 for a monotone or single-U curve. Needs at least four sizes.
    """
    final = final_errors(frame).rename(columns={"metric": "value"})
    columns = [c for c in setting_columns if c in final]
    out = []
    for key, rows in _groups(final, columns):
        if rows["size"].nunique() < 4:
            continue

        def statistic(means: pd.Series) -> float:
            return double_descent_strength(means.sort_index().to_numpy(float))

        value, ci, _ = bootstrap_cells(
            rows,
            ["size"],
            statistic,
            n_boot=n_boot,
            confidence=confidence,
            random_state=random_state,
        )
        out.append(Estimate(value, ci, confidence, where=_describe(columns, key, final)))
    return out
