"""Progress tells the truth off a terminal too (issue 17): a log file gets plain lines with the
share done, elapsed time, rate and time left, ending at 100%."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from scaletime.sweep.executor import _PlainProgress, run_sweep
from scaletime.sweep.spec import parse_spec

SPEC = {
    "name": "progress",
    "seeds": [0, 1],
    "data": {"dataset": "digits", "sizes": [200]},
    "model": {"widths": [2, 4, 8]},
    "train": {"batch_size": 50, "epochs": 10, "checkpoints": 10, "first_checkpoint": 0.1},
    "execution": {"device": "cpu"},
}
LINE = re.compile(
    r"^training +(\d+)%: [\d.]+/[\d.]+ epochs · \d+:\d\d:\d\d elapsed · [\d.e+-]+ epochs/s · "
    r"(\d+:\d\d:\d\d|-:--:--) left$"
)


def test_a_log_file_gets_plain_progress_lines(tmp_path: Path) -> None:
    log = io.StringIO()
    console = Console(file=log, width=200)  # a file, not a terminal
    assert not console.is_terminal
    run_sweep(parse_spec(SPEC), tmp_path / "s", console=console)
    lines = log.getvalue().splitlines()
    assert "work units (a unit: runs trained together as one ensemble)" in lines[0]
    shares = [int(m.group(1)) for m in map(LINE.match, lines) if m]
    assert len(shares) >= 3, lines  # several lines during the sweep, not only at the end
    assert shares == sorted(shares) and shares[-1] == 100
    assert not any("━" in line for line in lines)  # no bar drawn into a file


def test_plain_progress_prints_per_tenth_or_per_interval() -> None:
    log = io.StringIO()
    progress = _PlainProgress(Console(file=log, width=200), total=100.0, seconds=1e9)
    for _ in range(100):
        progress.advance(1.0)
    lines = log.getvalue().splitlines()
    assert [int(LINE.match(line).group(1)) for line in lines] == list(range(10, 101, 10))
    timed = io.StringIO()
    every = _PlainProgress(Console(file=timed, width=200), total=1e6, seconds=0.0)
    every.advance(1.0)
    every.advance(1.0)
    assert len(timed.getvalue().splitlines()) == 2  # the interval elapsed: a line each time
