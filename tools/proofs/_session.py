"""A persistent Coq session (coqidetop's XML protocol) behind the same `Prover` interface.

The session keeps the sentences it last executed; a new source is checked by going back to the last
sentence it shares with what is loaded (`Edit_at`) and adding only the rest, so a header that takes a
second to load is loaded once. Errors come back as feedback messages located within their sentence
and are turned into the same `Diagnostic`s coqc prints; notices (`Show`, `Print Assumptions`, what
`hammer` suggests) become the check's stdout. A check that outlives its limit, or a process that
dies (stack overflow), costs a restart: the next check starts from an empty session.
`coq_seconds` adds up the time spent on coqidetop (starting it, and every call until its reply is
read), so that a check's time splits into what Coq needs and what this class adds around the calls.

A search may take its session from a `SessionPool` instead (`pooled_session`): a session kept across
problems skips starting coqidetop and, for a problem with the same header, loading the header's
libraries again (`Require Import Reals` alone takes 0.3-0.6 s, and the search adds CoqHammer's),
which is most of a short search's prover time. Between problems the pool rolls the session back to
the end of its leading `Require`/`Import`/`Open Scope`/`Set` sentences; a next check goes back further,
to the first sentence where its own file differs, so a problem sees exactly the state its own
sentences make and nothing another problem declared (axioms, hints, notations, scopes, options,
`Require`s it lacks). A session that ran a command whose effect lives outside Coq's document state
(`Cd`, load paths, ML modules, files written), left files in its directory, grew past a memory bound or
served `max_leases` problems is closed instead. The pool only speeds the search up: the proof gate
never uses it.
"""

from __future__ import annotations

import atexit
import html
import os
import re
import select
import shutil
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from runs import LabgateError
from sandboxes import GIB, Sandbox, SandboxProcess
from tools._workload import SandboxFactory
from tools.proofs._coq import CoqConfig, coq_version, cut_before
from tools.proofs._diagnostics import Diagnostic, GoalState, Severity, parse_goals
from tools.proofs._prover import CheckResult, Prover, ProverUnavailableError
from tools.proofs._sentences import (
    Sentence,
    UnterminatedSourceError,
    blank_literals,
    line_column,
    split_sentences,
)

_ENTITY = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)(\w+);")
# Commands whose effect a rollback does not undo: the process's directory, load paths, ML code, files
# written or read, and the commands that move the document behind the session's back. Matched
# anywhere in a sentence's code (comments and string contents blanked): a false match only costs a
# fresh session for the next problem.
_OUTSIDE_STATE = re.compile(
    r"(?<![\w'.])(Cd|LoadPath|ML|Redirect|Extraction|Load|Drop|Quit|Back|BackTo|Backtrack|Reset)(?![\w'])"
)
POOL_ENV = "LABGATE_PROOF_SESSION_POOL"
# What Coq's own tactics write in the working directory: micromega's caches of its oracles' answers
# (lia, nia, nra, psatz's csdp) and psatz's dump of its last problem. A cached certificate is checked
# again by Coq like a fresh one, so it can make a tactic faster, never prove more; they stay.
_ORACLE_FILES = frozenset({".lia.cache", ".nia.cache", ".nra.cache", ".csdp.cache", "trace"})
_LIBRARY_WORDS = frozenset({"Require", "From", "Import", "Export", "Open", "Close", "Set", "Unset"})


def _loads_libraries(text: str) -> bool:
    """Whether a sentence only loads or opens libraries, scopes or options (kept across problems)."""
    return Sentence(text, 0, len(text)).first_word in _LIBRARY_WORDS


class SessionDiedError(LabgateError, RuntimeError):
    """coqidetop exited or stopped answering."""


