"""Thread choice on a shared machine (issue 17): the cores other processes leave free."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from scaletime.engine.threads import busy_cores, choose_threads, free_cores


def test_free_cores_rounds_and_clamps() -> None:
    assert free_cores(cores=2, busy=0.0) == 2
    assert free_cores(cores=2, busy=0.7) == 1
    assert free_cores(cores=2, busy=2.0) == 1  # never fewer than one
    assert free_cores(cores=8, busy=2.4) == 6
    assert free_cores(cores=4, busy=-1.0) == 4  # never more than the machine


def test_the_user_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCALETIME_THREADS", "3")
    assert choose_threads() == 3
    monkeypatch.delenv("SCALETIME_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert choose_threads() is None  # torch's own setting stays
    monkeypatch.setenv("SCALETIME_THREADS", "many")
    with pytest.raises(ValueError, match="SCALETIME_THREADS"):
        choose_threads()


def test_a_busy_loop_is_seen() -> None:
    quiet = busy_cores(0.3)
    if quiet is None:
        pytest.skip("no /proc/stat or load average here")
    loop = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        loaded = busy_cores(0.5)
    finally:
        loop.kill()
        loop.wait()
    assert loaded is not None and loaded >= 0.6  # one core held by the loop
