"""The text of a document in each format researchers keep: PDF, prose in any common encoding, LaTeX,
HTML and Jupyter notebooks.

A document's bytes decide as much as its name: a PDF saved without its extension is still a PDF, and
a note saved by an older editor is Latin-1 or Windows-1252, or UTF-16 with a byte-order mark, rather
than UTF-8. Refusing those stopped a whole folder over one file; reading a PDF as text quoted its
object syntax as a passage. What cannot be read (a password, a compressed file, binary data) is a
`DocumentError` naming the file and saying what to do, never a traceback.
"""

from __future__ import annotations

import codecs
import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from typing import Any

from runs import LabgateError

MAX_PDF_PAGES = 1000
"""Pages read from one PDF; the rest of a longer one is left out."""
_MAX_LAYOUT_WIDTH = 1000
"""Wider text lines than any page's two columns make: no gutter is looked for in them."""
_MIN_COLUMN_LINES = 3
_MIN_COLUMN_CHARS = 12
"""A page is read as two columns when at least this many lines hold this much text on each side of a gutter."""

PROSE = (".md", ".markdown", ".txt", ".rst", ".tex")
MARKUP = (".html", ".htm")
NOTEBOOK = ".ipynb"
PDF = ".pdf"
SUFFIXES = (*PROSE, *MARKUP, NOTEBOOK, PDF)
"""What a documents folder is read for; a file given by name is read whatever its suffix."""

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_COMPRESSED = {b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"7z\xbc\xaf": "7z"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class DocumentError(LabgateError, ValueError):
    """The documents cannot be read; the message names the file."""


def is_pdf(data: bytes) -> bool:
    """PDF readers accept the header anywhere in the first KiB, so a PDF is known by it, not by its name."""
    return b"%PDF-" in data[:1024]


def decode(data: bytes, name: str) -> str:
    """Text in the encoding its byte-order mark names, else UTF-8, else Windows-1252 (a superset of Latin-1
    in all but control characters, which prose does not use)."""
    for kind, label in _COMPRESSED.items():
        if data.startswith(kind):
            raise DocumentError(f"{name} is a {label}-compressed file: unpack it into the folder to read it")
    text = _decoded(data, name)
    if len(_CONTROL.findall(text[:65536])) > len(text[:65536]) // 20:
        raise DocumentError(f"{name} is not text: it is binary data under a document's name")
    return text.replace("\x00", "")


def _decoded(data: bytes, name: str) -> str:
    for bom, label in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(label)
            except UnicodeDecodeError:
                raise DocumentError(f"{name} is not {label.upper()} text, though it starts as such") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def latex(text: str) -> str:
    """LaTeX source without its comments: a commented-out line ("% Re = 400, superseded") is not stated."""
    return re.sub(r"(?<!\\)%.*", "", text)


class _HtmlText(HTMLParser):
    """The visible text of a page: no script, style or template, a paragraph break at each block."""

    _HIDDEN = frozenset({"script", "style", "template", "noscript", "svg", "head"})
    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "table"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._open: list[str] = []  # the hidden elements open, innermost last

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body" or tag in self._BLOCKS:
            # The body (or any block of it) ends the head, whether `</head>` was written or not (HTML lets it be
            # left out): a page without it was read as holding no text.
            self._open = [name for name in self._open if name != "head"]
        if tag in self._HIDDEN:
            self._open.append(tag)
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            if tag in self._open:
                del self._open[len(self._open) - 1 - self._open[::-1].index(tag)]
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._open:
            self.parts.append(data)


def html(text: str) -> str:
    parser = _HtmlText()
    parser.feed(_unclosed_brackets_escaped(text))
    parser.close()
    return re.sub(r"[ \t]*\n[ \t\n]*\n[ \t]*", "\n\n", "".join(parser.parts))


def _unclosed_brackets_escaped(text: str) -> str:
    """`text` with every `<` that no `>` follows before the next `<` written `&lt;`: text, not a tag.

    Python's HTML parser rescans to the end of the document from each such `<` (CVE-2025-6069, in the 3.11
    labgate runs on): 200 KB of `<a` took 78 s to plan from. A tag always closes before the next one opens.
    Each lookahead stops at the next bracket, so the whole pass is linear."""
    return _UNCLOSED_BRACKET.sub("&lt;", text)


_UNCLOSED_BRACKET = re.compile(r"<(?=[^<>]*(?:<|\Z))")


def notebook(text: str, name: str) -> str:
    """The markdown and code of a notebook's cells, one paragraph each; outputs are results, not statements."""
    try:
        cells = json.loads(text).get("cells", [])
        sources = ["".join(c["source"]) if isinstance(c["source"], list) else str(c["source"]) for c in cells]
    except RecursionError:
        raise DocumentError(f"{name} is not a Jupyter notebook: its JSON nests deeper than can be read") from None
    except (ValueError, AttributeError, KeyError, TypeError):
        raise DocumentError(f"{name} is not a Jupyter notebook: its JSON has no cells with sources") from None
    return "\n\n".join(source for source in sources if source.strip())


@contextmanager
def _quiet_pdf_parser() -> Iterator[None]:
    """pypdf logs every repair it makes ("EOF marker not found") to stderr; the outcome is reported instead."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR + 10)
    try:
        yield
    finally:
        logger.setLevel(level)


def pdf_pages(data: bytes, name: str) -> list[str]:
    """The text of each page, at most MAX_PDF_PAGES; an unreadable PDF is a DocumentError saying why."""
    with _quiet_pdf_parser():
        try:
            return _pdf_pages(data, name)
        except DocumentError:
            raise
        except RecursionError:
            raise DocumentError(f"cannot read {name} as PDF: its objects are nested too deeply") from None
        except MemoryError:
            raise DocumentError(f"cannot read {name} as PDF: it needs more memory than is available") from None
        except Exception as error:  # noqa: BLE001 - a malformed PDF trips every kind of parser error; each is named
            raise DocumentError(_pdf_failure(name, error)) from None


def _pdf_failure(name: str, error: Exception) -> str:
    kind = type(error).__name__
    if kind == "DependencyError":  # AES encryption, pypdf without its `crypto` extra
        return (
            f"cannot read {name}: it is encrypted with AES, which needs the `cryptography` package "
            "(pip install 'pypdf[crypto]'), or save a decrypted copy (qpdf --decrypt IN OUT)"
        )
    if kind == "FileNotDecryptedError":
        return f"cannot read {name}: it is encrypted with a password; save a decrypted copy (qpdf --decrypt)"
    detail = str(error)[:200]
    truncated = "; the file looks truncated (an interrupted download?)" if "ended unexpectedly" in detail else ""
    return f"cannot read {name} as PDF: {kind}: {detail}{truncated}"


def _pdf_pages(data: bytes, name: str) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise DocumentError(
            f"cannot read {name}: it is encrypted with a password; save a decrypted copy "
            "(qpdf --decrypt --password=... IN OUT) into the folder instead"
        )
    pages = []
    read: dict[tuple[Any, ...], str] = {}
    sizes: dict[tuple[int, int], int] = {}
    total = 0
    for index, page in enumerate(reader.pages):
        if index >= MAX_PDF_PAGES:
            break
        key = _contents_key(page)
        if key is not None and key in read:
            # Pages drawn by the same content streams: read once. Each page decoded and parsed a shared stream
            # anew, twice, so a 5 KB file of 20 pages on one compressed stream took 73 s to plan from.
            pages.append(read[key])
            continue
        total += _content_bytes(page, key, sizes)
        if total > MAX_PDF_CONTENT_BYTES:
            raise DocumentError(
                f"cannot read {name}: its pages draw more than {MAX_PDF_CONTENT_BYTES >> 20} MiB of content "
                f"(by page {index + 1}); a paper's whole text is a few MiB"
            )
        text = page.extract_text() or ""
        pages.append((_in_column_order(page) or text).replace("\x00", ""))
        if key is not None:
            read[key] = pages[-1]
    return pages


MAX_PDF_CONTENT_BYTES = 16 << 20
"""Decoded content-stream bytes one PDF's pages may draw in all (a paper's pages draw tens of KiB each): each page's
are parsed twice (plain and layout text), at about 0.2 MB/s, and pages naming the same large stream beside a small
one of their own would parse it again each."""


def _content_bytes(page: Any, key: tuple[Any, ...] | None, sizes: dict[tuple[int, int], int]) -> int:
    """The decoded bytes of the streams a page draws, each referenced stream decoded once (`sizes`)."""
    from pypdf.generic import IndirectObject

    if key is None:
        contents = page.get_contents()
        return len(contents.get_data()) if contents is not None else 0
    total = 0
    for ref in key:
        if ref not in sizes:
            stream: Any = IndirectObject(ref[0], ref[1], page.pdf).get_object()
            parts = list(stream) if isinstance(stream, list) else [stream]  # a reference to an array of streams
            decoded = (getattr(part.get_object() if part is not None else None, "get_data", bytes)() for part in parts)
            sizes[ref] = sum(len(data) for data in decoded)
        total += sizes[ref]
    return total


def _contents_key(page: Any) -> tuple[Any, ...] | None:
    """The objects a page's `/Contents` names, as (object number, generation) pairs; None where it names none
    by reference (a direct stream is the page's own)."""
    from pypdf.generic import ArrayObject, IndirectObject

    if "/Contents" not in page:
        return None
    raw = page.raw_get("/Contents")
    if not isinstance(raw, IndirectObject):
        items = list.__iter__(raw) if isinstance(raw, ArrayObject) else iter(())
        refs = tuple((item.idnum, item.generation) for item in items if isinstance(item, IndirectObject))
        return refs or None
    return ((raw.idnum, raw.generation),)


def _in_column_order(page: Any) -> str | None:
    """A two-column page's text, left column first, if the page is laid out in two columns.

    Some PDFs draw a two-column page line by line across both columns, so the plain text runs "at a
    Reynolds | 400 samples are taken": a value from the other column read as the Reynolds number.
    The page's layout shows the gutter between the columns.
    """
    try:
        layout = page.extract_text(extraction_mode="layout") or ""
    except Exception:  # noqa: BLE001 - the layout is a refinement; the plain text was already read
        return None
    lines = [line.rstrip() for line in layout.splitlines() if line.strip()]
    gutter = _gutter(lines)
    if gutter is None:
        return None
    left: list[str] = []
    right: list[str] = []
    for line in lines:
        split = len(line) > gutter and not line[gutter - 1 : gutter + 2].strip()
        left.append(line[:gutter].strip() if split else line.strip())  # a line across the gutter stays whole
        right.append(line[gutter:].strip() if split else "")
    return "\n".join(part for part in left if part) + "\n\n" + "\n".join(part for part in right if part)


def _gutter(lines: list[str]) -> int | None:
    """The character column of a blank strip between two columns of prose, if the lines have one.

    Most lines must have prose on both sides of it (a table's short cells do not count) and few may
    cross it (a title, a full-width figure caption). Each line is sliced at every candidate column, so
    the cost grows with the square of the width: lines wider than any page's columns are not split (a
    1.3 KB PDF of long, sparse lines took 40 s).
    """
    if len(lines) < _MIN_COLUMN_LINES:
        return None
    width = max(len(line) for line in lines)
    if width > _MAX_LAYOUT_WIDTH:
        return None
    for column in range(width * 3 // 10, width * 7 // 10):
        split = crossing = 0
        for line in lines:
            if len(line) <= column - 1:
                continue
            if line[column - 1 : column + 2].strip():
                crossing += 1
            elif len(line[:column].strip()) >= _MIN_COLUMN_CHARS and len(line[column:].strip()) >= _MIN_COLUMN_CHARS:
                split += 1
        if split >= _MIN_COLUMN_LINES and split * 2 >= len(lines) and crossing * 5 <= len(lines):
            return column
    return None
