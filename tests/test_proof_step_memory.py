"""The step memory: closing steps of accepted proofs, kept with their goals and offered to similar goals."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from agents import RunLauncher, RunOptions
from agents.proof_search import AUTOMATION, BuiltinProposer, ProofSearch, SearchBudget
from agents.proof_search._automation import RECALLED, RECALLED_WEIGHT, AutomationTactic, with_recalled
from agents.proof_search._driver import recalled_steps
from agents.proof_search._library import first_goal
from agents.proof_search._memory import EXCLUDE_ENV, MEMORY_ENV, RETRIEVE_ENV, ProofMemory, SplitFilter
from agents.proof_search._step_memory import (
    StepRecall,
    accepted_pairs,
    closing_tactic,
    record_pairs,
    state_features,
)
from runs import Budget, RunStore, TaskSpec
from tools import Catalog
from tools.proofs import CoqSession, ProofsWorkload, problem_from_text

SEPARATOR = "=" * 28
REAL_GOAL = f"goal 1:\nx, y : R\nh0 : x + y = 10\nh1 : x - y = 2\n{SEPARATOR}\nx * y = 24"
REAL_GOAL_LIKE = f"goal 1:\na, b : R\nk0 : a + b = 7\nk1 : a - b = 1\n{SEPARATOR}\na * b = 12"
NAT_GOAL = f"goal 1:\nn : nat\nH : n mod 2 = 1\n{SEPARATOR}\nn * n mod 2 = 1\n\ngoal 2:\n{SEPARATOR}\nTrue"
HEADER = "Require Import Arith Lia.\nDefinition double (n : nat) := n + n.\n\n"
DOUBLE_A = problem_from_text(
    "proofs/minif2f-valid/double_a", HEADER + "Theorem double_a : forall n : nat, double n = 2 * n.\n"
)
DOUBLE_B = problem_from_text(
    "proofs/minif2f-test/double_b", HEADER + "Theorem double_b : forall m : nat, double (m + 1) = 2 * m + 2.\n"
)


def test_a_goal_state_is_read_as_its_first_goal_with_types_hypotheses_and_constants() -> None:
    hypotheses, conclusion = first_goal(NAT_GOAL) or ([], "")
    assert hypotheses == ["n : nat", "H : n mod 2 = 1"] and conclusion == "n * n mod 2 = 1"
    features = state_features(REAL_GOAL)
    assert features["type:R"] == 2 and features["head:="] == 2 and features["op:times"] == 1
    assert features["hyp:="] == 2 and features["hops:plus"] == 0 and features["hop:plus"] == 1
    assert features["hyps:2"] == 1 and features["goals:1"] == 1
    nat = state_features(NAT_GOAL)
    assert nat["type:nat"] == 1 and nat["op:mod"] == 1 and nat["goals:2"] == 1
    assert state_features("No more goals.") == {} and first_goal("garbage") is None


def test_only_single_closing_sentences_are_kept() -> None:
    assert closing_tactic("nra.") == "nra."
    assert closing_tactic("field;  lra.") == "field; lra."
    assert closing_tactic("all: try (timeout 3 (sauto)).") == "sauto."
    assert closing_tactic("rewrite PeanoNat.Nat.add_comm; lia.") == "rewrite PeanoNat.Nat.add_comm; lia."
    for step in ("-", "+", "{", "}", "all: lia.", "admit.", "intros. lia.", "Qed.", "x" * 500 + "."):
        assert closing_tactic(step) is None, step


def test_only_probes_that_closed_a_goal_with_a_step_of_the_accepted_proof_are_kept() -> None:
    log = [
        {"kind": "probe", "ok": True, "tactic": "nra.", "goal": REAL_GOAL},
        {"kind": "probe", "ok": True, "tactic": "lia.", "goal": NAT_GOAL},  # not a step of the accepted proof
        {"kind": "probe", "ok": False, "tactic": "", "goal": REAL_GOAL_LIKE},
        {"kind": "check", "ok": True, "tactic": "nra.", "goal": REAL_GOAL_LIKE},
        {"kind": "probe", "ok": True, "tactic": "sauto.", "goal": NAT_GOAL},  # the bulk step's tactic
        {"kind": "probe", "ok": True, "tactic": "nra.", "goal": REAL_GOAL},  # the same pair again
        {"kind": "probe", "ok": True, "tactic": "ring.", "goal": "No more goals."},  # no goal shown
    ]
    steps = ("intros.", "nra.", "all: try (timeout 3 (sauto)).", "ring.")
    assert accepted_pairs(log, steps) == [(REAL_GOAL, "nra."), (NAT_GOAL, "sauto.")]


def test_recalled_tactics_go_first_known_ones_moved_new_ones_short_and_bounded() -> None:
    hammer = next(t for t in AUTOMATION if t.name == "hammer")
    sweep = tuple(t for t in AUTOMATION if not t.deferred)
    recalled = ("nra.", "hammer.", "field; lra.", "unfold f; lia.", "apply foo.", "nra.")
    tactics = with_recalled((*sweep, hammer), recalled)
    assert [t.name for t in tactics[:3]] == ["nra", RECALLED, RECALLED]
    assert [t.script for t in tactics[1:3]] == ["field; lra", "unfold f; lia"]
    assert all(t.weight == RECALLED_WEIGHT for t in tactics[1:3])
    assert "apply foo" not in {t.script for t in tactics}  # two new ones at most
    assert tactics[-1] == hammer and len(tactics) == len(sweep) + 3  # each tactic once, hammer in place
    assert with_recalled(sweep, ()) == sweep
    assert with_recalled((AutomationTactic("lia", "lia"),), (" ", ".")) == (AutomationTactic("lia", "lia"),)


def test_steps_are_stored_once_read_through_the_split_filter_and_ranked(tmp_path: Path) -> None:
    memory = ProofMemory(tmp_path / "memory")
    assert record_pairs(memory, DOUBLE_A, [(REAL_GOAL, "nra."), (NAT_GOAL, "nia.")], run_id="r1") == 2
    assert record_pairs(memory, DOUBLE_A, [(REAL_GOAL, "nra.")], run_id="r2") == 0
    assert memory.record_steps(DOUBLE_B, [(REAL_GOAL, {"head:=": 2}, "lra.")], split="test") == 1
    rows = memory.step_rows()
    assert [(row[1], row[3]) for row in rows] == [("user", "nra."), ("user", "nia."), ("test", "lra.")]
    assert [row[3] for row in memory.step_rows(SplitFilter(exclude=frozenset({"test"})))] == []  # no user rows
    assert [row[3] for row in memory.step_rows(SplitFilter(only=frozenset({"test"})))] == ["lra."]
    assert [row[3] for row in memory.step_rows(newest=2)] == ["nia.", "lra."]  # the newest, oldest first
    with sqlite3.connect(memory.path) as connection:  # a row this code did not write is skipped, not fatal
        connection.execute(
            "INSERT INTO steps (problem_id, split, goal, features, tactic, recorded_at) VALUES ('x', 'user', 'g', "
            "'{\"head:=\": \"two\"}', 'lia.', 0)"
        )
    assert [row[3] for row in memory.step_rows()] == ["nra.", "nia.", "lra."]
    recall = StepRecall.from_memory(memory, "proofs/other")
    assert recall.tactics(REAL_GOAL_LIKE)[0] == "nra."
    assert "nia." not in recall.tactics(REAL_GOAL_LIKE, limit=1)
    assert recall.tactics(NAT_GOAL)[0] == "nia."
    assert recall.tactics("No more goals.") == ()
    own_left_out = StepRecall.from_memory(memory, DOUBLE_A.id)  # never the problem's own steps
    assert [entry.tactic for entry in own_left_out.entries] == ["lra."]


def test_the_driver_reads_steps_through_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    memory = ProofMemory(tmp_path / "memory")
    memory.record_steps(DOUBLE_A, [(REAL_GOAL, dict(state_features(REAL_GOAL)), "nra.")], split="valid")
    memory.record_steps(DOUBLE_A, [(NAT_GOAL, dict(state_features(NAT_GOAL)), "nia.")], split="test")
    monkeypatch.setenv(MEMORY_ENV, str(memory.directory))
    monkeypatch.setenv(EXCLUDE_ENV, "test")
    recall = recalled_steps(DOUBLE_B)
    assert recall is not None and [entry.tactic for entry in recall.entries] == ["nra."]
    monkeypatch.setenv(RETRIEVE_ENV, "off")
    assert recalled_steps(DOUBLE_B) is None


def _search(prover: CoqSession, recall: StepRecall | None) -> tuple[bool, list[dict[str, object]]]:
    """A search too weak alone for `double_b`: automation and `intros` skeletons, `lia` only."""
    search = ProofSearch(
        DOUBLE_B,
        prover,
        SearchBudget(attempts=12, seconds=60),
        proposer=BuiltinProposer(("automation", "intros")),
        tactics=tuple(t for t in AUTOMATION if t.name == "lia"),
        library=False,
        recall_tactics=recall.tactics if recall is not None else None,
    )
    result = search.run()
    return result.solved, result.log


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_goal_is_closed_by_the_step_that_closed_a_similar_goal_of_another_proof(
    tmp_path: Path, coq_session: CoqSession
) -> None:
    solved, _ = _search(coq_session, None)
    assert solved is False
    # The goal `double_a`'s proof closed, as the search renders it, and the step that closed it.
    source = DOUBLE_A.theorem_file("Proof.\n  intros n.\n  unfold double; lia.\nQed.")
    state = coq_session.goal_at(source, source.index("unfold double"), timeout=30)
    assert state is not None
    memory = ProofMemory(tmp_path / "memory")
    record_pairs(memory, DOUBLE_A, [(state.render(), "unfold double; lia.")])
    solved, log = _search(coq_session, StepRecall.from_memory(memory, DOUBLE_B.id))
    assert solved is True
    won = [entry for entry in log if entry.get("kind") == "probe" and entry.get("recall_won")]
    assert won and won[0]["tactic"] == "unfold double; lia." and won[0]["winner"] == RECALLED


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_searched_proof_the_gate_accepted_leaves_its_closing_steps(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MEMORY_ENV, str(tmp_path / "memory"))
    catalog = Catalog([ProofsWorkload()])
    launcher = RunLauncher(RunStore(home), catalog)
    task = TaskSpec(
        id="proofs/add-comm",
        workload="proofs",
        params={
            "statement": "Theorem add_comm' : forall a b : nat, a + b = b + a.",
            "header": "Require Import Arith.",
            "seconds": 60,
        },
        gates=["proof-check"],
        budget=Budget(experiments=1, iterations=1),
    )
    summary = launcher.execute(launcher.submit(task, RunOptions(max_workers=1)))
    assert summary.accepted
    memory = ProofMemory(tmp_path / "memory")
    [entry] = memory.entries()
    rows = memory.step_rows()
    assert rows and all(problem_id == "proofs/add-comm" and split == "user" for problem_id, split, _, _ in rows)
    assert {tactic for *_, tactic in rows} <= {closing_tactic(step) for step in entry.steps}
    assert all(features.get("type:nat") or features.get("head:forall") for _, _, features, _ in rows)
