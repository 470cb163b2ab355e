"""Inline markup inside a sentence: links, emphasis and code, carried across translation.

The model never sees markup. A block's text is read into an `Inline`: its `plain` text (what a
reader sees) and its `elements` (a link's URL, `**strong**`, `*em*`, a code span), each over a
range of `plain`. The model translates the plain text with every code span swapped for a
placeholder it copies (`QZ1`, as `models.glossary` protects terms); links and emphasis are put
back on the English words they translate, found by word alignment (`models.align`); code spans
come back where the model put their placeholder, byte for byte. When alignment cannot place an
element cleanly, the sentence falls back to an order-preserving placement and is flagged
`markup_unplaced`: markup is never dropped and the result is always well formed.

One module per job, all re-exported here:

- `elements`: `Element`, `Inline`, `SentenceMarkup`, `Placed` (an element and its range in the
  English), the kinds and markup names, and `render_placed`, which both writers share;
- `markdown`, `html`: the readers (hand-written scanners, linear in the input; anything they
  cannot read as markup is kept as literal text) and the writers of each syntax; `syntax` picks
  them by the block's markup;
- `urls`: `safe_url`, which URLs may make a link (`http(s)`, `mailto`, relative);
- `codes`: a sentence's markup, its code spans as placeholders, and the codes put back;
- `placement`: each element's range in the English, from the alignment, or in order.
"""

from models.markup.codes import restore_codes, sentence_markup, sentence_markups
from models.markup.elements import (
    CODE,
    EM,
    FLAG_MARKUP_UNPLACED,
    HTML,
    HTML_KINDS,
    IMAGE,
    LINK,
    MARKDOWN,
    SPAN,
    STRONG,
    Alignment,
    Element,
    Inline,
    Pair,
    Placed,
    SentenceMarkup,
    plain_inline,
    words,
)
from models.markup.html import html_attrs, parse_html_inline, render_html, start_tag
from models.markup.markdown import parse_markdown, render_markdown
from models.markup.placement import place, place_in_order
from models.markup.syntax import parse_inline, render
from models.markup.urls import MAX_URL, safe_url

__all__ = [
    "CODE",
    "EM",
    "FLAG_MARKUP_UNPLACED",
    "HTML",
    "HTML_KINDS",
    "IMAGE",
    "LINK",
    "MARKDOWN",
    "MAX_URL",
    "SPAN",
    "STRONG",
    "Alignment",
    "Element",
    "Inline",
    "Pair",
    "Placed",
    "SentenceMarkup",
    "html_attrs",
    "parse_html_inline",
    "parse_inline",
    "parse_markdown",
    "place",
    "place_in_order",
    "plain_inline",
    "render",
    "render_html",
    "render_markdown",
    "restore_codes",
    "safe_url",
    "sentence_markup",
    "sentence_markups",
    "start_tag",
    "words",
]
