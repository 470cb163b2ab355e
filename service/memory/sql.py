"""What the SQLite and PostgreSQL memories write and read alike, in each one's SQL dialect.

A backend subclasses its connection helper (`service.db`) first and `SqlMemory` second; it keeps
its own writer's lock, ids, trigram index upkeep, skeleton lookup, fuzzy candidates and deletion,
which differ.

Writing is set-wise, one transaction per call whether it holds one unit or an import's 100,000: the
current rows the units supersede are read in chunks of `IN (…)` (PostgreSQL: one join with an
array), the superseding is worked out in Python (`service.memory.supersede`), the old rows are
marked in chunks and the new ones inserted with one `executemany`; the backend then updates its
trigram index once for the whole write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from models.memory import Unit
from service import clock
from service.memory.base import COLUMNS, SEARCH_LIMIT, Keys, Row, StoredUnit, chunks, like_pattern, stored
from service.memory.supersede import NewRow, Place, Superseding, supersede

T = TypeVar("T")

_INSERTED = (
    "id, owner, source, normalised, skeleton, context, english, previous, next, origin, author, created, updated,"
    " supersedes, current"
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
        return f"INSERT INTO {self.table} ({_INSERTED}) VALUES ({self.marks(15)})"

    def marks(self, count: int) -> str:
        return ", ".join([self.mark] * count)


def unit_values(owner: str, row: NewRow, author: str, stamp: str) -> tuple[object, ...]:
    """The values of `Dialect.insert`'s columns for a row written at `stamp`."""
    unit, keys = row.unit, row.keys
    return (
        row.id,
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
        row.supersedes,
        row.current,
    )


class SqlMemory:
    """`add`, `add_many`, `search` and `units` over a backend's `_rows`, `_transaction`, `_hold`, `_new_ids`
    and `_index`."""

    dialect: ClassVar[Dialect]

    def _rows(self, sql: str, parameters: Sequence[object]) -> Sequence[Row]:
        raise NotImplementedError

    def _transaction(self, work: Callable[[Any], T]) -> T:
        raise NotImplementedError

    @staticmethod
    def _hold(db: Any, owner: str) -> None:
        """Be the only writer of `owner`'s memory until the transaction ends."""
        raise NotImplementedError

    @staticmethod
    def _new_ids(db: Any, count: int) -> list[int]:
        """`count` unused row ids, rising."""
        raise NotImplementedError

    @staticmethod
    def _index(db: Any, written: Superseding) -> None:
        """Bring the fuzzy (trigram) index up to date after `written`."""
        raise NotImplementedError

    def add(self, owner: str, unit: Unit, author: str) -> StoredUnit:
        d = self.dialect

        def work(db: Any) -> StoredUnit:
            (ident,) = self._write(db, owner, [unit], author, clock.now())
            return stored(db.execute(f"SELECT {COLUMNS} FROM {d.table} WHERE id = {d.mark}", (ident,)).fetchone())

        return self._transaction(work)

    def add_many(self, owner: str, units: Iterable[Unit], author: str) -> int:
        stamp = clock.now()
        return self._transaction(lambda db: len(self._write(db, owner, units, author, stamp)))

    def _write(self, db: Any, owner: str, units: Iterable[Unit], author: str, stamp: str) -> list[int]:
        """Store `units` in order inside the caller's transaction, each superseding the current unit for its
        sentence and context (a stored one, or an earlier one of `units`); the new rows' ids."""
        d = self.dialect
        keyed = [(unit, Keys.of(unit)) for unit in units]
        if not keyed:
            return []
        self._hold(db, owner)
        current = self._current(db, owner, {keys.normalised for _, keys in keyed})
        written = supersede(keyed, current, self._new_ids(db, len(keyed)))
        for part in chunks(sorted(written.superseded)):
            db.execute(
                f"UPDATE {d.table} SET current = {d.mark}, updated = {d.mark} WHERE id IN ({d.marks(len(part))})",
                (False, stamp, *part),
            )
        db.cursor().executemany(d.insert(), [unit_values(owner, row, author, stamp) for row in written.rows])
        self._index(db, written)
        return [row.id for row in written.rows]

    def _current(self, db: Any, owner: str, normalised: set[str]) -> dict[Place, int]:
        """The ids of `owner`'s current rows for these normalised sentences, by place."""
        d = self.dialect
        found: dict[Place, int] = {}
        for part in chunks(sorted(normalised)):
            rows = db.execute(
                f"SELECT id, normalised, context FROM {d.table} WHERE owner = {d.mark} AND {d.current}"
                f" AND normalised IN ({d.marks(len(part))})",
                (owner, *part),
            ).fetchall()
            for row in rows:
                found[(row["normalised"], row["context"])] = int(row["id"])
        return found

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
