"""The search's Coq sessions kept across problems: nothing of one problem reaches the next.

A pooled session serves problem A, is rolled back to its empty state, then serves problem B in the
same coqidetop process. Whatever A declared (an axiom, hints, notations, opened scopes, options,
libraries it required) must be invisible to B; the controls show that the same B proofs do check
when A's declarations are really there, so a failure in B means "not visible", not "badly written".
A session that ran a command a rollback cannot undo (its working directory, ML code, files) is closed
instead of kept. The proof gate never uses these sessions.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from agents.proof_search._driver import search_prover
from sandboxes import LocalSandboxConfig, Sandbox, get_sandbox
from tools.proofs import CoqSession, ProofsWorkload
from tools.proofs._session import POOL_ENV, SessionDiedError, SessionLease, SessionPool, pooled_session

pytestmark = [pytest.mark.coq, pytest.mark.usefixtures("coq", "bubblewrap")]


def sandbox_factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return get_sandbox(LocalSandboxConfig(), workdir, ro_paths=tuple(ro_paths))


PROBLEM_A = """Require Import Arith.
Require Import Lia.
Require Import List.
Import ListNotations.
Axiom cheat : False.
Global Hint Extern 1 => destruct cheat : core.
Notation "'seven'" := 7.
Declare Scope leak_scope.
Notation "x +++ y" := (x * y + 1) (at level 50) : leak_scope.
Open Scope leak_scope.
Set Implicit Arguments.
Definition ident (A : Type) (x : A) := x.

Theorem a_thm : forall n : nat, n + 0 = n.
Proof.
  intros. lia.
Qed.
"""

# Each B proof uses one thing A declared; with A's declarations in the same file each of them checks.
B_PROOFS = {
    "axiom": "Theorem b_thm : 1 = 2.\nProof.\n  destruct cheat.\nQed.\n",
    "hint": "Theorem b_thm : 1 = 2.\nProof.\n  auto.\nQed.\n",
    "notation": "Theorem b_thm : seven = 7.\nProof.\n  reflexivity.\nQed.\n",
    "scope": "Theorem b_thm : 2 +++ 3 = 7.\nProof.\n  reflexivity.\nQed.\n",
    "implicit": "Theorem b_thm : ident 1 = 1.\nProof.\n  reflexivity.\nQed.\n",
    "required-tactic": "Theorem b_thm : forall n : nat, n + 1 > n.\nProof.\n  intros. lia.\nQed.\n",
    "required-notation": "Theorem b_thm : length [1; 2] = 2.\nProof.\n  reflexivity.\nQed.\n",
}


@pytest.fixture
def pool() -> Iterator[SessionPool]:
    made = SessionPool(idle_seconds=600.0)
    yield made
    made.close()


def lease(pool: SessionPool, tmp_path: Path, name: str) -> SessionLease:
    return pool.lease(tmp_path / name / "prover", sandbox_factory, scope=tmp_path)


def test_the_b_proofs_check_when_a_declarations_are_in_the_file(tmp_path: Path) -> None:
    """The control: each B proof is right when what it leans on is really declared."""
    session = CoqSession(tmp_path / "control", sandbox_factory)
    try:
        for name, proof in B_PROOFS.items():
            result = session.check(PROBLEM_A + proof)
            assert result.ok, (name, result.summary())
    finally:
        session.close()


def test_nothing_problem_a_declared_is_visible_to_problem_b_in_the_same_session(
    pool: SessionPool, tmp_path: Path
) -> None:
    first = lease(pool, tmp_path, "a")
    assert first.check(PROBLEM_A).ok
    process = first.session._process
    first.close()
    assert pool.idle_count() == 1
    second = lease(pool, tmp_path, "b")
    try:
        assert second.reused and second.session is first.session
        assert second.session._process is process, "the pool must keep the same coqidetop across problems"
        for name, proof in B_PROOFS.items():
            result = second.check(proof)
            assert not result.ok, f"{name}: problem B saw what problem A declared"
        assert second.check("Print Assumptions cheat.\n").errors, "the axiom of A is still in the environment"
        honest = second.check("Require Import Arith.\nTheorem b_thm : 2 + 2 = 4.\nProof.\n  reflexivity.\nQed.\n")
        assert honest.ok, honest.summary()
    finally:
        second.close()
    assert pool.counts.started == 1 and pool.counts.reused == 1


def test_a_problem_starting_with_the_same_header_sees_none_of_a_later_sentences(
    pool: SessionPool, tmp_path: Path
) -> None:
    """B shares A's first sentences: the rollback must not leave A's axiom behind that prefix."""
    first = lease(pool, tmp_path, "a")
    assert first.check(PROBLEM_A).ok
    first.close()
    second = lease(pool, tmp_path, "b")
    try:
        header = "Require Import Arith.\nRequire Import Lia.\n"
        result = second.check(header + B_PROOFS["axiom"])
        assert not result.ok and "cheat" in result.summary()
    finally:
        second.close()


LIBRARIES = "Require Import Arith.\nRequire Import Lia.\nRequire Import List.\nImport ListNotations.\n"


def test_a_problem_with_the_same_libraries_reuses_them_and_sees_nothing_else_of_a(
    pool: SessionPool, tmp_path: Path
) -> None:
    """The kept state ends with A's libraries: B starting with the same sentences reuses it without
    loading them again, and still sees none of A's declarations after them."""
    first = lease(pool, tmp_path, "a")
    assert first.check(PROBLEM_A).ok
    first.close()
    assert first.session.loaded_sentences() == LIBRARIES.splitlines()
    second = pool.lease(tmp_path / "b" / "prover", sandbox_factory, scope=tmp_path, source_hint=LIBRARIES)
    try:
        assert second.reused
        for name, proof in B_PROOFS.items():
            result = second.check(LIBRARIES + proof)
            assert result.ok == name.startswith("required"), (name, result.summary())
        fewer = "Require Import Arith.\n"
        for name in ("required-tactic", "required-notation"):
            assert not second.check(fewer + B_PROOFS[name]).ok, f"{name}: B saw a library only A required"
    finally:
        second.close()


