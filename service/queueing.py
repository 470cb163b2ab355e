"""The scheduler's state, with no thread and no lock of its own: what waits, what runs, what comes next.

In the shape of vLLM's `Scheduler.schedule()` / `update_from_output()` and TGI's queue
`next_batch`: `add` queues a request's work items, `next_batch(worker)` cuts the next engine call
(length-sorted, under the token budget, interactive before batch work, a streamed article's
earlier groups first, an alignment alone), `complete(batch, outputs)` routes each output back to its
request and resolves the request once every item of it is back. The caller (`service.scheduler`:
one thin loop per engine lane) holds one lock around every call and does the waiting and the engine
calls; here everything is plain data and pure decisions, testable without threads.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Literal

from models.batching import SMALL_CALL_ROWS, balanced_cut, call_cost, next_batch, plan_batches
from models.document import Translation
from models.engine import BatchBudget, CallControl, GenerationOptions, all_translated
from models.markup import Alignment

Priority = Literal["interactive", "batch"]
ORDER: tuple[Priority, ...] = ("interactive", "batch")
LOOKAHEAD = 4  # batches' worth of waiting sentences considered when cutting the next batch


@dataclass(eq=False)
class Work:
    """One caller's request: its items' results, gathered until the last one is back."""

    options: GenerationOptions
    future: Future[Any]  # list[Translation], or list[Alignment] for alignment work
    results: list[Translation | None]
    remaining: int
    key: tuple[int, int] = (0, 0)  # (request number, reading-order group): smaller is served first
    pairs: tuple[tuple[str, str], ...] | None = None  # alignment work: (French, English) sentence pairs

    @property
    def gone(self) -> bool:
        """Answered, failed, withdrawn or past its deadline: nobody waits for more of it."""
        return self.future.done()


@dataclass(eq=False, slots=True)
class Item:
    """One text of a request (or a whole alignment request) waiting for the engine."""

    request: Work
    index: int
    text: str
    tokens: int
    arrived: float = field(default_factory=time.monotonic)


@dataclass(frozen=True, eq=False)
class Batch:
    """One engine call: its items, and whether it runs alone (every lane's threads, no call beside it)."""

    items: list[Item]
    solo: bool

    @property
    def aligning(self) -> bool:
        return bool(self.items) and self.items[0].request.pairs is not None

    @property
    def options(self) -> GenerationOptions:
        return self.items[0].request.options

    def texts(self) -> list[str]:
        """The distinct texts to send, in order."""
        return list(dict.fromkeys(item.text for item in self.items))

    def gone(self) -> bool:
        """Every request of this call is gone: the engine may stop it at its next step."""
        return all(item.request.gone for item in self.items)

    def requests(self) -> list[Work]:
        return list({id(item.request): item.request for item in self.items}.values())

    def control(self) -> CallControl:
        """What the engine call is handed with this batch's work: stop once every request of it is
        gone (`gone`), and whether it runs alone on the model (`solo`)."""
        return CallControl(stop=self.gone, alone=self.solo)


class SchedulerState:
    """Waiting work by priority and the calls in flight by worker; no locking (the caller locks)."""

    def __init__(
        self, budget: BatchBudget, workers: int, batching: bool = True, max_wait: float = 0.005, beams: int = 1
    ) -> None:
        self.budget, self.workers, self.batching, self.max_wait = budget, workers, batching, max_wait
        self.beams = beams  # the engine's default beam width, for requests that name none
        self.queues: dict[Priority, list[Item]] = {p: [] for p in ORDER}
        self.running: dict[int, Batch] = {}  # each worker's call in flight
        self.solo = False  # a call runs alone: the other workers wait
        self.closed = False

    @property
    def pending(self) -> int:
        return sum(len(queue) for queue in self.queues.values())

    def has_work(self) -> bool:
        return any(self.queues.values())

    def can_start(self) -> bool:
        """A worker may cut a batch now: there is work and no call runs alone."""
        return not self.closed and not self.solo and self.has_work()

    def add(self, priority: Priority, items: Sequence[Item]) -> None:
        self.queues[priority] += items

    def _head(self) -> list[Item]:
        return next(q for q in (self.queues[p] for p in ORDER) if q)

    def company_wait(self, now: float) -> float:
        """Seconds to wait for more work before cutting (0: cut now): up to `max_wait` after the oldest
        waiting item arrived, unless a batch is already full."""
        if not self.batching or not self.has_work():
            return 0.0
        queue = self._head()
        if len(queue) >= self.budget.max_sentences or sum(item.tokens for item in queue) >= self.budget.max_tokens:
            return 0.0
        return max(0.0, queue[0].arrived + self.max_wait - now)

    def next_batch(self, worker: int) -> Batch:
        """The next engine call, its items removed from the queue and counted as `worker`'s.

        Nothing else waits and no other call is live, or it is a small call cut while every worker
        was idle (`_alone`): it runs alone with every lane's threads (one short request is not held
        to one core). An alignment always runs alone."""
        items, alone = self._take()
        solo = alone or (self.workers > 1 and not self.has_work() and self._others_gone())
        batch = Batch(items, solo)
        self.solo = solo
        self.running[worker] = batch
        return batch

    def finish(self, worker: int) -> None:
        """`worker`'s call is over (answered, failed or stopped)."""
        batch = self.running.pop(worker, None)
        if batch is not None and batch.solo:
            self.solo = False

    def _others_gone(self) -> bool:
        """No other call in flight, or only calls whose every request is gone (they stop within a step)."""
        return all(batch.gone() for batch in self.running.values())

    def _take(self) -> tuple[list[Item], bool]:
        """The next call's items, and whether they were cut to run alone (an alignment always is)."""
        queue = self._head()
        # Alignment work first within its priority: it is the last step before a caller's blocks are
        # delivered (a stream's first paragraph waits on it), and it is one short call of its own.
        aligning = next((at for at, item in enumerate(queue) if item.request.pairs is not None), None)
        if aligning is not None:
            return [queue.pop(aligning)], True
        head = queue[0]
        alone = False
        if not self.batching:  # one request at a time, as a plain engine lock would do
            chosen = [item for item in queue if item.request is head.request]
        else:
            window = self.budget.max_sentences * LOOKAHEAD
            pool = [
                item for item in queue if item.request.options == head.request.options and item.request.pairs is None
            ]
            # Reading order matters only when some caller split its work into ordered groups
            # (a streamed article); otherwise arrival order.
            ordered = any(item.request.key[1] for item in pool)
            if ordered:
                pool.sort(key=lambda item: item.request.key)
            first = self._first_group(pool) if ordered else None
            if first is not None:
                chosen, alone = first
            else:
                pool = pool[:window]
                if not ordered and len(pool) == self.pending and self._alone(pool):
                    chosen, alone = pool, True  # all that waits, one call on every thread
                elif ordered or self._fits_idle(pool):
                    # A stream's later groups are cut by length like any other work (reading order would
                    # mix lengths, and on a CPU a short row waits for the long ones of its call); only
                    # the first group goes in reading order. Work that gives every idle lane a call now is
                    # cut so that the calls end together.
                    chosen = self._balanced(pool)
                else:
                    picked = next_batch(
                        [i.text for i in pool], [i.tokens for i in pool], self.budget.max_tokens, self._share(len(pool))
                    )
                    chosen = [pool[i] for i in picked]
        taken = {id(item) for item in chosen}
        queue[:] = [item for item in queue if id(item) not in taken]
        return chosen, alone

    def _alone(self, items: list[Item]) -> bool:
        """`items` make one small call and every worker is idle: one call alone on every lane's threads
        is sooner than the same work split over the lanes (`SMALL_CALL_ROWS`)."""
        if self.workers < 2 or self.running:
            return False
        tokens = _distinct(items)
        rows = len(tokens) * self._beams(items)
        padded = len(tokens) * max(tokens.values())
        return rows <= SMALL_CALL_ROWS and padded <= self.budget.max_tokens

    def _first_group(self, pool: list[Item]) -> tuple[list[Item], bool] | None:
        """A streamed article's first group (the first block the reader waits for), when it is the
        most urgent work, and whether it runs alone; nothing of later groups beside it. A small group
        on idle lanes is one call on every thread (`_alone`: sooner, and it leaves no lane's time
        idle); a larger one, or one arriving while a call runs, is shared out in length order over
        the idle workers so that its calls end together and soon. None for any other group."""
        urgent = pool[0].request.key
        if urgent[1] != 0 or not any(item.request.key[0] == urgent[0] and item.request.key[1] for item in pool):
            return None
        group = [item for item in pool if item.request.key == urgent]
        if self._alone(group):
            return group, True
        tokens = _distinct(group)
        ranked = sorted(tokens, key=lambda text: -tokens[text])
        idle = max(1, self.workers - len(self.running))
        fits = min(self.budget.max_sentences, max(1, self.budget.max_tokens // max(1, tokens[ranked[0]])))
        wanted = set(ranked[: max(1, min(fits, math.ceil(len(ranked) / idle)))])
        return [item for item in group if item.text in wanted], False

    def _balanced(self, pool: list[Item]) -> list[Item]:
        """The longest sentences of `pool`, as many as make the calls end together on every lane
        (`balanced_cut`: the call's cost against the rest's on the other lanes, after what they still
        run, each call in flight counted whole)."""
        tokens = _distinct(pool)
        texts = sorted(tokens, key=lambda text: -tokens[text])
        lengths = [tokens[text] for text in texts]
        most = len(plan_batches(lengths, self.budget.max_tokens, self.budget.max_sentences)[0])
        busy = sum(self._cost(batch) for batch in self.running.values())
        wanted = set(texts[: balanced_cut(lengths, self._beams(pool), busy, self.workers, most)])
        return [item for item in pool if item.text in wanted]

    def _beams(self, items: Sequence[Item]) -> int:
        return items[0].request.options.num_beams or self.beams

    def _cost(self, batch: Batch) -> float:
        tokens = _distinct(batch.items)
        return call_cost(max(tokens.values()), len(tokens), self._beams(batch.items))

    def _fits_idle(self, pool: list[Item]) -> bool:
        """Two or more workers are idle and `pool` fits in one call each: nothing waits behind it,
        so it may be cut longest first for an even end rather than most urgent first."""
        idle = self.workers - len(self.running)
        if idle < 2:
            return False
        tokens = list(_distinct(pool).values())
        return len(plan_batches(tokens, self.budget.max_tokens, self.budget.max_sentences)) <= idle

    def _share(self, waiting: int) -> int:
        """The most sentences one call takes: the budget, or an even share of what waits when other
        workers are idle (so one article keeps every lane busy, not one lane full)."""
        idle = self.workers - len(self.running)
        if idle <= 1:
            return self.budget.max_sentences
        return max(1, min(self.budget.max_sentences, math.ceil(waiting / idle)))

    def complete(self, batch: Batch, outputs: Sequence[Translation]) -> None:
        """Each output (one per `batch.texts()`, in order) to every item that asked for its text; a
        request whose every item is back is resolved. A request already gone keeps nothing."""
        by_text = dict(zip(batch.texts(), outputs, strict=True))
        for item in batch.items:
            request = item.request
            if request.gone:  # failed earlier: its other sentences are dropped with it
                continue
            request.results[item.index] = by_text[item.text]
            request.remaining -= 1
            if request.remaining == 0:
                try:
                    translations = all_translated(request.results)
                except RuntimeError as error:  # a batching bug: the request fails rather than lose a sentence
                    self.fail(request, error)
                    continue
                request.future.set_result(translations)

    def aligned(self, batch: Batch, alignments: list[Alignment]) -> None:
        """An alignment call's result to its request."""
        request = batch.items[0].request
        if not request.gone:
            request.future.set_result(alignments)

    def fail(self, request: Work, error: BaseException) -> None:
        """`request` fails with `error`; its items still waiting leave the queue."""
        self.withdraw(request)
        if not request.gone:
            request.future.set_exception(error)

    def withdraw(self, request: Work) -> None:
        for queue in self.queues.values():
            queue[:] = [item for item in queue if item.request is not request]

    def drain(self) -> list[Work]:
        """Every waiting request, the queue emptied (shutting down)."""
        waiting = list({id(i.request): i.request for q in self.queues.values() for i in q}.values())
        for queue in self.queues.values():
            queue.clear()
        return waiting


def _distinct(items: Sequence[Item]) -> dict[str, int]:
    """Each distinct text of `items` with its length in tokens (a text is sent once, whoever asked)."""
    return {item.text: item.tokens for item in items}
