"""HTML text nodes in, HTML out: markup, skipped regions and whitespace survive translation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.html_text import HtmlError, HtmlText, HtmlTooDeep


def _upper(markup: str, ignore: tuple[str, ...] = ()) -> str:
    parsed = HtmlText.parse(markup, ignore)
    return parsed.render([text.upper() for text in parsed.texts])


def test_only_text_changes_and_whitespace_is_kept() -> None:
    """A run of text with inline links and emphasis is one text (markup="html"), sent as a sentence."""
    run = 'Bonjour <b>le monde</b>, <a href="/fr/page?a=1&amp;b=2" title="Titre">lien</a>.'
    markup = f'<p class="lead">{run}</p>\n<p>  Deux  </p>'
    parsed = HtmlText.parse(markup)
    assert parsed.texts == (run, "Deux") and parsed.markups == ("html", "")
    assert parsed.render([run.replace("Bonjour", "Hello"), "Two"]) == (
        '<p class="lead">Hello <b>le monde</b>, <a href="/fr/page?a=1&amp;b=2" title="Titre">lien</a>.</p>'
        "\n<p>  Two  </p>"
    )


def test_code_scripts_comments_and_translate_no_are_left_alone() -> None:
    markup = (
        "<div>Texte <code>x = f(y)</code> <script>var s = 'chaîne';</script><style>p{color:red}</style>"
        '<!-- un commentaire --> <span translate="no">Le Monde</span> '
        '<div translate="no">rien <em translate="yes">sauf ceci</em></div></div>'
    )
    parsed = HtmlText.parse(markup)
    assert parsed.texts == ("Texte", "sauf ceci")
    out = _upper(markup)
    for kept in ("x = f(y)", "var s = 'chaîne';", "p{color:red}", "<!-- un commentaire -->", "Le Monde", "rien"):
        assert kept in out
    assert "TEXTE" in out and "SAUF CECI" in out


def test_ignore_tags_are_skipped_like_deepl_does() -> None:
    assert HtmlText.parse("<p>Un <x-keep>Deux</x-keep> <i>Trois</i></p>", ["x-keep", " I "]).texts == ("Un",)


def test_a_whole_page_keeps_its_doctype_and_head() -> None:
    page = (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Titre</title></head>'
        "<body><p>Salut</p></body></html>"
    )
    out = _upper(page)
    assert out.startswith("<!DOCTYPE html>")
    assert (
        '<html lang="fr"><head><meta charset="utf-8"><title>TITRE</title></head><body><p>SALUT</p></body></html>' in out
    )
    assert not _upper("<html><body><p>Oui</p></body></html>").startswith("<!DOCTYPE")


def test_entities_come_back_as_characters_and_text_is_escaped() -> None:
    parsed = HtmlText.parse("<p>Tom &amp; Jerry&nbsp;!</p>")
    assert parsed.texts == ("Tom & Jerry\xa0!",)
    assert parsed.render(["<Tom> & Jerry"]) == "<p>&lt;Tom&gt; &amp; Jerry</p>"


def test_text_without_letters_and_empty_input_are_kept() -> None:
    assert HtmlText.parse("").render([]) == ""
    assert HtmlText.parse(" \n ").render([]) == " \n "
    assert _upper("\n  <p>Un</p>\n") == "\n  <p>UN</p>\n"  # libxml2 drops leading whitespace; we keep it
    assert HtmlText.parse("<p>12 345</p><br>").texts == ()
    assert _upper("Juste du texte") == "JUSTE DU TEXTE"


def test_render_refuses_a_wrong_number_of_translations_and_does_not_mutate() -> None:
    parsed = HtmlText.parse("<p>Un</p><p>Deux</p>")
    with pytest.raises(ValueError, match="1 translations for 2"):
        parsed.render(["One"])
    assert parsed.render(["One", "Two"]) == "<p>One</p><p>Two</p>"
    assert parsed.render(["Un", "Deux"]) == "<p>Un</p><p>Deux</p>"


def test_unreadable_input_is_a_clear_error() -> None:
    with pytest.raises(HtmlError):
        HtmlText.parse("<!DOCTYPE html>")


_words = st.text(alphabet="abcdéèàç \n", min_size=1, max_size=12)
_tags = st.sampled_from(["b", "i", "span", "em", "strong", "code"])  # inline: nesting them is valid HTML


@st.composite
def _fragment(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        if depth < 3 and draw(st.booleans()):
            tag = draw(_tags)
            parts.append(f"<{tag}>{draw(_fragment(depth + 1))}</{tag}>")
        else:
            parts.append(draw(_words))
    return "".join(parts)


@given(_fragment())
def test_identity_translation_round_trips_well_formed_markup(markup: str) -> None:
    parsed = HtmlText.parse(markup)
    assert parsed.render(list(parsed.texts)) == markup
    markers = [f"x{i}" for i in range(len(parsed.texts))]
    assert HtmlText.parse(parsed.render(markers)).texts == tuple(markers)  # every node replaced once, in order


def test_html_nested_deeper_than_the_parser_reads_is_refused_not_emptied() -> None:
    assert HtmlText.parse("<div>" * 150 + "Bonjour" + "</div>" * 150).texts == ("Bonjour",)
    for depth in (300, 5000):
        with pytest.raises(HtmlTooDeep, match="nested too deeply"):
            HtmlText.parse("<div>" * depth + "Bonjour" + "</div>" * depth)
        with pytest.raises(HtmlTooDeep, match="nested too deeply"):
            HtmlText.parse("<!doctype html><html><body>" + "<div>" * depth + "Bonjour")


@pytest.mark.parametrize("depth", [300, 5000])
def test_deep_html_through_both_compat_routes_is_a_400_never_a_500_or_lost_text(depth: int) -> None:
    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.settings import Settings
    from tests.support.fakes import FakeEngine

    markup = "<div>" * depth + "Bonjour le monde." + "</div>" * depth
    settings = Settings(warmup=False, max_body_bytes=1_000_000, max_chars=500_000)
    app = create_app(settings, engine=FakeEngine())
    with TestClient(app, raise_server_exceptions=False) as client:
        libre = client.post("/translate", json={"q": markup, "source": "fr", "target": "en", "format": "html"})
        deepl = client.post("/v2/translate", json={"text": [markup], "target_lang": "EN", "tag_handling": "html"})
        shallow = client.post(
            "/translate", json={"q": "<div>" * 100 + "Bonjour.", "source": "fr", "target": "en", "format": "html"}
        )
    assert libre.status_code == 400 and "nested too deeply" in libre.json()["error"], libre.text
    assert deepl.status_code == 400 and "nested too deeply" in deepl.json()["message"], deepl.text
    assert shallow.status_code == 200 and "EN&lt;Bonjour.&gt;" in shallow.json()["translatedText"]
