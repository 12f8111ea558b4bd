"""Proof memory: accepted proofs kept with features of their goals, retrieved for similar goals.

Every proof the proof gate accepted (in any run) is stored with its problem id, its split and
features of its statement: the number types it lives in (nat, Z, R), the head symbol of its
conclusion, the operators and functions it uses, and the shapes of its hypotheses. The built-in
proposer asks for the scripts of the most similar stored goals (TF-IDF cosine over those
features) and tries them, adapted to the new goal's hypothesis names, before its skeletons.

The memory is one SQLite file under the data home (`$LABGATE_HOME/proof-memory/memory.sqlite`,
or `LABGATE_PROOF_MEMORY`); SQLite serialises writers, so several runs may record at once.
Retrieval takes a split filter (`exclude_splits` / `only_splits`) so that a benchmark never
reads the accepted proofs of the split it evaluates.

Beside the proofs, a `steps` table keeps the closing steps of accepted proofs with the goal each closed
(`_step_memory`), read through the same split filter.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from agents.proof_search._script import ProofScript
from tools.proofs import (
    SPLITS,
    ProofProblem,
    command_word,
    load_split,
    split_sentences,
    strip_comments,
    top_level_indices,
)

MEMORY_ENV = "LABGATE_PROOF_MEMORY"
"""A directory for the memory, or `off` to neither record nor retrieve."""
RETRIEVE_ENV = "LABGATE_PROOF_MEMORY_RETRIEVE"
"""`off` keeps recording but never retrieves (the without-memory arm of the bench)."""
EXCLUDE_ENV = "LABGATE_PROOF_MEMORY_EXCLUDE_SPLITS"
ONLY_ENV = "LABGATE_PROOF_MEMORY_ONLY_SPLITS"
MEMORY_FILE = "memory.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS proofs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    problem_id TEXT NOT NULL,
    split TEXT NOT NULL,
    statement TEXT NOT NULL,
    features TEXT NOT NULL,
    script TEXT NOT NULL,
    hypotheses TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT '',
    run_id TEXT NOT NULL DEFAULT '',
    recorded_at REAL NOT NULL,
    UNIQUE (problem_id, script)
)
"""
_STEPS_SCHEMA = """
CREATE TABLE IF NOT EXISTS steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    problem_id TEXT NOT NULL,
    split TEXT NOT NULL,
    goal TEXT NOT NULL,
    features TEXT NOT NULL,
    tactic TEXT NOT NULL,
    run_id TEXT NOT NULL DEFAULT '',
    recorded_at REAL NOT NULL,
    UNIQUE (problem_id, goal, tactic)
)
"""

NUMBER_TYPES = {"nat": "nat", "Z": "Z", "R": "R", "C": "C", "Q": "Q", "bool": "bool"}
OPERATORS = {
    "+": "plus",
    "-": "minus",
    "*": "times",
    "/": "div",
    "^": "pow",
    "mod": "mod",
    "Nat.modulo": "mod",
    "Z.modulo": "mod",
    "Zmod": "mod",
    "Nat.div": "intdiv",
    "Z.div": "intdiv",
    "sqrt": "sqrt",
    "Rsqrt": "sqrt",
    "Rabs": "abs",
    "Z.abs": "abs",
    "Rpower": "rpower",
    "ln": "log",
    "exp": "exp",
    "sin": "trig",
    "cos": "trig",
    "tan": "trig",
    "fact": "fact",
    "Nat.gcd": "gcd",
    "Z.gcd": "gcd",
    "Nat.lcm": "lcm",
    "Z.lcm": "lcm",
    "Z.divide": "divide",
    "Nat.divide": "divide",
    "INR": "cast",
    "IZR": "cast",
    "Z.of_nat": "cast",
    "Int_part": "floor",
    "up": "floor",
    "sum_f_R0": "sum",
    "Rmax": "minmax",
    "Rmin": "minmax",
    "Nat.max": "minmax",
    "prime": "prime",
    "Zpower": "pow",
    "Z.pow": "pow",
    "Nat.pow": "pow",
    "Z.sqrt": "sqrt",
    "Nat.sqrt": "sqrt",
}
_RELATIONS = ("<->", "<>", "<=", ">=", "=", "<", ">", "/\\", "\\/", "exists", "~", "True", "False")
TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_'.]*|<->|<>|<=|>=|->|/\\|\\/|[-+*/^=<>~]")
_IDENT = re.compile(r"[^\W\d][\w']*")


