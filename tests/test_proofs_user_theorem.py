"""A theorem of your own from a task file: the shipped examples, titles from the statement, bad statements, check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from runs import TaskSpec
from tests.conftest import agent
from tools import Catalog, TaskError
from tools.proofs import EXAMPLES_DIR, CoqConfig, ProofsWorkload, check_statement, statement_error

GAUSS = EXAMPLES_DIR / "gauss-sum.yaml"
REV = EXAMPLES_DIR / "rev-identity.yaml"
GAUSS_PROOF = """Require Import Arith.
Fixpoint sum_to (n : nat) : nat :=
  match n with
  | 0 => 0
  | S p => S p + sum_to p
  end.

Require Import Lia.

Theorem gauss_sum : forall n : nat, 2 * sum_to n = n * (n + 1).
Proof.
  induction n as [|n IH].
  - reflexivity.
  - simpl sum_to. lia.
Qed.
"""


@pytest.fixture
def catalog() -> Catalog:
    return Catalog([ProofsWorkload()])


def _task_file(folder: Path, name: str, data: dict[str, object]) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_examples_are_shipped_with_the_package_and_name_their_theorem(catalog: Catalog) -> None:
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert '"tools.proofs" = ["examples/*.yaml"' in pyproject
    task = catalog.load(str(GAUSS))
    assert task.id == "proofs/gauss-sum"
    assert task.title == "gauss_sum: forall n : nat, 2 * sum_to n = n * (n + 1)"
    assert "Prove gauss_sum" in task.goal and "sum_to" in task.goal and "miniF2F" not in task.goal
    assert [plan.key for plan in catalog.workload_for(task).plan(task)] == ["gauss_sum"]


def test_extending_a_minif2f_task_with_a_new_statement_does_not_keep_its_title(
    catalog: Catalog, tmp_path: Path
) -> None:
    base = catalog.get("proofs/minif2f-valid/mathd_algebra_10")
    assert "miniF2F" in base.title
    own = _task_file(
        tmp_path,
        "own.yaml",
        {
            "extends": base.id,
            "params": {"header": "Require Import Arith.\n", "statement": "Theorem two_plus_two : 2 + 2 = 4."},
        },
    )
    task = catalog.load(str(own))
    assert task.title == "two_plus_two: 2 + 2 = 4" and "miniF2F" not in task.title
    assert task.goal.startswith("Prove two_plus_two: 2 + 2 = 4") and "mathd_algebra_10" not in task.goal
    assert task.id == "proofs/two_plus_two" and task.extends == base.id
    assert "set" not in task.params and "problem" not in task.params
    titled = _task_file(
        tmp_path,
        "titled.yaml",
        {"extends": base.id, "title": "My sums", "params": {"statement": "Theorem t : 1 = 1."}},
    )
    assert catalog.load(str(titled)).title == "My sums"  # a title the file states is kept
    same = _task_file(tmp_path, "same.yaml", {"extends": base.id, "params": {"seconds": 5}})
    kept = catalog.load(str(same))
    assert kept.title == base.title and kept.id == base.id  # the same problem is still miniF2F's


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_statement_that_does_not_compile_is_bad_input_with_coqs_message(home: Path, tmp_path: Path) -> None:
    cases = [
        (
            {"header": "Require Import Arith.\n", "statement": "Theorem oops : forall n : nat,\n  n + 0 = nope n.\n"},
            "params.statement does not compile: line 2, characters 10-14: "
            "The reference nope was not found in the current environment.",
        ),
        (
            {"statement": "Theorem oops : forall n : nat, n + = n."},
            "params.statement does not compile: line 1, characters 35-36: Syntax error",
        ),
        (
            {"header": "Require Import Arith.\nRequire Import NoSuchLibrary.\n", "statement": "Theorem oops : 1 = 1."},
            "params.header does not compile: line 2, characters 0-29: "
            "Cannot find a physical path bound to logical path NoSuchLibrary.",
        ),
    ]
    for index, (params, message) in enumerate(cases):
        task = _task_file(
            tmp_path,
            f"bad{index}.yaml",
            {"id": "proofs/oops", "workload": "proofs", "gates": ["proof-check"], "params": params},
        )
        result = agent("run", str(task), home=home)
        assert result.returncode == 2, (result.stdout, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and message in lines[0], result.stderr
        assert "Traceback" not in result.stderr
    assert not list(home.glob("runs/*/experiments/*"))  # refused before any experiment ran


@pytest.mark.parametrize(
    "header",
    [
        "Lemma helper : forall n : nat, n + 0 = n.\nAdmitted.\n",
        "Lemma helper : 1 = 1.\nProof. admit. #[local] Admitted.\n",
        "Program Definition one : nat := _.\nAdmit Obligations.\n",
    ],
)
def test_a_header_that_admits_a_proof_is_bad_input(header: str) -> None:
    """coqchk refuses every proof in a file holding an admitted lemma (an axiom no one stated): such a task was
    accepted and then no proof of it could ever pass."""
    with pytest.raises(TaskError, match=r"params\.header admits a proof"):
        check_statement({"header": header, "statement": "Theorem easy : 0 = 0."}, "proofs/easy", CoqConfig())


@pytest.mark.parametrize(
    "header", ["Axiom magic : nat -> nat.\n", "Parameter c : nat.\nHypothesis hc : c = 1.\n", "Variable x : nat.\n"]
)
def test_a_headers_own_postulates_are_the_tasks_assumptions(header: str) -> None:
    """The gate allows the header's own top-level postulates: they are the statement's assumptions."""
    check_statement({"header": header, "statement": "Theorem easy : 0 = 0."}, "proofs/easy", CoqConfig())


def test_without_coq_here_the_statement_is_left_to_the_run() -> None:
    """No coqc on this host (a docker-only setup): the run's tools check reports it, not validation."""
    missing = CoqConfig(coqc="/nonexistent/coqc")
    assert statement_error("", "Theorem t : nope.", "Theorem t : nope.", missing) is None
    catalog = Catalog([ProofsWorkload(missing)])
    assert catalog.load(str(GAUSS)).id == "proofs/gauss-sum"
    unclosed = TaskSpec(id="proofs/x", workload="proofs", params={"statement": "Theorem t : True. (* open"})
    with pytest.raises(TaskError, match=r"params\.statement: a comment '\(\*' is never closed"):
        catalog.validate(unclosed)  # unreadable text is refused before any prover is asked


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_the_example_is_proved_end_to_end_and_the_report_names_the_theorem(home: Path) -> None:
    result = agent("run", str(GAUSS), "--param", "seconds=60", "--json", home=home)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "finished" and summary["accepted"] == ["gauss_sum"], summary
    report = Path(summary["report"]).read_text()
    title, _, rest = report.partition("\n")
    assert title.startswith("# gauss\\_sum: forall n : nat") and "miniF2F" not in report.split("## Plan")[0]
    assert "Prove gauss\\_sum" in rest.split("## Plan")[0]
    assert "Qed." in (Path(summary["report"]).parent / "experiments" / "gauss_sum" / "proof.v").read_text()


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_the_false_example_ends_not_proved(home: Path) -> None:
    result = agent("run", str(REV), "--json", home=home)
    summary = json.loads(result.stdout)
    assert summary["status"] == "finished", result.stderr
    assert summary["accepted"] == [] and summary["rejected"] == ["rev_is_identity"]
    report = Path(summary["report"]).read_text()
    assert report.startswith("# rev\\_is\\_identity: forall")
    assert "No experiment was accepted by every gate" in report


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_agent_check_judges_a_proof_of_a_users_theorem(home: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.v"
    good.write_text(GAUSS_PROOF)
    accepted = agent("check", str(GAUSS), str(good), "--json", home=home)
    assert accepted.returncode == 0, accepted.stderr
    report = json.loads(accepted.stdout)
    assert report["decision"] == "accept" and report["task"] == "proofs/gauss-sum"
    assert [verdict["decision"] for verdict in report["verdicts"]] == ["accept"]
    wrong = tmp_path / "wrong.v"
    wrong.write_text(GAUSS_PROOF.replace("  - simpl sum_to. lia.\n", "  - reflexivity.\n"))
    rejected = agent("check", str(GAUSS), str(wrong), "--json", home=home)
    assert rejected.returncode == 1
    verdict = json.loads(rejected.stdout)["verdicts"][0]
    assert verdict["decision"] == "reject" and "Coq rejects the proof" in " ".join(verdict["reasons"])
    weakened = tmp_path / "weakened.v"
    weakened.write_text(
        GAUSS_PROOF.replace("2 * sum_to n = n * (n + 1)", "sum_to n = sum_to n").replace(
            "  induction n as [|n IH].\n  - reflexivity.\n  - simpl sum_to. lia.\n", "  reflexivity.\n"
        )
    )
    changed = agent("check", str(GAUSS), str(weakened), "--json", home=home)
    assert changed.returncode == 1 and json.loads(changed.stdout)["decision"] == "reject"


def test_a_rest_body_extending_a_minif2f_task_is_titled_after_its_own_statement(catalog: Catalog) -> None:
    from types import SimpleNamespace

    from api.rest._routes_runs import _task_from
    from api.rest._schemas import RunRequest

    state = SimpleNamespace(launcher=SimpleNamespace(catalog=catalog))
    body = RunRequest(
        spec={
            "extends": "proofs/minif2f-valid/mathd_algebra_10",
            "params": {"header": "Require Import Arith.\n", "statement": "Theorem two_plus_two : 2 + 2 = 4."},
        }
    )
    task = _task_from(state, body)  # type: ignore[arg-type]
    assert task.title == "two_plus_two: 2 + 2 = 4" and "miniF2F" not in task.title + task.goal
    assert task.id == "proofs/two_plus_two" and "problem" not in task.params
    plain = _task_from(state, RunRequest(spec={"extends": "proofs/minif2f-valid/mathd_algebra_10"}))  # type: ignore[arg-type]
    assert "miniF2F" in plain.title  # the catalog problem itself keeps its title


def test_a_lean_statement_of_ones_own_is_titled_and_asked_in_lean(tmp_path: Path, catalog: Catalog) -> None:
    own = tmp_path / "own.yaml"
    own.write_text(
        yaml.safe_dump(
            {
                "extends": "proofs/minif2f-valid/mathd_algebra_10",
                "params": {
                    "prover": "lean4",
                    "header": "import Mathlib\n",
                    "statement": "theorem two_plus_two : (2 : ℕ) + 2 = 4",
                },
            },
            allow_unicode=True,
        )
    )
    task = catalog.load(str(own))
    assert task.title == "two_plus_two: (2 : ℕ) + 2 = 4"
    assert "miniF2F" not in task.title and "Lean's kernel" in task.goal and task.id == "proofs/two_plus_two"


def test_the_lean_and_isabelle_examples_name_their_prover_and_theorem(catalog: Catalog) -> None:
    lean = catalog.load(str(EXAMPLES_DIR / "lean-sum-bound.yaml"))
    assert lean.title == "sum_bound: (a b : ℕ) (h₀ : a < b) (h₁ : b < 10) : a + b < 19"
    assert "in lean4" in lean.goal and catalog.workload_for(lean).sandbox_image(lean) == "lean4"
    isabelle = catalog.load(str(EXAMPLES_DIR / "isabelle-double.yaml"))
    assert isabelle.title == 'double_mono: assumes h: "a < (b::nat)" shows "double a < double b"'
    assert "quick_and_dirty off" in isabelle.goal
    assert [plan.key for plan in catalog.workload_for(isabelle).plan(isabelle)] == ["double_mono"]


def test_a_catalog_task_given_another_statement_is_titled_after_it(catalog: Catalog) -> None:
    """`agent run <miniF2F task> --param statement=...` and a REST body naming the task with params."""
    from types import SimpleNamespace

    from api.rest._routes_runs import _task_from
    from api.rest._schemas import RunRequest
    from tools import apply_overrides

    base = catalog.get("proofs/minif2f-valid/mathd_algebra_10")
    workload = catalog.workload_for(base)
    overridden = apply_overrides(base, params=["header=Require Import Arith.", "statement=Theorem tw : 2 + 2 = 4."])
    task = workload.titled(overridden)
    assert task.title == "tw: 2 + 2 = 4" and task.id == "proofs/tw" and "miniF2F" not in task.title + task.goal
    assert "problem" not in task.params and "set" not in task.params
    assert workload.titled(apply_overrides(base, params=["seconds=5"])).title == base.title
    state = SimpleNamespace(launcher=SimpleNamespace(catalog=catalog))
    body = RunRequest(task=base.id, params={"statement": "Theorem tw : 2 + 2 = 4.", "header": "Require Import Arith."})
    rest = _task_from(state, body)  # type: ignore[arg-type]
    assert rest.title == task.title and rest.id == task.id


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_the_cli_titles_a_catalog_task_run_with_another_statement(home: Path) -> None:
    result = agent(
        "run",
        "proofs/minif2f-valid/mathd_algebra_10",
        "--param",
        "statement=Theorem two : 1 + 1 = 2.",
        "--param",
        "proof=Proof. reflexivity. Qed.",
        "--json",
        home=home,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["task"] == "proofs/two" and summary["accepted"] == ["two"]
    report = Path(summary["report"]).read_text()
    assert report.startswith("# two: 1 + 1 = 2") and "mathd_algebra_10" not in report
