"""analyze(): every setting of a table, the across-settings summary, and the JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scaletime.analysis import AnalysisResult, analyze, pooled_gamma


@pytest.fixture(scope="module")
def mixed_table(make_curves) -> pd.DataFrame:
    """Three settings: SGD (equivalent), Adam (capacity floor: broken), noisy small data."""
    sgd = make_curves(seed=21).assign(optimizer="sgd", data_size=60_000, label_noise=0.0)
    adam = make_curves(capacity=1.0, seed=22).assign(
        optimizer="adam", data_size=60_000, label_noise=0.0
    )
    noisy = make_curves(data=1_000, label_noise=0.3, seed=23).assign(
        optimizer="sgd", data_size=1_000, label_noise=0.3
    )
    return pd.concat([sgd, adam, noisy], ignore_index=True)


@pytest.fixture(scope="module")
def result(mixed_table: pd.DataFrame) -> AnalysisResult:
    return analyze(mixed_table, n_boot=200)


def _setting(result: AnalysisResult, **match):
    (found,) = [s for s in result.settings if all(s.setting[k] == v for k, v in match.items())]
    return found


def test_each_setting_is_analysed_and_judged(result: AnalysisResult) -> None:
    assert result.parameters["setting_columns"] == ["optimizer", "data_size", "label_noise"]
    assert len(result.settings) == 3
    clean = _setting(result, optimizer="sgd", data_size=60_000)
    noisy = _setting(result, optimizer="sgd", data_size=1_000)
    broken = _setting(result, optimizer="adam")
    for holding in (clean, noisy):
        assert holding.verdict == "holds"
        assert abs(holding.exponents["size"].gamma_ - 1 / 3) / (1 / 3) < 0.05
        assert holding.exponents["size"].paper_consistent_
        assert set(holding.exponents) == {"size", "width", "p"}
    assert broken.verdict in ("breaks", "partial")
    assert broken.collapse.score_.ratio > 3
    summary = result.summary()
    assert len(summary) == 3
    by_verdict = summary.set_index("verdict")
    assert by_verdict.loc["holds", "median_error_ratio"].max() < 2
    assert summary.loc[summary["optimizer"] == "adam", "median_error_ratio"].item() > 2


def test_everything_the_report_draws_is_reachable(result: AnalysisResult) -> None:
    setting = result.settings[0]
    n_sizes = setting.runs["size"].nunique()
    assert len(setting.predictions) == n_sizes * (n_sizes - 1)
    assert set(setting.tmin["run"]) == set(setting.runs["run"])
    assert len(setting.tmin) == len(setting.runs) * len(setting.thresholds)
    assert (setting.rows["time"] == 0).any()  # the per-run curves keep the initial checkpoint
    assert set(setting.validity) == {"small_to_large", "large_to_small"}


def test_json_holds_every_number(result: AnalysisResult, tmp_path: Path) -> None:
    path = tmp_path / "analysis.json"
    text = result.to_json(path)
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(path.read_text())
    assert len(data["settings"]) == len(data["summary"]) == 3
    for setting, obj in zip(data["settings"], result.settings, strict=True):
        assert setting["exponents"]["size"]["gamma"] == pytest.approx(obj.exponents["size"].gamma_)
        assert setting["exponents"]["size"]["ci"] == pytest.approx(list(obj.exponents["size"].ci_))
        assert setting["collapse"]["ratio"] == pytest.approx(obj.collapse.score_.ratio)
        assert len(setting["tmin"]) == len(obj.tmin)
        first = setting["predictions"][0]
        assert first["rmsle"] == pytest.approx(obj.predictions[0].rmsle)
        assert len(first["predicted"]) == len(first["actual"]) == len(first["time"])
        assert {"median_ratio", "max_ratio", "time_range"} <= set(
            setting["validity"]["small_to_large"]
        )


def test_fitted_gamma_never_uses_the_pair_predicted(make_curves) -> None:
    table = make_curves(sizes=(100.0, 300.0, 1_000.0, 3_000.0, 10_000.0), seed=31)
    result = analyze(table, gamma="fit", n_boot=50)
    (setting,) = result.settings
    full = setting.exponents["size"].gamma_
    for pair in setting.predictions:
        assert pair.gamma_source == "fit"
        left_out = pooled_gamma(setting.tmin, exclude_sizes=(pair.source_size, pair.target_size))
        assert pair.gamma == pytest.approx(left_out)
        assert pair.gamma != full
    assert setting.verdict == "holds"


def test_given_thresholds_and_gamma(make_curves) -> None:
    result = analyze(make_curves(gamma=0.6, seed=41), thresholds=[0.1, 0.3], gamma=0.6, n_boot=50)
    (setting,) = result.settings
    np.testing.assert_allclose(setting.thresholds, [0.3, 0.1])
    assert all(p.gamma == 0.6 and p.gamma_source == "given" for p in setting.predictions)
    assert setting.verdict == "holds"
    paper = analyze(make_curves(gamma=0.6, seed=41), n_boot=50).settings[0]
    assert paper.verdict == "breaks"  # the paper's 1/3 is the wrong exponent here
    assert not paper.exponents["size"].paper_consistent_


def test_degenerate_settings_are_reported_not_crashed(make_curves) -> None:
    one_size = make_curves(sizes=(1_000.0,))
    (setting,) = analyze(one_size, n_boot=20).settings
    assert setting.verdict == "undetermined"
    assert setting.predictions == [] and setting.collapse is None
    assert any("fewer than two" in note for note in setting.notes)
    with pytest.raises(ValueError, match="gamma must be"):
        analyze(one_size, gamma="best")  # type: ignore[arg-type]


def test_several_sweeps_are_compared_side_by_side(make_curves) -> None:
    sizes = (100.0, 1_000.0, 10_000.0)
    fixed = make_curves(sizes=sizes, seed=61)
    limited = make_curves(sizes=sizes, capacity=1.0, seed=62)
    result = analyze([fixed, limited], n_boot=50)
    labels = [s.label for s in result.settings]
    assert labels == ["source=table0", "source=table1"]  # only the column that differs
    verdicts = result.summary().set_index("source")["verdict"]
    assert verdicts["table0"] == "holds" and verdicts["table1"] != "holds"
