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

import io
import re
from dataclasses import dataclass
from pathlib import Path

from runs import LabgateError, UntrustedFileError, read_untrusted, read_untrusted_path, walk_untrusted

SUFFIXES = (".md", ".markdown", ".txt", ".rst", ".pdf")
_MAX_CHARS = 1200
_MIN_CHARS = 200
MAX_DOCUMENT_BYTES = 32 << 20
"""The largest document read; a paper's text is a few hundred KB, a long PDF with figures some MB."""
MAX_TOTAL_BYTES = 256 << 20
"""All documents of one folder together."""
MAX_PDF_PAGES = 1000
"""Pages read from one PDF; the rest of a longer one is left out."""
MAX_FILES = 2000
"""Documents in one folder."""


class DocumentError(LabgateError, ValueError):
    """The documents cannot be read; the message names the file."""


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


def _pdf_pages(data: bytes, name: str) -> list[str]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = []
        for index, page in enumerate(reader.pages):
            if index >= MAX_PDF_PAGES:
                break
            pages.append(page.extract_text() or "")
        return pages
    except RecursionError:
        raise DocumentError(f"cannot read {name} as PDF: its objects are nested too deeply") from None
    except MemoryError:
        raise DocumentError(f"cannot read {name} as PDF: it needs more memory than is available") from None
    except Exception as error:  # noqa: BLE001 - a malformed PDF trips every kind of parser error; each is named
        raise DocumentError(f"cannot read {name} as PDF: {type(error).__name__}: {str(error)[:200]}") from None


def _text(data: bytes, name: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DocumentError(f"{name} is not UTF-8 text") from None
    return text.replace("\x00", "")


def _passages(data: bytes, name: str, is_pdf: bool) -> list[Passage]:
    passages: list[Passage] = []
    if is_pdf:
        for page_number, page in enumerate(_pdf_pages(data, name), start=1):
            for paragraph in _paragraphs(page.replace("\x00", "")):
                passages.append(Passage(f"{name}#{len(passages) + 1}", name, f"page {page_number}", paragraph))
        return passages
    for index, paragraph in enumerate(_paragraphs(_text(data, name)), start=1):
        passages.append(Passage(f"{name}#{index}", name, f"paragraph {index}", paragraph))
    return passages


def read_document(path: Path, root: Path) -> list[Passage]:
    """The passages of one document; a link, a special file or one too large is a DocumentError naming it."""
    inside = path != root and path.is_relative_to(root)
    name = str(path.relative_to(root)) if inside else path.name
    try:
        if inside:
            data = read_untrusted(root, path.relative_to(root), max_bytes=MAX_DOCUMENT_BYTES)
        else:
            data = read_untrusted_path(path, max_bytes=MAX_DOCUMENT_BYTES)
    except UntrustedFileError as error:
        raise DocumentError(f"refused to read {name}: {error.reason}") from None
    return _passages(data, name, path.suffix.lower() == ".pdf")


def _listing(directory: Path) -> list[Path]:
    """The documents below `directory`, no link followed; a linked or special file named like a document is refused."""
    found: list[Path] = []
    total = 0
    try:
        for entry in walk_untrusted(directory, max_entries=50 * MAX_FILES):
            if entry.kind == "dir" or not entry.relative.lower().endswith(SUFFIXES):
                continue
            if entry.kind != "file":
                what = "a symbolic link" if entry.kind == "link" else "not a regular file"
                raise DocumentError(
                    f"refused {entry.relative}: it is {what}; documents are read only as regular files "
                    "inside the folder (copy it in)"
                )
            if entry.size > MAX_DOCUMENT_BYTES:
                raise DocumentError(
                    f"refused {entry.relative}: it is {entry.size} bytes, more than the {MAX_DOCUMENT_BYTES} "
                    "read from one document"
                )
            total += entry.size
            found.append(directory / entry.relative)
    except UntrustedFileError as error:
        raise DocumentError(f"cannot list the documents folder {directory}: {error.reason}") from None
    if len(found) > MAX_FILES:
        raise DocumentError(f"{directory} holds {len(found)} documents, more than {MAX_FILES}")
    if total > MAX_TOTAL_BYTES:
        raise DocumentError(f"the documents in {directory} hold {total} bytes, more than {MAX_TOTAL_BYTES}")
    return sorted(found)


def load_documents(directory: Path) -> list[Passage]:
    """Every passage of every readable document under `directory`, in a stable order."""
    if not directory.exists():
        raise DocumentError(f"documents folder {directory} does not exist")
    directory = directory.resolve()  # the folder named may itself be a link; nothing below it is followed
    files = [directory] if directory.is_file() else _listing(directory)
    if not files:
        raise DocumentError(f"no documents ({', '.join(SUFFIXES)}) in {directory}")
    root = directory if directory.is_dir() else directory.parent
    passages: list[Passage] = []
    for path in files:
        passages += read_document(path, root)
    if not passages:
        raise DocumentError(f"the documents in {directory} contain no text")
    return passages
