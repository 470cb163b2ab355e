"""A memory read from a file, for `bitext batch --memory PATH`: a TMX file (any key's export) or a server's
SQLite memory (`memory.sqlite3`, the memory a server without API keys shares)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from models.glossary import Terms
from models.memory import MemoryUse, UnitIndex
from service.memory.base import OwnedIndex
from service.memory.exchange import ExchangeError
from service.memory.sqlite import SqliteMemoryStore
from service.memory.tmx import import_tmx

KEYLESS_OWNER = ""  # the owner of a server's units when it has no API keys
SQLITE_MAGIC = b"SQLite format 3\x00"


def _is_memory(path: Path) -> bool:
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'memory_units'")
            return found.fetchone() is not None
    except sqlite3.Error:
        return False


class MemoryFileError(ValueError):
    """The file is neither a readable TMX file nor an SQLite memory."""


def open_memory_file(path: Path) -> MemoryUse:
    """The units of `path` as a memory to translate with (suggest mode: exact and context matches answer),
    with an SQLite memory's term glossary."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(len(SQLITE_MAGIC))
    except OSError as error:
        raise MemoryFileError(f"{path}: {error.strerror or error}") from None
    if head == SQLITE_MAGIC:
        if not _is_memory(path):  # never add a memory's tables to someone else's database
            raise MemoryFileError(f"{path}: an SQLite file, but not a bitext memory (no memory_units table)")
        store = SqliteMemoryStore(path)
        glossary = store.glossary(KEYLESS_OWNER)  # the server's term glossary, protected in every document
        terms = glossary.terms() if glossary is not None else Terms()
        return MemoryUse(OwnedIndex(store, KEYLESS_OWNER), terms=terms)
    try:
        units = import_tmx(path.read_bytes())
    except ExchangeError as error:  # a TMX problem, or XML that does not parse
        raise MemoryFileError(f"{path}: not a TMX file or an SQLite memory: {error}") from None
    return MemoryUse(UnitIndex(units))


def batch_memory(path: Path | None, apply: bool, ray: bool) -> MemoryUse:
    """`bitext batch`'s memory: none without `--memory`; `--apply-memory` needs one, Ray cannot take one yet."""
    if path is None:
        if apply:
            raise MemoryFileError("--apply-memory needs --memory PATH: the memory to apply")
        return MemoryUse()
    if ray:
        raise MemoryFileError("--memory is not available with --ray yet")
    return open_memory_file(path)
