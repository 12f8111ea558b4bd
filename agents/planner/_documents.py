"""Reading research documents into citable passages.

A passage is a paragraph-sized piece of one file (a page's worth at most) with a stable id
(`file#n`), so that a plan can say exactly which text it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from runs import LabgateError

SUFFIXES = (".md", ".markdown", ".txt", ".rst", ".pdf")
_MAX_CHARS = 1200
_MIN_CHARS = 200


class DocumentError(LabgateError, ValueError):
    """The documents cannot be read; the message names the file."""


@dataclass(frozen=True)
class Passage:
    id: str
    source: str
    location: str
    text: str


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
    pieces: list[str] = []
    for block in merged:
        rest = block
        while len(rest) > _MAX_CHARS:
            cut = rest.rfind(". ", 0, _MAX_CHARS)
            cut = cut + 1 if cut > _MIN_CHARS else _MAX_CHARS
            pieces.append(rest[:cut].strip())
            rest = rest[cut:].strip()
        if rest:
            pieces.append(rest)
    return pieces


def _pdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        return [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, OSError, ValueError) as error:
        raise DocumentError(f"cannot read {path.name} as PDF: {error}") from None


def read_document(path: Path, root: Path) -> list[Passage]:
    name = str(path.relative_to(root)) if path.is_relative_to(root) else path.name
    passages: list[Passage] = []
    if path.suffix.lower() == ".pdf":
        for page_number, page in enumerate(_pdf_pages(path), start=1):
            for paragraph in _paragraphs(page):
                passages.append(Passage(f"{name}#{len(passages) + 1}", name, f"page {page_number}", paragraph))
        return passages
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DocumentError(f"{name} is not UTF-8 text") from None
    except OSError as error:
        raise DocumentError(f"cannot read {name}: {error.strerror or error}") from None
    for index, paragraph in enumerate(_paragraphs(text), start=1):
        passages.append(Passage(f"{name}#{index}", name, f"paragraph {index}", paragraph))
    return passages


def load_documents(directory: Path) -> list[Passage]:
    """Every passage of every readable document under `directory`, in a stable order."""
    if not directory.exists():
        raise DocumentError(f"documents folder {directory} does not exist")
    files = (
        [directory]
        if directory.is_file()
        else sorted(path for path in directory.rglob("*") if path.is_file() and path.suffix.lower() in SUFFIXES)
    )
    if not files:
        raise DocumentError(f"no documents ({', '.join(SUFFIXES)}) in {directory}")
    root = directory if directory.is_dir() else directory.parent
    passages: list[Passage] = []
    for path in files:
        passages += read_document(path, root)
    if not passages:
        raise DocumentError(f"the documents in {directory} contain no text")
    return passages
