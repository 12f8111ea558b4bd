"""Coq back ends for proof-search tests, loaded by tests/conftest.py: `coq_session`, a search session, and
`coq_gate`, a prover as the proof gate runs it; each in its own directory of the test's, closed after it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from sandboxes import LocalSandboxConfig, Sandbox, get_sandbox
from tools.proofs import CoqConfig, CoqProver, CoqSession
from verifiers.proofs import GATE_COQ_ARGS


def sandbox_factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
    return get_sandbox(LocalSandboxConfig(), workdir, ro_paths=tuple(ro_paths))


@pytest.fixture
def coq_session(tmp_path: Path) -> Iterator[CoqSession]:
    backend = CoqSession(tmp_path / "coq", sandbox_factory)
    yield backend
    backend.close()


@pytest.fixture
def coq_gate(tmp_path: Path) -> Iterator[CoqProver]:
    """A prover as the proof gate runs it (the gate's coqc arguments, its file name)."""
    backend = CoqProver(tmp_path / "gate", sandbox_factory, CoqConfig(args=GATE_COQ_ARGS), file_stem="Check")
    yield backend
    backend.close()
