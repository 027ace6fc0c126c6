"""``scaletime reproduce paper``: the paper's experiments as sweeps, run, analysed and judged.

Each experiment is one of the shipped ``configs/paper-*.toml`` specs; a *scale* shrinks it
(widths, data sizes, epochs, seeds) so that it fits a machine (docs/report.md, "Reproduction"):

* ``smoke`` — tiny stand-ins (digits for MNIST, MNIST-1D subsets; 3 widths, 2 seeds, a few
  epochs): it runs the whole pipeline in CI in a few minutes and is **not** evidence;
* ``cpu``   — every experiment at a size 2 CPU cores finish in under 2 hours;
* ``full``  — the shipped specs unchanged, meant for a GPU.

Each sweep goes to ``OUT/<experiment>/`` with its own ``report.html`` and ``summary.json``;
``OUT/claims.md`` (and ``claims.json``) and ``OUT/report.html`` (the claims section, links to
every experiment's report) close it. Re-running the same command resumes: finished runs are
skipped by the sweep driver, and an experiment whose summary is current is not re-analysed.
"""

from __future__ import annotations

import copy
import json
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from scaletime.errors import ScaletimeError
from scaletime.report.claims import (
    claims_html,
    claims_markdown,
    claims_table,
    evaluate_claims,
    markdown_table,
)
from scaletime.report.html import Section, render
from scaletime.report.sweep import REPORT_NAME, ReportOptions, read_summary, write_report
from scaletime.sweep.spec import SweepSpec, parse_spec

__all__ = [
    "EXPERIMENTS",
    "SCALES",
    "Experiment",
    "ExperimentOutcome",
    "Reproduction",
    "build_spec",
    "report_options",
    "reproduce_paper",
]

SCALES: tuple[str, ...] = ("smoke", "cpu", "full")


@dataclass(frozen=True)
class Experiment:
    """One of the paper's experiments.

    Attributes
    ----------
    name : str
        Folder name under the output directory.
    config : str
        The shipped spec it starts from (``configs/<config>.toml``).
    purpose : str
        What it measures, in one line.
    """

    name: str
    config: str
    purpose: str
    planned_from: str | None = None  # an experiment whose spec `scaletime plan` stretches


EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment("mnist-mlp", "paper-mnist-mlp", "Figures 1–3: t_min vs scale, predictions"),
    Experiment("fashion-mnist-mlp", "paper-fashion-mnist-mlp", "scale-time on Fashion-MNIST"),
    Experiment("cifar10-mlp", "paper-cifar10-mlp", "scale-time on CIFAR-10 (JPEG archive), MLP"),
    Experiment("mnist-cnn", "paper-mnist-cnn", "scale-time with a CNN"),
    Experiment("cifar10-cnn", "paper-cifar10-cnn", "scale-time on CIFAR-10 with a CNN"),
    Experiment("mnist-data-volume", "paper-mnist-data-volume", "larger models need less data"),
    Experiment(
        "mnist-label-noise",
        "paper-mnist-label-noise",
        "label noise 0/10/20%: sensitivity, epoch-wise double descent",
    ),
    Experiment("mnist1d-mlp", "paper-mnist1d-mlp", "double descent with 15% label noise"),
    Experiment("mnist-adam", "paper-mnist-adam", "control: Adam (the paper reports a break)"),
    Experiment(
        "mnist-lr-inverse-width",
        "paper-mnist-lr-inverse-width",
        "control: lr ∝ 1/width (theory: removes the factor p)",
    ),
    Experiment(
        "mnist-mlp-planned",
        "paper-mnist-mlp",
        "prediction as the paper intends: smaller widths trained longer (scaletime plan)",
        planned_from="mnist-mlp",
    ),
)

