"""``train_members``: many networks trained at once, each exactly as if it were trained alone.

Reading order: :func:`train_members` plans *chunks* (members of one data size arranged as a
groups × slots grid that fits the memory budget, :func:`plan_chunks`), then trains each chunk with
:class:`EnsembleTrainer`, whose :meth:`~EnsembleTrainer.fit` is the whole training loop:

    for each epoch: one permutation per group (seeded by the member's seed)
        for each batch: gather inputs and targets → fused forward/backward → one optimiser step
        at a checkpoint: evaluate every member in one pass, report, drop diverged members

See ``docs/engine.md`` for the guarantees (same initialisation, same batches, same numbers as
:func:`scaletime.engine.reference.train_reference`) and the measured speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from scaletime.data import Dataset
from scaletime.engine.config import (
    EngineConfigError,
    Measurement,
    Member,
    Schedule,
    TrainConfig,
    make_schedule,
)
from scaletime.engine.data import (
    MemberData,
    batch_generator,
    epoch_order,
    init_generator,
    prepare_data,
)
from scaletime.engine.ensemble_cnn import CNNEnsemble
from scaletime.engine.ensemble_mlp import MLPEnsemble
from scaletime.engine.layout import Bucket, Layout, plan_buckets
from scaletime.engine.losses import example_error, example_loss
from scaletime.engine.memory import (
    activation_floats,
    default_chunk_bytes,
    estimate_data_bytes,
    estimate_member_bytes,
    resolve_device,
)
from scaletime.engine.optim import FlatOptimizer
from scaletime.models import build_model, layer_macs

Callback = Callable[[list[Measurement]], None]
EPOCH_TARGETS_MAX = 1 << 22  # floats: gather an epoch's targets at once up to 16 MiB
# CNN evaluation blocks on a CPU: small blocks keep the maps in cache (CIFAR-10 CNN width 16,
# 7,000 images: 1.6 s in blocks of 128 rows, 3.5 s in blocks of 4,096; measured)
CPU_CNN_EVAL_ROWS = 128


@dataclass(frozen=True)
class CostModel:
    """How to lay out members on a device (``docs/engine.md``, "How the engine works").

    ``stack``: stack members into batched/grouped kernels. On a CPU, grouped convolutions are
    slower than one convolution per member (measured: 0.86 s vs 0.65 s per step for the CIFAR
    CNN widths 1..16 × 2 seeds, one thread), so CPU CNN members each get their own bucket.
    ``overhead`` (s per bucket per step) and ``rate`` (FLOP/s of small kernels) drive
    :func:`~scaletime.engine.layout.plan_buckets`.
    """

    stack: bool
    overhead: float
    rate: float


COST_MODELS = {  # (device type, arch) -> CostModel
    ("cpu", "mlp"): CostModel(True, 1.6e-4, 5e10),
    ("cpu", "cnn"): CostModel(False, 1.5e-3, 6e10),
    ("cuda", "mlp"): CostModel(True, 3e-4, 1e13),
    ("cuda", "cnn"): CostModel(True, 1e-3, 1e13),
}


@dataclass(frozen=True)
class Chunk:
    """Members trained together: ``members[g·S + s]`` is slot s of group g of ``layout``."""

    data_size: int
    members: tuple[Member, ...]
    layout: Layout


def _bucket_macs(arch: str, width: int, depth: int, input_shape: tuple[int, ...], k: int) -> int:
    """Multiply-adds per example a bucket computes for one member (MLP: all but the shared layer 1)."""
    macs = layer_macs(arch, width, depth, input_shape, k)  # type: ignore[arg-type]
    return sum(macs[1:]) if arch == "mlp" else sum(macs)


def _layout(
    n_groups: int,
    slot_widths: tuple[int, ...],
    cfg: TrainConfig,
    batch: int,
    input_shape: tuple[int, ...],
    num_classes: int,
    device: torch.device,
) -> Layout:
    model = COST_MODELS[(device.type, cfg.arch)]
    if not model.stack:  # one bucket per slot, no padding
        return Layout(
            n_groups, slot_widths, tuple(Bucket((s,), w) for s, w in enumerate(slot_widths))
        )

    def padded_cost(w: int) -> float:
        macs = _bucket_macs(cfg.arch, w, cfg.depth, input_shape, num_classes)
        return 6.0 * n_groups * batch * macs / model.rate

    return Layout(n_groups, slot_widths, plan_buckets(slot_widths, padded_cost, model.overhead))


def plan_chunks(
    members: Sequence[Member],
    cfg: TrainConfig,
    input_shape: tuple[int, ...],
    num_classes: int,
    device: torch.device,
    budget: int,
) -> list[Chunk]:
    """Arrange members into grid-shaped chunks that fit ``budget`` bytes.

    Members of one data size are grouped by seed; seeds whose members have the same widths form
    one grid (slots sorted by width, noise, lr, key). A grid too large for the budget is split
    by groups, and a single group too large by slots; where members are not stacked (CPU CNN,
    :data:`COST_MODELS`) each group is its own chunk. Deterministic in its inputs.
    """
    stack = COST_MODELS[(device.type, cfg.arch)].stack  # else: one group per chunk
    chunks: list[Chunk] = []
    for n in sorted({m.data_size for m in members}):
        batch = n if cfg.optimizer == "gd" else min(cfg.batch_size, n)
        by_seed: dict[int, list[Member]] = {}
        for m in members:
            if m.data_size == n:
                by_seed.setdefault(m.seed, []).append(m)
        grids: dict[tuple[int, ...], list[list[Member]]] = {}
        for seed in sorted(by_seed):
            group = sorted(by_seed[seed], key=lambda m: (m.width, m.label_noise, m.lr, m.key))
            grids.setdefault(tuple(m.width for m in group), []).append(group)

        def cost(width: int, batch: int = batch) -> int:
            return estimate_member_bytes(
                cfg.arch,
                width,
                cfg.depth,
                input_shape,
                num_classes,
                batch,
                cfg.optimizer,
                cfg.momentum,
            )

        for widths, groups in grids.items():
            # split the slots if one group is over budget
            pieces: list[list[int]] = []
            current: list[int] = []
            used = 0
            for s, w in enumerate(widths):
                if current and used + cost(w) > budget:
                    pieces.append(current)
                    current, used = [], 0
                current.append(s)
                used += cost(w)
            pieces.append(current)
            for slots in pieces:
                per_group = sum(cost(widths[s]) for s in slots)
                step = max(1, budget // max(per_group, 1)) if stack else 1
                for start in range(0, len(groups), step):
                    block = groups[start : start + step]
                    slot_widths = tuple(widths[s] for s in slots)
                    layout = _layout(
                        len(block), slot_widths, cfg, batch, input_shape, num_classes, device
                    )
                    grid = tuple(g[s] for g in block for s in slots)
                    chunks.append(Chunk(n, grid, layout))
    return chunks


class EnsembleTrainer:
    """Trains the members of one :class:`Chunk` together.

    Parameters
    ----------
    data : MemberData
        The chunk's data (its data size), on ``device``.
    chunk : Chunk
        Members and layout.
    cfg : TrainConfig
        Training configuration.
    device : torch.device
        Training device.
    input_shape : tuple of int
        One example's shape (as the dataset's).
    eval_rows : int
        Rows per evaluation block.

    Attributes
    ----------
    measurements_ : list of Measurement
        Every row reported by :meth:`fit`.
    alive_ : numpy.ndarray of bool
        Members still training.
    """

    def __init__(
        self,
        data: MemberData,
        chunk: Chunk,
        cfg: TrainConfig,
        device: torch.device,
        input_shape: tuple[int, ...],
        eval_rows: int = 2048,
    ) -> None:
        self.data, self.chunk, self.cfg, self.device = data, chunk, cfg, device
        self.layout = lay = chunk.layout
        self.schedule: Schedule = make_schedule(cfg, chunk.data_size)
        models = [
            build_model(
                cfg.arch,
                m.width,
                cfg.depth,
                input_shape,
                data.num_classes,
                generator=init_generator(m.seed),
            )
            for m in chunk.members
        ]
        ensemble_cls = MLPEnsemble if cfg.arch == "mlp" else CNNEnsemble
        self.net: MLPEnsemble | CNNEnsemble = ensemble_cls(lay, models, device)  # type: ignore[arg-type]
        lrs = torch.tensor([m.lr for m in chunk.members], dtype=torch.float32, device=device)
        owner = self.net.params.owner.long()
        lr = torch.where(owner >= 0, lrs[owner.clamp(min=0)], 0.0)  # padding, ones, null: lr 0
        self.optimizer = FlatOptimizer(cfg.optimizer, lr, cfg.momentum, cfg.weight_decay)
        self.x_train = self.net.prepare_input(data.x_train)
        self.x_test = self.net.prepare_input(data.x_test)
        rates = torch.tensor([data.rate_index(m.label_noise) for m in chunk.members], device=device)
        self.bucket_members = [
            torch.tensor(lay.bucket_members(k), device=device) for k in range(len(lay.buckets))
        ]
        self.bucket_rates = [rates[idx] for idx in self.bucket_members]
        # every member's targets in one gather: member (bucket order) i reads rows
        # group_of[i]'s batch, shifted to its noise rate's block of flat_targets
        stacked = torch.cat(self.bucket_members)
        self.group_of = stacked // lay.n_slots
        self.target_offset = (rates[stacked] * chunk.data_size).unsqueeze(1)
        self.flat_targets = data.targets.view(-1, data.targets.shape[-1])  # (rates·n, K)
        self.bucket_sizes = [len(idx) for idx in self.bucket_members]
        self.n_outputs = data.targets.shape[-1]
        self.eval_rows = eval_rows
        self.alive_ = np.ones(lay.n_members, dtype=bool)
        self.measurements_: list[Measurement] = []

    # ---- one step ------------------------------------------------------------------------
    def _targets(self, index: torch.Tensor) -> torch.Tensor:
        """Targets (M, L, K) of every member (bucket order) at its group's positions ``index`` (G, L)."""
        rows = (index[self.group_of] + self.target_offset).view(-1)
        return self.flat_targets.index_select(0, rows).view(-1, index.shape[1], self.n_outputs)

    def _step(self, index: torch.Tensor, targets: torch.Tensor | None = None) -> None:
        """One optimiser step of every member on its group's batch ``index`` (G, B).

        ``targets`` (M, B, K), if given, are the members' targets of this batch (gathered ahead
        for a whole epoch); otherwise they are gathered here.
        """
        xb = self.net.gather_batch(self.x_train, index)
        if targets is None:
            targets = self._targets(index)
        self.net.train_step(xb, targets.split(self.bucket_sizes), self.cfg.loss)
        self.optimizer.step(self.net.params.data, self.net.params.grad)

    # ---- evaluation ----------------------------------------------------------------------
    @torch.no_grad()
    def _evaluate(self, train: bool) -> tuple[np.ndarray, np.ndarray]:
        """Mean loss and error of every member on its training set (train=True) or the test set."""
        x = self.x_train if train else self.x_test
        n, m = x.shape[0], self.layout.n_members
        loss_sum = torch.zeros(m, dtype=torch.float64, device=self.device)
        err_sum = torch.zeros(m, dtype=torch.float64, device=self.device)
        self.net.set_training(False)
        for start in range(0, n, self.eval_rows):
            rows = slice(start, min(start + self.eval_rows, n))
            for k, out in enumerate(self.net.forward_shared(x[rows])):
                if train:
                    targets = self.data.targets[self.bucket_rates[k], rows]
                    labels = self.data.labels[self.bucket_rates[k], rows]
                else:
                    targets, labels = self.data.t_test[rows], self.data.y_test[rows]
                loss = example_loss(out, targets, self.cfg.loss).sum(1, dtype=torch.float64)
                err = example_error(out, targets, labels, self.data.regression).sum(
                    1, dtype=torch.float64
                )
                loss_sum.index_add_(0, self.bucket_members[k], loss)
                err_sum.index_add_(0, self.bucket_members[k], err)
        self.net.set_training(True)
        return (loss_sum / n).cpu().numpy(), (err_sum / n).cpu().numpy()

    def _checkpoint(self, step: int, started: float, on_checkpoint: Callback | None) -> None:
        train_loss, train_err = self._evaluate(train=True)
        test_loss, test_err = self._evaluate(train=False)
        now = time.perf_counter() - started
        rows = []
        for i in np.flatnonzero(self.alive_):
            diverged = not (np.isfinite(train_loss[i]) and np.isfinite(test_loss[i]))
            rows.append(
                Measurement(
                    key=self.chunk.members[i].key,
                    epoch=self.schedule.epoch(step),
                    step=step,
                    examples_seen=self.schedule.examples_seen(step),
                    train_loss=float(train_loss[i]),
                    test_loss=float(test_loss[i]),
                    train_error=float(train_err[i]),
                    test_error=float(test_err[i]),
                    wall_time=now,
                    diverged=diverged,
                )
            )
            if diverged:
                self._drop(int(i))
        self.measurements_ += rows
        if on_checkpoint is not None and rows:
            on_checkpoint(rows)

    @torch.no_grad()
    def _drop(self, member: int) -> None:
        """Stop training a diverged member: zero its parameters, learning rate and state."""
        self.alive_[member] = False
        mask = self.net.params.owner == member
        self.net.params.data[mask] = 0.0
        self.optimizer.forget(mask)

    # ---- the loop ------------------------------------------------------------------------
    def fit(self, on_checkpoint: Callback | None = None) -> list[Measurement]:
        """Train every member for the schedule, reporting at each checkpoint."""
        sched, started = self.schedule, time.perf_counter()
        checkpoints = set(sched.checkpoint_steps)
        generators = [
            batch_generator(self.chunk.members[g * self.layout.n_slots].seed)
            for g in range(self.layout.n_groups)
        ]
        step = 0
        if 0 in checkpoints:
            self._checkpoint(0, started, on_checkpoint)
        while step < sched.total_steps and self.alive_.any():
            order = torch.stack(
                [epoch_order(sched.data_size, gen, sched.shuffle) for gen in generators]
            )
            order = order.to(self.device)
            # the epoch's targets in one gather, unless that would be large (then per step)
            small = order.numel() * self.layout.n_slots * self.n_outputs <= EPOCH_TARGETS_MAX
            targets = self._targets(order) if small else None
            for _ in range(sched.steps_per_epoch):
                start, stop = sched.batch_bounds(step)
                self._step(
                    order[:, start:stop], None if targets is None else targets[:, start:stop]
                )
                step += 1
                if step in checkpoints:
                    self._checkpoint(step, started, on_checkpoint)
                    if not self.alive_.any():
                        break
                if step == sched.total_steps:
                    break
        return self.measurements_

    def member_state_dict(self, member: int) -> dict[str, torch.Tensor]:
        """Member ``member``'s network as a ``state_dict`` of :func:`scaletime.models.build_model`."""
        return self.net.member_state_dict(member)


