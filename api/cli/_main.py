"""The `agent` command line: run tasks, list and inspect runs.

Exit codes: 0 when the command did its job (a run that finished, whatever its verdicts);
1 when a run failed or was cancelled; 2 for bad input (unknown task, bad option, unreadable file).
"""

from __future__ import annotations

import contextlib
import faulthandler
import math
import os
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click
from pydantic import ValidationError
from rich.table import Column, Table
from sqlalchemy.exc import DBAPIError

from agents import (
    CANCEL_GRACE_SECONDS,
    RunLauncher,
    RunOptions,
    RunStateError,
    RunSummary,
    cancel_run,
    stop_unresponsive,
)
from agents.llm import llm_purpose
from api._detail import REPORTED_STATUSES, checked_run, iso, listed_runs, reported_status, run_detail
from api._errors import BadInputError
from api._json import dumps_strict
from api._progress import LineReporter, LiveReporter
from api._settings import Settings, SettingsError, build_catalog, build_launcher, build_store
from api._terminal import TerminalConsole, printable, printable_cells, styled
from api.cli._images import images_group
from api.cli._interrupt import EXIT_INTERRUPTED, signals_interrupt
from api.cli._isolation import announce_isolation_gaps
from api.cli._streams import dropping_stream, lost_output, prepare_standard_streams, utf8_text_files
from runs import (
    MAX_EXPERIMENTS,
    MAX_SEED,
    STORAGE_ERRNOS,
    RunNotFoundError,
    RunStore,
    StoreUnavailableError,
    TaskSpec,
    describe_deviations,
    recorded_deviations,
    store_failure,
    task_label,
)
from tools import TaskError, apply_overrides, check_param_types, describe_validation_error

if TYPE_CHECKING:
    from agents.planner import PlanningResult

EXIT_BAD_INPUT = 2
MAX_LISTED = 2**63 - 1
"""The largest row count a database LIMIT holds (a larger one overflows SQLite's INTEGER)."""


@click.group(help="labgate: research runs judged by verifier gates.")
def app() -> None:
    pass


_json_out: TextIO | None = None


def _reserve_stdout_for_json() -> None:
    """Keep the real stdout for the one JSON object; everything else written to it goes to stderr.

    Libraries the run uses (Ray's log forwarding, solver wrappers) may print at any time; with
    --json, stdout must carry exactly one JSON object, so fd 1 is pointed at stderr for the rest
    of the process and the JSON goes to a duplicate of the original descriptor.
    """
    global _json_out
    if _json_out is None:
        sys.stdout.flush()
        _json_out = dropping_stream(None, os.dup(1))
        os.dup2(2, 1)


def _emit_json(data: Any) -> None:
    out = _json_out or sys.stdout
    out.write(dumps_strict(data) + "\n")  # strict JSON: a NaN metric is null, not a token no parser reads
    out.flush()


@app.command("tasks")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def tasks_command(as_json: bool) -> None:
    """List the built-in task catalog."""
    catalog = build_catalog(Settings())  # the catalog only: listing tasks needs no run store
    tasks = sorted(catalog.tasks().values(), key=lambda task: task.id)
    for name, problem in sorted(catalog.unavailable.items()):
        click.echo(printable(f"agent: warning: workload {name!r} left out: {problem}"), err=True)
    if as_json:
        _emit_json([{"id": t.id, "workload": t.workload, "title": t.title, "gates": t.gates} for t in tasks])
        return
    table = Table("task", "workload", "title", "gates", box=None)
    for task in tasks:
        table.add_row(*printable_cells(task.id, task.workload, task.title, ", ".join(task.gates)))
    TerminalConsole().print(table)


DOC_FORMATS = ".md .markdown .txt .rst .tex .html .htm .ipynb .pdf"
"""What the planner reads (agents/planner/_formats.py); the help text only, kept out of the planner's
import so that `agent --help` stays fast."""


