"""Graceful shutdown of a real `bitext serve`: SIGTERM lets in-flight work finish, then exit 0."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.live import LiveServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_sigterm_drains_in_flight_requests_then_exits_zero(tiny_checkpoint: Path, tmp_path: Path) -> None:
    article = "\n".join(
        f"Le conseil municipal numéro {i} a adopté mardi soir un budget de transports." for i in range(60)
    )
    results: dict[str, httpx.Response] = {}

    with LiveServer(tiny_checkpoint, tmp_path / "serve.log") as server:
        assert server.process is not None

        def post() -> None:
            results["response"] = httpx.post(
                f"{server.url}/v1/translate",
                content=article.encode(),
                headers={"Content-Type": "text/plain"},
                timeout=120,
            )

        worker = threading.Thread(target=post)
        worker.start()
        time.sleep(1.0)  # the request is in flight
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        with pytest.raises(httpx.TransportError):  # no new connections once draining
            httpx.get(f"{server.url}/health/ready", timeout=2)
        worker.join(timeout=120)
        assert server.process.wait(timeout=60) == 0
    response = results["response"]
    assert response.status_code == 200
    assert len(response.json()["blocks"]) == 60
    assert "draining" in (tmp_path / "serve.log").read_text()
