"""What every memory exchange format shares: the import error with its line, and a safe XML parse.

A file to import is parsed by lxml with entities never resolved, no DTD and no network read; a file
that declares any entity (external entities, entity bombs) is refused before it is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lxml import etree


class ExchangeFormat(StrEnum):
    """The formats `POST /v1/memory/import` reads."""

    TMX = "tmx"
    XLIFF = "xliff"
    CSV = "csv"
    TSV = "tsv"


@dataclass
class ExchangeError(ValueError):
    """Why a file cannot be imported, and the line of the first problem (0: the whole file)."""

    message: str
    line: int = 0
    unsafe: bool = False
    code: str = "invalid_file"

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


_ENTITY = tuple(
    {
        word.encode(encoding)
        for word in ("<!ENTITY", "<!entity")
        for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
    }
)
_UNSAFE = "the file declares XML entities (refused: external entities, entity bombs)"


def parse_xml(data: bytes, code: str) -> etree._Element:
    """The root of `data`, parsed without resolving anything; `ExchangeError` (with `code`) if it cannot be."""
    if any(word in data for word in _ENTITY):
        raise ExchangeError(_UNSAFE, unsafe=True, code="unsafe_xml")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise ExchangeError(f"not well-formed XML: {error.msg}", error.lineno or 0, code=code) from None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and next(iter(dtd.iterentities()), None) is not None:
        raise ExchangeError(_UNSAFE, unsafe=True, code="unsafe_xml")
    return root
