"""Benchmark the ensemble engine (a) against the plain reference loop (b), side by side.

(a) ``scaletime.engine.train_members``: every member in one fused ensemble.
(b) ``scaletime.engine.train_reference``: one model at a time, ``torch.utils.data.DataLoader``,
    ``zero_grad/backward/step`` — the same math (same data, init, batches, loss, update).

Cases (``docs/engine.md``, "Speed"):

* ``mlp``: MNIST MLP (depth 2), widths 1, 2, 5, 10, 20, 50, 100, seeds 0 and 1, 10,000 training
  examples, batch 128, 5 epochs, plain SGD (lr 0.05), MSE; one evaluation at the end on the full
  training and test sets (10,000 + 10,000 examples).
* ``cnn``: CIFAR-10 CNN (4 blocks, [w, 2w, 4w, 8w]), widths 1, 2, 4, 8, 16, seeds 0 and 1, a
  5,000-image subset, batch 128, 2 epochs, SGD (lr 0.01), MSE; one evaluation at the end on the
  5,000 training images and a balanced 2,000-image test subset.

The machine's GEMM peak is measured in the same process (a 512×784×1024 float32 product, best
of several runs, before and after the cases). Achieved GFLOP/s count the architecture's
multiply-adds (``scaletime.models.layer_macs``): per training example 2·Σ (forward) + 2·Σ (weight
gradients) + 2·Σ over layers after the first (input gradients), per evaluated example 2·Σ.
The roofline line divides the counted FLOPs by the measured peak — the time the same arithmetic
would take at the speed of one large GEMM — which bounds (b)/(a) for any implementation that
does not skip work, and says what fraction of that peak a speed-up target requires. Peak memory is the rise of the process's peak resident set (VmHWM,
reset before each phase).
(a) is timed three times for the MLP (once before (b), twice after; the median is reported)
and once for the CNN. On a
multi-core machine both are timed again on one thread (on a shared machine a parallel region
waits for its slowest thread, which can slow tiny kernels by orders of magnitude); the JSON holds
the all-cores ratio, the one-thread ratio and the ratio of the faster (b) to the faster (a).

Usage::

    python benchmarks/bench_engine.py            # both cases → benchmarks/results/engine_*.json
    python benchmarks/bench_engine.py --case mlp
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from scaletime.data import load_dataset
from scaletime.engine import (
    Member,
    TrainConfig,
    estimate_data_bytes,
    estimate_member_bytes,
    make_schedule,
    plan_chunks,
    train_members,
    train_reference,
)
from scaletime.engine.data import prepare_data
from scaletime.engine.memory import default_chunk_bytes
from scaletime.models import layer_macs

RESULTS = Path(__file__).resolve().parent / "results"
ENGINE_REPEATS = {"mlp": 3, "cnn": 1}  # runs of (a) per setting; the median is reported


# ---- machine ---------------------------------------------------------------------------------
def gemm_peak_gflops(m: int = 512, k: int = 784, n: int = 1024, repeats: int = 30) -> float:
    """Best GFLOP/s of an m×k×n float32 matrix product over ``repeats`` timed runs."""
    a, b = torch.randn(m, k), torch.randn(k, n)
    for _ in range(5):
        a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * m * k * n / best / 1e9


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter (VmHWM) of this process; False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measure(fn: Callable[[], object]) -> dict[str, float | None]:
    """Wall and CPU time, load averages and peak-RSS rise of one call of ``fn``."""
    load_before = os.getloadavg()
    baseline = _status_kib("VmRSS")
    reset = reset_peak_rss()
    cpu_start = time.process_time()
    start = time.perf_counter()
    fn()
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    peak = _status_kib("VmHWM")
    rise = (
        (peak - baseline) * 1024 if (reset and peak is not None and baseline is not None) else None
    )
    return {
        "wall_s": wall,
        "cpu_s": cpu,  # user + system time of this process (all its threads)
        "peak_rss_rise_bytes": rise,
        "loadavg_before": list(load_before),
        "loadavg_after": list(os.getloadavg()),
    }


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


# ---- work ------------------------------------------------------------------------------------
def work_counts(
    members: list[Member], cfg: TrainConfig, shape: tuple[int, ...], classes: int, eval_rows: int
) -> tuple[int, float]:
    """Training examples processed by all members, and the FLOPs of training plus evaluation."""
    examples, flops = 0, 0.0
    for m in members:
        sched = make_schedule(cfg, m.data_size)
        seen = sched.examples_seen(sched.total_steps)
        macs = layer_macs(cfg.arch, m.width, cfg.depth, shape, classes)
        per_train = 2 * sum(macs) + 2 * sum(macs) + 2 * sum(macs[1:])
        examples += seen
        flops += seen * per_train + len(sched.checkpoint_steps) * eval_rows * 2 * sum(macs)
    return examples, flops


def run_case(
    name: str,
    dataset: str,
    widths: tuple[int, ...],
    seeds: tuple[int, ...],
    data_size: int,
    cfg: TrainConfig,
    lr: float,
    peak: float,
    *,
    with_single_thread_runs: bool = True,
) -> dict:
    ds = load_dataset(dataset)
    shape = tuple(int(s) for s in ds.x_train.shape[1:])
    members = [Member(f"w{w}-s{s}", w, s, data_size, 0.0, lr) for s in seeds for w in widths]
    test_rows = cfg.test_size or ds.n_test
    examples, flops = work_counts(members, cfg, shape, ds.num_classes, data_size + test_rows)

    # warm-up (allocator, oneDNN kernels) on a tiny run of each path
    tiny = TrainConfig(**{**cfg.__dict__, "epochs": 0.05, "eval_epochs": ()})
    train_members(ds, members[:2], tiny)
    train_reference(ds, members[0], tiny)

    engine_rows: list = []
    reference_rows: list = []

    def reference() -> None:  # data prepared once for all members, as the engine does
        data = prepare_data(ds, data_size, [0.0], cfg, torch.device(cfg.device))
        for m in members:
            reference_rows.extend(train_reference(ds, m, cfg, data=data).measurements)

    def engine() -> None:
        engine_rows.clear()
        engine_rows.extend(train_members(ds, members, cfg))

    def median_of(runs: list[dict]) -> dict:
        best = sorted(runs, key=lambda m: m["wall_s"])[len(runs) // 2]
        rises = [m["peak_rss_rise_bytes"] for m in runs if m["peak_rss_rise_bytes"] is not None]
        return {
            **best,
            "wall_s_all_runs": [m["wall_s"] for m in runs],
            "peak_rss_rise_bytes": max(rises) if rises else None,  # the first run allocates most
        }

    # (a) is short: run it before and twice after (b) and keep the median, to blunt load spikes.
    # With several cores, both are also timed on one thread: on a shared machine a parallel
    # region waits for its slowest thread, which can make tiny kernels orders slower.
    threads = torch.get_num_threads()
    a_runs = [measure(engine)]
    b = measure(reference)
    b_one = a_one = None
    if threads > 1 and with_single_thread_runs:
        torch.set_num_threads(1)
        b_one = measure(reference)
        a_one = median_of([measure(engine) for _ in range(ENGINE_REPEATS[name])])
        torch.set_num_threads(threads)
    a_runs += [measure(engine) for _ in range(ENGINE_REPEATS[name] - 1)]
    a = median_of(a_runs)

    device = torch.device(cfg.device)
    budget = cfg.max_chunk_bytes or default_chunk_bytes(device)
    chunks = plan_chunks(members, cfg, shape, ds.num_classes, device, budget)
    estimated = estimate_data_bytes(shape, data_size, test_rows, ds.num_classes, 1) + max(
        sum(
            estimate_member_bytes(
                cfg.arch,
                m.width,
                cfg.depth,
                shape,
                ds.num_classes,
                cfg.batch_size,
                cfg.optimizer,
                cfg.momentum,
            )
            for m in chunk.members
        )
        for chunk in chunks
    )
    final_a = {r.key: r for r in engine_rows}
    final_b = {r.key: r for r in reference_rows}
    loss_gap = max(
        abs(final_a[k].test_loss - final_b[k].test_loss) / abs(final_b[k].test_loss)
        for k in final_b
    )
    err_gap = max(abs(final_a[k].test_error - final_b[k].test_error) for k in final_b)

    def summary(m: dict) -> dict:
        gflops = flops / m["wall_s"] / 1e9
        return {
            **m,
            "examples_per_s": examples / m["wall_s"],
            "gflop_per_s": gflops,
            "fraction_of_peak": gflops / peak,
        }

    return {
        "case": name,
        "dataset": dataset,
        "arch": cfg.arch,
        "depth": cfg.depth,
        "widths": list(widths),
        "seeds": list(seeds),
        "data_size": data_size,
        "batch_size": cfg.batch_size,
        "epochs": cfg.epochs,
        "optimizer": cfg.optimizer,
        "lr": lr,
        "loss": cfg.loss,
        "test_rows": test_rows,
        "members": len(members),
        "training_examples": examples,
        "gflop_counted": flops / 1e9,
        "engine": summary(a),
        "reference": summary(b),
        "engine_1thread": summary(a_one) if a_one else None,
        "reference_1thread": summary(b_one) if b_one else None,
        "speedup_reference_over_engine": b["wall_s"] / a["wall_s"],
        "speedup_1thread": b_one["wall_s"] / a_one["wall_s"] if (a_one and b_one) else None,
        "speedup_best_over_best": min(b["wall_s"], b_one["wall_s"] if b_one else math.inf)
        / min(a["wall_s"], a_one["wall_s"] if a_one else math.inf),
        "cpu_time_ratio_reference_over_engine": b["cpu_s"] / a["cpu_s"],
        "engine_chunks": len(chunks),
        "engine_buckets": [[b.width for b in chunk.layout.buckets] for chunk in chunks],
        "engine_estimated_peak_bytes": estimated,
        "final_test_loss_max_rel_gap": loss_gap,
        "final_test_error_max_abs_gap": err_gap,
    }


CASES = {
    "mlp": dict(
        dataset="mnist",
        widths=(1, 2, 5, 10, 20, 50, 100),
        seeds=(0, 1),
        data_size=10_000,
        lr=0.05,
        cfg=TrainConfig(
            arch="mlp",
            depth=2,
            optimizer="sgd",
            batch_size=128,
            loss="mse",
            epochs=5.0,
            eval_epochs=(5.0,),
        ),
    ),
    "cnn": dict(
        dataset="cifar10",
        widths=(1, 2, 4, 8, 16),
        seeds=(0, 1),
        data_size=5_000,
        lr=0.01,
        cfg=TrainConfig(
            arch="cnn",
            depth=4,
            optimizer="sgd",
            batch_size=128,
            loss="mse",
            epochs=2.0,
            eval_epochs=(2.0,),
            test_size=2000,
        ),
    ),
}
TARGETS = {"mlp": {"speedup": 10.0, "fraction_of_peak": 0.30}, "cnn": {"speedup": 3.0}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["mlp", "cnn", "all"], default="all")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--suffix", default="", help="appended to the result file names")
    parser.add_argument(
        "--no-single-thread",
        action="store_true",
        help="skip timing (a) and (b) again with one thread",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    RESULTS.mkdir(parents=True, exist_ok=True)
    peak_before = gemm_peak_gflops()
    machine = {
        "cpu": cpu_name(),
        "logical_cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    results = {}
    for name in ["mlp", "cnn"] if args.case == "all" else [args.case]:
        spec = CASES[name]
        results[name] = run_case(
            name,
            spec["dataset"],
            spec["widths"],
            spec["seeds"],
            spec["data_size"],
            spec["cfg"],
            spec["lr"],
            peak_before,
            with_single_thread_runs=not args.no_single_thread,
        )
    peak_after = gemm_peak_gflops()
    peak = max(peak_before, peak_after)
    for name, res in results.items():
        for side in ("engine", "reference", "engine_1thread", "reference_1thread"):
            if res[side] is not None:
                res[side]["fraction_of_peak"] = res[side]["gflop_per_s"] / peak
        res["gemm_peak_gflops"] = {
            "before": peak_before,
            "after": peak_after,
            "used": peak,
            "shape": [512, 784, 1024],
        }
        res["machine"] = machine
        res["targets"] = TARGETS[name]
        # the roofline of this run: the counted FLOPs at the measured GEMM peak
        at_peak = res["gflop_counted"] / peak
        res["seconds_at_gemm_peak"] = at_peak
        res["speedup_bound_at_gemm_peak"] = res["reference"]["wall_s"] / at_peak
        res["fraction_of_peak_needed_for_target"] = (
            at_peak * TARGETS[name]["speedup"] / res["reference"]["wall_s"]
        )
        (RESULTS / f"engine_{name}{args.suffix}.json").write_text(json.dumps(res, indent=2) + "\n")
        a, b = res["engine"], res["reference"]
        print(
            f"== {name}: {res['members']} members, {res['gflop_counted']:.1f} GFLOP counted; "
            f"GEMM peak {peak:.1f} GFLOP/s (before {peak_before:.1f}, after {peak_after:.1f})"
        )
        sides = [("(a) engine", a), ("(b) reference", b)]
        if res["reference_1thread"]:
            sides += [
                ("(a) 1 thread", res["engine_1thread"]),
                ("(b) 1 thread", res["reference_1thread"]),
            ]
        for label, m in sides:
            mem = m["peak_rss_rise_bytes"]
            print(
                f"  {label:14s} {m['wall_s']:8.2f} s (CPU {m['cpu_s']:7.2f} s)  "
                f"{m['examples_per_s']:8.0f} ex/s  "
                f"{m['gflop_per_s']:7.1f} GFLOP/s  {100 * m['fraction_of_peak']:5.1f}% of peak  "
                f"peak mem +{(mem or 0) / 2**20:7.1f} MiB  load {np.round(m['loadavg_before'], 2).tolist()}"
            )
        print(
            f"  ratio (b)/(a) = {res['speedup_reference_over_engine']:.2f}× wall, "
            f"1 thread {res['speedup_1thread'] or float('nan'):.2f}×, "
            f"best/best {res['speedup_best_over_best']:.2f}×; "
            f"{res['cpu_time_ratio_reference_over_engine']:.2f}× CPU time  "
            f"(targets: {res['targets']}); final test loss max rel gap "
            f"{res['final_test_loss_max_rel_gap']:.1e}"
        )
        print(
            f"  roofline: the counted FLOPs take {at_peak:.2f} s at the GEMM peak, so (b)/(a) ≤ "
            f"{res['speedup_bound_at_gemm_peak']:.1f}×; the {TARGETS[name]['speedup']:g}× target "
            f"needs {100 * res['fraction_of_peak_needed_for_target']:.0f}% of peak sustained "
            f"(reached: {100 * a['fraction_of_peak']:.0f}%)"
        )


if __name__ == "__main__":
    main()
