"""Every command's ``--help`` shows each option's help text as written (no ``[default: …]``
eaten as markup), its default, and the choices of a closed set (issue 17)."""

from __future__ import annotations

import enum
import re
import typing

import pytest
import typer
from typer.testing import CliRunner

from scaletime.cli import app

runner = CliRunner()


def _commands() -> list[tuple[list[str], object]]:
    root = typer.main.get_command(app)
    out = []

    def walk(cmd, path):
        sub = getattr(cmd, "commands", None)
        if sub:
            for name, child in sub.items():
                walk(child, [*path, name])
        else:
            out.append((path, cmd))

    walk(root, [])
    return out


COMMANDS = _commands()


def _choices(annotation: object) -> list[str] | None:
    """The values of a ``Literal`` (or ``Literal | None``) or ``Enum`` annotation."""
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [m.value for m in annotation]
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return list(args)
    for arg in args:
        if typing.get_origin(arg) is typing.Literal:
            return list(typing.get_args(arg))
    return None


def _flat(text: str) -> str:
    return re.sub(r"-\s+", "-", re.sub(r"\s+", " ", text))  # help wraps after hyphens


def test_every_command_is_reached() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"fit", "evaluate", "forecast", "run", "analyze", "data fetch", "theory"} <= names


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_keeps_every_text_default_and_choice(path, command) -> None:
    res = runner.invoke(app, [*path, "--help"], terminal_width=100)
    assert res.exit_code == 0, res.output
    shown = _flat(res.output)
    for param in command.params:
        if param.name == "help" or getattr(param, "hidden", False):
            continue
        help_text = getattr(param, "help", None)
        if help_text:
            assert _flat(help_text) in shown, f"{path} {param.name}: help text lost"
        default = param.default
        one_sided_flag = getattr(param, "is_flag", False) and not param.secondary_opts
        shows_default = getattr(param, "show_default", True) is not False and not one_sided_flag
        if (
            shows_default
            and not param.required
            and default not in (None, (), [])
            and param.param_type_name == "option"
        ):
            assert "[default:" in shown, f"{path} {param.name}: no default shown"
            value = default.value if hasattr(default, "value") else default
            if not isinstance(value, bool):
                label = (
                    ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
                )
                assert f"[default: {label}]" in shown or f"[default: {label}" in shown, (
                    f"{path} {param.name}: default {label!r} not shown"
                )
        choices = _choices(param.type_descriptor.annotation)
        if choices and param.metavar is None:
            assert "|".join(map(str, choices)) in shown, f"{path} {param.name}: choices not listed"


def test_version() -> None:
    from scaletime import __version__

    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"scaletime {__version__}"


def test_law_choices_are_listed_and_checked() -> None:
    from scaletime.fitting.laws import LAWS

    shown = _flat(runner.invoke(app, ["fit", "--help"], terminal_width=100).output)
    assert all(name in shown for name in LAWS)
    res = runner.invoke(app, ["fit", "t.csv", "--law", "nonsense", "-o", "f.json"])
    assert res.exit_code == 2 and "nonsense" in res.output
