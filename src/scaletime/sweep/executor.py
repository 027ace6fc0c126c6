"""Running a sweep: plan, skip what is finished, train the rest unit by unit, store everything.

The driver (:func:`run_sweep`) is the only writer of the results database. Work units are
executed by an *executor*; the local one trains them in this process, streaming each checkpoint to
the driver, which commits it in one transaction. A unit is a pure function of (spec, unit):
:func:`execute_unit` is what a remote executor (Ray, ``docs/distributed.md``) calls.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from scaletime.data import Dataset, load_dataset
from scaletime.engine import Measurement, train_members
from scaletime.models import param_count
from scaletime.sweep.plan import (
    Run,
    WorkUnit,
    plan_runs,
    plan_units,
    train_config,
    unit_epochs,
)
from scaletime.sweep.spec import SweepSpec
from scaletime.sweep.store import ResultStore, set_aside, writer_lock

CheckpointSink = Callable[[WorkUnit, list[Measurement]], None]


class Executor(Protocol):
    """Runs work units and reports their rows to ``sink``, called in the driver process.

    Each call carries one or more whole checkpoints of one unit, in increasing epoch order, and is
    committed as one transaction (the local executor sends one checkpoint per call; Ray one unit).
    """

    def run(self, spec: SweepSpec, units: Sequence[WorkUnit], sink: CheckpointSink) -> None: ...


def load_sweep_dataset(spec: SweepSpec) -> Dataset:
    return load_dataset(spec.data.dataset, **spec.data.options)


def execute_unit(
    spec: SweepSpec,
    unit: WorkUnit,
    *,
    dataset: Dataset | None = None,
    device: str | None = None,
    on_checkpoint: Callable[[list[Measurement]], None] | None = None,
) -> list[Measurement]:
    """Train one work unit: a pure function of (spec, unit) → measurements."""
    ds = dataset if dataset is not None else load_sweep_dataset(spec)
    return train_members(
        ds,
        [r.member() for r in unit.runs],
        train_config(spec, device, unit.runs[0].width),
        on_checkpoint=on_checkpoint,
    )


@dataclass
class LocalExecutor:
    """Trains units one after another in this process, on the cores other processes leave free
    (:mod:`scaletime.engine.threads`)."""

    device: str | None = None

    def run(self, spec: SweepSpec, units: Sequence[WorkUnit], sink: CheckpointSink) -> None:
        if not units:
            return
        ds = load_sweep_dataset(spec)
        for unit in units:
            _use_free_cores(train_config(spec, self.device, unit.runs[0].width).device)
            execute_unit(
                spec,
                unit,
                dataset=ds,
                device=self.device,
                on_checkpoint=functools.partial(sink, unit),
            )


def _use_free_cores(device: str) -> None:
    """On the CPU, train on the cores other processes leave free (engine/threads.py)."""
    from scaletime.engine.memory import resolve_device
    from scaletime.engine.threads import choose_threads

    if resolve_device(device).type != "cpu":
        return
    threads = choose_threads()
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def parameter_counts(spec: SweepSpec, runs: Sequence[Run], ds: Dataset) -> dict[str, int]:
    shape = tuple(ds.x_train.shape[1:])
    by_width = {
        w: param_count(spec.model.arch, w, spec.model.resolved_depth, shape, ds.num_classes)
        for w in spec.model.widths
    }
    return {r.key: by_width[r.width] for r in runs}


@dataclass
class SweepOutcome:
    folder: Path
    trained: int
    skipped: int
    diverged: int
    wall_time: float


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    *,
    executor: Executor | None = None,
    console: Console | None = None,
    show_progress: bool = True,
    restart: bool = False,
) -> SweepOutcome:
    """Run (or resume) ``spec`` into the folder ``out``.

    Finished runs are skipped; measurements of runs an earlier attempt left unfinished are deleted
    and those runs trained again, so an interrupted sweep resumes without losing or duplicating work.
    One writer at a time (:func:`~scaletime.sweep.store.writer_lock`). An empty, foreign or
    damaged ``results.sqlite`` is refused; ``restart=True`` sets it aside as a timestamped backup
    and starts afresh.
    """
    console = console or Console(stderr=True)
    executor = executor or LocalExecutor()
    t0 = time.perf_counter()
    # Everything that can refuse the spec (the dataset, the parameter counts) runs before the
    # folder is touched, so a refused spec leaves it as it was.
    runs = plan_runs(spec)
    counts = parameter_counts(spec, runs, load_sweep_dataset(spec))

    def stale(holder: str) -> None:
        console.print(f"taking over the lock left by a writer that ended ({holder})")

    with writer_lock(out, on_stale=stale):
        if restart:
            backup = set_aside(out)
            if backup is not None:
                console.print(f"--restart: the old results database is kept as {backup}")
        return _run_locked(spec, Path(out), runs, counts, executor, console, show_progress, t0)


def _run_locked(
    spec: SweepSpec,
    out: Path,
    runs: list[Run],
    counts: dict[str, int],
    executor: Executor,
    console: Console,
    show_progress: bool,
    t0: float,
) -> SweepOutcome:
    with ResultStore(out, create=True) as store:
        store.attach_spec(spec)
        store.register_runs(runs, counts)
        dropped = store.reset_unfinished()
        if dropped:
            console.print(f"resuming: discarded {dropped} measurements of unfinished runs")
        finished = store.finished_keys()
        todo = [r for r in runs if r.key not in finished]
        units = plan_units(spec, todo)
        console.print(
            f"sweep [bold]{escape(spec.name)}[/] → {escape(str(out))}: {len(runs)} runs, "
            f"{len(runs) - len(todo)} already finished, {len(todo)} to train in {len(units)} work "
            "units (a unit: runs trained together as one ensemble)"
        )
        last_epoch = {u.key: unit_epochs(spec, u) for u in units}
        seen_epoch: dict[str, float] = {}
        diverged = 0

        with _progress(console, show_progress, sum(last_epoch.values())) as progress:

            def sink(unit: WorkUnit, rows: list[Measurement]) -> None:
                nonlocal diverged
                if unit.key not in seen_epoch:
                    store.mark_started(r.key for r in unit.runs)
                    seen_epoch[unit.key] = 0.0
                epoch = max((m.epoch for m in rows), default=seen_epoch[unit.key])
                final = [m.key for m in rows if not m.diverged and m.epoch >= last_epoch[unit.key]]
                store.write_checkpoint(rows, finished=final)
                diverged += sum(m.diverged for m in rows)
                progress.advance(max(0.0, epoch - seen_epoch[unit.key]))
                seen_epoch[unit.key] = epoch

            executor.run(spec, units, sink)
        # A unit whose members all diverged early never reaches the last epoch: its runs are diverged.
        left = set(r.key for r in todo) - store.finished_keys()
        if left:
            raise RuntimeError(f"runs ended without a final checkpoint: {sorted(left)[:5]}")
    return SweepOutcome(
        Path(out), len(todo), len(runs) - len(todo), diverged, time.perf_counter() - t0
    )


class _PlainProgress:
    """Progress for a log file or a pipe (no terminal): one line every ``fraction`` of the total
    or every ``seconds``, whichever comes first, with elapsed time, rate and time left."""

    def __init__(
        self, console: Console, total: float, *, fraction: float = 0.1, seconds: float = 60.0
    ) -> None:
        self.console, self.total = console, max(float(total), 1e-12)
        self.fraction, self.seconds = fraction, seconds
        self.done = 0.0
        self.t0 = self.t_last = time.perf_counter()
        self.step = 1  # the next line is due at step × fraction

    def advance(self, amount: float) -> None:
        self.done += amount
        now = time.perf_counter()
        share = self.done / self.total
        due = share >= self.step * self.fraction - 1e-9
        if due or now - self.t_last >= self.seconds:
            while self.step * self.fraction - 1e-9 <= share:
                self.step += 1
            self.t_last = now
            elapsed = now - self.t0
            rate = self.done / elapsed if elapsed > 0 else 0.0
            left = (self.total - self.done) / rate if rate > 0 else float("nan")
            self.console.print(
                f"training {min(share, 1.0):4.0%}: {self.done:.4g}/{self.total:.4g} epochs · "
                f"{_clock(elapsed)} elapsed · {rate:.3g} epochs/s · {_clock(left)} left",
                highlight=False,
            )


def _clock(seconds: float) -> str:
    """``h:mm:ss`` (``-:--:--`` when unknown)."""
    if not math.isfinite(seconds):
        return "-:--:--"
    s = round(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class _BarProgress:
    """The rich bar on a terminal: done, elapsed and time left, each labelled."""

    def __init__(self, console: Console, total: float) -> None:
        self.bar = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TextColumn("elapsed ·"),
            TimeRemainingColumn(),
            TextColumn("left"),
            console=console,
            transient=False,
        )
        self.task = self.bar.add_task("training", total=total)

    def advance(self, amount: float) -> None:
        self.bar.advance(self.task, amount)


@contextmanager
def _progress(console: Console, enabled: bool, total: float) -> Iterator[Any]:
    """The rich bar on a terminal, plain lines elsewhere, nothing when disabled; measured in
    epochs summed over the work units."""
    if not enabled:
        yield _NoProgress()
    elif console.is_terminal:
        shown = _BarProgress(console, total)
        with shown.bar:
            yield shown
    else:
        yield _PlainProgress(console, total)


class _NoProgress:
    def advance(self, amount: float) -> None:
        pass
