"""Markdown of reports rendered to HTML safely: no raw HTML, no remote images, user text kept literal.

A task's title and goal are typed by whoever submits it, and a report is opened from disk or
shown in the dashboard: a `<script>` there must stay text, a `![](http://...)` must not become a
request that tells a third party the report was read, and a goal must not add headings or
tables that look like the report's own sections.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token

ImageSource = Callable[[str], str | None]
"""Maps an image's markdown `src` to the URL to emit, or None to show only its alt text."""

_INLINE_MARKUP = re.compile(r"([\\`*_\[\]<>#|!~&])")
_BLOCK_START = re.compile(r"^([-+=>])|^(\d+)([.)])")


def escape_markdown(text: str, *, one_line: bool = False) -> str:
    """`text` as markdown that renders as exactly that text.

    Escapes every character that can open inline markup (emphasis, code, links, images, HTML, entities,
    tables, headings) and the marks that start a block at the beginning of a line (lists, quotes,
    setext underlines), and nothing else, so the markdown file stays readable. Leading spaces are dropped
    from each line (four would start a code block); `one_line` also joins the lines.
    """
    lines = [line.strip() for line in text.splitlines()] if one_line else [line.lstrip() for line in text.splitlines()]
    kept = [line for line in lines if line] if one_line else lines
    escaped = [_BLOCK_START.sub(_escape_block_start, _INLINE_MARKUP.sub(r"\\\1", line)) for line in kept]
    return " ".join(escaped) if one_line else "\n".join(escaped)


def _escape_block_start(match: re.Match[str]) -> str:
    if match.group(1):
        return "\\" + match.group(1)
    return f"{match.group(2)}\\{match.group(3)}"


def render_markdown(source: str, image_source: ImageSource) -> str:
    """HTML for `source`: raw HTML shown as text, images only where `image_source` allows them.

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
    return str(renderer.render(source))
