"""The skeletons for natural numerals Coq keeps as digits (`binary-numerals`), sines and cosines (`trig-facts`) and
unknowns solved to numbers and roots (`solve-roots`): each is offered only to statements of its shape, on real
coqc each proves a statement of its kind (shapes from miniF2F's valid split, numbers changed) that the proof gate
accepts and that the automation sweep alone does not, and none proves the same statement with a wrong number."""

from __future__ import annotations

import pytest

from agents.proof_search import BuiltinProposer, ProofSearch, SearchBudget
from agents.proof_search._targeted import BINARY_NUMERAL_LIMIT, binary_numerals
from tests.test_proof_skeletons_arith import NAT, REALS, origins, problem
from tests.test_proofs_skeletons import prove_with_skeleton
from tools.proofs import CoqProver, CoqSession, ProofProblem

NEW = ("binary-numerals", "binary-numerals-mod", "trig-facts", "solve-roots")


def large_linear(value: int) -> ProofProblem:
    # 127 * 384 + 19 = 48787: Coq reads 48787 as the digits of a number, which lia takes for an unknown.
    return problem("large_linear", NAT, f"Theorem large_linear (n : nat) : 127 * n + 19 = 48787 -> n = {value}.")


def large_remainder(value: int) -> ProofProblem:
    # n = 6000 q + 5999, so n + 1 = 6000 (q + 1).
    return problem(
        "large_remainder",
        NAT,
        f"Theorem large_remainder (n : nat) : n mod 6000 = 5999 -> (n + 1) mod 6000 = {value}.",
    )


def sine_amgm(bound: int) -> ProofProblem:
    # With y = x sin x > 0 (sin x > 0 on (0, PI)): 4 y ^ 2 + 4 - 8 y = 4 (y - 1) ^ 2 >= 0; y reaches 1, so 9 fails.
    return problem(
        "sine_amgm",
        REALS,
        f"Theorem sine_amgm (x : R) : 0 < x -> x < PI -> {bound} <= (4 * (x ^ 2 * sin x ^ 2) + 4) / (x * sin x).",
    )


def cube_of_root(factor: int) -> ProofProblem:
    # y = 1, so x ^ 2 = 3, x = sqrt 3 and x ^ 3 = 3 * sqrt 3.
    return problem(
        "cube_of_root",
        REALS,
        "Theorem cube_of_root (x y : R) : 0 < x /\\ 0 < y -> y ^ 3 = 1 -> 3 * x ^ 2 = 9 * y ^ 2 -> "
        f"x ^ 3 = {factor} * sqrt 3.",
    )


CASES = {
    "binary-numerals": large_linear(384),
    "binary-numerals-mod": large_remainder(0),
    "trig-facts": sine_amgm(8),
    "solve-roots": cube_of_root(3),
}
FALSE = {
    "binary-numerals": large_linear(385),
    "binary-numerals-mod": large_remainder(1),
    "trig-facts": sine_amgm(9),
    "solve-roots": cube_of_root(2),
}


def test_new_skeletons_are_offered_only_to_their_shape() -> None:
    for name, target in CASES.items():
        assert name in origins(target), name
    # Numerals Coq keeps as digits get their values before any automation sweep.
    assert origins(CASES["binary-numerals"]).index("binary-numerals") < origins(CASES["binary-numerals"]).index(
        "automation"
    )
    assert "binary-numerals-mod" not in origins(CASES["binary-numerals"])  # no remainder in sight
    small = problem("small_linear", NAT, "Theorem small_linear (n : nat) : 12 * n + 19 = 4987 -> n = 414.")
    assert not {"binary-numerals", "binary-numerals-mod"} & set(origins(small))  # Coq reads 4987 in unary
    in_z = problem(
        "z_linear",
        "Require Import ZArith.\nOpen Scope Z_scope.\n",
        "Theorem z_linear (n : Z) : 127 * n = 48768 -> n = 384.",
    )
    assert "binary-numerals" not in origins(in_z)  # integers are binary already
    assert "trig-facts" not in origins(CASES["solve-roots"]) and "solve-roots" not in origins(CASES["trig-facts"])
    assert not {"trig-facts", "solve-roots"} & set(origins(CASES["binary-numerals"]))


def test_binary_numerals_gives_each_large_numeral_its_value_once() -> None:
    target = problem(
        "two_numerals",
        NAT,
        f"Theorem two_numerals (n : nat) : n + 912673 = 1000000 + 5000 + 5000 -> n < {BINARY_NUMERAL_LIMIT + 1}.",
    )
    step = binary_numerals(target)
    for number, written in ((912673, "912 * 1000 + 673"), (1000000, "1000 * 1000 + 0"), (5000, "5 * 1000 + 0")):
        assert f"({number} = {written})%nat" in step
    assert step.count("(5000 =") == 1
    assert str(BINARY_NUMERAL_LIMIT + 1) not in step  # its unary form would be too large to build


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
@pytest.mark.parametrize("name", NEW)
def test_the_automation_sweep_alone_does_not_prove_it(name: str, coq_session: CoqSession) -> None:
    search = ProofSearch(CASES[name], coq_session, SearchBudget(seconds=60), proposer=BuiltinProposer(("automation",)))
    result = search.run()
    assert not result.solved, result.source


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
@pytest.mark.parametrize("name", NEW)
def test_new_skeleton_does_not_prove_a_wrong_number(name: str, coq_session: CoqSession) -> None:
    """The same statement with a wrong result: the skeleton's steps run, but nothing closes the goal."""
    result = ProofSearch(FALSE[name], coq_session, SearchBudget(seconds=40), proposer=BuiltinProposer((name,))).run()
    assert not result.solved, result.source