# the CPU-scale CNN budget, the same on MNIST and CIFAR-10 (see the comment at its use)
_CPU_CNN = {
    "data": {"sizes": [2000], "test_size": 2000},
    "model": {"widths": [1, 2, 4, 8]},
    "seeds": [0, 1],
    "train": {
        "epochs": 8,
        "checkpoints": 16,
        "first_checkpoint": 0.05,
        "lr": [0.002],
        "batch_size": 32,
    },
}
_SMOKE_DIGITS: dict[str, Any] = {
    "data": {"dataset": "digits", "sizes": [1000], "test_size": None},
    "model": {"widths": [2, 10, 50]},
    "seeds": [0, 1],
    "train": {"epochs": 12, "checkpoints": 12, "first_checkpoint": 0.1, "batch_size": 32},
}

#: Per scale, the overrides merged into each experiment's shipped spec (None: not run).
OVERRIDES: dict[str, dict[str, dict[str, Any] | None]] = {
    "smoke": {
        "mnist-mlp": _SMOKE_DIGITS,
        "fashion-mnist-mlp": None,
        "cifar10-mlp": None,
        "mnist-cnn": None,
        "cifar10-cnn": None,
        "mnist-data-volume": {
            **_SMOKE_DIGITS,
            "data": {"dataset": "digits", "sizes": [100, 300, 1000]},
        },
        "mnist-label-noise": {
            **_SMOKE_DIGITS,
            "data": {"dataset": "digits", "sizes": [1000], "label_noise": [0.0, 0.1, 0.2]},
            "train": {"epochs": 30, "checkpoints": 14, "first_checkpoint": 0.1, "batch_size": 32},
        },
        "mnist1d-mlp": {
            "data": {"sizes": [1000], "label_noise": [0.0, 0.15]},
            "model": {"widths": [5, 20, 100]},
            "seeds": [0, 1],
            "train": {"epochs": 20, "checkpoints": 12, "first_checkpoint": 0.1},
        },
        "mnist-adam": {**_SMOKE_DIGITS, "train": {**_SMOKE_DIGITS["train"], "lr": [0.003]}},
        "mnist-lr-inverse-width": None,
    },
    "cpu": {
        "mnist-mlp": {
            "data": {"sizes": [10000]},
            "seeds": [0, 1, 2],
            "train": {"epochs": 30, "checkpoints": 30},
        },
        "fashion-mnist-mlp": {
            "data": {"sizes": [10000]},
            "seeds": [0, 1, 2],
            "train": {"epochs": 30, "checkpoints": 30},
        },
        "cifar10-mlp": {
            "data": {"sizes": [10000], "test_size": 5000},
            "seeds": [0, 1],
            "train": {"epochs": 20, "checkpoints": 25},
        },
        # The shipped CNN specs (lr 0.02, batch 128) diverge or stay at chance within the few
        # hundred steps a CPU affords (measured: half the runs diverged, the rest at 90% error);
        # lr 0.002 with batch 32 learns at every width in 3 epochs.
        "mnist-cnn": _CPU_CNN,
        "cifar10-cnn": _CPU_CNN,
        "mnist-data-volume": {
            "data": {"sizes": [1000, 3000, 10000, 30000]},
            "seeds": [0, 1],
            "train": {"epochs": 20, "checkpoints": 25},
        },
        "mnist-label-noise": {
            "data": {"sizes": [4000]},
            "seeds": [0, 1, 2],
            "train": {"epochs": 100, "checkpoints": 30},
        },
        "mnist1d-mlp": {"seeds": [0, 1, 2], "train": {"epochs": 200, "checkpoints": 30}},
        "mnist-adam": {
            "data": {"sizes": [10000]},
            "seeds": [0, 1, 2],
            "train": {"epochs": 30, "checkpoints": 30},
        },
        "mnist-lr-inverse-width": {
            "data": {"sizes": [10000]},
            "seeds": [0, 1, 2],
            "train": {"epochs": 30, "checkpoints": 30},
        },
    },
    "full": {e.name: {} for e in EXPERIMENTS},
}

