"""The side-by-side view without a browser: alignment pieces, the standalone export, the page routes, the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from models.parse import parse
from models.pipeline import translate_document
from service.app import create_app
from service.routes.web import PAGE_CSP
from service.schemas import BlockOut, TranslateResponse
from service.settings import Settings
from service.web.export import render_standalone_html
from service.web.layout import english_pieces, french_pieces, is_web_url
from tests.support.answers import Cut, paragraph
from tests.support.fakes import FakeEngine

XSS = "Il a écrit <img src=x onerror=alert(1)> puis <script>alert(2)</script> dans la page."


def response_for(text: str, format: str = "auto") -> dict[str, Any]:
    result = translate_document(parse(text, format), FakeEngine())
    return TranslateResponse.model_validate(result).model_dump(mode="json", exclude_none=True)


def block(fr: str, en: str, sentences: list[Cut], **extra: Any) -> BlockOut:
    return BlockOut.model_validate(paragraph(fr, en, sentences, **extra))


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text outside tags."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def having(self, name: str, value: str | None = None) -> list[dict[str, str | None]]:
        return [a for _, a in self.tags if name in a and (value is None or value in (a[name] or "").split())]


def parsed(html: str) -> Elements:
    elements = Elements()
    elements.feed(html)
    return elements


# ---- alignment pieces -------------------------------------------------------------------


def test_pieces_tile_both_texts_and_pair_every_sentence() -> None:
    fr = "Bonjour.  Ça va ?\nOui 🙂 merci."  # the emoji: offsets are code points
    en = "Hello.  How are you?\nYes 🙂 thanks."
    b = block(
        fr,
        en,
        [
            (0, 8, "Bonjour.", "Hello."),
            (10, 17, "Ça va ?", "How are you?"),
            (18, 30, "Oui 🙂 merci.", "Yes 🙂 thanks."),
        ],
    )
    french, english = french_pieces(b), english_pieces(b)
    assert "".join(p.text for p in french) == fr
    assert "".join(p.text for p in english) == en
    assert [p.sentence for p in french if p.sentence is not None] == [0, 1, 2]
    assert [p.text for p in english if p.sentence is not None] == ["Hello.", "How are you?", "Yes 🙂 thanks."]


def test_english_that_no_longer_contains_a_sentence_falls_back_to_sentences_and_french_gaps() -> None:
    b = block("Un. Deux.", "One, edited. Two.", [(0, 3, "Un.", "One."), (4, 9, "Deux.", "Two.")])
    english = english_pieces(b)
    assert [(p.text, p.sentence) for p in english] == [("One.", 0), (" ", None), ("Two.", 1)]


def test_french_offsets_that_disagree_show_the_whole_text() -> None:
    b = block("Un. Deux.", "One. Two.", [(0, 3, "Un.", "One."), (2, 9, "Deux.", "Two.")])
    assert [(p.text, p.sentence) for p in french_pieces(b)] == [("Un. Deux.", None)]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://images.example.org/a.jpg?w=1&h=2", True),
        ("HTTP://example.org/a.png", True),
        ("javascript:alert(1)", False),
        ("data:image/png;base64,AAAA", False),
        ("file:///etc/passwd", False),
        ("/relative.png", False),
        ("https:///no-host", False),
        (None, False),
    ],
)
def test_only_http_images_are_shown(url: str | None, shown: bool) -> None:
    assert is_web_url(url) is shown


# ---- the standalone export --------------------------------------------------------------


def test_standalone_html_has_one_row_per_block_with_lang_cells(article_text: str) -> None:
    document = response_for(article_text)
    page = parsed(render_standalone_html(document))
    row_attrs = page.having("data-block")
    assert [int(a["data-block"] or -1) for a in row_attrs] == [b["index"] for b in document["blocks"]]
    cells = page.having("class", "cell")
    assert [a["lang"] for a in cells] == ["fr", "en"] * len(document["blocks"])
    sentences = sum(len(b["sentences"]) for b in document["blocks"])
    assert len(page.having("class", "s")) == 2 * sentences
    assert document["blocks"][1]["en"] in "".join(page.text)  # the title, as text


def test_standalone_html_is_self_contained() -> None:
    html = render_standalone_html(
        response_for("![Une photo](https://images.example.org/p.jpg)\nTitre\nUn paragraphe. Deux phrases.")
    )
    page = parsed(html)
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed", "base"}
    assert not [a for _, a in page.tags if "src" in a or "srcset" in a or "style" in a]
    assert not any(name.startswith("on") for _, attrs in page.tags for name in attrs)
    assert "url(" not in html and "@import" not in html
    csp = [a["content"] for a in page.having("http-equiv") if a["http-equiv"] == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in (csp[0] or "")
    assert [a["href"] for a in page.having("href")] == ["https://images.example.org/p.jpg"]  # a link, not a fetch


def test_xss_text_is_escaped_and_unsafe_image_urls_are_not_linked() -> None:
    document = response_for(XSS, "text")
    document["blocks"].append(
        {
            "index": 1,
            "kind": "image",
            "fr": "alt <b>fr</b>",
            "en": "alt <b>en</b>",
            "translated": True,
            "sentences": [],
            "url": "javascript:alert(3)",
        }
    )
    html = render_standalone_html(document)
    page = parsed(html)
    assert {tag for tag, _ in page.tags}.isdisjoint({"script", "img", "b"})
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert XSS in "".join(page.text)  # the French, literally, as text
    assert not page.having("href")
    assert "Image: javascript:alert(3)" in "".join(page.text)  # shown, not dropped, not linked


def test_flags_show_as_markers_with_their_reason() -> None:
    document = response_for("Un. Deux.", "text")
    document["blocks"][0]["sentences"][0]["flags"] = ["split_window", "some_new_check"]
    page = parsed(render_standalone_html(document))
    (marker,) = page.having("class", "flag")
    assert marker["data-flags"] == "split_window some_new_check"
    assert marker["title"] == "longer than the model's window: translated in pieces and joined; some new check"


def test_export_rejects_what_is_not_a_response() -> None:
    with pytest.raises(ValueError):
        render_standalone_html({"blocks": "nope"})


# ---- the page and its routes ------------------------------------------------------------


@pytest.fixture
def client(fake_engine: FakeEngine) -> Iterator[TestClient]:
    settings = Settings(max_chars=1234, max_body_bytes=2048, warmup=False)
    with TestClient(create_app(settings, engine=fake_engine)) as test_client:
        yield test_client


def test_page_carries_the_limit_and_a_strict_csp(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert csp == PAGE_CSP
    assert "default-src 'none'" in csp and "script-src 'self';" in csp and "unsafe" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    page = parsed(response.text)
    config_tag = next(i for i, (tag, a) in enumerate(page.tags) if tag == "script" and a.get("id") == "bitext-config")
    config_text = response.text.split('id="bitext-config">', 1)[1].split("</script>", 1)[0]
    assert page.tags[config_tag][1]["type"] == "application/json"
    assert json.loads(config_text)["maxChars"] == 1234
    assert [a["src"] for t, a in page.tags if t == "script" and "src" in a] == [
        "/static/bitext.js",
        "/static/documents.js",
        "/static/reading.js",
        "/static/jobs.js",
        "/static/edit.js",
        "/static/review.js",
    ]
    assert json.loads(config_text)["memoryUnitsUrl"] == "/v1/memory/units"
    assert page.having("lang", "fr")  # the text box is French


def test_the_page_is_told_which_documents_go_through_jobs(client: TestClient) -> None:
    from service import formats

    config = json.loads(client.get("/").text.split('id="bitext-config">', 1)[1].split("</script>", 1)[0])
    documents = config["documents"]
    supported = {suffix for suffix, name in formats.SUFFIXES.items() if name in formats.supported()}
    assert set(documents["suffixes"]) == supported and ".srt" in supported
    assert documents["layouts"] == list(formats.LAYOUTS) and documents["jobsUrl"] == "/v1/jobs"
    script = client.get("/static/documents.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in script.text
    from service.jobs.readers import ARCHIVE_SUFFIXES

    assert config["jobs"] == {"url": "/v1/jobs", "archiveSuffixes": list(ARCHIVE_SUFFIXES)}


@pytest.mark.parametrize("path", ["/favicon.ico", "/favicon.svg"])
def test_the_page_has_an_icon_without_a_key(tmp_path: Path, fake_engine: FakeEngine, path: str) -> None:
    settings = Settings(data_dir=tmp_path, warmup=False, api_keys=["k"])
    with TestClient(create_app(settings, engine=fake_engine)) as keyed:
        response = keyed.get(path)
    assert response.status_code == 200 and response.headers["content-type"] == "image/svg+xml"
    assert response.text.startswith("<svg") and "script" not in response.text
    assert "max-age" in response.headers["cache-control"]


@pytest.mark.parametrize(
    ("name", "media"),
    [
        ("bitext.js", "text/javascript"),
        ("reading.js", "text/javascript"),
        ("jobs.js", "text/javascript"),
        ("bitext.css", "text/css"),
        ("page.css", "text/css"),
        ("reading.css", "text/css"),
        ("jobs.css", "text/css"),
        ("edit.js", "text/javascript"),
        ("edit.css", "text/css"),
        ("review.js", "text/javascript"),
        ("review.css", "text/css"),
    ],
)
def test_static_files_are_served(client: TestClient, name: str, media: str) -> None:
    response = client.get(f"/static/{name}")
    assert response.status_code == 200 and response.headers["content-type"].startswith(media)
    assert "innerHTML" not in response.text and "eval(" not in response.text


def test_unknown_static_file_is_a_json_404(client: TestClient) -> None:
    response = client.get("/static/..%2Fapp.py")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_export_endpoint_round_trips_a_translation(client: TestClient) -> None:
    translated = client.post("/v1/translate", json={"text": "Bonjour. Au revoir.", "format": "text"}).json()
    response = client.post("/v1/export/html", json=translated)
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="translation.html"'
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert len(parsed(response.text).having("data-block")) == len(translated["blocks"])


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"{", "application/json", 400, "invalid_json"),
        (b'{"blocks": []}', "application/json", 422, "invalid_request"),
        (b"<p>hi</p>", "text/html", 415, "unsupported_media_type"),
        (b'{"x": "' + b"a" * 20_000 + b'"}', "application/json", 413, "payload_too_large"),
    ],
)
def test_export_endpoint_refusals(client: TestClient, body: bytes, content_type: str, status: int, code: str) -> None:
    response = client.post("/v1/export/html", content=body, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_cli_translate_writes_the_standalone_html(
    monkeypatch: pytest.MonkeyPatch, article_text: str, tmp_path: Path
) -> None:
    from service import cli

    monkeypatch.setattr(cli, "_load", lambda settings: FakeEngine())
    source = tmp_path / "article.md"
    source.write_text(article_text, encoding="utf-8")
    out_json, out_html = tmp_path / "out.json", tmp_path / "out.html"
    result = CliRunner().invoke(cli.app, ["translate", str(source), "-o", str(out_json), "--html", str(out_html)])
    assert result.exit_code == 0, result.output
    document = json.loads(out_json.read_text(encoding="utf-8"))
    assert out_html.read_text(encoding="utf-8") == render_standalone_html(document)
    missing = CliRunner().invoke(
        cli.app, ["translate", str(source), "-o", str(out_json), "--html", str(tmp_path / "no" / "x.html")]
    )
    assert missing.exit_code == 2 and "cannot write" in missing.output


@pytest.mark.parametrize("keys", [[], ["k-page"]])
def test_the_page_shows_its_key_field_only_when_keys_are_required(keys: list[str]) -> None:
    import re

    with TestClient(create_app(Settings(warmup=False, api_keys=keys), engine=FakeEngine())) as client:
        html = client.get("/").text
    config = json.loads(re.search(r'id="bitext-config">(.*?)</script>', html).group(1))
    assert config["keyRequired"] is bool(keys)
    field = re.search(r'<span id="key-field"[^>]*>', html).group(0)
    assert ("hidden" in field) is not bool(keys)
    assert '<input type="password" id="api-key" autocomplete="off"' in html
    assert "k-page" not in html  # the page never carries a key


def test_a_chunked_export_body_has_the_same_cap_as_a_declared_one(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the middleware cannot refuse it up front
        yield b'{"x": "'
        for _ in range(10):
            yield b"a" * 1000
        yield b'"}'

    response = client.post("/v1/export/html", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["limit"] == 2048


def test_export_bounds_blocks_and_sentences_by_max_sentences(fake_engine: FakeEngine) -> None:
    settings = Settings(max_sentences=3, warmup=False)
    with TestClient(create_app(settings, engine=fake_engine)) as client:
        three = client.post("/v1/translate", json={"text": "Un. Deux. Trois.", "format": "text"}).json()
        assert client.post("/v1/export/html", json=three).status_code == 200
        many_sentences = three | {"blocks": [three["blocks"][0] | {"sentences": three["blocks"][0]["sentences"] * 2}]}
        many_blocks = three | {"blocks": three["blocks"] * 4}
        for body in (many_sentences, many_blocks):
            response = client.post("/v1/export/html", json=body)
            assert response.status_code == 413, response.text
            assert response.json()["error"] | {"message": ""} == {
                "code": "too_many_sentences",
                "message": "",
                "limit": 3,
            }


def test_export_validates_and_renders_off_the_event_loop(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from service.routes import web

    threads: list[str] = []
    render = web.render_standalone_html
    monkeypatch.setattr(
        web, "render_standalone_html", lambda d: threads.append(threading.current_thread().name) or render(d)
    )
    translated = client.post("/v1/translate", json={"text": "Bonjour.", "format": "text"}).json()
    assert client.post("/v1/export/html", json=translated).status_code == 200
    assert threads and threads[0] != threading.main_thread().name and "AnyIO" in threads[0], threads


def test_standalone_html_draws_marks_as_elements_and_only_web_links_live() -> None:
    """With marks (options.alignment), the export draws links and emphasis; hostile marks stay text."""
    text = "Selon [l'agence TASS](https://tass.ru/p?a=1&b=2), le sommet a eu lieu **mercredi** à `Moscou`."
    result = translate_document(parse(text, "markdown"), FakeEngine(), alignment=True)
    document = TranslateResponse.model_validate(result).model_dump(mode="json", exclude_none=True)
    sentence = document["blocks"][0]["sentences"][0]
    sentence["fr_marks"].append({"kind": "link", "start": 0, "end": 5, "url": "javascript:alert(1)"})
    sentence["fr_marks"].append({"kind": "script", "start": 0, "end": 5})  # an unknown kind is a span
    sentence["fr_marks"].append({"kind": "em", "start": 3, "end": 10_000})  # out of range: ignored
    page = parsed(render_standalone_html(document))
    links = [attrs for tag, attrs in page.tags if tag == "a"]
    assert [(a["href"], a["rel"]) for a in links] == [("https://tass.ru/p?a=1&b=2", "noopener noreferrer")] * 2
    tags = [tag for tag, _ in page.tags]
    assert tags.count("strong") >= 2 and tags.count("code") >= 2 and "script" not in tags and "em" not in tags
    assert "Selon l'agence TASS, le sommet a eu lieu mercredi à Moscou." in "".join(page.text)


def _nested_marks(depth: int) -> dict[str, Any]:
    """A translation's JSON with `depth` nested marks over one long English sentence."""
    result = translate_document(parse("Bonjour **le monde**.", "markdown"), FakeEngine(), alignment=True)
    document = TranslateResponse.model_validate(result).model_dump(mode="json", exclude_none=True)
    plain = "mot " * (depth + 10)
    document["blocks"][0]["sentences"][0] |= {
        "en_plain": plain,
        "en_marks": [{"kind": "em", "start": i, "end": len(plain) - i} for i in range(depth)],
    }
    return document


