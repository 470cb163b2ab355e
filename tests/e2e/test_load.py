"""The load test's short version: concurrent clients against a real server; correctness only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.live import cli_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_concurrent_clients_get_no_5xx_and_only_well_formed_200s(tiny_checkpoint: Path, tmp_path: Path) -> None:
    report_file = tmp_path / "load.json"
    command = [
        sys.executable,
        str(ROOT / "bench" / "load_test.py"),
        "--clients",
        "16",
        "--duration",
        "6",
        "--ramp",
        "1",
        "--model",
        str(tiny_checkpoint),
        "--json",
        str(report_file),
    ]
    run = subprocess.run(command, capture_output=True, text=True, env=cli_env(), timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(report_file.read_text())
    assert report["requests"] > 16
    assert report["by_status"].get("200", 0) == report["requests"], report["by_status"]
    assert report["malformed"] == 0 and report["transport_errors"] == 0
