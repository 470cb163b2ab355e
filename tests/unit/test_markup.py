"""Inline markup carried across translation: readers, alignment, placement, the pipeline."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import replace

import pytest

from models.align import Aligner, MonotonicAligner, attention_alignment, monotonic, piece_spans
from models.document import BilingualDocument, Translation
from models.engine import PLAIN_CALL, CallControl, GenerationOptions
from models.glossary import Terms
from models.markup import (
    CODE,
    FLAG_MARKUP_UNPLACED,
    LINK,
    Element,
    Placed,
    parse_html_inline,
    parse_markdown,
    place,
    place_in_order,
    render_markdown,
    restore_codes,
    safe_url,
    sentence_markup,
)
from models.parse import parse
from models.pipeline import translate_document
from models.repair import Fidelity
from tests.support.fakes import FakeEngine

EXAMPLE = "Selon [l'agence TASS](https://tass.ru/politika/123), le sommet a eu lieu **mercredi**."
URL = "https://tass.ru/politika/123"
MARKUP_CHARS = re.compile(r"[\[\]*`]|\]\(|https?://")
MD_LINK = re.compile(r"\[([^\[\]]*)\]\(([^()\s]*(?:\([^()\s]*\))?[^()\s]*)\)")


class Recording(FakeEngine):
    """The fake engine, translating word for word (`w` → `w`), so alignment is testable."""

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        self.calls.append(list(texts))
        return [Translation(text.replace("mercredi", "Wednesday"), 3, 3) for text in texts]


def sentences(result: BilingualDocument):
    return [s for block in result.blocks for s in block.sentences]


def test_attention_matrix_by_hand_gives_argmax_offsets() -> None:
    source, target = "le chat noir", "the black cat"
    src = [(0, 2), (3, 7), (8, 12), (12, 12)]  # the last: EOS, never chosen
    tgt = [(0, 3), (4, 9), (10, 13), (13, 13)]
    attention = [
        [0.7, 0.1, 0.1, 0.1],
        [0.1, 0.1, 0.7, 0.1],
        [0.1, 0.8, 0.0, 0.1],
        [0.0, 0.0, 0.0, 1.0],
    ]
    pairs = attention_alignment(attention, src, tgt)
    assert [(source[a:b], target[c:d]) for a, b, c, d in pairs] == [("le", "the"), ("noir", "black"), ("chat", "cat")]


def test_piece_spans_follow_sentencepiece_pieces() -> None:
    text = "Le  chat dort."
    assert piece_spans(text, ["▁Le", "▁ch", "at", "▁dort", ".", "</s>"]) == [
        (0, 2),
        (4, 6),
        (6, 8),
        (9, 13),
        (13, 14),
        (14, 14),
    ]


def test_monotonic_aligner_keeps_order_and_offsets_inside() -> None:
    pairs = monotonic("un deux trois quatre", "one two three")
    assert [p[2:] for p in pairs] == [(0, 3), (4, 7), (8, 13)]
    assert all(0 <= a < b <= 20 for a, b, _, _ in pairs)
    assert isinstance(MonotonicAligner(), Aligner) and not FakeEngine().traits.can_align


def test_markdown_reader_finds_links_emphasis_and_code() -> None:
    inline = parse_markdown(EXAMPLE + " Voir `x = 1` et *ceci*.")
    assert inline.plain == "Selon l'agence TASS, le sommet a eu lieu mercredi. Voir x = 1 et ceci."
    kinds = [(e.kind, inline.plain[e.start : e.end]) for e in inline.elements]
    assert kinds == [("link", "l'agence TASS"), ("strong", "mercredi"), ("code", "x = 1"), ("em", "ceci")]
    assert inline.elements[0].url == URL


@pytest.mark.parametrize(
    "text",
    [
        "Un lien [ouvert](",
        "Un **gras sans fin",
        "Un [piège](javascript:alert(1)) ici",
        "Un [piège](data:text/html;base64,PHNjcmlwdD4=) ici",
        "Un `code sans fin",
        "a ** b ** c",
        "[" * 500 + "](" * 500,
    ],
)
def test_bad_markdown_stays_literal_text(text: str) -> None:
    inline = parse_markdown(text)
    assert inline.plain == text and not inline.elements


def test_safe_urls() -> None:
    assert safe_url(URL) and safe_url("/relative/path") and safe_url("mailto:a@b.fr")
    assert not safe_url("javascript:alert(1)") and not safe_url("JaVaScRiPt:x") and not safe_url("data:x")


def test_placement_from_a_hand_made_alignment() -> None:
    inline = parse_markdown(EXAMPLE)
    markup = sentence_markup(inline, 0, len(inline.plain))
    english = "According to the TASS agency, the summit took place on Wednesday."
    fr, en = markup.plain, english

    def span(text: str, word: str) -> tuple[int, int]:
        start = text.index(word)
        return start, start + len(word)

    alignment = (
        (*span(fr, "l'agence"), *span(en, "agency")),
        (*span(fr, "TASS"), *span(en, "TASS")),
        (*span(fr, "mercredi"), *span(en, "Wednesday")),
        (*span(fr, "sommet"), *span(en, "summit")),
    )
    placed = place(markup, english, {}, alignment)
    assert placed is not None
    assert (
        render_markdown(english, placed)
        == (f"According to the [TASS agency,]({URL}) the summit took place on **Wednesday**.")
        or render_markdown(english, placed)
        == f"According to the [TASS agency]({URL}), the summit took place on **Wednesday**."
    )


def test_crossing_alignment_is_refused_and_the_fallback_is_well_formed() -> None:
    inline = parse_markdown("Le [chat](https://a.fr) et **le chien** dorment.")
    markup = sentence_markup(inline, 0, len(inline.plain))
    english = "The cat and the dog sleep."
    crossing = ((3, 7, 4, 15), (11, 20, 8, 19))  # chat → "cat and the", "le chien" → "and the dog"
    assert place(markup, english, {}, crossing) is None


def test_html_fragment_reader_round_trip() -> None:
    raw = 'Selon <a href="https://x.fr/?a=1&amp;b=2">l&#39;agence</a>, <b>mercredi</b> &amp; <code>x&lt;1</code>.'
    inline = parse_html_inline(raw)
    assert inline.plain == "Selon l'agence, mercredi & x<1."
    assert [e.kind for e in inline.elements] == ["link", "strong", "code"]
    assert inline.elements[0].url == "https://x.fr/?a=1&b=2"
    broken = parse_html_inline("a <b>b</i> c")
    assert not broken.elements


def test_reading_and_cutting_into_sentences_change_only_an_elements_range() -> None:
    """Each reader, then `sentence_markup`, copies an element with its plain range changed: every
    other field comes through whole (the HTML reader once rebuilt elements field by field and
    left out the code fields `fence` and `pad`)."""
    html = parse_html_inline('Un. Selon <a href="https://a.fr" title="A">l&#39;agence</a>, <code class="k">x</code>.')
    attrs = (("href", "https://a.fr"), ("title", "A"))
    assert html.elements == (
        Element(LINK, 10, 18, 10, 59, url="https://a.fr", tag="a", attrs=attrs),
        Element(CODE, 20, 21, 61, 85, tag="code", attrs=(("class", "k"),)),
    )
    markdown = parse_markdown("Un. Selon [l'agence](https://a.fr), `` `x` `` ici.")
    assert markdown.elements == (
        Element(LINK, 10, 18, 10, 34, url="https://a.fr"),
        Element(CODE, 20, 23, 36, 45, fence="``", pad=True),
    )
    for inline in (html, markdown):
        sentence = sentence_markup(inline, 4, len(inline.plain))
        assert sentence.elements == tuple(replace(e, start=e.start - 4, end=e.end - 4) for e in inline.elements)
    sentence = sentence_markup(markdown, 4, len(markdown.plain))
    english, spans, ok = restore_codes(f"According to the agency, {sentence.codes[0][0]} here.", sentence)
    placed = place_in_order(sentence, english, spans)[1]
    assert ok and render_markdown(english, placed) == "[According to the agency, `` `x` `` here.](https://a.fr)"


def test_a_placed_element_is_a_named_triple() -> None:
    """`place` gives `Placed` spans; they unpack and compare as (element, start, end) triples."""
    markup = sentence_markup(parse_markdown("le **chat** dort"), 0, 12)
    english = "the cat sleeps"
    placed = place(markup, english, {}, monotonic(markup.plain, english))
    assert placed is not None and all(isinstance(p, Placed) for p in placed)
    element, start, end = placed[0]
    assert placed == [(element, start, end)] and english[placed[0].start : placed[0].end] == "cat"


def test_code_placeholder_restored_byte_for_byte_or_appended() -> None:
    inline = parse_markdown("Appelez `f(x) * 2` ici.")
    markup = sentence_markup(inline, 0, len(inline.plain))
    assert "f(x)" not in markup.source and markup.codes
    placeholder = markup.codes[0][0]
    text, spans, ok = restore_codes(f"Call {placeholder} here.", markup)
    assert ok and text == "Call f(x) * 2 here." and text[slice(*spans[0])] == "f(x) * 2"
    text, spans, ok = restore_codes("Call it here.", markup)
    assert not ok and text.endswith("f(x) * 2")


def _check_markdown_result(result: BilingualDocument, engine: FakeEngine, urls: Sequence[str]) -> None:
    sent = [text for call in engine.calls for text in call]
    for text in sent:
        assert not MARKUP_CHARS.search(text), text
    english = "\n".join(block.en for block in result.blocks)
    found = [m.group(2) for m in MD_LINK.finditer(english)]
    assert sorted(found) == sorted(urls)  # every link once, URL byte for byte
    for sentence in sentences(result):
        assert sentence.en.count("**") % 2 == 0
        if sentence.alignment is not None:
            assert sentence.fr_plain is not None and sentence.en_plain is not None
            for a, b, c, d in sentence.alignment:
                assert 0 <= a <= b <= len(sentence.fr_plain) and 0 <= c <= d <= len(sentence.en_plain)


def test_pipeline_sends_no_markup_and_puts_every_element_back() -> None:
    engine = Recording()
    text = EXAMPLE + " Puis `x = 1` et *ceci*.\n\n## Un [titre](https://a.fr/(b)) **fort**"
    result = translate_document(parse(text, "markdown"), engine, alignment=True)
    _check_markdown_result(result, engine, [URL, "https://a.fr/(b)"])
    first = result.blocks[0]
    assert first.fr == EXAMPLE + " Puis `x = 1` et *ceci*." and first.markup == "markdown"
    assert "`x = 1`" in first.en and "**Wednesday**" in first.en and first.en.count("*ceci*") == 1
    for sentence in first.sentences:
        assert first.fr[sentence.start : sentence.end] == sentence.fr


def test_glossary_and_markup_together() -> None:
    engine = Recording()
    terms = Terms.of({"agence TASS": "TASS news agency"})
    result = translate_document(parse(EXAMPLE, "markdown"), engine, fidelity=Fidelity(terms=terms))
    english = result.blocks[0].en
    assert english.count(f"]({URL})") == 1
    assert "TASS news agency" in re.sub(r"\[|\]\([^)]*\)|\*\*", "", english)


def test_a_thousand_links_in_one_paragraph_is_fast_and_keeps_them_all() -> None:
    engine = Recording()
    urls = [f"https://ex.org/{i}" for i in range(1000)]
    text = " ".join(f"[lien {i}]({url})" for i, url in enumerate(urls)) + "."
    started = time.perf_counter()
    result = translate_document(parse(text, "markdown"), engine)
    assert time.perf_counter() - started < 20
    _check_markdown_result(result, engine, urls)


def test_unplaceable_markup_is_flagged_not_dropped() -> None:
    class Short(FakeEngine):
        def translate(self, texts, options=GenerationOptions(), *, control=PLAIN_CALL):
            return [Translation("Yes.", 1, 1) for _ in texts]

    text = "Le [a](https://a.fr), le [b](https://b.fr) et le [c](https://c.fr) dorment."
    result = translate_document(parse(text, "markdown"), Short())
    sentence = sentences(result)[0]
    assert FLAG_MARKUP_UNPLACED in sentence.flags
    assert sorted(m.group(2) for m in MD_LINK.finditer(sentence.en)) == ["https://a.fr", "https://b.fr", "https://c.fr"]


def test_html_article_keeps_inline_markup_and_tables() -> None:
    html = (
        "<html><head><title>Le sommet</title></head><body><article><h1>Le sommet</h1>"
        f'<p>Selon <a href="{URL}">l\'agence TASS</a>, le sommet a eu lieu <b>mercredi</b> et <code>x&lt;1</code>.</p>'
        '<p>Un autre paragraphe, assez long pour que trafilatura le garde. <a href="javascript:alert(1)">Mal</a>.</p>'
        "<table><tr><th>Ville</th><th>Population</th></tr><tr><td>Paris</td><td>2 102 650</td></tr></table>"
        "</article></body></html>"
    )
    engine = Recording()
    result = translate_document(parse(html, "html"), engine)
    for text in (t for call in engine.calls for t in call):
        assert "<" not in text and "http" not in text and "x<1" not in text
    paragraph = next(b for b in result.blocks if "TASS" in b.fr)
    assert paragraph.markup == "html"
    assert paragraph.en.count(f'<a href="{URL}">') == 1 and paragraph.en.count("</a>") == 1
    assert "<b>Wednesday</b>" in paragraph.en and "<code>x&lt;1</code>" in paragraph.en
    assert not any("javascript" in b.en for b in result.blocks)
    cells = {b.cell: b for b in result.blocks if b.cell is not None}
    assert set(cells) == {(0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1)}
    assert cells[(0, 1, 1)].en == "2 102 650" and not cells[(0, 1, 1)].translated


@pytest.mark.integration
def test_tiny_checkpoint_aligns_with_attention_and_keeps_markup(tiny_engine) -> None:
    class Recorder:
        def __init__(self, engine) -> None:
            self.engine, self.calls = engine, []
            self.info, self.max_input_tokens = engine.info, engine.max_input_tokens

        def count_tokens(self, texts):
            return self.engine.count_tokens(texts)

        def translate(self, texts, options=GenerationOptions(), *, control=PLAIN_CALL):
            self.calls.append(list(texts))
            return self.engine.translate(texts, GenerationOptions(num_beams=1), control=control)

        def align(self, sources, targets, *, control=PLAIN_CALL):
            return self.engine.align(sources, targets, control=control)

    assert isinstance(tiny_engine, Aligner)
    recorder = Recorder(tiny_engine)
    text = EXAMPLE + " Puis `x = 1` et *ceci*."
    result = translate_document(parse(text, "markdown"), recorder, alignment=True)  # type: ignore[arg-type]
    _check_markdown_result(result, recorder, [URL])  # type: ignore[arg-type]
    first = result.blocks[0]
    assert first.en.count("`x = 1`") == 1 and first.en.count("**") == 2
    assert all(s.alignment for s in first.sentences)
    pairs = tiny_engine.align(["le chat dort"], ["the cat sleeps"])[0]
    assert pairs and all(0 <= a < b <= 12 and 0 <= c < d <= 14 for a, b, c, d in pairs)


@pytest.mark.parametrize(
    "url",
    [
        "//evil.example/x",  # scheme-relative: another host (from a saved page, file://evil.example: a share)
        "\\\\evil.example/x",  # browsers read \ as / in http(s) pages
        "/\\evil.example/x",
        "\\/evil.example/x",
        "&#x2F;&#x2F;evil.example/x",  # a markdown renderer decodes character references
        "\\/\\/evil.example/x",  # and backslash escapes
        "javascript&colon;alert(1)",
        "javascript&#58;alert(1)",
        "javascript\\:alert(1)",
        "jav&#x61;script:alert(1)",
        "java&#x09;script:alert(1)",  # a tab, dropped by the browser once decoded
        "java\tscript:alert(1)",
        " javascript:alert(1)",
        "\x01javascript:alert(1)",
        "\x7fjavascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "VBScript:msgbox(1)",
        "data:text/html,x",
        "file:///etc/passwd",
    ],
)
def test_urls_that_leave_the_site_or_run_code_in_some_reading_are_not_safe(url: str) -> None:
    assert not safe_url(url)


@pytest.mark.parametrize(
    "url", ["https://tass.ru/a?b=1&c=2", "HTTP://x.example", "/a/b", "a\\b.html", "../up", "#part", "?q=1", "d/a:b"]
)
def test_site_paths_and_http_links_stay_safe(url: str) -> None:
    assert safe_url(url)


def test_a_scheme_relative_markdown_link_stays_literal_text() -> None:
    text = "Un [lien](//evil.example/x) ici"
    inline = parse_markdown(text)
    assert inline.plain == text and not inline.elements
