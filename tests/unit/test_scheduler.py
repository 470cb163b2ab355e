"""The cross-request scheduler with the fake engine: routing, merging, priority, bounds, failures."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future

import pytest

from models.document import Translation
from models.engine import PLAIN_CALL, BatchBudget, CallControl, GenerationOptions
from models.interrupt import Interrupted
from models.markup import Alignment
from models.parse import parse
from models.pipeline import translate_document
from service.metrics import Metrics
from service.scheduler import Cancelled, CancelToken, DeadlineExceeded, QueueFull, Scheduler, SchedulerClosed
from tests.support.fakes import FakeEngine

WAIT = 10  # seconds; only reached when something is broken


class GatedEngine(FakeEngine):
    """Blocks inside its first `translate` until released, so work can pile up behind it."""

    def __init__(self, fail_on: str | None = None) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail_on = fail_on

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        first = not self.entered.is_set()
        self.entered.set()
        if first:
            assert self.release.wait(WAIT), "the test never released the engine"
        if self.fail_on is not None and any(self.fail_on in text for text in texts):
            self.calls.append(list(texts))
            raise RuntimeError("engine exploded")
        return super().translate(texts, options, control=control)


@pytest.fixture
def gated() -> GatedEngine:
    return GatedEngine()


def make(engine: FakeEngine, **kwargs: object) -> Iterator[Scheduler]:
    scheduler = Scheduler(engine, **kwargs)  # type: ignore[arg-type]
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.close(timeout=WAIT)


@pytest.fixture
def scheduler(gated: GatedEngine) -> Iterator[Scheduler]:
    yield from make(gated, max_wait=0.0)


def _block(scheduler: Scheduler, engine: GatedEngine) -> Future[list[Translation]]:
    """Occupy the worker with a one-sentence request; returns its future."""
    future = scheduler.submit(["Premier."])
    assert engine.entered.wait(WAIT)
    return future


def _texts(result: list[Translation]) -> list[str]:
    return [t.text for t in result]


def test_results_go_back_to_their_own_requests_in_order(scheduler: Scheduler, gated: GatedEngine) -> None:
    first = _block(scheduler, gated)
    requests = {n: [f"Phrase {n} numéro {i} ici." for i in range(n + 1)] for n in range(6)}
    futures = {n: scheduler.submit(texts) for n, texts in requests.items()}
    gated.release.set()
    assert _texts(first.result(WAIT)) == ["EN<Premier.>"]
    for n, texts in requests.items():
        assert _texts(futures[n].result(WAIT)) == [f"EN<{t}>" for t in texts]


def test_concurrent_requests_are_merged_into_one_engine_call(scheduler: Scheduler, gated: GatedEngine) -> None:
    _block(scheduler, gated)
    futures = [scheduler.submit([f"Le client {n} écrit."]) for n in range(8)]
    gated.release.set()
    for future in futures:
        future.result(WAIT)
    assert len(gated.calls) == 2  # the blocking one, then all eight together
    assert sorted(gated.calls[1]) == sorted(f"Le client {n} écrit." for n in range(8))


def test_without_batching_each_request_is_its_own_engine_call(gated: GatedEngine) -> None:
    for scheduler in make(gated, batching=False):
        _block(scheduler, gated)
        futures = [scheduler.submit([f"Le client {n} écrit.", "Et encore."]) for n in range(4)]
        gated.release.set()
        for future in futures:
            future.result(WAIT)
    assert len(gated.calls) == 5
    assert all(len(call) == 2 for call in gated.calls[1:])


def test_batches_respect_the_sentence_budget(gated: GatedEngine) -> None:
    for scheduler in make(gated, budget=BatchBudget(max_tokens=10_000, max_sentences=3), max_wait=0.0):
        _block(scheduler, gated)
        futures = [scheduler.submit([f"Phrase {n}."]) for n in range(7)]
        gated.release.set()
        assert [_texts(f.result(WAIT)) for f in futures] == [[f"EN<Phrase {n}.>"] for n in range(7)]
    assert [len(call) for call in gated.calls[1:]] == [3, 3, 1]


def test_interactive_work_goes_before_batch_work(scheduler: Scheduler, gated: GatedEngine) -> None:
    _block(scheduler, gated)
    batch = scheduler.submit(["Archive un.", "Archive deux."], priority="batch")
    interactive = scheduler.submit(["Lecteur pressé."], priority="interactive")
    gated.release.set()
    interactive.result(WAIT)
    batch.result(WAIT)
    assert gated.calls[1] == ["Lecteur pressé."]
    assert sorted(gated.calls[2]) == ["Archive deux.", "Archive un."]


def test_same_sentence_from_two_requests_is_translated_once(scheduler: Scheduler, gated: GatedEngine) -> None:
    _block(scheduler, gated)
    a = scheduler.submit(["Bonjour.", "Il pleut."])
    b = scheduler.submit(["Il pleut."])
    gated.release.set()
    assert _texts(a.result(WAIT)) == ["EN<Bonjour.>", "EN<Il pleut.>"]
    assert _texts(b.result(WAIT)) == ["EN<Il pleut.>"]
    assert sorted(gated.calls[1]) == ["Bonjour.", "Il pleut."]


def test_full_queue_refuses_interactive_work_with_a_retry_delay(gated: GatedEngine) -> None:
    metrics = Metrics()
    for scheduler in make(gated, max_queue=3, metrics=metrics):
        _block(scheduler, gated)
        queued = scheduler.submit(["Un.", "Deux."])
        with pytest.raises(QueueFull) as refused:
            scheduler.submit(["Trois.", "Quatre."])
        assert refused.value.retry_after >= 1
        assert scheduler.pending == 2  # the refused request left nothing behind
        gated.release.set()
        assert _texts(queued.result(WAIT)) == ["EN<Un.>", "EN<Deux.>"]
    assert metrics.rejected._value.get() == 1


def test_full_queue_makes_batch_work_wait_for_room(gated: GatedEngine) -> None:
    for scheduler in make(gated, max_queue=2):
        _block(scheduler, gated)
        scheduler.submit(["Un.", "Deux."])
        done: list[list[Translation]] = []
        waiter = threading.Thread(
            target=lambda d=done, s=scheduler: d.append(s.translate(["Trois."], priority="batch"))
        )
        waiter.start()
        waiter.join(0.2)
        assert waiter.is_alive() and scheduler.pending == 2  # waiting, not failed, not queued
        gated.release.set()
        waiter.join(WAIT)
        assert [_texts(d) for d in done] == [["EN<Trois.>"]]


def test_an_engine_error_fails_only_its_own_request() -> None:
    engine = GatedEngine(fail_on="BOOM")
    for scheduler in make(engine, max_wait=0.0):
        _block(scheduler, engine)
        healthy = scheduler.submit(["Tout va bien.", "Vraiment."])
        broken = scheduler.submit(["Ceci fait BOOM.", "Innocente."])
        other = scheduler.submit(["Encore une."])
        engine.release.set()
        with pytest.raises(RuntimeError, match="engine exploded"):
            broken.result(WAIT)
        assert _texts(healthy.result(WAIT)) == ["EN<Tout va bien.>", "EN<Vraiment.>"]
        assert _texts(other.result(WAIT)) == ["EN<Encore une.>"]
        # the worker survives: later work still runs
        assert _texts(scheduler.translate(["Après."])) == ["EN<Après.>"]


def test_close_refuses_waiting_and_new_work(gated: GatedEngine) -> None:
    scheduler = Scheduler(gated, max_wait=0.0)
    scheduler.start()
    running = _block(scheduler, gated)
    waiting = scheduler.submit(["En attente."])
    closer = threading.Thread(target=scheduler.close)
    closer.start()
    gated.release.set()
    closer.join(WAIT)
    assert _texts(running.result(WAIT)) == ["EN<Premier.>"]  # the batch in flight finishes
    with pytest.raises(SchedulerClosed):
        waiting.result(WAIT)
    with pytest.raises(SchedulerClosed):
        scheduler.submit(["Trop tard."])


def test_metrics_record_batch_sizes_and_queue_depth(gated: GatedEngine) -> None:
    metrics = Metrics()
    for scheduler in make(gated, metrics=metrics, max_wait=0.0):
        _block(scheduler, gated)
        futures = [scheduler.submit([f"Client {n}.", f"Autre {n}."]) for n in range(3)]
        assert metrics.queue_sentences.labels(priority="interactive")._value.get() == 6
        gated.release.set()
        for future in futures:
            future.result(WAIT)
    assert metrics.batch_sentences._sum.get() == 7  # 1 + 6 sentences in two engine calls
    assert metrics.batch_requests._sum.get() == 4  # 1 + 3 requests
    assert metrics.output_tokens._value.get() > 0
    assert metrics.queue_sentences.labels(priority="interactive")._value.get() == 0


def test_empty_input_needs_no_engine(scheduler: Scheduler, gated: GatedEngine) -> None:
    assert scheduler.translate([]) == []
    assert gated.calls == []


class SlowAligner(FakeEngine):
    """Aligns only once released, polling the stop check as an engine does between its batches."""

    def __init__(self) -> None:
        super().__init__()
        self.aligning = threading.Event()
        self.release = threading.Event()
        self.stopped = threading.Event()
        self.aligned: list[int] = []

    def align(
        self, sources: Sequence[str], targets: Sequence[str], *, control: CallControl = PLAIN_CALL
    ) -> list[Alignment]:
        self.aligning.set()
        while not self.release.wait(0.01):
            if control.stopped():
                self.stopped.set()
                raise Interrupted("gone")
        self.aligned.append(len(sources))
        return super().align(sources, targets, control=control)


def test_alignment_is_scheduler_work_counted_in_its_metrics() -> None:
    """Placing markup aligns each sentence with markup: one call through the scheduler, in its metrics."""
    engine = SlowAligner()
    engine.release.set()
    metrics = Metrics()
    for scheduler in make(engine, max_wait=0.0, metrics=metrics):
        document = parse("Le **conseil** a voté. Il [pleut](https://example.org/) ce soir. Rien ici.", "markdown")
        result = translate_document(document, scheduler.lane("interactive"))
        assert "**" in result.blocks[0].en and "](https://example.org/)" in result.blocks[0].en
    assert engine.aligned == [2]  # the two sentences with markup, in one call
    assert metrics.align_calls._value.get() == 1 and metrics.align_pairs._value.get() == 2


def test_an_alignment_stops_when_its_request_is_cancelled_and_past_its_deadline() -> None:
    engine = SlowAligner()
    for scheduler in make(engine, max_wait=0.0):
        token = CancelToken()
        lane = scheduler.lane("interactive", cancel=token)
        failed: list[BaseException] = []
        caller = threading.Thread(target=_catch, args=(failed, lane.align, ["Le chat."], ["The cat."]))
        caller.start()
        assert engine.aligning.wait(WAIT)
        token.cancel()
        caller.join(WAIT)
        assert isinstance(failed[0], Cancelled)
        assert engine.stopped.wait(WAIT)  # the engine call itself stopped, not only its caller
        engine.aligning.clear()
        engine.stopped.clear()
        late = scheduler.lane("interactive", deadline=time.monotonic() + 0.2)
        with pytest.raises(DeadlineExceeded):
            late.align(["Le chien."], ["The dog."])
        assert engine.stopped.wait(WAIT)
        engine.release.set()
        assert scheduler.lane("interactive").align(["Le chat."], ["The cat."]) != []  # the scheduler goes on


def _catch(into: list[BaseException], call: Callable[..., object], *args: object) -> None:
    try:
        call(*args)
    except BaseException as error:  # noqa: BLE001 - the test looks at what was raised
        into.append(error)


def test_an_alignment_goes_before_the_generation_waiting_at_its_priority(gated: GatedEngine) -> None:
    """A stream's block waits on its alignment: it must not queue behind the rest of the article."""
    order: list[str] = []

    class Recording(GatedEngine):
        def translate(
            self,
            texts: Sequence[str],
            options: GenerationOptions = GenerationOptions(),
            *,
            control: CallControl = PLAIN_CALL,
        ) -> list[Translation]:
            order.append("generate")
            return super().translate(texts, options, control=control)

        def align(
            self, sources: Sequence[str], targets: Sequence[str], *, control: CallControl = PLAIN_CALL
        ) -> list[Alignment]:
            order.append("align")
            return super().align(sources, targets, control=control)

    engine = Recording()
    for scheduler in make(engine, max_wait=0.0):
        blocked = _block(scheduler, engine)
        waiting = scheduler.submit(["Un.", "Deux."])  # the rest of the article, queued first
        aligned: list[list[Alignment]] = []
        caller = threading.Thread(target=_align_into, args=(aligned, scheduler))
        caller.start()
        while scheduler.pending < 3:  # both queued behind the blocked call
            time.sleep(0.01)
        engine.release.set()
        caller.join(WAIT)
        waiting.result(WAIT)
        blocked.result(WAIT)
    assert order == ["generate", "align", "generate"] and aligned and aligned[0]


