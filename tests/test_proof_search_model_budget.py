"""The proof loop's use of the model is bounded: repeated drafts stop it, calls count against a budget,
and a spent token budget is reported. A prover that never proves keeps these fast (no Coq needed)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from agents.llm import Completion, LLMBudgetExceededError, LLMError, Message, Usage
from agents.proof_search import BuiltinProposer, ConjectureCorrector, ProofSearch, SearchBudget
from runs import RunStore
from tests.conftest import agent
from tests.llm_server import Reply, Rule, ScriptedLLMServer
from tools.proofs import CheckResult, GoalState, Prover, problem_from_text

PROBLEM = problem_from_text(
    "proofs/demo", "Require Import Arith.\n\nTheorem demo (a b : nat) (h : a < b) : a + 1 <= b.\n"
)


class NeverProves(Prover):
    """Every check fails as a whole (nothing to correct): each draft costs one prover run."""

    name = "never"

    def __init__(self) -> None:
        self.checked: list[str] = []

    def check(self, source: str, *, timeout: float | None = None) -> CheckResult:
        self.checked.append(source)
        return CheckResult(ok=False, failure="this prover proves nothing")

    def goal_at(self, source: str, position: int, *, timeout: float | None = None) -> GoalState | None:
        return None

    def version(self) -> str:
        return "never 1.0"


class Model:
    """Answers with `reply(call_number)`; raises what `reply` raises."""

    def __init__(self, reply: Any) -> None:
        self.reply = reply
        self.calls = 0
        self._usage = Usage()

    @property
    def model(self) -> str:
        return "scripted"

    @property
    def usage(self) -> Usage:
        return self._usage

    def complete(self, messages: Sequence[Message], **_: Any) -> Completion:
        self.calls += 1
        return Completion(text=self.reply(self.calls), model="scripted")

    def structured(self, messages: Sequence[Message], schema: type[BaseModel], **_: Any) -> BaseModel:
        raise LLMError("not used by the proof search")


def draft(body: str) -> str:
    return f"```coq\nProof.\n  {body}\nQed.\n```"


def search(model: Model, **budget: Any) -> ProofSearch:
    settings: dict[str, Any] = {"attempts": 500, "seconds": 60.0, "llm_backoff_seconds": 0.0, **budget}
    return ProofSearch(
        PROBLEM,
        NeverProves(),
        SearchBudget(**settings),
        proposer=BuiltinProposer(("automation", "intros")),
        conjecture=ConjectureCorrector(model, PROBLEM),  # type: ignore[arg-type]
    )


def test_the_same_draft_again_stops_the_model_after_a_few_replies() -> None:
    model = Model(lambda _: draft("lia."))
    result = search(model).run()
    assert model.calls == 4  # one draft, then three repeats in a row
    assert result.llm_calls == 4 and result.llm_stopped == "3 useless drafts in a row"
    repeats = [e for e in result.log if e.get("kind") == "llm" and e.get("error") == "the same draft again"]
    assert len(repeats) == 3
    assert not result.solved and result.stopped == "every draft failed"


def test_useless_replies_back_off_doubling() -> None:
    model = Model(lambda _: "I cannot help with that.")
    started = time.monotonic()
    result = search(model, llm_backoff_seconds=0.1).run()
    assert model.calls == 3
    assert time.monotonic() - started >= 0.1 + 0.2 + 0.4 - 0.05
    assert result.llm_stopped == "3 useless drafts in a row"


def test_model_calls_count_against_the_search_budget() -> None:
    model = Model(lambda n: draft(f"assert (H{n} : True) by trivial. lia."))
    result = search(model, llm_calls=5).run()
    assert model.calls == 5
    assert result.llm_stopped == "model call budget spent (5 calls)"
    # The built-in skeletons go on after the model stopped.
    stop = next(i for i, e in enumerate(result.log) if e.get("action") == "stop")
    assert any(e.get("origin") == "skeleton:intros" for e in result.log[stop:])


def test_a_spent_token_budget_is_reported_by_the_search() -> None:
    def reply(call: int) -> str:
        if call > 2:
            raise LLMBudgetExceededError("LLM token budget of 100 spent (120 tokens in 2 calls)")
        return draft(f"assert (H{call} : True) by trivial. lia.")

    model = Model(reply)
    result = search(model).run()
    assert model.calls == 3
    assert result.llm_stopped == "LLM token budget of 100 spent (120 tokens in 2 calls)"


@pytest.mark.parametrize("calls", [0])
def test_no_budget_for_the_model_means_it_is_never_asked(calls: int) -> None:
    model = Model(lambda _: draft("lia."))
    result = search(model, llm_calls=calls).run()
    assert model.calls == 0 and result.llm_stopped == "model call budget spent (0 calls)"


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_token_budget_spent_inside_a_proof_search_is_on_the_run_and_in_the_report(home: Path, tmp_path: Path) -> None:
    task = {
        "id": "proofs/gauss",
        "workload": "proofs",
        "params": {
            "header": "Require Import Arith.\n"
            "Fixpoint sum_to (n : nat) : nat := match n with 0 => 0 | S p => S p + sum_to p end.\n",
            "statement": "Theorem gauss : forall n : nat, 2 * sum_to n = n * (n + 1).",
            "skeletons": "automation",
            "seconds": 60,
        },
        "gates": ["proof-check"],
        "budget": {"llm_tokens": 500},
    }
    task_file = tmp_path / "gauss.json"
    task_file.write_text(json.dumps(task))
    wrong = "```coq\nProof.\n  intros n. simpl. reflexivity.\nQed.\n```"
    rules = [Rule("", [Reply(content=wrong, prompt_tokens=600, completion_tokens=20)])]
    with ScriptedLLMServer(rules) as server:
        env = {"LABGATE_LLM_BASE_URL": server.url, "LABGATE_LLM_MODEL": "scripted"}
        result = agent("run", str(task_file), "--json", home=home, env=env)
        calls = len(server.requests)
    summary = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    assert calls == 1  # the second call would pass the budget: never sent
    assert summary["status"] == "finished" and summary["accepted"] == []
    expected = "stopped early: gauss: stopped asking the model: LLM token budget of 500 spent (620 tokens in 1 calls)"
    assert summary["reason"] == expected
    assert f"- {expected}" in Path(summary["report"]).read_text()


def test_a_budget_note_past_the_runs_first_thousand_events_is_still_reported(store: RunStore) -> None:
    """The note is looked up among the run's budget events, not among its first page of events of any kind."""
    from agents._runner import _budget_note

    run = store.create_run(None, task_id="proofs/gauss")
    for index in range(1001):
        store.emit(run.id, "progress", f"step {index}")
    store.emit(run.id, "budget", "gauss: LLM token budget spent", {"experiment": "gauss"})
    assert _budget_note(store, run.id) == "stopped early: gauss: LLM token budget spent"
