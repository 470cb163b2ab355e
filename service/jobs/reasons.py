"""Why a document of a batch was not translated: one `Reason`, a stable code.

The codes are written to `manifest.jsonl`, shown in `index.html`, counted in `summary.json` and
returned by the jobs API, always as the same strings (`Reason` is a `StrEnum`: a member is its
string in JSON). `Reason.repeats` says whether a rerun would refuse the document again (recorded
`skipped`, not retried) or not (`failed`, tried again on resume). `MEANINGS` is what each code
says to a reader: docs/batch.md's table of reasons is written from it (`python tests/unit/test_reasons.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Reason(StrEnum):
    ABSOLUTE_PATH = "absolute_path"
    PATH_TRAVERSAL = "path_traversal"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    DEVICE = "special_file"
    MEMBER_TOO_LARGE = "member_too_large"
    TOTAL_TOO_LARGE = "total_too_large"
    COMPRESSION_RATIO = "compression_ratio"
    UNSUPPORTED_TYPE = "unsupported_type"
    UNREADABLE = "unreadable"
    ENCRYPTED = "encrypted"
    HEADER_TOO_LARGE = "header_too_large"
    TOO_MANY_ENTRIES = "too_many_entries"
    EMPTY = "empty"
    BINARY = "binary"
    UNDECODABLE = "undecodable"
    INVALID_JSON = "invalid_json"
    UNPARSABLE = "unparsable"
    TOO_MANY_SENTENCES = "too_many_sentences"
    TRANSLATION_ERROR = "translation_error"
    NOT_FRENCH = "not_french"
    OUTPUT_QUOTA = "output_quota"
    NO_TEXT_LAYER = "no_text_layer"
    TOO_MANY_PAGES = "too_many_pages"
    TOO_MUCH_TEXT = "too_much_text"
    TOO_MUCH_WORK = "too_much_work"
    UNSAFE_XML = "unsafe_xml"

    @property
    def repeats(self) -> bool:
        """True when a rerun would refuse the document again: it is recorded `skipped`, else `failed`."""
        return self in _REPEATED

    @classmethod
    def read(cls, value: object) -> Reason | None:
        """A code read back (a manifest row): None when absent, not a string, or a code this version does not know
        (written by a newer one); the row's status, not its reason, decides what a resume does."""
        try:
            return cls(value) if isinstance(value, str) else None
        except ValueError:
            return None


# Refusals a rerun would repeat: `skipped`, not retried. Every other reason (a parser, the engine, a
# bug) is `failed` and tried again on resume.
_REPEATED = frozenset(
    {
        Reason.ABSOLUTE_PATH,
        Reason.PATH_TRAVERSAL,
        Reason.SYMLINK,
        Reason.HARDLINK,
        Reason.DEVICE,
        Reason.MEMBER_TOO_LARGE,
        Reason.TOTAL_TOO_LARGE,
        Reason.COMPRESSION_RATIO,
        Reason.UNSUPPORTED_TYPE,
        Reason.UNREADABLE,
        Reason.EMPTY,
        Reason.BINARY,
        Reason.UNDECODABLE,
        Reason.NOT_FRENCH,
        Reason.ENCRYPTED,
        Reason.HEADER_TOO_LARGE,
        Reason.TOO_MANY_ENTRIES,
        Reason.OUTPUT_QUOTA,
        Reason.NO_TEXT_LAYER,
        Reason.TOO_MANY_PAGES,
        Reason.TOO_MUCH_TEXT,
        Reason.TOO_MUCH_WORK,
        Reason.UNSAFE_XML,
    }
)

MEANINGS: Mapping[Reason, str] = {
    Reason.ABSOLUTE_PATH: "a member name that is absolute or starts with a drive (`/etc/x`, `C:/x`)",
    Reason.PATH_TRAVERSAL: "a member name that climbs out of the archive with `..`",
    Reason.SYMLINK: "a symbolic link (never followed)",
    Reason.HARDLINK: "a hard link in a tar",
    Reason.DEVICE: "a device, FIFO or other file that is not a regular file",
    Reason.MEMBER_TOO_LARGE: "a member (or JSONL line, WARC body) over `BITEXT_ARCHIVE_MAX_MEMBER_BYTES`",
    Reason.TOTAL_TOO_LARGE: "the archive expands past `BITEXT_ARCHIVE_MAX_TOTAL_BYTES`: the rest is not read",
    Reason.COMPRESSION_RATIO: "a member, stream or zipped part expanding more than `BITEXT_ARCHIVE_MAX_RATIO` times",
    Reason.UNSUPPORTED_TYPE: "a file of a type that is not translated (an image, a spreadsheet)",
    Reason.UNREADABLE: "a corrupt or truncated member, or the corrupt rest of an archive",
    Reason.ENCRYPTED: "an encrypted zip member, or a password-protected document",
    Reason.HEADER_TOO_LARGE: "a tar, zip or WARC header over its cap: the rest of the archive is not read",
    Reason.TOO_MANY_ENTRIES: "more than `BITEXT_ARCHIVE_MAX_ENTRIES` members: the rest is not read",
    Reason.EMPTY: "nothing to translate (an empty file, no cues)",
    Reason.BINARY: "a file holding NUL characters: binary, not text",
    Reason.UNDECODABLE: "text in no encoding that fits it",
    Reason.INVALID_JSON: "a JSON or JSONL document that is not valid JSON (or nested too deeply)",
    Reason.UNPARSABLE: "a document its format's reader cannot read (broken XML, not really a DOCX or PDF)",
    Reason.TOO_MANY_SENTENCES: "more sentences than `BITEXT_MAX_SENTENCES`",
    Reason.TRANSLATION_ERROR: "translating or writing the document failed",
    Reason.NOT_FRENCH: "a document in another language (the message names it)",
    Reason.OUTPUT_QUOTA: "the job's outputs reached `BITEXT_JOBS_MAX_OUTPUT_BYTES`: nothing more is written",
    Reason.NO_TEXT_LAYER: "a PDF of images only (scanned): no text to translate",
    Reason.TOO_MANY_PAGES: "a PDF past `BITEXT_ARCHIVE_MAX_PDF_PAGES`",
    Reason.TOO_MUCH_TEXT: "a PDF past `BITEXT_ARCHIVE_MAX_PDF_CHARS`, or a content stream past its share",
    Reason.TOO_MUCH_WORK: "reading the document would take more work than its size allows",
    Reason.UNSAFE_XML: "a zipped document's XML declares entities (XXE, entity bombs)",
}
