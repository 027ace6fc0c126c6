"""Every shell and Python example in README.md and docs/*.md runs (issue 17), on small data.

Each fenced ``bash`` or ``python`` block is one test, run in a shared sandbox that holds what the
examples name: ``configs/`` (the shipped specs, ``demo.toml`` shrunk), ``runs/demo`` and
``runs/my-sweep`` (a small sweep, trained once; ``demo-out`` and ``runs/mnist-*`` are copies),
``my-sweep.toml``, its tidy table as ``curves.csv`` / ``curves.parquet`` / ``table.csv``, a unified
fit ``fit.json`` (no bootstrap), ``chinchilla.csv`` and the Alabdulmohsin language table. Blocks of one file run in order, so a
``fit -o fit.json`` feeds the ``predict fit.json`` after it.

A block that cannot run here carries a visible tag on the line above its fence::

    <!-- docs-test: skip REASON -->

and is reported as skipped with that reason. An untagged block that fails fails its test; in a
shell block every line must be a ``scaletime`` command (anything else needs a tag).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "external"
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(bash|python)\n(.*?)^```", re.S | re.M)
TAG = re.compile(r"<!--\s*docs-test:\s*skip\s+(.+?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    lang: str
    code: str
    skip: str | None

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def _blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    out = []
    for m in FENCE.finditer(text):
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        tag = TAG.search(before)
        line = text[: m.start()].count("\n") + 1
        out.append(Block(path, line, m.group(1), m.group(2), tag.group(1) if tag else None))
    return out


BLOCKS = [b for f in FILES for b in _blocks(f)]


def _commands(code: str) -> list[list[str]]:
    """The shell block's commands: continuation lines joined, comments dropped."""
    joined = code.replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            commands.append(words)
    return commands


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files and folders the examples name, the sweeps trained once."""
    from scaletime.sweep.executor import run_sweep
    from scaletime.sweep.export import load_table
    from scaletime.sweep.spec import load_spec

    box = tmp_path_factory.mktemp("docs")
    shutil.copytree(ROOT / "src" / "scaletime" / "configs", box / "configs")
    spec = (box / "configs" / "demo.toml").read_text()
    spec = re.sub(r"widths = \[.*\]", "widths = [1, 4, 16, 64]", spec)
    spec = re.sub(r"sizes = \[.*\]", "sizes = [1000]", spec)
    spec = re.sub(r"epochs = \d+", "epochs = 4", spec)
    spec = re.sub(r"checkpoints = \d+", "checkpoints = 8", spec)
    (box / "configs" / "demo.toml").write_text(spec)
    (box / "my-sweep.toml").write_text(spec)
    run_sweep(load_spec(box / "my-sweep.toml"), box / "runs" / "demo", show_progress=False)
    for name in ("runs/my-sweep", "demo-out", "runs/mnist-mlp", "runs/mnist-adam"):
        shutil.copytree(box / "runs" / "demo", box / name)
    shutil.copytree(box / "runs" / "demo", box / "runs" / "mnist-lr-inverse-width")
    table = load_table(box / "runs" / "demo")
    table.to_parquet(box / "curves.parquet")
    table.to_csv(box / "curves.csv", index=False)
    table.to_csv(box / "table.csv", index=False)
    fit = [sys.executable, "-m", "scaletime", "fit", "runs/demo", "--law", "unified"]
    subprocess.run(
        [*fit, "--bootstrap", "0", "-o", "fit.json"], cwd=box, check=True, capture_output=True
    )
    shutil.copy(SHARED / "chinchilla_epoch_svg_extracted.csv", box / "chinchilla.csv")
    shutil.copy(SHARED / "alabdulmohsin_benchmark_lang.csv", box)
    return box


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_example_runs(block: Block, sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if block.skip:
        pytest.skip(block.skip)
    monkeypatch.chdir(sandbox)
    if block.lang == "python":
        exec(compile(block.code, block.id, "exec"), {})  # the project's own docs, not user input
        return
    env = {**os.environ, "COLUMNS": "100"}
    for words in _commands(block.code):
        assert words[0] == "scaletime", (
            f"{block.id}: {words[0]!r} is not a scaletime command; tag it"
        )
        done = subprocess.run(
            [sys.executable, "-m", "scaletime", *words[1:]],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert done.returncode == 0, f"{block.id}: {shlex.join(words)}\n{done.stdout}{done.stderr}"


def test_every_skip_gives_a_reason() -> None:
    tagged = [b for b in BLOCKS if b.skip is not None]
    assert all(len(b.skip) >= 10 for b in tagged), [b.id for b in tagged if len(b.skip) < 10]
    assert len(tagged) < len(BLOCKS)  # most examples run


def test_the_chinchilla_example_reproduces_epochs_refit(sandbox: Path) -> None:
    """docs/cli.md's Chinchilla command (run above) gives Epoch AI's refit (β = 0.366)."""
    import json

    fitted = sandbox / "epoch.json"
    if not fitted.is_file():
        pytest.skip("the Chinchilla example did not run")
    params = json.loads(fitted.read_text())["params"]
    assert abs(params["beta"] - 0.366) < 0.005 and abs(params["alpha"] - 0.348) < 0.005
    assert abs(params["E"] - 1.817) < 0.01
