"""A batch output's index.html: each document by its title, with a link to every file it produced.

The index sits at the top of OUTDIR (and of the job's results zip), so every link is relative to it:
the side-by-side page, the JSON, and each bilingual file written back in the document's own format
(`docs/note.interleaved.docx`…), labelled by layout and kind. Links are percent-encoded paths, text
is escaped by the template: a name from an archive can neither break the page nor point elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from models.document import BilingualDocument, BlockKind
from models.markup import parse_inline
from service.jobs import document_files
from service.jobs.records import DocumentStatus

_TITLE_KINDS = (BlockKind.TITLE, BlockKind.HEADING)  # a document's title: its title block, else its first heading
_MOST_TITLE = 300  # characters shown of a title


@dataclass(frozen=True, slots=True)
class Titles:
    fr: str | None = None
    en: str | None = None


def _shown(text: str, markup: str | None) -> str | None:
    plain = " ".join((parse_inline(text, markup).plain if markup else text).split())
    return plain[:_MOST_TITLE] or None


def titles(result: BilingualDocument) -> Titles:
    """The document's title as a reader sees it (markup read, spaces folded), French and English."""
    for kind in _TITLE_KINDS:
        block = next((b for b in result.blocks if b.kind == kind and b.fr.strip()), None)
        if block is not None:
            return Titles(_shown(block.fr, block.markup), _shown(block.en, block.markup))
    return Titles()


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    href: str


def _href(path: str) -> str:
    return quote(path, safe="/")


def links(record: dict[str, Any]) -> list[Link]:
    """Every file a document's record lists: its page, its JSON, then each bilingual file by layout."""
    found: list[Link] = []
    if isinstance(record.get("html"), str):
        found.append(Link("side by side", _href(record["html"])))
    if isinstance(record.get("json"), str):
        found.append(Link("JSON", _href(record["json"])))
    for layout, path in document_files.produced(record).items():
        kind = os.path.splitext(path)[1].lstrip(".").upper()
        found.append(Link(f"{layout} {kind}", _href(path)))
    return found


def render_index(title: str, rows: Iterable[dict[str, Any]]) -> str:
    """All documents of the archive with their status, titles and links (relative to OUTDIR)."""
    from service.web.render import environment  # the page's templates and autoescape, loaded on use

    listed = [row | {"links": links(row)} for row in rows]
    counts = {str(status): sum(1 for row in listed if row.get("status") == status) for status in DocumentStatus}
    return environment().get_template("batch_index.html").render(title=title, rows=listed, counts=counts)
