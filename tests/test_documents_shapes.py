"""Research documents as researchers have them on disk, through the built-in planner (`agent plan --docs`).

Each shape must end in a plan that cites what it read with the values the document states, or in a
message naming the document and why it was not read: never a traceback, and never a number read in
the wrong convention (a German "Re = 5.600" is five thousand six hundred, not 5.6). The hostile shapes
(links, devices, bombs, endless lines) are in tests/test_ingestion_hostile.py.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from agents.planner import DocumentError, load_documents, make_plans
from api._settings import Settings, build_catalog
from tests.conftest import agent
from tests.pdfs import one_page_pdf

GOAL = "validate the solver on the lid-driven cavity"
LINE = "We validate the solver on the lid-driven cavity at a Reynolds number of 1000 on a 64 x 64 grid."
GERMAN = (
    "Wir validieren den Löser an der lid-driven cavity bei {re} auf einem 64 x 64 Gitter; "
    "die Viskosität beträgt 0,001 m²/s."
)


def _plan(docs: Path) -> tuple[dict[str, Any], list[str]]:
    """The best plan's parameters (swept or not) and the planning notes."""
    result = make_plans(build_catalog(Settings()), docs, GOAL)
    assert result.plans and result.plans[0].task_id == "cfd/cavity", result
    best = result.plans[0]
    assert best.citations, "the plan cites the passages it read"
    return {**best.params, **best.sweep}, result.notes


def _write(folder: Path, files: dict[str, bytes | str]) -> Path:
    for relative, content in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


def _pdf(text: str) -> bytes:
    return one_page_pdf(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode())


NUMBER_SPELLINGS: dict[str, tuple[str, float]] = {
    "German, space-grouped thousands": (GERMAN.format(re="Re = 5 600"), 5600),
    "German, thin-space thousands": (GERMAN.format(re="Re = 5\u202f600"), 5600),
    "German, point-grouped thousands": (GERMAN.format(re="Re = 5.600"), 5600),
    "German, decimal comma with an exponent": (GERMAN.format(re="Re = 1,5e3"), 1500),
    "German, decimal comma": (GERMAN.format(re="Re = 56,5"), 56.5),
    "German prose alone decides the convention": (
        "Wir rechnen die lid-driven cavity bei Re = 5.600 und mit dem Gitter.",
        5600,
    ),
    "English, an exponent": (LINE.replace("1000", "5.6e3"), 5600),
    "English, a power of ten": (LINE.replace("1000", "5.6 x 10^3"), 5600),
    "LaTeX math with a thin space": (r"We validate on the lid-driven cavity at $\mathrm{Re} = 3\,200$.", 3200),
    "full-width CJK forms": ("我们在顶盖驱动方腔（lid-driven cavity）上验证求解器，雷诺数 Re＝１０００。", 1000),
    "English thousands": ("We validate on the lid-driven cavity at Re = 1,000 and on a fine grid.", 1000),
    "English, a stray comma outvoted": (
        "As in refs. 3,4 the lid-driven cavity has a lid of 0.25 m, a gap of 0.5 mm, a step of 1.25 s; Re = 5,600.",
        5600,
    ),
}


@pytest.mark.parametrize(("text", "expected"), list(NUMBER_SPELLINGS.values()), ids=list(NUMBER_SPELLINGS))
def test_a_number_is_read_in_the_spelling_and_convention_of_its_document(
    tmp_path: Path, text: str, expected: float
) -> None:
    values, _ = _plan(_write(tmp_path, {"study.md": text}))
    assert values.get("re") == [expected]


AMBIGUOUS: dict[str, str] = {
    "both conventions in one document": "The lid-driven cavity at Re = 5,600, a lid of 0.25 m and a gap of 0,5 mm.",
    "an English paper citing refs. 3,4": "As in refs. 3,4 we run the lid-driven cavity at Re = 5,600 here.",
    "a plain space not after a relation": "We run the lid-driven cavity at Reynolds 5 600 on the fine grid.",
}


@pytest.mark.parametrize("text", list(AMBIGUOUS.values()), ids=list(AMBIGUOUS))
def test_a_number_that_cannot_be_read_surely_is_left_unread_not_guessed(tmp_path: Path, text: str) -> None:
    values, _ = _plan(_write(tmp_path, {"study.md": text}))
    assert "re" not in values


@pytest.mark.parametrize(
    "data",
    [
        "\ufeff".encode("utf-16-le") + LINE.encode("utf-16-le"),
        ("Résumé — " + LINE).encode("latin-1", errors="replace"),
        ("\u201cValidation\u201d \u2013 " + LINE + " It\u2019s fine.").encode("cp1252"),
    ],
    ids=["UTF-16 with a BOM", "Latin-1", "Windows-1252 smart quotes"],
)
def test_text_in_an_older_encoding_is_read(tmp_path: Path, data: bytes) -> None:
    values, _ = _plan(_write(tmp_path, {"notes.txt": data}))
    assert values == {"re": [1000], "cells": 64}


