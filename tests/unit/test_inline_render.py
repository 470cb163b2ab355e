"""The one renderer of a bilingual document draws markup from the document itself (issue 23, point 1).

An answer that carries no marks (an older server's, a client's own JSON, a kept sentence) is drawn from
its block's markdown or HTML, read with the translation's own readers: never shown as source, never
interpreted beyond a fixed list of tags, every text escaped.
"""

from __future__ import annotations

import re
from typing import Any

from service.web.export import render_standalone_html
from service.web.inline import MarkedText
from tests.support.answers import Cut, paragraph


def answer(fr: str, en: str, markup: str | None, cuts: list[Cut]) -> dict[str, Any]:
    """One paragraph; `cuts`: (start, end, fr, en) of each sentence, no marks carried."""
    block = paragraph(fr, en, cuts)
    if markup:
        block["markup"] = markup
    return {
        "source_lang": "fr",
        "target_lang": "en",
        "model": {"name": "m", "engine": "fake", "device": "cpu", "dtype": "float32"},
        "format": markup or "text",
        "blocks": [block],
        "stats": {"blocks": 1, "sentences": len(cuts), "source_tokens": 1, "output_tokens": 1, "seconds": 0.0},
        "warnings": [],
    }


def cells(html: str) -> tuple[str, str]:
    found = re.findall(r'<div class="cell (?:fr|en)" lang="(?:fr|en)">(.*?)</div>', html, re.S)
    assert len(found) == 2, html
    return found[0], found[1]


def sentences_of(text: str) -> list[tuple[int, int, str, str]]:
    out, start = [], 0
    for part in text.split(" "):
        out.append((start, start + len(part), part, part))
        start += len(part) + 1
    return out


def test_an_element_spanning_sentences_is_drawn_in_each_and_never_as_source() -> None:
    fr = "**Premier point. Second point.** Fin."
    en = "**First point. Second point.** End."
    pairs = [("**Premier point.", "**First point."), ("Second point.**", "Second point.**"), ("Fin.", "End.")]
    cuts = [(fr.index(f), fr.index(f) + len(f), f, e) for f, e in pairs]
    french, english = cells(render_standalone_html(answer(fr, en, "markdown", cuts)))
    assert "**" not in french
    # opened and closed in each piece it covers: both sentences and the space between them
    assert french.count("<strong>") == french.count("</strong>") == 3
    assert re.search(r'data-s="0"[^>]*><strong>Premier point\.</strong>', french)
    assert re.search(r'data-s="1"[^>]*><strong>Second point\.</strong>', french)
    assert "**" not in english and "<strong>" in english  # the English, sentence by sentence


def test_html_markup_is_read_and_a_bad_link_is_text() -> None:
    fr = (
        'Selon <a href="https://tass.ru/x">l&#39;agence</a>, <b>mercredi</b> &amp; '
        '<a href="javascript:alert(1)">ici</a>.'
    )
    html = render_standalone_html(answer(fr, fr, "html", [(0, len(fr), fr, fr)]))
    french, _ = cells(html)
    assert '<a href="https://tass.ru/x" rel="noopener noreferrer">l&#39;agence</a>' in french
    assert "<strong>mercredi</strong>" in french and " &amp; " in french
    assert "javascript" not in html and "&lt;a" not in french and "ici" in french


def test_a_plain_text_block_shows_its_characters_escaped() -> None:
    text = "Un texte avec **deux** étoiles et <b>une balise</b>."
    french, _ = cells(render_standalone_html(answer(text, text, None, [(0, len(text), text, text)])))
    assert "**deux**" in french and "&lt;b&gt;une balise&lt;/b&gt;" in french and "<strong>" not in french


def test_a_link_url_cannot_break_out_of_its_attribute() -> None:
    fr = '[lien](https://e.example/a"onmouseover="alert(1)) et la suite.'
    french, _ = cells(render_standalone_html(answer(fr, fr, "markdown", [(0, len(fr), fr, fr)])))
    assert 'onmouseover="' not in french and 'onmouseover="alert' not in french


def test_sentences_that_disagree_with_the_text_are_still_drawn() -> None:
    fr = "Le **sommet** a eu lieu."
    french, english = cells(
        render_standalone_html(answer(fr, "The **summit** took place.", "markdown", [(0, 99, "x", "y")]))
    )
    assert "<strong>sommet</strong>" in french and "**" not in french
    assert "**" not in english  # the English rebuilt from the sentences, each drawn


def test_drawing_grows_with_the_text_not_with_sentences_times_elements() -> None:
    """One element over the whole block and N sentences inside it: each sentence opens it once."""
    sizes = []
    for count in (200, 400):
        body = " ".join(f"m{n}." for n in range(count))
        fr = f"**{body}**"
        cuts = sentences_of(fr)
        sizes.append(len(render_standalone_html(answer(fr, fr, "markdown", cuts))))
    assert sizes[1] <= 2.2 * sizes[0]


def test_marked_text_ranges_asked_out_of_order_start_again() -> None:
    marked = MarkedText("a **b** c *d*", "markdown")
    first = marked.runs(10, 13)
    assert [run.text for run in first] == ["d"] and first[0].opens[0].tag == "em"
    again = marked.runs(0, 7)
    assert "".join(run.text for run in again) == "a b" and any(w.tag == "strong" for r in again for w in r.opens)


def test_a_deep_nest_around_many_sentences_is_not_redrawn_whole_in_each() -> None:
    """A client's JSON with 2,000 nested elements around 400 sentences: each sentence reopens a bounded
    number of them, so the page is not 400 × 2,000 elements."""
    depth = 2000
    body = " ".join(f"m{n}." for n in range(400))
    fr = "<b>" * depth + body + "</b>" * depth
    cuts = [(fr.index(part), fr.index(part) + len(part), part, part) for part in body.split(" ")]
    html = render_standalone_html(answer(fr, fr, "html", cuts))
    french, _ = cells(html)
    assert french.count("<strong>") == french.count("</strong>") <= depth + 16 * 2 * len(cuts)
    assert "&lt;b&gt;" not in french and "m399." in french
