"""The targeted skeletons: offered only to statements of their shape; on real coqc each proves a
problem of its kind, accepted by the proof gate, and a bounded problem that every general skeleton
leaves unproved is proved by case analysis in the full search."""

from __future__ import annotations

import pytest

from agents.proof_search import SKELETONS, BuiltinProposer, ProofSearch, SearchBudget
from agents.proof_search._targeted import GUARDS
from tools.proofs import CoqProver, CoqSession, ProofProblem, problem_from_text
from verifiers.proofs import check_proof

NAT = "Require Import Arith.\n"
REALS = "Require Import Reals.\nOpen Scope R_scope.\n"
COMPLEX = "Require Import Reals.\nRequire Import Coquelicot.Coquelicot.\nOpen Scope C_scope.\n"
TARGETED = tuple(GUARDS)
"""Every skeleton offered only to statements of its shape (the rest are the general ones)."""
GENERAL = tuple(name for name, _ in SKELETONS if name not in TARGETED)


def problem(name: str, header: str, statement: str) -> ProofProblem:
    return problem_from_text(f"proofs/{name}", f"{header}\n{statement}\n")


# One problem per targeted skeleton (shapes from miniF2F's valid split).
CASES = {
    "bounded-cases": problem(
        "bounded", NAT, "Theorem bounded (x y : nat) (h0 : 0 < y) (h1 : y < x) (h2 : x + y + x * y = 80) : x = 26."
    ),
    "bounded-wide": problem(
        "wide",
        NAT,
        "Theorem wide (x y : nat) (h0 : x * y + x + y = 71) (h1 : x * x * y + x * y * y = 880) :\n"
        "  x * x + y * y = 146.",
    ),
    "bounded-cases-z": problem(
        "cube_sum",
        "Require Import ZArith.\nOpen Scope Z_scope.\n",
        "Theorem cube_sum (x y : Z) (h0 : -3 <= x <= 3) (h1 : 0 <= y < 5) (h2 : x * x * x + y * y = 24) : x = 2.",
    ),
    "residue-cases-z": problem(
        "sqmod3",
        "Require Import ZArith.\nOpen Scope Z_scope.\n",
        "Theorem sqmod3 (a : Z) : a ^ 2 mod 3 = 0 \\/ a ^ 2 mod 3 = 1.",
    ),
    "residue-cases-nat": problem(
        "sqmod3_nat", NAT, "Theorem sqmod3_nat (a : nat) : (a * a) mod 3 = 0 \\/ (a * a) mod 3 = 1."
    ),
    "pair-squares": problem("pair", REALS, "Theorem pair (x y : R) : 1 <= (x * y - 1) ^ 2 + (x + y) ^ 2."),
    "square-equations": problem(
        "sq_eq",
        REALS,
        "Theorem sq_eq : forall x y : R, (0 < x /\\ 0 < y) -> y <= x ->\n"
        "  sqrt (x * y) * (x - y) = (x + y) -> x + y >= 4.",
    ),
    "unfold-local": problem(
        "double_sum",
        NAT + "Definition double (n : nat) := n + n.\n",
        "Theorem double_sum (a b : nat) (h : double a = b) : b = 2 * a.",
    ),
    "sign-products": problem(
        "degree_three",
        REALS,
        "Theorem degree_three (a b c : R) (ha : 0 < a) (hb : 1 < b) (hc : 2 < c) : a < a * b * c.",
    ),
    "instantiate-nat": problem(
        "fibonacci_like",
        REALS,
        "Theorem fibonacci_like (s : nat -> R) (h0 : forall n : nat, s (S (S n)) = s (S n) + s n)\n"
        "  (h1 : s 9%nat = 110) (h2 : s 7%nat = 42) : s 4%nat = 10.",
    ),
    "ring-simplify-hyps": problem(
        "cube", REALS, "Theorem cube (x : R) (h : x ^ 3 - (x + 1) * (x - 1) * x = 5) : x ^ 3 = 125."
    ),
    "residue-split": problem(
        "cubes_mod3", NAT, "Theorem cubes_mod3 : forall n : nat, exists k : nat, n ^ 3 + 2 * n = 3 * k."
    ),
    "residue-split-z": problem(
        "residue_z",
        "Require Import ZArith.\nOpen Scope Z_scope.\n",
        "Theorem residue_z (x : Z) (h : x mod 6 = 5) : (x * x + 1) mod 6 = 2.",
    ),
    "induction-mod": problem("nines", NAT, "Theorem nines : forall n : nat, 0 < n -> Nat.divide 9 (10 ^ n - 1)."),
    "instantiate-real": problem(
        "coefficients",
        REALS,
        "Theorem coefficients (a b : R) (h0 : b <> 0)\n"
        "  (h1 : forall x : R, x ^ 2 + a * x + b = (x - a) * (x - b)) : a = 1 /\\ b = -2.",
    ),
    "induction-mod-keep": problem(
        "even_power", NAT, "Theorem even_power : forall n : nat, n <> 0 -> Nat.divide 2 (4 ^ n)."
    ),
    "power-mod": problem(
        "last_digit", "Require Import Coq.Arith.PeanoNat.\n", "Theorem last_digit : (17 ^ 2023 + 3 ^ 99) mod 10 = 0."
    ),
    "complex-parts": problem(
        "linear_c", COMPLEX, "Theorem linear_c (x y : C) (h0 : x + y = 5) (h1 : 3 * x + y = 1) : y = 7 /\\ x = -2."
    ),
    "cancel-factor": problem(
        "cancel_c", COMPLEX, "Theorem cancel_c (z w : C) (h0 : z * w = 2 * w) (h1 : w <> 0) : z = 2."
    ),
    "induction-recurrence": problem(
        "closed_form",
        NAT,
        "Theorem closed_form : forall n : nat, forall u : nat -> nat,\n"
        "  u 0 = 1 -> (forall n, u (n + 1) = 2 * u n + 1) -> u n = 2 ^ (n + 1) - 1.",
    ),
}


