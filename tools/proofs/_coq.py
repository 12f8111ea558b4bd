"""The Coq backend: one `coqc` process per check, inside the sandbox, with a wall-clock limit.

Every check writes the source into the backend's working directory and compiles it there; the source
file is bound read-only into the sandbox, so nothing coqc runs can change what it is reading. A check
that overflows the stack, runs out of memory or outlives its limit comes back as a failed
`CheckResult` saying so; it never takes the caller down. Goals at a point are read by cutting the
source before the sentence at that point and appending `Show.`. `recheck` runs Coq's independent
checker, `coqchk`, on the library the last check compiled; coqchk is always the one installed next
to the configured coqc, so that both come from the same Coq. `recheck_compiled` judges a compiled
library again where nothing of the run that wrote it can reach: a fresh sandbox over a fresh
directory, the library copied in read-only, coqc on a file of the caller's and coqchk.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import stat
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sandboxes import GIB, MIB, Limits, OutputLimitExceededError, Sandbox, SandboxError, SandboxTimeoutError
from tools._workload import SandboxFactory
from tools.proofs._diagnostics import Diagnostic, GoalState, parse_diagnostics, parse_goals
from tools.proofs._prover import CheckResult, Prover, ProverUnavailableError
from tools.proofs._sentences import UnterminatedSourceError, offset_of, split_sentences

COQ_LIMITS = Limits(memory_bytes=6 * GIB, processes=64, file_bytes=256 * MIB, output_bytes=4 * MIB)
COQC_VARIABLE = "LABGATE_COQC"
AUDIT_VARIABLE = "LABGATE_COQ_AUDIT"
DEFAULT_AUDIT_DIR = Path("/usr/local/lib/labgate/coq-audit")
"""Where `sandboxes/images/coq/audit/install` puts the proof gate's fixpoint audit plugin, on the host
(`scripts/setup`) and in the coq image alike."""
_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SYSTEM_PREFIXES = (Path("/usr"), Path("/opt"))  # directories every sandbox backend already shows


@dataclass(frozen=True)
class CoqConfig:
    """Where coqc lives and how long one check may take by default."""

    coqc: str = "coqc"
    timeout: float = 60.0
    limits: Limits = field(default_factory=lambda: COQ_LIMITS)
    args: tuple[str, ...] = ("-q",)

    @classmethod
    def from_environment(cls, *, args: tuple[str, ...] = ("-q",)) -> CoqConfig:
        """The configuration `LABGATE_COQC` names (the same variable the front door's settings read),
        for components built by name without settings, such as a gate."""
        coqc = os.environ.get(COQC_VARIABLE, "").strip() or "coqc"
        return cls(coqc=coqc, args=args)

    def executable(self) -> str:
        """The absolute path of coqc; raises ProverUnavailableError when it is not installed."""
        found = shutil.which(self.coqc)
        if found is None:
            raise ProverUnavailableError(
                f"coqc not found ({self.coqc!r}); install Coq 8.16 with ./scripts/setup (Debian package 'coq')"
            )
        return found

    def install_paths(self) -> tuple[Path, ...]:
        """Where a Coq outside the system directories lives (its prefix), for the sandbox to see it read-only."""
        prefix = Path(self.executable()).resolve().parent.parent
        return () if _is_system_path(prefix) else (prefix,)

    def audit_dir(self) -> Path:
        """The directory of the fixpoint audit plugin built for this Coq: `LABGATE_COQ_AUDIT`, else the default.

        A Coq of one's own needs the plugin built by its own `coq_makefile`
        (`sandboxes/images/coq/audit/install DIR`); one built for another Coq does not load.
        """
        return Path(os.environ.get(AUDIT_VARIABLE, "").strip() or DEFAULT_AUDIT_DIR)

    def checker(self) -> str:
        """The absolute path of the coqchk beside the configured coqc (never one found elsewhere).

        Raises:
            ProverUnavailableError: coqc is missing, or has no coqchk next to it.
        """
        beside = Path(self.executable()).with_name("coqchk")
        if not (beside.is_file() and os.access(beside, os.X_OK)):
            raise ProverUnavailableError(f"coqchk not found next to {self.executable()} (expected {beside})")
        return str(beside)


def _is_system_path(path: Path) -> bool:
    """A path every sandbox backend already shows read-only (under /usr or /opt, or / itself)."""
    resolved = path.resolve()
    return resolved == Path("/") or any(resolved.is_relative_to(place) for place in _SYSTEM_PREFIXES)


@functools.cache
def coq_version(coqc: str = "coqc") -> str:
    """`coqc --print-version`, e.g. '8.16.1', or '' when coqc is missing."""
    found = shutil.which(coqc)
    if found is None:
        return ""
    try:
        output = subprocess.run([found, "--print-version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return output.stdout.split()[0] if output.stdout.split() else ""


class CoqProver(Prover):
    """Checks Coq sources with coqc in a sandbox around `workdir` (created if missing).

    One instance serves one caller at a time; the lock makes accidental sharing safe, not fast.
    """

    name = "coq"

    def __init__(
        self,
        workdir: Path,
        sandbox_factory: SandboxFactory,
        config: CoqConfig | None = None,
        *,
        file_stem: str = "Attempt",
    ) -> None:
        if not _MODULE_NAME.match(file_stem):
            raise ValueError(f"file stem {file_stem!r} is not a valid Coq module name")
        self.config = config or CoqConfig()
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sandbox_factory = sandbox_factory
        self.file_stem = file_stem
        self._sandbox: Sandbox | None = None
        self._lock = threading.Lock()
        self.checks = 0

    def version(self) -> str:
        return coq_version(self.config.coqc)

    @property
    def source_path(self) -> Path:
        """The host path of the file each check writes and coqc compiles."""
        return self.workdir.resolve() / f"{self.file_stem}.v"

    def sandbox(self) -> Sandbox:
        """The sandbox of the checks: the source file is read-only in it (it must exist to be bound)."""
        if self._sandbox is None:
            self.source_path.touch(exist_ok=True)
            extra = (*self.config.install_paths(), self.source_path)
            self._sandbox = self.sandbox_factory(self.workdir, ro_paths=extra)
        return self._sandbox

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def check(self, source: str, *, timeout: float | None = None) -> CheckResult:
        return self._run(source, timeout if timeout is not None else self.config.timeout)

    def _run(self, source: str, timeout: float) -> CheckResult:
        coqc = self.config.executable()
        filename = f"{self.file_stem}.v"
        with self._lock:
            sandbox = self.sandbox()
            for leftover in (f"{self.file_stem}.vo", f"{self.file_stem}.vok", f"{self.file_stem}.vos"):
                (self.workdir / leftover).unlink(missing_ok=True)
            sandbox.write_file(filename, source)
            self.checks += 1
            return self._compile(sandbox, [coqc, *self.config.args, filename], source, timeout)

    def _compile(
        self, sandbox: Sandbox, argv: list[str], source: str, timeout: float, env: Mapping[str, str] | None = None
    ) -> CheckResult:
        """coqc as `argv` in `sandbox`, its messages read against `source`; a crash or a kill is a failed result."""
        try:
            result = sandbox.exec(argv, timeout=timeout, limits=self.config.limits, env=env)
        except (SandboxTimeoutError, OutputLimitExceededError) as error:
            return _cut_short("coqc", error, timeout, source)
        diagnostics = tuple(parse_diagnostics(result.stderr, source))
        failure = ""
        if result.returncode != 0 and not any(item.severity == "error" for item in diagnostics):
            failure = _crash_reason(result.returncode, result.stderr)
        return CheckResult(
            ok=result.returncode == 0 and not any(item.severity == "error" for item in diagnostics),
            diagnostics=diagnostics,
            stdout=result.stdout,
            stderr=result.stderr,
            seconds=result.duration,
            failure=failure,
        )

    def recheck(self, library: str, *, timeout: float | None = None) -> CheckResult:
        """Run coqchk on the library the last `check` compiled, as `library.<file stem>`.

        The check must have compiled with `-Q . library`; libraries it loads from Coq's installation
        are admitted (`-norec`), the compiled file itself is re-typed from scratch. `ok` is coqchk's
        exit status; it prints its context summary on stderr.
        """
        limit = timeout if timeout is not None else self.config.timeout
        with self._lock:
            return self._check_library(self.sandbox(), ".", library, limit)

    def _check_library(
        self, sandbox: Sandbox, directory: str, library: str, timeout: float, env: Mapping[str, str] | None = None
    ) -> CheckResult:
        """coqchk in `sandbox` on `library.<file stem>`, compiled into `directory` (relative to its workdir)."""
        checker = self.config.checker()
        argv = [checker, "-silent", "-o", "-Q", directory, library, "-norec", f"{library}.{self.file_stem}"]
        try:
            result = sandbox.exec(argv, timeout=timeout, limits=self.config.limits, env=env)
        except (SandboxTimeoutError, OutputLimitExceededError) as error:
            return _cut_short("coqchk", error, timeout)
        failure = "" if result.returncode == 0 else _checker_failure(result.returncode, result.stdout, result.stderr)
        return CheckResult(
            ok=result.returncode == 0,
            stdout=result.stdout,
            stderr=result.stderr,
            seconds=result.duration,
            failure=failure,
        )

    def compiled_library(self, max_bytes: int) -> bytes:
        """The library (`<file stem>.vo`) the last check wrote, read as a plain file of at most `max_bytes`.

        Raises:
            SandboxError: it is missing, larger, or not a regular file (a link, a FIFO).
        """
        name = f"{self.file_stem}.vo"
        with self._lock:
            try:
                info = os.lstat(self.workdir / name)
            except OSError as error:
                raise SandboxError(f"{name} was not written: {error.strerror}") from None
            if not stat.S_ISREG(info.st_mode):
                raise SandboxError(f"{name} is not a regular file")
            if info.st_size > max_bytes:
                raise SandboxError(f"{name} holds {info.st_size} bytes, more than the {max_bytes} read back")
            data = self.sandbox().read_file(name)
        if len(data) > max_bytes:
            raise SandboxError(f"{name} grew past the {max_bytes} bytes read back")
        return data

    def recheck_compiled(
        self,
        compiled: bytes,
        library: str,
        source: str,
        *,
        coqc_args: Sequence[str] = ("-q",),
        ml_dirs: Sequence[Path] = (),
        timeout: float | None = None,
    ) -> tuple[CheckResult, CheckResult]:
        """coqc on `source`, then coqchk on `compiled`, in a fresh sandbox over a fresh directory.

        `compiled` is the library `library.<file stem>` (as `compiled_library` read it). It is the only
        input from the earlier run: it goes, read-only, into `lib/` (`-Q lib library`), `source` (a
        file of the caller's, `Recheck.v`) is read-only too, and `HOME` is `lib/`, so no directory Coq
        searches for libraries or plugins can be written by anything that runs (a plugin the library
        declares loads from Coq's installation or not at all). `ml_dirs` are directories of plugins
        the caller's file loads (`-I`, read-only). Returns coqc's result, then coqchk's.
        """
        limit = timeout if timeout is not None else self.config.timeout
        coqc = self.config.executable()
        with self._lock, tempfile.TemporaryDirectory(prefix="labgate-coq-recheck-") as scratch:
            root = Path(scratch).resolve()
            shelf = root / "lib"
            shelf.mkdir()
            (shelf / f"{self.file_stem}.vo").write_bytes(compiled)
            (root / "Recheck.v").write_text(source)
            env = {"HOME": str(shelf)}
            outside = tuple(path for path in ml_dirs if path.is_dir() and not _is_system_path(path))
            sandbox = self.sandbox_factory(
                root, ro_paths=(*self.config.install_paths(), *outside, shelf, root / "Recheck.v")
            )
            try:
                includes = [part for path in ml_dirs for part in ("-I", str(path))]
                argv = [coqc, *coqc_args, *includes, "-Q", "lib", library, "Recheck.v"]
                loaded = self._compile(sandbox, argv, source, limit, env)
                return loaded, self._check_library(sandbox, "lib", library, limit, env)
            finally:
                sandbox.close()

    def goal_at(self, source: str, position: int, *, timeout: float | None = None) -> GoalState | None:
        cut = cut_before(source, position)
        result = self._run(source[:cut].rstrip() + "\nShow.\n", timeout if timeout is not None else self.config.timeout)
        located = [item for item in result.errors if item.line > 0]
        if located or result.timed_out or result.failure:
            return None
        return parse_goals(result.stdout)


def cut_before(source: str, position: int) -> int:
    """The offset where the sentence containing (or following) `position` starts."""
    try:
        sentences = split_sentences(source)
    except UnterminatedSourceError:
        return position
    for sentence in sentences:
        if sentence.end > position:
            return min(sentence.start, position)
    return len(source)


def _cut_short(
    tool: str, error: SandboxTimeoutError | OutputLimitExceededError, timeout: float, source: str | None = None
) -> CheckResult:
    """The failed result of `tool` killed for its wall clock or its output; `source` reads coqc's messages."""
    partial = error.partial
    if isinstance(error, SandboxTimeoutError):
        return CheckResult(
            ok=False,
            diagnostics=tuple(parse_diagnostics(partial.stderr, source)) if partial and source is not None else (),
            stdout=partial.stdout if partial else "",
            stderr=partial.stderr if partial else "",
            seconds=partial.duration if partial else timeout,
            timed_out=True,
            failure=f"{tool} did not finish within {timeout:g} s and was killed",
        )
    return CheckResult(
        ok=False,
        stdout=partial.stdout[-20000:] if partial else "",
        stderr=partial.stderr[-20000:] if partial else "",
        seconds=partial.duration if partial else 0.0,
        failure=f"{tool} printed more output than allowed and was killed",
    )


def _crash_reason(returncode: int, stderr: str) -> str:
    tail = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    if returncode < 0 or returncode >= 128:
        signal_number = -returncode if returncode < 0 else returncode - 128
        return (
            f"coqc was killed by signal {signal_number} (stack overflow or memory limit){': ' + tail if tail else ''}"
        )
    return f"coqc exited with code {returncode} without an error message{': ' + tail if tail else ''}"


def _checker_failure(returncode: int, stdout: str, stderr: str) -> str:
    lines = [line.strip() for line in (stderr + "\n" + stdout).splitlines() if line.strip()]
    fatal = next((line for line in lines if line.startswith(("Fatal Error", "Error"))), lines[-1] if lines else "")
    return f"coqchk refused the compiled proof (exit {returncode}){': ' + fatal if fatal else ''}"


def error_offset(source: str, diagnostic: Diagnostic) -> int:
    """The character offset where a located diagnostic starts in `source`."""
    return offset_of(source, diagnostic.line, diagnostic.column)
