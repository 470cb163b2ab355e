"""SRT and WebVTT: a cue is a block; a sentence running over several cues is translated whole.

The file is kept as a list of pieces: verbatim text (the WEBVTT header, NOTE/STYLE/REGION blocks,
blank lines) and cues. A cue's head (its number or identifier and its timing line, settings
included) is kept byte for byte; only its text lines are rewritten. Consecutive cues whose text
does not end a sentence are one group: one block for the pipeline, then its English is cut back
over the group's cues in proportion to their French length (`split_across_cues`).

Cue tags are kept in every layout: the tags that wrap a cue's whole text (`<v Marie>`, `<i>…</i>`,
`<c.yellow>…</c>`, an SRT position code `{\\an8}`) wrap its English line too (`_wrapping`); tags around
some words only are left out of the English, whose words are not the French's. In the bilingual layouts
the English line is set apart by a `CueStyle` (italic by default, a colour, or none).

Parsing is line by line, linear in the file's size; no regex backtracks.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from models.document import (
    BilingualBlock,
    BilingualDocument,
    BilingualSentence,
    Block,
    BlockKind,
    Document,
    EnglishSource,
    Suggestion,
)
from models.flags import Flag
from service.formats.base import FormatError, Layout, Source
from service.formats.cuestyle import DEFAULT_CUE_STYLE, CueStyle
from service.formats.textsplit import split_proportionally
from service.jobs.decode import DocumentError, decode_bytes
from service.jobs.limits import Limits
from service.jobs.reasons import Reason

FLAG_SPLIT_ACROSS_CUES = Flag.SPLIT_ACROSS_CUES
# A group never holds more cues than this, whatever the punctuation says.
MAX_GROUP_CUES = 8
# Not translated: a tag (<i>, </i>, <v Speaker>, <00:01.000>), or an SRT position code ({\an8})
_MARKUP = re.compile(r"<[^<>\n]{0,200}>|\{\\[^{}\n]{0,100}\}")
_END = (".", "!", "?", "…", "»", '"', "”", ")", "♪", ":")


@dataclass(frozen=True, slots=True)
class Cue:
    head: str  # identifier line(s) and the timing line, with their line endings, byte for byte
    lines: tuple[str, ...]  # text lines without their endings
    newline: str  # the line ending the file uses

    @property
    def text(self) -> str:
        """The cue's words for the model: tags and position codes dropped, lines joined by spaces."""
        return " ".join(part for line in self.lines if (part := _MARKUP.sub("", line).strip()))


@dataclass(frozen=True, slots=True)
class Parsed:
    pieces: tuple[str | Cue, ...]
    cues: tuple[Cue, ...]
    groups: tuple[tuple[int, ...], ...]  # cue indices of each block


def _parse(text: str, kind: str) -> Parsed:
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    pieces: list[str | Cue] = []
    cues: list[Cue] = []
    i = 0
    if kind == "vtt":
        if not lines or not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
            raise FormatError(Reason.UNPARSABLE, "a WebVTT file starts with WEBVTT")
    while i < len(lines):
        if not lines[i].strip():
            pieces.append(lines[i])
            i += 1
            continue
        start = i
        while i < len(lines) and lines[i].strip():
            i += 1
        block = lines[start:i]
        timing = next((n for n, line in enumerate(block[:3]) if "-->" in line), None)
        if timing is None or (kind == "vtt" and block[0].startswith(("NOTE", "STYLE", "REGION", "WEBVTT"))):
            pieces.append("".join(block))  # a header, a note, a stray line: kept verbatim
            continue
        cue = Cue("".join(block[: timing + 1]), tuple(line.rstrip("\r\n") for line in block[timing + 1 :]), newline)
        if not block[-1].endswith(("\n", "\r")):  # the file's last line, without an ending: kept so
            cue = dataclasses.replace(cue, newline="")
        pieces.append(cue)
        cues.append(cue)
    if not cues:
        raise FormatError(Reason.EMPTY, f"no {kind.upper()} cues found")
    groups: list[tuple[int, ...]] = []
    current: list[int] = []
    for index, cue in enumerate(cues):
        if not cue.text:
            if current:
                groups.append(tuple(current))
                current = []
            continue
        current.append(index)
        if cue.text.endswith(_END) or len(current) >= MAX_GROUP_CUES:
            groups.append(tuple(current))
            current = []
    if current:
        groups.append(tuple(current))
    return Parsed(tuple(pieces), tuple(cues), tuple(groups))


