"""Planning: a spec becomes runs, and runs become work units.

A *run* is one trained network, identified by ``(width, data_size, label_noise, seed, lr)``.
A *work unit* is a deterministic group of runs trained together as one ensemble: the widths of one
(data size, noise, seed, learning rate) share every mini-batch, so the engine can fuse them. A unit
is a pure function of (spec, unit) → measurements (:func:`scaletime.sweep.executor.execute_unit`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from scaletime.engine import Member, TrainConfig
from scaletime.sweep.spec import SweepSpec


@dataclass(frozen=True)
class Run:
    """One network of the grid. ``lr`` is the effective rate after the spec's lr rule."""

    key: str
    width: int
    data_size: int
    label_noise: float
    seed: int
    base_lr: float
    lr: float
    epochs: float = 0.0  # training budget (spec.train.epochs_for(width)); 0: the spec's epochs

    def member(self) -> Member:
        return Member(
            key=self.key,
            width=self.width,
            seed=self.seed,
            data_size=self.data_size,
            label_noise=self.label_noise,
            lr=self.lr,
        )


@dataclass(frozen=True)
class WorkUnit:
    key: str
    runs: tuple[Run, ...]


def run_key(width: int, data_size: int, label_noise: float, seed: int, base_lr: float) -> str:
    return f"w{width}-n{data_size}-noise{label_noise:g}-seed{seed}-lr{base_lr:g}"


def effective_lr(spec: SweepSpec, base_lr: float, width: int) -> float:
    """fixed: η; inverse_width: η·w_ref/w (the μP-like rule that should break scale-time equivalence)."""
    if spec.train.lr_rule == "inverse_width":
        return base_lr * spec.train.lr_ref_width / width
    return base_lr


def plan_runs(spec: SweepSpec) -> list[Run]:
    """Every run of the grid, in a fixed order (data size, noise, lr, seed, width)."""
    runs = []
    for n, noise, lr, seed, w in product(
        spec.data.sizes, spec.data.label_noise, spec.train.lr, spec.seeds, spec.model.widths
    ):
        runs.append(
            Run(
                run_key(w, n, noise, seed, lr),
                w,
                n,
                noise,
                seed,
                lr,
                effective_lr(spec, lr, w),
                spec.train.epochs_for(w),
            )
        )
    return runs


def plan_units(spec: SweepSpec, runs: list[Run]) -> list[WorkUnit]:
    """Group ``runs`` by (data size, noise, lr, seed, epochs budget); split groups above
    ``unit_max_members``. Runs of one unit train the same number of steps."""
    groups: dict[tuple[int, float, float, int, float], list[Run]] = {}
    for r in runs:
        groups.setdefault((r.data_size, r.label_noise, r.base_lr, r.seed, r.epochs), []).append(r)
    cap = spec.execution.unit_max_members
    units = []
    for (n, noise, lr, seed, epochs), members in groups.items():
        for start in range(0, len(members), cap):
            chunk = tuple(members[start : start + cap])
            key = f"n{n}-noise{noise:g}-lr{lr:g}-seed{seed}-w{chunk[0].width}..{chunk[-1].width}"
            if spec.train.epochs_by_width:
                key += f"-e{epochs:g}"
            units.append(WorkUnit(key, chunk))
    return units


def unit_epochs(spec: SweepSpec, unit: WorkUnit) -> float:
    """The training budget of ``unit`` (one per unit, see :func:`plan_units`)."""
    return spec.train.epochs_for(unit.runs[0].width)


def train_config(
    spec: SweepSpec, device: str | None = None, width: int | None = None
) -> TrainConfig:
    """The engine's view of the spec (for the budget of ``width``, default ``epochs``)."""
    t = spec.train
    return TrainConfig(
        arch=spec.model.arch,
        depth=spec.model.resolved_depth,
        optimizer=t.optimizer,
        momentum=t.momentum if t.optimizer == "sgd" else 0.0,
        weight_decay=t.weight_decay,
        batch_size=t.batch_size,
        loss=t.loss,
        epochs=t.epochs if width is None else t.epochs_for(width),
        eval_epochs=t.eval_epochs(width),
        data_seed=spec.data.data_seed,
        test_size=spec.data.test_size,
        device=device or spec.execution.device,
    )
