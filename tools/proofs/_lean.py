"""Lean 4 behind the prover interface, through the Lean REPL's JSON protocol.

The REPL (leanprover-community/repl, built in `sandboxes/images/lean4`) reads one JSON command per
blank-line-separated block and answers with one JSON object: `{"cmd": source}` checks a whole file in
a fresh environment and returns its messages (severity, 1-based line, 0-based column); with
`"allTactics": true` it also lists every tactic with the goals before it, which is what `goal_at`
reads. A file's leading imports are elaborated once per REPL process and the rest is checked in
that environment (`"env": n`), since `import Mathlib` alone takes seconds. A hung or crashed REPL is
killed and started again for the next check.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from sandboxes import Sandbox, SandboxProcess
from tools._workload import SandboxFactory
from tools.proofs._diagnostics import Diagnostic, Goal, GoalState, Severity
from tools.proofs._pipes import StreamReader, WorkerDiedError
from tools.proofs._prover import CheckResult, Prover, ProverUnavailableError
from tools.proofs._sentences import offset_of

_SEVERITIES: dict[str, Severity] = {"error": "error", "warning": "warning", "information": "info", "info": "info"}


def parse_lean_goals(text: str) -> tuple[Goal, ...]:
    """Goals as the REPL prints them: blocks separated by blank lines, hypotheses then `⊢ goal`."""
    goals = []
    for block in [part for part in text.split("\n\n") if part.strip()]:
        lines = block.splitlines()
        turnstile = next((i for i, line in enumerate(lines) if line.lstrip().startswith("⊢")), None)
        if turnstile is None:
            continue
        hypotheses = tuple(line.strip() for line in lines[:turnstile] if line.strip() and not line.startswith("case "))
        conclusion = " ".join(line.strip() for line in lines[turnstile:]).lstrip("⊢").strip()
        goals.append(Goal(hypotheses, conclusion))
    return tuple(goals)


def lean_diagnostics(response: dict[str, Any]) -> list[Diagnostic]:
    """The REPL's `messages` as diagnostics (Lean columns are code points, as ours)."""
    diagnostics = []
    for message in response.get("messages", []):
        start = message.get("pos") or {}
        end = message.get("endPos") or start
        diagnostics.append(
            Diagnostic(
                int(start.get("line", 0)),
                int(start.get("column", 0)),
                int(end.get("line", start.get("line", 0))),
                int(end.get("column", start.get("column", 0))),
                _SEVERITIES.get(str(message.get("severity", "error")), "error"),
                " ".join(str(message.get("data", "")).split()),
            )
        )
    return diagnostics


def split_imports(source: str) -> tuple[str, str]:
    """The leading `import` lines (with blank and `--` comment lines among them) and the rest, split at a
    line boundary; ("", source) when the file imports nothing."""
    lines = source.splitlines(keepends=True)
    last = -1
    for index, line in enumerate(lines):
        text = line.strip()
        if text.startswith("import "):
            last = index
        elif text and not text.startswith("--"):
            break
    if last < 0:
        return "", source
    return "".join(lines[: last + 1]), "".join(lines[last + 1 :])


def shifted(diagnostics: list[Diagnostic], lines: int) -> list[Diagnostic]:
    """Diagnostics moved down by `lines` (located ones only)."""
    if not lines:
        return diagnostics
    return [
        Diagnostic(d.line + lines, d.column, d.end_line + lines, d.end_column, d.severity, d.message, d.file)
        if d.line > 0
        else d
        for d in diagnostics
    ]


