"""Balanced nested subsets, exact label noise, normalisation (scaletime.data.transforms)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from scaletime.data import (
    Dataset,
    apply_label_noise,
    balanced_subset,
    normalize,
    subset_and_noise,
)


def _labels(counts: list[int], seed: int = 0) -> np.ndarray:
    y = np.concatenate([np.full(c, k) for k, c in enumerate(counts)]).astype(np.int64)
    return np.random.default_rng(seed).permutation(y)


@pytest.mark.parametrize("n", [1, 7, 10, 13, 99, 250, 1001])
def test_balanced_subset_counts_differ_by_at_most_one(n: int) -> None:
    y = _labels([300, 200, 250, 400, 150, 500, 220, 310, 290, 330])
    idx = balanced_subset(y, n, seed=3)
    assert len(idx) == n
    counts = np.bincount(y[idx], minlength=10)
    assert counts.max() - counts.min() <= 1
    assert counts.sum() == n


def test_balanced_subset_sorted_unique_int64() -> None:
    y = _labels([50] * 4)
    idx = balanced_subset(y, 37, seed=1)
    assert idx.dtype == np.int64
    assert np.all(np.diff(idx) > 0)
    assert idx.min() >= 0 and idx.max() < len(y)


def test_balanced_subset_nested_across_sizes() -> None:
    y = _labels([120, 80, 100, 95, 130])
    sizes = [1, 4, 5, 6, 23, 50, 101, 250, 400, len(y)]
    subsets = [set(balanced_subset(y, n, seed=11).tolist()) for n in sizes]
    for smaller, larger in itertools.pairwise(subsets):
        assert smaller < larger
    assert subsets[-1] == set(range(len(y)))


def test_balanced_subset_reproducible_and_seed_dependent() -> None:
    y = _labels([500] * 10)
    first = balanced_subset(y, 200, seed=5)
    again = balanced_subset(y.copy(), 200, seed=5)
    other = balanced_subset(y, 200, seed=6)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    # random within each class, not the first occurrences
    first_occurrences = np.sort(np.concatenate([np.flatnonzero(y == c)[:20] for c in range(10)]))
    assert not np.array_equal(first, first_occurrences)


def test_balanced_subset_exhausted_class_gives_all_and_rest_even() -> None:
    y = _labels([5, 100, 100, 100])
    idx = balanced_subset(y, 200, seed=0)
    counts = np.bincount(y[idx], minlength=4)
    assert counts[0] == 5  # the small class contributes everything it has
    assert counts[1:].max() - counts[1:].min() <= 1
    assert counts.sum() == 200


def test_balanced_subset_rejects_too_many_and_bad_values() -> None:
    y = _labels([10, 10])
    with pytest.raises(ValueError, match=r"n=21 exceeds the 20 examples"):
        balanced_subset(y, 21, seed=0)
    with pytest.raises(ValueError, match="n must be at least 1"):
        balanced_subset(y, 0, seed=0)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        balanced_subset(y, 5, seed=-1)
    with pytest.raises(ValueError, match="non-negative"):
        balanced_subset(np.array([-1, 0, 1]), 2, seed=0)


def test_balanced_subset_regression_targets_nested_random() -> None:
    y = np.random.default_rng(0).standard_normal(100).astype(np.float32)
    small, large = balanced_subset(y, 10, seed=2), balanced_subset(y, 40, seed=2)
    assert set(small.tolist()) < set(large.tolist())
    assert len(np.unique(large)) == 40


@pytest.mark.parametrize(
    ("rate", "n"), [(0.0, 100), (0.15, 1000), (0.15, 10), (0.5, 333), (0.999, 50)]
)
def test_label_noise_flips_exactly_round_rate_n(rate: float, n: int) -> None:
    y = np.random.default_rng(1).integers(0, 10, n)
    noisy, flipped = apply_label_noise(y, rate, 10, seed=4)
    assert len(flipped) == round(rate * n)
    changed = np.flatnonzero(noisy != y)
    np.testing.assert_array_equal(
        changed, flipped
    )  # every flip changes the class, nothing else does
    assert noisy.dtype == np.int64 and noisy.min() >= 0 and noisy.max() < 10
    assert np.array_equal(y, np.random.default_rng(1).integers(0, 10, n))  # input untouched


def test_label_noise_is_seeded() -> None:
    y = np.random.default_rng(2).integers(0, 5, 2000)
    a = apply_label_noise(y, 0.2, 5, seed=9)
    b = apply_label_noise(y, 0.2, 5, seed=9)
    c = apply_label_noise(y, 0.2, 5, seed=10)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_label_noise_new_class_uniform_over_others() -> None:
    y = np.zeros(30000, dtype=np.int64)
    noisy, flipped = apply_label_noise(y, 0.5, 4, seed=0)
    counts = np.bincount(noisy[flipped], minlength=4)
    assert counts[0] == 0
    expected = len(flipped) / 3
    sigma = np.sqrt(len(flipped) * (1 / 3) * (2 / 3))
    assert np.all(np.abs(counts[1:] - expected) < 5 * sigma)
    # flipped positions are spread uniformly, not clustered at the start
    assert abs(np.mean(flipped < 15000) - 0.5) < 0.03


def test_label_noise_validates_inputs() -> None:
    y = np.array([0, 1, 2, 1])
    with pytest.raises(ValueError, match=r"rate \(label noise\) must be a number in \[0, 1\)"):
        apply_label_noise(y, 1.0, 3, seed=0)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        apply_label_noise(y, -0.1, 3, seed=0)
    with pytest.raises(ValueError, match=r"labels must lie in 0..1"):
        apply_label_noise(y, 0.1, 2, seed=0)
    with pytest.raises(ValueError, match="num_classes must be >= 2"):
        apply_label_noise(np.zeros(4, dtype=int), 0.1, 1, seed=0)


def test_normalize_uint8_per_channel() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (6, 3, 4, 5), dtype=np.uint8)
    mean = np.array([0.1, 0.5, 0.9], dtype=np.float32)
    std = np.array([0.2, 0.3, 0.4], dtype=np.float32)
    out = normalize(x, mean, std)
    assert out.dtype == np.float32 and out.shape == x.shape
    for c in range(3):
        expected = (x[:, c].astype(np.float64) / 255 - mean[c]) / std[c]
        np.testing.assert_allclose(out[:, c], expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(normalize(x[0], mean, std), out[0], rtol=1e-6)


def test_normalize_float_vectors_scalar_stats() -> None:
    x = np.random.default_rng(1).normal(3.0, 2.0, (50, 7)).astype(np.float32)
    out = normalize(x, np.array([3.0]), np.array([2.0]))
    np.testing.assert_allclose(out, (x - 3.0) / 2.0, rtol=1e-6)


def test_normalize_rejects_channel_mismatch_and_bad_std() -> None:
    x = np.zeros((2, 1, 4, 4), dtype=np.uint8)
    with pytest.raises(ValueError, match="C=3"):
        normalize(x, np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="std must be positive"):
        normalize(x, np.zeros(1), np.zeros(1))


def _toy_dataset(num_classes: int = 4, n: int = 400) -> Dataset:
    rng = np.random.default_rng(0)
    return Dataset(
        name="toy",
        x_train=rng.standard_normal((n, 3)).astype(np.float32),
        y_train=rng.integers(0, num_classes, n),
        x_test=rng.standard_normal((10, 3)).astype(np.float32),
        y_test=rng.integers(0, num_classes, 10),
        num_classes=num_classes,
        mean=np.zeros(1, np.float32),
        std=np.ones(1, np.float32),
    )


def test_subset_and_noise_combines_both() -> None:
    ds = _toy_dataset()
    indices, labels, flipped = subset_and_noise(ds, 120, 0.25, seed=7)
    np.testing.assert_array_equal(indices, balanced_subset(ds.y_train, 120, 7))
    clean = ds.y_train[indices]
    assert len(flipped) == 30
    np.testing.assert_array_equal(np.flatnonzero(labels != clean), flipped)
    again = subset_and_noise(ds, 120, 0.25, seed=7)
    for first, second in zip((indices, labels, flipped), again, strict=True):
        np.testing.assert_array_equal(first, second)
    _, _, no_flips = subset_and_noise(ds, 120, 0.0, seed=7)
    assert len(no_flips) == 0


def test_subset_and_noise_rejects_noise_on_regression() -> None:
    ds = _toy_dataset()
    regression = Dataset(**{**ds.__dict__, "num_classes": 0, "y_train": ds.x_train[:, 0]})
    indices, labels, flipped = subset_and_noise(regression, 50, 0.0, seed=0)
    np.testing.assert_array_equal(labels, regression.y_train[indices])
    assert len(flipped) == 0
    with pytest.raises(ValueError, match="regression"):
        subset_and_noise(regression, 50, 0.1, seed=0)