def test_the_kept_session_holding_the_problem_libraries_is_chosen(pool: SessionPool, tmp_path: Path) -> None:
    reals = "Require Import Reals.\nOpen Scope R_scope.\n"
    first = lease(pool, tmp_path, "a")
    second = lease(pool, tmp_path, "b")
    assert first.check(reals + "Theorem t : True.\nProof.\n  exact I.\nQed.\n").ok
    assert second.check(LIBRARIES + B_PROOFS["required-tactic"]).ok
    first.close()
    second.close()
    for hint, expected in ((reals, first.session), (LIBRARIES, second.session), (reals, first.session)):
        held = pool.lease(tmp_path / "c" / "prover", sandbox_factory, scope=tmp_path, source_hint=hint + "Theorem")
        try:
            assert held.session is expected
        finally:
            held.close()
    assert pool.counts.started == 2


@pytest.mark.parametrize(
    "command",
    ['Cd "/tmp".', 'Declare ML Module "ltac_plugin".', 'Add LoadPath "/tmp" as Elsewhere.'],
)
def test_a_session_that_ran_a_command_a_rollback_cannot_undo_is_closed_not_kept(
    pool: SessionPool, tmp_path: Path, command: str
) -> None:
    first = lease(pool, tmp_path, "a")
    assert first.check(f"{command}\nTheorem t : True.\nProof.\n  exact I.\nQed.\n").ok
    first.close()
    assert pool.idle_count() == 0
    assert sum(pool.counts.retired.values()) == 1
    second = lease(pool, tmp_path, "b")
    try:
        assert not second.reused and second.session is not first.session
        where = second.check("Pwd.\n")
        assert where.ok and "/tmp\n" not in where.stdout
    finally:
        second.close()


def test_micromega_caches_do_not_retire_a_session(pool: SessionPool, tmp_path: Path) -> None:
    """`lia` and friends cache their oracle's certificates in the working directory; Coq checks a cached
    certificate again, so the cache only saves time and the session is kept."""
    first = lease(pool, tmp_path, "a")
    squares = "Require Import Reals Psatz.\nOpen Scope R_scope.\nGoal forall x y : R, 0 <= x * x + y * y.\n"
    assert first.check(squares + "Proof.\n  intros. psatz R 2.\nQed.\n").ok
    assert (first.session.workdir / ".csdp.cache").exists()
    first.close()
    assert pool.idle_count() == 1 and pool.counts.retired == {}


def test_a_session_whose_directory_gained_files_is_closed(pool: SessionPool, tmp_path: Path) -> None:
    first = lease(pool, tmp_path, "a")
    assert first.check("Theorem t : True.\nProof.\n  exact I.\nQed.\n").ok
    (first.session.workdir / "note.v").write_text("Axiom planted : False.\n")
    first.close()
    assert pool.idle_count() == 0 and pool.counts.retired == {"left files in its directory": 1}


