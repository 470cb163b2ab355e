"""Running the app under uvicorn with a graceful drain on SIGTERM/SIGINT.

On the first signal the app is marked draining (`/health/ready` answers 503 on connections
still open), uvicorn stops accepting connections, in-flight requests get up to
`shutdown_grace_seconds` to finish, then the lifespan's shutdown runs and the process exits 0.

uvicorn's own access log is off: it prints each request's query string, and LibreTranslate and
DeepL clients send keys there (`?api_key=`, `?auth_key=`). bitext's JSON access line leaves it out.
"""

from __future__ import annotations

import logging
import signal
from types import FrameType

import uvicorn
from fastapi import FastAPI

from service.settings import Settings

log = logging.getLogger("bitext")


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self._app.state.bitext.draining:
            log.info("signal %s: draining; in-flight requests have %ss", sig, self.config.timeout_graceful_shutdown)
        self._app.state.bitext.draining = True
        super().handle_exit(sig, frame)
        if sig == signal.SIGTERM and sig in self._captured_signals:
            # uvicorn re-raises captured signals after shutting down, so the process would die
            # "killed by SIGTERM" (-15). A completed drain is a clean exit: status 0.
            self._captured_signals.remove(sig)


def run(app: FastAPI, settings: Settings) -> None:
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        # bitext writes its own access-log line per request (service/middleware.py), path without the
        # query; uvicorn's would repeat every request with its query string, keys sent as ?api_key= included.
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds) or None,
        # uvicorn's default (5 s) is httpx's pool expiry: under load a client reuses a connection idle for
        # about 5 s just as the server closes it, and that request is reset (ReadError, ECONNRESET). The
        # server must be the side that waits longer.
        timeout_keep_alive=settings.keep_alive_seconds,
    )
    DrainingServer(config, app).run()
