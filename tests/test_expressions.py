"""Row filters and derived columns are evaluated on a restricted syntax tree: the exploits of
issue 15 (``@pd.io.common.os.system`` through ``--where`` / ``--derive``) are refused before
anything runs; ordinary filters and formulas give pandas' answers."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaletime.expressions import ExpressionError, derive_column, evaluate, filter_rows
from scaletime.table import load_fit_table

FRAME = pd.DataFrame(
    {
        "arch": ["mlp", "cnn", "mlp", "mlp"],
        "n_params": [10.0, 20.0, 30.0, 40.0],
        "Training FLOP": [6e3, 1.2e4, 1.8e4, 2.4e4],
        "epoch": [0.0, 1.0, 2.0, 3.0],
    }
)


@pytest.mark.parametrize(
    "where",
    [
        "arch == 'mlp'",
        "n_params > 15 and arch == 'mlp'",
        "(n_params >= 20) & ~(epoch == 3)",
        "arch in ['cnn'] or epoch < 1",
        "arch not in ('cnn',)",
        "10 < n_params <= 30",
        "log(n_params) > 3",
        "`Training FLOP` / (6 * n_params) == 100",
    ],
)
def test_filters_match_pandas_query(where: str) -> None:
    pd.testing.assert_frame_equal(filter_rows(FRAME, where), FRAME.query(where))


def test_derive_computes_columns_with_backticks() -> None:
    out = derive_column(FRAME, "tokens = `Training FLOP` / (6 * n_params)")
    np.testing.assert_allclose(out["tokens"], 100.0)
    out = derive_column(out, "`log size` = log(n_params)")
    np.testing.assert_allclose(out["log size"], np.log(FRAME["n_params"]))


@pytest.mark.parametrize(
    "expression",
    [
        "epoch > 0 or @pd.io.common.os.system('id > pwned.txt')",
        "__import__('os').system('id')",
        "arch.__class__",
        "n_params[0] > 1",
        "open('x').read()",
        "(lambda: 1)()",
        "[x for x in n_params]",
        "n_params @ n_params",
        "getattr(arch, 'upper')",
    ],
)
def test_code_is_refused_not_run(expression: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ExpressionError):
        filter_rows(FRAME, expression)
    with pytest.raises(ExpressionError):
        derive_column(FRAME, f"x = {expression}")
    assert list(tmp_path.iterdir()) == []  # nothing ran


def test_errors_name_the_problem() -> None:
    with pytest.raises(ExpressionError, match="no column 'width'"):
        filter_rows(FRAME, "width > 3")
    with pytest.raises(ExpressionError, match="leaves no rows"):
        filter_rows(FRAME, "n_params > 1e9")
    with pytest.raises(ExpressionError, match="must be a condition"):
        filter_rows(FRAME, "n_params * 2")
    with pytest.raises(ExpressionError, match="NAME = EXPRESSION"):
        derive_column(FRAME, "n_params == 3")
    with pytest.raises(ExpressionError, match="longer than"):
        evaluate(" + ".join(["1"] * 50_000), FRAME)
    with pytest.raises(ExpressionError, match="more than 400 terms"):
        evaluate("+".join(["1"] * 300), FRAME)
    assert np.isinf(evaluate("9**9**9**9", FRAME))  # overflow is inf, not a hang or a traceback


def test_load_fit_table_uses_the_safe_evaluator(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    FRAME.assign(run_id="r", test_error=[0.5, 0.4, 0.3, 0.2][: len(FRAME)]).to_csv(
        path, index=False
    )
    table = load_fit_table(path, where="arch == 'mlp'", derive=["tokens = 2 * n_params"])
    assert len(table.frame) == 3
    with pytest.raises(ExpressionError):
        load_fit_table(path, where="@pd.io.common.os.system('id')")


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60))
def test_any_text_gives_a_value_or_an_expression_error(text: str) -> None:
    with contextlib.suppress(ExpressionError):  # anything else (a traceback) fails the test
        evaluate(text, FRAME)
