"""Cross-request dynamic batching: one worker per engine lane, a bounded queue, interactive before batch work.

The scheduler is the only way to the model: generation and word alignment (for markup placement)
are both its work items, each with its request's priority, deadline and cancellation, and both
are counted in its metrics. An alignment call runs alone (it switches the model's attention
kernels) and goes before the generation waiting at its priority (a caller's blocks wait on it):
no new batch starts while it waits, and it starts once the batches in flight are done.

Thirty-two clients each sending one paragraph would, one request at a time, run thirty-two small
`generate` calls; on a CPU or GPU the cost of a decoding step barely grows with the rows in it, so
packing their sentences into shared batches multiplies throughput. Callers (request handlers in
the thread pool, batch-job threads) block on a future; one worker thread per engine lane waits
at most `max_wait` for company, takes one length-sorted, token-budgeted batch from the waiting
sentences, and routes each result back to its request. Interactive work always goes first; a
batch is bounded, so an interactive request waits at most for the batch in flight.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from models.batching import next_batch
from models.document import Translation
from models.engine import BatchBudget, DelegatingEngine, Engine, EngineTraits, GenerationOptions, all_translated
from models.interrupt import Interrupted, stop_when
from models.lanes import alone
from models.markup import Alignment
from service.metrics import Metrics
from service.waiting import (
    Cancelled,
    CancelToken,
    DeadlineExceeded,
    Progress,
    QueueFull,
    SchedulerClosed,
)

log = logging.getLogger(__name__)

Priority = Literal["interactive", "batch"]
_ORDER: tuple[Priority, ...] = ("interactive", "batch")
_LOOKAHEAD = 4  # batches' worth of waiting sentences considered when cutting the next batch


@dataclass(eq=False)
class _Request:
    options: GenerationOptions
    future: Future[Any]  # list[Translation], or list[Alignment] for alignment work
    results: list[Translation | None]
    remaining: int
    key: tuple[int, int] = (0, 0)  # (request number, reading-order group): smaller is served first
    pairs: tuple[tuple[str, str], ...] | None = None  # alignment work: (French, English) sentence pairs


@dataclass(eq=False, slots=True)
class _Item:
    request: _Request
    index: int
    text: str
    tokens: int
    arrived: float = field(default_factory=time.monotonic)


class Scheduler:
    """Owns the engine's worker threads, one per lane (`models.lanes`); call `translate` from any other thread."""

    def __init__(
        self,
        engine: Engine,
        budget: BatchBudget = BatchBudget(),
        max_wait: float = 0.005,
        max_queue: int = 20_000,
        batching: bool = True,
        metrics: Metrics | None = None,
        lookup: Callable[[Sequence[str], GenerationOptions], dict[int, Translation]] | None = None,
        workers: int | None = None,
    ) -> None:
        self.engine = engine
        # one worker per engine lane (models.lanes): two calls side by side on one loaded model
        self.workers = max(1, workers if workers is not None else engine.traits.lanes)
        self._solo = False  # a call runs alone with every lane's threads: the other workers wait
        self._running: dict[int, list[_Item]] = {}  # each worker's call in flight, by worker thread id
        self.budget = budget
        self.max_wait = max_wait
        self.max_queue = max_queue
        self.batching = batching
        self.metrics = metrics
        self._lookup = lookup
        self._queues: dict[Priority, list[_Item]] = {p: [] for p in _ORDER}
        self._cond = threading.Condition()
        self._closed = False
        self._rate = 0.0  # sentences per second, smoothed; sizes Retry-After
        self._threads: list[threading.Thread] = []
        self._requests: weakref.WeakKeyDictionary[Future[Any], _Request] = weakref.WeakKeyDictionary()
        self._numbers = itertools.count(1)  # request numbers, for reading-order keys

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        if not self._threads:
            self._threads = [
                threading.Thread(target=self._work, name=f"bitext-engine-{number}", daemon=True)
                for number in range(self.workers)
            ]
            for thread in self._threads:
                thread.start()

    def close(self, timeout: float | None = 30.0) -> None:
        """Finish the batches in flight, refuse the rest, stop the workers."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        self._fail_waiting(SchedulerClosed("the service is shutting down"))

    @property
    def pending(self) -> int:
        with self._cond:
            return sum(len(q) for q in self._queues.values())

    # -- callers -----------------------------------------------------------------------------

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        priority: Priority = "interactive",
        timeout: float | None = None,
        cancel: CancelToken | None = None,
        key: tuple[int, int] | None = None,
    ) -> list[Translation]:
        """Blocks until every text is translated (results in input order) or its request fails.

        Interactive work past the queue bound raises `QueueFull` at once; batch work waits for room.
        Past `timeout` seconds the request's waiting sentences leave the queue (so no engine time
        is spent on an answer nobody reads) and `DeadlineExceeded` says how far it got. `cancel`
        withdraws them on demand (`Cancelled`); `key` orders one caller's calls (see `Lane.submit`).
        """
        if cancel is not None and cancel.cancelled:
            raise Cancelled("the request was cancelled")
        future = self.submit(texts, options, priority, key)
        if cancel is not None:
            cancel.track(self, future)
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            raise DeadlineExceeded(self.abandon(future), len(texts)) from None

    def align(
        self,
        sources: Sequence[str],
        targets: Sequence[str],
        priority: Priority = "interactive",
        timeout: float | None = None,
        cancel: CancelToken | None = None,
    ) -> list[Alignment]:
        """Word alignment of each (French, English) pair by the engine, queued like generation work:
        at `priority`, given up past `timeout` (`DeadlineExceeded`), withdrawn by `cancel` (`Cancelled`)."""
        if not sources:
            return []
        if cancel is not None and cancel.cancelled:
            raise Cancelled("the request was cancelled")
        future: Future[list[Alignment]] = Future()
        pairs = tuple(zip(sources, targets, strict=True))
        request = _Request(GenerationOptions(), future, [], 1, (next(self._numbers), 0), pairs)
        self._requests[future] = request
        tokens = sum(len(source.split()) + len(target.split()) for source, target in pairs)
        with self._cond:
            if self._closed:
                raise SchedulerClosed("the service is shutting down")
            self._queues[priority].append(_Item(request, 0, "", tokens))
            self._report_queue()
            self._cond.notify_all()
        if cancel is not None:
            cancel.track(self, future)
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            self.abandon(future)
            raise DeadlineExceeded(0, len(pairs)) from None

    def lane(
        self, priority: Priority = "interactive", deadline: float | None = None, cancel: CancelToken | None = None
    ) -> Lane:
        """This scheduler as an `Engine` for one kind of work: what the pipeline, jobs and CLI take.

        `deadline` is a `time.monotonic()` instant; each call waits at most until then. `cancel`
        withdraws the lane's waiting sentences when the caller goes away.
        """
        return Lane(self, priority, deadline, cancel, next(self._numbers))

    def abandon(self, future: Future[Any], error: BaseException | None = None) -> int:
        """Drop a request's waiting sentences; return how many of them were already translated."""
        request = self._requests.get(future)
        if request is None:
            return 0
        self._fail(request, error or DeadlineExceeded(0, len(request.results)))
        return sum(result is not None for result in request.results)

    def submit(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        priority: Priority = "interactive",
        key: tuple[int, int] | None = None,
    ) -> Future[list[Translation]]:
        future: Future[list[Translation]] = Future()
        found = self._lookup(texts, options) if self._lookup is not None and texts else {}
        results: list[Translation | None] = [found.get(i) for i in range(len(texts))]
        missing = [i for i in range(len(texts)) if i not in found]
        if not missing:
            future.set_result([found[i] for i in range(len(texts))])
            return future
        lengths = self.engine.count_tokens([texts[i] for i in missing])
        request = _Request(options, future, results, len(missing), key or (next(self._numbers), 0))
        self._requests[future] = request
        with self._cond:
            while True:
                if self._closed:
                    raise SchedulerClosed("the service is shutting down")
                pending = sum(len(q) for q in self._queues.values())
                if pending == 0 or pending + len(missing) <= self.max_queue:
                    break
                if priority == "interactive":
                    if self.metrics is not None:
                        self.metrics.rejected.inc()
                    raise QueueFull(pending, self._retry_after(pending))
                self._cond.wait()  # batch jobs apply back-pressure instead of failing
            now = time.monotonic()
            self._queues[priority] += [
                _Item(request, i, texts[i], n, now) for i, n in zip(missing, lengths, strict=True)
            ]
            self._report_queue()
            self._cond.notify_all()
        return future

    def _retry_after(self, pending: int) -> int:
        if self._rate <= 0:
            return 5
        return max(1, min(120, math.ceil(pending / (self._rate * self.workers))))

    # -- the worker ----------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (self._solo or not self._has_work()):
                    self._cond.wait()
                if self._closed:
                    return
                if self.batching:
                    self._gather()
                if self._closed or self._solo or not self._has_work():  # another worker took it
                    continue
                items = self._take()
                # Nothing else waits and no other lane is busy: this call takes every lane's threads
                # (one short request is not held to one core); work that comes meanwhile waits for it.
                # An alignment always runs alone: no batch starts beside it.
                aligning = bool(items) and items[0].request.pairs is not None
                solo = aligning or (self.workers > 1 and not self._has_work() and self._others_gone())
                self._solo = solo
                self._running[threading.get_ident()] = items
                self._report_queue()
                self._cond.notify_all()  # room in the queue for waiting batch submitters
            try:
                if items:
                    with alone() if solo else nullcontext():
                        self._run_align(items[0]) if aligning else self._run(items)
            finally:
                with self._cond:
                    self._running.pop(threading.get_ident(), None)
                    if solo:
                        self._solo = False
                        self._cond.notify_all()

    def _others_gone(self) -> bool:
        """No other call in flight, or only calls whose every request is gone (they stop within a step)."""
        return all(all(item.request.future.done() for item in call) for call in self._running.values())

    def _has_work(self) -> bool:
        return any(self._queues.values())

    def _head(self) -> list[_Item]:
        return next(q for q in (self._queues[p] for p in _ORDER) if q)

    def _gather(self) -> None:
        """Wait up to `max_wait` after the oldest waiting sentence arrived, unless a batch is full."""
        while not self._closed and self._has_work():  # another worker may take it all while this one waits
            queue = self._head()
            if len(queue) >= self.budget.max_sentences or sum(item.tokens for item in queue) >= self.budget.max_tokens:
                return
            left = queue[0].arrived + self.max_wait - time.monotonic()
            if left <= 0:
                return
            self._cond.wait(left)

    def _take(self) -> list[_Item]:
        """The next engine call's sentences, removed from the queue (called under the lock)."""
        queue = self._head()
        # Alignment work first within its priority: it is the last step before a caller's blocks are
        # delivered (a stream's first paragraph waits on it), and it is one short call of its own.
        aligning = next((at for at, item in enumerate(queue) if item.request.pairs is not None), None)
        if aligning is not None:
            return [queue.pop(aligning)]
        head = queue[0]
        if not self.batching:  # one request at a time, as a plain engine lock would do
            chosen = [item for item in queue if item.request is head.request]
        else:
            window = self.budget.max_sentences * _LOOKAHEAD
            pool = [
                item for item in queue if item.request.options == head.request.options and item.request.pairs is None
            ]
            # Reading order matters only when some caller split its work into ordered groups
            # (a streamed article); otherwise arrival order, as before.
            ordered = any(item.request.key[1] for item in pool)
            if ordered:
                pool.sort(key=lambda item: item.request.key)
            pool = pool[:window]
            picked = next_batch(
                [i.text for i in pool],
                [i.tokens for i in pool],
                self.budget.max_tokens,
                self._share(len(pool)),
                [i.request.key for i in pool] if ordered else None,
            )
            chosen = [pool[i] for i in picked]
        taken = {id(item) for item in chosen}
        queue[:] = [item for item in queue if id(item) not in taken]
        return chosen

    def _share(self, waiting: int) -> int:
        """The most sentences this worker takes: its budget, or its even share of what waits when
        other workers are idle (so one article keeps every lane busy, not one lane full)."""
        idle = self.workers - len(self._running)
        if idle <= 1:
            return self.budget.max_sentences
        return max(1, min(self.budget.max_sentences, math.ceil(waiting / idle)))

    def _run(self, items: list[_Item]) -> None:
        options = items[0].request.options
        texts = list(dict.fromkeys(item.text for item in items))
        started = time.perf_counter()
        try:
            # Nobody waits for a batch whose every request is gone (cancelled, past its deadline):
            # the engine stops it at its next decoding step rather than hold up the queue.
            with stop_when(lambda: all(item.request.future.done() for item in items)):
                outputs = self.engine.translate(texts, options)
            if len(outputs) != len(texts):
                raise RuntimeError(f"the engine returned {len(outputs)} translations for {len(texts)} sentences")
        except Interrupted:
            log.info("an engine call of %d sentences was stopped: every request of it is gone", len(texts))
            return
        except Exception as error:
            self._isolate(items, error)
            return
        seconds = time.perf_counter() - started
        by_text = dict(zip(texts, outputs, strict=True))
        requests = {id(item.request): item.request for item in items}
        for item in items:
            self._deliver(item, by_text[item.text])
        self._observe(len(texts), len(requests), sum(o.output_tokens for o in outputs), seconds)

    def _run_align(self, item: _Item) -> None:
        request = item.request
        pairs = request.pairs or ()
        started = time.perf_counter()
        try:
            with stop_when(request.future.done):  # its caller gone: the engine stops between its batches
                found = self.engine.align([fr for fr, _ in pairs], [en for _, en in pairs])
        except Interrupted:
            log.info("an alignment of %d pairs was stopped: its request is gone", len(pairs))
            return
        except Exception as error:  # noqa: BLE001 - the request fails, the service goes on
            self._fail(request, error)
            return
        if self.metrics is not None:
            self.metrics.observe_align(len(pairs), time.perf_counter() - started)
        if not request.future.done():
            request.future.set_result(found)

    def _isolate(self, items: list[_Item], error: Exception) -> None:
        """An engine error fails only the request(s) whose own sentences fail on their own."""
        requests: dict[int, list[_Item]] = {}
        for item in items:
            requests.setdefault(id(item.request), []).append(item)
        if len(requests) == 1:
            self._fail(items[0].request, error)
            return
        for own in requests.values():
            self._run(own)

    def _deliver(self, item: _Item, translation: Translation) -> None:
        request = item.request
        if request.future.done():  # failed earlier: its other sentences are dropped with it
            return
        request.results[item.index] = translation
        request.remaining -= 1
        if request.remaining == 0:
            try:
                translations = all_translated(request.results)
            except RuntimeError as error:  # a batching bug: the request fails rather than lose a sentence
                self._fail(request, error)
                return
            request.future.set_result(translations)

    def _fail(self, request: _Request, error: BaseException) -> None:
        log.warning("a translation request failed: %s", error)
        with self._cond:
            for queue in self._queues.values():
                queue[:] = [item for item in queue if item.request is not request]
            self._report_queue()
            self._cond.notify_all()
        if not request.future.done():
            request.future.set_exception(error)

    def _fail_waiting(self, error: BaseException) -> None:
        with self._cond:
            waiting = [item.request for queue in self._queues.values() for item in queue]
            for queue in self._queues.values():
                queue.clear()
            self._report_queue()
            self._cond.notify_all()
        for request in waiting:
            if not request.future.done():
                request.future.set_exception(error)

    def _observe(self, sentences: int, requests: int, output_tokens: int, seconds: float) -> None:
        if seconds > 0:
            rate = sentences / seconds
            self._rate = rate if self._rate == 0 else 0.8 * self._rate + 0.2 * rate
        if self.metrics is not None:
            self.metrics.observe_batch(sentences, requests, output_tokens, seconds)

    def _report_queue(self) -> None:
        if self.metrics is not None:
            for priority, queue in self._queues.items():
                self.metrics.set_queue(priority, len(queue))