@app.command("run")
@click.argument("task", required=False)
@click.option(
    "--docs",
    type=click.Path(path_type=Path),
    default=None,
    help=f"plan from research documents (a folder, or one file: {DOC_FORMATS}); TASK is then the goal",
)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object at the end")
@click.option(
    "--sandbox",
    type=click.Choice(["local", "docker"]),
    default=None,
    help="execution backend (default: the task's choice, local unless it says docker)",
)
@click.option("--image", default=None, help="docker image for the tools (default: the workload's, e.g. openfoam)")
@click.option(
    "--budget",
    type=click.IntRange(1, MAX_EXPERIMENTS),
    default=None,
    help="maximum number of experiments (solver runs)",
)
@click.option("--param", "param", multiple=True, help="name=value, or name=v1,v2 to sweep (repeatable)")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=None, help="seed recorded on the run")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="experiments run at once (default: cores)")
@click.option("--unsafe-no-isolation", is_flag=True, help="run experiments without bubblewrap (rlimits only)")
@click.option("--approve-plan", is_flag=True, help="pause after planning until `agent approve RUN_ID`")
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default=None,
    help="where experiments run (default LABGATE_EXECUTOR or local); ray uses LABGATE_RAY_ADDRESS",
)
def run_command(
    task: str | None,
    docs: Path | None,
    as_json: bool,
    sandbox: str | None,
    image: str | None,
    budget: int | None,
    param: tuple[str, ...],
    seed: int | None,
    workers: int | None,
    unsafe_no_isolation: bool,
    approve_plan: bool,
    executor: str | None,
) -> None:
    """Run TASK (a catalog id, see `agent tasks`, or a YAML/TOML/JSON task file):
    plan, execute in the sandbox, apply the gates, write the report.

    With --docs DIR, TASK is a goal in words: the planner reads the documents, picks the catalog
    task and parameters they support, and the run's report cites the passages."""
    settings = Settings()
    launcher = build_launcher(settings)
    options = RunOptions(
        sandbox=sandbox,
        unsafe_no_isolation=unsafe_no_isolation,
        max_workers=workers or settings.max_workers,
        image=image,
        approve_plan=approve_plan,
        executor=executor or settings.executor,
    )
    if docs is not None:
        goal = task or ""
        result = _plans(settings, launcher, docs, goal)
        if not result.plans:
            reasons = "; ".join(plan.unmapped_reason for plan in result.unmapped) or "no passage matches the goal"
            summary = launcher.record_failure(
                f"plan: {goal}"[:200], f"no available tool for the goal: {reasons}", options
            )
            if as_json:
                _emit_json(summary.model_dump())
            print(printable(f"agent: {summary.reason}"), file=sys.stderr)
            raise SystemExit(1)
        chosen = result.plans[0]
        print(printable(f"plan: {chosen.task_id} ({chosen.rationale})"), file=sys.stderr)
        for note in result.notes:  # what in the documents was not read, and why
            print(printable(f"note: {note}"), file=sys.stderr)
        options.plan = {"goal": goal, "planner": result.planner, **chosen.model_dump(mode="json")}
        task = chosen.task_id
    if task is None:
        raise BadInputError("name a TASK (see `agent tasks`), a task file, or give --docs DIR and a goal")
    try:
        if docs is not None:
            from agents.planner import plan_to_task  # only a run planned from documents reads them

            spec = plan_to_task(launcher.catalog, chosen, goal)
        else:
            spec = launcher.catalog.load(task)
        spec = apply_overrides(spec, params=list(param), budget_experiments=budget, seed=seed)
        workload = launcher.catalog.workloads.get(spec.workload)
        if workload is not None:
            check_param_types(workload, spec)
        if workload is not None and param:  # titled after what it now holds (a statement of one's own)
            spec = workload.titled(spec)
        run_id = launcher.submit(spec, options)
    except TaskError as error:
        summary = launcher.record_failure(task, str(error), options)
        if as_json:
            _emit_json(summary.model_dump())
        raise BadInputError(str(error)) from None

    _announce_llm(settings)
    announce_isolation_gaps(sandbox or spec.sandbox, unsafe_no_isolation)
    _drive(lambda reporter: launcher.execute(run_id, reporter), as_json, run_id)


def _announce_llm(settings: Settings) -> None:
    config = settings.llm_config()
    if config is None:
        print("no LLM endpoint configured (LABGATE_LLM_BASE_URL): using the built-in policy", file=sys.stderr)
    else:
        print(printable(f"LLM: {config.model} at {config.base_url}"), file=sys.stderr)


def _drive(action: Callable[[Any], RunSummary], as_json: bool, run_id: str) -> None:
    """Execute with a live display on a terminal or plain lines in a pipe; print the summary; set the exit code.

    Ctrl-C, SIGTERM or SIGHUP meanwhile stop the run, resumable (`signals_interrupt`): exit code 130."""
    if as_json:
        _reserve_stdout_for_json()
    interactive = sys.stderr.isatty() and not as_json
    # LiveReporter writes its own markup around each message, which it escapes (and makes `printable`).
    reporter: Any = LiveReporter(TerminalConsole(stderr=True, markup=True)) if interactive else LineReporter()
    try:
        with signals_interrupt(run_id) as interruption, reporter if interactive else nullcontext():
            summary = action(reporter)
    except RunStateError as error:
        raise BadInputError(str(error)) from None
    if as_json:
        _emit_json(summary.model_dump())
    else:
        _print_summary(summary)
    if interruption.received is not None and summary.status in ("running", "cancelled"):
        raise SystemExit(EXIT_INTERRUPTED)
    if summary.status not in ("finished", "paused"):
        raise SystemExit(1)


