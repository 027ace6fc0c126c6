"""Small synthetic datasets for the engine tests (learnable, a few hundred examples)."""

from __future__ import annotations

import numpy as np
import pytest

from scaletime.data import Dataset


def make_dataset(
    shape: tuple[int, ...],
    num_classes: int = 5,
    n_train: int = 400,
    n_test: int = 200,
    seed: int = 0,
) -> Dataset:
    """Class prototypes plus noise: uint8 images for (C, H, W), float32 vectors for (L,).

    ``num_classes == 0`` gives a regression task (a noisy linear function of the inputs).
    """
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    k = max(num_classes, 1)
    prototypes = rng.normal(size=(k, *shape))
    y = rng.integers(0, k, size=n)
    x = prototypes[y] + 0.8 * rng.normal(size=(n, *shape))
    if num_classes == 0:
        w = rng.normal(size=int(np.prod(shape)))
        y = (x.reshape(n, -1) @ w / np.sqrt(w.size) + 0.1 * rng.normal(size=n)).astype(np.float32)
    else:
        y = y.astype(np.int64)
    if len(shape) == 3:
        x = np.clip(128 + 40 * x, 0, 255).astype(np.uint8)
        mean = (x[:n_train] / 255.0).mean(axis=(0, 2, 3)).astype(np.float32)
        std = (x[:n_train] / 255.0).std(axis=(0, 2, 3)).astype(np.float32)
    else:
        x = x.astype(np.float32)
        mean = np.array([x[:n_train].mean()], dtype=np.float32)
        std = np.array([x[:n_train].std()], dtype=np.float32)
    return Dataset(
        name="fake",
        x_train=x[:n_train],
        y_train=y[:n_train],
        x_test=x[n_train:],
        y_test=y[n_train:],
        num_classes=num_classes,
        mean=mean,
        std=std,
    )


@pytest.fixture(scope="session")
def images() -> Dataset:
    """400 + 200 grey 8×8 images of 5 classes."""
    return make_dataset((1, 8, 8))


@pytest.fixture(scope="session")
def colour_images() -> Dataset:
    """200 + 100 colour 8×8 images of 4 classes."""
    return make_dataset((3, 8, 8), num_classes=4, n_train=200, n_test=100, seed=1)


@pytest.fixture(scope="session")
def vectors() -> Dataset:
    """400 + 200 vectors of length 24 (MNIST-1D-like), 5 classes."""
    return make_dataset((24,), seed=2)


@pytest.fixture(scope="session")
def regression() -> Dataset:
    """400 + 200 vectors of length 24 with a noisy linear real-valued target."""
    return make_dataset((24,), num_classes=0, seed=3)
