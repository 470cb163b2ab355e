"""An interactive request's document through the scheduler, off the event loop.

The one place that turns a parsed document and its options into a bilingual one for a request
handler (`/v1/translate` and the compat routes); batch jobs take a `Scheduler.lane("batch")` and the
CLI an engine, and all of them run the same `translate_document`. Failures propagate as the
scheduler's and the pipeline's own exceptions; `service.errors.as_api_error` maps them once.

A client that goes away withdraws its waiting sentences: a `CancelToken` rides on the request's
lane, and a disconnect (watched while the worker thread translates, or a stream being closed)
cancels it. A sentence already in a batch finishes and reaches the cache.

The work the request's own thread does after translation (alignment, markup placement, assembly;
an export's rendering) runs under `models.interrupt.stop_when` with the same two conditions: the
request's deadline passed (`DeadlineExceeded`, a 504) or its client went away (`Cancelled`). It
polls as it goes, so it stops within a few thousand elements instead of finishing for nobody.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Protocol, TypeVar

from starlette.concurrency import run_in_threadpool

from models.document import BilingualBlock, BilingualDocument, Translation
from models.interrupt import Interrupted, stop_when
from models.pipeline import DocumentStream, translate_request
from models.request import TranslationRequest
from service.deps import AppState
from service.scheduler import CancelToken, Lane, Scheduler

T = TypeVar("T")

DISCONNECT_POLL_SECONDS = 0.1


class Disconnectable(Protocol):
    async def is_disconnected(self) -> bool: ...


async def _watch(client: Disconnectable, token: CancelToken) -> None:
    while not token.cancelled:
        if await client.is_disconnected():
            token.cancel()
            return
        await asyncio.sleep(DISCONNECT_POLL_SECONDS)


def stop_check(token: CancelToken, deadline: float | None) -> Callable[[], bool]:
    """True once the request is gone: its client disconnected (`token`) or its `deadline` passed."""
    return lambda: token.cancelled or (deadline is not None and time.monotonic() >= deadline)


def _run_stopping(
    check: Callable[[], bool], stopped: Callable[[], BaseException], func: Callable[..., T], *args: Any
) -> T:
    """`func(*args)` in this (worker) thread under `stop_when(check)`; `Interrupted` becomes `stopped()`."""
    with stop_when(check):
        try:
            return func(*args)
        except Interrupted:
            raise stopped() from None


async def run_stoppable(
    func: Callable[..., T],
    *args: Any,
    token: CancelToken,
    deadline: float | None,
    stopped: Callable[[], BaseException],
    client: Disconnectable | None = None,
) -> T:
    """`func(*args)` in a worker thread, stopped at its next `checkpoint` once the deadline passes or
    `client` disconnects (watched here, it cancels `token`); it then raises `stopped()`."""
    watcher = asyncio.create_task(_watch(client, token)) if client is not None else None
    try:
        return await run_in_threadpool(_run_stopping, stop_check(token, deadline), stopped, func, *args)
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


def _interactive_lane(state: AppState, scheduler: Scheduler) -> tuple[Lane, CancelToken]:
    """A request's lane: ahead of batch work, up to the request deadline, cancellable by its token."""
    token = CancelToken()
    return scheduler.lane("interactive", time.monotonic() + state.settings.request_timeout_seconds, token), token


async def translate_interactive(
    state: AppState, scheduler: Scheduler, request: TranslationRequest, client: Disconnectable | None = None
) -> BilingualDocument:
    """Its sentences queue ahead of batch-job work and give up at the request deadline.

    With `client` (the request), a disconnect withdraws the sentences still waiting (`Cancelled`).
    The steps after translation stop at the deadline (`DeadlineExceeded`) or the disconnect too.
    """
    lane, token = _interactive_lane(state, scheduler)
    return await run_stoppable(
        translate_request, request, lane, token=token, deadline=lane.deadline, stopped=lane.stopped, client=client
    )


def open_stream(state: AppState, scheduler: Scheduler, request: TranslationRequest) -> tuple[DocumentStream, Lane]:
    """Plan the request for streaming (may raise `DocumentTooLarge`): call it in a worker thread.

    The stream's lane is interactive, under the request deadline, with its own cancel token."""
    lane, _ = _interactive_lane(state, scheduler)
    return DocumentStream(request, lane), lane


def submit_stream(stream: DocumentStream, lane: Lane) -> list[Future[list[Translation]]]:
    """Every group's work handed to the scheduler at once, group `i` at reading-order place `i`: no
    thread waits for it, the scheduler packs it with other requests' work and serves earlier groups
    (the first screenful) first."""
    return lane.submit(stream.work(), stream.options)


def _token(lane: Lane) -> CancelToken:
    if lane.cancel is None:  # `open_stream` always gives one
        raise ValueError("a stream's lane needs a cancel token")
    return lane.cancel


async def _arrived(future: Future[list[Translation]], lane: Lane) -> list[Translation]:
    """`future`'s translations, awaited on the event loop without a thread; past the lane's deadline
    its waiting work is withdrawn (`DeadlineExceeded`). Leaving early never cancels `future` itself:
    the lane's token withdraws the work (`stream_blocks`)."""
    loop = asyncio.get_running_loop()
    arrived = loop.create_future()

    def settle() -> None:
        if not arrived.done():
            arrived.set_result(None)

    def wake(_: Future[list[Translation]]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop already closed: nobody waits
            loop.call_soon_threadsafe(settle)

    future.add_done_callback(wake)
    timeout = None if lane.deadline is None else max(0.0, lane.deadline - time.monotonic())
    try:
        await asyncio.wait_for(arrived, timeout)
    except TimeoutError:
        raise lane.expire(future) from None
    return future.result()


async def stream_blocks(stream: DocumentStream, lane: Lane) -> AsyncIterator[BilingualBlock]:
    """The stream's blocks in reading order; leaving early cancels the rest.

    The work is queued once (`submit_stream`) and each group's translations awaited in order: a
    stream holds no thread while it waits, so streams nobody reads cannot multiply threads. When the
    client goes away the response task is cancelled at once and the lane's token withdraws what still
    waits in the scheduler. A group's repairs, alignment and assembly run in a worker thread, stopped
    by the deadline or a disconnect.
    """
    token = _token(lane)
    try:
        futures = await run_in_threadpool(submit_stream, stream, lane)
        for index, future in enumerate(futures):
            translations = await _arrived(future, lane)
            blocks = await run_in_threadpool(_run_stopping, lane.gone, lane.stopped, stream.blocks, index, translations)
            for block in blocks:
                yield block
    finally:
        token.cancel()


def streamed_blocks(stream: DocumentStream, lane: Lane) -> Iterator[BilingualBlock]:
    """`stream_blocks` for a caller with a thread of its own (a benchmark, a test): the same
    submission, each group's translations waited for in order."""
    token = _token(lane)
    try:
        futures = submit_stream(stream, lane)
        for index, future in enumerate(futures):
            timeout = None if lane.deadline is None else max(0.0, lane.deadline - time.monotonic())
            try:
                translations = future.result(timeout)
            except FutureTimeout:
                raise lane.expire(future) from None
            yield from stream.blocks(index, translations)
    finally:
        token.cancel()
