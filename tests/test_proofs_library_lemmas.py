"""Library lemmas for goals no automation closes: Coq's `Search` names them from the goal's constants.

Before, `rev (rev l) = l` (the standard library's `rev_involutive`) was not proved in 40 s: no automation
tactic finds a named lemma, and `hammer` needs 11 s of premise selection alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from agents.proof_search._automation import ToolCorrector
from agents.proof_search._library import goal_constants, lemma_names, lemma_probes, search_command
from agents.proof_search._script import ProofScript
from tests.conftest import agent
from tools.proofs import CheckResult, problem_from_text

REV_GOAL = "goal 1:\nA : Type\nl : list A\n" + "=" * 28 + "\nrev (rev l) = l"


def test_the_goals_constants_are_what_is_neither_local_nor_bound() -> None:
    assert goal_constants(REV_GOAL) == ["rev"]
    bound = (
        "goal 1:\nf : nat -> nat\nxs, ys : list nat\n"
        + "=" * 28
        + "\nforall n : nat, map f (xs ++ ys) = Nat.add n 0 :: nil"
    )
    assert goal_constants(bound) == ["map", "Nat.add", "nil"]
    second = REV_GOAL + "\n\ngoal 2:\n" + "=" * 28 + "\nlength l = 0"
    assert goal_constants(second) == ["rev"], "only the first goal is the step's"
    assert goal_constants("goal 1:\nx : Z\n" + "=" * 28 + "\nx * x >= 0") == []
    assert goal_constants("No more goals.") == []


def test_the_search_names_at_most_three_constants_and_reads_every_lemma_printed() -> None:
    assert search_command([]) is None
    assert search_command(["a", "b", "c", "d"]) == "Search a b c."
    printed = (
        "NoDup_rev: forall [A : Type] [l : list A], NoDup l -> NoDup (rev l)\n"
        "rev_involutive: forall [A : Type] (l : list A), rev (rev l) = l\n"
        "Exists_rev:\n  forall [A : Type] [P : A -> Prop] [l : list A],\n  Exists P l -> Exists P (rev l)\n"
        "Nat.add_0_r: forall n : nat, n + 0 = n\n"
    )
    assert lemma_names(printed) == ["NoDup_rev", "rev_involutive", "Exists_rev", "Nat.add_0_r"]
    probes = lemma_probes(["rev_involutive"], 1).splitlines()
    assert probes == [
        "Fail timeout 1 (solve [apply rev_involutive; auto | rewrite rev_involutive; auto "
        "| rewrite <- rev_involutive; auto | eauto using rev_involutive])."
    ]


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
@pytest.mark.parametrize(
    ("statement", "lemma"),
    [
        ("Theorem rev_rev : forall (A : Type) (l : list A), rev (rev l) = l.", "rev_involutive"),
        ("Theorem len_app : forall (l1 l2 : list nat), length (l1 ++ l2) = length l1 + length l2.", "app_length"),
    ],
)
def test_a_users_theorem_that_is_a_library_lemma_is_proved_with_it(
    home: Path, tmp_path: Path, statement: str, lemma: str
) -> None:
    task = tmp_path / "task.yaml"
    name = statement.split()[1]
    task.write_text(
        yaml.safe_dump(
            {
                "id": f"proofs/{name}",
                "workload": "proofs",
                "gates": ["proof-check"],
                "params": {
                    "header": "Require Import List.\nImport ListNotations.",
                    "statement": statement,
                    "seconds": 60,
                },
            }
        )
    )
    result = agent("run", str(task), "--json", home=home, timeout=300)
    summary = json.loads(result.stdout)
    assert summary["accepted"] == [name], result.stderr
    proof = (Path(summary["report"]).parent / "experiments" / name / "proof.v").read_text()
    assert lemma in proof and "Qed." in proof


class _Prover:
    """Answers the automation probe with no winner, the `Search` with two lemmas, their tries with none."""

    def __init__(self) -> None:
        self.sources: list[str] = []

    def check(self, source: str, *, timeout: float | None = None) -> CheckResult:
        self.sources.append(source)
        if source.rstrip().endswith("Search rev."):
            return CheckResult(ok=False, stdout="rev_involutive: forall l, rev (rev l) = l\nrev_length: x\n")
        return CheckResult(ok=False)


def test_the_library_steps_prover_runs_count_against_the_attempts() -> None:
    """Budgets are prover runs: the `Search` and the lemma tries are two more than the automation probe."""
    problem = problem_from_text(
        "proofs/rev", "Require Import List.\n\nTheorem rev_rev : forall l : list nat, rev (rev l) = l.\n"
    )
    prover = _Prover()
    corrector = ToolCorrector(prover, problem)  # type: ignore[arg-type]
    script = ProofScript(steps=("intros", "reflexivity"), origin="test")
    fix = corrector.fix(script, 1, goal=REV_GOAL)
    assert not fix.found and fix.checks == 3 and len(prover.sources) == 3
    assert "apply rev_involutive" in prover.sources[2] and "apply rev_length" in prover.sources[2]
    off = ToolCorrector(_Prover(), problem, library=False)  # type: ignore[arg-type]
    assert off.fix(script, 1, goal=REV_GOAL).checks == 1
