"""Reading OpenFOAM ASCII field files and time directories without OpenFOAM.

This is the independent reader: gates use it to recompute metrics from the raw fields that
the solver wrote, rather than trusting the solver's own post-processing output.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from runs import (
    LabgateError,
    UntrustedFileError,
    UntrustedFileMissingError,
    read_untrusted_path_text,
    untrusted_listing,
)

FloatArray = NDArray[np.float64]

_INTERNAL = re.compile(r"internalField\s+(uniform|nonuniform)\s*", re.MULTILINE)
_LIST_HEAD = re.compile(r"List<(scalar|vector|symmTensor|tensor)>\s*(\d+)\s*\(", re.MULTILINE)
_PARENTHESES = re.compile(r"[()]")
_COMPONENTS = {"scalar": 1, "vector": 3, "symmTensor": 6, "tensor": 9}


class FieldFormatError(LabgateError, ValueError):
    """A field file is missing, binary, truncated or not an OpenFOAM field."""


class RefusedOutputError(FieldFormatError):
    """A file the case left was refused by the reader: a link, a special file, or too large."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path} was refused: {reason}")
        self.path = path
        self.reason = reason


MAX_OUTPUT_BYTES = 64 << 20
"""The largest solver output (field, sample table, dictionary) the host reads from a case."""


def read_output_text(path: Path, *, within: Path | None = None, max_bytes: int = MAX_OUTPUT_BYTES) -> str:
    """The text of a file the solver (or a user's case) wrote, read without trusting it.

    No link below `within` is followed (without it only the last component is checked: pass the
    case directory), only regular files are read, and only up to `max_bytes`.

    Raises:
        FieldFormatError: the file does not exist.
        RefusedOutputError: the file is a link, a special file, too large or unreadable; the
            message names the file and why, for a verdict.
    """
    try:
        return read_untrusted_path_text(path, within=within, max_bytes=max_bytes)
    except UntrustedFileMissingError:
        raise FieldFormatError(f"{path} does not exist") from None
    except UntrustedFileError as error:
        raise RefusedOutputError(path, error.reason) from None


def _closing_paren(text: str, start: int) -> int:
    """The index of the parenthesis closing the one at `start`; the scan visits parentheses only (a
    field of n vectors has 2n of them among some 40n characters)."""
    depth = 0
    for match in _PARENTHESES.finditer(text, start):
        if match.group() == "(":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return match.start()
    raise FieldFormatError("unbalanced parentheses: the file is truncated")


def read_internal_field(path: Path, n_cells: int | None = None, *, within: Path | None = None) -> FloatArray:
    """The internal field as an (n,) or (n, k) array; a uniform field needs `n_cells` to expand.

    `within` is the directory below which no link is followed (see `read_output_text`).
    """
    return parse_internal_field(read_output_text(path, within=within), str(path), n_cells)


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
    return numbered_directories(case)


def numbered_directories(folder: Path, relative: str = "") -> list[tuple[float, Path]]:
    """Sub-directories of `folder/relative` named by a number, sorted; links are never listed or entered.

    Raises:
        RefusedOutputError: an entry named like a time is a link or a special file: an honest solver
            never leaves one, and skipping it would quietly judge an older time instead.
    """
    times: list[tuple[float, Path]] = []
    for name, kind in untrusted_listing(folder, relative).items():
        try:
            value = float(name)
        except ValueError:
            continue
        if not math.isfinite(value) or kind == "file":
            continue
        if kind != "dir":
            what = "a symbolic link; links are never followed" if kind == "link" else "not a directory"
            raise RefusedOutputError(folder / relative / name, f"is {what}")
        times.append((value, folder / relative / name))
    return sorted(times)


def latest_time(case: Path) -> tuple[float, Path] | None:
    times = [entry for entry in time_directories(case) if entry[0] > 0]
    return times[-1] if times else None


def read_xy(path: Path, *, within: Path | None = None) -> FloatArray:
    """A raw-format sample file (`*.xy`): whitespace-separated columns, '#' comments."""
    return parse_xy(read_output_text(path, within=within), str(path))


def parse_xy(text: str, path: str) -> FloatArray:
    """The columns of a raw-format sample file's text; `path` only names the file in errors."""
    rows = [line.split() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not rows:
        raise FieldFormatError(f"sample file {path} is empty")
    try:
        return np.array(rows, dtype=np.float64)
    except ValueError as error:
        raise FieldFormatError(f"sample file {path} has non-numeric entries") from error
