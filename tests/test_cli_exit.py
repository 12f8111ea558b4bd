"""How the `agent` program ends (api/cli/_entry.py): its exit status, its output and every exit handler kept,
the interpreter's teardown skipped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from api.cli._entry import exit_status

REPO = Path(__file__).resolve().parent.parent

# Replaces the command with `BODY`, then runs the `agent` program's entry point in a fresh interpreter.
PROBE = """
import atexit, sys
import api.cli._main as commands
from api.cli._entry import main

class Teardown:
    def __del__(self):
        print("torn down", flush=True)

kept = Teardown()  # freed only by the interpreter's teardown

def command():
    atexit.register(lambda: print("exit handler ran", flush=True))
{body}

commands.main = command
main()
"""


def _probe(body: str) -> subprocess.CompletedProcess[str]:
    source = PROBE.format(body="\n".join("    " + line for line in body.splitlines()))
    return subprocess.run(
        [sys.executable, "-c", source], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("raise SystemExit(3)", 3),
        ("raise SystemExit(0)", 0),
        ("raise SystemExit(None)", 0),
        ("raise SystemExit('a message')", 1),
        ("pass", 0),
        ("raise KeyboardInterrupt", 130),
        ("raise RuntimeError('an internal error')", 1),
    ],
)
def test_the_status_and_the_output_are_kept_and_the_teardown_skipped(body: str, status: int) -> None:
    result = _probe('print("unflushed output", end="")\n' + body)
    assert result.returncode == status, result.stderr
    # Output buffered at the end is flushed; a handler registered by the command runs; nothing is torn down.
    assert result.stdout == "unflushed outputexit handler ran\n"
    if "RuntimeError" in body:
        assert "RuntimeError: an internal error" in result.stderr  # Python's own traceback, as before
    if "message" in body:
        assert result.stderr.strip() == "a message"


def test_an_ordinary_interpreter_would_have_torn_it_down() -> None:
    """The control: without the entry point's exit the same object is freed, so the test above can fail."""
    source = PROBE.replace("main()", "command()").format(body="    pass")
    result = subprocess.run([sys.executable, "-c", source], cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "torn down" in result.stdout


def test_exit_status_reads_a_system_exit_as_python_does() -> None:
    assert [exit_status(code) for code in (None, 0, 2, 130, 256 + 7, "text", 1.5)] == [0, 0, 2, 130, 7, 1, 1]


def test_python_m_api_cli_ends_with_the_commands_status(tmp_path: Path) -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "api.cli", "show", "no-such-run"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"LABGATE_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert shown.returncode == 2
    assert "no run with id 'no-such-run'" in shown.stderr


BLAS_PROBE = """
import os, sys, types
os.environ.pop("OPENBLAS_NUM_THREADS", None)
{preset}
def command():
    before = len(os.listdir("/proc/self/task"))
    import numpy
    numpy.dot(numpy.ones(1 << 16), numpy.ones(1 << 16))
    print(os.environ.get("OPENBLAS_NUM_THREADS"), len(os.listdir("/proc/self/task")) - before, flush=True)

sys.modules["api.cli._main"] = types.SimpleNamespace(main=command)  # numpy not imported before the entry runs
from api.cli._entry import main
main()
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="OpenBLAS starts no second thread on one core")
@pytest.mark.parametrize(("preset", "expected"), [("", "1 0"), ("os.environ['OPENBLAS_NUM_THREADS'] = '2'", "2 1")])
def test_the_command_runs_numpy_on_one_blas_thread_unless_told_otherwise(preset: str, expected: str) -> None:
    """A second OpenBLAS thread spins after every call, on the cores the solvers need (see BLAS_THREADS)."""
    source = BLAS_PROBE.format(preset=preset)
    result = subprocess.run(
        [sys.executable, "-c", source], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == expected.split()
