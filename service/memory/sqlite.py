"""The translation memory of a single server: SQLite, in the job store's file's directory.

Exact lookup is an index hit on `(owner, skeleton)` among current rows; fuzzy candidates come from an
FTS5 table with the trigram tokenizer (SQLite 3.34+), queried with each sentence's rarest trigrams
(their document counts from `fts5vocab`), so a common trigram (" de") never makes a query scan the
whole memory.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from models.memory import Unit, trigrams
from service.db.sqlite import SqliteStore
from service.memory.base import COLUMNS, chunks, stored
from service.memory.glossary_sql import GlossaryTables, SqlGlossary
from service.memory.sql import Dialect, SqlMemory
from service.memory.supersede import Superseding

RARE_TRIGRAMS = 6  # per sentence: the posting lists a fuzzy lookup reads
COMMON = 2_000  # a trigram held by more units than this is never read

_DIALECT = Dialect("memory_units", mark="?", current="current = 1", escape=" ESCAPE '\\'")
_GLOSSARY = GlossaryTables("memory_glossaries", "memory_glossary_entries", mark="?")
_SCHEMA = (
    _DIALECT.create_table(
        ident="INTEGER PRIMARY KEY",
        supersedes="INTEGER REFERENCES memory_units(id)",
        current="INTEGER NOT NULL DEFAULT 1",
    ),
    "CREATE INDEX IF NOT EXISTS memory_skeleton ON memory_units(owner, skeleton) WHERE current = 1",
    "CREATE UNIQUE INDEX IF NOT EXISTS memory_current ON memory_units(owner, normalised, context) WHERE current = 1",
    "CREATE INDEX IF NOT EXISTS memory_owner ON memory_units(owner, id)",
    # Current units' normalised French only; rowid = the unit's id.
    "CREATE VIRTUAL TABLE IF NOT EXISTS memory_trigrams USING fts5(normalised, tokenize='trigram', detail='none')",
    "CREATE TABLE IF NOT EXISTS memory_grams (gram TEXT PRIMARY KEY, units INTEGER NOT NULL) WITHOUT ROWID",
    *_GLOSSARY.create(),
)
_COUNT = (
    "INSERT INTO memory_grams (gram, units) VALUES (?, ?)"
    " ON CONFLICT(gram) DO UPDATE SET units = units + excluded.units"
)


class SqliteMemoryStore(SqliteStore, SqlMemory, SqlGlossary):
    """Thread-safe; writes are `BEGIN IMMEDIATE` transactions."""

    dialect = _DIALECT
    glossary_tables = _GLOSSARY

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        try:
            for statement in _SCHEMA:
                self._db.execute(statement)
        except sqlite3.OperationalError as error:
            raise RuntimeError(
                f"the translation memory needs SQLite 3.34+ with FTS5 (this one is {sqlite3.sqlite_version}): {error}"
            ) from None

    @staticmethod
    def _hold(db: sqlite3.Connection, owner: str) -> None:
        """Nothing to take: a write is already the file's only writer (`BEGIN IMMEDIATE`)."""

    @staticmethod
    def _new_ids(db: sqlite3.Connection, count: int) -> list[int]:
        top = int(db.execute("SELECT COALESCE(MAX(id), 0) FROM memory_units").fetchone()[0])
        return list(range(top + 1, top + 1 + count))

    @staticmethod
    def _index(db: sqlite3.Connection, written: Superseding) -> None:
        """The FTS5 rows of the superseded units out, the new current ones in, and each trigram's count moved
        once by its net change over the whole write."""
        db.executemany("DELETE FROM memory_trigrams WHERE rowid = ?", [(ident,) for ident in written.superseded])
        current = written.current
        db.executemany(
            "INSERT INTO memory_trigrams (rowid, normalised) VALUES (?, ?)",
            [(row.id, row.keys.normalised) for row in current],
        )
        # A unit superseding one for the same sentence leaves the counts as they were: count by text first.
        texts = Counter(row.keys.normalised for row in current)
        texts.subtract(written.superseded.values())
        change: Counter[str] = Counter()
        for text, units in texts.items():
            for gram in trigrams(text) if units else ():
                change[gram] += units
        db.executemany(_COUNT, [(gram, units) for gram, units in sorted(change.items()) if units])

    def delete_all(self, owner: str) -> int:
        with self._writing() as db:
            for row in db.execute("SELECT normalised FROM memory_units WHERE owner = ? AND current = 1", (owner,)):
                db.executemany(_COUNT, [(gram, -1) for gram in trigrams(row["normalised"])])
            db.execute(
                "DELETE FROM memory_trigrams"
                " WHERE rowid IN (SELECT id FROM memory_units WHERE owner = ? AND current = 1)",
                (owner,),
            )
            entries = self._delete(db, owner)
            return int(db.execute("DELETE FROM memory_units WHERE owner = ?", (owner,)).rowcount) + entries

    def same_skeleton(self, owner: str, skeletons: Sequence[str]) -> Mapping[str, Sequence[Unit]]:
        found: dict[str, list[Unit]] = {}
        for part in chunks(skeletons):
            marks = ", ".join("?" * len(part))
            # No ORDER BY: it would tempt the planner into walking (owner, id) over the whole memory.
            rows = self._rows(
                f"SELECT {COLUMNS}, skeleton FROM memory_units INDEXED BY memory_skeleton"
                f" WHERE owner = ? AND current = 1 AND skeleton IN ({marks})",
                (owner, *part),
            )
            for row in sorted(rows, key=lambda row: -row["id"]):  # newest first
                found.setdefault(row["skeleton"], []).append(stored(row).unit)
        return found

    def similar(self, owner: str, normalised: Sequence[str], limit: int) -> Mapping[str, Sequence[Unit]]:
        grams = {text: trigrams(text) for text in normalised}
        counts = self._counts({g for found in grams.values() for g in found})
        out: dict[str, list[Unit]] = {}
        for text, found in grams.items():
            rare = sorted((g for g in found if 0 < counts.get(g, 0) <= COMMON), key=lambda g: counts[g])
            shared: Counter[int] = Counter()
            for gram in rare[:RARE_TRIGRAMS]:
                phrase = '"' + gram.replace('"', '""') + '"'
                shared.update(
                    row[0]
                    for row in self._rows("SELECT rowid FROM memory_trigrams WHERE memory_trigrams MATCH ?", (phrase,))
                )
            out[text] = self._owned([ident for ident, _ in shared.most_common(4 * limit)], owner)[:limit]
        return out

    def _owned(self, ids: list[int], owner: str) -> list[Unit]:
        """The current units among `ids` that `owner` holds, in the order of `ids`."""
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        rows = self._rows(
            f"SELECT {COLUMNS} FROM memory_units WHERE id IN ({marks}) AND owner = ? AND current = 1", (*ids, owner)
        )
        by_id = {row["id"]: stored(row).unit for row in rows}
        return [by_id[ident] for ident in ids if ident in by_id]

    def _counts(self, grams: set[str]) -> dict[str, int]:
        """How many current units (all owners) hold each trigram."""
        counts: dict[str, int] = {}
        for part in chunks(sorted(grams)):
            marks = ", ".join("?" * len(part))
            for row in self._rows(f"SELECT gram, units FROM memory_grams WHERE gram IN ({marks})", part):
                counts[row["gram"]] = row["units"]
        return counts
