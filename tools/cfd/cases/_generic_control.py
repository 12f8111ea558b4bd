"""Making a user's OpenFOAM case safe to run: what is refused, what is stripped, and labgate's controlDict.

A user's case is untrusted input. Anything that makes OpenFOAM compile or run the user's code is
refused outright (`#codeStream`, `#calc`, coded boundary conditions, sources and function objects,
a `libs` entry naming anything but an installed OpenFOAM library, and any compiled program or library
the case carries, whatever its name, since `motionSolverLibs` and the like could load it): the case is
rejected as bad input, naming the file. Comments are skipped as OpenFOAM skips them, so `//` inside a
string or a `#{ #}` block hides nothing. The user's `system/controlDict` is never used: labgate writes
its own from the user's time settings only, so the user's function objects (`systemCall`, coded ones,
anything else) and `#include`s are dropped and reported, its `libs` kept only when they name installed
OpenFOAM libraries, and labgate's own function objects write what the gates read.
Behind all this, OpenFOAM's system operations are switched off for every step through the solver's home
directory (the case, in the sandbox): `pin_settings`; a case bringing a `.OpenFOAM` folder is refused.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runs import UntrustedFileError, read_untrusted, remove_untrusted_tree, walk_untrusted
from tools._workload import TaskError
from tools.cfd.cases._block_faces import flat_directions
from tools.cfd.openfoam._foamdict import FoamValue, Raw, Word, number, render_dict
from tools.cfd.openfoam._foamread import (
    CompressedTooLargeError,
    FoamParseError,
    UnreadPatternError,
    foam_number,
    foam_pattern,
    gunzipped,
    parse_foam_dict,
    read_foam_dict,
    token_matches,
)
from tools.cfd.openfoam._libraries import OPENFOAM_LIBRARIES, installed_library, refused_library_names

_CODE = re.compile(rb"#codeStream|#calc|(?<![\w-])(?:coded|[A-Za-z]+Coded)[A-Za-z]*\b|(?<![\w-])systemCall\b")
"""Code the case would make OpenFOAM compile or run: `#codeStream`, `#calc` and every coded type, whether
named `coded...` (`codedFixedValue`) or `<type>Coded...` (fvOptions' `vectorCodedSource` and its kin)."""
_LIBS = re.compile(rb'(?<![\w-])"?libs(?![\w.-])"?(?=\s*[^\s;])')
"""`libs` (fvOptions, function objects, dynamic meshes): anywhere on a line, quoted or not, with any value.
Only `(...)`, `N(...)` and `N{...}` lists of names are read (a `$macro` could expand to anything), and
each name must be an installed OpenFOAM library (`installed_library`). `motionSolverLibs` and the like
load installed libraries only, since a library of the case is refused by its content (`_ELF`) whatever
its name."""
_QUOTED = re.compile(rb'"(?P<pattern>[^"\n]*)"')
"""A quoted word, read from the left as OpenFOAM's tokenizer reads them (each closing quote ends its word)."""
_VALUE_FOLLOWS = re.compile(rb"\s*[^\s;]")
"""What makes a quoted word a keyword: a value after it on the line or the next."""
_REGEX_CHARACTERS = re.compile(rb"[][()|.*+?\\^${}]")
_LIBRARY_VALUE = re.compile(rb"\s*(?:[0-9]+\s*[({]|\(|[$#])")
"""The start of a value OpenFOAM could read as a list of library names: a list, a counted list, a macro or a
directive (a bare `{` opens a sub-dictionary, and a word or number is no list)."""
_LIBRARY_LIST = re.compile(rb"\s*(?:[0-9]+\s*)?(?:\((?P<list>[^()]*)\)|\{(?P<one>[^{}]*)\})")
_LIBRARY_NAMES = re.compile(rb'"[^"]*"?|[^\s"]+')
_LEXEMES = re.compile(rb'"(?:[^"\\]|\\.)*"?|#\{.*?(?:#\}|\Z)|//[^\n]*|/\*.*?(?:\*/|\Z)', re.DOTALL)
"""Strings and verbatim blocks (kept: OpenFOAM reads them) and comments (dropped), whichever starts first.
One left open runs to the end of the file, as OpenFOAM reads it, and so each byte is looked at once: a file
of unclosed `/*` (or `"\"`) would otherwise be searched to its end from every one of them."""
_ELF = b"\x7fELF"
_APPLICATION = re.compile(r"^[A-Za-z][A-Za-z0-9]*Foam$")
MAX_SCANNED_BYTES = 256 << 20
MAX_EXPANDED_BYTES = 2 << 30
"""What a case's compressed files may expand to in all: 200 KB of gzip expand to 200 MiB, and each is read
whole, so without a total a few megabytes of them kept the scan busy for an hour (at this total, about 20 s)."""
MAX_LEXEMES = 1_000_000
"""Strings, comments and verbatim blocks a case may open in all (counted by their opening characters): the
scan looks at each in Python (50 MiB of `"a" ` took 36 s), and a real case has a few hundred."""
_LEXEME_OPENERS = (b'"', b"//", b"/*", b"#{")
_CODE_WORDS = (b"#codeStream", b"#calc", b"oded", b"systemCall")
"""Substrings every match of `_CODE` holds: a file with none of them is passed over at memory speed."""
MAX_TIME_STEPS = 1e9
"""More time steps than any run finishes within its time limit; past 2^63 their count is not even a number."""
_TIME_KEYS = ("deltaT", "adjustTimeStep", "maxCo", "maxAlphaCo", "maxDeltaT", "timeFormat", "timePrecision")
_WORD = re.compile(r"^[A-Za-z0-9_.+-]+$")


def refuse_code(case: Path) -> None:
    """Reject a case whose dictionaries (other than system/controlDict) would make OpenFOAM run code.

    Raises:
        TaskError: naming the first file and the construct found.
    """
    expanded = lexemes = 0
    budget = _PatternBudget()
    for entry in walk_untrusted(case):
        if entry.relative.split("/")[0] == USER_SETTINGS_DIR:
            raise TaskError(
                f"refused: {entry.relative}: the case is the solver's home directory in the sandbox, so a "
                f"{USER_SETTINGS_DIR} folder would replace the installation's OpenFOAM settings (remove it)"
            )
        if entry.kind != "file":
            continue
        try:
            data = read_untrusted(case, entry.relative, max_bytes=MAX_SCANNED_BYTES)
        except UntrustedFileError:
            continue  # not copied or not readable: OpenFOAM will not read it either
        if data.startswith(_ELF):  # a `libs` entry or a dynamicCode cache could load it under any name
            raise TaskError(
                f"refused: {entry.relative} is a compiled program or library; labgate never runs a user's code "
                "(remove it from the case)"
            )
        # Every file, whatever its name or folder: `#include` reads any file of the case as a dictionary, so
        # a coded condition in `0/log.bc` or under a folder named postProcessing ran as far as OpenFOAM's own
        # switch while the scan passed over them. Only controlDict is left, which labgate replaces.
        if entry.relative == "system/controlDict":
            continue
        text = _gunzipped(entry.relative, data) if entry.relative.endswith(".gz") else data
        if text is None:
            continue
        if text is not data:
            expanded += len(text)
            if expanded > MAX_EXPANDED_BYTES:
                raise TaskError(
                    f"refused: {entry.relative}: the case's compressed files expand to more than "
                    f"{MAX_EXPANDED_BYTES} bytes in all, more than labgate reads to look for code (a run needs "
                    "only its start time's fields: remove the other time folders)"
                )
        lexemes += sum(text.count(opener) for opener in _LEXEME_OPENERS)
        if lexemes > MAX_LEXEMES:
            raise TaskError(
                f"refused: {entry.relative}: the case's files open more than {MAX_LEXEMES} strings, comments "
                "and verbatim blocks in all, more than labgate reads to look for code"
            )
        plain = _without_comments(text)
        found = _CODE.search(plain) if any(word in plain for word in _CODE_WORDS) else None
        if found is not None:
            what = found.group(0).decode(errors="replace").strip()
            raise TaskError(
                f"refused: {entry.relative} uses {what!r}, which makes OpenFOAM compile or run the case's own "
                "code; labgate never runs a user's code (replace it with a plain boundary condition or dictionary)"
            )
        _refuse_foreign_libraries(entry.relative, plain, budget)


def _matches_libs(pattern: bytes, *, wide_allowed: bool = True) -> bool:
    """Whether OpenFOAM would read a quoted keyword `pattern` as `libs` (a pattern no regex reads stops
    OpenFOAM with an error when it reads the file, so it loads nothing). One labgate does not evaluate
    (`foam_pattern`: too long, too deep, too many repeats; 1,500 nested parentheses were a traceback and 400
    `.*` a scan without end) is taken to match: the value after it must then name OpenFOAM libraries only."""
    text = pattern.decode(errors="replace")
    if not wide_allowed and not text.isascii():
        # Python compiles a class spanning beyond ASCII slowly (38 of `[\x01-\U0010ffff]`: 0.15 s a pattern, and
        # 1.4 KB of gzip held 400 of them): past MAX_WIDE_PATTERNS such patterns are taken to match.
        return True
    try:
        compiled = foam_pattern(text)
    except UnreadPatternError as error:
        return "not a regular expression" not in str(error)
    return compiled.fullmatch("libs") is not None


MAX_WIDE_PATTERNS = 8
"""Keyword patterns with characters beyond ASCII compiled per case (a stock tutorial's JPEG holds one); the
rest are taken to match `libs` (see `_matches_libs`)."""
MAX_KEYWORD_PATTERNS = 10_000
"""Quoted keyword patterns followed by a list that a case's files may hold in all: each is compiled to see
whether it reads as `libs` (about 0.5 ms for a long one), and a real case has a handful (fvSolution's)."""


@dataclass
class _PatternBudget:
    """Keyword patterns looked at so far in one case's scan, and how many of them reach beyond ASCII."""

    patterns: int = 0
    wide: int = 0


def _refuse_foreign_libraries(relative: str, text: bytes, budget: _PatternBudget | None = None) -> None:
    """Raise unless every `libs` entry of `text` (comments blanked), written as `libs` or as a keyword pattern
    that matches it, names installed OpenFOAM libraries only."""
    budget = budget or _PatternBudget()
    entries = [found.end() for found in _LIBS.finditer(text)] if b"libs" in text else []
    for found in _QUOTED.finditer(text) if b'"' in text else ():
        # A quoted keyword with regular-expression characters: OpenFOAM matches it against the keys it looks up,
        # so `"li[b]s" (...)` is read as `libs`. Found as one expression (the characters required inside, other
        # characters either side, a value after it), a 40,000-character quoted word took 6.5 s to reject.
        if _REGEX_CHARACTERS.search(found.group("pattern")) is None or not _VALUE_FOLLOWS.match(text, found.end()):
            continue
        # A pattern matching everything (`".*" 1;`, `".*" { ... }`) is common in fvSolution: what follows it is
        # read as libraries only when it can be a list of names (or a macro that may expand to one).
        value = _LIBRARY_VALUE.match(text, found.end())
        if value is None:
            continue
        pattern = found.group("pattern")
        budget.patterns += 1
        if budget.patterns > MAX_KEYWORD_PATTERNS:
            raise TaskError(
                f"refused: {relative}: the case's files hold more than {MAX_KEYWORD_PATTERNS} quoted keyword "
                "patterns followed by a list, more than labgate reads to look for 'libs'"
            )
        budget.wide += not pattern.isascii()
        if _matches_libs(pattern, wide_allowed=budget.wide <= MAX_WIDE_PATTERNS):
            entries.append(found.end())
    for end in sorted(entries):
        listed = _LIBRARY_LIST.match(text, end)
        names = (
            [
                name.decode(errors="replace")
                for name in _LIBRARY_NAMES.findall(listed.group("list") or listed.group("one") or b"")
            ]
            if listed is not None
            else None
        )
        refused = refused_library_names(names) if names is not None else ["an entry that is not a list of names"]
        if refused:
            raise TaskError(
                f"refused: {relative} uses 'libs' naming {', '.join(refused)[:200]}: only OpenFOAM's own installed "
                f"libraries may be loaded (by plain name, such as sampling or libfieldFunctionObjects.so, as found "
                f"in {OPENFOAM_LIBRARIES}); labgate never runs a user's code"
            )


USER_SETTINGS_DIR = ".OpenFOAM"
"""OpenFOAM merges `$HOME/.OpenFOAM/controlDict` over its installation's etc/controlDict, and the sandbox's
HOME is the case directory."""


def pin_settings(case: Path) -> None:
    """Turn OpenFOAM's system operations (`#codeStream`, coded conditions and function objects compiling
    and loading code) off for every step run in `case`, behind `refuse_code`.

    A case controlDict's `InfoSwitches` cannot do it (the switch is read once at start-up, and the log
    says "unregistered"); the installation's etc/controlDict allows them, and a user settings file
    (`$HOME/.OpenFOAM/controlDict`, HOME being the case in the sandbox) is merged over it.
    """
    folder = case / USER_SETTINGS_DIR
    remove_untrusted_tree(folder)
    folder.mkdir()
    entries: dict[str, FoamValue] = {"InfoSwitches": {"allowSystemOperations": 0}}
    (folder / "controlDict").write_text(render_dict("dictionary", USER_SETTINGS_DIR, "controlDict", entries))


def secure_case(case: Path) -> None:
    """Prepare labgate's copy of a user's case for the sandbox: refuse its code, then pin OpenFOAM's settings.

    Raises:
        TaskError: from `refuse_code`, naming the file and the construct found.
    """
    refuse_code(case)
    pin_settings(case)


def _without_comments(data: bytes) -> bytes:
    """`data` with its comments blanked, strings and `#{ #}` blocks kept as OpenFOAM's reader keeps them."""
    if b"//" not in data and b"/*" not in data:
        return data
    return _LEXEMES.sub(lambda match: b" " if match.group(0)[:1] == b"/" else match.group(0), data)


def _gunzipped(relative: str, data: bytes) -> bytes | None:
    """A compressed file's content, at most MAX_SCANNED_BYTES of it; None when it is not gzip (OpenFOAM
    cannot read it either).

    Raises:
        TaskError: it expands past MAX_SCANNED_BYTES (a small file that would fill the memory).
    """
    try:
        return gunzipped(data, MAX_SCANNED_BYTES)
    except CompressedTooLargeError:
        raise TaskError(f"refused: {relative} expands to more than {MAX_SCANNED_BYTES} bytes") from None


def read_control(case: Path) -> dict[str, Any]:
    try:
        return read_foam_dict(case / "system" / "controlDict", within=case)
    except FoamParseError as error:
        raise TaskError(f"cannot read system/controlDict: {error}") from None


def application(control: dict[str, Any], available: Path) -> str:
    """The solver named by the controlDict, if it is an OpenFOAM solver installed in `available`."""
    name = str(control.get("application", ""))
    if not _APPLICATION.match(name):
        raise TaskError(f"system/controlDict names application {name!r}, not an OpenFOAM solver (…Foam)")
    if not (available / name).is_file():
        raise TaskError(f"the installed OpenFOAM has no solver {name!r} (looked in {available})")
    return name


def stripped(control: dict[str, Any]) -> list[str]:
    """What of the user's controlDict labgate does not run, one line each (for the report)."""
    notes: list[str] = []
    functions = control.get("functions")
    if isinstance(functions, dict):
        for name, body in functions.items():
            if name.startswith("#"):
                items = body if isinstance(body, list) else [body]
                notes += [f"system/controlDict functions {item}: not followed" for item in items]
                continue
            kind = body.get("type", "?") if isinstance(body, dict) else "?"
            notes.append(f"system/controlDict functions/{name} (type {kind}): not run; labgate runs its own")
    if "libs" in control and not control_libraries(control):
        notes.append("system/controlDict libs: not loaded (only installed OpenFOAM libraries, named plainly, are)")
    for directive in control.get("#directives", []):
        notes.append(f"system/controlDict {directive}: not followed")
    return notes


def _number_entry(control: dict[str, Any], key: str, default: float) -> float:
    try:
        value = foam_number(control.get(key, default))
    except FoamParseError:
        raise TaskError(f"system/controlDict: {key} must be a plain number") from None
    if not math.isfinite(value):
        raise TaskError(f"system/controlDict: {key} must be finite")
    return value


def _time_entries(control: dict[str, Any]) -> dict[str, FoamValue]:
    entries: dict[str, FoamValue] = {}
    for key in _TIME_KEYS:
        value = control.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not _WORD.match(value):
            raise TaskError(f"system/controlDict: {key} must be a plain value, not {value!r}")
        entries[key] = Raw(value)
    return entries


def solve_control(
    control: dict[str, Any], solver: str, *, end_time: float | None, functions: dict[str, FoamValue]
) -> tuple[str, float]:
    """labgate's controlDict for re-running the case from its start: the user's time settings (its
    endTime unless `end_time` is given), one write at the end, labgate's function objects only."""
    start = _number_entry(control, "startTime", 0.0)
    end = end_time if end_time is not None else _number_entry(control, "endTime", 1.0)
    delta = _number_entry(control, "deltaT", 1.0)
    if end <= start or delta <= 0:
        raise TaskError(f"system/controlDict: endTime {end:g} must follow startTime {start:g} and deltaT be > 0")
    steps_wanted = (end - start) / delta
    if not math.isfinite(steps_wanted) or steps_wanted > MAX_TIME_STEPS:
        raise TaskError(
            f"system/controlDict: (endTime {end:g} - startTime {start:g}) / deltaT {delta:g} = {steps_wanted:g} "
            f"time steps, not a usable count (at most {MAX_TIME_STEPS:g})"
        )
    entries = _time_entries(control)
    adjustable = str(control.get("adjustTimeStep", "no")).lower() in ("yes", "on", "true")
    steps = max(1, round(steps_wanted))
    entries.update(
        {
            "application": Word(solver),
            "startFrom": Word("startTime"),
            "startTime": Raw(number(start)),
            "stopAt": Word("endTime"),
            "endTime": Raw(number(end)),
            "writeControl": Word("adjustableRunTime" if adjustable else "timeStep"),
            "writeInterval": Raw(number(end - start)) if adjustable else steps,
            **_common(control, functions),
        }
    )
    return render_dict("dictionary", "system", "controlDict", entries), end


def post_control(control: dict[str, Any], solver: str, functions: dict[str, FoamValue]) -> str:
    """labgate's controlDict for post-processing a finished case at its latest time."""
    entries = _time_entries(control)
    entries.update(
        {
            "application": Word(solver),
            "startFrom": Word("latestTime"),
            "startTime": Raw(number(_number_entry(control, "startTime", 0.0))),
            "stopAt": Word("endTime"),
            "endTime": Raw(number(_number_entry(control, "endTime", 1.0))),
            "writeControl": Word("timeStep"),
            "writeInterval": 1,
            **_common(control, functions),
        }
    )
    return render_dict("dictionary", "system", "controlDict", entries)


def control_libraries(control: dict[str, Any]) -> list[str]:
    """The library files of the user's controlDict `libs` when it is a plain list of installed OpenFOAM
    libraries (boundary conditions and function objects of optional libraries need them loaded); else
    none: anything else there is dropped whole and reported by `stripped`."""
    listed = control.get("libs")
    if not isinstance(listed, list) or not listed or not all(isinstance(name, str) for name in listed):
        return []
    files = [installed_library(name) for name in listed]
    return [name for name in files if name is not None] if all(files) else []


def _common(control: dict[str, Any], functions: dict[str, FoamValue]) -> dict[str, FoamValue]:
    try:
        precision = int(foam_number(control.get("writePrecision", 6)))
    except FoamParseError:
        precision = 6
    libraries = control_libraries(control)
    return {
        **({"libs": Raw("(" + " ".join(f'"{name}"' for name in libraries) + ")")} if libraries else {}),
        "purgeWrite": 0,
        "writeFormat": Word("ascii"),
        "writePrecision": max(6, min(precision, 17)),
        "writeCompression": Word("off"),
        "runTimeModifiable": False,
        "InfoSwitches": {"allowSystemOperations": 0},
        "functions": functions,
    }


def _block_count_tokens(tokens: list[re.Match[str]], words: list[str], at: int) -> list[re.Match[str]] | None:
    """The three cell-count tokens of the `hex` shape at `tokens[at]` (`hex (labels) [zone] (nx ny nz)`;
    `words` are the tokens' texts); None when the entry has another shape or a count that is not a plain
    number (`$n`, `#calc`)."""
    index = at + 1
    if index >= len(words) or words[index] != "(" or ")" not in words[index:]:
        return None
    index = words.index(")", index) + 1
    if index < len(words) and words[index] not in ("(", ")", "{", "}", ";", "[", "]"):
        index += 1  # the block's cell zone
    counts = tokens[index + 1 : index + 4]
    if words[index : index + 1] != ["("] or words[index + 4 : index + 5] != [")"]:
        return None
    return counts if all(re.fullmatch(r"[0-9]+", count.group()) for count in counts) else None


_PLAIN_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
"""A number as a dictionary writes it (no `nan`, `inf` or `1_0`, which Python's float would take)."""


def _numeric_macros_only(text: str, words: list[str]) -> bool:
    """Whether every `$name` of a dictionary names one of its own top-level entries holding numbers only."""
    used = {word[1:] for word in words if word.startswith("$")}
    if not used:
        return True
    try:
        entries = parse_foam_dict(text)
    except FoamParseError:
        return False

    def numbers(value: object) -> bool:
        if isinstance(value, list):
            return all(numbers(item) for item in value)
        return isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value) is not None

    return all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and numbers(entries.get(name)) for name in used)


