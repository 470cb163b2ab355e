"""What a translation memory holds and answers: units, the questions asked of it, its matches.

A `Unit` is one French sentence and its English, with the French sentences around it (its context)
and where it came from. A `MemoryIndex` is what the model layer asks, once per plan for all of a
document's sentences (`models.memory.lookup`); the service's stores implement it over SQL, and
`models.memory.index.UnitIndex` in memory (tests, benches, a library user).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from models.document import EnglishSource
from models.glossary import Terms
from models.memory.fuzzy import DEFAULT_THRESHOLD
from models.memory.normalise import normalise
from models.memory.placeables import skeleton


class Origin(StrEnum):
    """How a unit came into the memory."""

    EDIT = "edit"  # a person wrote or corrected the English
    IMPORT = "import"  # read from a TMX file
    PICKED = "picked"  # one of the beam's alternatives, chosen by a person
    SUGGEST = "suggest"  # LibreTranslate's POST /suggest


class MemoryMode(StrEnum):
    """`options.memory`: what a translation does with the caller's memory."""

    SUGGEST = "suggest"  # context and exact matches answer; fuzzy ones are offered beside the model's English
    APPLY = "apply"  # fuzzy matches at or over the threshold answer too
    OFF = "off"  # the memory is not consulted


class Tier(StrEnum):
    """How a unit matched a sentence, best first."""

    CONTEXT = "context"  # same sentence and the same sentences before and after it
    EXACT = "exact"  # same sentence once normalised (spaces, quotes, case)
    PLACEABLES = "placeables"  # same but for numbers and dates, swapped into the English
    FUZZY = "fuzzy"  # similar enough (token edit distance, percentage over the threshold)

    @property
    def source(self) -> EnglishSource:
        return EnglishSource(f"memory:{self.value}")


@dataclass(frozen=True, slots=True)
class Unit:
    source: str  # the French sentence
    english: str
    previous: str = ""  # the French sentence before it ("" at a document's start, or unknown)
    next: str = ""
    origin: Origin = Origin.EDIT

    @property
    def normalised(self) -> str:
        return normalise(self.source)

    @property
    def skeleton(self) -> str:
        return skeleton(self.normalised)


@dataclass(frozen=True, slots=True)
class Query:
    """One sentence to look up, with its neighbours in the document."""

    source: str
    previous: str = ""
    next: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    tier: Tier
    english: str  # the unit's English, placeables swapped for `Tier.PLACEABLES`
    percent: int
    unit: Unit

    def answers(self, mode: MemoryMode) -> bool:
        """Whether this match replaces the model's translation under `mode` (else it is a suggestion)."""
        if mode is MemoryMode.OFF:
            return False
        return self.tier is not Tier.FUZZY or mode is MemoryMode.APPLY


class MemoryIndex(Protocol):
    """What lookup asks of a memory: two calls, each for a whole batch of sentences.

    Both return current units only (not superseded ones), newest first.
    """

    def same_skeleton(self, skeletons: Sequence[str]) -> Mapping[str, Sequence[Unit]]:
        """The units whose normalised source has each skeleton (`models.memory.placeables.skeleton`)."""
        ...

    def similar(self, normalised: Sequence[str], limit: int) -> Mapping[str, Sequence[Unit]]:
        """For each normalised sentence, up to `limit` units sharing the most character trigrams with it."""
        ...


@dataclass(frozen=True, slots=True)
class MemoryUse:
    """How one translation uses a memory: which (None: none), in what mode, with what fuzzy threshold, and
    the memory's term glossary (applied inside sentences; whoever builds the request's `Fidelity` merges
    it between the server's terms and the request's own)."""

    index: MemoryIndex | None = None
    mode: MemoryMode = MemoryMode.SUGGEST
    threshold: int = DEFAULT_THRESHOLD
    terms: Terms = field(default_factory=Terms)

    @property
    def active(self) -> bool:
        return self.index is not None and self.mode is not MemoryMode.OFF
