"""SVHN (Netzer et al. 2011), cropped-digit format ``train_32x32.mat`` / ``test_32x32.mat``.

Each file is a MATLAB v5 file with ``X`` of shape ``(32, 32, 3, N)`` ``uint8`` and ``y`` of shape
``(N, 1)`` holding 1..10, where 10 stands for the digit 0. Converted to ``(N, 3, 32, 32)`` and
labels 0..9 (digit value). No registry ships SVHN: the user places the files (docs/datasets.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scaletime.data.cache import Echo, download
from scaletime.errors import DatasetNotAvailable

SVHN_CLASSES = tuple(str(d) for d in range(10))
SVHN_FILES: dict[str, tuple[str, str]] = {
    "train": (
        "http://ufldl.stanford.edu/housenumbers/train_32x32.mat",
        "e26dedcc434d2e4c54c9b2d4a06d8373",
    ),
    "test": (
        "http://ufldl.stanford.edu/housenumbers/test_32x32.mat",
        "eb5a983be6a315427106f1b164d9cef3",
    ),
}


def read_svhn_mat(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One SVHN ``.mat`` file as ``(N, 3, 32, 32)`` uint8 images and int64 labels 0..9."""
    from scipy.io import loadmat

    content = loadmat(path)
    if "X" not in content or "y" not in content:
        raise ValueError(f"{path}: an SVHN .mat file needs the variables 'X' and 'y'")
    x, y = np.asarray(content["X"]), np.asarray(content["y"]).reshape(-1)
    if x.ndim != 4 or x.shape[:3] != (32, 32, 3):
        raise ValueError(f"{path}: X must have shape (32, 32, 3, N), got {x.shape}")
    if x.shape[3] != len(y):
        raise ValueError(f"{path}: {x.shape[3]} images but {len(y)} labels")
    if len(y) and (y.min() < 1 or y.max() > 10):
        raise ValueError(f"{path}: labels must be 1..10 (10 = digit 0), found {y.min()}..{y.max()}")
    images = np.ascontiguousarray(x.transpose(3, 2, 0, 1), dtype=np.uint8)
    labels = (y.astype(np.int64) % 10).astype(np.int64)  # 10 -> 0
    return images, labels


def svhn_local(root: Path) -> dict[str, np.ndarray] | None:
    """SVHN from ``<cache>/svhn/{train,test}_32x32.mat``; None unless both files are there."""
    folder = root / "svhn"
    paths = {split: folder / f"{split}_32x32.mat" for split in SVHN_FILES}
    if not all(path.is_file() for path in paths.values()):
        return None
    arrays: dict[str, np.ndarray] = {}
    for split, path in paths.items():
        arrays[f"x_{split}"], arrays[f"y_{split}"] = read_svhn_mat(path)
    arrays["classes"] = np.array(SVHN_CLASSES)
    arrays["source"] = np.array(f"mat:{folder}")
    return arrays


def svhn_acquire(root: Path, *, download_files: bool, echo: Echo) -> dict[str, np.ndarray]:
    """SVHN from the canonical URLs (only with ``download_files``)."""
    folder = root / "svhn"
    if download_files:
        for split, (url, md5) in SVHN_FILES.items():
            download(url, folder / f"{split}_32x32.mat", md5=md5, echo=echo)
        arrays = svhn_local(root)
        if arrays is not None:
            return arrays
    raise DatasetNotAvailable(
        "SVHN is not shipped here (no registry package carries it). Download "
        f"{SVHN_FILES['train'][0]} and {SVHN_FILES['test'][0]} and place them as "
        f"{folder / 'train_32x32.mat'} and {folder / 'test_32x32.mat'}, then run "
        "`scaletime data fetch svhn`; or run `scaletime data fetch svhn --download` where the "
        "internet is reachable"
    )
