"""Arithmetic on size names: how a user's task file states shapes, launch grids, scalars, bytes and FLOPs.

A task file is input, not code: `n + 6`, `(n + VEC - 1) // VEC` or `4 * (2 * n + 13)` are parsed
with `ast` and only numbers, the names the task declares (its size names, and its tunables where
they apply), `+ - * / // % **`, unary signs and parentheses are accepted. Calls, attributes,
subscripts, comparisons and every other construct are refused with a message naming the field, so
nothing in a task file is ever executed by the host.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from tools._workload import TaskError

Number = int | float

_BINARY: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Number], Number]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
MAX_TEXT = 500
MAX_MAGNITUDE = 1e18
"""Results, and every intermediate value, beyond this are refused: no declared quantity of a kernel task
is that large, and with each operand bounded one operation costs next to nothing."""
MAX_EXPONENT = 64


@dataclass(frozen=True)
class Expression:
    """A parsed expression, the field it came from, and the names it reads."""

    text: str
    where: str
    tree: ast.expr
    names: frozenset[str]

    def __call__(self, values: Mapping[str, Number]) -> Number:
        """The value with `values` bound to the names (TaskError on division by zero or overflow)."""
        try:
            result = _evaluate(self.tree, values)
        except ZeroDivisionError:
            raise TaskError(f"{self.where}: {self.text!r} divides by zero at {_describe(values)}") from None
        except OverflowError:
            raise TaskError(f"{self.where}: {self.text!r} overflows at {_describe(values)}") from None
        except ValueError:
            raise TaskError(f"{self.where}: {self.text!r} is not a real number at {_describe(values)}") from None
        if (isinstance(result, float) and not math.isfinite(result)) or abs(result) > MAX_MAGNITUDE:
            raise TaskError(f"{self.where}: {self.text!r} is out of range ({result}) at {_describe(values)}")
        return result

    def integer(self, values: Mapping[str, Number]) -> int:
        """The value as a whole number (a shape, a grid size): TaskError when it is fractional."""
        result = self(values)
        if isinstance(result, float):
            if not result.is_integer():
                raise TaskError(
                    f"{self.where}: {self.text!r} is {result:g} at {_describe(values)}, not a whole number "
                    "(use // for integer division)"
                )
            return int(result)
        return result


def _describe(values: Mapping[str, Number]) -> str:
    return ", ".join(f"{name}={value}" for name, value in values.items()) or "no names"


def parse_expression(text: object, where: str, names: Iterable[str]) -> Expression:
    """Parse `text` (a number or an arithmetic string) allowing only `names`; TaskError names `where`."""
    allowed = frozenset(names)
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise TaskError(f"{where}: expected a number or an arithmetic expression, not {type(text).__name__}")
    source = str(text).strip()
    if not source:
        raise TaskError(f"{where}: the expression is empty")
    if len(source) > MAX_TEXT:
        raise TaskError(f"{where}: the expression is longer than {MAX_TEXT} characters")
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError:
        raise TaskError(f"{where}: {source!r} is not an arithmetic expression") from None
    used: set[str] = set()
    for node in ast.walk(tree):
        _check_node(node, source, where, allowed, used)
    return Expression(source, where, tree, frozenset(used))


def _check_node(node: ast.AST, source: str, where: str, allowed: frozenset[str], used: set[str]) -> None:
    if isinstance(node, ast.Name):
        if node.id not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise TaskError(f"{where}: {source!r} uses unknown name {node.id!r} (allowed names: {known})")
        used.add(node.id)
        return
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise TaskError(f"{where}: {source!r} holds {node.value!r}; only numbers are allowed")
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise TaskError(f"{where}: {source!r} uses an operator other than + - * / // % **")
        return
    if isinstance(node, ast.UnaryOp):
        if type(node.op) not in _UNARY:
            raise TaskError(f"{where}: {source!r} uses an operator other than unary + and -")
        return
    if isinstance(node, ast.operator | ast.unaryop | ast.Load):
        return
    construct = "a call" if isinstance(node, ast.Call) else type(node).__name__.lower()
    raise TaskError(
        f"{where}: {source!r} uses {construct}; only numbers, the declared names, + - * / // % ** and "
        "parentheses are allowed"
    )


def _evaluate(node: ast.expr, values: Mapping[str, Number]) -> Number:
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, int | float)  # parse_expression refused every other constant
        return node.value
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_evaluate(node.operand, values))
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, values), _evaluate(node.right, values)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise OverflowError
        result = _BINARY[type(node.op)](left, right)
        if isinstance(result, complex):
            raise ValueError("not a real number")
        if abs(result) > MAX_MAGNITUDE:
            # Every step, not only the result: `((9**64)**64)**64...` would otherwise build an integer
            # of billions of digits before the final check saw it, and hang whoever loads the task.
            raise OverflowError
        return result
    raise AssertionError(f"unchecked node {type(node).__name__}")  # parse_expression refused it
