"""Files on disk: a directory tree, read in name order without following links, and a lone document
(`book.epub`, `film.srt`) read as an archive of one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from service.jobs.readers.common import (
    JSONL_LINE,
    UNSUPPORTED_DETAIL,
    Budget,
    Entry,
    Stop,
    format_of,
    jsonl_lines,
    read_capped,
)
from service.jobs.reasons import Reason


def _listing(directory: str, budget: Budget) -> list[os.DirEntry[str]]:
    """A directory's entries, sorted; no more than the entry cap is ever held (the cap ends the archive)."""
    found: list[os.DirEntry[str]] = []
    with os.scandir(directory) as scan:
        for item in scan:
            found.append(item)
            if len(found) > budget.caps.max_entries:
                raise Stop(Reason.TOO_MANY_ENTRIES, f"{directory} holds more than {budget.caps.max_entries} entries")
    return sorted(found, key=lambda item: item.name)


def _file_entry(path: str | Path, name: str, size: int, budget: Budget) -> Entry:
    """A regular file of `size` bytes (from its stat) as one entry, under the member and total caps."""
    if reason := budget.take(size):
        return Entry(name, skip=reason, detail=f"{size} bytes")
    with open(path, "rb") as stream:
        data = read_capped(stream, budget.caps.max_member_bytes)
    if data is None:  # grew while we read it
        return Entry(name, skip=Reason.MEMBER_TOO_LARGE, detail="the file grew past the cap while read")
    return Entry(name, data, format_of(name) or "auto")


def read_dir(root: Path, budget: Budget) -> Iterator[Entry]:
    pending = [str(root)]
    while pending:
        directory = pending.pop()
        subdirs: list[str] = []
        for item in _listing(directory, budget):
            budget.entry()
            name = os.path.relpath(item.path, root).replace(os.sep, "/")
            if item.is_symlink():
                yield Entry(name, skip=Reason.SYMLINK, detail="symbolic link not followed")
            elif item.is_dir(follow_symlinks=False):
                subdirs.append(item.path)
            elif not item.is_file(follow_symlinks=False):
                yield Entry(name, skip=Reason.DEVICE, detail="not a regular file")
            elif format_of(name) is None:
                yield Entry(name, skip=Reason.UNSUPPORTED_TYPE, detail=UNSUPPORTED_DETAIL)
            elif format_of(name) == JSONL_LINE:
                with open(item.path, "rb") as stream:
                    yield from jsonl_lines(name, stream, budget)
            else:
                yield _file_entry(item.path, name, item.stat(follow_symlinks=False).st_size, budget)
        pending.extend(reversed(subdirs))


def count_dir(root: Path, budget: Budget) -> Iterator[int]:
    """1 per file of the tree (a JSONL file counts as one), from the listings alone."""
    pending = [str(root)]
    while pending:
        for item in _listing(pending.pop(), budget):
            budget.entry()
            if item.is_dir(follow_symlinks=False):
                pending.append(item.path)
            else:
                yield 1


def read_document(path: Path, budget: Budget) -> Iterator[Entry]:
    """A lone document: one entry, under the same member and total caps as an archive's member."""
    budget.entry()
    yield _file_entry(path, path.name, path.stat().st_size, budget)


def count_document(path: Path, budget: Budget) -> Iterator[int]:
    yield 1
