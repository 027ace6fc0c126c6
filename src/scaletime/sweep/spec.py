"""The sweep specification: one TOML file, validated by pydantic.

A spec names a dataset, a model family, the grid (widths × data sizes × label-noise rates × seeds
× learning rates), the optimiser and the training budget. Every default is visible here with a
comment; ``docs/user-guide.md`` shows a full example. An invalid spec is refused with the field,
the bad value and what is allowed (:class:`SpecError`).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from scaletime.errors import ScaletimeError

DATASETS = ("mnist", "fashion-mnist", "cifar10", "mnist1d", "svhn", "digits", "teacher")
PAPER_WIDTHS = (1, 2, 5, 10, 20, 50, 100)

# Stated upper bounds: every value must fit the engine and an SQLite INTEGER (int64).
MAX_WIDTH = 1_000_000
MAX_DEPTH = 64
MAX_COUNT = 2**31 - 1  # data sizes, batch size, test size
MAX_SEED = 2**63 - 1
MAX_EPOCHS = 1e6

# Strict types: a TOML ``true`` is not the integer 1, a string is not a number; floats are finite.
PositiveInt = Annotated[int, Field(gt=0, le=MAX_COUNT, strict=True)]
Width = Annotated[int, Field(gt=0, le=MAX_WIDTH, strict=True)]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED, strict=True)]
Rate = Annotated[float, Field(ge=0.0, lt=1.0, strict=True, allow_inf_nan=False)]
NoiseRate = Rate
PositiveFloat = Annotated[float, Field(gt=0.0, strict=True, allow_inf_nan=False)]
Epochs = Annotated[float, Field(gt=0.0, le=MAX_EPOCHS, strict=True, allow_inf_nan=False)]


class SpecError(ScaletimeError):
    """A sweep spec that cannot be used; the message names every bad field."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSpec(_Section):
    dataset: Literal[DATASETS] = "mnist"  # type: ignore[valid-type]
    sizes: list[PositiveInt] = [10_000]  # training examples per run (balanced, nested subsets)
    label_noise: list[NoiseRate] = [0.0]  # symmetric label-noise rates applied within the subset
    data_seed: Seed = 0  # seeds the subsets and the label noise (shared by every run)
    test_size: PositiveInt | None = None  # balanced test subset (None = the full test set)
    options: dict[str, Any] = {}  # dataset options (e.g. the teacher task's dim, spectrum)

    @model_validator(mode="after")
    def _dataset_options(self) -> DataSpec:
        from scaletime.data.registry import check_options

        try:
            check_options(self.dataset, self.options)
        except ValueError as err:
            raise ValueError(f"data.options: {err}") from None
        return self

    @field_validator("sizes", "label_noise")
    @classmethod
    def _non_empty_unique(cls, v: list[Any]) -> list[Any]:
        if not v:
            raise ValueError("must list at least one value")
        if len(set(v)) != len(v):
            raise ValueError(f"values must be unique, got {v}")
        return sorted(v)


class ModelSpec(_Section):
    arch: Literal["mlp", "cnn"] = "mlp"
    # hidden layers (mlp: 2) / conv blocks (cnn: 4)
    depth: Annotated[int, Field(gt=0, le=MAX_DEPTH, strict=True)] | None = None
    widths: list[Width] = list(PAPER_WIDTHS)  # the paper's widths

    @field_validator("widths")
    @classmethod
    def _widths(cls, v: list[int]) -> list[int]:
        if not v:
            raise ValueError("must list at least one width")
        if len(set(v)) != len(v):
            raise ValueError(f"widths must be unique, got {v}")
        return sorted(v)

    @property
    def resolved_depth(self) -> int:
        return self.depth if self.depth is not None else (2 if self.arch == "mlp" else 4)


class TrainSpec(_Section):
    optimizer: Literal["sgd", "gd", "adam"] = "sgd"  # gd = full-batch gradient descent
    lr: list[PositiveFloat] = [0.05]  # base learning rates (one run per value)
    lr_rule: Literal["fixed", "inverse_width"] = "fixed"  # inverse_width: lr·ref/width (μP)
    lr_ref_width: Width = 1  # the width at which inverse_width uses the base lr
    momentum: Rate = 0.9  # sgd only
    weight_decay: Annotated[float, Field(ge=0.0, strict=True, allow_inf_nan=False)] = 0.0
    batch_size: PositiveInt = 128  # ignored by gd
    loss: Literal["mse", "ce"] = "mse"  # mse on one-hot targets (the paper) or cross-entropy
    epochs: Epochs = 20.0  # training budget, in passes over each run's own training set
    # per-width budgets overriding ``epochs`` (e.g. small models trained longer, `scaletime plan`)
    epochs_by_width: dict[Annotated[int, Field(gt=0, le=MAX_WIDTH)], Epochs] = {}
    checkpoints: Annotated[int, Field(ge=2, le=1000, strict=True)] = (
        24  # log-spaced evaluation points
    )
    first_checkpoint: PositiveFloat = 0.02  # epoch of the first log-spaced evaluation
    eval_at_init: Annotated[bool, Field(strict=True)] = True  # also evaluate at epoch 0

    @field_validator("lr")
    @classmethod
    def _lrs(cls, v: list[float]) -> list[float]:
        if not v:
            raise ValueError("must list at least one learning rate")
        if len(set(v)) != len(v):
            raise ValueError(f"learning rates must be unique, got {v}")
        return sorted(v)

    @model_validator(mode="after")
    def _first_before_last(self) -> TrainSpec:
        for epochs in (self.epochs, *self.epochs_by_width.values()):
            if self.first_checkpoint >= epochs:
                raise ValueError(
                    f"first_checkpoint ({self.first_checkpoint}) must be smaller than every "
                    f"epochs budget ({epochs})"
                )
        return self

    def epochs_for(self, width: int) -> float:
        """The training budget of ``width``: ``epochs_by_width[width]``, else ``epochs``."""
        return float(self.epochs_by_width.get(width, self.epochs))

    def eval_epochs(self, width: int | None = None) -> tuple[float, ...]:
        """Log-spaced checkpoints from ``first_checkpoint`` to the budget of ``width`` (default:
        ``epochs``), plus 0 if requested."""
        last = self.epochs if width is None else self.epochs_for(width)
        grid = np.geomspace(self.first_checkpoint, last, self.checkpoints)
        pts = [float(f"{x:.6g}") for x in grid[:-1]] + [float(last)]
        return ((0.0,) if self.eval_at_init else ()) + tuple(pts)