def memory_dir(home: Path | None = None) -> Path | None:
    """Where the memory lives: `LABGATE_PROOF_MEMORY`, else `<home>/proof-memory` (home: the run store's,
    else `$LABGATE_HOME`, else `labgate-data`, as the server's default); None when set to `off`."""
    chosen = os.environ.get(MEMORY_ENV, "").strip()
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen).expanduser()
    base = home if home is not None else Path(os.environ.get("LABGATE_HOME", "").strip() or "labgate-data")
    return base.expanduser() / "proof-memory"


def split_of(problem_id: str) -> str:
    """`valid`/`test` for a miniF2F problem id (`proofs/minif2f-<split>/<name>`), else `user`."""
    match = re.match(r"proofs/minif2f-([a-z]+)/", problem_id)
    return match.group(1) if match else "user"


def split_of_problem(problem: ProofProblem) -> str:
    """The split a proof of `problem` is kept under: the miniF2F split that states its goal, else `user`.

    The id is the task's to choose (a task with its own statement is named by its task id), so a test
    problem's theorem posed as a user task, or under a `valid` id, would otherwise be stored where a
    benchmark evaluating the test split reads, and its proof recalled for the very problem it proves.
    A goal the catalog does not state is `user` whatever split its id names: a test problem with one
    hypothesis renamed no longer matches its catalog text, and under a `valid` problem's id it would be
    read by the benchmark evaluating the test split. So is a catalog goal under a header of its own (a
    definition the statement uses, changed, makes it another theorem). (Retrieval for a benchmark reads no
    `user` entry either, `SplitFilter`.)
    """
    claimed = split_of(problem.id)
    key = _goal_key(problem)
    header = _header_key(problem)
    found = tuple(split for split, stated in (_catalog_splits().get(key, ()) if key else ()) if stated == header)
    if found:
        return claimed if claimed in found else ("test" if "test" in found else found[0])
    if claimed in SPLITS and not key and problem.id in _catalog_ids():
        return claimed  # the catalog's own statement, which no parse can key
    return "user"


@functools.cache
def _catalog_ids() -> frozenset[str]:
    ids: set[str] = set()
    for split in SPLITS:
        try:
            ids.update(problem.id for problem in load_split(split))
        except (OSError, ValueError):
            continue
    return frozenset(ids)


def _goal_key(problem: ProofProblem) -> str:
    """The goal as a proposition, spaces collapsed (the theorem's name and layout play no part)."""
    try:
        return " ".join(problem.parsed.goal().split())
    except Exception:  # noqa: BLE001 - an unparsable statement matches no catalog problem
        return ""


@functools.cache
def _catalog_splits() -> dict[str, tuple[tuple[str, str], ...]]:
    """Each miniF2F goal with the (split, header) pairs that state it (read once per process)."""
    splits: dict[str, tuple[tuple[str, str], ...]] = {}
    for split in SPLITS:
        try:
            problems = load_split(split)
        except (OSError, ValueError):
            continue
        for problem in problems:
            key, stated = _goal_key(problem), (split, _header_key(problem))
            if key and stated not in splits.get(key, ()):
                splits[key] = (*splits.get(key, ()), stated)
    return splits


def _header_key(problem: ProofProblem) -> str:
    return " ".join(strip_comments(problem.header).split())


UNMEMORABLE_HEADER_SENTENCES = frozenset(
    {
        *("Axiom", "Axioms", "Parameter", "Parameters", "Hypothesis", "Hypotheses", "Variable", "Variables"),
        *("Conjecture", "Context", "Notation", "Infix", "Reserved", "Ltac", "Ltac2", "Tactic", "Declare"),
        *("Coercion", "Instance", "Existing", "Hint", "Arguments", "Canonical", "Module", "Section", "Program"),
    }
)
"""Header sentences of a user's own that make its proofs no one else's: an assumption (`Axiom cheat : forall
P, P`), a notation that changes what the statement says, a tactic or hint only that header defines. A proof
resting on a user's `Axiom cheat` was recalled for a catalog problem and, tried first on a small budget,
turned its accept into a reject. Catalog headers (one declares a `Parameter` and an `Axiom` for a floor
function) are the catalog's and count as such."""


