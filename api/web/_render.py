"""Turning stored artifacts into HTML fragments: highlighted text, tables, SVG plots, the report.

Everything here escapes what it shows: artifact contents are data written by tools and models,
never markup to trust.
"""

from __future__ import annotations

import csv
import difflib
import html
import io
import math
import re
import secrets
import time
from collections.abc import Collection, Sequence
from functools import lru_cache
from typing import Any

from markupsafe import Markup
from pygments import format as format_tokens
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer, RegexLexer
from pygments.lexers import CppLexer, DiffLexer, TextLexer, get_lexer_by_name, guess_lexer_for_filename
from pygments.token import Comment, Error, Keyword, Name, Number, Text, Whitespace
from pygments.util import ClassNotFound

from agents import LinkTarget, cited_verdict, linked_artifact, render_markdown, small_print

TEXT_LIMIT = 256 * 1024
"""Bytes of a text artifact shown inline; the full file is one link away."""
LOG_LINES = 400
TABLE_ROWS = 200


class LogLexer(RegexLexer):
    """Solver, prover and compiler logs: errors and warnings stand out, numbers are coloured."""

    name = "log"
    tokens = {  # noqa: RUF012 - pygments reads this class attribute
        "root": [
            (r"(?i)^.*(fatal|error|exception|traceback|diverg|floating point|nan\b|failed).*\n", Error),
            (r"(?i)^.*warning.*\n", Comment.Preproc),
            (r"^(Time|Iteration|Step|Generation|Attempt)\b", Keyword),
            (r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?", Number),
            (r"[A-Za-z_][A-Za-z0-9_]*", Name),
            (r"\s+", Whitespace),
            (r".", Text),
        ]
    }


_FORMATTER = HtmlFormatter(cssclass="hl", wrapcode=True)


@lru_cache(maxsize=1)
def highlight_css() -> str:
    """The highlighting colours, light and dark, for the dashboard's stylesheet."""
    light = HtmlFormatter(style="default").get_style_defs(".hl")  # type: ignore[no-untyped-call]
    dark = HtmlFormatter(style="monokai").get_style_defs(".hl")  # type: ignore[no-untyped-call]
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"


_LEXER_NAMES = {"cl": "c", "h": "c", "cu": "cuda", "v": "coq", "lean": "lean4", "thy": "isabelle", "py": "python"}


def lexer_for(name: str, kind: str, text: str) -> Lexer:
    """The lexer a file of this name and kind reads best with; plain text when none fits."""
    if kind == "log" or name.startswith("log.") or name.endswith(".log"):
        return LogLexer()
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
    if suffix in _LEXER_NAMES:
        try:
            lexer: Lexer = get_lexer_by_name(_LEXER_NAMES[suffix])
            return lexer
        except ClassNotFound:
            pass
    if "FoamFile" in text[:2000]:
        cpp: Lexer = CppLexer()  # OpenFOAM dictionaries read well as C++
        return cpp
    try:
        guessed: Lexer = guess_lexer_for_filename(name.rsplit("/", 1)[-1], text[:4000])
        return guessed
    except ClassNotFound:
        plain: Lexer = TextLexer()
        return plain


def decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def highlighted(name: str, kind: str, data: bytes) -> tuple[Markup, str]:
    """HTML of the (possibly shortened) text and a note saying what was left out, if anything."""
    note = ""
    text = decode(data[:TEXT_LIMIT])
    if len(data) > TEXT_LIMIT:
        note = f"first {TEXT_LIMIT // 1024} KiB of {len(data) // 1024} KiB shown"
    if kind == "log":
        lines = decode(data).splitlines()
        if len(lines) > LOG_LINES:
            text = "\n".join(lines[-LOG_LINES:])
            note = f"last {LOG_LINES} of {len(lines)} lines shown"
    markup, complete = _highlight(text, lexer_for(name, kind, text))
    if not complete:
        note = "; ".join(filter(None, [note, f"shown without colours (they took over {HIGHLIGHT_SECONDS:g} s)"]))
    return markup, note


HIGHLIGHT_SECONDS = 1.5
"""The most time one text's colouring may take. Pygments' C-family lexers are quadratic on a name followed by
a long run of blanks (4,000 spaces in a kernel: 3.5 s; 8,000: 17 s), and a page is coloured on the server
thread, holding the interpreter: one artifact froze every request for minutes."""


def _highlight(text: str, lexer: Lexer) -> tuple[Markup, bool]:
    """The text coloured by `lexer`, or plain where that takes more than HIGHLIGHT_SECONDS; and whether it is
    coloured. Lexing yields token by token, each a bounded step, so the clock is read between tokens."""
    deadline = time.monotonic() + HIGHLIGHT_SECONDS
    tokens: list[tuple[Any, str]] = []
    for part in _LONG_BLANKS.split(text):
        if _LONG_BLANKS.fullmatch(part):
            tokens.append((Whitespace, part))
            continue
        for count, token in enumerate(lexer.get_tokens(part)):
            tokens.append(token)
            if count % 256 == 0 and time.monotonic() > deadline:
                return Markup(highlight(text, TextLexer(), _FORMATTER)), False
        if tokens and tokens[-1][1] == "\n" and not part.endswith("\n"):
            tokens.pop()  # get_tokens ends every text with a line break: not the part's own
    return Markup(format_tokens(tokens, _FORMATTER)), True


_LONG_BLANKS = re.compile(r"(\s{32,})")
"""Runs of blanks each text is cut at, the pieces coloured one by one: the C-family lexers' cost grows with the
square of a run's length (one run is one token, so no clock between tokens could stop it). A comment or string
across such a run may lose its colour after it; the text itself is unchanged."""


DIFF_LINES = 2000
"""The most lines of each side a diff compares: difflib's matching is quadratic in the worst case, and two 40,000
line sources took 5 s of a server thread per page (a few MiB each, about an hour)."""


def diff_html(before: str, after: str, before_name: str, after_name: str) -> Markup:
    """A unified diff of the two texts' first DIFF_LINES lines, saying so where either was cut."""
    old_lines, new_lines = before.splitlines(), after.splitlines()
    cut = len(old_lines) > DIFF_LINES or len(new_lines) > DIFF_LINES
    lines = difflib.unified_diff(
        old_lines[:DIFF_LINES], new_lines[:DIFF_LINES], fromfile=before_name, tofile=after_name, lineterm=""
    )
    text = "\n".join(lines) or "(identical)"
    if cut:
        text += f"\n# only the first {DIFF_LINES} lines of each side were compared"
    return _highlight(text, DiffLexer())[0]


def parse_table(data: bytes) -> tuple[list[str], list[list[str]], int]:
    """Header, up to TABLE_ROWS rows and the total row count of a CSV or whitespace-separated table."""
    text = decode(data[:TEXT_LIMIT])
    lines = [line for line in text.splitlines() if line.strip()]
    comments = [line.lstrip("#% ").strip() for line in lines if line.lstrip().startswith(("#", "%"))]
    body = [line for line in lines if not line.lstrip().startswith(("#", "%"))]
    if body and "," in body[0]:
        rows = [row for row in csv.reader(io.StringIO("\n".join(body)))]
    else:
        rows = [line.split() for line in body]
    header: list[str] = []
    if rows and not all(_is_number(cell) for cell in rows[0]):
        header, rows = rows[0], rows[1:]
    elif comments and rows and len(comments[-1].split()) == len(rows[0]):
        header = comments[-1].split()
    return header, rows[:TABLE_ROWS], len(rows)


def finite(value: object) -> float | None:
    """A JSON number as a finite float, or None: not a number, a boolean, infinite, NaN, or an integer
    too large for a float (JSON allows `1` followed by 400 zeros). Logs and events hold numbers that a
    candidate, a prover or a model server wrote; a page sums and formats them, and must not fail on one."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


LINE_POINTS = 2000
"""The most points a plotted line keeps: a log of 80,000 tiny lines made a 28 MB run page."""


def _thinned(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """At most LINE_POINTS of `points`, evenly spaced, each kept one the highest or lowest of its stretch (a line
    thinned by stride alone could lose the best candidate's peak)."""
    if len(points) <= LINE_POINTS:
        return points
    stretch = -(-len(points) // (LINE_POINTS // 2))
    kept: list[tuple[float, float]] = []
    for start in range(0, len(points), stretch):
        chunk = points[start : start + stretch]
        low, high = min(chunk, key=lambda point: point[1]), max(chunk, key=lambda point: point[1])
        kept += sorted({low, high}, key=chunk.index)
    return kept


def _span(low: float, high: float, share: float) -> tuple[float, float]:
    """An axis range from `low` to `high`, widened where they are equal by `share` of their size (or `share`).

    Widened by adding 1 or a tenth, an axis at 2**53 or at 5e-324 stayed zero wide (the sum rounds back), and
    every point then divided by zero: a 500 for the run page and the compare page."""
    if high > low and math.isfinite(high - low):
        return low, high
    widened = high + max(abs(high) * share, share)
    if widened > high and math.isfinite(widened):
        return high, widened
    lower = low - max(abs(low) * share, share)  # at the top of the float range: widen downwards
    return (lower, low) if low > lower and math.isfinite(low - lower) else (low - 1.0, low + 1.0)


def line_plot(
    series: Sequence[tuple[str, Sequence[tuple[float, float]]]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    width: int = 640,
    height: int = 280,
    links: Sequence[Sequence[tuple[str, str]] | None] = (),
) -> Markup:
    """A small accessible SVG line chart (no script, no external library): points and lines per series.

    `links`, aligned with `series`, may give each point of a series an (href, label): the point becomes
    a link (a candidate's details, say) with the label as its tooltip.
    """
    points = [point for _, values in series for point in values if all(math.isfinite(v) for v in point)]
    if not points:
        return Markup("<p>No finite values to plot.</p>")
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    x0, x1 = _span(min(xs), max(xs), 1.0)
    y0, y1 = _span(min(ys), max(ys), 0.1)
    left, right, top, bottom = 56, 12, 24, 36

    def sx(value: float) -> float:
        return left + (value - x0) / (x1 - x0) * (width - left - right)

    def sy(value: float) -> float:
        return height - bottom - (value - y0) / (y1 - y0) * (height - top - bottom)

    colours = ["#1f6feb", "#d9480f", "#2b8a3e", "#862e9c"]
    label = f"plot-{secrets.token_hex(4)}"  # unique per page, however many plots it shows
    role = "group" if any(links) else "img"  # an image may not hold links; a group of them may
    parts = [
        f'<svg class="plot" viewBox="0 0 {width} {height}" role="{role}" aria-labelledby="{label}">',
        f'<title id="{label}">{html.escape(title)}</title>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" class="axis"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" class="axis"/>',
        f'<text x="{left}" y="{height - 8}" class="tick">{x0:.4g}</text>',
        f'<text x="{width - right}" y="{height - 8}" class="tick" text-anchor="end">{x1:.4g}</text>',
        f'<text x="{left - 4}" y="{height - bottom}" class="tick" text-anchor="end">{y0:.4g}</text>',
        f'<text x="{left - 4}" y="{top + 4}" class="tick" text-anchor="end">{y1:.4g}</text>',
        f'<text x="{(width + left) / 2}" y="{height - 8}" class="label" text-anchor="middle">'
        f"{html.escape(x_label)}</text>",
        f'<text x="12" y="{top - 8}" class="label">{html.escape(y_label)}</text>',
    ]
    on_top: list[str] = []
    for index, (name, values) in enumerate(series):
        colour = colours[index % len(colours)]
        finite = _thinned([(x, y) for x, y in values if math.isfinite(x) and math.isfinite(y)])
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in finite)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.6"/>')
        targets = links[index] if index < len(links) else None
        if targets is not None and len(targets) == len(values):
            kept = [
                (x, y, t) for (x, y), t in zip(values, targets, strict=True) if math.isfinite(x) and math.isfinite(y)
            ]
            on_top += [
                f'<a href="{html.escape(href)}" class="point-link"><circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="4" '
                f'fill="{colour}"><title>{html.escape(label)}</title></circle></a>'
                for x, y, (href, label) in kept[:1000]
            ]
        else:
            parts += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.4" fill="{colour}"/>' for x, y in finite[:400]]
        legend_y = top + 14 * index + 2
        parts.append(
            f'<line x1="{width - right - 150}" y1="{legend_y - 4}" x2="{width - right - 132}" y2="{legend_y - 4}" '
            f'stroke="{colour}" stroke-width="2.5"/>'
            f'<text x="{width - right - 128}" y="{legend_y}" class="legend" fill="{colour}">{html.escape(name)}</text>'
        )
    parts += on_top  # linked points are drawn last, so no other series covers them
    parts.append("</svg>")
    return Markup("".join(parts))


_FIGURE_LINK = re.compile(r"\]\((figures/([0-9a-f]{12})-[^)\s]*)\)")


def report_html(markdown: str, digests: Sequence[str], verdict_ids: Collection[int] = ()) -> Markup:
    """The run's markdown report as HTML, raw HTML disabled, figure links pointed at the artifact URLs, and the
    writer's citations and digests linked (`own_link`).

    Images are shown only from this server's artifact URLs: a remote image in a report (put there
    through a goal, say) would be fetched by every reviewer's browser, telling its owner who read it.
    """
    by_prefix = {sha[:12]: sha for sha in digests}
    placed: set[str] = set()

    def relink(match: re.Match[str]) -> str:
        full = by_prefix.get(match.group(2))
        if not full:
            return match.group(0)
        placed.add(f"/artifacts/{full}")
        return f"](/artifacts/{full})"

    def own_artifact(source: str) -> str | None:
        # Only figures the writer placed (its `figures/<digest>-name` links): an image naming any other
        # artifact of the store, a rejected experiment's figure say, is text someone else wrote.
        return source if source in placed else None

    rendered = render_markdown(_FIGURE_LINK.sub(relink, markdown), own_artifact, own_link(digests, verdict_ids))
    return Markup(small_print(rendered))


def own_link(digests: Collection[str], verdict_ids: Collection[int]) -> LinkTarget:
    """Which links of a report are followed: the writer's citations (`citation`) of a verdict of this run, to that
    verdict on the page, and its digests (`artifact_link`) of an artifact of this run, to the artifact.

    The writer makes a link of nothing else, and text that others wrote (a model's rationale, a quoted passage, a
    verdict's reason) cannot make one: it is escaped, so a `[V9]` or a digest typed there stays text. The
    decision is made on the links markdown parsed, never by finding `[V9]` in the rendered text, where an escaped
    `\\[V9\\]` and the writer's own citation read the same. Any other link is shown with its destination, not
    followed (`render_markdown`).
    """
    known = set(digests)

    def target(href: str) -> str | None:
        verdict = cited_verdict(href)
        if verdict is not None:
            return href if verdict in verdict_ids else None
        sha = linked_artifact(href)
        return href if sha in known else None

    return target
