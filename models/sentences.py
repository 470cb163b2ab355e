"""What planning hands to assembly: a sentence's plan, the assembled blocks of a call, and how the
English of consecutive pieces is joined with the French's own gaps. Shared by `models.plan` and
`models.assemble`, so neither imports the other's module."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from models.document import BilingualBlock
from models.flags import Flag
from models.markup import Alignment, SentenceMarkup
from models.segment import Span

FLAG_SPLIT_WINDOW = Flag.SPLIT_WINDOW
FLAG_KEPT_VERBATIM = Flag.KEPT_VERBATIM


@dataclass(frozen=True, slots=True)
class SentencePlan:
    """One source sentence of a block: where it is, and the pieces the model will see."""

    span: Span  # in the block's text (markup included)
    pieces: tuple[Span, ...]  # in `source`; one piece unless longer than the model window
    translate: bool
    source: str = ""  # what the model is sent: the sentence, without its markup
    markup: SentenceMarkup | None = None

    @property
    def split(self) -> bool:
        return len(self.pieces) > 1


# No French word is this long: a run like this is a URL, a hash, base64 or junk, and sending it
# through the model costs minutes of windows for noise (a 200,000-character run is ~400 windows).
def join_pieces(text: str, pieces: Sequence[Span], translations: Sequence[str]) -> str:
    """Translations of consecutive pieces of `text`, joined by the source's own gaps."""
    out = [translations[0]]
    for previous, piece, english in zip(pieces, pieces[1:], translations[1:], strict=False):
        out += [text[previous.end : piece.start], english]
    return "".join(out)


class Aligning(Protocol):
    """What assembly needs to place markup: word alignment (the scheduler's lane, or an engine)."""

    def align(self, sources: Sequence[str], targets: Sequence[str]) -> list[Alignment]: ...


@dataclass(frozen=True, slots=True)
class Assembled:
    """Blocks assembled from one call of `Plan.assemble`, with what their sentences counted."""

    blocks: tuple[BilingualBlock, ...]
    sentences: int = 0
    source_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Assembled) -> Assembled:
        return Assembled(
            self.blocks + other.blocks,
            self.sentences + other.sentences,
            self.source_tokens + other.source_tokens,
            self.output_tokens + other.output_tokens,
        )
