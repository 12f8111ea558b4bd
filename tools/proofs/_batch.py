"""The gates' batch runs of Lean 4 and Isabelle: compile one file, replay it, build one session.

The search talks to the Lean REPL and the Isabelle server (`_lean`, `_isabelle`); a gate wants the
plain batch tools instead, each run from scratch in a sandbox around the gate's own directory:

- Lean: `lean -o Check.olean Check.lean` (through `lake -d PROJECT env` when a Lake project with
  Mathlib is configured), whose messages carry `#print axioms`; then the independent replay of the
  compiled module by a lean4checker-style command (`LABGATE_LEAN_CHECKER`, default `lean4checker`),
  run with the gate's directory on LEAN_PATH and given the module name. The replay re-adds every
  declaration of the module to a fresh environment through the kernel, which is what catches
  declarations that reached the environment without a kernel check.
- Isabelle: `isabelle build -c -o quick_and_dirty=false -o document=false -D DIR SESSION`: a clean
  build of a session the gate wrote itself (ROOT and theory).
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path

from sandboxes import OutputLimitExceededError, Sandbox, SandboxTimeoutError
from tools._workload import SandboxFactory
from tools.proofs._diagnostics import Diagnostic, Severity
from tools.proofs._prover import CheckResult, ProverUnavailableError

_LEAN_MESSAGE = re.compile(
    r"^(?P<file>[^\n:]+\.lean):(?P<line>\d+):(?P<column>\d+): "
    r"(?P<severity>error|warning|info)(?:\([^)]*\))?: ?(?P<text>.*)$"
)
_ISABELLE_ERROR = re.compile(r"^\*\*\* (?P<text>.*)$")
_ISABELLE_POSITION = re.compile(r'At command "[^"]*" \(line (?P<line>\d+) of "[^"]*"\)')


def lean_messages(output: str, file_name: str) -> list[Diagnostic]:
    """`FILE:line:col: severity: text` messages of `lean` (continuation lines joined to their message)."""
    diagnostics: list[Diagnostic] = []
    current: dict[str, str] | None = None
    lines: list[str] = []

    def flush() -> None:
        if current is not None:
            severity: Severity = current["severity"] if current["severity"] != "info" else "info"  # type: ignore[assignment]
            text = " ".join(" ".join(lines).split())
            line = int(current["line"]) if current["file"].endswith(file_name) else 0
            column = int(current["column"]) if line else 0
            diagnostics.append(Diagnostic(line, column, line, column, severity, text))

    for raw in output.splitlines():
        match = _LEAN_MESSAGE.match(raw)
        if match is not None:
            flush()
            current = match.groupdict()
            lines = [match.group("text")]
        elif current is not None:
            lines.append(raw)
    flush()
    return diagnostics


def isabelle_errors(output: str) -> list[Diagnostic]:
    """`*** message` lines of an Isabelle build, with the line of the command they name when given."""
    diagnostics: list[Diagnostic] = []
    text: list[str] = []
    for raw in output.splitlines():
        match = _ISABELLE_ERROR.match(raw)
        if match is None:
            continue
        position = _ISABELLE_POSITION.search(match.group("text"))
        if position is not None:
            line = int(position.group("line"))
            message = " ".join(" ".join(text).split()) or "error"
            diagnostics.append(Diagnostic(line, 0, line, 0, "error", message))
            text = []
        elif match.group("text").strip():
            text.append(match.group("text").strip())
    if text:
        diagnostics.append(Diagnostic(0, 0, 0, 0, "error", " ".join(" ".join(text).split())))
    return diagnostics


class _BatchTool:
    """Runs argv commands in one sandbox around `workdir`, each as a CheckResult."""

    def __init__(self, workdir: Path, sandbox_factory: SandboxFactory) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sandbox_factory = sandbox_factory
        self._sandbox: Sandbox | None = None
        self._lock = threading.Lock()

    def _sandbox_(self) -> Sandbox:
        if self._sandbox is None:
            self._sandbox = self.sandbox_factory(self.workdir)
        return self._sandbox

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def execute(
        self, command: Sequence[str], what: str, timeout: float, env: dict[str, str] | None = None
    ) -> CheckResult:
        """The command's outcome: ok on exit 0; a kill at the time limit or for output says so."""
        with self._lock:
            sandbox = self._sandbox_()
            try:
                result = sandbox.exec(list(command), timeout=timeout, env=env)
            except SandboxTimeoutError as error:
                partial = error.partial
                return CheckResult(
                    ok=False,
                    stdout=partial.stdout if partial else "",
                    stderr=partial.stderr if partial else "",
                    seconds=timeout,
                    timed_out=True,
                    failure=f"{what} did not finish within {timeout:g} s and was killed",
                )
            except OutputLimitExceededError:
                return CheckResult(ok=False, failure=f"{what} printed more output than allowed and was killed")
        return CheckResult(
            ok=result.returncode == 0,
            stdout=result.stdout,
            stderr=result.stderr,
            seconds=result.duration,
            failure="" if result.returncode == 0 else f"{what} exited with status {result.returncode}",
        )


