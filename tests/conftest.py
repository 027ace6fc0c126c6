"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED


@pytest.fixture(autouse=True, scope="session")
def _threads() -> None:
    # Two cores on CI: keep torch from oversubscribing.
    os.environ.setdefault("OMP_NUM_THREADS", "2")
