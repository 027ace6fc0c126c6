"""Width-parameterised families: exact parameter counts, p = N^(1/3), architecture, init."""

from __future__ import annotations

import math

import pytest
import torch

from scaletime.models import (
    CNN,
    MLP,
    build_model,
    cnn_channels,
    cnn_pools,
    effective_scale,
    layer_macs,
    num_outputs_for,
    param_count,
)

SHAPES = [(1, 28, 28), (3, 32, 32), (40,), (1, 8, 8)]


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("shape", SHAPES)
def test_param_count_matches_torch(arch: str, shape: tuple[int, ...]) -> None:
    for width in (1, 3, 10):
        for depth in (1, 2, 4):
            for classes in (10, 0):
                model = build_model(arch, width, depth, shape, classes, seed=0)
                counted = sum(p.numel() for p in model.parameters())
                assert param_count(arch, width, depth, shape, classes) == counted


def test_param_count_closed_forms() -> None:
    # MLP 784-w-w-10: 784w + w + w² + w + 10w + 10
    for w in (1, 5, 100):
        assert param_count("mlp", w, 2, (1, 28, 28), 10) == 784 * w + w + w * w + w + 10 * w + 10
    # CNN [w, 2w, 4w, 8w] on RGB: 9·(3w + 2w² + 8w² + 32w²) + 2·15w + 8w·10 + 10
    for w in (1, 4, 16):
        expected = 9 * (3 * w + 2 * w * w + 8 * w * w + 32 * w * w) + 30 * w + 80 * w + 10
        assert param_count("cnn", w, 4, (3, 32, 32), 10) == expected


def test_effective_scale_is_the_cube_root() -> None:
    for n in (1, 8, 1000, 12345.0, 3e7):
        assert effective_scale(n) ** 3 == pytest.approx(n, rel=1e-12)
    assert effective_scale(27) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="n_params"):
        effective_scale(0)


def test_mlp_hidden_layers_have_width_units() -> None:
    model = build_model("mlp", 7, 3, (1, 28, 28), 10, seed=0)
    assert isinstance(model, MLP)
    assert [layer.out_features for layer in model.hidden] == [7, 7, 7]
    assert model.hidden[0].in_features == 784 and model.output.out_features == 10
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)


def test_cnn_is_the_deep_double_descent_family() -> None:
    model = build_model("cnn", 3, 4, (3, 32, 32), 10, seed=0)
    assert isinstance(model, CNN)
    assert [b.conv.out_channels for b in model.blocks] == cnn_channels(3, 4) == [3, 6, 12, 24]
    assert cnn_pools((32, 32), 4) == ["none", "max2", "max2", "global"]  # MaxPool [1, 2, 2, 8]
    shapes = []
    x = torch.randn(2, 3, 32, 32)
    for block in model.blocks:
        x = block(x)
        shapes.append(tuple(x.shape[1:]))
    assert shapes == [(3, 32, 32), (6, 16, 16), (12, 8, 8), (24, 1, 1)]
    assert all(b.conv.bias is None for b in model.blocks)
    one_d = build_model("cnn", 2, 4, (40,), 10, seed=0)
    assert isinstance(one_d.blocks[0].conv, torch.nn.Conv1d)
    assert one_d(torch.randn(3, 40)).shape == (3, 10)
    assert cnn_pools((8, 8), 6) == ["none", "max2", "max2", "max2", "none", "global"]


def test_initialisation_is_seeded_and_pytorch_standard() -> None:
    a = build_model("mlp", 50, 2, (1, 28, 28), 10, seed=4).state_dict()
    b = build_model("mlp", 50, 2, (1, 28, 28), 10, seed=4).state_dict()
    c = build_model("mlp", 50, 2, (1, 28, 28), 10, seed=5).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["hidden.0.weight"], c["hidden.0.weight"])
    w = a["hidden.0.weight"]  # U(−1/√784, 1/√784): max near the bound, std = bound/√3
    bound = 1 / math.sqrt(784)
    assert float(w.abs().max()) <= bound and float(w.abs().max()) > 0.99 * bound
    assert float(w.std()) == pytest.approx(bound / math.sqrt(3), rel=0.02)
    cnn = build_model("cnn", 8, 4, (3, 32, 32), 10, seed=1)
    conv = cnn.state_dict()["blocks.1.conv.weight"]  # fan_in = 8·9
    assert float(conv.abs().max()) <= 1 / math.sqrt(72)
    assert torch.equal(cnn.blocks[1].norm.weight, torch.ones(16))
    assert torch.equal(cnn.blocks[1].norm.bias, torch.zeros(16))


def test_bad_arguments_name_the_field() -> None:
    with pytest.raises(ValueError, match="arch"):
        param_count("resnet", 3, 2, (1, 28, 28), 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="width"):
        build_model("mlp", 0, 2, (1, 28, 28), 10)
    with pytest.raises(ValueError, match="depth"):
        param_count("cnn", 3, 0, (1, 28, 28), 10)
    with pytest.raises(ValueError, match="input_shape"):
        build_model("cnn", 3, 2, (1, 2, 3, 4), 10)
    assert num_outputs_for(0) == 1 and num_outputs_for(10) == 10


@pytest.mark.parametrize(
    ("arch", "shape"), [("mlp", (1, 28, 28)), ("cnn", (3, 32, 32)), ("cnn", (40,))]
)
def test_layer_macs_match_the_shapes_torch_computes(arch: str, shape: tuple[int, ...]) -> None:
    model = build_model(arch, 3, 4, shape, 10, seed=0)
    counted: list[int] = []

    def hook(module: torch.nn.Module, inputs: tuple[torch.Tensor], output: torch.Tensor) -> None:
        if isinstance(module, torch.nn.Linear):
            counted.append(module.in_features * module.out_features)
        else:  # convolution: every output element costs c_in · taps multiply-adds
            taps = math.prod(module.kernel_size)
            counted.append(module.in_channels * taps * output[0].numel())

    for module in model.modules():
        if isinstance(module, torch.nn.Linear | torch.nn.Conv1d | torch.nn.Conv2d):
            module.register_forward_hook(hook)
    model.eval()
    model(torch.zeros(1, *shape))
    assert layer_macs(arch, 3, 4, shape, 10) == counted
