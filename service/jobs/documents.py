"""An archive `Entry` → a content-derived id and a parsed `Document` (or the reason it cannot be one)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from models import strictjson
from models.document import Document
from models.parse import ParseError, parse, parse_article
from service import formats
from service.jobs.decode import DocumentError, decode_bytes
from service.jobs.limits import Limits
from service.jobs.names import name_bytes
from service.jobs.readers import JSONL_LINE, Entry
from service.jobs.reasons import Reason

HTML_WARNING = "html: only the main article text was extracted; the page's markup is not kept"


def document_id(entry: Entry) -> str:
    """Derived from the name and the bytes: a changed document gets a new id and is translated again."""
    digest = hashlib.sha256(name_bytes(entry.name) + b"\x00")  # any name: undecodable bytes, lone surrogates
    if entry.skip is not None:
        digest.update(f"skip:{entry.skip}:{entry.detail}".encode())
    else:
        digest.update(entry.data)
    return digest.hexdigest()[:20]


# What one character of a document's text costs while it waits for its group: the block's string
# (up to 4 bytes a character in Python) and the sentence strings planned from it.
HELD_BYTES_PER_CHAR = 8


@dataclass(frozen=True, slots=True)
class Loaded:
    document: Document
    encoding: str
    warnings: tuple[str, ...]
    source: formats.Source | None = None  # a file read in its own format, written back in it

    def held_bytes(self, data: bytes) -> int:
        """About the memory this document holds while it waits for its group: the bytes it came as (a zipped
        document keeps them compressed, `formats.package`) and what its text expands to, not its upload size."""
        return len(data) + HELD_BYTES_PER_CHAR * sum(len(block.text) for block in self.document.blocks)


def load_document(entry: Entry, caps: Limits = Limits()) -> Loaded:
    """Decode and parse one entry; raises `DocumentError` with a reason code."""
    if entry.format in formats.SUFFIXES.values():
        try:
            source = formats.read_source(entry.data, entry.format, caps)
        except formats.FormatError as error:
            raise DocumentError(error.code, str(error)) from None
        if not any(block.translate and block.text.strip() for block in source.document.blocks):
            raise DocumentError(Reason.EMPTY, f"the {entry.format} file holds no text to translate")
        return Loaded(source.document, entry.format, source.warnings, source)
    text, encoding = decode_bytes(entry.data, entry.charset)
    try:
        if entry.format == JSONL_LINE:
            document = _jsonl_document(text)
        else:
            document = parse(text, entry.format)
    except ParseError as error:
        code = (
            Reason.INVALID_JSON
            if entry.format in ("json", JSONL_LINE) and "not valid JSON" in str(error)
            else Reason.UNPARSABLE
        )
        raise DocumentError(code, str(error)) from None
    warnings = (HTML_WARNING,) if document.format == "html" else ()
    return Loaded(document, encoding, warnings)


def _jsonl_document(line: str) -> Document:
    """A JSONL line: `id` plus `text` (and optional `format`), or `id` plus the structured article fields."""
    try:
        value = strictjson.loads(line, surrogates=True)  # the id is a name, kept whatever it holds
    except strictjson.JsonError as error:
        raise ParseError(f"not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise ParseError("a JSONL line must be an object with 'text' or article fields")
    body = {key: item for key, item in value.items() if key != "id"}
    if strictjson.has_lone_surrogate(body):  # text no UTF-8 output can hold
        raise ParseError(f"not valid JSON: {strictjson.LONE_SURROGATE}")
    if "text" in body:
        text, format = body.pop("text"), body.pop("format", "auto")
        if body:
            raise ParseError(f"unknown fields beside 'text': {', '.join(sorted(body))}")
        if not isinstance(text, str) or not isinstance(format, str):
            raise ParseError("'text' and 'format' must be strings")
        if not text.strip():
            raise DocumentError(Reason.EMPTY, "the line's text is empty")
        return parse(text, format)
    if "article" in body and set(body) == {"article"}:
        return parse_article(body["article"])
    return parse_article(body)
