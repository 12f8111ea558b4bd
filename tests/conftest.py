"""Shared fixtures. Tests that need a real tool skip without it locally and fail without it in CI."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runs import RunStore

# Fixtures kept in modules of their own, for the test files that share them.
pytest_plugins = ["tests.proof_backends"]

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


class SlowLane:
    """Names every test the fast lane (`-m "not slow"`) should leave out but does not: a warning, not a failure.

    Setup, call and teardown are summed, so a slow module fixture counts against the first test that
    uses it. The machine running the suite may be loaded; the warning leaves the judgement to a person.
    """

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.slow: set[str] = set()
        self.seconds: dict[str, float] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # From the report, not the collected items: under pytest-xdist only the workers collect.
        if "slow" in report.keywords:
            self.slow.add(report.nodeid)
        self.seconds[report.nodeid] = self.seconds.get(report.nodeid, 0.0) + report.duration

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        unmarked = sorted(
            ((seconds, nodeid) for nodeid, seconds in self.seconds.items() if seconds >= self.limit),
            reverse=True,
        )
        unmarked = [(seconds, nodeid) for seconds, nodeid in unmarked if nodeid not in self.slow]
        if not unmarked:
            return
        terminalreporter.write_sep("=", f"{len(unmarked)} test(s) took {self.limit:g} s or more, not marked slow")
        for seconds, nodeid in unmarked:
            terminalreporter.write_line(f"WARNING {seconds:.1f}s {nodeid}: mark it @pytest.mark.slow", yellow=True)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("slow_seconds", "a test that takes this long (seconds) or longer must be marked slow", default="10")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SlowLane(float(config.getini("slow_seconds"))), "labgate-slow-lane")


def require_tool(available: bool, what: str) -> None:
    """Skip locally, fail in CI: CI installs every tool, so a missing one there is a broken setup."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI (scripts/setup installs it)")
    pytest.skip(f"{what} is not installed")


@pytest.fixture
def openfoam() -> None:
    require_tool(shutil.which("icoFoam") is not None and Path("/usr/share/openfoam/etc").is_dir(), "OpenFOAM")


_BUBBLEWRAP_WORKED = False


@pytest.fixture
def bubblewrap() -> None:
    """bubblewrap starts a sandbox here: probed until it once has, up to three tries a test.

    One probe failed once in a full parallel CI run (a test's setup error with the same tree passing alone
    and in two other full runs), so a single failure is not taken for a missing tool; what bwrap said is
    kept for the message when every try fails.
    """
    global _BUBBLEWRAP_WORKED
    if _BUBBLEWRAP_WORKED:
        return
    said = "bwrap is not on PATH"
    for attempt in range(3 if shutil.which("bwrap") else 0):
        probe = subprocess.run(
            ["bwrap", "--unshare-all", "--ro-bind", "/", "/", "true"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            _BUBBLEWRAP_WORKED = True
            return
        said = f"bwrap exited {probe.returncode}: {probe.stderr.strip()[:300]}"
        time.sleep(0.5 * (attempt + 1))
    require_tool(False, f"bubblewrap with working namespaces ({said})")


def docker_image(name: str) -> str:
    """The content tag of shipped image `name`, when the engine runs and has it (skip locally, fail in CI)."""
    from sandboxes import image_reference

    try:
        import docker

        client = docker.from_env(timeout=30)
        client.ping()
    except Exception:
        require_tool(False, "a running Docker engine (.ci/run starts dockerd)")
        raise
    reference = image_reference(name)
    try:
        client.images.get(reference)
    except docker.errors.DockerException:
        require_tool(False, f"docker image {reference} (agent images build {name})")
    finally:
        client.close()
    return reference


def opencl_usable() -> bool:
    try:
        import pyopencl as cl

        return bool(cl.get_platforms())
    except Exception:  # noqa: BLE001 - any failure to load OpenCL means it is not usable
        return False


@pytest.fixture
def opencl() -> None:
    require_tool(opencl_usable(), "an OpenCL platform (pocl-opencl-icd) with pyopencl")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def store(home: Path) -> Iterator[RunStore]:
    store = RunStore(home)
    yield store
    store.engine.dispose()


def agent(
    *args: str, home: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run the real `agent` entry point in a subprocess, as a user would."""
    full_env = {**os.environ, "LABGATE_HOME": str(home), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=REPO,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def coq() -> None:
    """Coq 8.16 with CoqHammer (and eprover for `hammer`), as scripts/setup installs them."""
    require_tool(shutil.which("coqc") is not None, "Coq (coqc)")
    require_tool(Path("/usr/lib/ocaml/coq/user-contrib/Hammer").is_dir(), "CoqHammer (libcoq-hammer)")


def tree_digest(root: Path) -> str:
    """One digest of every path and file's bytes under `root`: equal before and after means untouched."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def checkpointed(home: Path, run_id: str) -> None:
    """Record a checkpoint for `run_id` as its graph leaves one when it pauses for approval: an approval is
    refused for a paused run with none (its plan would be lost), and tests make paused runs by hand."""
    import sqlite3

    from agents._checkpoint import CHECKPOINTS, open_checkpointer

    with open_checkpointer(home):
        pass  # the file and its tables, as LangGraph makes them
    with contextlib.closing(sqlite3.connect(home / CHECKPOINTS)) as database, database:
        database.execute(
            "INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, type, checkpoint, metadata) "
            "VALUES (?, '', 'approval', 'msgpack', x'', x'')",
            (run_id,),
        )


def solvers_of(run_id: str) -> list[int]:
    """icoFoam processes working in the run's directory, or a Ray worker's scratch directory for the run (other
    tests may run their own solvers)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            name = Path(f"/proc/{entry.name}/comm").read_text().strip()
            cwd = os.readlink(f"/proc/{entry.name}/cwd")
        except OSError:
            continue
        if name == "icoFoam" and run_id in cwd:
            found.append(int(entry.name))
    return found


def wait_for(what: str, condition: Callable[[], object], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@contextlib.contextmanager
def within_seconds(seconds: int) -> Iterator[None]:
    """Fails the test by an alarm: a liveness bound far above a linear reader's time, far below a superlinear
    one's (minutes to hours at the sizes the tests use), not a performance claim."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still reading after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
