"""The translation memory of a single server: SQLite, in the job store's file's directory.

Exact lookup is an index hit on `(owner, skeleton)` among current rows; fuzzy candidates come from an
FTS5 table with the trigram tokenizer (SQLite 3.34+), queried with each sentence's rarest trigrams
(their document counts from `fts5vocab`), so a common trigram (" de") never makes a query scan the
whole memory.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from models.memory import Unit, trigrams
from service import clock
from service.jobs.outputs import create_file, private_dir
from service.memory.base import COLUMNS, SEARCH_LIMIT, Keys, StoredUnit, chunks, like_pattern, stored

RARE_TRIGRAMS = 12  # per sentence: the ones a fuzzy query asks for

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS memory_units (
        id INTEGER PRIMARY KEY,
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
        supersedes INTEGER REFERENCES memory_units(id),
        current INTEGER NOT NULL DEFAULT 1
    )""",
    "CREATE INDEX IF NOT EXISTS memory_skeleton ON memory_units(owner, skeleton) WHERE current = 1",
    "CREATE UNIQUE INDEX IF NOT EXISTS memory_current ON memory_units(owner, normalised, context) WHERE current = 1",
    "CREATE INDEX IF NOT EXISTS memory_owner ON memory_units(owner, id)",
    # Current units' normalised French only; rowid = the unit's id.
    "CREATE VIRTUAL TABLE IF NOT EXISTS memory_trigrams USING fts5(normalised, tokenize='trigram', detail='none')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS memory_trigram_counts USING fts5vocab(memory_trigrams, 'row')",
)


class SqliteMemoryStore:
    """Thread-safe; writes are `BEGIN IMMEDIATE` transactions."""

    def __init__(self, path: Path) -> None:
        private_dir(path.parent)
        os.close(create_file(path, os.O_WRONLY))
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        try:
            for statement in _SCHEMA:
                self._db.execute(statement)
        except sqlite3.OperationalError as error:
            raise RuntimeError(
                f"the translation memory needs SQLite 3.34+ with FTS5 (this one is {sqlite3.sqlite_version}): {error}"
            ) from None
        self._lock = threading.Lock()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @staticmethod
    def _insert(db: sqlite3.Connection, owner: str, unit: Unit, author: str, stamp: str) -> int:
        keys = Keys.of(unit)
        old = db.execute(
            "SELECT id FROM memory_units WHERE owner = ? AND normalised = ? AND context = ? AND current = 1",
            (owner, keys.normalised, keys.context),
        ).fetchone()
        if old is not None:
            db.execute("UPDATE memory_units SET current = 0, updated = ? WHERE id = ?", (stamp, old["id"]))
            db.execute("DELETE FROM memory_trigrams WHERE rowid = ?", (old["id"],))
        cursor = db.execute(
            "INSERT INTO memory_units (owner, source, normalised, skeleton, context, english, previous, next, origin,"
            " author, created, updated, supersedes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
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
                old["id"] if old is not None else None,
            ),
        )
        ident = int(cursor.lastrowid or 0)
        db.execute("INSERT INTO memory_trigrams (rowid, normalised) VALUES (?, ?)", (ident, keys.normalised))
        return ident

    def add(self, owner: str, unit: Unit, author: str) -> StoredUnit:
        with self._writing() as db:
            ident = self._insert(db, owner, unit, author, clock.now())
            row = db.execute(f"SELECT {COLUMNS} FROM memory_units WHERE id = ?", (ident,)).fetchone()
        return stored(row)

    def add_many(self, owner: str, units: Iterable[Unit], author: str) -> int:
        stamp, count = clock.now(), 0
        with self._writing() as db:
            for unit in units:
                self._insert(db, owner, unit, author, stamp)
                count += 1
        return count

    def _rows(self, sql: str, parameters: Sequence[object]) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def search(self, owner: str, text: str, limit: int = SEARCH_LIMIT) -> list[StoredUnit]:
        pattern = like_pattern(text)
        rows = self._rows(
            f"SELECT {COLUMNS} FROM memory_units WHERE owner = ? AND current = 1"
            " AND (normalised LIKE ? ESCAPE '\\' OR lower(english) LIKE ? ESCAPE '\\') ORDER BY id DESC LIMIT ?",
            (owner, pattern, pattern, limit),
        )
        return [stored(row) for row in rows]

    def units(self, owner: str) -> list[StoredUnit]:
        rows = self._rows(f"SELECT {COLUMNS} FROM memory_units WHERE owner = ? AND current = 1 ORDER BY id", (owner,))
        return [stored(row) for row in rows]

    def delete_all(self, owner: str) -> int:
        with self._writing() as db:
            db.execute(
                "DELETE FROM memory_trigrams"
                " WHERE rowid IN (SELECT id FROM memory_units WHERE owner = ? AND current = 1)",
                (owner,),
            )
            return db.execute("DELETE FROM memory_units WHERE owner = ?", (owner,)).rowcount

    def same_skeleton(self, owner: str, skeletons: Sequence[str]) -> Mapping[str, Sequence[Unit]]:
        found: dict[str, list[Unit]] = {}
        for part in chunks(skeletons):
            marks = ", ".join("?" * len(part))
            rows = self._rows(
                f"SELECT {COLUMNS}, skeleton FROM memory_units WHERE owner = ? AND current = 1"
                f" AND skeleton IN ({marks}) ORDER BY id DESC",
                (owner, *part),
            )
            for row in rows:
                found.setdefault(row["skeleton"], []).append(stored(row).unit)
        return found

    def similar(self, owner: str, normalised: Sequence[str], limit: int) -> Mapping[str, Sequence[Unit]]:
        grams = {text: [g for g in trigrams(text) if "\x00" not in g] for text in normalised}
        counts = self._counts({g for found in grams.values() for g in found})
        out: dict[str, list[Unit]] = {}
        for text, found in grams.items():
            rare = sorted((g for g in found if counts.get(g)), key=lambda g: counts[g])[:RARE_TRIGRAMS]
            if not rare:
                out[text] = []
                continue
            query = " OR ".join('"' + g.replace('"', '""') + '"' for g in rare)
            rows = self._rows(
                f"SELECT {', '.join('u.' + c.strip() for c in COLUMNS.split(','))} FROM memory_trigrams"
                " JOIN memory_units u ON u.id = memory_trigrams.rowid"
                " WHERE memory_trigrams MATCH ? AND u.owner = ? ORDER BY memory_trigrams.rank LIMIT ?",
                (query, owner, limit),
            )
            out[text] = [stored(row).unit for row in rows]
        return out

    def _counts(self, grams: set[str]) -> dict[str, int]:
        """How many current units (all owners) hold each trigram; a trigram held by none is left out."""
        counts: dict[str, int] = {}
        for part in chunks(sorted(grams)):
            marks = ", ".join("?" * len(part))
            for row in self._rows(f"SELECT term, doc FROM memory_trigram_counts WHERE term IN ({marks})", part):
                counts[row["term"]] = row["doc"]
        return counts

    def close(self) -> None:
        with self._lock:
            self._db.close()
