"""The skeletons for remainders of powers (`residue-reduce`), computations on large natural numbers
(`closed-binary`), square roots of numbers (`sqrt-values`), integer parts (`floor-values`) and statements from a
lower bound on (`induction-from`): each is offered only to statements of its shape, on real coqc each proves a
statement of its kind (shapes from miniF2F's valid split, numbers changed) that the proof gate accepts, and none
proves the same statement with a wrong number."""

from __future__ import annotations

import pytest

from agents.proof_search import BuiltinProposer, ProofSearch, SearchBudget
from tests.test_proofs_skeletons import prove_with_skeleton
from tools.proofs import CoqProver, CoqSession, ProofProblem, problem_from_text

NAT = "Require Import Arith.\n"
LISTS = "Require Import Arith.\nRequire Import List.\n"
REALS = "Require Import Reals.\nOpen Scope R_scope.\n"
COQUELICOT = "Require Import Reals.\nRequire Import Coquelicot.Coquelicot.\nOpen Scope R_scope.\n"
NEW = ("residue-reduce", "closed-binary", "sqrt-values", "floor-values", "induction-from")


def problem(name: str, header: str, statement: str) -> ProofProblem:
    return problem_from_text(f"proofs/{name}", f"{header}\n{statement}\n")


def residues(value: int) -> ProofProblem:
    # x = 5 and y = 3 modulo 13: (7 ^ 2 * 7 ^ 3) mod 13 = 7 ^ 5 mod 13 = 11.
    return problem(
        "residue_powers",
        NAT,
        "Theorem residue_powers : forall x y : nat,\n  x mod 13 = 5 -> y mod 13 = 3 ->\n"
        f"  ((x + 2) ^ 2 * (y + 4) ^ 3) mod 13 = {value}.",
    )


def power_sum(value: int) -> ProofProblem:
    # 7 + 7 ^ 2 + ... + 7 ^ 10 = 329554456: far beyond unary arithmetic.
    return problem(
        "power_sum",
        LISTS,
        f"Theorem power_sum : (fold_right plus 0 (map (fun k => 7 ^ k) (seq 1 10))) mod 1000 = {value}.",
    )


def nested_roots(value: str) -> ProofProblem:
    # f 9 = 9 - 4 * 3 + 4 = 1 and f 1 = 1 - 4 + 4 = 1: the inner root is computed first, then the outer one.
    return problem(
        "nested_roots",
        REALS,
        f"Theorem nested_roots (f : R -> R) (h0 : forall x, f x = x - 4 * sqrt x + 4) : f (f 9) = {value}.",
    )


# sqrt 12 = 2 * sqrt 3, sqrt 75 = 5 * sqrt 3, sqrt 27 = 3 * sqrt 3: the radicand is 1 / 2 + 5 / 4 + 1 / 2 = 9 / 4.
ROOT_NUMERALS = problem(
    "root_numerals",
    REALS,
    "Theorem root_numerals : sqrt ((3 / sqrt 12 + sqrt 75 / 4 + sqrt 27 / 6) / sqrt 3) = 3 / 2.",
)


def roots_rounded_up(value: int) -> ProofProblem:
    # 7 < sqrt 50 < 8 and 6 < sqrt 48 < 7, so the two are rounded up to 8 and 7.
    return problem(
        "roots_rounded_up",
        REALS + "Require Import ZArith.\n",
        f"Theorem roots_rounded_up : Z.sub (up (sqrt 50)) (up (sqrt 48)) = {value}%Z.",
    )


# 7 / 3 * 10 = 23.33...: Coquelicot's floor, through `up`.
FLOOR = problem("floor_third", COQUELICOT, "Theorem floor_third : floor (7 / 3 * 10) = 23%Z.")


def powers_from(bound: int) -> ProofProblem:
    # n ^ 2 < 2 ^ n from n = 5 on (25 < 32); at n = 4 it fails (16 < 16).
    return problem(
        "powers_from",
        NAT,
        f"Theorem powers_from : forall n : nat, {bound} <= n -> n ^ 2 < 2 ^ n.",
    )


CASES = {
    "residue-reduce": residues(11),
    "closed-binary": power_sum(456),
    "sqrt-values": nested_roots("1"),
    "floor-values": roots_rounded_up(1),
    "induction-from": powers_from(5),
}
FALSE = {
    "residue-reduce": residues(12),
    "closed-binary": power_sum(457),
    "sqrt-values": nested_roots("2"),
    "floor-values": roots_rounded_up(0),
    "induction-from": powers_from(4),
}


