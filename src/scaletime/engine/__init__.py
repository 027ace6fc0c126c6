"""scaletime.engine: the ensemble trainer, the plain reference trainer, optimisers, losses.

>>> from scaletime.engine import Member, TrainConfig, train_members          # doctest: +SKIP
>>> rows = train_members(ds, [Member("a", 10, 0, 1000, 0.0, 0.05)], TrainConfig(epochs=2))  # doctest: +SKIP

Contract: ``docs/architecture.md``; design, guarantees and measured speed: ``docs/engine.md``.
"""

from scaletime.engine.config import (
    EngineConfigError,
    EngineError,
    Measurement,
    Member,
    Schedule,
    TrainConfig,
    default_eval_epochs,
    make_schedule,
)
from scaletime.engine.memory import estimate_data_bytes, estimate_member_bytes
from scaletime.engine.reference import ReferenceRun, train_reference
from scaletime.engine.trainer import Chunk, EnsembleTrainer, plan_chunks, train_members
from scaletime.models import effective_scale, param_count

__all__ = [
    "Chunk",
    "EngineConfigError",
    "EngineError",
    "EnsembleTrainer",
    "Measurement",
    "Member",
    "ReferenceRun",
    "Schedule",
    "TrainConfig",
    "default_eval_epochs",
    "effective_scale",
    "estimate_data_bytes",
    "estimate_member_bytes",
    "make_schedule",
    "param_count",
    "plan_chunks",
    "train_members",
    "train_reference",
]
