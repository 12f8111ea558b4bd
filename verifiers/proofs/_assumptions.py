"""Reading `Print Assumptions` and judging it against an allow-list of axioms.

Coq prints `Closed under the global context` when a proof rests on nothing, else sections such as
`Axioms:` (one `name : type` per entry, continuation lines indented). Constants checked with a
kernel check switched off appear among them as sentences, not as typed axioms:
`X is assumed to be guarded.` (guard checker off), `X is assumed to be positive.` (positivity
checker off) and `X relies on an unsafe hierarchy.` (universe checking off, type-in-type); none of
those is ever allowed, and each is reported as the check it skipped, not as an axiom.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Classical logic, extensionality and the axioms the standard library's real numbers rest on.
DEFAULT_ALLOWED_AXIOMS: tuple[str, ...] = (
    "Coq.Logic.Classical_Prop.classic",
    "Coq.Logic.FunctionalExtensionality.functional_extensionality_dep",
    "Coq.Logic.PropExtensionality.propositional_extensionality",
    "Coq.Logic.ProofIrrelevance.proof_irrelevance",
    "Coq.Logic.Eqdep.Eq_rect_eq.eq_rect_eq",
    "Coq.Logic.JMeq.JMeq_eq",
    "Coq.Reals.ClassicalDedekindReals.sig_forall_dec",
    "Coq.Reals.ClassicalDedekindReals.sig_not_dec",
)


# What follows an axiom's name: its universe instance, if printed, then ` : type`. Anything else under
# `Axioms:` (`X relies on definitional UIP.`, a sentence of a later Coq) is no axiom, whatever X is named.
_TYPED = re.compile(r"(@\{[^}]*\})?\s:\s")


@dataclass(frozen=True)
class Assumption:
    """One entry: `kind` is 'axiom', 'unguarded', 'unchecked-positivity', 'type-in-type' or 'other'."""

    name: str
    kind: str
    text: str


def parse_assumptions(output: str) -> list[Assumption] | None:
    """The entries of one `Print Assumptions` printout, or None when the text holds none."""
    if output.strip() == "Closed under the global context":
        return []
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if line.rstrip().endswith(":") and not line.startswith(" ")), None)
    if start is None:
        return None
    entries: list[Assumption] = []
    heading = ""
    current: list[str] = []

    def flush() -> None:
        if not current:
            return
        text = " ".join(part.strip() for part in current)
        first = current[0].strip()
        name = first.split(" ", 1)[0]
        if text.endswith("is assumed to be guarded."):
            kind = "unguarded"
        elif text.endswith("is assumed to be positive."):
            kind = "unchecked-positivity"
        elif text.endswith("relies on an unsafe hierarchy.") or "type-in-type" in heading:
            kind = "type-in-type"
        elif heading.startswith("Axioms") and _TYPED.match(text[len(name) :]):
            kind = "axiom"
        else:
            kind = "other"
        entries.append(Assumption(name=name, kind=kind, text=text))
        current.clear()

    for line in lines[start:]:
        if not line.strip():
            continue
        if not line.startswith(" ") and line.rstrip().endswith(":") and " : " not in line:
            flush()
            heading = line.strip()
            continue
        if line.startswith(" ") and current:
            current.append(line)
            continue
        flush()
        current.append(line)
    flush()
    return entries


def is_allowed(name: str, allowed: tuple[str, ...] | list[str]) -> bool:
    """A printed (possibly partly qualified) name matches an allowed fully qualified one."""
    return any(entry == name or entry.endswith("." + name) for entry in allowed)


def judge_assumptions(entries: list[Assumption], allowed: tuple[str, ...] | list[str]) -> list[str]:
    """Why the assumptions are not acceptable (empty when they are)."""
    reasons = []
    for entry in entries:
        if entry.kind == "axiom":
            if not is_allowed(entry.name, allowed):
                reasons.append(f"the proof relies on axiom {entry.name}, which is not on the task's allow-list")
        elif entry.kind == "unguarded":
            reasons.append(f"{entry.name} was accepted without the guard checker (fixpoint termination unchecked)")
        elif entry.kind == "unchecked-positivity":
            reasons.append(f"{entry.name} was accepted without the positivity checker")
        elif entry.kind == "type-in-type":
            reasons.append(
                f"{entry.name} relies on an unsafe universe hierarchy (checked with universe checking off, "
                "type-in-type)"
            )
        else:
            reasons.append(f"unexpected assumption: {entry.text}")
    return reasons
