"""Streaming archive readers: a directory, zip, tar (any compression), JSONL and WARC, never extracted to disk.

A lone document in its own format (`book.epub`, `film.srt`: any format `formats.supported()` lists) is read as an
archive of one, so a single file can be a job or a `bitext batch` source without being zipped first.

Each kind of archive is one entry of `KINDS`: its name, the suffixes it is recognised by (or its own
test: a directory, a document), its reader and its counter; `ARCHIVE_SUFFIXES`, `archive_kind`,
`read_archive` and `count_entries` are all read from that table. One module a kind (`dirs`, `zips`,
`tars`, `jsonl`, `warc`), what they share in `common`, and every use of CPython's private API in `cpython`.

Each reader yields `Entry`s in archive order. A member that breaks a safety rule is yielded as
a refused entry with its reason instead of its bytes, so it is recorded and the batch goes on.
Only documents are yielded: directories, and WARC request/metadata records, are not documents.

Memory stays bounded whatever the archive holds: members are read up to the member cap, header
lines and header blocks (WARC, tar PAX and GNU long names) up to `Limits.max_header_bytes`,
compressed streams are expanded a bounded chunk at a time, and an archive yields at most
`Limits.max_entries` members. Past a limit, or when the rest of an archive is corrupt, one last
refused entry says why and reading stops; what was read before it stands.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from service.formats.base import SUFFIXES  # not `service.formats`: its zip formats read through here
from service.jobs.limits import Limits
from service.jobs.readers.common import (
    CHUNK,
    CORRUPT,
    DOCUMENT_FORMATS,
    JSONL_LINE,
    ArchiveError,
    Budget,
    Entry,
    Stop,
    read_capped,
)
from service.jobs.readers.dirs import count_dir, count_document, read_dir, read_document
from service.jobs.readers.jsonl import count_jsonl, read_jsonl
from service.jobs.readers.tars import count_tar, read_tar
from service.jobs.readers.warc import count_warc, read_warc
from service.jobs.readers.zips import count_zip, open_zip_member, read_zip
from service.jobs.reasons import Reason

__all__ = [
    "ARCHIVE_SUFFIXES",
    "CHUNK",
    "CORRUPT",
    "DOCUMENT_FORMATS",
    "JSONL_LINE",
    "KINDS",
    "ArchiveError",
    "ArchiveKind",
    "Entry",
    "archive_kind",
    "count_entries",
    "document_suffixes",
    "open_zip_member",
    "read_archive",
    "read_capped",
]


@dataclass(frozen=True, slots=True)
class ArchiveKind:
    """One kind of archive: how it is recognised, read and counted.

    `read` yields every entry in order, and raises `Stop` (a limit) or a `CORRUPT` error to end the
    archive early. `count` yields about how many entries `read` would, from headers and listings
    alone, for a progress bar: as it finds them, so what it found before a limit ended it is kept.
    """

    name: str
    suffixes: tuple[str, ...]  # how its file names end (lower case); none for a kind with `recognise`
    read: Callable[[Path, Budget], Iterator[Entry]]
    count: Callable[[Path, Budget], Iterator[int]]
    recognise: Callable[[Path], bool] | None = None  # a kind recognised otherwise than by its suffixes

    def matches(self, path: Path) -> bool:
        """Whether `path` is an archive of this kind, by its own test or how its name ends."""
        if self.recognise is not None:
            return self.recognise(path)
        return path.name.lower().endswith(self.suffixes)


def _is_document(path: Path) -> bool:
    return os.path.splitext(path.name.lower())[1] in SUFFIXES


# In the order they are tried: a directory or a document first, whatever its name or suffix.
KINDS = (
    ArchiveKind("dir", (), read_dir, count_dir, recognise=Path.is_dir),
    ArchiveKind("document", (), read_document, count_document, recognise=_is_document),
    ArchiveKind("zip", (".zip",), read_zip, count_zip),
    ArchiveKind("tar", (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz"), read_tar, count_tar),
    ArchiveKind("jsonl", (".jsonl",), read_jsonl, count_jsonl),
    ArchiveKind("warc", (".warc", ".warc.gz"), read_warc, count_warc),
)
ARCHIVE_SUFFIXES = tuple(suffix for kind in KINDS for suffix in kind.suffixes)


def document_suffixes() -> tuple[str, ...]:
    """The suffixes of the documents read (and written back) in their own format in this version."""
    return tuple(SUFFIXES)


def _kind(path: Path) -> ArchiveKind:
    for kind in KINDS:
        if kind.matches(path):
            return kind
    raise ArchiveError(
        f"{path.name}: not a supported archive; use a directory, one of {', '.join(ARCHIVE_SUFFIXES)},"
        f" or a single {', '.join(document_suffixes())} document"
    )


def archive_kind(path: Path) -> str:
    """dir | zip | tar | jsonl | warc | document, from what `path` is and how it is named."""
    return _kind(path).name


def read_archive(path: Path, caps: Limits = Limits()) -> Iterator[Entry]:
    """Every document of the archive at `path`, in order, with refused members as skip entries.

    A limit reached (entries, a header, the stream's ratio) or corruption after the first entry
    ends the archive with one refused entry named `ARCHIVE#rest`; corruption before it is an `ArchiveError`.
    """
    if not path.exists():
        raise ArchiveError(f"{path}: no such file or directory")
    kind = _kind(path)
    budget = Budget(caps)
    yielded = False
    try:
        for entry in kind.read(path, budget):
            yielded = True
            yield entry
    except Stop as stop:
        yield _rest(path, stop.reason, f"{stop.detail}; the rest of the archive was not read")
    except CORRUPT as error:
        if not yielded:
            raise ArchiveError(f"{path.name}: the archive is corrupt or unreadable ({error})") from None
        yield _rest(path, Reason.UNREADABLE, f"the rest of the archive is corrupt or truncated ({error})")


def _rest(path: Path, reason: Reason, detail: str) -> Entry:
    """The refused entry that ends an archive early."""
    return Entry(f"{path.name}#rest", skip=reason, detail=detail[:500])


def count_entries(path: Path, caps: Limits = Limits()) -> int:
    """About how many entries `read_archive` yields, for a progress bar, without reading a document's bytes.

    A directory's and a zip's listings are exact; a tar or WARC is walked header by header (no member is
    extracted, hashed or parsed); a JSONL member of a zip or tar counts as one. At most `max_entries + 1`.
    """
    kind = _kind(path)
    budget = Budget(caps)
    found = 0
    try:
        for more in kind.count(path, budget):
            found += more
    except (Stop, *CORRUPT):
        found += 1  # the refused entry that ends the archive
    return min(found, caps.max_entries + 1)
