"""scaletime.table: reading tidy tables and mapping their columns onto roles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scaletime.errors import ScaletimeError
from scaletime.table import (
    ColumnMapping,
    TableError,
    parse_size_rule,
    read_table,
    read_tables,
    resolve,
)


def _tiny(n_sizes: int = 2) -> pd.DataFrame:
    rows = []
    for i in range(n_sizes):
        for seed in (0, 1):
            for epoch in (0.0, 1.0, 2.0):
                rows.append(
                    {
                        "run_id": f"r{i}{seed}",
                        "width": 2 * (i + 1),
                        "n_params": 100 * (i + 1),
                        "seed": seed,
                        "epoch": epoch,
                        "test_error": 0.9 - 0.1 * epoch - 0.05 * i,
                        "optimizer": "sgd" if seed == 0 else "adam",
                        "diverged": epoch == 2.0 and seed == 1,
                    }
                )
    return pd.DataFrame.from_records(rows)


def test_read_table_round_trips_csv_and_parquet(tmp_path: Path) -> None:
    df = _tiny()
    df.to_csv(tmp_path / "t.csv", index=False)
    df.to_parquet(tmp_path / "t.parquet", index=False)
    for name in ("t.csv", "t.parquet"):
        back = read_table(tmp_path / name)
        assert list(back.columns) == list(df.columns)
        np.testing.assert_allclose(back["test_error"], df["test_error"])


def test_read_table_refuses_unknown_sources(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="does not exist"):
        read_table(tmp_path / "missing.csv")
    (tmp_path / "t.txt").write_text("a,b\n1,2\n")
    with pytest.raises(TableError, match=r"\.txt.*allowed: \.csv"):
        read_table(tmp_path / "t.txt")
    with pytest.raises(TableError, match=r"results\.sqlite"):
        read_table(tmp_path)


def test_missing_column_is_refused_by_name_listing_available() -> None:
    with pytest.raises(TableError) as info:
        resolve(_tiny(), ColumnMapping(metric="test_loss"))
    message = str(info.value)
    assert "'test_loss' (role 'metric')" in message
    assert "test_error" in message and "n_params" in message  # the available columns
    assert isinstance(info.value, ScaletimeError)
    with pytest.raises(TableError, match=r"'steps' \(role 'time'\) and 'err' \(role 'metric'\)"):
        resolve(_tiny(), ColumnMapping(time="steps", metric="err"))  # every missing one named
    with pytest.raises(TableError, match=r"'noise_rate' \(role 'noise'\)"):
        resolve(_tiny(), ColumnMapping(noise="noise_rate"))  # explicit optional role: required


def test_non_numeric_column_is_refused_by_name() -> None:
    df = _tiny().assign(n_params=lambda d: d["n_params"].astype(str) + "k")
    with pytest.raises(TableError, match=r"'n_params' \(role 'size'\) must be numeric.*'100k'"):
        resolve(df)


def test_resolve_drops_diverged_rows_and_renames_roles() -> None:
    resolved = resolve(_tiny())
    frame = resolved.frame
    assert resolved.n_dropped_diverged == 2
    assert len(frame) == len(_tiny()) - 2
    assert {"run", "size", "time", "metric", "seed", "width"} <= set(frame.columns)
    assert resolved.roles["size"] == "n_params" and resolved.roles["time"] == "epoch"
    # the optimizer column is a setting: two settings, each with one seed per size
    settings = dict((s["optimizer"], rows) for s, rows in resolved.setting_frames())
    assert set(settings) == {"sgd", "adam"}
    assert settings["adam"]["seed"].eq(1).all()


def test_size_rule_turns_a_width_into_a_parameter_count() -> None:
    resolved = resolve(_tiny(), ColumnMapping(size="width", size_rule="w**2 + 10*w + 3"))
    widths = resolved.frame["width"].to_numpy()
    np.testing.assert_allclose(resolved.frame["size"], widths**2 + 10 * widths + 3)
    with pytest.raises(TableError, match="not allowed"):
        parse_size_rule("__import__('os').getcwd()")
    with pytest.raises(TableError, match="not a valid expression"):
        parse_size_rule("w**")


def test_lr_that_follows_the_size_is_not_a_setting() -> None:
    df = _tiny(3)
    df["lr"] = 0.1 / df["width"]  # lr ∝ 1/width: one value per size
    resolved = resolve(df)
    assert "lr" not in resolved.setting_columns
    df2 = pd.concat([df, df.assign(lr=df["lr"] * 10, run_id=df["run_id"] + "x")])
    resolved2 = resolve(df2)  # two base rates, each tied to the size: grouped by their rank
    assert "lr_rank" in resolved2.setting_columns
    assert len(list(resolved2.setting_frames())) == 2 * 2  # lr rank × optimizer
    fixed = _tiny().assign(lr=0.05)
    assert "lr" in resolve(fixed).setting_columns  # the same lr for every size: a setting


def test_several_sources_stay_apart(tmp_path: Path) -> None:
    _tiny().to_csv(tmp_path / "fixed.csv", index=False)
    _tiny().to_csv(tmp_path / "adam.csv", index=False)
    both = read_tables([tmp_path / "fixed.csv", tmp_path / "adam.csv"])
    assert set(both["source"]) == {"fixed", "adam"}
    assert both["run_id"].nunique() == 2 * _tiny()["run_id"].nunique()  # no run merges
    resolved = resolve(both)
    assert resolved.setting_columns[0] == "source"
    assert len(list(resolved.setting_frames())) == 4  # source × optimizer
    with pytest.raises(TableError, match="distinct names"):
        read_tables([tmp_path / "fixed.csv", tmp_path / "fixed.csv"])
