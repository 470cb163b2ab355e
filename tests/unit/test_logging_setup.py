"""The CLI's logging: each library line printed once, and one line before a hub fetch says where from."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from models.loading import _announce_fetch

PROBE = """
import logging
from service.cli import configure_logging
configure_logging()
logging.getLogger("huggingface_hub.utils._http").warning("hub-probe")
from transformers.utils import logging as hf_logging
hf_logging.get_logger("transformers.modeling_utils").warning("transformers-probe")
"""


def test_library_warnings_print_once_in_our_format() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    for probe in ("hub-probe", "transformers-probe"):
        lines = [line for line in done.stderr.splitlines() if probe in line]
        assert len(lines) == 1, done.stderr
        assert " WARNING " in lines[0]


def test_a_hub_fetch_is_announced_with_its_source(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with caplog.at_level(logging.INFO, logger="models.loading"):
        _announce_fetch("example-org/not-cached-model")
    assert "not in the local cache" in caplog.text
    assert "fetching it from http" in caplog.text


def test_offline_says_it_reads_the_cache(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with caplog.at_level(logging.INFO, logger="models.loading"):
        _announce_fetch("example-org/not-cached-model")
    assert "HF_HUB_OFFLINE is set" in caplog.text
