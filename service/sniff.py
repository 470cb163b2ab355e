"""What a file is, from its first bytes (magic numbers) and its name: one answer for the CLI and the API.

`sniff(data)` names what the bytes are when they are not text: a document format bitext reads
(`format`: a key of `service.formats.FORMATS`), an archive `bitext batch` and `/v1/jobs` read, or
something else (an image, audio, an executable…) named for the user. Text (UTF-8 or a byte-order
mark) is not sniffed: it is None, and the text parsers decide between plain text, markdown, HTML
and JSON. `kind_of(data, name)` adds the name: its suffix when the bytes say nothing, and the
mismatch when they disagree (`carte.docx` holding a PNG image).

Only signatures that no French text can begin with are used: each holds bytes that are not
printable text, or a fixed ASCII word followed by what only that format writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum

from service.formats.base import FORMATS, SUFFIXES
from service.jobs.readers.common import DOCUMENT_FORMATS


class Family(StrEnum):
    """What bitext does with a kind of file."""

    DOCUMENT = "document"  # a format of `FORMATS`: read and written back in its own format
    ARCHIVE = "archive"  # many documents: `bitext batch`, `POST /v1/jobs`
    OTHER = "other"  # nothing bitext reads


@dataclass(frozen=True, slots=True)
class Kind:
    """What a file was recognised as: a name for people, and what bitext can do with it."""

    label: str  # "PNG image", "DOCX document"
    family: Family
    format: str | None = None  # the `FORMATS` key of a document format


# Plain-text inputs, parsed by `models.parse`: the archive readers' table, less the document formats.
TEXT_SUFFIXES = tuple(suffix for suffix in DOCUMENT_FORMATS if suffix not in SUFFIXES)


def document(format: str) -> Kind:
    """A format of the `FORMATS` registry, named as it names itself."""
    return Kind(FORMATS[format].label or f"{format.upper()} document", Family.DOCUMENT, format)


def _other(label: str) -> Kind:
    return Kind(label, Family.OTHER)


def _archive(label: str) -> Kind:
    return Kind(label, Family.ARCHIVE)


# (offset, signature, kind): the first that matches names the bytes (zip containers are opened below).
_SIGNATURES: tuple[tuple[int, bytes, Kind], ...] = (
    (0, b"%PDF-", document("pdf")),
    (0, b"\x89PNG\r\n\x1a\n", _other("PNG image")),
    (0, b"\xff\xd8\xff", _other("JPEG image")),
    (0, b"GIF87a", _other("GIF image")),
    (0, b"GIF89a", _other("GIF image")),
    (0, b"II*\x00", _other("TIFF image")),
    (0, b"MM\x00*", _other("TIFF image")),
    (0, b"\x00\x00\x01\x00", _other("icon image")),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", _other("legacy Microsoft Office document (.doc, .xls, .ppt)")),
    (0, b"{\\rtf", _other("RTF document")),
    (0, b"\x1f\x8b", _archive("gzip archive")),
    (0, b"\xfd7zXZ\x00", _archive("xz archive")),
    (0, b"7z\xbc\xaf\x27\x1c", _other("7-Zip archive")),
    (0, b"Rar!\x1a\x07", _other("RAR archive")),
    (0, b"(\xb5/\xfd", _other("Zstandard archive")),
    (0, b"WARC/1.", _archive("WARC archive")),
    (257, b"ustar\x00", _archive("tar archive")),  # POSIX
    (257, b"ustar  \x00", _archive("tar archive")),  # GNU
    (0, b"\x7fELF", _other("ELF executable")),
    (0, b"SQLite format 3\x00", _other("SQLite database")),
    (0, b"\x00asm", _other("WebAssembly module")),
    (0, b"OggS\x00", _other("Ogg audio or video")),
    (0, b"fLaC", _other("FLAC audio")),
    (0, b"\x1aE\xdf\xa3", _other("Matroska or WebM video")),
    (0, b"WEBVTT", document("vtt")),
)


def _riff(data: bytes) -> Kind | None:
    if data[:4] != b"RIFF" or len(data) < 12:
        return None
    return {b"WEBP": _other("WebP image"), b"WAVE": _other("WAV audio"), b"AVI ": _other("AVI video")}.get(data[8:12])


def _iso_media(data: bytes) -> Kind | None:
    if data[4:8] != b"ftyp" or data[:2] != b"\x00\x00":  # a box of under 64 KiB: its size starts with zeros
        return None
    brand = data[8:12]
    if brand in (b"heic", b"heix", b"mif1", b"avif"):
        return _other("HEIF/AVIF image")
    return _other("MP4/QuickTime video or audio")


def _bzip2(data: bytes) -> Kind | None:
    if data[:3] == b"BZh" and data[3:4].isdigit() and data[4:10] == b"1AY&SY":
        return _archive("bzip2 archive")
    return None


def _mp3(data: bytes) -> Kind | None:
    if data[:3] == b"ID3" and data[3:4] in (b"\x02", b"\x03", b"\x04"):
        return _other("MP3 audio")
    return None


_ZIP = _archive("zip archive")
_OFFICE_PARTS = (
    (b"word/document.xml", document("docx")),
    (b"xl/workbook.xml", _other("XLSX spreadsheet")),
    (b"ppt/presentation.xml", _other("PPTX presentation")),
)
_ZIP_DOCUMENTS = ("docx", "odt", "epub")
_ZIP_MIMETYPES = {
    b"application/epub+zip": document("epub"),
    b"application/vnd.oasis.opendocument.text": document("odt"),
}


def _zip(data: bytes) -> Kind | None:
    """A zip container: EPUB and ODT by their leading `mimetype` member, DOCX (and other Office files)
    by their parts' names, else a zip archive.

    Names are looked for in the first and last `HEAD_BYTES` (local headers come first, the central
    directory last), never by parsing the listing: bounded work whatever the zip holds. With only an
    upload's first bytes, the names seen so far decide.
    """
    if data[:4] not in (b"PK\x03\x04", b"PK\x05\x06"):
        return None
    if data[30:38] == b"mimetype":  # EPUB and OpenDocument store it first, uncompressed
        for mimetype, kind in _ZIP_MIMETYPES.items():
            if data[38:].startswith(mimetype):
                return kind
        if data[38:].startswith(b"application/vnd.oasis.opendocument."):
            return _other("OpenDocument file other than a text document (.ods, .odp…)")
    ends = data[:HEAD_BYTES] + b"\n" + data[-HEAD_BYTES:]
    for part, kind in _OFFICE_PARTS:
        if part in ends:
            return kind
    return _ZIP


HEAD_BYTES = 65536  # what `sniff` looks at: an upload's first bytes are enough


def sniff(data: bytes) -> Kind | None:
    """What `data` is by its leading bytes, or None (text, or nothing recognised)."""
    if (container := _zip(data)) is not None:  # whole: a zip's listing is at its end
        return container
    head = data[:HEAD_BYTES]
    for check in (_riff, _iso_media, _bzip2, _mp3):
        if (kind := check(head)) is not None:
            return kind
    for offset, signature, kind in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return kind
    return None


def kind_of_name(name: str) -> Kind | None:
    """What a file's name says it is: a document format or an archive by its suffix; None for text or unknown."""
    from service.jobs.readers import ARCHIVE_SUFFIXES

    lower = name.lower()
    suffix = os.path.splitext(lower)[1]
    if suffix in SUFFIXES:
        return document(SUFFIXES[suffix])
    if lower.endswith(ARCHIVE_SUFFIXES):
        return _archive(f"{next(s for s in ARCHIVE_SUFFIXES if lower.endswith(s))} archive")
    return None