def test_sessions_are_retired_after_max_leases_and_over_the_memory_bound(tmp_path: Path) -> None:
    pool = SessionPool(idle_seconds=600.0, max_leases=2)
    try:
        for index in range(3):
            held = lease(pool, tmp_path, f"p{index}")
            assert held.check("Theorem t : True.\nProof.\n  exact I.\nQed.\n").ok
            held.close()
        assert pool.counts.started == 2 and pool.counts.reused == 1
        assert pool.counts.retired == {"served 2 searches": 1}
    finally:
        pool.close()
    small = SessionPool(idle_seconds=600.0, memory_bytes=1)
    try:
        held = lease(small, tmp_path, "m")
        assert held.check("Theorem t : True.\nProof.\n  exact I.\nQed.\n").ok
        held.close()
        assert small.idle_count() == 0
        assert [reason.split()[0] for reason in small.counts.retired] == ["uses"]
    finally:
        small.close()


def test_a_session_is_kept_only_for_the_same_sandbox_factory_and_scope(pool: SessionPool, tmp_path: Path) -> None:
    def other_factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
        return sandbox_factory(workdir, ro_paths=ro_paths)

    first = lease(pool, tmp_path, "a")
    assert first.check("Theorem t : True.\nProof.\n  exact I.\nQed.\n").ok
    first.close()
    elsewhere = pool.lease(tmp_path / "b" / "prover", other_factory, scope=tmp_path)
    another_run = pool.lease(tmp_path / "c" / "prover", sandbox_factory, scope=tmp_path / "c")
    try:
        assert not elsewhere.reused and not another_run.reused
    finally:
        elsewhere.close()
        another_run.close()
    assert pool.idle_count() == 3
    pool.close(tmp_path / "c")  # the end of one run closes its sessions only
    assert pool.idle_count() == 2 and another_run.session._process is None
    assert first.session._process is not None


def test_idle_sessions_are_closed(tmp_path: Path) -> None:
    pool = SessionPool(idle_seconds=-1.0)
    try:
        first = lease(pool, tmp_path, "a")
        assert first.check("Theorem t : True.\nProof.\n  exact I.\nQed.\n").ok
        first.close()
        second = lease(pool, tmp_path, "b")
        second.close()
        assert not second.reused
        # Closed by the next lease or by the pool's sweeper thread, whichever took it first: the sweeper
        # closes it on its own time (under load that was after the assertion, which failed).
        deadline = time.monotonic() + 30
        while first.session._process is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert first.session._process is None
        assert pool.counts.retired.get("idle", 0) >= 1
    finally:
        pool.close()


def test_a_given_back_lease_refuses_to_check(pool: SessionPool, tmp_path: Path) -> None:
    held = lease(pool, tmp_path, "a")
    held.close()
    held.close()  # twice is harmless
    with pytest.raises(SessionDiedError, match="already given back"):
        held.check("Theorem t : True.\nProof.\n  exact I.\nQed.\n")
    assert pool.idle_count() == 1


def test_a_timed_out_check_restarts_the_session_and_it_is_kept_clean(pool: SessionPool, tmp_path: Path) -> None:
    first = lease(pool, tmp_path, "a")
    endless = "Eval vm_compute in (let fix f (n : nat) : nat := match n with 0 => 0 | S m => f m + f m end in f 60).\n"
    assert first.check("Axiom cheat : False.\n" + endless, timeout=1).timed_out
    first.close()
    second = lease(pool, tmp_path, "b")
    try:
        assert not second.check(B_PROOFS["axiom"]).ok
    finally:
        second.close()


def test_the_search_takes_its_coq_session_from_the_pool_unless_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workload = ProofsWorkload()
    prover = search_prover(workload, tmp_path / "exp", sandbox_factory, "session", "coq")
    try:
        assert isinstance(prover, SessionLease)
    finally:
        prover.close()
    coqc = search_prover(workload, tmp_path / "exp", sandbox_factory, "coqc", "coq")
    assert not isinstance(coqc, SessionLease | CoqSession)
    monkeypatch.setenv(POOL_ENV, "off")
    alone = pooled_session(tmp_path / "alone", sandbox_factory)
    assert isinstance(alone, CoqSession)
    alone.close()