@dataclass
class _Loaded:
    """A sentence the session has executed, with what it printed (replayed when it is reused)."""

    text: str
    state: int
    printed: tuple[str, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()


def _richpp_text(element: ET.Element | None) -> str:
    return "".join(element.itertext()).replace("\xa0", " ") if element is not None else ""


class CoqSession(Prover):
    """coqidetop in the sandbox around `workdir`; one caller at a time."""

    name = "coq-session"

    def __init__(
        self,
        workdir: Path,
        sandbox_factory: SandboxFactory,
        config: CoqConfig | None = None,
        *,
        coqidetop: str = "coqidetop.opt",
    ) -> None:
        self.config = config or CoqConfig()
        self.coqidetop = coqidetop
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sandbox_factory = sandbox_factory
        self._sandbox: Sandbox | None = None
        self._process: SandboxProcess | None = None
        self._buffer = ""
        self._root = 1
        self._loaded: list[_Loaded] = []
        self._lock = threading.Lock()
        self.restarts = 0
        self.checks = 0
        self.coq_seconds = 0.0
        self.leases = 0
        self.outside_state = ""  # the first executed sentence a rollback would not undo ('' when none)

    def version(self) -> str:
        return coq_version(self.config.coqc)

    # -- process -------------------------------------------------------------------------------

    def _start(self) -> None:
        executable = shutil.which(self.coqidetop)
        if executable is None:
            raise ProverUnavailableError(f"{self.coqidetop} not found; it comes with Debian's 'coq' package")
        if self._sandbox is None:
            self._sandbox = self.sandbox_factory(self.workdir)
        spawned = time.perf_counter()
        self._process = self._sandbox.spawn(
            [executable, "-main-channel", "stdfds", "-async-proofs", "off", "-async-proofs-cache", "force", "-q"],
            limits=self.config.limits,
        )
        self.coq_seconds += time.perf_counter() - spawned
        self._buffer = ""
        self._loaded = []
        self.outside_state = ""
        reply = self._call('<call val="Init"><option val="none"/></call>', deadline=time.monotonic() + 60)
        state = reply.find(".//state_id")
        self._root = int(state.get("val", "1")) if state is not None else 1

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process = None
        self._loaded = []
        self.outside_state = ""  # what a rollback would not undo lived in the process now gone

    def close(self) -> None:
        self._stop()
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def _read_element(self, deadline: float) -> ET.Element:
        """The next top-level element (<feedback>, <value>, <message>) from coqidetop's stdout."""
        assert self._process is not None
        stream = self._process.stdout
        while True:
            element = self._take_element()
            if element is not None:
                return element
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([stream], [], [], min(remaining, 0.5))
            if not ready:
                if self._process.poll() is not None:
                    raise SessionDiedError(self._process.stderr_tail().strip()[-300:] or "coqidetop exited")
                continue
            chunk = os.read(stream.fileno(), 1 << 16)
            if not chunk:
                raise SessionDiedError(self._process.stderr_tail().strip()[-300:] or "coqidetop exited")
            self._buffer += chunk.decode("utf-8", errors="replace")

    def _take_element(self) -> ET.Element | None:
        text = self._buffer.lstrip()
        match = re.match(r"<(\w+)", text)
        if not match:
            self._buffer = text
            return None
        tag = match.group(1)
        end = _element_end(text, tag)
        if end < 0:
            self._buffer = text
            return None
        raw, self._buffer = text[:end], text[end:]
        return ET.fromstring(_ENTITY.sub(lambda m: html.unescape(f"&{m.group(1)};"), raw))

    def _call(self, xml: str, deadline: float, sink: list[ET.Element] | None = None) -> ET.Element:
        """Send one call; return its <value>, collecting feedback messages into `sink`."""
        assert self._process is not None
        sent = time.perf_counter()
        try:
            self._process.stdin.write(xml.encode())
            self._process.stdin.flush()
            while True:
                element = self._read_element(deadline)
                if element.tag == "value":
                    return element
                if sink is not None and element.tag == "feedback":
                    content = element.find("feedback_content")
                    if content is not None and content.get("val") == "message":
                        sink.append(element)
        finally:
            self.coq_seconds += time.perf_counter() - sent

    # -- checking ------------------------------------------------------------------------------

    def check(self, source: str, *, timeout: float | None = None) -> CheckResult:
        limit = timeout if timeout is not None else self.config.timeout
        started = time.monotonic()
        try:
            sentences = [s for s in split_sentences(source)]
        except UnterminatedSourceError as error:
            return CheckResult(ok=False, failure=str(error))
        with self._lock:
            self.checks += 1
            try:
                return self._check(source, sentences, started, limit)
            except TimeoutError:
                self._stop()
                self.restarts += 1
                return CheckResult(
                    ok=False,
                    timed_out=True,
                    seconds=time.monotonic() - started,
                    failure=f"coqidetop did not finish within {limit:g} s and was restarted",
                )
            except (SessionDiedError, BrokenPipeError, ET.ParseError) as error:
                self._stop()
                self.restarts += 1
                return CheckResult(
                    ok=False,
                    seconds=time.monotonic() - started,
                    failure=f"coqidetop died (stack overflow or memory limit): {error}",
                )

    def _check(self, source: str, sentences: list[Sentence], started: float, limit: float) -> CheckResult:
        deadline = started + limit
        if self._process is None or self._process.poll() is not None:
            self._start()
        common = 0
        while (
            common < len(self._loaded)
            and common < len(sentences)
            and self._loaded[common].text == sentences[common].text
        ):
            common += 1
        if common < len(self._loaded):
            target = self._loaded[common - 1].state if common else self._root
            self._call(f'<call val="Edit_at"><state_id val="{target}"/></call>', deadline)
            self._loaded = self._loaded[:common]
        messages: list[ET.Element] = []
        diagnostics: list[Diagnostic] = []
        added: list[tuple[Sentence, int]] = []
        tip = self._loaded[-1].state if self._loaded else self._root
        for sentence in sentences[common:]:
            if not self.outside_state and _OUTSIDE_STATE.search(blank_literals(sentence.text)):
                self.outside_state = " ".join(sentence.text.split())[:80]
            reply = self._call(_add_call(sentence.text, tip), deadline, messages)
            if reply.get("val") != "good":
                diagnostics.append(
                    _diagnostic(source, sentence, reply.get("loc_s"), reply.get("loc_e"), "error", _richpp_text(reply))
                )
                break
            new_state = reply.find(".//state_id")
            tip = int(new_state.get("val", "0")) if new_state is not None else tip
            added.append((sentence, tip))
        goal_reply = self._call('<call val="Goal"><unit/></call>', deadline, messages)
        failed_state: int | None = None
        printed: dict[int, list[str]] = {}
        warned: dict[int, list[Diagnostic]] = {}
        replayed_out = [text for item in self._loaded[:common] for text in item.printed]
        replayed_warnings = [w for item in self._loaded[:common] for w in item.warnings]
        by_state = {state: sentence for sentence, state in added}
        for element in messages:
            level_node = element.find(".//message_level")
            level = level_node.get("val", "") if level_node is not None else ""
            state_node = element.find("state_id")
            state = int(state_node.get("val", "0")) if state_node is not None else 0
            text = _richpp_text(element.find(".//richpp"))
            if level in ("error", "warning"):
                loc = element.find(".//loc")
                located = by_state.get(state)
                severity: Severity = "error" if level == "error" else "warning"
                if located is not None:
                    start = loc.get("start") if loc is not None else None
                    stop = loc.get("stop") if loc is not None else None
                    diagnostic = _diagnostic(source, located, start, stop, severity, text)
                else:
                    diagnostic = Diagnostic(0, 0, 0, 0, severity, " ".join(text.split()))
                diagnostics.append(diagnostic)
                if severity == "warning":
                    warned.setdefault(state, []).append(diagnostic)
                if level == "error" and failed_state is None:
                    failed_state = state
            else:
                printed.setdefault(state, []).append(text)
        if goal_reply.get("val") != "good" and failed_state is None:
            failed_state = added[-1][1] if added else tip
            if not any(item.severity == "error" for item in diagnostics):
                diagnostics.append(Diagnostic(0, 0, 0, 0, "error", " ".join(_richpp_text(goal_reply).split())))
        good = [(s, state) for s, state in added if failed_state is None or state < failed_state]
        self._loaded.extend(
            _Loaded(s.text, state, tuple(printed.get(state, ())), tuple(warned.get(state, ()))) for s, state in good
        )
        stdout = replayed_out + [text for _, state in added for text in printed.get(state, ())]
        diagnostics = replayed_warnings + diagnostics
        if failed_state is not None:
            back = self._loaded[-1].state if self._loaded else self._root
            self._call(f'<call val="Edit_at"><state_id val="{back}"/></call>', deadline)
        elif goal_reply.find(".//goals") is not None and sentences:
            diagnostics.append(Diagnostic(0, 0, 0, 0, "error", "There are pending proofs in the checked source."))
        ok = not any(item.severity == "error" for item in diagnostics)
        return CheckResult(
            ok=ok,
            diagnostics=tuple(diagnostics),
            stdout="\n".join(stdout) + ("\n" if stdout else ""),
            seconds=time.monotonic() - started,
        )

    def goal_at(self, source: str, position: int, *, timeout: float | None = None) -> GoalState | None:
        cut = cut_before(source, position)
        result = self.check(source[:cut].rstrip() + "\nShow.\n", timeout=timeout)
        if any(item.line > 0 for item in result.errors) or result.failure:
            return None
        return parse_goals(result.stdout)

    def reset(self, *, keep_libraries: bool = False, timeout: float = 10.0) -> str:
        """Roll coqidetop back to the state right after `Init`, dropping every sentence it executed, or
        with `keep_libraries` to the end of the leading `Require`/`Import`/`Open Scope`/`Set` sentences
        (what makes a first check slow); '' when done, else why it could not be (the process is then stopped).

        What is kept is reached again only by a source that starts with those very sentences (a check
        goes back to the first sentence that differs), so it is exactly the state that source's own
        sentences make: nothing else of the previous source survives.
        """
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._stop()
                return ""
            kept = 0
            while keep_libraries and kept < len(self._loaded) and _loads_libraries(self._loaded[kept].text):
                kept += 1
            if kept == len(self._loaded):
                return ""
            target = self._loaded[kept - 1].state if kept else self._root
            try:
                self._call(f'<call val="Edit_at"><state_id val="{target}"/></call>', time.monotonic() + timeout)
            except (TimeoutError, SessionDiedError, BrokenPipeError, ET.ParseError) as error:
                self._stop()
                return f"the rollback failed: {type(error).__name__} {error}".strip()
            self._loaded = self._loaded[:kept]
            return ""

    def loaded_sentences(self) -> list[str]:
        """The texts of the sentences the session holds executed, in order (what a next check can reuse)."""
        return [item.text for item in self._loaded]

    def resident_bytes(self) -> int | None:
        """Resident memory of coqidetop and everything around it in the sandbox (None where the
        sandbox does not show its processes to this host, as with docker)."""
        popen = getattr(self._process, "process", None)
        pid = getattr(popen, "pid", None)
        return _tree_resident_bytes(pid) if isinstance(pid, int) else None


def _add_call(text: str, state: int) -> str:
    return (
        '<call val="Add"><pair><pair><pair><pair>'
        f"<string>{escape(text)}</string><int>0</int></pair>"
        f'<pair><state_id val="{state}"/><bool val="false"/></pair></pair>'
        "<int>0</int></pair><pair><int>1</int><int>0</int></pair></pair></call>"
    )


def _element_end(text: str, tag: str) -> int:
    """End offset of the element starting at 0 (nested tags of the same name counted), or -1."""
    depth = 0
    for match in re.finditer(rf"<(/?){tag}\b[^>]*?(/?)>", text):
        closing, self_closing = match.group(1), match.group(2)
        if self_closing:
            if depth == 0:
                return match.end()
            continue
        depth += -1 if closing else 1
        if depth == 0:
            return match.end()
    return -1


def _diagnostic(
    source: str, sentence: Sentence, start: str | None, stop: str | None, severity: Severity, text: str
) -> Diagnostic:
    """A message located by byte offsets within its sentence, in the whole source's coordinates."""
    raw = sentence.text.encode()
    begin = len(raw[: int(start)].decode(errors="ignore")) if start is not None else 0
    end = len(raw[: int(stop)].decode(errors="ignore")) if stop is not None else len(sentence.text)
    line, column = line_column(source, sentence.start + begin)
    end_line, end_column = line_column(source, sentence.start + max(end, begin))
    return Diagnostic(line, column, end_line, end_column, severity, " ".join(text.split()))


def _tree_resident_bytes(root: int) -> int | None:
    """Resident bytes of `root` and its descendants, read from /proc (None where it cannot be read)."""
    parents: dict[int, int] = {}
    try:
        entries = [entry.name for entry in os.scandir("/proc") if entry.name.isdigit()]
    except OSError:
        return None
    for name in entries:
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                parents[int(name)] = int(handle.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    if root not in parents:
        return None
    tree, stack = [], [root]
    while stack:
        pid = stack.pop()
        tree.append(pid)
        stack.extend(child for child, parent in parents.items() if parent == pid)
    total = 0
    page = os.sysconf("SC_PAGE_SIZE")
    for pid in tree:
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


class SessionLease(Prover):
    """One search's use of a pooled session: the `Prover` calls go to the session, `close()` gives it
    back to the pool (which resets or retires it). A closed lease refuses further checks."""

    name = "coq-session"

    def __init__(self, pool: SessionPool, session: CoqSession, key: tuple[object, ...], factory: SandboxFactory):
        self.pool = pool
        self.session = session
        self.key = key
        self.factory = factory
        self.reused = session.leases > 1
        self._closed = False

    def _open(self) -> CoqSession:
        if self._closed:
            raise SessionDiedError("this pooled Coq session was already given back (the lease is closed)")
        return self.session

    def check(self, source: str, *, timeout: float | None = None) -> CheckResult:
        return self._open().check(source, timeout=timeout)

    def goal_at(self, source: str, position: int, *, timeout: float | None = None) -> GoalState | None:
        return self._open().goal_at(source, position, timeout=timeout)

    def version(self) -> str:
        return self.session.version()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.pool.release(self)


@dataclass
class _Idle:
    session: CoqSession
    key: tuple[object, ...]
    factory: SandboxFactory
    since: float


@dataclass
class PoolCounts:
    """What a pool did: sessions started, leases served by a kept session, sessions retired and why."""

    started: int = 0
    reused: int = 0
    retired: dict[str, int] = field(default_factory=dict)


class SessionPool:
    """Idle Coq sessions of this process, lent to one search at a time and reset between searches.

    A session is kept for the same coqidetop, Coq configuration, sandbox factory (the same object:
    one run's sandboxes) and scope (the directory its experiments live in, so that stopping a run's
    commands under it also stops its sessions). Idle sessions are closed after `idle_seconds`, beyond
    `max_idle`, and when the process exits.
    """

    def __init__(
        self,
        *,
        idle_seconds: float = 30.0,
        max_idle: int = 4,
        max_leases: int = 64,
        memory_bytes: int = 2 * GIB,
    ) -> None:
        self.idle_seconds = idle_seconds
        self.max_idle = max_idle
        self.max_leases = max_leases
        self.memory_bytes = memory_bytes
        self.counts = PoolCounts()
        self._idle: list[_Idle] = []
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def lease(
        self,
        workdir: Path,
        sandbox_factory: SandboxFactory,
        config: CoqConfig | None = None,
        *,
        scope: Path | None = None,
        coqidetop: str = "coqidetop.opt",
        source_hint: str = "",
    ) -> SessionLease:
        """A session for one search: a kept one of the same kind, else a new one working in `workdir`.

        `source_hint` (a file of the problem) picks, among kept sessions, the one holding the longest
        run of the file's first sentences (its libraries already loaded); when none holds any and fewer
        than `max_idle` are kept, a new session starts, so that each kept one stays ready for its header.
        """
        config = config or CoqConfig()
        key: tuple[object, ...] = (coqidetop, config, (scope or workdir.parent).resolve())
        wanted = _sentence_texts(source_hint)
        expired = self._expired()
        with self._lock:
            candidates = [i for i, e in enumerate(self._idle) if e.key == key and e.factory is sandbox_factory]
            found = _best_match(self._idle, candidates, wanted, self.max_idle)
            entry = self._idle.pop(found) if found is not None else None
            if entry is not None:
                self.counts.reused += 1
            else:
                self.counts.started += 1
        _close_all(expired)
        session = entry.session if entry else CoqSession(workdir, sandbox_factory, config, coqidetop=coqidetop)
        session.leases += 1
        return SessionLease(self, session, key, sandbox_factory)

    def release(self, lease: SessionLease) -> None:
        """Take a session back: reset and kept idle, or closed when it is unfit to serve another search."""
        session = lease.session
        try:
            reason = self._unfit(session) or session.reset(keep_libraries=True)
        except Exception as error:  # noqa: BLE001 - a session that cannot be reset is closed, never fails the search
            reason = f"could not be reset: {type(error).__name__}"
        if reason:
            self._retire(session, reason)
            return
        with self._lock:
            self._idle.append(_Idle(session, lease.key, lease.factory, time.monotonic()))
            overflow = self._idle[: max(0, len(self._idle) - self.max_idle)]
            del self._idle[: len(overflow)]
            if overflow:
                self.counts.retired["too many idle"] = self.counts.retired.get("too many idle", 0) + len(overflow)
            self._schedule()
        _close_all(item.session for item in overflow)

    def close(self, scope: Path | None = None) -> None:
        """Close the idle sessions kept for `scope` (a run's experiments directory), or all of them; a
        leased one is reset or closed when its holder gives it back."""
        with self._lock:
            chosen = scope.resolve() if scope is not None else None
            idle = [e for e in self._idle if chosen is None or e.key[-1] == chosen]
            self._idle = [e for e in self._idle if e not in idle]
            if not self._idle and self._timer is not None:
                self._timer.cancel()
                self._timer = None
        _close_all(item.session for item in idle)

    def idle_count(self) -> int:
        with self._lock:
            return len(self._idle)

    def _unfit(self, session: CoqSession) -> str:
        """Why `session` must not serve another problem ('' when it may)."""
        if session.outside_state:
            return f"ran a command a rollback does not undo ({session.outside_state})"
        if session.leases >= self.max_leases:
            return f"served {session.leases} searches"
        try:
            if any(path.name not in _ORACLE_FILES for path in session.workdir.iterdir()):
                return "left files in its directory"
        except OSError as error:
            return f"its directory cannot be read: {error}"
        resident = session.resident_bytes()
        if resident is not None and resident > self.memory_bytes:
            return f"uses {resident >> 20} MiB (more than {self.memory_bytes >> 20} MiB)"
        return ""

    def _retire(self, session: CoqSession, reason: str) -> None:
        kind = reason.split(" (", 1)[0].split(":", 1)[0]
        with self._lock:
            self.counts.retired[kind] = self.counts.retired.get(kind, 0) + 1
        session.close()

    def _expired(self) -> list[CoqSession]:
        """Remove and return the sessions idle longer than `idle_seconds`."""
        now = time.monotonic()
        with self._lock:
            expired = [e for e in self._idle if now - e.since > self.idle_seconds]
            self._idle = [e for e in self._idle if now - e.since <= self.idle_seconds]
            if expired:
                self.counts.retired["idle"] = self.counts.retired.get("idle", 0) + len(expired)
        return [e.session for e in expired]

    def _schedule(self) -> None:
        """Sweep idle sessions later (a process that stops searching must not keep coqidetop alive)."""
        if self._timer is None or not self._timer.is_alive():
            self._timer = threading.Timer(self.idle_seconds + 1.0, self._sweep)
            self._timer.daemon = True
            self._timer.start()

    def _sweep(self) -> None:
        _close_all(self._expired())
        with self._lock:
            self._timer = None
            if self._idle:
                self._schedule()


def _sentence_texts(source: str) -> list[str]:
    try:
        return [sentence.text for sentence in split_sentences(source)]
    except UnterminatedSourceError:
        return []


def _shared(held: list[str], wanted: list[str]) -> int:
    count = 0
    while count < min(len(held), len(wanted)) and held[count] == wanted[count]:
        count += 1
    return count


def _best_match(idle: list[_Idle], candidates: list[int], wanted: list[str], max_idle: int) -> int | None:
    """Which kept session to lend (an index into `idle`), or None to start a new one.

    The one sharing the most leading sentences with `wanted` (the latest on a tie); with none shared, one
    holding nothing, else a new session while fewer than `max_idle` are kept, else the oldest kept.
    """
    if not candidates:
        return None
    if not wanted:
        return candidates[-1]
    scored = [(_shared(idle[i].session.loaded_sentences(), wanted), i) for i in candidates]
    best, index = max(scored)
    if best:
        return index
    empty = [i for i in candidates if not idle[i].session.loaded_sentences()]
    if empty:
        return empty[-1]
    return None if len(idle) < max_idle else candidates[0]


def _close_all(sessions: Iterable[CoqSession]) -> None:
    for session in sessions:
        session.close()


SESSIONS = SessionPool()
atexit.register(SESSIONS.close)


def pool_enabled() -> bool:
    """False when `LABGATE_PROOF_SESSION_POOL` is `off` (each search then opens its own session)."""
    return os.environ.get(POOL_ENV, "").strip().lower() not in ("off", "0", "false", "no")


def pooled_session(
    workdir: Path,
    sandbox_factory: SandboxFactory,
    config: CoqConfig | None = None,
    *,
    scope: Path | None = None,
    source_hint: str = "",
) -> Prover:
    """The search's Coq session: a lease from this process's pool, or (pool off) a session of its own."""
    if not pool_enabled():
        return CoqSession(workdir, sandbox_factory, config)
    return SESSIONS.lease(workdir, sandbox_factory, config, scope=scope, source_hint=source_hint)
