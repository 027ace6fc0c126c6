"""Every bad input of issue 15's probe is a clear error (exit 2, a message, no traceback) with
the same message from every command, and degenerate fits are refused or flagged."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .conftest import invoke, scaling_table

GOOD = scaling_table()

#: name -> (file suffix, bytes or frame, what the message must say)
BAD_TABLES: dict[str, tuple[str, object, str]] = {
    "empty": (".csv", b"", "is empty"),
    "whitespace": (".csv", b"  \n\n   \n", "is empty"),
    "header-only": (".csv", b"n_params,epoch,test_error\n", "no data rows"),
    "non-utf8": (".csv", b"n_params,epoch,test_error\n1,1,0.5\n\xff\xfe,1,2\n", "not UTF-8"),
    "ragged": (".csv", b"n_params,epoch,test_error\n1,2,3,4,5\n1,2,3\n", "ragged"),
    "garbage-parquet": (".parquet", b"PAR1 not really" * 20, "not a readable Parquet"),
    "all-zero-time": (".csv", GOOD.assign(epoch=0.0), "is 0 on every row"),
    "negative-time": (".csv", GOOD.assign(epoch=-GOOD["epoch"]), "zero or positive"),
    "nan-run-id": (".csv", GOOD.assign(run_id=np.nan), "missing value"),
    "size-1e308": (".csv", GOOD.assign(n_params=1e308), "at most 1e+18"),
    "negative-metric": (".csv", GOOD.assign(test_error=-GOOD["test_error"]), "zero or positive"),
    "infinite-metric": (
        ".csv",
        GOOD.assign(test_error=np.where(GOOD.index % 5 == 0, np.inf, GOOD["test_error"])),
        "finite",
    ),
    "metric-1e308": (".csv", GOOD.assign(test_error=1e308), "at most 1e+12"),
    "constant-metric": (".csv", GOOD.assign(test_error=0.3), "constant metric"),
    "text-metric": (".csv", GOOD.assign(test_error="x"), "must be numeric"),
}

COMMANDS = {
    "fit": lambda t, d: ["fit", t, "--law", "chinchilla-time", "-o", d / "f.json"],
    "evaluate": lambda t, d: ["evaluate", t, "--laws", "chinchilla-time", "--starts", "1"],
    "analyze": lambda t, d: ["analyze", t, "--boot", "5"],
    "forecast": lambda t, d: ["forecast", t, "--size", "3e5", "--forecasters", "constant"],
}


def _write(path: Path, content: object) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        assert isinstance(content, pd.DataFrame)
        content.to_csv(path, index=False)


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("name", list(BAD_TABLES))
def test_a_malformed_table_is_the_same_clear_error_for_every_command(
    tmp_path: Path, name: str, command: str
) -> None:
    suffix, content, says = BAD_TABLES[name]
    table = tmp_path / f"t{suffix}"
    _write(table, content)
    result = invoke(*COMMANDS[command](table, tmp_path))
    assert result.exit_code == 2, result.output
    assert says in " ".join(result.output.split()), result.output
    assert not (tmp_path / "f.json").exists()


def test_zero_metric_is_refused_by_the_fits_but_analysed(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    GOOD.assign(test_error=np.where(GOOD.index == 3, 0.0, GOOD["test_error"])).to_csv(
        table, index=False
    )
    for command in ("fit", "evaluate", "forecast"):
        result = invoke(*COMMANDS[command](table, tmp_path))
        assert result.exit_code == 2 and "must be positive" in " ".join(result.output.split())
    assert invoke(*COMMANDS["analyze"](table, tmp_path)).exit_code == 0


def test_a_single_size_fit_flags_the_size_parameters_as_not_identified(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    GOOD.assign(n_params=1000.0).to_csv(table, index=False)
    out = tmp_path / "f.json"
    result = invoke("fit", table, "--law", "chinchilla-time", "-o", out, "--bootstrap", "5")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "size takes one value (1000)" in text and "not identified" in text
    fit = json.loads(out.read_text())
    assert "alpha" in fit["not_identified"]
    assert all(np.isfinite(float(v)) for v in fit["params"].values())


def test_a_fit_with_no_varying_role_is_refused(tmp_path: Path) -> None:
    from scaletime.fitting.errors import FittingError
    from scaletime.fitting.estimator import ScalingLawRegressor

    X = pd.DataFrame({"size": [10.0] * 6, "time": [5.0] * 6})
    with pytest.raises(FittingError, match="varies"):
        ScalingLawRegressor("chinchilla-time").fit(X, np.linspace(0.2, 0.3, 6))


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--size", "width", "--size-rule", "9**9**9**9"], "role 'size'"),
        (["--size", "width", "--size-rule", "+".join(["w"] * 50_000)], "longer than"),
        (["--size", "width", "--size-rule", "(" * 300 + "w" + ")" * 300], "size_rule"),
        (["--size", "width", "--size-rule", "__import__('os').getcwd()"], "not allowed"),
        (["--thresholds", "nan,-1"], "--thresholds"),
        (["--json", "/proc/no/such/dir/a.json"], "--json"),
    ],
    ids=["overflow", "50000-terms", "deep", "import", "nan-thresholds", "json-path"],
)
def test_analyze_options_are_checked_before_the_work(
    tmp_path: Path, args: list[str], says: str
) -> None:
    table = tmp_path / "t.csv"
    GOOD.assign(width=GOOD["n_params"] / 10).to_csv(table, index=False)
    result = invoke("analyze", table, "--boot", "5", *args)
    assert result.exit_code == 2, result.output
    assert says in " ".join(result.output.split()) and "wrote" not in result.output


def test_where_that_is_not_a_condition(good_csv: Path, tmp_path: Path) -> None:
    result = invoke("fit", good_csv, "--law", "power", "--where", "1", "-o", tmp_path / "f.json")
    assert result.exit_code == 2 and "must be a condition" in result.output


@pytest.fixture(scope="module")
def fit_dict(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("fit")
    table = folder / "t.csv"
    GOOD.to_csv(table, index=False)
    out = folder / "f.json"
    assert (
        invoke("fit", table, "--law", "chinchilla-time", "-o", out, "--bootstrap", "5").exit_code
        == 0
    )
    return json.loads(out.read_text())


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.pop("params"),
        lambda d: d.update(params={"E": "x"}),
        lambda d: d.update(params={"E": 1.0}),
        lambda d: d.update(law={"class": "Nope"}),
        lambda d: d.update(law=[]),
        lambda d: d.update(estimator={"loss": "cubic"}),
        lambda d: d.update(input_ranges=5),
        lambda d: d.update(bootstrap_params=[[1.0]]),
        lambda d: d.update(version=99),
        lambda d: d.update(format="other"),
        lambda d: d.update(residual_quantiles=[]),
    ],
    ids=[
        "no-params",
        "text-param",
        "missing-param",
        "unknown-law",
        "law-list",
        "bad-loss",
        "ranges-int",
        "bootstrap-shape",
        "version",
        "format",
        "no-quantiles",
    ],
)
def test_predict_on_a_damaged_fit_file_names_the_problem(
    tmp_path: Path, fit_dict: dict, damage
) -> None:
    data = json.loads(json.dumps(fit_dict))
    damage(data)
    path = tmp_path / "f.json"
    path.write_text(json.dumps(data))
    result = invoke("predict", path, "--size", "1e4", "--time", "10")
    assert result.exit_code == 2, result.output
    assert "fit" in result.output


@pytest.mark.parametrize(
    "content", [b"", b"\xff\xfe", b"[1, 2]", _nested(100_000).encode(), b'{"format": 1}']
)
def test_predict_on_a_file_that_is_not_a_fit(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "f.json"
    path.write_bytes(content)
    result = invoke("predict", path, "--size", "1e4", "--time", "10")
    assert result.exit_code == 2, result.output


def test_user_strings_reach_the_terminal_escaped(tmp_path: Path) -> None:
    evil = "[link=http://example.com]s[/link]\x1b[31m"
    table = tmp_path / "t.csv"
    GOOD.rename(columns={"seed": evil}).to_csv(table, index=False)
    result = invoke("analyze", table, "--boot", "5", "--group-by", evil)
    assert result.exit_code == 0
    assert "\x1b[31m" not in result.output
    assert "[link=http://example.com]" in result.output  # shown, not turned into a link
    result = invoke("fit", table, "--law", "power", "--metric", evil, "-o", tmp_path / "f.json")
    assert result.exit_code == 2 and "\x1b" not in result.output and "\\x1b" in result.output


def test_an_unwritable_output_is_refused_before_the_work(good_csv: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for args in (
        ["fit", good_csv, "--law", "power", "-o", blocker / "f.json"],
        ["evaluate", good_csv, "-o", blocker / "e.csv"],
        ["forecast", good_csv, "--size", "3e5", "-o", blocker / "f.json"],
        ["forecast", good_csv, "--size", "3e5", "--plot", tmp_path],
        ["analyze", good_csv, "--json", blocker / "a.json"],
    ):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "fitting" not in result.output and "backtest" not in result.output
    assert os.listdir(tmp_path) == sorted(os.listdir(tmp_path))  # nothing odd created
