"""Writing OpenFOAM dictionaries from typed Python values.

Case files are produced by rendering validated values, never by pasting user text into a
template: a word that is not a plain OpenFOAM identifier is refused, so no directive
(`#codeStream`, `#include`, `$`-expansion) can ever be smuggled into a case.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runs import LabgateError

_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:<>,()*\-]*$")
_BANNER = """/*--------------------------------*- C++ -*----------------------------------*\\
  Written by labgate from typed parameters; edits by hand are not read back.
\\*---------------------------------------------------------------------------*/
"""


class FoamValueError(LabgateError, ValueError):
    """A value cannot be written safely into an OpenFOAM dictionary."""


@dataclass(frozen=True)
class Word:
    """A bare OpenFOAM word (keyword-like token), checked when rendered."""

    text: str


@dataclass(frozen=True)
class Raw:
    """Text produced by labgate itself (never from user input), written as-is."""

    text: str


@dataclass(frozen=True)
class Quoted:
    """A quoted string, e.g. a library name."""

    text: str


@dataclass(frozen=True)
class NamedList:
    """`name ( a { ... } b { ... } );` as in blockMesh boundaries and sampling sets."""

    items: Mapping[str, Mapping[str, FoamValue]]


@dataclass(frozen=True)
class Dimensioned:
    """`name [dims] value` as in transportProperties."""

    dims: tuple[int, int, int, int, int, int, int]
    value: float


# Values are checked when rendered (see _scalar); the static type stays open so that nested
# dictionary literals type-check without casts.
FoamValue = Any


def word(text: str) -> str:
    if not _WORD.match(text) or "#" in text or "$" in text:
        raise FoamValueError(f"{text!r} is not a plain OpenFOAM word")
    return text


def number(value: float) -> str:
    if isinstance(value, bool):
        raise FoamValueError("a boolean is not a number")
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise FoamValueError(f"{value!r} is not a finite number")
    return repr(float(value))


def _scalar(value: FoamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, Word):
        return word(value.text)
    if isinstance(value, str):
        return word(value)
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Quoted):
        if '"' in value.text or "\\" in value.text or "\n" in value.text:
            raise FoamValueError(f"{value.text!r} cannot be quoted safely")
        return f'"{value.text}"'
    if isinstance(value, Dimensioned):
        dims = " ".join(str(d) for d in value.dims)
        return f"[{dims}] {number(value.value)}"
    if isinstance(value, Sequence):
        return "(" + " ".join(_scalar(item) for item in value) + ")"
    raise FoamValueError(f"cannot write {type(value).__name__} inline")


def _entries(entries: Mapping[str, FoamValue], indent: int) -> list[str]:
    pad = "    " * indent
    lines: list[str] = []
    for key, value in entries.items():
        name = word(key) if not (key.startswith('"') and key.endswith('"')) else key
        if isinstance(value, Mapping):
            lines += [f"{pad}{name}", f"{pad}{{", *_entries(value, indent + 1), f"{pad}}}"]
        elif isinstance(value, NamedList):
            lines += [f"{pad}{name}", f"{pad}("]
            for item_name, item in value.items.items():
                lines += [
                    f"{pad}    {word(item_name)}",
                    f"{pad}    {{",
                    *_entries(item, indent + 2),
                    f"{pad}    }}",
                ]
            lines.append(f"{pad});")
        else:
            lines.append(f"{pad}{name:<16} {_scalar(value)};")
    return lines


def render_dict(foam_class: str, location: str, obj: str, entries: Mapping[str, FoamValue]) -> str:
    """A whole dictionary file: banner, FoamFile header and the entries."""
    header = {
        "version": 2.0,
        "format": Word("ascii"),
        "class": Word(foam_class),
        "location": Quoted(location),
        "object": Word(obj),
    }
    body = [_BANNER, "FoamFile", "{", *_entries(header, 1), "}", "", *_entries(entries, 0), ""]
    return "\n".join(body)
