"""Class-balanced nested subsets, exact label noise and input normalisation.

These are the only ways the rest of the toolkit touches the data volume ``n`` and the label-noise
rate of a run, so their semantics are spelled out (and tested) here; see ``docs/datasets.md``.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scaletime.data.dataset import Dataset

# Tag mixed into the seed of the label-noise stream of ``subset_and_noise`` so that which
# examples are drawn and which labels are flipped are independent random streams.
_NOISE_STREAM = 0x6E6F697365  # "noise"


def _check_seed(seed: int, name: str = "seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed!r}")
    return int(seed)


def _check_labels(y: np.ndarray, name: str = "y") -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D (n_samples,), got shape {y.shape}")
    return y


def balanced_subset(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices of a class-balanced, nested, seeded subset of size ``n``.

    Each class ``c`` gets a seeded random order of its examples, and the classes a seeded random
    rank ``r_c`` in ``0..K-1``. The ``k``-th example (0-based) of class ``c`` receives the key
    ``k·K + r_c``; the subset of size ``n`` is the ``n`` examples with the smallest keys. Hence

    * counts per class differ by at most 1 (the ``n mod K`` extra examples go to the classes of
      lowest rank), as long as no class runs out; a class that runs out contributes all its
      examples and the rest is spread evenly over the others (max-min fair allocation);
    * the subset for ``n`` is contained in the subset for any ``n' > n`` with the same seed;
    * ``n == len(y)`` gives every index.

    Non-integer ``y`` (regression targets) is treated as a single class: a seeded nested random
    subset.

    Parameters
    ----------
    y : numpy.ndarray, shape (n_samples,)
        Integer class labels (non-negative), or float regression targets.
    n : int
        Subset size, ``1 <= n <= len(y)``.
    seed : int
        Non-negative seed.

    Returns
    -------
    numpy.ndarray, shape (n,), int64
        Sorted indices into ``y``.
    """
    y = _check_labels(y)
    seed = _check_seed(seed)
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise ValueError(f"n must be an integer, got {n!r}")
    n = int(n)
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if n > len(y):
        raise ValueError(
            f"n={n} exceeds the {len(y)} examples available; "
            f"choose n <= {len(y)} (the size of the training set)"
        )
    if np.issubdtype(y.dtype, np.integer):
        if y.size and y.min() < 0:
            raise ValueError(f"class labels must be non-negative, found {int(y.min())}")
        labels = y.astype(np.int64)
    else:
        labels = np.zeros(len(y), dtype=np.int64)
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    num_classes = len(classes)
    rank = rng.permutation(num_classes)
    keys = np.empty(len(y), dtype=np.int64)
    for position, cls in enumerate(classes):
        members = np.flatnonzero(labels == cls)
        order = rng.permutation(members)
        keys[order] = np.arange(len(order), dtype=np.int64) * num_classes + rank[position]
    chosen = np.argpartition(keys, n - 1)[:n] if n < len(y) else np.arange(len(y))
    return np.sort(chosen).astype(np.int64)