class Mismatch(ValueError):
    """A file's name says one format and its bytes another (`found`)."""

    def __init__(self, message: str, found: Kind) -> None:
        super().__init__(message)
        self.found = found


def kind_of(data: bytes, name: str = "") -> Kind | None:
    """What the file is: its bytes first, its name when the bytes say nothing (SRT has no signature).

    Raises `Mismatch` when the name promises a document format the bytes are not (`carte.docx`
    holding a PNG image); a name without a known suffix takes what the bytes say.
    """
    by_bytes = sniff(data)
    by_name = kind_of_name(name) if name else None
    if by_bytes is None:
        return by_name
    if by_name is not None and by_name.format in _ZIP_DOCUMENTS and by_bytes.label == _ZIP.label:
        return by_name  # a zip without the usual first member (an EPUB's `mimetype`): its reader decides
    if by_name is not None and by_name.family is Family.DOCUMENT and by_name.format != by_bytes.format:
        raise Mismatch(f"{os.path.basename(name)} is named as a {by_name.label} but holds a {by_bytes.label}", by_bytes)
    return by_bytes


def readable() -> str:
    """What bitext reads, for a refusal's message."""
    documents = ", ".join(suffix for entry in FORMATS.values() for suffix in entry.suffixes)
    return f"text ({', '.join(TEXT_SUFFIXES)}) and documents ({documents})"
