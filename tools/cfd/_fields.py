"""Reading OpenFOAM ASCII field files and time directories without OpenFOAM.

This is the independent reader: gates use it to recompute metrics from the raw fields that
the solver wrote, rather than trusting the solver's own post-processing output.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

_INTERNAL = re.compile(r"internalField\s+(uniform|nonuniform)\s*", re.MULTILINE)
_LIST_HEAD = re.compile(r"List<(scalar|vector|symmTensor|tensor)>\s*(\d+)\s*\(", re.MULTILINE)
_COMPONENTS = {"scalar": 1, "vector": 3, "symmTensor": 6, "tensor": 9}


class FieldFormatError(ValueError):
    """A field file is missing, binary, truncated or not an OpenFOAM field."""


def _closing_paren(text: str, start: int) -> int:
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    raise FieldFormatError("unbalanced parentheses: the file is truncated")


def read_internal_field(path: Path, n_cells: int | None = None) -> FloatArray:
    """The internal field as an (n,) or (n, k) array; a uniform field needs `n_cells` to expand."""
    if not path.is_file():
        raise FieldFormatError(f"field file {path} does not exist")
    return parse_internal_field(path.read_text(errors="replace"), str(path), n_cells)


def parse_internal_field(text: str, path: str, n_cells: int | None = None) -> FloatArray:
    """The internalField of a field file's text; `path` only names the file in errors."""
    if "format      binary" in text or re.search(r"format\s+binary", text):
        raise FieldFormatError(f"{path} is written in binary; labgate writes and reads ASCII")
    match = _INTERNAL.search(text)
    if match is None:
        raise FieldFormatError(f"{path} has no internalField entry")
    rest = text[match.end() :]
    if match.group(1) == "uniform":
        value_text = rest[: rest.index(";")].strip()
        values = np.array(value_text.strip("()").split(), dtype=np.float64)
        if n_cells is None:
            raise FieldFormatError(f"{path} is uniform; the number of cells is needed to expand it")
        return np.tile(values, (n_cells, 1)) if values.size > 1 else np.full(n_cells, values[0])
    head = _LIST_HEAD.match(rest)
    if head is None:
        raise FieldFormatError(f"{path}: cannot read the nonuniform list header")
    kind, count = head.group(1), int(head.group(2))
    open_at = head.end() - 1
    body = rest[open_at + 1 : _closing_paren(rest, open_at)]
    numbers = np.array(body.replace("(", " ").replace(")", " ").split(), dtype=np.float64)
    width = _COMPONENTS[kind]
    if numbers.size != count * width:
        raise FieldFormatError(f"{path}: expected {count} {kind} values, found {numbers.size / width:g}")
    return numbers if width == 1 else numbers.reshape(count, width)


def time_directories(case: Path) -> list[tuple[float, Path]]:
    """Numeric time directories of a case, sorted by time (the initial `0` included)."""
    times: list[tuple[float, Path]] = []
    if not case.is_dir():
        return times
    for child in case.iterdir():
        if not child.is_dir():
            continue
        try:
            times.append((float(child.name), child))
        except ValueError:
            continue
    return sorted(times)


def latest_time(case: Path) -> tuple[float, Path] | None:
    times = [entry for entry in time_directories(case) if entry[0] > 0]
    return times[-1] if times else None


def read_xy(path: Path) -> FloatArray:
    """A raw-format sample file (`*.xy`): whitespace-separated columns, '#' comments."""
    if not path.is_file():
        raise FieldFormatError(f"sample file {path} does not exist")
    rows = [line.split() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    if not rows:
        raise FieldFormatError(f"sample file {path} is empty")
    try:
        return np.array(rows, dtype=np.float64)
    except ValueError as error:
        raise FieldFormatError(f"sample file {path} has non-numeric entries") from error