def apply_label_noise(
    y: np.ndarray, rate: float, num_classes: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Flip exactly ``round(rate · len(y))`` labels, each to a uniformly chosen different class.

    The flipped positions are a seeded uniform sample without replacement; a flipped label
    becomes ``(y + u) mod K`` with ``u`` uniform in ``1..K-1``, i.e. uniform over the other
    ``K - 1`` classes. ``round`` is Python's (half to even).

    Parameters
    ----------
    y : numpy.ndarray, shape (n_samples,)
        Integer labels in ``0..num_classes-1``.
    rate : float
        Fraction of labels to flip, ``0 <= rate < 1``.
    num_classes : int
        Number of classes ``K >= 2``.
    seed : int
        Non-negative seed.

    Returns
    -------
    y_noisy : numpy.ndarray, shape (n_samples,), int64
        A copy of ``y`` with the flipped labels changed.
    flipped_indices : numpy.ndarray, int64
        Sorted positions in ``y`` whose label was changed.
    """
    y = _check_labels(y)
    seed = _check_seed(seed)
    if not isinstance(rate, numbers.Real) or isinstance(rate, bool) or not 0.0 <= rate < 1.0:
        raise ValueError(f"rate (label noise) must be a number in [0, 1), got {rate!r}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    if num_classes < 2:
        raise ValueError(
            f"num_classes must be >= 2 for label noise, got {num_classes} "
            "(regression targets cannot be flipped)"
        )
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must hold integer class labels, got dtype {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"labels must lie in 0..{num_classes - 1}, found range {int(y.min())}..{int(y.max())}"
        )
    y_noisy = y.astype(np.int64, copy=True)
    num_flipped = round(float(rate) * len(y))
    if num_flipped == 0:
        return y_noisy, np.empty(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    flipped = np.sort(rng.choice(len(y), size=num_flipped, replace=False)).astype(np.int64)
    shift = rng.integers(1, num_classes, size=num_flipped)
    y_noisy[flipped] = (y_noisy[flipped] + shift) % num_classes
    return y_noisy, flipped


def normalize(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Standardise inputs per channel: ``(x/255 − mean)/std`` for ``uint8``, else ``(x − mean)/std``.

    Parameters
    ----------
    x : numpy.ndarray
        ``(N, C, H, W)`` or ``(C, H, W)`` images (``uint8`` or float), or ``(N, L)`` vectors.
    mean, std : numpy.ndarray
        Per-channel statistics of shape ``(C,)``; shape ``(1,)`` (or a scalar) applies to all values.

    Returns
    -------
    numpy.ndarray, float32
        Same shape as ``x``.
    """
    x = np.asarray(x)
    mean = np.asarray(mean, dtype=np.float32).reshape(-1)
    std = np.asarray(std, dtype=np.float32).reshape(-1)
    if mean.shape != std.shape:
        raise ValueError(f"mean and std must have the same shape, got {mean.shape} and {std.shape}")
    if np.any(std <= 0):
        raise ValueError(f"std must be positive, got {std}")
    out = x.astype(np.float32)
    if x.dtype == np.uint8:
        out *= np.float32(1.0 / 255.0)
    if mean.size == 1:
        out -= mean[0]
        out /= std[0]
        return out
    channel_axis = {4: 1, 3: 0}.get(x.ndim)
    if channel_axis is None or x.shape[channel_axis] != mean.size:
        raise ValueError(
            f"per-channel mean/std of length {mean.size} need images shaped (N, C, H, W) or "
            f"(C, H, W) with C={mean.size}, got x of shape {x.shape}"
        )
    trailing = (1,) * (x.ndim - channel_axis - 1)
    out -= mean.reshape(-1, *trailing)
    out /= std.reshape(-1, *trailing)
    return out


def subset_and_noise(
    ds: Dataset, n: int, noise: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A run's training data: a balanced nested subset of ``ds``'s train set with label noise.

    ``indices = balanced_subset(ds.y_train, n, seed)``; the noise is applied within the subset
    (exactly ``round(noise · n)`` of its labels flipped) with its own random stream derived from
    ``seed``, so the draw of examples and the draw of flips are independent.

    Parameters
    ----------
    ds : Dataset
        The dataset.
    n : int
        Number of training examples.
    noise : float
        Label-noise rate in ``[0, 1)``; must be 0 for a regression dataset.
    seed : int
        Non-negative seed.

    Returns
    -------
    indices : numpy.ndarray, shape (n,), int64
        Sorted indices into ``ds.x_train``.
    labels : numpy.ndarray, shape (n,)
        Labels for those examples (noisy where flipped); float32 targets for regression.
    flipped : numpy.ndarray, int64
        Sorted positions *within the subset* (i.e. into ``labels``) whose label was flipped.
    """
    indices = balanced_subset(ds.y_train, n, seed)
    clean = ds.y_train[indices]
    if ds.num_classes == 0:
        if noise != 0:
            raise ValueError(
                f"noise={noise!r}: label noise needs a classification dataset, "
                f"{ds.name!r} is a regression task (use the teacher's label_noise option)"
            )
        return indices, clean.copy(), np.empty(0, dtype=np.int64)
    noise_seed = int(
        np.random.SeedSequence([_check_seed(seed), _NOISE_STREAM]).generate_state(1)[0]
    )
    labels, flipped = apply_label_noise(clean, noise, ds.num_classes, noise_seed)
    return indices, labels, flipped
