"""A case's utilities run as one sandboxed script whose report of each step is checked, never just believed.

The steps here are shell one-liners rather than OpenFOAM utilities (the script treats both alike), run in
the real local sandbox; the CFD tests run the same function with blockMesh and the solvers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from sandboxes import ExecResult, LocalSandbox
from tools.cfd.openfoam._commands import (
    STEP_MARK,
    CaseStep,
    OpenFOAMConfig,
    StepReportError,
    _outcomes,
    run_steps,
)

pytestmark = pytest.mark.usefixtures("bubblewrap")

CONFIG = OpenFOAMConfig()


def step(name: str, shell: str) -> CaseStep:
    return CaseStep(name, ("sh", "-c", f"'{shell}'"), f"log.{name}")


class CountingSandbox(LocalSandbox):
    """The local sandbox, counting the commands it starts."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands = 0

    def exec(self, cmd: Sequence[str], **kwargs: Any) -> ExecResult:
        self.commands += 1
        return super().exec(cmd, **kwargs)


def run(tmp_path: Path, steps: list[CaseStep], timeout: float = 30.0) -> tuple[list[Any], int]:
    sandbox = CountingSandbox(workdir=tmp_path)
    try:
        return run_steps(sandbox, steps, CONFIG, timeout=timeout), sandbox.commands
    finally:
        sandbox.close()


def test_the_steps_run_in_order_in_one_sandbox_command_each_to_its_log(tmp_path: Path) -> None:
    outcomes, commands = run(tmp_path, [step("mesh", "echo meshed; sleep 0.2"), step("solve", "cat log.mesh")])
    assert commands == 1
    assert [(o.name, o.returncode, o.timed_out) for o in outcomes] == [("mesh", 0, False), ("solve", 0, False)]
    assert (tmp_path / "log.mesh").read_text() == "meshed\n"
    assert (tmp_path / "log.solve").read_text() == "meshed\n"  # the second step saw the first one's file
    assert outcomes[0].seconds >= 0.15 and outcomes[1].seconds < outcomes[0].seconds


def test_the_first_failure_stops_the_script_with_its_own_code(tmp_path: Path) -> None:
    outcomes, _ = run(tmp_path, [step("mesh", "echo broken >&2; exit 3"), step("solve", "echo ran")])
    assert [(o.name, o.returncode) for o in outcomes] == [("mesh", 3)]
    assert (tmp_path / "log.mesh").read_text() == "broken\n"
    assert not (tmp_path / "log.solve").exists()


def test_the_step_running_at_the_deadline_is_the_one_timed_out(tmp_path: Path) -> None:
    outcomes, _ = run(tmp_path, [step("mesh", "true"), step("solve", "sleep 30"), step("post", "true")], timeout=1.5)
    assert [(o.name, o.returncode, o.timed_out) for o in outcomes] == [("mesh", 0, False), ("solve", None, True)]
    assert 1.0 < outcomes[1].seconds < 10


FORGE = "for f in /proc/[0-9]*/fd/*; do case $(readlink $f) in pipe*) echo {line} > $f;; esac; done 2>/dev/null"


@pytest.mark.parametrize(
    ("line", "then"),
    [
        (f"{STEP_MARK} 0 end 1.0 0", "exit 5"),  # a failing step reports itself done
        (f"{STEP_MARK} 1 start 1.0", "true"),  # or the next step started
        (f"{STEP_MARK} 7 start 1.0", "true"),  # or a step the task never had
        ("hello", "true"),
    ],
)
def test_a_step_writing_into_the_report_never_changes_it(tmp_path: Path, line: str, then: str) -> None:
    """Every pipe a step can open through /proc gets a forged line: where one reaches the script's output
    (a run as an ordinary user, whose uid owns those pipes), the run fails; where none does (as root, the
    host's pipes are not the sandbox uid's to open), the report is the script's own."""
    steps = [step("mesh", FORGE.format(line=line) + f"; {then}"), step("solve", "true")]
    try:
        outcomes, _ = run(tmp_path, steps)
    except StepReportError:
        return
    expected = [("mesh", 5)] if then == "exit 5" else [("mesh", 0), ("solve", 0)]
    assert [(o.name, o.returncode) for o in outcomes] == expected


