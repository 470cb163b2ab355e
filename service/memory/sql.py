"""What the SQLite and PostgreSQL memories write and read alike, in each one's SQL dialect.

A backend subclasses its connection helper (`service.db`) first and `SqlMemory` second; it keeps
its own superseding insert, skeleton lookup, fuzzy candidates and deletion, which differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from models.memory import Unit
from service import clock
from service.memory.base import COLUMNS, SEARCH_LIMIT, Keys, Row, StoredUnit, like_pattern, stored

T = TypeVar("T")

_INSERTED = (
    "owner, source, normalised, skeleton, context, english, previous, next, origin, author, created, updated,"
    " supersedes"
)


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one backend spells the memory's table and its queries."""

    table: str
    mark: str  # the parameter placeholder: "?" or "%s"
    current: str  # the condition "the row is current"
    escape: str  # what follows a LIKE so that `like_pattern`'s backslash escapes

    def create_table(self, *, ident: str, supersedes: str, current: str) -> str:
        """The CREATE TABLE of the units, given the backend's types of the columns that differ."""
        return f"""CREATE TABLE IF NOT EXISTS {self.table} (
            id {ident},
            owner TEXT NOT NULL,
            source TEXT NOT NULL,
            normalised TEXT NOT NULL,
            skeleton TEXT NOT NULL,
            context TEXT NOT NULL,
            english TEXT NOT NULL,
            previous TEXT NOT NULL DEFAULT '',
            next TEXT NOT NULL DEFAULT '',
            origin TEXT NOT NULL,
            author TEXT NOT NULL,
            created TEXT NOT NULL,
            updated TEXT NOT NULL,
            supersedes {supersedes},
            current {current}
        )"""

    def insert(self) -> str:
        """The INSERT of one unit's row, with `unit_values`'s values."""
        return f"INSERT INTO {self.table} ({_INSERTED}) VALUES ({', '.join([self.mark] * 13)})"


def unit_values(
    owner: str, unit: Unit, keys: Keys, author: str, stamp: str, supersedes: int | None
) -> tuple[object, ...]:
    """The values of `Dialect.insert`'s columns for a unit written at `stamp`."""
    return (
        owner,
        unit.source,
        keys.normalised,
        keys.skeleton,
        keys.context,
        unit.english,
        unit.previous,
        unit.next,
        unit.origin.value,
        author,
        stamp,
        stamp,
        supersedes,
    )


class SqlMemory:
    """`add`, `add_many`, `search` and `units` over a backend's `_rows`, `_transaction` and `_insert`."""

    dialect: ClassVar[Dialect]

    def _rows(self, sql: str, parameters: Sequence[object]) -> Sequence[Row]:
        raise NotImplementedError

    def _transaction(self, work: Callable[[Any], T]) -> T:
        raise NotImplementedError

    @staticmethod
    def _insert(db: Any, owner: str, unit: Unit, author: str, stamp: str) -> int:
        """Write `unit` as the current row, superseding the old one; its id."""
        raise NotImplementedError

    def add(self, owner: str, unit: Unit, author: str) -> StoredUnit:
        d = self.dialect

        def work(db: Any) -> StoredUnit:
            ident = self._insert(db, owner, unit, author, clock.now())
            return stored(db.execute(f"SELECT {COLUMNS} FROM {d.table} WHERE id = {d.mark}", (ident,)).fetchone())

        return self._transaction(work)

    def add_many(self, owner: str, units: Iterable[Unit], author: str) -> int:
        stamp = clock.now()

        def work(db: Any) -> int:
            count = 0
            for unit in units:
                self._insert(db, owner, unit, author, stamp)
                count += 1
            return count

        return self._transaction(work)

    def search(self, owner: str, text: str, limit: int = SEARCH_LIMIT) -> list[StoredUnit]:
        d, pattern = self.dialect, like_pattern(text)
        rows = self._rows(
            f"SELECT {COLUMNS} FROM {d.table} WHERE owner = {d.mark} AND {d.current}"
            f" AND (normalised LIKE {d.mark}{d.escape} OR lower(english) LIKE {d.mark}{d.escape})"
            f" ORDER BY id DESC LIMIT {d.mark}",
            (owner, pattern, pattern, limit),
        )
        return [stored(row) for row in rows]

    def units(self, owner: str) -> list[StoredUnit]:
        d = self.dialect
        rows = self._rows(
            f"SELECT {COLUMNS} FROM {d.table} WHERE owner = {d.mark} AND {d.current} ORDER BY id", (owner,)
        )
        return [stored(row) for row in rows]
