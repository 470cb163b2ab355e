"""The data that flows through bitext: a parsed French document and its aligned English result.

Kept as plain dataclasses (no pydantic, no torch) so every layer can build and test them cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class BlockKind(StrEnum):
    """What a block is, which decides how it is shown and whether it is translated."""

    TITLE = "title"
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    IMAGE = "image"  # text is the alt text; url is kept byte for byte
    SOURCE = "source"  # publisher / byline: kept verbatim, never translated
    VERBATIM = "verbatim"  # anything we keep as is (code fences, rules…)
    CELL = "cell"  # one table cell; `cell` says where


@dataclass(frozen=True, slots=True)
class Block:
    """One unit of the source document.

    `prefix + text + suffix` is exactly the block as the user sent it: the markup around the
    translatable text (`# `, `![`, `](url)`) is kept verbatim, never dropped.
    """

    kind: BlockKind
    text: str
    translate: bool = True
    prefix: str = ""
    suffix: str = ""
    url: str | None = None
    markup: str = ""  # "markdown" or "html": `text` holds inline markup (`models.markup`)
    cell: tuple[int, int, int] | None = None  # a table cell: (table, row, column)

    @property
    def raw(self) -> str:
        return self.prefix + self.text + self.suffix


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed input: its blocks and the whitespace that separated them.

    `separators[i]` is the text before `blocks[i]`; `separators[-1]` trails the last block, so
    `render()` gives back the input exactly (for text formats; JSON articles have no layout).
    """

    blocks: tuple[Block, ...]
    separators: tuple[str, ...]
    format: str

    def __post_init__(self) -> None:
        if len(self.separators) != len(self.blocks) + 1:
            raise ValueError("a Document needs exactly one separator more than it has blocks")

    def render(self) -> str:
        parts = [self.separators[0]]
        for block, after in zip(self.blocks, self.separators[1:], strict=True):
            parts += [block.raw, after]
        return "".join(parts)


@dataclass(frozen=True, slots=True)
class Translation:
    """What an engine returns for one source string.

    `alternatives` (other distinct beam outputs, best first) and `score` (the chosen output's
    length-normalised log-probability) are filled only when `GenerationOptions` asks for them.
    """

    text: str
    source_tokens: int
    output_tokens: int
    alternatives: tuple[str, ...] = ()
    score: float | None = None


@dataclass(frozen=True, slots=True)
class Mark:
    """One inline markup element over `text[start:end]` of a sentence's plain text (a link, emphasis, code)."""

    kind: str  # link, image, strong, em, code, span
    start: int
    end: int
    url: str | None = None


@dataclass(frozen=True, slots=True)
class BilingualSentence:
    index: int
    start: int
    end: int
    fr: str
    en: str
    flags: tuple[str, ...] = ()
    # The sentence's plain texts: always in a block with markup, in every block with alignment asked for;
    # then (fr start, fr end, en start, en end) pairs.
    fr_plain: str | None = None
    en_plain: str | None = None
    alignment: tuple[tuple[int, int, int, int], ...] | None = None
    # Always in a block with markup: its elements over `fr_plain` and `en_plain`, so every reader (the
    # page, the export, batch pages) draws them without parsing markdown or HTML.
    fr_marks: tuple[Mark, ...] | None = None
    en_marks: tuple[Mark, ...] | None = None
    # Only when asked for (`GenerationOptions.alternatives`, `.scores`): other translations from the
    # beam (plain text) and the model's length-normalised log-probability of `en`.
    alternatives: tuple[str, ...] | None = None
    score: float | None = None


@dataclass(frozen=True, slots=True)
class BilingualBlock:
    index: int
    kind: BlockKind
    fr: str
    en: str
    translated: bool
    sentences: tuple[BilingualSentence, ...]
    prefix: str = ""
    suffix: str = ""
    url: str | None = None
    markup: str | None = None  # "markdown" or "html"; None: plain text
    cell: tuple[int, int, int] | None = None


@dataclass(frozen=True, slots=True)
class ModelInfo:
    name: str
    engine: str
    device: str
    dtype: str


@dataclass(frozen=True, slots=True)
class Stats:
    blocks: int
    sentences: int
    source_tokens: int
    output_tokens: int
    seconds: float


@dataclass(frozen=True, slots=True)
class BilingualDocument:
    source_lang: str
    target_lang: str
    model: ModelInfo
    format: str
    blocks: tuple[BilingualBlock, ...]
    stats: Stats
    warnings: tuple[str, ...] = field(default=())