def mark(index: int, kind: str, at: float, code: int | None = None) -> str:
    return f"{STEP_MARK} {index} {kind} {at}" + ("" if code is None else f" {code}")


STEPS = [step("mesh", "true"), step("solve", "true")]


def test_a_report_must_agree_with_the_exit_status_the_sandbox_saw() -> None:
    both_done = "\n".join([mark(0, "start", 1), mark(0, "end", 2, 0), mark(1, "start", 2), mark(1, "end", 5, 0)])
    assert [o.seconds for o in _outcomes(STEPS, both_done, 0, 4.0)] == [1.0, 3.0]
    with pytest.raises(StepReportError, match="exited with 1 after reporting 2 of 2"):
        _outcomes(STEPS, both_done, 1, 4.0)
    one_failed = "\n".join([mark(0, "start", 1), mark(0, "end", 2, 4)])
    assert [o.returncode for o in _outcomes(STEPS, one_failed, 4, 1.0)] == [4]
    with pytest.raises(StepReportError, match="reported code 4, the script exited with 0"):
        _outcomes(STEPS, one_failed, 0, 1.0)
    with pytest.raises(StepReportError, match="in the middle of solve"):
        _outcomes(STEPS, "\n".join([mark(0, "start", 1), mark(0, "end", 2, 0), mark(1, "start", 2)]), 0, 1.0)
    with pytest.raises(StepReportError, match="out of order"):
        _outcomes(STEPS, "\n".join([mark(0, "start", 1), mark(0, "start", 1)]), 0, 1.0)
    with pytest.raises(StepReportError, match="goes on after mesh failed"):
        _outcomes(STEPS, one_failed + "\n" + mark(1, "start", 3), 4, 1.0)


def test_an_empty_report_is_refused_and_an_empty_task_runs_nothing(tmp_path: Path) -> None:
    with pytest.raises(StepReportError, match="after reporting 0 of 2"):
        _outcomes(STEPS, "", 0, 1.0)
    assert run(tmp_path, [])[0] == []


def test_a_timed_out_script_whose_report_says_it_was_done_is_refused() -> None:
    """Got through before: a step wrote `end 0` for itself and every later step, then hung; the time limit cut
    the script and every step read as run and successful, the solve included, which never started."""
    both_done = "\n".join([mark(0, "start", 1), mark(0, "end", 2, 0), mark(1, "start", 2), mark(1, "end", 5, 0)])
    with pytest.raises(StepReportError, match="ran out of time after its report says every step ended"):
        _outcomes(STEPS, both_done, None, 4.0)
    one_failed = "\n".join([mark(0, "start", 1), mark(0, "end", 2, 4)])
    with pytest.raises(StepReportError, match="says mesh failed"):
        _outcomes(STEPS, one_failed, None, 4.0)
    running = "\n".join([mark(0, "start", 1), mark(0, "end", 2, 0), mark(1, "start", 2)])
    outcomes = _outcomes(STEPS, running, None, 4.0)
    assert [(o.name, o.returncode, o.timed_out) for o in outcomes] == [("mesh", 0, False), ("solve", None, True)]


HANG_AFTER_FORGING = (
    "for f in /proc/[0-9]*/fd/1; do case $(readlink $f) in pipe*) "
    'printf "{mark} 0 end 1.0 0\\n{mark} 1 start 1.0\\n{mark} 1 end 1.0 0\\n" > $f;; esac; done 2>/dev/null; sleep 30'
)


def test_a_step_that_forges_the_rest_of_the_report_and_hangs_gains_nothing(tmp_path: Path) -> None:
    """As an ordinary user the step can reach the script's output; as root it cannot. Either way the solve is
    never reported as run: the report is refused, or the step that hung is the one timed out."""
    steps = [step("mesh", HANG_AFTER_FORGING.format(mark=STEP_MARK)), step("solve", "echo ran")]
    try:
        outcomes, _ = run(tmp_path, steps, timeout=1.5)
    except StepReportError:
        return
    assert [(o.name, o.returncode, o.timed_out) for o in outcomes] == [("mesh", None, True)]
    assert not (tmp_path / "log.solve").exists()
