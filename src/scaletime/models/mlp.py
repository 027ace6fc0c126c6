"""The width-parameterised MLP family (see ``docs/engine.md``, "Architectures").

``MLP(input_dim, width, depth, num_outputs)``: the input is flattened, then ``depth`` hidden
layers of exactly ``width`` ReLU units each, then a linear read-out to ``num_outputs``. The
paper's widths 1..100 are therefore the number of units in every hidden layer.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn


def mlp_param_count(input_dim: int, width: int, depth: int, num_outputs: int) -> int:
    """N = D·w + w + (depth − 1)(w² + w) + w·K + K (weights and biases of every layer)."""
    return (
        input_dim * width
        + width
        + (depth - 1) * (width * width + width)
        + width * num_outputs
        + num_outputs
    )


def uniform_fan_in_(tensor: torch.Tensor, fan_in: int, generator: torch.Generator) -> None:
    """PyTorch's default init for Linear/Conv weights and biases: U(−1/√fan_in, 1/√fan_in).

    (``kaiming_uniform_(a=√5)`` gives exactly this bound for the weights.)
    """
    bound = 1.0 / math.sqrt(fan_in)
    with torch.no_grad():
        tensor.uniform_(-bound, bound, generator=generator)


class MLP(nn.Module):
    """Fully connected ReLU network with ``depth`` hidden layers of ``width`` units.

    Parameters
    ----------
    input_dim : int
        Number of input features D (images are flattened: C·H·W).
    width : int
        Units in every hidden layer.
    depth : int
        Number of hidden layers (>= 1).
    num_outputs : int
        Output units K (number of classes; 1 for regression).
    """

    def __init__(self, input_dim: int, width: int, depth: int, num_outputs: int) -> None:
        super().__init__()
        sizes = [input_dim] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
        self.output = nn.Linear(width, num_outputs)

    def reset_parameters(self, generator: torch.Generator) -> None:
        """Draw every weight and bias from U(−1/√fan_in, 1/√fan_in), in module order."""
        for layer in [*self.hidden, self.output]:
            uniform_fan_in_(layer.weight, layer.in_features, generator)
            uniform_fan_in_(layer.bias, layer.in_features, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (batch, ...) → logits (batch, num_outputs)."""
        h = x.flatten(1)
        for layer in self.hidden:
            h = torch.relu(layer(h))
        return self.output(h)
