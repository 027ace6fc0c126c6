"""Behaviour is unchanged: the analysis and report numbers of the committed demo table equal the
committed golden file to 1e-9 relative (no retraining, so the machine cannot change them)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from .make_golden import GOLDEN, golden_numbers


def _differences(expected: Any, got: Any, path: str = "") -> list[str]:
    if isinstance(expected, dict) and isinstance(got, dict):
        out = [f"{path}/{k}: missing" for k in expected if k not in got]
        out += [f"{path}/{k}: unexpected" for k in got if k not in expected]
        for k in expected.keys() & got.keys():
            out += _differences(expected[k], got[k], f"{path}/{k}")
        return out
    if isinstance(expected, list) and isinstance(got, list):
        if len(expected) != len(got):
            return [f"{path}: {len(got)} items, expected {len(expected)}"]
        return [
            d
            for i, (e, g) in enumerate(zip(expected, got, strict=True))
            for d in _differences(e, g, f"{path}[{i}]")
        ]
    numbers = (int, float)
    if (
        isinstance(expected, numbers)
        and isinstance(got, numbers)
        and not isinstance(expected, bool)
    ):
        if math.isclose(expected, got, rel_tol=1e-9, abs_tol=1e-300):
            return []
        return [f"{path}: {got!r}, expected {expected!r}"]
    return [] if expected == got else [f"{path}: {got!r}, expected {expected!r}"]


@pytest.mark.timeout(600)
def test_demo_numbers_unchanged():
    expected = json.loads(GOLDEN.read_text())
    got = json.loads(json.dumps(golden_numbers()))
    diffs = _differences(expected, got)
    assert not diffs, f"{len(diffs)} numbers changed:\n" + "\n".join(diffs[:30])


def test_comparison_can_fail():
    expected = json.loads(GOLDEN.read_text())
    changed = json.loads(json.dumps(expected))
    changed["laws"][0]["unified_rmsle"] *= 1 + 1e-6
    assert _differences(expected, changed)
