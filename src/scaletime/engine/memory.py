"""Memory planning: bytes per member, the default budget, and the device.

Estimates are deliberately simple upper bounds (float32 everywhere; ``docs/engine.md``):

    bytes(member) = 4·N·(4 + s)  +  4·A·(3·B + R)

N parameters (value, gradient, per-element lr, owner id, plus s optimiser states: 1 for SGD
with momentum, 2 for Adam), A activation floats per example (forward values and the backward
deltas, ×3 for the training batch B, ×1 for an evaluation block of R rows).
"""

from __future__ import annotations

import math
import os

import torch

from scaletime.models import cnn_channels, cnn_pools, conv_geometry, num_outputs_for, param_count

FLOAT_BYTES = 4
EVAL_ROWS = 1024  # rows per evaluation block assumed by the estimate


def activation_floats(
    arch: str, width: int, depth: int, input_shape: tuple[int, ...], num_classes: int
) -> int:
    """Activations per example of one network (pre-activations, activations, outputs).

    MLP: 2·depth·w + 2K. CNN: 4 maps (conv, BN, ReLU, pool) of c_i·|spatial_i| per block + 2K.
    """
    k = num_outputs_for(num_classes)
    if arch == "mlp":
        return 2 * depth * width + 2 * k
    _, spatial = conv_geometry(tuple(input_shape))
    size, total = math.prod(spatial), 0
    for c, p in zip(cnn_channels(width, depth), cnn_pools(spatial, depth), strict=True):
        total += 4 * c * size
        size = size // 2 ** len(spatial) if p == "max2" else size
    return total + 2 * k


def estimate_member_bytes(
    arch: str,
    width: int,
    depth: int,
    input_shape: tuple[int, ...],
    num_classes: int,
    batch_size: int = 128,
    optimizer: str = "sgd",
    momentum: float = 0.0,
    eval_rows: int = EVAL_ROWS,
) -> int:
    """Bytes one member adds to an ensemble chunk (parameters, optimiser state, activations).

    Parameters
    ----------
    arch, width, depth, input_shape, num_classes
        The network (as :func:`scaletime.models.param_count`).
    batch_size : int
        Training batch (use the data size for full-batch gd).
    optimizer : {"sgd", "gd", "adam"}
    momentum : float
        SGD momentum (a non-zero value adds one state vector).
    eval_rows : int
        Rows of one evaluation block.

    Returns
    -------
    int
        Estimated bytes.
    """
    n = param_count(arch, width, depth, input_shape, num_classes)  # type: ignore[arg-type]
    states = 2 if optimizer == "adam" else (1 if momentum else 0)
    acts = activation_floats(arch, width, depth, input_shape, num_classes)
    return FLOAT_BYTES * (n * (4 + states) + acts * (3 * batch_size + eval_rows))


def estimate_data_bytes(
    input_shape: tuple[int, ...], data_size: int, test_size: int, num_classes: int, n_rates: int
) -> int:
    """Bytes of the data a chunk holds: normalised train and test inputs, targets per noise rate."""
    k = num_outputs_for(num_classes)
    features = math.prod(input_shape)
    return FLOAT_BYTES * (
        (data_size + test_size) * features + (n_rates * data_size + test_size) * (k + 2)
    )


def resolve_device(name: str) -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; other names as given (CUDA checked)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        from scaletime.engine.config import EngineConfigError

        raise EngineConfigError(
            f"TrainConfig.device={name!r} but CUDA is not available; use 'cpu' or 'auto'"
        )
    return device


def available_bytes(device: torch.device) -> int:
    """Free memory now: CUDA's free memory, or the OS's available RAM (Linux MemAvailable)."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))


def default_chunk_bytes(device: torch.device) -> int:
    """Half of the memory available now (CUDA: 70% of the free memory)."""
    return int(available_bytes(device) * (0.7 if device.type == "cuda" else 0.5))
