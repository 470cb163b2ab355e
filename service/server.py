"""Running the app under uvicorn with a graceful drain on SIGTERM/SIGINT.

On the first signal the app is marked draining (`/health/ready` answers 503 on connections
still open), uvicorn stops accepting connections, in-flight requests get up to
`shutdown_grace_seconds` to finish, then the lifespan's shutdown runs and the process exits 0.

The listening address is taken before the model loads (`bind`): a port already in use is a
one-line error naming a free one, not a crash after a minute of loading and a "ready" log line.

uvicorn's own access log is off: it prints each request's query string, and LibreTranslate and
DeepL clients send keys there (`?api_key=`, `?auth_key=`). bitext's JSON access line leaves it out.
"""

from __future__ import annotations

import errno
import logging
import signal
import socket
from types import FrameType

import uvicorn
from fastapi import FastAPI

from service.settings import Settings

log = logging.getLogger("bitext")


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if sockets is not None and self.started:  # uvicorn says where it listens only for sockets it bound
            self._log_started_message(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self._app.state.bitext.draining:
            log.info("signal %s: draining; in-flight requests have %ss", sig, self.config.timeout_graceful_shutdown)
        self._app.state.bitext.draining = True
        super().handle_exit(sig, frame)
        if sig == signal.SIGTERM and sig in self._captured_signals:
            # uvicorn re-raises captured signals after shutting down, so the process would die
            # "killed by SIGTERM" (-15). A completed drain is a clean exit: status 0.
            self._captured_signals.remove(sig)


PORTS_TRIED = 20  # how far past a busy port to look for a free one to suggest


class AddressError(OSError):
    """The server cannot listen where it was asked to; the message says what to do."""


def _bound(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` as uvicorn would bind it (SO_REUSEADDR: a port in TIME_WAIT after a
    restart is free; one another server listens on is not)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[
        0
    ]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    return sock


def free_port_after(host: str, port: int) -> int | None:
    """The first port after `port` that `host` can bind now, or None within `PORTS_TRIED`."""
    for candidate in range(port + 1, min(port + 1 + PORTS_TRIED, 65536)):
        try:
            _bound(host, candidate).close()
        except OSError:
            continue
        return candidate
    return None


def bind(settings: Settings) -> socket.socket:
    """Take `settings.host:settings.port` now, before the model loads, and listen on it (a bound socket
    alone would not keep a second server off the port). Connections made while the model loads wait in
    the backlog and are answered once the server runs (`run`)."""
    host, port = settings.host, settings.port
    try:
        sock = _bound(host, port)
        try:
            sock.listen(2048)  # uvicorn's default backlog
        except BaseException:
            sock.close()
            raise
        return sock
    except socket.gaierror as error:
        raise AddressError(f"cannot listen on {host}:{port}: unknown host ({error.strerror}); check --host") from None
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            free = free_port_after(host, port)
            hint = f"try --port {free}" if free is not None else "stop the other server or choose another --port"
            raise AddressError(f"port {port} is in use: {hint}") from None
        if error.errno == errno.EACCES:
            raise AddressError(
                f"cannot listen on port {port}: permission denied (ports below 1024 need privileges); try --port 8000"
            ) from None
        raise AddressError(f"cannot listen on {host}:{port}: {error.strerror or error}; check --host") from None


def run(app: FastAPI, settings: Settings, sock: socket.socket | None = None) -> None:
    """Serve `app` until a signal drains it; on `sock` when the address was taken beforehand (`bind`)."""
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
    DrainingServer(config, app).run(sockets=[sock] if sock is not None else None)
