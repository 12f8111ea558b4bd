"""The correction loop for one problem: draft, check, tool correction, conjecture correction, restart.

Each draft is checked with the prover; at the first failing step, tool correction replaces the step
with automation; if no tactic closes that goal, the model (when there is one) revises the whole
proof from the error and the goal, and after `restart_every` revisions of one draft the search
starts again from a fresh draft. Without a model, a draft whose failing step automation cannot
close is abandoned for the next skeleton. Budgets are prover processes (`attempts`) and seconds.

Goals left over at `Qed` get a hole each, in turn; once automation has closed one and more are left (the cases
of a split), the tactic that closed it is tried on every goal at once (`all: try (timeout t (tactic))`, one
prover run instead of three per goal), falling back to one at a time if that check runs out of time.

Every check is logged with the text it checked (`SOURCE_LIMIT` bytes at most) and, when a step failed,
the goal before that step, so a reviewer sees each failing draft with its error and goal.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from agents.proof_search._automation import (
    AUTOMATION,
    AutomationTactic,
    StepFix,
    ToolCorrector,
    tactic_script,
    with_recalled,
)
from agents.proof_search._conjecture import ConjectureCorrector, Failure
from agents.proof_search._dialects import classify_foreign
from agents.proof_search._proposer import BuiltinProposer
from agents.proof_search._script import AUTOMATION_IMPORTS, HOLE, SINGLE_SENTENCE, ProofScript, RenderedScript
from tools.proofs import CheckResult, ProofProblem, Prover, error_offset

_BULLET_HINT = re.compile(r"Focus next goal with bullet ([-+*]+)")
_UNFINISHED_BULLET = re.compile(r"(Current bullet \S+ is not finished|Wrong bullet)")
_NO_GOALS = ("No more goals", "No such goal", "No focused proof", "No more subgoals")
SOURCE_LIMIT = 20_000
"""Bytes of a checked draft's text kept in its log entry: enough for any real proof, bounded for the log."""
MEMORY_ORIGIN = "memory:"
"""Origin prefix of drafts retrieved from the proof memory."""
GOAL_LIMIT = 8_000
"""Bytes of the goal at a failing step kept in its log entry."""