def _plans(settings: Settings, launcher: RunLauncher, docs: Path, goal: str) -> PlanningResult:
    from agents.planner import DocumentError, GoalError, make_plans  # a plain `agent run` never plans

    llm = None
    if settings.llm_config() is not None:
        llm = launcher.llm_for("planning", TaskSpec(id="plan/documents", workload="cfd"))
    try:
        with llm_purpose("planner"):
            return make_plans(launcher.catalog, docs, goal, llm)
    except (DocumentError, GoalError) as error:
        raise BadInputError(str(error)) from None


@app.command("plan")
@click.option(
    "--docs", type=click.Path(path_type=Path), required=True, help=f"a folder of documents, or one file ({DOC_FORMATS})"
)
@click.argument("goal", required=False, default="")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def plan_command(docs: Path, goal: str, as_json: bool) -> None:
    """Read research documents and propose runs for GOAL, each citing the passages it rests on.

    A goal no catalog task serves is refused ("no tool for this", with the closest tasks considered
    and why they do not fit): exit code 1. An empty goal is bad input: exit code 2."""
    settings = Settings()
    launcher = build_launcher(settings)
    result = _plans(settings, launcher, docs, goal)
    if as_json:
        _emit_json(result.model_dump(mode="json"))
        if result.refusal is not None:
            raise SystemExit(1)
        return
    # Rationales, quotes, notes (document names) and a model's task ids are untrusted: plain text, one line each.
    console = TerminalConsole()
    console.print(f"{result.passages} passages from {result.documents} documents; planner: {result.planner}")
    if result.llm_calls:
        console.print(f"model: {result.llm_calls} call(s), {result.llm_tokens} tokens")
    for plan in result.plans:
        settings_text = ", ".join(f"{k}={v}" for k, v in {**plan.params, **plan.sweep}.items())
        console.print(styled((plan.task_id, "bold"), f" {settings_text}  — {plan.rationale}"))
        for citation in plan.citations:
            console.print(f"    [{citation.passage}, {citation.location}] {citation.quote}")
    for plan in result.unmapped:
        console.print(styled(("not runnable", "yellow"), f": {plan.unmapped_reason}"))
        for citation in plan.citations:
            console.print(f"    [{citation.passage}] {citation.quote}")
    for note in result.notes:
        console.print(f"note: {note}")
    if result.refusal is not None:
        raise SystemExit(1)


@app.command("resume")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object at the end")
def resume_command(run_id: str, as_json: bool) -> None:
    """Continue a run whose process was killed, without repeating finished experiments."""
    settings = Settings()
    launcher = build_launcher(settings)
    run_id = _run_id(launcher.store, run_id)
    _drive(lambda reporter: launcher.resume(run_id, reporter), as_json, run_id)


@app.command("approve")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object at the end")
def approve_command(run_id: str, as_json: bool) -> None:
    """Approve the plan of a run started with --approve-plan, and execute it."""
    settings = Settings()
    launcher = build_launcher(settings)
    run_id = _run_id(launcher.store, run_id)
    _drive(lambda reporter: launcher.approve(run_id, reporter), as_json, run_id)


@app.command("cancel")
@click.argument("run_id")
def cancel_command(run_id: str) -> None:
    """Cancel a queued, paused or running run.

    The process executing a running run (`agent run` in a terminal, or a server's worker) notices
    within a few seconds, kills the run's sandboxed commands, marks what was unfinished cancelled and exits."""
    launcher = build_launcher(Settings())
    run_id = _run_id(launcher.store, run_id)
    try:
        was_running = launcher.store.get_run(run_id).status == "running"
        cancel_run(launcher.store, run_id)  # of two cancels racing, only one is told it cancelled the run
    except (RunStateError, RunNotFoundError) as error:
        raise BadInputError(str(error)) from None
    print(printable(f"run {run_id} cancelled"))
    if was_running:
        killed = stop_unresponsive(launcher.store, run_id, grace=_cancel_grace())
        if killed:
            print(printable(killed))


