"""MNIST-1D (Greydanus & Kobak 2020), generated locally with the PyPI package ``mnist1d``.

The default options reproduce the official frozen set (``get_dataset_args()``: 5,000 samples,
seed 42, split 4,000 / 1,000, 40 features). ``mnist1d.data.get_dataset`` is never called (it
downloads). Samples are ``float32`` of shape ``(N, 40)``, already standardised by the generator.
"""

from __future__ import annotations

import random

import numpy as np

MNIST1D_CLASSES = tuple(str(d) for d in range(10))
MNIST1D_DEFAULTS: dict[str, int] = {"n_train": 4000, "n_test": 1000, "seed": 42}


def mnist1d_options(**options: object) -> dict[str, int]:
    """Validated MNIST-1D options ``n_train``, ``n_test``, ``seed`` (defaults: the frozen set)."""
    unknown = set(options) - set(MNIST1D_DEFAULTS)
    if unknown:
        raise ValueError(
            f"unknown mnist1d option(s) {sorted(unknown)}; allowed: {sorted(MNIST1D_DEFAULTS)}"
        )
    merged: dict[str, int | np.integer] = {}
    for key, value in {**MNIST1D_DEFAULTS, **options}.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ValueError(f"mnist1d option {key} must be a non-negative integer, got {value!r}")
        merged[key] = value
    total = int(merged["n_train"]) + int(merged["n_test"])
    if merged["n_train"] < 1 or merged["n_test"] < 1 or total % 10:
        raise ValueError(
            f"mnist1d needs n_train >= 1, n_test >= 1 and n_train + n_test a multiple of 10 "
            f"(the generator makes equal numbers per class), got n_train={merged['n_train']}, "
            f"n_test={merged['n_test']}"
        )
    return {key: int(value) for key, value in merged.items()}


def generate_mnist1d(
    n_train: int = 4000, n_test: int = 1000, seed: int = 42
) -> dict[str, np.ndarray]:
    """Generate MNIST-1D with ``mnist1d.data.make_dataset``; the global RNG state is restored.

    ``n_train + n_test`` samples are generated (in the generator's shuffled order, normalised
    over all of them) and split after the first ``n_train``; with the defaults this is exactly
    the official 4,000 / 1,000 split.
    """
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = n_train + n_test
    args.seed = seed
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:  # make_dataset seeds the global RNGs; do not leak that into the caller
        generated = make_dataset(args)
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    x = np.concatenate([generated["x"], generated["x_test"]]).astype(np.float32)
    y = np.concatenate([generated["y"], generated["y_test"]]).astype(np.int64)
    return {
        "x_train": np.ascontiguousarray(x[:n_train]),
        "y_train": y[:n_train],
        "x_test": np.ascontiguousarray(x[n_train:]),
        "y_test": y[n_train:],
        "classes": np.array(MNIST1D_CLASSES),
        "source": np.array(f"mnist1d.make_dataset(num_samples={n_train + n_test}, seed={seed})"),
    }
