"""The MLP ensemble: every member's forward and backward pass in a few batched products.

Activations are stored feature-major, ``(members, units, batch)``, and weights as ``nn.Linear``
does, ``(out, in)``. Beyond the first layer **a bias is the last column of its weight matrix**
(W̃ = [W, b]) and every hidden activation carries a constant 1 as its last row (h̃ = [h; 1]), so
a layer is one product and its weight gradient, bias included, another. Shapes: G groups, R
first-layer rows per group, bucket k with M_k members padded to width w_k, B examples, K outputs.

Layer 1, all members of a group at once (``layout.py``):

    z₁ = W₁ xᵀ + b₁                W₁ (G, R, D), x (G, B, D)          → (G, R, B)
    h₁ = relu(z₁), with one *ones unit* per bucket set to 1 and one *null unit* that is 0

The R rows are, bucket by bucket, the units of the bucket's slots followed by the bucket's ones
unit, then the null unit. A bucket of one slot reads its rows of h₁ as a view; a bucket of
several slots gathers each slot's units, pads them with the null unit and appends the ones unit:
h̃ (M_k, w_k + 1, B). Deeper layers (ℓ = 2..depth) and the read-out:

    z_ℓ = W̃_ℓ h̃_{ℓ−1},  h̃_ℓ = [relu(z_ℓ); 1],  f = W̃_out h̃_depth                   (M_k, K, B)

The backward pass is written out (no autograd: fewer, larger kernels; ``docs/engine.md``):

    δ_out = ∂L/∂f (for MSE fused into the read-out product: 2/B·W̃_out h̃ − 2/B·e_y)
    ∇W̃_ℓ = δ_ℓ h̃_{ℓ−1}ᵀ,   δ_{ℓ−1} = 1[z_{ℓ−1} > 0] ⊙ (W_ℓᵀ δ_ℓ)      (W_ℓ: W̃_ℓ without b)
    ∇W₁ = δ₁ x,   ∇b₁ = Σ_batch δ₁

with the gradients written straight into the flat gradient vector. The ones and null units get
a zero input gradient, so their weights (all zero) never move. The ReLU mask is applied by
``threshold_backward`` (a select, not a product), so a diverged member's inf/NaN never leaks into
a unit shared by its group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from torch.nn import functional as F

from scaletime.engine.layout import FlatParameters, Layout
from scaletime.engine.losses import batch_loss_grad
from scaletime.models import MLP

relu_backward = (
    torch.ops.aten.threshold_backward
)  # δ ↦ δ where z > 0, else 0 (torch's own ReLU backward)


class _FirstLayerRows:
    """Where each slot's units, each bucket's ones unit and the null unit sit among the R rows."""

    def __init__(self, layout: Layout) -> None:
        self.slot_offset: dict[int, int] = {}
        self.bucket_start: list[int] = []
        self.ones: list[int] = []
        row = 0
        for bucket in layout.buckets:
            self.bucket_start.append(row)
            for s in bucket.slots:
                self.slot_offset[s] = row
                row += layout.slot_widths[s]
            self.ones.append(row)
            row += 1
        self.null = row
        self.total = row + 1

    def gather(self, layout: Layout, k: int) -> list[int]:
        """Rows forming bucket k's input: per slot its units, null padding, the ones unit."""
        bucket, rows = layout.buckets[k], []
        for s in bucket.slots:
            w, off = layout.slot_widths[s], self.slot_offset[s]
            rows += list(range(off, off + w)) + [self.null] * (bucket.width - w) + [self.ones[k]]
        return rows

    def scatter(self, layout: Layout, k: int) -> list[int]:
        """Positions, within a group's (S_k·w_k) padded rows of bucket k, of the slots' real units."""
        bucket, rows = layout.buckets[k], []
        for j, s in enumerate(bucket.slots):
            rows += list(range(j * bucket.width, j * bucket.width + layout.slot_widths[s]))
        return rows


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
        self.input_dim = cast(torch.nn.Linear, first.hidden[0]).in_features  # ModuleList item
        self.num_outputs = first.output.out_features
        self.rows = _FirstLayerRows(layout)
        g, d, k_out, r = layout.n_groups, self.input_dim, self.num_outputs, self.rows.total
        shapes: dict[str, tuple[int, ...]] = {"W1": (g, r, d), "b1": (g, r, 1)}
        for k, bucket in enumerate(layout.buckets):
            m, w = g * len(bucket.slots), bucket.width
            for layer in range(2, self.depth + 1):
                shapes[f"{k}.W{layer}"] = (m, w, w + 1)
            shapes[f"{k}.Wout"] = (m, k_out, w + 1)
        self.params = FlatParameters(shapes, device)
        # a bucket of one slot reads a slice of h₁; a bucket of several gathers (and scatters back)
        self.slice_rows: list[slice | None] = []
        self.gather_rows: list[torch.Tensor | None] = []
        self.scatter_rows: list[torch.Tensor | None] = []
        for k, bucket in enumerate(layout.buckets):
            if len(bucket.slots) == 1:
                start = self.rows.bucket_start[k]
                self.slice_rows.append(slice(start, start + bucket.width + 1))
                self.gather_rows.append(None)
                self.scatter_rows.append(None)
            else:
                self.slice_rows.append(None)
                self.gather_rows.append(torch.tensor(self.rows.gather(layout, k), device=device))
                self.scatter_rows.append(torch.tensor(self.rows.scatter(layout, k), device=device))
        self.ones_rows = torch.tensor(self.rows.ones, device=device)
        self._buffers: dict[tuple, torch.Tensor] = {}
        self.load_members(models)

    # ---- member <-> ensemble -------------------------------------------------------------
    def _member_slices(self, member: int) -> list[tuple[str, tuple, str]]:
        """(flat tensor name, index into it, MLP state_dict name) for one member."""
        lay = self.layout
        grp, slot = divmod(member, lay.n_slots)
        w, off = lay.slot_widths[slot], self.rows.slot_offset[slot]
        k = next(i for i, b in enumerate(lay.buckets) if slot in b.slots)
        m, bias = lay.bucket_members(k).index(member), lay.buckets[k].width
        units = slice(0, w)
        out = [
            ("W1", (grp, slice(off, off + w)), "hidden.0.weight"),
            ("b1", (grp, slice(off, off + w), 0), "hidden.0.bias"),
        ]
        for layer in range(2, self.depth + 1):
            out.append((f"{k}.W{layer}", (m, units, units), f"hidden.{layer - 1}.weight"))
            out.append((f"{k}.W{layer}", (m, units, bias), f"hidden.{layer - 1}.bias"))
        out.append((f"{k}.Wout", (m, slice(None), units), "output.weight"))
        out.append((f"{k}.Wout", (m, slice(None), bias), "output.bias"))
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

    # ---- building blocks -----------------------------------------------------------------
    def _with_ones(
        self, key: tuple | None, shape: tuple[int, int, int], like: torch.Tensor
    ) -> torch.Tensor:
        """An (M, w + 1, B) activation buffer whose last row is 1 (reused across steps by key)."""
        buf = self._buffers.get(key) if key is not None else None
        if buf is None or buf.shape != shape:
            buf = like.new_empty(shape)
            buf[:, -1] = 1.0
            if key is not None:
                self._buffers[key] = buf
        return buf

    def _first_layer(self, z1: torch.Tensor) -> torch.Tensor:
        """h₁ = relu(z₁) with the ones units set to 1 (their weights are zero, so z = 0)."""
        return torch.relu(z1).index_fill_(1, self.ones_rows, 1.0)

    def _bucket_input(self, h1: torch.Tensor, k: int) -> torch.Tensor:
        """(G, R, B) first-layer activations → bucket k's input (M_k, w_k + 1, B)."""
        rows = self.slice_rows[k]
        if rows is not None:
            return h1[:, rows]
        h = h1.index_select(1, self.gather_rows[k])  # type: ignore[arg-type]
        return h.view(-1, self.layout.buckets[k].width + 1, h1.shape[2])

    def _hidden(
        self, a: torch.Tensor, k: int, layer: int, reuse: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """z_ℓ = W̃_ℓ a and h̃_ℓ = [relu(z_ℓ); 1] (in a buffer kept between steps if ``reuse``)."""
        z = torch.bmm(self.params.value[f"{k}.W{layer}"], a)
        w = z.shape[1]
        key = (k, layer, z.shape[2]) if reuse else None
        h = self._with_ones(key, (z.shape[0], w + 1, z.shape[2]), z)
        torch.clamp(z, min=0.0, out=h[:, :w])
        return z, h

    def _input_grads(self, delta: torch.Tensor, k: int) -> torch.Tensor:
        """Bucket k's input gradient (M_k, w_k, B) → its rows of dh₁ (G, units of the bucket, B)."""
        rows = self.scatter_rows[k]
        if rows is None:
            return delta
        g = self.layout.n_groups
        return delta.view(g, -1, delta.shape[2]).index_select(1, rows)

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
        p = self.params.value
        z1 = torch.baddbmm(p["b1"], p["W1"], xb.transpose(1, 2))  # (G, R, B)
        h1 = self._first_layer(z1)
        zero_row = self._zero_row(h1)
        pieces = []
        for k in range(len(self.layout.buckets)):
            # the bucket's input gradient; the ones unit after it gets none
            pieces += [self._bucket_step(h1, k, targets[k], loss), zero_row]
        pieces.append(zero_row)  # nor does the null unit
        delta1 = relu_backward(torch.cat(pieces, 1), z1, 0)
        torch.bmm(delta1, xb, out=self.params.grads["W1"])
        torch.sum(delta1, 2, keepdim=True, out=self.params.grads["b1"])

    def _bucket_step(
        self, h1: torch.Tensor, k: int, targets: torch.Tensor, loss: str
    ) -> torch.Tensor:
        """Forward and backward pass of bucket k's deeper layers; returns its rows of dh₁."""
        p, grad = self.params.value, self.params.grads
        batch, w = h1.shape[2], self.layout.buckets[k].width
        acts, pres = [self._bucket_input(h1, k)], []
        for layer in range(2, self.depth + 1):
            z, h = self._hidden(acts[-1], k, layer, reuse=True)
            pres.append(z)
            acts.append(h)
        w_out, t = p[f"{k}.Wout"], targets.transpose(1, 2)  # (M, K, B)
        if loss == "mse":  # δ = 2/B·(f − e_y), f = W̃_out h̃: one product
            delta = torch.baddbmm(t, w_out, acts[-1], beta=-2.0 / batch, alpha=2.0 / batch)
        else:
            delta = batch_loss_grad(torch.bmm(w_out, acts[-1]), t, loss, dim=1)
        torch.bmm(delta, acts[-1].transpose(1, 2), out=grad[f"{k}.Wout"])
        delta = torch.bmm(w_out[:, :, :w].transpose(1, 2), delta)
        for layer in range(self.depth, 1, -1):
            delta = relu_backward(delta, pres[layer - 2], 0)
            torch.bmm(delta, acts[layer - 2].transpose(1, 2), out=grad[f"{k}.W{layer}"])
            delta = torch.bmm(p[f"{k}.W{layer}"][:, :, :w].transpose(1, 2), delta)
        return self._input_grads(delta, k)

    def _zero_row(self, like: torch.Tensor) -> torch.Tensor:
        key = ("zero", like.shape[2])
        row = self._buffers.get(key)
        if row is None:
            row = like.new_zeros(like.shape[0], 1, like.shape[2])
            self._buffers[key] = row
        return row

    # ---- evaluation ----------------------------------------------------------------------
    @torch.no_grad()
    def forward_shared(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Outputs of every member on the same rows x (n, D): one GEMM for all first layers.

        Returns one (M_k, R, K) tensor per bucket.
        """
        p, g, r = self.params.value, self.layout.n_groups, self.rows.total
        z1 = torch.addmm(p["b1"].view(g * r, 1), p["W1"].view(g * r, -1), x.t())  # (G·R, n)
        h1 = self._first_layer(z1.view(g, r, x.shape[0]))
        outs = []
        for k in range(len(self.layout.buckets)):
            h = self._bucket_input(h1, k)
            for layer in range(2, self.depth + 1):
                h = self._hidden(h, k, layer, reuse=False)[1]
            out = torch.bmm(p[f"{k}.Wout"], h)  # (M, K, R)
            outs.append(out.transpose(1, 2).contiguous())  # argmax over a strided K is 4× slower
        return outs

    def set_training(self, mode: bool) -> None:
        """No batch statistics in an MLP: nothing to switch."""