class LeanRepl(Prover):
    """Lean 4 checks through a persistent `repl` process in the sandbox around `workdir`.

    `project` is the Lake project the REPL runs in (where `import Mathlib` resolves, when the image
    has it); the default is the workdir, which suffices for files importing only Lean's core.
    """

    name = "lean4"

    def __init__(
        self,
        workdir: Path,
        sandbox_factory: SandboxFactory,
        *,
        repl: str = "repl",
        lean: str = "lean",
        project: str | None = None,
        timeout: float = 120.0,
    ) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sandbox_factory = sandbox_factory
        self.repl = repl
        self.lean = lean
        self.project = project
        self.timeout = timeout
        self._sandbox: Sandbox | None = None
        self._process: SandboxProcess | None = None
        self._reader: StreamReader | None = None
        self._lock = threading.Lock()
        self._envs: dict[str, int] = {}
        self.restarts = 0

    def _sandbox_(self) -> Sandbox:
        if self._sandbox is None:
            self._sandbox = self.sandbox_factory(self.workdir)
        return self._sandbox

    def version(self) -> str:
        if shutil.which(self.lean) is None:
            return ""
        result = self._sandbox_().exec([self.lean, "--version"], timeout=60)
        return result.stdout.strip()

    def _start(self) -> None:
        if self._sandbox_().name != "docker" and shutil.which(self.repl) is None:  # the image has its own
            raise ProverUnavailableError(
                f"the Lean REPL ({self.repl!r}) is not installed; build sandboxes/images/lean4 (needs network)"
            )
        self._process = self._sandbox_().spawn([self.repl], cwd=self.project)
        self._reader = StreamReader(self._process)

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
        self._process = None
        self._reader = None
        self._envs.clear()  # environments live in the process

    def close(self) -> None:
        self._stop()
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def request(self, command: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one JSON command; the JSON answer (raises TimeoutError / WorkerDiedError)."""
        if self._process is None or self._process.poll() is not None:
            self._start()
        assert self._reader is not None
        deadline = time.monotonic() + timeout
        self._reader.send(json.dumps(command) + "\n\n")
        lines: list[str] = []
        while True:
            line = self._reader.read_line(deadline)
            if not line.strip():
                if lines:
                    break
                continue
            lines.append(line)
        answer: dict[str, Any] = json.loads("\n".join(lines))
        return answer

    def _ask(self, command: dict[str, Any], timeout: float | None) -> tuple[dict[str, Any] | None, CheckResult | None]:
        limit = timeout if timeout is not None else self.timeout
        started = time.monotonic()
        with self._lock:
            try:
                return self.request(command, limit), None
            except TimeoutError:
                self._stop()
                self.restarts += 1
                failure = f"the Lean REPL did not answer within {limit:g} s and was restarted"
                return None, CheckResult(ok=False, timed_out=True, failure=failure, seconds=limit)
            except (WorkerDiedError, BrokenPipeError, json.JSONDecodeError) as error:
                self._stop()
                self.restarts += 1
                failure = f"the Lean REPL died: {error}"
                return None, CheckResult(ok=False, failure=failure, seconds=time.monotonic() - started)

    def _command(
        self, source: str, timeout: float | None, **extra: Any
    ) -> tuple[dict[str, Any] | None, CheckResult | None, int]:
        """Ask about `source`; its imports are elaborated once per REPL process and reused (`env`),
        since `import Mathlib` takes seconds. Returns the answer, a failure, and how many lines the
        imports took (the answer's positions are shifted back by them)."""
        imports, rest = split_imports(source)
        if not imports:
            answer, failed = self._ask({"cmd": source, **extra}, timeout)
            return answer, failed, 0
        env = self._envs.get(imports)
        if env is None:
            answer, failed = self._ask({"cmd": imports}, timeout)
            if failed is not None or answer is None:
                return answer, failed, 0
            if not isinstance(answer.get("env"), int) or any(
                str(item.get("severity")) == "error" for item in answer.get("messages", [])
            ):
                answer, failed = self._ask({"cmd": source, **extra}, timeout)  # let Lean say what is wrong
                return answer, failed, 0
            env = int(answer["env"])
            self._envs[imports] = env
        answer, failed = self._ask({"cmd": rest, "env": env, **extra}, timeout)
        return answer, failed, imports.count("\n")

    def check(self, source: str, *, timeout: float | None = None) -> CheckResult:
        started = time.monotonic()
        answer, failed, shift = self._command(source, timeout)
        if failed is not None:
            return failed
        assert answer is not None
        if "message" in answer and "messages" not in answer:  # the REPL's own error (bad command)
            return CheckResult(ok=False, failure=str(answer["message"]), seconds=time.monotonic() - started)
        diagnostics = shifted(lean_diagnostics(answer), shift)
        ok = not any(item.severity == "error" for item in diagnostics)
        return CheckResult(
            ok=ok, diagnostics=tuple(diagnostics), stdout=json.dumps(answer), seconds=time.monotonic() - started
        )

    def goal_at(self, source: str, position: int, *, timeout: float | None = None) -> GoalState | None:
        answer, failed, shift = self._command(source, timeout, allTactics=True)
        if failed is not None or answer is None:
            return None
        best: dict[str, Any] | None = None
        best_offset = -1
        for tactic in answer.get("tactics", []):
            pos = tactic.get("pos") or {}
            offset = offset_of(source, int(pos.get("line", 1)) + shift, int(pos.get("column", 0)))
            if best_offset < offset <= position:
                best, best_offset = tactic, offset
        if best is None:
            return None
        return GoalState(parse_lean_goals(str(best.get("goals", ""))), str(best.get("goals", "")))
