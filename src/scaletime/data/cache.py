"""Where data lives: the cache folder, the shared data folder, ``.npz`` files and downloads.

The cache is ``$SCALETIME_DATA`` (default ``~/.cache/scaletime``). Each dataset is converted once
into ``<cache>/<name>.npz`` holding ``x_train, y_train, x_test, y_test, mean, std, classes`` and
``source``; raw files a user places by hand go in ``<cache>/<name>/`` (see docs/datasets.md).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, cast

import numpy as np

from scaletime.errors import DatasetNotAvailable

#: Bumped whenever the content or layout of a cached ``.npz`` changes; older files are rebuilt.
CACHE_FORMAT_VERSION = 1

Echo = Callable[[str], None]


def data_dir(cache_dir: str | Path | None = None) -> Path:
    """The cache folder: ``cache_dir`` if given, else ``$SCALETIME_DATA``, else ``~/.cache/scaletime``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("SCALETIME_DATA")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "scaletime"


def shared_data_dirs() -> list[Path]:
    """Candidate folders for the project's shared data (``../shared/data`` beside the repo).

    Order: ``$SCALETIME_SHARED`` (the ``shared`` folder or its ``data`` subfolder), then
    ``<repo>/../shared/data`` for a source checkout, then ``./../shared/data`` from the working
    directory.
    """
    candidates: list[Path] = []
    env = os.environ.get("SCALETIME_SHARED")
    if env:
        root = Path(env).expanduser()
        candidates += [root / "data", root]
    repo = Path(__file__).resolve().parents[3]  # src/scaletime/data/cache.py -> repo root
    candidates.append(repo.parent / "shared" / "data")
    candidates.append(Path.cwd().parent / "shared" / "data")
    unique: list[Path] = []
    for path in candidates:
        if path not in unique:
            unique.append(path)
    return unique


def find_first(paths: Iterable[Path]) -> Path | None:
    """The first existing path of ``paths``, or None."""
    for path in paths:
        if path.exists():
            return path
    return None


def file_sha256(path: Path) -> str:
    """sha256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_md5(path: Path) -> str:
    """md5 hex digest of a file's bytes (the checksums the dataset authors publish)."""
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def channel_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std of a training set, ``float32`` of shape ``(C,)``.

    ``uint8`` images ``(N, C, H, W)``: statistics of ``x / 255`` over ``(N, H, W)``.
    Float data: one mean and std over all values, shape ``(1,)``.
    """
    if x.dtype == np.uint8 and x.ndim == 4:
        num_channels = x.shape[1]
        mean = np.empty(num_channels, dtype=np.float64)
        std = np.empty(num_channels, dtype=np.float64)
        for c in range(num_channels):
            channel = x[:, c].astype(np.float64) / 255.0
            mean[c] = channel.mean()
            std[c] = channel.std()
        return mean.astype(np.float32), std.astype(np.float32)
    values = np.asarray(x, dtype=np.float64)
    return (
        np.array([values.mean()], dtype=np.float32),
        np.array([values.std()], dtype=np.float32),
    )


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` atomically (temp file + rename), uncompressed for fast loads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=path.stem + ".", suffix=".npz.tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            # Any values: numpy's stub would check a ``**dict[str, ndarray]`` against the
            # ``allow_pickle: bool`` keyword
            np.savez(
                out, format_version=np.int64(CACHE_FORMAT_VERSION), **cast(dict[str, Any], arrays)
            )
        os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; the cache is ordinary readable data
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def load_npz(path: Path) -> dict[str, np.ndarray] | None:
    """Read a cached ``.npz``; None if it is absent or of another format version."""
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as archive:
        if int(archive.get("format_version", -1)) != CACHE_FORMAT_VERSION:
            return None
        return {key: archive[key] for key in archive.files}


def download(url: str, destination: Path, *, md5: str | None, echo: Echo) -> Path:
    """Download ``url`` to ``destination`` (skipped if present with the right md5).

    Used only when the user asks for it (``scaletime data fetch NAME --download``).
    """
    if destination.is_file() and (md5 is None or file_md5(destination) == md5):
        echo(f"  {destination.name}: already downloaded")
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    echo(f"  downloading {url}")
    tmp = destination.with_name(destination.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
            shutil.copyfileobj(response, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DatasetNotAvailable(
            f"could not download {url}: {exc}. Download it by hand and place it at {destination}"
        ) from exc
    if md5 is not None and (actual := file_md5(tmp)) != md5:
        tmp.unlink(missing_ok=True)
        raise DatasetNotAvailable(f"{url}: md5 {actual} does not match the published {md5}")
    os.replace(tmp, destination)
    return destination
