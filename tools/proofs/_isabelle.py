"""Isabelle behind the prover interface, through the Isabelle server's protocol.

`isabelle server -n NAME -c` (in the sandbox, from `sandboxes/images/isabelle`) makes sure a server is
running and connects its console to our pipes; it prints the server's address line, then the
server's `OK` to the password it presented, before the first command. Messages follow the server
protocol: one line `NAME json`, or a line holding a byte count followed by that many bytes. A
session (`HOL` by default) is started once; each check writes the theory file into the working
directory, runs `use_theories` on it, waits for the task's `FINISHED`/`FAILED`, reads the messages
with their positions, and purges the theory so the next check reads the file afresh. Positions
count Isabelle symbols (`\\<forall>` is one), which are turned back into character columns.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from runs import LabgateError
from sandboxes import Sandbox, SandboxProcess
from tools._workload import SandboxFactory
from tools.proofs._diagnostics import Diagnostic, Goal, GoalState, Severity
from tools.proofs._pipes import StreamReader, WorkerDiedError
from tools.proofs._prover import CheckResult, Prover, ProverUnavailableError
from tools.proofs._sentences import line_column

_THEORY = re.compile(r"\btheory\s+(\"?)([A-Za-z][A-Za-z0-9_']*)\1")
_SYMBOL = re.compile(r"\\<[^>]*>|.", re.DOTALL)
_KINDS: dict[str, Severity] = {"error": "error", "warning": "warning", "writeln": "info", "information": "info"}


class IsabelleError(LabgateError, RuntimeError):
    """The server answered a command with ERROR or a task with FAILED."""


def read_message(reader: StreamReader, deadline: float) -> tuple[str, Any]:
    """One server message as (name, decoded JSON argument or None)."""
    line = reader.read_line(deadline)
    while not line.strip():
        line = reader.read_line(deadline)
    if line.strip().isdigit():
        line = reader.read_exact(int(line.strip()), deadline).rstrip("\n")
    name, _, argument = line.partition(" ")
    return name, (json.loads(argument) if argument.strip() else None)


def symbol_offset_to_char(source: str, offset: int) -> int:
    """Character offset of Isabelle's 1-based symbol offset `offset` in `source`."""
    count = 1
    for match in _SYMBOL.finditer(source):
        if count >= offset:
            return match.start()
        count += 1
    return len(source)


def isabelle_diagnostics(result: dict[str, Any], source: str, file_name: str) -> list[Diagnostic]:
    """Messages of a `use_theories` result (errors and node messages) located in our theory file."""
    diagnostics: list[Diagnostic] = []
    seen: set[tuple[int, str]] = set()
    messages = list(result.get("errors", []))
    for node in result.get("nodes", []):
        messages.extend(node.get("messages", []))
    for message in messages:
        kind = _KINDS.get(str(message.get("kind", "error")), "info")
        text = " ".join(str(message.get("message", "")).split())
        pos = message.get("pos") or {}
        in_file = str(pos.get("file", "")).endswith(file_name)
        if in_file and "offset" in pos:
            start = symbol_offset_to_char(source, int(pos["offset"]))
            end = symbol_offset_to_char(source, int(pos.get("end_offset", pos["offset"])))
            line, column = line_column(source, start)
            end_line, end_column = line_column(source, max(start, end))
        elif in_file and "line" in pos:
            line, column, end_line, end_column = int(pos["line"]), 0, int(pos["line"]), 0
        else:
            line = column = end_line = end_column = 0
        if (line, text) in seen:
            continue
        seen.add((line, text))
        diagnostics.append(Diagnostic(line, column, end_line, end_column, kind, text))
    return diagnostics


def isabelle_output(result: dict[str, Any]) -> str:
    """The theory's output messages (writeln, information) with their line breaks: goal states and
    try0 / sledgehammer suggestions are read line by line from it."""
    return "\n".join(
        str(message.get("message", ""))
        for node in result.get("nodes", [])
        for message in node.get("messages", [])
        if _KINDS.get(str(message.get("kind", "error"))) == "info"
    )


def parse_isabelle_state(text: str) -> GoalState | None:
    """Subgoals from a `print_state` output ("goal (n subgoals):" then " k. ...")."""
    if "No subgoals!" in text:
        return GoalState((), text)
    header = re.search(r"goal \((\d+) subgoals?\):", text)
    if header is None:
        return None
    goals = []
    for match in re.finditer(r"^\s*\d+\.\s(.*?)(?=^\s*\d+\.\s|\Z)", text[header.end() :], re.MULTILINE | re.DOTALL):
        goals.append(Goal((), " ".join(match.group(1).split())))
    return GoalState(tuple(goals), text)