class Lane(DelegatingEngine):
    """The scheduler as an `Engine` for one caller: its `translate` and `align` queue on the scheduler
    at one priority, up to one deadline, withdrawn by one cancel token.

    Callers above see an engine and nothing of how batching is done; the model's own facts (info,
    token counts, window) come from the engine the scheduler owns, and its traits say the
    scheduler's budget.
    """

    def __init__(
        self, scheduler: Scheduler, priority: Priority, deadline: float | None, cancel: CancelToken | None, number: int
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

    def translate(self, texts: Sequence[str], options: GenerationOptions = GenerationOptions()) -> list[Translation]:
        self.progress.add(asked=len(texts))
        translations = self.scheduler.translate(texts, options, self.priority, self._timeout(), self.cancel)
        self.progress.add(answered=len(texts))
        return translations

    def submit(self, texts: Sequence[str], options: GenerationOptions, group: int) -> Future[list[Translation]]:
        """Queue `texts` and return at once: the future holds their translations (or the refusal).

        `group` is the reading-order place of this work among the lane's own (a streamed article's
        groups of blocks): the scheduler serves a smaller group first, and packs every group with
        other requests' work. The lane's cancel token withdraws it; its deadline is the awaiter's
        to keep (`expire`)."""
        if self.cancel is not None and self.cancel.cancelled:
            raise Cancelled("the request was cancelled")
        future = self.scheduler.submit(texts, options, self.priority, (self.number, group))
        if self.cancel is not None:
            self.cancel.track(self.scheduler, future)
        self.progress.add(asked=len(texts))

        def answered(done: Future[list[Translation]]) -> None:
            if not done.cancelled() and done.exception() is None:
                self.progress.add(answered=len(texts))

        future.add_done_callback(answered)
        return future

    def expire(self, future: Future[Any]) -> DeadlineExceeded:
        """`future`'s waiting work withdrawn at the lane's deadline: the error that says how far it got."""
        self.scheduler.abandon(future)
        return DeadlineExceeded(self.progress.answered, self.progress.asked)

    def align(self, sources: Sequence[str], targets: Sequence[str]) -> list[Alignment]:
        """Word alignment through the scheduler: queued, deadlined and cancellable like generation."""
        return self.scheduler.align(sources, targets, self.priority, self._timeout(), self.cancel)
