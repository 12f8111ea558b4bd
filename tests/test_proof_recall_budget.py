"""Scripts recalled from the proof memory share `recall_seconds` of the budget: a slow recalled script
cannot spend the time of the skeletons that would prove the goal. A scripted prover keeps this fast."""

from __future__ import annotations

import time

from agents.proof_search import BuiltinProposer, ProofSearch, SearchBudget
from agents.proof_search._script import ProofScript
from tools.proofs import CheckResult, GoalState, Prover, problem_from_text

PROBLEM = problem_from_text("proofs/demo", "Require Import Arith.\n\nTheorem demo (a : nat) : a + 0 = a.\n")
SLOW = "slow_recalled_step"
PLAIN = (("plain", ("reflexivity.",)),)
"""One skeleton with no hole: the scripted prover proves it in one check."""


class SlowRecallProver(Prover):
    """A check of a script holding `SLOW` runs out its timeout; any other script is proved."""

    name = "scripted"

    def __init__(self) -> None:
        self.timeouts: list[tuple[bool, float | None]] = []

    def check(self, source: str, *, timeout: float | None = None) -> CheckResult:
        slow = SLOW in source
        self.timeouts.append((slow, timeout))
        if slow:
            time.sleep(timeout or 0.0)
            return CheckResult(ok=False, timed_out=True)
        return CheckResult(ok=True)

    def goal_at(self, source: str, position: int, *, timeout: float | None = None) -> GoalState | None:
        return None

    def version(self) -> str:
        return "scripted 1.0"


def _recalled(count: int) -> list[ProofScript]:
    return [ProofScript((f"{SLOW} {n}.",), origin=f"memory:proofs/other{n}") for n in range(count)]


def _search(recall_seconds: float, count: int = 3) -> tuple[SlowRecallProver, ProofSearch]:
    prover = SlowRecallProver()
    budget = SearchBudget(attempts=48, seconds=30.0, recall_seconds=recall_seconds)
    proposer = BuiltinProposer(None, _recalled(count), PLAIN)
    return prover, ProofSearch(PROBLEM, prover, budget, proposer=proposer)


def test_slow_recalled_scripts_share_the_recall_budget_and_the_skeleton_still_proves() -> None:
    prover, search = _search(recall_seconds=1.2)
    started = time.monotonic()
    result = search.run()
    assert result.solved and result.origin == "skeleton:plain"
    recalled = [timeout for slow, timeout in prover.timeouts if slow]
    assert recalled and sum(t or 0.0 for t in recalled) <= 1.2 + 1e-6
    assert len(recalled) < 3  # the third never starts: under half a second of the recall budget is left
    assert time.monotonic() - started < 5.0
    assert any(entry.get("kind") == "recall" and entry["error"] == "recall budget spent" for entry in result.log)


def test_no_recall_budget_tries_no_recalled_script() -> None:
    prover, search = _search(recall_seconds=0.0)
    assert search.run().solved
    assert [slow for slow, _ in prover.timeouts] == [False]


def test_a_recalled_script_that_proves_the_goal_wins_first() -> None:
    prover = SlowRecallProver()
    fast = ProofScript(("reflexivity.",), origin="memory:proofs/other")
    search = ProofSearch(PROBLEM, prover, SearchBudget(), proposer=BuiltinProposer(None, [fast], PLAIN))
    result = search.run()
    assert result.solved and result.origin == "memory:proofs/other" and result.attempts == 1
    assert prover.timeouts[0][1] is not None and prover.timeouts[0][1] <= SearchBudget().recall_seconds
