"""Property-based fuzzing of the command line (issue 15): specs, tables, fit files, folders and
option values, generated at random and malformed, go through ``run``, ``fit``, ``predict``,
``evaluate``, ``analyze``, ``forecast`` and ``report`` in-process. Every outcome must be exit 0
or exit 2 with a message — never a traceback — nothing may be written outside the paths given,
and an exit 0 must come with output that passes the output schemas (finite numbers, or an
explicit "not identified").

``SCALETIME_FUZZ_COUNTS=FILE`` appends the number of generated inputs per command to FILE.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import invoke, scaling_table

COUNTS: Counter[str] = Counter()


def fuzz(n: int) -> settings:
    """``n`` generated examples, reproducible (derandomized), no deadline (CI is noisy)."""
    return settings(
        max_examples=n, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
    )


HOSTILE_NUMBERS = [0, -1, 1, 0.5, 1e-320, 1e-300, 1e300, 1e308, 2**63, 2**64, -(2**63) - 1]
HOSTILE_FLOATS = [math.nan, math.inf, -math.inf]
HOSTILE_TEXT = [
    "",
    " ",
    "x",
    "nan",
    "-inf",
    "1e999",
    "[link=http://example.com]x[/link]",
    "\x1b[31mred",
    "\x00",
    "é",
    "../../etc/passwd",
    "@pd.io.common.os.system('touch pwned')",
    "__import__('os').system('touch pwned')",
    "9**9**9**9",
    "(" * 200,
    "a" * 5000,
]
HOSTILE = [*HOSTILE_NUMBERS, *HOSTILE_FLOATS, *HOSTILE_TEXT, True, False, None, [], {}]


@pytest.fixture(scope="module", autouse=True)
def _report_counts() -> Iterator[None]:
    yield
    target = os.environ.get("SCALETIME_FUZZ_COUNTS")
    if target:
        with open(target, "a") as f:
            f.write(json.dumps(dict(COUNTS)) + "\n")


@contextmanager
def workspace() -> Iterator[Path]:
    """A fresh working folder (also the current directory, so a stray relative write shows)."""
    old = Path.cwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            yield Path(tmp)
        finally:
            os.chdir(old)


def files_in(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()}


def run_cli(folder: Path, args: list[Any], allowed: set[str], name: str) -> Any:
    """Invoke; check exit 0/2, no traceback, no file outside ``allowed`` (names relative to
    ``folder``, a folder name allowing everything inside it)."""
    before = files_in(folder)
    result = invoke(*args)
    COUNTS[name] += 1
    COUNTS[f"{name}: exit {result.exit_code}"] += 1
    assert result.exit_code in (0, 2), (args, result.exit_code, result.output)
    if result.exit_code == 2:
        assert result.output.strip(), args  # a message, not silence
    created = files_in(folder) - before
    stray = [
        p for p in created if not any(str(p) == a or str(p).startswith(a + "/") for a in allowed)
    ]
    assert not stray, (args, stray)
    assert not (folder / "pwned").exists() and not Path("pwned").exists()
    return result


def finite_json(value: Any) -> bool:
    """Every number in ``value`` is finite or written as an explicit non-finite marker."""
    if isinstance(value, dict):
        return all(finite_json(v) for v in value.values())
    if isinstance(value, list):
        return all(finite_json(v) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return True


# ---------------------------------------------------------------------------------- tables
BASE = scaling_table(n_sizes=3, seeds=2, times=5)
CELL_VALUES = st.sampled_from([*HOSTILE_NUMBERS, *HOSTILE_FLOATS, "x", "", True])


@st.composite
def tables(draw: st.DrawFn) -> tuple[str, bytes | pd.DataFrame]:
    df = BASE.copy()
    columns = list(df.columns)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(["column", "cell", "drop", "rename", "rows", "duplicate", "add"])
        )
        if kind == "column" and len(df.columns):
            col = draw(st.sampled_from(list(df.columns)))
            df[col] = draw(CELL_VALUES)
        elif kind == "cell" and len(df) and len(df.columns):
            col = draw(st.sampled_from(list(df.columns)))
            row = draw(st.integers(0, len(df) - 1))
            df[col] = df[col].astype(object)
            df.loc[df.index[row], col] = draw(CELL_VALUES)
        elif kind == "drop" and len(df.columns) > 1:
            df = df.drop(columns=[draw(st.sampled_from(list(df.columns)))])
        elif kind == "rename" and len(df.columns):
            col = draw(st.sampled_from(list(df.columns)))
            new = draw(st.sampled_from([*HOSTILE_TEXT[:12], *columns]))
            df = df.rename(columns={col: new})
        elif kind == "rows":
            df = df.head(draw(st.integers(0, 4)))
        elif kind == "duplicate":
            df = pd.concat([df, df], ignore_index=True)
        elif kind == "add":
            df[draw(st.sampled_from(["width", "data_size", "label_noise", "lr"]))] = draw(
                CELL_VALUES
            )
    form = draw(st.sampled_from(["csv", "csv", "parquet", "bytes"]))
    if form == "parquet":
        try:
            df.columns = [str(c) for c in df.columns]
            df.astype(str).to_parquet(buffer := _Buffer())
            return "parquet", buffer.data
        except Exception:  # a frame pyarrow cannot store: fall back to CSV
            form = "csv"
    text = df.to_csv(index=False).encode("utf-8", "surrogatepass")
    if form == "bytes":
        cut = draw(st.integers(0, len(text)))
        junk = draw(st.binary(max_size=20))
        text = text[:cut] + junk + text[cut + len(junk) :]
    return "csv", text


class _Buffer:
    """A write target for ``to_parquet`` that keeps the bytes."""

    def __init__(self) -> None:
        self.data = b""

    def write(self, b: bytes) -> int:
        self.data += bytes(b)
        return len(b)

    def close(self) -> None:  # pragma: no cover - pyarrow may call it
        pass

    def flush(self) -> None:  # pragma: no cover
        pass

    @property
    def closed(self) -> bool:  # pragma: no cover
        return False


TABLE_COMMANDS = {
    "fit": lambda t: (
        [
            "fit",
            t,
            "--law",
            "chinchilla-time",
            "--starts",
            "1",
            "--bootstrap",
            "3",
            "-o",
            "fit.json",
        ],
        {"fit.json"},
    ),
    "evaluate": lambda t: (
        ["evaluate", t, "--laws", "power", "--starts", "1", "-o", "e.csv"],
        {"e.csv"},
    ),
    "analyze": lambda t: (["analyze", t, "--boot", "3", "--json", "a.json"], {"a.json"}),
    "forecast": lambda t: (
        ["forecast", t, "--size", "3e5", "--forecasters", "constant,last-value", "-o", "fc.json"],
        {"fc.json"},
    ),
}


def check_outputs(folder: Path, name: str) -> None:
    """An exit 0 wrote outputs that pass their schemas."""
    if name == "fit":
        from scaletime.fitting.schema import validate_fit_file

        data = json.loads((folder / "fit.json").read_text())
        validate_fit_file(data)  # finite parameters by the schema
    elif name == "analyze":
        data = json.loads((folder / "a.json").read_text())
        assert data["settings"] and all("verdict" in s for s in data["settings"])
    elif name == "forecast":
        rows = json.loads((folder / "fc.json").read_text())["forecast"]
        assert rows and all(
            isinstance(r["forecast"], float) and math.isfinite(r["forecast"]) for r in rows
        )
    elif name == "evaluate":
        table = pd.read_csv(folder / "e.csv")
        assert {"law", "status"} <= set(table.columns) and len(table)


@fuzz(640)
@given(table=tables(), name=st.sampled_from(list(TABLE_COMMANDS)))
def test_fuzz_tables(table: tuple[str, bytes], name: str) -> None:
    suffix, content = table
    with workspace() as ws:
        path = ws / f"t.{suffix}"
        path.write_bytes(content)
        args, outputs = TABLE_COMMANDS[name](path.name)
        result = run_cli(ws, args, {path.name, *outputs}, name)
        if result.exit_code == 0:
            check_outputs(ws, name)


# --------------------------------------------------------------------------------- options
#: Plausible values too, so that the fuzz also walks the paths that succeed.
PLAUSIBLE = [
    "0.5",
    "0.9",
    "2",
    "size",
    "time",
    "power",
    "chinchilla",
    "epoch > 1",
    "seed",
    "n_params",
    "x2 = 2 * epoch",
    "fit",
    "paper",
    "select",
    "1e6",
    "0.2,0.1",
]
OPTION_VALUES = st.one_of(
    st.sampled_from([str(v) for v in HOSTILE if not isinstance(v, list | dict)]),
    st.sampled_from(PLAUSIBLE),
    st.text(max_size=25),
)
OPTIONS = {
    "fit": [
        "--law",
        "--where",
        "--derive",
        "--confidence",
        "--bootstrap",
        "--starts",
        "--delta",
        "--loss",
        "--size",
        "--time",
        "--metric",
        "--group-by",
        "--bootstrap-by",
        "--breaks",
    ],
    "evaluate": [
        "--holdout",
        "--fraction",
        "--cut",
        "--laws",
        "--where",
        "--split-column",
        "--loss",
        "--starts",
    ],
    "analyze": [
        "--thresholds",
        "--gamma",
        "--tolerance",
        "--size-rule",
        "--group-by",
        "--n-thresholds",
        "--boot",
        "--size",
        "--time",
        "--width",
        "--where",
    ],
    "forecast": [
        "--size",
        "--time",
        "--width",
        "--confidence",
        "--method",
        "--forecasters",
        "--factor",
        "--where",
        "--derive",
        "--time-column",
    ],
}
CHEAP = {
    "fit": ["--law", "chinchilla-time", "--starts", "1", "--bootstrap", "3"],
    "evaluate": ["--laws", "power", "--starts", "1"],
    "analyze": ["--boot", "3"],
    "forecast": ["--size", "3e5", "--forecasters", "constant,last-value"],
}
OUTPUT = {"fit": ["-o", "fit.json"], "evaluate": [], "analyze": [], "forecast": []}


@fuzz(560)
@given(
    name=st.sampled_from(list(OPTIONS)),
    data=st.data(),
)
def test_fuzz_options(name: str, data: st.DataObject) -> None:
    option = data.draw(st.sampled_from(OPTIONS[name]))
    value = data.draw(OPTION_VALUES)
    table = scaling_table(n_sizes=3, seeds=2, times=5).assign(width=lambda d: d["n_params"] / 10)
    with workspace() as ws:
        table.to_csv(ws / "t.csv", index=False)
        args = [name, "t.csv", *CHEAP[name], *OUTPUT[name], option, value]
        run_cli(ws, args, {"t.csv", "fit.json"}, f"{name} options")


# ------------------------------------------------------------------------------- fit files
@pytest.fixture(scope="module")
def fit_file_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("fuzzfit")
    scaling_table().to_csv(folder / "t.csv", index=False)
    out = folder / "f.json"
    assert (
        invoke(
            "fit", folder / "t.csv", "--law", "chinchilla-time", "--bootstrap", "5", "-o", out
        ).exit_code
        == 0
    )
    return out.read_text()


JSON_VALUES = st.sampled_from(
    [*HOSTILE_NUMBERS, *HOSTILE_TEXT[:8], None, True, [], {}, [1.0], {"a": 1}, "inf", "nan"]
)


@fuzz(420)
@given(data=st.data())
def test_fuzz_fit_files(fit_file_text: str, data: st.DataObject) -> None:
    fit = json.loads(fit_file_text)
    for _ in range(data.draw(st.integers(1, 3))):
        kind = data.draw(st.sampled_from(["set", "nested", "delete", "truncate"]))
        keys = list(fit) if isinstance(fit, dict) else []
        if kind == "truncate" or not keys:
            text = json.dumps(fit)
            fit = text[: data.draw(st.integers(0, len(text)))]
            break
        key = data.draw(st.sampled_from(keys))
        if kind == "delete":
            del fit[key]
        elif kind == "set":
            fit[key] = data.draw(JSON_VALUES)
        elif isinstance(fit[key], dict) and fit[key]:
            inner = data.draw(st.sampled_from(list(fit[key])))
            fit[key][inner] = data.draw(JSON_VALUES)
    text = fit if isinstance(fit, str) else json.dumps(fit)
    point = data.draw(
        st.sampled_from(
            [
                ["--size", "1e4", "--time", "10"],
                ["--size", "-1"],
                ["--size", "1e300", "--time", "1e300"],
                [],
            ]
        )
    )
    with workspace() as ws:
        (ws / "f.json").write_text(text)
        result = run_cli(ws, ["predict", "f.json", *point, "--json"], {"f.json"}, "predict")
        if result.exit_code == 0:
            start = result.output.find("[")
            rows = json.loads(result.output[start:])
            assert finite_json([r["mean"] for r in rows if "mean" in r]), result.output


# ------------------------------------------------------------------------------------ specs
TINY_SPEC: dict[str, Any] = {
    "name": "fuzz",
    "seeds": [0],
    "data": {"dataset": "digits", "sizes": [60]},
    "model": {"widths": [1]},
    "train": {"batch_size": 30, "epochs": 1, "checkpoints": 2, "first_checkpoint": 0.5},
    "execution": {"device": "cpu"},
}
SPEC_FIELDS = [
    ("name",),
    ("seeds",),
    ("data", "dataset"),
    ("data", "sizes"),
    ("data", "label_noise"),
    ("data", "options"),
    ("data", "test_size"),
    ("model", "arch"),
    ("model", "depth"),
    ("model", "widths"),
    ("train", "optimizer"),
    ("train", "lr"),
    ("train", "epochs"),
    ("train", "batch_size"),
    ("train", "checkpoints"),
    ("train", "first_checkpoint"),
    ("train", "epochs_by_width"),
    ("train", "momentum"),
    ("train", "loss"),
    ("execution", "device"),
    ("unknown",),
    ("train", "unknown"),
]
SPEC_VALUES = st.sampled_from(
    [
        *[v for v in HOSTILE if v is not None and not (isinstance(v, int) and abs(v) >= 2**63)],
        [True],
        [-1],
        [0],
        [2**40],
        ["x"],
        [1, 1],
        {"1": 0.0},
        {"n_train": -1},
        "teacher",
        "gd",
    ]
)


@fuzz(300)
@given(data=st.data())
def test_fuzz_specs(data: st.DataObject) -> None:
    import tomli_w

    spec = json.loads(json.dumps(TINY_SPEC))
    for _ in range(data.draw(st.integers(1, 2))):
        path = data.draw(st.sampled_from(SPEC_FIELDS))
        target = spec
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = data.draw(SPEC_VALUES)
    try:
        text = tomli_w.dumps(spec).encode()
    except (TypeError, ValueError):  # not TOML-representable (nan keys, ...): write raw bytes
        text = json.dumps(spec, default=str).encode()
    if data.draw(st.booleans()):
        cut = data.draw(st.integers(0, len(text)))
        text = text[:cut] + data.draw(st.binary(max_size=8))
    with workspace() as ws:
        (ws / "s.toml").write_bytes(text)
        result = run_cli(
            ws, ["run", "s.toml", "-o", "out", "--no-progress"], {"s.toml", "out"}, "run"
        )
        if result.exit_code == 0:
            from scaletime.sweep.store import ResultStore

            with ResultStore(ws / "out") as store:
                p = store.progress()
            assert p["pending"] == 0 and p["done"] + p["diverged"] == p["runs"] > 0
        else:
            assert not (ws / "out" / "results.sqlite").exists() or "out" in result.output


# ------------------------------------------------------------------------------ report
@fuzz(160)
@given(
    kind=st.sampled_from(["missing", "file", "empty", "db", "claims"]),
    content=st.binary(max_size=200),
)
def test_fuzz_report_folders(kind: str, content: bytes) -> None:
    with workspace() as ws:
        folder = ws / "f"
        if kind == "file":
            folder.write_bytes(content)
        elif kind != "missing":
            folder.mkdir()
            if kind == "db":
                (folder / "results.sqlite").write_bytes(content)
            elif kind == "claims":
                (folder / "claims.json").write_bytes(content)
        run_cli(ws, ["report", "f"], {"f"}, "report")
        before = {p: p.read_bytes() for p in ws.rglob("*") if p.is_file()}
        assert all(p.read_bytes() == b for p, b in before.items())


def test_the_fuzz_suite_generated_at_least_2000_inputs() -> None:
    """Counted, not assumed: the inputs the tests above actually ran (when they all ran)."""
    inputs = {k: v for k, v in COUNTS.items() if ": exit" not in k}
    if len(inputs) < 11:
        pytest.skip("only part of the fuzz suite was selected")
    assert sum(inputs.values()) >= 2000, dict(COUNTS)
