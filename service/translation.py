"""An interactive request's document through the scheduler, off the event loop.

The one place that turns a parsed document and its options into a bilingual one for a request
handler (`/v1/translate` and the compat routes); batch jobs take a `Scheduler.lane("batch")` and the
CLI an engine, and all of them run the same `translate_document`. Failures propagate as the
scheduler's and the pipeline's own exceptions; `service.errors.as_api_error` maps them once.

A client that goes away withdraws its waiting sentences: a `CancelToken` rides on the request's
lane, and a disconnect (watched while the worker thread translates, or a stream being closed)
cancels it. A sentence already in a batch finishes and reaches the cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from starlette.concurrency import run_in_threadpool

from models.document import BilingualBlock, BilingualDocument, Document
from models.engine import GenerationOptions
from models.pipeline import DocumentStream, translate_document
from models.repair import Fidelity
from service.deps import AppState
from service.scheduler import CancelToken, Lane, Scheduler

DISCONNECT_POLL_SECONDS = 0.1


class Disconnectable(Protocol):
    async def is_disconnected(self) -> bool: ...


async def _watch(client: Disconnectable, token: CancelToken) -> None:
    while not token.cancelled:
        if await client.is_disconnected():
            token.cancel()
            return
        await asyncio.sleep(DISCONNECT_POLL_SECONDS)


def _interactive_lane(state: AppState, scheduler: Scheduler) -> tuple[Lane, CancelToken]:
    """A request's lane: ahead of batch work, up to the request deadline, cancellable by its token."""
    token = CancelToken()
    return scheduler.lane("interactive", time.monotonic() + state.settings.request_timeout_seconds, token), token


async def translate_interactive(
    state: AppState,
    scheduler: Scheduler,
    document: Document,
    options: GenerationOptions,
    warnings: Sequence[str] = (),
    fidelity: Fidelity = Fidelity(),
    alignment: bool = False,
    client: Disconnectable | None = None,
) -> BilingualDocument:
    """Its sentences queue ahead of batch-job work and give up at the request deadline.

    With `client` (the request), a disconnect withdraws the sentences still waiting (`Cancelled`).
    """
    settings = state.settings
    lane, token = _interactive_lane(state, scheduler)
    watcher = asyncio.create_task(_watch(client, token)) if client is not None else None
    try:
        return await run_in_threadpool(
            translate_document, document, lane, options, warnings, settings.max_sentences, fidelity, alignment
        )
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


def open_stream(
    state: AppState,
    scheduler: Scheduler,
    document: Document,
    options: GenerationOptions,
    warnings: Sequence[str] = (),
    fidelity: Fidelity = Fidelity(),
    alignment: bool = False,
) -> tuple[DocumentStream, CancelToken]:
    """Plan the document for streaming (may raise `DocumentTooLarge`): call it in a worker thread."""
    settings = state.settings
    lane, token = _interactive_lane(state, scheduler)
    return DocumentStream(document, lane, options, warnings, settings.max_sentences, fidelity, alignment), token


_END = object()


async def stream_blocks(stream: DocumentStream, token: CancelToken) -> AsyncIterator[BilingualBlock]:
    """The stream's blocks, translated in a thread of its own; leaving early cancels the rest.

    Waiting on a queue (not on a worker thread) keeps the wait cancellable: when the client goes
    away the response task is cancelled here at once, and the token withdraws what still waits.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()

    def pump() -> None:
        try:
            for block in stream:
                loop.call_soon_threadsafe(queue.put_nowait, block)
                if token.cancelled:
                    return
            loop.call_soon_threadsafe(queue.put_nowait, _END)
        except BaseException as error:  # handed to the response, which says it in the stream
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening
                loop.call_soon_threadsafe(queue.put_nowait, error)

    threading.Thread(target=pump, name="bitext-stream", daemon=True).start()
    try:
        while True:
            item = await queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, BilingualBlock)
            yield item
    finally:
        token.cancel()
