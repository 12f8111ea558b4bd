"""How the proof search reads a statement's premises and conclusion, as Coq's grammar does: a binder's body runs
to the end of its expression (`exists a, P -> Q` is an existential of an implication), `<->` is not an arrow,
a `forall` after the premises binds more names and premises (what `intros` introduces), and a binder typed by a
type constructor (`list R`) is no hypothesis. Skeleton guards and the proof memory's features read this."""

from __future__ import annotations

import pytest

from agents.proof_search import BuiltinProposer, ProofSearch, SearchBudget
from agents.proof_search._memory import premises_and_conclusion, split_top
from tests.test_proof_skeletons_arith import origins, problem
from tests.test_proofs_skeletons import prove_with_skeleton
from tools.proofs import CoqProver, CoqSession

NAT = "Require Import Arith.\n"


def read(statement: str, header: str = NAT) -> tuple[list[str], list[str], str]:
    binders, premises, conclusion = premises_and_conclusion(problem("reader", header, statement))
    return [binder.name for binder in binders], premises, conclusion


def test_an_arrow_inside_an_existential_belongs_to_it() -> None:
    names, premises, conclusion = read(
        "Theorem reader : forall b : nat, b < 10 -> exists a : nat, 10 * b + 6 = a * a -> b = 3 \\/ b = 1."
    )
    assert names == ["b"] and premises == ["b < 10"]
    assert conclusion == "exists a : nat, 10 * b + 6 = a * a -> b = 3 \\/ b = 1"
    # A parenthesised existential ends at its parenthesis: the arrow after it is the statement's own.
    _, premises, conclusion = read("Theorem reader : forall n : nat, (exists k, n = 2 * k) -> n mod 2 = 0.")
    assert premises == ["(exists k, n = 2 * k)"] and conclusion == "n mod 2 = 0"
    # A binder after a conjunction runs to the end as well.
    _, premises, conclusion = read("Theorem reader : forall n : nat, n = 1 /\\ forall m, m < n -> m = 0.")
    assert premises == [] and conclusion == "n = 1 /\\ forall m, m < n -> m = 0"


def test_an_equivalence_is_not_an_arrow() -> None:
    assert split_top("a <-> b -> c", "->") == ["a <-> b", "c"]
    _, premises, conclusion = read(
        "Theorem reader : forall (f : nat -> nat), (forall n, f n = n) <-> (forall n, f (f n) = n /\\ f 0 = 0)."
    )
    assert premises == [] and conclusion.startswith("(forall n, f n = n) <->")


def test_a_forall_after_the_premises_binds_what_intros_introduces() -> None:
    names, premises, conclusion = read("Theorem reader : forall n : nat, 2 <= n -> forall k, k <= n -> k * k <= n * n.")
    assert names == ["n", "k"] and premises == ["2 <= n", "k <= n"] and conclusion == "k * k <= n * n"


def test_a_binder_of_a_type_constructor_is_no_hypothesis() -> None:
    header = NAT + "Require Import List.\n"
    _, premises, conclusion = read(
        "Theorem reader : forall (S : list nat) (o : option nat), NoDup S -> length S = 0 -> S = nil.", header
    )
    assert premises == ["NoDup S", "length S = 0"] and conclusion == "S = nil"


VACUOUS = problem(
    "vacuous_witness",
    NAT,
    "Theorem vacuous_witness : forall b : nat, b < 10 -> exists a : nat, 10 * b + 6 = a * a -> b = 3 \\/ b = 1.",
)
"""An existence claim of an implication: a witness making the premise false proves it (a = 0)."""
NESTED = problem(
    "nested_witnesses",
    NAT,
    "Theorem nested_witnesses : forall n : nat, 2 <= n -> exists x, x ^ 2 = n -> exists t, t ^ 3 = n -> 64 <= n.",
)
"""Two existentials of implications in turn: each witness's premise is introduced, the first one refuted (x = 0)."""
NO_WITNESS = problem(
    "no_witness", NAT, "Theorem no_witness : forall b : nat, b < 10 -> exists a : nat, 10 * b + 6 = a * a."
)
"""False (b = 0: 6 is no square): no witness may prove it."""
NO_NESTED_WITNESS = problem(
    "no_nested_witness",
    NAT,
    "Theorem no_nested_witness : forall n : nat, 2 <= n -> exists x, x ^ 2 = n /\\ (exists t, t ^ 3 = n -> 64 <= n).",
)
"""False (n = 2 is no square)."""


def test_witnesses_are_offered_to_an_existential_of_an_implication() -> None:
    assert all("witnesses" in origins(target) for target in (VACUOUS, NESTED, NO_WITNESS))


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_an_existential_of_an_implication_is_proved_by_a_witness(coq_session: CoqSession, coq_gate: CoqProver) -> None:
    prove_with_skeleton("witnesses", VACUOUS, coq_session, coq_gate)
    prove_with_skeleton("witnesses", NESTED, coq_session, coq_gate)


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_no_witness_proves_a_false_existence_claim(coq_session: CoqSession) -> None:
    for target in (NO_WITNESS, NO_NESTED_WITNESS):
        wrong = ProofSearch(target, coq_session, SearchBudget(seconds=30), proposer=BuiltinProposer(("witnesses",)))
        assert not wrong.run().solved, target.name
