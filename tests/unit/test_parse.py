"""Parsing: formats, block kinds, and the lossless layout of every text input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.document import BlockKind
from models.parse import ParseError, detect_format, parse, parse_article


def test_markdown_article_blocks(article_text: str) -> None:
    document = parse(article_text)
    assert document.format == "markdown"
    kinds = [block.kind for block in document.blocks]
    assert len(document.blocks) == len(article_text.strip().splitlines())
    assert kinds[:3] == [BlockKind.IMAGE, BlockKind.TITLE, BlockKind.SOURCE]
    assert set(kinds[3:]) == {BlockKind.PARAGRAPH}
    assert document.render() == article_text


def test_image_url_kept_byte_for_byte_and_alt_translated(article_text: str) -> None:
    image = parse(article_text).blocks[0]
    assert image.url == "https://images.example.org/lyon/budget-2025.jpg?w=1200&h=494&crop=1"
    assert image.text == "Le maire de Lyon présente le budget devant le conseil municipal"
    assert image.translate
    assert image.raw == article_text.splitlines()[0]


def test_publisher_line_is_kept_not_translated(article_text: str) -> None:
    source = parse(article_text).blocks[2]
    assert (source.kind, source.text, source.translate) == (BlockKind.SOURCE, "Le Progrès", False)


def test_a_subtitle_sentence_is_not_taken_for_a_publisher() -> None:
    document = parse("Le titre du jour\nUn sommet exceptionnel\nLe texte commence ici. Il continue.")
    assert document.blocks[1].kind is BlockKind.PARAGRAPH


def test_blank_lines_separate_paragraphs_and_single_breaks_stay_inside() -> None:
    text = "Titre\n\nPremière ligne du paragraphe,\nsuite du même paragraphe.\n\nSecond paragraphe.\n"
    document = parse(text, "text")
    assert [b.text for b in document.blocks] == [
        "Titre",
        "Première ligne du paragraphe,\nsuite du même paragraphe.",
        "Second paragraphe.",
    ]
    assert document.render() == text


def test_without_blank_lines_each_line_is_a_paragraph() -> None:
    document = parse("Une phrase.\nUne autre phrase.\nEncore une.", "text")
    assert [b.text for b in document.blocks] == ["Une phrase.", "Une autre phrase.", "Encore une."]


def test_markdown_headings_lists_and_code_keep_their_markup() -> None:
    text = "# Le titre #\n\n## Une section\n\n- un élément de liste\n\n```\ncode à garder\n```\n\n---\n"
    document = parse(text)
    assert [(b.kind, b.prefix, b.text, b.suffix) for b in document.blocks] == [
        (BlockKind.TITLE, "# ", "Le titre", " #"),
        (BlockKind.HEADING, "## ", "Une section", ""),
        (BlockKind.PARAGRAPH, "- ", "un élément de liste", ""),
        (BlockKind.VERBATIM, "", "```\ncode à garder\n```", ""),
        (BlockKind.VERBATIM, "", "---", ""),
    ]
    assert not document.blocks[3].translate
    assert document.render() == text


def test_lines_without_letters_are_kept_verbatim() -> None:
    document = parse("Un paragraphe.\n(...)\n2024\n", "text")
    assert [(b.kind, b.translate) for b in document.blocks][1:] == [(BlockKind.VERBATIM, False)] * 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bonjour.\nAu revoir.", "text"),
        ("# Titre\nTexte.", "markdown"),
        ("![alt](https://x.org/a.jpg)\nTitre", "markdown"),
        ("<html><body><p>Bonjour</p></body></html>", "html"),
        ("  <p>Bonjour</p>", "html"),
    ],
)
def test_format_detection(text: str, expected: str) -> None:
    assert detect_format(text) == expected


def test_format_override_reads_markdown_as_plain_text() -> None:
    document = parse("# pas un titre markdown\nTexte.", "text")
    assert document.blocks[0].prefix == ""
    assert document.blocks[0].text == "# pas un titre markdown"


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ParseError, match="unknown format"):
        parse("Bonjour", "docx")


def test_structured_article() -> None:
    article = {
        "title": "Un titre",
        "source": "Le Journal de Montréal",
        "image": {"url": "https://x.org/a.jpg?a=1&b=2", "alt": "Une photo"},
        "paragraphs": ["Premier paragraphe.", "(...)", "Second paragraphe."],
    }
    document = parse(json.dumps({"article": article}), "json")
    assert [(b.kind, b.text, b.translate) for b in document.blocks] == [
        (BlockKind.IMAGE, "Une photo", True),
        (BlockKind.TITLE, "Un titre", True),
        (BlockKind.SOURCE, "Le Journal de Montréal", False),
        (BlockKind.PARAGRAPH, "Premier paragraphe.", True),
        (BlockKind.VERBATIM, "(...)", False),
        (BlockKind.PARAGRAPH, "Second paragraphe.", True),
    ]
    assert document.blocks[0].url == "https://x.org/a.jpg?a=1&b=2"


@pytest.mark.parametrize(
    ("article", "message"),
    [
        ({"paragraphs": "pas une liste"}, "list of strings"),
        ({"title": 3}, "must be a string"),
        ({"image": {"alt": "x"}}, "string 'url'"),
        ({"auteur": "X", "title": "T"}, "unknown article fields"),
        ({}, "no title"),
        ([], "JSON object"),
    ],
)
def test_bad_structured_articles_are_refused(article: object, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_article(article)


def test_invalid_json_says_where() -> None:
    with pytest.raises(ParseError, match="line 1 column"):
        parse("{oops", "json")


def test_html_main_text_is_extracted() -> None:
    html = (
        "<html><head><title>Page</title></head><body><nav>Menu Accueil Contact</nav><article>"
        "<h1>Le conseil adopte le budget</h1>"
        "<p>Le conseil municipal a adopté mardi un budget record pour les transports en commun de la ville.</p>"
        "<p>L'opposition a voté contre ce budget qu'elle juge irréaliste et trop coûteux pour les habitants.</p>"
        "</article><footer>Mentions légales</footer></body></html>"
    )
    document = parse(html)
    assert document.format == "html"
    texts = [b.text for b in document.blocks]
    assert any("budget record" in text for text in texts)
    assert not any("Mentions légales" in text for text in texts)


@given(st.text(alphabet=st.sampled_from(list("ab .\n\t#![]()-*>`~«»é1")), max_size=200))
def test_text_and_markdown_parsing_is_lossless(text: str) -> None:
    for format in ("text", "markdown"):
        assert parse(text, format).render() == text


@given(st.text(max_size=300))
def test_parsing_arbitrary_unicode_is_lossless(text: str) -> None:
    for format in ("text", "markdown"):
        assert parse(text, format).render() == text
