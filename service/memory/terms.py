"""A key's term glossary: DeepL-style `source → target` entries applied inside every sentence.

A key has at most one glossary, stored beside its memory. An import replaces it as a whole (DeepL's
semantics: a glossary is one thing with a name) or, asked for, merges into it: an entry for a French
term the glossary has (same term for `models.glossary.term_key`) replaces that entry in place, the
others are added at the end. When translating with the key's memory on, its entries become `Terms`
between the server's glossary and the request's own (`options.glossary` wins).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from models.glossary import Terms, term_key

DEFAULT_NAME = "glossary"
MAX_NAME = 200


class GlossaryMode(StrEnum):
    """What an imported glossary does to the key's glossary."""

    REPLACE = "replace"  # the new entries are the glossary (DeepL: a glossary is replaced as a whole)
    MERGE = "merge"  # the new entries are added, replacing the entries for the same French terms


@dataclass(frozen=True, slots=True)
class Entry:
    source: str  # the French term
    target: str  # its English


@dataclass(frozen=True, slots=True)
class Glossary:
    name: str
    entries: tuple[Entry, ...]
    created: str = ""
    updated: str = ""

    def terms(self) -> Terms:
        return Terms(tuple((entry.source, entry.target) for entry in self.entries))


class GlossaryTooLarge(ValueError):
    """The glossary an import would leave has more entries than a request may carry terms."""

    def __init__(self, entries: int, limit: int) -> None:
        super().__init__(f"the glossary would have {entries} entries; the limit is {limit} (BITEXT_MAX_GLOSSARY_TERMS)")
        self.entries, self.limit = entries, limit


@dataclass(frozen=True, slots=True)
class GlossaryChange:
    """One import into a key's glossary: its entries, how they combine with the current ones, the name
    (None: the current glossary's, or `DEFAULT_NAME`), and the most entries the result may have."""

    entries: tuple[Entry, ...]
    mode: GlossaryMode = GlossaryMode.REPLACE
    name: str | None = None
    limit: int | None = None

    def applied(self, current: Glossary | None, stamp: str) -> Glossary:
        """The glossary after this change; `GlossaryTooLarge` past the limit (nothing is then written)."""
        entries = self.entries if self.mode is GlossaryMode.REPLACE or current is None else _merged(current, self)
        if self.limit is not None and len(entries) > self.limit:
            raise GlossaryTooLarge(len(entries), self.limit)
        name = self.name or (current.name if current is not None else DEFAULT_NAME)
        created = current.created if current is not None else stamp
        return Glossary(name, tuple(entries), created, stamp)


def _merged(current: Glossary, change: GlossaryChange) -> tuple[Entry, ...]:
    new = {term_key(entry.source): entry for entry in change.entries}
    kept = [new.pop(term_key(entry.source), entry) for entry in current.entries]
    return (*kept, *new.values())
