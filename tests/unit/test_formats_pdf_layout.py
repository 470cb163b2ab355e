"""PDF paragraphs rebuilt from the text layer's geometry: gaps smaller than a line, headings, columns,
running headers and footers; on PDFs as fpdf2 writes them."""

from __future__ import annotations

from models.document import BlockKind
from models.pipeline import translate_document
from service import formats
from tests.support import fpdf_docs
from tests.support.fakes import FakeEngine
from tests.support.pdf import Line, make_pdf


def blocks(data: bytes) -> list[tuple[BlockKind, str, bool]]:
    return [(b.kind, b.text, b.translate) for b in formats.read_source(data, "pdf").document.blocks]


def test_nine_paragraphs_apart_by_less_than_a_line_are_nine_blocks() -> None:
    for gap in (1.0, 1.5, 4.0):
        made = fpdf_docs.nine_paragraphs(gap)
        assert [text for _, text, _ in blocks(made.data)] == list(made.body), gap


def test_headings_and_running_headers_and_footers_are_kept_apart() -> None:
    made = fpdf_docs.article(pages=3)
    found = blocks(made.data)
    body = [(kind, text) for kind, text, _ in found if kind != BlockKind.VERBATIM]
    assert [text for _, text in body] == list(made.body)  # every paragraph, none joined to a header
    assert [text for kind, text in body if kind == BlockKind.HEADING] == list(made.headings)
    running = [(text, translate) for kind, text, translate in found if kind == BlockKind.VERBATIM]
    header = made.running[0]
    assert running == [(t, False) for page in (1, 2, 3) for t in (header, f"Page {page}")]
    kinds = [kind for kind, _, _ in found]  # each page's header before its text, its footer after
    assert kinds[0] == BlockKind.VERBATIM and kinds[-1] == BlockKind.VERBATIM


def test_a_running_header_is_written_once_verbatim_in_each_layout() -> None:
    made = fpdf_docs.article(pages=2)
    source = formats.read_source(made.data, "pdf")
    result = formats.bilingual(source, translate_document(source.document, FakeEngine()))
    for layout in formats.LAYOUTS:
        page = formats.write_source(source, result, layout).decode()
        assert page.count(made.running[0]) == 2, layout  # once a page, not French and "English"
        assert 'class="running"' in page


def test_a_two_column_page_reads_each_column_in_turn() -> None:
    made = fpdf_docs.two_columns()
    assert [text for _, text, _ in blocks(made.data)] == list(made.body)


def test_columns_drawn_row_by_row_are_read_column_by_column() -> None:
    left = ["Le conseil a voté", "le budget hier soir.", "Les élus ont débattu", "longtemps."]
    right = ["La piscine ouvrira", "en juin prochain.", "Le maire l'a dit", "ce matin."]
    ys = [700, 686, 662, 648]  # a gap between the two paragraphs of each column
    lines = [Line(text, x, y) for y, a, b in zip(ys, left, right, strict=True) for text, x in ((a, 72), (b, 320))]
    assert [text for _, text, _ in blocks(make_pdf([lines]))] == [
        "Le conseil a voté le budget hier soir.",
        "Les élus ont débattu longtemps.",
        "La piscine ouvrira en juin prochain.",
        "Le maire l'a dit ce matin.",
    ]


def test_a_line_repeated_in_the_middle_of_pages_is_text_not_a_header() -> None:
    words = ("un", "deux", "trois")
    pages = [
        [
            Line("Journal de la ville", 72, 780, 9),  # a running header
            Line(f"Le {word} commence ici.", 72, 700),
            Line("Voir la suite.", 72, 400),  # repeated at one height, but with text above and below
            Line(f"Texte {word} ici.", 72, 300),
        ]
        for word in words
    ]
    found = blocks(make_pdf(pages))
    assert [translate for _, text, translate in found if text == "Voir la suite."] == [True] * 3
    assert [translate for _, text, translate in found if text == "Journal de la ville"] == [False] * 3
    everywhere = [[Line("Même texte.", 72, 700), Line("Encore le même.", 72, 680)] for _ in words]
    assert all(translate for _, _, translate in blocks(make_pdf(everywhere)))  # a page of repeats is text
