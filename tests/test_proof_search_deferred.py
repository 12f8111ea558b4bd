"""Deferred automation: the expensive tactics run after every draft had the cheap ones.

A failing `hammer` spends its whole ATP budget on every goal it is asked about; in one pass it took most
of each failing sweep, so skeletons placed late were never reached within a problem's budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.proof_search import (
    AUTOMATION,
    AutomationTactic,
    BuiltinProposer,
    ProofSearch,
    SearchBudget,
    SearchResult,
)
from tests.proof_backends import sandbox_factory
from tools.proofs import CoqSession, ProofProblem, problem_from_text

SWAP = problem_from_text("proofs/swap", "Theorem swap (P Q : Prop) : P /\\ Q -> Q /\\ P.\n")
LIA = next(tactic for tactic in AUTOMATION if tactic.name == "lia")
TAUTO_LATER = AutomationTactic("tauto", "tauto", deferred=True)


def _search(tmp_path: Path, problem: ProofProblem, tactics: tuple[AutomationTactic, ...]) -> SearchResult:
    """The search over two drafts (the stated goal, and after `intros`) with `tactics`, in a real Coq session."""
    prover = CoqSession(tmp_path / "coq", sandbox_factory)
    try:
        proposer = BuiltinProposer(("automation", "intros"))
        return ProofSearch(problem, prover, SearchBudget(seconds=60), proposer=proposer, tactics=tactics).run()
    finally:
        prover.close()


def test_only_hammer_waits_for_the_second_pass() -> None:
    assert [tactic.name for tactic in AUTOMATION if tactic.deferred] == ["hammer"]


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_every_draft_gets_the_cheap_tactics_before_any_gets_a_deferred_one(tmp_path: Path) -> None:
    result = _search(tmp_path, SWAP, (LIA, TAUTO_LATER))
    assert result.solved, result.log
    assert "tauto." in result.source
    probes = [entry for entry in result.log if entry["kind"] == "probe"]
    first = [(entry["origin"], entry["ok"]) for entry in probes if not entry.get("deferred")]
    later = [(entry["origin"], entry["ok"], entry["winner"]) for entry in probes if entry.get("deferred")]
    # lia on each draft's hole, both failing; then tauto on the first of those goals, the statement's own.
    assert first == [("skeleton:automation", False), ("skeleton:intros", False)]
    assert later == [("skeleton:automation", True, "tauto")]
    assert probes.index(next(p for p in probes if p.get("deferred"))) == len(first)


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_without_a_deferred_tactic_the_first_draft_takes_the_whole_sweep(tmp_path: Path) -> None:
    result = _search(tmp_path, SWAP, (LIA, AutomationTactic("tauto", "tauto")))
    assert result.solved and result.origin == "skeleton:automation"
    probes = [entry for entry in result.log if entry["kind"] == "probe"]
    assert [(p["ok"], p["winner"]) for p in probes] == [(True, "tauto")]
    assert not any(p.get("deferred") for p in probes)


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_goal_no_tactic_closes_ends_the_search_once_both_passes_failed(tmp_path: Path) -> None:
    unprovable = problem_from_text("proofs/unprovable", "Theorem no (P Q : Prop) : P -> Q.\n")
    result = _search(tmp_path, unprovable, (LIA, TAUTO_LATER))
    assert not result.solved and result.stopped == "every draft failed"
    probes = [entry for entry in result.log if entry["kind"] == "probe"]
    assert [(bool(p.get("deferred")), p["ok"]) for p in probes] == [(False, False)] * 2 + [(True, False)] * 2
