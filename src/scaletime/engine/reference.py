"""The plain reference trainer: one model, a ``DataLoader``, ``zero_grad/backward/step``.

It defines what the ensemble engine must reproduce (``tests/engine``) and is the baseline (b) of
``benchmarks/bench_engine.py``. Same data, initialisation, batch order, loss and update rule as
:func:`scaletime.engine.train_members`, written the usual way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from scaletime.data import Dataset
from scaletime.engine.config import Measurement, Member, TrainConfig, make_schedule
from scaletime.engine.data import (
    EpochBatchSampler,
    MemberData,
    batch_generator,
    init_generator,
    prepare_data,
)
from scaletime.engine.losses import example_error, example_loss
from scaletime.engine.memory import resolve_device
from scaletime.models import build_model


@dataclass
class ReferenceRun:
    """What :func:`train_reference` returns: the rows and the trained model."""

    measurements: list[Measurement]
    model: nn.Module


@torch.no_grad()
def _evaluate(
    model: nn.Module,
    x: torch.Tensor,
    targets: torch.Tensor,
    labels: torch.Tensor,
    cfg: TrainConfig,
    regression: bool,
    rows: int = 1024,
) -> tuple[float, float]:
    model.eval()
    loss = err = 0.0
    for start in range(0, len(x), rows):
        out = model(x[start : start + rows])
        t, y = targets[start : start + rows], labels[start : start + rows]
        loss += float(example_loss(out, t, cfg.loss).sum(dtype=torch.float64))
        err += float(example_error(out, t, y, regression).sum(dtype=torch.float64))
    model.train()
    return loss / len(x), err / len(x)


def train_reference(
    ds: Dataset,
    member: Member,
    cfg: TrainConfig,
    on_checkpoint: Callable[[list[Measurement]], None] | None = None,
    *,
    initial_state: dict[str, torch.Tensor] | None = None,
    data: MemberData | None = None,
) -> ReferenceRun:
    """Train one member alone, the textbook way; same semantics as ``train_members``.

    ``initial_state`` (a ``state_dict``) replaces the seeded initialisation, e.g. to measure how
    sensitive a training run is to a tiny perturbation of its starting point. ``data`` is the
    member's :class:`~scaletime.engine.data.MemberData` if already prepared (for example once for
    several members of one data size); it must hold the member's noise rate.
    """
    device = resolve_device(cfg.device)
    if data is None:
        data = prepare_data(ds, member.data_size, [member.label_noise], cfg, device)
    rate = data.rate_index(member.label_noise)
    model = build_model(
        cfg.arch,
        member.width,
        cfg.depth,
        ds.input_shape,
        ds.num_classes,
        generator=init_generator(member.seed),
    )
    if initial_state is not None:
        model.load_state_dict(initial_state)
    model = model.to(device)
    sched = make_schedule(cfg, member.data_size)
    sampler = EpochBatchSampler(
        member.data_size, sched.batch_size, batch_generator(member.seed), sched.shuffle
    )
    loader = DataLoader(TensorDataset(data.x_train, data.targets[rate]), batch_sampler=sampler)
    if cfg.optimizer == "adam":
        optimizer: torch.optim.Optimizer = torch.optim.Adam(
            model.parameters(), lr=member.lr, weight_decay=cfg.weight_decay
        )
    else:
        optimizer = torch.optim.SGD(
            model.parameters(), lr=member.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
        )
    rows: list[Measurement] = []
    started = time.perf_counter()

    def checkpoint(step: int) -> bool:
        train_loss, train_err = _evaluate(
            model, data.x_train, data.targets[rate], data.labels[rate], cfg, data.regression
        )
        test_loss, test_err = _evaluate(
            model, data.x_test, data.t_test, data.y_test, cfg, data.regression
        )
        diverged = not (torch.isfinite(torch.tensor([train_loss, test_loss])).all())
        row = Measurement(
            member.key,
            sched.epoch(step),
            step,
            sched.examples_seen(step),
            train_loss,
            test_loss,
            train_err,
            test_err,
            time.perf_counter() - started,
            bool(diverged),
        )
        rows.append(row)
        if on_checkpoint is not None:
            on_checkpoint([row])
        return bool(diverged)

    step = 0
    if 0 in sched.checkpoint_steps and checkpoint(0):
        return ReferenceRun(rows, model)
    while step < sched.total_steps:
        for xb, tb in loader:
            optimizer.zero_grad()
            loss = example_loss(model(xb), tb, cfg.loss).mean()
            loss.backward()
            optimizer.step()
            step += 1
            if step in sched.checkpoint_steps and checkpoint(step):
                return ReferenceRun(rows, model)
            if step == sched.total_steps:
                break
    return ReferenceRun(rows, model)