#: Analysis effort per scale (docs/report.md): bootstrap size, fitter options, checkpoints fitted.
_OPTIONS: dict[str, dict[str, Any]] = {
    "smoke": {
        "n_boot": 200,
        "fit_options": {"n_starts": 1, "max_grid": 16, "max_nfev": 100},
        "dpi": 72.0,
        "max_settings_drawn": 1,
        # a few laws of each kind (multi-variable, one-variable): the pipeline, not the science
        "laws": ("unified", "chinchilla-time", "kaplan", "rosenfeld", "power", "bnsl"),
    },
    "cpu": {
        "n_boot": 500,
        "fit_options": {},
    },
    "full": {"n_boot": 1000, "fit_options": {}},
}

_SCALE_NOTES: dict[str, str] = {
    "smoke": (
        "**Smoke scale: these numbers are not evidence.** Tiny stand-ins (the 8×8 `digits` set "
        "for MNIST, a 1,000-example MNIST-1D subset), 3 widths, 2 seeds and a few epochs; "
        "Fashion-MNIST, CIFAR-10 and the CNNs are not run. It checks that the whole pipeline "
        "(specs → sweeps → analysis → fits → claims → reports) runs; the verdicts below say "
        "nothing about the paper."
    ),
    "cpu": (
        "CPU scale: every experiment of the paper, shrunk to fit 2 CPU cores in under 2 hours "
        "(training subsets of 2,000–30,000 examples instead of the full sets, fewer epochs, "
        "2–3 seeds, CNN widths 1–8; see each experiment's spec below). Intervals from 2–3 "
        "seeds are wide; laws are fitted with the fitter's defaults, as `scaletime evaluate`."
    ),
    "full": "Full scale: the shipped paper specs unchanged (meant for a GPU).",
}


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def shipped_spec(config: str) -> dict[str, Any]:
    """The shipped ``configs/<config>.toml`` as a dict."""
    path = resources.files("scaletime") / "configs" / f"{config}.toml"
    return tomllib.loads(path.read_text())


def build_spec(experiment: Experiment, scale: str) -> SweepSpec | None:
    """The experiment's spec at ``scale`` (None if the scale leaves it out)."""
    if scale not in SCALES:
        raise ScaletimeError(f"scale must be one of {', '.join(SCALES)}; got {scale!r}")
    override = OVERRIDES[scale].get(experiment.planned_from or experiment.name)
    if override is None:
        return None
    data = _merge(shipped_spec(experiment.config), override)
    data["name"] = f"{experiment.name}-{scale}"
    data = {k: v for k, v in data.items()}
    if data.get("data", {}).get("test_size", 0) is None:
        data["data"].pop("test_size")
    spec = parse_spec(data, source=f"{experiment.config} at scale {scale}")
    if experiment.planned_from is None:
        return spec
    from scaletime.forecasting.design import plan_sweep

    planned = plan_sweep(spec, max(spec.model.widths), gamma=PLANNED_GAMMA).spec
    return planned.model_copy(update={"name": data["name"]})


#: γ of the planned experiment: the paper's (t_min ∝ 1/p, p = N^{1/3}).
PLANNED_GAMMA = 1.0 / 3.0


def report_options(scale: str) -> ReportOptions:
    """The analysis effort of ``scale``."""
    return ReportOptions(**copy.deepcopy(_OPTIONS[scale]))


@dataclass
class ExperimentOutcome:
    """What happened to one experiment in this invocation."""

    experiment: Experiment
    spec: SweepSpec | None
    folder: Path
    status: str  # "done", "skipped" (scale leaves it out), "unavailable", "failed"
    trained: int = 0
    skipped_runs: int = 0
    diverged: int = 0
    train_seconds: float = 0.0
    report_seconds: float = 0.0
    reused_summary: bool = False
    message: str = ""
    summary: dict[str, Any] | None = None


@dataclass
class Reproduction:
    """The outcome of :func:`reproduce_paper`."""

    out: Path
    scale: str
    experiments: list[ExperimentOutcome]
    claims: list[Any]
    wall_seconds: float
    report: Path
    claims_md: Path
    notes: list[str] = field(default_factory=list)


