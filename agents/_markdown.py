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

_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def escape_markdown(text: str, *, one_line: bool = False) -> str:
    """`text` as markdown that renders as exactly that text: every ASCII punctuation mark escaped.

    CommonMark lets a backslash escape any ASCII punctuation, so nothing in the result starts a
    heading, list, table, link, emphasis, code span, entity or HTML tag. Leading spaces are
    dropped from each line (four would start a code block); `one_line` also joins the lines.
    """
    lines = [line.strip() for line in text.splitlines()] if one_line else [line.lstrip() for line in text.splitlines()]
    joined = " ".join(line for line in lines if line) if one_line else "\n".join(lines)
    return _ASCII_PUNCTUATION.sub(r"\\\1", joined)


def render_markdown(source: str, image_source: ImageSource) -> str:
    """HTML for `source`: raw HTML shown as text, images only where `image_source` allows them."""
    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")

    def image(self: RendererHTML, tokens: Sequence[Token], index: int, options: Any, env: Any) -> str:
        token = tokens[index]
        alt = self.renderInlineAsText(token.children or [], options, env)
        src = image_source(str(token.attrGet("src") or ""))
        if src is None:
            return f'<span class="image-refused">[image: {html.escape(alt)}]</span>'
        return f'<img src="{html.escape(src)}" alt="{html.escape(alt)}">'

    renderer.add_render_rule("image", image)
    return str(renderer.render(source))
