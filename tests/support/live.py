"""A real `bitext serve` subprocess on a free localhost port: the one helper for e2e tests and bench/."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

BITEXT = [sys.executable, "-m", "service.cli"]
ROOT = Path(__file__).resolve().parents[2]


def cli_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONWARNINGS": "ignore", **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """Starts `bitext serve --model MODEL`, waits for /health/ready, stops it on exit.

    The server's output goes to `log`, a file: an unread pipe fills up under load (one access-log
    line per request) and would block the server.
    """

    def __init__(self, model: Path, log: Path, *args: str, ready_timeout: float = 120, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.ready_timeout = ready_timeout
        self._command = [*BITEXT, "serve", "--model", str(model), "--port", str(self.port), *args]
        self._env = cli_env(**env)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def peak_rss_mb(self) -> float:
        """The server process's peak resident memory so far (VmHWM), in MB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def __enter__(self) -> LiveServer:
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(self._command, cwd=ROOT, env=self._env, stdout=sink, stderr=sink)
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"bitext serve exited early:\n{self.log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.3)
        self.__exit__()
        raise TimeoutError(f"bitext serve was not ready in {self.ready_timeout:g} s:\n{self.log.read_text()[-3000:]}")

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
