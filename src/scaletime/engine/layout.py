"""How an ensemble chunk is laid out in memory (``docs/engine.md``, "How the engine works").

A chunk is a grid of G *groups* (one per seed: the members of a group see the same mini-batches)
by S *slots* (the members of one group, sorted by width; every group has the same slot widths).

* The deeper layers are run per *bucket*: slots of similar width padded to the bucket's width
  (padding units have zero weights and zero inputs, and stay zero: their gradients are exactly 0,
  so padding changes no result). Each bucket is one batched product per layer.
  :func:`plan_buckets` picks the buckets by dynamic programming on a cost model. How the
  members of a group share their first layer is the model's business (``ensemble_mlp.py``).
* Every parameter lives in one flat vector (and its gradient in another), so the optimiser is a
  handful of vector operations whatever the ensemble's shape; ``owner`` says which member each
  element belongs to (−1 for padding and the constant units).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Bucket:
    """Slots trained together in the deeper layers, padded to ``width``."""

    slots: tuple[int, ...]
    width: int


@dataclass(frozen=True)
class Layout:
    """A G × S grid of members with bucketed deeper layers. Member index = g·S + s."""

    n_groups: int
    slot_widths: tuple[int, ...]
    buckets: tuple[Bucket, ...]

    @property
    def n_slots(self) -> int:
        return len(self.slot_widths)

    @property
    def n_members(self) -> int:
        return self.n_groups * self.n_slots

    def bucket_members(self, k: int) -> list[int]:
        """Member indices of bucket k in its stacking order (group-major)."""
        slots = self.buckets[k].slots
        return [g * self.n_slots + s for g in range(self.n_groups) for s in slots]


def plan_buckets(
    slot_widths: Sequence[int], padded_cost: Callable[[int], float], bucket_overhead: float
) -> tuple[Bucket, ...]:
    """Group slots into buckets of consecutive widths minimising Σ_buckets (overhead + Σ_slots cost).

    ``padded_cost(w)`` is the cost of one member run at width w (its deeper layers); a bucket of
    widths u_i..u_j costs ``bucket_overhead + (#slots)·padded_cost(u_j)``. Exact dynamic programme
    over the sorted distinct widths (O(q²) for q distinct widths).
    """
    widths = sorted(set(slot_widths))
    count = {w: sum(1 for x in slot_widths if x == w) for w in widths}
    q = len(widths)
    best = [0.0] + [float("inf")] * q
    cut = [0] * (q + 1)
    for j in range(1, q + 1):
        n = 0
        for i in range(j, 0, -1):  # bucket = widths[i-1 .. j-1]
            n += count[widths[i - 1]]
            cost = best[i - 1] + bucket_overhead + n * padded_cost(widths[j - 1])
            if cost < best[j]:
                best[j], cut[j] = cost, i - 1
    ranges, j = [], q
    while j > 0:
        ranges.append((cut[j], j))
        j = cut[j]
    buckets = []
    for lo, hi in reversed(ranges):
        chosen = set(widths[lo:hi])
        slots = tuple(s for s, w in enumerate(slot_widths) if w in chosen)
        buckets.append(Bucket(slots, widths[hi - 1]))
    return tuple(buckets)


class FlatParameters:
    """Named tensors stored as views of one flat vector, with a flat gradient and owner map.

    Parameters
    ----------
    shapes : dict of str to tuple
        Name → shape, in storage order.
    device : torch.device
        Where the vectors live.
    """

    def __init__(self, shapes: dict[str, tuple[int, ...]], device: torch.device) -> None:
        sizes = {name: int(torch.Size(shape).numel()) for name, shape in shapes.items()}
        total = sum(sizes.values())
        self.data = torch.zeros(total, device=device)
        self.grad = torch.zeros(total, device=device)
        self.owner = torch.full((total,), -1, dtype=torch.int32, device=device)
        self.value: dict[str, torch.Tensor] = {}
        self.grads: dict[str, torch.Tensor] = {}
        self.owners: dict[str, torch.Tensor] = {}
        offset = 0
        for name, shape in shapes.items():
            stop = offset + sizes[name]
            self.value[name] = self.data[offset:stop].view(shape)
            self.grads[name] = self.grad[offset:stop].view(shape)
            self.owners[name] = self.owner[offset:stop].view(shape)
            offset = stop

    def __len__(self) -> int:
        return self.data.numel()

    def enable_autograd(self) -> None:
        """Make every view a leaf that requires grad, accumulating into the flat gradient."""
        for name, p in self.value.items():
            p.requires_grad_(True)
            p.grad = self.grads[name]
