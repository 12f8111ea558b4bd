"""What a re-check costs the persistent Coq session: round trips, wall time, and the same answers as coqc.

A search checks many files that differ only after the statement; the session must then go back once
(`Edit_at`), add only the changed sentences and observe once (`Goal`), and still locate errors exactly
where coqc does. How fast that is, `bench/proofs.py --throughput` measures.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from sandboxes import LocalSandboxConfig, Sandbox, get_sandbox
from tools.proofs import CoqProver, CoqSession, Diagnostic

pytestmark = [pytest.mark.coq, pytest.mark.usefixtures("coq", "bubblewrap")]

HEADER = "Require Import Arith.\nRequire Import Lia.\n\nTheorem t : forall n : nat, n + 0 = n.\n"


def sandbox_factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return get_sandbox(LocalSandboxConfig(), workdir, ro_paths=tuple(ro_paths))


def attempt(tactic: str) -> str:
    return HEADER + f"Proof.\n  intros.\n  {tactic}.\nQed.\n"


@pytest.fixture
def session(tmp_path: Path) -> Iterator[CoqSession]:
    prover = CoqSession(tmp_path / "session", sandbox_factory)
    yield prover
    prover.close()


def record_calls(session: CoqSession, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The protocol calls (`Add`, `Edit_at`, `Goal`, ...) the session sends from now on, in order."""
    sent: list[str] = []
    call = session._call

    def counting(xml: str, deadline: float, sink: list[ET.Element] | None = None) -> ET.Element:
        sent.append(xml.split('"', 2)[1])
        return call(xml, deadline, sink)

    monkeypatch.setattr(session, "_call", counting)
    return sent


def test_a_changed_tactic_costs_one_rollback_the_changed_sentences_and_one_observation(
    session: CoqSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert session.check(attempt("lia")).ok
    sent = record_calls(session, monkeypatch)
    assert session.check(attempt("auto")).ok
    assert sent == ["Edit_at", "Add", "Add", "Goal"]


def test_a_failed_attempt_is_rolled_back_at_once_so_the_next_needs_no_edit(
    session: CoqSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert session.check(attempt("lia")).ok
    sent = record_calls(session, monkeypatch)
    assert not session.check(attempt("reflexivity")).ok
    assert sent == ["Edit_at", "Add", "Add", "Goal", "Edit_at"]
    sent.clear()
    assert session.check(attempt("lia")).ok
    assert sent == ["Add", "Add", "Goal"]


def test_an_unchanged_source_is_only_observed(session: CoqSession, monkeypatch: pytest.MonkeyPatch) -> None:
    assert session.check(attempt("lia")).ok
    sent = record_calls(session, monkeypatch)
    assert session.check(attempt("lia")).ok
    assert sent == ["Goal"]


def test_coq_seconds_counts_the_time_spent_in_coq_within_the_wall_time(session: CoqSession) -> None:
    """The split the throughput bench prints (time in Coq against the session's own); speed itself is benched."""
    assert session.check(attempt("lia")).ok
    coq_before = session.coq_seconds
    started = time.perf_counter()
    for index in range(20):
        tactic = ("lia", "auto", "reflexivity", "idtac")[index % 4]
        session.check(attempt(tactic))
    total = time.perf_counter() - started
    assert 0 < session.coq_seconds - coq_before <= total
    assert session.restarts == 0


def place(diagnostic: Diagnostic) -> tuple[int, int, int, int]:
    return diagnostic.line, diagnostic.column, diagnostic.end_line, diagnostic.end_column


def test_errors_after_a_rollback_are_located_where_coqc_locates_them(session: CoqSession, tmp_path: Path) -> None:
    coqc = CoqProver(tmp_path / "coqc", sandbox_factory)
    try:
        for tactic in ("lia", "rewrite Nat.add_0_r; undefined_tactic", "lia", "exact (I I)", "omega"):
            source = attempt(tactic)
            theirs = coqc.check(source)
            ours = session.check(source)
            assert ours.ok == theirs.ok, tactic
            assert ours.ok or any(error.line == 7 for error in ours.errors), tactic
            assert [place(e) for e in ours.errors] == [place(e) for e in theirs.errors], tactic
    finally:
        coqc.close()
    assert session.restarts == 0
