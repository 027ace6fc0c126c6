"""The 8×8 handwritten digits bundled with scikit-learn (UCI optdigits test set, 1,797 images).

Pixel values 0..16 are scaled to ``uint8`` 0..255 (``round(v · 255 / 16)``), shape
``(N, 1, 8, 8)``. A fixed seeded permutation splits them into 1,297 train / 500 test.
"""

from __future__ import annotations

import numpy as np

from scaletime.errors import DatasetNotAvailable

DIGITS_CLASSES = tuple(str(d) for d in range(10))
DIGITS_N_TEST = 500
DIGITS_SPLIT_SEED = 0


def load_digits_arrays() -> dict[str, np.ndarray]:
    """The digits as train/test arrays (see the module docstring)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DatasetNotAvailable(
            "the digits come with scikit-learn, which is not installed: "
            "pip install 'scaletime[datasets]' (or scikit-learn)"
        ) from None

    bunch = load_digits()
    images = np.rint(np.asarray(bunch.images, dtype=np.float64) * (255.0 / 16.0)).astype(np.uint8)
    images = images[:, None, :, :]
    labels = np.asarray(bunch.target, dtype=np.int64)
    order = np.random.default_rng(DIGITS_SPLIT_SEED).permutation(len(labels))
    test, train = order[:DIGITS_N_TEST], order[DIGITS_N_TEST:]
    return {
        "x_train": np.ascontiguousarray(images[train]),
        "y_train": labels[train],
        "x_test": np.ascontiguousarray(images[test]),
        "y_test": labels[test],
        "classes": np.array(DIGITS_CLASSES),
        "source": np.array("sklearn.datasets.load_digits"),
    }
