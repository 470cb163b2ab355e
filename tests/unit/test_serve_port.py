"""`bitext serve` on a busy port says so before the model loads, and names a free port."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from service.server import AddressError, bind, free_port_after
from service.settings import Settings
from tests.support.live import BITEXT, ROOT, cli_env, free_port

pytestmark = pytest.mark.integration


def _listening() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_a_busy_port_is_refused_with_a_free_one_suggested() -> None:
    with _listening() as busy:
        port = busy.getsockname()[1]
        with pytest.raises(AddressError, match=rf"^port {port} is in use: try --port \d+$") as raised:
            bind(Settings(host="127.0.0.1", port=port))
        suggested = int(str(raised.value).rsplit(" ", 1)[1])
        assert suggested > port
        bind(Settings(host="127.0.0.1", port=suggested)).close()  # the suggestion is free indeed


def test_a_free_port_is_taken_before_serving() -> None:
    port = free_port()
    with bind(Settings(host="127.0.0.1", port=port)) as sock:
        assert sock.getsockname()[1] == port
        assert free_port_after("127.0.0.1", port - 1) != port  # taken now: a second server is refused
        with pytest.raises(AddressError, match=f"port {port} is in use"):
            bind(Settings(host="127.0.0.1", port=port))


def test_serve_on_a_busy_port_fails_before_loading_the_model(tmp_path: Path) -> None:
    # A model that does not exist: the old order loaded (and failed on) it first, never naming the port.
    with _listening() as busy:
        port = busy.getsockname()[1]
        done = subprocess.run(
            [*BITEXT, "serve", "--model", str(tmp_path / "absent"), "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=cli_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2
    assert f"port {port} is in use: try --port " in done.stderr
    assert "loading model" not in done.stderr and "does not exist" not in done.stderr


def test_serve_says_where_it_listens(tiny_checkpoint: Path, tmp_path: Path) -> None:
    from tests.support.live import LiveServer

    log = tmp_path / "serve.log"
    with LiveServer(tiny_checkpoint, log) as server:
        assert f"Uvicorn running on http://127.0.0.1:{server.port}" in log.read_text()
