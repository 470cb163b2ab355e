"""Bytes → text: UTF-8 first (with or without BOM), then a declared text charset, then detection.

A declared charset is used only when `service.charsets` knows it for a text encoding.

The encoding used is returned so that it can be recorded per document in the manifest.
"""

from __future__ import annotations

import codecs

from service.charsets import text_codec
from service.jobs.reasons import Reason

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class DocumentError(ValueError):
    """One document cannot be translated; `code` says why (`Reason.repeats`: skipped or failed)."""

    def __init__(self, code: Reason, message: str) -> None:
        super().__init__(message)
        self.code = code


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """The text of `data` and the encoding it was read with; refuses empty and binary content."""
    if not data.strip():
        raise DocumentError(Reason.EMPTY, "the document is empty")
    text, encoding = _decode(data, declared)
    if "\x00" in text:
        raise DocumentError(Reason.BINARY, "the document holds NUL characters: it is binary, not text")
    if not text.strip():
        raise DocumentError(Reason.EMPTY, "the document is empty")
    return text.removeprefix("\ufeff"), encoding


def _decode(data: bytes, declared: str | None) -> tuple[str, str]:
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    codec = text_codec(declared) if declared else None
    if codec is not None:
        try:
            return data.decode(codec), codec
        except (LookupError, UnicodeDecodeError):
            pass
    from charset_normalizer import from_bytes

    matches = [match for match in from_bytes(data) if match.encoding]
    if not matches:
        raise DocumentError(Reason.UNDECODABLE, "the document is not UTF-8 and no other text encoding fits it")
    # Short texts fit several single-byte code pages equally well (cp1250 reads `è` as `č`); the
    # input is French, so among the detector's candidates prefer the one that reads as French.
    best = max(matches, key=lambda match: _french_share(str(match)))
    return str(best), best.encoding


_FRENCH = frozenset("àâäçéèêëîïôöûùüÿœæÀÂÄÇÉÈÊËÎÏÔÖÛÙÜŸŒÆ«»’“”…–—€\u00a0\u202f")


def _french_share(text: str) -> float:
    """The share of non-ASCII characters that French text uses; 1.0 for pure ASCII."""
    unusual = [ch for ch in text if ord(ch) > 127]
    return sum(ch in _FRENCH for ch in unusual) / len(unusual) if unusual else 1.0