def test_export_of_nested_marks_over_a_long_sentence_stays_the_size_of_its_input() -> None:
    """Issue 21, finding 4: an 80 KB body of 1,700 nested marks was a 26 MB page (each run wrapped in
    every mark around it); now each mark is one element, so the page is no larger than its input."""
    body = json.dumps(_nested_marks(1700)).encode()
    with TestClient(create_app(Settings(warmup=False, max_body_bytes=200_000), engine=FakeEngine())) as client:
        response = client.post("/v1/export/html", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert len(response.content) <= 2 * len(body)
    page = parsed(response.text)
    assert [tag for tag, _ in page.tags].count("em") == 1700


def test_an_export_past_the_request_deadline_is_a_504(monkeypatch: pytest.MonkeyPatch) -> None:
    """The export renders under the request deadline, like a translation (it waits here for the
    request's own stop check to say the deadline passed)."""
    from service.web import export
    from tests.support.stopping import wait_for_stop

    real = export.rows

    def slow_rows(blocks: Any) -> Any:
        assert wait_for_stop()  # the request's deadline is in force in the thread that renders
        return real(blocks)

    monkeypatch.setattr(export, "rows", slow_rows)
    settings = Settings(warmup=False, request_timeout_seconds=0.5)
    with TestClient(create_app(settings, engine=FakeEngine())) as client:
        translated = client.post("/v1/translate", json={"text": "Bonjour. Au revoir.", "format": "text"}).json()
        response = client.post("/v1/export/html", json=translated)
    assert response.status_code == 504, response.text
    assert response.json()["error"]["code"] == "deadline_exceeded"
