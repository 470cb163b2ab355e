"""What the translation-memory API tests share: two keys, the app on a fake engine with its memory on disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings
from tests.support.fakes import FakeEngine

KEY_A, KEY_B = "key-a", "key-b"
A = {"Authorization": f"Bearer {KEY_A}"}
B = {"Authorization": f"Bearer {KEY_B}"}


def keyed_client(engine: FakeEngine, data_dir: Path) -> Iterator[TestClient]:
    """The app with keys A and B, no answer cache (each request meets the memory), its data in `data_dir`."""
    settings = Settings(api_keys=[KEY_A, KEY_B], data_dir=data_dir, cache_entries=0, warmup=False)
    with TestClient(create_app(settings, engine=engine)) as test_client:
        yield test_client


def sentences_of(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """Every sentence of a translate answer, in order."""
    return [s for block in answer["blocks"] for s in block["sentences"]]
