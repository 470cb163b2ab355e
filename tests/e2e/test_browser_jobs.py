"""Jobs in the page, in headless Chromium against a live server on the tiny model (slowed a little, so progress
can be watched): a 20-document zip dropped on the page becomes a job whose progress moves in the jobs panel (from
the server's event stream), a document opens side by side and its bilingual DOCX downloads, all without leaving
the page; a running job is cancelled from the panel; several documents dropped together are one job."""

from __future__ import annotations

import base64
import io
import time
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from models.document import Translation
from models.engine import PLAIN_CALL, CallControl, GenerationOptions
from service.settings import Settings
from tests.e2e.test_browser import Slow
from tests.support import documents
from tests.support.browser import OUTPUT, expect, opened, serve

pytestmark = pytest.mark.browser

DOCUMENTS = 20
VIEWPORT = (1280, 800)


class Slower(Slow):
    """The slowed tiny engine, slower still: a job of many documents runs long enough to be cancelled."""

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        time.sleep(0.2)
        return super().translate(texts, options, control=control)


def docx(i: int) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading(f"Compte rendu numéro {i}", level=1)
    document.add_paragraph(f"Le conseil municipal a voté la mesure {i} hier soir. Les élus ont débattu.")
    document.add_paragraph(f"La piscine numéro {i} ouvrira en juin.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def archive(count: int, make: Any) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for i in range(count):
            name, data = make(i)
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def server(tiny_engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("page-jobs"),
        warmup=False,
        batch_group_sentences=2,  # documents finish one by one: progress moves in small steps
        jobs_events_seconds=0.1,
    )
    yield from serve(settings, Slower(tiny_engine))


def drop(page: Any, files: list[tuple[str, bytes]], target: str = "#input-form") -> None:
    page.evaluate(
        """([files, target]) => {
            const transfer = new DataTransfer();
            for (const [name, data] of files) {
                const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
                transfer.items.add(new File([bytes], name));
            }
            const drop = new DragEvent("drop", {dataTransfer: transfer, bubbles: true});
            document.querySelector(target).dispatchEvent(drop);
        }""",
        [[[name, base64.b64encode(data).decode()] for name, data in files], target],
    )


def test_a_dropped_zip_of_20_documents_is_watched_browsed_and_its_docx_downloaded_in_the_page(
    browser: Any, server: str
) -> None:
    with opened(browser, server, VIEWPORT) as view:
        page = view.page
        urls: list[str] = []
        page.on("request", lambda request: urls.append(f"{request.method} {request.url}"))
        page.select_option("#layout", "side-by-side")
        drop(page, [("comptes-rendus.zip", archive(DOCUMENTS, lambda i: (f"cr/{i:02}.docx", docx(i))))])
        job = page.locator("#job-list .job").first
        expect(job.locator(".job-name")).to_have_text("comptes-rendus.zip")
        expect(job).to_have_attribute("data-status", "running", timeout=30_000)
        # progress moves: documents done go up while the job runs, with a rate and the time left
        seen: list[int] = []
        deadline = time.monotonic() + 120
        while job.get_attribute("data-status") == "running" and time.monotonic() < deadline:
            value = int(float(job.locator(".job-bar").get_attribute("value") or 0))
            if not seen or value != seen[-1]:
                seen.append(value)
            if len(seen) == 3:
                OUTPUT.mkdir(exist_ok=True)
                page.screenshot(path=OUTPUT / "page-jobs-running.png")
                text = job.locator(".job-progress").text_content() or ""
                assert f"of {DOCUMENTS} documents" in text and "sentences/s" in text and "left" in text, text
            page.wait_for_timeout(50)
        assert len(seen) >= 3 and seen == sorted(seen), seen
        expect(job).to_have_attribute("data-status", "done", timeout=120_000)
        expect(job.locator(".job-progress")).to_contain_text(f"{DOCUMENTS} of {DOCUMENTS} documents")
        polls = [
            u for u in urls if u.startswith("GET") and "/v1/jobs/" in u and u.split("/v1/jobs/")[1].count("/") == 0
        ]
        assert polls == [], "the page polled the job instead of reading its events"
        assert sum(1 for u in urls if u.endswith("/events")) <= 2  # one stream (a reconnect at most)

        # a document side by side, in the page
        job.locator(".job-docs summary").click()
        rows = job.locator(".job-doc")
        expect(rows).to_have_count(DOCUMENTS)
        doc = rows.nth(3)
        expect(doc.locator(".job-doc-name")).to_have_text("cr/03.docx")
        doc.locator(".job-open").click()
        expect(page.locator("#jobs")).not_to_have_attribute("open", "")  # folded: the document takes the screen
        expect(page.locator("#jobs-head")).to_have_text("Jobs · 1 done")
        expect(page.locator("#bitext .row .cell.fr").first).to_contain_text("Compte rendu numéro 3")
        french = " ".join(page.locator("#bitext .row .cell.fr").all_text_contents())
        assert "Le conseil municipal a voté la mesure 3 hier soir." in french
        assert all(t.strip() for t in page.locator("#bitext .row .cell.en").all_text_contents())
        expect(page.locator("#status-text")).to_contain_text("cr/03.docx from comptes-rendus.zip")
        page.screenshot(path=OUTPUT / "page-jobs-document.png")

        # its bilingual DOCX, and the job's zip (the panel opened again)
        page.click("#jobs-head")
        with page.expect_download() as download:
            doc.locator(".job-file[data-layout='side-by-side']").click()
        assert download.value.suggested_filename == "03.side-by-side.docx"
        from docx import Document

        written = Document(io.BytesIO(Path(download.value.path()).read_bytes()))
        cells = [cell.text for table in written.tables for row in table.rows for cell in row.cells]
        assert any("Le conseil municipal a voté la mesure 3" in cell for cell in cells), cells
        with page.expect_download() as zipped:
            job.locator(".job-zip").click()
        assert zipped.value.suggested_filename.endswith(".zip")
        with zipfile.ZipFile(Path(zipped.value.path())) as results:
            assert sum(1 for name in results.namelist() if name.endswith(".docx")) == DOCUMENTS
        assert page.url == server + "/", "the reader never left the page"


def test_a_running_job_is_cancelled_from_the_panel(browser: Any, server: str) -> None:
    with opened(browser, server, VIEWPORT) as view:
        page = view.page
        text = lambda i: (f"n/{i:02}.txt", f"Titre {i}\n\nLe conseil a voté la mesure numéro {i}.\n")  # noqa: E731
        drop(page, [("long.zip", archive(40, text))])
        job = page.locator("#job-list .job", has_text="long.zip")
        expect(job).to_have_attribute("data-status", "running", timeout=30_000)
        expect(job.locator(".job-bar")).not_to_have_attribute("value", "0", timeout=30_000)
        expect(job.locator(".job-cancel")).to_be_visible()
        job.locator(".job-cancel").click()
        expect(job).to_have_attribute("data-status", "cancelled", timeout=30_000)
        expect(job.locator(".job-status")).to_have_text("cancelled")
        expect(job.locator(".job-cancel")).to_be_hidden()
        progress = job.locator(".job-progress").text_content() or ""
        done = int(progress.split(" of ")[0])
        assert 1 <= done < 40 and "cancelled" in progress, progress
        expect(job.locator(".job-docs summary")).to_contain_text("translated document")
        page.screenshot(path=OUTPUT / "page-jobs-cancelled.png")


def test_several_documents_dropped_together_are_one_job_and_the_list_survives_a_reload(
    browser: Any, server: str
) -> None:
    with opened(browser, server, VIEWPORT) as view:
        page = view.page
        files = [
            ("film.srt", documents.srt()),
            ("notes.txt", "Bonjour à tous.\n".encode()),
            ("film.srt", documents.srt()),
        ]
        drop(page, files, "#status")  # dropped beside the input: the page takes them all the same
        assert page.url == server + "/"
        job = page.locator("#job-list .job", has_text="film-and-2-more.zip")
        expect(job).to_have_attribute("data-status", "done", timeout=60_000)
        expect(job.locator(".job-doc-name")).to_have_count(3, timeout=30_000)  # listed after the job ends
        names = job.locator(".job-doc-name").all_text_contents()
        assert sorted(names) == ["2-film.srt", "film.srt", "notes.txt"]  # a repeated name is kept, renamed
        assert page.input_value("#source") == ""
        page.reload()
        reloaded = page.locator("#job-list .job", has_text="film-and-2-more.zip")
        expect(reloaded).to_have_attribute("data-status", "done")
        reloaded.locator(".job-docs summary").click()  # a listed job's documents come when asked for
        expect(reloaded.locator(".job-doc")).to_have_count(3)
        page.set_viewport_size({"width": 390, "height": 844})  # a phone: the panel fits, nothing overflows sideways
        reloaded.scroll_into_view_if_needed()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=OUTPUT / "page-jobs-phone.png")


