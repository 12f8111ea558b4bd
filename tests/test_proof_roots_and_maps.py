"""Two distinct roots of a quadratic (their sum and product), functions given by a rule but used whole (a list's
map, a sum's terms), and leftover goals of a case split closed in bulk: the polynomial reader, which statements
each skeleton is offered to, and on real coqc proofs the gate accepts (statements written for these tests)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from agents.proof_search import HOLE, BuiltinProposer, ProofSearch, SearchBudget
from agents.proof_search._quadratic_roots import parse_polynomial, quadratic_root_facts, root_pairs
from tests.test_proof_skeletons_more import origins, problem
from tests.test_proofs_skeletons import prove_with_skeleton
from tools.proofs import CoqProver, CoqSession, ProofProblem
from verifiers.proofs import check_proof

NAT = "Require Import Arith List.\nImport ListNotations.\n"
REALS = "Require Import Reals.\nOpen Scope R_scope.\n"

# r + s = 5 and r * s = 3, so r ^ 2 + s ^ 2 = 25 - 6.
DEFINED_ROOTS = problem(
    "defined_roots",
    REALS,
    "Theorem defined_roots : forall (r s : R) (g : R -> R),\n  (forall t, g t = t ^ 2 - 5 * t + 3) ->\n"
    "  g r = 0 -> g s = 0 -> r <> s ->\n  r ^ 2 + s ^ 2 = 19.",
)
# The same roots stated as equations; the goal has denominators, nonzero because 0 is no root.
EQUATION_ROOTS = problem(
    "equation_roots",
    REALS,
    "Theorem equation_roots (r s : R) (h0 : r ^ 2 - 5 * r + 3 = 0) (h1 : 2 * s ^ 2 = 10 * s - 6)\n"
    "  (h2 : s <> r) :\n  1 / r + 1 / s = 5 / 3.",
)
MAPPED = problem(
    "mapped_rule",
    NAT,
    "Theorem mapped_rule : forall u : nat -> nat,\n  (forall n, n > 0 -> u n = 2 * n) ->\n"
    "  fold_right plus 0 (map u (seq 1 30)) = 930.",
)
SUMMED = problem(
    "summed_rule",
    REALS,
    "Theorem summed_rule (a : nat -> R) (h : forall k, a k = INR k / 2 + 1) :\n  sum_f_R0 a 4 = 10.",
)


def test_polynomials_are_read_with_numeric_coefficients_only() -> None:
    assert parse_polynomial("2 * x^2 - 7 * x + 2", "x") == {2: 2, 1: -7, 0: 2}
    assert parse_polynomial("-(x - 3) ^ 2 / 2 + 1", "x") == {2: Fraction(-1, 2), 1: 3, 0: Fraction(-7, 2)}
    assert parse_polynomial("x * (x + 1) - x ^ 2", "x") == {1: 1}
    for other in ("x * y", "1 / x", "x / 0", "x ^ n", "sqrt x", "x ^ 2 +", "(x + 1"):
        assert parse_polynomial(other, "x") is None, other


def test_root_pairs_need_one_quadratic_and_distinct_roots() -> None:
    assert [(u, v) for u, v, _ in root_pairs(DEFINED_ROOTS)] == [("r", "s")]
    assert [(u, v) for u, v, _ in root_pairs(EQUATION_ROOTS)] == [("r", "s")]
    facts = quadratic_root_facts(EQUATION_ROOTS)
    assert facts is not None and "r + s = (5)" in facts and "r * s = (3)" in facts
    # No `r <> s`: the two may be one root, and the sum is unknown.
    same = problem("maybe_same", REALS, "Theorem maybe_same (r s : R) (h0 : r ^ 2 = 4) (h1 : s ^ 2 = 4) : r * s <= 4.")
    assert root_pairs(same) == []
    # Different quadratics, a cubic, or a coefficient that is a variable: no pair.
    different = problem(
        "different",
        REALS,
        "Theorem different (r s : R) (h0 : r ^ 2 - 1 = 0) (h1 : s ^ 2 - 4 = 0) (h2 : r <> s) : r + s = 0.",
    )
    cubic = problem(
        "cubic",
        REALS,
        "Theorem cubic (f : R -> R) (r s : R) (h : forall x, f x = x ^ 3 - x) (h0 : f r = 0) (h1 : f s = 0)\n"
        "  (h2 : r <> s) : r + s = 0.",
    )
    symbolic = problem(
        "symbolic",
        REALS,
        "Theorem symbolic (f : R -> R) (k r s : R) (h : forall x, f x = x ^ 2 + k * x) (h0 : f r = 0)\n"
        "  (h1 : f s = 0) (h2 : r <> s) : r + s = - k.",
    )
    for target in (different, cubic, symbolic):
        assert root_pairs(target) == [] and "quadratic-roots" not in origins(target), target.name


def test_each_skeleton_is_offered_to_its_shape_only() -> None:
    assert "quadratic-roots" in origins(DEFINED_ROOTS) and "quadratic-roots" in origins(EQUATION_ROOTS)
    assert "map-defs" in origins(MAPPED) and "sum-defs" not in origins(MAPPED)
    assert "sum-defs" in origins(SUMMED) and "map-defs" not in origins(SUMMED)
    # A rule applied to its argument is `rewrite`'s business; a map of another function is not this one's.
    applied = problem("applied", NAT, "Theorem applied (u : nat -> nat) (h : forall n, u n = n + 1) : u 3 + u 4 = 9.")
    other = problem(
        "other",
        NAT,
        "Theorem other (u v : nat -> nat) (h : forall n, u n = n + 1) :\n  map v [1; 2] = map v [1; 2].",
    )
    for target in (applied, other):
        assert "map-defs" not in origins(target), target.name


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("quadratic-roots", DEFINED_ROOTS),
        ("quadratic-roots", EQUATION_ROOTS),
        ("map-defs", MAPPED),
        ("sum-defs", SUMMED),
    ],
    ids=["roots-of-a-function", "roots-of-equations", "map", "sum"],
)
def test_skeleton_proves_its_kind_and_the_gate_accepts(
    name: str, target: ProofProblem, coq_session: CoqSession, coq_gate: CoqProver
) -> None:
    prove_with_skeleton(name, target, coq_session, coq_gate)


def _cases(bound: int) -> str:
    """`destruct n` into `0 .. bound - 1` and the rest."""
    return "destruct n as " + "[|" * bound + "n" + "]" * bound + "."


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_leftover_goals_of_a_case_split_are_closed_in_bulk(coq_session: CoqSession, coq_gate: CoqProver) -> None:
    """Forty cases that one tactic closes cost a handful of prover runs, not three per case (which would spend
    the 48-run budget before the twentieth case)."""
    target = problem(
        "forty_cases",
        NAT,
        "Theorem forty_cases : forall n : nat, n < 40 -> n * n * n <> 2 * n * n + 7.",
    )
    draft = ("intros n H.", _cases(40), HOLE)
    proposer = BuiltinProposer(("cases",), skeletons=(("cases", draft),))
    result = ProofSearch(target, coq_session, SearchBudget(seconds=120), proposer=proposer).run()
    assert result.solved, result.stopped
    assert result.attempts <= 12, result.attempts
    assert "all: try (timeout" in result.source
    verdict = check_proof(target, result.source, coq_gate)
    assert verdict.decision == "accept", verdict.reasons