def _summary_is_current(folder: Path, spec: SweepSpec, options: ReportOptions) -> dict | None:
    summary = read_summary(folder)
    if summary is None or summary.get("spec_hash") != spec.spec_hash():
        return None
    if not (folder / REPORT_NAME).is_file():
        return None
    wanted = {
        "n_boot": options.n_boot,
        "fit_options": options.fit_options,
    }
    have = summary.get("options", {})
    if any(have.get(k) != v for k, v in wanted.items()):
        return None
    runs = summary.get("runs", {})
    return summary if runs.get("pending", 1) == 0 else None


def _run_experiment(
    experiment: Experiment,
    scale: str,
    out: Path,
    options: ReportOptions,
    *,
    device: str | None,
    console: Console,
    show_progress: bool,
) -> ExperimentOutcome:
    from scaletime.data import DatasetNotAvailable
    from scaletime.sweep.executor import LocalExecutor, run_sweep

    spec = build_spec(experiment, scale)
    folder = out / experiment.name
    if spec is None:
        return ExperimentOutcome(
            experiment, None, folder, "skipped", message=f"not part of the {scale} scale"
        )
    outcome = ExperimentOutcome(experiment, spec, folder, "done")
    t0 = time.perf_counter()
    try:
        result = run_sweep(
            spec,
            folder,
            executor=LocalExecutor(device),
            console=console,
            show_progress=show_progress,
        )
    except DatasetNotAvailable as exc:
        outcome.status, outcome.message = "unavailable", str(exc).splitlines()[0]
        return outcome
    except ScaletimeError as exc:  # e.g. the folder holds another spec: say so, go on
        outcome.status, outcome.message = "failed", " ".join(str(exc).split())
        return outcome
    outcome.train_seconds = time.perf_counter() - t0
    outcome.trained, outcome.skipped_runs = result.trained, result.skipped
    outcome.diverged = result.diverged
    t0 = time.perf_counter()
    current = _summary_is_current(folder, spec, options) if result.trained == 0 else None
    if current is not None:
        outcome.summary, outcome.reused_summary = current, True
    else:
        try:
            write_report(folder, options)
        except Exception as exc:  # one broken analysis must not lose the other experiments
            outcome.status, outcome.message = "failed", f"report: {type(exc).__name__}: {exc}"
            outcome.report_seconds = time.perf_counter() - t0
            return outcome
        outcome.summary = read_summary(folder)
    outcome.report_seconds = time.perf_counter() - t0
    return outcome


def _earlier(
    experiment: Experiment, scale: str, out: Path, options: ReportOptions
) -> ExperimentOutcome | None:
    """An experiment left out by ``only`` but measured by an earlier invocation (its summary
    current), so that the claims still see it."""
    spec = build_spec(experiment, scale)
    folder = out / experiment.name
    if spec is None or not (folder / "summary.json").is_file():
        return None
    summary = _summary_is_current(folder, spec, options)
    if summary is None:
        return None
    return ExperimentOutcome(
        experiment,
        spec,
        folder,
        "done",
        reused_summary=True,
        message="measured earlier",
        summary=summary,
    )


def _experiments_table(outcomes: Sequence[ExperimentOutcome]) -> pd.DataFrame:
    rows = []
    for o in outcomes:
        s = o.spec
        runs = (o.summary or {}).get("runs", {})
        rows.append(
            {
                "experiment": o.experiment.name,
                "purpose": o.experiment.purpose,
                "status": o.status + (f" ({o.message})" if o.message else ""),
                "dataset": s.data.dataset if s else "–",
                "model": f"{s.model.arch} {','.join(map(str, s.model.widths))}" if s else "–",
                "optimiser": f"{s.train.optimizer} lr {s.train.lr[0]:g} {s.train.lr_rule}"
                if s
                else "–",
                "n": ",".join(f"{n:g}" for n in s.data.sizes) if s else "–",
                "noise": ",".join(f"{n:g}" for n in s.data.label_noise) if s else "–",
                "batch": s.train.batch_size if s else "–",
                "epochs": f"{s.train.epochs:g}" if s else "–",
                "seeds": len(s.seeds) if s else "–",
                "runs": runs.get("runs", "–"),
                "diverged": runs.get("diverged", "–"),
                "train s (this call)": round(o.train_seconds, 1),
                "report s (this call)": round(o.report_seconds, 1),
                "training s (recorded)": round(runs.get("training_seconds", float("nan")), 1)
                if runs
                else "–",
            }
        )
    return pd.DataFrame(rows)