def _cancel_grace() -> float:
    """`LABGATE_CANCEL_GRACE_SECONDS`, else the default: how long a cancelled run's process may take to stop."""
    given = os.environ.get("LABGATE_CANCEL_GRACE_SECONDS", "")
    try:
        value = float(given)
    except ValueError:
        return CANCEL_GRACE_SECONDS
    return value if math.isfinite(value) and value >= 0 else CANCEL_GRACE_SECONDS


SHORTEST_PREFIX = 4
"""Fewer characters of a run id are not taken for one (most would name every run of a day)."""


def _run_id(store: RunStore, given: str) -> str:
    """The run `given` names: its whole id, or a unique beginning of one (as a narrow terminal's table shows it).

    A beginning that fits several runs is refused with the candidates; one that fits none is "no run"."""
    try:
        return store.get_run(given).id
    except RunNotFoundError as error:
        missing = str(error)
    found = store.run_ids_starting(given.rstrip("…").rstrip("."), limit=6) if len(given) >= SHORTEST_PREFIX else []
    if len(found) == 1:
        return found[0]
    if found:
        shown = ", ".join(found[:5]) + (", ..." if len(found) > 5 else "")
        raise BadInputError(f"{given!r} begins the ids of several runs ({shown}): give more of the id")
    raise BadInputError(missing)


def _print_summary(summary: RunSummary) -> None:
    console = TerminalConsole()
    colour = {"finished": "green", "paused": "yellow"}.get(summary.status, "red")
    console.print(
        styled(
            "run ",
            (summary.run_id, "bold"),
            f" {summary.task}: ",
            (summary.status, colour),
            f" — {summary.reason}" if summary.reason else "",
        )
    )
    if summary.gate_deviations:
        console.print(f"custom gates: {describe_deviations(summary.gate_deviations)}")
    console.print(f"accepted: {', '.join(summary.accepted) or 'none'}")
    if summary.rejected:
        console.print(f"not accepted: {', '.join(summary.rejected)}")
    if summary.report:
        console.print(f"report: {summary.report}")


@app.command("runs")
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
@click.option(
    "--limit", type=click.IntRange(1, MAX_LISTED), default=50, show_default=True, help="how many, newest first"
)
@click.option(
    "--status",
    type=click.Choice(list(REPORTED_STATUSES)),
    default=None,
    help="only runs with this status (stopped: recorded running, but no live process executes it)",
)
def runs_command(as_json: bool, limit: int, status: str | None) -> None:
    """List runs, newest first."""
    store = build_store(Settings())
    runs, _total = listed_runs(store, status=status, limit=limit, offset=0, sort="-created")
    rows = [
        {
            "run_id": run.id,
            "task": task_label(run.task_id, recorded_deviations(run.spec)),
            "gate_deviations": recorded_deviations(run.spec),
            "status": reported_status(checked_run(run)),
            "started": iso(run.started_at or run.created_at),
            "finished": iso(run.finished_at),
            "accepted": run.accepted,
            "rejected": run.rejected,
        }
        for run in runs
    ]
    if as_json:
        _emit_json(rows)
        return
    # The whole id, however narrow the terminal: it is what `show`, `resume` and `cancel` are given.
    widest = max((len(str(row["run_id"])) for row in rows), default=3)
    run_column = Column("run", no_wrap=True, min_width=widest)
    table = Table(run_column, "task", "status", "started", "accepted", "rejected", box=None)
    for row in rows:
        table.add_row(
            *printable_cells(
                str(row["run_id"]),
                str(row["task"]),
                str(row["status"]),
                str(row["started"])[:19],
                str(row["accepted"]),
                str(row["rejected"]),
            )
        )
    TerminalConsole().print(table)


@app.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def show_command(run_id: str, as_json: bool) -> None:
    """Show one run: status, experiments, verdicts and artifacts."""
    store = build_store(Settings())
    run_id = _run_id(store, run_id)
    try:
        detail = run_detail(store, run_id)
    except RunNotFoundError as error:
        raise BadInputError(str(error)) from None
    detail["plan"] = _planned(store, run_id)
    if as_json:
        _emit_json(detail)
        return
    console = TerminalConsole()
    console.print(
        styled(
            "run ",
            (detail["run_id"], "bold"),
            f" {detail['task']}: {detail['status']}",
            f" — {detail['reason']}" if detail["reason"] else "",
        )
    )
    if detail["gate_deviations"]:
        console.print(f"custom gates: {detail['gate_deviations_text']}")
    if detail["plan"] and (detail["status"] == "paused" or not detail["experiments"]):
        console.print(f"plan ({len(detail['plan'])} experiments, none run yet):")
        for planned in detail["plan"]:
            settings_text = ", ".join(f"{k}={v}" for k, v in sorted(planned.get("params", {}).items()))
            rationale = f" — {planned['rationale']}" if planned.get("rationale") else ""
            console.print(f"  {planned.get('key')}: {settings_text}{rationale}")
    # The first column does not wrap: a wrapped key's next line would start at the left margin.
    table = Table(Column("experiment", no_wrap=True), "status", "decision", "metrics", box=None)
    for experiment in detail["experiments"]:
        metrics = ", ".join(f"{k}={_metric(v)}" for k, v in sorted(experiment["metrics"].items())[:4])
        cells = (experiment["key"], experiment["status"], str(experiment["decision"]), metrics)
        table.add_row(*printable_cells(*cells))
    console.print(table)
    for verdict in detail["verdicts"]:
        reasons = "; ".join(verdict["reasons"])
        console.print(f"  {verdict['experiment']} · {verdict['gate']}: {verdict['decision']} — {reasons}")
    if detail["report"]:
        console.print(f"report: {detail['report']}")


