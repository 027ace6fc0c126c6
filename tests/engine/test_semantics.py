"""Contract semantics of train_members: schedule, checkpoints, data, divergence, chunking."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from scaletime.data import Dataset, balanced_subset, normalize, subset_and_noise
from scaletime.engine import (
    EngineConfigError,
    Measurement,
    Member,
    TrainConfig,
    estimate_member_bytes,
    make_schedule,
    param_count,
    plan_chunks,
    train_members,
    train_reference,
    trainer,
)
from scaletime.engine.data import prepare_data
from scaletime.engine.layout import plan_buckets
from scaletime.engine.memory import resolve_device

MLP = TrainConfig(arch="mlp", batch_size=32, epochs=3, eval_epochs=(0.0, 0.5, 1.0, 3.0))


def _members(
    widths: tuple[int, ...] = (2, 7), seeds: tuple[int, ...] = (0, 1), n: int = 100
) -> list[Member]:
    return [Member(f"w{w}-s{s}", w, s, n, 0.0, 0.05) for s in seeds for w in widths]


def _values(rows: list[Measurement]) -> np.ndarray:
    return np.array(
        [[r.step, r.train_loss, r.test_loss, r.train_error, r.test_error] for r in rows]
    )


def test_schedule_counts_partial_batches_and_ends_at_the_last_epoch() -> None:
    sched = make_schedule(TrainConfig(batch_size=32, epochs=2.5, eval_epochs=(0.0, 0.3, 1.0)), 100)
    assert sched.steps_per_epoch == 4  # ceil(100 / 32)
    assert sched.total_steps == 10
    assert sched.checkpoint_steps == (0, 1, 4, 10)  # round(0.3·4) = 1, and the last step
    assert sched.examples_seen(5) == 100 + 32
    assert sched.examples_seen(4) == 100 and sched.examples_seen(3) == 96
    assert sched.epoch(sched.total_steps) >= 2.5
    gd = make_schedule(TrainConfig(optimizer="gd", epochs=7), 100)
    assert (gd.steps_per_epoch, gd.batch_size, gd.total_steps) == (1, 100, 7)
    default = make_schedule(TrainConfig(batch_size=10, epochs=10), 1000)
    steps = np.array(default.checkpoint_steps)
    assert steps[-1] == 1000 and len(steps) >= 10
    assert np.all(np.diff(np.log(steps)) > 0)  # log-spaced, increasing


def test_rows_and_callbacks_follow_the_checkpoints(images: Dataset) -> None:
    calls: list[list[Measurement]] = []
    members = _members()
    rows = train_members(images, members, MLP, on_checkpoint=calls.append)
    sched = make_schedule(MLP, 100)
    assert [c[0].step for c in calls] == list(sched.checkpoint_steps)
    assert all(sorted(r.key for r in c) == sorted(m.key for m in members) for c in calls)
    assert rows == [r for c in calls for r in c]
    for r in rows:
        assert r.epoch == r.step / sched.steps_per_epoch
        assert r.examples_seen == sched.examples_seen(r.step)
        assert 0.0 <= r.train_error <= 1.0 and 0.0 <= r.test_error <= 1.0
    walls = [c[0].wall_time for c in calls]
    assert walls == sorted(walls)
    final = {r.key: r for r in rows if r.step == sched.total_steps}
    start = {r.key: r for r in rows if r.step == 0}
    assert all(final[k].train_loss < start[k].train_loss for k in final)  # it learns


def test_initial_checkpoint_is_the_seeded_initialisation(images: Dataset) -> None:
    cfg = TrainConfig(arch="mlp", epochs=1, eval_epochs=(0.0, 1.0))
    member = Member("a", 5, 3, 100, 0.0, 0.1)
    row = train_members(images, [member], cfg)[0]
    from scaletime.engine.data import init_generator
    from scaletime.engine.losses import example_loss
    from scaletime.models import build_model

    data = prepare_data(images, 100, [0.0], cfg, torch.device("cpu"))
    model = build_model("mlp", 5, 2, (1, 8, 8), 5, generator=init_generator(3))
    with torch.no_grad():
        expected = float(example_loss(model(data.x_train), data.targets[0], "mse").mean())
    assert row.step == 0 and row.train_loss == pytest.approx(expected, rel=1e-6)


def test_same_inputs_give_identical_numbers(images: Dataset) -> None:
    a = _values(train_members(images, _members(), MLP))
    b = _values(train_members(images, _members(), MLP))
    assert np.array_equal(a, b)


def test_chunking_does_not_change_results(images: Dataset) -> None:
    members = _members(widths=(2, 7, 30), seeds=(0, 1, 2))
    one = train_members(images, members, MLP)
    calls: list[list[Measurement]] = []
    small = TrainConfig(**{**MLP.__dict__, "max_chunk_bytes": 200_000})
    many = train_members(images, members, small, on_checkpoint=calls.append)
    checkpoints = len(make_schedule(MLP, 100).checkpoint_steps)
    assert len(calls) >= 3 * checkpoints  # at least three chunks
    key = lambda r: (r.key, r.step)  # noqa: E731
    np.testing.assert_allclose(
        _values(sorted(one, key=key)), _values(sorted(many, key=key)), rtol=1e-5, atol=1e-7
    )


def test_members_of_one_seed_share_batches_and_other_seeds_do_not(images: Dataset) -> None:
    # Training order matters: two members differing only in seed end up different, while a
    # member trained in a group gives the same result as trained alone (its own seed only).
    cfg = TrainConfig(arch="mlp", batch_size=16, epochs=2, eval_epochs=(2.0,))
    alone = train_members(images, [Member("x", 6, 4, 100, 0.0, 0.1)], cfg)[0]
    grouped = {
        r.key: r
        for r in train_members(
            images, [Member("x", 6, 4, 100, 0.0, 0.1), Member("y", 6, 5, 100, 0.0, 0.1)], cfg
        )
    }
    assert grouped["x"].train_loss == pytest.approx(alone.train_loss, rel=1e-6)
    assert grouped["y"].train_loss != pytest.approx(alone.train_loss, rel=1e-3)


@pytest.mark.parametrize(("arch", "stack"), [("mlp", True), ("cnn", False), ("cnn", True)])
def test_diverged_member_is_reported_once_and_does_not_touch_the_others(
    images: Dataset, arch: str, stack: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if stack and arch == "cnn":  # the CUDA layout: grouped convolutions, shared buckets
        monkeypatch.setitem(trainer.COST_MODELS, ("cpu", "cnn"), trainer.CostModel(True, 1.0, 1e10))
    cfg = TrainConfig(arch=arch, depth=2, batch_size=20, epochs=3, eval_epochs=(1.0, 2.0, 3.0))
    healthy = [Member(f"w{w}", w, 0, 100, 0.0, 0.005) for w in (3, 6)]
    wild = Member("wild", 6, 0, 100, 0.0, 1e6)  # same seed: same group, same bucket as "w6"
    rows = train_members(images, [*healthy, wild], cfg)
    (chunk,) = plan_chunks([*healthy, wild], cfg, (1, 8, 8), 5, torch.device("cpu"), 10**9)
    shared = [b for b in chunk.layout.buckets if len(b.slots) > 1]
    assert bool(shared) == stack  # "wild" shares a stacked bucket with healthy members
    wild_rows = [r for r in rows if r.key == "wild"]
    assert len(wild_rows) == 1 and wild_rows[0].diverged and wild_rows[0].step == 5
    assert not math.isfinite(wild_rows[0].train_loss)
    assert all(not r.diverged for r in rows if r.key != "wild")
    clean = train_members(images, healthy, cfg)
    np.testing.assert_allclose(
        _values([r for r in rows if r.key != "wild"]), _values(clean), rtol=1e-5, atol=1e-7
    )
    ref = train_reference(images, wild, cfg).measurements
    assert ref[-1].diverged and len(ref) == 1


def test_member_data_is_the_noisy_balanced_subset(images: Dataset) -> None:
    cfg = TrainConfig(data_seed=7, test_size=50)
    data = prepare_data(images, 120, [0.25, 0.0], cfg, torch.device("cpu"))
    idx, noisy, flipped = subset_and_noise(images, 120, 0.25, 7)
    assert data.noise_rates == (0.0, 0.25)
    np.testing.assert_array_equal(
        data.x_train.numpy(), normalize(images.x_train[idx], images.mean, images.std)
    )
    np.testing.assert_array_equal(data.labels[1].numpy(), noisy)
    assert int((data.labels[0] != data.labels[1]).sum()) == round(0.25 * 120) == len(flipped)
    assert torch.equal(data.targets[1].argmax(1), data.labels[1])
    test_idx = balanced_subset(images.y_test, 50, 7)
    np.testing.assert_array_equal(data.y_test.numpy(), images.y_test[test_idx])


def test_label_noise_reaches_the_training_labels(images: Dataset) -> None:
    # A wide net memorises its training set: the noisy member fits labels that disagree with the
    # clean ones, so its train error against its own labels is low while its test error rises.
    cfg = TrainConfig(arch="mlp", optimizer="adam", batch_size=25, epochs=60, eval_epochs=(60.0,))
    rows = {
        r.key: r
        for r in train_members(
            images,
            [Member("clean", 64, 0, 100, 0.0, 3e-3), Member("noisy", 64, 0, 100, 0.5, 3e-3)],
            cfg,
        )
    }
    assert rows["noisy"].train_error < 0.1 and rows["clean"].train_error < 0.1
    assert rows["noisy"].test_error > rows["clean"].test_error + 0.1


def test_test_size_evaluates_a_balanced_subset(images: Dataset) -> None:
    cfg = TrainConfig(arch="mlp", epochs=1, eval_epochs=(1.0,), test_size=40)
    row = train_members(images, [Member("a", 4, 0, 100, 0.0, 0.1)], cfg)[0]
    assert row.test_error * 40 == pytest.approx(round(row.test_error * 40), abs=1e-9)


def test_regression_task_uses_the_squared_error(regression: Dataset) -> None:
    ds = regression
    cfg = TrainConfig(arch="mlp", batch_size=20, epochs=5, eval_epochs=(5.0,))
    member = Member("r", 8, 0, 200, 0.0, 0.01)
    row = train_members(ds, [member], cfg)[0]
    ref = train_reference(ds, member, cfg).measurements[0]
    assert row.train_error == pytest.approx(row.train_loss) and row.train_loss < 1.0
    assert row.test_loss == pytest.approx(ref.test_loss, rel=1e-5)
    with pytest.raises(EngineConfigError, match="loss='ce'"):
        train_members(ds, [member], TrainConfig(loss="ce"))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"loss": "l1"}, "loss"),
        ({"arch": "resnet"}, "arch"),
        ({"depth": 0}, "depth"),
        ({"batch_size": 0}, "batch_size"),
        ({"momentum": 1.0}, "momentum"),
        ({"optimizer": "adam", "momentum": 0.9}, "momentum"),
        ({"epochs": 0.0}, "epochs"),
        ({"epochs": 2.0, "eval_epochs": (1.0, 0.5)}, "eval_epochs"),
        ({"epochs": 2.0, "eval_epochs": (3.0,)}, "eval_epochs"),
        ({"device": "tpu"}, "device"),
        ({"weight_decay": -1.0}, "weight_decay"),
    ],
)
def test_bad_configuration_names_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(EngineConfigError, match=f"TrainConfig.{field}="):
        TrainConfig(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"width": 0}, "width"),
        ({"data_size": 0}, "data_size"),
        ({"seed": -1}, "seed"),
        ({"label_noise": 1.0}, "label_noise"),
        ({"lr": 0.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
    ],
)
def test_bad_member_names_the_field(kwargs: dict, field: str) -> None:
    base = {"key": "k", "width": 3, "seed": 0, "data_size": 10, "label_noise": 0.0, "lr": 0.1}
    with pytest.raises(EngineConfigError, match=f"Member.{field}="):
        Member(**{**base, **kwargs})


def test_call_level_errors(images: Dataset) -> None:
    with pytest.raises(EngineConfigError, match="unique"):
        train_members(images, [Member("a", 2, 0, 10, 0.0, 0.1)] * 2, MLP)
    with pytest.raises(EngineConfigError, match="data_size=10000"):
        train_members(images, [Member("a", 2, 0, 10_000, 0.0, 0.1)], MLP)
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(EngineConfigError, match="CUDA is not available"):
            train_members(images, [Member("a", 2, 0, 10, 0.0, 0.1)], TrainConfig(device="cuda"))


def test_memory_plan_respects_the_budget() -> None:
    shape = (1, 28, 28)
    sizes = [estimate_member_bytes("mlp", w, 2, shape, 10, 128) for w in (1, 10, 100)]
    assert sizes == sorted(sizes)
    assert sizes[-1] >= 4 * 4 * param_count("mlp", 100, 2, shape, 10)
    cnn = [estimate_member_bytes("cnn", w, 4, (3, 32, 32), 10, 128, "adam") for w in (1, 4)]
    assert cnn[1] > 3 * cnn[0]
    members = [Member(f"{w}-{s}", w, s, 1000, 0.0, 0.1) for w in (1, 10, 100) for s in range(6)]
    budget = 3 * sizes[-1]
    chunks = plan_chunks(members, TrainConfig(), shape, 10, torch.device("cpu"), budget)
    assert sorted(m.key for c in chunks for m in c.members) == sorted(m.key for m in members)
    for chunk in chunks:
        used = sum(estimate_member_bytes("mlp", m.width, 2, shape, 10, 128) for m in chunk.members)
        assert used <= budget or len(chunk.members) == 1


def test_bucket_plan_is_the_cheapest_partition() -> None:
    rng = np.random.default_rng(0)
    for _ in range(30):
        widths = tuple(int(w) for w in rng.integers(1, 60, size=rng.integers(1, 7)))
        overhead = float(rng.uniform(0, 2000))
        buckets = plan_buckets(widths, lambda w: float(w * w), overhead)
        covered = sorted(s for b in buckets for s in b.slots)
        assert covered == list(range(len(widths)))
        cost = sum(overhead + len(b.slots) * b.width**2 for b in buckets)
        distinct = sorted(set(widths))
        best = math.inf  # brute force over every cut of the sorted distinct widths
        for mask in range(2 ** (len(distinct) - 1)):
            total, start = 0.0, 0
            for i in range(len(distinct)):
                if i == len(distinct) - 1 or mask >> i & 1:
                    group = distinct[start : i + 1]
                    total += overhead + sum(widths.count(w) for w in group) * group[-1] ** 2
                    start = i + 1
            best = min(best, total)
        assert cost == pytest.approx(best)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_cuda_gives_the_cpu_numbers(images: Dataset, arch: str) -> None:
    cfg = TrainConfig(arch=arch, depth=2, batch_size=20, epochs=2, eval_epochs=(1.0, 2.0))
    members = _members(widths=(2, 5), seeds=(0, 1))
    cpu = train_members(images, members, cfg)
    gpu = train_members(images, members, TrainConfig(**{**cfg.__dict__, "device": "cuda"}))
    np.testing.assert_allclose(_values(cpu), _values(gpu), rtol=1e-4, atol=1e-6)
