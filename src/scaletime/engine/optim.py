"""SGD (momentum, weight decay) and Adam on one flat parameter vector with a per-element lr.

The update rules are exactly those of ``torch.optim.SGD`` (dampening 0, no Nesterov) and
``torch.optim.Adam`` (betas 0.9/0.999, eps 1e-8, L2 weight decay added to the gradient), which the
reference trainer uses; only the learning rate is a vector (each member's lr on its own
parameters). Full-batch ``gd`` is SGD on the whole training set.
"""

from __future__ import annotations

import math

import torch


class FlatOptimizer:
    """One optimiser for every member of an ensemble.

    Parameters
    ----------
    kind : {"sgd", "gd", "adam"}
        Update rule (gd uses the SGD rule).
    lr : torch.Tensor, shape (P,)
        Learning rate of every parameter element (its member's lr).
    momentum, weight_decay : float
        As in ``torch.optim.SGD`` (momentum ignored by Adam).
    """

    betas = (0.9, 0.999)
    eps = 1e-8

    def __init__(
        self, kind: str, lr: torch.Tensor, momentum: float = 0.0, weight_decay: float = 0.0
    ) -> None:
        self.kind = kind
        self.neg_lr = -lr
        # one learning rate for every live element: a scalar update reads one vector less
        live = lr[lr != 0]
        self.uniform_lr = float(live[0]) if live.numel() and bool((live == live[0]).all()) else None
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.steps = 0
        self.buf: torch.Tensor | None = None  # sgd momentum buffer, created on the first step
        self.exp_avg = torch.zeros_like(lr) if kind == "adam" else None
        self.exp_avg_sq = torch.zeros_like(lr) if kind == "adam" else None

    @torch.no_grad()
    def step(self, param: torch.Tensor, grad: torch.Tensor) -> None:
        """One update of ``param`` in place; ``grad`` is used as scratch space."""
        self.steps += 1
        if self.weight_decay:
            grad.add_(param, alpha=self.weight_decay)  # g ← g + λθ
        if self.kind == "adam":
            self._adam(param, grad)
            return
        direction = grad
        if self.momentum:
            if self.buf is None:
                self.buf = grad.clone()  # torch: the first buffer is the gradient itself
            else:
                self.buf.mul_(self.momentum).add_(grad)  # b ← μb + g
            direction = self.buf
        if self.uniform_lr is not None:
            param.add_(direction, alpha=-self.uniform_lr)  # θ ← θ − η·b
        else:
            param.addcmul_(direction, self.neg_lr)

    def _adam(self, param: torch.Tensor, grad: torch.Tensor) -> None:
        assert self.exp_avg is not None and self.exp_avg_sq is not None
        beta1, beta2 = self.betas
        self.exp_avg.lerp_(grad, 1 - beta1)  # m ← β1·m + (1−β1)·g
        self.exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)  # v ← β2·v + (1−β2)·g²
        bias1 = 1 - beta1**self.steps
        bias2 = 1 - beta2**self.steps
        denom = (self.exp_avg_sq.sqrt() / math.sqrt(bias2)).add_(self.eps)
        if self.uniform_lr is not None:  # θ ← θ − η·m̂/(√v̂+ε)
            param.addcdiv_(self.exp_avg, denom, value=-self.uniform_lr / bias1)
        else:
            param.addcmul_(self.exp_avg.div(denom), self.neg_lr, value=1 / bias1)

    @torch.no_grad()
    def forget(self, mask: torch.Tensor) -> None:
        """Zero the learning rate and the state of the elements in ``mask`` (a dropped member)."""
        self.neg_lr[mask] = 0.0
        self.uniform_lr = None
        for state in (self.buf, self.exp_avg, self.exp_avg_sq):
            if state is not None:
                state[mask] = 0.0
