"""The vernacular a candidate proof file may use: an allow-list, judged command by command.

Anything not listed is refused, so a command this module never heard of is a rejection, not a
pass. Two nets work together. `judge_command` checks each sentence's command (after `_vernac`
has peeled its prefixes) against the commands allowed at top level or inside a proof. `denied_words`
scans the code of every sentence, comments and strings blanked, for words that have no honest use
in a single-theorem proof file and name a way out of the kernel's checks (module and functor
commands, typing flags, file and plugin loading, admitted goals): it catches them wherever they
sit, even where a sentence boundary was read differently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tools.proofs import ASSUMPTION_KEYWORDS, COQ_BLANKS, THEOREM_KEYWORDS
from verifiers.proofs._vernac import Command

# Universe-polymorphic and cumulative declarations: the kernel's universe substitutions and variance
# inference are where Coq keeps finding proofs of `False` (rocq #21688, #21702, #21736, #22376, #22391,
# several reaching 8.16.1 and coqchk alike). A single-theorem proof over nat, Z or R never needs its own
# universe-polymorphic definition (`Set Universe Polymorphism` is off the option list already); the
# libraries' polymorphic constants stay usable.
_UNIVERSE_POLYMORPHISM = (
    "declares its own universe-polymorphic or cumulative definition (`{}`), where Coq 8.16's universe "
    "substitutions and variance inference are unsound (rocq #21688, #22376)"
)
# Words whose presence anywhere in the code (outside comments and strings) rejects the file.
DENIED_WORDS: dict[str, str] = {
    "Admitted": "leaves the proof unchecked (`Admitted`)",
    "admit": "leaves a goal unproved (`admit`)",
    "give_up": "leaves a goal unproved (`give_up`)",
    "Admit": "admits obligations (`Admit Obligations`)",
    "Abort": "abandons a proof (`Abort`)",
    "Module": "uses the module system (`Module`), where Coq 8.16 can lose track of switched-off checks",
    "Declare": "declares outside the proof (`Declare`: modules, ML plugins, scopes)",
    "Include": "includes a module (`Include`)",
    "Section": "opens a section, whose closing can hide switched-off checks",
    "End": "closes a module or section (`End`)",
    "Load": "loads another file (`Load`)",
    "Drop": "leaves the Coq toplevel (`Drop`)",
    "Cd": "changes Coq's directory (`Cd`)",
    "Redirect": "writes Coq's output to a file (`Redirect`)",
    "Extraction": "writes files (`Extraction`)",
    "Extract": "changes extraction (`Extract`)",
    "Reset": "rewinds the environment (`Reset`)",
    "Back": "rewinds the environment (`Back`)",
    "BackTo": "rewinds the environment (`BackTo`)",
    "Undo": "rewinds the proof (`Undo`)",
    "Restart": "rewinds the proof (`Restart`)",
    "Checking": "switches a kernel check (Guard/Positivity/Universe Checking)",
    "Typing": "changes the kernel's typing flags (`Typing Flags`)",
    "bypass_check": "switches a kernel check off (`bypass_check`)",
    "Inline": "inlines module parameters (`Inline`)",
    "LoadPath": "changes where Coq loads code from (`LoadPath`)",
    "ML": "loads OCaml code into Coq (`ML`)",
    "Primitive": "declares kernel primitives (`Primitive`)",
    "Register": "re-registers constants Coq relies on (`Register`)",
    "Constraint": "adds universe constraints (`Constraint`)",
    "Ltac2": "switches to Ltac2, outside the reviewed tactic language",
    "hammer_hook": "runs CoqHammer's evaluation hook, which writes files and starts programs (`hammer_hook`)",
    "SProp": "uses the sort SProp, where Coq 8.16's conversion proves `False` (rocq issue #22378)",
    "StrictProp": "uses the sort SProp (`StrictProp`), where Coq 8.16's conversion proves `False` (rocq #22378)",
    # Coq 8.16.1's guard checker (shared by the kernel and coqchk) accepts some fixpoints whose
    # recursive call is not on a subterm (rocq issue #20455): `False` with no axiom, past all three
    # judges. Recursion comes from the trusted header, the libraries (eliminators, `induction`,
    # well-founded `Fix`) and the schemes Coq generates, never from the candidate's own text.
    **{
        word: f"writes its own recursion (`{word}`), which Coq 8.16's guard checker can accept though it "
        "never terminates (use induction, eliminators or well-founded recursion)"
        for word in ("fix", "cofix", "Fixpoint", "CoFixpoint", "Function")
    },
    **{word: f"adds an assumption the proof would rest on (`{word}`)" for word in ASSUMPTION_KEYWORDS},
    **{word: _UNIVERSE_POLYMORPHISM.format(word) for word in ("Polymorphic", "Cumulative")},
    # Ill-typed terms these tactics let in are evaluated by the VM before `Qed` re-checks them, which
    # can corrupt coqc's memory (rocq #16891, not fixed); the gate trusts coqc's report of what it checked.
    **{
        word: f"skips the type check (`{word}`), so coqc may evaluate an ill-typed term"
        for word in (
            "exact_no_check",
            "vm_cast_no_check",
            "native_cast_no_check",
            "change_no_check",
            "convert_concl_no_check",
        )
    },
}
# A word is a maximal identifier not glued to a name or qualifier before it (see `code_words`).
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_']*")

DEFINING = (
    "Definition",
    "Let",
    "Fixpoint",
    "CoFixpoint",
    "Inductive",
    "CoInductive",
    "Variant",
    "Record",
    "Structure",
    "Class",
    "Function",
    "Instance",
    *THEOREM_KEYWORDS,
)
# Read-only queries: they print and change nothing, so they are allowed inside proofs and outside.
QUERIES = (
    "Check",
    "Print",
    "About",
    "Locate",
    "Search",
    "SearchPattern",
    "SearchRewrite",
    "SearchHead",
    "Compute",
    "Eval",
)
# Commands allowed outside proofs (`Require`/`From`, `Set`/`Unset` and `Add` are judged further).
TOP_LEVEL = frozenset(
    {
        *DEFINING,
        "Require",
        "From",
        "Import",
        "Export",
        "Open",
        "Close",
        "Delimit",
        "Bind",
        "Ltac",
        "Tactic",
        "Notation",
        "Infix",
        "Reserved",
        "Hint",
        "Create",
        "Remove",
        "Arguments",
        "Implicit",
        "Generalizable",
        "Opaque",
        "Transparent",
        "Existing",
        "Coercion",
        "Canonical",
        "Scheme",
        "Combined",
        *QUERIES,
        "Set",
        "Unset",
        "Add",
        "Goal",
        "Proof",
        "Next",
        "Obligation",
        "Obligations",
        "Solve",
        "Final",
    }
)
# Commands allowed inside a proof besides tactics; anything else capitalised is refused there.
IN_PROOF = frozenset(
    {
        "Proof",
        "Show",
        *QUERIES,
        "Unshelve",
        "Focus",
        "Unfocus",
        "Unfocused",
        "Guarded",
        "Info",
        "Set",
        "Unset",
    }
)
PROOF_ENDS = ("Qed", "Defined")
# Words that start one of Coq 8.16's commands (its `vernac` grammar with the installed plugins, and
# the definition and query keywords). Inside a proof Coq parses a sentence as a command before it
# tries a tactic, so a tactic a file names like one (`Tactic Notation "Goal"`, `Ltac Export`) still
# runs the command: such a name is refused, and never lets a command pass as a tactic.
COMMAND_WORDS = frozenset(
    {
        *DEFINING,
        *QUERIES,
        *ASSUMPTION_KEYWORDS,
        *("Abort", "About", "Add", "Admit", "Admitted", "All", "Arguments", "Attributes", "Back", "BackTo"),
        *("Bind", "Canonical", "Cd", "Chapter", "Check", "Close", "CoFixpoint", "Coercion", "Collection"),
        *("Combined", "Comments", "Constraint", "Context", "Create", "Cumulative", "Debug", "Declare"),
        *("Defined", "Delimit", "Derive", "Drop", "Enable", "Disable", "End", "Existential", "Existing"),
        *("Export", "Extract", "Extraction", "Fail", "Final", "Fixpoint", "Focus", "Format", "From"),
        *("Functional", "Generalizable", "Generate", "Global", "Goal", "Guarded", "Hint", "Identity"),
        *("Implicit", "Import", "Include", "Info", "Infix", "Inline", "Inspect", "Instructions", "Load"),
        *("LoadPath", "Local", "Locate", "Ltac", "Ltac2", "Module", "Monomorphic", "Next", "NonCumulative"),
        *("Notation", "Number", "Obligation", "Obligations", "Opaque", "Open", "Optimize", "Polymorphic"),
        *("Prenex", "Preterm", "Primitive", "Print", "Private", "Profile", "Program", "Proof", "Pwd", "Qed"),
        *("Quit", "Recursive", "Redirect", "Register", "Remove", "Require", "Reserved", "Reset", "Restart"),
        *("Save", "Scheme", "Section", "Separate", "Set", "Show", "Solve", "Sort", "Strategy", "String"),
        *("SubClass", "Succeed", "Tactic", "Test", "Time", "Timeout", "Transparent", "Type", "Typeclasses"),
        *("Undelimit", "Undo", "Unfocus", "Unfocused", "Universe", "Universes", "Unset", "Unshelve"),
        *("Variable", "Variables", "Hammer_cleanup", "Hammer_features", "Hammer_features_cached"),
        *("Hammer_objects", "Hammer_print", "Hammer_transl", "Hammer_version"),
    }
)
ALLOWED_PREFIXES = frozenset({"Time", "Timeout", "Instructions", "Local", "Global", "Monomorphic"})
ALLOWED_PREFIXES |= {"NonCumulative", "Private", "Program"}
ALLOWED_ATTRIBUTES = {
    "local": ("",),
    "global": ("",),
    "export": ("",),
    "program": ("",),
    "refine": ("",),
    "universes": ("monomorphic", "noncumulative"),
}
REFUSED_PREFIXES = {word: _UNIVERSE_POLYMORPHISM.format(word) for word in ("Polymorphic", "Cumulative")}
REFUSED_ATTRIBUTE_VALUES = {
    ("universes", value): _UNIVERSE_POLYMORPHISM.format(f"#[universes({value})]")
    for value in ("polymorphic", "cumulative")
}
# Libraries load from Coq's installation only: these logical roots, or short names resolved there.
REQUIRE_ROOTS = ("Coq", "Coquelicot", "Hammer")
_REFUSED_ROOTS = ("Labgate", "Ltac2", "mathcomp")
# Compiled SProp types (`Squash`, `sUnit`) that a new term uses without mentioning the sort itself.
_REFUSED_LIBRARIES = frozenset({"StrictProp"})
_ADD_ALLOWED = ("Add Ring", "Add Field", "Add Setoid", "Add Relation")
# Options whose change cannot make a false statement check.
SAFE_OPTIONS = (
    "Printing",
    "Implicit Arguments",
    "Strict Implicit",
    "Contextual Implicit",
    "Maximal Implicit Insertion",
    "Reversible Pattern Implicit",
    "Asymmetric Patterns",
    "Bullet Behavior",
    "Default Goal Selector",
    "Default Proof Using",
    "Suggest Proof Using",
    "Firstorder Depth",
    "Firstorder Solver",
    "Hyps Limit",
    "Ltac Backtrace",
    "Ltac Debug",
    "Ltac Batch Debug",
    "Ltac Profiling",
    "Info Level",
    "Nia Cache",
    "Lia Cache",
    "Nra Cache",
    # CoqHammer's numeric and on/off settings. Its `PredictPath` and `PredictMethod` are pasted into a
    # shell command line that `predict` and `hammer` run: a string there runs any program inside coqc's
    # sandbox, which can rewrite the unread rest of the check file (forged markers, no proof at all).
    *(
        f"Hammer {name}"
        for name in (
            "ATPLimit",
            "Blacklist",
            "CVC4",
            "ClosureGuards",
            "Debug",
            "Eprover",
            "FilterClasses",
            "FilterHurkens",
            "FilterProgram",
            "GSMode",
            "MinimizationThreshold",
            "Parallel",
            "Predictions",
            "ReconstrLimit",
            "SAutoLimit",
            "Vampire",
            "Z3",
        )
    ),
    "Silent",
    "Warnings",
    "Diffs",
    "Default Timeout",
    "Search Output Name Only",
    "Keyed Unification",
    "Regular Subst Tactic",
    "Structural Injection",
    "Mangle Names",
    "Intuition Negation Unfolding",
    "Intuition Iff Unfolding",
    "Typeclasses Debug",
    "Typeclasses Depth",
    "Typeclasses Strict Resolution",
    "Typeclasses Unique Solutions",
)
# The allowed options that take a string, and only these: a string is how an option names a file, a
# path or a command line, so any other option given one is refused whatever the allow-list says.
STRING_OPTIONS = ("Warnings", "Diffs", "Bullet Behavior", "Default Goal Selector", "Default Proof Using")
# Queries that write a file when given a name: `Print [Sorted] Universes [Subgraph (...)] "file"`. A
# file written into the gate's scratch directory can be the check file coqc is still reading.
_FILE_WRITING_QUERY = re.compile(r'Print\s+(?:Sorted\s+)?Universes\b[^"]*"')


_IDENTIFIER_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_'")
# Characters that end no notation symbol before a word: blanks, brackets and separators. After any other
# non-identifier character a symbol may have taken the word's first letters (`=_D` is one, from Reals).
_NOT_SYMBOL_END = frozenset(COQ_BLANKS + '()[]{},;"')


def _identifier_ends_at(code: str, end: int) -> bool:
    """Whether `code[:end]` ends with an ASCII identifier (a run of identifier characters that starts
    with a letter or `_`, not a number)."""
    start = end
    while start > 0 and code[start - 1] in _IDENTIFIER_CHARS:
        start -= 1
    return start < end and code[start] not in "0123456789'"


def _glued(code: str, start: int) -> bool:
    """Whether the word at `start` is the tail of a longer name, as Coq reads it.

    A `.` joins a name to the identifier before it (`Foo.Admitted` is one name, not the command), and a
    `'` or digit continues one. Nothing else glues: a symbol never does (after a notation `%.`, Coq reads
    `%.fix` as the symbol and then the keyword), nor does a character beyond ASCII, whatever Python's
    Unicode calls it (Coq 8.16's older table lexes 2,497 of Python's letters, `ՠ` among them, as symbols).
    Anything doubtful is read as a word of its own, and a denied word there is refused.
    """
    if start == 0:
        return False
    before = code[start - 1]
    if before in _IDENTIFIER_CHARS:
        return _identifier_ends_at(code, start)
    if before == ".":
        return _identifier_ends_at(code, start - 1)
    return False


def code_words(code: str) -> Iterator[re.Match[str]]:
    """The ASCII words of `code` (comments and strings blanked) that Coq reads as words of their own."""
    return (match for match in _WORD.finditer(code) if not _glued(code, match.start()))


def _symbol_tails(code: str) -> Iterator[tuple[str, str]]:
    """Each word right after a symbol character, with each of its tails that is a denied word: `_Dfix`
    after `=` may be the symbol `=_D` (Reals declares it) and then `fix`, since a symbol may end in letters
    and Coq reads it greedily. (Only the denied words' tails are formed: a long word costs its length.)"""
    for match in _WORD.finditer(code):
        start = match.start()
        if start == 0 or code[start - 1] in _NOT_SYMBOL_END or _glued(code, start):
            continue
        word = match.group(0)
        yield from ((word, denied) for denied in DENIED_WORDS if len(word) > len(denied) and word.endswith(denied))


def denied_words(code: str) -> list[str]:
    """Why the code (comments and strings already blanked) is refused, one reason per denied word, read
    as Coq may read it: a word of its own, or the tail of a word a symbol may have taken the start of."""
    found = dict.fromkeys(
        DENIED_WORDS[word] for word in (match.group(0) for match in code_words(code)) if word in DENIED_WORDS
    )
    for whole, tail in _symbol_tails(code):
        word = _abridged(whole)
        found.setdefault(
            f"`{word}` right after a symbol may be read as a symbol and `{tail}` (a symbol may end in "
            f"letters; put a blank before `{word}`): {DENIED_WORDS[tail]}"
        )
    return list(found)


_TOKEN_TAIL_CHARS = frozenset(_IDENTIFIER_CHARS | {"."})


def _abridged(text: str, limit: int = 40) -> str:
    """`text` as a message shows it: whole when short, else its two ends (a refused word may be 1 MiB)."""
    return text if len(text) <= limit else f"{text[: limit // 2]}...{text[-(limit // 2) :]}"


def token_problem(token: str) -> str | None:
    """Why a symbol a proof declares (`Notation`, `Infix`, `Tactic Notation`) is refused, or None.

    Coq reads a declared symbol greedily, letters and all, where these rules read a name: after
    `Notation "'%a' x"`, `%afix` is the symbol and then the keyword `fix`. So a symbol is a name
    (`'myif'`), or it does not end in letters, `_` or `'` (digits and `.` may end it: `.+1`, `%.`), and
    holds no comment bracket (a symbol `a(` turns `a(*` into code).
    """
    if _WORD.fullmatch(token):
        return None
    if "(*" in token or "*)" in token:
        return f"the symbol `{token}` holds a comment bracket"
    start = len(token)
    while start > 0 and token[start - 1] in _TOKEN_TAIL_CHARS:  # a scan, not a regex: linear in the length
        start -= 1
    tail = token[start:]
    if re.search(r"[A-Za-z_']", tail):
        return (
            f"the symbol `{_abridged(token)}` ends in name characters (`{_abridged(tail)}`), "
            "which Coq reads as part of it"
        )
    return None


STRUCTURE_WORDS = frozenset(
    {"match", "with", "end", "fix", "cofix", "struct", "Proof", "Qed", "Defined", "Admitted", "Abort"}
)
"""Keywords whose places these rules count (a `with` inside a `match ... end`, where a proof opens and
closes): a notation that declares one as a token of its own would move them where the rules cannot follow."""
_OPENING = {"(": ")", "[": "]", "{": "}"}


def notation_problem(tokens: list[str]) -> str | None:
    """Why the tokens one notation command declares are refused as a whole, or None.

    These rules count brackets (to find a definition's body, a `match`'s extent) and a few keywords.
    A notation whose brackets do not pair up among its own tokens (`x %) y`: Coq reads `%)` as one
    token, the rules a closing bracket) or that declares one of `STRUCTURE_WORDS` would make them count
    what Coq does not read, so it is refused.
    """
    keyword = next((token for token in tokens if token in STRUCTURE_WORDS), None)
    if keyword is not None:
        return f"it declares the keyword `{keyword}` as a token of its own"
    expected: list[str] = []
    paired = True
    for char in re.findall(r"[][(){}]", "".join(tokens)):
        if char in _OPENING:
            expected.append(_OPENING[char])
        elif not expected or expected.pop() != char:
            paired = False
            break
    if not paired or expected:
        return f"its brackets do not pair up (`{_abridged(' '.join(tokens), 60)}`)"
    return None


def judge_prefixes(command: Command) -> str | None:
    """Why the sentence's attributes or prefixes are refused, or None."""
    for prefix in command.prefixes:
        if prefix in REFUSED_PREFIXES:
            return REFUSED_PREFIXES[prefix]
        if prefix not in ALLOWED_PREFIXES:
            return f"the prefix `{prefix}` is not allowed (it runs or hides the command behind it)"
    for attribute in command.attributes:
        allowed = ALLOWED_ATTRIBUTES.get(attribute.name)
        if allowed is None:
            return f"attribute #[{attribute.name}] is not allowed"
        values = [value.split("=")[0].strip() for value in attribute.argument.split(",") if value.strip()]
        for value in values:
            refused = REFUSED_ATTRIBUTE_VALUES.get((attribute.name, value))
            if refused:
                return refused
        if any(value not in allowed for value in values) or (values and allowed == ("",)):
            return f"attribute #[{attribute.name}({attribute.argument})] is not allowed"
    return None


def judge_option(command: Command) -> str | None:
    """Why a Set/Unset command is refused, or None when the option is on the allow-list.

    Options stay inside the candidate's module: a `Global` one would still hold for the gate's own
    commands after it (a `Default Timeout` cutting `Print Assumptions` short, printing options that
    garble what it prints), so the global locality is refused whatever the option.
    """
    if "Global" in command.prefixes or any(attribute.name == "global" for attribute in command.attributes):
        return f"`Global {command.words(3)}` would reach past the proof file into the gate's own check"
    option = re.sub(r"^(Set|Unset)\s+", "", command.body).rstrip(".").strip()
    if '"' in option and not any(option.startswith(name + " ") for name in STRING_OPTIONS):
        shown = option.split('"', 1)[0].strip()
        return f"`{command.keyword} {shown}` gives an option a string (a path or command line), which is not allowed"
    if any(option == safe or option.startswith(safe + " ") for safe in SAFE_OPTIONS):
        return None
    shown = " ".join(option.split()[:3])
    return f"`{command.keyword} {shown}` changes an option that is not on the allow-list"


def judge_query(command: Command) -> str | None:
    """Why a query is refused (it writes a file), or None: queries otherwise only print."""
    if _FILE_WRITING_QUERY.match(command.body):
        return "`Print Universes` with a file name writes a file (like `Redirect`), which is not allowed"
    return None


def judge_require(command: Command) -> str | None:
    """Why a `Require`/`From … Require` is refused: only libraries of Coq's own installation load."""
    body = command.body.rstrip(".").strip()
    words = body.split()
    root = ""
    if command.keyword == "From":
        if len(words) < 3 or words[2] != "Require":
            return "`From` must be followed by a library root and `Require`"
        root = words[1]
        if root not in REQUIRE_ROOTS:
            return f"`From {root}` loads from outside the allowed libraries ({', '.join(REQUIRE_ROOTS)})"
        words = words[2:]
    names = [word for word in words[1:] if word not in ("Import", "Export", "-")]
    if not names:
        return "`Require` names no library"
    for name in names:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_']*(\.[A-Za-z_][A-Za-z0-9_']*)*", name):
            return f"`Require` of `{name}` is not a plain library name"
        parts = name.split(".")
        if parts[0] in _REFUSED_ROOTS or parts[0].startswith("Labgate"):
            return f"`Require {name}` loads a library that is not allowed"
        if _REFUSED_LIBRARIES.intersection(parts):
            return f"`Require {name}` loads a library that is not allowed (SProp: rocq issue #22378)"
    return None


def judge_add(command: Command) -> str | None:
    if command.body.startswith(_ADD_ALLOWED):
        return None
    return f"`{command.words(3)}` is not allowed"


def is_tactic(command: Command, tactic_names: set[str]) -> bool:
    """Whether a sentence inside a proof reads as a tactic: Coq's commands are capitalised words,
    tactics (and goal selectors, parenthesised tactic expressions) are not, except tactics the
    file defines itself with `Ltac`."""
    body = command.body
    if not command.keyword:
        return bool(body) and body[0] in "([!0123456789"
    keyword = command.keyword
    return keyword[0].islower() or (keyword in tactic_names and keyword not in COMMAND_WORDS)
