"""The rooms of the package import only downward (docs/architecture.md, "What each room may
import"): a new import that runs back up the layers fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import scaletime

ROOT = Path(scaletime.__file__).parent

#: Shared by every room: no scaletime imports of their own except errors.
BASE = {"errors", "params", "stats", "expressions", "_lazy", "__init__"}

#: room -> the rooms (beyond BASE) it may import.
ALLOWED: dict[str, set[str]] = {
    "data": set(),
    "models": set(),
    "engine": {"data", "models"},
    "sweep": {"data", "models", "engine"},
    "table": {"engine", "sweep"},
    "theory": set(),
    "fitting": {"table", "theory"},
    "analysis": {"table", "theory", "fitting"},
    "forecasting": {"data", "models", "sweep", "table", "fitting"},
    "report": {"data", "sweep", "table", "analysis", "fitting", "forecasting"},
    "cli": {"data", "sweep", "table", "theory", "analysis", "fitting", "forecasting", "report"},
}
BASE_ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "params": {"errors"},
    "stats": set(),
    "expressions": {"errors"},
    "_lazy": set(),
}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        out |= {_room(n) for n in names if n == "scaletime" or n.startswith("scaletime.")}
    return out


def test_every_room_imports_only_downward() -> None:
    bad = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        room = rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem
        if room in ("__init__", "__main__"):
            continue
        allowed = BASE_ALLOWED[room] if room in BASE_ALLOWED else ALLOWED[room] | BASE
        for target in _imports(path) - {room}:
            if target not in allowed:
                bad.append(f"{rel} imports scaletime.{target}")
    assert not bad, "imports against the layering:\n" + "\n".join(sorted(bad))


def test_every_room_is_listed() -> None:
    rooms = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in ROOT.glob("*.py")} - {"__init__", "__main__"}
    assert rooms <= set(ALLOWED)
    assert modules <= set(BASE_ALLOWED)
