"""The skeletons for gcd/lcm facts, conditional function definitions, natural numbers cast to the reals,
powers' remainders (in hypotheses, and in integers) and lower bounds shown value by value: each is offered only
to statements of its shape, and on real coqc each proves a statement of its kind (shapes from miniF2F's valid
split, numbers changed) that the proof gate accepts."""

from __future__ import annotations

import pytest

from agents.proof_search import BuiltinProposer, ProofSearch, SearchBudget
from tests.test_proofs_skeletons import prove_with_skeleton
from tools.proofs import CoqProver, CoqSession, ProofProblem, problem_from_text
from verifiers.proofs import check_proof

NAT = "Require Import Arith.\n"
REALS = "Require Import Reals.\nOpen Scope R_scope.\n"
NEW = ("gcd-lcm", "conditional-defs", "nat-casts")


def problem(name: str, header: str, statement: str) -> ProofProblem:
    return problem_from_text(f"proofs/{name}", f"{header}\n{statement}\n")


CASES = {
    # gcd 4 and lcm 60: m = 4a, n = 4b with a * b = 15, so m + n is 64 or 32.
    "gcd-lcm": problem(
        "gcd_lcm_sum",
        NAT,
        "Theorem gcd_lcm_sum : forall (m n : nat),\n  Nat.gcd m n = 4 ->\n  Nat.lcm m n = 60 ->\n  32 <= m + n.",
    ),
    # The inner application is rewritten first: `q 2 = 3`, then `p 3 = -7` (valid `mathd_algebra_35`).
    "conditional-defs": problem(
        "conditional_nested",
        REALS,
        "Theorem conditional_nested (p q : R -> R)\n  (h0 : forall x, p x = 2 - x^2)\n"
        "  (h1 : forall x, x <> 0 -> q x = 6 / x) :\n  p (q 2) = -7.",
    ),
    # A natural number seen through `IZR (Z.of_nat _)`, the goal an equation between natural numbers.
    "nat-casts": problem(
        "cast_equation",
        REALS,
        "Theorem cast_equation : forall x : nat,\n"
        "  (IZR (Z.of_nat x) + IZR (Z.of_nat x) / 4)%R = 50%R ->\n  x = 40%nat.",
    ),
}
CAST_QUOTIENT = problem(
    "cast_quotient",
    REALS,
    "Theorem cast_quotient (m a : nat) (h0 : (0 < m)%nat) (h1 : (0 < a)%nat)\n"
    "  (h2 : INR m / INR a = 2 / 3) :\n  (6 * INR m + 3 * INR a) / (INR m + INR a) = 21 / 5.",
)


def origins(target: ProofProblem) -> set[str]:
    return {draft.origin.removeprefix("skeleton:") for draft in BuiltinProposer().drafts(target)}


def test_new_skeletons_are_offered_only_to_their_shape() -> None:
    for name, target in CASES.items():
        assert name in origins(target), name
    assert "nat-casts" in origins(CAST_QUOTIENT)
    # gcd-lcm wants a premise about a gcd or an lcm, not a gcd to compute.
    computed = problem("gcd_value", NAT, "Theorem gcd_value : Nat.gcd 180 168 = 12.")
    assert not set(NEW) & origins(computed)
    # conditional-defs wants premises before the definition; an unconditional one is `rewrite-defs`'.
    plain = problem("plain_def", REALS, "Theorem plain_def (f : R -> R) (h : forall x, f x = 2 * x) : f 3 = 6.")
    assert "conditional-defs" not in origins(plain) and "rewrite-defs" in origins(plain)
    # A membership `In x S <-> f x = 0` is no premise of a definition.
    roots = problem(
        "roots",
        REALS,
        "Theorem roots (f : R -> R) (S : list R) (h : forall x, In x S <-> f x = 0) : f 0 = 0.",
    )
    assert "conditional-defs" not in origins(roots)
    # nat-casts wants a cast, and the reals loaded.
    no_cast = problem("no_cast", REALS, "Theorem no_cast (x : R) (h : 2 * x = 4) : x = 2.")
    assert "nat-casts" not in origins(no_cast)
    assert "nat-casts" not in origins(problem("nat_only", NAT, "Theorem nat_only (n : nat) (h : n = 2) : n + n = 4."))


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
@pytest.mark.parametrize("name", sorted(CASES))
def test_new_skeleton_proves_its_kind_and_the_gate_accepts(
    name: str, coq_session: CoqSession, coq_gate: CoqProver
) -> None:
    prove_with_skeleton(name, CASES[name], coq_session, coq_gate)


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_nat_casts_clears_denominators_known_positive_from_nat_facts(
    coq_session: CoqSession, coq_gate: CoqProver
) -> None:
    """`0 < m` in `nat` becomes `0 < INR m`, which the denominator `INR m + INR a` needs (the general skeletons
    leave this unproved: nothing tells them a cast is positive)."""
    general = ProofSearch(
        CAST_QUOTIENT,
        coq_session,
        SearchBudget(seconds=60),
        proposer=BuiltinProposer(("intros", "clear-denominators", "positive-denominators")),
    ).run()
    assert not general.solved
    result = ProofSearch(
        CAST_QUOTIENT, coq_session, SearchBudget(seconds=90), proposer=BuiltinProposer(("nat-casts",))
    ).run()
    assert result.solved and result.origin == "skeleton:nat-casts"
    assert check_proof(CAST_QUOTIENT, result.source, coq_gate).decision == "accept"


POWER_IN_HYPOTHESIS = problem(
    "power_digits",
    NAT,
    "Theorem power_digits : forall a b : nat,\n  a <= 9 -> b <= 9 ->\n  3 ^ 40 mod 100 = 10 * a + b ->\n  a + b = 1.",
)


