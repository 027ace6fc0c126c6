"""``scaletime run --executor/--address``: refused with a useful message before anything runs.

These tests need no Ray cluster; the first hides Ray, as on a machine without the extra.
"""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from scaletime.cli import sweep_cmd

SPEC = """
name = "cli"
seeds = [0]
[data]
dataset = "digits"
sizes = [100]
[model]
widths = [2]
[train]
epochs = 1
checkpoints = 2
first_checkpoint = 0.5
"""


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    app.callback()(lambda: None)  # keep "run" a sub-command, as in the real app
    sweep_cmd.register(app)
    return app


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(SPEC)
    return path


def _run(app: typer.Typer, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["run", *args])
    return result.exit_code, " ".join(result.output.split())  # rich wraps long lines


def test_ray_executor_without_ray_says_how_to_install_and_touches_nothing(
    app: typer.Typer, spec_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if not installed
    out = tmp_path / "out"
    code, text = _run(app, str(spec_file), "--out", str(out), "--executor", "ray")
    assert code == 2
    assert "pip install 'scaletime[ray]'" in text
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--executor", "dask"], "is not one of 'local'"),
        (["--address", "127.0.0.1:6379"], "use it with --executor ray"),
    ],
)
def test_bad_executor_options_are_refused_by_name(
    app: typer.Typer, spec_file: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    code, text = _run(app, str(spec_file), "--out", str(out), *args)
    assert code == 2
    assert message in text
    assert not out.exists()


@pytest.mark.ray
def test_an_address_where_no_cluster_answers_fails_in_seconds(
    app: typer.Typer, spec_file: Path, tmp_path: Path
) -> None:
    pytest.importorskip("ray", reason="needs the ray extra: pip install 'scaletime[ray]'")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    code, text = _run(app, str(spec_file), "--out", str(tmp_path / "out"),
                      "--executor", "ray", "--address", f"127.0.0.1:{port}")  # fmt: skip
    assert code == 2
    assert f"no Ray cluster answers at 127.0.0.1:{port}" in text
    assert time.monotonic() - start < 60  # ray.init alone would retry for minutes


def test_a_worker_with_other_versions_than_the_driver_refuses_the_unit() -> None:
    from scaletime.errors import ScaletimeError
    from scaletime.sweep.plan import plan_runs, plan_units
    from scaletime.sweep.ray_executor import _train_unit
    from scaletime.sweep.spec import parse_spec

    spec = parse_spec({"data": {"dataset": "digits", "sizes": [100]}, "model": {"widths": [2]}})
    unit = plan_units(spec, plan_runs(spec))[0]
    with pytest.raises(ScaletimeError, match=r"driver scaletime 0\.0\.0 with torch 1\.0"):
        _train_unit(spec, unit, None, "cpu", 1, ("0.0.0", "1.0"))  # type: ignore[arg-type]
