"""`quadratic-roots`: two distinct roots of one quadratic, given their sum and product (Vieta's formulas).

Statements about the roots `a <> b` of `2 * x ^ 2 - 7 * x + 2` ask for a symmetric function of them
(`1 / (a - 1) + 1 / (b - 1)`), which no automation reaches from the two equations alone: `nra` would have to
divide `p(a) - p(b) = 0` by `a - b`. Here the statement's polynomial is read (numeric coefficients only), and the
draft asserts `a + b = -B / A` (the difference of the two equations, cancelled by `a - b` through
`Rmult_eq_reg_l`) and then `a * b = C / A` (`nra` from the sum), after which every goal denominator is shown
nonzero from the equations and cleared, leaving a polynomial identity in the sum and product for `nra`.

Where the roots come from: a function defined for every `x` (`forall x, f x = ...`) with premises `f a = 0`,
`f b = 0`, or two premises that are the same polynomial equation in `a` and in `b`; and a premise `a <> b`.
"""

from __future__ import annotations

import re
from fractions import Fraction

from agents.proof_search._memory import premises_and_conclusion, split_top
from tools.proofs import ProofProblem

Polynomial = dict[int, Fraction]
"""Coefficients by degree."""

_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_][\w']*)|(\S))")
_DEFINITION = re.compile(r"forall\s*\(?\s*([A-Za-z_][\w']*)\s*(?::\s*R\s*)?\)?\s*,\s*([A-Za-z_][\w']*)\s+\1\s*=")
_ROOT_PREMISE = re.compile(r"(?:->|,|\()\s*([A-Za-z_][\w']*)\s+\(?\s*([A-Za-z_][\w']*)\s*\)?\s*=\s*0\s*(?=->|/\\|\))")
_DISTINCT = re.compile(r"\b([A-Za-z_][\w']*)\s*<>\s*([A-Za-z_][\w']*)\b")
MAX_DEGREE = 2


def _add(p: Polynomial, q: Polynomial, sign: int = 1) -> Polynomial:
    out = dict(p)
    for degree, value in q.items():
        out[degree] = out.get(degree, Fraction(0)) + sign * value
    return {degree: value for degree, value in out.items() if value != 0}


def _mul(p: Polynomial, q: Polynomial) -> Polynomial:
    out: Polynomial = {}
    for d1, v1 in p.items():
        for d2, v2 in q.items():
            out[d1 + d2] = out.get(d1 + d2, Fraction(0)) + v1 * v2
    if out and max(out) > 8:
        raise ValueError("degree too high")
    return {degree: value for degree, value in out.items() if value != 0}


class _Parser:
    """Recursive descent over Coq's real-number notation: `+ - * / ^`, unary minus, parentheses, numerals."""

    def __init__(self, text: str, variable: str) -> None:
        self.tokens = [m.group(m.lastindex or 0) for m in _TOKEN.finditer(text) if m.lastindex]
        self.variable = variable
        self.index = 0

    def _peek(self) -> str | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise ValueError("unexpected end")
        self.index += 1
        return token

    def parse(self) -> Polynomial:
        result = self._sum()
        if self._peek() is not None:
            raise ValueError(f"unexpected {self._peek()!r}")
        return result

    def _sum(self) -> Polynomial:
        result = self._product()
        while self._peek() in ("+", "-"):
            sign = 1 if self._take() == "+" else -1
            result = _add(result, self._product(), sign)
        return result

    def _product(self) -> Polynomial:
        result = self._unary()
        while self._peek() in ("*", "/"):
            operator = self._take()
            operand = self._unary()
            if operator == "*":
                result = _mul(result, operand)
            elif set(operand) == {0}:
                result = {degree: value / operand[0] for degree, value in result.items()}
            else:
                raise ValueError("division by a non-constant")
        return result

    def _unary(self) -> Polynomial:
        if self._peek() == "-":
            self._take()
            return {degree: -value for degree, value in self._unary().items()}
        return self._power()

    def _power(self) -> Polynomial:
        base = self._atom()
        if self._peek() == "^":
            self._take()
            exponent = self._take()
            if not exponent.isdigit() or int(exponent) > 8:
                raise ValueError("exponent")
            result: Polynomial = {0: Fraction(1)}
            for _ in range(int(exponent)):
                result = _mul(result, base)
            return result
        return base

    def _atom(self) -> Polynomial:
        token = self._take()
        if token.isdigit():
            return {0: Fraction(int(token))} if int(token) else {}
        if token == self.variable:
            return {1: Fraction(1)}
        if token == "(":
            inner = self._sum()
            if self._take() != ")":
                raise ValueError("unbalanced")
            return inner
        raise ValueError(f"unknown {token!r}")


def parse_polynomial(text: str, variable: str) -> Polynomial | None:
    """The polynomial `text` in `variable` with rational coefficients, or None where it is anything else."""
    try:
        return _Parser(text, variable).parse()
    except (ValueError, ZeroDivisionError):  # not a polynomial with numeric coefficients, or `/ 0`
        return None


def _extent(text: str, start: int) -> str:
    """The expression starting at `start`, up to the first `->`, `/\\` or unmatched `)` at its depth."""
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return text[start:index]
            depth -= 1
        elif depth == 0 and text.startswith(("->", "/\\", "<->"), index):
            return text[start:index]
    return text[start:]


def _literal(value: Fraction) -> str:
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if magnitude.denominator == 1:
        return f"({sign}{magnitude.numerator})"
    return f"({sign}{magnitude.numerator} / {magnitude.denominator})"


def _defined_quadratics(problem: ProofProblem) -> dict[str, Polynomial]:
    """Functions the statement defines for every real `x` as a quadratic with numeric coefficients."""
    found: dict[str, Polynomial] = {}
    for match in _DEFINITION.finditer(problem.statement):
        variable, function = match.group(1), match.group(2)
        polynomial = parse_polynomial(_extent(problem.statement, match.end()), variable)
        if polynomial and max(polynomial) == MAX_DEGREE:
            found[function] = polynomial
    return found


def _known_equations(problem: ProofProblem) -> list[str]:
    """The statement's premises (hypothesis binders and the parts before its conclusion), each conjunction
    taken apart and outer parentheses removed."""
    _, premises, _ = premises_and_conclusion(problem)
    found = []
    for conjunct in (part for premise in premises for part in split_top(premise, "/\\")):
        equation = conjunct
        while equation.startswith("(") and equation.endswith(")") and _extent(equation, 1) == equation[1:-1]:
            equation = equation[1:-1].strip()
        found.append(equation)
    return found


def _equation_roots(problem: ProofProblem) -> dict[tuple[Fraction, ...], list[str]]:
    """Variables each stated to satisfy a quadratic equation of its own (`a ^ 2 - 7 * a + 2 = 0`), grouped by
    that equation's monic form."""
    found: dict[tuple[Fraction, ...], list[str]] = {}
    for premise in _known_equations(problem):
        sides = premise.split("=")
        names = set(re.findall(r"[A-Za-z_][\w']*", premise))
        if len(sides) != 2 or len(names) != 1 or "<" in premise or ">" in premise:
            continue
        variable = names.pop()
        left, right = parse_polynomial(sides[0], variable), parse_polynomial(sides[1], variable)
        if left is None or right is None:
            continue
        difference = _add(left, right, -1)
        if not difference or max(difference) != MAX_DEGREE:
            continue
        key = tuple(difference.get(degree, Fraction(0)) / difference[MAX_DEGREE] for degree in (1, 0))
        if variable not in found.setdefault(key, []):
            found[key].append(variable)
    return found


def root_pairs(problem: ProofProblem) -> list[tuple[str, str, Polynomial]]:
    """Pairs of distinct variables `(u, v)` stated to be roots of one quadratic, with that quadratic."""
    quadratics = _defined_quadratics(problem)
    roots: dict[str, list[str]] = {}
    for match in _ROOT_PREMISE.finditer(problem.statement):
        function, variable = match.group(1), match.group(2)
        if function in quadratics and variable not in roots.setdefault(function, []):
            roots[function].append(variable)
    for index, ((linear, constant), variables) in enumerate(_equation_roots(problem).items()):
        name = f" equation {index}"
        quadratics[name] = {2: Fraction(1), 1: linear, 0: constant}
        roots[name] = variables
    distinct = {frozenset(pair) for pair in _DISTINCT.findall(problem.statement) if pair[0] != pair[1]}
    pairs = []
    for function, variables in roots.items():
        for i, u in enumerate(variables):
            for v in variables[i + 1 :]:
                if frozenset((u, v)) in distinct:
                    pairs.append((u, v, quadratics[function]))
    return pairs


def quadratic_root_facts(problem: ProofProblem) -> str | None:
    """The step asserting each root pair's sum and product, or None where the statement has no such pair."""
    pairs = root_pairs(problem)
    if not pairs:
        return None
    steps = []
    for u, v, polynomial in pairs:
        a, b, c = (polynomial.get(degree, Fraction(0)) for degree in (2, 1, 0))
        total, product = -b / a, c / a
        distinct = (
            f"let E := fresh in intro E; apply (Rminus_diag_uniq {u} {v}) in E; "
            f"match goal with H : {u} <> {v} |- _ => exact (H E) | H : {v} <> {u} |- _ => exact (H (eq_sym E)) end"
        )
        steps.append(
            f"assert ({u} + {v} = {_literal(total)}) by (apply (Rmult_eq_reg_l ({u} - {v})); [nra | {distinct}])"
        )
        steps.append(f"assert ({u} * {v} = {_literal(product)}) by nra")
    return "; ".join(steps) + "."


DENOMINATORS_NONZERO = (
    "unfold Rdiv in *; repeat match goal with |- context [/ ?d] => "
    "lazymatch goal with _ : d <> 0 |- _ => fail | _ => assert (d <> 0) by (let E := fresh in intro E; nra) end end."
)
"""Each denominator of the goal shown nonzero from the hypotheses (`a - 1 = 0` contradicts `p(a) = 0` when
`p(1) <> 0`), so `field_simplify_eq` can clear them."""
CLEAR_DENOMINATORS = "try (field_simplify_eq; [|repeat split; assumption ..])."
