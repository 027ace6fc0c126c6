"""Figures draw what was measured: line data equal the measured numbers, axes are log where the
quantity spans decades, width has one colour scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.lines import Line2D

from scaletime.analysis import analyze
from scaletime.report import figures as F
from scaletime.report.html import Figure, Section, render


@pytest.fixture(scope="module")
def setting(ste_table: pd.DataFrame):
    return analyze(ste_table, n_boot=100).settings[0]


def _loglog_slope(line: Line2D) -> float:
    x, y = (np.asarray(v, float) for v in line.get_data())
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def test_figure1_lines_are_the_fitted_and_reference_slopes(setting) -> None:
    fit = setting.exponents["p"]
    assert fit.ci_[0] <= 1.0 <= fit.ci_[1]  # γ_N = 1/3 built in → γ_p = 1
    fig = F.tmin_vs_scale(setting)
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    solid = [ln for ln in ax.get_lines() if ln.get_linestyle() == "-" and len(ln.get_xdata()) > 2]
    dotted = [ln for ln in ax.get_lines() if ln.get_linestyle() == ":"]
    assert len(solid) >= 3 and len(dotted) >= 3
    for line in solid:
        assert _loglog_slope(line) == pytest.approx(-fit.gamma_, rel=1e-9)
    for line in dotted:
        assert _loglog_slope(line) == pytest.approx(-1.0, rel=1e-9)
    assert f"{fit.gamma_:.2f}" in ax.get_title()


def test_learning_curves_are_seed_means_per_width(ste_table: pd.DataFrame) -> None:
    fig = F.learning_curves(ste_table)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    lines = ax.get_lines()
    d = ste_table[ste_table["epoch"] > 0]
    means = [g.groupby("epoch")["test_error"].mean().to_numpy() for _, g in d.groupby("width")]
    assert len(lines) == len(means)
    for line, mean in zip(lines, means, strict=True):
        np.testing.assert_allclose(line.get_ydata(), mean)
    colorbar = fig.axes[-1]
    assert [t.get_text() for t in colorbar.get_yticklabels()] == ["2", "5", "10", "20", "50"]


def test_prediction_matrix_shows_every_pair_ratio(setting) -> None:
    fig = F.prediction_matrix(setting)
    texts = {t.get_text() for t in fig.axes[0].texts}
    expected = {f"{p.ratio:.1f}" for p in setting.predictions if np.isfinite(p.ratio)}
    assert expected and expected <= texts


def test_collapse_plot_shifts_time_by_n_to_the_gamma(setting) -> None:
    fig = F.collapse_plot(setting)
    gamma = setting.collapse.gamma_
    curves = {c.size: c for c in F._size_curves(setting)}
    lines = fig.axes[0].get_lines()
    for line, (size, c) in zip(lines, sorted(curves.items()), strict=True):
        np.testing.assert_allclose(line.get_xdata(), c.time * size**gamma)


def test_render_is_self_contained_and_escaped() -> None:
    png = F.to_png(
        F.learning_curves(
            pd.DataFrame(
                {
                    "width": [1, 1, 2, 2],
                    "epoch": [1.0, 2.0, 1.0, 2.0],
                    "test_error": [0.5, 0.4, 0.3, 0.2],
                    "diverged": [False] * 4,
                }
            )
        )
    )
    page = render("t", "s", [Section("A <b>", text="x < y", figures=[Figure(png, "cap <script>")])])
    assert "data:image/png;base64," in page
    assert "<script>" not in page and "cap &lt;script&gt;" in page
    assert "Figure 1." in page and "http" not in page.replace("http-equiv", "")
