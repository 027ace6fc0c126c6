"""Loaders on small files synthesised in the canonical formats (IDX, SVHN .mat, CIFAR pickles,
the CIFAR-10 JPEG archive layout). They go through ``load_dataset`` with a temporary cache."""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.io import savemat

from scaletime.data import DatasetNotAvailable, load_dataset
from scaletime.data.cifar import CIFAR10_CLASSES, read_cifar10_jpeg_archive
from scaletime.data.idx import parse_idx, read_idx
from scaletime.data.mnist import IDX_STEMS


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def test_idx_roundtrip_plain_and_gzip(tmp_path: Path) -> None:
    images = np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    (tmp_path / "a-idx3-ubyte").write_bytes(_idx_bytes(images))
    (tmp_path / "b.gz").write_bytes(gzip.compress(_idx_bytes(images)))
    np.testing.assert_array_equal(read_idx(tmp_path / "a-idx3-ubyte"), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "b.gz"), images)
    labels = np.arange(9, dtype=np.uint8)
    assert read_idx_shape(labels) == (9,)


def read_idx_shape(array: np.ndarray) -> tuple[int, ...]:
    return parse_idx(_idx_bytes(array)).shape


def test_idx_rejects_bad_magic_and_truncation() -> None:
    good = _idx_bytes(np.zeros((2, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="not an IDX file"):
        parse_idx(b"\x01" + good[1:])
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        parse_idx(good[:-1])
    with pytest.raises(ValueError, match="unknown IDX type code 0x07"):
        parse_idx(good[:2] + b"\x07" + good[3:])


def test_user_placed_mnist_idx_folder_loads(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    folder = tmp_path / "mnist"
    folder.mkdir()
    arrays = {
        "x_train": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 20).astype(np.uint8),
        "x_test": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 6).astype(np.uint8),
    }
    for key, stem in IDX_STEMS.items():
        (folder / f"{stem}.gz").write_bytes(gzip.compress(_idx_bytes(arrays[key])))
    ds = load_dataset("mnist", cache_dir=tmp_path)
    assert ds.x_train.shape == (20, 1, 28, 28) and ds.x_train.dtype == np.uint8
    np.testing.assert_array_equal(ds.x_train[:, 0], arrays["x_train"])
    np.testing.assert_array_equal(ds.y_test, arrays["y_test"])
    assert ds.y_train.dtype == np.int64
    assert (tmp_path / "mnist.npz").is_file()
    expected_mean = arrays["x_train"].astype(np.float64).mean() / 255
    np.testing.assert_allclose(ds.mean, [expected_mean], rtol=1e-5)


def _write_svhn(path: Path, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
    y = rng.integers(1, 11, (n, 1)).astype(np.uint8)
    y[0, 0] = 10  # make sure the "10 means digit 0" case is present
    savemat(path, {"X": x, "y": y})
    return x, y


def test_svhn_mat_loader(tmp_path: Path) -> None:
    folder = tmp_path / "svhn"
    folder.mkdir()
    x_train, y_train = _write_svhn(folder / "train_32x32.mat", 12, 0)
    x_test, y_test = _write_svhn(folder / "test_32x32.mat", 5, 1)
    ds = load_dataset("svhn", cache_dir=tmp_path)
    assert ds.x_train.shape == (12, 3, 32, 32) and ds.x_test.shape == (5, 3, 32, 32)
    # pixel (h, w, c) of image i lands at [i, c, h, w]
    np.testing.assert_array_equal(ds.x_train[4, 2, 7, 30], x_train[7, 30, 2, 4])
    np.testing.assert_array_equal(ds.x_train, x_train.transpose(3, 2, 0, 1))
    np.testing.assert_array_equal(ds.y_train, y_train[:, 0] % 10)
    assert ds.y_train[0] == 0
    np.testing.assert_array_equal(ds.y_test, y_test[:, 0] % 10)
    np.testing.assert_array_equal(ds.x_test, x_test.transpose(3, 2, 0, 1))
    assert ds.mean.shape == (3,)
    np.testing.assert_allclose(ds.mean[1], x_train[:, :, 1, :].mean() / 255, rtol=1e-5)


def test_svhn_missing_files_error_says_how(tmp_path: Path) -> None:
    (tmp_path / "svhn").mkdir()
    _write_svhn(tmp_path / "svhn" / "train_32x32.mat", 3, 0)  # test file missing
    with pytest.raises(DatasetNotAvailable) as info:
        load_dataset("svhn", cache_dir=tmp_path)
    message = str(info.value)
    assert "test_32x32.mat" in message and str(tmp_path / "svhn") in message
    assert "scaletime data fetch svhn" in message


def _cifar_batch(rng: np.random.Generator, n: int, num_classes: int, label_key: bytes) -> dict:
    return {
        b"batch_label": b"synthetic",
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        label_key: rng.integers(0, num_classes, n).tolist(),
        b"filenames": [f"img{i}.png".encode() for i in range(n)],
    }


def _write_cifar10_pickles(folder: Path) -> dict[str, dict]:
    rng = np.random.default_rng(2)
    folder.mkdir(parents=True)
    batches = {f"data_batch_{i}": _cifar_batch(rng, 3 + i, 10, b"labels") for i in range(1, 6)}
    batches["test_batch"] = _cifar_batch(rng, 4, 10, b"labels")
    for name, batch in batches.items():
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    meta = {b"label_names": [c.encode() for c in CIFAR10_CLASSES], b"num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return batches


def _check_cifar10(ds_x: np.ndarray, ds_y: np.ndarray, batches: dict[str, dict]) -> None:
    data = np.concatenate([batches[f"data_batch_{i}"][b"data"] for i in range(1, 6)])
    labels = np.concatenate([batches[f"data_batch_{i}"][b"labels"] for i in range(1, 6)])
    assert ds_x.shape == (len(data), 3, 32, 32)
    # row layout: 1024 red, 1024 green, 1024 blue values, each row-major 32x32
    np.testing.assert_array_equal(ds_x[:, 0].reshape(len(data), -1), data[:, :1024])
    np.testing.assert_array_equal(ds_x[:, 2].reshape(len(data), -1), data[:, 2048:])
    np.testing.assert_array_equal(ds_y, labels)


def test_cifar10_pickle_folder_preferred_and_exact(tmp_path: Path) -> None:
    batches = _write_cifar10_pickles(tmp_path / "cifar-10-batches-py")
    ds = load_dataset("cifar10", cache_dir=tmp_path)
    assert ds.source.startswith("cifar-python:")
    _check_cifar10(ds.x_train, ds.y_train, batches)
    np.testing.assert_array_equal(ds.y_test, batches["test_batch"][b"labels"])
    assert ds.classes == CIFAR10_CLASSES


def test_cifar10_pickles_read_from_original_tarball(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    batches = _write_cifar10_pickles(staging / "cifar-10-batches-py")
    cache = tmp_path / "cache"
    cache.mkdir()
    with tarfile.open(cache / "cifar-10-python.tar.gz", "w:gz") as archive:
        archive.add(staging / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    ds = load_dataset("cifar10", cache_dir=cache)
    _check_cifar10(ds.x_train, ds.y_train, batches)


def test_cifar100_fine_labels(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    train = _cifar_batch(rng, 9, 100, b"fine_labels")
    train[b"coarse_labels"] = rng.integers(0, 20, 9).tolist()
    test = _cifar_batch(rng, 4, 100, b"fine_labels")
    test[b"coarse_labels"] = rng.integers(0, 20, 4).tolist()
    names = [f"class{i}".encode() for i in range(100)]
    for name, obj in (("train", train), ("test", test), ("meta", {b"fine_label_names": names})):
        (folder / name).write_bytes(pickle.dumps(obj, protocol=2))
    ds = load_dataset("cifar100", cache_dir=tmp_path)
    assert ds.num_classes == 100 and ds.classes[7] == "class7"
    np.testing.assert_array_equal(ds.y_train, train[b"fine_labels"])
    np.testing.assert_array_equal(ds.x_test[:, 1].reshape(4, -1), test[b"data"][:, 1024:2048])


def _solid_jpeg(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def test_cifar10_jpeg_archive_layout(tmp_path: Path) -> None:
    # class k is a solid colour with red = 20·k, so each decoded image identifies its class
    path = tmp_path / "cifar10-jpeg.tar.xz"
    with tarfile.open(path, "w:xz") as archive:
        for split, per_class in (("train", 3), ("test", 1)):
            for k, name in enumerate(CIFAR10_CLASSES):
                for i in range(per_class):
                    blob = _solid_jpeg((20 * k, 100, 200))
                    member = tarfile.TarInfo(f"cifar10-jpeg/{split}/{name}/{i:04d}.jpg")
                    member.size = len(blob)
                    archive.addfile(member, io.BytesIO(blob))
    arrays = read_cifar10_jpeg_archive(path, verify=False)
    assert arrays["x_train"].shape == (30, 3, 32, 32) and arrays["x_test"].shape == (10, 3, 32, 32)
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        red = x[:, 0].reshape(len(x), -1).mean(axis=1)
        np.testing.assert_allclose(red, 20 * y, atol=3)  # JPEG is lossy, solid colours nearly exact
        np.testing.assert_allclose(x[:, 2].mean(), 200, atol=3)
    assert np.bincount(arrays["y_train"]).tolist() == [3] * 10
    assert not np.all(np.diff(arrays["y_train"]) >= 0)  # shuffled, not sorted by class
    with pytest.raises(DatasetNotAvailable, match="sha256"):
        read_cifar10_jpeg_archive(path, verify=True)


class _Exploit:
    """Unpickling this runs ``touch PATH``: the attack of issue 15 on a placed CIFAR batch."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.path}",))


def test_a_crafted_cifar_batch_is_refused_without_running_code(tmp_path: Path) -> None:
    batches_dir = tmp_path / "cifar-10-batches-py"
    _write_cifar10_pickles(batches_dir)
    marker = tmp_path / "pwned"
    (batches_dir / "data_batch_1").write_bytes(
        pickle.dumps({b"data": _Exploit(marker), b"labels": [0]}, protocol=2)
    )
    with pytest.raises(Exception, match=r"refusing (posix|os)\.system"):
        load_dataset("cifar10", cache_dir=tmp_path)
    assert not marker.exists()
