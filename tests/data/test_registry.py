"""Registry, cache, errors, MNIST-1D options, the teacher task and the ``scaletime data`` CLI."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from scaletime.cli import app
from scaletime.data import (
    DATASET_NAMES,
    DatasetNotAvailable,
    ScaletimeError,
    UnknownDatasetError,
    cache_path,
    canonical_name,
    fetch,
    list_datasets,
    load_dataset,
)


def test_registry_names() -> None:
    required = {"mnist", "fashion-mnist", "cifar10", "mnist1d", "svhn", "digits", "teacher"}
    assert required <= set(DATASET_NAMES)


def test_unknown_name_lists_known_ones() -> None:
    with pytest.raises(UnknownDatasetError) as info:
        load_dataset("imagenet")
    message = str(info.value)
    assert "'imagenet'" in message
    for name in DATASET_NAMES:
        assert name in message
    assert isinstance(info.value, ScaletimeError) and isinstance(info.value, ValueError)


def test_name_normalisation() -> None:
    assert load_dataset("Fashion_MNIST").name == "fashion-mnist"
    assert cache_path("CIFAR-10", "/x").name == "cifar10.npz"
    assert canonical_name("MNIST_1D") == "mnist1d"


def test_missing_dataset_error_explains_how(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotAvailable) as info:
        load_dataset("mnist", cache_dir=tmp_path)
    message = str(info.value)
    assert "scaletime data fetch mnist" in message
    assert str(tmp_path / "mnist") in message
    assert "SCALETIME_DATA" in message
    assert isinstance(info.value, ScaletimeError)
    with pytest.raises(DatasetNotAvailable, match=r"cifar-100-python\.tar\.gz"):
        load_dataset("cifar100", cache_dir=tmp_path)
    with pytest.raises(DatasetNotAvailable, match="place them as"):
        fetch("svhn", cache_dir=tmp_path, echo=None)  # fetch without --download: no network


def test_options_rejected_where_not_supported() -> None:
    with pytest.raises(ValueError, match="takes no options"):
        load_dataset("mnist", n_train=10)
    with pytest.raises(ValueError, match="unknown mnist1d option"):
        load_dataset("mnist1d", width=3)
    with pytest.raises(ValueError, match="multiple of 10"):
        load_dataset("mnist1d", n_train=95, n_test=3)


def test_list_datasets_reports_presence(tmp_path: Path) -> None:
    infos = {info.name: info for info in list_datasets(tmp_path)}
    assert set(infos) == set(DATASET_NAMES)
    assert not infos["svhn"].present and not infos["svhn"].cached
    assert "train_32x32.mat" in infos["svhn"].how_to_obtain
    assert infos["digits"].present and not infos["digits"].cached  # generated locally
    assert infos["teacher"].present and infos["teacher"].num_classes == 0
    assert infos["svhn"].train_shape == (73257, 3, 32, 32)
    real = {info.name: info for info in list_datasets()}
    assert real["mnist"].cached and real["cifar10"].cached


def test_fetch_is_idempotent(tmp_path: Path) -> None:
    messages: list[str] = []
    path = fetch("digits", cache_dir=tmp_path, echo=messages.append)
    assert path == tmp_path / "digits.npz" and path.is_file()
    first_mtime = path.stat().st_mtime_ns
    assert any("not cached yet" in m for m in messages)
    messages.clear()
    assert fetch("digits", cache_dir=tmp_path, echo=messages.append) == path
    assert path.stat().st_mtime_ns == first_mtime
    assert any("already cached" in m for m in messages)
    assert fetch("teacher", cache_dir=tmp_path, echo=messages.append) is None
    a, b = load_dataset("digits", cache_dir=tmp_path), load_dataset("digits")
    assert a.checksums() == b.checksums()


def test_mnist1d_options_and_rng_hygiene(tmp_path: Path) -> None:
    np.random.seed(123)
    random.seed(123)
    expected_np, expected_py = np.random.random(), random.random()
    np.random.seed(123)
    random.seed(123)
    ds = load_dataset("mnist1d", cache_dir=tmp_path, n_train=80, n_test=20, seed=3)
    assert (np.random.random(), random.random()) == (expected_np, expected_py)  # state untouched
    assert ds.x_train.shape == (80, 40) and ds.x_test.shape == (20, 40)
    assert ds.x_train.dtype == np.float32
    assert np.bincount(np.concatenate([ds.y_train, ds.y_test])).tolist() == [10] * 10
    assert (tmp_path / "mnist1d-80-20-seed3.npz").is_file()
    again = load_dataset("mnist1d", cache_dir=tmp_path, n_train=80, n_test=20, seed=3)
    np.testing.assert_array_equal(ds.x_train, again.x_train)


def test_teacher_regression_is_linear_with_power_law_spectrum() -> None:
    ds = load_dataset(
        "teacher", n_train=20000, n_test=50, dim=8, spectrum=1.5, coef_decay=1.0, seed=1
    )
    assert ds.num_classes == 0 and ds.is_regression
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.float32
    w = ds.extras["teacher_weights"].astype(np.float64)
    np.testing.assert_allclose(ds.x_train @ w, ds.y_train, atol=1e-4)  # noise-free: y = x·w*
    k = np.arange(1, 9)
    np.testing.assert_allclose(ds.extras["eigenvalues"], k**-1.5, rtol=1e-6)
    np.testing.assert_allclose(ds.x_train.var(axis=0), k**-1.5, rtol=0.06)
    np.testing.assert_allclose(w**2 / w[0] ** 2, k**-1.0, rtol=1e-5)  # w*_k² ∝ k^-b
    assert abs(ds.y_train.var() - 1.0) < 0.05  # signal variance normalised to 1


def test_teacher_regression_noise_and_nesting() -> None:
    noisy = load_dataset("teacher", n_train=20000, dim=5, label_noise=0.5, seed=2)
    clean_pred = noisy.x_train @ noisy.extras["teacher_weights"]
    assert abs(np.std(noisy.y_train - clean_pred) - 0.5) < 0.02
    np.testing.assert_allclose(
        noisy.x_test @ noisy.extras["teacher_weights"], noisy.y_test, atol=1e-4
    )
    small = load_dataset("teacher", n_train=100, n_test=7, dim=5, seed=2)
    np.testing.assert_array_equal(small.x_train, noisy.x_train[:100])  # nested in n_train


def test_teacher_classification_with_exact_noise() -> None:
    clean = load_dataset("teacher", n_train=3000, dim=20, num_classes=4, seed=5)
    noisy = load_dataset("teacher", n_train=3000, dim=20, num_classes=4, label_noise=0.2, seed=5)
    assert clean.y_train.dtype == np.int64 and clean.num_classes == 4
    np.testing.assert_array_equal(
        clean.y_train, np.argmax(clean.x_train @ clean.extras["teacher_weights"], axis=1)
    )
    assert np.bincount(clean.y_train, minlength=4).min() > 300  # every class occurs
    flipped = noisy.extras["flipped"]
    assert len(flipped) == 600
    np.testing.assert_array_equal(np.flatnonzero(noisy.y_train != clean.y_train), flipped)
    np.testing.assert_array_equal(noisy.y_test, clean.y_test)  # test labels stay clean


def test_teacher_validates_options() -> None:
    with pytest.raises(ValueError, match="spectrum must be 'isotropic' or a power-law exponent"):
        load_dataset("teacher", spectrum="steep")
    with pytest.raises(ValueError, match="num_classes must be 0"):
        load_dataset("teacher", num_classes=1)
    with pytest.raises(ValueError, match="unknown teacher option"):
        load_dataset("teacher", n=10)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        load_dataset("teacher", num_classes=3, label_noise=1.5)


def test_cli_list_and_fetch_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"COLUMNS": "250", "SCALETIME_DATA": str(tmp_path)}
    listed = runner.invoke(app, ["data", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    for name in DATASET_NAMES:
        assert name in listed.output
    assert "73257×3×32×32" in listed.output
    assert "train_32x32.mat" in listed.output  # missing datasets say how to obtain them
    unknown = runner.invoke(app, ["data", "fetch", "digits", "bogus"], env=env)
    assert unknown.exit_code == 2
    assert "unknown dataset 'bogus'" in unknown.output and "fashion-mnist" in unknown.output
    assert not (tmp_path / "digits.npz").exists()  # names are checked before any work
    missing = runner.invoke(app, ["data", "fetch", "digits", "svhn"], env=env)
    assert missing.exit_code == 1
    assert "svhn: not available" in missing.output and "test_32x32.mat" in missing.output
    assert (tmp_path / "digits.npz").is_file()
