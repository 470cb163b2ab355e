"""What one caller holds while its work waits for the engine: the refusals it may get, its cancel
switch and its progress. The scheduler (`service.scheduler`) raises and honours these; the routes,
the stream and the error mapping use them without reaching into the scheduler itself."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any, Protocol


class Abandoning(Protocol):
    """What a cancel token needs of a scheduler: dropping one request's waiting work."""

    def abandon(self, future: Future[Any], error: BaseException | None = None) -> int: ...


class QueueFull(RuntimeError):
    """The queue holds its maximum; the caller should come back in `retry_after` seconds."""

    def __init__(self, pending: int, retry_after: int) -> None:
        super().__init__(f"{pending} sentences are already waiting for the engine")
        self.pending, self.retry_after = pending, retry_after


class SchedulerClosed(RuntimeError):
    """The service is shutting down; work not yet started is refused."""


class Cancelled(RuntimeError):
    """The caller went away (a closed connection): its sentences not yet started left the queue."""


class CancelToken:
    """One request's switch: `cancel()` withdraws every sentence it still has waiting, on any scheduler.

    A sentence already in a batch finishes (and reaches the cache); the rest never cost model time.
    Thread-safe; cancelling twice, or tracking after cancelling, is harmless.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tracked: list[tuple[Abandoning, Future[Any]]] = []
        self.cancelled = False

    def track(self, scheduler: Abandoning, future: Future[Any]) -> None:
        with self._lock:
            if not self.cancelled:
                self._tracked = [(s, f) for s, f in self._tracked if not f.done()] + [(scheduler, future)]
                return
        scheduler.abandon(future, Cancelled("the request was cancelled"))

    def cancel(self) -> None:
        with self._lock:
            self.cancelled, tracked, self._tracked = True, self._tracked, []
        for scheduler, future in tracked:
            if not future.done():  # a finished request has nothing left to withdraw
                scheduler.abandon(future, Cancelled("the request was cancelled"))


class DeadlineExceeded(TimeoutError):
    """A caller's deadline passed: its queued sentences were dropped; `done` of `total` had been translated."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__(f"{done} of {total} sentences were translated before the deadline")
        self.done, self.total = done, total


class Progress:
    """How many sentences one caller's lanes asked the engine for, and how many came back: what a
    `DeadlineExceeded` raised after translation (while placing markup, say) reports. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.asked = 0
        self.answered = 0

    def add(self, asked: int = 0, answered: int = 0) -> None:
        with self._lock:
            self.asked += asked
            self.answered += answered
