"""Sequences given by their first terms and a recurrence, asked about at large indices: what `recurrence-values`
reads from a statement, which statements it is offered to, and on real coqc proofs the gate accepts (statements
written for these tests, values computed here by iterating the recurrence in Python)."""

from __future__ import annotations

import pytest

from agents.proof_search import BuiltinProposer, ProofSearch, SearchBudget
from agents.proof_search._recurrence_values import in_integers, index_offset, recurrence
from tests.test_proof_skeletons_more import origins, problem
from tests.test_proofs_skeletons import prove_with_skeleton
from tools.proofs import CoqProver, CoqSession, ProofProblem

NAT = "Require Import Arith.\n"
INTEGERS = "Require Import ZArith.\nOpen Scope Z_scope.\n"


def _terms(first: list[int], rule: object, count: int) -> list[int]:
    terms = list(first)
    while len(terms) < count:
        terms.append(rule(terms))  # type: ignore[operator]
    return terms


_ALTERNATING = _terms([3, 5], lambda t: t[-1] - t[-2], 2100)
_FIBONACCI = _terms([0, 1], lambda t: t[-1] + t[-2], 400)
_TRIBONACCI = _terms([1, 1, 2], lambda t: (t[-1] + 2 * t[-2] + t[-3]) % 11, 600)

# Period 6 (3, 5, 2, -3, -5, -2), which the draft never needs to know.
ALTERNATING = problem(
    "alternating",
    INTEGERS,
    "Theorem alternating : forall (x : nat -> Z),\n  x 0%nat = 3 -> x 1%nat = 5 ->\n"
    "  (forall n : nat, (n >= 2)%nat -> x n = x (n - 1)%nat - x (n - 2)%nat) ->\n"
    f"  x 1000%nat + x 2024%nat = {_ALTERNATING[1000] + _ALTERNATING[2024]}.",
)
# F(301) has 63 digits: computed in binary integers, never as a unary natural number.
FIBONACCI = problem(
    "fibonacci_mod",
    NAT,
    "Theorem fibonacci_mod (a : nat -> nat) (h0 : a 0 = 0) (h1 : a 1 = 1)\n"
    "  (h : forall n, a (S (S n)) = a (S n) + a n) :\n"
    f"  a 301 mod 7 = {_FIBONACCI[301] % 7}.",
)
TRIBONACCI = problem(
    "tribonacci_mod",
    NAT,
    "Theorem tribonacci_mod : forall t : nat -> nat,\n  t 0 = 1 /\\ t 1 = 1 /\\ t 2 = 2 ->\n"
    "  (forall n, t (n + 3) = (t (n + 2) + 2 * t (n + 1) + t n) mod 11) ->\n"
    f"  t 555 = {_TRIBONACCI[555]}.",
)
_SUMS = _terms([2, 3, 5], lambda t: t[-1] + t[-2] + t[-3], 1000)


def _parity(even: bool, odd: bool) -> str:
    return (
        "Theorem parity : forall p : nat -> nat,\n  p 0 = 2 -> p 1 = 3 -> p 2 = 5 ->\n"
        "  (forall n : nat, n >= 3 -> p n = p (n - 1) + p (n - 2) + p (n - 3)) ->\n"
        f"  Nat.even (p 700) = {str(even).lower()} /\\ Nat.odd (p 901) = {str(odd).lower()}."
    )


# Terms of about 270 digits asked only for their parity: read off the binary integers the draft computes.
PARITY = problem("parity", NAT, _parity(_SUMS[700] % 2 == 0, _SUMS[901] % 2 == 1))


def test_indices_are_read_as_offsets_of_the_rule_variable() -> None:
    assert index_offset("n", "n") == 0
    assert index_offset("(n - 1)%nat", "n") == -1
    assert index_offset("(S (S n))", "n") == 2
    assert index_offset("(n + 3)", "n") == 3
    assert index_offset("(2 + n)%nat", "n") == 2
    for other in ("(2 * n)", "(n - k)", "m", "(n + 1 + 1)", "(n / 2)"):
        assert index_offset(other, "n") is None, other


def test_natural_rules_are_written_in_integers_with_their_precedence() -> None:
    z = "BinInt.Z"
    assert in_integers("rv_t1 * rv_t2 + 3") == f"({z}.add ({z}.mul rv_t1 rv_t2) ({z}.of_nat 3))"
    assert in_integers("rv_t1 + rv_t2 * 3") == f"({z}.add rv_t1 ({z}.mul rv_t2 ({z}.of_nat 3)))"
    assert in_integers("rv_t1 ^ 2 ^ 3") == f"({z}.pow rv_t1 ({z}.pow ({z}.of_nat 2) ({z}.of_nat 3)))"
    assert in_integers("rv_t1 / 2 mod 5") == f"({z}.modulo ({z}.div rv_t1 ({z}.of_nat 2)) ({z}.of_nat 5))"
    # Truncated subtraction, other functions, unbalanced text: not the same in the integers, or not read.
    for other in ("rv_t2 - rv_t1", "Nat.pred rv_t1", "Nat.max rv_t1 rv_t2", "(rv_t1 + 1", "rv_t1 +", "n"):
        assert in_integers(other) is None, other


