"""CIFAR-10 (JPEG archive or canonical python pickles) and CIFAR-100 (python pickles).

Images are ``(N, 3, 32, 32)`` ``uint8``. The canonical pickle layout (Krizhevsky 2009): each batch
is a pickled dict with ``b"data"`` of shape ``(n, 3072)`` (1024 red, 1024 green, 1024 blue values,
row-major) and ``b"labels"`` (CIFAR-100: ``b"fine_labels"``/``b"coarse_labels"``).
"""

from __future__ import annotations

import io
import pickle
import tarfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from scaletime.data.cache import Echo, download, file_sha256, find_first, shared_data_dirs
from scaletime.errors import DatasetNotAvailable

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_PICKLE_DIR = "cifar-10-batches-py"
CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_JPEG_ARCHIVE = "cifar10-jpeg.tar.xz"
CIFAR10_JPEG_SHA256 = "e016f210c3d329e3663f2bb56e83a128dbf717c38412103f9d663c7700c8dc1b"
# The JPEG archive is sorted by class; this fixed seed shuffles each split once, at conversion.
CIFAR10_JPEG_SHUFFLE_SEED = 0

CIFAR100_URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
CIFAR100_MD5 = "eb9058c3a382ffc7106e4002c42a8d85"
CIFAR100_PICKLE_DIR = "cifar-100-python"


# --------------------------------------------------------------------------- pickles
#: The only globals a CIFAR batch may name: numpy's array reconstruction (the canonical batches
#: are Python-2 pickles of dicts of bytes, lists and uint8 arrays). Anything else — the way a
#: crafted pickle runs code — is refused before it is called.
_PICKLE_GLOBALS = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 store bytes
    }
)


