"""``scaletime run --executor/--address``: refused with a useful message before anything runs.

These tests need no Ray: the first one hides it, as on a machine without the extra.
"""

from __future__ import annotations

import sys
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
        (["--executor", "dask"], "--executor must be local or ray"),
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