def test_binary_or_compressed_data_named_as_a_document_is_named(tmp_path: Path) -> None:
    import gzip

    _write(tmp_path / "a", {"notes.txt": gzip.compress(LINE.encode())})
    with pytest.raises(DocumentError, match=r"notes\.txt is a gzip-compressed file: unpack it"):
        load_documents(tmp_path / "a")
    _write(tmp_path / "b", {"notes.md": bytes(range(256)) * 8})
    with pytest.raises(DocumentError, match=r"notes\.md is not text"):
        load_documents(tmp_path / "b")


def test_a_pdf_is_known_by_its_header_not_its_name(tmp_path: Path) -> None:
    _write(tmp_path, {"paper": _pdf(LINE), "paper.pdf": "<!DOCTYPE html><html><body>Sign in</body></html>"})
    values, _ = _plan(tmp_path / "paper")  # `--docs FILE`: a PDF saved without its extension
    assert values == {"re": [1000], "cells": 64}
    [passage] = load_documents(tmp_path / "paper")
    assert passage.location == "page 1" and "endobj" not in passage.text
    with pytest.raises(DocumentError, match=r"paper\.pdf as PDF: it is a web page"):
        load_documents(tmp_path / "paper.pdf")


def test_latex_html_and_notebooks_are_read(tmp_path: Path) -> None:
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["The lid-driven cavity, as the notes say.\n"]},
            {"cell_type": "code", "metadata": {}, "source": ["cells = 64\n"], "outputs": [], "execution_count": 1},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    _write(
        tmp_path,
        {
            "main.tex": "\\input{setup}\n% Re = 400 was the old setting\n"
            "We validate on the lid-driven cavity at $\\mathrm{Re}=1000$ on a $64\\times64$ grid.\n",
            "page.html": "<html><head><style>p{}</style><script>var re = 99;</script></head>"
            "<body><p>The lid-driven cavity at a Reynolds number of 100.</p></body></html>",
            "analysis.ipynb": json.dumps(notebook),
        },
    )
    passages = load_documents(tmp_path)
    assert {p.source for p in passages} == {"main.tex", "page.html", "analysis.ipynb"}
    text = "\n".join(p.text for p in passages)
    assert "var re" not in text and "p{}" not in text and "old setting" not in text
    assert "lid-driven cavity at a Reynolds number of 100." in text
    values, _ = _plan(tmp_path / "main.tex")
    assert values == {"re": [1000], "cells": 64}


def test_hidden_files_and_editor_leftovers_are_left_out(tmp_path: Path) -> None:
    """A folder copied from a Mac holds `._paper.pdf` (metadata, not a PDF); Emacs leaves `.#notes.md`, a
    dangling link: either stopped the whole folder."""
    _write(tmp_path, {"notes.md": LINE, "._paper.pdf": b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X", ".DS_Store": b"\0"})
    _write(tmp_path, {"__MACOSX/._notes.md": b"\x00\x05\x16\x07", "notes.md~": "older", ".git/README.md": "x"})
    (tmp_path / ".#notes.md").symlink_to("user@host.1234:1700000000")
    values, notes = _plan(tmp_path)
    assert values == {"re": [1000], "cells": 64}
    assert any("hidden" in note and "._paper.pdf" in note for note in notes), notes


def test_what_is_not_read_is_named_with_the_reason(tmp_path: Path) -> None:
    blank_pdf = one_page_pdf(b"q 1 0 0 1 0 0 cm Q")  # a page with no text: a scan without OCR
    _write(
        tmp_path,
        {
            "notes.md": LINE,
            "refs.bib": "@article{ghia1982}",
            "runs.csv": "re,cells\n100,48\n",
            "paper.pdf.gz": b"\x1f\x8b",
            "scan.pdf": blank_pdf,
            "empty.md": "",
        },
    )
    _, notes = _plan(tmp_path)
    said = "\n".join(notes)
    for name, why in [
        ("refs.bib", "bibliography"),
        ("runs.csv", "data table"),
        ("paper.pdf.gz", "unpack"),
        ("scan.pdf", "no text layer"),
        ("empty.md", "no text"),
    ]:
        assert any(name in note and why in note for note in notes), (name, said)
    _write(tmp_path / "only", {"refs.bib": "@article{ghia1982}"})
    with pytest.raises(DocumentError, match=r"no documents .* refs\.bib: a bibliography"):
        load_documents(tmp_path / "only")


def _encrypted_pdf(user_password: str, algorithm: str = "RC4-128") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(_pdf(LINE))))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_an_encrypted_pdf_is_read_or_named_with_what_to_do(tmp_path: Path, algorithm: str) -> None:
    """Journals ship PDFs encrypted with an empty user password (printing allowed, editing not),
    most with AES: they are read; a PDF that needs a password to open is named with what to do."""
    values, _ = _plan(_write(tmp_path / "open", {"paper.pdf": _encrypted_pdf("", algorithm)}))
    assert values == {"re": [1000], "cells": 64}
    _write(tmp_path / "locked", {"paper.pdf": _encrypted_pdf("secret", algorithm)})
    with pytest.raises(DocumentError, match=r"paper\.pdf: it is encrypted with a password; save a decrypted copy"):
        load_documents(tmp_path / "locked")


