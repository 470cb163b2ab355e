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


# One sentence and its corrected English, and a TMX file holding just that unit (the CLI memory tests).
SENTENCE = "Le conseil municipal a voté le budget hier soir."
EDITED = "The city council passed the budget last night."
TMX = f"""<?xml version="1.0" encoding="utf-8"?>
<tmx version="1.4"><header creationtool="test" creationtoolversion="1" segtype="sentence" o-tmf="none"
 adminlang="en" srclang="fr" datatype="plaintext"/><body>
<tu><tuv xml:lang="fr"><seg>{SENTENCE}</seg></tuv><tuv xml:lang="en"><seg>{EDITED}</seg></tuv></tu>
</body></tmx>
"""
