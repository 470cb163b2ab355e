"""The service's view of the engine: one loaded model, translations run off the event loop."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from starlette.concurrency import run_in_threadpool

from models.document import BilingualDocument, Document, Translation
from models.engine import Engine, GenerationOptions
from models.pipeline import translate_document

Priority = Literal["interactive", "batch"]


class Translator:
    """Wraps an `Engine` with the service's limits; handlers and job runners call this, never the engine."""

    def __init__(self, engine: Engine, max_sentences: int) -> None:
        self.engine = engine
        self.max_sentences = max_sentences

    def translate_blocking(
        self, texts: Sequence[str], options: GenerationOptions = GenerationOptions(), priority: Priority = "batch"
    ) -> list[Translation]:
        """For worker threads (batch jobs): blocks until `texts` are translated."""
        return self.engine.translate(texts, options)

    async def translate(self, document: Document, options: GenerationOptions, warnings: Sequence[str] = ()) -> BilingualDocument:
        """An interactive request's document, translated without blocking the event loop."""
        return await run_in_threadpool(
            translate_document, document, self.engine, options, None, warnings, self.max_sentences
        )
