"""The correction loop on real coqc: tool correction, conjecture correction with a scripted model,
restarts, and crashes that must not stop a search."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from pydantic import BaseModel

from agents.llm import Completion, LLMError, Message, Usage
from agents.proof_search import (
    AUTOMATION,
    BuiltinProposer,
    ConjectureCorrector,
    ProofScript,
    ProofSearch,
    SearchBudget,
    ToolCorrector,
    script_from_text,
)
from tests.proof_backends import sandbox_factory
from tools.proofs import CoqProver, CoqSession, Prover, problem_from_text

pytestmark = [pytest.mark.slow, pytest.mark.coq, pytest.mark.usefixtures("coq", "bubblewrap")]

DEMO = problem_from_text("proofs/demo", "Require Import Arith.\n\nTheorem demo (a b : nat) (h : a < b) : a + 1 <= b.\n")
GAUSS = problem_from_text(
    "proofs/gauss",
    "Require Import Arith.\n"
    "Fixpoint sum_to (n : nat) : nat := match n with 0 => 0 | S p => S p + sum_to p end.\n\n"
    "Theorem gauss : forall n : nat, 2 * sum_to n = n * (n + 1).\n",
)
LIA_ONLY = tuple(tactic for tactic in AUTOMATION if tactic.name == "lia")
RIGHT = "```coq\nProof.\n  intros n. induction n as [|n IH].\n  - reflexivity.\n  - cbn [sum_to]. nia.\nQed.\n```"
WRONG = "Here is a proof:\n```coq\nProof.\n  intros n. simpl. reflexivity.\nQed.\n```"


@pytest.fixture
def prover(coq_session: CoqSession) -> CoqSession:
    """The search's default backend, a persistent session (the Coq backend tests cover both)."""
    return coq_session


class ScriptedModel:
    """A stand-in for a chat model: answers from a list, and keeps every prompt it was sent."""

    def __init__(self, answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.prompts: list[list[Message]] = []
        self._usage = Usage()

    @property
    def model(self) -> str:
        return "scripted"

    @property
    def usage(self) -> Usage:
        return self._usage

    def complete(
        self,
        messages: Sequence[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int = 2048,
        logprobs: bool = False,
        seed: int | None = None,
    ) -> Completion:
        self.prompts.append(list(messages))
        self._usage.calls += 1
        if not self.answers:
            raise LLMError("no more scripted answers")
        return Completion(text=self.answers.pop(0), model="scripted")

    def structured(
        self,
        messages: Sequence[Message],
        schema: type[BaseModel],
        *,
        temperature: float = 0.0,
        max_tokens: int = 2048,
        repair_attempts: int = 2,
    ) -> BaseModel:
        raise LLMError("not used by the proof search")


@pytest.mark.parametrize("kind", ["coqc", "session"])
def test_tool_correction_replaces_a_wrong_tactic(tmp_path: Path, kind: str) -> None:
    prover: Prover = (CoqProver if kind == "coqc" else CoqSession)(tmp_path / kind, sandbox_factory)
    script = ProofScript(("intros.", "reflexivity."))
    rendered = script.render(DEMO)
    result = prover.check(rendered.source)
    error = result.first_error
    assert error is not None and rendered.step_at(error.line, error.column) == 1
    fix = ToolCorrector(prover, DEMO).fix(script, 1)
    assert fix.tactic == "lia." and fix.name == "lia"
    assert prover.check(script.replace(1, fix.tactic).render(DEMO).source).ok
    prover.close()  # type: ignore[attr-defined]


def test_tool_correction_reports_when_no_tactic_closes_the_goal(prover: Prover) -> None:
    fix = ToolCorrector(prover, GAUSS, tactics=LIA_ONLY).fix(ProofScript(("intros n.", "reflexivity.")), 1)
    assert not fix.found and fix.prefix_ok


def test_search_repairs_a_draft_and_fills_goals_left_at_qed(prover: Prover) -> None:
    proposer = BuiltinProposer(("intros",))
    result = ProofSearch(DEMO, prover, SearchBudget(seconds=60), proposer=proposer).run()
    assert result.solved
    assert result.script is not None and result.script.steps[-1] in ("lia.", "nia.")
    assert prover.check(result.source).ok


def test_conjecture_correction_revises_from_error_and_goal(prover: Prover) -> None:
    model = ScriptedModel([WRONG, RIGHT])
    search = ProofSearch(
        GAUSS,
        prover,
        SearchBudget(seconds=90, restart_every=3),
        proposer=BuiltinProposer(("automation",)),
        conjecture=ConjectureCorrector(model, GAUSS),
        tactics=LIA_ONLY,
    )
    result = search.run()
    assert result.solved, result.log
    assert result.origin == "llm:revision"
    assert len(model.prompts) == 2
    revision = model.prompts[1][-1].content
    assert "reflexivity" in revision  # the failing step
    assert "sum_to" in revision and "====" in revision  # the goal at the failure
    assert "Unable to unify" in revision or "error" in revision.lower()


def test_restart_asks_for_a_fresh_draft(prover: Prover) -> None:
    model = ScriptedModel([WRONG, WRONG, RIGHT])
    search = ProofSearch(
        GAUSS,
        prover,
        SearchBudget(seconds=90, restart_every=1),
        proposer=BuiltinProposer(("automation",)),
        conjecture=ConjectureCorrector(model, GAUSS),
        tactics=LIA_ONLY,
    )
    result = search.run()
    assert result.solved
    kinds = [entry["action"] for entry in result.log if entry["kind"] == "llm"]
    assert kinds == ["draft", "revise", "draft"]
    assert result.origin == "llm:draft"


def test_model_failures_do_not_stop_the_builtin_search(prover: Prover) -> None:
    model = ScriptedModel([])
    search = ProofSearch(
        DEMO, prover, SearchBudget(seconds=60), conjecture=ConjectureCorrector(model, DEMO), tactics=LIA_ONLY
    )
    assert search.run().solved


def test_a_crashing_attempt_does_not_end_the_search(prover: Prover) -> None:
    crashing = "```coq\nProof.\n  exact " + "(" * 200_000 + "I" + ")" * 200_000 + ".\nQed.\n```"
    overflowing = (
        "```coq\nProof.\n  let x := eval vm_compute in (Nat.iter 3000000 S 0) in idtac.\n  reflexivity.\nQed.\n```"
    )
    model = ScriptedModel([crashing, overflowing, RIGHT])
    search = ProofSearch(
        GAUSS,
        prover,
        SearchBudget(seconds=120, restart_every=1),
        proposer=BuiltinProposer(()),
        conjecture=ConjectureCorrector(model, GAUSS),
        tactics=LIA_ONLY,
    )
    result = search.run()
    assert result.solved, result.log
    checks = [entry for entry in result.log if entry["kind"] == "check"]
    assert not checks[0]["ok"]
    assert checks[0]["diagnosis"] == "abandon" or "Stack overflow" in checks[0]["error"]
    assert sum("Stack overflow" in entry["error"] for entry in checks) >= 1


def test_scripts_from_model_answers() -> None:
    script = script_from_text(RIGHT, GAUSS)
    assert script is not None and script.steps[:2] == ("intros n.", "induction n as [|n IH].")
    whole = script_from_text("Theorem gauss : forall n, True.\nProof.\n- auto.\nQed.", GAUSS)
    assert whole is not None and whole.steps == ("-", "auto.")
    assert script_from_text("I cannot prove this.", GAUSS) is None
