"""Figures drawn from a sweep's tidy table (``docs/architecture.md``).

Each function takes the tidy table (and what the analysis computed), returns a matplotlib
``Figure``, and draws only measured numbers. Widths share one colour scale (viridis on log width);
axes are logarithmic where the quantity spans decades.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

if TYPE_CHECKING:  # only for annotations: the figures take what these modules computed
    from scaletime.analysis import SettingAnalysis, SizeCurves
    from scaletime.analysis.phenomena import EpochWise, Estimate
    from scaletime.fitting.splits import FittedLaw, LawEvaluation

plt.rcParams.update(
    {
        "figure.dpi": 110,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 9,
    }
)


def width_colors(
    widths: Sequence[float] | np.ndarray,
) -> tuple[LogNorm, matplotlib.colors.Colormap]:
    """One colour scale for width across every figure (log-spaced, viridis)."""
    lo, hi = float(min(widths)), float(max(widths))
    norm = LogNorm(vmin=lo, vmax=max(hi, lo * 1.0001))
    # the colour bar is ticked at these; an extra attribute, read back with getattr
    norm.widths = sorted({float(w) for w in widths})  # type: ignore[attr-defined]
    return norm, plt.get_cmap("viridis")


#: Widths labelled on a width colour bar (the paper's, and the CNN multipliers).
WIDTH_TICKS = (1, 2, 4, 5, 8, 10, 16, 20, 50, 100, 200, 500, 1000)


def _colorbar(
    fig: Figure, ax: plt.Axes, norm: LogNorm, cmap: matplotlib.colors.Colormap, label: str
) -> None:
    """A colour bar for the width scale, ticked at the widths drawn (or usual ones if many)."""
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    cbar = fig.colorbar(sm, ax=ax, label=label, pad=0.01)
    ticks = getattr(norm, "widths", [])
    if not 2 <= len(ticks) <= 10:
        vmin, vmax = norm.vmin, norm.vmax
        assert vmin is not None and vmax is not None  # width_colors sets both
        ticks = [t for t in WIDTH_TICKS if vmin * 0.999 <= t <= vmax * 1.001]
    if len(ticks) >= 2:
        cbar.set_ticks(ticks, labels=[f"{t:g}" for t in ticks])
        cbar.minorticks_off()


def _log_x(ax: plt.Axes) -> None:
    """Log x axis labelled at decades only (minor labels crowd narrow ranges)."""
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def learning_curves(
    df: pd.DataFrame, metric: str = "test_error", time: str = "epoch", by: str | None = None
) -> Figure:
    """Mean ± seed range of ``metric`` against training time, one line per width.

    One panel per value of ``by`` (e.g. ``label_noise`` or ``data_size``) when given.
    """
    d = df[(df[time] > 0) & ~df["diverged"]]
    panels = sorted(d[by].unique()) if by else [None]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels) + 0.8, 3.4), squeeze=False)
    norm, cmap = width_colors(d["width"].unique())
    for ax, val in zip(axes[0], panels, strict=True):
        sub = d if val is None else d[d[by] == val]
        for w, g in sub.groupby("width"):
            stats = g.groupby(time)[metric].agg(["mean", "min", "max"])
            c = cmap(norm(w))
            ax.plot(stats.index, stats["mean"], color=c, lw=1.4)
            ax.fill_between(stats.index, stats["min"], stats["max"], color=c, alpha=0.2, lw=0)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(time.replace("_", " "))
        ax.set_ylabel(metric.replace("_", " "))
        if val is not None:
            assert by is not None  # panels are values of ``by`` when it is given
            ax.set_title(f"{by.replace('_', ' ')} = {val:g}")
    _colorbar(fig, axes[0, -1], norm, cmap, "width")
    fig.tight_layout()
    return fig


def final_vs_width(df: pd.DataFrame, metric: str = "test_error", by: str = "label_noise") -> Figure:
    """Model-wise curve: ``metric`` at several fixed times against width (one line per time).

    Shows model-wise double descent when it is there, and whether larger is always better.
    """
    d = df[~df["diverged"]]
    times = np.sort(d["epoch"].unique())
    times = times[times > 0]
    picks = times[np.unique(np.linspace(0, len(times) - 1, 4).round().astype(int))]
    panels = sorted(d[by].unique())
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.3), squeeze=False)
    tcmap = plt.get_cmap("plasma")
    for ax, val in zip(axes[0], panels, strict=True):
        sub = d[d[by] == val]
        for i, t in enumerate(picks):
            g = sub[np.isclose(sub["epoch"], t)].groupby("n_params")[metric].agg(["mean", "std"])
            ax.errorbar(
                g.index,
                g["mean"],
                yerr=g["std"].fillna(0),
                marker="o",
                ms=3,
                lw=1.2,
                color=tcmap(i / max(1, len(picks) - 1) * 0.85),
                label=f"epoch {t:.3g}",
            )
        _log_x(ax)
        ax.set_xlabel("parameters N")
        ax.set_ylabel(metric.replace("_", " "))
        ax.set_title(f"{by.replace('_', ' ')} = {val:g}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def versus_data(df: pd.DataFrame, metric: str = "test_error") -> Figure:
    """Sample-wise curve: best and final ``metric`` against training-set size, one line per width."""
    d = df[~df["diverged"]]
    last = d[d["epoch"] == d["epoch"].max()]
    norm, cmap = width_colors(d["width"].unique())
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.3))
    for ax, (title, frame) in zip(
        axes, [("at the end of training", last), ("best over training", d)], strict=True
    ):
        agg = "mean" if frame is last else "min"
        for w, g in frame.groupby("width"):
            per_run = g.groupby(["data_size", "seed"])[metric].agg(agg).groupby("data_size").mean()
            ax.plot(per_run.index, per_run.values, marker="o", ms=3, color=cmap(norm(w)))
        _log_x(ax)
        ax.set_yscale("log")
        ax.set_xlabel("training examples n")
        ax.set_ylabel(metric.replace("_", " "))
        ax.set_title(title)
    _colorbar(fig, axes[-1], norm, cmap, "width")
    fig.tight_layout()
    return fig


def noise_sensitivity(df: pd.DataFrame, metric: str = "test_error") -> Figure:
    """Increase of final ``metric`` per unit of label noise, against model size."""
    d = df[~df["diverged"]]
    last = d[d["epoch"] == d["epoch"].max()]
    fig, ax = plt.subplots(figsize=(4.6, 3.3))
    for n, g in last.groupby("data_size"):
        m = g.groupby(["n_params", "label_noise"])[metric].mean().unstack()
        base = m[m.columns.min()]
        for noise in m.columns[m.columns > m.columns.min()]:
            ax.plot(
                m.index,
                (m[noise] - base) / noise,
                marker="o",
                ms=3,
                label=f"n={n}, noise {noise:g}",
            )
    _log_x(ax)
    ax.set_xlabel("parameters N")
    ax.set_ylabel(f"Δ {metric.replace('_', ' ')} / noise rate")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def to_png(fig: Figure, dpi: float | None = None) -> bytes:
    """Render and close ``fig`` (at ``dpi``, default the figure's)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


# ============================================================================================
# Figures drawn from the analysis (scaletime.analysis), the measured phenomena
# (scaletime.analysis.phenomena) and the held-out law fits (scaletime.fitting.splits).

THRESHOLD_CMAP = "plasma"


def _log_if_decades(
    ax: plt.Axes, values: np.ndarray, axis: str = "y", decades: float = 1.0
) -> None:
    """Log scale on ``axis`` when the positive ``values`` span at least ``decades`` decades."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size and np.log10(v.max() / v.min()) >= decades:
        (ax.set_yscale if axis == "y" else ax.set_xscale)("log")


def _threshold_colors(n: int) -> list:
    cmap = plt.get_cmap(THRESHOLD_CMAP)
    return [cmap(0.05 + 0.8 * i / max(1, n - 1)) for i in range(n)]


def tmin_vs_scale(setting: SettingAnalysis, title: str = "") -> Figure:
    """The paper's Figure 1: t_min against the effective scale p = N^(1/3), log–log.

    One colour per threshold: geometric mean over seeds with its 95% interval, the fitted
    pooled line (slope −γ_p, shared by all thresholds), and a grey dashed slope −1 reference
    through each threshold's points (the paper's t_min ∝ 1/p). Hollow markers: sizes where at
    most half the seeds reached the threshold (left out of the fit).
    """
    summary = setting.tmin_summary
    fit = setting.exponents.get("p")
    fig, ax = plt.subplots(figsize=(5.6, 4.0))
    thresholds = list(setting.thresholds)
    colors = _threshold_colors(len(thresholds))
    for threshold, color in zip(thresholds, colors, strict=True):
        rows = summary.loc[np.isclose(summary["threshold"], threshold)] if len(summary) else summary
        rows = rows.loc[rows["n_reached"] > 0] if len(rows) else rows
        if rows.empty:
            continue
        p = rows["size"].to_numpy(float) ** (1 / 3)
        t = rows["t_min"].to_numpy(float)
        majority = (2 * rows["n_reached"] > rows["n_runs"]).to_numpy()
        lo = np.where(np.isfinite(rows["ci_low"]), t - rows["ci_low"], 0.0)
        hi = np.where(np.isfinite(rows["ci_high"]), rows["ci_high"] - t, 0.0)
        ax.errorbar(p, t, yerr=[lo, hi], fmt="none", ecolor=color, elinewidth=1, capsize=2)
        ax.scatter(
            p[majority], t[majority], color=color, s=22, zorder=3, label=f"E ≤ {threshold:.3g}"
        )
        ax.scatter(p[~majority], t[~majority], facecolors="none", edgecolors=color, s=22, zorder=3)
        if majority.sum() >= 1:
            gx = np.exp(np.mean(np.log(p[majority])))
            gy = np.exp(np.mean(np.log(t[majority])))
            ref = np.geomspace(p.min(), p.max(), 20)
            ax.plot(ref, gy * gx / ref, color="0.55", ls=":", lw=1)
        if fit is not None and float(threshold) in fit.intercepts_ and majority.sum() >= 2:
            line = np.geomspace(p[majority].min(), p[majority].max(), 20)
            ax.plot(line, fit.predict(line, float(threshold)), color=color, lw=1.3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("effective scale p = N^(1/3)")
    ax.set_ylabel("t_min (epochs to reach the threshold)")
    if fit is not None and np.isfinite(fit.gamma_):
        head = (
            f"fitted slope −{fit.gamma_:.2f} [{fit.ci_[0]:.2f}, {fit.ci_[1]:.2f}], "
            f"R² = {fit.r2_:.2f}; dotted: slope −1"
        )
    else:
        head = "no exponent fitted; dotted: slope −1"
    ax.set_title((title + "\n" if title else "") + head, fontsize=8.5)
    ax.legend(fontsize=7, title="threshold", title_fontsize=7)
    fig.tight_layout()
    return fig


def _size_curves(setting: SettingAnalysis) -> list[SizeCurves]:
    from scaletime.analysis import size_curves

    return size_curves(setting.rows)


def prediction_curves(setting: SettingAnalysis, title: str = "") -> Figure:
    """Predicted (dashed) vs actual (solid) curves in both directions, with the noise floor.

    Left: the largest model predicted from each smaller one read at t·(N_L/N_S)^γ; right: the
    smallest predicted from each larger one. The grey band is the target's seed mean ± one
    seed standard deviation; each label gives the pair's RMSLE in units of the seed noise floor.
    """
    curves = _size_curves(setting)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    if len(curves) < 2:
        for ax in axes:
            ax.text(0.5, 0.5, "fewer than two sizes", ha="center", transform=ax.transAxes)
        return fig
    norm, cmap = width_colors([c.width for c in curves])
    targets = {"small_to_large": curves[-1], "large_to_small": curves[0]}
    values: list[np.ndarray] = []
    for ax, (direction, target) in zip(axes, targets.items(), strict=True):
        sd = np.sqrt(np.nan_to_num(target.variance))
        ax.fill_between(
            target.time,
            target.mean - sd,
            target.mean + sd,
            color="0.6",
            alpha=0.35,
            lw=0,
            label="actual ± 1 seed s.d.",
        )
        ax.plot(
            target.time, target.mean, color="black", lw=1.8, label=f"actual, width {target.width:g}"
        )
        values.append(target.mean)
        for p in setting.predictions:
            if p.target_size != target.size or p.direction != direction or p.time.size == 0:
                continue
            ratio = f"{p.ratio:.1f}× floor" if np.isfinite(p.ratio) else "no floor"
            ax.plot(
                p.time,
                p.predicted,
                ls="--",
                lw=1.3,
                color=cmap(norm(p.source_width)),
                label=f"from width {p.source_width:g}: {ratio}",
            )
            values.append(p.predicted)
        ax.set_xscale("log")
        ax.set_xlabel("epoch")
        arrow = "small → large" if direction == "small_to_large" else "large → small"
        ax.set_title(f"{arrow}: predicting width {target.width:g}", fontsize=9)
        ax.legend(fontsize=6.5)
    _log_if_decades(axes[0], np.concatenate(values))
    axes[0].set_ylabel(setting.rows.attrs.get("metric", "test error"))
    gamma = setting.predictions[0].gamma if setting.predictions else np.nan
    fig.suptitle((title + " — " if title else "") + f"predictor γ = {gamma:.3g} on N", fontsize=9)
    fig.tight_layout()
    return fig


def prediction_matrix(setting: SettingAnalysis, title: str = "") -> Figure:
    """Every pair's prediction error in noise floors (RMSLE / floor RMSLE): rows are the source
    width, columns the target; green ≤ the tolerance, red beyond it. Blank: undecided."""
    from matplotlib.colors import TwoSlopeNorm

    preds = setting.predictions
    widths = sorted({p.source_width for p in preds} | {p.target_width for p in preds})
    index = {w: i for i, w in enumerate(widths)}
    grid = np.full((len(widths), len(widths)), np.nan)
    for p in preds:
        grid[index[p.source_width], index[p.target_width]] = p.ratio
    tol = preds[0].tolerance if preds else 2.0
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * len(widths) + 1.2, 0.8 + 0.5 * len(widths) + 0.6))
    finite = grid[np.isfinite(grid)]
    top = max(np.log10(tol) + 0.3, float(np.log10(finite.max())) if finite.size else 1.0)
    bottom = min(np.log10(tol) - 0.3, float(np.log10(finite.min())) if finite.size else 0.0)
    norm = TwoSlopeNorm(vmin=bottom, vcenter=np.log10(tol), vmax=top)
    with np.errstate(divide="ignore", invalid="ignore"):
        im = ax.imshow(np.log10(grid), cmap="RdYlGn_r", norm=norm, origin="lower")
    for (i, j), v in np.ndenumerate(grid):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(widths)), [f"{w:g}" for w in widths])
    ax.set_yticks(range(len(widths)), [f"{w:g}" for w in widths])
    ax.set_xlabel("target width (predicted)")
    ax.set_ylabel("source width (read)")
    ax.grid(False)
    cbar = fig.colorbar(im, ax=ax, pad=0.02)
    cbar.set_label("RMSLE / noise floor (log scale)")
    ratios = [r for r in (0.5, 1, 2, 5, 10, 20, 50, 100) if bottom <= np.log10(r) <= top]
    cbar.set_ticks([np.log10(r) for r in ratios], labels=[f"{r:g}×" for r in ratios])
    ax.set_title((title + "\n" if title else "") + f"tolerance {tol:g}× the floor", fontsize=8.5)
    fig.tight_layout()
    return fig


def collapse_plot(setting: SettingAnalysis, title: str = "") -> Figure:
    """Seed-mean curves against the effective time N^γ·t: at the best-collapse γ (left) and at
    the paper's γ = 1/3 (right). Titles give the residual in units of the seed spread."""
    curves = _size_curves(setting)
    fits = []
    if setting.collapse is not None:
        fits.append(("best collapse", setting.collapse.gamma_, setting.collapse.score_))
    if "paper" in setting.collapse_at:
        fits.append(("paper", setting.collapse_at["paper"].gamma, setting.collapse_at["paper"]))
    fig, axes = plt.subplots(
        1,
        max(1, len(fits)),
        figsize=(4.6 * max(1, len(fits)) + 0.6, 3.5),
        squeeze=False,
        sharey=True,
    )
    if not curves:
        return fig
    norm, cmap = width_colors([c.width for c in curves])
    allv = np.concatenate([c.mean for c in curves])
    for ax, (name, gamma, score) in zip(axes[0], fits, strict=False):
        for c in curves:
            ax.plot(c.time * c.size**gamma, c.mean, color=cmap(norm(c.width)), lw=1.4)
        ax.set_xscale("log")
        _log_if_decades(ax, allv)
        ax.set_xlabel(f"N^γ · epoch   (γ = {gamma:.3f})")
        ratio = f"{score.ratio:.2f}× seed spread" if np.isfinite(score.ratio) else "no seed spread"
        ax.set_title(f"{name}: residual {score.residual:.3g} ({ratio})", fontsize=8.5)
    axes[0, 0].set_ylabel("test error (seed mean)")
    _colorbar(fig, axes[0, -1], norm, cmap, "width")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def law_frame_shown(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows a law figure draws: one label-noise rate (the smallest) and one data size (the
    largest), so that each width is one curve."""
    if "noise" in frame and frame["noise"].nunique() > 1:
        frame = frame.loc[frame["noise"] == frame["noise"].min()]
    if "data" in frame and frame["data"].nunique() > 1:
        frame = frame.loc[frame["data"] == frame["data"].max()]
    return frame


def _law_panel(
    ax: plt.Axes,
    rax: plt.Axes,
    fitted: FittedLaw,
    axis: str,
    threshold: float,
    norm: LogNorm,
    cmap: matplotlib.colors.Colormap,
) -> None:
    """One law against the data (``ax``) and its log residuals (``rax``)."""
    frame = law_frame_shown(fitted.frame)
    for w, g in frame.groupby("width"):
        color = cmap(norm(w))
        obs = g.groupby("time")["metric"].mean()
        held = g.groupby("time")["held_out"].first()
        pred = g.groupby("time")["predicted"].mean()
        ax.scatter(obs.index, obs.values, s=9, color=color, zorder=3)
        fitted_part = pred.where(~held)
        held_part = pred.where(held)
        ax.plot(fitted_part.index, fitted_part.values, color=color, lw=1.2)
        ax.plot(held_part.index, held_part.values, color=color, lw=1.6, ls="--")
        with np.errstate(all="ignore"):
            res = np.log(g["metric"].to_numpy(float)) - np.log(g["predicted"].to_numpy(float))
        marker = np.where(g["held_out"].to_numpy(), "x", "o")
        for m in ("o", "x"):
            sel = marker == m
            rax.scatter(
                g["time"].to_numpy(float)[sel],
                res[sel],
                s=8 if m == "o" else 14,
                color=color,
                marker=m,
                alpha=0.8,
            )
    if axis == "time" and np.isfinite(threshold):
        for a in (ax, rax):
            a.axvspan(threshold, frame["time"].max() * 1.05, color="0.85", alpha=0.5, lw=0)
    rax.axhline(0, color="black", lw=0.8)
    ax.set_xscale("log")
    rax.set_xscale("log")
    _log_if_decades(ax, frame["metric"].to_numpy(float), decades=0.5)
    rax.set_xlabel("epoch")
    rax.set_ylabel("log(actual / law)")


def law_vs_data(evaluation: LawEvaluation, title: str = "") -> Figure:
    """The unified law (left) and the best multi-variable alternative (right) against the data.

    Top: seed-mean measurements (dots) and the law's prediction, solid where it was fitted and
    dashed where it predicts held-out rows; bottom: log residuals of every run (o fitted,
    x held out). Colour: width.
    """
    panels = [f for f in (evaluation.unified, evaluation.baseline) if f is not None]
    fig, axes = plt.subplots(
        2,
        max(1, len(panels)),
        figsize=(5.0 * max(1, len(panels)) + 0.6, 5.2),
        squeeze=False,
        sharex="col",
        gridspec_kw={"height_ratios": [2.2, 1]},
    )
    if not panels:
        axes[0, 0].text(
            0.5, 0.5, "no law could be fitted", ha="center", transform=axes[0, 0].transAxes
        )
        return fig
    widths = np.concatenate([f.frame["width"].to_numpy(float) for f in panels])
    norm, cmap = width_colors(np.unique(widths))
    for col, fitted in enumerate(panels):
        _law_panel(
            axes[0, col], axes[1, col], fitted, evaluation.axis, evaluation.threshold, norm, cmap
        )
        rms = fitted.held_out_rmsle()
        axes[0, col].set_title(
            f"{fitted.law}: held-out RMSLE {rms:.3g} (all held-out rows)", fontsize=9
        )
    axes[0, 0].set_ylabel("test error")
    _colorbar(fig, axes[0, -1], norm, cmap, "width")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def epoch_wise_plot(
    rows_by_setting: list[tuple[str, pd.DataFrame]], results: list[EpochWise]
) -> Figure:
    """Seed-mean test error against epoch per width, one panel per setting (at most four), with
    each curve's minimum (●) and overfitting time (▲): epoch-wise double descent, if any."""
    pairs = list(zip(rows_by_setting, results, strict=True))[:4]
    fig, axes = plt.subplots(
        1,
        max(1, len(pairs)),
        figsize=(4.3 * max(1, len(pairs)) + 0.6, 3.5),
        squeeze=False,
        sharey=True,
    )
    allw = np.concatenate([r["width"].unique() for (_, r), _ in pairs]) if pairs else np.ones(1)
    norm, cmap = width_colors(allw)
    for ax, ((label, rows), res) in zip(axes[0], pairs, strict=False):
        d = rows.loc[rows["time"] > 0]
        for w, g in d.groupby("width"):
            m = g.groupby("time")["metric"].mean()
            ax.plot(m.index, m.values, color=cmap(norm(w)), lw=1.3)
        for _, r in res.per_size.iterrows():
            g = d.loc[d["width"] == r["width"]].groupby("time")["metric"].mean()
            color = cmap(norm(r["width"]))
            ax.scatter([r["t_best"]], [g.loc[r["t_best"]]], color=color, s=18, zorder=4)
            if np.isfinite(r["t_overfit"]):
                y = np.interp(np.log(r["t_overfit"]), np.log(g.index.to_numpy(float)), g.to_numpy())
                ax.scatter(
                    [r["t_overfit"]],
                    [y],
                    color=color,
                    marker="^",
                    s=26,
                    zorder=4,
                    edgecolors="black",
                    linewidths=0.5,
                )
        ax.set_xscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(label, fontsize=8)
    axes[0, 0].set_ylabel("test error (seed mean)")
    _colorbar(fig, axes[0, -1], norm, cmap, "width")
    fig.tight_layout()
    return fig


def data_needed_plot(estimate: Estimate) -> Figure:
    """Training examples needed to reach each threshold against N (log–log), with the fitted
    ``n ∝ N^(−γ_data)`` lines; fewer examples for larger models = a falling line."""
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    needed = estimate.details.get("needed", {})
    colors = _threshold_colors(len(needed))
    intercepts = estimate.details.get("intercepts", {})
    for (thr, per_size), color in zip(needed.items(), colors, strict=True):
        sizes = np.array([float(s) for s in per_size], float)
        n = np.array(list(per_size.values()), float)
        ax.scatter(sizes, n, color=color, s=22, zorder=3, label=f"E ≤ {float(thr):.3g}")
        if thr in intercepts and np.isfinite(estimate.value) and sizes.size >= 2:
            line = np.geomspace(sizes.min(), sizes.max(), 20)
            ax.plot(line, np.exp(intercepts[thr]) * line ** (-estimate.value), color=color, lw=1.2)
    for n in estimate.details.get("data_sizes", []):
        ax.axhline(n, color="0.8", lw=0.7, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parameters N")
    ax.set_ylabel("training examples needed")
    ax.set_title(
        f"γ_data = {estimate.value:.2f} [{estimate.ci[0]:.2f}, {estimate.ci[1]:.2f}] "
        "(n_needed ∝ N^−γ); dotted: measured data sizes",
        fontsize=8.5,
    )
    if needed:
        ax.legend(fontsize=7, title="threshold", title_fontsize=7)
    fig.tight_layout()
    return fig
