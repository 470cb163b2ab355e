"""The review queue in headless Chromium: the page steps through a translation's sentences worst first
(flagged, then lowest model score, the memory's answers last), opens the editor on the one under review,
and an edited sentence leaves the queue."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from models.document import Translation
from models.engine import PLAIN_CALL, CallControl, DelegatingEngine, GenerationOptions
from service.settings import Settings
from tests.e2e.test_browser import translate
from tests.support.browser import MAX_CHARS, MAX_SENTENCES, OUTPUT, Watched, expect, opened, serve

pytestmark = pytest.mark.browser

KEY = "review-key-3c9d"
# French → (English, model score). The untranslated one (its English is the French) is flagged, though
# its score is the best; the memory answers MEMORY before the model is asked.
SCRIPT = {
    "Le maire a présenté le budget.": ("The mayor presented the budget.", -0.4),
    "Les travaux commencent lundi.": ("The works start on Monday.", -2.5),
    "La mairie remercie les habitants du quartier.": ("La mairie remercie les habitants du quartier.", -0.1),
    "Le marché ouvre demain matin.": ("The market opens tomorrow morning.", -1.1),
}
# Paragraphs the model is surest of (equal scores: they keep their reading order), enough to need scrolling.
FILLER = [f"Paragraphe {n} sans histoire." for n in range(12)]
SCRIPT.update({french: (f"Paragraph {n} without a story.", -0.05) for n, french in enumerate(FILLER)})
MEMORY = ("La séance est levée à minuit.", "The meeting closed at midnight.")
FLAGGED, WORST, BEST, MIDDLE = (
    "La mairie remercie les habitants du quartier.",
    "Les travaux commencent lundi.",
    "Le maire a présenté le budget.",
    "Le marché ouvre demain matin.",
)
TEXT = " ".join(["Le maire a présenté le budget.", WORST, FLAGGED, MEMORY[0], MIDDLE])
# Worst first: the flagged sentence, then by score ascending, the memory's answer last.
ORDER = [FLAGGED, WORST, MIDDLE, BEST, MEMORY[0]]


class Scripted(DelegatingEngine):
    """The tiny engine's tokenizer and aligner, with English and scores from SCRIPT."""

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        found = []
        for text in texts:
            english, score = SCRIPT[text.strip()]
            tokens = self.engine.count_tokens([text, english])
            found.append(Translation(english, tokens[0], tokens[1], (), score if options.scores else None))
        return found


