"""What every format shares: the parsed `Source`, the `Handler` interface, the reason-carrying error."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from models.document import BilingualDocument, Document
from service.jobs.limits import Limits
from service.jobs.reasons import Reason


class Layout(StrEnum):
    """How French and English sit in a bilingual file."""

    INTERLEAVED = "interleaved"  # each French paragraph, then its English
    SIDE_BY_SIDE = "side-by-side"  # French and English in two columns
    ENGLISH = "english"  # the English alone, in the original's shape


@dataclass(frozen=True, slots=True)
class Format:
    """A document format bitext reads and writes back: one entry of `FORMATS`, the only list of them."""

    name: str
    suffixes: tuple[str, ...]  # file names it is read from
    outputs: tuple[str, ...]  # what its writer produces, the default first (a PDF: an HTML page or an EPUB)
    handler: str  # "module:Class", imported on first use (lxml, pypdf and odfpy load only when needed)
    label: str = ""  # what people call it, in messages ("DOCX document"); `service/sniff.py` recognises its bytes

    def load(self) -> Handler:
        module, name = self.handler.split(":")
        handler: Handler = getattr(importlib.import_module(module), name)()
        return handler


FORMATS: dict[str, Format] = {
    entry.name: entry
    for entry in (
        Format("srt", (".srt",), (".srt",), "service.formats.subtitles:Srt", "SRT subtitles"),
        Format("vtt", (".vtt",), (".vtt",), "service.formats.subtitles:Vtt", "WebVTT subtitles"),
        Format("docx", (".docx",), (".docx",), "service.formats.docx:Docx", "DOCX document"),
        Format("odt", (".odt",), (".odt",), "service.formats.odt:Odt", "ODT document"),
        Format("epub", (".epub",), (".epub",), "service.formats.epub:Epub", "EPUB book"),
        Format("pdf", (".pdf",), (".html", ".epub"), "service.formats.pdf:Pdf", "PDF document"),
    )
}
# file suffix → format name
SUFFIXES = {suffix: entry.name for entry in FORMATS.values() for suffix in entry.suffixes}
SUPPORTED = tuple(FORMATS)

# Media types of what the writers produce (and of a PDF read in); anything else is served as bytes.
MEDIA_TYPES = {
    ".srt": "application/x-subrip",
    ".vtt": "text/vtt; charset=utf-8",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".epub": "application/epub+zip",
    ".pdf": "application/pdf",
    ".html": "text/html; charset=utf-8",
}


class FormatError(ValueError):
    """The file cannot be read as its format: `code` says why (a stable `Reason`)."""

    def __init__(self, code: Reason, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Source:
    """A parsed file: the Document to translate, its original bytes, and the reader's private state."""

    format: str
    data: bytes
    document: Document
    state: Any = None
    warnings: tuple[str, ...] = field(default=())


class Handler(Protocol):
    def read(self, data: bytes, caps: Limits) -> Source: ...

    def bilingual(self, source: Source, result: BilingualDocument) -> BilingualDocument: ...

    def write(self, source: Source, result: BilingualDocument, layout: Layout, suffix: str) -> bytes: ...
