"""Untrusted text on the terminal cannot pose as labgate's own lines or styles (red-team findings F3, F4).

A model's rationale, a planner's rationale and task id, a document's name, a file name in a user's case and a
verdict's reasons reach the command line's output. A line break in them started a line that looked like
labgate's (`[    9.1s] re=400: accept`), and rich markup in them (`[link=…]`, `[conceal]`, `[green]`) became a
hyperlink, a hidden verdict or a colour. Each printing path is driven here with such text, with rich's colours
on as in a terminal: every forged line must stay on the line it came in, and every tag print as written.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from api._progress import LineReporter, LiveReporter
from api._terminal import TerminalConsole, printable, printable_block, styled
from api.cli import main
from runs import ExperimentSpec, GateResult, RunStore, TaskSpec
from tests.conftest import agent
from tests.llm_server import Reply, Rule, ScriptedLLMServer

LINK = "[link=https://evil.example]x[/link]"
CONCEAL = "[conceal]"
GREEN = "[green]ACCEPTED[/green]"
TAGS = (LINK, CONCEAL, GREEN)
NAME = f"{CONCEAL}[link=mailto:x@evil.example][green]ACCEPTED"
"""Markup a file name can hold (no `/`): its tags run to the end of the line."""
FORGED = "[    9.1s] re=400: accept"
BREAKS = ("\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029")
PAYLOAD = f"{LINK} {CONCEAL}hidden {GREEN}" + "".join(f"{brk}{FORGED}" for brk in BREAKS)
PADDED = "x" + " " * 300 + FORGED
"""No line break at all: a console that word-wraps at 80 columns would start a line with the forged text."""

COLOURS = {"FORCE_COLOR": "1", "COLORTERM": "truecolor", "TERM": "xterm-256color", "COLUMNS": "80"}
"""Rich styles its output as in a terminal, so that markup it read would show as escape sequences."""

_SGR = re.compile(r"\x1b\[([0-9;]*)m")


def assert_inert(output: str, tags: tuple[str, ...] = TAGS) -> None:
    """No line of `output` starts with the forged progress line, and no tag in `tags` was read as markup."""
    assert "\x1b]8;" not in output, "an OSC 8 hyperlink"
    for params in _SGR.findall(output):
        assert "8" not in params.split(";"), "SGR 8 (conceal)"
    assert not re.search(r"(\x1b\[[0-9;]*m)+ACCEPTED", output), "a style from the payload"
    for line in output.splitlines():
        assert not _SGR.sub("", line).startswith(FORGED), f"a forged line: {line!r}"
    for tag in tags:
        assert tag in output, f"{tag} was read as markup"


def assert_shows_payload(output: str) -> None:
    """The payload is there, on one line, its line breaks written as escapes."""
    assert_inert(output)
    assert f"{GREEN}\\n{FORGED}\\r{FORGED}\\r\\n{FORGED}" in output, output
    assert f"\\x85{FORGED}\\u2028{FORGED}\\u2029{FORGED}" in output, output


# -- the mechanism ---------------------------------------------------------------------------------------------


def test_printable_puts_every_line_break_on_the_same_line() -> None:
    shown = printable(PAYLOAD)
    assert len(shown.splitlines()) == 1
    assert printable("a\nb\rc\x85d\u2028e\u2029f\tg") == "a\\nb\\rc\\x85d\\u2028e\\u2029f\tg"


def test_a_block_indents_every_quoted_line() -> None:
    block = printable_block(f"building failed: exit 1\n{FORGED}\r\n\x1b[31m{FORGED}\u2028{FORGED}")
    first, *rest = block.splitlines()
    assert first == "building failed: exit 1" and len(rest) == 3
    assert all(line.startswith("    ") for line in rest) and "\\x1b[31m" in rest[1]
    assert printable_block("") == ""


def _terminal(**options: Any) -> tuple[TerminalConsole, io.StringIO]:
    out = io.StringIO()
    console = TerminalConsole(file=out, force_terminal=True, color_system="truecolor", width=80, **options)
    return console, out


def test_the_console_reads_no_markup_in_strings_and_styles_only_its_own_parts() -> None:
    console, out = _terminal()
    console.print(f"reason: {PAYLOAD}")
    console.print(styled("run ", ("r1", "bold"), f" {PAYLOAD}: ", ("reject", "red")))
    console.print(PADDED)
    text = out.getvalue()
    assert_shows_payload(text)
    assert "\x1b[1mr1" in text and "\x1b[31mreject" in text  # labgate's own styles are rendered
    assert len(text.splitlines()) == 3  # one line each, however long: nothing is wrapped onto the margin
    with pytest.raises(ValueError, match="styled"):
        console.print(f"[red]{PAYLOAD}[/red]", markup=True)


def test_progress_lines_of_a_model_rationale_stay_on_one_line() -> None:
    """What `agent run` prints from a model's revise or stop rationale, in a pipe and in a terminal."""
    stream = io.StringIO()
    LineReporter(stream).event("revise", f"re=400: the model proposes to stop: {PAYLOAD}", {})
    assert_shows_payload(stream.getvalue())
    assert len(stream.getvalue().splitlines()) == 1
    console, out = _terminal(markup=True)
    with LiveReporter(console) as reporter:
        reporter.event("revise", f"re=400: the model proposes to stop: {PAYLOAD}", {"decision": "reject"})
    assert_shows_payload(out.getvalue())


