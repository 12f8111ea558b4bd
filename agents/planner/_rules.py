"""The built-in planner: the goal chooses the task, the documents ground it; no model.

The goal's subject chooses the catalog task (`_match`: a decisive match on the task's id or title, a
problem id, or a family's set task). A goal that names no subject at all ("validate the solver") is
matched on the passages it retrieves instead, within the workload its words point to. Parameters are
read from the goal first and then from passages that mention the chosen task (`_params`), and the plan
cites those passages. When nothing is chosen the result is a refusal naming what the goal asks about
and the closest tasks considered, with why each does not fit.
"""

from __future__ import annotations

from typing import Any

from agents.planner._documents import Passage
from agents.planner._index import PassageIndex
from agents.planner._match import Candidate, GoalMatch, TaskMatcher, matcher_for
from agents.planner._models import Citation, Considered, Plan, Refusal
from agents.planner._numbers import Convention, convention
from agents.planner._params import read_parameters
from agents.planner._provenance import document_parameters
from agents.planner._words import words
from tools import Catalog

_PASSAGES_PER_PLAN = 4


def citation(passage: Passage, focus: int | None = None) -> Citation:
    """Cite a passage, quoting around `focus` (where a parameter value was read) when given."""
    start = max(0, (focus or 0) - 60)
    quote = " ".join(passage.text[start:].split())[:240]
    prefix = "..." if start else ""
    return Citation(passage=passage.id, source=passage.source, location=passage.location, quote=prefix + quote)


def _mentions(matcher: TaskMatcher, task_id: str, passage: Passage) -> bool:
    """Whether the passage names the task's subject (or, for a problem, its id)."""
    parsed = words(passage.text)
    if task_id in matcher.member_head:
        return task_id in matcher.named_members(parsed)
    profile = matcher.profiles[task_id]
    terms = set(parsed.content()) | parsed.all_parts() | parsed.joined()
    return any(matcher.decisive(term, profile) for term in terms)


def document_conventions(passages: list[Passage], sources: set[str]) -> dict[str, Convention]:
    """Source -> how that document writes decimals, judged on all of its text (one passage may show none)."""
    texts: dict[str, list[str]] = {}
    for passage in passages:
        if passage.source in sources:
            texts.setdefault(passage.source, []).append(passage.text)
    return {source: convention("\n\n".join(parts)) for source, parts in texts.items()}


def _from_documents(matcher: TaskMatcher, goal: str, relevant: list[Passage]) -> list[Candidate]:
    """Tasks the passages retrieved by a subject-less goal name, within the goal's workload if it has one."""
    workload = matcher.intent(goal)
    scores: dict[str, Candidate] = {}
    for passage in relevant:
        for candidate in matcher.match(passage.text, document=True).chosen:
            if workload is not None and matcher.workloads[candidate.task_id] != workload:
                continue
            known = scores.get(candidate.task_id)
            if known is None or candidate.score > known.score:
                scores[candidate.task_id] = candidate
    return sorted(scores.values(), key=lambda c: (-c.score, c.task_id))


def _plan(
    catalog: Catalog,
    matcher: TaskMatcher,
    candidate: Candidate,
    goal: str,
    relevant: list[Passage],
    why: str,
    conventions: dict[str, Convention],
) -> Plan:
    task = catalog.get(candidate.task_id)
    supporting = [p for p in relevant if _mentions(matcher, task.id, p)][:_PASSAGES_PER_PLAN]
    stated = read_parameters(catalog, task, goal)
    from_passages: dict[str, tuple[int, list[Any]]] = {}
    focus: dict[str, int] = {}
    allowed = document_parameters(catalog, task)  # a passage states the system studied, nothing else
    for passage in supporting:
        decimals = conventions.get(passage.source)
        for name, (position, values) in read_parameters(catalog, task, passage.text, allowed, decimals).items():
            if name not in stated and name not in from_passages:
                from_passages[name] = (position, values)
                focus.setdefault(passage.id, position)
    params: dict[str, Any] = {}
    sweep: dict[str, list[Any]] = {}
    for name, (_, values) in {**from_passages, **stated}.items():
        if len(values) > 1 or name in task.sweep:
            sweep[name] = values
        else:
            params[name] = values[0]
    read = []
    if stated:
        read.append(f"from the goal: {', '.join(sorted(stated))}")
    if from_passages:
        read.append(f"from the passages: {', '.join(sorted(from_passages))}")
    grounding = "" if supporting else "; no passage of the documents names it, so nothing is cited"
    return Plan(
        task_id=task.id,
        params=params,
        sweep=sweep,
        rationale=why + grounding + (f"; parameters read {'; '.join(read)}" if read else ""),
        citations=[citation(p, focus.get(p.id)) for p in supporting],
        score=candidate.score,
    )


def _why(match: GoalMatch, candidate: Candidate, from_documents: bool) -> str:
    if match.how == "problem id":
        return f"the goal names problem {candidate.decisive[0]}"
    if match.how == "family":
        return "the goal asks for this kind of work without naming one problem: the whole set"
    where = "the passages the goal retrieves name" if from_documents else "the goal names"
    return f"{where} the task's subject ({', '.join(candidate.decisive)})"


def refusal(match: GoalMatch) -> Refusal:
    """The refusal for a goal no task serves, naming the closest tasks considered."""
    unknown = [match.spell(w) for w in match.unknown]
    subject = [match.spell(w) for w in match.subject]
    if unknown:
        reason = f"no task in the catalog is about {', '.join(unknown)}"
    elif subject:
        reason = f"no task in the catalog has {', '.join(subject)} as its subject"
    else:
        reason = "no task in the catalog matches: the goal names no subject (a system, kernel or theorem)"
        reason += f", only the kind of work ({', '.join(match.spell(w) for w in match.kind)})" if match.kind else ""
    closest = [
        Considered(task_id=c.task_id, score=c.score, why_not=c.why_not(match.unknown, match.spell))
        for c in match.closest
    ]
    if not closest:
        reason += "; no task shares a word with the goal (see `agent tasks`)"
    return Refusal(reason=reason, subject=unknown or subject, closest=closest)


def plan_with_rules(
    catalog: Catalog, goal: str, index: PassageIndex, *, limit: int = 8
) -> tuple[list[Plan], list[Plan], Refusal | None]:
    """Plans (best first), the unmapped plan of a refusal, and the refusal itself, for the goal."""
    matcher = matcher_for(catalog)
    match = matcher.match(goal)
    relevant = [passage for passage, _ in index.search(goal, limit=limit)]
    chosen, from_documents = match.chosen, False
    if not chosen and not match.unknown and not match.subject:
        chosen, from_documents = _from_documents(matcher, goal, relevant), True
    if chosen:
        why = {c.task_id: _why(match, c, from_documents) for c in chosen}
        conventions = document_conventions(index.passages, {p.source for p in relevant})
        plans = [_plan(catalog, matcher, c, goal, relevant, why[c.task_id], conventions) for c in chosen]
        return plans, [], None
    refused = refusal(match)
    unmapped = Plan(
        task_id=None,
        rationale=f"the goal '{goal}' asks for something the catalog has no task for",
        citations=[citation(p) for p in relevant[:3]],
        unmapped_reason=refused.describe(),
    )
    return [], [unmapped], refused
