"""The proof workload through the front doors: catalog, plans, `agent run`, `agent check` (alias `check-proof`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runs import TaskSpec
from tests.conftest import agent
from tests.llm_server import Reply, Rule, ScriptedLLMServer, message_text
from tools import Catalog, TaskError, apply_overrides
from tools.proofs import ProofsWorkload, excluded, load_split

QUICK_VALID = ["amc12_2001_p2", "amc12a_2009_p2", "mathd_algebra_190", "mathd_numbertheory_326"]


@pytest.fixture
def catalog() -> Catalog:
    return Catalog([ProofsWorkload()])


def test_catalog_has_both_sets_and_every_problem(catalog: Catalog) -> None:
    tasks = catalog.tasks()
    assert {"proofs/minif2f-valid", "proofs/minif2f-test"} <= set(tasks)
    for split in ("valid", "test"):
        for problem in load_split(split):
            assert f"proofs/minif2f-{split}/{problem.name}" in tasks
    assert "Excluded:" in tasks["proofs/minif2f-test"].goal and "mathd_algebra_302" in tasks["proofs/minif2f-test"].goal


def test_a_set_plans_one_experiment_per_usable_problem(catalog: Catalog) -> None:
    workload = ProofsWorkload()
    task = catalog.get("proofs/minif2f-valid")
    plans = workload.plan(task)
    dropped = {key.split("/", 1)[1] for key in excluded() if key.startswith("valid/")}
    assert len(plans) == 244 - len(dropped) == 236
    assert not dropped & {plan.key for plan in plans}
    assert task.budget.experiments >= len(plans)
    limited = apply_overrides(task, params=["limit=3"])
    assert [plan.key for plan in workload.plan(limited)] == [plan.key for plan in plans[:3]]
    chosen = apply_overrides(task, params=["problem=mathd_algebra_10,amc12a_2015_p10"])
    assert [plan.key for plan in workload.plan(chosen)] == ["mathd_algebra_10", "amc12a_2015_p10"]


def test_bad_proof_tasks_are_refused_with_the_reason(catalog: Catalog) -> None:
    with pytest.raises(TaskError, match=r"excluded: it does not compile on Coq 8\.16"):
        catalog.load("proofs/minif2f-test/mathd_algebra_302")
    task = catalog.get("proofs/minif2f-valid")
    with pytest.raises(TaskError, match="no problem 'nope'"):
        catalog.validate(apply_overrides(task, params=["problem=nope,mathd_algebra_10"]))
    with pytest.raises(TaskError, match="attempts"):
        catalog.validate(apply_overrides(task, params=["attempts=0"]))
    with pytest.raises(TaskError, match=r"needs params\.set"):
        catalog.validate(TaskSpec(id="proofs/x", workload="proofs"))
    with pytest.raises(TaskError, match="not a theorem statement"):
        catalog.validate(TaskSpec(id="proofs/x", workload="proofs", params={"statement": "Definition d := 1."}))


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_minif2f_problems_are_proved_and_accepted_end_to_end(home: Path) -> None:
    result = agent(
        "run",
        "proofs/minif2f-valid",
        "--param",
        "problem=" + ",".join(QUICK_VALID),
        "--param",
        "seconds=120",
        "--json",
        home=home,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "finished"
    assert sorted(summary["accepted"]) == sorted(QUICK_VALID)
    assert all(v["gate"] == "proof-check" and v["decision"] == "accept" for v in summary["verdicts"])
    proof = Path(summary["report"]).parent / "experiments" / QUICK_VALID[0] / "proof.v"
    assert "Qed." in proof.read_text()
    log = (proof.parent / "search-log.jsonl").read_text().splitlines()
    assert any(json.loads(line)["kind"] == "probe" for line in log)


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
@pytest.mark.slow
def test_check_proof_command(home: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.v"
    good.write_text(
        "Require Import Reals.\nOpen Scope R_scope.\nRequire Import Lra.\n\nTheorem mathd_algebra_10:\n"
        "  Rabs ((120 / 100) * 30 - (130 / 100) * 20) = 10.\nProof.\n  rewrite Rabs_pos_eq; lra.\nQed.\n"
    )
    accepted = agent("check-proof", "proofs/minif2f-valid/mathd_algebra_10", str(good), "--json", home=home)
    assert accepted.returncode == 0, accepted.stderr
    report = json.loads(accepted.stdout)
    assert report["decision"] == "accept" and report["workload"] == "proofs"
    [verdict] = report["verdicts"]
    assert verdict["gate"] == "proof-check" and verdict["decision"] == "accept"
    assert "ClassicalDedekindReals.sig_forall_dec" in verdict["reasons"][0]
    cheat = tmp_path / "cheat.v"
    cheat.write_text(good.read_text().replace("Qed.", "Admitted."))
    rejected = agent("check-proof", "proofs/minif2f-valid/mathd_algebra_10", str(cheat), home=home)
    assert rejected.returncode == 1
    assert "reject" in rejected.stdout and "Admitted" in rejected.stdout
    for args, message in (
        (("proofs/minif2f-valid", str(good)), "is a set of problems"),
        (("proofs/minif2f-valid/nope", str(good)), "unknown task"),
        (("proofs/minif2f-valid/mathd_algebra_10", str(tmp_path / "missing.v")), "missing.v"),
    ):
        bad = agent("check-proof", *args, home=home)
        assert bad.returncode == 2 and message in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_conjecture_correction_through_a_configured_llm_endpoint(home: Path, tmp_path: Path) -> None:
    task = {
        "id": "proofs/gauss",
        "workload": "proofs",
        "params": {
            "header": "Require Import Arith.\n"
            "Fixpoint sum_to (n : nat) : nat := match n with 0 => 0 | S p => S p + sum_to p end.\n",
            "statement": "Theorem gauss : forall n : nat, 2 * sum_to n = n * (n + 1).",
            "skeletons": "automation",
            "seconds": 150,
            "reply_tokens": 700,
        },
        "gates": ["proof-check"],
    }
    task_file = tmp_path / "gauss.json"
    task_file.write_text(json.dumps(task))
    wrong = "```coq\nProof.\n  intros n. simpl. reflexivity.\nQed.\n```"
    right = "```coq\nProof.\n  intros n. induction n as [|n IH].\n  - reflexivity.\n  - cbn [sum_to]. nia.\nQed.\n```"
    rules = [Rule("This proof fails", [Reply(content=right)]), Rule("Prove this theorem", [Reply(content=wrong)])]
    with ScriptedLLMServer(rules) as server:
        env = {"LABGATE_LLM_BASE_URL": server.url, "LABGATE_LLM_MODEL": "scripted", "OPENAI_API_KEY": "sk-never-leaks"}
        result = agent("run", str(task_file), "--json", home=home, env=env)
        texts = [message_text(request["body"]) for request in server.requests]
        caps = [request["body"].get("max_tokens") for request in server.requests]
    prompts = [text for text in texts if text.startswith("You write proofs for Coq")]  # not the write-up's
    assert [cap for text, cap in zip(texts, caps, strict=True) if text in prompts] == [700, 700]
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["accepted"] == ["gauss"], summary
    assert len(prompts) == 2 and "Prove this theorem" in prompts[0]
    assert "reflexivity" in prompts[1] and "sum_to" in prompts[1] and "====" in prompts[1]
    proof = (Path(summary["report"]).parent / "experiments" / "gauss" / "proof.v").read_text()
    assert "induction n" in proof
    leaked = "".join(p.read_text(errors="replace") for p in (home / "runs").rglob("*") if p.is_file())
    assert "sk-never-leaks" not in leaked


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
@pytest.mark.slow
def test_a_task_carrying_its_proof_is_checked_not_searched(home: Path, tmp_path: Path) -> None:
    base = {
        "workload": "proofs",
        "params": {"header": "Require Import Arith.\n", "statement": "Theorem two : 1 + 1 = 2."},
        "gates": ["proof-check"],
    }
    good = tmp_path / "good.yaml"
    good.write_text(
        json.dumps({**base, "id": "proofs/two", "params": {**base["params"], "proof": "Proof. reflexivity. Qed."}})
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        json.dumps({**base, "id": "proofs/two-bad", "params": {**base["params"], "proof": "Proof. Admitted."}})
    )
    accepted = json.loads(agent("run", str(good), "--json", home=home).stdout)
    assert accepted["accepted"] == ["two"]
    rejected = json.loads(agent("run", str(bad), "--json", home=home).stdout)
    assert rejected["accepted"] == [] and any("Admitted" in r for v in rejected["verdicts"] for r in v["reasons"])
