"""Keys sent in a query string (`?api_key=`, `?auth_key=`) never reach the server's log.

LibreTranslate and DeepL clients may carry the key in the URL. uvicorn's own access log prints
the query; `bitext serve` turns it off and writes its own JSON line, which leaves the query out.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.live import LiveServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SECRET = "SECRET-key-in-the-query-7f3a"


def test_a_key_in_the_query_string_is_not_written_to_the_servers_log(tiny_checkpoint: Path, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with LiveServer(tiny_checkpoint, log, BITEXT_API_KEYS=SECRET) as server:
        lt = httpx.post(
            f"{server.url}/translate?api_key={SECRET}", data={"q": "Bonjour.", "source": "fr", "target": "en"}
        )
        deepl = httpx.get(f"{server.url}/v2/usage?auth_key={SECRET}")
        wrong = httpx.get(f"{server.url}/v2/usage?auth_key={SECRET}-wrong")
        assert (lt.status_code, deepl.status_code, wrong.status_code) == (200, 200, 403)
    text = log.read_text(errors="replace")
    assert '"path": "/v2/usage"' in text, "bitext's own access line is still written"
    assert SECRET not in text
