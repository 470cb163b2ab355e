"""The response JSON → rows of aligned pieces, the one layout both the page and the export show.

Kept free of jinja2 and HTTP so the alignment rules (and their fallbacks) are tested on their own;
`static/bitext.js` follows the same rules for the live page. Everything here is linear in what
it is given (blocks, sentences, marks, text), whatever offsets a client sends, and polls
`models.interrupt.checkpoint`, so an export stops with its request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from models.flags import REASONS
from models.interrupt import checkpoint
from service.schemas import BlockOut, MarkOut, SentenceOut

FLAG_REASONS: dict[str, str] = {str(flag): reason for flag, reason in REASONS.items()}
"""Known sentence flags, shown as the title of a small marker; unknown flags show their own name."""


def flag_reason(flag: str) -> str:
    return FLAG_REASONS.get(flag, flag.replace("_", " "))


def flag_title(flags: tuple[str, ...]) -> str:
    """One marker per flagged sentence; its title gives every reason."""
    return "; ".join(flag_reason(flag) for flag in flags)


@dataclass(frozen=True, slots=True)
class Wrap:
    """One inline element around a run: a tag from a fixed list, and a link's http(s) URL."""

    tag: str
    href: str | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """A run of a sentence's plain text: the elements that open just before it (outermost first), and
    those that close just after it (innermost first). Each element opens and closes once, so the
    drawn sentence is as long as its text plus its marks, however deeply they nest."""

    text: str
    opens: tuple[Wrap, ...] = ()
    closes: tuple[Wrap, ...] = ()


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of a block's text: sentence `sentence` (with its flags), or the gap between sentences.

    `runs`, when set, is the sentence drawn from its plain text and marks (`options.alignment`):
    links and emphasis as elements, never the markdown or HTML source interpreted."""

    text: str
    sentence: int | None = None
    flags: tuple[str, ...] = ()
    runs: tuple[Run, ...] | None = None


_WRAP_TAGS = {"strong": "strong", "em": "em", "code": "code"}


def _wrap(kind: str, url: str | None) -> Wrap:
    if kind == "link" and is_web_url(url):
        return Wrap("a", url)
    return Wrap(_WRAP_TAGS.get(kind, "span"))


def runs(plain: str, marks: Sequence[MarkOut] | None) -> tuple[Run, ...]:
    """`plain` cut where marks start and end, each mark an element around its text (offsets: code points).

    The rules of `static/bitext.js` (`richNodes`): marks outer first (by start, longer first), empty
    or out-of-range ones left out, one that would cross its parent's end drawn up to that end, so
    the elements always nest. One sweep over the sorted marks with a stack of the open ones: the
    output is linear in the text plus the marks (each opens and closes once), never a copy of every
    enclosing element per run."""
    valid = sorted((m for m in marks or () if 0 <= m.start < m.end <= len(plain)), key=lambda m: (m.start, -m.end))
    cuts = sorted({0, len(plain), *(m.start for m in valid), *(m.end for m in valid)})
    pieces: list[tuple[str, list[Wrap], list[Wrap]]] = []  # (text, opens, closes)
    stack: list[tuple[Wrap, int]] = []  # the open elements and where each closes
    following = 0  # the next mark to open
    for start, end in zip(cuts, cuts[1:], strict=False):
        checkpoint(len(pieces))
        while stack and stack[-1][1] <= start:
            pieces[-1][2].append(stack.pop()[0])
        opens: list[Wrap] = []
        while following < len(valid) and valid[following].start <= start:
            mark = valid[following]
            following += 1
            if mark.end <= start:
                continue
            close = min(mark.end, stack[-1][1]) if stack else mark.end
            wrap = _wrap(mark.kind, mark.url)
            opens.append(wrap)
            stack.append((wrap, close))
        pieces.append((plain[start:end], opens, []))
    while stack and pieces:
        pieces[-1][2].append(stack.pop()[0])
    return tuple(Run(text, tuple(opens), tuple(closes)) for text, opens, closes in pieces)


def _flags(sentence: SentenceOut) -> tuple[str, ...]:
    """The sentence's flags, each once: a reason is drawn twice (title, aria-label), so a repeated flag
    must not repeat it."""
    return tuple(dict.fromkeys(sentence.flags))


def _drawn(sentence: SentenceOut, english: bool) -> tuple[Run, ...] | None:
    plain = sentence.en_plain if english else sentence.fr_plain
    marks = sentence.en_marks if english else sentence.fr_marks
    return runs(plain, marks) if plain is not None and marks else None


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


def is_web_url(url: str | None) -> bool:
    """Only http(s) images are shown: never javascript:, data: or file: URLs from the input."""
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _with_gaps(
    text: str, spans: Sequence[tuple[int, int]], sentences: Sequence[SentenceOut], english: bool = False
) -> list[Piece] | None:
    """`text` cut at `spans` (one per sentence); None when the spans do not tile it in order."""
    pieces: list[Piece] = []
    cursor = 0
    for (start, end), sentence in zip(spans, sentences, strict=True):
        if start < cursor or end < start or end > len(text):
            return None
        if start > cursor:
            pieces.append(Piece(text[cursor:start]))
        pieces.append(Piece(text[start:end], sentence.index, _flags(sentence), _drawn(sentence, english)))
        cursor = end
    if cursor < len(text):
        pieces.append(Piece(text[cursor:]))
    return pieces


def french_pieces(block: BlockOut) -> list[Piece]:
    """The French cut at the sentences' code-point offsets; the whole text if they disagree with it."""
    spans = [(s.start, s.end) for s in block.sentences]
    pieces = _with_gaps(block.fr, spans, block.sentences)
    if pieces is None or any(
        p.text != s.fr for p, s in zip((p for p in pieces if p.sentence is not None), block.sentences, strict=False)
    ):
        return [Piece(block.fr)]
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
        pieces = _with_gaps(block.en, spans, block.sentences, english=True)
        if pieces is not None:
            return pieces
    if not block.sentences:
        return [Piece(block.en)]
    rebuilt: list[Piece] = []
    cursor = 0  # the French the gaps have taken so far: each character goes in at most one gap
    for count, (previous, sentence) in enumerate(zip((None, *block.sentences), block.sentences, strict=False)):
        checkpoint(count)
        if previous is not None:
            # Offsets come from the client: gaps never overlap, or sentences pointing back at the start
            # would copy the whole French once each.
            start = max(previous.end, cursor)
            cursor = max(sentence.start, start)
            rebuilt.append(Piece(block.fr[start:cursor] or " "))
        rebuilt.append(Piece(sentence.en, sentence.index, _flags(sentence), _drawn(sentence, True)))
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
