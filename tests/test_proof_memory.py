"""The proof memory: accepted proofs recorded with their goal features, retrieved for similar goals,
adapted, tried before the skeletons, and never read from a split a benchmark excludes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents import RunLauncher, RunOptions
from agents.proof_search import AUTOMATION, BuiltinProposer, ProofScript, ProofSearch, SearchBudget
from agents.proof_search._driver import recalled
from agents.proof_search._memory import (
    EXCLUDE_ENV,
    MEMORY_ENV,
    ONLY_ENV,
    RETRIEVE_ENV,
    ProofMemory,
    SplitFilter,
    adapt,
    goal_features,
    hypothesis_names,
    memorable,
    split_of_problem,
)
from runs import Budget, RunStore, TaskSpec
from tools import Catalog
from tools.proofs import CoqSession, ProofProblem, ProofsWorkload, exclusion_reason, load_split, problem_from_text

REAL_SUM = problem_from_text(
    "proofs/minif2f-valid/real_sum",
    "Require Import Reals.\nOpen Scope R_scope.\n\n"
    "Theorem real_sum (x y : R) (h0 : x + y = 10) (h1 : x - y = 2) : x = 6.\n",
)
REAL_SUM_LIKE = problem_from_text(
    "proofs/minif2f-test/real_sum_like",
    "Require Import Reals.\nOpen Scope R_scope.\n\n"
    "Theorem real_sum_like (a b : R) (k0 : a + b = 7) (k1 : a - b = 1) : a = 4.\n",
)
NAT_MOD = problem_from_text(
    "proofs/minif2f-valid/nat_mod",
    "Require Import Arith.\n\nTheorem nat_mod : forall n : nat, n mod 2 = 1 -> (n * n) mod 2 = 1.\n",
)
DIVIDES = problem_from_text(
    "proofs/minif2f-valid/divides",
    "Require Import ZArith.\n\nTheorem divides : forall k : Z, (3 | 3 * k)%Z.\n",
)
HEADER = "Require Import Arith Lia.\nDefinition double (n : nat) := n + n.\n\n"
DOUBLE_A = problem_from_text(
    "proofs/minif2f-valid/double_a", HEADER + "Theorem double_a : forall n : nat, double n = 2 * n.\n"
)
DOUBLE_B = problem_from_text(
    "proofs/minif2f-test/double_b", HEADER + "Theorem double_b : forall m : nat, double (m + 1) = 2 * m + 2.\n"
)
UNFOLD = ProofScript(("intros.", "unfold double.", "lia."), origin="accepted")


@pytest.fixture
def memory(tmp_path: Path) -> ProofMemory:
    return ProofMemory(tmp_path / "proof-memory")


def test_features_name_types_head_operators_and_hypotheses() -> None:
    features = goal_features(REAL_SUM)
    assert features["type:R"] == 2 and features["scope:R"] == 1
    assert features["head:="] == 2 and features["hyp:="] == 2 and features["hyps:2"] == 1
    assert features["op:plus"] == 1 and features["op:minus"] == 1
    mod = goal_features(NAT_MOD)
    assert mod["type:nat"] == 1 and mod["op:mod"] == 2 and mod["hyp:="] == 1
    assert hypothesis_names(REAL_SUM) == ["h0", "h1"] and hypothesis_names(NAT_MOD) == []


def test_retrieval_ranks_the_similar_goal_first_and_adapts_hypothesis_names(memory: ProofMemory) -> None:
    memory.record(NAT_MOD, ProofScript(("intros.", "nia."), origin="accepted"))
    memory.record(REAL_SUM, ProofScript(("rewrite <- h0 in h1.", "lra."), origin="accepted"))
    memory.record(DIVIDES, ProofScript(("intros.", "exists k.", "ring."), origin="accepted"))
    ranked = memory.similar(REAL_SUM_LIKE, limit=3)
    assert ranked[0][1].problem_id == REAL_SUM.id
    assert ranked[0][0] > ranked[1][0]
    [first, *_] = memory.drafts(REAL_SUM_LIKE)
    assert first.steps == ("rewrite <- k0 in k1.", "lra.") and first.origin == f"memory:{REAL_SUM.id}"
    assert adapt(("apply h10.", "apply h1."), ["h1", "h10"], ["h10", "h1"]) == ("apply h1.", "apply h10.")
    assert not any(entry.problem_id == NAT_MOD.id for _, entry in memory.similar(NAT_MOD))  # never its own proof


def test_a_proof_is_recorded_once_with_its_problem_split_and_features(memory: ProofMemory) -> None:
    script = ProofScript(("intros.", "nia."), origin="accepted")
    assert memory.record(NAT_MOD, script, run_id="r1") is True
    assert memory.record(NAT_MOD, script, run_id="r2") is False
    [entry] = memory.entries()
    # Its id names the valid split, but no catalog problem states its goal: a user's problem.
    assert (entry.problem_id, entry.split, entry.steps) == (NAT_MOD.id, "user", ("intros.", "nia."))
    assert entry.features["op:mod"] == 2
    catalog = next(problem for problem in load_split("valid") if exclusion_reason("valid", problem.name) is None)
    memory.record(catalog, script)
    assert {e.problem_id: e.split for e in memory.entries()}[catalog.id] == "valid"


CHEAT_HEADER = "Require Import Arith.\nAxiom cheat : forall P : Prop, P.\n\n"


@pytest.mark.parametrize(
    "header",
    [
        CHEAT_HEADER,
        'Require Import Arith.\n#[local] Notation "x = y" := (x <> y) : type_scope.\n',
        "Require Import Arith Lia.\nLocal Ltac go := lia.\n",
        "Require Import Arith.\nGlobal Hint Resolve I : core.\n",
    ],
)
def test_a_proof_resting_on_a_header_of_its_own_is_not_kept(memory: ProofMemory, header: str) -> None:
    """A user's `Axiom cheat : forall P, P` made `apply cheat.` an accepted proof; kept, it was recalled for a
    catalog problem and, tried first on a small budget, turned its accept into a reject. Proofs under an
    assumption, a notation, a tactic or a hint of one's own header are kept for no one."""
    problem = problem_from_text("proofs/fermat", header + "Theorem fermat : forall n : nat, n + 1 = n.\n")
    assert not memorable(problem)
    assert memory.record(problem, ProofScript(("apply cheat.",), origin="accepted")) is False
    assert memory.record_steps(problem, [("n + 1 = n", {"head:eq": 1}, "apply cheat.")]) == 0
    assert memory.entries() == [] and memory.drafts(NAT_MOD) == []