def bounded(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes (on a character boundary), saying so when cut."""
    data = text.encode()
    if len(data) <= limit:
        return text
    marker = f"\n[... cut: {len(data)} bytes in all]"
    return data[: max(0, limit - len(marker.encode()))].decode("utf-8", errors="ignore") + marker


@dataclass(frozen=True)
class SearchBudget:
    attempts: int = 48
    seconds: float = 90.0
    step_seconds: float = 24.0
    tactic_seconds: float = 3.0
    check_seconds: float = 40.0
    recall_seconds: float = 10.0
    """Of `seconds`, the most spent checking scripts recalled from the proof memory: a slow recalled script
    must not eat the time of the skeletons that would have proved the goal."""
    restart_every: int = 4
    llm_calls: int = 32
    """Model calls (drafts and revisions) one search may make; the built-in skeletons go on after it."""
    llm_backoff_seconds: float = 0.5
    """Pause after a useless reply (nothing usable, or a draft already tried), doubling each time in a row."""
    llm_misses: int = 3
    """Useless replies in a row after which the model is not asked for drafts again."""


@dataclass
class SearchResult:
    """What the loop found: the proof (or the last attempt), and how it got there."""

    solved: bool
    script: ProofScript | None
    source: str
    attempts: int
    seconds: float
    origin: str = ""
    log: list[dict[str, Any]] = field(default_factory=list)
    stopped: str = ""
    llm_calls: int = 0
    llm_stopped: str = ""
    """Why the model was no longer asked ("" when it was asked as long as the search wanted)."""


@dataclass(frozen=True)
class Diagnosis:
    """Where an attempt failed: a step to correct, a place needing a hole, or a failure of the whole."""

    kind: Literal["ok", "step", "hole", "extra", "fatal", "abandon"]
    index: int = 0
    message: str = ""
    insert: tuple[str, ...] = ()


def diagnose(rendered: RenderedScript, result: CheckResult, prover: str = "coq") -> Diagnosis:
    """Classify a failed check of a rendered script."""
    if result.ok:
        return Diagnosis("ok")
    if result.timed_out or result.failure:
        return Diagnosis("abandon", message=result.summary())
    if prover != "coq":
        return _diagnose_foreign(rendered, result)
    located = [item for item in result.errors if item.line > 0]
    if not located:
        message = result.first_error.message if result.first_error else result.summary()
        if "pending proofs" in message:
            return Diagnosis("hole", index=len(rendered.spans), message=message, insert=(HOLE,))
        return Diagnosis("abandon", message=message)
    error = located[0]
    offset = error_offset(rendered.source, error)
    first_step = rendered.spans[0][0] if rendered.spans else rendered.qed_offset
    if offset < first_step - len("Proof.\n") - 1:
        return Diagnosis("fatal", message=f"the statement or header does not compile: {error.message}")
    index = rendered.step_at(error.line, error.column)
    if index is None:
        index = len(rendered.spans) if offset >= rendered.qed_offset else _nearest(rendered, offset)
    bullet = _BULLET_HINT.search(error.message)
    if bullet:
        return Diagnosis("hole", index=index, message=error.message, insert=(bullet.group(1), HOLE))
    if _UNFINISHED_BULLET.search(error.message):
        return Diagnosis("hole", index=index, message=error.message, insert=(HOLE,))
    if any(marker in error.message for marker in _NO_GOALS):
        return Diagnosis("extra", index=index, message=error.message)
    if index >= len(rendered.spans):
        return Diagnosis("hole", index=index, message=error.message, insert=(HOLE,))
    return Diagnosis("step", index=index, message=error.message)


def _diagnose_foreign(rendered: RenderedScript, result: CheckResult) -> Diagnosis:
    """Lean 4 / Isabelle: unsolved goals need a hole, no goals left make the rest extra, else the step."""
    located = [item for item in result.errors if item.line > 0]
    if not located:
        message = result.first_error.message if result.first_error else result.summary()
        return Diagnosis("abandon", message=message)
    error = located[0]
    kind, offset = classify_foreign(rendered.source, error.line, error.column, error.message)
    index = rendered.step_at(error.line, error.column)
    if index is None:
        index = len(rendered.spans) if offset >= rendered.qed_offset else _nearest(rendered, offset)
    first_step = rendered.spans[0][0] if rendered.spans else rendered.qed_offset
    if kind == "hole":
        return Diagnosis("hole", index=len(rendered.spans), message=error.message, insert=(HOLE,))
    if offset < first_step - 8 and kind == "step":
        return Diagnosis("fatal", message=f"the statement or header does not compile: {error.message}")
    if kind == "extra":
        return Diagnosis("extra", index=index, message=error.message)
    if index >= len(rendered.spans):
        return Diagnosis("hole", index=index, message=error.message, insert=(HOLE,))
    return Diagnosis("step", index=index, message=error.message)


def _won_by(outcome: StepFix, recalled: tuple[str, ...]) -> bool:
    """Whether the probe's winning tactic is one the step memory offered."""
    if outcome.tactic is None:
        return False
    return tactic_script(outcome.tactic) in {tactic_script(item) for item in recalled}


def _nearest(rendered: RenderedScript, offset: int) -> int:
    for index, (start, _end) in enumerate(rendered.spans):
        if start > offset:
            return max(0, index - 1)
    return max(0, len(rendered.spans) - 1)


class ProofSearch:
    """Runs the loop for one problem with one prover; `llm` None means the built-in proposer only."""

    def __init__(
        self,
        problem: ProofProblem,
        prover: Prover,
        budget: SearchBudget | None = None,
        *,
        proposer: BuiltinProposer | None = None,
        conjecture: ConjectureCorrector | None = None,
        seed: int = 0,
        should_stop: Callable[[], bool] | None = None,
        imports: str = AUTOMATION_IMPORTS,
        dedupe_goals: bool = True,
        tactics: tuple[AutomationTactic, ...] = AUTOMATION,
        library: bool = True,
        recall_tactics: Callable[[str], tuple[str, ...]] | None = None,
    ) -> None:
        self.problem = problem
        self.recall_tactics = recall_tactics
        self.prover = prover
        self.budget = budget or SearchBudget()
        self.proposer = proposer or BuiltinProposer()
        self.conjecture = conjecture
        self.seed = seed
        self.should_stop = should_stop
        self.imports = imports
        self.corrector = ToolCorrector(
            prover,
            problem,
            tactic_seconds=self.budget.tactic_seconds,
            step_seconds=self.budget.step_seconds,
            imports=imports,
            tactics=tactics,
            library=library,
        )
        self.attempts = 0
        self.log: list[dict[str, Any]] = []
        self._started = 0.0
        self._seen: set[str] = set()
        self._failed_goals: set[str] = set()
        # Deferred tactics (`AutomationTactic.deferred`) run in a second pass over the steps the others
        # left, in the order they were met; a goal they failed on once is not tried again.
        self._first_tactics = tuple(t for t in tactics if not t.deferred) or tactics
        # Lean and Isabelle probe with their own dialect's tactics (`ToolCorrector._fix_foreign`): one pass.
        deferring = problem.prover == "coq" and self._first_tactics != tactics
        self._late_tactics = tuple(t for t in tactics if t.deferred) if deferring else ()
        self._later: list[tuple[ProofScript, int, str | None]] = []
        self._late_failed: set[str] = set()
        self._goals: dict[tuple[str, int], str | None] = {}
        self.dedupe_goals = dedupe_goals
        self._last_source = ""
        self._drafted: set[str] = set()
        self._llm_stopped = ""

    # -- budget ---------------------------------------------------------------------------------

    def _remaining(self) -> float:
        return self.budget.seconds - (time.monotonic() - self._started)

    def _spent(self) -> str:
        if self.attempts >= self.budget.attempts:
            return f"attempt budget spent ({self.budget.attempts} prover runs)"
        if self._remaining() <= 1.0:
            return f"time budget spent ({self.budget.seconds:g} s)"
        if self.should_stop is not None and self.should_stop():
            return "the run was cancelled"
        return ""

    def _model_available(self) -> bool:
        """Whether the model may be asked again: it exists, its token budget and this search's call budget last."""
        if self.conjecture is None or self._llm_stopped:
            return False
        if self.conjecture.exhausted:
            self._llm_stopped = self.conjecture.last_error or "the LLM token budget is spent"
        elif self.conjecture.calls >= self.budget.llm_calls:
            self._llm_stopped = f"model call budget spent ({self.budget.llm_calls} calls)"
        if self._llm_stopped:
            self._record(kind="llm", action="stop", ok=False, error=self._llm_stopped)
            return False
        return True

    def _back_off(self, misses: int) -> None:
        """Wait before asking again after `misses` useless replies in a row, within the time budget."""
        delay = self.budget.llm_backoff_seconds * 2 ** (misses - 1)
        if delay > 0:
            time.sleep(max(0.0, min(delay, self._remaining() - 1.0)))

    def _record(self, **entry: Any) -> dict[str, Any]:
        entry["attempt"] = self.attempts
        entry["elapsed"] = round(time.monotonic() - self._started, 3)
        self.log.append(entry)
        return entry

    # -- drafts ---------------------------------------------------------------------------------

    def _drafts(self) -> Iterator[ProofScript]:
        """The first built-in skeleton (automation alone); then, with a model, its fresh drafts until it
        stops answering usefully `llm_misses` times in a row (no draft, or one it already gave), backing
        off after each useless reply, or its call budget is spent; then the remaining skeletons."""
        builtin = self.proposer.drafts(self.problem)
        first = next(builtin, None)
        if first is not None:
            yield first
        if self.conjecture is not None:
            misses = 0
            round_ = 0
            while not self._spent() and self._model_available():
                if misses >= self.budget.llm_misses:
                    self._llm_stopped = f"{misses} useless drafts in a row"
                    self._record(kind="llm", action="stop", ok=False, error=self._llm_stopped)
                    break
                draft = self.conjecture.draft(seed=self.seed + round_)
                round_ += 1
                repeated = draft is not None and draft.text() in self._drafted
                error = "the same draft again" if repeated else self.conjecture.last_error
                self._record(kind="llm", action="draft", ok=draft is not None and not repeated, error=error)
                if draft is None or repeated:
                    misses += 1
                    self._back_off(misses)
                    continue
                misses = 0
                self._drafted.add(draft.text())
                yield draft
        yield from builtin

    # -- the loop -------------------------------------------------------------------------------

    def run(self) -> SearchResult:
        self._started = time.monotonic()
        recalled = self._recall()
        if recalled is not None:
            return self._result(True, recalled, "")
        stopped = ""
        for draft in self._drafts():
            stopped = self._spent()
            if stopped:
                break
            solved = self._work_on(draft)
            if solved is not None:
                return self._result(True, solved, "")
            stopped = self._spent()
            if stopped:
                break
        if not stopped:
            solved = self._deferred_pass()
            if solved is not None:
                return self._result(True, solved, "")
            stopped = self._spent()
        return self._result(False, None, stopped or "every draft failed")

    def _recall(self) -> ProofScript | None:
        """Scripts recalled from the proof memory, each checked once as is, first and within
        `recall_seconds` of the budget together (each check's timeout is what is left of it)."""
        deadline = time.monotonic() + self.budget.recall_seconds
        for draft in self.proposer.memory_drafts():
            left = deadline - time.monotonic()
            if left < 0.5 or self._spent():
                self._record(kind="recall", origin=draft.origin, ok=False, error="recall budget spent")
                break
            solved = self._work_on(draft, check_cap=left)
            if solved is not None:
                return solved
        return None

    def _deferred_pass(self) -> ProofScript | None:
        """The second pass: each step the first pass's tactics could not close, in the order met, gets the
        deferred tactics; where one closes it, that draft goes on from there (its later steps get the
        first pass's tactics, and any they leave join this pass)."""
        position = 0
        while position < len(self._later) and not self._spent():
            script, index, goal = self._later[position]
            position += 1
            if goal is not None and goal in self._late_failed:
                self._record(kind="probe", origin=script.origin, step=index, ok=False, skipped="goal already tried")
                continue
            outcome = self._sweep(script, index, goal, self._late_tactics, library=False, deferred=True)
            if outcome.tactic is None:
                if goal is not None and not outcome.check.timed_out:
                    self._late_failed.add(goal)
                continue
            at_end = index == len(script.steps) - 1
            solved = self._work_on(script.replace(index, outcome.tactic), last_fill=outcome.tactic if at_end else None)
            if solved is not None:
                return solved
        return None

    def _result(self, solved: bool, script: ProofScript | None, stopped: str) -> SearchResult:
        source = script.render(self.problem, self.imports).source if script is not None else self._last_source
        return SearchResult(
            solved=solved,
            script=script,
            source=source,
            attempts=self.attempts,
            seconds=round(time.monotonic() - self._started, 3),
            origin=script.origin if script is not None else "",
            log=self.log,
            stopped=stopped,
            llm_calls=self.conjecture.calls if self.conjecture is not None else 0,
            llm_stopped=self._llm_stopped or self._exhaustion(),
        )

    def _exhaustion(self) -> str:
        """The token-budget error when the model's budget ran out, else ""."""
        if self.conjecture is None or not self.conjecture.exhausted:
            return ""
        return self.conjecture.last_error or "the LLM token budget is spent"

    def _work_on(
        self, draft: ProofScript, check_cap: float | None = None, last_fill: str | None = None
    ) -> ProofScript | None:
        """Check and correct one draft until it is proved, abandoned, or the budget runs out; `check_cap`
        bounds each prover check's timeout further (a recalled script's share of the recall budget);
        `last_fill` is the draft's last step where automation just put it there, for a leftover goal."""
        script = draft
        revisions = 0
        before_bulk: ProofScript | None = None  # the script a bulk step replaced, while that step is checked
        while not self._spent():
            hole = script.hole()
            if hole is not None:
                filled = self._fix(script, hole)
                if filled is None:
                    return None
                last_fill = filled.steps[hole] if hole == len(script.steps) - 1 else None
                script = filled
                continue
            rendered = script.render(self.problem, self.imports)
            if rendered.source in self._seen:
                self._record(kind="check", origin=script.origin, ok=False, error="already tried")
                return None
            self._seen.add(rendered.source)
            self._last_source = rendered.source
            self.attempts += 1
            timeout = min(self.budget.check_seconds, self._remaining())
            if check_cap is not None:
                timeout = min(timeout, check_cap)
            result = self.prover.check(rendered.source, timeout=timeout)
            diagnosis = diagnose(rendered, result, self.problem.prover)
            if before_bulk is not None and diagnosis.kind == "abandon" and result.timed_out:
                # The bulk step was too slow over every goal: back to filling the leftovers one at a time.
                script, before_bulk = before_bulk.insert(len(before_bulk.steps), HOLE), None
                self._record(kind="check", origin=script.origin, ok=False, error="bulk step timed out")
                continue
            before_bulk = None
            entry = self._record(
                kind="check",
                origin=script.origin,
                ok=result.ok,
                seconds=round(result.seconds, 3),
                error=diagnosis.message[:300],
                diagnosis=diagnosis.kind,
                step=diagnosis.index,
                source=bounded(rendered.source, SOURCE_LIMIT),
            )
            if diagnosis.kind == "step":
                # The goal the failing step faced, for the reader of the log; tool and conjecture
                # correction below reuse it rather than asking the prover again.
                goal = self._goal_before(rendered, diagnosis.index)
                if goal is not None:
                    entry["goal"] = bounded(goal, GOAL_LIMIT)
            if diagnosis.kind == "ok":
                return script
            if diagnosis.kind in ("fatal", "abandon") or script.origin.startswith(MEMORY_ORIGIN):
                return None  # a remembered script is tried once, as is: correcting it costs skeletons' time
            if diagnosis.kind == "hole":
                bulk = self._bulk_leftovers(script, diagnosis, last_fill)
                if bulk is not None:
                    before_bulk, script = script, bulk
                    continue
                script = script.insert(diagnosis.index, *diagnosis.insert)
                continue
            if diagnosis.kind == "extra":
                script = script.truncate(diagnosis.index)
                continue
            fixed = self._fix(script, diagnosis.index)
            if fixed is not None:
                script = fixed
                continue
            if revisions >= self.budget.restart_every or self._spent() or not self._model_available():
                return None
            revised = self._revise(script, diagnosis, rendered)
            revisions += 1
            if revised is None:
                return None
            script = revised
        return None

    def _bulk_leftovers(self, script: ProofScript, diagnosis: Diagnosis, last_fill: str | None) -> ProofScript | None:
        """Where goals are still left after automation closed the first leftover goal at the end (a case
        split's hundred cases), that tactic tried on every goal at once (`all: try (timeout t (tactic))`), in
        place of one prover run per goal; None where this does not apply.

        Filling leftovers one at a time costs a check, a goal query and a sweep per goal, so an enumeration
        whose cases one tactic closes would spend the whole budget on a few dozen of them."""
        if (
            last_fill is None
            or diagnosis.insert != (HOLE,)
            or diagnosis.index < len(script.steps)
            or not script.steps
            or script.steps[-1] != last_fill
            or not SINGLE_SENTENCE.fullmatch(last_fill.strip())
        ):
            return None
        tactic = last_fill.strip()[:-1]
        seconds = max(1, round(self.budget.tactic_seconds))
        return script.replace(len(script.steps) - 1, f"all: try (timeout {seconds} ({tactic})).")

    def _fix(self, script: ProofScript, index: int) -> ProofScript | None:
        """The script with step `index` (a hole or a failing step) replaced by automation, or None."""
        fix = self._probe(script, index)
        if fix is None:
            return None
        return script.replace(index, fix)

    def _probe(self, script: ProofScript, index: int) -> str | None:
        """Tool correction at step `index`, skipped when the same goal state already defeated it."""
        if self._spent():
            return None
        goal = self._goal_text(script, index)
        if goal is not None and goal in self._failed_goals:
            self._record(kind="probe", origin=script.origin, step=index, ok=False, skipped="goal already tried")
            return None
        tactics = self._first_tactics
        recalled: tuple[str, ...] = ()
        if self.recall_tactics is not None and goal is not None:
            recalled = self.recall_tactics(goal)
            tactics = with_recalled(tactics, recalled)
        outcome = self._sweep(script, index, goal, tactics, library=True, deferred=False, recalled=recalled)
        if not outcome.found:
            if goal is not None and not outcome.check.timed_out:
                self._failed_goals.add(goal)
            if self._late_tactics and outcome.prefix_ok:
                self._later.append((script, index, goal))
        return outcome.tactic

    def _sweep(
        self,
        script: ProofScript,
        index: int,
        goal: str | None,
        tactics: tuple[AutomationTactic, ...],
        *,
        library: bool,
        deferred: bool,
        recalled: tuple[str, ...] = (),
    ) -> StepFix:
        """One tool-correction probe with `tactics`, counted and logged; a probe that closed the goal logs the
        goal too (what the step memory keeps of an accepted proof), and one the step memory offered
        tactics to names them and whether one of them won."""
        self.attempts += 1
        outcome = self.corrector.fix(
            script, index, timeout=max(1.0, self._remaining()), goal=goal, tactics=tactics, library=library
        )
        self.attempts += outcome.checks - 1  # the library step's own prover runs count too
        self._record(
            kind="probe",
            origin=script.origin,
            step=index,
            replaced=script.steps[index] if index < len(script.steps) else "",
            ok=outcome.found,
            tactic=outcome.tactic or "",
            winner=outcome.name,
            seconds=round(outcome.check.seconds, 3),
            timed_out=outcome.check.timed_out,
            # A probe that failed because the prover itself did (it died, or would not start) says so.
            error=outcome.check.failure[:300],
            **({"deferred": True} if deferred else {}),
            **({"goal": bounded(goal, GOAL_LIMIT)} if outcome.found and goal is not None else {}),
            **({"recalled": list(recalled), "recall_won": _won_by(outcome, recalled)} if recalled else {}),
        )
        return outcome

    def _goal_text(self, script: ProofScript, index: int) -> str | None:
        """The goal state before step `index` (one cheap prover run), or None when it cannot be shown."""
        if not self.dedupe_goals:
            return None
        return self._goal_before(script.render(self.problem, self.imports), index)

    def _goal_before(self, rendered: RenderedScript, index: int, timeout: float = 20.0) -> str | None:
        """The goal state before step `index` of a rendered script, asked of the prover once per source
        and step (a cheap run), or None when it cannot be shown or the budget is spent."""
        position = rendered.spans[index][0] if index < len(rendered.spans) else rendered.qed_offset
        key = (rendered.source, position)
        if key in self._goals:
            return self._goals[key]
        if self._spent():
            return None
        self.attempts += 1
        state = self.prover.goal_at(rendered.source, position, timeout=min(timeout, self._remaining()))
        if state is None:
            self._goals[key] = None
        elif self.problem.prover != "coq" and state.raw.strip():
            self._goals[key] = state.raw.strip()  # in the prover's own notation (`⊢` for Lean)
        else:
            self._goals[key] = state.render()
        return self._goals[key]

    def _revise(self, script: ProofScript, diagnosis: Diagnosis, rendered: RenderedScript) -> ProofScript | None:
        assert self.conjecture is not None
        goal = self._goal_before(rendered, diagnosis.index, timeout=30.0)
        failure = Failure(
            script=script,
            step=script.steps[diagnosis.index],
            error=diagnosis.message,
            goal=goal or "",
        )
        revised = self.conjecture.revise(failure, seed=self.seed + len(self.log))
        self._record(kind="llm", action="revise", ok=revised is not None, error=self.conjecture.last_error)
        return revised