def scale_block_counts(text: str, factor: float) -> str | None:
    """blockMeshDict text with every block's cell counts scaled by `factor`, a count of 1 only where it is a
    2-D thickness (between `empty` or `wedge` faces, `flat_directions`) kept: a flow direction meshed with
    one cell is split like any other. None also when which ones are thicknesses cannot be told.

    Only the dictionary's tokens are edited: a `hex` line in a comment is left alone (scaling it would
    change nothing blockMesh reads). None when there is nothing to scale, or when any block's counts are
    not plain numbers (macros, #calc): then the mesh is refined otherwise, since scaling some blocks and
    not others would leave their shared faces unmatched. Likewise None for a dictionary with any directive
    (`#include`, `#calc`, ...) or a macro that may stand for more than numbers: a block read through one is
    not in this text, and scaling the blocks that are would refine only part of the mesh (a disconnected
    extra block, scaled, once made up the cell count while the flow's own block kept its cells). A macro
    defined in the same dictionary as numbers only (pitzDaily's gradings) cannot add a block."""
    tokens = token_matches(text)
    words = [token.group() for token in tokens]
    if any(word.startswith("#") for word in words) or not _numeric_macros_only(text, words):
        return None
    blocks: list[list[re.Match[str]]] = []
    for at, word in enumerate(words):
        if word != "hex":
            continue
        counts = _block_count_tokens(tokens, words, at)
        if counts is None:
            return None
        blocks.append(counts)
    flat: list[tuple[bool, bool, bool]] | None = None
    if any(int(count.group()) == 1 for counts in blocks for count in counts):
        flat = flat_directions(text)
        if flat is None or len(flat) != len(blocks):
            return None
    edits: list[tuple[int, int, str]] = []
    for index, counts in enumerate(blocks):
        for axis, count in enumerate(counts):
            value = int(count.group())
            keep = value == 1 and flat is not None and flat[index][axis]
            edits.append((count.start(), count.end(), str(value if keep else max(2, round(value * factor)))))
    pieces: list[str] = []
    done = 0
    for start, end, replacement in edits:
        pieces += [text[done:start], replacement]
        done = end
    scaled = "".join(pieces) + text[done:]
    return None if scaled == text else scaled
