"""Which catalog task a goal names: term weighting over task descriptions, with a decisive match.

Each task is described by its id, title, goal text and parameter schema. A goal word that matches a
word of the task's id or title (its *subject*) and is specific to it (few tasks share it, and it is not
a generic research word, nor a value some task's parameter takes) is *decisive*; only a decisive match
chooses a task. Every other shared word (the task's goal text, its parameters, generic words) only ranks
the candidates, so "flow over an airfoil" finds no task (only "flow" is shared) and is refused naming
the closest tasks it considered. A goal mostly about words no task knows is refused too, even with a
decisive word ("natural convection in a heated cavity" is not the lid-driven cavity): it must have at
least as many subject words the chosen task explains as subject words nothing in the catalog knows.
Words match across spellings (`_words`): compounds, plurals, acronyms spelled out, abbreviations.

Tasks that belong to a family (the miniF2F problems under a set task: ids `set/problem`) would drown
the rest by their number, so a member is chosen only when the goal names its problem id; otherwise the
family is represented by its head, the set task, which a goal about the family's kind of work with no
other subject ("prove some theorems") chooses.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from agents.planner._vocabulary import GENERIC
from agents.planner._words import Words, root, words
from runs import TaskSpec
from tools import Catalog

_MAX_SUBJECT_SHARE = 3
"""A subject word shared by more tasks than this names a kind of task, not one task."""
_WEIGHTS = {"identity": 4.0, "subject": 3.0, "weak": 1.5, "context": 1.0, "parameters": 0.5}
_GENERIC_WEIGHT = 0.25
_ABBREVIATION = 5
"""Subject words at least this long also match a goal word they begin ("gradshaf": "Grad-Shafranov")."""
_IDENTIFIER = re.compile(r"\b(?=[A-Za-z0-9_]*\d)[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+\b")
"""An identifier with underscores and a digit, the way problem ids are written (aime_1983_p1)."""
_KEEP_FRACTION = 0.5
"""Decisive candidates scoring under this fraction of the best one are dropped."""


@dataclass(frozen=True)
class TaskProfile:
    """A task's words by where they come from (see `_WEIGHTS`)."""

    task: TaskSpec
    identity: frozenset[str]
    """Words of the task's id (part of the subject, weighted above the title's)."""
    subject: frozenset[str]
    weak: frozenset[str]
    context: frozenset[str]
    parameters: frozenset[str]

    def field_of(self, term: str) -> str | None:
        for name in ("identity", "subject", "weak", "context", "parameters"):
            if term in getattr(self, name):
                return name
        return None

    def vocabulary(self) -> frozenset[str]:
        return self.subject | self.weak | self.context | self.parameters


@dataclass(frozen=True)
class Candidate:
    """A task considered for a goal: its score, the goal words that decide it, all words it shares."""

    task_id: str
    title: str
    score: float
    decisive: tuple[str, ...]
    shared: tuple[str, ...]

    def why_not(self, unknown: Sequence[str] = (), spell: Callable[[str], str] = str) -> str:
        """Why this task does not fit the goal (mostly about `unknown`), for a refusal; `spell` quotes a word."""

        def listed(terms: Iterable[str]) -> str:
            return ", ".join(dict.fromkeys(spell(term) for term in terms))

        if self.decisive and unknown:
            return f"shares {listed(self.decisive)} with the goal but not {listed(unknown)}; it is: {self.title}"
        if not self.shared:
            return f"shares no word with the goal; it is: {self.title}"
        generic = listed(w for w in self.shared if w in GENERIC)
        other = listed(w for w in self.shared if w not in GENERIC)
        said = []
        if generic:
            said.append(f"generic words ({generic})")
        if other:
            said.append(f"words that are not its subject ({other})")
        return f"shares only {' and '.join(said)}; it is: {self.title}"


@dataclass(frozen=True)
class GoalMatch:
    """The tasks a goal chooses (best first), else none and the closest tasks considered."""

    chosen: list[Candidate]
    closest: list[Candidate]
    subject: list[str]
    """The goal's words that can name a subject (neither filler nor generic)."""
    unknown: list[str]
    """Subject words no task knows: what the goal asks about that the catalog lacks."""
    kind: list[str]
    """The goal's generic words: the kind of work and field, which never choose a task."""
    how: str
    """"problem id", "subject" or "family" when a task is chosen; empty otherwise."""
    goal: Words

    def spell(self, word: str) -> str:
        """A goal word as the goal wrote it."""
        return self.goal.spell(word)


def _vocab(text: str) -> tuple[set[str], set[str]]:
    """Words of `text` and the parts of its compounds."""
    parsed = words(text)
    return set(parsed.content()), parsed.all_parts()


def _enum_words(schema: dict[str, object]) -> set[str]:
    """Words of the values the schema enumerates: settings of a task, never its subject."""
    out: set[str] = set()
    properties = schema.get("properties", {})
    for spec in properties.values() if isinstance(properties, dict) else []:
        for value in spec.get("enum", []) or [] if isinstance(spec, dict) else []:
            if isinstance(value, str):
                out |= set(words(value).content())
    return out


