"""The width-parameterised CNN family of Deep Double Descent (see ``docs/engine.md``).

Nakkiran et al. (2019) use "4 convolutional layers of widths [k, 2k, 4k, 8k]", each a 3×3
convolution (stride 1, padding 1) followed by BatchNorm, ReLU and max-pooling by [1, 2, 2, 8],
then one linear layer. Here ``depth`` blocks have ``width·2^i`` channels (i = 0..depth−1):

* block 0: conv → BN → ReLU (no pooling);
* blocks 1..depth−2: conv → BN → ReLU → MaxPool(2) (skipped once a spatial side is below 2);
* the last block: conv → BN → ReLU → global max-pool (= MaxPool(8) for 32×32 inputs);
* a linear read-out from ``width·2^(depth−1)`` features to the classes.

Convolutions have no bias (BatchNorm follows). Images ``(C, H, W)`` use 2-D layers; vectors
``(L,)`` (MNIST-1D) are read as one channel of length L and use the 1-D layers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import torch
from torch import nn
from torch.nn import functional as F

from scaletime.models.mlp import uniform_fan_in_

KERNEL_SIZE = 3


def cnn_channels(width: int, depth: int) -> list[int]:
    """Channels of the conv blocks: [w, 2w, 4w, ..., w·2^(depth−1)]."""
    return [width * 2**i for i in range(depth)]


def cnn_pools(spatial: tuple[int, ...], depth: int) -> list[str]:
    """Pooling after each block: ``"none"`` (block 0), ``"max2"`` or ``"none"``, and ``"global"`` last."""
    pools = []
    size = list(spatial)
    for i in range(depth):
        if i == depth - 1:
            pools.append("global")
        elif i >= 1 and min(size) >= 2:
            pools.append("max2")
            size = [s // 2 for s in size]
        else:
            pools.append("none")
    return pools


def conv_geometry(input_shape: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    """``(in_channels, spatial shape)`` of an input: (C, H, W) → (C, (H, W)); (L,) → (1, (L,))."""
    if len(input_shape) == 3:
        return input_shape[0], tuple(input_shape[1:])
    if len(input_shape) == 1:
        return 1, tuple(input_shape)
    if len(input_shape) == 2:
        return input_shape[0], (input_shape[1],)
    raise ValueError(f"input_shape must be (C, H, W), (C, L) or (L,), got {input_shape}")


def cnn_param_count(input_shape: tuple[int, ...], width: int, depth: int, num_outputs: int) -> int:
    """N = Σ_i (c_{i−1}·c_i·k^d + 2c_i) + c_last·K + K, with k = 3 and d the spatial dimension."""
    in_channels, spatial = conv_geometry(input_shape)
    taps = KERNEL_SIZE ** len(spatial)
    total, c_prev = 0, in_channels
    for c in cnn_channels(width, depth):
        total += c_prev * c * taps + 2 * c  # conv weight + BatchNorm weight and bias
        c_prev = c
    return total + c_prev * num_outputs + num_outputs


class ConvBlock(nn.Module):
    """conv(3, padding 1, no bias) → BatchNorm → ReLU → pool."""

    def __init__(self, c_in: int, c_out: int, dim: int, pool: str) -> None:
        super().__init__()
        conv, norm = (nn.Conv2d, nn.BatchNorm2d) if dim == 2 else (nn.Conv1d, nn.BatchNorm1d)
        self.conv = conv(c_in, c_out, KERNEL_SIZE, padding=1, bias=False)
        self.norm = norm(c_out)
        self.pool = pool
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.norm(self.conv(x)))
        return pool(x, self.pool, self.dim)


def pool(x: torch.Tensor, kind: str, dim: int) -> torch.Tensor:
    """Apply one of the pooling kinds of :func:`cnn_pools` (``global`` keeps singleton dims)."""
    if kind == "max2":
        return F.max_pool2d(x, 2) if dim == 2 else F.max_pool1d(x, 2)
    if kind == "global":
        return F.adaptive_max_pool2d(x, 1) if dim == 2 else F.adaptive_max_pool1d(x, 1)
    return x


class CNN(nn.Module):
    """The ``depth``-block CNN with ``[w, 2w, 4w, ...]`` channels (module docstring).

    Parameters
    ----------
    input_shape : tuple of int
        One example's shape: ``(C, H, W)``, ``(C, L)`` or ``(L,)``.
    width : int
        Channels of the first block (w).
    depth : int
        Number of conv blocks (>= 1; 4 in Deep Double Descent).
    num_outputs : int
        Output units K.
    """

    def __init__(
        self, input_shape: tuple[int, ...], width: int, depth: int, num_outputs: int
    ) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        in_channels, spatial = conv_geometry(self.input_shape)
        self.dim = len(spatial)
        channels = cnn_channels(width, depth)
        pools = cnn_pools(spatial, depth)
        c_ins = [in_channels, *channels[:-1]]
        self.blocks = nn.ModuleList(
            ConvBlock(c_in, c_out, self.dim, p)
            for c_in, c_out, p in zip(c_ins, channels, pools, strict=True)
        )
        self.head = nn.Linear(channels[-1], num_outputs)

    def reset_parameters(self, generator: torch.Generator) -> None:
        """Conv weights and the head from U(−1/√fan_in, 1/√fan_in); BatchNorm γ = 1, β = 0."""
        for block in cast("Iterable[ConvBlock]", self.blocks):  # a ModuleList yields nn.Module
            conv = block.conv
            fan_in = conv.in_channels * KERNEL_SIZE**self.dim
            uniform_fan_in_(conv.weight, fan_in, generator)
            block.norm.reset_parameters()
            block.norm.reset_running_stats()
        uniform_fan_in_(self.head.weight, self.head.in_features, generator)
        uniform_fan_in_(self.head.bias, self.head.in_features, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (batch, *input_shape) → logits (batch, num_outputs)."""
        if len(self.input_shape) == 1:
            x = x.unsqueeze(1)  # (batch, L) → (batch, 1, L)
        for block in self.blocks:
            x = block(x)
        return self.head(x.flatten(1))
