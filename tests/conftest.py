"""Shared fixtures: the fake engine, and a tiny real Marian checkpoint built from text we ship."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fakes import FakeEngine

DATA = Path(__file__).parent / "data"


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight Marian fr→en checkpoint with real sentencepiece tokenizers (~3 s)."""
    from models.synthetic import TINY, build_marian_checkpoint

    french = (DATA / "corpus.fr.txt").read_text(encoding="utf-8").splitlines()
    english = (DATA / "corpus.en.txt").read_text(encoding="utf-8").splitlines()
    return build_marian_checkpoint(tmp_path_factory.mktemp("tiny-marian"), french, english, TINY)


@pytest.fixture(scope="session")
def tiny_engine(tiny_checkpoint: Path):
    from models.engine import EngineSpec
    from models.factory import load_engine

    return load_engine(EngineSpec(str(tiny_checkpoint), device="cpu"))


@pytest.fixture
def article_text() -> str:
    return (DATA / "article.md").read_text(encoding="utf-8")
