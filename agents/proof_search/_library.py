"""Library lemmas for a goal automation cannot close: ask Coq's `Search` for the lemmas that mention the
goal's own constants, then try each on the goal.

`rev (rev l) = l` is `rev_involutive` of the standard library, yet no automation tactic finds it (`auto`
knows no such hint; `hammer` spends 11 s on premise selection alone). A user's theorem about their own
lists, trees or functions is mostly such a step: the lemma exists, under a name the search cannot guess.
`Search c1 c2` names the lemmas that mention every constant of the goal's conclusion; each is tried with
`apply`, `rewrite` either way and `eauto using`, every try under `solve` (it must close the goal) and a
timeout, all in one prover run, as the automation sweep does.
"""

from __future__ import annotations

import re

MAX_CONSTANTS = 3
"""Constants of the conclusion the search names: the more it names, the fewer (and closer) the lemmas."""
MAX_LEMMAS = 40
_SEPARATOR = "\n" + "=" * 28 + "\n"
_NEXT_GOAL = re.compile(r"\n\ngoal \d+:\n")
_GOAL_HEADER = re.compile(r"goal \d+:$")
_IDENTIFIER = re.compile(r"(?<![\w'.])[A-Za-z_][\w']*(?:\.[A-Za-z_][\w']*)*")
_BINDER = re.compile(r"\b(?:forall|exists|fun)\b([^,=]*)(?:,|=>)")
_LEMMA = re.compile(r"^([A-Za-z_][\w']*(?:\.[A-Za-z_][\w']*)*):(?:\s|$)", re.MULTILINE)
_KEYWORDS = frozenset(
    {
        *("forall", "exists", "fun", "match", "with", "end", "let", "in", "if", "then", "else", "return", "as"),
        *("Type", "Prop", "Set", "SProp", "True", "False", "mod", "div", "and", "or", "not", "fix", "cofix"),
    }
)


def first_goal(state: str) -> tuple[list[str], str] | None:
    """The hypotheses (`name : type` lines) and the conclusion of the first goal of a goal state as the search
    renders it, or None when it shows no goal."""
    if _SEPARATOR not in state:
        return None
    context, rest = state.split(_SEPARATOR, 1)
    lines = [line for line in context.splitlines() if line.strip() and not _GOAL_HEADER.match(line.strip())]
    return lines, _NEXT_GOAL.split(rest, maxsplit=1)[0].strip()


def goal_constants(goal: str) -> list[str]:
    """The global constants the first goal's conclusion mentions, in order (`rev` for `rev (rev l) = l`):
    no hypothesis, no bound variable, no keyword. `goal` is a goal state as the search renders it."""
    parsed = first_goal(goal)
    return conclusion_constants(*parsed) if parsed is not None else []


def conclusion_constants(hypotheses: list[str], conclusion: str) -> list[str]:
    """`goal_constants` of a goal already taken apart by `first_goal`."""
    local = set(_KEYWORDS)
    for line in hypotheses:
        if ":" in line:
            local.update(name.strip() for name in line.split(":", 1)[0].split(","))
    for binder in _BINDER.finditer(conclusion):
        local.update(_IDENTIFIER.findall(binder.group(1)))
    found: list[str] = []
    for name in _IDENTIFIER.findall(conclusion):
        if name not in local and name not in found:
            found.append(name)
    return found


def search_command(constants: list[str]) -> str | None:
    """`Search c1 c2 c3.` for the goal's first constants, or None when it has none."""
    if not constants:
        return None
    return "Search " + " ".join(constants[:MAX_CONSTANTS]) + "."


def lemma_names(search_output: str) -> list[str]:
    """The lemmas a `Search` printed (`name: type`, the type maybe on the lines after), first first."""
    names: list[str] = []
    for name in _LEMMA.findall(search_output):
        if name not in names:
            names.append(name)
    return names[:MAX_LEMMAS]


def lemma_tactic(name: str) -> str:
    """One try of lemma `name` on the goal: it closes the goal or fails."""
    return f"solve [apply {name}; auto | rewrite {name}; auto | rewrite <- {name}; auto | eauto using {name}]"


def lemma_probes(names: list[str], seconds: int) -> str:
    """One probe line per lemma, as the automation sweep writes them (`Fail` fails where a try works)."""
    return "".join(f"Fail timeout {seconds} ({lemma_tactic(name)}).\n" for name in names)