MAX_ANALYSED_CHARS = 8_000
"""The longest header and statement, together, the built-in strategy reads for features and skeleton guards: 5
times miniF2F's longest (1,480). Its readers are heuristics, some superlinear in nested binders, arrows and
blanks (a 145 KB statement of `forall a, a = a ->` kept one reading for 54 s before the search's budget began;
a dozen skeleton guards are quadratic, 1 s at 14 KB and 4 s at 28 KB for one of them)."""


def analysable(problem: ProofProblem) -> bool:
    """Whether the built-in strategy reads `problem`'s text (`MAX_ANALYSED_CHARS`); a longer one is searched with
    the skeletons as written and no proof memory."""
    return len(problem.header) + len(problem.statement) <= MAX_ANALYSED_CHARS


def memorable(problem: ProofProblem) -> bool:
    """Whether a proof of `problem` may be kept for other problems: its header is the catalog's own for its
    goal, or assumes, redefines and declares nothing (`UNMEMORABLE_HEADER_SENTENCES`; libraries, scopes,
    options, definitions and lemmas with their proofs are fine), and it is short enough to read (`analysable`)."""
    if not analysable(problem):
        return False
    if split_of_problem(problem) in SPLITS:
        return True
    try:
        sentences = split_sentences(strip_comments(problem.header))
    except ValueError:  # a header that does not end its last sentence
        return False
    return not any(command_word(sentence.text) in UNMEMORABLE_HEADER_SENTENCES for sentence in sentences)


# -- features ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Binder:
    name: str
    type: str

    @property
    def is_hypothesis(self) -> bool:
        """A binder whose type is a proposition, not a number type or a function between types."""
        words = set(_IDENT.findall(self.type)) | set(re.findall(r"->|=|<|>|~", self.type))
        return not words <= {*NUMBER_TYPES, *_TYPE_CONSTRUCTORS, "->", "Type", "Prop", "Set"}


def binders_of(binders: str) -> list[Binder]:
    """`(x y : R) (h₀ : x < y)` as one Binder per name, in order (bare names get an empty type)."""
    found: list[Binder] = []
    depth = 0
    start = 0
    groups: list[str] = []
    for index, char in enumerate(binders):
        if char == "(":
            if depth == 0:
                start = index + 1
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                groups.append(binders[start:index])
    if not groups and binders.strip():
        groups = [binders]
    for group in groups:
        names, _, type_ = group.partition(":")
        for name in names.split():
            found.append(Binder(name, type_.strip()))
    return found


_BINDER_WORD = re.compile(r"\b(?:exists|forall|fun)\b")
_TYPE_CONSTRUCTORS = ("list", "option", "prod", "Ensemble", "positive", "N")
"""Types of values, not propositions: a binder `(S : list R)` is a name, not a hypothesis."""


def split_top(text: str, separator: str) -> list[str]:
    """`text` split at `separator` outside parentheses (an arrow `->` is never the end of an `<->`)."""
    parts: list[str] = []
    start = 0
    for index in top_level_indices(text):
        if index < start or not text.startswith(separator, index):
            continue
        if separator == "->" and index > 0 and text[index - 1] == "<":
            continue
        parts.append(text[start:index])
        start = index + len(separator)
    parts.append(text[start:])
    return [part.strip() for part in parts]


def _opens_binder(text: str) -> bool:
    """Whether `text` holds a binder (`exists`, `forall`, `fun`) outside parentheses: its body then runs to the end
    of the enclosing expression, so in `exists a, P -> Q` the arrow is the existential's, not the statement's."""
    return any(
        _BINDER_WORD.match(text, index) and not (index > 0 and text[index - 1] == ".")
        for index in top_level_indices(text)
    )


def _arrows(body: str) -> list[str]:
    """`body` split at its own arrows: the premises, then the conclusion (which keeps a binder's arrows)."""
    parts = split_top(body, "->")
    for index, part in enumerate(parts[:-1]):
        if _opens_binder(part):
            return [*parts[:index], " -> ".join(parts[index:])]
    return parts


def premises_and_conclusion(problem: ProofProblem) -> tuple[list[Binder], list[str], str]:
    """The binders, the premises (hypotheses' types, `forall` ones included) and the conclusion, as `intros` would
    leave them: a `forall` after the premises adds its names and its own premises."""
    statement = problem.parsed
    binders = binders_of(statement.binders)
    premises = [binder.type for binder in binders if binder.is_hypothesis]
    body = " ".join(strip_comments(statement.type).split())
    while True:
        match = re.match(r"forall\s+(.*?),\s*(.*)$", body)
        if match is not None:
            bound = binders_of(match.group(1))
            binders += bound
            premises += [binder.type for binder in bound if binder.is_hypothesis]
            body = match.group(2)
            continue
        parts = _arrows(body)
        premises += parts[:-1]
        body = parts[-1]
        if len(parts) == 1 or not body.startswith("forall"):
            return binders, premises, body


