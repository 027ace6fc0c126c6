"""What the engine is asked to train (``Member``, ``TrainConfig``), what it reports
(``Measurement``), and the step schedule shared by the ensemble and the reference trainer.

Contract: ``docs/architecture.md`` (Engine); semantics: ``docs/engine.md``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from scaletime.errors import ScaletimeError

OPTIMIZERS = ("sgd", "gd", "adam")
LOSSES = ("mse", "ce")
DEVICES = ("cpu", "cuda", "auto")


class EngineError(ScaletimeError):
    """Base class of the errors the training engine raises on purpose."""


class EngineConfigError(EngineError, ValueError):
    """A member or training configuration the engine cannot use; the message names the field."""


def _bad(owner: str, name: str, value: object, allowed: str) -> EngineConfigError:
    return EngineConfigError(f"{owner}.{name}={value!r} is invalid: {allowed}")


@dataclass(frozen=True)
class Member:
    """One network of an ensemble (a run of the sweep)."""

    key: str  # run id, opaque to the engine
    width: int
    seed: int  # initialisation + mini-batch order
    data_size: int  # training examples (balanced subset of ds.y_train)
    label_noise: float  # rate of symmetric label noise within the subset
    lr: float  # this member's learning rate (the lr rule is applied by the caller)

    def __post_init__(self) -> None:
        for name in ("width", "data_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise _bad("Member", name, value, "must be a positive integer")
        if (
            isinstance(self.seed, bool)
            or not isinstance(self.seed, int | np.integer)
            or self.seed < 0
        ):
            raise _bad("Member", "seed", self.seed, "must be a non-negative integer")
        if not 0.0 <= float(self.label_noise) < 1.0:
            raise _bad("Member", "label_noise", self.label_noise, "must lie in [0, 1)")
        if not (math.isfinite(float(self.lr)) and float(self.lr) > 0):
            raise _bad("Member", "lr", self.lr, "must be a positive finite number")


@dataclass(frozen=True)
class TrainConfig:
    """How every member of a call is trained (defaults in one place, one comment each)."""

    arch: Literal["mlp", "cnn"] = "mlp"
    depth: int = 2  # hidden layers (mlp); conv blocks (cnn, 4 in Deep Double Descent)
    optimizer: Literal["sgd", "gd", "adam"] = "sgd"  # gd = full batch
    momentum: float = 0.0  # heavy-ball momentum of sgd/gd (torch.optim.SGD semantics)
    weight_decay: float = 0.0  # L2 added to the gradient (torch semantics), all parameters
    batch_size: int = 128  # examples per step (ignored by gd)
    loss: Literal["mse", "ce"] = "mse"  # mse on one-hot targets (paper) or cross-entropy
    epochs: float = 10.0  # passes over each member's own training set
    eval_epochs: tuple[float, ...] = ()  # checkpoints (increasing); () = log-spaced default
    data_seed: int = 0  # seeds the subset and the label noise (same for all members)
    test_size: int | None = None  # balanced test subset of this size (None = all)
    device: str = "cpu"  # "cpu", "cuda", "cuda:1", "auto"
    max_chunk_bytes: int | None = None  # memory budget per ensemble chunk (None = automatic)

    def __post_init__(self) -> None:
        def bad(name: str, allowed: str) -> EngineConfigError:
            return _bad("TrainConfig", name, getattr(self, name), allowed)

        if self.arch not in ("mlp", "cnn"):
            raise bad("arch", "allowed: 'mlp', 'cnn'")
        if isinstance(self.depth, bool) or not isinstance(self.depth, int) or self.depth < 1:
            raise bad("depth", "must be a positive integer")
        if self.optimizer not in OPTIMIZERS:
            raise bad("optimizer", f"allowed: {OPTIMIZERS}")
        if not 0.0 <= self.momentum < 1.0:
            raise bad("momentum", "must lie in [0, 1)")
        if self.optimizer == "adam" and self.momentum != 0.0:
            raise bad("momentum", "applies to sgd/gd only; Adam uses betas (0.9, 0.999)")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0.0):
            raise bad("weight_decay", "must be a finite number >= 0")
        if (
            isinstance(self.batch_size, bool)
            or not isinstance(self.batch_size, int)
            or self.batch_size < 1
        ):
            raise bad("batch_size", "must be a positive integer")
        if self.loss not in LOSSES:
            raise bad("loss", f"allowed: {LOSSES}")
        if not (math.isfinite(self.epochs) and self.epochs > 0):
            raise bad("epochs", "must be a positive finite number")
        ev = tuple(float(e) for e in self.eval_epochs)
        if any(not math.isfinite(e) or e < 0 or e > self.epochs for e in ev):
            raise bad("eval_epochs", f"each checkpoint must lie in [0, epochs={self.epochs}]")
        if any(b <= a for a, b in itertools.pairwise(ev)):
            raise bad("eval_epochs", "must be strictly increasing")
        if (
            isinstance(self.data_seed, bool)
            or not isinstance(self.data_seed, int)
            or self.data_seed < 0
        ):
            raise bad("data_seed", "must be a non-negative integer")
        if self.test_size is not None and (
            not isinstance(self.test_size, int) or self.test_size < 1
        ):
            raise bad("test_size", "must be None or a positive integer")
        if not (self.device in DEVICES or self.device.startswith("cuda:")):
            raise bad("device", "allowed: 'cpu', 'cuda', 'cuda:<index>', 'auto'")
        if self.max_chunk_bytes is not None and self.max_chunk_bytes < 1:
            raise bad("max_chunk_bytes", "must be None or a positive number of bytes")


@dataclass
class Measurement:
    """One member at one checkpoint. Losses and errors are means over the whole evaluated set."""

    key: str
    epoch: float  # step / steps_per_epoch (passes over the member's own training set)
    step: int  # optimiser steps taken
    examples_seen: int  # training examples processed (partial last batches counted exactly)
    train_loss: float  # on the member's own (noisy) training labels, eval mode
    test_loss: float  # on the clean test set (or its balanced subset)
    train_error: float
    test_error: float
    wall_time: float  # seconds since its ensemble chunk started training
    diverged: bool  # True on the single row of a member whose loss became NaN/inf


def default_eval_epochs(epochs: float, per_decade: int = 5, decades: int = 3) -> tuple[float, ...]:
    """Log-spaced checkpoints: ``epochs·10^(−decades + k/per_decade)``, k = 0..decades·per_decade."""
    exponents = np.arange(decades * per_decade + 1) / per_decade - decades
    return tuple(float(epochs * 10.0**e) for e in exponents)


@dataclass(frozen=True)
class Schedule:
    """Steps of one member: an epoch is ``ceil(n / batch)`` steps (1 for full-batch gd)."""

    data_size: int
    batch_size: int  # effective batch (= data_size for gd)
    steps_per_epoch: int
    total_steps: int
    checkpoint_steps: tuple[int, ...]
    shuffle: bool

    def epoch(self, step: int) -> float:
        return step / self.steps_per_epoch

    def examples_seen(self, step: int) -> int:
        full, rest = divmod(step, self.steps_per_epoch)
        return full * self.data_size + min(rest * self.batch_size, self.data_size)

    def batch_bounds(self, step: int) -> tuple[int, int]:
        """[start, stop) positions, within the epoch's order, of the batch of (0-based) ``step``."""
        start = (step % self.steps_per_epoch) * self.batch_size
        return start, min(start + self.batch_size, self.data_size)


