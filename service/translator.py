"""The service's view of the engine: one loaded model, translations run off the event loop."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.concurrency import run_in_threadpool

from models.document import BilingualDocument, Document
from models.engine import Engine, GenerationOptions
from models.pipeline import translate_document


class Translator:
    """Wraps an `Engine` with the service's limits; handlers call this, never the engine."""

    def __init__(self, engine: Engine, max_sentences: int) -> None:
        self.engine = engine
        self.max_sentences = max_sentences

    async def translate(self, document: Document, options: GenerationOptions, warnings: Sequence[str] = ()) -> BilingualDocument:
        return await run_in_threadpool(
            translate_document, document, self.engine, options, None, warnings, self.max_sentences
        )