def _metric(value: Any) -> str:
    """A metric as `show` prints it: numbers to four digits, anything else a workload stored as it is."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.4g}"
    return printable(value)[:40]


def _planned(store: RunStore, run_id: str) -> list[dict[str, Any]]:
    """The experiments the run's plan step chose (its latest `plan` event): what a paused run waits to run."""
    plans = [event for event in store.events(run_id, kind="plan") if "planned" in event.data]
    if not plans:
        return []
    planned = plans[-1].data.get("planned")
    return [item for item in planned if isinstance(item, dict)] if isinstance(planned, list) else []


def _undecodable_argument(argv: list[str]) -> str | None:
    """The first argument holding bytes that are not UTF-8, shown with them escaped, else None.

    Python hands such bytes over as lone surrogates; stored as a run's task, they could be neither
    written to the database nor shown by any page, so they are refused as bad input up front.
    """
    for argument in argv:
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            return "'" + argument.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace") + "'"
    return None


def main(argv: list[str] | None = None) -> None:
    """Entry point: turns usage errors and bad input into one line on stderr and exit code 2.

    A crash below Python (a signal in a C extension) would otherwise end the process with no word on
    stderr: faulthandler prints every thread's stack first, so the failure can be traced."""
    prepare_standard_streams()  # first: fd 2 is open afterwards, /dev/null where the caller closed it
    with contextlib.suppress(ValueError, OSError, RuntimeError):
        faulthandler.enable(file=2)
    utf8_text_files()
    try:
        _main(argv)
    finally:
        lost = lost_output()
        if lost is not None:
            print(printable(f"agent: warning: {lost}"), file=sys.stderr)


def _main(argv: list[str] | None) -> None:
    undecodable = _undecodable_argument(sys.argv[1:] if argv is None else argv)
    if undecodable is not None:
        print(printable(f"agent: error: argument {undecodable} is not UTF-8 text"), file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)
    try:
        result = app.main(args=argv, prog_name="agent", standalone_mode=False)
    except click.UsageError as error:
        print(printable(f"agent: error: {error.format_message()}"), file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT) from None
    except click.exceptions.Exit as exit_:
        raise SystemExit(exit_.exit_code) from None
    except click.Abort:
        print("agent: aborted", file=sys.stderr)
        raise SystemExit(130) from None
    except (BadInputError, SettingsError, StoreUnavailableError) as error:
        print(printable(f"agent: error: {error}"), file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT) from None
    except ValidationError as error:
        print(printable(f"agent: error: invalid configuration: {describe_validation_error(error)}"), file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT) from None
    except DBAPIError as error:  # the store's disk full or read-only before anything of this command was written
        print(printable(f"agent: error: {store_failure(error)}. What was recorded before is kept."), file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT) from None
    except OSError as error:
        if error.errno not in STORAGE_ERRNOS:
            raise
        where = f" {error.filename}" if error.filename else ""
        kept = "What was recorded before is kept."
        print(printable(f"agent: error: cannot write{where}: {error.strerror}. {kept}"), file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT) from None
    raise SystemExit(result if isinstance(result, int) else 0)


app.add_command(images_group)
from api.cli._check import (  # noqa: E402 - commands register after `app` exists
    check_case_command,
    check_command,
    check_proof_command,
    eval_kernel_command,
)

app.add_command(check_command)
app.add_command(check_case_command)
app.add_command(eval_kernel_command)
app.add_command(check_proof_command)

from api.cli._serve import serve_command  # noqa: E402

app.add_command(serve_command)

from api.cli._llm import llm_group  # noqa: E402

app.add_command(llm_group)