def _schema_words(schema: dict[str, object]) -> set[str]:
    out: set[str] = set()
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        return out
    for name, spec in properties.items():
        out |= set(words(str(name)).content())
        if isinstance(spec, dict):
            out |= set(words(str(spec.get("description", ""))).content())
            for value in spec.get("enum", []) or []:
                if isinstance(value, str):
                    out |= set(words(value).content())
    return out


def _family_heads(task_ids: Iterable[str]) -> dict[str, str]:
    """Member id -> head id, for every task whose id extends another task's id."""
    ids = sorted(task_ids)
    heads: dict[str, str] = {}
    known = set(ids)
    for task_id in ids:
        prefix = task_id.rsplit("/", 1)[0]
        while "/" in prefix:
            if prefix in known:
                heads[task_id] = prefix
                break
            prefix = prefix.rsplit("/", 1)[0]
    return heads


class TaskMatcher:
    """Matches goals to the tasks of one catalog (built once per catalog; see `matcher_for`)."""

    def __init__(self, catalog: Catalog) -> None:
        tasks = catalog.tasks()
        member_head = _family_heads(tasks)
        self.titles = {task_id: task.title for task_id, task in tasks.items()}
        self.workloads = {task_id: task.workload for task_id, task in tasks.items()}
        self.members: dict[tuple[str, ...], list[str]] = {}
        member_words: dict[str, set[str]] = {}
        for task_id, head in member_head.items():
            key = words(task_id.rsplit("/", 1)[1]).sequence
            self.members.setdefault(key, []).append(task_id)
            member_words.setdefault(head, set()).update(w for w in key if w.isalpha() and len(w) >= 3)
        self.member_head = member_head
        self.profiles: dict[str, TaskProfile] = {}
        self.settings: set[str] = set()
        for task_id, task in tasks.items():
            if task_id in member_head:
                continue
            name = task_id.split("/", 1)[-1] if "/" in task_id else task_id
            id_words, id_parts = _vocab(name.replace("/", " "))
            title_words, title_parts = _vocab(task.title)
            goal_words, goal_parts = _vocab(task.goal)
            schema = catalog.workload_for(task).param_schema(task)
            self.settings |= _enum_words(schema)
            subject = id_words | id_parts | title_words
            weak = (title_parts | member_words.get(task_id, set())) - subject
            context = (goal_words | goal_parts) - subject - weak
            self.profiles[task_id] = TaskProfile(
                task=task,
                identity=frozenset(id_words | id_parts),
                subject=frozenset(subject),
                weak=frozenset(weak),
                context=frozenset(context),
                parameters=frozenset(_schema_words(schema) - subject - weak - context),
            )
        self.subject_share = Counter(term for p in self.profiles.values() for term in p.subject)
        self.share = Counter(term for p in self.profiles.values() for term in p.vocabulary())
        self.vocabulary = set(self.share) | {w for key in self.members for w in key}
        self.roots = {root(w) for w in self.vocabulary | GENERIC}
        self.workload_vocabulary = self._shared_vocabulary()

    def _shared_vocabulary(self) -> dict[str, set[str]]:
        """Per workload, the words most of its tasks share: how its goals speak of its kind of work."""
        by_workload: dict[str, list[TaskProfile]] = {}
        for profile in self.profiles.values():
            by_workload.setdefault(profile.task.workload, []).append(profile)
        shared: dict[str, set[str]] = {}
        for workload, profiles in by_workload.items():
            counts = Counter(term for p in profiles for term in p.vocabulary())
            shared[workload] = {term for term, n in counts.items() if n >= max(2, (len(profiles) + 1) // 2)}
        return shared

    def _idf(self, term: str) -> float:
        return math.log((len(self.profiles) + 1) / (self.share[term] + 0.5))

    def _abbreviated(self, plain: set[str]) -> set[str]:
        """Task subject words that abbreviate a goal word ("gradshaf" in "gradshafranov")."""
        return {
            term
            for term in self.subject_share
            if len(term) >= _ABBREVIATION and term.isalpha()
            for word in plain
            if len(word) > len(term) and word.startswith(term) and word not in self.share
        }

    def decisive(self, term: str, profile: TaskProfile) -> bool:
        """Whether `term` names this task's subject specifically enough to choose it."""
        return (
            term in profile.subject
            and term not in GENERIC
            and term not in self.settings
            and self.subject_share[term] <= _MAX_SUBJECT_SHARE
        )

    def candidates(self, goal: Words) -> list[Candidate]:
        """Every task sharing a word with the goal, best first."""
        plain = set(goal.content()) | goal.all_parts()
        spelled = (goal.joined() | set(goal.acronyms(GENERIC)) | self._abbreviated(plain)) - plain
        out: list[Candidate] = []
        for task_id, profile in self.profiles.items():
            score = 0.0
            decisive: list[str] = []
            shared: list[str] = []
            for term in sorted(plain | spelled):
                field = profile.field_of(term)
                if field is None or (term in spelled and field not in ("identity", "subject")):
                    continue
                weight = _WEIGHTS[field] * self._idf(term) * (_GENERIC_WEIGHT if term in GENERIC else 1.0)
                score += weight
                shared.append(term)
                if self.decisive(term, profile):
                    decisive.append(term)
            if shared:
                out.append(Candidate(task_id, profile.task.title, round(score, 3), tuple(decisive), tuple(shared)))
        out.sort(key=lambda c: (not c.decisive, -c.score, c.task_id))
        return out

    def named_members(self, goal: Words) -> list[str]:
        """Member tasks whose problem id the goal spells out (word for word, in order)."""
        sequence = goal.sequence
        found: list[str] = []
        for key, task_ids in self.members.items():
            size = len(key)
            if any(sequence[i : i + size] == key for i in range(len(sequence) - size + 1)):
                found += task_ids
        return found

    def match(self, goal: str, *, document: bool = False) -> GoalMatch:
        """The tasks `goal` chooses, or the closest ones; `document`: the text is a passage, not a goal.

        A passage speaks of much besides a task, so for one neither unknown words nor families count.
        """
        parsed = words(goal)
        content = parsed.content()
        subject = [w for w in dict.fromkeys(content) if w not in GENERIC]
        kind = [w for w in dict.fromkeys(content) if w in GENERIC]
        known_joined = [j for j in parsed.joined() if j in self.vocabulary]
        unknown = [
            w
            for w in subject
            if root(w) not in self.roots
            and not (set(parsed.parts.get(w, ())) & self.vocabulary - GENERIC)
            and not any(w in j for j in known_joined)
        ]
        ranked = self.candidates(parsed)
        members = self.named_members(parsed)
        named = [w for w in _IDENTIFIER.findall(goal) if not self.named_members(words(w))]
        if named and not members:
            # A problem id the catalog has no task for ("prove imo_2031_p7") is the goal's subject.
            return GoalMatch([], ranked[:3], subject, named, kind, "", parsed)
        if members:
            chosen = [
                Candidate(task_id, self.titles[task_id], 100.0, (task_id.rsplit("/", 1)[1],), ()) for task_id in members
            ]
            return GoalMatch(chosen, [], subject, [], kind, "problem id", parsed)
        decided = [c for c in ranked if c.decisive]
        if decided:
            covered = self._covered(parsed, decided[0], subject)
            unknown = [w for w in unknown if w not in covered]
            if len(unknown) > len(covered) and not document:
                # The goal matches a task on a word or two but is mostly about something no task has.
                return GoalMatch([], decided[:3], subject, unknown, kind, "", parsed)
            best = decided[0].score
            chosen = [c for c in decided if c.score >= _KEEP_FRACTION * best]
            return GoalMatch(chosen, [], subject, unknown, kind, "subject", parsed)
        closest = ranked[:3]
        if not document and not unknown:
            heads = self._family_for(goal, ranked)
            if heads:
                return GoalMatch(heads, [], subject, unknown, kind, "family", parsed)
        return GoalMatch([], closest, subject, unknown, kind, "", parsed)

    @staticmethod
    def _covered(goal: Words, candidate: Candidate, subject: list[str]) -> set[str]:
        """The goal's subject words that the candidate's decisive words stand for."""
        decisive = set(candidate.decisive)
        acronyms = goal.acronyms(GENERIC)
        spelled = {w for term in decisive for w in acronyms.get(term, set())}
        return {
            w
            for w in subject
            if w in decisive
            or w in spelled
            or any(w in term or (len(term) >= _ABBREVIATION and w.startswith(term)) for term in decisive)
            or set(goal.parts.get(w, ())) & decisive
        }

    def intent(self, goal: str) -> str | None:
        """The one workload whose shared vocabulary the goal's words point to most, if one does."""
        content = set(words(goal).content())
        votes = Counter(w for w, vocab in self.workload_vocabulary.items() for term in content if term in vocab)
        if not votes:
            return None
        [(workload, top), *rest] = votes.most_common()
        return None if rest and rest[0][1] == top else workload

    def _family_for(self, goal: str, ranked: list[Candidate]) -> list[Candidate]:
        """The family heads of the workload the goal's words point to, if that workload has families."""
        workload = self.intent(goal)
        heads = sorted({head for head in self.member_head.values() if self.workloads[head] == workload})
        by_id = {c.task_id: c for c in ranked}
        chosen = [by_id.get(head, Candidate(head, self.titles[head], 0.0, (), ())) for head in heads]
        return sorted(chosen, key=lambda c: (-c.score, c.task_id))


_CACHE: dict[int, tuple[Catalog, TaskMatcher]] = {}


def matcher_for(catalog: Catalog) -> TaskMatcher:
    """The matcher of `catalog`, built once (describing hundreds of tasks is not free)."""
    cached = _CACHE.get(id(catalog))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    matcher = TaskMatcher(catalog)
    _CACHE.clear()
    _CACHE[id(catalog)] = (catalog, matcher)
    return matcher