def test_the_window_and_the_rule_are_read_from_the_statement() -> None:
    alternating = recurrence(ALTERNATING)
    assert alternating is not None
    assert (alternating.type, alternating.order, alternating.first) == ("Z", 2, 0)
    assert alternating.values == ("3", "5") and alternating.indices == (1000, 2024)
    assert alternating.rule == "rv_t2 - rv_t1" and alternating.premises == 1
    fibonacci = recurrence(FIBONACCI)
    assert fibonacci is not None and (fibonacci.type, fibonacci.offset, fibonacci.premises) == ("nat", 2, 0)
    tribonacci = recurrence(TRIBONACCI)
    assert tribonacci is not None and tribonacci.order == 3 and tribonacci.values == ("1", "1", "2")
    # A natural rule is computed in binary integers, by full names (no `Z` scope needed in the header).
    z = "BinInt.Z"
    assert tribonacci.rule == (
        f"({z}.modulo ({z}.add ({z}.add rv_t3 ({z}.mul ({z}.of_nat 2) rv_t2)) rv_t1) ({z}.of_nat 11))"
    )


def test_offered_only_to_a_computable_sequence_with_its_first_terms() -> None:
    for target in (ALTERNATING, FIBONACCI, TRIBONACCI):
        assert "recurrence-values" in origins(target), target.name
    shapes = {
        # The rule uses the index itself (not a function of the window alone).
        "indexed": "(x : nat -> Z) (h0 : x 0%nat = 1) (h : forall n, x (S n) = x n + Z.of_nat n) : x 50%nat = 1226",
        # A first term missing from the window.
        "gap": "(x : nat -> Z) (h0 : x 0%nat = 1) (h : forall n, x (S (S n)) = x (S n) + x n) : x 50%nat = 1",
        # Rationals and reals are not computed by `=`.
        "rational": "(x : nat -> R) (h0 : x 0%nat = 1) (h : forall n, x (S n) = x n / 2) : x 50%nat = 1",
        # Truncated subtraction in `nat` differs from the integers'.
        "truncated": "(x : nat -> nat) (h0 : x 0 = 9) (h : forall n, x (S n) = x n - 1) : x 20 = 0",
        # Two rules (by parity): not one window.
        "two_rules": "(x : nat -> Z) (h0 : x 0%nat = 1) (h : forall n, x (S n) = x n + 1)\n"
        "  (h' : forall n, x (S n) = 2 * x n) : x 9%nat = 1",
        # An index beyond the unary numerals, or none at all.
        "far": "(x : nat -> Z) (h0 : x 0%nat = 1) (h : forall n, x (S n) = 2 * x n) : x 6000%nat = 1",
        "symbolic": "(x : nat -> Z) (k : nat) (h0 : x 0%nat = 1) (h : forall n, x (S n) = 2 * x n) : x k = 1",
    }
    for name, binders in shapes.items():
        target = problem(name, "Require Import ZArith Reals.\n", f"Theorem {name} {binders}.")
        assert recurrence(target) is None, name
        assert "recurrence-values" not in origins(target), name


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
@pytest.mark.parametrize("target", [ALTERNATING, FIBONACCI, TRIBONACCI, PARITY], ids=lambda target: target.name)
def test_recurrence_values_proves_and_the_gate_accepts(
    target: ProofProblem, coq_session: CoqSession, coq_gate: CoqProver
) -> None:
    prove_with_skeleton("recurrence-values", target, coq_session, coq_gate)


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_wrong_value_is_not_proved(coq_session: CoqSession) -> None:
    """The computed term is the sequence's own: one off in the conclusion and the draft fails."""
    wrong = problem(
        "fibonacci_wrong",
        NAT,
        FIBONACCI.statement.replace("fibonacci_mod", "fibonacci_wrong").replace(
            f"= {_FIBONACCI[301] % 7}.", f"= {(_FIBONACCI[301] + 1) % 7}."
        ),
    )
    assert recurrence(wrong) is not None
    result = ProofSearch(
        wrong, coq_session, SearchBudget(seconds=30), proposer=BuiltinProposer(("recurrence-values",))
    ).run()
    assert not result.solved


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_wrong_parity_is_not_proved(coq_session: CoqSession) -> None:
    wrong = problem("parity", NAT, _parity(_SUMS[700] % 2 == 0, _SUMS[901] % 2 == 0))
    assert recurrence(wrong) is not None
    result = ProofSearch(
        wrong, coq_session, SearchBudget(seconds=30), proposer=BuiltinProposer(("recurrence-values",))
    ).run()
    assert not result.solved