def _require(executable: str, image: str, sandbox: Sandbox) -> None:
    """Refuse early when the tool is not installed here; in a container the image provides it."""
    if sandbox.name != "docker" and shutil.which(executable) is None:
        raise ProverUnavailableError(
            f"{executable!r} is not installed; build sandboxes/images/{image} (needs network) or configure its path"
        )


class LeanBatch(_BatchTool):
    """`lean -o` on the gate's file and the lean4checker-style replay of the compiled module."""

    def __init__(
        self,
        workdir: Path,
        sandbox_factory: SandboxFactory,
        *,
        lean: str = "lean",
        checker: str = "lean4checker",
        project: str = "",
    ) -> None:
        super().__init__(workdir, sandbox_factory)
        self.lean = lean
        self.checker = checker
        self.project = project

    def _through_project(self, argv: list[str]) -> list[str]:
        return ["lake", "-d", self.project, "env", *argv] if self.project else argv

    def _env(self) -> dict[str, str]:
        return {"LEAN_PATH": str(self.workdir.resolve())}

    def compile(self, source: str, module: str, timeout: float) -> CheckResult:
        """Compile `module.lean` to `module.olean`; messages (with `#print axioms`) as diagnostics."""
        _require(self.lean if not self.project else "lake", "lean4", self._sandbox_())
        file_name = f"{module}.lean"
        (self.workdir / file_name).write_text(source)
        (self.workdir / f"{module}.olean").unlink(missing_ok=True)
        command = self._through_project([self.lean, "-o", f"{module}.olean", file_name])
        result = self.execute(command, "lean", timeout, self._env())
        diagnostics = tuple(lean_messages(result.stdout + "\n" + result.stderr, file_name))
        return _with_diagnostics(result, diagnostics, any(item.severity == "error" for item in diagnostics))

    def replay(self, module: str, timeout: float) -> CheckResult:
        """The independent replay of the compiled module (ok when the checker exits 0)."""
        _require(self.checker if not self.project else "lake", "lean4", self._sandbox_())
        command = self._through_project([self.checker, module])
        return self.execute(command, f"the replay ({self.checker})", timeout, self._env())


class IsabelleBatch(_BatchTool):
    """`isabelle build` of one session the gate wrote in its directory, from scratch."""

    def __init__(self, workdir: Path, sandbox_factory: SandboxFactory, *, isabelle: str = "isabelle") -> None:
        super().__init__(workdir, sandbox_factory)
        self.isabelle = isabelle

    def build(self, root: str, theories: dict[str, str], session: str, timeout: float) -> CheckResult:
        """Write ROOT and the theories, then build `session` clean with quick_and_dirty off."""
        _require(self.isabelle, "isabelle", self._sandbox_())
        (self.workdir / "ROOT").write_text(root)
        for name, text in theories.items():
            (self.workdir / f"{name}.thy").write_text(text)
        command = [
            self.isabelle,
            "build",
            "-c",
            "-o",
            "quick_and_dirty=false",
            "-o",
            "document=false",
            "-D",
            str(self.workdir.resolve()),
            session,
        ]
        result = self.execute(command, "isabelle build", timeout)
        diagnostics = tuple(isabelle_errors(result.stdout + "\n" + result.stderr))
        return _with_diagnostics(result, diagnostics, bool(diagnostics))


def _with_diagnostics(result: CheckResult, diagnostics: tuple[Diagnostic, ...], errors: bool) -> CheckResult:
    """The tool's run judged by its parsed messages: any error fails it (and explains it, so no `failure`)."""
    return CheckResult(
        ok=result.ok and not errors,
        diagnostics=diagnostics,
        stdout=result.stdout,
        stderr=result.stderr,
        seconds=result.seconds,
        timed_out=result.timed_out,
        failure=result.failure if not errors else "",
    )