def test_libraries_definitions_and_catalog_headers_keep_their_proofs(memory: ProofMemory) -> None:
    """Definitions (the `double` of `HEADER`) and lemmas with their proofs are the statement's own vocabulary;
    a catalog header that declares a `Parameter` and an `Axiom` (amc12a_2016_p3's floor) is the catalog's."""
    assert memorable(DOUBLE_A) and memory.record(DOUBLE_A, UNFOLD) is True
    assert all(memorable(problem) for split in ("valid", "test") for problem in load_split(split))


def test_a_catalog_goal_under_a_header_of_its_own_is_a_users_problem() -> None:
    """Its goal is the catalog's, but a definition it uses, changed, makes it another theorem: kept where a
    benchmark of that split would read it, its proof would be recalled for the catalog problem."""
    original = next(problem for problem in load_split("test") if "Definition" in problem.header)
    changed = problem_from_text(
        original.id, original.header.replace(":=", ":= 0 +", 1) + "\n" + original.statement + "\n"
    )
    assert (split_of_problem(original), split_of_problem(changed)) == ("test", "user")


def test_a_test_problem_posed_with_renamed_hypotheses_is_never_read_for_the_test_split(memory: ProofMemory) -> None:
    """A test problem's statement with one hypothesis renamed matches no catalog text: posed as a user task, or
    under a valid problem's id, it is kept as `user`, and a benchmark evaluating test reads no `user` entry,
    so the test problem's own proof is not recalled for it."""
    original = next(problem for problem in load_split("test") if "(h₀ :" in problem.statement)
    renamed_text = f"{original.header}\n{original.statement.replace('h₀', 'g₀')}\n"
    valid_id = next(problem.id for problem in load_split("valid"))
    script = ProofScript(("intros.", "lia."), origin="accepted")
    for posed_as in ("proofs/my-lemma", valid_id):
        memory.record(problem_from_text(posed_as, renamed_text), script)
    assert {entry.split for entry in memory.entries()} == {"user"}
    assert memory.drafts(original, splits=SplitFilter(exclude=frozenset({"test"}))) == []
    assert memory.drafts(original)  # outside a benchmark a user's proofs are there to be reused


def test_the_split_filter_keeps_the_evaluated_split_out(memory: ProofMemory, monkeypatch: pytest.MonkeyPatch) -> None:
    memory.record(DOUBLE_A, UNFOLD, split="valid")  # a valid proof
    memory.record(REAL_SUM_LIKE, ProofScript(("lra.",), origin="accepted"), split="test")  # a test proof
    memory.record(REAL_SUM, ProofScript(("lra.",), origin="accepted"), split="user")  # a user's proof
    assert {e.split for e in memory.entries(SplitFilter(exclude=frozenset({"test"})))} == {"valid"}
    assert {e.split for e in memory.entries(SplitFilter(only=frozenset({"test"})))} == {"test"}
    assert {e.split for e in memory.entries()} == {"valid", "test", "user"}
    only_test = memory.drafts(DOUBLE_B, splits=SplitFilter(only=frozenset({"test"})))
    assert all(draft.origin == f"memory:{REAL_SUM_LIKE.id}" for draft in only_test)
    # What the driver reads: the environment the bench sets.
    monkeypatch.setenv(MEMORY_ENV, str(memory.directory))
    monkeypatch.setenv(EXCLUDE_ENV, "valid")
    drafts, note = recalled(DOUBLE_B)
    assert all(d.origin != f"memory:{DOUBLE_A.id}" for d in drafts) and "splits excluded: valid" in note
    monkeypatch.delenv(EXCLUDE_ENV)
    monkeypatch.setenv(ONLY_ENV, "valid")
    drafts, note = recalled(DOUBLE_B)
    assert [d.origin for d in drafts] == [f"memory:{DOUBLE_A.id}"] and "only splits: valid" in note
    monkeypatch.setenv(RETRIEVE_ENV, "off")
    assert recalled(DOUBLE_B) == ([], "off")


