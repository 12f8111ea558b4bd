"""miniF2F in Lean 4 / Isabelle as optional data: the fetch command (from a local repository here, never
the network), the catalog entries and plans it enables, and the refusal that names the command when
the data is absent."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from runs import TaskSpec
from tools import Catalog, TaskError
from tools.proofs import DATA_ENV, ProofsWorkload, resolve_problem
from tools.proofs.fetch import main as fetch_main

LEAN_HEADER = "import Mathlib\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n"
ISABELLE_FILE = (
    "(*\n  Authors: someone\n*)\n\ntheory mathd_demo imports Complex_Main\nbegin\n\n"
    'theorem mathd_demo:\n  fixes x :: real\n  assumes h0: "3 * x = 6"\n  shows "x = 2"\n  using h0 by simp\n\nend\n'
)


def _repository(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "LICENSE").write_text("a licence\n")
    for command in (["init", "-q"], ["add", "-A"], ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(root), *command], check=True, capture_output=True)
    return root


@pytest.fixture
def fetched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    lean = _repository(
        tmp_path / "lean-repo",
        {
            "MiniF2F/Valid/mathd_demo.lean": LEAN_HEADER
            + "theorem mathd_demo (x : ℝ) (h : 3 * x = 6) : x = 2 := by sorry",
            "MiniF2F/Test/mathd_other.lean": LEAN_HEADER + "theorem mathd_other : (2 : ℕ) + 2 = 4 := by sorry",
        },
    )
    isabelle = _repository(
        tmp_path / "isabelle-repo",
        {
            "isabelle/valid/mathd_demo.thy": ISABELLE_FILE,
            "isabelle/test/mathd_other.thy": ISABELLE_FILE.replace("mathd_demo", "mathd_other"),
        },
    )
    data = tmp_path / "data"
    monkeypatch.setenv(DATA_ENV, str(data))
    assert fetch_main(["--prover", "lean4", "--source", str(lean)]) == 0
    assert fetch_main(["--prover", "isabelle", "--source", str(isabelle)]) == 0
    return data


def test_fetch_lays_out_both_splits_with_licence_and_source(fetched: Path) -> None:
    assert (fetched / "lean4" / "valid" / "mathd_demo.lean").is_file()
    assert (fetched / "isabelle" / "test" / "mathd_other.thy").is_file()
    assert (fetched / "lean4" / "LICENSE").read_text() == "a licence\n"
    assert "commit" in (fetched / "isabelle" / "SOURCE.md").read_text()


def test_fetched_sets_are_catalog_tasks_and_minif2f_problems_run_in_that_prover(fetched: Path) -> None:
    catalog = Catalog([ProofsWorkload()])
    tasks = catalog.tasks()
    assert tasks["proofs/minif2f-valid-lean4"].params == {"set": "minif2f-valid", "prover": "lean4"}
    assert "proofs/minif2f-test-isabelle" in tasks
    assert tasks["proofs/minif2f-test-isabelle/mathd_other"].params == {
        "set": "minif2f-test",
        "prover": "isabelle",
        "problem": "mathd_other",
    }
    workload = ProofsWorkload()
    assert [plan.key for plan in workload.plan(tasks["proofs/minif2f-valid-lean4"])] == ["mathd_demo"]
    lean = resolve_problem({"set": "minif2f-valid", "problem": "mathd_demo", "prover": "lean4"})
    assert lean.prover == "lean4" and "set_option maxHeartbeats 0" in lean.header
    assert lean.statement == "theorem mathd_demo (x : ℝ) (h : 3 * x = 6) : x = 2"
    isabelle = resolve_problem({"set": "minif2f-valid", "problem": "mathd_demo", "prover": "isabelle"})
    assert isabelle.statement.startswith("theorem mathd_demo:") and isabelle.statement.endswith('shows "x = 2"')
    assert workload.sandbox_image(tasks["proofs/minif2f-valid-lean4"]) == "lean4"


def test_without_the_data_a_task_naming_it_is_refused_with_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "empty"))
    catalog = Catalog([ProofsWorkload()])
    assert "proofs/minif2f-valid-lean4" not in catalog.tasks()
    task = TaskSpec(
        id="proofs/x",
        workload="proofs",
        params={"set": "minif2f-valid", "problem": "mathd_algebra_10", "prover": "lean4"},
    )
    with pytest.raises(TaskError, match=r"python -m tools\.proofs\.fetch --prover lean4"):
        catalog.validate(task)


def test_fetch_from_nowhere_fails_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert fetch_main(["--prover", "lean4", "--source", str(tmp_path / "missing"), "--dest", str(tmp_path / "d")]) == 1
    assert "git clone" in capsys.readouterr().err
