"""``import scaletime as st`` is the front door: every public name resolves, lazily."""

from __future__ import annotations

import inspect
import subprocess
import sys

import scaletime as st


def test_every_public_name_resolves_to_a_documented_object():
    for name in st.__all__:
        value = getattr(st, name)
        assert value is not None, name
        if callable(value):
            assert inspect.getdoc(value), f"st.{name} has no docstring"


def test_unknown_name_is_a_clear_attribute_error():
    try:
        st.no_such_thing  # noqa: B018
    except AttributeError as err:
        assert "no_such_thing" in str(err)
    else:
        raise AssertionError("expected AttributeError")


def test_import_is_lazy():
    code = "import sys, scaletime; print('torch' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_report_reproduce_keeps_its_signature():
    from scaletime.report import reproduce_paper
    from scaletime.report.reproduce import reproduce_paper as direct

    assert reproduce_paper is direct
    assert "scale" in inspect.signature(reproduce_paper).parameters


def test_readme_python_example_runs_as_written(tmp_path, monkeypatch):
    """The README's API block, verbatim, on a smaller copy of the demo spec (and a report
    that scores two laws, not the catalogue)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    block = re.search(
        r"```python\n(import scaletime as st\n.*?)```", (root / "README.md").read_text(), re.S
    )
    assert block, "README has no Python example"
    spec = (root / "configs" / "demo.toml").read_text()
    spec = re.sub(r"widths = \[.*\]", "widths = [1, 4, 16, 64]", spec)
    spec = re.sub(r"sizes = \[.*\]", "sizes = [1000]", spec)
    spec = re.sub(r"epochs = \d+", "epochs = 4", spec)
    spec = re.sub(r"checkpoints = \d+", "checkpoints = 8", spec)
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "demo.toml").write_text(spec)
    monkeypatch.chdir(tmp_path)
    # The report's law scores are tested elsewhere; two laws keep this test under a minute.
    from functools import partial

    from scaletime.report.sweep import ReportOptions

    quick = ReportOptions(laws=("power", "chinchilla-time"), n_boot=100)
    monkeypatch.setattr(st, "write_report", partial(st.write_report, options=quick))
    exec(compile(block.group(1), "README.md", "exec"), {})  # our own README, not user input
    assert (tmp_path / "runs" / "demo" / "report.html").stat().st_size > 10_000


def test_no_front_door_name_is_shadowed_by_a_subpackage():
    """Importing ``scaletime.X`` sets the attribute ``X`` on the package: a front-door name equal
    to a subpackage's would turn into that module once anything imported it."""
    import pkgutil

    subpackages = {m.name for m in pkgutil.iter_modules(st.__path__)}
    assert not subpackages & set(st.__all__)
    import scaletime.forecasting.api  # noqa: F401

    assert callable(st.forecast) and inspect.isfunction(st.forecast)
