"""Reading research documents into citable passages.

A passage is a paragraph-sized piece of one file (a page's worth at most) with a stable id
(`file#n`), so that a plan can say exactly which text it came from.

Documents are data from elsewhere (a downloaded archive of papers, a colleague's folder), and their
passages go to the model and are quoted in the report. So they are read the way sandbox output is
(`runs.read_untrusted`): no link is followed below the folder named (`notes.md -> ~/.ssh/id_rsa`
or `-> /proc/self/environ` would put host secrets into a prompt), only regular files are read,
each within a size bound, and a PDF that the parser cannot read, or that trips its decompression
limits, is a `DocumentError` naming the file, never a traceback.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from agents.planner._formats import (
    MARKUP,
    MAX_PDF_PAGES,
    NOTEBOOK,
    SUFFIXES,
    DocumentError,
    decode,
    html,
    is_pdf,
    latex,
    notebook,
    pdf_pages,
)
from runs import UntrustedFileError, read_untrusted, read_untrusted_path, walk_untrusted

__all__ = ["MAX_PDF_PAGES", "SUFFIXES", "DocumentError", "Passage", "Reading", "load_documents", "read_documents"]

_MAX_CHARS = 1200
_MIN_CHARS = 200
MAX_DOCUMENT_BYTES = 32 << 20
"""The largest document read; a paper's text is a few hundred KB, a long PDF with figures some MB."""
MAX_TOTAL_BYTES = 256 << 20
"""All documents of one folder together."""
MAX_FILES = 2000
"""Documents in one folder."""
_NAMED = 5
"""Files named in a note about what was not read; the rest are counted."""
_KINDS = {
    ".bib": "a bibliography",
    ".csv": "a data table",
    ".tsv": "a data table",
    ".gz": "compressed: unpack it",
    ".zip": "compressed: unpack it",
    ".tar": "an archive: unpack it",
    ".docx": "a word-processor file: save it as PDF",
    ".doc": "a word-processor file: save it as PDF",
    ".odt": "a word-processor file: save it as PDF",
}
"""Kinds of file a researcher hands over that are not read, and what to do about each."""


@dataclass(frozen=True)
class Passage:
    id: str
    source: str
    location: str
    text: str


def _split_long(block: str) -> list[str]:
    """A block cut into pieces of at most _MAX_CHARS, at a sentence end where one is near, in linear time."""
    pieces: list[str] = []
    start = 0
    while len(block) - start > _MAX_CHARS:
        cut = block.rfind(". ", start, start + _MAX_CHARS)
        cut = cut + 1 if cut > start + _MIN_CHARS else start + _MAX_CHARS
        piece = block[start:cut].strip()
        if piece:
            pieces.append(piece)
        start = cut
    rest = block[start:].strip()
    if rest:
        pieces.append(rest)
    return pieces


def _paragraphs(text: str) -> list[str]:
    blocks = [block.strip() for block in re.split(r"\n\s*\n", text) if block.strip()]
    merged: list[str] = []
    for block in blocks:
        # A heading or a short line belongs with what follows it.
        previous = merged[-1] if merged else ""
        lone_heading = previous.lstrip().startswith("#") and "\n" not in previous.strip()
        if merged and (len(previous) < _MIN_CHARS or lone_heading) and len(previous) + len(block) < _MAX_CHARS:
            merged[-1] = f"{merged[-1]}\n{block}"
        else:
            merged.append(block)
    return [piece for block in merged for piece in _split_long(block)]


@dataclass
class Reading:
    """The passages of a documents folder and notes on what in it was not read, and why."""

    passages: list[Passage]
    notes: list[str] = field(default_factory=list)


def shown(name: str) -> str:
    """A file name as passage ids and messages show it: a control character (a newline in a name) escaped."""
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", name)


def _not_a_pdf(data: bytes, name: str) -> DocumentError:
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head")):
        why = "it is a web page (a download that returned a login or error page?)"
    else:
        why = "it has no PDF header (%PDF-)" if data.strip() else "it is empty"
    return DocumentError(f"cannot read {name} as PDF: {why}")


def _texts(data: bytes, name: str, suffix: str) -> list[tuple[str, str]]:
    """(location kind, text) of each page of a PDF, or the one text of any other document."""
    if is_pdf(data):
        return [(f"page {number}", page) for number, page in enumerate(pdf_pages(data, name), start=1)]
    if suffix == ".pdf":
        raise _not_a_pdf(data, name)
    text = decode(data, name)
    if suffix == ".tex":
        text = latex(text)
    elif suffix in MARKUP:
        text = html(text)
    elif suffix == NOTEBOOK:
        text = notebook(text, name)
    return [("paragraph", text)]


def _passages(data: bytes, name: str, suffix: str) -> list[Passage]:
    passages: list[Passage] = []
    for kind, text in _texts(data, name, suffix):
        for paragraph in _paragraphs(text):
            number = len(passages) + 1
            location = kind if kind != "paragraph" else f"paragraph {number}"
            passages.append(Passage(f"{name}#{number}", name, location, paragraph))
    return passages