def _align_into(into: list[list[Alignment]], scheduler: Scheduler) -> None:
    into.append(scheduler.align(["Le chat."], ["The cat."]))


def test_the_scheduler_state_cuts_batches_and_routes_outputs_without_threads() -> None:
    """`SchedulerState` alone (no worker, no lock): interactive work is cut first, an alignment alone,
    and `complete` resolves a request only once every one of its items is back."""
    from service.queueing import Item, SchedulerState, Work

    state = SchedulerState(BatchBudget(max_tokens=1000, max_sentences=2), workers=1)
    batch_work = Work(GenerationOptions(), Future(), [None, None], 2)
    reader = Work(GenerationOptions(), Future(), [None, None, None], 3, (1, 0))
    aligning = Work(GenerationOptions(), Future(), [], 1, (2, 0), (("Bonjour.", "Hello."),))
    state.add("batch", [Item(batch_work, 0, "Archive un.", 3), Item(batch_work, 1, "Archive deux.", 3)])
    state.add("interactive", [Item(reader, i, f"Phrase {i}.", 3) for i in range(3)])
    assert state.pending == 5 and state.can_start()

    first = state.next_batch(worker=1)
    assert [item.request for item in first.items] == [reader, reader] and not first.aligning
    state.add("interactive", [Item(aligning, 0, "", 2)])
    state.finish(1)
    alignment = state.next_batch(worker=1)  # goes before the generation waiting at its priority
    assert alignment.aligning and alignment.solo and not state.can_start()  # alone: nothing beside it
    state.finish(1)

    state.complete(first, [Translation(f"EN<{text}>", 3, 3) for text in first.texts()])
    assert not reader.future.done() and reader.remaining == 1
    second = state.next_batch(worker=1)
    assert [item.request for item in second.items] == [reader]
    state.finish(1)
    state.complete(second, [Translation("EN<Phrase 2.>", 3, 3)])
    assert [t.text for t in reader.future.result(0)] == ["EN<Phrase 0.>", "EN<Phrase 1.>", "EN<Phrase 2.>"]

    state.fail(batch_work, RuntimeError("gone"))  # its waiting items leave with it
    assert state.pending == 0 and isinstance(batch_work.future.exception(0), RuntimeError)


