"""How many intra-op threads a CPU run should use on a machine other processes share.

With two threads on two cores where another process holds one, every parallel region waits for
its descheduled thread: the demo sweep ran 100× slower under load (docs/engine.md, "Shared
machines"). One thread per *free* core avoids the wait, so the local executor asks
:func:`free_cores` before each work unit, unless the user fixed the count (``OMP_NUM_THREADS``,
``SCALETIME_THREADS``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["busy_cores", "choose_threads", "free_cores"]

_STAT = Path("/proc/stat")


def _cpu_jiffies() -> tuple[float, float] | None:
    """(busy, total) jiffies of all CPUs since boot, from ``/proc/stat``; None elsewhere."""
    try:
        fields = _STAT.read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    values = [float(v) for v in fields[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0.0)  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return total - idle, total


def busy_cores(sample_s: float = 0.1) -> float | None:
    """Cores kept busy by *other* processes: the machine's busy share over ``sample_s`` (this
    process's own CPU time taken out) × the core count; None where it cannot be measured."""
    cores = os.cpu_count() or 1
    first, mine0 = _cpu_jiffies(), time.process_time()
    if first is None:
        try:
            return min(float(cores), os.getloadavg()[0])
        except (OSError, AttributeError):
            return None
    t0 = time.perf_counter()
    time.sleep(sample_s)
    second, mine1 = _cpu_jiffies(), time.process_time()
    wall = time.perf_counter() - t0
    if second is None or second[1] <= first[1] or wall <= 0:
        return None
    share = (second[0] - first[0]) / (second[1] - first[1])
    return max(0.0, share * cores - (mine1 - mine0) / wall)


def free_cores(cores: int | None = None, busy: float | None = None) -> int:
    """``cores − busy`` rounded, at least 1 and at most ``cores`` (``busy`` measured if None)."""
    cores = cores or os.cpu_count() or 1
    busy = busy_cores() if busy is None else busy
    if busy is None:
        return cores
    return int(min(cores, max(1, round(cores - busy))))


def choose_threads() -> int | None:
    """The thread count for the next CPU unit: ``SCALETIME_THREADS`` if set, None (torch's own
    setting) if ``OMP_NUM_THREADS`` is set, else :func:`free_cores`."""
    fixed = os.environ.get("SCALETIME_THREADS")
    if fixed:
        try:
            return max(1, int(fixed))
        except ValueError:
            raise ValueError(f"SCALETIME_THREADS must be a whole number, got {fixed!r}") from None
    if os.environ.get("OMP_NUM_THREADS"):
        return None
    return free_cores()
