"""A key's term glossary in SQL, the same on SQLite and PostgreSQL: one row per key (its name and times)
and its entries in order. Two tables of their own beside the units, created with `IF NOT EXISTS`, so a
memory database made before glossaries existed gains them when it is next opened.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from service import clock
from service.memory.base import Row
from service.memory.terms import Entry, Glossary, GlossaryChange

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class GlossaryTables:
    """The two tables' names in one backend and its parameter placeholder."""

    glossaries: str
    entries: str
    mark: str  # "?" or "%s"

    def create(self) -> tuple[str, ...]:
        return (
            f"""CREATE TABLE IF NOT EXISTS {self.glossaries} (
                owner TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                created TEXT NOT NULL,
                updated TEXT NOT NULL
            )""",
            f"""CREATE TABLE IF NOT EXISTS {self.entries} (
                owner TEXT NOT NULL,
                position INTEGER NOT NULL,
                source TEXT NOT NULL,
                target TEXT NOT NULL,
                PRIMARY KEY (owner, position)
            )""",
        )

    def select(self) -> str:
        m = self.mark
        return (
            f"SELECT g.name, g.created, g.updated, e.source, e.target FROM {self.glossaries} g"
            f" LEFT JOIN {self.entries} e ON e.owner = g.owner WHERE g.owner = {m} ORDER BY e.position"
        )


def glossary_of(rows: Sequence[Row]) -> Glossary | None:
    if not rows:
        return None
    first = rows[0]
    entries = tuple(Entry(str(row["source"]), str(row["target"])) for row in rows if row["source"] is not None)
    return Glossary(str(first["name"]), entries, str(first["created"]), str(first["updated"]))


class SqlGlossary:
    """`glossary`, `change_glossary` and `delete_glossary` over a backend's `_rows` and `_transaction`."""

    glossary_tables: ClassVar[GlossaryTables]

    def _rows(self, sql: str, parameters: Sequence[object]) -> Sequence[Row]:
        raise NotImplementedError

    def _transaction(self, work: Callable[[Any], T]) -> T:
        raise NotImplementedError

    def _lock_owner(self, db: Any, owner: str) -> None:
        """Hold off other writers of `owner`'s glossary until the transaction ends (SQLite's write
        transaction already does)."""

    def glossary(self, owner: str) -> Glossary | None:
        return glossary_of(self._rows(self.glossary_tables.select(), (owner,)))

    def change_glossary(self, owner: str, change: GlossaryChange) -> Glossary:
        t, m = self.glossary_tables, self.glossary_tables.mark

        def work(db: Any) -> Glossary:
            self._lock_owner(db, owner)
            new = change.applied(glossary_of(db.execute(t.select(), (owner,)).fetchall()), clock.now())
            self._delete(db, owner)
            db.execute(
                f"INSERT INTO {t.glossaries} (owner, name, created, updated) VALUES ({m}, {m}, {m}, {m})",
                (owner, new.name, new.created, new.updated),
            )
            db.cursor().executemany(
                f"INSERT INTO {t.entries} (owner, position, source, target) VALUES ({m}, {m}, {m}, {m})",
                [(owner, position, entry.source, entry.target) for position, entry in enumerate(new.entries)],
            )
            return new

        return self._transaction(work)

    def delete_glossary(self, owner: str) -> int:
        """Delete `owner`'s glossary; how many entries went."""

        def work(db: Any) -> int:
            self._lock_owner(db, owner)
            return self._delete(db, owner)

        return self._transaction(work)

    def _delete(self, db: Any, owner: str) -> int:
        t = self.glossary_tables
        count = int(db.execute(f"DELETE FROM {t.entries} WHERE owner = {t.mark}", (owner,)).rowcount)
        db.execute(f"DELETE FROM {t.glossaries} WHERE owner = {t.mark}", (owner,))
        return count
