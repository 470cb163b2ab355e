"""What the browser tests share: Playwright's `expect` (the module skips without Playwright, except on CI),
a live server on a free port, the greedy tiny engine and a page watched for errors, dialogs and CSP reports."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from models.cache import CachedEngine, MemoryLRU
from models.document import Translation
from models.engine import PLAIN_CALL, CallControl, DelegatingEngine, GenerationOptions
from service.app import create_app
from service.settings import Settings

try:
    from playwright.sync_api import expect
except ImportError:  # CI installs the `test` extra: there, a missing playwright is a failure
    if os.environ.get("CI"):
        raise
    pytest.skip("playwright is not installed", allow_module_level=True)

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
MAX_CHARS, MAX_SENTENCES = 5000, 200
PICTURES = "https://images.example.org/**"  # the articles' pictures, served here: no test reaches outside
PICTURE = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="494" viewBox="0 0 1200 494">'
    b'<rect width="1200" height="494" fill="#27548a"/><circle cx="950" cy="130" r="70" fill="#f2c14e"/>'
    b'<rect x="0" y="330" width="1200" height="164" fill="#3b7d4f"/></svg>'
)


class Greedy(DelegatingEngine):
    """The tiny engine decoding greedily: beam 4 on random weights is slow, and these tests are about layout."""

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        return self.engine.translate(texts, replace(options, num_beams=1), control=control)


def serve(settings: Settings, engine: Any) -> Iterator[str]:
    """The real app on `engine`, on a free localhost port, until the generator is closed."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, engine=engine), log_level="warning", ws="none"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the live server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def serve_greedy(tiny_engine: Any, settings: Settings) -> Iterator[str]:
    """`serve` on the greedy tiny engine behind a cache: an article the tests repeat is translated once."""
    yield from serve(settings, CachedEngine(Greedy(tiny_engine), MemoryLRU(10_000)))


class Watched:
    """A page with what it did on the side: dialogs opened, script errors, CSP violations, failed requests."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.violations: list[str] = []
        self.failed: list[str] = []  # the URLs answered with an error status
        page.on("dialog", self._dialog)
        page.on("response", lambda response: self.failed.append(response.url) if response.status >= 400 else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(message.text)


@contextmanager
def opened(browser: Any, url: str, viewport: tuple[int, int] = (1280, 900)) -> Iterator[Watched]:
    """The page at `url` in a fresh context (downloads accepted, pictures served locally), once its scripts
    have run; the context is closed after, and the page must have thrown nothing, opened no dialog and broken
    no CSP rule."""
    width, height = viewport
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    view = Watched(context.new_page())
    # the articles' pictures, served here: the page never reaches outside
    view.page.route(
        "https://images.example.org/**", lambda route: route.fulfill(body=PICTURE, content_type="image/svg+xml")
    )
    try:
        response = view.page.goto(url + "/")
        assert response is not None and response.ok
        expect(view.page.locator("#counter")).to_contain_text("characters")  # the scripts ran
        yield view
    finally:
        context.close()
    assert view.errors == [], "the page threw"
    assert view.dialogs == [], "a dialog opened"
    assert view.violations == [], "the page broke its Content Security Policy"