def _extra_sections(planned: pd.DataFrame | None, lr_axis: pd.DataFrame | None) -> list[Section]:
    """The planned-vs-equal-epochs and the Σηₜ-exponent tables, as report sections."""
    out = []
    if planned is not None:
        out.append(
            Section(
                "Scale-time prediction: smaller widths trained longer vs equal epochs",
                text=(
                    "The mnist-mlp-planned sweep is mnist-mlp with the budgets of "
                    f"`scaletime plan` (epochs ∝ N^−γ, γ = {PLANNED_GAMMA:.3g}, so that every "
                    "width covers the largest width's curve). The paper's predictor "
                    "Ê(N_T, t) = E(N_S, t·(N_T/N_S)^γ) with the same γ, every ordered pair of "
                    "widths: median error over the seed floor (RMSLE ratio; ≤ 2 holds), share of "
                    "pairs holding, median share of the target's checkpoints predicted "
                    "(coverage)."
                ),
                tables=[("Errors by size ratio, both directions.", planned)],
            )
        )
    if lr_axis is not None:
        out.append(
            Section(
                "The scale-time exponent on the theory's time axis",
                text=(
                    "γ (pooled t_min fit, N scale, bootstrap interval) with time in epochs and in "
                    "the cumulative learning rate Σηₜ (lr_time, docs/theory.md), for the fixed-lr "
                    "and the lr ∝ 1/width sweeps: on Σηₜ the theory expects one exponent for "
                    "both rules."
                ),
                tables=[("γ per time axis.", lr_axis)],
            )
        )
    return out


def _index_page(rep: Reproduction, header: str, extra: Sequence[Section] = ()) -> str:
    links = "".join(
        f"<li><a href='{o.experiment.name}/{REPORT_NAME}'>{o.experiment.name}</a> — "
        f"{o.experiment.purpose}</li>"
        for o in rep.experiments
        if (o.folder / REPORT_NAME).is_file()
    )
    claims = Section(
        "Claims",
        text=header.replace("**", ""),
        html=claims_html(rep.claims),
    )
    experiments = Section(
        "Experiments",
        text="Each experiment's own report has its learning curves, Figure 1, predictions, "
        "collapse, law fits and phenomena with full captions.",
        html=f"<ul>{links}</ul>",
        tables=[("Specs and timings.", _experiments_table(rep.experiments))],
    )
    return render(
        f"Reproduction of the paper ({rep.scale} scale)",
        str(rep.out),
        [claims, *extra, experiments],
    )