def _search(problem: ProofProblem, prover: CoqSession, remembered: list[ProofScript]) -> bool:
    """A search too weak alone for `double_b`: automation and `intros` skeletons, `lia` only."""
    search = ProofSearch(
        problem,
        prover,
        SearchBudget(attempts=12, seconds=60),
        proposer=BuiltinProposer(("automation", "intros"), remembered),
        tactics=tuple(t for t in AUTOMATION if t.name == "lia"),
    )
    result = search.run()
    return result.solved and (not remembered or result.origin.startswith("memory:"))


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_problem_is_solved_only_thanks_to_another_problems_proof(
    memory: ProofMemory, coq_session: CoqSession
) -> None:
    assert _search(DOUBLE_B, coq_session, []) is False
    memory.record(DOUBLE_A, UNFOLD, split="valid")
    drafts = memory.drafts(DOUBLE_B, splits=SplitFilter(exclude=frozenset({"test"})))
    assert [d.origin for d in drafts] == [f"memory:{DOUBLE_A.id}"]
    assert _search(DOUBLE_B, coq_session, drafts) is True
    assert memory.drafts(DOUBLE_B, splits=SplitFilter(exclude=frozenset({"valid"}))) == []


STATEMENT = "Theorem zero_right : forall n : nat, n + 0 = n."


def _run(home: Path, proof: str) -> str:
    catalog = Catalog([ProofsWorkload()])
    launcher = RunLauncher(RunStore(home), catalog)
    task = TaskSpec(
        id="proofs/zero-right",
        workload="proofs",
        params={"statement": STATEMENT, "header": "Require Import Arith.", "proof": proof},
        gates=["proof-check"],
        budget=Budget(experiments=1, iterations=1),
    )
    summary = launcher.execute(launcher.submit(task, RunOptions(max_workers=1)))
    return "accept" if summary.accepted else "reject"


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_only_a_proof_the_gate_accepted_is_recorded(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    assert _run(home, "Proof.\n  intros n.\nAdmitted.") == "reject"
    memory = ProofMemory(home / "proof-memory")
    assert memory.entries() == []
    assert _run(home, "Proof.\n  intros n. rewrite <- plus_n_O. reflexivity.\nQed.") == "accept"
    [entry] = memory.entries()
    assert entry.problem_id == "proofs/zero-right" and entry.split == "user"
    assert entry.steps == ("intros n.", "rewrite <- plus_n_O.", "reflexivity.")
    assert entry.features["type:nat"] == 1 and entry.features["head:="] == 2
    assert json.loads(json.dumps(entry.features)) == entry.features


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_proof_file_changed_after_the_verdict_is_not_recorded(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The memory keeps the bytes the gate cited, not whatever `proof.v` holds when it is read."""
    from agents._context import RunContext
    from agents.proof_search._driver import remember
    from runs import ExperimentSpec

    monkeypatch.setenv(MEMORY_ENV, str(tmp_path / "memory"))
    assert _run(home, "Proof.\n  intros n. rewrite <- plus_n_O. reflexivity.\nQed.") == "accept"
    store = RunStore(home)
    [run] = store.list_runs()
    [experiment] = store.experiments(run.id)
    catalog = Catalog([ProofsWorkload()])
    task = TaskSpec.model_validate(run.spec)
    context = RunContext(
        store=store, run_id=run.id, task=task, workload=catalog.workload_for(task), sandbox_factory=lambda w: None
    )
    spec = ExperimentSpec(key=experiment.key, task_id=task.id, params=experiment.params)
    proof = context.experiment_dir(experiment.key) / "proof.v"
    judged = proof.read_text()
    monkeypatch.setenv(MEMORY_ENV, str(tmp_path / "fresh"))
    proof.write_text(judged.replace("reflexivity.", "lia."))
    assert remember(context, spec, "accept") is False
    assert ProofMemory(tmp_path / "fresh").entries() == []
    proof.write_text(judged)
    assert remember(context, spec, "accept") is True
