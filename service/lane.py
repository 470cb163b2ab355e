"""A lane: the scheduler as an `Engine` for one kind of work (one priority, one deadline, one
cancel token): what the pipeline, the stream, jobs and the CLI take."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import replace
from functools import partial
from typing import Any, Protocol

from models.document import Translation
from models.engine import (
    PLAIN_CALL,
    BatchBudget,
    CallControl,
    DelegatingEngine,
    Engine,
    EngineTraits,
    GenerationOptions,
)
from models.markup import Alignment
from service.queueing import Priority
from service.waiting import Abandoning, Cancelled, CancelToken, DeadlineExceeded, Progress


class Queue(Abandoning, Protocol):
    """What a lane needs of its scheduler (`service.scheduler.Scheduler`)."""

    @property
    def engine(self) -> Engine: ...

    @property
    def budget(self) -> BatchBudget: ...

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions,
        priority: Priority,
        timeout: float | None,
        cancel: CancelToken | None,
    ) -> list[Translation]: ...

    def align(
        self,
        sources: Sequence[str],
        targets: Sequence[str],
        priority: Priority,
        timeout: float | None,
        cancel: CancelToken | None,
    ) -> list[Alignment]: ...

    def submit_groups(
        self, groups: Sequence[Sequence[str]], options: GenerationOptions, priority: Priority, first: tuple[int, int]
    ) -> list[Future[list[Translation]]]: ...


class Lane(DelegatingEngine):
    """The scheduler as an `Engine` for one caller: its `translate` and `align` queue on the scheduler
    at one priority, up to one deadline, withdrawn by one cancel token.

    Callers above see an engine and nothing of how batching is done; the model's own facts (info,
    token counts, window) come from the engine the scheduler owns, and its traits say the
    scheduler's budget. Its calls are controlled by the lane itself: its deadline and cancel token
    stop them, and the scheduler gives each engine call it makes the control of its batch.
    """

    def __init__(
        self, scheduler: Queue, priority: Priority, deadline: float | None, cancel: CancelToken | None, number: int
    ) -> None:
        super().__init__(scheduler.engine)
        self.scheduler, self.priority, self.deadline = scheduler, priority, deadline
        self.cancel, self.number = cancel, number
        self.progress = Progress()

    @property
    def traits(self) -> EngineTraits:
        return replace(self.engine.traits, budget=self.scheduler.budget)

    def _timeout(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def gone(self) -> bool:
        """The lane's caller is gone: its cancel token was cancelled or its deadline passed. The
        request's stop check, carried by the lane: the steps after translation poll it."""
        cancelled = self.cancel is not None and self.cancel.cancelled
        return cancelled or (self.deadline is not None and time.monotonic() >= self.deadline)

    def stopped(self) -> BaseException:
        """What `gone` means for the caller: it left (`Cancelled`), or the deadline passed with
        `answered` of the sentences `asked` so far translated (`DeadlineExceeded`)."""
        if self.cancel is not None and self.cancel.cancelled:
            return Cancelled("the request was cancelled")
        return DeadlineExceeded(self.progress.answered, self.progress.asked)

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        _own_control(control)
        self.progress.add(asked=len(texts))
        translations = self.scheduler.translate(texts, options, self.priority, self._timeout(), self.cancel)
        self.progress.add(answered=len(texts))
        return translations

    def submit(self, groups: Sequence[Sequence[str]], options: GenerationOptions) -> list[Future[list[Translation]]]:
        """Queue every group at once and return: a future per group holds its translations (or the refusal).

        A group's place in the list is its reading-order place among the lane's work (a streamed
        article's groups of blocks): the scheduler serves the first group first, then packs the rest
        with other requests' work. The lane's cancel token withdraws them; its deadline is the
        awaiter's to keep (`expire`)."""
        if self.cancel is not None and self.cancel.cancelled:
            raise Cancelled("the request was cancelled")
        futures = self.scheduler.submit_groups(groups, options, self.priority, (self.number, 0))
        for texts, future in zip(groups, futures, strict=True):
            if self.cancel is not None:
                self.cancel.track(self.scheduler, future)
            self.progress.add(asked=len(texts))
            future.add_done_callback(partial(self._answered, len(texts)))
        return futures

    def _answered(self, count: int, done: Future[list[Translation]]) -> None:
        if not done.cancelled() and done.exception() is None:
            self.progress.add(answered=count)

    def expire(self, future: Future[Any]) -> DeadlineExceeded:
        """`future`'s waiting work withdrawn at the lane's deadline: the error that says how far it got."""
        self.scheduler.abandon(future)
        return DeadlineExceeded(self.progress.answered, self.progress.asked)

    def align(
        self, sources: Sequence[str], targets: Sequence[str], *, control: CallControl = PLAIN_CALL
    ) -> list[Alignment]:
        """Word alignment through the scheduler: queued, deadlined and cancellable like generation."""
        _own_control(control)
        return self.scheduler.align(sources, targets, self.priority, self._timeout(), self.cancel)


def _own_control(control: CallControl) -> None:
    """A lane's calls are stopped by its deadline and cancel token and run alone when the scheduler
    says: a caller's control is refused rather than silently not obeyed."""
    if control != PLAIN_CALL:
        raise ValueError("a scheduler lane takes no CallControl: its deadline and cancel token stop its calls")