def make_schedule(cfg: TrainConfig, data_size: int) -> Schedule:
    """The schedule of a member with ``data_size`` examples under ``cfg``.

    Training lasts ``ceil(epochs · steps_per_epoch)`` steps (so the last checkpoint is at an epoch
    >= ``cfg.epochs``); a checkpoint at epoch e > 0 is taken after ``max(1, round(e ·
    steps_per_epoch))`` steps, one at e = 0 before training; the last step is always a
    checkpoint; duplicates are merged.
    """
    full_batch = cfg.optimizer == "gd"
    batch = data_size if full_batch else min(cfg.batch_size, data_size)
    spe = 1 if full_batch else math.ceil(data_size / batch)
    total = max(1, math.ceil(cfg.epochs * spe - 1e-9))
    wanted = cfg.eval_epochs or default_eval_epochs(cfg.epochs)
    steps = {min(total, max(1, round(e * spe))) if e > 0 else 0 for e in wanted}
    steps.add(total)
    return Schedule(data_size, batch, spe, total, tuple(sorted(steps)), shuffle=not full_batch)


def cumulative_lr(
    step: np.ndarray, lr: np.ndarray, momentum: np.ndarray, optimizer: np.ndarray
) -> np.ndarray:
    """The gradient-flow time after ``step`` steps at a constant learning rate: Σₛ ηₛ^eff.

    Heavy-ball SGD from rest moves by ``η(1 − βˢ)/(1 − β)`` per unit gradient at step s, so
    ``lr_time = η·(s − β(1 − βˢ)/(1 − β))/(1 − β)`` (``η·s`` without momentum); Adam's
    bias-corrected, normalised step is ``η`` from the first step, so ``η·s``
    (docs/theory.md §6.1). Arrays broadcast; a missing momentum counts as 0.
    """
    s = np.asarray(step, dtype=float)
    eta = np.asarray(lr, dtype=float)
    beta = np.nan_to_num(np.asarray(momentum, dtype=float), nan=0.0)
    beta = np.where(np.asarray(optimizer).astype(str) == "adam", 0.0, beta)
    with np.errstate(divide="ignore", invalid="ignore"):
        warm = np.where(beta > 0, beta * (1.0 - beta**s) / (1.0 - beta), 0.0)
        return eta * (s - warm) / (1.0 - beta)
