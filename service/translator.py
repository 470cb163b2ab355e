"""The service's view of the engine: one loaded model, translations run off the event loop."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from starlette.concurrency import run_in_threadpool

from models.batching import BatchTooLargeError
from models.document import BilingualDocument, Document, Translation
from models.engine import Engine, GenerationOptions
from models.pipeline import translate_document
from models.repair import Fidelity
from service.errors import ApiError
from service.scheduler import DeadlineExceeded, Priority, QueueFull, Scheduler, SchedulerClosed


class Translator:
    """Wraps an `Engine` with the service's limits; handlers and job runners call this, never the engine."""

    def __init__(self, engine: Engine, max_sentences: int, scheduler: Scheduler | None = None) -> None:
        self.engine = engine
        self.max_sentences = max_sentences
        self.scheduler = scheduler  # None: call the engine directly (tests, the CLI)

    def translate_blocking(
        self, texts: Sequence[str], options: GenerationOptions = GenerationOptions(), priority: Priority = "batch"
    ) -> list[Translation]:
        """For worker threads (batch jobs): blocks until `texts` are translated."""
        if self.scheduler is None:
            return self.engine.translate(texts, options)
        return self.scheduler.translate(texts, options, priority)

    def _interactive(self, deadline: float | None) -> Callable[[Sequence[str], GenerationOptions], list[Translation]]:
        scheduler = self.scheduler
        assert scheduler is not None

        def run(texts: Sequence[str], options: GenerationOptions) -> list[Translation]:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            return scheduler.translate(texts, options, "interactive", timeout=timeout)

        return run

    async def translate(
        self,
        document: Document,
        options: GenerationOptions,
        warnings: Sequence[str] = (),
        fidelity: Fidelity = Fidelity(),
        timeout: float | None = None,
    ) -> BilingualDocument:
        """An interactive request's document, translated without blocking the event loop.

        Its sentences join the scheduler's queue ahead of batch-job work; a full queue is a 503,
        and past `timeout` seconds the request stops with a 504 that says how far it got.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        run = self._interactive(deadline) if self.scheduler is not None else None
        try:
            return await run_in_threadpool(
                translate_document, document, self.engine, options, run, warnings, self.max_sentences, fidelity
            )
        except QueueFull as error:
            retry = str(error.retry_after)
            raise ApiError(503, "overloaded", f"the translation queue is full; retry in {retry} s", headers={"Retry-After": retry}) from None
        except SchedulerClosed:
            raise ApiError(503, "shutting_down", "the service is shutting down; retry shortly", headers={"Retry-After": "5"}) from None
        except DeadlineExceeded as error:
            raise ApiError(
                504,
                "deadline_exceeded",
                f"the {timeout:g} s deadline passed with {error.done} of {error.total} sentences translated; send a shorter text",
                translated=error.done,
                sentences=error.total,
            ) from None
        except BatchTooLargeError:
            raise ApiError(
                503,
                "insufficient_memory",
                "a sentence of this text does not fit in the model's memory even on its own; retry later or shorten it",
                headers={"Retry-After": "30"},
            ) from None
