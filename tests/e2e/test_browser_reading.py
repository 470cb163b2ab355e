"""The page as a reading room, in headless Chromium against a live server on the tiny model: the input folds
into one line once a translation is shown, actions show only when there is something to act on, downloads are
named from the title, flags are quiet behind one "sentences to check" button, and the page has an icon."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.settings import Settings
from tests.e2e.test_browser import translate
from tests.support.browser import MAX_CHARS, MAX_SENTENCES, OUTPUT, Watched, expect, opened, serve_greedy

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tiny_engine: Any) -> Iterator[str]:
    yield from serve_greedy(tiny_engine, Settings(max_chars=MAX_CHARS, max_sentences=MAX_SENTENCES, warmup=False))


@pytest.fixture
def watched(browser: Any, server: str) -> Iterator[Watched]:
    with opened(browser, server, (1280, 800)) as view:
        yield view
    assert view.failed == [], f"the page asked for something that is not there: {view.failed}"


def test_after_translating_the_input_folds_to_one_line_and_the_columns_take_the_screen(
    watched: Watched, article_text: str
) -> None:
    page = watched.page
    assert page.locator(".toolbar").is_hidden()  # nothing to copy or download yet
    assert page.locator("#edit-bar").is_hidden()
    OUTPUT.mkdir(exist_ok=True)
    page.fill("#source", article_text)
    page.screenshot(path=OUTPUT / "page-desktop-before.png")
    data = translate(page, article_text)
    expect(page.locator("#input-form")).to_be_hidden()
    expect(page.locator("#edit-bar")).to_be_visible()
    first_line = next(line for line in article_text.splitlines() if line.strip()).strip()
    assert page.text_content("#edit-summary") == first_line
    expect(page.locator(".toolbar")).to_be_visible()
    page.screenshot(path=OUTPUT / "page-desktop-after.png")
    # the first rows start near the top of the screen (they started ~450 px down under the form)
    first_row = page.locator("#bitext .row").first.bounding_box()
    assert first_row is not None and first_row["y"] < 200, first_row
    assert len(data["blocks"]) > 3

    page.click("#edit-french")
    expect(page.locator("#input-form")).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "source"
    assert page.input_value("#source") == article_text  # the French is still there to edit
    # the next translation folds it again
    with page.expect_response("**/v1/translate"):
        page.keyboard.press("Control+Enter")
    expect(page.locator("#input-form")).to_be_hidden()


def test_downloads_are_named_from_the_articles_title(watched: Watched) -> None:
    page = watched.page
    text = "# Élection à Paris : le maire « sortant » réélu\n\nLe conseil a voté la mesure hier soir."
    translate(page, text, "markdown")
    with page.expect_download() as json_download:
        page.click("#download-json")
    assert json_download.value.suggested_filename == "election-a-paris-le-maire-sortant-reelu.json"
    with page.expect_download() as html_download:
        page.click("#download-html")
    assert html_download.value.suggested_filename == "election-a-paris-le-maire-sortant-reelu.html"
    assert page.evaluate("window.bitextReading.slug('!!! ???')") == ""  # nothing to name it from …
    assert page.evaluate("window.bitextReading.slug('" + "mot " * 40 + "')").startswith("mot-mot")
    assert len(page.evaluate("window.bitextReading.slug('" + "mot " * 40 + "')")) <= 60


def test_flags_are_quiet_and_counted_in_one_button_that_jumps_to_them(watched: Watched, article_text: str) -> None:
    page = watched.page
    data = translate(page, article_text)
    low = page.evaluate("JSON.parse(document.getElementById('bitext-config').textContent).lowScore")
    to_check = [
        (b["index"], s["index"])
        for b in data["blocks"]
        for s in b["sentences"]
        if s["flags"] or (isinstance(s.get("score"), float) and s["score"] < low)
    ]
    assert to_check, "the article has sentences to check (its source line is kept verbatim)"
    button = page.locator("#checks")
    expect(button).to_have_text(f"{len(to_check)} sentence{'s' if len(to_check) != 1 else ''} to check")
    markers = page.locator("#bitext .flag")
    assert markers.count() >= 1 and all(not m.is_visible() for m in markers.all())  # quiet by default
    underline = "#bitext .cell.en .s.low"
    if page.locator(underline).count():
        assert "dotted" not in page.locator(underline).first.evaluate("n => getComputedStyle(n).textDecoration")

    button.click()
    assert markers.first.is_visible()  # asked for: every marker shows
    focused = page.evaluate(
        "[+document.activeElement.closest('[data-block]').dataset.block, +document.activeElement.dataset.s]"
    )
    assert tuple(focused) == to_check[0]
    expect(button).to_have_text(f"Sentence 1 of {len(to_check)} to check — next")
    expect(page.locator("#status-text")).to_contain_text("To check:")
    if len(to_check) > 1:
        button.click()
        focused = page.evaluate(
            "[+document.activeElement.closest('[data-block]').dataset.block, +document.activeElement.dataset.s]"
        )
        assert tuple(focused) == to_check[1]


def test_cancel_before_any_english_says_nothing_was_translated(watched: Watched) -> None:
    page = watched.page
    page.route("**/v1/translate", lambda route: None)  # held: no answer comes
    page.fill("#source", "Le conseil a voté la mesure.")
    page.click("#translate")
    expect(page.locator("#cancel")).to_be_visible()
    assert page.locator(".toolbar").is_hidden()
    page.click("#cancel")
    expect(page.locator("#status-text")).to_have_text("Cancelled before any English arrived: nothing was translated.")
    assert "above" not in (page.text_content("#status-text") or "")
    assert page.locator(".toolbar").is_hidden()
    expect(page.locator("#input-form")).to_be_visible()  # nothing to read: the input stays open


def test_the_page_has_an_icon(watched: Watched, server: str) -> None:
    page = watched.page
    for path in ("/favicon.ico", "/favicon.svg"):
        answer = page.request.get(server + path)
        assert answer.status == 200 and answer.headers["content-type"] == "image/svg+xml"
        assert answer.body().startswith(b"<svg")
    href = page.get_attribute("link[rel=icon]", "href")
    assert href == "/favicon.svg"
    loaded = page.evaluate(
        """(href) => new Promise((done) => {
            const img = new Image();
            img.onload = () => done(img.naturalWidth > 0);
            img.onerror = () => done(false);
            img.src = href;
        })""",
        href,
    )
    assert loaded


def test_the_alternatives_picker_stays_in_its_cell_and_says_the_score_in_words(watched: Watched) -> None:
    page = watched.page
    long_token = "https://example.org/" + "a" * 300
    answer = {
        "source_lang": "fr",
        "target_lang": "en",
        "model": {"name": "m", "engine": "e", "device": "cpu", "dtype": "float32"},
        "format": "text",
        "blocks": [
            {
                "index": 0,
                "kind": "paragraph",
                "fr": "Voir le lien.",
                "en": "See the link.",
                "translated": True,
                "sentences": [
                    {
                        "index": 0,
                        "start": 0,
                        "end": 13,
                        "fr": "Voir le lien.",
                        "en": "See the link.",
                        "flags": [],
                        "score": -5.85,
                        "alternatives": [f"See {long_token}."],
                    }
                ],
            }
        ],
        "stats": {"blocks": 1, "sentences": 1, "source_tokens": 4, "output_tokens": 4, "seconds": 0.1},
        "warnings": [],
    }
    page.evaluate("(answer) => window.bitextPage.show(answer)", json.loads(json.dumps(answer)))
    page.click("#bitext .cell.en .s")
    picker = page.locator(".alts")
    expect(picker).to_be_visible()
    cell = page.locator("#bitext .cell.en").bounding_box()
    box = picker.bounding_box()
    assert cell is not None and box is not None
    assert box["x"] + box["width"] <= cell["x"] + cell["width"] + 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    head = page.text_content(".alts-head") or ""
    assert "the model was unsure of its choice" in head and "-5.85" not in head and "−5.85" not in head
    assert "closer to 0 is surer" in (page.get_attribute(".alts-sure", "title") or "")


def test_screenshots_for_the_docs_phone(browser: Any, server: str, article_text: str) -> None:
    with opened(browser, server, (390, 844)) as view:
        page = view.page
        page.fill("#source", article_text)
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=Path(OUTPUT / "page-phone-before.png"))
        translate(page, article_text)
        expect(page.locator("#input-form")).to_be_hidden()
        first_row = page.locator("#bitext .row").first.bounding_box()
        assert first_row is not None and first_row["y"] < 260, first_row  # not a whole screen down
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=Path(OUTPUT / "page-phone-after.png"))
