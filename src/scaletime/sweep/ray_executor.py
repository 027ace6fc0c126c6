"""Running a sweep's work units as Ray tasks, on one machine or a cluster (``--executor ray``).

The driver (:func:`scaletime.sweep.executor.run_sweep`) plans the units and alone writes the
results database; :class:`RayExecutor` submits every unit as one Ray task and hands each finished
unit back to the driver as it completes, so the progress bar moves unit by unit.

Design (``docs/distributed.md``):

* **Data.** The driver loads the dataset once and puts it in Ray's object store once
  (``ray.put``); every task receives the same reference. Each node then pulls the arrays once into
  its own shared-memory store, and the tasks on that node read them without copying. Workers need
  no dataset cache and no access to the dataset's source (npm, apt, a shared archive), and every
  node is guaranteed to train on byte-identical arrays, which keeps the results
  executor-independent.
* **One transaction per unit.** A task returns the unit's full list of measurements; the driver
  passes them to the sink in one call (rows ordered by checkpoint), which the store commits in
  one transaction and which marks the unit's runs finished. A driver killed at any moment leaves
  whole units or nothing, and re-running the command resumes (the store's resume logic).
* **Fault tolerance.** A task whose worker process or node dies is re-executed by Ray
  (``max_retries``). Each unit has exactly one task and one result reference, removed from the
  pending set when it is written, so a unit is never written twice; an error raised *by* the
  training code is deterministic and is not retried.
* **Threads.** Each task sets ``torch.set_num_threads`` to its CPU allotment (``cpus_per_task``,
  default 1), so a node runs as many units at once as it has CPUs without oversubscription.

Ray is an optional extra: ``pip install 'scaletime[ray]'``. Importing this module does not need
it; using :class:`RayExecutor` without it raises :class:`RayNotInstalled` with that instruction.
"""

from __future__ import annotations

import importlib
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from rich.console import Console

from scaletime import __version__
from scaletime.data import Dataset
from scaletime.engine import Measurement
from scaletime.errors import ScaletimeError
from scaletime.sweep.executor import CheckpointSink, execute_unit, load_sweep_dataset
from scaletime.sweep.plan import WorkUnit
from scaletime.sweep.spec import SweepSpec

INSTALL_HINT = "pip install 'scaletime[ray]'"


class RayNotInstalled(ScaletimeError):
    """``--executor ray`` was asked for but Ray cannot be imported; the message says how to install it."""


class RayClusterError(ScaletimeError):
    """The Ray cluster cannot be reached, or lost a unit beyond its retries."""


def import_ray() -> ModuleType:
    """Import and return :mod:`ray`, or raise :class:`RayNotInstalled` saying how to install it."""
    try:
        return importlib.import_module("ray")
    except ImportError as err:
        raise RayNotInstalled(
            f"the ray executor needs Ray, which is not installed ({err}). "
            f"Install it with: {INSTALL_HINT}"
        ) from None


def _torch_version() -> str:
    import torch

    return str(torch.__version__)


def _train_unit(
    spec: SweepSpec,
    unit: WorkUnit,
    dataset: Dataset,
    device: str,
    threads: int,
    driver_versions: tuple[str, str],
) -> list[Measurement]:
    """The Ray task: train one unit on a worker and return all its measurements.

    ``dataset`` arrives from the object store (Ray resolves the reference). ``threads`` is the
    task's CPU allotment. ``driver_versions`` (scaletime, torch) must match the worker's:
    a different version could give different numbers, so it is refused rather than mixed in.
    """
    import torch

    worker_versions = (__version__, _torch_version())
    if worker_versions != tuple(driver_versions):
        raise ScaletimeError(
            f"this Ray worker has scaletime {worker_versions[0]} with torch {worker_versions[1]}, "
            f"the driver scaletime {driver_versions[0]} with torch {driver_versions[1]}: install "
            "the same versions on every node (docs/distributed.md, What the nodes need)"
        )
    torch.set_num_threads(threads)
    return execute_unit(spec, unit, dataset=dataset, device=device)


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """Fail fast when nothing listens at ``host:port`` (``ray.init`` would retry for minutes)."""
    host_port = address.removeprefix("ray://")
    host, sep, port = host_port.rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto" or a form Ray resolves itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as err:
        raise RayClusterError(
            f"no Ray cluster answers at {address} ({err}). Give the head node's address "
            "(host:6379 by default, or ray://host:10001 for Ray Client) and check that the "
            "cluster is up (`ray status`)."
        ) from None


