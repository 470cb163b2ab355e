"""Shared helpers for the segmentation and window tests: a losslessness check and text strategies."""

from __future__ import annotations

from hypothesis import strategies as st

from models.segment import Span


def assert_lossless(text: str, spans: list[Span], outer: Span) -> None:
    """Spans ordered, inside ``outer``, non-empty, stripped; gaps whitespace only."""
    prev = outer.start
    for span in spans:
        assert isinstance(span, Span)
        assert outer.start <= prev <= span.start < span.end <= outer.end, (span, prev)
        gap = text[prev : span.start]
        assert gap == "" or gap.isspace(), (span, gap)
        body = text[span.start : span.end]
        assert not body[0].isspace() and not body[-1].isspace(), body
        prev = span.end
    tail = text[prev : outer.end]
    assert tail == "" or tail.isspace(), tail


ANY_CHAR = st.one_of(
    st.characters(exclude_categories=()),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.sampled_from(list("\x00\x1c\x1d\x1e\x1f\x85\u2028\u2029\u202e\u200b\u00a0\u202f\n\r\t .?!…«»")),
)
FRENCH_PIECES = [
    " ",
    " ",
    " ",
    "\n",
    "\n\n",
    "\u00a0",
    "\t",
    ".",
    ".",
    "?",
    "!",
    "…",
    "...",
    "?!",
    "!!",
    "«",
    "»",
    "« ",
    " »",
    "“",
    "”",
    '"',
    "(",
    ")",
    "(...)",
    "M.",
    "Mme",
    "MM.",
    "Dr.",
    "p.",
    "av. J.-C.",
    "sept.",
    "etc.",
    "art.",
    "J.",
    "K.",
    "Le",
    "la",
    "Paris",
    "Il",
    "a dit",
    "mot",
    "vol",
    "é",
    "0",
    "3,5",
    "1 000",
    "2023",
    "13",
    ":",
    ",",
    ";",
]
FRENCHISH = st.lists(st.sampled_from(FRENCH_PIECES), max_size=60).map("".join)
