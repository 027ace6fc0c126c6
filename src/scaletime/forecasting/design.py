"""Sweeps designed for the scale-time predictor: smaller models train longer
(docs/forecast.md, "Planned sweeps").

The shift predictor ``Ê(N*, t) = E(N, t·(N*/N)^γ)`` reads a model of size N at time
``t·(N*/N)^γ``; to cover a target of size N* trained for T epochs, the model of size N must train

.. math::  T(N) = T\\,(N^*/N)^{\\gamma}

epochs. Compute (∝ N × examples seen) of width w is ``6·N(w)·n·T(N(w))`` per run, with n its
training-set size; with a ``budget``, T is the largest horizon the budget pays for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from scaletime.data.registry import input_spec
from scaletime.errors import ScaletimeError
from scaletime.models import param_count
from scaletime.sweep.spec import SweepSpec, parse_spec


@dataclass
class PlannedSweep:
    """A spec whose smaller widths train longer, and what it costs.

    ``table`` has one row per width: ``width, n_params, epochs, flops`` (all runs of the width:
    seeds × learning rates × data sizes × noise rates).
    """

    spec: SweepSpec
    table: pd.DataFrame
    target_width: int
    target_size: int
    gamma: float
    horizon: float
    equal_epochs_flops: float

    @property
    def flops(self) -> float:
        return float(self.table["flops"].sum())

    def to_toml(self) -> str:
        import tomli_w

        data = self.spec.model_dump(mode="json", exclude={"execution"})
        data["train"]["epochs_by_width"] = {
            str(k): v for k, v in data["train"]["epochs_by_width"].items()
        }
        data["data"] = {k: v for k, v in data["data"].items() if v is not None}
        data["model"] = {k: v for k, v in data["model"].items() if v is not None}
        head = (
            f"# Planned by `scaletime plan`: widths smaller than the target width "
            f"{self.target_width} (N* = {self.target_size}) train T(N) = T·(N*/N)^γ epochs,\n"
            f"# γ = {self.gamma:.4g}, T = {self.horizon:.4g}: the scale-time predictor then covers "
            f"the target's whole curve.\n# Compute {self.flops:.3g} FLOPs (equal epochs: "
            f"{self.equal_epochs_flops:.3g}).\n"
        )
        return head + tomli_w.dumps(data)

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_toml())
        return path


def _sizes(spec: SweepSpec, widths: list[int]) -> dict[int, int]:
    shape, classes = input_spec(spec.data.dataset)
    depth = spec.model.resolved_depth
    return {w: param_count(spec.model.arch, w, depth, shape, classes) for w in widths}


def _runs_per_width(spec: SweepSpec) -> tuple[int, float]:
    """Runs of one width and the examples per epoch summed over them."""
    per_config = len(spec.seeds) * len(spec.train.lr) * len(spec.data.label_noise)
    return per_config * len(spec.data.sizes), float(per_config * sum(spec.data.sizes))


def plan_sweep(
    base: SweepSpec,
    target_width: int,
    *,
    gamma: float = 1.0 / 3.0,
    epochs: float | None = None,
    budget: float | None = None,
    max_epochs: float = 1e5,
) -> PlannedSweep:
    """``base`` with ``epochs_by_width`` set so that its widths cover ``target_width``'s curve
    to ``epochs`` (default: ``base.train.epochs``) — or to the horizon ``budget`` FLOPs pay for.
    Widths at or above the target keep the horizon."""
    if not (isinstance(target_width, int) and target_width > 0):
        raise ScaletimeError(f"target width must be a positive integer, got {target_width!r}")
    if not (math.isfinite(gamma) and 0.0 <= gamma <= 2.0):
        raise ScaletimeError(f"gamma must lie in [0, 2], got {gamma}")
    if epochs is not None and budget is not None:
        raise ScaletimeError("give epochs or budget, not both")
    widths = list(base.model.widths)
    if min(widths) >= target_width:
        raise ScaletimeError(
            f"the spec's widths {widths} are all at least the target {target_width}: nothing "
            "smaller to train longer"
        )
    sizes = _sizes(base, [*widths, target_width])
    target = sizes[target_width]
    stretch = {w: (target / sizes[w]) ** gamma if w < target_width else 1.0 for w in widths}
    _, examples = _runs_per_width(base)
    per_horizon = sum(6.0 * sizes[w] * examples * stretch[w] for w in widths)
    if budget is not None:
        if not (math.isfinite(budget) and budget > 0):
            raise ScaletimeError(f"budget must be a positive number of FLOPs, got {budget}")
        horizon = budget / per_horizon
    else:
        horizon = float(epochs if epochs is not None else base.train.epochs)
    if not (math.isfinite(horizon) and horizon > 0):
        raise ScaletimeError(f"epochs must be a positive number, got {horizon}")
    by_width = {w: float(f"{horizon * stretch[w]:.4g}") for w in widths}
    too_long = {w: e for w, e in by_width.items() if e > max_epochs}
    if too_long:
        raise ScaletimeError(
            f"widths {sorted(too_long)} would train more than {max_epochs:g} epochs "
            f"({max(too_long.values()):.3g}); lower gamma or epochs, or drop the smallest widths"
        )
    if horizon <= base.train.first_checkpoint:
        raise ScaletimeError(
            f"the horizon {horizon:.3g} epochs is not after the first checkpoint "
            f"({base.train.first_checkpoint}); raise the budget"
        )
    data: dict[str, Any] = base.model_dump(mode="json")
    data["name"] = f"{base.name}-planned-w{target_width}"
    data["train"]["epochs"] = float(f"{horizon:.4g}")
    data["train"]["epochs_by_width"] = {str(w): e for w, e in by_width.items()}
    spec = parse_spec(data, source="plan")
    table = pd.DataFrame(
        {
            "width": widths,
            "n_params": [sizes[w] for w in widths],
            "epochs": [by_width[w] for w in widths],
            "flops": [6.0 * sizes[w] * examples * by_width[w] for w in widths],
        }
    )
    equal = sum(6.0 * sizes[w] * examples * horizon for w in widths)
    return PlannedSweep(spec, table, target_width, target, gamma, horizon, equal)
