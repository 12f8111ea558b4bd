"""labgate on machines as users have them, not as CI has them: other locales, closed or short-lived
standard streams, kernels that refuse user namespaces.

Each test starts the real `agent` in a subprocess with the shape it names and checks that the run
ends as a run (finished, or paused for approval) with no traceback, or is refused in one line that
says what to change.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import sandboxes._local as local_module
from sandboxes import LocalSandbox, SandboxUnavailableError
from sandboxes._cgroup import cgroup_limits_usable
from tests.conftest import REPO, agent

# A locale whose character set is ASCII, as on a minimal server or in `env -i`: Python's own
# coercion to UTF-8 turned off, so its text files and streams get the locale's encoding, as they
# would under LANG=de_DE (Latin-1) or any other non-UTF-8 locale.
ASCII_LOCALE = {"LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
PAUSED_RUN = ("run", "cfd/cavity", "--param", "cells=8", "--param", "re=100", "--approve-plan")


def _environment(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "LABGATE_HOME": str(home), **(extra or {})}


def _runs(home: Path) -> list[dict[str, object]]:
    listed = agent("runs", "--json", home=home)
    assert listed.returncode == 0, listed.stderr
    runs: list[dict[str, object]] = json.loads(listed.stdout)
    return runs


def test_a_non_utf8_locale_prints_the_run_instead_of_failing_it(home: Path) -> None:
    """The summary's em dash cannot be spelled in ASCII: it is escaped, and the run is not marked failed."""
    result = agent(*PAUSED_RUN, home=home, env=ASCII_LOCALE)
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == 0, result.stderr
    assert "paused" in result.stdout
    assert [run["status"] for run in _runs(home)] == ["paused"]


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_a_non_utf8_locale_writes_the_report_as_utf8(home: Path) -> None:
    """The report holds arrows and dashes; written in the locale's ASCII it failed a finished run."""
    result = agent("run", "cfd/cavity", "--param", "cells=8", "--param", "re=100", home=home, env=ASCII_LOCALE)
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == 0, result.stderr
    [run] = _runs(home)
    assert run["status"] == "finished"
    report = next((home / "runs").glob("*/report.md"))
    assert not report.read_bytes().isascii()  # the non-ASCII text is there, as UTF-8
    report.read_text(encoding="utf-8")


def _close_stderr() -> None:
    os.close(2)


def test_a_closed_stderr_neither_breaks_the_run_nor_takes_its_descriptor(home: Path) -> None:
    """`agent run ... 2>&-` (a cron line): the run pauses as asked; before, it stayed queued forever."""
    process = subprocess.run(
        [sys.executable, "-m", "api.cli", *PAUSED_RUN],
        env=_environment(home),
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        preexec_fn=_close_stderr,  # the shape under test: a child whose fd 2 is closed
        timeout=120,
        check=False,
    )
    assert process.returncode == 0, process.stdout
    assert [run["status"] for run in _runs(home)] == ["paused"]
    database = (home / "labgate.db").read_bytes()
    assert b"no LLM endpoint configured" not in database  # nothing meant for stderr went into the store


def test_a_reader_that_stops_reading_does_not_stop_the_run(home: Path) -> None:
    """`agent run ... 2>&1 | head -1`: the pipe closes after one line; the run still reaches its end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", *PAUSED_RUN],
        env=_environment(home),
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    assert process.stdout.readline()
    process.stdout.close()
    assert process.wait(timeout=120) == 0
    assert [run["status"] for run in _runs(home)] == ["paused"]


def test_listing_into_a_pipe_closed_early_exits_quietly(home: Path) -> None:
    """`agent show RUN | head -1`: no traceback and no error status for output nobody reads any more."""
    assert agent(*PAUSED_RUN, home=home).returncode == 0
    [run] = _runs(home)
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "show", str(run["run_id"])],
        env=_environment(home, {"COLUMNS": "20"}),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 0, stderr
    assert b"Traceback" not in stderr


@pytest.fixture
def refusing_bubblewrap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A `bwrap` first on PATH that fails as bubblewrap does where the kernel refuses user namespaces.

    Its folder is world-readable: as root, the probe runs it as an unprivileged uid.
    """
    folder = Path(tempfile.mkdtemp(prefix="labgate-bwrap-"))
    try:
        folder.chmod(0o755)
        fake = folder / "bwrap"
        fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n")
        fake.chmod(0o755)
        monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
        monkeypatch.setattr(local_module, "_probe_result", None)
        yield
    finally:
        monkeypatch.setattr(local_module, "_probe_result", None)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.usefixtures("refusing_bubblewrap")