def test_a_small_request_on_idle_workers_is_one_call_alone_and_a_larger_one_is_shared() -> None:
    """A small call (at most `SMALL_CALL_ROWS` decoder rows) cut while every worker is idle runs alone
    on every lane's threads, sooner than two one-thread halves; a larger request, or one arriving
    while a call runs, is shared out over the idle workers as before."""
    from service.queueing import Item, SchedulerState, Work

    def request(count: int, number: int) -> Work:
        return Work(GenerationOptions(), Future(), [None] * count, count, (number, 0))

    state = SchedulerState(BatchBudget(max_tokens=1000, max_sentences=64), workers=2, beams=4)
    small = request(6, 1)  # 6 sentences x 4 beams = 24 rows
    state.add("interactive", [Item(small, i, f"Petite {i}.", 5) for i in range(6)])
    call = state.next_batch(worker=1)
    assert len(call.items) == 6 and call.solo and not state.can_start()
    state.finish(1)

    large = request(7, 2)  # 28 rows: shared, neither part alone
    state.add("interactive", [Item(large, i, f"Grande {i}.", 5) for i in range(7)])
    one, two = state.next_batch(worker=1), state.next_batch(worker=2)
    assert (len(one.items), len(two.items)) == (3, 4) and not one.solo and not two.solo
    state.finish(2)

    busy = request(2, 3)  # worker 1 still runs: not alone, whatever its size
    state.add("interactive", [Item(busy, i, f"Occupée {i}.", 5) for i in range(2)])
    assert not state.next_batch(worker=2).solo

    greedy = Work(GenerationOptions(num_beams=1), Future(), [None] * 20, 20, (4, 0))  # its own beams count
    state.finish(1), state.finish(2)
    state.add("interactive", [Item(greedy, i, f"Vorace {i}.", 5) for i in range(20)])
    assert state.next_batch(worker=1).solo
