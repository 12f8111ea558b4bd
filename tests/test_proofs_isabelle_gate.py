"""The Isabelle proof gate against a stand-in `isabelle build` (tests/fixtures/provers/fake_isabelle.py).

The stand-in does not run Isabelle: it records its arguments and fails or succeeds as told. What is
tested is the gate's own logic: the tokenizer-based text rules (cheats in every disguise, words in
comments and strings left alone), the session and theory the gate writes (quick_and_dirty off,
clean build, the statement restated and proved by the candidate's theorem, the oracle check), and
that a failing build is a rejection with the prover's message.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from sandboxes import LocalSandbox, Sandbox
from tests.conftest import agent
from tests.proof_gate_cases import ISABELLE_CHEATS as CHEATS
from tests.proof_gate_cases import ISABELLE_GOOD as GOOD
from tests.proof_gate_cases import ISABELLE_HEADER as HEADER
from tests.proof_gate_cases import ISABELLE_PROBLEM as PROBLEM
from tests.proof_gate_cases import ISABELLE_STATEMENT as STATEMENT
from tools.proofs import IsabelleBatch, isabelle_problem, isabelle_tokens
from verifiers.proofs import build_isabelle_check, check_isabelle_proof, lint_isabelle

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "provers"


def plain_sandbox(workdir: Path, **_: object) -> Sandbox:
    return LocalSandbox(workdir=workdir, isolation=False)


@pytest.fixture
def batch(tmp_path: Path) -> IsabelleBatch:
    tools = tmp_path / "tools"
    tools.mkdir()
    launcher = tools / "isabelle"
    launcher.write_text(f"#!{sys.executable}\n" + (FIXTURES / "fake_isabelle.py").read_text())
    launcher.chmod(0o755)
    return IsabelleBatch(tmp_path / "gate", plain_sandbox, isabelle=str(launcher))


def test_problem_reads_header_statement_and_proposition() -> None:
    assert PROBLEM.prover == "isabelle" and PROBLEM.name == "demo"
    assert PROBLEM.statement == STATEMENT
    assert PROBLEM.proposition() == 'assumes h: "a < (b::nat)" shows "double a < double b"'


def test_tokenizer_nested_comments_cartouches_and_strings() -> None:
    source = 'lemma x: "sorry = sorry" (* sorry (* nested *) oops *) \\<comment> \\<open>sorry\\<close> by simp'
    kinds = {token.text: token.kind for token in isabelle_tokens(source)}
    assert kinds['"sorry = sorry"'] == "string"
    assert [token.kind for token in isabelle_tokens(source) if "sorry" in token.text] == [
        "string",
        "comment",
        "comment",
    ]
    assert "oops" not in [token.text for token in isabelle_tokens(source) if token.kind == "ident"]


def test_genuine_proof_is_built_clean_with_quick_and_dirty_off(batch: IsabelleBatch, tmp_path: Path) -> None:
    verdict = check_isabelle_proof(PROBLEM, GOOD, batch)
    assert verdict.decision == "accept", verdict.reasons
    args = (tmp_path / "gate" / "build-args.txt").read_text().splitlines()
    assert args[:2] == ["build", "-c"] and "quick_and_dirty=false" in args and args[-1] == "Labgate_Check"
    root = (tmp_path / "gate" / "ROOT").read_text()
    assert "quick_and_dirty = false" in root and 'sessions "HOL-Library"' in root
    theory = (tmp_path / "gate" / "Check.thy").read_text()
    assert theory.startswith('theory Check\n  imports "Main" "HOL-Library.Multiset"\nbegin')
    assert "using assms by (rule demo)" in theory and "Thm_Deps.all_oracles" in theory


def test_words_in_comments_and_strings_are_not_rejected(batch: IsabelleBatch) -> None:
    source = GOOD.replace(
        "  using h",
        "  (* no sorry, no oops, no ML here *)\n  text \\<open>axiomatization is not used\\<close>\n  using h",
    )
    verdict = check_isabelle_proof(PROBLEM, source, batch)
    assert verdict.decision == "accept", verdict.reasons


def test_failing_build_is_rejected_with_the_provers_message(batch: IsabelleBatch, tmp_path: Path) -> None:
    (tmp_path / "tools" / "build_fails").write_text("")
    verdict = check_isabelle_proof(PROBLEM, GOOD, batch)
    assert verdict.decision == "reject"
    assert verdict.reasons == ["the clean Isabelle build (quick_and_dirty off) fails: Failed to finish proof:"]


@pytest.mark.parametrize("name", sorted(CHEATS))
def test_cheat_is_rejected_before_any_build(name: str) -> None:
    source, reason = CHEATS[name]
    reasons, body = lint_isabelle(PROBLEM, source)
    assert reasons and body == "", name
    assert any(reason in item for item in reasons), reasons


def test_statement_without_assumptions_is_proved_by_fact() -> None:
    problem = isabelle_problem("p", 'theory T imports Main begin\ntheorem t: "x + 0 = (x::nat)"\n  sorry\nend\n')
    _, theory, suffix = build_isabelle_check(problem, 'theorem t: "x + 0 = (x::nat)"\n  by simp', "ab")
    assert f'theorem labgate_check_{suffix}: "x + 0 = (x::nat)"\n  by (fact t)' in theory


@pytest.mark.slow
def test_agent_check_judges_an_isabelle_theory_through_the_gate(home: Path, tmp_path: Path) -> None:
    launcher = tmp_path / "tools" / "isabelle"
    launcher.parent.mkdir()
    launcher.write_text(f"#!{sys.executable}\n" + (FIXTURES / "fake_isabelle.py").read_text())
    launcher.chmod(0o755)
    task = tmp_path / "demo.json"
    task.write_text(
        json.dumps(
            {
                "id": "proofs/isabelle-demo",
                "workload": "proofs",
                "gates": ["proof-check"],
                "params": {"prover": "isabelle", "header": HEADER, "statement": STATEMENT},
            }
        )
    )
    env = {"LABGATE_ISABELLE": str(launcher)}
    good = tmp_path / "Demo.thy"
    good.write_text(GOOD)
    accepted = agent("check", str(task), str(good), "--json", "--unsafe-no-isolation", home=home, env=env)
    assert accepted.returncode == 0, accepted.stderr + accepted.stdout
    summary = json.loads(accepted.stdout.strip().splitlines()[-1])
    assert summary["decision"] == "accept", summary
    assert summary["verdicts"][0]["reasons"] == [
        "a clean Isabelle build (quick_and_dirty off) proves demo for the task's statement with no oracle"
    ]
    cheat = tmp_path / "Cheat.thy"
    cheat.write_text(GOOD.replace("using h unfolding double_def by simp", "sorry"))
    rejected = agent("check", str(task), str(cheat), "--json", "--unsafe-no-isolation", home=home, env=env)
    summary = json.loads(rejected.stdout.strip().splitlines()[-1])
    assert summary["decision"] == "reject" and "uses sorry" in summary["verdicts"][0]["reasons"][0]


def test_the_isabelle_image_provides_what_the_gate_and_the_search_invoke() -> None:
    """The image cannot be built here; what it must provide is checked against what labgate runs."""
    from verifiers.proofs import ISABELLE_GATE_SESSION as SESSION

    dockerfile = (Path(__file__).resolve().parent.parent / "sandboxes/images/isabelle/Dockerfile").read_text()
    assert "/usr/local/bin/isabelle" in dockerfile
    assert f"isabelle build -c -o quick_and_dirty=false -o document=false -D /tmp/gate-check {SESSION}" in dockerfile
    assert "Thm_Deps.all_oracles" in dockerfile and "system_heaps" in dockerfile


@pytest.mark.image
@pytest.mark.slow
def test_the_gate_on_a_real_isabelle(tmp_path: Path) -> None:
    import shutil

    if shutil.which("isabelle") is None:
        pytest.skip("Isabelle is not installed (build sandboxes/images/isabelle; it needs network)")
    problem = isabelle_problem("p", 'theory T imports Main begin\ntheorem t: "x + 0 = (x::nat)"\n  sorry\nend\n')
    batch = IsabelleBatch(tmp_path / "gate", plain_sandbox)
    good = 'theory T imports Main begin\ntheorem t: "x + 0 = (x::nat)"\n  by simp\nend\n'
    assert check_isabelle_proof(problem, good, batch).decision == "accept"
    bad = 'theory T imports Main begin\ntheorem t: "x + 0 = (x::nat)"\n  by (rule conjI)\nend\n'
    assert check_isabelle_proof(problem, bad, batch).decision == "reject"


def test_lemma_and_theorem_are_the_same_command() -> None:
    assert lint_isabelle(PROBLEM, GOOD.replace("theorem demo:", "lemma demo:"))[0] == []
