"""What every caption must state: data sizes, batch size, epochs, seeds (docs/report.md).

:class:`SweepContext` reads a sweep's spec and its table once and writes the sentence appended to
each figure's caption, so that no figure of a report can be read without its training set-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from scaletime.sweep.spec import SweepSpec

__all__ = ["SweepContext", "fmt_list", "fmt_num"]


def fmt_num(x: float) -> str:
    """``10000 → "10,000"``, ``0.05 → "0.05"``, ``1e-4 → "0.0001"``."""
    x = float(x)
    if x == int(x) and abs(x) >= 1:
        return f"{int(x):,}"
    return f"{x:.4g}"


def fmt_list(values: Any) -> str:
    """``[1, 2, 5] → "1, 2, 5"``."""
    return ", ".join(fmt_num(v) for v in values)


@dataclass(frozen=True)
class SweepContext:
    """A sweep's training set-up, in words.

    Attributes
    ----------
    spec : SweepSpec
    n_test : int or None
        Test examples each checkpoint is evaluated on (None: unknown).
    """

    spec: SweepSpec
    n_test: int | None = None

    @classmethod
    def from_table(cls, spec: SweepSpec, table: pd.DataFrame | None = None) -> SweepContext:
        n_test = spec.data.test_size
        if n_test is None:
            try:
                from scaletime.data import load_dataset

                n_test = len(load_dataset(spec.data.dataset, **spec.data.options).y_test)
            except Exception:  # the dataset may not be cached where the report is rendered
                n_test = None
        return cls(spec, n_test)

    @property
    def optimizer(self) -> str:
        t = self.spec.train
        name = {"sgd": "SGD", "gd": "full-batch GD", "adam": "Adam"}[t.optimizer]
        if t.optimizer == "sgd" and t.momentum:
            name += f" (momentum {t.momentum:g})"
        rule = "fixed" if t.lr_rule == "fixed" else f"∝ 1/width (× {t.lr_ref_width} / width)"
        lr = f"lr {fmt_list(t.lr)} {rule}"
        wd = f", weight decay {t.weight_decay:g}" if t.weight_decay else ""
        return f"{name}, {lr}{wd}"

    def describe(self, data_size: float | None = None, noise: float | None = None) -> str:
        """One sentence with every training detail; ``data_size``/``noise`` narrow the grid."""
        s, d, m, t = self.spec, self.spec.data, self.spec.model, self.spec.train
        sizes = [data_size] if data_size is not None else d.sizes
        noises = [noise] if noise is not None else d.label_noise
        test = f"{fmt_num(self.n_test)} test examples" if self.n_test else "the full test set"
        batch = "full batch" if t.optimizer == "gd" else f"batch {t.batch_size}"
        return (
            f"Set-up: {d.dataset}, n = {fmt_list(sizes)} training examples per run "
            f"(evaluated on {test}), label noise {fmt_list(noises)}; "
            f"{m.arch.upper()} depth {m.resolved_depth}, widths {fmt_list(m.widths)}; "
            f"{self.optimizer}, {batch}, {t.loss.upper()} loss, {fmt_num(t.epochs)} epochs, "
            f"{t.checkpoints} log-spaced checkpoints from epoch {fmt_num(t.first_checkpoint)}; "
            f"seeds {fmt_list(s.seeds)} ({len(s.seeds)} per width)."
        )
