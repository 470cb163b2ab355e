"""Corrections that stick, in headless Chromium: an English sentence edited in the page is stored in the
key's translation memory, marked as a human translation, can be undone, and answers the next article."""

from __future__ import annotations

import io
import json
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from service.settings import Settings
from tests.e2e.test_browser import Beamed, translate
from tests.support.browser import MAX_CHARS, MAX_SENTENCES, Watched, expect, opened, serve, serve_greedy

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
    yield from serve_greedy(tiny_engine, settings)


@pytest.fixture(scope="module")
def beamed(tiny_engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Beam 4: the page gets the model's alternatives to pick from."""
    data = tmp_path_factory.mktemp("memory-picker")
    settings = Settings(max_chars=MAX_CHARS, max_sentences=MAX_SENTENCES, warmup=False, api_keys=[KEY], data_dir=data)
    yield from serve(settings, Beamed(tiny_engine))


def open_page(browser: Any, url: str) -> Iterator[Watched]:
    with opened(browser, url) as view:
        view.page.fill("#api-key", KEY)
        yield view


@pytest.fixture
def watched(browser: Any, server: str) -> Iterator[Watched]:
    yield from open_page(browser, server)


def call(server: str, path: str, body: bytes | None = None, json_body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {KEY}"}
    if json_body is not None:
        body, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
    request = urllib.request.Request(server + path, data=body, headers=headers, method="POST" if body else "GET")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def units(server: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = call(server, "/v1/memory/units")["units"]
    return found


def job_sentences(server: str, documents: dict[str, str]) -> list[dict[str, Any]]:
    """A job on a zip of `documents` through the API with the page's key, once done: every sentence."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name, text in documents.items():
            zipped.writestr(name, text)
    job = call(server, "/v1/jobs?filename=archive.zip", body=buffer.getvalue())["id"]
    deadline = time.monotonic() + 60
    while call(server, f"/v1/jobs/{job}")["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    found = []
    for document in call(server, f"/v1/jobs/{job}/documents")["documents"]:
        body = call(server, f"/v1/jobs/{job}/documents/{document['id']}")
        found += [s for block in body["blocks"] for s in block["sentences"]]
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

    # a job on an archive holding the sentence, with the same key, uses the edit too
    found = {s["fr"]: s for s in job_sentences(server, {"a.txt": SECOND, "b.txt": "Rien à voir ici."})}
    assert (found[SENTENCE]["en"], found[SENTENCE]["source"]) == (EDITED, "memory:exact")
    assert found["Rien à voir ici."]["source"] == "model"


def test_the_picker_offers_the_memorys_suggestion_and_a_pick_is_stored_as_picked(browser: Any, beamed: str) -> None:
    near = SENTENCE.replace("hier soir", "ce soir")
    call(beamed, "/v1/memory/units", json_body={"source": near, "english": "The council passed the budget tonight."})
    for watched in open_page(browser, beamed):
        page = watched.page
        data = translate(page, f"Les habitants étaient nombreux. {SENTENCE}", "text")
        span, sentence = english_span(page, data, SENTENCE)
        assert sentence["source"] == "model" and sentence["suggestion"]["match"] == 90
        span.click()
        offered = page.locator("#bitext .alts .alt-memory")
        expect(offered).to_contain_text("memory 90 %")
        expect(offered).to_contain_text("The council passed the budget tonight.")
        if sentence["alternatives"]:  # pick the beam's second choice, then save it unchanged from the editor
            page.locator("#bitext .alts .alt").nth(1).click()
            span.click()
            page.click("#bitext .alts .alt-edit")
            expect(page.locator("#bitext .edit-box textarea")).to_have_value(sentence["alternatives"][0])
            with page.expect_response("**/v1/memory/units") as posted:
                page.click("#bitext .edit-box .edit-save")
            assert json.loads(posted.value.request.post_data)["origin"] == "picked"
            span.click()
        page.click("#bitext .alts .alt-memory")  # the suggestion, edited before saving: an edit
        area = page.locator("#bitext .edit-box textarea")
        expect(area).to_have_value("The council passed the budget tonight.")
        area.fill("The council passed the budget last night.")
        with page.expect_response("**/v1/memory/units") as posted:
            area.press("Enter")
        body = json.loads(posted.value.request.post_data)
        assert (body["origin"], body["english"], body["previous"]) == (
            "edit",
            "The council passed the budget last night.",
            "Les habitants étaient nombreux.",
        )
        expect(span).to_have_text("The council passed the budget last night.")
        page.click("#edit-undo")  # the Undo button: the previous English back
        expect(span).not_to_have_text("The council passed the budget last night.")


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


def test_a_sentence_with_inline_markup_is_stored_as_the_memory_knows_it(watched: Watched) -> None:
    page = watched.page
    marked = SENTENCE.replace("conseil municipal", "**conseil municipal**")
    data = translate(page, f"Il pleut. {marked}", "markdown")
    span, sentence = english_span(page, data, marked)
    span.dblclick()
    expect(page.locator("#bitext .edit-box textarea")).to_have_value(sentence["en_plain"])  # no markup to edit
    page.keyboard.press("Escape")
    body = save_edit(page, span, EDITED)
    assert (body["source"], body["previous"], body["next"]) == (SENTENCE, "Il pleut.", "")
