"""The response JSON → rows of aligned pieces, the one layout both the page and the export show.

Kept free of jinja2 and HTTP so the alignment rules (and their fallbacks) are tested on their own;
`static/bitext.js` follows the same rules for the live page. Everything here is linear in what
it is given (blocks, sentences, marks, text), whatever offsets a client sends, and polls
`models.interrupt.checkpoint`, so an export stops with its request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from models.flags import REASONS
from models.interrupt import checkpoint
from service.schemas import BlockOut, SentenceOut
from service.web.inline import MarkedText, Run, Wrap, is_web_url, parsed_runs, runs

__all__ = ["Piece", "Row", "Run", "Wrap", "english_pieces", "french_pieces", "is_web_url", "rows", "runs"]

FLAG_REASONS: dict[str, str] = {str(flag): reason for flag, reason in REASONS.items()}
"""Known sentence flags, shown as the title of a small marker; unknown flags show their own name."""


def flag_reason(flag: str) -> str:
    return FLAG_REASONS.get(flag, flag.replace("_", " "))


def flag_title(flags: tuple[str, ...]) -> str:
    """One marker per flagged sentence; its title gives every reason."""
    return "; ".join(flag_reason(flag) for flag in flags)


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of a block's text: sentence `sentence` (with its flags), or the gap between sentences.

    `runs`, set in every block with inline markup, is the piece drawn from its plain text and marks
    (`service.web.inline`): links and emphasis as elements, never the markdown or HTML source shown
    or interpreted. None: a plain-text block, whose text is shown as it is."""

    text: str
    sentence: int | None = None
    flags: tuple[str, ...] = ()
    runs: tuple[Run, ...] | None = None


def _flags(sentence: SentenceOut) -> tuple[str, ...]:
    """The sentence's flags, each once: a reason is drawn twice (title, aria-label), so a repeated flag
    must not repeat it."""
    return tuple(dict.fromkeys(sentence.flags))


def _drawn(sentence: SentenceOut, english: bool, markup: str | None) -> tuple[Run, ...] | None:
    """The sentence from the plain text and marks it carries; None when it carries none (then the block's
    markup is read instead) or when it has no markup at all."""
    plain = sentence.en_plain if english else sentence.fr_plain
    marks = sentence.en_marks if english else sentence.fr_marks
    return runs(plain, marks) if plain is not None and (marks or markup) else None


@dataclass(frozen=True, slots=True)
class Row:
    """One block: its French and English pieces side by side (an image's are its alt text)."""

    index: int
    kind: str
    translated: bool
    fr: list[Piece]
    en: list[Piece]
    url: str | None
    web_url: bool  # the image URL is http(s), so it may be shown or linked


def _with_gaps(
    text: str,
    spans: Sequence[tuple[int, int]],
    sentences: Sequence[SentenceOut],
    markup: str | None,
    english: bool = False,
) -> list[Piece] | None:
    """`text` cut at `spans` (one per sentence); None when the spans do not tile it in order.

    In a block with markup, each piece is drawn: a sentence from the marks it carries, else (and every
    gap) from `text` read once as its markup, so an element spanning sentences is drawn in each."""
    pieces: list[Piece] = []
    cursor = 0
    marked = MarkedText(text, markup) if markup else None
    for (start, end), sentence in zip(spans, sentences, strict=True):
        if start < cursor or end < start or end > len(text):
            return None
        if start > cursor:
            pieces.append(Piece(text[cursor:start], runs=marked.runs(cursor, start) if marked else None))
        drawn = _drawn(sentence, english, markup)
        if drawn is None and marked is not None:
            drawn = marked.runs(start, end)
        pieces.append(Piece(text[start:end], sentence.index, _flags(sentence), drawn))
        cursor = end
    if cursor < len(text):
        pieces.append(Piece(text[cursor:], runs=marked.runs(cursor, len(text)) if marked else None))
    return pieces


def _whole(text: str, markup: str | None) -> list[Piece]:
    return [Piece(text, runs=parsed_runs(text, markup))]


def french_pieces(block: BlockOut) -> list[Piece]:
    """The French cut at the sentences' code-point offsets; the whole text if they disagree with it."""
    spans = [(s.start, s.end) for s in block.sentences]
    pieces = _with_gaps(block.fr, spans, block.sentences, block.markup)
    if pieces is None or any(
        p.text != s.fr for p, s in zip((p for p in pieces if p.sentence is not None), block.sentences, strict=False)
    ):
        return _whole(block.fr, block.markup)
    return pieces


def english_pieces(block: BlockOut) -> list[Piece]:
    """The English cut where each sentence's translation occurs, in order.

    When a translation cannot be found in the block's English (a later post-edit changed it), the
    sentences are shown joined by the French gaps instead, so every sentence still has a partner.
    """
    spans: list[tuple[int, int]] = []
    cursor = 0
    for sentence in block.sentences:
        found = block.en.find(sentence.en, cursor)
        if found < 0:
            break
        spans.append((found, found + len(sentence.en)))
        cursor = found + len(sentence.en)
    else:
        pieces = _with_gaps(block.en, spans, block.sentences, block.markup, english=True)
        if pieces is not None:
            return pieces
    if not block.sentences:
        return _whole(block.en, block.markup)
    rebuilt: list[Piece] = []
    cursor = 0  # the French the gaps have taken so far: each character goes in at most one gap
    for count, (previous, sentence) in enumerate(zip((None, *block.sentences), block.sentences, strict=False)):
        checkpoint(count)
        if previous is not None:
            # Offsets come from the client: gaps never overlap, or sentences pointing back at the start
            # would copy the whole French once each.
            start = max(previous.end, cursor)
            cursor = max(sentence.start, start)
            gap = block.fr[start:cursor] or " "
            rebuilt.append(Piece(gap, runs=parsed_runs(gap, block.markup)))
        drawn = _drawn(sentence, True, block.markup)
        if drawn is None:
            drawn = parsed_runs(sentence.en, block.markup)
        rebuilt.append(Piece(sentence.en, sentence.index, _flags(sentence), drawn))
    return rebuilt


def rows(blocks: Sequence[BlockOut]) -> list[Row]:
    """One row per block, in order: the count of rows is the count of blocks, always."""
    table = []
    for count, block in enumerate(blocks):
        checkpoint(count, 64)
        table.append(
            Row(
                index=block.index,
                kind=str(block.kind),
                translated=block.translated,
                fr=french_pieces(block),
                en=english_pieces(block),
                url=block.url,
                web_url=is_web_url(block.url),
            )
        )
    return table


def most_sentences(table: Sequence[Row]) -> int:
    """The largest sentence count of any row: how many per-index highlight rules the export needs."""
    return max((sum(p.sentence is not None for p in row.fr) for row in table), default=0)