class Subtitles:
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def read(self, data: bytes, caps: Limits) -> Source:
        if len(data) > caps.max_member_bytes:
            raise FormatError(Reason.MEMBER_TOO_LARGE, f"{len(data)} bytes")
        try:
            text, _ = decode_bytes(data)
        except DocumentError as error:
            raise FormatError(error.code, str(error)) from None
        parsed = _parse(text, self.kind)
        blocks = tuple(
            Block(BlockKind.PARAGRAPH, " ".join(parsed.cues[i].text for i in group)) for group in parsed.groups
        )
        separators = ("", *(["\n\n"] * len(blocks)))
        return Source(self.kind, data, Document(blocks, separators, self.kind), parsed)

    def bilingual(self, source: Source, result: BilingualDocument) -> BilingualDocument:
        """One block per cue: a group's English cut over its cues, flagged when it spans several."""
        parsed: Parsed = source.state
        english: dict[int, tuple[str, tuple[str, ...], Origin]] = {}
        for group, block in zip(parsed.groups, result.blocks, strict=True):
            flags = tuple(dict.fromkeys(flag for sentence in block.sentences for flag in sentence.flags))
            spans = _cue_spans([len(parsed.cues[i].text) for i in group])
            if len(group) == 1:
                english[group[0]] = (block.en, flags, _origin(block.sentences, spans[0]))
                continue
            parts = split_proportionally(block.en, [len(parsed.cues[i].text) for i in group])
            for index, part, span in zip(group, parts, spans, strict=True):
                english[index] = (part, (*flags, FLAG_SPLIT_ACROSS_CUES), _origin(block.sentences, span))
        blocks = []
        for index, cue in enumerate(parsed.cues):
            fr = cue.text
            en, flags, origin = english.get(index, (fr, (), Origin(EnglishSource.KEPT)))
            translated = index in english
            sentence = BilingualSentence(
                0, 0, len(fr), fr, en, flags, source=origin.source, match=origin.match, suggestion=origin.suggestion
            )
            blocks.append(BilingualBlock(index, BlockKind.PARAGRAPH, fr, en, translated, (sentence,) if fr else ()))
        stats = dataclasses.replace(result.stats, blocks=len(blocks))
        return dataclasses.replace(result, blocks=tuple(blocks), stats=stats, format=self.kind)

    def write(
        self,
        source: Source,
        result: BilingualDocument,
        layout: Layout,
        suffix: str,
        style: CueStyle = DEFAULT_CUE_STYLE,
    ) -> bytes:
        parsed: Parsed = source.state
        by_cue = {id(cue): block for cue, block in zip(parsed.cues, result.blocks, strict=True)}
        out: list[str] = []
        styled = False  # a WebVTT file's STYLE block, when the style needs one, goes before its first cue
        for piece in parsed.pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            if not styled and self.kind == "vtt" and layout != Layout.ENGLISH:
                out.append(style.vtt_style_block(piece.newline or "\n"))
            styled = True
            block = by_cue[id(piece)]
            nl = piece.newline or "\n"
            if not piece.lines:  # a cue without text: nothing to add
                out.append(piece.head)
                continue
            english = _safe_line(block.en) if block.translated else ""
            head, tail, names = _wrapping(piece.lines)
            if not block.translated:
                lines = list(piece.lines)
            elif layout == Layout.ENGLISH:
                lines = [f"{head}{english or '…'}{tail}"]
            else:  # no columns in a subtitle: side by side is the English under the French too, styled
                lines = [*piece.lines, f"{head}{style.wrap(english, self.kind, 'i' in names)}{tail}"]
            out.append(piece.head + nl.join(lines) + piece.newline)
        return "".join(out).encode("utf-8")


