"""The CNN ensemble: members as the groups of grouped convolutions (autograd does the backward).

Each bucket k (``layout.py``: slots of similar width padded to w_k) is one network of grouped
layers over its M_k = G·n_k members, in (group, slot) order:

* block 0 reads the batch of each group: the input holds group g's images in channels
  [g·C, (g+1)·C), and one convolution with ``groups = G`` gives every member of the group its
  w_k channels (padding channels have zero weights and stay exactly 0);
* blocks 1.. are convolutions with ``groups = M_k``; BatchNorm, ReLU and pooling act per channel,
  so one call normalises every member with its own batch statistics, exactly as alone;
* the read-out is one batched product over the M_k members.

A CNN's first layer is cheap (C = 1 or 3 input channels), so unlike the MLP the buckets do not
share it. Evaluation reads the same rows for every member: block 0 is then an ordinary
convolution (``groups = 1``) with all M_k·w_k output channels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from torch.nn import functional as F

from scaletime.engine.layout import FlatParameters, Layout
from scaletime.engine.losses import example_loss
from scaletime.models import CNN, cnn_pools, conv_geometry
from scaletime.models.cnn import KERNEL_SIZE, pool

BN_MOMENTUM = 0.1  # torch.nn.BatchNorm defaults
BN_EPS = 1e-5
CHANNELS_LAST = True  # 2-D maps may use the channels-last layout (faster oneDNN convolutions)
# ... but batch-statistics BatchNorm in channels-last is slow for few channels (CPU, CIFAR-10
# CNN: a width-2 step takes 32 ms channels-last vs 15 ms NCHW; width 8: 38 vs 49 ms). A bucket
# uses channels-last from this many block-0 channels on (training, evaluation; measured).
CHANNELS_LAST_MIN = {True: 8, False: 4}


class CNNEnsemble:
    """Stacked parameters, BatchNorm statistics and the training step of ``layout.n_members`` CNNs.

    Parameters
    ----------
    layout : Layout
        The G × S grid and its buckets.
    models : sequence of CNN
        Initial members, in member order (g·S + s); their weights are copied.
    device : torch.device
        Where the parameters live.
    """

    def __init__(self, layout: Layout, models: Sequence[CNN], device: torch.device) -> None:
        self.layout = layout
        first = models[0]
        self.input_shape = first.input_shape
        self.in_channels, spatial = conv_geometry(self.input_shape)
        self.dim = len(spatial)
        self.depth = len(first.blocks)
        self.pools = cnn_pools(spatial, self.depth)
        self.num_outputs = first.head.out_features
        taps = (KERNEL_SIZE,) * self.dim
        shapes: dict[str, tuple[int, ...]] = {}
        stats: dict[str, int] = {}
        for k, bucket in enumerate(layout.buckets):
            m, chans = layout.n_groups * len(bucket.slots), self.bucket_channels(k)
            c_ins = [self.in_channels, *chans[:-1]]
            for i in range(self.depth):
                shapes[f"{k}.conv{i}"] = (m * chans[i], c_ins[i], *taps)
                shapes[f"{k}.bn{i}.weight"] = shapes[f"{k}.bn{i}.bias"] = (m * chans[i],)
                stats[f"{k}.bn{i}"] = m * chans[i]
            shapes[f"{k}.Wout"] = (m, chans[-1], self.num_outputs)
            shapes[f"{k}.bout"] = (m, 1, self.num_outputs)
        self.params = FlatParameters(shapes, device)
        self.running_mean = {name: torch.zeros(n, device=device) for name, n in stats.items()}
        self.running_var = {name: torch.ones(n, device=device) for name, n in stats.items()}
        self.training = True
        self.steps = 0
        self.load_members(models)
        self.params.enable_autograd()

    def bucket_channels(self, k: int) -> list[int]:
        """Channels per member of bucket k in each block: [w_k, 2w_k, 4w_k, ...]."""
        return [self.layout.buckets[k].width * 2**i for i in range(self.depth)]

    # ---- member <-> ensemble -------------------------------------------------------------
    def _member_slices(self, member: int) -> list[tuple[str, tuple, str, bool]]:
        """(tensor name, index, CNN state_dict name, transpose?) for one member; BN stats included."""
        lay = self.layout
        slot = member % lay.n_slots
        w = lay.slot_widths[slot]
        k = next(i for i, b in enumerate(lay.buckets) if slot in b.slots)
        m = lay.bucket_members(k).index(member)
        chans = self.bucket_channels(k)
        out: list[tuple[str, tuple, str, bool]] = []
        for i in range(self.depth):
            rows = slice(m * chans[i], m * chans[i] + w * 2**i)
            inputs = slice(0, self.in_channels if i == 0 else w * 2 ** (i - 1))
            out.append((f"{k}.conv{i}", (rows, inputs), f"blocks.{i}.conv.weight", False))
            for p in ("weight", "bias"):
                out.append((f"{k}.bn{i}.{p}", (rows,), f"blocks.{i}.norm.{p}", False))
            for s in ("running_mean", "running_var"):
                out.append((f"stat:{k}.bn{i}.{s}", (rows,), f"blocks.{i}.norm.{s}", False))
        c_last = w * 2 ** (self.depth - 1)
        out.append((f"{k}.Wout", (m, slice(0, c_last)), "head.weight", True))
        out.append((f"{k}.bout", (m, 0), "head.bias", False))
        return out

    def _tensor(self, name: str) -> torch.Tensor:
        if name.startswith("stat:"):
            base, kind = name[5:].rsplit(".", 1)
            return (self.running_mean if kind == "running_mean" else self.running_var)[base]
        return self.params.value[name]

    @torch.no_grad()
    def load_members(self, models: Sequence[CNN]) -> None:
        """Copy each member's weights and BatchNorm statistics into the stacked tensors."""
        for member, model in enumerate(models):
            state = model.state_dict()
            for name, index, key, transpose in self._member_slices(member):
                value = state[key].t() if transpose else state[key]
                self._tensor(name)[index] = value.to(self.params.data.device)
                if not name.startswith("stat:"):
                    self.params.owners[name][index] = member

    @torch.no_grad()
    def member_state_dict(self, member: int) -> dict[str, torch.Tensor]:
        """The member's parameters and buffers as a :class:`~scaletime.models.CNN` ``state_dict``."""
        state = {}
        for name, index, key, transpose in self._member_slices(member):
            value = self._tensor(name)[index]
            state[key] = (value.t() if transpose else value).detach().cpu().clone()
        for i in range(self.depth):
            state[f"blocks.{i}.norm.num_batches_tracked"] = torch.tensor(self.steps)
        return state

    # ---- data ----------------------------------------------------------------------------
    def _channels_last(self, k: int | None = None) -> bool:
        """Whether bucket k's maps are channels-last now; k None: whether the inputs are stored
        channels-last (when some bucket trains so)."""
        if not (CHANNELS_LAST and self.dim == 2):
            return False
        buckets = range(len(self.layout.buckets)) if k is None else [k]
        minimum = CHANNELS_LAST_MIN[True if k is None else self.training]
        return any(
            self.layout.n_groups * len(self.layout.buckets[j].slots) * self.layout.buckets[j].width
            >= minimum
            for j in buckets
        )

    def prepare_input(self, x: torch.Tensor) -> torch.Tensor:
        """Images (n, C, H, W) → (n, H, W, C) storage when channels-last; vectors (n, L) → (n, 1, L)."""
        if self.dim == 1:
            return x.reshape(x.shape[0], self.in_channels, -1)
        return x.permute(0, 2, 3, 1).contiguous() if self._channels_last() else x

    def _as_maps(self, x: torch.Tensor) -> torch.Tensor:
        """Prepared rows → (R, C, ...) maps (a view)."""
        return x.permute(0, 3, 1, 2) if self._channels_last() else x

    def gather_batch(self, x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """Rows ``index`` (G, B) → (B, G·C, ...): group g's batch in channels [g·C, (g+1)·C)."""
        g, b = index.shape
        rows = x.index_select(0, index.t().reshape(-1))  # (B·G, ...) batch-major
        if self._channels_last():  # (B·G, H, W, C) → (B, H, W, G·C) → channels-last (B, G·C, H, W)
            rows = rows.view(b, g, *rows.shape[1:]).permute(0, 2, 3, 1, 4)
            return rows.reshape(b, *rows.shape[1:3], -1).permute(0, 3, 1, 2)
        return rows.view(b, g * self.in_channels, *rows.shape[2:])

    # ---- the network ---------------------------------------------------------------------
    def _block(self, x: torch.Tensor, k: int, i: int, groups: int) -> torch.Tensor:
        """conv → BatchNorm (batch or running statistics) → pool → ReLU, for bucket k, block i."""
        p, name = self.params.value, f"{k}.bn{i}"
        conv = F.conv2d if self.dim == 2 else F.conv1d
        x = conv(x, p[f"{k}.conv{i}"], padding=1, groups=groups)
        x = F.batch_norm(
            x,
            self.running_mean[name],
            self.running_var[name],
            p[f"{name}.weight"],
            p[f"{name}.bias"],
            training=self.training,
            momentum=BN_MOMENTUM,
            eps=BN_EPS,
        )
        # relu(pool(x)) = pool(relu(x)) for max-pooling (relu is monotone), with the same
        # gradient; pooling first makes the ReLU up to 4× (64× for the global pool) cheaper.
        return torch.relu_(pool(x, self.pools[i], self.dim))

    def _forward(self, x: torch.Tensor, shared: bool) -> list[torch.Tensor]:
        """One (M_k, B, K) output per bucket; ``shared``: every member reads the same rows x."""
        outs: list[torch.Tensor] = []
        inputs: dict[torch.memory_format, torch.Tensor] = {}  # x per memory format, made once
        for k, bucket in enumerate(self.layout.buckets):
            m = self.layout.n_groups * len(bucket.slots)
            layout = torch.channels_last if self._channels_last(k) else torch.contiguous_format
            if layout not in inputs:
                inputs[layout] = x.contiguous(memory_format=layout)
            h = self._block(inputs[layout], k, 0, 1 if shared else self.layout.n_groups)
            for i in range(1, self.depth):
                h = self._block(h, k, i, m)
            features = h.reshape(h.shape[0], m, -1).transpose(0, 1)  # (M_k, B, c_last)
            p = self.params.value
            outs.append(torch.baddbmm(p[f"{k}.bout"], features, p[f"{k}.Wout"]))
        return outs

    def train_step(self, xb: torch.Tensor, targets: Sequence[torch.Tensor], loss: str) -> None:
        """Forward and backward pass (autograd); gradients land in ``self.params.grad``.

        The summed loss Σ_members mean_batch ℓ has each member's own loss gradient on its
        parameters, since members share no parameter.
        """
        self.params.grad.zero_()
        outs = self._forward(xb, shared=False)
        total = cast(  # a tensor: there is at least one bucket
            torch.Tensor,
            sum(
                example_loss(out, t, loss).mean(1).sum()
                for out, t in zip(outs, targets, strict=True)
            ),
        )
        total.backward()
        self.steps += 1

    @torch.no_grad()
    def forward_shared(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Outputs of every member on the same prepared rows x; one (M_k, R, K) per bucket."""
        return self._forward(self._as_maps(x), shared=True)

    def set_training(self, mode: bool) -> None:
        """Batch statistics (training) or running statistics (evaluation) in BatchNorm."""
        self.training = mode
