"""A real `bitext serve` subprocess on a free localhost port, for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

BITEXT = [sys.executable, "-m", "service.cli"]


def cli_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONWARNINGS": "ignore", **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """Starts `bitext serve --model MODEL`, waits for /health/ready, stops it on exit."""

    def __init__(self, model: Path, log: Path, *args: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._command = [*BITEXT, "serve", "--model", str(model), "--port", str(self.port), *args]
        self._env = cli_env(**env)
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LiveServer:
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(self._command, env=self._env, stdout=sink, stderr=sink)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"bitext serve exited early:\n{self.log.read_text()}")
            time.sleep(0.3)
        raise TimeoutError(f"bitext serve was not ready in 120 s:\n{self.log.read_text()}")

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
