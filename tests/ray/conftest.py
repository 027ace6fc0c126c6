"""A real two-node Ray cluster on this machine (loopback addresses), for the ``ray`` tests.

The head and a second worker node are started with ``ray start --block --num-cpus 1`` in
private temporary folders with free ports, so the cluster cannot collide with another on this
machine. Teardown stops exactly this cluster: SIGTERM to the two ``ray start`` processes (which
stop what they started), then SIGKILL to any process still alive from the snapshot of their
descendants or naming one of the private folders — by process id, never by name, so nothing
else on the machine is touched (``ray stop`` would stop every Ray process of the user).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

RAY_BIN = Path(sys.executable).with_name("ray")
UNIT_TITLE = "ray::scaletime-unit:"  # process title of a worker training a unit (task name)
TASK_MARKER = ":task_name:scaletime-unit:"  # what a worker logs when it starts a unit
# No usage reports, and no token authentication: with RAY_AUTH_MODE unset, a local ray.init()
# writes ~/.ray/auth_token and every later `ray start` on the machine then requires it.
QUIET_RAY = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_table() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, command line) of every process readable in /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, IndexError, ValueError):
            continue
        table[int(entry)] = (ppid, cmd)
    return table


def descendants(roots: set[int], table: dict[int, tuple[int, str]]) -> set[int]:
    found, frontier = set(), set(roots)
    while frontier:
        children = {pid for pid, (ppid, _) in table.items() if ppid in frontier} - found
        found |= children
        frontier = children
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@dataclass
class RayTestCluster:
    """Handles on the test cluster: its address, its processes, its nodes' logs."""

    address: str
    root: Path  # holds head/ and worker/ (each node's --temp-dir) and an empty data cache
    starters: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def node_dirs(self) -> dict[str, Path]:
        return {"head": self.root / "head", "worker": self.root / "worker"}

    @property
    def worker_data_cache(self) -> Path:
        """``SCALETIME_DATA`` of both nodes: stays empty unless a worker loads a dataset itself."""
        return self.root / "node-cache"

    def driver_env(self) -> dict[str, str]:
        """Environment of a driver process: this cluster's address, given explicitly."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
        return {**env, "RAY_ADDRESS": self.address, **QUIET_RAY}

    def pids(self) -> dict[int, str]:
        """Every live process of this cluster: descendants of the starters, or naming its folders."""
        table = proc_table()
        roots = {p.pid for p in self.starters}
        mine = descendants(roots, table) | (roots & set(table))
        mine |= {pid for pid, (_, cmd) in table.items() if str(self.root) in cmd}
        mine.discard(os.getpid())
        return {pid: table[pid][1] for pid in mine if pid in table and alive(pid)}

    def unit_workers(self) -> dict[int, str]:
        """Worker processes of this cluster that are training a unit right now."""
        return {pid: cmd for pid, cmd in self.pids().items() if cmd.startswith(UNIT_TITLE)}

    def units_started(self) -> dict[str, int]:
        """Per node: how many unit executions its workers have logged so far."""
        counts = {}
        for node, folder in self.node_dirs.items():
            logs = {log.resolve() for log in folder.glob("session_*/logs/worker-*.out")}
            counts[node] = sum(log.read_text(errors="replace").count(TASK_MARKER) for log in logs)
        return counts


def _wait_for_nodes(address: str, n: int, env: dict[str, str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        res = subprocess.run(
            [str(RAY_BIN), "status", "--address", address],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        last = res.stdout + res.stderr
        active = last.split("Active:", 1)[-1].split("Pending:", 1)[0] if "Active:" in last else ""
        if active.count("node_") >= n:
            return
        time.sleep(1)
    raise RuntimeError(f"the test Ray cluster did not reach {n} nodes:\n{last}")


def stop_cluster(cluster: RayTestCluster) -> list[str]:
    """Stop exactly this cluster; return the command lines of processes that had to be killed."""
    snapshot = cluster.pids()
    for proc in reversed(cluster.starters):  # the worker node first, the head last
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in reversed(cluster.starters):
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    killed = []
    deadline = time.monotonic() + 10
    while True:
        left = {pid: cmd for pid, cmd in {**snapshot, **cluster.pids()}.items() if alive(pid)}
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    table = proc_table()
    for pid, cmd in left.items():
        if pid in table and table[pid][1] == cmd:  # the same process, not a reused pid
            os.kill(pid, signal.SIGKILL)
            killed.append(cmd)
    return killed


@pytest.fixture
def quiet_ray_env():
    """``apply(monkeypatch)``: this process starts Ray as the test cluster does, no RAY_ADDRESS."""

    def apply(monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("RAY_ADDRESS", raising=False)
        for name, value in QUIET_RAY.items():
            monkeypatch.setenv(name, value)

    return apply


@pytest.fixture
def processes_naming():
    """``find(text)``: pid → command line of the live processes whose command line has ``text``."""

    def find(text: str) -> dict[int, str]:
        return {pid: cmd for pid, (_, cmd) in proc_table().items() if text in cmd and alive(pid)}

    return find


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayTestCluster]:
    """A head node and a second worker node (1 CPU each) on loopback; stopped at the end."""
    pytest.importorskip("ray", reason="needs the ray extra: pip install 'scaletime[ray]'")
    root = Path(tempfile.mkdtemp(prefix="st-ray-", dir="/tmp"))  # short: unix socket paths
    port = free_port()
    cluster = RayTestCluster(address=f"127.0.0.1:{port}", root=root)
    cluster.worker_data_cache.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RAY_")},
        **QUIET_RAY,
        "SCALETIME_DATA": str(cluster.worker_data_cache),
    }
    common = [
        "--block", "--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--num-gpus", "0",
        "--object-store-memory", str(100 * 1024**2), "--disable-usage-stats",
    ]  # fmt: skip
    head = [
        str(RAY_BIN), "start", "--head", "--port", str(port), *common,
        "--temp-dir", str(cluster.node_dirs["head"]), "--include-dashboard", "false",
        "--dashboard-port", str(free_port()), "--ray-client-server-port", str(free_port()),
        "--dashboard-agent-listen-port", str(free_port()),
    ]  # fmt: skip
    worker = [
        str(RAY_BIN), "start", "--address", cluster.address, *common,
        "--temp-dir", str(cluster.node_dirs["worker"]),
        "--dashboard-agent-listen-port", str(free_port()),
    ]  # fmt: skip
    try:
        for name, cmd in (("head", head), ("worker", worker)):
            log = open(root / f"{name}.log", "wb")  # noqa: SIM115 (lives as long as the node)
            cluster.starters.append(
                subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
            )
            if name == "head":
                _wait_for_nodes(cluster.address, 1, env, timeout=90)
        _wait_for_nodes(cluster.address, 2, env, timeout=90)
        yield cluster
    finally:
        stop_cluster(cluster)
        shutil.rmtree(root, ignore_errors=True)
