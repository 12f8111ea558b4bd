"""A real proof search keeps, per failed check, the draft it checked and the goal at the failing step, and
the run page shows both when a reviewer opens the failed check."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest

from agents.proof_search import AUTOMATION, BuiltinProposer, ProofSearch, SearchBudget
from agents.proof_search._search import SOURCE_LIMIT, bounded
from api._settings import Settings
from runs import ExperimentSpec, RunStore, TaskSpec
from sandboxes import LocalSandboxConfig, Sandbox, get_sandbox
from tests.api_server import serve_in_thread
from tools.proofs import CoqSession, problem_from_text

DEMO = problem_from_text("proofs/demo", "Require Import Arith.\n\nTheorem demo (a b : nat) (h : a < b) : a + 1 <= b.\n")
LIA_ONLY = tuple(tactic for tactic in AUTOMATION if tactic.name == "lia")


def sandbox_factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return get_sandbox(LocalSandboxConfig(), workdir, ro_paths=tuple(ro_paths))


@pytest.fixture
def search_log(tmp_path: Path) -> Iterator[list[dict[str, object]]]:
    """The log of a search whose only draft (`intros. subst. reflexivity.`) fails at `reflexivity`, which
    tool correction then replaces with `lia`."""
    prover = CoqSession(tmp_path / "coq", sandbox_factory)
    try:
        result = ProofSearch(
            DEMO, prover, SearchBudget(seconds=60), proposer=BuiltinProposer(("reflexivity",)), tactics=LIA_ONLY
        ).run()
    finally:
        prover.close()
    assert result.solved, result.log
    yield result.log


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_failed_checks_keep_their_draft_and_goal_and_the_run_page_shows_them(
    search_log: list[dict[str, object]], home: Path
) -> None:
    checks = [entry for entry in search_log if entry["kind"] == "check"]
    failed, passed = checks[0], checks[-1]
    assert failed["ok"] is False and failed["diagnosis"] == "step" and failed["step"] == 2
    assert (
        isinstance(failed["source"], str) and "Theorem demo" in failed["source"] and "reflexivity." in failed["source"]
    )
    goal = failed["goal"]
    assert isinstance(goal, str) and "h : a < b" in goal and "a + 1 <= b" in goal
    assert passed["ok"] is True and "lia." in str(passed["source"])
    probes = [entry for entry in search_log if entry["kind"] == "probe"]
    assert probes and probes[0]["ok"] is True  # the goal asked for the log was reused: one probe, no second goal run

    store = RunStore(home)
    run_id = store.create_run(TaskSpec(id="proofs/demo", workload="proofs", gates=["proof-check"])).id
    experiment = store.add_experiment(run_id, ExperimentSpec(key="demo", task_id="proofs/demo"))
    log = store.add_artifact_bytes(
        run_id,
        "".join(json.dumps(entry) + "\n" for entry in search_log).encode(),
        kind="log",
        name="demo/search-log.jsonl",
        experiment_id=experiment.id,
    )
    store.add_artifact_bytes(
        run_id, str(passed["source"]).encode(), kind="proof", name="demo/proof.v", experiment_id=experiment.id
    )
    with serve_in_thread(Settings(home=home, run_workers=0), start_workers=False) as url:
        page = httpx.get(f"{url}/ui/runs/{run_id}").text
        fragments = re.findall(r'data-fragment="(/ui/artifacts/\d+/entries/\d+)"', page)
        assert fragments == [f"/ui/artifacts/{log.id}/entries/{search_log.index(failed)}"]  # only the failed check
        detail = httpx.get(f"{url}{fragments[0]}").text
    store.engine.dispose()
    assert "Goal at the failing step" in detail and "a + 1 &lt;= b" in detail
    assert "reflexivity" in detail and "Theorem" in detail and "did not keep this draft" not in detail


def test_kept_text_is_bounded_on_a_character_boundary() -> None:
    text = "é" * SOURCE_LIMIT
    kept = bounded(text, SOURCE_LIMIT)
    assert (
        len(kept.encode()) <= SOURCE_LIMIT
        and kept.startswith("éé")
        and kept.endswith(f"{2 * SOURCE_LIMIT} bytes in all]")
    )
    assert bounded("Proof. lia. Qed.", SOURCE_LIMIT) == "Proof. lia. Qed."