class _BatchUnpickler(pickle.Unpickler):
    """An unpickler that resolves only :data:`_PICKLE_GLOBALS`."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _PICKLE_GLOBALS:
            raise pickle.UnpicklingError(
                f"refusing {module}.{name}: a CIFAR batch holds only dicts, lists, bytes and "
                "numpy arrays"
            )
        return super().find_class(module, name)


def _unpickle(raw: bytes, what: str) -> dict[bytes, object]:
    # The canonical batches are Python-2 pickles of dicts with bytes keys; loaded with the
    # restricted unpickler, so a placed file cannot run code.
    try:
        batch = _BatchUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"{what}: not a CIFAR batch pickle ({exc})") from exc
    if not isinstance(batch, dict):
        raise ValueError(f"{what}: expected a pickled dict, got {type(batch).__name__}")
    return batch


def _batch_arrays(
    batch: dict[bytes, object], label_key: bytes, what: str
) -> tuple[np.ndarray, np.ndarray]:
    if b"data" not in batch or label_key not in batch:
        raise ValueError(f"{what}: a CIFAR batch needs the keys b'data' and {label_key!r}")
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{what}: b'data' must have shape (n, 3072), got {data.shape}")
    labels = np.asarray(batch[label_key], dtype=np.int64).reshape(-1)
    if len(labels) != len(data):
        raise ValueError(f"{what}: {len(data)} images but {len(labels)} labels")
    return data.reshape(-1, 3, 32, 32), labels


def _names(meta: dict[bytes, object], key: bytes, fallback: tuple[str, ...]) -> tuple[str, ...]:
    names = meta.get(key)
    if not isinstance(names, list):
        return fallback
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)


def _pickle_files(location: Path, folder: str) -> Callable[[str], bytes | None]:
    """A reader of the files of ``folder`` from a directory or from the ``.tar.gz`` holding it."""
    if location.is_dir():

        def read_dir(name: str) -> bytes | None:
            path = location / name
            return path.read_bytes() if path.is_file() else None

        return read_dir
    with tarfile.open(location, "r:gz") as archive:
        contents = {
            Path(m.name).name: archive.extractfile(m).read()  # type: ignore[union-attr]
            for m in archive.getmembers()
            if m.isfile() and Path(m.name).parent.name == folder
        }
    return contents.get


def read_cifar10_pickles(location: Path) -> dict[str, np.ndarray]:
    """CIFAR-10 from ``cifar-10-batches-py/`` (or ``cifar-10-python.tar.gz``) in canonical order."""
    read = _pickle_files(location, CIFAR10_PICKLE_DIR)
    xs, ys = [], []
    for name in CIFAR10_TRAIN_BATCHES:
        raw = read(name)
        if raw is None:
            raise DatasetNotAvailable(
                f"{location}: {name} is missing (expected {CIFAR10_TRAIN_BATCHES})"
            )
        x, y = _batch_arrays(_unpickle(raw, name), b"labels", f"{location}/{name}")
        xs.append(x)
        ys.append(y)
    raw_test = read("test_batch")
    if raw_test is None:
        raise DatasetNotAvailable(f"{location}: test_batch is missing")
    x_test, y_test = _batch_arrays(
        _unpickle(raw_test, "test_batch"), b"labels", f"{location}/test_batch"
    )
    raw_meta = read("batches.meta")
    meta = _unpickle(raw_meta, "batches.meta") if raw_meta is not None else {}
    return {
        "x_train": np.concatenate(xs),
        "y_train": np.concatenate(ys),
        "x_test": x_test,
        "y_test": y_test,
        "classes": np.array(_names(meta, b"label_names", CIFAR10_CLASSES)),
        "source": np.array(f"cifar-python:{location}"),
    }


def read_cifar100_pickles(location: Path) -> dict[str, np.ndarray]:
    """CIFAR-100 (fine labels, 100 classes) from ``cifar-100-python/`` or its ``.tar.gz``."""
    read = _pickle_files(location, CIFAR100_PICKLE_DIR)
    arrays: dict[str, np.ndarray] = {}
    for split, name in (("train", "train"), ("test", "test")):
        raw = read(name)
        if raw is None:
            raise DatasetNotAvailable(f"{location}: the {name!r} pickle is missing")
        x, y = _batch_arrays(_unpickle(raw, name), b"fine_labels", f"{location}/{name}")
        arrays[f"x_{split}"], arrays[f"y_{split}"] = x, y
    raw_meta = read("meta")
    meta = _unpickle(raw_meta, "meta") if raw_meta is not None else {}
    fallback = tuple(str(i) for i in range(100))
    arrays["classes"] = np.array(_names(meta, b"fine_label_names", fallback))
    arrays["source"] = np.array(f"cifar-python:{location}")
    return arrays


# --------------------------------------------------------------------------- JPEG archive
def decode_jpegs(blobs: list[bytes]) -> np.ndarray:
    """Decode 32×32 RGB JPEGs into an ``(n, 32, 32, 3)`` uint8 array.

    Serial on purpose: at 32×32 the cost is Python overhead per image (about 0.1 ms), which
    threads do not speed up (GIL) and a process pool would complicate (spawn re-imports the
    caller's ``__main__``). All 60,000 CIFAR-10 images take about 6 s, once per cache.
    """
    from PIL import Image

    out = np.empty((len(blobs), 32, 32, 3), dtype=np.uint8)
    for i, blob in enumerate(blobs):
        with Image.open(io.BytesIO(blob), formats=("JPEG",)) as image:  # skip format probing
            rgb = image if image.mode == "RGB" else image.convert("RGB")
            if rgb.size != (32, 32):
                raise ValueError(f"JPEG {i}: expected 32x32 pixels, got {rgb.size}")
            out[i] = np.asarray(rgb)
    return out


def read_cifar10_jpeg_archive(archive_path: Path, *, verify: bool = True) -> dict[str, np.ndarray]:
    """CIFAR-10 from the JPEG archive ``cifar10-jpeg/{train,test}/<class>/NNNN.jpg``.

    The files are read in sorted path order, then each split is permuted with the fixed seed
    ``CIFAR10_JPEG_SHUFFLE_SEED`` so that the arrays are not sorted by class.
    """
    if verify and (digest := file_sha256(archive_path)) != CIFAR10_JPEG_SHA256:
        raise DatasetNotAvailable(
            f"{archive_path}: sha256 {digest} does not match the expected {CIFAR10_JPEG_SHA256}; "
            "the archive is corrupt or a different file"
        )
    class_index = {name: i for i, name in enumerate(CIFAR10_CLASSES)}
    entries: dict[str, list[tuple[str, int, bytes]]] = {"train": [], "test": []}
    with tarfile.open(archive_path, "r:*") as archive:
        for member in archive:
            parts = Path(member.name).parts
            if not member.isfile() or not member.name.endswith(".jpg") or len(parts) < 3:
                continue
            split, class_name = parts[-3], parts[-2]
            if split not in entries or class_name not in class_index:
                continue
            blob = archive.extractfile(member).read()  # type: ignore[union-attr]
            entries[split].append((member.name, class_index[class_name], blob))
    arrays: dict[str, np.ndarray] = {}
    for offset, split in enumerate(("train", "test")):
        items = sorted(entries[split])
        if not items:
            raise DatasetNotAvailable(f"{archive_path}: no {split} JPEGs found")
        order = np.random.default_rng(CIFAR10_JPEG_SHUFFLE_SEED + offset).permutation(len(items))
        items = [items[i] for i in order]
        images = decode_jpegs([blob for _, _, blob in items])
        arrays[f"x_{split}"] = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
        arrays[f"y_{split}"] = np.array([label for _, label, _ in items], dtype=np.int64)
    arrays["classes"] = np.array(CIFAR10_CLASSES)
    arrays["source"] = np.array(f"jpeg:{CIFAR10_JPEG_ARCHIVE} (sha256 {CIFAR10_JPEG_SHA256[:12]}…)")
    return arrays


# --------------------------------------------------------------------------- registry hooks
def cifar10_pickle_location(root: Path) -> Path | None:
    """The canonical CIFAR-10 pickles under the cache folder, as a folder or the original tarball."""
    return find_first(
        [
            root / CIFAR10_PICKLE_DIR,
            root / "cifar10" / CIFAR10_PICKLE_DIR,
            root / "cifar-10-python.tar.gz",
            root / "cifar10" / "cifar-10-python.tar.gz",
        ]
    )


def cifar10_jpeg_location(root: Path) -> Path | None:
    """The JPEG archive: in the cache folder, or in the project's shared data folder."""
    candidates = [root / CIFAR10_JPEG_ARCHIVE, root / "cifar10" / CIFAR10_JPEG_ARCHIVE]
    candidates += [folder / CIFAR10_JPEG_ARCHIVE for folder in shared_data_dirs()]
    return find_first(candidates)


def cifar10_local(root: Path) -> dict[str, np.ndarray] | None:
    """CIFAR-10 from local files: canonical pickles first (lossless), else the JPEG archive."""
    pickles = cifar10_pickle_location(root)
    if pickles is not None:
        return read_cifar10_pickles(pickles)
    archive = cifar10_jpeg_location(root)
    if archive is not None:
        return read_cifar10_jpeg_archive(archive)
    return None


def cifar10_acquire(root: Path, *, download_files: bool, echo: Echo) -> dict[str, np.ndarray]:
    """CIFAR-10 from the canonical URL (only with ``download_files``)."""
    if download_files:
        path = download(CIFAR10_URL, root / "cifar-10-python.tar.gz", md5=CIFAR10_MD5, echo=echo)
        return read_cifar10_pickles(path)
    raise DatasetNotAvailable(
        "CIFAR-10 is not available: place the JPEG archive cifar10-jpeg.tar.xz in ../shared/data "
        f"(or set SCALETIME_SHARED, or copy it to {root}/), or place the canonical "
        f"{CIFAR10_PICKLE_DIR}/ folder or cifar-10-python.tar.gz ({CIFAR10_URL}) in {root}/, "
        "or run `scaletime data fetch cifar10 --download` where the internet is reachable"
    )


def cifar100_location(root: Path) -> Path | None:
    """The canonical CIFAR-100 pickles under the cache folder."""
    return find_first(
        [
            root / CIFAR100_PICKLE_DIR,
            root / "cifar100" / CIFAR100_PICKLE_DIR,
            root / "cifar-100-python.tar.gz",
            root / "cifar100" / "cifar-100-python.tar.gz",
        ]
    )


def cifar100_local(root: Path) -> dict[str, np.ndarray] | None:
    """CIFAR-100 from ``<cache>/cifar-100-python/`` or ``<cache>/cifar-100-python.tar.gz``."""
    location = cifar100_location(root)
    return read_cifar100_pickles(location) if location is not None else None


def cifar100_acquire(root: Path, *, download_files: bool, echo: Echo) -> dict[str, np.ndarray]:
    """CIFAR-100 from the canonical URL (only with ``download_files``)."""
    if download_files:
        path = download(CIFAR100_URL, root / "cifar-100-python.tar.gz", md5=CIFAR100_MD5, echo=echo)
        return read_cifar100_pickles(path)
    raise DatasetNotAvailable(
        "CIFAR-100 is not shipped here (no registry package carries it): download "
        f"{CIFAR100_URL} and place it (or its extracted {CIFAR100_PICKLE_DIR}/ folder) in {root}/, "
        "or run `scaletime data fetch cifar100 --download` where the internet is reachable"
    )