@dataclass
class RayExecutor:
    """Trains work units as Ray tasks; the driver writes each finished unit in one transaction.

    Parameters
    ----------
    address : str, optional
        Ray cluster to connect to (``host:port`` of the head node's GCS, ``ray://host:10001`` for
        Ray Client, or ``auto`` for the cluster started on this machine with ``ray start``).
        ``None``: the ``RAY_ADDRESS`` environment variable if set, otherwise start a private local
        Ray instance for this sweep and stop it afterwards.
    cpus_per_task : int
        CPUs reserved per unit; also the task's torch thread count.
    gpus_per_task : float, optional
        GPUs reserved per unit (fractions share a GPU). ``None``: 1 when the device is ``cuda``,
        or ``auto`` on a cluster that has GPUs; 0 otherwise.
    device : str, optional
        Overrides the spec's ``execution.device`` (``auto``, ``cpu``, ``cuda``).
    max_retries : int
        How many times Ray re-executes a unit whose worker process or node died.
    num_cpus : int, optional
        CPUs of a local instance this executor starts (default: all); ignored on a cluster.
    temp_dir : str, optional
        Temporary folder (sockets, logs) of a local instance this executor starts.
    console : Console, optional
        Where to say which cluster is used and what is submitted.
    init_kwargs : dict
        Further keyword arguments for ``ray.init`` (``runtime_env``, ``namespace``, ...).
    """

    address: str | None = None
    cpus_per_task: int = 1
    gpus_per_task: float | None = None
    device: str | None = None
    max_retries: int = 3
    num_cpus: int | None = None
    temp_dir: str | None = None
    console: Console | None = None
    init_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.cpus_per_task, bool) or self.cpus_per_task < 1:
            raise ValueError(
                f"cpus_per_task must be a positive integer, got {self.cpus_per_task!r}"
            )
        if self.gpus_per_task is not None and self.gpus_per_task < 0:
            raise ValueError(f"gpus_per_task must be >= 0, got {self.gpus_per_task!r}")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries!r}")
        import_ray()  # fail early, before the sweep folder is touched

    # -- the Executor protocol ------------------------------------------------------------------
    def run(self, spec: SweepSpec, units: Sequence[WorkUnit], sink: CheckpointSink) -> None:
        """Train ``units`` on the cluster; call ``sink(unit, rows)`` once per finished unit.

        ``rows`` are all the unit's measurements, grouped by checkpoint in increasing epoch
        order; the driver's store commits them in one transaction.
        """
        if not units:
            return
        ray = import_ray()
        started_here = self._connect(ray)
        pending: dict[Any, WorkUnit] = {}
        try:
            device, gpus = self._placement(ray, spec)
            dataset_ref = ray.put(load_sweep_dataset(spec))
            task = ray.remote(_train_unit)
            versions = (__version__, _torch_version())
            for unit in units:
                ref = task.options(
                    name=f"scaletime-unit:{unit.key}",
                    num_cpus=self.cpus_per_task,
                    num_gpus=gpus,
                    max_retries=self.max_retries,
                    retry_exceptions=False,
                ).remote(spec, unit, dataset_ref, device, self.cpus_per_task, versions)
                pending[ref] = unit
            self._say(
                f"ray: {len(units)} units submitted ({self.cpus_per_task} CPU"
                + (f", {gpus:g} GPU" if gpus else "")
                + f" each, device {device})"
            )
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    unit = pending.pop(ref)
                    rows = self._result(ray, ref, unit)
                    sink(unit, sorted(rows, key=lambda m: m.epoch))  # by checkpoint, stable
        finally:
            for ref in pending:  # an error or an interrupt: stop what is still queued or running
                ray.cancel(ref, force=True)
            if started_here:
                ray.shutdown()

    # -- helpers ----------------------------------------------------------------------------------
    def _say(self, message: str) -> None:
        if self.console is not None:
            self.console.print(message)

    def _connect(self, ray: ModuleType) -> bool:
        """Connect to (or start) Ray unless this process already is connected. True if connected here."""
        if ray.is_initialized():
            return False
        address = self.address or os.environ.get("RAY_ADDRESS") or None
        kwargs: dict[str, Any] = {"log_to_driver": False, **self.init_kwargs}
        if address is None:
            kwargs.setdefault("include_dashboard", False)
            if self.num_cpus is not None:
                kwargs["num_cpus"] = self.num_cpus
            if self.temp_dir is not None:
                kwargs["_temp_dir"] = str(self.temp_dir)
        else:
            _check_reachable(address)
        try:
            ray.init(address=address or "local", **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise RayClusterError(
                f"cannot connect to the Ray cluster at {address}: {err}. Check the address "
                "(the head node's host:port, or ray://host:10001) and that the cluster is up "
                "(`ray status`)."
            ) from None
        resources = ray.cluster_resources()
        where = f"cluster {address}" if address else "a local Ray instance"
        self._say(
            f"ray: connected to {where}: {sum(n['Alive'] for n in ray.nodes())} node(s), "
            f"{resources.get('CPU', 0):g} CPUs, {resources.get('GPU', 0):g} GPUs"
        )
        return True

    def _placement(self, ray: ModuleType, spec: SweepSpec) -> tuple[str, float]:
        """The device each task trains on and the GPUs it reserves."""
        device = self.device or spec.execution.device
        cluster_gpus = float(ray.cluster_resources().get("GPU", 0))
        gpus = self.gpus_per_task
        if gpus is None:
            gpus = 1.0 if device == "cuda" or (device == "auto" and cluster_gpus > 0) else 0.0
        if device == "auto":
            device = "cuda" if gpus > 0 else "cpu"  # never touch a GPU the task did not reserve
        if gpus > 0 and cluster_gpus == 0:
            self._say(
                "[yellow]warning:[/] the units need a GPU but the cluster has none yet: they "
                "wait until a GPU node joins (use --device cpu to train on CPUs)"
            )
        return device, gpus

    def _result(self, ray: ModuleType, ref: Any, unit: WorkUnit) -> list[Measurement]:
        """The finished unit's rows; errors say whether re-running resumes."""
        try:
            return list(ray.get(ref))
        except ray.exceptions.RayTaskError as err:
            cause = getattr(err, "cause", None)
            if isinstance(cause, ScaletimeError):
                raise cause from None
            raise
        except ray.exceptions.RayError as err:
            raise RayClusterError(
                f"unit {unit.key} was lost after {self.max_retries} retries "
                f"({type(err).__name__}: {err}). Finished units are saved: re-run the same "
                "command to resume."
            ) from None