def test_a_truncated_pdf_is_named_as_truncated(tmp_path: Path) -> None:
    _write(tmp_path, {"cut.pdf": _pdf(LINE)[:300]})
    with pytest.raises(DocumentError, match=r"cut\.pdf .* looks truncated"):
        load_documents(tmp_path)


def test_a_name_with_a_control_character_is_shown_escaped(tmp_path: Path) -> None:
    _write(tmp_path, {"bad\nname.md": LINE})
    [passage] = load_documents(tmp_path)
    assert passage.id == "bad\\x0aname.md#1" and "\n" not in passage.source


@pytest.mark.skipif(os.geteuid() == 0, reason="root opens any folder")
def test_a_folder_the_user_may_not_open_is_named(tmp_path: Path) -> None:
    _write(tmp_path, {"notes.md": LINE, "locked/more.md": LINE})
    (tmp_path / "locked").chmod(0)
    try:
        _, notes = _plan(tmp_path)
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert any("locked/" in note and "permission denied" in note for note in notes), notes


def test_agent_plan_on_one_german_file_cites_it_with_the_right_value(home: Path, tmp_path: Path) -> None:
    docs = _write(tmp_path, {"studie.md": GERMAN.format(re="Re = 5.600"), "refs.bib": "@article{x}"})
    result = agent("plan", "--docs", str(docs / "studie.md"), GOAL, "--json", home=home)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    data = json.loads(result.stdout)
    [best, *_] = data["plans"]
    assert best["sweep"]["re"] == [5600] and best["citations"][0]["passage"] == "studie.md#1"
    folder = agent("plan", "--docs", str(docs), GOAL, home=home)
    assert folder.returncode == 0 and "Traceback" not in folder.stderr, folder.stderr
    assert "re=[5600]" in folder.stdout and "refs.bib: a bibliography" in folder.stdout


def _two_column_page(left: list[str], right: list[str]) -> bytes:
    """A page drawn line by line across both columns, as some PDF writers do."""
    ops = [b"BT /F1 10 Tf"]
    for row, (first, second) in enumerate(zip(left, right, strict=True)):
        y = 700 - 14 * row
        ops.append(f"1 0 0 1 72 {y} Tm ({first}) Tj 1 0 0 1 320 {y} Tm ({second}) Tj".encode())
    return one_page_pdf(b"\n".join([*ops, b"ET"]))


def test_a_two_column_pdf_is_read_column_by_column(tmp_path: Path) -> None:
    left = ["We validate the solver on the", "lid-driven cavity at a Reynolds", "number of 1000 on a 64 x 64 grid."]
    right = ["Each of the wall probes is read", "400 times a second, and the", "records are averaged over a run."]
    values, _ = _plan(_write(tmp_path / "columns", {"paper.pdf": _two_column_page(left, right)}))
    assert values == {"re": [1000], "cells": 64}  # not the 400 of the other column
    # A table's short cells are not columns of prose: its rows stay rows.
    table = _two_column_page(["The lid-driven cavity:", "Courant number", "Reynolds number"], ["", "0.5", "1000"])
    values, _ = _plan(_write(tmp_path / "table", {"table.pdf": table}))
    assert values == {"re": [1000]}


