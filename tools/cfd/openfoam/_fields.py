"""Reading OpenFOAM ASCII field files and time directories without OpenFOAM.

This is the independent reader: gates use it to recompute metrics from the raw fields that
the solver wrote, rather than trusting the solver's own post-processing output.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import zlib
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from runs import (
    LabgateError,
    UntrustedFileError,
    UntrustedFileMissingError,
    read_untrusted_path,
    read_untrusted_path_head,
    read_untrusted_path_text,
    untrusted_kind,
    untrusted_listing,
)
from tools.cfd.openfoam._foamread import CompressedTooLargeError, gunzipped

FloatArray = NDArray[np.float64]

_INTERNAL = re.compile(r"internalField\s+(uniform|nonuniform)\s*", re.MULTILINE)
_LIST_HEAD = re.compile(r"List<(scalar|vector|symmTensor|tensor)>\s*(\d{1,12})\s*\(", re.MULTILINE)
"""A list's head; a count of more digits than any mesh has is no head (5,000 digits reached `int` past its limit)."""
_PARENTHESES = re.compile(r"[()]")
_COMPONENTS = {"scalar": 1, "vector": 3, "symmTensor": 6, "tensor": 9}


class FieldFormatError(LabgateError, ValueError):
    """A field file is missing, binary, truncated or not an OpenFOAM field."""


class FieldSizeError(FieldFormatError):
    """A field holds another number of values than the mesh (its cells, or a patch's faces) calls for."""


class RefusedOutputError(FieldFormatError):
    """A file the case left was refused by the reader: a link, a special file, or too large."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path} was refused: {reason}")
        self.path = path
        self.reason = reason


MAX_OUTPUT_BYTES = 64 << 20
"""The largest solver output (field, sample table, dictionary) the host reads from a case."""
MAX_UNIFORM_VALUES = MAX_OUTPUT_BYTES // 2
"""The most values (cells times components) a uniform field is expanded to: no nonuniform field of more values
fits in `MAX_OUTPUT_BYTES` of text (each value takes at least a digit and a separator)."""


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


def read_internal_field(
    path: Path, n_cells: int | None = None, *, within: Path | None = None, expected: int | None = None
) -> FloatArray:
    """The internal field as an (n,) or (n, k) array; a uniform field needs `n_cells` to expand.

    `within` is the directory below which no link is followed (see `read_output_text`); `expected`, the
    number of values the mesh calls for, when the caller knows it (see `parse_internal_field`).
    """
    return parse_internal_field(read_field_text(path, within=within), str(path), n_cells, expected=expected)


def read_field_text(path: Path, *, within: Path | None = None) -> str:
    """The text of a field file (see `read_output_text`); as OpenFOAM does, `path.gz` is read when `path`
    is missing. Both at once are refused: the two can disagree, and which one a reader takes (OpenFOAM,
    a gate) would then follow from the order it looks in, not from the run.

    Raises:
        FieldFormatError: neither exists, or the compressed one is not gzip.
        RefusedOutputError: both exist, or one is refused (a link, a special file, too large).
    """
    compressed = path.with_name(path.name + ".gz")
    if not os.path.lexists(compressed):
        return read_output_text(path, within=within)
    if os.path.lexists(path):
        raise RefusedOutputError(path, f"{compressed.name} lies beside it: which of the two is the field is ambiguous")
    try:
        data = read_untrusted_path(compressed, within=within, max_bytes=MAX_OUTPUT_BYTES)
    except UntrustedFileError as error:
        raise RefusedOutputError(compressed, error.reason) from None
    try:
        text = gunzipped(data, MAX_OUTPUT_BYTES)
    except CompressedTooLargeError:
        raise RefusedOutputError(compressed, f"expands to more than {MAX_OUTPUT_BYTES} bytes") from None
    if text is None:
        raise FieldFormatError(f"{compressed} is not gzip-compressed")
    return text.decode("utf-8", errors="replace")


def parse_internal_field(
    text: str, path: str, n_cells: int | None = None, *, expected: int | None = None
) -> FloatArray:
    """The internalField of a field file's text; `path` only names the file in errors.

    With `expected` (the mesh's cell count, or a patch's face count) a uniform field expands to that
    many values and a list of any other length is an error: a list's own count only says the file is
    whole, not that it belongs to this mesh, and a short list would otherwise be judged as the field.

    The text is read as OpenFOAM reads it: an entry inside a comment or a string is no entry, and a file
    with two internalField entries (OpenFOAM takes the last) is refused rather than read either way.
    """
    values = _internal_values(field_text(text), path, expected if expected is not None else n_cells)
    if expected is not None and len(values) != expected:
        raise FieldSizeError(f"{path} holds {len(values)} values, expected {expected}: it does not fit the mesh")
    return values


_COMMENT_OR_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?|//[^\n]*|/\*.*?(?:\*/|\Z)', re.DOTALL)
"""A string, or a comment; one left open runs to the end of the file, as OpenFOAM reads it."""


def _blank(match: re.Match[str]) -> str:
    return '""' if match.group().startswith('"') else " "


def field_text(text: str) -> str:
    """A field file's text with every comment blanked and every string emptied: what is left are the
    entries OpenFOAM reads, so `// internalField uniform 1;` or a header note quoting one is never taken
    for the field. The values of a list hold neither, so the scan passes over them at the regex's speed."""
    return _COMMENT_OR_STRING.sub(_blank, text)