# From the least sure to the surest: a cue carrying sentences of several sources says the least sure one.
_TRUST = (
    EnglishSource.MODEL,
    EnglishSource.MEMORY_FUZZY,
    EnglishSource.MEMORY_PLACEABLES,
    EnglishSource.MEMORY_EXACT,
    EnglishSource.MEMORY_CONTEXT,
    EnglishSource.KEPT,
)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a cue's English came from, read from the group's sentences it carries."""

    source: EnglishSource
    match: int | None = None
    suggestion: Suggestion | None = None


def _cue_spans(lengths: list[int]) -> list[tuple[int, int]]:
    """Each cue's range in its group's French: the cues' texts joined by one space."""
    spans, start = [], 0
    for length in lengths:
        spans.append((start, start + length))
        start += length + 1
    return spans


def _origin(sentences: tuple[BilingualSentence, ...], span: tuple[int, int]) -> Origin:
    """The source of the sentences whose French overlaps `span` (the least sure, and the lowest match, when
    they differ); a suggestion only when the cue is one whole sentence, whose memory unit it then is."""
    start, end = span
    carried = [s for s in sentences if s.start < end and s.end > start] or list(sentences)
    if not carried:
        return Origin(EnglishSource.MODEL)
    source = min((s.source for s in carried), key=_TRUST.index)
    matches = [s.match for s in carried if s.source == source and s.match is not None]
    whole = carried[0] if len(carried) == 1 and (carried[0].start, carried[0].end) == span else None
    return Origin(source, min(matches) if matches else None, whole.suggestion if whole is not None else None)


def _tag_name(tag: str) -> str:
    """`<v Marie>` → `v`, `</i>` → `i`, `<c.yellow>` → `c`, `{\\an8}` → `{`; a timestamp `<00:01.000>` → ``."""
    if tag.startswith("{"):
        return "{"
    name = re.split(r"[\s.>]", tag.lstrip("</"), maxsplit=1)[0].lower()
    return "" if name[:1].isdigit() else name


def _wrapping(lines: tuple[str, ...]) -> tuple[str, str, frozenset[str]]:
    """The tags before a cue's first word and after its last that wrap its whole text: (opening, closing,
    their names). An opening tag closed inside the text (`<i>Bonjour</i> à tous`) wraps some words only
    and is left out; a timestamp is left out (its time is the French's); an unclosed voice is kept."""
    raw = "\n".join(lines)
    tags = list(_MARKUP.finditer(raw))
    covered = bytearray(len(raw))
    for match in tags:
        covered[match.start() : match.end()] = b"\x01" * (match.end() - match.start())
    text = [i for i, char in enumerate(raw) if not covered[i] and not char.isspace()]
    if not text:
        return "", "", frozenset()
    first, last = text[0], text[-1]
    inner = {_tag_name(m.group()) for m in tags if first < m.start() < last}
    head = [
        m.group()
        for m in tags
        if m.end() <= first and not m.group().startswith("</") and _tag_name(m.group()) not in ("", *inner)
    ]
    names = frozenset(_tag_name(tag) for tag in head)
    tail = [
        m.group() for m in tags if m.start() > last and m.group().startswith("</") and _tag_name(m.group()) in names
    ]
    return "".join(head), "".join(tail), names


def _safe_line(text: str) -> str:
    """English as one cue line: no blank line (it would end the cue), no timing arrow."""
    return " ".join(text.split()).replace("-->", "→")


class Srt(Subtitles):
    def __init__(self) -> None:
        super().__init__("srt")


class Vtt(Subtitles):
    def __init__(self) -> None:
        super().__init__("vtt")