def test_power_mod_comes_before_the_general_skeletons() -> None:
    """Automation on `3 ^ 40 mod 100` computes the power in unary; `power-mod` is tried first where it applies."""
    drafts = [draft.origin for draft in BuiltinProposer().drafts(POWER_IN_HYPOTHESIS)]
    assert drafts[0] == "skeleton:power-mod"
    assert "skeleton:power-mod" not in [draft.origin for draft in BuiltinProposer().drafts(CASES["gcd-lcm"])]


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_power_mod_reduces_a_remainder_in_a_hypothesis(coq_session: CoqSession, coq_gate: CoqProver) -> None:
    """The remainder is moved into the goal, reduced, brought back and computed (`10 * a + b = 1`), for `lia`;
    the lemmas' own names (`a`, `n`) do not clash with the statement's."""
    result = ProofSearch(
        POWER_IN_HYPOTHESIS, coq_session, SearchBudget(seconds=90), proposer=BuiltinProposer(("power-mod",))
    ).run()
    assert result.solved, result.stopped
    assert check_proof(POWER_IN_HYPOTHESIS, result.source, coq_gate).decision == "accept"


Z_POWER_GOAL = problem("z_last_two", "Require Import ZArith.\n", "Theorem z_last_two : (7 ^ 2024 mod 100 = 1)%Z.")
Z_POWER_IN_HYPOTHESIS = problem(
    "z_power_digits",
    "Require Import ZArith.\nOpen Scope Z_scope.\n",
    "Theorem z_power_digits : forall a b : Z,\n  0 <= a <= 9 -> 0 <= b <= 9 ->\n"
    "  (3 ^ 40) mod 100 = 10 * a + b ->\n  a + b = 1.",
)


def test_power_mod_z_is_offered_first_to_integer_powers_only() -> None:
    """Integers get the integer reduction, first; natural numbers keep `power-mod`."""
    for target in (Z_POWER_GOAL, Z_POWER_IN_HYPOTHESIS):
        assert next(draft.origin for draft in BuiltinProposer().drafts(target)) == "skeleton:power-mod-z"
    assert "power-mod-z" not in origins(POWER_IN_HYPOTHESIS)
    small = problem("z_small", "Require Import ZArith.\n", "Theorem z_small : (7 ^ 4 mod 100 = 1)%Z.")
    assert "power-mod-z" not in origins(small)


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
@pytest.mark.parametrize("target", [Z_POWER_GOAL, Z_POWER_IN_HYPOTHESIS], ids=["goal", "hypothesis"])
def test_power_mod_z_proves_integer_remainders_by_square_and_multiply(
    target: ProofProblem, coq_session: CoqSession, coq_gate: CoqProver
) -> None:
    """The script's own lemmas hold without `Z_scope` open (the first statement only delimits its own)."""
    prove_with_skeleton("power-mod-z", target, coq_session, coq_gate)


LEAST_INVERSE = problem(
    "least_inverse",
    "Require Import Coq.Init.Nat.\n",
    "Theorem least_inverse :\n  (17 * 11) mod 31 = 1 /\\\n  (forall x, (17 * x) mod 31 = 1 -> 11 <= x).",
)
LEAST_CRT = problem(
    "least_crt", NAT, "Theorem least_crt : forall n : nat,\n  n mod 4 = 3 /\\ n mod 5 = 4 ->\n  n >= 19."
)


def test_least_bound_is_offered_to_lower_bounds_on_natural_numbers() -> None:
    for target in (LEAST_INVERSE, LEAST_CRT):
        assert "least-bound" in origins(target)
    upper = problem("upper", NAT, "Theorem upper : forall n : nat, n mod 4 = 3 -> n <= 19.")
    real = problem("real_lower", REALS, "Theorem real_lower : forall x : R, x * x = 4 -> x >= 2 -> 2 <= x.")
    integer = problem(
        "z_lower", "Require Import ZArith.\n", "Theorem z_lower : forall x : Z, (x mod 4 = 3)%Z -> (3 <= x)%Z."
    )
    for target in (upper, real, integer):
        assert "least-bound" not in origins(target)


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
@pytest.mark.parametrize("target", [LEAST_INVERSE, LEAST_CRT], ids=["conjunction", "ge"])
def test_least_bound_refutes_every_smaller_value(
    target: ProofProblem, coq_session: CoqSession, coq_gate: CoqProver
) -> None:
    """Each value below the bound is refuted by computing the remainders (`lia` alone does not evaluate
    `(17 * 7) mod 31`: the general skeletons leave the first statement unproved); the proof gate accepts the result."""
    if target is LEAST_INVERSE:
        general = ProofSearch(
            target,
            coq_session,
            SearchBudget(seconds=30),
            proposer=BuiltinProposer(("intros", "mod-facts", "bounded-wide")),
        ).run()
        assert not general.solved
    prove_with_skeleton("least-bound", target, coq_session, coq_gate)


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_conditional_defs_places_pi_strictly_below_an_upper_bound(coq_session: CoqSession, coq_gate: CoqProver) -> None:
    """`PI < 7 / 2` (from the alternating series) selects the piece `0 <= x < 7 / 2` at `PI`; the library's
    `PI_4` says only `PI <= 4`."""
    target = problem(
        "piece_at_pi",
        REALS,
        "Theorem piece_at_pi (f : R -> R) (h0 : forall x, x < 0 -> f x = - x)\n"
        "  (h1 : forall x, 0 <= x -> x < 7 / 2 -> f x = 5) (h2 : forall x, x >= 7 / 2 -> f x = x) :\n"
        "  f PI = 5.",
    )
    prove_with_skeleton("conditional-defs", target, coq_session, coq_gate)
