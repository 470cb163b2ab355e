"""Corrections that stick, in headless Chromium: an English sentence edited in the page is stored in the
key's translation memory, marked as a human translation, can be undone, and answers the next article."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from models.cache import CachedEngine, MemoryLRU
from service.settings import Settings
from tests.e2e.test_browser import MAX_CHARS, MAX_SENTENCES, Greedy, Watched, _serve, translate

try:
    from playwright.sync_api import expect
except ImportError:
    if os.environ.get("CI"):
        raise
    pytest.skip("playwright is not installed", allow_module_level=True)

pytestmark = pytest.mark.browser

KEY = "editor-key-51c2"
SENTENCE = "Le conseil municipal a voté le budget hier soir."
EDITED = "The city council passed the budget last night."
FIRST = f"La séance a commencé à dix-huit heures. {SENTENCE} Les habitants étaient nombreux."
SECOND = f"La ville prépare son été. {SENTENCE} Le maire a remercié les élus."


@pytest.fixture(scope="module")
def server(tiny_engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("memory-page")
    settings = Settings(max_chars=MAX_CHARS, max_sentences=MAX_SENTENCES, warmup=False, api_keys=[KEY], data_dir=data)
    yield from _serve(settings, CachedEngine(Greedy(tiny_engine), MemoryLRU(10_000)))


@pytest.fixture
def watched(browser: Any, server: str) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    view = Watched(page)
    assert page.goto(server + "/").ok
    expect(page.locator("#counter")).to_contain_text("characters")
    page.fill("#api-key", KEY)
    yield view
    context.close()
    assert view.errors == [], "the page threw"


def units(server: str) -> list[dict[str, Any]]:
    request = urllib.request.Request(server + "/v1/memory/units", headers={"Authorization": f"Bearer {KEY}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        found: list[dict[str, Any]] = json.load(answer)["units"]
    return found


def english_span(page: Any, data: dict[str, Any], french: str) -> tuple[Any, dict[str, Any]]:
    for block in data["blocks"]:
        for sentence in block["sentences"]:
            if sentence["fr"] == french:
                selector = f'#bitext .row[data-block="{block["index"]}"] .cell.en .s[data-s="{sentence["index"]}"]'
                return page.locator(selector), sentence
    raise AssertionError(f"{french!r} is not a sentence of the answer")


def save_edit(page: Any, span: Any, english: str) -> dict[str, Any]:
    span.dblclick()
    area = page.locator("#bitext .edit-box textarea")
    expect(area).to_be_focused()
    area.fill(english)
    with page.expect_response("**/v1/memory/units") as posted:
        area.press("Enter")
    assert posted.value.status == 201
    expect(page.locator("#bitext .edit-box")).to_have_count(0)
    body: dict[str, Any] = json.loads(posted.value.request.post_data)
    assert posted.value.request.headers["authorization"] == f"Bearer {KEY}"
    return body


def test_an_edit_is_stored_marked_undoable_and_answers_the_next_article(watched: Watched, server: str) -> None:
    page = watched.page
    first = translate(page, FIRST, "text")
    span, sentence = english_span(page, first, SENTENCE)
    assert sentence["source"] == "model" and sentence["en"] != EDITED
    page.mouse.wheel(0, 120)
    place = page.evaluate("window.scrollY")

    body = save_edit(page, span, EDITED)
    assert body == {
        "source": SENTENCE,
        "english": EDITED,
        "previous": "La séance a commencé à dix-huit heures.",
        "next": "Les habitants étaient nombreux.",
        "origin": "edit",
    }
    expect(span).to_have_text(EDITED)
    assert "human" in (span.get_attribute("class") or "").split()
    assert "source: edit" in (span.get_attribute("title") or "")
    assert page.evaluate("window.scrollY") == place  # the reader's place is kept
    assert [(u["source"], u["english"]) for u in units(server)] == [(SENTENCE, EDITED)]

    # Ctrl+Z: the model's English is back on the page and, superseding the edit, in the memory
    with page.expect_response("**/v1/memory/units") as undone:
        page.keyboard.press("Control+z")
    assert undone.value.status == 201 and undone.value.json()["supersedes"] is not None
    expect(span).to_have_text(sentence["en"])
    assert "human" not in (span.get_attribute("class") or "").split()
    assert [u["english"] for u in units(server)] == [sentence["en"]]

    # saved again (the Undo button is the other way back; not used here), then a second article
    save_edit(page, span, EDITED)
    expect(page.locator("#edit-undo")).to_be_visible()
    second = translate(page, SECOND, "text")
    again, answered = english_span(page, second, SENTENCE)
    assert (answered["en"], answered["source"], answered["match"]) == (EDITED, "memory:exact", 100)
    expect(again).to_have_text(EDITED)
    assert "mem" in (again.get_attribute("class") or "").split()
    assert "memory:exact" in (again.get_attribute("title") or "")
    expect(page.locator("#edit-undo")).to_be_hidden()  # the edit belonged to the page that was replaced
    others = [s for b in second["blocks"] for s in b["sentences"] if s["fr"] != SENTENCE]
    assert others and all(s["source"] == "model" for s in others)


def test_an_empty_edit_is_refused_in_words_and_nothing_is_stored(watched: Watched, server: str) -> None:
    page = watched.page
    data = translate(page, "Une phrase qui ne sera pas corrigée ici. Et une autre.", "text")
    span, _ = english_span(page, data, "Une phrase qui ne sera pas corrigée ici.")
    before = units(server)
    span.focus()
    page.keyboard.press("F2")
    area = page.locator("#bitext .edit-box textarea")
    area.fill("   ")
    area.press("Enter")
    expect(page.locator("#bitext .edit-problem")).to_contain_text("empty")
    assert units(server) == before
    area.press("Escape")
    expect(page.locator("#bitext .edit-box")).to_have_count(0)
