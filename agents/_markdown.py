"""Markdown of reports rendered to HTML safely: no raw HTML, no remote images, user text kept literal.

A task's title and goal are typed by whoever submits it, and a report is opened from disk or
shown in the dashboard: a `<script>` there must stay text, a `![](http://...)` must not become a
request that tells a third party the report was read, and a goal must not add headings or
tables that look like the report's own sections. Nor may text show a reader something other than what is
stored: a character no one can see is shown as a visible `⟨U+202E⟩` (`show_invisible`), and only the links the
writer makes in its own forms (`citation`, `artifact_link`) can be followed.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token

ImageSource = Callable[[str], str | None]
"""Maps an image's markdown `src` to the URL to emit, or None to show only its alt text."""
LinkTarget = Callable[[str], str | None]
"""Maps the destination of a link of the writer's own forms (`own_form`) to the URL to emit, or None to show the
link as its text (`render_markdown`)."""

_LAYOUT = frozenset("\t\n\r")
_BLANK_LETTERS = frozenset({0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0})
"""Characters of other categories that draw nothing: the combining grapheme joiner and the Hangul and Khmer
fillers, which pass for letters in an identifier yet show nothing."""
_NOT_PLAIN = re.compile(r"[^\t\n\r\x20-\x7e]")


@lru_cache(maxsize=4096)
def invisible(char: str) -> bool:
    """Whether `char` is one a reader cannot see: a format character (category Cf: bidi embeddings, overrides,
    isolates and marks, zero-width spaces and joiners, the byte-order mark, ...), a control character other than
    tab and line ends, or a blank letter.

    Such a character changes what a prover, a compiler or the gate reads without changing what is shown, or
    reorders what is shown (Trojan Source, CVE-2021-42574: `/* } if (admin) { */` can display as code, an
    accepted proof's `idtac "...";` as ending in `Admitted.`). No honest result needs one shown as itself.
    """
    category = unicodedata.category(char)
    return category == "Cf" or (category == "Cc" and char not in _LAYOUT) or ord(char) in _BLANK_LETTERS


def marker(char: str) -> str:
    """The visible stand-in for an invisible character: `⟨U+202E⟩`. It holds no markup or HTML character, so
    escaped text stays escaped."""
    return f"\u27e8U+{ord(char):04X}\u27e9"


def show_invisible(text: str) -> str:
    """`text` with every invisible character (`invisible`) replaced by its `marker`, so what a reader sees is
    every character there is, in the order it is stored."""
    return _NOT_PLAIN.sub(lambda match: marker(match.group()) if invisible(match.group()) else match.group(), text)


def invisible_count(text: str) -> int:
    """How many characters of `text` `show_invisible` replaces."""
    return sum(1 for match in _NOT_PLAIN.finditer(text) if invisible(match.group()))


_CITATION_TARGET = re.compile(r"#verdict-([0-9]{1,18})")
_ARTIFACT_TARGET = re.compile(r"/artifacts/([0-9a-f]{64})")


def citation(verdict_id: int) -> str:
    """The writer's citation of a verdict, `[[V7]](#verdict-7)`: a link, which text that passed through
    `escape_markdown` can never be (its brackets are escaped), so a page links exactly the citations the writer
    made, never a `[V7]` typed into a rationale, a quote or a reason."""
    return f"[[V{verdict_id}]](#verdict-{verdict_id})"


def artifact_link(sha256: str, text: str) -> str:
    """The writer's link to an artifact by digest, shown as `text` (the digest or its prefix), for the same reason
    as `citation`: a digest written by anyone else stays text."""
    return f"[{text}](/artifacts/{sha256})"


def cited_verdict(href: str) -> int | None:
    """The verdict id a `citation` link points at, or None for any other destination."""
    match = _CITATION_TARGET.fullmatch(href)
    return int(match.group(1)) if match else None


def linked_artifact(href: str) -> str | None:
    """The digest an `artifact_link` points at, or None for any other destination."""
    match = _ARTIFACT_TARGET.fullmatch(href)
    return match.group(1) if match else None


_INLINE_MARKUP = re.compile(r"([\\`*_\[\]<>#|!~&])")
_BLOCK_START = re.compile(r"^([-+=>])|^(\d+)([.)])")


def escape_markdown(text: str, *, one_line: bool = False) -> str:
    """`text` as markdown that renders as exactly that text.

    Escapes every character that can open inline markup (emphasis, code, links, images, HTML, entities,
    tables, headings) and the marks that start a block at the beginning of a line (lists, quotes,
    setext underlines), and nothing else, so the markdown file stays readable. Leading spaces are dropped
    from each line (four would start a code block); `one_line` also joins the lines. A character no reader
    can see is shown as its `marker` (`show_invisible`).
    """
    shown = show_invisible(text).splitlines()
    lines = [line.strip() for line in shown] if one_line else [line.lstrip() for line in shown]
    kept = [line for line in lines if line] if one_line else lines
    escaped = [_BLOCK_START.sub(_escape_block_start, _INLINE_MARKUP.sub(r"\\\1", line)) for line in kept]
    return " ".join(escaped) if one_line else "\n".join(escaped)


