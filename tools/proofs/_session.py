"""A persistent Coq session (coqidetop's XML protocol) behind the same `Prover` interface.

The session keeps the sentences it last executed; a new source is checked by going back to the last
sentence it shares with what is loaded (`Edit_at`) and adding only the rest, so a header that takes a
second to load is loaded once. Errors come back as feedback messages located within their sentence
and are turned into the same `Diagnostic`s coqc prints; notices (`Show`, `Print Assumptions`, what
`hammer` suggests) become the check's stdout. A check that outlives its limit, or a process that
dies (stack overflow), costs a restart: the next check starts from an empty session.
`coq_seconds` adds up the time spent on coqidetop (starting it, and every call until its reply is
read), so that a check's time splits into what Coq needs and what this class adds around the calls.
"""

from __future__ import annotations

import html
import os
import re
import select
import shutil
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from runs import LabgateError
from sandboxes import Sandbox, SandboxProcess
from tools._workload import SandboxFactory
from tools.proofs._coq import CoqConfig, coq_version, cut_before
from tools.proofs._diagnostics import Diagnostic, GoalState, Severity, parse_goals
from tools.proofs._prover import CheckResult, Prover, ProverUnavailableError
from tools.proofs._sentences import Sentence, UnterminatedSourceError, line_column, split_sentences

_ENTITY = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)(\w+);")


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
        reply = self._call('<call val="Init"><option val="none"/></call>', deadline=time.monotonic() + 60)
        state = reply.find(".//state_id")
        self._root = int(state.get("val", "1")) if state is not None else 1

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process = None
        self._loaded = []

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