@pytest.fixture(scope="module")
def server(tiny_engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("review-page")
    settings = Settings(
        max_chars=MAX_CHARS, max_sentences=MAX_SENTENCES, warmup=False, api_keys=[KEY], data_dir=data, cache_entries=0
    )
    yield from serve(settings, Scripted(tiny_engine))


@pytest.fixture
def watched(browser: Any, server: str) -> Iterator[Watched]:
    with opened(browser, server, (1280, 700)) as view:
        view.page.fill("#api-key", KEY)
        yield view


def remember(server: str, french: str, english: str) -> None:
    body = json.dumps({"source": french, "english": english}).encode()
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    request = urllib.request.Request(server + "/v1/memory/units", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 201


def under_review(page: Any) -> tuple[str, str, str]:
    """The English and French marked as under review, and the queue's position text."""
    english = page.locator("#bitext .cell.en .s.review-current")
    french = page.locator("#bitext .cell.fr .s.review-current")
    expect(english).to_have_count(1)
    expect(french).to_have_count(1)
    expect(english).to_be_focused()
    expect(english).to_be_in_viewport()
    for sentence in (english, french):  # not hidden under the review bar
        box, bar = sentence.bounding_box(), page.locator("#review-bar").bounding_box()
        assert box["y"] + box["height"] <= bar["y"] or box["y"] >= bar["y"] + bar["height"]
    return french.inner_text().strip(), english.inner_text().strip(), page.inner_text("#review-position").strip()


def test_the_review_queue_goes_worst_first_opens_the_editor_and_drops_edited_sentences(
    watched: Watched, server: str
) -> None:
    page = watched.page
    expect(page.locator("#review")).to_be_hidden()  # nothing to review before a translation
    remember(server, *MEMORY)
    with page.expect_request("**/v1/translate") as sent:
        data = translate(page, "\n\n".join([*FILLER, TEXT]), "text")
    assert json.loads(sent.value.post_data)["options"]["scores"] is True  # the page asks for scores
    sentences = {s["fr"]: s for b in data["blocks"] for s in b["sentences"]}
    assert sentences[FLAGGED]["flags"] and not any(sentences[f]["flags"] for f in (WORST, MIDDLE, BEST))
    assert [sentences[f]["score"] for f in (WORST, MIDDLE, BEST)] == pytest.approx([-2.5, -1.1, -0.4])
    assert sentences[MEMORY[0]]["source"] == "memory:exact"
    total = len(sentences)

    expect(page.locator("#review")).to_be_visible()
    expect(page.locator("#review-bar")).to_be_hidden()
    page.click("#review")
    expect(page.locator("#review-bar")).to_be_visible()
    expect(page.locator("#review")).to_have_attribute("aria-pressed", "true")
    visited = [under_review(page)]
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "page-review.png"))
    expect(page.locator("#status-text")).to_contain_text("flagged: untranslated")
    # J, the Next button and Alt+↓ all step forward, through the whole queue
    moves = ["j", "button", "Alt+ArrowDown"]
    for n in range(total - 1):
        move = moves[n % 3]
        if move == "button":
            page.click("#review-next")
        else:
            page.keyboard.press(move)
        visited.append(under_review(page))
    expected = ORDER[:4] + FILLER + [MEMORY[0]]
    assert [fr for fr, _, _ in visited] == expected
    assert [en for _, en, _ in visited][:4] == [SCRIPT[f][0] for f in ORDER[:4]]
    assert visited[-1][1] == MEMORY[1]
    assert [pos for _, _, pos in visited] == [f"{n} of {total}" for n in range(1, total + 1)]

    # back with K and Alt+↑ (and round from the first to the last)
    page.keyboard.press("j")  # from the last, round to the first
    assert under_review(page)[:2] == (FLAGGED, SCRIPT[FLAGGED][0])
    page.keyboard.press("k")
    assert under_review(page)[0] == MEMORY[0]
    for _ in range(total - 2):
        page.keyboard.press("Alt+ArrowUp")
    assert under_review(page) == (WORST, SCRIPT[WORST][0], f"2 of {total}")

    # Enter on the sentence under review opens the editor (not the alternatives picker); saving takes it off
    page.keyboard.press("Enter")
    area = page.locator("#bitext .edit-box textarea")
    expect(area).to_be_focused()
    expect(page.locator("#bitext .alts")).to_have_count(0)
    area.fill("The works begin on Monday.")
    with page.expect_response("**/v1/memory/units") as posted:
        area.press("Enter")
    assert posted.value.status == 201
    expect(page.locator("#review-position")).to_have_text(f"edited — {total - 1} left")
    page.keyboard.press("j")
    assert under_review(page) == (MIDDLE, SCRIPT[MIDDLE][0], f"2 of {total - 1}")
    page.keyboard.press("k")
    assert under_review(page) == (FLAGGED, SCRIPT[FLAGGED][0], f"1 of {total - 1}")  # the edited one is skipped

    # F2 and the Edit button open the same editor; Esc there cancels, then Esc ends the review
    page.keyboard.press("F2")
    expect(area).to_be_focused()
    area.press("Escape")
    expect(page.locator("#bitext .edit-box")).to_have_count(0)
    page.click("#review-edit")
    expect(area).to_be_focused()
    area.press("Escape")
    page.locator("#bitext .s.review-current").first.focus()
    page.keyboard.press("Escape")
    expect(page.locator("#review-bar")).to_be_hidden()
    expect(page.locator("#review")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#bitext .s.review-current")).to_have_count(0)

    # Ctrl+Z undoes the edit: the sentence is back in the queue
    with page.expect_response("**/v1/memory/units"):
        page.keyboard.press("Control+z")
    page.click("#review")
    assert under_review(page)[2] == f"1 of {total}"

    # a new translation ends the review; its own queue starts afresh
    translate(page, MIDDLE, "text")
    expect(page.locator("#review-bar")).to_be_hidden()
    expect(page.locator("#bitext .s.review-current")).to_have_count(0)
    page.click("#review")
    assert under_review(page) == (MIDDLE, SCRIPT[MIDDLE][0], "1 of 1")
