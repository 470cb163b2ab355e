"""What `bitext translate -o FILE` writes, chosen by FILE's suffix, and the two text renderings it adds.

- `.json`: the bilingual JSON (the API's answer);
- `.html`/`.htm`: the side-by-side page as one self-contained file (`service.web.export`);
- `.md`/`.markdown`: bilingual markdown: each French block as it was, then its English as a quote
  (`> `), so any markdown viewer shows the two apart; tables French first, then English;
  blocks kept verbatim (code, a publisher line) and images once;
- `.txt`: the English alone, block by block;
- a document's own suffixes (`.docx`, `.srt`, a PDF's `.epub`…): the bilingual document in its layout.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from enum import StrEnum
from typing import Any


class Output(StrEnum):
    JSON = "json"
    HTML = "html"
    MARKDOWN = "markdown"
    ENGLISH = "english"
    DOCUMENT = "document"  # the input's own format, written back by its handler


SUFFIXES = {
    ".json": Output.JSON,
    ".html": Output.HTML,
    ".htm": Output.HTML,
    ".md": Output.MARKDOWN,
    ".markdown": Output.MARKDOWN,
    ".txt": Output.ENGLISH,
}


def choose(suffix: str, document_suffixes: Sequence[str] = ()) -> Output | None:
    """What a file named with `suffix` gets; a document's own suffixes come first (a PDF's `.html` is
    its bilingual page). None: bitext cannot write it; `accepted` lists what it can."""
    suffix = suffix.lower()
    if suffix in document_suffixes:
        return Output.DOCUMENT
    return SUFFIXES.get(suffix)


def accepted(document_suffixes: Sequence[str] = ()) -> str:
    return ", ".join(dict.fromkeys((*document_suffixes, *SUFFIXES)))


def counts(payload: Mapping[str, Any]) -> str:
    """ "N blocks, M sentences, K flagged" of a bilingual JSON answer."""
    sentences = [sentence for block in payload["blocks"] for sentence in block["sentences"]]
    flagged = sum(1 for sentence in sentences if sentence.get("flags"))
    return f"{len(payload['blocks'])} blocks, {len(sentences)} sentences, {flagged} flagged"


def _line(block: Mapping[str, Any], text: str) -> str:
    return f"{block.get('prefix', '')}{text}{block.get('suffix', '')}"


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def _table(cells: Sequence[Mapping[str, Any]], key: str) -> str:
    rows: dict[int, dict[int, str]] = {}
    for cell in cells:
        _, row, column = cell["cell"]
        rows.setdefault(row, {})[column] = " ".join(cell[key].split()).replace("|", "\\|")
    width = max((column + 1 for row in rows.values() for column in row), default=1)
    lines = []
    for number, row in enumerate(sorted(rows)):
        lines.append("| " + " | ".join(rows[row].get(column, "") for column in range(width)) + " |")
        if number == 0:
            lines.append("|" + " --- |" * width)
    return "\n".join(lines)


def _units(blocks: Sequence[Mapping[str, Any]]) -> Iterator[list[Mapping[str, Any]]]:
    """Blocks one by one, a table's cells together."""
    table: list[Mapping[str, Any]] = []
    for block in blocks:
        cell = block.get("cell")
        if table and (cell is None or cell[0] != table[0]["cell"][0]):
            yield table
            table = []
        if cell is not None:
            table.append(block)
        else:
            yield [block]
    if table:
        yield table


def render_markdown(payload: Mapping[str, Any]) -> str:
    """Bilingual markdown: French, then its English quoted; untranslated blocks once."""
    parts: list[str] = []
    for unit in _units(payload["blocks"]):
        first = unit[0]
        if first.get("cell") is not None:
            parts += [_table(unit, "fr"), _quoted(_table(unit, "en"))]
        elif not first["translated"] or first["kind"] == "image":  # an image once, with its French alt text
            parts.append(_line(first, first["fr"]))
        else:
            parts += [_line(first, first["fr"]), _quoted(_line(first, first["en"]))]
    return "\n\n".join(parts) + "\n"


def render_english(payload: Mapping[str, Any]) -> str:
    """The English alone, one block a paragraph (a table's cells row by row, tab-separated)."""
    parts: list[str] = []
    for unit in _units(payload["blocks"]):
        if unit[0].get("cell") is not None:
            rows: dict[int, list[str]] = {}
            for cell in unit:
                rows.setdefault(cell["cell"][1], []).append(" ".join(cell["en"].split()))
            parts.append("\n".join("\t".join(rows[row]) for row in sorted(rows)))
        else:
            parts.append(unit[0]["en"])
    return "\n\n".join(parts) + "\n"
