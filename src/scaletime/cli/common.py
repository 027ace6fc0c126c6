"""What every command shares: the one way to fail, the one error handler, output-path checks,
and safe terminal text.

A command fails with :func:`fail` (``error: MESSAGE`` on stderr, exit status 2) and runs its work
inside :func:`user_errors`, which turns the library's errors into that message; user strings —
column names, setting values, file names, error messages that quote them — go through
:func:`safe`, so rich markup (``[link=...]``) and terminal control sequences (``ESC [31m``) are
shown, never interpreted.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from scaletime.errors import ScaletimeError

err_console = Console(stderr=True)


def safe(text: object) -> str:
    """``text`` for the terminal: control characters written as escapes (``\\x1b``), rich markup
    escaped. Newlines and tabs are kept."""
    s = str(text)
    if not s.isprintable():
        s = "".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in s)
    return escape(s)


def failure(message: object) -> typer.Exit:
    """Print ``error: MESSAGE`` (made :func:`safe`) on stderr; return the exit (status 2) to raise."""
    err_console.print(f"[red]error:[/] {safe(message)}")
    return typer.Exit(2)


def fail(message: object) -> NoReturn:
    """Print ``error: MESSAGE`` on stderr and exit with status 2."""
    raise failure(message)


@contextmanager
def user_errors(*, interrupted: str | None = None) -> Iterator[None]:
    """The one error handler of every command.

    A library error (:class:`ScaletimeError`), a bad value (``ValueError``) or a file error
    (``OSError``) ends the command with ``error: MESSAGE`` and exit status 2, no traceback; Typer's
    own exits and parameter errors pass through. With ``interrupted``, Ctrl-C prints
    ``interrupted: <interrupted>`` and exits with status 130 (else it propagates).
    """
    try:
        yield
    except (typer.Exit, typer.BadParameter):
        raise
    except (ScaletimeError, ValueError, OSError) as err:
        raise failure(err) from None
    except KeyboardInterrupt:
        if interrupted is None:
            raise
        err_console.print(f"[yellow]interrupted[/]: {interrupted}")
        raise typer.Exit(130) from None


def step_printer(console: Console | None = None) -> Callable[[str], None]:
    """A ``progress`` callback for long analyses: one line per step, with the time elapsed
    since the first (``  0:01:05  fitting unified with size held out (1/13)``)."""
    out = console or err_console
    start: list[float] = []

    def say(step: str) -> None:
        now = time.perf_counter()
        if not start:
            start.append(now)
        s = round(now - start[0])
        out.print(f"  {s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}  {safe(step)}", highlight=False)

    return say


def check_output(path: Path | None, option: str) -> None:
    """Refuse an output path that cannot be written — before the work, not after it: an existing
    folder, or a location whose nearest existing parent is not a writable folder. The missing
    parent folders are created."""
    if path is None:
        return
    path = Path(path)
    if path.is_dir():
        fail(f"{option} {path}: is a folder; give a file name")
    parent = path.parent
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        fail(f"{option} {path}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        fail(f"{option} {path}: cannot write in {existing} (permission denied)")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        fail(f"{option} {path}: cannot create {parent}: {err.strerror or err}")