def train_members(
    ds: Dataset,
    members: Sequence[Member],
    cfg: TrainConfig,
    on_checkpoint: Callback | None = None,
    *,
    state_dicts: dict[str, dict[str, torch.Tensor]] | None = None,
) -> list[Measurement]:
    """Train ``members`` on ``ds`` as few fused ensembles; return every checkpoint's rows.

    Parameters
    ----------
    ds : Dataset
        The dataset (``scaletime.data``).
    members : sequence of Member
        The networks to train (unique keys).
    cfg : TrainConfig
        Shared training configuration.
    on_checkpoint : callable, optional
        Called once per checkpoint of each chunk with the rows of the members alive there
        (a diverged member gets one row with ``diverged=True`` and is then dropped).
    state_dicts : dict, optional
        If given, filled with ``key -> state_dict`` of every member's final network (CPU), loadable
        into :func:`scaletime.models.build_model` of the same configuration.

    Returns
    -------
    list of Measurement
        Rows in training order (chunk by chunk, checkpoint by checkpoint).
    """
    keys = [m.key for m in members]
    if len(set(keys)) != len(keys):
        raise EngineConfigError("Member.key values must be unique within one train_members call")
    if not members:
        return []
    device = resolve_device(cfg.device)
    input_shape = tuple(int(s) for s in ds.x_train.shape[1:])
    budget = cfg.max_chunk_bytes or default_chunk_bytes(device)
    rows: list[Measurement] = []
    for n in sorted({m.data_size for m in members}):
        same_n = [m for m in members if m.data_size == n]
        data = prepare_data(ds, n, [m.label_noise for m in same_n], cfg, device)
        data_bytes = estimate_data_bytes(
            input_shape, n, len(data.y_test), ds.num_classes, len(data.noise_rates)
        )
        for chunk in plan_chunks(
            same_n, cfg, input_shape, ds.num_classes, device, max(budget - data_bytes, 1)
        ):
            per_row = 4 * sum(
                activation_floats(cfg.arch, m.width, cfg.depth, input_shape, ds.num_classes)
                for m in chunk.members
            )
            eval_rows = int(np.clip(budget // 8 // max(per_row, 1), 64, 4096))
            if cfg.arch == "cnn" and device.type == "cpu":
                eval_rows = min(eval_rows, CPU_CNN_EVAL_ROWS)
            trainer = EnsembleTrainer(data, chunk, cfg, device, input_shape, eval_rows)
            rows += trainer.fit(on_checkpoint)
            if state_dicts is not None:
                for i, m in enumerate(chunk.members):
                    state_dicts[m.key] = trainer.member_state_dict(i)
        del data
    return rows
