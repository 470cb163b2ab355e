"""What every memory store holds and offers: the typed `StoredUnit` row and the `MemoryStore` interface.

A memory belongs to one owner (a hash of an API key, `service.auth.owner_of`; "" with keys off), as
jobs do. A unit is never edited in place: adding a unit for the same sentence in the same context
(normalised source, previous and next) writes a new row that `supersedes` the old one, which stops
being current but is kept (history). Lookup sees current units only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from models.memory import Origin, Unit, normalise
from models.memory.placeables import skeleton
from service.memory.terms import Glossary, GlossaryChange

SEARCH_LIMIT = 100
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StoredUnit:
    id: int
    unit: Unit
    author: str  # the owner hash of the key that wrote it
    created: str
    updated: str
    supersedes: int | None = None


@dataclass(frozen=True, slots=True)
class Keys:
    """The computed columns of a unit: what lookup and superseding compare."""

    normalised: str
    skeleton: str
    context: str  # normalised previous and next: the unit's place, for superseding

    @classmethod
    def of(cls, unit: Unit) -> Keys:
        normalised = normalise(unit.source)
        around = [normalise(text) if text else "" for text in (unit.previous, unit.next)]  # most have none
        return cls(normalised, skeleton(normalised), "\n".join(around))


class MemoryStore(Protocol):
    def add(self, owner: str, unit: Unit, author: str) -> StoredUnit:
        """Store `unit`, superseding the current unit for the same sentence and context."""
        ...

    def add_many(self, owner: str, units: Iterable[Unit], author: str) -> int:
        """Store every unit in one transaction (all or none); how many were stored."""
        ...

    def search(self, owner: str, text: str, limit: int = SEARCH_LIMIT) -> list[StoredUnit]:
        """Current units whose French or English contains `text` (normalised), newest first."""
        ...

    def units(self, owner: str) -> list[StoredUnit]:
        """Every current unit, oldest first (what an export writes)."""
        ...

    def delete_all(self, owner: str) -> int:
        """Delete the owner's whole memory, history and glossary included; how many units and entries went."""
        ...

    def glossary(self, owner: str) -> Glossary | None:
        """The owner's term glossary (`service.memory.terms`), or None."""
        ...

    def change_glossary(self, owner: str, change: GlossaryChange) -> Glossary:
        """Replace or merge the owner's glossary in one transaction (`GlossaryTooLarge`: nothing written)."""
        ...

    def delete_glossary(self, owner: str) -> int:
        """Delete the owner's glossary; how many entries went."""
        ...

    def same_skeleton(self, owner: str, skeletons: Sequence[str]) -> Mapping[str, Sequence[Unit]]: ...

    def similar(self, owner: str, normalised: Sequence[str], limit: int) -> Mapping[str, Sequence[Unit]]: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class OwnedIndex:
    """One owner's memory as the `MemoryIndex` the model layer looks sentences up in."""

    store: MemoryStore
    owner: str

    def same_skeleton(self, skeletons: Sequence[str]) -> Mapping[str, Sequence[Unit]]:
        return self.store.same_skeleton(self.owner, skeletons)

    def similar(self, normalised: Sequence[str], limit: int) -> Mapping[str, Sequence[Unit]]:
        return self.store.similar(self.owner, normalised, limit)


COLUMNS = "id, source, english, previous, next, origin, author, created, updated, supersedes"


class Row(Protocol):
    """A row by column name: sqlite3.Row, or psycopg's dict row."""

    def __getitem__(self, key: str) -> Any: ...


def stored(row: Row) -> StoredUnit:
    unit = Unit(
        str(row["source"]), str(row["english"]), str(row["previous"]), str(row["next"]), Origin(str(row["origin"]))
    )
    supersedes = row["supersedes"]
    return StoredUnit(
        int(str(row["id"])),
        unit,
        str(row["author"]),
        str(row["created"]),
        str(row["updated"]),
        int(str(supersedes)) if supersedes is not None else None,
    )


def like_pattern(text: str) -> str:
    """`text` normalised, as a LIKE pattern matching it anywhere (its `%`, `_` and `\\` escaped)."""
    escaped = normalise(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def chunks(items: Sequence[T], size: int = 500) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
