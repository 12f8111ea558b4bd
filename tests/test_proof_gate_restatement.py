"""The proof gate judges the theorem as Coq reads the task's own statement, not only its restatement.

The gate restates a theorem as `forall binders, type` under the task's header. Each attack below was
accepted before its rule: a header that gives `Type` or `forall` a meaning of its own changes only that
restatement (the theorem itself never reads them), and the statement's normal form collapsed what Python
calls blanks, a no-break space (part of a name to Coq) and the inside of strings included. The candidate,
and in the second phase the compiled library, must now also match the theorem in the task's own words.
"""

from __future__ import annotations

import pytest

from tools.proofs import CoqProver, normalize, parse_statement, problem_from_text, strip_control
from verifiers.proofs import check_proof

NBSP = "\u00a0"

TYPE_AS_BOOL = problem_from_text(
    "proofs/type-notation",
    "Require Import Arith Bool.\n"
    "Coercion is_true (b : bool) : Prop := b = true.\n"
    'Notation "x ≈ y" := (x <> y) (at level 70) : type_scope.\n'
    'Notation "x ≈ y" := (Nat.eqb x y) (at level 70) : bool_scope.\n'
    "Notation \"'Type'\" := bool (only parsing).\n"
    "Theorem t : 0 ≈ 0.\n",
)
"""Coq reads the theorem as `0 <> 0`; the gate's `labgate_goal : Type := 0 ≈ 0` read `Type` as `bool`."""
TYPE_AS_BOOL_PROOF = (
    "Require Import Arith Bool.\nBind Scope bool_scope with Sortclass.\nTheorem t : 0 ≈ 0.\nProof. reflexivity. Qed.\n"
)

FORALL_REDEFINED = problem_from_text(
    "proofs/forall-notation",
    "Require Import Arith.\n"
    "Declare Scope my_scope.\n"
    'Notation "x = y" := (x = y \\/ True) : my_scope.\n'
    "Notation \"'forall' x , P\" := (forall x, P \\/ True) (at level 200, x binder, right associativity).\n"
    "Theorem t (n : nat) : n = n + 1.\n",
)
"""Coq reads `forall n, n = n + 1` (false); only the gate's restatement went through the `forall` notation."""
FORALL_REDEFINED_PROOF = (
    "Require Import Arith.\n"
    "Bind Scope my_scope with Sortclass.\n"
    "Theorem t (n : nat) : n = n + 1.\nProof. right. exact I. Qed.\n"
)


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
@pytest.mark.parametrize(
    ("problem", "proof"),
    [(TYPE_AS_BOOL, TYPE_AS_BOOL_PROOF), (FORALL_REDEFINED, FORALL_REDEFINED_PROOF)],
    ids=["Type as bool", "forall redefined"],
)
def test_a_header_notation_that_changes_only_the_restatement_is_caught(
    coq_gate: CoqProver, problem: object, proof: str
) -> None:
    verdict = check_proof(problem, proof, coq_gate)  # type: ignore[arg-type]
    assert verdict.decision == "reject", "a proof of a false theorem was accepted"
    assert any("does not have the task's statement" in reason for reason in verdict.reasons), verdict.reasons


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_an_honest_proof_under_a_header_with_notations_is_still_accepted(coq_gate: CoqProver) -> None:
    problem = problem_from_text(
        "proofs/double",
        "Require Import Arith.\n"
        'Notation "x ⊕ y" := (x + y) (at level 50, left associativity).\n'
        "Theorem double {A : Type} (l : list A) (n : nat) : n ⊕ n = 2 * n.\n",
    )
    proof = (
        "Require Import Arith.\nTheorem double {A : Type} (l : list A) (n : nat) : n ⊕ n = 2 * n.\nProof. lia. Qed.\n"
    )
    verdict = check_proof(problem, "Require Import Lia.\n" + proof, coq_gate)
    assert verdict.decision == "accept", verdict.reasons


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_no_break_space_in_a_statement_stays_part_of_a_name(coq_gate: CoqProver) -> None:
    problem = problem_from_text("proofs/all-equal", f"Theorem all_equal : forall n n{NBSP}: nat, n = n{NBSP}.\n")
    assert NBSP in problem.parsed.type  # `n` and `n\u00a0` are two variables: all naturals would be equal
    verdict = check_proof(problem, "Theorem all_equal : forall n n : nat, n = n.\nProof. auto. Qed.\n", coq_gate)
    assert verdict.decision == "reject"
    assert any("\\u00a0" in reason for reason in verdict.reasons), verdict.reasons  # the difference is shown


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_blanks_inside_a_string_of_the_statement_are_kept(coq_gate: CoqProver) -> None:
    header = "Require Import Coq.Strings.String.\nOpen Scope string_scope.\n"
    false = problem_from_text("proofs/len", header + 'Theorem len : String.length "a    b" = 3.\n')
    cheat = header + 'Theorem len : String.length "a b" = 3.\nProof. reflexivity. Qed.\n'
    assert check_proof(false, cheat, coq_gate).decision == "reject"
    true = problem_from_text("proofs/len", header + 'Theorem len : String.length "a    b" = 6.\n')
    honest = header + 'Theorem len : String.length "a    b" = 6.\nProof. reflexivity. Qed.\n'
    assert check_proof(true, honest, coq_gate).decision == "accept"


def test_the_normal_form_collapses_only_what_coq_skips() -> None:
    assert normalize('Theorem  t :\n\t"a  b" = (* c *) x.') == 'Theorem t : "a  b" = x.'
    assert normalize(f"n{NBSP} =  n") == f"n{NBSP} = n"
    assert normalize(f'"x""  y"   z{NBSP}') == f'"x""  y" z{NBSP}'
    assert (
        parse_statement(f"Theorem t : forall n n{NBSP}: nat, n = n{NBSP}.").type
        == f"forall n n{NBSP}: nat, n = n{NBSP}"
    )


def test_attribute_groups_and_control_prefixes_are_read_in_one_pass() -> None:
    """200,000 leading groups were copied once each (a 1 MB statement took 24 s to refuse); the reading
    itself is unchanged."""
    assert strip_control("#[a] " * 200_000 + "Time #[local] Timeout 5 Axiom x : True.") == "Axiom x : True."
    assert strip_control("  #[a] #[b Time") == "#[a] #[b Time"  # an unclosed group is left where it is
    assert strip_control('Redirect "f" #[local] Fail Notation "x" := 1.') == 'Notation "x" := 1.'
