"""scaletime.models: width-parameterised MLP and CNN families, exact parameter counts, p = N^(1/3).

>>> param_count("mlp", 10, 2, (1, 28, 28), 10)
8070
>>> round(effective_scale(8000), 6)
20.0

The architectures are documented exactly in ``docs/engine.md``.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from scaletime.models.cnn import CNN, cnn_channels, cnn_param_count, cnn_pools, conv_geometry
from scaletime.models.mlp import MLP, mlp_param_count

Arch = Literal["mlp", "cnn"]
ARCHS: tuple[str, ...] = ("mlp", "cnn")
DEFAULT_DEPTH: dict[str, int] = {"mlp": 2, "cnn": 4}

__all__ = [
    "ARCHS",
    "CNN",
    "DEFAULT_DEPTH",
    "MLP",
    "build_model",
    "cnn_channels",
    "cnn_pools",
    "conv_geometry",
    "effective_scale",
    "layer_macs",
    "num_outputs_for",
    "param_count",
]


def _check(arch: str, width: int, depth: int, input_shape: tuple[int, ...]) -> None:
    if arch not in ARCHS:
        raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive integer, got {width!r}")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    if not input_shape or any(int(s) < 1 for s in input_shape):
        raise ValueError(
            f"input_shape must be a non-empty tuple of positive sizes, got {input_shape!r}"
        )


def num_outputs_for(num_classes: int) -> int:
    """Output units: one per class, or 1 for a regression task (``num_classes == 0``)."""
    return num_classes if num_classes > 0 else 1


def param_count(
    arch: Arch, width: int, depth: int, input_shape: tuple[int, ...], num_classes: int
) -> int:
    """Exact number of trainable parameters N of one network of the family.

    MLP: ``D·w + w + (depth−1)(w² + w) + w·K + K`` with D = prod(input_shape).
    CNN: ``Σ_i (c_{i−1}·c_i·3^d + 2c_i) + c_last·K + K`` with c_i = w·2^i, d = 2 (images) or 1.
    K = num_classes (1 for regression). BatchNorm running statistics are not parameters.
    """
    input_shape = tuple(int(s) for s in input_shape)
    _check(arch, width, depth, input_shape)
    k = num_outputs_for(num_classes)
    if arch == "mlp":
        return mlp_param_count(math.prod(input_shape), width, depth, k)
    return cnn_param_count(input_shape, width, depth, k)


def effective_scale(n_params: float) -> float:
    """The paper's model scale p = N^(1/3) (``docs/paper.md`` §4)."""
    if not n_params > 0:
        raise ValueError(f"n_params must be positive, got {n_params!r}")
    return float(n_params) ** (1.0 / 3.0)


def build_model(
    arch: Arch,
    width: int,
    depth: int,
    input_shape: tuple[int, ...],
    num_classes: int,
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> nn.Module:
    """A network of the family, initialised from ``generator`` (or a generator seeded with ``seed``).

    The same (arch, width, depth, shape, classes, seed) always gives the same parameters, on any
    device: they are drawn on the CPU.
    """
    input_shape = tuple(int(s) for s in input_shape)
    _check(arch, width, depth, input_shape)
    k = num_outputs_for(num_classes)
    if arch == "mlp":
        model: MLP | CNN = MLP(math.prod(input_shape), width, depth, k)
    else:
        model = CNN(input_shape, width, depth, k)
    if generator is None:
        generator = torch.Generator().manual_seed(0 if seed is None else int(seed))
    model.reset_parameters(generator)
    return model


def layer_macs(
    arch: Arch, width: int, depth: int, input_shape: tuple[int, ...], num_classes: int
) -> list[int]:
    """Multiply-adds per example of each weight layer in a forward pass (first layer first).

    MLP: ``D·w``, ``w²`` per further hidden layer, ``w·K``. CNN: ``c_in·c_out·3^d·|map|`` per
    convolution (the map at the block's input resolution, padding 1 keeps it), then ``c_last·K``.
    BatchNorm, ReLU, pooling and biases are not counted. A training step costs about
    ``2·Σ`` (forward) ``+ 2·Σ`` (weight gradients) ``+ 2·Σ_{layers > 1}`` (input gradients).
    """
    input_shape = tuple(int(s) for s in input_shape)
    _check(arch, width, depth, input_shape)
    k = num_outputs_for(num_classes)
    if arch == "mlp":
        return [math.prod(input_shape) * width] + [width * width] * (depth - 1) + [width * k]
    c_in, spatial = conv_geometry(input_shape)
    taps, size = 3 ** len(spatial), list(spatial)
    macs = []
    for c_out, kind in zip(cnn_channels(width, depth), cnn_pools(spatial, depth), strict=True):
        macs.append(c_in * c_out * taps * math.prod(size))
        c_in = c_out
        if kind == "max2":
            size = [s // 2 for s in size]
    return [*macs, c_in * k]
