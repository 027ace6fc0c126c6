"""scaletime.engine: the ensemble trainer, the plain reference trainer, optimisers, losses.

>>> from scaletime.engine import Member, TrainConfig, train_members          # doctest: +SKIP
>>> rows = train_members(ds, [Member("a", 10, 0, 1000, 0.0, 0.05)], TrainConfig(epochs=2))  # doctest: +SKIP

Contract: ``docs/architecture.md``; design, guarantees and measured speed: ``docs/engine.md``.
"""

from __future__ import annotations

from scaletime._lazy import lazy_getattr

#: Public name -> module (imported on first use: the tidy table's ``lr_time`` needs
#: :mod:`scaletime.engine.config` alone, without torch).
_EXPORTS = {
    **dict.fromkeys(
        (
            "EngineConfigError",
            "EngineError",
            "Measurement",
            "Member",
            "Schedule",
            "TrainConfig",
            "default_eval_epochs",
            "make_schedule",
        ),
        "scaletime.engine.config",
    ),
    "estimate_data_bytes": "scaletime.engine.memory",
    "estimate_member_bytes": "scaletime.engine.memory",
    "ReferenceRun": "scaletime.engine.reference",
    "train_reference": "scaletime.engine.reference",
    "Chunk": "scaletime.engine.trainer",
    "EnsembleTrainer": "scaletime.engine.trainer",
    "plan_chunks": "scaletime.engine.trainer",
    "train_members": "scaletime.engine.trainer",
    "effective_scale": "scaletime.models",
    "param_count": "scaletime.models",
}


__getattr__ = lazy_getattr("scaletime.engine", _EXPORTS, globals())


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
