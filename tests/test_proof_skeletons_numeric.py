"""Skeletons for statements whose numbers decide them: a closed program evaluated (`closed-compute`), unknowns
fixed by power equations (`power-roots`), existential conclusions given witnesses (`witnesses`), integers between
numerals enumerated with composite `prime`s refuted (`ranged-cases-z`), large natural numerals beside integers
with their quotients' identities (`binary-numerals-mod`); and a variable named like a number type (`C`) is the
variable. Each is offered only to its shape, proves a statement of its kind (shapes from miniF2F's test split,
numbers changed) that the proof gate accepts on real Coq, and does not prove the same statement with a wrong
number."""

from __future__ import annotations

import pytest

from agents.proof_search import BuiltinProposer, ProofSearch, SearchBudget
from agents.proof_search._power_roots import integer_root, power_roots
from tests.test_proof_skeletons_arith import origins, problem
from tests.test_proofs_skeletons import prove_with_skeleton
from tools.proofs import CoqProver, CoqSession, ProofProblem

NAT = "Require Import Arith.\n"
Z_PRIMES = "Require Import ZArith.\nRequire Import Znumtheory.\n"
MIXED = "Require Import Arith.\nRequire Import ZArith.\n"
LISTS = "Require Import Arith.\nRequire Import Bool.\nRequire Import List.\n"


def pair_count(value: int) -> ProofProblem:
    # Pairs (a, b), a in 1..5, b in 0..9, with a + b even and 10 a + b divisible by 3: 8 of them.
    return problem(
        "pair_count",
        LISTS + "Definition wanted '(a, b) : bool := Nat.even (a + b) && ((10 * a + b) mod 3 =? 0).\n",
        f"Theorem pair_count : length (filter wanted (list_prod (seq 1 5) (seq 0 10))) = {value}.",
    )


def cube_roots(value: int) -> ProofProblem:
    # a 0 = 7 and a 1 = 5: 7 * 5 + 5 ^ 2 = 60.
    return problem(
        "cube_roots",
        NAT,
        "Theorem cube_roots : forall a : nat -> nat,\n  (a 0) ^ 2 = 49 -> (a 1) ^ 3 = 125 ->\n"
        f"  (a 0) * (a 1) + (a 1) ^ 2 = {value}.",
    )


def composite_pair(value: int) -> ProofProblem:
    # p q - (p + q) = (p - 1)(q - 1) - 1; 225 = 15 * 15 is the only factoring within the range, p = q = 16, not
    # prime; at 255 = 16 * 16 - 1 the primes p = q = 17 make the statement false.
    return problem(
        "composite_pair",
        Z_PRIMES,
        "Theorem composite_pair (p q : Z) :\n  prime p -> prime q ->\n  (5 <= p <= 19)%Z -> (5 <= q <= 19)%Z ->\n"
        f"  (p * q - (p + q) <> {value})%Z.",
    )


def tenth_split(value: int) -> ProofProblem:
    # x = 10 k and y = x / 10 = k, so 11 k = 13200: x = 12000, y = 1200, x - y = 10800.
    return problem(
        "tenth_split",
        MIXED,
        "Theorem tenth_split : forall (x y : nat),\n  x + y = 13200 ->\n  (exists k, x = 10 * k)%nat ->\n"
        f"  (x / 10 = y)%nat ->\n  (Z.of_nat x - Z.of_nat y = {value})%Z.",
    )


def digit_sum(value: int) -> ProofProblem:
    # 2 (10000 A + 1000 B + 100 C) + 7 = 135607: the digits are 6, 7, 8. `C` is a variable, not the complex numbers.
    return problem(
        "digit_sum",
        NAT,
        "Theorem digit_sum :\n  forall (A B C : nat),\n  (A <= 9 /\\ B <= 9 /\\ C <= 9) ->\n"
        "  (10000 * A + 1000 * B + 100 * C) + (10000 * A + 1000 * B + 100 * C + 7) = 135607 ->\n"
        f"  A + B + C = {value}.",
    )


def successor_witness(rhs: str) -> ProofProblem:
    # m = S n and k = 2 (nat), then y = x + 1 (Z): witnesses from small numbers and the variables in scope.
    return problem(
        "successor_witness",
        "Require Import Arith.\nRequire Import ZArith.\n",
        "Theorem successor_witness : forall (n : nat) (x : Z), 1 < n ->\n"
        f"  (exists m, n < m /\\ exists k, m * k = {rhs}) /\\ (exists y : Z, (y - x = 1)%Z).",
    )