def _end_before_scope(text: str, start: int, end: int) -> int:
    """Where `text[start:end]` ends once a closing scope delimiter is dropped (`(x + y)%Z` ends at its `)`)."""
    index = end
    while index > start and (text[index - 1].isalnum() or text[index - 1] == "_"):
        index -= 1
    if index == end:
        return end
    while index > start and text[index - 1].isspace():
        index -= 1
    if index == start or text[index - 1] != "%":
        return end
    index -= 1
    while index > start and text[index - 1].isspace():
        index -= 1
    return index if index > start and text[index - 1] == ")" else end


def _outer_parentheses_peeled(text: str) -> str:
    """`text` without the parentheses (and scope delimiters) around it, in one pass over it.

    Peeling one pair at a time re-read the whole text for each pair: 30 premises each 12,000 parentheses deep
    kept a run busy for minutes before its search started, past its budget and its cancel."""
    start, end = 0, len(text)
    while True:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        end = _end_before_scope(text, start, end)
        if end - start < 2 or text[start] != "(" or text[end - 1] != ")":
            return text[start:end]
        start, end = start + 1, end - 1


def head_of(text: str) -> str:
    """The top-level relation or connective of a proposition."""
    text = _outer_parentheses_peeled(text)
    if text.startswith("exists"):
        return "exists"
    if text.startswith("forall"):
        return "forall"
    if text.startswith("~"):
        return "not"
    for relation in _RELATIONS:
        if len(split_top(text, relation)) > 1:
            return relation
    first = TOKEN.match(text)
    return first.group(0) if first else "?"


def goal_features(problem: ProofProblem) -> Counter[str]:
    """The features retrieval compares: types, conclusion head, operators, hypothesis shapes, header names."""
    binders, premises, conclusion = premises_and_conclusion(problem)
    text = strip_comments(problem.header + "\n" + problem.statement)
    tokens = TOKEN.findall(strip_comments(problem.statement))
    features: Counter[str] = Counter()
    for binder in binders:
        if binder.type in NUMBER_TYPES:
            features[f"type:{NUMBER_TYPES[binder.type]}"] += 1
        elif "->" in binder.type and not binder.is_hypothesis:
            features["type:function"] += 1
    for scope, name in (("R_scope", "R"), ("Z_scope", "Z"), ("nat_scope", "nat"), ("%Z", "Z"), ("%R", "R")):
        if scope in text:
            features[f"scope:{name}"] += 1
    features[f"head:{head_of(conclusion)}"] += 2
    for token in tokens:
        if token in OPERATORS:
            features[f"op:{OPERATORS[token]}"] += 1
    for premise in premises:
        features[f"hyp:{head_of(premise)}"] += 1
    features[f"hyps:{min(len(premises), 4)}"] += 1
    for name in re.findall(r"(?:Definition|Fixpoint)\s+([A-Za-z_][A-Za-z0-9_']*)", problem.header):
        features[f"def:{name}"] += 1
    numbers = [int(n) for n in re.findall(r"\b\d+\b", problem.statement)]
    if numbers and max(numbers) > 1000:
        features["big-number"] += 1
    return features


def hypothesis_names(problem: ProofProblem) -> list[str]:
    """The names of the statement's named hypotheses, in order (what a stored script may mention)."""
    return [binder.name for binder in premises_and_conclusion(problem)[0] if binder.is_hypothesis]


def adapt(steps: Iterable[str], source_names: list[str], target_names: list[str]) -> tuple[str, ...]:
    """A stored script with the source goal's hypothesis names renamed to the new goal's, by position."""
    mapping = {old: new for old, new in zip(source_names, target_names, strict=False) if old != new}
    if not mapping:
        return tuple(steps)
    pattern = re.compile(r"(?<![\w'])(" + "|".join(re.escape(name) for name in mapping) + r")(?![\w'])")
    return tuple(pattern.sub(lambda match: mapping[match.group(1)], step) for step in steps)


# -- the store -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemoryEntry:
    problem_id: str
    split: str
    features: dict[str, int]
    steps: tuple[str, ...]
    hypotheses: tuple[str, ...]
    origin: str = ""


