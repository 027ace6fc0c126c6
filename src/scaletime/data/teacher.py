"""Synthetic teacher–student task with a controllable spectrum (generated on demand, never cached).

Inputs ``x ∈ R^d`` are Gaussian with diagonal covariance ``λ_k`` (``k = 1..d``): ``λ_k = 1``
("isotropic") or the power law ``λ_k = k^{-a}``. The teacher's coefficients follow
``w*_k² ∝ k^{-b}`` (``b`` = ``coef_decay``), normalised so that the signal variance is
``Σ_k λ_k w*_k² = 1``. This is the linear signal/noise setting of the paper's §5 (docs/theory.md).

* Regression (``num_classes=0``): ``y = x·w*`` (+ Gaussian noise of std ``label_noise`` on the
  training targets only), ``float32``.
* Classification (``num_classes=K≥2``): ``y = argmax_c (x W*)_c`` with ``W*_{kc} = g_{kc} k^{-b/2}``,
  ``g`` standard Gaussian; ``label_noise`` flips that fraction of *training* labels exactly
  (:func:`scaletime.data.apply_label_noise`).

Train inputs, test inputs, the teacher and the noise come from separate streams of ``seed``, so
the first ``n`` training examples do not change when ``n_train`` or ``n_test`` grows.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from scaletime.data.cache import channel_stats
from scaletime.data.dataset import Dataset
from scaletime.data.transforms import apply_label_noise

TEACHER_DEFAULTS: dict[str, object] = {
    "n_train": 1000,
    "n_test": 1000,
    "dim": 100,
    "spectrum": "isotropic",
    "coef_decay": 0.0,
    "num_classes": 0,
    "label_noise": 0.0,
    "seed": 0,
}


def parse_spectrum(spectrum: object) -> float:
    """The power-law exponent ``a`` of ``λ_k = k^{-a}``; ``"isotropic"`` means ``a = 0``."""
    if isinstance(spectrum, str):
        text = spectrum.strip().lower()
        if text == "isotropic":
            return 0.0
        try:
            exponent = float(text)
        except ValueError:
            raise ValueError(
                f"spectrum must be 'isotropic' or a power-law exponent a >= 0 "
                f"(λ_k ∝ k^-a), got {spectrum!r}"
            ) from None
    elif isinstance(spectrum, numbers.Real) and not isinstance(spectrum, bool):
        exponent = float(spectrum)
    else:
        raise ValueError(f"spectrum must be 'isotropic' or a number a >= 0, got {spectrum!r}")
    if not np.isfinite(exponent) or exponent < 0:
        raise ValueError(f"spectrum exponent a must be finite and >= 0, got {exponent}")
    return exponent


def _int_option(options: dict[str, object], key: str, minimum: int) -> int:
    value = options[key]
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"teacher option {key} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _float_option(options: dict[str, object], key: str) -> float:
    value = options[key]
    # numpy's ufunc stubs take no numbers.Real (the value is a float, int or numpy scalar here)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):  # type: ignore[call-overload]
        raise ValueError(f"teacher option {key} must be a finite number, got {value!r}")
    return float(value)


#: Largest ``n × dim`` the teacher generates (8 GB of float64 inputs); a larger request is refused.
MAX_TEACHER_VALUES = 10**9


def teacher_options(**options: object) -> dict[str, Any]:
    """Validated teacher options (defaults filled, ``spectrum`` as its exponent ``a``); a bad one
    raises :class:`ValueError` naming the option and what is allowed."""
    unknown = set(options) - set(TEACHER_DEFAULTS)
    if unknown:
        raise ValueError(
            f"unknown teacher option(s) {sorted(unknown)}; allowed: {sorted(TEACHER_DEFAULTS)}"
        )
    opts = {**TEACHER_DEFAULTS, **options}
    n_train = _int_option(opts, "n_train", 1)
    n_test = _int_option(opts, "n_test", 1)
    dim = _int_option(opts, "dim", 1)
    num_classes = _int_option(opts, "num_classes", 0)
    seed = _int_option(opts, "seed", 0)
    if num_classes == 1:
        raise ValueError("teacher option num_classes must be 0 (regression) or >= 2, got 1")
    exponent = parse_spectrum(opts["spectrum"])
    coef_decay = _float_option(opts, "coef_decay")
    if coef_decay < 0:
        raise ValueError(f"teacher option coef_decay must be >= 0, got {coef_decay}")
    label_noise = _float_option(opts, "label_noise")
    if num_classes == 0 and label_noise < 0:
        raise ValueError(
            f"label_noise (regression: target noise std) must be >= 0, got {label_noise}"
        )

    if (n_train + n_test) * dim > MAX_TEACHER_VALUES:
        raise ValueError(
            f"teacher options (n_train + n_test) × dim = {(n_train + n_test) * dim} exceed "
            f"{MAX_TEACHER_VALUES:.0e} input values; choose smaller n_train, n_test or dim"
        )
    return {
        "n_train": n_train,
        "n_test": n_test,
        "dim": dim,
        "num_classes": num_classes,
        "seed": seed,
        "spectrum": exponent,
        "coef_decay": coef_decay,
        "label_noise": label_noise,
    }


def make_teacher(**options: object) -> Dataset:
    """Generate the teacher–student dataset (see the module docstring for the model).

    Parameters
    ----------
    n_train, n_test : int
        Numbers of examples (default 1000 each).
    dim : int
        Input dimension ``d`` (default 100).
    spectrum : {"isotropic"} or float
        Covariance eigenvalues: all 1, or ``λ_k = k^{-a}`` for the exponent ``a >= 0``.
    coef_decay : float
        ``b >= 0`` in ``w*_k² ∝ k^{-b}`` (default 0: flat).
    num_classes : int
        0 for regression (float targets), ``K >= 2`` for argmax classification.
    label_noise : float
        Regression: std of Gaussian noise added to training targets (>= 0). Classification:
        fraction of training labels flipped, in ``[0, 1)``.
    seed : int
        Non-negative seed.

    Returns
    -------
    Dataset
        ``x`` float32 ``(N, d)``; ``extras`` holds ``eigenvalues`` ``(d,)``,
        ``teacher_weights`` (``(d,)`` or ``(d, K)``) and ``flipped`` (training positions whose
        label was flipped; classification only).
    """
    opts = teacher_options(**options)
    n_train, n_test, dim = opts["n_train"], opts["n_test"], opts["dim"]
    num_classes, seed = opts["num_classes"], opts["seed"]
    exponent, coef_decay, label_noise = opts["spectrum"], opts["coef_decay"], opts["label_noise"]

    teacher_rng, train_rng, test_rng, noise_rng = (
        np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(4)
    )
    k = np.arange(1, dim + 1, dtype=np.float64)
    eigenvalues = k**-exponent
    scale = np.sqrt(eigenvalues)
    x_train = train_rng.standard_normal((n_train, dim)) * scale
    x_test = test_rng.standard_normal((n_test, dim)) * scale
    magnitude = k ** (-coef_decay / 2.0)
    extras: dict[str, np.ndarray] = {"eigenvalues": eigenvalues.astype(np.float32)}

    if num_classes == 0:
        weights = magnitude * teacher_rng.choice([-1.0, 1.0], size=dim)
        weights /= np.sqrt(np.sum(eigenvalues * weights**2))  # signal variance 1
        y_train = x_train @ weights
        y_test = x_test @ weights
        if label_noise > 0:
            y_train = y_train + label_noise * noise_rng.standard_normal(n_train)
        y_train, y_test = y_train.astype(np.float32), y_test.astype(np.float32)
        classes: tuple[str, ...] = ()
    else:
        weights = magnitude[:, None] * teacher_rng.standard_normal((dim, num_classes))
        weights /= np.sqrt(np.sum(eigenvalues[:, None] * weights**2, axis=0, keepdims=True))
        y_train = np.argmax(x_train @ weights, axis=1).astype(np.int64)
        y_test = np.argmax(x_test @ weights, axis=1).astype(np.int64)
        noise_seed = int(noise_rng.integers(0, 2**63 - 1))
        y_train, flipped = apply_label_noise(y_train, label_noise, num_classes, noise_seed)
        extras["flipped"] = flipped
        classes = tuple(str(c) for c in range(num_classes))
    extras["teacher_weights"] = weights.astype(np.float32)

    x_train32, x_test32 = x_train.astype(np.float32), x_test.astype(np.float32)
    mean, std = channel_stats(x_train32)
    spectrum_name = "isotropic" if exponent == 0 else f"k^-{exponent:g}"
    return Dataset(
        name="teacher",
        x_train=x_train32,
        y_train=y_train,
        x_test=x_test32,
        y_test=y_test,
        num_classes=num_classes,
        mean=mean,
        std=std,
        classes=classes,
        source=(
            f"generated: teacher(dim={dim}, spectrum={spectrum_name}, coef_decay={coef_decay:g}, "
            f"num_classes={num_classes}, label_noise={label_noise:g}, seed={seed})"
        ),
        extras=extras,
    )