def read_document(path: Path, root: Path) -> list[Passage]:
    """The passages of one document; a link, a special file or one too large is a DocumentError naming it."""
    inside = path != root and path.is_relative_to(root)
    name = shown(str(path.relative_to(root)) if inside else path.name)
    try:
        if inside:
            data = read_untrusted(root, path.relative_to(root), max_bytes=MAX_DOCUMENT_BYTES)
        else:
            data = read_untrusted_path(path, max_bytes=MAX_DOCUMENT_BYTES)
    except UntrustedFileError as error:
        raise DocumentError(f"refused to read {name}: {error.reason}") from None
    return _passages(data, name, path.suffix.lower())


def _hidden(relative: str) -> bool:
    """Editor locks and backups (`.#notes.md`, `.notes.md.swp`), macOS metadata (`._paper.pdf`, `__MACOSX/`),
    version control: hidden by their names, and not documents anyone hands over."""
    return any(part.startswith(".") or part == "__MACOSX" for part in relative.split("/"))


def _names(relatives: list[str]) -> str:
    named = ", ".join(shown(relative) for relative in relatives[:_NAMED])
    return named + (f" and {len(relatives) - _NAMED} more" if len(relatives) > _NAMED else "")


def _skipped_notes(hidden: list[str], others: list[str]) -> list[str]:
    """One note per kind of file not read, naming the first few."""
    notes = []
    if hidden:
        notes.append(f"not read: {len(hidden)} hidden file(s) named like documents ({_names(hidden)})")
    by_kind: dict[str, list[str]] = {}
    for relative in others:
        by_kind.setdefault(_KINDS.get(Path(relative).suffix.lower(), ""), []).append(relative)
    for kind, relatives in sorted(by_kind.items()):
        if kind:
            notes.append(f"not read: {_names(relatives)}: {kind}")
    if by_kind.get(""):
        notes.append(f"not read: {_names(by_kind[''])}: in no document format ({', '.join(SUFFIXES)})")
    return notes


def _checked(entry_kind: str, relative: str, size: int) -> None:
    if entry_kind != "file":
        what = "a symbolic link" if entry_kind == "link" else "not a regular file"
        raise DocumentError(
            f"refused {shown(relative)}: it is {what}; documents are read only as regular files "
            "inside the folder (copy it in)"
        )
    if size > MAX_DOCUMENT_BYTES:
        raise DocumentError(
            f"refused {shown(relative)}: it is {size} bytes, more than the {MAX_DOCUMENT_BYTES} read from one document"
        )


def _listing(directory: Path) -> tuple[list[Path], list[str]]:
    """The documents below `directory`, no link followed, and notes on the files left out.

    A linked or special file named like a document is refused, unless it is hidden (an editor's lock
    file is a dangling link named `.#notes.md`): hidden files are not read at all.
    """
    found: list[Path] = []
    hidden: list[str] = []
    others: list[str] = []
    locked: list[str] = []
    total = 0
    try:
        for entry in walk_untrusted(directory, max_entries=50 * MAX_FILES):
            if entry.kind == "dir":
                if not _hidden(entry.relative) and not os.access(directory / entry.relative, os.R_OK | os.X_OK):
                    locked.append(entry.relative + "/")
                continue
            if not entry.relative.lower().endswith(SUFFIXES):
                if entry.kind == "file" and not _hidden(entry.relative):
                    others.append(entry.relative)
                continue
            if _hidden(entry.relative):
                hidden.append(entry.relative)
                continue
            _checked(entry.kind, entry.relative, entry.size)
            total += entry.size
            found.append(directory / entry.relative)
    except UntrustedFileError as error:
        raise DocumentError(f"cannot list the documents folder {directory}: {error.reason}") from None
    if len(found) > MAX_FILES:
        raise DocumentError(f"{directory} holds {len(found)} documents, more than {MAX_FILES}")
    if total > MAX_TOTAL_BYTES:
        raise DocumentError(f"the documents in {directory} hold {total} bytes, more than {MAX_TOTAL_BYTES}")
    notes = _skipped_notes(hidden, others)
    if locked:
        notes.append(f"not read: {_names(locked)}: folder(s) this user may not open (permission denied)")
    return sorted(found), notes


def _empty_note(path: Path, root: Path) -> str:
    name = shown(str(path.relative_to(root)) if path != root else path.name)
    if path.suffix.lower() == ".pdf":
        return f"not read: {name} has no text layer (a scanned or form-only PDF?); OCR it (e.g. ocrmypdf) to use it"
    return f"not read: {name} holds no text"


def read_documents(directory: Path) -> Reading:
    """Every passage of every readable document under `directory` (or of the one file named), in a stable
    order, with notes on what was left out and why."""
    if not directory.exists():
        raise DocumentError(f"documents folder {directory} does not exist")
    directory = directory.resolve()  # the folder named may itself be a link; nothing below it is followed
    files, notes = ([directory], []) if directory.is_file() else _listing(directory)
    if not files:
        raise DocumentError("; ".join([f"no documents ({', '.join(SUFFIXES)}) in {directory}", *notes]))
    root = directory if directory.is_dir() else directory.parent
    passages: list[Passage] = []
    for path in files:
        read = read_document(path, root)
        passages += read
        if not read:
            notes.append(_empty_note(path, root))
    if not passages:
        raise DocumentError("; ".join([f"the documents in {directory} contain no text", *notes]))
    return Reading(passages, notes)


def load_documents(directory: Path) -> list[Passage]:
    """Every passage of every readable document under `directory`, in a stable order."""
    return read_documents(directory).passages
