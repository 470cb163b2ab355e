"""Markdown tables become cell blocks: every cell translated alone, pipes and the delimiter row kept."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from models.document import BlockKind
from models.parse import parse
from models.tables import cell_spans, is_delimiter_row, table_length

TABLE = """Les chiffres du recensement.

| Ville | Population | Remarque |
|:------|-----------:|:--------:|
| Paris | 2 100 000 | **la capitale** |
| Lyon \\| Rhône | 520 000 | |

Après le tableau, un paragraphe.
"""


def test_a_markdown_table_is_read_as_cells() -> None:
    document = parse(TABLE, "markdown")
    cells = [(b.cell, b.text, b.translate) for b in document.blocks if b.kind is BlockKind.CELL]
    assert cells == [
        ((0, 0, 0), "Ville", True),
        ((0, 0, 1), "Population", True),
        ((0, 0, 2), "Remarque", True),
        ((0, 1, 0), "Paris", True),
        ((0, 1, 1), "2 100 000", False),  # numbers stay as they are
        ((0, 1, 2), "**la capitale**", True),
        ((0, 2, 0), "Lyon \\| Rhône", True),  # an escaped pipe is text
        ((0, 2, 1), "520 000", False),
    ]
    assert all(b.markup == "markdown" for b in document.blocks if b.kind is BlockKind.CELL)
    assert [b.kind for b in document.blocks].count(BlockKind.PARAGRAPH) == 2
    assert document.render() == TABLE  # pipes, alignment row and empty cells are in the separators


def test_tables_are_found_without_blank_lines_and_counted() -> None:
    text = "Avant.\n| a | b |\n|---|---|\n| c | d |\nEntre.\n\nx | y\n--|--\nz | w\n"
    document = parse(text, "markdown")
    assert [(b.kind.value, b.cell) for b in document.blocks if b.cell] == [
        ("cell", (0, 0, 0)),
        ("cell", (0, 0, 1)),
        ("cell", (0, 1, 0)),
        ("cell", (0, 1, 1)),
        ("cell", (1, 0, 0)),
        ("cell", (1, 0, 1)),
        ("cell", (1, 1, 0)),
        ("cell", (1, 1, 1)),
    ]
    assert document.render() == text


def test_what_is_not_a_table_stays_a_paragraph() -> None:
    for text in (
        "Un | trait vertical dans une phrase.\n\nUne autre phrase.",
        "| a | b |\n| pas une ligne de séparation |\n",
        "| a | b | c |\n|---|---|\n| 1 | 2 | 3 |\n",  # column counts differ
        "```\n| a | b |\n|---|---|\n```\n",  # inside a code fence
    ):
        assert not any(b.kind is BlockKind.CELL for b in parse(text, "markdown").blocks), text
    assert not any(b.kind is BlockKind.CELL for b in parse("| a | b |\n|---|---|\n", "text").blocks)


def test_row_cutting() -> None:
    assert cell_spans("| a | b |") == [(2, 3), (6, 7)]
    assert cell_spans("a|b") == [(0, 1), (2, 3)]
    assert cell_spans("| a || c |") == [(2, 3), (5, 5), (7, 8)]
    assert is_delimiter_row("|:--|--:|:-:|") and is_delimiter_row("---|---")
    assert not is_delimiter_row("| a | --- |") and not is_delimiter_row("|::|") and not is_delimiter_row("||")
    assert table_length(["| a |", "|---|", "| b |", "", "| c |"], 0) == 3


@given(st.text(alphabet="|-: \\a\n", max_size=200))
def test_any_pipe_soup_renders_back_exactly(text: str) -> None:
    assert parse(text, "markdown").render() == text