def without_comments(text: str) -> str:
    """A dictionary's text with its comments blanked and its strings kept (an `#include "file"` names one)."""
    return _COMMENT_OR_STRING.sub(lambda match: match.group() if match.group().startswith('"') else " ", text)


_KEYWORD_INTERNAL = re.compile(r"\binternalField\b")


def _numbers(text: str, path: str) -> FloatArray:
    try:
        return np.array(text.split(), dtype=np.float64)
    except ValueError as error:  # '$U0', '#calc', 'nan(ind)', bytes of a binary list behind an ascii header
        shown = str(error).split(":", 1)[-1].strip()[:60]
        raise FieldFormatError(f"{path} holds a value that is not a number ({shown})") from None


def _internal_values(text: str, path: str, n_cells: int | None) -> FloatArray:
    if re.search(r"\bformat\s+binary\b", text):
        raise FieldFormatError(f"{path} is written in binary; labgate writes and reads ASCII")
    entries = _KEYWORD_INTERNAL.findall(text)
    if len(entries) > 1:
        raise FieldFormatError(f"{path} has {len(entries)} internalField entries: which one is the field is ambiguous")
    match = _INTERNAL.search(text)
    if match is None:
        raise FieldFormatError(f"{path} has no internalField entry")
    rest = text[match.end() :]
    if match.group(1) == "uniform":
        end = rest.find(";")
        if end < 0:
            raise FieldFormatError(f"{path}: the uniform internalField has no closing ';'")
        values = _numbers(rest[:end].strip().strip("()"), path)
        if values.size not in _COMPONENTS.values():
            raise FieldFormatError(f"{path}: a uniform value of {values.size} components is no field value")
        if n_cells is None:
            raise FieldFormatError(f"{path} is uniform; the number of cells is needed to expand it")
        if n_cells * values.size > MAX_UNIFORM_VALUES:
            # The count comes from the mesh's own header note, which the run wrote: a few bytes could
            # otherwise ask the host for gigabytes (a vector's three components each count: 33.5 million
            # cells of a uniform U took 2.2 GB).
            raise FieldFormatError(
                f"{path} is uniform on a mesh said to hold {n_cells} cells, more values than a field labgate reads "
                f"can hold ({MAX_UNIFORM_VALUES})"
            )
        return np.tile(values, (n_cells, 1)) if values.size > 1 else np.full(n_cells, values[0])
    head = _LIST_HEAD.match(rest)
    if head is None:
        raise FieldFormatError(f"{path}: cannot read the nonuniform list header")
    kind, count = head.group(1), int(head.group(2))
    open_at = head.end() - 1
    body = rest[open_at + 1 : _closing_paren(rest, open_at)]
    numbers = _numbers(body.replace("(", " ").replace(")", " "), path)
    width = _COMPONENTS[kind]
    if numbers.size != count * width:
        raise FieldFormatError(f"{path}: expected {count} {kind} values, found {numbers.size / width:g}")
    return numbers if width == 1 else numbers.reshape(count, width)


def time_directories(case: Path) -> list[tuple[float, Path]]:
    """Numeric time directories of a case, sorted by time (the initial `0` included)."""
    return numbered_directories(case)


