"""Row filters and derived columns from user text, evaluated on a restricted syntax tree — never
with ``eval``, ``DataFrame.query`` or ``DataFrame.eval`` (docs/fitting.md, "Input").

Allowed: numbers, strings, ``True``/``False``; column names (plain, or in backticks for names
with spaces: ```Training FLOP```); ``+ - * / // % **``, unary ``-``/``+``; comparisons (chains
too) and ``in`` / ``not in`` a list of constants; ``and or not`` and ``& | ~``; the functions
``log log10 log2 exp sqrt abs``. Anything else — attributes, subscripts, ``@`` names, other
calls, comprehensions, lambdas — is refused with the offending piece named.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from scaletime.errors import ScaletimeError

#: Longest expression and largest syntax tree accepted.
MAX_LENGTH = 2000
MAX_NODES = 400

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.true_divide,
    ast.FloorDiv: np.floor_divide,
    ast.Mod: np.mod,
    ast.Pow: np.power,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "log": np.log,
    "log10": np.log10,
    "log2": np.log2,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "abs": np.abs,
}
_BACKTICK = re.compile(r"`([^`]*)`")


class ExpressionError(ScaletimeError, ValueError):
    """An expression that is not allowed or does not evaluate on the table."""


def _parse(expression: str, what: str) -> tuple[ast.Expression, dict[str, str]]:
    if not isinstance(expression, str) or not expression.strip():
        raise ExpressionError(f"{what}: give a non-empty expression")
    if len(expression) > MAX_LENGTH:
        raise ExpressionError(f"{what}: longer than {MAX_LENGTH} characters")
    quoted: dict[str, str] = {}

    def placeholder(match: re.Match[str]) -> str:
        name = f"__column_{len(quoted)}__"
        quoted[name] = match.group(1)
        return name

    text = _BACKTICK.sub(placeholder, expression)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(
            f"{what} {expression!r} is not a valid expression: {exc.msg}"
        ) from exc
    except (RecursionError, MemoryError):
        raise ExpressionError(f"{what}: nested too deeply") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExpressionError(f"{what}: more than {MAX_NODES} terms")
    return tree, quoted


def _constant(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str | bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _constant(node.operand)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return -value
    raise ExpressionError("the right side of `in` must list constants")


def evaluate(expression: str, frame: pd.DataFrame, what: str = "expression") -> Any:
    """The value of ``expression`` on the columns of ``frame`` (an array or a scalar)."""
    tree, quoted = _parse(expression, what)

    def column(name: str) -> np.ndarray:
        name = quoted.get(name, name)
        if name not in frame.columns:
            known = ", ".join(map(str, list(frame.columns)[:20]))
            raise ExpressionError(f"{what} {expression!r}: no column {name!r} (columns: {known})")
        return frame[name].to_numpy()

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str | bool):
            value = node.value
            if isinstance(value, int | float) and not isinstance(value, bool):
                return np.float64(value)  # numpy arithmetic: overflow gives inf, never hangs
            return value
        if isinstance(node, ast.Name):
            if node.id in ("True", "False"):
                return node.id == "True"
            return column(node.id)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            with np.errstate(all="ignore"):
                return _BINARY[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp):
            operand = ev(node.operand)
            if isinstance(node.op, ast.USub):
                return np.negative(operand)
            if isinstance(node.op, ast.UAdd):
                return operand
            if isinstance(node.op, ast.Not | ast.Invert):
                return np.logical_not(operand)
        if isinstance(node, ast.BoolOp):
            values = [ev(v) for v in node.values]
            combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            out = values[0]
            for v in values[1:]:
                out = combine(out, v)
            return out
        if isinstance(node, ast.Compare):
            left, out = ev(node.left), True
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                if isinstance(op, ast.In | ast.NotIn):
                    if not isinstance(right_node, ast.List | ast.Tuple | ast.Set):
                        raise ExpressionError(f"{what} {expression!r}: `in` needs a list")
                    allowed = [_constant(e) for e in right_node.elts]
                    result = np.isin(left, allowed)
                    result = ~result if isinstance(op, ast.NotIn) else result
                    right = None
                elif type(op) in _COMPARE:
                    right = ev(right_node)
                    result = _COMPARE[type(op)](left, right)
                else:
                    raise ExpressionError(f"{what} {expression!r}: comparison not allowed")
                out = np.logical_and(out, result)
                left = right
            return out
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS
            and len(node.args) == 1
            and not node.keywords
        ):
            with np.errstate(all="ignore"):
                return _FUNCTIONS[node.func.id](ev(node.args[0]))
        piece = ast.unparse(node)[:40] if hasattr(ast, "unparse") else type(node).__name__
        raise ExpressionError(
            f"{what} {expression!r}: {piece!r} is not allowed (columns, constants, arithmetic, "
            f"comparisons, and/or/not, in [...], and {', '.join(_FUNCTIONS)})"
        )

    try:
        return ev(tree)
    except ExpressionError:
        raise
    except (TypeError, ValueError) as exc:
        raise ExpressionError(f"{what} {expression!r} failed: {exc}") from exc


def filter_rows(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """The rows of ``frame`` where ``where`` is true (a boolean per row)."""
    mask = evaluate(where, frame, "where")
    mask = np.broadcast_to(np.asarray(mask), (len(frame),))
    if mask.dtype != bool:
        raise ExpressionError(f"where {where!r} must be a condition (true/false per row)")
    out = frame.loc[mask]
    if out.empty:
        raise ExpressionError(f"where {where!r} leaves no rows")
    return out


_TARGET = re.compile(r"^\s*(`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)(.*)$", re.S)


def derive_column(frame: pd.DataFrame, expression: str) -> pd.DataFrame:
    """``frame`` with the column ``NAME = EXPRESSION`` added (or replaced)."""
    match = _TARGET.match(expression) if isinstance(expression, str) else None
    if match is None:
        raise ExpressionError(f"derive {expression!r} must have the form 'NAME = EXPRESSION'")
    name = match.group(1).strip("`")
    value = evaluate(match.group(2), frame, "derive")
    return frame.assign(**{name: np.broadcast_to(np.asarray(value), (len(frame),)).copy()})
