"""Cross-request dynamic batching: one thin worker loop per engine lane over a thread-free state.

The scheduler is the only way to the model: generation and word alignment (for markup placement)
are both its work items, each with its request's priority, deadline and cancellation, and both
are counted in its metrics. Its state (`service.queueing.SchedulerState`: what waits, what runs,
the next batch, routing outputs back) has no thread of its own; here are the callers' entry points
(`translate`, `submit`, `align`, `lane`), the lock, and the worker loops that wait, call the engine
and report.

Thirty-two clients each sending one paragraph would, one request at a time, run thirty-two small
`generate` calls; on a CPU or GPU the cost of a decoding step barely grows with the rows in it, so
packing their sentences into shared batches multiplies throughput. Callers block on a future (or,
like the stream, await it); one worker per engine lane waits at most `max_wait` for company, takes
one batch (`SchedulerState.next_batch`) and hands the outputs back (`complete`). Interactive work
always goes first; a batch is bounded, so an interactive request waits at most for the batch in
flight. An alignment call runs alone (it switches the model's attention kernels) and goes before
the generation waiting at its priority.
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
from typing import Any

from models.document import Translation
from models.engine import (
    BatchBudget,
    Engine,
    GenerationOptions,
)
from models.interrupt import Interrupted
from models.markup import Alignment
from service.lane import Lane
from service.metrics import Metrics
from service.queueing import Batch, Item, Priority, SchedulerState, Work
from service.waiting import (
    Cancelled,
    CancelToken,
    DeadlineExceeded,
    QueueFull,
    SchedulerClosed,
)

__all__ = [
    "Cancelled",
    "CancelToken",
    "DeadlineExceeded",
    "Lane",
    "Priority",
    "QueueFull",
    "Scheduler",
    "SchedulerClosed",
]

log = logging.getLogger(__name__)


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
        self.state = SchedulerState(budget, self.workers, batching, max_wait, engine.traits.default_beams)
        self.max_queue = max_queue
        self.metrics = metrics
        self._lookup = lookup
        self._cond = threading.Condition()
        self._rate = 0.0  # sentences per second, smoothed; sizes Retry-After
        self._threads: list[threading.Thread] = []
        self._requests: weakref.WeakKeyDictionary[Future[Any], Work] = weakref.WeakKeyDictionary()
        self._numbers = itertools.count(1)  # request numbers, for reading-order keys

    @property
    def budget(self) -> BatchBudget:
        return self.state.budget

    @budget.setter
    def budget(self, budget: BatchBudget) -> None:
        with self._cond:
            self.state.budget = budget

    @property
    def batching(self) -> bool:
        return self.state.batching

    @property
    def max_wait(self) -> float:
        return self.state.max_wait

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
            self.state.closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        with self._cond:
            waiting = self.state.drain()
            self._report_queue()
            self._cond.notify_all()
        for request in waiting:
            if not request.gone:
                request.future.set_exception(SchedulerClosed("the service is shutting down"))

    @property
    def pending(self) -> int:
        with self._cond:
            return self.state.pending

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
        request = Work(GenerationOptions(), future, [], 1, (next(self._numbers), 0), pairs)
        self._requests[future] = request
        tokens = sum(len(source.split()) + len(target.split()) for source, target in pairs)
        with self._cond:
            if self.state.closed:
                raise SchedulerClosed("the service is shutting down")
            self.state.add(priority, [Item(request, 0, "", tokens)])
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
        """Queue `texts` and return at once; the future holds their translations, in input order."""
        return self.submit_groups([texts], options, priority, key or (next(self._numbers), 0))[0]

    def submit_groups(
        self, groups: Sequence[Sequence[str]], options: GenerationOptions, priority: Priority, first: tuple[int, int]
    ) -> list[Future[list[Translation]]]:
        """Queue one caller's groups of texts (group i at key `(first[0], first[1] + i)`) in one go,
        under one lock, so no worker cuts a call from some of them only; a future per group."""
        futures: list[Future[list[Translation]]] = []
        waiting: list[tuple[Work, list[tuple[int, str, int]]]] = []
        for offset, texts in enumerate(groups):
            future: Future[list[Translation]] = Future()
            futures.append(future)
            found = self._lookup(texts, options) if self._lookup is not None and texts else {}
            missing = [i for i in range(len(texts)) if i not in found]
            if not missing:
                future.set_result([found[i] for i in range(len(texts))])
                continue
            lengths = self.engine.count_tokens([texts[i] for i in missing])
            results: list[Translation | None] = [found.get(i) for i in range(len(texts))]
            request = Work(options, future, results, len(missing), (first[0], first[1] + offset))
            self._requests[future] = request
            waiting.append((request, [(i, texts[i], n) for i, n in zip(missing, lengths, strict=True)]))
        count = sum(len(entries) for _, entries in waiting)
        if not count:
            return futures
        with self._cond:
            while True:
                if self.state.closed:
                    raise SchedulerClosed("the service is shutting down")
                pending = self.state.pending
                if pending == 0 or pending + count <= self.max_queue:
                    break
                if priority == "interactive":
                    if self.metrics is not None:
                        self.metrics.rejected.inc()
                    raise QueueFull(pending, self._retry_after(pending))
                self._cond.wait()  # batch jobs apply back-pressure instead of failing
            now = time.monotonic()
            for request, entries in waiting:
                self.state.add(priority, [Item(request, i, text, n, now) for i, text, n in entries])
            self._report_queue()
            self._cond.notify_all()
        return futures

    def _retry_after(self, pending: int) -> int:
        if self._rate <= 0:
            return 5
        return max(1, min(120, math.ceil(pending / (self._rate * self.workers))))

    # -- the worker loop ---------------------------------------------------------------------------

    def _work(self) -> None:
        worker = threading.get_ident()
        state = self.state
        while True:
            with self._cond:
                while not state.closed and not state.can_start():
                    self._cond.wait()
                if state.closed:
                    return
                while (left := state.company_wait(time.monotonic())) > 0 and not state.closed:
                    self._cond.wait(left)  # another worker may take it all while this one waits
                if not state.can_start():
                    continue
                batch = state.next_batch(worker)
                self._report_queue()
                self._cond.notify_all()  # room in the queue for waiting batch submitters
            try:
                self._run_align(batch) if batch.aligning else self._run(batch)
            finally:
                with self._cond:
                    state.finish(worker)
                    self._cond.notify_all()

    def _run(self, batch: Batch) -> None:
        texts = batch.texts()
        started = time.perf_counter()
        try:
            # Nobody waits for a batch whose every request is gone (cancelled, past its deadline):
            # the engine stops it at its next decoding step rather than hold up the queue. The call
            # carries its own control (stop check, alone or not): nothing rides on this thread.
            outputs = self.engine.translate(texts, batch.options, control=batch.control())
            if len(outputs) != len(texts):
                raise RuntimeError(f"the engine returned {len(outputs)} translations for {len(texts)} sentences")
        except Interrupted:
            log.info("an engine call of %d sentences was stopped: every request of it is gone", len(texts))
            return
        except Exception as error:
            self._isolate(batch, error)
            return
        seconds = time.perf_counter() - started
        with self._cond:
            self.state.complete(batch, outputs)
        self._observe(len(texts), len(batch.requests()), sum(o.output_tokens for o in outputs), seconds)

    def _run_align(self, batch: Batch) -> None:
        request = batch.items[0].request
        pairs = request.pairs or ()
        started = time.perf_counter()
        try:
            # its caller gone (the batch's one request): the engine stops between its batches
            found = self.engine.align([fr for fr, _ in pairs], [en for _, en in pairs], control=batch.control())
        except Interrupted:
            log.info("an alignment of %d pairs was stopped: its request is gone", len(pairs))
            return
        except Exception as error:  # noqa: BLE001 - the request fails, the service goes on
            self._fail(request, error)
            return
        if self.metrics is not None:
            self.metrics.observe_align(len(pairs), time.perf_counter() - started)
        with self._cond:
            self.state.aligned(batch, found)

    def _isolate(self, batch: Batch, error: Exception) -> None:
        """An engine error fails only the request(s) whose own sentences fail on their own."""
        requests = batch.requests()
        if len(requests) == 1:
            self._fail(requests[0], error)
            return
        for request in requests:
            self._run(Batch([item for item in batch.items if item.request is request], batch.solo))

    def _fail(self, request: Work, error: BaseException) -> None:
        log.warning("a translation request failed: %s", error)
        with self._cond:
            self.state.fail(request, error)
            self._report_queue()
            self._cond.notify_all()

    def _observe(self, sentences: int, requests: int, output_tokens: int, seconds: float) -> None:
        if seconds > 0:
            rate = sentences / seconds
            self._rate = rate if self._rate == 0 else 0.8 * self._rate + 0.2 * rate
        if self.metrics is not None:
            self.metrics.observe_batch(sentences, requests, output_tokens, seconds)

    def _report_queue(self) -> None:
        if self.metrics is not None:
            for priority, queue in self.state.queues.items():
                self.metrics.set_queue(priority, len(queue))
