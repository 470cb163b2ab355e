"""Inline markup through `/v1/translate`, the compat routes and the CLI: the example round-trips."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.app import create_app
from service.cli import app as cli
from service.settings import Settings
from tests.support.fakes import FakeEngine

EXAMPLE = "Selon [l'agence TASS](https://tass.ru/politika/123), le sommet a eu lieu **mercredi**."
URL = "https://tass.ru/politika/123"
HTML_EXAMPLE = f'<p>Selon <a href="{URL}">l\'agence TASS</a>, le sommet a eu lieu <b>mercredi</b>.</p>'


@pytest.fixture
def client(fake_engine: FakeEngine) -> Iterator[TestClient]:
    settings = Settings(max_body_bytes=200_000, max_chars=100_000, max_sentences=2000)
    with TestClient(create_app(settings, engine=fake_engine)) as test_client:
        yield test_client


def test_markdown_example_round_trips_with_alignment(client: TestClient, fake_engine: FakeEngine) -> None:
    response = client.post(
        "/v1/translate", json={"text": EXAMPLE, "format": "markdown", "options": {"alignment": True}}
    )
    assert response.status_code == 200, response.text
    sent = [text for call in fake_engine.calls for text in call]
    assert sent == ["Selon l'agence TASS, le sommet a eu lieu mercredi."]
    block = response.json()["blocks"][0]
    assert block["markup"] == "markdown" and block["fr"] == EXAMPLE
    sentence = block["sentences"][0]
    assert sentence["fr"] == EXAMPLE and sentence["en"].count(f"]({URL})") == 1 and sentence["en"].count("**") == 2
    assert sentence["fr_plain"] == sent[0]
    for a, b, c, d in sentence["alignment"]:
        assert 0 <= a < b <= len(sentence["fr_plain"]) and 0 <= c < d <= len(sentence["en_plain"])


HTML_PAGE = (
    f"<html><body><article>{HTML_EXAMPLE}"
    "<p>Un autre paragraphe, assez long pour que trafilatura veuille bien le garder ici.</p></article></body></html>"
)


@pytest.mark.parametrize(("text", "format"), [(EXAMPLE, "markdown"), (HTML_PAGE, "html")])
def test_marks_draw_the_markup_over_the_plain_texts(client: TestClient, text: str, format: str) -> None:
    """With alignment, the elements come as ranges of the plain texts: a page draws them without a parser."""
    body = client.post("/v1/translate", json={"text": text, "format": format, "options": {"alignment": True}}).json()
    sentence = body["blocks"][0]["sentences"][0]
    for plain, marks in ((sentence["fr_plain"], sentence["fr_marks"]), (sentence["en_plain"], sentence["en_marks"])):
        assert sorted(mark["kind"] for mark in marks) == ["link", "strong"]
        for mark in marks:
            assert 0 <= mark["start"] < mark["end"] <= len(plain)
        link = next(mark for mark in marks if mark["kind"] == "link")
        assert link["url"] == URL
    french = {m["kind"]: sentence["fr_plain"][m["start"] : m["end"]] for m in sentence["fr_marks"]}
    assert french == {"link": "l'agence TASS", "strong": "mercredi"}
    plain = client.post("/v1/translate", json={"text": "Le chat dort.", "options": {"alignment": True}}).json()
    assert "fr_marks" not in plain["blocks"][0]["sentences"][0]


def test_marks_are_carried_without_any_option(client: TestClient) -> None:
    """Issue 23, point 1: every reader (the page, a job's document, the export) finds the marks in a plain
    answer; a sentence kept as it is (`[1](…)`, no words) carries them too; a plain-text block has none."""
    text = f"{EXAMPLE} [1]({URL})\n\nUn texte sans balise."
    body = client.post("/v1/translate", json={"text": text, "format": "markdown"}).json()
    translated, kept = body["blocks"][0]["sentences"]
    assert "kept_verbatim" in kept["flags"] and "alignment" not in translated
    assert sorted(m["kind"] for m in translated["fr_marks"]) == ["link", "strong"]
    assert sorted(m["kind"] for m in translated["en_marks"]) == ["link", "strong"]
    assert "**" not in translated["fr_plain"] and "](" not in translated["en_plain"]
    assert kept["fr_plain"] == kept["en_plain"] == "1"
    assert kept["fr_marks"] == kept["en_marks"] == [{"kind": "link", "start": 0, "end": 1, "url": URL}]
    assert body["blocks"][1]["sentences"][0]["fr_marks"] == []  # markdown without an element
    plain = client.post("/v1/translate", json={"text": "Un **texte** brut.", "format": "text"}).json()
    assert "fr_marks" not in plain["blocks"][0]["sentences"][0]  # plain text: its stars are text


def test_without_the_option_there_is_no_alignment(client: TestClient) -> None:
    body = client.post("/v1/translate", json={"text": EXAMPLE, "format": "markdown"}).json()
    assert "alignment" not in body["blocks"][0]["sentences"][0]
    plain = client.post("/v1/translate", json={"text": "Le chat dort.", "format": "text"}).json()
    assert "markup" not in plain["blocks"][0]


@pytest.mark.parametrize(
    "text",
    [
        "Un lien [ouvert](",
        "Un **gras sans fin.",
        "Un [piège](javascript:alert(1)) et [autre](data:text/html,x).",
        "*" * 5000 + " texte",
        "[" * 3000 + "texte" + "](" * 3000,
        " ".join(f"[lien {i}](https://ex.org/{i})" for i in range(1000)) + ".",
    ],
)
def test_bad_markdown_is_a_200_with_markup_kept(client: TestClient, text: str) -> None:
    response = client.post("/v1/translate", json={"text": text, "format": "markdown"})
    assert response.status_code in (200, 413, 422), response.text
    if response.status_code == 200:
        english = "".join(block["en"] for block in response.json()["blocks"])
        assert "](javascript:" not in english.replace("[piège](javascript:", "") or "EN<" in english


def test_html_body_keeps_links_and_emphasis(client: TestClient) -> None:
    html = (
        "<html><body><article>"
        f'<p>Selon <a href="{URL}">l\'agence TASS</a>, le sommet a eu lieu <b>mercredi</b> à Moscou.</p>'
        "<p>Un autre paragraphe, assez long pour que trafilatura veuille bien le garder ici.</p>"
        + "<div>" * 300
        + "profond"
        + "</div>" * 300
        + "</article></body></html>"
    )
    response = client.post("/v1/translate", content=html, headers={"Content-Type": "text/html"})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        blocks = response.json()["blocks"]
        paragraph = next(b for b in blocks if "TASS" in b["fr"])
        assert paragraph["markup"] == "html" and paragraph["en"].count(f'<a href="{URL}">') == 1


def test_compat_html_translates_inline_runs_as_one_sentence(client: TestClient, fake_engine: FakeEngine) -> None:
    response = client.post(
        "/translate", json={"q": "<p>Le <b>chat</b> dort.</p>", "source": "fr", "target": "en", "format": "html"}
    )
    assert response.status_code == 200, response.text
    sent = [text for call in fake_engine.calls for text in call]
    assert sent == ["Le chat dort."]
    assert response.json()["translatedText"].count("<b>") == 1


def test_deepl_tag_handling_html_keeps_the_link(client: TestClient, fake_engine: FakeEngine) -> None:
    response = client.post(
        "/v2/translate",
        json={"text": [HTML_EXAMPLE], "target_lang": "EN", "tag_handling": "html"},
    )
    assert response.status_code == 200, response.text
    english = response.json()["translations"][0]["text"]
    assert english.count(f'href="{URL}"') == 1
    assert all("http" not in text for call in fake_engine.calls for text in call)


@pytest.mark.integration
def test_cli_round_trip(tmp_path: Path, tiny_checkpoint: Path) -> None:
    article = tmp_path / "a.md"
    article.write_text("# Le sommet\n\n" + EXAMPLE + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["translate", str(article), "--model", str(tiny_checkpoint), "--device", "cpu", "--num-beams", "1"]
    )
    assert result.exit_code == 0, result.output
    blocks = json.loads(result.stdout)["blocks"]
    paragraph = next(b for b in blocks if b["fr"] == EXAMPLE)
    assert paragraph["en"].count(f"]({URL})") == 1


@pytest.mark.parametrize("url", ["//evil.example/x", "/\\evil.example/x", "&#x2F;&#x2F;evil.example/x"])
def test_off_site_links_without_a_scheme_are_no_links_in_the_english_nor_its_marks(
    client: TestClient, fake_engine: FakeEngine, url: str
) -> None:
    """Issue 21, finding 11: `[x](//evil.example/x)` came back as a link in the markdown English and in en_marks."""
    text = f"Selon [l'agence TASS]({url}), le sommet a eu lieu **mercredi**."
    body = client.post("/v1/translate", json={"text": text, "format": "markdown", "options": {"alignment": True}})
    assert body.status_code == 200, body.text
    sentence = body.json()["blocks"][0]["sentences"][0]
    marks = sentence.get("fr_marks", []) + sentence.get("en_marks", [])
    assert marks and all(mark["kind"] != "link" and "url" not in mark for mark in marks)
    sent = [text for call in fake_engine.calls for text in call]
    assert sent == [f"Selon [l'agence TASS]({url}), le sommet a eu lieu mercredi."]  # kept as text, not dropped
    html = client.post(
        "/translate",
        json={"q": f'<p>Le <a href="{url}">chat</a> dort.</p>', "source": "fr", "target": "en", "format": "html"},
    )
    assert html.status_code == 200 and "href" not in html.json()["translatedText"]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "ndjson"])
def test_a_deadline_that_passes_while_markup_is_placed_is_a_504_not_a_late_200(
    fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch, stream: bool
) -> None:
    """Issue 21, finding 5: placement runs under the request's deadline. Here it outlasts it (it waits
    for the request's own stop check to say so): the answer is 504 `deadline_exceeded`, every
    sentence translated, instead of a 200 once placement is done."""
    import time

    from models import assemble as pipeline  # where placement is called from
    from tests.support.stopping import wait_for_stop

    real, seen = pipeline.place, []

    def slow_place(*args: object) -> object:
        seen.append(wait_for_stop())  # the request's deadline is in force in the thread that places markup
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "place", slow_place)
    settings = Settings(request_timeout_seconds=1.5, max_body_bytes=200_000, max_chars=100_000, warmup=False)
    with TestClient(create_app(settings, engine=fake_engine)) as client:
        started = time.monotonic()
        response = client.post(
            "/v1/translate",
            json={"text": "*mot* " * 5000, "format": "markdown"},
            headers={"Accept": "application/x-ndjson"} if stream else {},
        )
        elapsed = time.monotonic() - started
    if stream:
        assert response.status_code == 200
        last = json.loads(response.text.splitlines()[-1])
        assert last["type"] == "error" and last["error"]["code"] == "deadline_exceeded", last
    else:
        assert response.status_code == 504, response.text
        error = response.json()["error"]
        assert error["code"] == "deadline_exceeded" and error["translated"] == error["sentences"] > 0, error
    assert seen == [True] and elapsed < 25