@dataclass(frozen=True)
class SplitFilter:
    """Which entries retrieval may read: none from `exclude`, and only from `only` when it is given.

    With a split excluded (a benchmark evaluating it), only the catalog's other splits are read, never `user`
    entries: what a user posed is of no known provenance, and a test problem posed with its hypotheses renamed
    is a `user` entry that recalls the test problem's own proof. The held-out split is kept out by an
    allow-list, not only by recognising its goals."""

    exclude: frozenset[str] = frozenset()
    only: frozenset[str] | None = None

    def allows(self, split: str) -> bool:
        if self.exclude and split not in SPLITS:
            return False
        return split not in self.exclude and (self.only is None or split in self.only)

    @classmethod
    def from_environment(cls) -> SplitFilter:
        def names(variable: str) -> frozenset[str]:
            return frozenset(item.strip() for item in os.environ.get(variable, "").split(",") if item.strip())

        only = names(ONLY_ENV)
        return cls(exclude=names(EXCLUDE_ENV), only=only or None)


@dataclass
class ProofMemory:
    """The SQLite file of accepted proofs; opened per call, so any thread or process may use it."""

    directory: Path
    timeout: float = 30.0
    _created: bool = field(default=False, repr=False)

    @property
    def path(self) -> Path:
        return self.directory / MEMORY_FILE

    def _connect(self) -> sqlite3.Connection:
        self.directory.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=self.timeout)
        if not self._created:
            connection.execute(_SCHEMA)
            connection.execute(_STEPS_SCHEMA)
            connection.commit()
            self._created = True
        return connection

    def record(self, problem: ProofProblem, script: ProofScript, *, run_id: str = "", split: str | None = None) -> bool:
        """Store an accepted proof (once per problem and script); True when it was new. A proof whose header
        gives it a meaning of its own (`memorable`) is not stored."""
        if not memorable(problem):
            return False
        features = dict(goal_features(problem))
        connection = self._connect()
        try:
            with connection:
                cursor = connection.execute(
                    "INSERT OR IGNORE INTO proofs (problem_id, split, statement, features, script, hypotheses, "
                    "origin, run_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        problem.id,
                        split if split is not None else split_of_problem(problem),
                        problem.statement,
                        json.dumps(features, sort_keys=True),
                        json.dumps(list(script.steps)),
                        json.dumps(hypothesis_names(problem)),
                        script.origin,
                        run_id,
                        time.time(),
                    ),
                )
                return cursor.rowcount > 0
        finally:
            connection.close()

    def record_steps(
        self,
        problem: ProofProblem,
        steps: Iterable[tuple[str, dict[str, int], str]],
        *,
        run_id: str = "",
        split: str | None = None,
    ) -> int:
        """Store the closing steps of an accepted proof, each as (goal state, its features, the tactic that
        closed it), once per problem, goal and tactic; how many were new (none for a header of its own,
        `memorable`)."""
        if not memorable(problem):
            return 0
        rows = [
            (
                problem.id,
                split if split is not None else split_of_problem(problem),
                goal,
                json.dumps(features, sort_keys=True),
                tactic,
                run_id,
                time.time(),
            )
            for goal, features, tactic in steps
        ]
        if not rows:
            return 0
        connection = self._connect()
        try:
            with connection:
                before = connection.total_changes
                connection.executemany(
                    "INSERT OR IGNORE INTO steps (problem_id, split, goal, features, tactic, run_id, recorded_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                return connection.total_changes - before
        finally:
            connection.close()

    def step_rows(
        self, splits: SplitFilter | None = None, *, newest: int | None = None
    ) -> list[tuple[str, str, dict[str, int], str]]:
        """The stored closing steps the filter allows (of the `newest` rows, when given), oldest first:
        (problem id, split, features, tactic). A row this code did not write (features not the JSON it
        stores) is skipped."""
        if not self.path.is_file():
            return []
        connection = self._connect()
        try:
            rows = connection.execute(
                "SELECT problem_id, split, features, tactic FROM steps ORDER BY id DESC LIMIT ?",
                (-1 if newest is None else newest,),
            ).fetchall()[::-1]
        finally:
            connection.close()
        chosen = splits or SplitFilter()
        kept: list[tuple[str, str, dict[str, int], str]] = []
        for problem_id, split, features, tactic in rows:
            if not chosen.allows(str(split)):
                continue
            counts = _features_of(features)
            if counts is not None:
                kept.append((str(problem_id), str(split), counts, str(tactic)))
        return kept

    def entries(self, splits: SplitFilter | None = None) -> list[MemoryEntry]:
        """Every stored proof the filter allows, oldest first."""
        if not self.path.is_file():
            return []
        connection = self._connect()
        try:
            rows = connection.execute(
                "SELECT problem_id, split, features, script, hypotheses, origin FROM proofs ORDER BY id"
            ).fetchall()
        finally:
            connection.close()
        chosen = splits or SplitFilter()
        entries = (_entry(row) for row in rows if chosen.allows(str(row[1])))
        return [entry for entry in entries if entry is not None]

    def similar(
        self, problem: ProofProblem, *, splits: SplitFilter | None = None, limit: int = 4
    ) -> list[tuple[float, MemoryEntry]]:
        """The stored proofs of the goals most like `problem`'s (TF-IDF cosine), best first, never its own."""
        if not analysable(problem):
            return []
        entries = [entry for entry in self.entries(splits) if entry.problem_id != problem.id]
        return rank(goal_features(problem), entries)[:limit]

    def drafts(self, problem: ProofProblem, *, splits: SplitFilter | None = None, limit: int = 4) -> list[ProofScript]:
        """The retrieved scripts adapted to `problem`'s hypothesis names, each once."""
        targets = hypothesis_names(problem)
        scripts: list[ProofScript] = []
        seen: set[tuple[str, ...]] = set()
        for score, entry in self.similar(problem, splits=splits, limit=limit * 2):
            steps = adapt(entry.steps, list(entry.hypotheses), targets)
            if steps in seen or score <= 0:
                continue
            seen.add(steps)
            scripts.append(ProofScript(steps, origin=f"memory:{entry.problem_id}"))
            if len(scripts) >= limit:
                break
        return scripts


def _entry(row: tuple[object, ...]) -> MemoryEntry | None:
    """A stored row as an entry; None for one this code did not write (not the JSON it stores), which
    is skipped rather than failing every search that recalls from the memory."""
    features = _features_of(row[2])
    try:
        steps = json.loads(str(row[3]))
        hypotheses = json.loads(str(row[4]))
        if features is None or not (isinstance(steps, list) and isinstance(hypotheses, list)):
            return None
        return MemoryEntry(
            problem_id=str(row[0]),
            split=str(row[1]),
            features=features,
            steps=tuple(str(step) for step in steps),
            hypotheses=tuple(str(name) for name in hypotheses),
            origin=str(row[5]),
        )
    except (ValueError, TypeError):
        return None


def _features_of(stored: object) -> dict[str, int] | None:
    """A stored features column (JSON of name: count), or None where it is not what this code writes."""
    try:
        parsed = json.loads(str(stored))
        return {str(k): int(v) for k, v in parsed.items()} if isinstance(parsed, dict) else None
    except (ValueError, TypeError):
        return None


def rank(query: Counter[str], entries: list[MemoryEntry]) -> list[tuple[float, MemoryEntry]]:
    """Entries by TF-IDF cosine similarity of their features to `query`, best first (ties: oldest first)."""
    if not entries:
        return []
    documents = len(entries)
    frequency: Counter[str] = Counter()
    for entry in entries:
        frequency.update(entry.features.keys())

    def weights(features: dict[str, int] | Counter[str]) -> dict[str, float]:
        return {
            name: (1.0 + math.log(count)) * math.log((1 + documents) / (1 + frequency[name]) + 1.0)
            for name, count in features.items()
            if count > 0
        }

    wanted = weights(query)
    wanted_norm = math.sqrt(sum(value * value for value in wanted.values())) or 1.0
    scored: list[tuple[float, int, MemoryEntry]] = []
    for position, entry in enumerate(entries):
        have = weights(entry.features)
        norm = math.sqrt(sum(value * value for value in have.values())) or 1.0
        dot = sum(value * have.get(name, 0.0) for name, value in wanted.items())
        scored.append((dot / (wanted_norm * norm), position, entry))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [(round(score, 6), entry) for score, _, entry in scored]


def memory_from_environment(home: Path | None = None) -> ProofMemory | None:
    """The memory the environment names (see `memory_dir`), or None when it is switched off."""
    directory = memory_dir(home)
    return ProofMemory(directory) if directory is not None else None
