"""A block's markup by its name (`MARKDOWN`, `HTML`, or none): the reader and the writer that go with it."""

from __future__ import annotations

from collections.abc import Sequence

from models.markup.elements import HTML, MARKDOWN, Inline, Placed, plain_inline
from models.markup.html import parse_html_inline, render_html
from models.markup.markdown import parse_markdown, render_markdown


def render(markup: str, text: str, placed: Sequence[Placed]) -> str:
    return render_html(text, placed) if markup == HTML else render_markdown(text, placed)


def parse_inline(raw: str, markup: str) -> Inline:
    if markup == MARKDOWN:
        return parse_markdown(raw)
    if markup == HTML:
        return parse_html_inline(raw)
    return plain_inline(raw)