class IsabelleServer(Prover):
    """Isabelle checks through a server session; `master_dir` is the workdir as the server sees it."""

    name = "isabelle"

    def __init__(
        self,
        workdir: Path,
        sandbox_factory: SandboxFactory,
        *,
        isabelle: str = "isabelle",
        session: str = "HOL",
        server_name: str = "labgate",
        master_dir: str | None = None,
        timeout: float = 300.0,
        start_timeout: float = 600.0,
    ) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sandbox_factory = sandbox_factory
        self.isabelle = isabelle
        self.session = session
        self.server_name = server_name
        self.master_dir = master_dir or str(workdir.resolve())
        self.timeout = timeout
        self.start_timeout = start_timeout
        self._sandbox: Sandbox | None = None
        self._process: SandboxProcess | None = None
        self._reader: StreamReader | None = None
        self._session_id: str | None = None
        self._lock = threading.Lock()
        self.restarts = 0

    def _sandbox_(self) -> Sandbox:
        if self._sandbox is None:
            self._sandbox = self.sandbox_factory(self.workdir)
        return self._sandbox

    def version(self) -> str:
        if shutil.which(self.isabelle) is None:
            return ""
        return self._sandbox_().exec([self.isabelle, "version"], timeout=120).stdout.strip()

    # -- protocol --------------------------------------------------------------------------------

    def command(self, name: str, argument: dict[str, Any] | None, deadline: float) -> Any:
        """A synchronous command: its OK argument (IsabelleError on ERROR)."""
        assert self._reader is not None
        self._reader.send(f"{name} {json.dumps(argument)}\n" if argument is not None else f"{name}\n")
        while True:
            reply, value = read_message(self._reader, deadline)
            if reply == "OK":
                return value
            if reply == "ERROR":
                raise IsabelleError(f"{name}: {value}")

    def task(self, name: str, argument: dict[str, Any], deadline: float) -> dict[str, Any]:
        """An asynchronous command: the FINISHED argument of its task (IsabelleError on FAILED)."""
        started = self.command(name, argument, deadline)
        task_id = started.get("task") if isinstance(started, dict) else None
        assert self._reader is not None
        while True:
            reply, value = read_message(self._reader, deadline)
            if not isinstance(value, dict) or value.get("task") != task_id:
                continue
            if reply == "FINISHED":
                return value
            if reply == "FAILED":
                raise IsabelleError(f"{name}: {value.get('message', value)}")

    def _start(self) -> None:
        if self._sandbox_().name != "docker" and shutil.which(self.isabelle) is None:  # the image has its own
            raise ProverUnavailableError(
                f"Isabelle ({self.isabelle!r}) is not installed; build sandboxes/images/isabelle (needs network)"
            )
        self._process = self._sandbox_().spawn([self.isabelle, "server", "-n", self.server_name, "-c"])
        self._reader = StreamReader(self._process)
        deadline = time.monotonic() + self.start_timeout
        self._greeting(deadline)
        finished = self.task("session_start", {"session": self.session}, deadline)
        self._session_id = str(finished["session_id"])

    def _greeting(self, deadline: float) -> None:
        """Read what `isabelle server -c` prints before the first command: the server's address line
        (`server "NAME" = 127.0.0.1:PORT (password "...")`), then the server's `OK` to the password
        the console presented (with the Isabelle version in recent releases)."""
        assert self._reader is not None
        while True:
            line = self._reader.read_line(deadline).strip()
            if not line or line.startswith("server "):
                continue
            if line == "OK" or line.startswith("OK "):
                return
            raise IsabelleError(f"`isabelle server -c` did not greet as the protocol says: {line[:200]!r}")

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
        self._process = None
        self._reader = None
        self._session_id = None

    def close(self) -> None:
        if self._process is not None and self._session_id is not None:
            with contextlib.suppress(IsabelleError, TimeoutError, WorkerDiedError, BrokenPipeError):
                self.command("session_stop", {"session_id": self._session_id}, time.monotonic() + 30)
        self._stop()
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    # -- prover ----------------------------------------------------------------------------------

    def check(self, source: str, *, timeout: float | None = None) -> CheckResult:
        limit = timeout if timeout is not None else self.timeout
        started = time.monotonic()
        match = _THEORY.search(source)
        if match is None:
            return CheckResult(ok=False, failure="the source has no `theory NAME` header")
        theory = match.group(2)
        file_name = f"{theory}.thy"
        (self.workdir / file_name).write_text(source)
        with self._lock:
            try:
                if self._process is None or self._process.poll() is not None:
                    self._start()
                deadline = started + limit
                arguments = {"session_id": self._session_id, "theories": [theory], "master_dir": self.master_dir}
                result = self.task("use_theories", arguments, deadline)
                self.command("purge_theories", arguments, deadline)
            except TimeoutError:
                self._stop()
                self.restarts += 1
                failure = f"Isabelle did not finish within {limit:g} s; the server was restarted"
                return CheckResult(ok=False, timed_out=True, failure=failure, seconds=limit)
            except (IsabelleError, WorkerDiedError, BrokenPipeError, json.JSONDecodeError) as error:
                self._stop()
                self.restarts += 1
                return CheckResult(ok=False, failure=f"Isabelle server: {error}", seconds=time.monotonic() - started)
        diagnostics = isabelle_diagnostics(result, source, file_name)
        ok = bool(result.get("ok")) and not any(item.severity == "error" for item in diagnostics)
        return CheckResult(
            ok=ok,
            diagnostics=tuple(item for item in diagnostics if item.severity != "info"),
            stdout=isabelle_output(result),
            seconds=time.monotonic() - started,
        )

    def goal_at(self, source: str, position: int, *, timeout: float | None = None) -> GoalState | None:
        cut = source.rfind("\n", 0, position) + 1
        probe = source[:cut] + "  print_state\n  oops\nend\n"
        result = self.check(probe, timeout=timeout)
        return parse_isabelle_state(result.stdout)
