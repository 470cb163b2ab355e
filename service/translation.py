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
import time
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import Executor
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


async def stream_blocks(
    stream: DocumentStream, token: CancelToken, executor: Executor
) -> AsyncIterator[BilingualBlock]:
    """The stream's blocks in reading order; leaving early cancels the rest.

    The stream's groups wait for the scheduler in `executor`, one bounded pool shared by every
    stream (`Settings.stream_threads`): a stream holds no thread of its own, so streams nobody reads
    (or many at once) cannot multiply threads; past the pool's size their groups queue, in order.
    Here, only futures are awaited: when the client goes away the response task is cancelled at once,
    the token withdraws what still waits in the scheduler, and groups not started are dropped.
    """
    futures = stream.submit(executor)
    try:
        for index, future in enumerate(futures):
            results = await asyncio.wrap_future(future)
            for block in await run_in_threadpool(stream.blocks, index, results):  # may align: an engine call
                yield block
    finally:
        token.cancel()
        for future in futures:
            future.cancel()