def _escape_block_start(match: re.Match[str]) -> str:
    if match.group(1):
        return "\\" + match.group(1)
    return f"{match.group(2)}\\{match.group(3)}"


def render_markdown(source: str, image_source: ImageSource, link_target: LinkTarget | None = None) -> str:
    """HTML for `source`: raw HTML shown as text, images only where `image_source` allows them, links only where
    `link_target` does (every link is followed without one).

    Link reference definitions (`[V7]: https://...`) are not read: one anywhere in a report, even inside a list
    item of text someone else wrote, would turn every `[V7]` of the report, the writer's citations included,
    into a link to wherever it points. The writer makes no reference links, so none is lost.
    """
    renderer = MarkdownIt("commonmark", {"html": False}).enable("table").disable("reference")

    def image(self: RendererHTML, tokens: Sequence[Token], index: int, options: Any, env: Any) -> str:
        token = tokens[index]
        alt = self.renderInlineAsText(token.children or [], options, env)
        src = image_source(str(token.attrGet("src") or ""))
        if src is None:
            return f'<span class="image-refused">[image: {html.escape(alt)}]</span>'
        return f'<img src="{html.escape(src)}" alt="{html.escape(alt)}">'

    renderer.add_render_rule("image", image)
    if link_target is not None:
        _follow_only(renderer, link_target)
    return str(renderer.render(source))


def _follow_only(renderer: MarkdownIt, link_target: LinkTarget) -> None:
    """Render a link as a link only if it has one of the writer's own forms (`own_form`) and `link_target` gives
    its URL; any other is shown as its text.

    An own-form link that this page cannot follow (a standalone file has no verdict list, no artifact server) is
    just its text, as if never linked. Any other link the writer never makes, so it came from text someone else
    wrote: it is shown with its destination, never followed, since a link reading "[V3]" or "the verified kernel"
    could lead anywhere, another site included. CommonMark links do not nest, so one stack of what each open link
    will close with is enough.
    """

    def link_open(self: RendererHTML, tokens: Sequence[Token], index: int, options: Any, env: Any) -> str:
        href = str(tokens[index].attrGet("href") or "")
        own = own_form(href, _link_text(tokens, index))
        url = link_target(href) if own else None
        closing: list[str] = env.setdefault("_link_closing", [])
        if url is None and own:
            closing.append("")
            return ""
        if url is None:
            closing.append(f'</span> <span class="link-removed">(link to {html.escape(href)} not followed)</span>')
            return '<span class="unlinked">'
        closing.append("</a>")
        return f'<a href="{html.escape(url)}"{_link_attributes(href)}>'

    def link_close(self: RendererHTML, tokens: Sequence[Token], index: int, options: Any, env: Any) -> str:
        closing: list[str] = env.get("_link_closing") or ["</a>"]
        return closing.pop()

    renderer.add_render_rule("link_open", link_open)
    renderer.add_render_rule("link_close", link_close)


def _link_attributes(href: str) -> str:
    if cited_verdict(href) is not None:
        return ' class="citation"'
    sha = linked_artifact(href)
    return f' class="digest" title="artifact sha256 {sha}"' if sha else ""


def own_form(href: str, text: str | None) -> bool:
    """Whether a link reading `text` is one the writer makes: a `citation` reading `[V7]` for verdict 7, or an
    `artifact_link` reading the digest it points at or that digest's 12-digit prefix."""
    verdict = cited_verdict(href)
    if verdict is not None:
        return text == f"[V{verdict}]"
    sha = linked_artifact(href)
    return sha is not None and text in (sha, sha[:12])


def _link_text(tokens: Sequence[Token], index: int) -> str | None:
    """The plain text of the link opened at `index`, or None if it holds anything but text (code, emphasis)."""
    parts: list[str] = []
    for token in tokens[index + 1 :]:
        if token.type == "link_close":
            return "".join(parts)
        if token.type != "text":
            return None
        parts.append(token.content)
    return None


_SUB = re.compile(r"^<p>&lt;sub&gt;([^\n]*?)&lt;/sub&gt;</p>$", re.MULTILINE)


def small_print(rendered: str) -> str:
    """`rendered` HTML with the writer's `<sub>` notes (each a paragraph of its own, escaped as all raw HTML is)
    made small print again.

    Only a whole paragraph is changed, so what is made small is that paragraph's content, balanced as markdown
    rendered it, and nothing is inserted but the two tags.
    """
    return _SUB.sub(r'<p><small class="note">\1</small></p>', rendered)
