"""Tool correction: a failing step is replaced by the first automation tactic that closes its goal.

All tactics are tried in one prover process: the file is cut before the failing step and, for
each tactic in order, a probe `Fail solve [timeout t (tactic)].` is appended. A probe whose tactic
fails is silent; the first whose tactic succeeds makes `Fail` itself fail ("The command has not
failed!") at its own line, which names the winner and stops the file. So one check answers
"which tactic, first in the order, closes this goal", each tactic with its own time budget and the
whole step with a wall-clock limit. `hammer` prints the reconstruction it found, which replaces it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.proof_search._dialects import ISABELLE_PROBE, isabelle_winner, lean_probe_step, lean_winner
from agents.proof_search._library import goal_constants, lemma_names, lemma_probes, lemma_tactic, search_command
from agents.proof_search._script import AUTOMATION_IMPORTS, ProofScript
from tools.proofs import CheckResult, ProofProblem, Prover


@dataclass(frozen=True)
class AutomationTactic:
    """One tactic of the sweep; `weight` scales the per-tactic budget (hammer needs its ATP time).

    `deferred`: tried only in the search's second pass. A failing `hammer` spends its whole ATP budget
    (6 s, against about 2.4 s for every other tactic of a failing sweep together, measured on valid
    goals), so it goes last: every draft first gets the cheap tactics, then the goals they left get
    `hammer` while time remains."""

    name: str
    script: str
    weight: float = 1.0
    deferred: bool = False


AUTOMATION: tuple[AutomationTactic, ...] = (
    AutomationTactic("lia", "lia"),
    AutomationTactic("nia", "nia"),
    AutomationTactic("lra", "lra"),
    AutomationTactic("nra", "nra"),
    AutomationTactic("field", "field"),
    AutomationTactic("ring", "ring"),
    AutomationTactic("congruence", "congruence"),
    AutomationTactic("firstorder", "firstorder"),
    AutomationTactic("intuition", "intuition"),
    AutomationTactic("auto", "auto"),
    AutomationTactic("eauto", "eauto"),
    AutomationTactic("sauto", "sauto", weight=0.67),
    AutomationTactic("hauto", "hauto", weight=0.67),
    AutomationTactic("psatz", "first [psatz R 2 | psatz Z 2]"),
    AutomationTactic("hammer", "hammer", weight=2.0, deferred=True),
)
RECALLED = "recalled"
"""The name of a sweep tactic the step memory offered that the sweep does not hold itself."""
RECALLED_WEIGHT = 1 / 3
"""A recalled tactic's share of the per-tactic budget: one that does not apply should cost about a second."""
MAX_RECALLED = 2
"""New tactics (not already in the sweep) one probe takes from the step memory."""
_NOT_FAILED = "The command has not failed!"
LIBRARY_SECONDS = 8.0
"""The most one library-lemma step may take (the `Search`, then every lemma's try): where no lemma
closes the goal, the search's budget goes on to other drafts."""
_HAMMER_REPLACEMENT = re.compile(r"Replace the hammer tactic with:\s*(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class StepFix:
    """The outcome of one tool-correction probe: the winning tactic (None if none) and the check."""

    tactic: str | None
    name: str
    check: CheckResult
    prefix_ok: bool
    checks: int = 1
    """Prover runs the step took (the library step adds its `Search` and its lemma tries): each counts
    against the search's `attempts`."""

    @property
    def found(self) -> bool:
        return self.tactic is not None


def tactic_script(sentence: str) -> str:
    """A tactic sentence as the sweep holds its tactics: no surrounding space, no final dot."""
    return sentence.strip().removesuffix(".").strip()


def with_recalled(
    sweep: tuple[AutomationTactic, ...], recalled: tuple[str, ...], limit: int = MAX_RECALLED
) -> tuple[AutomationTactic, ...]:
    """The sweep with the step memory's tactics for this goal first, most similar first: one the sweep holds
    moves to the front (a deferred one stays in its own pass), a new one is added with a short budget (at
    most `limit` of them)."""
    known = {tactic.script: tactic for tactic in sweep}
    front: list[AutomationTactic] = []
    added = 0
    for sentence in recalled:
        script = tactic_script(sentence)
        if not script:
            continue
        if script in known:
            if known[script].deferred:
                continue
            tactic = known[script]
        elif added < limit:
            tactic = AutomationTactic(RECALLED, script, weight=RECALLED_WEIGHT)
            added += 1
        else:
            continue
        if tactic not in front:
            front.append(tactic)
    return (*front, *(tactic for tactic in sweep if tactic not in front))


def probe_text(tactics: tuple[AutomationTactic, ...], tactic_seconds: float, hammer_seconds: int) -> tuple[str, int]:
    """The probe sentences (one per line) and how many lines the hammer settings take before them."""
    settings = f"Set Hammer ATPLimit {hammer_seconds}.\nSet Hammer ReconstrLimit {max(2, hammer_seconds // 2)}."
    lines = []
    for tactic in tactics:
        seconds = max(1, round(tactic_seconds * tactic.weight))
        lines.append(f"Fail solve [timeout {seconds} ({tactic.script})].")
    return settings + "\n" + "\n".join(lines) + "\n", 2


class ToolCorrector:
    """Fills holes and replaces failing steps with automation, one prover process per step."""

    def __init__(
        self,
        prover: Prover,
        problem: ProofProblem,
        *,
        tactics: tuple[AutomationTactic, ...] = AUTOMATION,
        tactic_seconds: float = 3.0,
        step_seconds: float = 24.0,
        imports: str = AUTOMATION_IMPORTS,
        library: bool = True,
    ) -> None:
        self.prover = prover
        self.library = library
        self.problem = problem
        self.tactics = tactics
        self.tactic_seconds = tactic_seconds
        self.step_seconds = step_seconds
        self.imports = imports

    def fix(
        self,
        script: ProofScript,
        index: int,
        *,
        timeout: float | None = None,
        goal: str | None = None,
        tactics: tuple[AutomationTactic, ...] | None = None,
        library: bool = True,
    ) -> StepFix:
        """The first tactic (in order) that closes the goal step `index` works on; when none does and the
        goal state before the step is known (`goal`, as the search renders it), a library lemma that does.

        `tactics`: this sweep's tactics (default: all of the corrector's); `library=False` skips the
        library step (a second pass over a goal the first pass already searched lemmas for)."""
        prefix = script.prefix_source(self.problem, index, self.imports)
        if self.problem.prover != "coq":
            return self._fix_foreign(prefix, timeout)
        sweep = self.tactics if tactics is None else tactics
        hammer_seconds = max(2, round(self.tactic_seconds * 2))
        probes, settings_lines = probe_text(sweep, self.tactic_seconds, hammer_seconds)
        source = prefix + probes
        first_probe_line = prefix.count("\n") + 1 + settings_lines
        result = self.prover.check(source, timeout=min(self.step_seconds, timeout or self.step_seconds))
        errors = result.errors
        winner = next((e for e in errors if e.message.startswith(_NOT_FAILED)), None)
        if winner is not None:
            position = winner.line - first_probe_line
            if 0 <= position < len(sweep):
                tactic = sweep[position]
                script_text = tactic.script
                if tactic.name == "hammer":
                    replacements = _HAMMER_REPLACEMENT.findall(result.stdout)
                    if replacements:
                        script_text = replacements[-1].rstrip(".")
                return StepFix(f"{script_text}.", tactic.name, result, prefix_ok=True)
        prefix_error = next((e for e in errors if 0 < e.line < first_probe_line), None)
        prefix_ok = prefix_error is None and not result.failure
        if self.library and library and prefix_ok and goal is not None and not result.timed_out:
            limit = min(LIBRARY_SECONDS, self.step_seconds, timeout or self.step_seconds)
            found, checks = self._library_lemma(prefix, goal, limit)
            if found is not None:
                return found
            return StepFix(None, "", result, prefix_ok=prefix_ok, checks=1 + checks)
        return StepFix(None, "", result, prefix_ok=prefix_ok)

    def _library_lemma(self, prefix: str, goal: str, limit: float) -> tuple[StepFix | None, int]:
        """A lemma `Search` names for the goal's constants that closes the goal (see `_library`), or None;
        and how many prover runs it took."""
        command = search_command(goal_constants(goal))
        if command is None:
            return None, 0
        names = lemma_names(self.prover.check(prefix + command + "\n", timeout=limit).stdout)
        if not names:
            return None, 1
        result = self.prover.check(prefix + lemma_probes(names, max(1, round(self.tactic_seconds / 3))), timeout=limit)
        first_probe_line = prefix.count("\n") + 1
        winner = next((e for e in result.errors if e.message.startswith(_NOT_FAILED)), None)
        if winner is None or not 0 <= winner.line - first_probe_line < len(names):
            return None, 2
        name = names[winner.line - first_probe_line]
        return StepFix(f"{lemma_tactic(name)}.", f"lemma {name}", result, prefix_ok=True, checks=3), 2

    def _fix_foreign(self, prefix: str, timeout: float | None) -> StepFix:
        """Lean 4: one `first | ...` step tracing its winner; Isabelle: `try0` and `sledgehammer` (see `_dialects`)."""
        limit = min(self.step_seconds, timeout or self.step_seconds)
        if self.problem.prover == "lean4":
            result = self.prover.check(prefix + f"  {lean_probe_step()}\n", timeout=limit)
            winner = lean_winner(result)
            return StepFix(winner, winner or "", result, prefix_ok=not result.failure)
        result = self.prover.check(prefix + f"  {ISABELLE_PROBE}\n\nend\n", timeout=limit)
        found = isabelle_winner(result)
        name = found.split()[1].strip("()") if found and " " in found else (found or "")
        return StepFix(found, name, result, prefix_ok=not result.failure)