_TIME_NAME = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
"""The names OpenFOAM gives time directories: ASCII decimal numbers. Python's float() also reads
`1_000`, ` 200`, `inf`, `nan` and other scripts' digits, none of which OpenFOAM writes or reads as a time."""


def time_name_value(name: str) -> float | None:
    """The time a directory name stands for; None when OpenFOAM would not name a time directory so
    (not a plain decimal number, or one too large to be finite)."""
    if _TIME_NAME.fullmatch(name) is None:
        return None
    value = float(name)
    return value if math.isfinite(value) else None


def numbered_directories(folder: Path, relative: str = "") -> list[tuple[float, Path]]:
    """Sub-directories of `folder/relative` named by a number, sorted; links are never listed or entered.

    Raises:
        RefusedOutputError: an entry named like a time is a link or a special file: an honest solver
            never leaves one, and skipping it would quietly judge an older time instead; or two name
            the same time (`100`, `1e2`).
    """
    times: list[tuple[float, Path]] = []
    for name, kind in untrusted_listing(folder, relative).items():
        value = time_name_value(name)
        if value is None or kind == "file":
            continue
        if kind != "dir":
            what = "a symbolic link; links are never followed" if kind == "link" else "not a directory"
            raise RefusedOutputError(folder / relative / name, f"is {what}")
        times.append((value, folder / relative / name))
    times.sort()
    for (value, first), (other, second) in itertools.pairwise(times):
        if value == other:  # `100` and `1e2`: which one is "the" time is the order of a sort, not the run
            raise RefusedOutputError(second, f"names the same time as {first.name!r}")
    return times


_CELLS_NOTE = re.compile(r"\bnCells:\s*([0-9]+)")
_HEADER_BYTES = 4096
"""The note OpenFOAM writes in the header of polyMesh/owner lies within the first lines."""


def mesh_folder(case: Path, folder: Path | None = None) -> Path:
    """The polyMesh directory the fields of `folder` live on, found as OpenFOAM finds it: the latest
    time up to the folder's own whose polyMesh holds a face list (compressed or not; OpenFOAM looks for
    `faces`, so a folder holding only an owner list is not a mesh it reads), else `constant`.

    Every reader of a time's mesh (cell counts, face lists, patches) goes through here: one that read
    `constant/polyMesh` beside fields solved on a mesh kept in a time folder paired them with the wrong cells.
    """
    limit = time_name_value(folder.name) if folder is not None and folder.parent == case else None
    if limit is not None:
        for value, earlier in reversed(time_directories(case)):
            if value <= limit and any(
                untrusted_kind(case, f"{earlier.name}/polyMesh/{name}") is not None for name in ("faces", "faces.gz")
            ):
                return earlier / "polyMesh"
    return case / "constant" / "polyMesh"


def mesh_cell_count(case: Path, folder: Path | None = None) -> int | None:
    """The number of cells of the mesh of `case` (at the time directory `folder`, when given), from the
    note OpenFOAM writes in the header of polyMesh/owner (or of owner.gz, a mesh written compressed); None
    when there is no such note to read (no owner file, or one the reader refuses), so the caller checks
    nothing."""
    instance = mesh_folder(case, folder)
    try:  # the note is in the header: the list itself (tens of MB on a large mesh) is never read
        header = read_untrusted_path_head(instance / "owner", within=case, max_bytes=_HEADER_BYTES)
    except UntrustedFileMissingError:
        header = _compressed_head(case, instance / "owner.gz")
    except UntrustedFileError:
        return None
    found = _CELLS_NOTE.search(header.decode("utf-8", errors="replace"))
    return int(found.group(1)) if found else None


def _compressed_head(case: Path, path: Path) -> bytes:
    """The first `_HEADER_BYTES` of a gzip file's content, from its first 64 KiB; b'' when unreadable."""
    try:
        data = read_untrusted_path_head(path, within=case, max_bytes=16 * _HEADER_BYTES)
    except UntrustedFileError:
        return b""
    try:
        return zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(data, _HEADER_BYTES)
    except zlib.error:
        return b""


def read_cell_centres(case: Path, folder: Path) -> FloatArray:
    """The cell centres `C` of a time directory, which must hold one per cell of the mesh (when the mesh
    notes its cell count): the fields read beside them are then checked against their number."""
    return read_internal_field(folder / "C", within=case, expected=mesh_cell_count(case, folder))


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