CASES = {
    "closed-compute": pair_count(8),
    "power-roots": cube_roots(60),
    "ranged-cases-z": composite_pair(224),
    "binary-numerals-mod": tenth_split(10800),
    "binary-numerals": digit_sum(21),
    "witnesses": successor_witness("2 * m"),
}
FALSE = {
    "closed-compute": pair_count(9),
    "power-roots": cube_roots(61),
    "ranged-cases-z": composite_pair(255),
    "binary-numerals-mod": tenth_split(10801),
    "binary-numerals": digit_sum(22),
    "witnesses": successor_witness("2 * m + 1"),
}


def test_each_skeleton_is_offered_to_its_shape_only() -> None:
    for name, target in CASES.items():
        assert name in origins(target), name
    # A closed program is evaluated before any sweep, which would reason about it unevaluated until its timeout.
    assert origins(CASES["closed-compute"])[0] == "closed-compute"
    # Variables, or the reals: nothing to evaluate.
    assert "closed-compute" not in origins(CASES["power-roots"])
    real = problem("real_closed", "Require Import Reals.\nOpen Scope R_scope.\n", "Theorem real_closed : 2 + 2 = 4.")
    assert "closed-compute" not in origins(real)
    # No numeral range, no enumeration; a range in nat is bounded-cases' business.
    assert "ranged-cases-z" not in origins(CASES["binary-numerals-mod"])
    # A power equation whose value is no perfect power fixes nothing.
    assert power_roots(problem("no_root", NAT, "Theorem no_root (x : nat) : x ^ 3 = 100 -> x < 5.")) is None
    # Witnesses are for an existence claim in the conclusion, not one among the premises.
    assert "witnesses" not in origins(CASES["binary-numerals-mod"])
    # A conjunction's `/\` is no quotient.
    assert "binary-numerals-mod" not in origins(CASES["binary-numerals"])


def test_a_variable_named_like_a_number_type_is_the_variable() -> None:
    """`(A B C : nat)` bound `C`: the statement is about natural numbers, and its large numerals get their values."""
    steps = " ".join(next(BuiltinProposer(("binary-numerals",)).drafts(CASES["binary-numerals"])).steps)
    assert "(10000 = 10 * 1000 + 0)%nat" in steps and "(135607 = 135 * 1000 + 607)%nat" in steps
    # The complex numbers themselves still count as foreign: no natural-number facts for them.
    complex_numbers = problem(
        "complex_big",
        "Require Import Reals.\nRequire Import Coquelicot.Coquelicot.\n",
        "Theorem complex_big (z : C) : Cmod z = 10000 -> Cmod (2 * z) = 20000.",
    )
    assert "binary-numerals" not in origins(complex_numbers)


def test_power_roots_gives_each_base_its_root() -> None:
    assert [integer_root(n, k) for n, k in ((343, 3), (49, 2), (50, 2), (0, 5), (1, 7), (4096, 12))] == [
        7,
        7,
        None,
        0,
        1,
        2,
    ]
    step = power_roots(CASES["power-roots"])
    assert step is not None and "((a 0) = 7)%nat" in step and "((a 1) = 5)%nat" in step


SLOW_TO_PROVE = ("ranged-cases-z", "binary-numerals-mod", "binary-numerals")
"""15-50 s each on two cores (225 cases; numerals built once in the machine): the slow lane's."""


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=pytest.mark.slow) if name in SLOW_TO_PROVE else name for name in CASES]
)
def test_skeleton_proves_its_kind_and_the_gate_accepts(name: str, coq_session: CoqSession, coq_gate: CoqProver) -> None:
    prove_with_skeleton(name, CASES[name], coq_session, coq_gate)


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
@pytest.mark.parametrize("name", list(FALSE))
def test_skeleton_does_not_prove_a_wrong_number(name: str, coq_session: CoqSession) -> None:
    """The same statement with a wrong number: the skeleton's steps run, but nothing closes the goal."""
    result = ProofSearch(FALSE[name], coq_session, SearchBudget(seconds=40), proposer=BuiltinProposer((name,))).run()
    assert not result.solved, result.source
