"""Losses, their gradients and the error metric, shared by the ensemble and the reference.

Per example, with output f ∈ R^K, one-hot target e_y (the value y for regression, K = 1):

* ``mse``: ℓ = Σ_k (f_k − e_{y,k})²  (squared distance to the one-hot target, summed over classes);
* ``ce``:  ℓ = logsumexp(f) − f_y.

A batch's loss is the mean of ℓ over its examples, so ∂L/∂f = 2(f − e_y)/B (mse) or
(softmax(f) − e_y)/B (ce). The error is 1[argmax f ≠ y] (for regression: the squared error).
"""

from __future__ import annotations

import torch


def example_loss(out: torch.Tensor, targets: torch.Tensor, kind: str) -> torch.Tensor:
    """ℓ per example: out and one-hot targets (..., B, K) → (..., B); ce uses f_y = ⟨f, e_y⟩."""
    if kind == "mse":
        return (out - targets).square().sum(-1)
    return torch.logsumexp(out, -1) - (out * targets).sum(-1)


def example_error(
    out: torch.Tensor, targets: torch.Tensor, labels: torch.Tensor, regression: bool
) -> torch.Tensor:
    """Misclassification indicator per example (squared error for regression), float."""
    if regression:
        return (out - targets).square().sum(-1)
    return (out.argmax(-1) != labels).to(out.dtype)


def batch_loss_grad(
    out: torch.Tensor, targets: torch.Tensor, kind: str, dim: int = -1
) -> torch.Tensor:
    """∂/∂out of the batch-mean loss; classes along ``dim``, the batch along the last other axis.

    ``out`` and one-hot ``targets`` are (..., B, K) for ``dim=-1``, or (M, K, B) for ``dim=1``.
    """
    batch = out.shape[-2] if dim in (-1, out.ndim - 1) else out.shape[-1]
    if kind == "mse":
        return (out - targets).mul_(2.0 / batch)
    return torch.softmax(out, dim).sub_(targets).div_(batch)
