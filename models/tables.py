"""Markdown (GFM) tables: which lines form one, and where each cell's text lies.

A table is a header line with a `|`, a delimiter row (`| --- | :---: |`) with as many columns,
then the following non-blank lines that hold a `|`. Each row is cut at unescaped `|`; a cell's
text is what lies between, whitespace trimmed. Done with str methods, linear in the line length.
"""

from __future__ import annotations

from collections.abc import Sequence

Span = tuple[int, int]


def _pipes(line: str) -> list[int]:
    """Positions of the `|` that separate cells (a backslash escapes one)."""
    out: list[int] = []
    escaped = False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "|":
            out.append(i)
    return out


def cell_spans(line: str) -> list[Span]:
    """Each cell's (start, end) in `line`, trimmed; an empty cell is an empty span."""
    pipes = _pipes(line)
    bounds = [-1, *pipes, len(line)]
    spans: list[Span] = []
    for left, right in zip(bounds, bounds[1:], strict=False):
        start, end = left + 1, right
        while start < end and line[start].isspace():
            start += 1
        while end > start and line[end - 1].isspace():
            end -= 1
        spans.append((start, end))
    # a leading or trailing pipe opens or closes the row: nothing lies outside it
    if pipes and not line[: pipes[0]].strip():
        spans = spans[1:]
    if pipes and not line[pipes[-1] + 1 :].strip():
        spans = spans[:-1]
    return spans


def _is_delimiter_cell(text: str) -> bool:
    core = text[1:] if text.startswith(":") else text
    core = core[:-1] if core.endswith(":") else core
    return bool(core) and not core.strip("-")


def is_delimiter_row(line: str) -> bool:
    """`| --- | :--: |`: every cell dashes, with an optional colon at either end."""
    if "-" not in line:
        return False
    cells = [line[a:b] for a, b in cell_spans(line)]
    return bool(cells) and all(_is_delimiter_cell(cell) for cell in cells)


def table_length(lines: Sequence[str], first: int) -> int:
    """How many lines from `lines[first]` form a table (0 if none starts there)."""
    if first + 1 >= len(lines) or "|" not in lines[first] or not is_delimiter_row(lines[first + 1]):
        return 0
    if len(cell_spans(lines[first])) != len(cell_spans(lines[first + 1])):
        return 0
    n = 2
    while first + n < len(lines) and lines[first + n].strip() and "|" in lines[first + n]:
        n += 1
    return n
