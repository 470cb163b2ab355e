"""Every bilingual page bitext writes, opened in headless Chromium: markup is drawn, never shown as source.

Issue 23, point 1: the CLI's `--html` file, each batch document page and `POST /v1/export/html` given a
plain `/v1/translate` answer (no `options.alignment`) showed `[l'agence TASS](https://…)`, `**mercredi**`
and `<a href=…>` as text. They all go through one renderer now; here each is rendered the way a reader
opens it, and its visible text is read back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from service import cli
from service.jobs import outputs
from service.jobs.config import BatchConfig
from service.jobs.runner import BatchRun, RunSpec
from service.settings import Settings
from tests.support import documents
from tests.support.browser import Greedy, expect, serve_greedy

pytestmark = pytest.mark.browser

URL = "https://tass.ru/politika/123"
MARKDOWN = (
    "# Un **sommet** à Moscou\n\n"
    f"Selon [l'agence TASS]({URL}), le sommet a eu lieu **mercredi** à `Moscou`. "
    "Les *délégations* sont reparties jeudi.\n"
)
HTML = (
    "<html><head><title>Un sommet à Moscou</title></head><body><article><h1>Un sommet à Moscou</h1>"
    f'<p>Selon <a href="{URL}">l\'agence TASS</a>, le sommet a eu lieu <strong>mercredi</strong> à Moscou. '
    "Les délégations sont reparties jeudi, après une longue journée de discussions.</p>"
    "<p>Un autre paragraphe, assez long pour que trafilatura veuille bien le garder ici.</p></article></body></html>"
)
RAW = ("**", "](", "<a", "</", "`")


def seen(browser: Any, path: Path) -> Any:
    """The file opened as a reader opens it (file://), in a fresh context."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(path.as_uri())
    assert response is not None and response.ok
    page.errors = errors
    return page


def assert_drawn(page: Any, link: bool = True) -> None:
    """No markup source in what a reader sees; the link and the emphasis are elements, in both columns."""
    visible = page.inner_text("main")
    for raw in RAW:
        assert raw not in visible, f"{raw!r} is shown as text: {visible[:400]}"
    for side in ("fr", "en"):
        cells = page.locator(f"main .cell.{side}")
        if link:
            anchors = cells.locator(f'a[href="{URL}"]')
            assert anchors.count() >= 1, side
        expect(cells.locator("strong").first).to_be_visible()
    assert page.locator("main .cell.fr strong").all_text_contents()[-1] == "mercredi"
    assert page.errors == []


@pytest.fixture(scope="module")
def server(tiny_engine: Any) -> Iterator[str]:
    yield from serve_greedy(tiny_engine, Settings(warmup=False))


def test_cli_html_file_draws_the_markup(
    browser: Any, tiny_engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_load", lambda settings: Greedy(tiny_engine))
    source = tmp_path / "article.md"
    source.write_text(MARKDOWN, encoding="utf-8")
    page_file = tmp_path / "article.html"
    result = CliRunner().invoke(
        cli.app, ["translate", str(source), "--format", "markdown", "--html", str(page_file), "--num-beams", "1"]
    )
    assert result.exit_code == 0, result.output
    page = seen(browser, page_file)
    assert_drawn(page)
    assert page.locator("main .cell.fr code").all_text_contents() == ["Moscou"]
    assert page.locator("main .row.kind-title .cell.fr strong").all_text_contents() == ["sommet"]
    page.context.close()


@pytest.mark.parametrize("format", ["markdown", "html"])
def test_export_of_a_plain_answer_draws_the_markup(browser: Any, server: str, tmp_path: Path, format: str) -> None:
    text = MARKDOWN if format == "markdown" else HTML
    answer = httpx.post(f"{server}/v1/translate", json={"text": text, "format": format}, timeout=60).json()
    assert "alignment" not in answer["blocks"][-1]["sentences"][0]  # a plain answer: no option asked
    exported = httpx.post(f"{server}/v1/export/html", json=answer, timeout=60)
    assert exported.status_code == 200, exported.text
    page_file = tmp_path / "export.html"
    page_file.write_text(exported.text, encoding="utf-8")
    page = seen(browser, page_file)
    assert_drawn(page)
    page.context.close()


def test_export_of_an_answer_without_marks_reads_them_from_the_markup(
    browser: Any, server: str, tmp_path: Path
) -> None:
    """An answer from before marks were always carried (or a client's own JSON) is drawn from its markdown."""
    answer = httpx.post(f"{server}/v1/translate", json={"text": MARKDOWN, "format": "markdown"}, timeout=60).json()
    for block in answer["blocks"]:
        for sentence in block["sentences"]:
            for key in ("fr_plain", "en_plain", "fr_marks", "en_marks"):
                sentence.pop(key, None)
    exported = httpx.post(f"{server}/v1/export/html", json=answer, timeout=60)
    page_file = tmp_path / "old.html"
    page_file.write_text(exported.text, encoding="utf-8")
    page = seen(browser, page_file)
    assert_drawn(page)
    page.context.close()


def test_batch_document_pages_draw_the_markup(browser: Any, tiny_engine: Any, tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    (source / "sommet.md").write_text(MARKDOWN, encoding="utf-8")
    (source / "budget.docx").write_bytes(documents.docx())  # bold in a Word run comes in as markdown
    outdir = tmp_path / "out"
    BatchRun(RunSpec(source, outdir, config=BatchConfig()), Greedy(tiny_engine)).run()
    records = {r["name"]: r for r in map(json.loads, (outdir / outputs.MANIFEST).read_text().splitlines())}
    assert {r["status"] for r in records.values()} == {"ok"}, records
    page = seen(browser, outdir / records["sommet.md"]["html"])
    assert_drawn(page)
    page.context.close()
    page = seen(browser, outdir / records["budget.docx"]["html"])
    visible = page.inner_text("main")
    assert "**" not in visible, visible
    assert page.locator("main .cell.fr strong").all_text_contents() == ["le budget"]
    page.context.close()


def test_batch_index_shows_titles_and_links_every_file(browser: Any, tiny_engine: Any, tmp_path: Path) -> None:
    """Issue 23, point 7: the index names each document by its title and links each file it produced."""
    source = tmp_path / "in"
    source.mkdir()
    (source / "sommet.md").write_text(MARKDOWN, encoding="utf-8")
    (source / "budget.docx").write_bytes(documents.docx())
    outdir = tmp_path / "out"
    BatchRun(RunSpec(source, outdir, config=BatchConfig(layouts=("interleaved", "english"))), Greedy(tiny_engine)).run()
    context = browser.new_context()
    page = context.new_page()
    page.goto((outdir / outputs.INDEX).as_uri())
    titles = page.locator("tbody .doc-title").all_text_contents()
    assert sorted(titles) == ["Le budget de la ville", "Un sommet à Moscou"]  # markup read, not shown
    row = page.locator("tbody tr", has_text="Le budget de la ville")
    labels = row.locator("a").all_text_contents()
    assert labels == ["side by side", "JSON", "interleaved DOCX", "english DOCX"]
    for link in row.locator("a").all():
        target = outdir / (link.get_attribute("href") or "")
        assert target.is_file(), target
    assert {p.name for p in (outdir / "docs").glob("budget.*.docx")} == {
        "budget.interleaved.docx",
        "budget.english.docx",
    }
    context.close()
