"""What every format shares: the parsed `Source`, the `Handler` interface, the reason-carrying error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from models.document import BilingualDocument, Document
from service.jobs.limits import Limits

# file suffix → format name
SUFFIXES = {
    ".srt": "srt",
    ".vtt": "vtt",
    ".docx": "docx",
    ".odt": "odt",
    ".epub": "epub",
    ".pdf": "pdf",
}
# Those with a reader and a writer in this version.
SUPPORTED = ("srt", "vtt", "docx", "odt", "epub", "pdf")


class FormatError(ValueError):
    """The file cannot be read as its format: `code` is a stable reason (`service.jobs.limits`)."""

    def __init__(self, code: str, message: str) -> None:
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
    suffixes: tuple[str, ...]  # what its writer can produce, the default first

    def read(self, data: bytes, caps: Limits) -> Source: ...

    def bilingual(self, source: Source, result: BilingualDocument) -> BilingualDocument: ...

    def write(self, source: Source, result: BilingualDocument, layout: str, suffix: str) -> bytes: ...