KEY = "jobs-panel-key-5"


@pytest.fixture(scope="module")
def keyed(tiny_engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("keyed-page-jobs"), warmup=False, jobs_events_seconds=0.1, api_keys=[KEY]
    )
    yield from serve(settings, Slow(tiny_engine))


def test_with_keys_the_panel_waits_for_the_key_and_sends_it_as_a_header_only(browser: Any, keyed: str) -> None:
    with opened(browser, keyed, VIEWPORT) as view:
        page = view.page
        sent: list[tuple[str, str | None]] = []
        page.on("request", lambda request: sent.append((request.url, request.headers.get("authorization"))))
        page.wait_for_timeout(300)
        assert page.locator("#jobs").is_hidden()  # no key yet: nothing to list, and no error shown
        assert page.locator("#error").is_hidden()
        page.fill("#api-key", KEY)
        text = lambda i: (f"k/{i}.txt", f"Le conseil a voté la mesure {i}.\n")  # noqa: E731
        drop(page, [("keyed.zip", archive(3, text))])
        job = page.locator("#job-list .job", has_text="keyed.zip")
        expect(job).to_have_attribute("data-status", "done", timeout=60_000)
        job.locator(".job-open").first.click()
        expect(page.locator("#bitext .row .cell.fr").first).to_contain_text("Le conseil a voté la mesure")
        page.reload()  # the key is kept for the tab: the list comes back with it
        expect(page.locator("#job-list .job", has_text="keyed.zip")).to_have_attribute("data-status", "done")
    jobs = [(url, auth) for url, auth in sent if "/v1/jobs" in url]
    assert jobs and all(auth == f"Bearer {KEY}" for _, auth in jobs), jobs
    assert all(KEY not in url for url, _ in sent), "the key went into a URL"
