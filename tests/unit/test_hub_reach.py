"""A hub that cannot be reached is one clear error within seconds, not half a minute of retries."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from models.loading import ModelLoadError, load_marian
from models.reach import unreachable
from tests.support.live import BITEXT, ROOT, cli_env, free_port

pytestmark = pytest.mark.integration

# Port 9 (discard) on localhost: nothing listens, the connection is refused at once; the hub
# client used to retry it with back-off for ~35 s.
DEAD_HUB = "http://127.0.0.1:9"
# Well under the ~35 s of retries before; generous for a loaded machine (imports alone take seconds).
BOUND_SECONDS = 15


def _bitext(*args: str, home: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run(
        [*BITEXT, *args],
        cwd=ROOT,
        env=cli_env(HF_HOME=str(home), HF_ENDPOINT=DEAD_HUB, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, time.monotonic() - started


def test_an_unreachable_endpoint_is_told_apart_quickly() -> None:
    started = time.monotonic()
    assert unreachable(DEAD_HUB, timeout=2) is not None
    assert time.monotonic() - started < 5


def _serving(status: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:  # noqa: N802 - the http.server hook's name
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize(("status", "reachable"), [(200, True), (404, True), (401, True), (502, False), (503, False)])
def test_any_answer_but_a_gateways_error_is_reachable(status: int, reachable: bool) -> None:
    server = _serving(status)
    try:
        answer = unreachable(f"http://127.0.0.1:{server.server_port}", timeout=2)
    finally:
        server.shutdown()
        server.server_close()
    assert (answer is None) is reachable, answer


def test_an_endpoint_that_never_answers_is_unreachable_after_the_answer_timeout() -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        started = time.monotonic()
        answer = unreachable(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=1, answer_timeout=1)
        assert answer == "connected, but no answer within 1 s" and time.monotonic() - started < 5


def test_a_hub_slower_to_answer_than_to_connect_is_reachable() -> None:
    """The connection opens at once and the answer takes 2 s: over the 1 s allowed to connect, within
    the time allowed to answer, so a slow hub is not mistaken for a dead one."""

    class Slow(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:  # noqa: N802 - the http.server hook's name
            time.sleep(2)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert unreachable(f"http://127.0.0.1:{server.server_port}", timeout=1, answer_timeout=10) is None
    finally:
        server.shutdown()
        server.server_close()


def test_loading_from_an_unreachable_hub_fails_within_seconds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Timed in this process, past the imports (which take seconds of their own on a busy machine)."""
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "ENDPOINT", DEAD_HUB)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    started = time.monotonic()
    with pytest.raises(ModelLoadError, match="cannot be reached") as raised:
        load_marian("example-org/absent-model")
    assert time.monotonic() - started < BOUND_SECONDS
    assert "--model DIR" in str(raised.value) and "docs/production.md#offline-hosts" in str(raised.value)


def test_serve_without_model_or_hub_fails_naming_both_ways_out(tmp_path: Path) -> None:
    done, _ = _bitext("serve", "--model", "example-org/absent-model", "--port", str(free_port()), home=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Retrying" not in done.stderr
    assert "cannot be reached" in done.stderr
    assert "--model DIR" in done.stderr and "docs/production.md#offline-hosts" in done.stderr


def test_download_model_failing_does_not_advise_itself(tmp_path: Path) -> None:
    done, _ = _bitext("download-model", "--model", "example-org/absent-model", home=tmp_path)
    assert done.returncode == 2 and "Retrying" not in done.stderr, done.stderr
    assert "cannot download model" in done.stderr
    assert "bitext download-model" not in done.stderr
    assert "--model DIR" in done.stderr and "docs/production.md#offline-hosts" in done.stderr
    offline, _ = _bitext("download-model", "--model", "example-org/absent-model", home=tmp_path, HF_HUB_OFFLINE="1")
    assert offline.returncode == 2 and "HF_HUB_OFFLINE is set" in offline.stderr
    assert "bitext download-model" not in offline.stderr


def _hub_cache(home: Path, repo: str, checkpoint: Path) -> None:
    """`checkpoint` laid out as huggingface_hub caches a download of `repo`."""
    folder = home / "hub" / f"models--{repo.replace('/', '--')}"
    shutil.copytree(checkpoint, folder / "snapshots" / ("0" * 40))
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text("0" * 40)


@pytest.mark.parametrize("offline", ["", "1"])
def test_a_cached_model_loads_from_the_cache_when_the_hub_is_down_or_offline(
    tmp_path: Path, tiny_checkpoint: Path, offline: str
) -> None:
    repo = "example-org/tiny-marian"
    _hub_cache(tmp_path, repo, tiny_checkpoint)
    source = tmp_path / "a.txt"
    source.write_text("Bonjour à tous.", encoding="utf-8")
    done, _ = _bitext("translate", str(source), "--model", repo, home=tmp_path, HF_HUB_OFFLINE=offline)
    assert done.returncode == 0, done.stderr
    assert "Retrying" not in done.stderr
    assert '"blocks"' in done.stdout


def test_download_model_with_the_model_cached_and_the_hub_down_names_the_cache(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    repo = "example-org/tiny-marian"
    _hub_cache(tmp_path, repo, tiny_checkpoint)
    done, _ = _bitext("download-model", "--model", repo, home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"{repo} is in {tmp_path}" in done.stdout and "does not answer" in done.stderr
