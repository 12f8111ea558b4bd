"""What the correction loop does differently for Lean 4 and Isabelle: files, skeletons, probes, errors.

The loop itself (`_search`) is the same for every prover: draft, check, replace the failing step
with automation, ask the model with the error and the goal, restart. Per prover differ:

- how a script becomes a file: Coq `Proof. ... Qed.`; Lean `theorem ... := by` with one tactic a
  line (indentation kept, so nested blocks survive); Isabelle the statement, one proof line each,
  then the theory's `end`;
- the probe that finds automation for a goal, in one prover run: Lean replaces the step by
  `first | (omega; trace "labgate-probe:0") | (linarith; trace ...) | ...` and reads which marker
  was traced; Isabelle runs `try0` then `sledgehammer` at the step and replays the first
  `Try this: by ...` it prints (simp, auto, arith, presburger, linarith or a found metis/smt call);
- how an error is classified (unsolved goals at the end need a hole; no goals left means the rest
  is extra).
"""

from __future__ import annotations

import re

from tools.proofs import CheckResult, offset_of

LEAN_AUTOMATION = ("omega", "linarith", "nlinarith", "norm_num", "simp", "aesop", "decide", "positivity")
ISABELLE_AUTOMATION = ("simp", "auto", "arith", "presburger", "linarith", "fastforce", "sledgehammer")
LEAN_PROBE = "labgate-probe:"
LEAN_SKELETONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("automation", ("?",)),
    ("intro", ("intro _", "?")),
    ("intros", ("intros", "?")),
    ("norm-num-hyps", ("intros", "norm_num at *", "?")),
    ("simp-all", ("intros", "simp_all", "?")),
    ("induction", ("intro n", "induction n <;> simp_all", "?")),
)
ISABELLE_SKELETONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("automation", ("?",)),
    ("using-assms", ("using assms", "?")),
)
_TRY_THIS = re.compile(r"Try this:\s*(.+?)(?:\s+\(\d[^()]*\))?\s*$", re.MULTILINE)


def lean_probe_step(tactics: tuple[str, ...] = LEAN_AUTOMATION) -> str:
    """One Lean step trying each tactic in order, tracing which closed the goal."""
    choices = " | ".join(f'({tactic}; trace "{LEAN_PROBE}{index}")' for index, tactic in enumerate(tactics))
    return f"first | {choices}"


def lean_winner(result: CheckResult, tactics: tuple[str, ...] = LEAN_AUTOMATION) -> str | None:
    """The tactic whose marker the probe traced (the first in order), or None."""
    for item in result.diagnostics:
        match = re.search(rf"{re.escape(LEAN_PROBE)}(\d+)", item.message)
        if match and int(match.group(1)) < len(tactics):
            return tactics[int(match.group(1))]
    match = re.search(rf"{re.escape(LEAN_PROBE)}(\d+)", result.stdout)
    if match and int(match.group(1)) < len(tactics):
        return tactics[int(match.group(1))]
    return None


ISABELLE_PROBE = "try0\n  sledgehammer\n  oops"


def isabelle_winner(result: CheckResult) -> str | None:
    """The first `Try this: by ...` of try0 / sledgehammer, as a terminal proof step, or None."""
    for match in _TRY_THIS.finditer(result.stdout):
        found = match.group(1).strip()
        if found.startswith(("by ", "apply ")) or found in (".", ".."):
            return found
    return None


UNSOLVED = ("unsolved goals", "Failed to finish proof", "Bad context for command")
NO_GOALS = ("no goals to be proved", "no goals", "No subgoals", "No current goal")


def classify_foreign(source: str, line: int, column: int, message: str) -> tuple[str, int]:
    """('hole' | 'extra' | 'step', offset) for a located Lean / Isabelle error."""
    offset = offset_of(source, line, column)
    if any(marker in message for marker in UNSOLVED):
        # Isabelle says "Failed to finish proof" at a terminal `by METHOD` whose method ran but left
        # goals: that method is the failing step to replace, not a place to add steps after.
        if "Failed to finish proof" in message and re.match(r"by\b", source[offset:].lstrip()):
            return "step", offset
        return "hole", offset
    if any(message.startswith(marker) or f": {marker}" in message for marker in NO_GOALS):
        return "extra", offset
    return "step", offset