def origins(proposer: BuiltinProposer, target: ProofProblem | None) -> list[str]:
    return [draft.origin.removeprefix("skeleton:") for draft in proposer.drafts(target)]


def test_targeted_skeletons_are_offered_only_to_their_shape() -> None:
    offered = origins(BuiltinProposer(), CASES["bounded-cases"])
    assert {"bounded-cases", "bounded-wide"} <= set(offered)
    assert not {"sign-products", "ring-simplify-hyps", "instantiate-nat", "residue-cases-z"} & set(offered)
    assert set(GENERAL) <= set(offered)  # the general skeletons, in their order, are all still there
    reals = origins(BuiltinProposer(), CASES["instantiate-nat"])
    assert {"instantiate-nat", "ring-simplify-hyps", "sign-products"} <= set(reals)
    assert "residue-cases-z" in origins(BuiltinProposer(), CASES["residue-cases-z"])
    divisibility = ("residue-split", "residue-split-z", "induction-mod", "induction-mod-keep")
    powers = set(origins(BuiltinProposer(), CASES["induction-mod"]))
    assert {"residue-split", "induction-mod", "induction-mod-keep"} <= powers
    assert "residue-split-z" not in powers  # no integers in the statement
    integers = set(origins(BuiltinProposer(), CASES["residue-split-z"]))
    assert "residue-split-z" in integers and not {"induction-mod", "induction-mod-keep"} & integers
    assert not set(divisibility) & set(offered)  # `bounded`: neither a remainder nor a divisibility
    assert not set(divisibility) & set(origins(BuiltinProposer(), CASES["pair-squares"]))
    assert "instantiate-real" in origins(BuiltinProposer(), CASES["instantiate-real"])
    assert "instantiate-real" not in reals  # a recurrence in `n : nat` is `instantiate-nat`'s
    assert "power-mod" in origins(BuiltinProposer(), CASES["power-mod"])
    assert "power-mod" not in powers  # `10 ^ n`: the exponent is not a constant
    in_z = problem(
        "z_power", "Require Import ZArith.\nOpen Scope Z_scope.\n", "Theorem z_power : 5 ^ 2005 mod 100 = 25."
    )
    assert "power-mod" not in origins(BuiltinProposer(), in_z)  # integers are binary: computing suffices
    assert "complex-parts" in origins(BuiltinProposer(), CASES["complex-parts"])
    assert "complex-parts" not in reals and "complex-parts" not in offered  # no complex number in sight
    assert "cancel-factor" in origins(BuiltinProposer(), CASES["cancel-factor"])
    assert "cancel-factor" not in origins(BuiltinProposer(), CASES["complex-parts"])  # no disequality
    nonzero_real = problem(
        "nonzero_real", REALS, "Theorem nonzero_real (x y : R) (h : x * y = y) (h1 : y <> 0) : x = 1."
    )
    assert "cancel-factor" not in origins(BuiltinProposer(), nonzero_real)  # real numbers, not complex
    assert "induction-recurrence" in origins(BuiltinProposer(), CASES["induction-recurrence"])
    assert "induction-recurrence" not in reals  # `s 4 = 10`: the statement is not about every index


def test_unfold_local_names_the_headers_definitions() -> None:
    defined = problem(
        "double",
        NAT + "Definition double (n : nat) := n + n.\nFixpoint f (n : nat) := n.\n",
        "Theorem double_twice (n : nat) : double n = 2 * n.",
    )
    drafts = {draft.origin: draft for draft in BuiltinProposer(("unfold-local",)).drafts(defined)}
    assert list(drafts) == ["skeleton:unfold-local"]
    assert "try unfold double in *." in drafts["skeleton:unfold-local"].steps
    assert not list(BuiltinProposer(("unfold-local",)).drafts(CASES["bounded-cases"]))  # nothing to unfold
    assert not list(BuiltinProposer(("unfold-local",)).drafts(None))


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
@pytest.mark.parametrize("name", sorted(CASES))
def test_targeted_skeleton_proves_its_kind_and_the_gate_accepts(
    name: str, coq_session: CoqSession, coq_gate: CoqProver
) -> None:
    prove_with_skeleton(name, CASES[name], coq_session, coq_gate)


def prove_with_skeleton(name: str, target: ProofProblem, coq_session: CoqSession, coq_gate: CoqProver) -> None:
    """Skeleton `name` alone proves `target`, and the proof gate accepts the proof."""
    result = ProofSearch(target, coq_session, SearchBudget(seconds=90), proposer=BuiltinProposer((name,))).run()
    assert result.solved, result.stopped
    assert result.origin == f"skeleton:{name}"
    verdict = check_proof(target, result.source, coq_gate)
    assert verdict.decision == "accept", verdict.reasons


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_general_skeletons_leave_a_bounded_problem_that_case_analysis_proves(coq_session: CoqSession) -> None:
    target = CASES["bounded-cases"]
    general = ProofSearch(target, coq_session, SearchBudget(seconds=120), proposer=BuiltinProposer(GENERAL)).run()
    assert not general.solved and general.stopped == "every draft failed"
    result = ProofSearch(target, coq_session, SearchBudget(seconds=60)).run()
    assert result.solved and result.origin == "skeleton:bounded-cases"