def test_refused_user_namespaces_are_named_not_blamed_on_a_missing_bubblewrap(tmp_path: Path) -> None:
    """bubblewrap is installed; reinstalling it changes nothing, so the advice names the kernel setting."""
    with pytest.raises(SandboxUnavailableError) as refused:
        LocalSandbox(workdir=tmp_path / "w")
    message = str(refused.value)
    assert "user namespaces" in message and "user.max_user_namespaces" in message
    assert "apt-get install bubblewrap" not in message
    assert "--unsafe-no-isolation" in message


def test_an_empty_labgate_home_is_the_default_folder_not_the_current_one(tmp_path: Path) -> None:
    """`export LABGATE_HOME=$UNSET`: the store goes where an unset variable puts it, ./labgate-data."""
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "runs", "--json"],
        env={**os.environ, "LABGATE_HOME": "", "PYTHONPATH": str(REPO)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "labgate-data" / "labgate.db").is_file()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["labgate-data"]


def _hide_cgroups(command: list[str]) -> list[str]:
    """`command` in a mount namespace of its own whose /sys/fs/cgroup is an empty read-only tmpfs."""
    mount = "mount -t tmpfs -o ro tmpfs /sys/fs/cgroup"
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", f'{mount} && exec "$@"', "sh", *command]


def _can_hide_cgroups() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(_hide_cgroups(["true"]), capture_output=True, timeout=60, check=False)
    return probe.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _can_hide_cgroups(), reason="needs root and a mount namespace to hide the cgroup hierarchy")
@pytest.mark.usefixtures("bubblewrap")
def test_root_without_writable_cgroups_says_its_limits_are_weaker(home: Path) -> None:
    """As root the README promises a cgroup per command; in a container without one the run goes on, saying so."""
    result = subprocess.run(
        _hide_cgroups([sys.executable, "-m", "api.cli", *PAUSED_RUN]),
        env=_environment(home),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("agent: warning: local sandbox")]
    assert any("memory is bounded per process only" in line for line in warnings), result.stderr
    assert any("processes are bounded by RLIMIT_NPROC only" in line for line in warnings), result.stderr
    if {"memory_bytes", "processes"} <= cgroup_limits_usable():
        plain = agent(*PAUSED_RUN, home=home)
        assert "agent: warning: local sandbox" not in plain.stderr  # this machine's own cgroups: nothing to say


def _folder_of_length(base: Path, length: int) -> Path:
    """A path under `base` exactly `length` bytes long, in components short enough for any filesystem."""
    path, remaining = base, length - len(os.fsencode(base))
    while remaining > 201:
        path, remaining = path / ("d" * 200), remaining - 201
    path = path / ("d" * (remaining - 1))
    assert len(os.fsencode(path)) == length
    return path


def test_a_home_too_deep_for_sqlite_is_named_and_the_deepest_that_fits_works(tmp_path: Path) -> None:
    """SQLite opens paths up to 512 bytes (its journal's name included) and otherwise says only 'unable to open'."""
    deepest = _folder_of_length(tmp_path, 512 - len("/labgate.db-journal"))
    assert agent("runs", "--json", home=deepest).returncode == 0
    too_deep = _folder_of_length(tmp_path, len(os.fsencode(deepest)) + 1)
    refused = agent("runs", "--json", home=too_deep)
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in refused.stderr
    assert "LABGATE_HOME" in lines[0] and "shorter folder" in lines[0]


@pytest.mark.parametrize("name", ["my runs", "o'brien", 'say "hi"', "tab\there"])
def test_a_cfd_case_under_a_path_openfoam_refuses_is_named_before_anything_runs(tmp_path: Path, name: str) -> None:
    """OpenFOAM's file names may hold no blank or quote: such a LABGATE_HOME failed every command with
    "mesh exited with code 1"; the experiment now says which characters and what to change."""
    from runs import ExperimentSpec, TaskSpec
    from tools.cfd import CfdWorkload

    def never(workdir: Path, **_: object) -> object:
        raise AssertionError("a sandbox was opened for a case OpenFOAM cannot run")

    task = TaskSpec(id="cfd/cavity", workload="cfd", params={"case": "cavity"})
    spec = ExperimentSpec(key="re=100", task_id=task.id, params={"case": "cavity", "re": 100, "cells": 8})
    outcome = CfdWorkload().run(task, spec, tmp_path / name / "experiment", never)  # type: ignore[arg-type]
    assert outcome.status == "error"
    assert "OpenFOAM cannot run a case whose path holds" in (outcome.error or "")
    assert "LABGATE_HOME" in (outcome.error or "")
    with pytest.raises(AssertionError, match="a sandbox was opened"):  # a plain path goes on to the sandbox
        CfdWorkload().run(task, spec, tmp_path / "plain" / "experiment", never)  # type: ignore[arg-type]
