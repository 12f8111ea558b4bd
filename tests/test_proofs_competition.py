"""Competition problems (miniF2F valid: AMC, AIME, IMO, algebra, number theory): the skeletons for logarithms,
denominators, cancelled factors, bounded exponents and periodic powers each prove a real problem of its kind on
coqc, the proof gate accepts it, and each is offered only to statements of its shape."""

from __future__ import annotations

import pytest

from agents.proof_search import BuiltinProposer, ProofSearch, SearchBudget
from agents.proof_search._targeted import applies, exponent_bounds, ln_numerals, power_period
from tools.proofs import CoqProver, CoqSession, ProofProblem, load_split, problem_from_text
from verifiers.proofs import check_proof

VALID = {problem.name: problem for problem in load_split("valid")}
# One valid problem per skeleton, each left unproved by the skeletons before these were added.
CASES = {
    "log-expand": "amc12b_2003_p17",
    "positive-denominators": "algebra_amgm_faxinrrp2msqrt2geq2mxm1div2x",
    "cancel-real": "amc12a_2013_p8",
    "exponent-bounds": "amc12b_2004_p3",
    "power-period": "imo_1964_p1_2",
}


def problem(name: str, header: str, statement: str) -> ProofProblem:
    return problem_from_text(f"proofs/{name}", f"{header}\n{statement}\n")


def test_each_skeleton_is_offered_to_its_case_and_refused_elsewhere() -> None:
    for name, case in CASES.items():
        assert applies(name, VALID[case]), (name, case)
    reals = VALID["algebra_sqineq_2unitcircatblt1"]  # a^2 + b^2 = 2 -> a * b <= 1: no ln, no division
    assert not applies("log-expand", reals)
    assert not applies("positive-denominators", reals)
    assert not applies("cancel-real", reals)
    naturals = VALID["amc12a_2015_p10"]  # x + y + x * y = 80 in nat: nothing real, no power
    assert not {name for name in CASES if applies(name, naturals)}
    # `10 ^ x * 100 ^ (2 * x) = 1000 ^ 5`: the numerals do not bound the powers, so no bound is derived.
    assert not applies("exponent-bounds", VALID["amc12a_2016_p2"])
    # `4 ^ n` is even: 4 and 2 share a factor, so the power has no period modulo 2.
    assert power_period(VALID["numbertheory_2dvd4expn"]) is None
    assert not list(BuiltinProposer(("power-period",)).drafts(VALID["numbertheory_2dvd4expn"]))


def test_a_full_library_name_loads_the_reals() -> None:
    """`Require Import Coq.Reals.Reals.` (30 miniF2F headers) is the reals as much as `Require Import Reals.`."""
    full = VALID["amc12a_2003_p24"]
    assert "Coq.Reals.Reals" in full.header
    assert applies("log-expand", full) and applies("sign-products", full)


def test_the_per_problem_steps_are_computed_from_the_statement() -> None:
    logs = problem("logs", "Require Import Reals.\nOpen Scope R_scope.\n", "Theorem logs : ln 512 = 9 * ln 2.")
    assert "replace (ln 512) with (INR 9 * ln 2)%R" in ln_numerals(logs)
    assert "replace (ln 2)" not in ln_numerals(logs)  # a prime is not rewritten
    twelve = problem("twelve", "Require Import Reals.\nOpen Scope R_scope.\n", "Theorem twelve : ln 12 > 0.")
    assert "(INR 2 * ln 2 + INR 1 * ln 3)%R" in ln_numerals(twelve)
    bounds = exponent_bounds(VALID["amc12b_2004_p3"])  # 2 ^ x * 3 ^ y = 1296
    assert "assert (x < 11)%nat" in bounds and "assert (y < 7)%nat" in bounds
    assert "Nat.pow 2 3" in (power_period(VALID["imo_1964_p1_2"]) or "")  # 2 has order 3 modulo 7


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
@pytest.mark.parametrize("name", sorted(CASES))
def test_competition_skeleton_proves_a_valid_problem_and_the_gate_accepts(
    name: str, coq_session: CoqSession, coq_gate: CoqProver
) -> None:
    target = VALID[CASES[name]]
    result = ProofSearch(target, coq_session, SearchBudget(seconds=90), proposer=BuiltinProposer((name,))).run()
    assert result.solved, result.stopped
    assert result.origin == f"skeleton:{name}"
    verdict = check_proof(target, result.source, coq_gate)
    assert verdict.decision == "accept", verdict.reasons