def origins(target: ProofProblem) -> list[str]:
    return [draft.origin.removeprefix("skeleton:") for draft in BuiltinProposer().drafts(target)]


def test_new_skeletons_are_offered_only_to_their_shape() -> None:
    for name, target in CASES.items():
        assert name in origins(target), name
    # A computation on large numbers is tried before any automation sweep, which would compute it in unary.
    assert origins(CASES["closed-binary"])[0] == "closed-binary"
    # residue-reduce wants a power under the remainder; a linear residue is `mod-facts`' (lia does it better).
    linear = problem("linear_residue", NAT, "Theorem linear_residue (n : nat) : n mod 7 = 3 -> (2 * n + 1) mod 7 = 0.")
    assert "residue-reduce" not in origins(linear) and "mod-facts" in origins(linear)
    # Integers are binary already, and their `mod` is another operation.
    in_z = problem(
        "z_power", "Require Import ZArith.\nOpen Scope Z_scope.\n", "Theorem z_power : (2 ^ 100 + 3) mod 7 = 5."
    )
    assert not {"residue-reduce", "closed-binary"} & set(origins(in_z))
    # closed-binary wants no variable at all.
    assert "closed-binary" not in origins(CASES["residue-reduce"])
    # sqrt-values wants the reals and a root.
    assert "sqrt-values" not in origins(CASES["residue-reduce"])
    order = problem("order_only", REALS, "Theorem order_only (x : R) (h : 0 < x) : 0 < x * x.")
    assert "sqrt-values" not in origins(order)


def test_floor_values_is_offered_to_integer_parts_only() -> None:
    assert "floor-values" in origins(FLOOR)
    assert "floor-values" not in origins(CASES["sqrt-values"])  # roots, but no integer part
    steps = " ".join(next(BuiltinProposer(("floor-values",)).drafts(CASES["floor-values"])).steps)
    assert "7 <= sqrt 50 < 8" in steps and "6 <= sqrt 48 < 7" in steps
    assert "floor_ex" not in steps  # no Coquelicot floor in that statement


def test_induction_from_wants_a_bound_and_something_recursive() -> None:
    strict = problem("strict", NAT, "Theorem strict : forall n : nat, n > 3 -> n * n < 2 ^ n + fact n.")
    assert "induction-from" in origins(strict)
    unbounded = problem("unbounded", NAT, "Theorem unbounded : forall n : nat, n < 2 ^ n.")
    assert "induction-from" not in origins(unbounded)
    nothing_recursive = problem(
        "nothing_recursive", NAT, "Theorem nothing_recursive : forall x : nat, 0 < x -> x ^ 2 + 4 * x < 20 -> x < 3."
    )
    assert "induction-from" not in origins(nothing_recursive)


def test_sqrt_values_takes_square_factors_out_of_numerals() -> None:
    steps = next(BuiltinProposer(("sqrt-values",)).drafts(ROOT_NUMERALS)).steps
    taken_out = " ".join(steps)
    for written in ("sqrt 12 = 2 * sqrt 3", "sqrt 75 = 5 * sqrt 3", "sqrt 27 = 3 * sqrt 3"):
        assert written in taken_out
    assert "sqrt 3 =" not in taken_out  # no square factor: left as it is


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
@pytest.mark.parametrize("name", NEW)
def test_new_skeleton_proves_its_kind_and_the_gate_accepts(
    name: str, coq_session: CoqSession, coq_gate: CoqProver
) -> None:
    prove_with_skeleton(name, CASES[name], coq_session, coq_gate)


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_sqrt_values_squares_a_root_of_roots(coq_session: CoqSession, coq_gate: CoqProver) -> None:
    prove_with_skeleton("sqrt-values", ROOT_NUMERALS, coq_session, coq_gate)


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_floor_values_computes_coquelicots_floor(coq_session: CoqSession, coq_gate: CoqProver) -> None:
    prove_with_skeleton("floor-values", FLOOR, coq_session, coq_gate)


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
@pytest.mark.parametrize("name", NEW)
def test_new_skeleton_does_not_prove_a_wrong_number(name: str, coq_session: CoqSession) -> None:
    """The same statement with a wrong result: the skeleton's steps run, but nothing closes the goal."""
    result = ProofSearch(FALSE[name], coq_session, SearchBudget(seconds=40), proposer=BuiltinProposer((name,))).run()
    assert not result.solved, result.source