def test_an_image_build_error_indents_the_log_lines_it_quotes(capsys: pytest.CaptureFixture[str]) -> None:
    """`agent images build` quotes a failed build's last lines under its error line: none at the left margin."""
    from api.cli._images import _fail

    _fail(f"building labgate/x failed: exit 1\n{FORGED}\nStep 3/7 : RUN {PAYLOAD}")
    first, *quoted = capsys.readouterr().err.splitlines()
    assert first == "agent: error: building labgate/x failed: exit 1"
    assert quoted == [f"    {FORGED}", f"    Step 3/7 : RUN {LINK} {CONCEAL}hidden {GREEN}", *[f"    {FORGED}"] * 9]


# -- the command line --------------------------------------------------------------------------------------------


def _hostile_run(home: Path) -> str:
    """A run whose status reason, plan, experiment key and verdict reasons hold the payload."""
    store = RunStore(home)
    run = store.create_run(TaskSpec(id="cfd/cavity", workload="cfd"))
    planned = [{"key": "re=100", "params": {"re": 100}, "rationale": PAYLOAD}]
    store.emit(run.id, "plan", "planned 1 experiment(s)", {"keys": ["re=100"], "planned": planned})
    key = f"re=100 {NAME}"
    experiment = store.add_experiment(run.id, ExperimentSpec(key=key, task_id=run.task_id))
    for reason in (PAYLOAD, PADDED):
        store.add_verdict(run.id, experiment.id, GateResult(gate="deliverables", decision="reject", reasons=[reason]))
    store.set_status(run.id, "paused", f"waiting: {PAYLOAD}")
    store.engine.dispose()
    return str(run.id)


def test_show_prints_recorded_text_as_written(home: Path) -> None:
    run_id = _hostile_run(home)
    shown = agent("show", run_id, home=home, env=COLOURS)
    assert shown.returncode == 0, shown.stderr
    assert_shows_payload(shown.stdout)
    assert shown.stdout.count(f"{GREEN}\\n{FORGED}") == 3  # the status reason, the planned rationale, a reason
    assert NAME in shown.stdout  # the experiment's key, in a table cell


def _planner_documents(where: Path) -> Path:
    where.mkdir()
    (where / "cavity.md").write_text("# Cavity\n\nWe validate the lid-driven cavity at Re = 100 against Ghia et al.\n")
    (where / f"{NAME} data.zip").write_bytes(b"")  # a document the planner cannot read, named in a note
    return where


HOSTILE_PLANS = {
    "plans": [
        {
            "task_id": "cfd/cavity",
            "params": {"re": 100},
            "rationale": f"The document validates the cavity at Re 100 {PAYLOAD}",
            "citations": ["cavity.md#1"],
        },
        {"task_id": f"{LINK}kernels/heat2d", "params": {}, "rationale": "x", "citations": ["cavity.md#1"]},
    ]
}


GOAL = "validate the solver on the lid-driven cavity"


def _llm_env(server: ScriptedLLMServer) -> dict[str, str]:
    return {**COLOURS, "LABGATE_LLM_BASE_URL": server.url, "LABGATE_LLM_MODEL": "planner"}


def test_agent_plan_prints_a_models_plan_as_plain_text(home: Path, tmp_path: Path) -> None:
    docs = _planner_documents(tmp_path / "docs")
    rules = [Rule("You are the planner", [Reply(content=json.dumps(HOSTILE_PLANS))])]
    with ScriptedLLMServer(rules) as server:
        planned = agent("plan", "--docs", str(docs), GOAL, home=home, env=_llm_env(server))
    assert planned.returncode == 0, planned.stderr
    assert_shows_payload(planned.stdout)
    assert "\x1b[1mcfd/cavity" in planned.stdout  # the plan's own bold task id
    assert f"'{LINK}kernels/heat2d'" in planned.stdout  # the note quoting the model's task id


def test_agent_plan_names_a_document_with_markup_as_written(home: Path, tmp_path: Path) -> None:
    docs = _planner_documents(tmp_path / "docs")
    builtin = agent("plan", "--docs", str(docs), GOAL, home=home, env=COLOURS)
    assert builtin.returncode == 0, builtin.stderr
    assert_inert(builtin.stdout, tags=(NAME,))
    assert f"note: not read: {NAME} data.zip" in builtin.stdout  # the built-in planner's note names the file


