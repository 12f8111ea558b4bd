"""Reading what the independent checker (`coqchk -o`) says about the gate's compiled check file.

`coqc` and `Print Assumptions` share the code that Coq 8.16 gets wrong around modules and functor
application: a body checked with the guard or universe checker switched off can come out of a
module operation recorded as fully checked, so `Print Assumptions` says "Closed under the global
context" for a proof of `False`. `coqchk` re-types every declaration of the compiled library from
scratch and refuses such bodies (`IllFormedRecBody`, `ActualType`…). Its context summary covers
the whole loaded environment:

    * Theory: Set is predicative
    * Axioms:
        Coq.Logic.Classical_Prop.classic
    * Constants/Inductives relying on type-in-type: <none>
    * Constants/Inductives relying on unsafe (co)fixpoints: <none>
    * Inductives whose positivity is assumed: <none>

Libraries of Coq's installation are admitted (`-norec`), so their own axioms are listed whether or
not the proof uses them; which of those the proof rests on is `Print Assumptions`' job. What
coqchk decides here is that the checked library itself declares no axiom beyond the task header's,
that nothing in the environment skipped a kernel check, and that the theory is the standard one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_SECTIONS = {
    "Theory": "theory",
    "Axioms": "axioms",
    "Constants/Inductives relying on type-in-type": "type_in_type",
    "Constants/Inductives relying on unsafe (co)fixpoints": "unsafe_fixpoints",
    "Inductives whose positivity is assumed": "assumed_positive",
}


@dataclass
class CheckerSummary:
    """The sections of coqchk's context summary, each as the list of its entries."""

    theory: list[str] = field(default_factory=list)
    axioms: list[str] = field(default_factory=list)
    type_in_type: list[str] = field(default_factory=list)
    unsafe_fixpoints: list[str] = field(default_factory=list)
    assumed_positive: list[str] = field(default_factory=list)


def parse_checker_summary(output: str) -> CheckerSummary | None:
    """The summary coqchk printed, or None when it printed none (it failed, or was cut short)."""
    _, found, rest = output.partition("CONTEXT SUMMARY\n===============\n")
    if not found:
        return None
    summary = CheckerSummary()
    seen: set[str] = set()
    current: list[str] | None = None
    for raw in rest.splitlines():
        line = raw.strip()
        if not line:
            continue
        if raw.startswith("* "):
            heading, _, tail = line[2:].partition(":")
            attribute = _SECTIONS.get(heading.strip())
            if attribute is None:
                return None
            seen.add(attribute)
            current = getattr(summary, attribute)
            entry = tail.strip()
            if entry and entry != "<none>":
                current.append(entry)
        elif current is not None and line != "<none>":
            current.append(line)
        else:
            return None
    return summary if seen == set(_SECTIONS.values()) else None


def judge_checker(
    summary: CheckerSummary, library: str, assumed: tuple[str, ...], postulated: tuple[str, ...] = ()
) -> list[str]:
    """Why coqchk's summary is not acceptable for the check library `library` (empty when it is).

    `assumed` are the short names the task's header itself postulates, declared in `library`.
    `postulated` are those of them that are axioms for certain (declared outside any section or module):
    each must be an axiom of the library. A library compiled from another header could make one a
    definition, and an axiom about it (also the header's) then a contradiction.
    """
    reasons = []
    if summary.theory != ["Set is predicative"]:
        reasons.append(f"coqchk reports a non-standard theory: {'; '.join(summary.theory) or 'none stated'}")
    allowed_here = {f"{library}.{name}" for name in assumed}
    for name in summary.axioms:
        if name.startswith(library + ".") and name not in allowed_here:
            reasons.append(f"coqchk finds axiom {name.removeprefix(library + '.')} declared in the checked file")
    for name in postulated:
        if f"{library}.{name}" not in summary.axioms:
            reasons.append(
                f"coqchk finds no axiom {name} in the checked file, though the task's header postulates it "
                "(the compiled header is not the task's)"
            )
    for name in summary.type_in_type:
        reasons.append(f"coqchk: {name} relies on an unsafe universe hierarchy (type-in-type)")
    for name in summary.unsafe_fixpoints:
        reasons.append(f"coqchk: {name} relies on a (co)fixpoint accepted without the guard checker")
    for name in summary.assumed_positive:
        reasons.append(f"coqchk: {name} is an inductive type accepted without the positivity checker")
    return reasons