def reproduce_paper(
    out: str | Path,
    scale: str = "smoke",
    *,
    only: Sequence[str] | None = None,
    device: str | None = None,
    console: Console | None = None,
    show_progress: bool = False,
    on_experiment: Callable[[ExperimentOutcome], None] | None = None,
) -> Reproduction:
    """Run the paper's experiments at ``scale`` into ``out``; write claims and the index report.

    Parameters
    ----------
    out : path
        Output folder (created; resumed if it exists).
    scale : {"smoke", "cpu", "full"}
    only : sequence of str, optional
        Experiment names to run (default: all of the scale's).
    device : str, optional
        ``auto``, ``cpu`` or ``cuda`` (default: each spec's).
    on_experiment : callable, optional
        Called with each experiment's outcome as soon as it is done.
    """
    if scale not in SCALES:
        raise ScaletimeError(f"scale must be one of {', '.join(SCALES)}; got {scale!r}")
    known = {e.name for e in EXPERIMENTS}
    unknown = sorted(set(only or ()) - known)
    if unknown:
        raise ScaletimeError(
            f"unknown experiment(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    console = console or Console(stderr=True)
    options = report_options(scale)
    t0 = time.perf_counter()
    outcomes = []
    for experiment in EXPERIMENTS:
        if only and experiment.name not in only:
            earlier = _earlier(experiment, scale, out, options)
            if earlier is not None:
                outcomes.append(earlier)
            continue
        outcome = _run_experiment(
            experiment,
            scale,
            out,
            options,
            device=device,
            console=console,
            show_progress=show_progress,
        )
        outcomes.append(outcome)
        if on_experiment is not None:
            on_experiment(outcome)
    return _write_outputs(out, scale, outcomes, time.perf_counter() - t0)


def _recorded_training(outcomes: Sequence[ExperimentOutcome]) -> float:
    """Sum of the experiments' training wall time as recorded in their databases (every
    invocation that trained them, whether or not this one did)."""
    return float(
        sum((o.summary or {}).get("runs", {}).get("training_seconds") or 0.0 for o in outcomes)
    )


def _write_outputs(
    out: Path,
    scale: str,
    outcomes: list[ExperimentOutcome],
    wall: float,
    *,
    index: Path | None = None,
    write_claims: bool = True,
    timing: str | None = None,
) -> Reproduction:
    """Judge the claims; write ``claims.md`` and ``claims.json`` (unless ``write_claims`` is
    false) and the index report (``index``, default ``out/report.html``)."""
    summaries = {o.experiment.name: o.summary for o in outcomes if o.summary is not None}
    claims = evaluate_claims(summaries)
    ran = [o for o in outcomes if o.status == "done"]
    if timing is None:
        timing = (
            f"Wall time of this invocation: {wall:.0f} s (training "
            f"{sum(o.train_seconds for o in outcomes):.0f} s, analysis and reports "
            f"{sum(o.report_seconds for o in outcomes):.0f} s; a resumed invocation skips finished "
            "runs and current summaries)."
        )
    header = (
        f"{_SCALE_NOTES[scale]}\n\nExperiments measured: {', '.join(o.experiment.name for o in ran)}"
        f" ({len(ran)} of {len(outcomes)}). {timing} Training time recorded in the sweeps' "
        f"databases, all invocations: {_recorded_training(outcomes):.0f} s."
    )
    claims_md = out / "claims.md"
    table = _experiments_table(outcomes)
    index = index or out / REPORT_NAME
    rep = Reproduction(out, scale, outcomes, claims, wall, index, claims_md)
    try:
        planned = _planned_comparison(outcomes)
        lr_axis = _lr_time_comparison(outcomes)
    except (ScaletimeError, OSError, ValueError) as exc:  # a sweep folder without its database
        planned = lr_axis = None
        rep.notes.append(f"comparisons not computed: {exc}")
    extra = _extra_sections(planned, lr_axis)
    index.write_text(_index_page(rep, header, extra), encoding="utf-8")
    if not write_claims:
        return rep
    planned_md = "".join(
        f"\n## {sec.title}\n\n{sec.text}\n\n{markdown_table(t)}\n"
        for sec in extra
        for _, t in sec.tables
    )
    claims_md.write_text(
        claims_markdown(claims, header)
        + planned_md
        + "\n## Experiments\n\n"
        + markdown_table(table)
        + "\n"
    )
    (out / "claims.json").write_text(
        json.dumps(
            {
                "scale": scale,
                "wall_seconds": wall,
                "timing": timing,
                "claims": [c.to_dict() for c in claims],
                "planned_comparison": planned.to_dict(orient="records")
                if planned is not None
                else None,
                "lr_time_exponents": lr_axis.to_dict(orient="records")
                if lr_axis is not None
                else None,
                "experiments": table.to_dict(orient="records"),
            },
            indent=1,
            default=str,
        )
    )
    return rep


def _planned_comparison(outcomes: Sequence[ExperimentOutcome]) -> pd.DataFrame | None:
    """Scale-time errors by size ratio in each planned experiment and the one it stretches,
    side by side (None unless both were measured)."""
    from scaletime.analysis.analyze import prediction_errors_by_ratio

    done = {o.experiment.name: o for o in outcomes if o.summary is not None}
    frames = []
    for exp in EXPERIMENTS:
        if exp.planned_from is None or exp.name not in done or exp.planned_from not in done:
            continue
        equal = prediction_errors_by_ratio(done[exp.planned_from].folder, PLANNED_GAMMA)
        planned = prediction_errors_by_ratio(done[exp.name].folder, PLANNED_GAMMA)
        keys = ["direction", "ratio"]
        merged = equal.merge(planned, on=keys, suffixes=(" equal", " planned"))
        merged.insert(0, "experiment", exp.name)
        cols = [
            "experiment",
            *keys,
            "size_ratio equal",
            "n_pairs equal",
            "error_ratio equal",
            "error_ratio planned",
            "holds equal",
            "holds planned",
            "coverage equal",
            "coverage planned",
        ]
        frames.append(merged[cols].round(3))
    return pd.concat(frames, ignore_index=True) if frames else None


#: Sweeps whose scale-time exponent is compared on epochs and on Σηₜ.
LR_RULE_EXPERIMENTS = ("mnist-mlp", "mnist-lr-inverse-width")


def _lr_time_comparison(outcomes: Sequence[ExperimentOutcome]) -> pd.DataFrame | None:
    from scaletime.analysis.analyze import exponent_by_time_axis

    done = {o.experiment.name: o for o in outcomes if o.summary is not None}
    frames = []
    for name in LR_RULE_EXPERIMENTS:
        if name in done:
            frame = exponent_by_time_axis(done[name].folder)
            frame.insert(0, "experiment", name)
            frames.append(frame.round(3))
    return pd.concat(frames, ignore_index=True) if len(frames) == 2 else None


def _f0(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return 0.0


def _read_claims_meta(path: Path) -> dict[str, Any]:
    """A reproduction's ``claims.json``, checked: an object with a text ``scale``, a list of
    experiment objects and an optional ``timing`` text; anything else is a clear error."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise ScaletimeError(f"{path} is not a readable reproduction summary: {err}") from None
    problems = []
    if not isinstance(meta, dict):
        problems.append("not a JSON object")
    else:
        if not isinstance(meta.get("scale", "full"), str):
            problems.append("scale is not text")
        experiments = meta.get("experiments", [])
        if not (isinstance(experiments, list) and all(isinstance(e, dict) for e in experiments)):
            problems.append("experiments is not a list of objects")
        if not isinstance(meta.get("timing") or "", str):
            problems.append("timing is not text")
    if problems:
        raise ScaletimeError(f"{path} is damaged: {'; '.join(problems)}")
    return meta


def rerender_index(folder: str | Path, out: str | Path | None = None) -> Path:
    """Rebuild a reproduction's claims and index page from its experiments' ``summary.json``
    (no training, no analysis); returns the index report's path."""
    folder = Path(folder)
    meta = _read_claims_meta(folder / "claims.json")
    scale = meta.get("scale", "full")
    stored = {e.get("experiment"): e for e in meta.get("experiments", [])}
    outcomes = []
    for experiment in EXPERIMENTS:
        summary = read_summary(folder / experiment.name)
        spec = build_spec(experiment, scale) if scale in SCALES else None
        status = "done" if summary is not None else "skipped"
        recorded = stored.get(experiment.name, {})
        outcomes.append(
            ExperimentOutcome(
                experiment,
                spec,
                folder / experiment.name,
                status,
                train_seconds=_f0(recorded.get("train s (this call)")),
                report_seconds=_f0(recorded.get("report s (this call)")),
                summary=summary,
                message="" if summary else "no summary.json",
            )
        )
    rep = _write_outputs(
        folder,
        scale,
        outcomes,
        _f0(meta.get("wall_seconds", float("nan"))),
        index=Path(out) if out is not None else None,
        write_claims=out is None,
        timing=meta.get("timing"),
    )
    return rep.report


def claims_summary_table(rep: Reproduction) -> pd.DataFrame:
    """The claims table of a reproduction (for printing)."""
    return claims_table(rep.claims)