def test_the_command_line_names_every_format_the_planner_reads() -> None:
    """`--docs` help is written out in the CLI (importing the planner there would slow `agent --help`)."""
    from agents.planner._formats import SUFFIXES
    from api.cli._main import DOC_FORMATS

    assert sorted(DOC_FORMATS.split()) == sorted(SUFFIXES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "---\ntitle: Cavity notes\nre: 5000\ncells: 128\n---\n\nWe validate the solver on the lid-driven cavity.\n",
            {"re": [5000], "cells": 128},
        ),
        (
            "# Cavity settings\n\nRe = [100, 400]\ncells = 96\n\nThe lid-driven cavity is our validation case.\n",
            {"re": [100, 400], "cells": 96},
        ),
        ("Re: 3 questions about the lid-driven cavity\n\n" + LINE, {"re": [1000], "cells": 64}),
        ("re: many, see below\n\n" + LINE, {"re": [1000], "cells": 64}),
    ],
    ids=["front matter", "config lines and a list", "a mail subject", "words after the name"],
)
def test_parameters_set_as_settings_lines_are_read_and_prose_is_not_taken_for_them(
    tmp_path: Path, text: str, expected: dict[str, Any]
) -> None:
    """Front matter and config lines state parameters as settings files do (`re: 5000`); a line is a
    setting only when its whole value is numbers (or one word), so a mail's `Re: 3 questions` is not one."""
    values, _ = _plan(_write(tmp_path, {"notes.md": text}))
    assert values == expected


def test_lines_wider_than_any_pages_columns_are_not_split() -> None:
    """The gutter search slices every line at every column: a 1.3 KB PDF of long, sparse lines took 40 s."""
    from agents.planner._formats import _gutter

    page = ["a" * 40 + " " * 900 + "b" * 40] * 4
    assert _gutter(page) is not None  # two columns far apart, within the widest a page makes
    assert _gutter(["a" * 40 + " " * 5000 + "b" * 40] * 4) is None


def test_a_page_that_leaves_out_its_head_end_tag_is_read() -> None:
    """HTML lets `</head>` be left out; such a page was read as holding no text at all."""
    from agents.planner._formats import html

    body = "<p>We validate the solver on the lid-driven cavity at Re 400.</p>"
    for page in (
        f"<html><head><title>Cavity</title><body>{body}</body></html>",
        f"<html><head><meta charset=utf-8><title>Cavity</title>\n{body}",
        f"<html><head><title>Cavity</title></head><body>{body}<script>var x = '<p>hidden</p>';</script></body>",
    ):
        text = html(page)
        assert "lid-driven cavity at Re 400" in text and "Cavity" not in text and "hidden" not in text, text


def _shared_stream_pdf(pages: int, operations: int, *, own_streams: bool = False) -> bytes:
    """A PDF whose pages all draw one compressed content stream (each beside a tiny one of its own, with
    `own_streams`), written by hand."""
    import zlib

    content = zlib.compress(b"BT /F1 9 Tf 72 700 Td (Reynolds 100 cavity) Tj ET\n" * operations, 9)
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        4: b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
    }
    kids = []
    for index in range(pages):
        number, own = 5 + 2 * index, 6 + 2 * index
        kids.append(b"%d 0 R" % number)
        drawn = b"[4 0 R %d 0 R]" % own if own_streams else b"4 0 R"
        objects[number] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents " + drawn + b" >>"
        )
        objects[own] = b"<< /Length 2 >>\nstream\nq\n\nendstream"
    objects[2] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % pages
    data = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(data)
        data += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref, size = len(data), max(objects) + 1
    data += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        data += b"%010d 00000 n \n" % offsets.get(number, 0)
    data += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(data)


def test_pages_sharing_one_content_stream_are_read_once() -> None:
    """A 5 KB PDF of 20 pages on one compressed stream took 73 s to plan from: each page parsed it anew, twice."""
    from agents.planner._formats import pdf_pages
    from tests.conftest import within_seconds

    with within_seconds(30):
        pages = pdf_pages(_shared_stream_pdf(20, 10_000), "shared.pdf")
    assert len(pages) == 20 and all("Reynolds 100 cavity" in page for page in pages)


def test_a_pdf_drawing_more_content_than_any_paper_is_refused_naming_it() -> None:
    """Pages naming the shared stream beside a small one of their own are not one page's content twice: the
    total decoded content is bounded instead."""
    from agents.planner._formats import MAX_PDF_CONTENT_BYTES, pdf_pages
    from tests.conftest import within_seconds

    operations = MAX_PDF_CONTENT_BYTES // 50 + 1000  # past the bound on the first page
    with within_seconds(60), pytest.raises(DocumentError, match="more than 16 MiB of content"):
        pdf_pages(_shared_stream_pdf(3, operations, own_streams=True), "big.pdf")


def test_html_of_unclosed_tags_is_read_in_linear_time() -> None:
    """Python's HTML parser rescans to the end from every `<` that opens no tag (200 KB of `<a`: 78 s)."""
    from agents.planner._formats import html
    from tests.conftest import within_seconds

    with within_seconds(10):
        assert "<a" in html("<a" * 100_000)
    assert html("<p>Re 100 &lt; 400 <b>bold</b></p><script>x < y</script><p>2 < 3</p>").split() == [
        "Re", "100", "<", "400", "bold", "2", "<", "3",
    ]  # fmt: skip
