"""Figures drawn from a sweep's tidy table (``docs/architecture.md``).

Each function takes the tidy table (and what the analysis computed), returns a matplotlib
``Figure``, and draws only measured numbers. Widths share one colour scale (viridis on log width);
axes are logarithmic where the quantity spans decades.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

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


def width_colors(widths: Sequence[float]) -> tuple[LogNorm, matplotlib.colors.Colormap]:
    """One colour scale for width across every figure (log-spaced, viridis)."""
    lo, hi = float(min(widths)), float(max(widths))
    return LogNorm(vmin=lo, vmax=max(hi, lo * 1.0001)), plt.get_cmap("viridis")


def _colorbar(
    fig: Figure, ax: plt.Axes, norm: LogNorm, cmap: matplotlib.colors.Colormap, label: str
) -> None:
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=ax, label=label, pad=0.01)


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
        ax.set_xscale("log")
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
        ax.set_xscale("log")
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
    ax.set_xscale("log")
    ax.set_xlabel("parameters N")
    ax.set_ylabel(f"Δ {metric.replace('_', ' ')} / noise rate")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def to_png(fig: Figure) -> bytes:
    """Render and close ``fig``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
