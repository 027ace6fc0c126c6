"""The MLP ensemble: every member's forward and backward pass in a few batched products.

Activations are stored feature-major, ``(members, units, batch)``, and weights as ``nn.Linear``
does, ``(out, in)``: gathering a bucket's units is then a copy of whole rows. Shapes: G groups,
U first-layer units per group, bucket k with M_k members padded to width w_k, B examples, K
outputs. Layer 1, all members of a group at once (``layout.py``):

    z₁ = W₁ Xᵀ + b₁                W₁ (G, U, D), X (G, B, D)           → (G, U, B)
    h₁ = relu(z₁), rows gathered per bucket into (M_k, w_k, B)

Deeper layers, bucket by bucket (ℓ = 2..depth), then the read-out:

    z_ℓ = W_ℓ h_{ℓ−1} + b_ℓ,  h_ℓ = relu(z_ℓ),  f = W_out h_depth + b_out         (M_k, K, B)

The backward pass is written out (no autograd: fewer, larger kernels; ``docs/engine.md``):

    δ_out = ∂L/∂f,  ∇W_ℓ = δ_ℓ h_{ℓ−1}ᵀ,  ∇b_ℓ = Σ_batch δ_ℓ,  δ_{ℓ−1} = 1[z_{ℓ−1} > 0] ⊙ (W_ℓᵀ δ_ℓ)

with the gradients written straight into the flat gradient vector. The ReLU mask is applied by
``threshold_backward`` (a select, not a product), so a diverged member's inf/NaN never leaks into
the null unit shared by its group.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.nn import functional as F

from scaletime.engine.layout import FlatParameters, Layout
from scaletime.engine.losses import batch_loss_grad
from scaletime.models import MLP

relu_backward = (
    torch.ops.aten.threshold_backward
)  # δ ↦ δ where z > 0, else 0 (torch's own ReLU backward)


class MLPEnsemble:
    """Stacked parameters and the fused training step of ``layout.n_members`` MLPs.

    Parameters
    ----------
    layout : Layout
        The G × S grid and its buckets.
    models : sequence of MLP
        Initial members, in member order (g·S + s); their weights are copied.
    device : torch.device
        Where the parameters live.
    """

    def __init__(self, layout: Layout, models: Sequence[MLP], device: torch.device) -> None:
        self.layout = layout
        first = models[0]
        self.depth = len(first.hidden)
        self.input_dim = first.hidden[0].in_features
        self.num_outputs = first.output.out_features
        g, u, d, k_out = layout.n_groups, layout.units, self.input_dim, self.num_outputs
        shapes: dict[str, tuple[int, ...]] = {"W1": (g, u, d), "b1": (g, u, 1)}
        for k, bucket in enumerate(layout.buckets):
            m, w = g * len(bucket.slots), bucket.width
            for layer in range(2, self.depth + 1):
                shapes[f"{k}.W{layer}"], shapes[f"{k}.b{layer}"] = (m, w, w), (m, w, 1)
            shapes[f"{k}.Wout"], shapes[f"{k}.bout"] = (m, k_out, w), (m, k_out, 1)
        self.params = FlatParameters(shapes, device)
        self.gather_index = [layout.gather_index(k).to(device) for k in range(len(layout.buckets))]
        self.load_members(models)

    # ---- member <-> ensemble -------------------------------------------------------------
    def _member_slices(self, member: int) -> list[tuple[str, tuple, str]]:
        """(flat tensor name, index into it, MLP state_dict name) for one member."""
        lay = self.layout
        grp, slot = divmod(member, lay.n_slots)
        w, off = lay.slot_widths[slot], lay.slot_offsets[slot]
        k = next(i for i, b in enumerate(lay.buckets) if slot in b.slots)
        m = lay.bucket_members(k).index(member)
        units = slice(0, w)
        out = [
            ("W1", (grp, slice(off, off + w)), "hidden.0.weight"),
            ("b1", (grp, slice(off, off + w), 0), "hidden.0.bias"),
        ]
        for layer in range(2, self.depth + 1):
            out.append((f"{k}.W{layer}", (m, units, units), f"hidden.{layer - 1}.weight"))
            out.append((f"{k}.b{layer}", (m, units, 0), f"hidden.{layer - 1}.bias"))
        out.append((f"{k}.Wout", (m, slice(None), units), "output.weight"))
        out.append((f"{k}.bout", (m, slice(None), 0), "output.bias"))
        return out

    @torch.no_grad()
    def load_members(self, models: Sequence[MLP]) -> None:
        """Copy each member's weights into the stacked tensors (and record ownership)."""
        for member, model in enumerate(models):
            state = model.state_dict()
            for name, index, key in self._member_slices(member):
                self.params.value[name][index] = state[key].to(self.params.data.device)
                self.params.owners[name][index] = member

    @torch.no_grad()
    def member_state_dict(self, member: int) -> dict[str, torch.Tensor]:
        """The member's parameters as an :class:`~scaletime.models.MLP` ``state_dict`` (CPU)."""
        return {
            key: self.params.value[name][index].detach().cpu().clone()
            for name, index, key in self._member_slices(member)
        }

    # ---- data ----------------------------------------------------------------------------
    @staticmethod
    def prepare_input(x: torch.Tensor) -> torch.Tensor:
        """Flatten examples to (n, D)."""
        return x.reshape(x.shape[0], -1)

    @staticmethod
    def gather_batch(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """Rows ``index`` (G, B) of x (n, D) → (G, B, D)."""
        return F.embedding(index, x)  # a row gather, faster than index_select on CPU

    # ---- bucket plumbing -----------------------------------------------------------------
    def _to_bucket(self, h1: torch.Tensor, k: int) -> torch.Tensor:
        """(G, U, B) first-layer activations → (M_k, w_k, B) inputs of bucket k (a row copy)."""
        h = h1.index_select(1, self.gather_index[k])
        return h.view(-1, self.layout.buckets[k].width, h1.shape[2])

    def _from_bucket(self, dh1: torch.Tensor, delta: torch.Tensor, k: int) -> None:
        """Accumulate a bucket's (M_k, w_k, B) input gradient into dh1 (G, U, B)."""
        dh1.index_add_(1, self.gather_index[k], delta.view(dh1.shape[0], -1, dh1.shape[2]))

    # ---- training ------------------------------------------------------------------------
    def train_step(self, xb: torch.Tensor, targets: Sequence[torch.Tensor], loss: str) -> None:
        """Forward and backward pass on a batch; gradients land in ``self.params.grad``.

        Parameters
        ----------
        xb : torch.Tensor, shape (G, B, D)
            Each group's batch.
        targets : sequence of torch.Tensor, shape (M_k, B, K)
            One-hot (or regression) targets of each bucket's members.
        loss : {"mse", "ce"}
        """
        p, grad = self.params.value, self.params.grads
        z1 = torch.baddbmm(p["b1"], p["W1"], xb.transpose(1, 2))  # (G, U, B)
        h1 = torch.relu(z1)
        dh1 = torch.zeros_like(h1)
        for k in range(len(self.layout.buckets)):
            acts, pres = [self._to_bucket(h1, k)], []
            for layer in range(2, self.depth + 1):
                pres.append(torch.baddbmm(p[f"{k}.b{layer}"], p[f"{k}.W{layer}"], acts[-1]))
                acts.append(torch.relu(pres[-1]))
            w_out = p[f"{k}.Wout"]
            out = torch.baddbmm(p[f"{k}.bout"], w_out, acts[-1])  # (M, K, B): f = W h + b
            delta = batch_loss_grad(out, targets[k].transpose(1, 2), loss, dim=1)  # (M, K, B)
            torch.bmm(delta, acts[-1].transpose(1, 2), out=grad[f"{k}.Wout"])
            torch.sum(delta, 2, keepdim=True, out=grad[f"{k}.bout"])
            delta = torch.bmm(w_out.transpose(1, 2), delta)
            for layer in range(self.depth, 1, -1):
                delta = relu_backward(delta, pres[layer - 2], 0)
                torch.bmm(delta, acts[layer - 2].transpose(1, 2), out=grad[f"{k}.W{layer}"])
                torch.sum(delta, 2, keepdim=True, out=grad[f"{k}.b{layer}"])
                delta = torch.bmm(p[f"{k}.W{layer}"].transpose(1, 2), delta)
            self._from_bucket(dh1, delta, k)
        delta1 = relu_backward(dh1, z1, 0)
        torch.bmm(delta1, xb, out=grad["W1"])
        torch.sum(delta1, 2, keepdim=True, out=grad["b1"])

    # ---- evaluation ----------------------------------------------------------------------
    @torch.no_grad()
    def forward_shared(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Outputs of every member on the same rows x (R, D): one GEMM for all first layers.

        Returns one (M_k, R, K) tensor per bucket.
        """
        p, g, u = self.params.value, self.layout.n_groups, self.layout.units
        z1 = torch.addmm(p["b1"].view(g * u, 1), p["W1"].view(g * u, -1), x.t())  # (G·U, R)
        h1 = torch.relu(z1).view(g, u, x.shape[0])
        outs = []
        for k in range(len(self.layout.buckets)):
            h = self._to_bucket(h1, k)
            for layer in range(2, self.depth + 1):
                h = torch.relu(torch.baddbmm(p[f"{k}.b{layer}"], p[f"{k}.W{layer}"], h))
            out = torch.baddbmm(p[f"{k}.bout"], p[f"{k}.Wout"], h)  # (M, K, R)
            outs.append(out.transpose(1, 2).contiguous())  # argmax over a strided K is 4× slower
        return outs

    def set_training(self, mode: bool) -> None:
        """No batch statistics in an MLP: nothing to switch."""
