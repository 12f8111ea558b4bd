"""`power-roots`: natural unknowns fixed by a power equation (`(a 1) ^ 3 = 8` gives `a 1 = 2`).

`nia` cannot take a root: from `x ^ 3 = 343` it finds no bound on `x` it can use, and the bounded case
analyses give up on an unknown that is an application (`a 6`) rather than a variable. Injectivity of a power
in its base settles it in one step once the root is known, and the root of a numeral is arithmetic done here:
each equation `B ^ k = N` of the statement whose `N` is a perfect `k`-th power `r ^ k` becomes `B = r`, by
`Nat.pow_inj_l` with `r ^ k` computed, and is rewritten everywhere. Each fact is tried on its own (`try`): a
base that is not in the context after `intros` (bound inside a premise), or is not a natural number, leaves
the others standing.
"""

from __future__ import annotations

import math
import re

from tools.proofs import ProofProblem

ROOT_VALUE_LIMIT = 4999
"""Above this Coq keeps a `nat` numeral as its digits (`Nat.of_num_uint`), which `reflexivity` would not unfold."""

_BASE = r"(\((?:[^()]|\([^()]*\))*\)|[A-Za-z_][\w']*)"
_POWER_EQUATION = re.compile(rf"{_BASE}\s*\^\s*(\d+)\s*=\s*(\d+)(?![\w.])")
"""`B ^ k = N` with numerals `k` and `N`; `B` a name or a parenthesised term (`(a 1)`, `(f (n + 1))`)."""


def integer_root(value: int, exponent: int) -> int | None:
    """The natural number whose `exponent`-th power is `value`, or None when there is none."""
    root = round(math.pow(value, 1.0 / exponent))
    for candidate in (root - 1, root, root + 1):
        if candidate >= 0 and candidate**exponent == value:
            return candidate
    return None


def power_roots(problem: ProofProblem) -> str | None:
    """The step giving each power equation's base its root, or None when the statement has no such equation."""
    facts = []
    for base, exponent_text, value_text in dict.fromkeys(_POWER_EQUATION.findall(problem.statement)):
        exponent, value = int(exponent_text), int(value_text)
        root = integer_root(value, exponent) if exponent >= 2 and value <= ROOT_VALUE_LIMIT else None
        if root is None:
            continue
        facts.append(
            f'try (let E := fresh "E" in assert (E : ({base} = {root})%nat) by '
            f"(apply (PeanoNat.Nat.pow_inj_l {base} {root} {exponent}); "
            f"[discriminate | transitivity {value}%nat; [assumption | reflexivity]]); try rewrite E in *)"
        )
    return "; ".join(facts) + "." if facts else None
