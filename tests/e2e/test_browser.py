"""The side-by-side page in headless Chromium (Debian's, via Playwright) against a live server on the tiny model.

The tiny checkpoint's English is gibberish, but the structure (blocks, sentences, offsets) is real.
Screenshots land in test-output/ for a person to look at.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from models.document import Translation
from models.engine import PLAIN_CALL, CallControl, DelegatingEngine, EngineTraits, GenerationOptions
from service.settings import Settings
from tests.support.browser import (
    MAX_CHARS,
    MAX_SENTENCES,
    OUTPUT,
    Greedy,
    Watched,
    expect,
    opened,
    serve,
    serve_greedy,
)

pytestmark = pytest.mark.browser

XSS = "Il a écrit <img src=x onerror=alert(1)> puis <script>alert(2)</script> dans la page."
PAGE_KEY = "page-key-7f3a"
HIGHLIGHT = "rgb(255, 226, 122)"  # --hl in bitext.css


@pytest.fixture(scope="module")
def live_server(tiny_engine: Any) -> Iterator[str]:
    """The real app on the tiny engine (greedy, cached: the article is translated once), on a free localhost port."""
    yield from serve_greedy(tiny_engine, Settings(max_chars=MAX_CHARS, max_sentences=MAX_SENTENCES, warmup=False))


@pytest.fixture(scope="module")
def keyed_server(tiny_engine: Any) -> Iterator[str]:
    """The same app with `BITEXT_API_KEYS` set: the page must send a key."""
    settings = Settings(max_chars=MAX_CHARS, max_sentences=MAX_SENTENCES, warmup=False, api_keys=[PAGE_KEY])
    yield from serve_greedy(tiny_engine, settings)


class Slow(Greedy):
    """The greedy tiny engine, a little slower per call and on one lane: a stream has time to show its
    blocks one by one, and to be cancelled before the last."""

    @property
    def traits(self) -> EngineTraits:
        return replace(self.engine.traits, lanes=1)

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        time.sleep(0.15)
        return super().translate(texts, options, control=control)


@pytest.fixture(scope="module")
def slow_server(tiny_engine: Any) -> Iterator[str]:
    """Two sentences per engine call, each call slowed: an article of many paragraphs takes seconds."""
    settings = Settings(max_chars=MAX_CHARS, max_sentences=MAX_SENTENCES, warmup=False, batch_max_sentences=2)
    yield from serve(settings, Slow(tiny_engine))


class Held(Greedy):
    """The greedy tiny engine, every call held until the test lets it go: nothing English can arrive
    before the test has looked at the page."""

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self.release = threading.Event()

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        assert self.release.wait(60), "the test never let the engine go"
        return super().translate(texts, options, control=control)


@pytest.fixture(scope="module")
def held_engine(tiny_engine: Any) -> Held:
    return Held(tiny_engine)


@pytest.fixture(scope="module")
def held_server(held_engine: Held) -> Iterator[str]:
    settings = Settings(max_chars=MAX_CHARS, max_sentences=MAX_SENTENCES, warmup=False, cache_entries=0)
    yield from serve(settings, held_engine)


@pytest.fixture
def watched(browser: Any, live_server: str) -> Iterator[Watched]:
    with opened(browser, live_server) as view:
        yield view


def answer_of(page: Any, response: Any) -> dict[str, Any]:
    """The API's answer: JSON, or, for the stream the page reads, what the page put back together.

    Chromium keeps no body of a response the page read as a stream, so the streamed answer is read
    back from the page's own *Download JSON* once the stream has ended (the API tests compare the
    stream with the JSON answer field by field).
    """
    if not response.headers.get("content-type", "").startswith("application/x-ndjson"):
        data: dict[str, Any] = response.json()
        return data
    expect(page.locator("#status-text")).to_contain_text("Translated", timeout=90_000)
    with page.expect_download() as download:
        page.click("#download-json")
    streamed: dict[str, Any] = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    return streamed


def translate(page: Any, text: str, format: str = "auto") -> dict[str, Any]:
    """Paste, press Translate, wait until every block is on the page; the API's JSON.

    After a translation the input is folded into its one-line bar: it is opened first."""
    if page.locator("#edit-french").is_visible():
        page.click("#edit-french")
    page.fill("#source", text)
    page.select_option("#format", format)
    with page.expect_response("**/v1/translate") as answer:
        page.click("#translate")
    assert answer.value.status == 200
    data = answer_of(page, answer.value)
    expect(page.locator("#bitext .row")).to_have_count(len(data["blocks"]))
    return data


def boxes(page: Any, selector: str) -> list[dict[str, float]]:
    return page.eval_on_selector_all(selector, "nodes => nodes.map(n => n.getBoundingClientRect().toJSON())")


def test_article_lays_out_one_aligned_row_per_block(watched: Watched, article_text: str) -> None:
    page = watched.page
    data = translate(page, article_text)
    assert len(data["blocks"]) == data["stats"]["blocks"] == len(article_text.strip().splitlines())
    assert page.locator("#bitext .row").count() == len(data["blocks"])
    assert page.eval_on_selector_all("#bitext .row", "rows => rows.map(r => +r.dataset.block)") == [
        b["index"] for b in data["blocks"]
    ]
    assert page.eval_on_selector_all("#bitext .row .cell", "cells => cells.map(c => c.lang)") == ["fr", "en"] * len(
        data["blocks"]
    )
    assert page.text_content("#status-text").startswith(f"Translated {data['stats']['sentences']} sentences")

    # wide: each English cell starts level with its French one, to its right
    french, english = boxes(page, "#bitext .cell.fr"), boxes(page, "#bitext .cell.en")
    for fr, en in zip(french, english, strict=True):
        assert abs(fr["top"] - en["top"]) < 1 and en["left"] >= fr["right"]
    # the image (http(s)) is shown above its French and English captions
    image = page.locator("#bitext .row[data-kind=image] img")
    assert image.evaluate("img => img.complete && img.naturalWidth") == 1200
    assert image.bounding_box()["y"] + image.bounding_box()["height"] <= french[0]["top"] + 1
    assert page.text_content("#bitext .row[data-kind=image] .cell.en") == data["blocks"][0]["en"]
    assert page.text_content("#bitext .row[data-kind=title] .cell.en") == data["blocks"][1]["en"]
    # flags: one marker after each flagged English sentence, its reasons in the title (a source line is kept_verbatim)
    flagged = [[b["index"], s["index"], s["flags"]] for b in data["blocks"] for s in b["sentences"] if s["flags"]]
    markers = page.eval_on_selector_all(
        "#bitext .flag",
        "ms => ms.map(m => [+m.closest('.row').dataset.block, +m.previousElementSibling.dataset.s, "
        "m.dataset.flags.split(' '), m.title])",
    )
    assert flagged and [m[:3] for m in markers] == flagged
    assert all(m[3] and m[3] != m[2][0] for m in markers if m[2] == ["kept_verbatim"])
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=OUTPUT / "web-wide.png", full_page=True)

    page.emulate_media(media="print")  # print: the document alone, still side by side
    assert page.locator("#input-form").is_hidden() and page.locator(".toolbar").is_hidden()
    assert abs(boxes(page, "#bitext .cell.fr")[3]["top"] - boxes(page, "#bitext .cell.en")[3]["top"]) < 1
    page.emulate_media(media="screen")

    # narrow: the columns stack as French / English pairs, in block order
    page.set_viewport_size({"width": 390, "height": 844})
    french, english = boxes(page, "#bitext .cell.fr"), boxes(page, "#bitext .cell.en")
    for k, (fr, en) in enumerate(zip(french, english, strict=True)):
        assert en["top"] >= fr["bottom"] - 1 and abs(en["left"] - fr["left"]) < 2
        if k + 1 < len(french):
            assert french[k + 1]["top"] >= en["bottom"] - 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # nothing overflows sideways
    page.screenshot(path=OUTPUT / "web-narrow.png", full_page=True)
    page.locator("#bitext .row").first.scroll_into_view_if_needed()
    page.screenshot(path=OUTPUT / "web-narrow-screen.png")  # one phone screen, legible at full size
    assert watched.violations == []


def test_hover_and_focus_highlight_the_partner_sentence(watched: Watched, article_text: str) -> None:
    page = watched.page
    data = translate(page, article_text)
    p = next(b["index"] for b in data["blocks"] if b["kind"] == "paragraph" and len(b["sentences"]) >= 3)
    row = page.locator(f"#bitext .row[data-block='{p}']")
    fr, en = row.locator(".cell.fr .s"), row.locator(".cell.en .s")
    assert fr.count() == en.count() == len(data["blocks"][p]["sentences"])
    highlighted = lambda: page.eval_on_selector_all(  # noqa: E731
        ".s.hl", "nodes => nodes.map(n => [n.closest('.row').dataset.block, n.closest('.cell').lang, +n.dataset.s])"
    )

    for k in range(fr.count()):
        fr.nth(k).hover()
        assert sorted(highlighted()) == [[str(p), "en", k], [str(p), "fr", k]]
        assert en.nth(k).text_content() == data["blocks"][p]["sentences"][k]["en"]
        assert en.nth(k).evaluate("n => getComputedStyle(n).backgroundColor") == HIGHLIGHT
    en.nth(0).hover()  # and from the English side
    assert sorted(highlighted()) == [[str(p), "en", 0], [str(p), "fr", 0]]

    page.mouse.move(1, 1)  # keyboard only: Tab moves sentence by sentence, the highlight follows focus
    fr.nth(0).focus()
    assert sorted(highlighted()) == [[str(p), "en", 0], [str(p), "fr", 0]]
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.s") == "1"
    assert sorted(highlighted()) == [[str(p), "en", 1], [str(p), "fr", 1]]


def test_markup_in_french_is_shown_as_text_and_runs_nothing(watched: Watched, live_server: str) -> None:
    page = watched.page
    csp = page.request.get(live_server + "/").headers["content-security-policy"]
    assert "script-src 'self';" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    data = translate(page, XSS, "text")
    assert page.text_content("#bitext .row .cell.fr") == XSS
    assert page.locator("#bitext .row .cell.en").text_content() == data["blocks"][0]["en"]
    assert page.locator("#bitext img, #bitext script").count() == 0
    page.wait_for_timeout(300)  # an onerror handler would have fired by now
    assert watched.dialogs == []

    # a response with a javascript: image and markup in its alt text (whatever the parser makes of input)
    hostile = dict(
        data,
        blocks=[
            {
                "index": 0,
                "kind": "image",
                "fr": "<b onmouseover=alert(4)>photo</b>",
                "en": "<script>alert(5)</script>",
                "translated": True,
                "sentences": [],
                "url": "javascript:alert(3)",
                "prefix": "",
                "suffix": "",
            },
        ],
    )
    page.route("**/v1/translate", lambda route: route.fulfill(json=hostile))
    translate(page, "Peu importe.")
    assert page.locator("#bitext img, #bitext script, #bitext b, #bitext a").count() == 0
    assert page.text_content("#bitext .cell.fr") == "<b onmouseover=alert(4)>photo</b>"
    assert "javascript:alert(3)" in page.text_content("#bitext .media")  # shown as text, never a link
    page.hover("#bitext .cell.fr")
    assert watched.dialogs == []


def test_downloads_json_and_a_standalone_html_that_fetches_nothing(
    watched: Watched, browser: Any, article_text: str
) -> None:
    page = watched.page
    data = translate(page, article_text)
    with page.expect_download() as json_download:
        page.click("#download-json")
    assert json.loads(Path(json_download.value.path()).read_text(encoding="utf-8")) == data
    with page.expect_download() as html_download:
        page.click("#download-html")
    # named from the article's title (its image's alt text leads it)
    assert html_download.value.suggested_filename == "le-maire-de-lyon-presente-le-budget-devant-le-conseil.html"
    OUTPUT.mkdir(exist_ok=True)
    standalone = OUTPUT / "standalone.html"
    html_download.value.save_as(standalone)

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        offline = context.new_page()
        requests: list[str] = []
        offline.on("request", lambda request: requests.append(request.url))
        viewer = Watched(offline)
        offline.goto(standalone.as_uri())
        offline.wait_for_load_state("networkidle")
        assert requests == [standalone.as_uri()]  # the file itself, nothing else
        assert viewer.violations == [] and viewer.errors == []  # nothing even tried (the file's CSP would say)
        assert offline.evaluate("document.scripts.length") == 0
        assert offline.locator(".row").count() == len(data["blocks"])
        assert offline.eval_on_selector_all(
            ".row", "rows => rows.map(r => r.querySelector('.cell.en').textContent)"
        ) == [b["en"] for b in data["blocks"]]
        p = next(b["index"] for b in data["blocks"] if len(b["sentences"]) >= 2)
        offline.hover(f".row[data-block='{p}'] .cell.fr .s[data-s='1']")  # CSS-only highlight in the file
        partner = offline.locator(f".row[data-block='{p}'] .cell.en .s[data-s='1']")
        assert partner.evaluate("n => getComputedStyle(n).backgroundColor") == HIGHLIGHT
        offline.screenshot(path=OUTPUT / "standalone.png", full_page=True)
    finally:
        context.close()


def test_counter_progress_and_api_errors_in_words(watched: Watched) -> None:
    page = watched.page
    page.fill("#source", "Un texte.")
    assert page.text_content("#counter") == f"9 / {MAX_CHARS:,} characters"
    page.fill("#source", "é" * (MAX_CHARS + 1))
    assert "over" in page.get_attribute("#counter", "class") and page.is_disabled("#translate")

    seen: list[str] = []

    def peek(route: Any) -> None:  # what the page shows while the request is in flight
        seen.append(page.text_content("#status-text") or "")
        route.continue_()

    page.route("**/v1/translate", peek)
    sentences = "Oui. " * (MAX_SENTENCES + 50)
    page.fill("#source", sentences)
    assert not page.is_disabled("#translate")
    with page.expect_response("**/v1/translate") as answer:
        page.click("#translate")
    assert answer.value.status == 413
    assert seen and seen[0].startswith(f"Translating {MAX_SENTENCES + 50} sentences…")
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert f"the limit is {MAX_SENTENCES}" in error.text_content() and "too_many_sentences" in error.text_content()
    assert page.locator("#result").is_hidden()

    page.fill("#source", "   \n ")
    page.click("#translate")
    assert "nothing to translate" in error.text_content()


def test_files_keyboard_submit_and_copy(watched: Watched, article_text: str, tmp_path: Path) -> None:
    page = watched.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    article = tmp_path / "article.md"
    article.write_text(article_text, encoding="utf-8")
    page.set_input_files("#file", str(article))
    expect(page.locator("#source")).to_have_value(article_text)
    assert page.input_value("#format") == "markdown"

    page.evaluate(
        """() => {
            const data = new DataTransfer();
            data.items.add(new File(["<p>Bonjour. Au revoir.</p>"], "page.html", {type: "text/html"}));
            const drop = new DragEvent("drop", {dataTransfer: data, bubbles: true});
            document.getElementById("input-form").dispatchEvent(drop);
        }"""
    )
    expect(page.locator("#format")).to_have_value("html")
    assert page.input_value("#source") == "<p>Bonjour. Au revoir.</p>"

    page.fill("#source", "Bonjour. Au revoir.\n\nMerci.")
    page.select_option("#format", "text")
    page.focus("#source")
    with page.expect_response("**/v1/translate") as answer:
        page.keyboard.press("Control+Enter")
    data = answer_of(page, answer.value)
    page.locator("#bitext .row").first.wait_for()
    page.click("#copy-en")
    expect(page.locator("#status-text")).to_contain_text("clipboard")
    expected = "\n\n".join(b.get("prefix", "") + b["en"] + b.get("suffix", "") for b in data["blocks"]) + "\n"
    assert page.evaluate("navigator.clipboard.readText()") == expected


def test_without_keys_the_page_shows_no_key_field(watched: Watched) -> None:
    expect(watched.page.locator("#key-field")).to_be_hidden()


def test_with_keys_the_page_asks_for_one_sends_it_as_a_header_and_keeps_it_for_the_tab(
    browser: Any, keyed_server: str
) -> None:
    with opened(browser, keyed_server) as view:
        page = view.page
        requests: list[tuple[str, str | None]] = []
        page.on("request", lambda request: requests.append((request.url, request.headers.get("authorization"))))
        key = page.locator("#api-key")
        expect(key).to_be_visible()
        assert key.get_attribute("type") == "password" and key.get_attribute("autocomplete") == "off"

        page.fill("#source", "Le conseil municipal a voté le budget.")
        with page.expect_response("**/v1/translate") as refused:
            page.click("#translate")
        assert refused.value.status == 401
        expect(page.locator("#error")).to_contain_text("needs an API key")
        expect(page.locator("#error")).to_contain_text("API key field")

        key.fill(PAGE_KEY)
        with page.expect_response("**/v1/translate") as answer:
            page.click("#translate")
        assert answer.value.status == 200
        assert answer.value.request.headers["authorization"] == f"Bearer {PAGE_KEY}"
        expect(page.locator("#bitext .row")).to_have_count(len(answer_of(page, answer.value)["blocks"]))
        expect(page.locator("#error")).to_be_hidden()
        with page.expect_response("**/v1/export/html") as exported, page.expect_download():
            page.click("#download-html")
        assert exported.value.status == 200

        page.reload()
        expect(page.locator("#counter")).to_contain_text("characters")
        expect(page.locator("#api-key")).to_have_value(PAGE_KEY)  # sessionStorage: this tab, across reloads
        with page.expect_response("**/v1/translate") as again:
            page.fill("#source", "Le maire a répondu.")
            page.click("#translate")
        assert again.value.status == 200
        assert PAGE_KEY not in page.url
    assert all(PAGE_KEY not in url for url, _ in requests), "the key went into a URL"


def test_the_english_column_fills_block_by_block_and_cancel_keeps_what_came(browser: Any, slow_server: str) -> None:
    with opened(browser, slow_server) as watched:
        page = watched.page
        paragraphs = [f"Le conseil numéro {i} a voté la mesure hier soir." for i in range(30)]
        page.fill("#source", "\n\n".join(paragraphs))
        page.click("#translate")
        first = page.locator("#bitext .row[data-block='0']:not(.pending) .cell.en")
        first.wait_for(state="visible")
        assert first.text_content()
        last_row = page.locator("#bitext .row[data-block='29']")  # drawn from `start`, its English on the way
        assert last_row.locator(".cell.fr").text_content() == paragraphs[29]
        assert last_row.locator(".cell.en .pending").count() == 1
        expect(page.locator("#status-text")).to_contain_text(" of 30 blocks")
        expect(page.locator("#cancel")).to_be_visible()
        page.hover("#bitext .row[data-block='0'] .cell.fr .s[data-s='0']")  # a finished block is usable
        partner = page.locator("#bitext .row[data-block='0'] .cell.en .s[data-s='0']")
        assert partner.evaluate("n => getComputedStyle(n).backgroundColor") == HIGHLIGHT
        page.click("#cancel")
        expect(page.locator("#status-text")).to_contain_text("Cancelled after")
        assert page.locator("#bitext .row[data-block]").count() == 30  # every French row stays
        missing = page.locator("#bitext .cell.en .untranslated").count()
        assert 1 <= missing < 30 and page.locator("#bitext .pending").count() == 0
        expect(page.locator("#cancel")).to_be_hidden()
        assert not page.is_disabled("#translate")
        page.wait_for_timeout(500)
        assert page.locator("#bitext .cell.en .untranslated").count() == missing  # nothing more arrives


def test_the_whole_french_column_shows_before_the_first_english_block(
    browser: Any, held_server: str, held_engine: Held
) -> None:
    """Issue 24, French first: every block's French (a heading, paragraphs, a table) is on the page,
    each with an English placeholder, while the engine has not answered anything; the English then
    fills each row in place and the progress bar fills by sentences."""
    held_engine.release.clear()
    try:
        with opened(browser, held_server) as watched:
            page = watched.page
            paragraphs = [f"Le conseil numéro {i} a voté la mesure. Elle entre en vigueur lundi." for i in range(12)]
            text = (
                "# Le budget de la ville\n\n"
                + "\n\n".join(paragraphs)
                + "\n\n| Poste | Montant |\n|---|---|\n| Écoles | 12 |\n"
            )
            page.fill("#source", text)
            page.select_option("#format", "markdown")
            page.click("#translate")
            rows = page.locator("#bitext .row[data-block]")
            expect(rows).to_have_count(13)  # the heading and the paragraphs; the table is one row of its own
            expect(page.locator("#bitext .row.kind-table")).to_have_count(1)
            for index, paragraph in enumerate(paragraphs, start=1):
                expect(page.locator(f"#bitext .row[data-block='{index}'] .cell.fr")).to_have_text(paragraph)
            assert page.locator("#bitext .cell.fr").first.is_visible()
            expect(page.locator("#bitext .kind-table .cell.fr")).to_contain_text("Écoles")
            pending = page.locator("#bitext .cell.en span.pending")
            assert pending.count() == 13 + 4  # every row and every table cell waits for its English
            assert page.locator("#bitext .cell.en .s").count() == 0  # no English has arrived
            assert page.get_attribute("#progress", "value") == "0"
            assert page.get_attribute("#progress", "max") == str(1 + 2 * len(paragraphs) + 4)
            screenshot = OUTPUT / "web-french-first.png"
            OUTPUT.mkdir(exist_ok=True)
            page.screenshot(path=str(screenshot))

            held_engine.release.set()
            expect(page.locator("#status-text")).to_contain_text("Translated", timeout=60_000)
            assert pending.count() == 0 and rows.count() == 13  # filled in place, no row added
            expect(page.locator("#bitext .row[data-block='1'] .cell.en .s")).to_have_count(2)
            page.hover("#bitext .row[data-block='1'] .cell.fr .s[data-s='0']")  # the French gained its sentences
            partner = page.locator("#bitext .row[data-block='1'] .cell.en .s[data-s='0']")
            assert partner.evaluate("n => getComputedStyle(n).backgroundColor") == HIGHLIGHT
    finally:
        held_engine.release.set()


MARKUP_ARTICLE = (
    "Selon [l'agence TASS](https://tass.ru/politika/123), le sommet a eu lieu **mercredi** à `Moscou`.\n\n"
    "Un [piège](javascript:alert(1)) reste du texte, comme <b>ceci</b>.\n\n"
    "| Ville | Population |\n|---|---:|\n| Paris | 2 100 000 |\n| Lyon | 520 000 |\n"
)


def test_inline_markup_is_drawn_safely_and_words_are_aligned(watched: Watched) -> None:
    """Links, emphasis and code become elements in both columns, drawn from the marks (never parsed
    as HTML); a javascript: link stays text; hovering a French word lights its English words."""
    page = watched.page
    page.fill("#source", MARKUP_ARTICLE)
    page.select_option("#format", "markdown")
    with page.expect_response("**/v1/translate") as answer:
        page.click("#translate")
    data = answer_of(page, answer.value)
    first = data["blocks"][0]["sentences"][0]
    assert first["fr_marks"] and first["en_marks"] and first["alignment"]  # the page asks for them

    url = "https://tass.ru/politika/123"
    for side in ("fr", "en"):
        row = page.locator(f"#bitext .row[data-block='0'] .cell.{side}")
        link = row.locator("a")
        expect(link).to_have_count(1)
        assert link.get_attribute("href") == url  # byte for byte
        assert link.get_attribute("rel") == "noopener noreferrer"
        expect(row.locator("strong")).to_have_count(1)
        expect(row.locator("code")).to_have_count(1)
        assert row.locator("code").text_content() == "Moscou"  # code comes back as it was
    assert page.locator("#bitext .row[data-block='0'] .cell.fr a").text_content() == "l'agence TASS"
    assert page.locator("#bitext .row[data-block='0'] .cell.fr strong").text_content() == "mercredi"

    trap = page.locator("#bitext .row[data-block='1']")
    assert trap.locator("a, b, script").count() == 0  # not a link, and raw HTML stays text
    assert "javascript:alert(1)" in (trap.locator(".cell.fr").text_content() or "")
    assert "<b>ceci</b>" in (trap.locator(".cell.fr").text_content() or "")

    tables = page.locator("#bitext .row.kind-table table")
    expect(tables).to_have_count(2)  # French and English
    for side in ("fr", "en"):
        table = page.locator(f"#bitext .row.kind-table .cell.{side} table")
        assert table.locator("th").count() == 2 and table.locator("td").count() == 4
    numbers = page.locator("#bitext .row.kind-table .cell.en td:nth-child(2)").all_text_contents()
    assert numbers == ["2 100 000", "520 000"]  # numbers in cells stay as they are

    # word hover, both ways: the partners are the words the alignment names
    pairs = first["alignment"]
    french_word = page.locator("#bitext .row[data-block='0'] .cell.fr .w").first
    french_word.hover()
    lit = page.locator("#bitext .row[data-block='0'] .cell.en .w.wl")
    assert lit.count() >= 1
    starts = {pair[0] for pair in pairs if pair[0] < len("Selon")}
    assert starts, "the alignment names the first French word"
    english_word = page.locator("#bitext .row[data-block='0'] .cell.en .w").first
    english_word.hover()
    assert page.locator("#bitext .row[data-block='0'] .cell.fr .w.wl").count() >= 1
    page.mouse.move(1, 1)
    page.locator("#bitext").dispatch_event("mouseleave")
    assert page.locator("#bitext .w.wl").count() == 0
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "page-markup.png"), full_page=True)


class Beamed(DelegatingEngine):
    """The tiny engine with its own beam (4): alternatives and scores exist; short texts keep it quick."""

    @property
    def traits(self) -> EngineTraits:
        return replace(self.engine.traits, default_beams=4)

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        return self.engine.translate(texts, replace(options, num_beams=4), control=control)


@pytest.fixture(scope="module")
def beamed_server(tiny_engine: Any) -> Iterator[str]:
    settings = Settings(max_chars=MAX_CHARS, max_sentences=MAX_SENTENCES, warmup=False, page_low_score=-0.5)
    yield from serve(settings, Beamed(tiny_engine))


def test_alternatives_can_be_picked_and_copy_uses_the_picks(browser: Any, beamed_server: str) -> None:
    with opened(browser, beamed_server) as watched:
        page = watched.page
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        text = "Le conseil municipal a voté le budget. Les travaux commencent lundi. La mairie remercie les habitants."
        data = translate(page, text, "text")
        sentences = data["blocks"][0]["sentences"]
        assert all(len(s["alternatives"]) <= 3 and isinstance(s["score"], float) for s in sentences)
        spans = page.locator("#bitext .cell.en .s")
        for number, sentence in enumerate(sentences):  # scores shown quietly: below the threshold, marked
            assert spans.nth(number).get_attribute("data-score") == f"{sentence['score']:.2f}"
            assert ("low" in (spans.nth(number).get_attribute("class") or "").split()) == (sentence["score"] < -0.5)
        chosen = next((n for n, s in enumerate(sentences) if s["alternatives"]), None)
        assert chosen is not None, "the tiny model's beam held no other translation for any sentence"
        sentence = sentences[chosen]

        spans.nth(chosen).click()
        options = page.locator("#bitext .alts .alt")
        expect(options).to_have_count(1 + len(sentence["alternatives"]))
        assert options.nth(0).get_attribute("aria-selected") == "true"
        options.nth(1).click()
        expect(page.locator("#bitext .alts")).to_have_count(0)
        assert spans.nth(chosen).text_content() == sentence["alternatives"][0]
        assert "picked" in (spans.nth(chosen).get_attribute("class") or "")

        page.click("#copy-en")
        expect(page.locator("#status-text")).to_contain_text("clipboard")
        copied = page.evaluate("navigator.clipboard.readText()")
        expected = data["blocks"][0]["en"].replace(sentence["en"], sentence["alternatives"][0], 1)
        assert copied == expected + "\n"

        spans.nth(chosen).focus()  # the keyboard way back: Enter opens, the model's choice restores
        page.keyboard.press("Enter")
        page.locator("#bitext .alts .alt").nth(0).click()
        assert spans.nth(chosen).text_content() == sentence["en"]
        page.click("#copy-en")
        assert page.evaluate("navigator.clipboard.readText()") == data["blocks"][0]["en"] + "\n"
