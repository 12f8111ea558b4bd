"""Shapes of a user's own theorem that the catalog never sends: where the theorem is read from, and
binders whose implicit arguments the gate must not fill in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import agent
from tools import TaskError
from tools.proofs import resolve_problem


def _task_file(folder: Path, name: str, header: str, statement: str) -> Path:
    """A task file stating `statement` under `header`, as a user writes one."""
    path = folder / f"{name}.yaml"
    params = {"header": header, "statement": statement}
    path.write_text(
        yaml.safe_dump({"id": f"proofs/{name}", "workload": "proofs", "gates": ["proof-check"], "params": params})
    )
    return path


def test_the_theorem_is_the_statements_not_a_lemma_the_header_proves() -> None:
    """A header that proves a helper lemma: the task is still the statement's theorem, not the helper."""
    params = {
        "header": "Lemma aux : 1 = 1.\nProof. reflexivity. Qed.\n",
        "statement": "Theorem main_t : forall n : nat, n * 0 = 0.",
    }
    problem = resolve_problem(params, "proofs/main-t")
    assert problem.name == "main_t" and problem.statement == params["statement"]
    assert problem.header == params["header"]  # the helper stays in the trusted header


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("Theorem a1 : 1 = 1.\nTheorem a2 : 2 = 3.", r"states 2 theorems \(a1, a2\); a task proves one"),
        ("Goal 1 + 1 = 2.", r"`Goal` states a theorem without a name"),
        ("Theorem αβ_lemma : 1 = 1.", r"theorem name 'αβ_lemma' is not ASCII"),
        ("Theorem lemma_αβ : 1 = 1.", r"theorem name 'lemma_αβ' is not ASCII"),
        ("Theorem t@{u} : forall A : Type@{u}, A -> A.", r"theorem t names its universes \(t@\{\.\.\.\}\)"),
        ("\ufeffTheorem t : 1 = 1.", r"the statement contains a byte-order mark \(U\+FEFF\) at character 0"),
    ],
)
def test_a_statement_that_is_not_one_named_theorem_is_refused_naming_why(statement: str, message: str) -> None:
    """Two theorems (only the first would be judged, the report calling the task proved), a nameless
    `Goal`, a name beyond ASCII (`lemma_αβ` was read as the theorem `lemma_` with a binder `αβ`), named
    universes (they passed the statement check, then the gate's `forall @{u}, ...` refused every proof,
    blaming the task's header), and a pasted byte-order mark (quoted back as 'not a theorem statement')."""
    with pytest.raises(TaskError, match=message):
        resolve_problem({"statement": statement}, "proofs/shape")


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
@pytest.mark.parametrize(
    ("header", "statement", "proof"),
    [
        ("Require Import List.\n", "Theorem rr {A : Type} (l : list A) : rev (rev l) = l.", "apply rev_involutive."),
        (
            "Class Monoid (A : Type) := { op : A -> A -> A; e : A; e_l : forall x, op e x = x }.\n",
            "Theorem mon_t `{Monoid nat} : forall x : nat, op e x = x.",
            "apply e_l.",
        ),
        ("", "Theorem pair_t : nat * nat.", "exact (0, 0)."),
        ("Require Import ZArith.\nOpen Scope Z_scope.\n", "Theorem both : (1 = 1) * (2 = 2).", "split; reflexivity."),
        ("Require Import Arith.\n", "Theorem mul0 : forall n : nat, n * 0 = 0.", "intros; apply Nat.mul_0_r."),
    ],
    ids=["implicit-binder", "instance-binder", "pair-type", "pair-type-under-Z", "numbers-under-forall"],
)
def test_an_honest_proof_of_a_theorem_of_an_unusual_shape_is_accepted(
    home: Path, tmp_path: Path, header: str, statement: str, proof: str
) -> None:
    """`exact name` filled the implicit argument in (`forall l : list ?A, ...` against the statement), and
    the statement was read as a term, not as a type: `nat * nat` multiplied numbers ("nat has type Set
    while it is expected to have type nat", blamed on the task's header)."""
    task = _task_file(tmp_path, "implicit", header, statement)
    proof_file = tmp_path / "proof.v"
    proof_file.write_text(f"{header}\n{statement}\nProof.\n  {proof}\nQed.\n")
    result = agent("check", str(task), str(proof_file), "--json", home=home)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert json.loads(result.stdout)["decision"] == "accept"


@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_header_lemma_does_not_stand_in_for_the_theorem(home: Path, tmp_path: Path) -> None:
    """The user's file proves only the header's lemma: not accepted; proving the theorem is."""
    header = "Require Import Arith.\nLemma aux : 1 = 1.\nProof. reflexivity. Qed.\n"
    statement = "Theorem main_t : forall n : nat, n * 0 = 0."
    task = _task_file(tmp_path, "helper", header, statement)
    only_helper = tmp_path / "helper.v"
    only_helper.write_text(header)
    refused = agent("check", str(task), str(only_helper), "--json", home=home)
    assert refused.returncode == 1, (refused.stdout, refused.stderr)
    reasons = " ".join(json.loads(refused.stdout)["verdicts"][0]["reasons"])
    assert "theorem main_t is not stated in the file" in reasons
    honest = tmp_path / "honest.v"
    honest.write_text(f"{header}{statement}\nProof. intros. apply Nat.mul_0_r. Qed.\n")
    accepted = agent("check", str(task), str(honest), "--json", home=home)
    assert accepted.returncode == 0, (accepted.stdout, accepted.stderr)