class ExecutionSpec(_Section):
    """How to run, not what: excluded from the spec hash, so it may change between resumes."""

    device: Literal["auto", "cpu", "cuda"] = "auto"
    unit_max_members: PositiveInt = 32  # at most this many runs trained together in one work unit


class SweepSpec(_Section):
    name: Annotated[str, Field(min_length=1, max_length=200, strict=True)] = "sweep"
    seeds: list[Seed] = [0, 1]  # initialisation + mini-batch order
    data: DataSpec = DataSpec()
    model: ModelSpec = ModelSpec()
    train: TrainSpec = TrainSpec()
    execution: ExecutionSpec = ExecutionSpec()

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: list[int]) -> list[int]:
        if not v:
            raise ValueError("must list at least one seed")
        if len(set(v)) != len(v):
            raise ValueError(f"seeds must be unique, got {v}")
        return sorted(v)

    @model_validator(mode="after")
    def _epochs_widths(self) -> SweepSpec:
        extra = sorted(set(self.train.epochs_by_width) - set(self.model.widths))
        if extra:
            raise ValueError(
                f"train.epochs_by_width names widths {extra} that model.widths "
                f"({self.model.widths}) does not list"
            )
        self._at_least_one_step()
        return self

    def _at_least_one_step(self) -> None:
        """Every run's budget must be at least one optimiser step (an epoch is ``ceil(n /
        batch)`` steps, one for full-batch gd)."""
        t = self.train
        n = min(self.data.sizes)
        per_epoch = 1 if t.optimizer == "gd" else -(-n // min(t.batch_size, n))
        for width in self.model.widths:
            epochs = t.epochs_for(width)
            if epochs * per_epoch < 1:
                field = (
                    f"train.epochs_by_width.{width}"
                    if width in t.epochs_by_width
                    else ("train.epochs")
                )
                raise ValueError(
                    f"{field} = {epochs:g} is less than one optimiser step (an epoch of "
                    f"{n} examples is {per_epoch} step(s) with optimizer {t.optimizer!r}); "
                    f"use at least {1 / per_epoch:g}"
                )

    # -- identity ------------------------------------------------------------------------------
    def science_dict(self) -> dict[str, Any]:
        """Everything that determines the measurements (the execution section excluded; an
        empty ``train.epochs_by_width`` left out, so sweeps made before it keep their hash)."""
        d = self.model_dump(mode="json", exclude={"execution"})
        if not d["train"]["epochs_by_width"]:
            del d["train"]["epochs_by_width"]
        return d

    def spec_hash(self) -> str:
        """sha256 of the canonical JSON of :meth:`science_dict` (first 16 hex digits)."""
        canon = json.dumps(self.science_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canon.encode()).hexdigest()[:16]

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, indent=2)


def _format_validation_error(err: ValidationError, source: str) -> str:
    lines = [f"invalid sweep spec {source}:"]
    for e in err.errors():
        field = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown field"
            parent = _section_for(e["loc"][:-1])
            if parent is not None:
                msg += f"; allowed fields: {', '.join(parent.model_fields)}"
        got = e.get("input")
        got_txt = "" if e["type"] in ("missing",) or isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"  - {field}: {msg}{got_txt}")
    return "\n".join(lines)


def _section_for(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = SweepSpec
    for part in loc:
        field = model.model_fields.get(str(part))
        ann = getattr(field, "annotation", None)
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return None
        model = ann
    return model


def parse_spec(data: dict[str, Any], source: str = "") -> SweepSpec:
    """Validate a spec given as a dict; raise :class:`SpecError` naming each bad field."""
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as err:
        raise SpecError(_format_validation_error(err, source)) from None


MAX_SPEC_BYTES = 1_000_000


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a TOML spec file (UTF-8 text, at most 1 MB, at least one setting)."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"spec file not found: {path}")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise SpecError(f"cannot read spec file {path}: {err.strerror or err}") from None
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError(f"{path} is {len(raw)} bytes; a sweep spec is at most {MAX_SPEC_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SpecError(
            f"{path} is not UTF-8 text (byte {err.start}: {raw[err.start : err.start + 1]!r}); "
            "a sweep spec is a TOML file"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{path} is not valid TOML: {err}") from None
    except RecursionError:
        raise SpecError(f"{path} is not valid TOML: nested too deeply") from None
    if not data:
        raise SpecError(
            f"{path} sets nothing (an empty spec would run the default sweep); name at least "
            "the dataset and the widths, e.g. start from configs/demo.toml"
        )
    return parse_spec(data, source=str(path))
