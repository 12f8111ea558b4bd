"""A red-team pass on proof tasks: control prefixes (`Time`, `Timeout`, `Redirect`) hiding what a header sentence
declares, a statement whose analysis ran past the search's budget, `let` in a statement, and theorem names no
experiment key can be.

Coq runs `Time Notation ...` as `Notation ...`; every check that reads which command a sentence gives read
`Time` instead: a notation turning `1 + 1 = 3` into a true theorem went unmarked in the title, `Time Ltac` was
kept in the proof memory (and recalled first for unrelated goals), `Time Admitted` in a header was not refused
with the task and `Time Axiom` was not taken as the header's own assumption.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.proof_search import ProofMemory
from agents.proof_search._memory import MAX_ANALYSED_CHARS, analysable, goal_features, head_of, memorable
from agents.proof_search._proposer import BuiltinProposer
from agents.proof_search._script import ProofScript
from api._settings import Settings, build_catalog
from runs import TaskSpec, check_experiment_key
from tests.conftest import agent, within_seconds
from tools import TaskError
from tools.proofs import ProofsWorkload, Sentence, command_word, problem_from_text, strip_control
from verifiers.proofs._lint import lint_proof_file

PREFIXED = [
    ('Time Notation "x = y" := (x <> y) : type_scope.', "Notation"),
    ("Timeout 10 Ltac go := idtac.", "Ltac"),
    ('Redirect "out" Hint Resolve I : core.', "Hint"),
    ('Redirect "a""b" Time #[local] Axiom ax : False.', "Axiom"),
    ("#[local] Time Instance i : Inhabited nat := {}.", "Instance"),
    ("Time Admitted.", "Admitted"),
]


@pytest.mark.parametrize(("sentence", "command"), PREFIXED)
def test_the_command_of_a_sentence_is_read_past_its_control_prefixes(sentence: str, command: str) -> None:
    assert Sentence(sentence, 0, len(sentence)).first_word == command
    assert command_word(sentence).rstrip(".") == command
    assert strip_control("Timer x.") == "Timer x."  # a name starting like a prefix is no prefix


@pytest.fixture
def memory(tmp_path: Path) -> Iterator[ProofMemory]:
    yield ProofMemory(tmp_path / "memory")


@pytest.mark.parametrize(
    "header",
    [
        "Time Ltac go := exact I.\n",
        'Time Notation "x = y" := (x <> y) : type_scope.\n',
        "Timeout 5 Axiom ax : False.\n",
    ],
)
def test_a_header_of_its_own_behind_a_prefix_is_kept_for_no_one(memory: ProofMemory, header: str) -> None:
    problem = problem_from_text("proofs/mem-time", header + "Theorem t : True /\\ True -> True.\n")
    assert not memorable(problem)
    assert memory.record(problem, ProofScript(("intros _.", "go."), origin="accepted")) is False


def _user_task(header: str, statement: str) -> TaskSpec:
    return TaskSpec(
        id="proofs/prefixed",
        workload="proofs",
        gates=["proof-check"],
        params={"header": header, "statement": statement},
    )


def test_a_notation_behind_time_is_named_in_the_title_and_question(tmp_path: Path) -> None:
    workload = build_catalog(Settings(home=tmp_path)).workloads["proofs"]
    task = workload.titled(_user_task('Time Notation "x = y" := (x <> y) : type_scope.\n', "Theorem t : 1 + 1 = 3.\n"))
    assert task.title == "t: 1 + 1 = 3 (under notations of its own)"
    assert "read under the header's Time Notation" in (task.goal or "")


@pytest.mark.usefixtures("coq")
def test_a_header_admitted_behind_time_is_refused_with_the_task(tmp_path: Path) -> None:
    header = "Lemma helper : forall n : nat, n + 0 = n.\nProof.\nTime Admitted.\n"
    with pytest.raises(TaskError, match=r"admits a proof \(`Time Admitted.`\)"):
        ProofsWorkload().validate(_user_task(header, "Theorem t : 5 + 0 = 5.\n"))


@pytest.mark.usefixtures("coq")
def test_an_axiom_behind_time_is_the_headers_own_assumption(tmp_path: Path) -> None:
    task = tmp_path / "axiom.yaml"
    task.write_text(
        "id: proofs/timed-axiom\nworkload: proofs\ngates: [proof-check]\nparams:\n"
        "  header: 'Time Axiom ax : forall n : nat, n + 0 = n.'\n  statement: 'Theorem t : 5 + 0 = 5.'\n"
    )
    proof = tmp_path / "t.v"
    proof.write_text("Theorem t : 5 + 0 = 5.\nProof. exact (ax 5). Qed.\n")
    checked = agent("check", str(task), str(proof), home=tmp_path / "home")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "axioms: ax" in checked.stdout


# -- the built-in strategy's reading of a statement ---------------------------------------------------------------


def test_the_head_of_a_deeply_parenthesised_proposition_is_read_in_one_pass() -> None:
    """One pair of parentheses was peeled per pass over the whole text: 30 premises 12,000 deep kept a run busy
    for minutes before its search began, past its budget and its cancel."""
    with within_seconds(5):
        assert head_of("(" * 50_000 + "x = y" + ")" * 50_000) == "="
        assert head_of("((a + b)%Z < c)%Z") == "<"


def test_a_statement_too_long_to_analyse_is_searched_with_skeletons_as_written(memory: ProofMemory) -> None:
    """`forall a, a = a ->` 4,000 times (145 KB) kept `goal_features` busy for 54 s; every reading of the built-in
    strategy is bounded by `MAX_ANALYSED_CHARS` instead."""
    statement = "Theorem t : " + " ".join(f"forall a{i} : nat, a{i} = a{i} ->" for i in range(4000)) + " True.\n"
    problem = problem_from_text("proofs/long", statement)
    assert len(statement) > MAX_ANALYSED_CHARS and not analysable(problem) and not memorable(problem)
    started = time.monotonic()
    assert memory.similar(problem) == []
    drafts = list(BuiltinProposer(analyse=False).drafts(problem))
    assert drafts and time.monotonic() - started < 5
    assert goal_features(problem_from_text("proofs/short", "Theorem t : forall n : nat, n = n.\n"))


@pytest.mark.usefixtures("coq")
def test_a_long_statement_runs_within_its_budget(tmp_path: Path) -> None:
    """Through `agent run`: the run ends (its search spends its 10 s) instead of reading the statement first
    (coqc's own check of this statement, when the task is submitted, takes about 5 s of it)."""
    statement = "Theorem t : " + " ".join(f"forall a{i} : nat, a{i} = a{i} ->" for i in range(700)) + " False."
    task = tmp_path / "long.yaml"
    task.write_text(
        "id: proofs/long\nworkload: proofs\ngates: [proof-check]\nbudget: {experiments: 1}\n"
        f"params:\n  statement: '{statement}'\n  seconds: 10\n  attempts: 2\n"
    )
    started = time.monotonic()
    ran = agent("run", str(task), "--json", home=tmp_path / "home", timeout=240)
    assert ran.returncode in (0, 1), ran.stderr
    assert time.monotonic() - started < 60


# -- statements and names ------------------------------------------------------------------------------------------


def test_a_statement_with_a_let_is_a_theorem_whose_proof_follows() -> None:
    """The `:=` of `let y := 1 in` was read as the theorem's body, so no proof of it could be accepted."""
    problem = problem_from_text("proofs/let", "Theorem t : let y := 1 in y = 1.\n")
    report = lint_proof_file(problem, "Theorem t : let y := 1 in y = 1.\nProof. intros y. reflexivity. Qed.\n")
    assert report.ok, report.problems
    with_body = lint_proof_file(problem, "Theorem t : let y := 1 in y = 1 := eq_refl.\n")
    assert not with_body.ok


@pytest.mark.parametrize("name", ["_foo", "a" * 300, "a" * 300 + "b"])
def test_every_theorem_name_coq_allows_has_an_experiment_key(name: str) -> None:
    """`_foo` and a 300-character name were accepted with the task and every run of it failed on its key."""
    task = _user_task("", f"Theorem {name} : True.\n")
    [spec] = ProofsWorkload().plan(task)
    assert check_experiment_key(spec.key) == spec.key
    assert spec.key == name or spec.key.startswith("theorem-")


def test_two_long_names_keep_two_keys() -> None:
    keys = {ProofsWorkload().plan(_user_task("", f"Theorem {'a' * 300 + end} : True.\n"))[0].key for end in "bc"}
    assert len(keys) == 2