def test_a_run_planned_from_documents_prints_the_rationale_on_one_line(home: Path, tmp_path: Path) -> None:
    """`agent run --docs … --approve-plan` prints the plan it chose (on stderr), then pauses before any experiment."""
    docs = _planner_documents(tmp_path / "docs")
    rules = [Rule("You are the planner", [Reply(content=json.dumps(HOSTILE_PLANS))])]
    with ScriptedLLMServer(rules) as server:
        run = agent("run", "--docs", str(docs), GOAL, "--approve-plan", home=home, env=_llm_env(server))
    assert run.returncode == 0, run.stderr
    assert_shows_payload(run.stderr)
    assert re.search(r"^plan: cfd/cavity \(planner: The document", run.stderr, re.MULTILINE), run.stderr
    assert_inert(run.stdout, tags=())  # the summary: "run … cfd/cavity: paused — waiting for plan approval"
    assert "paused" in run.stdout


def _checked(home: Path, case: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    """What `agent check cfd/case CASE` prints when the gates name a link in the case with the payload."""
    import api.cli._check as check

    link = f"notes{PAYLOAD}"

    def judged(*_args: Any, **_kwargs: Any) -> dict[str, Any]:
        return {
            "decision": "inconclusive",
            "task": "cfd/case",
            "workload": "cfd",
            "source": str(case),
            "verdicts": [
                {"gate": "deliverables", "decision": "reject", "reasons": [f"refused to read case/{link}", PADDED]},
            ],
            "skipped": ["reproduction"],
            "refused": [f"case/{link}"],
            "gate_deviations": [],
            "params": {"case_dir": str(case)},
            "metrics": {},
            "workdir": str(home / "checks" / "x"),
            "details": {},
        }

    monkeypatch.setattr(check, "check_result", judged)
    for name, value in {**COLOURS, "LABGATE_HOME": str(home)}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        main(["check", "cfd/case", str(case)])
    assert exited.value.code == 1
    return capsys.readouterr().out


def test_check_prints_a_case_named_with_markup_as_written(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    case = tmp_path / f"{NAME}case"
    case.mkdir()
    out = _checked(home, case, monkeypatch, capsys)
    assert_shows_payload(out)
    assert f"{NAME}case: \x1b[33minconclusive" in out  # the decision keeps its own colour
    assert out.count(f"{GREEN}\\n{FORGED}") == 2  # the reason and the refusal naming the link


TUTORIAL = Path("/usr/share/doc/openfoam-examples/examples/incompressible/icoFoam/cavity/cavity")


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_check_of_a_real_case_with_a_hostile_link_and_name(home: Path, tmp_path: Path) -> None:
    """The red team's case: a symbolic link named with line breaks in a run cavity, in a folder named with markup."""
    if not TUTORIAL.is_dir():
        pytest.skip(f"the OpenFOAM tutorial {TUTORIAL} is not installed (apt-get install openfoam-examples)")
    case = tmp_path / f"{NAME}case"
    shutil.copytree(TUTORIAL, case)
    for path in [case, *case.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    script = "source /usr/share/openfoam/etc/bashrc >/dev/null 2>&1; set -e; blockMesh > log.blockMesh 2>&1; "
    subprocess.run(["bash", "-c", script + "icoFoam > log.icoFoam 2>&1"], cwd=case, check=True, timeout=300)
    (case / f"notes{NAME}\n{FORGED}\r{FORGED}\u2028{FORGED}").symlink_to("/etc/hostname")  # no `/`, < 256 bytes
    checked = agent("check", "cfd/case", str(case), home=home, env=COLOURS, timeout=600)
    assert checked.returncode == 1, checked.stderr
    assert_inert(checked.stdout, tags=(NAME,))
    assert f"notes{NAME}\\n{FORGED}\\r{FORGED}\\u2028{FORGED}: a symbolic link" in checked.stdout
    assert f"{NAME}case: \x1b[31mreject" in checked.stdout  # the deliverables gate refused the link


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_a_models_stop_rationale_in_a_run_stays_on_its_line(home: Path) -> None:
    """The red team's run: at delta_t 0.04 the 16-cell cavity is asked to rerun, and the model stops with a
    rationale that holds the forged lines; `agent run` prints it as a progress line in a pipe."""
    stop = {"action": "stop", "rationale": f"nothing left to try. {PAYLOAD}"}
    rules = [Rule("Experiment re=400 with", [Reply(content=json.dumps(stop))])]
    cavity = ("--param", "re=400", "--param", "cells=16", "--param", "delta_t=0.04", "--budget", "2")
    with ScriptedLLMServer(rules) as server:
        run = agent("run", "cfd/cavity", *cavity, home=home, env=_llm_env(server), timeout=600)
    assert run.returncode in (0, 1), run.stderr
    assert "re=400: the model proposes to stop: nothing left to try." in run.stderr, run.stderr
    assert_shows_payload(run.stderr)
    assert_inert(run.stdout, tags=())
