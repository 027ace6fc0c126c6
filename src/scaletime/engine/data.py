"""Member data: the normalised training subset, labels per noise rate, the test set, batch order.

A member's training set is ``scaletime.data.subset_and_noise(ds, data_size, label_noise,
cfg.data_seed)``; the subset depends on ``data_size`` only, so members with the same data size
share the inputs and differ only in their labels. Mini-batch order: one permutation per epoch from
a ``torch.Generator`` seeded with ``derive_seed(member.seed, "batches")`` (``docs/engine.md``).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from scaletime.data import Dataset, balanced_subset, normalize, subset_and_noise
from scaletime.engine.config import EngineConfigError, TrainConfig


def derive_seed(seed: int, stream: str) -> int:
    """An independent 32-bit seed for the random stream ``stream`` ("init", "batches") of ``seed``."""
    return int(
        np.random.SeedSequence([int(seed), zlib.crc32(stream.encode())]).generate_state(1)[0]
    )


def init_generator(seed: int) -> torch.Generator:
    """The CPU generator that draws a member's initial parameters."""
    return torch.Generator().manual_seed(derive_seed(seed, "init"))


def batch_generator(seed: int) -> torch.Generator:
    """The CPU generator that draws a member's mini-batch order (one permutation per epoch)."""
    return torch.Generator().manual_seed(derive_seed(seed, "batches"))


def epoch_order(n: int, generator: torch.Generator, shuffle: bool) -> torch.Tensor:
    """Positions 0..n−1 in the order of one epoch: ``randperm(n, generator)``, or in order for gd."""
    return torch.randperm(n, generator=generator) if shuffle else torch.arange(n)


class EpochBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Batch sampler of the reference loop: each pass draws a fresh :func:`epoch_order` and splits
    it into consecutive batches (the last one partial), exactly as the ensemble engine does."""

    def __init__(self, n: int, batch_size: int, generator: torch.Generator, shuffle: bool) -> None:
        self.n, self.batch_size, self.generator, self.shuffle = n, batch_size, generator, shuffle

    def __iter__(self) -> Iterator[list[int]]:
        order = epoch_order(self.n, self.generator, self.shuffle).tolist()
        for start in range(0, self.n, self.batch_size):
            yield order[start : start + self.batch_size]

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)


@dataclass
class MemberData:
    """Tensors shared by the members of one data size (on the training device).

    Attributes
    ----------
    x_train : torch.Tensor, shape (n, *input_shape), float32
        Normalised inputs of the balanced subset.
    noise_rates : tuple of float
        The label-noise rates present; row r of ``labels``/``targets`` belongs to rate r.
    labels : torch.Tensor, shape (n_rates, n)
        Training labels (noisy), int64 (float32 regression targets when ``num_classes == 0``).
    targets : torch.Tensor, shape (n_rates, n, K), float32
        One-hot training targets (the regression value for K = 1).
    x_test, y_test, t_test : torch.Tensor
        Test inputs, clean labels and targets.
    """

    x_train: torch.Tensor
    noise_rates: tuple[float, ...]
    labels: torch.Tensor
    targets: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    t_test: torch.Tensor
    num_classes: int

    @property
    def regression(self) -> bool:
        return self.num_classes == 0

    def rate_index(self, noise: float) -> int:
        return self.noise_rates.index(float(noise))


def as_targets(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """One-hot float32 targets (n, K); regression values as (n, 1)."""
    if num_classes == 0:
        return np.asarray(labels, dtype=np.float32).reshape(-1, 1)
    return np.eye(num_classes, dtype=np.float32)[np.asarray(labels, dtype=np.int64)]


def _label_tensor(labels: np.ndarray, num_classes: int) -> torch.Tensor:
    return torch.from_numpy(np.asarray(labels, dtype=np.float32 if num_classes == 0 else np.int64))


def prepare_data(
    ds: Dataset,
    data_size: int,
    noise_rates: Sequence[float],
    cfg: TrainConfig,
    device: torch.device,
) -> MemberData:
    """Build :class:`MemberData` for the members of one data size (``docs/engine.md``, Data)."""
    if data_size > ds.n_train:
        raise EngineConfigError(
            f"Member.data_size={data_size} exceeds the {ds.n_train} training examples of {ds.name!r}"
        )
    if cfg.loss == "ce" and ds.num_classes == 0:
        raise EngineConfigError(
            f"TrainConfig.loss='ce' needs a classification dataset; {ds.name!r} is a regression task"
        )
    rates = tuple(sorted({float(r) for r in noise_rates}))
    indices, labels, targets = None, [], []
    for rate in rates:
        idx, y, _ = subset_and_noise(ds, data_size, rate, cfg.data_seed)
        if indices is not None and not np.array_equal(idx, indices):
            raise EngineConfigError("subset_and_noise returned different subsets for one data size")
        indices = idx
        labels.append(_label_tensor(y, ds.num_classes))
        targets.append(torch.from_numpy(as_targets(y, ds.num_classes)))
    if cfg.test_size is None:
        test_idx = np.arange(ds.n_test)
    elif cfg.test_size > ds.n_test:
        raise EngineConfigError(
            f"TrainConfig.test_size={cfg.test_size} exceeds the {ds.n_test} test examples"
        )
    else:
        test_idx = balanced_subset(ds.y_test, cfg.test_size, cfg.data_seed)
    y_test = ds.y_test[test_idx]

    def put(a: np.ndarray | torch.Tensor) -> torch.Tensor:
        return (torch.from_numpy(a) if isinstance(a, np.ndarray) else a).to(device)

    return MemberData(
        x_train=put(normalize(ds.x_train[indices], ds.mean, ds.std)),
        noise_rates=rates,
        labels=put(torch.stack(labels)),
        targets=put(torch.stack(targets)),
        x_test=put(normalize(ds.x_test[test_idx], ds.mean, ds.std)),
        y_test=put(_label_tensor(y_test, ds.num_classes)),
        t_test=put(as_targets(y_test, ds.num_classes)),
        num_classes=ds.num_classes,
    )
