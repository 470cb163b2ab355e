"""Streaming pieces without HTTP: block groups, the reading-order batch policy, `DocumentStream`, cancelling."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from models.batching import next_batch
from models.engine import Engine, GenerationOptions
from models.parse import parse
from models.pipeline import DocumentStream, DocumentTooLarge, group_blocks, translate_document
from models.repair import Fidelity
from models.request import TranslationRequest
from service.scheduler import Cancelled, CancelToken, Scheduler
from service.translation import streamed_blocks, submit_stream
from tests.support.fakes import FakeEngine, GatedEngine

WAIT = 10


def test_groups_start_small_and_double() -> None:
    assert group_blocks([1, 1, 1, 1, 1, 1, 1, 1]) == [range(0, 1), range(1, 3), range(3, 7), range(7, 8)]
    assert group_blocks([0, 0, 3, 2]) == [range(0, 3), range(3, 4)]  # kept blocks ride with the next
    assert group_blocks([]) == []
    groups = group_blocks([1] * 10_000, max_groups=5)
    assert len(groups) == 5 and groups[-1].stop == 10_000
    assert [i for g in groups for i in g] == list(range(10_000))


def test_next_batch_is_the_length_sorted_batch_holding_the_most_urgent_text_with_every_copy() -> None:
    texts, lengths = ["a", "b b b b", "c c", "b b b b", "d d d"], [1, 4, 2, 4, 3]
    assert next_batch(texts, lengths, 100, 8) == [0, 1, 2, 3, 4]
    assert next_batch(texts, lengths, 100, 2) == [0, 2]  # [b, d] then [c, a]: the one holding "a"
    assert next_batch(texts, lengths, 100, 1) == [0]
    assert next_batch(texts[1:], lengths[1:], 100, 1) == [0, 2]  # "b b b b" once, both copies answered


def _same_as_whole(stream: DocumentStream, blocks: tuple[object, ...], full: object) -> None:
    assert blocks == full.blocks  # type: ignore[attr-defined]
    stats = stream.stats
    assert (stats.blocks, stats.sentences, stats.source_tokens, stats.output_tokens) == (
        full.stats.blocks,  # type: ignore[attr-defined]
        full.stats.sentences,  # type: ignore[attr-defined]
        full.stats.source_tokens,  # type: ignore[attr-defined]
        full.stats.output_tokens,  # type: ignore[attr-defined]
    )


def test_document_stream_gives_the_blocks_translate_document_gives(article_text: str) -> None:
    document = parse(article_text, "auto")
    full = translate_document(document, FakeEngine(), fidelity=Fidelity.repairing())
    stream = DocumentStream(TranslationRequest(document, fidelity=Fidelity.repairing()), FakeEngine())
    assert stream.sentences == full.stats.sentences
    _same_as_whole(stream, tuple(stream), full)


class KeyedScheduler(Scheduler):
    """Records the reading-order key each submission carries and how many threads were waiting."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, max_wait=0.0)
        self.keys: list[tuple[int, int]] = []
        self.submissions = 0

    def submit_groups(self, groups, options, priority, first):  # type: ignore[no-untyped-def]
        self.submissions += 1
        self.keys += [(first[0], first[1] + offset) for offset in range(len(groups))]
        return super().submit_groups(groups, options, priority, first)


def test_the_scheduled_stream_submits_every_group_at_once_and_gives_the_same_blocks(article_text: str) -> None:
    """The service's stream: every group queued on the scheduler in one go, each at its reading-order
    place (no thread per group, no shared pool), repairs and assembly per group: the blocks
    `translate_document` gives."""
    document = parse(article_text, "auto")
    full = translate_document(document, FakeEngine(), fidelity=Fidelity.repairing())
    engine = GatedEngine()
    scheduler = KeyedScheduler(engine)
    scheduler.start()
    try:
        lane = scheduler.lane("interactive", None, CancelToken())
        stream = DocumentStream(TranslationRequest(document, fidelity=Fidelity.repairing()), lane)
        threads = threading.active_count()
        futures = submit_stream(stream, lane)  # returns at once: the engine holds every call
        assert len(futures) == len(stream.groups) > 1 and not any(future.done() for future in futures)
        assert threading.active_count() == threads  # nothing waits in a thread of its own
        assert scheduler.keys == [(lane.number, group) for group in range(len(stream.groups))]
        assert scheduler.submissions == 1  # under one lock: no call is cut from some of the groups only
        engine.release.set()
        blocks = tuple(block for i, f in enumerate(futures) for block in stream.blocks(i, f.result(WAIT)))
        _same_as_whole(stream, blocks, full)
        again = DocumentStream(TranslationRequest(document, fidelity=Fidelity.repairing()), scheduler.lane())
        _same_as_whole(again, tuple(streamed_blocks(again, scheduler.lane(cancel=CancelToken()))), full)
    finally:
        engine.release.set()
        scheduler.close(timeout=WAIT)


def test_document_stream_refuses_too_many_sentences_before_translating() -> None:
    engine = FakeEngine()
    with pytest.raises(DocumentTooLarge):
        DocumentStream(TranslationRequest(parse("Un. Deux. Trois.", "text"), max_sentences=2), engine)
    assert engine.calls == []


def test_cancel_token_withdraws_waiting_sentences_and_lets_the_batch_in_flight_finish() -> None:
    engine = GatedEngine()
    scheduler = Scheduler(engine, max_wait=0.0)
    scheduler.start()
    try:
        busy = scheduler.submit(["en vol."])
        assert engine.entered.wait(WAIT)
        token = CancelToken()
        lane = scheduler.lane("interactive", None, token)
        errors: list[BaseException] = []

        def run() -> None:
            try:
                lane.translate([f"Phrase {i}." for i in range(30)])
            except BaseException as error:
                errors.append(error)

        thread = threading.Thread(target=run)
        thread.start()
        while scheduler.pending < 30:
            thread.join(0.01)
        token.cancel()
        thread.join(WAIT)
        assert scheduler.pending == 0
        assert len(errors) == 1 and isinstance(errors[0], Cancelled)
        engine.release.set()
        assert busy.result(WAIT)[0].text == "EN<en vol.>"  # the sentence in flight finished
        with pytest.raises(Cancelled):  # a cancelled token refuses new work at once
            lane.translate(["Encore."])
        assert engine.calls == [["en vol."]]
    finally:
        engine.release.set()
        scheduler.close(timeout=WAIT)


@contextmanager
def busy_scheduler() -> Iterator[tuple[GatedEngine, Scheduler]]:
    """A scheduler whose engine is busy with one call, held until the test releases it: the work the
    test queues meanwhile waits, then goes in the order the scheduler chooses."""
    engine = GatedEngine()
    scheduler = Scheduler(engine, max_wait=0.0)
    scheduler.start()
    try:
        scheduler.submit(["occupé."])
        assert engine.entered.wait(WAIT)
        yield engine, scheduler
    finally:
        engine.release.set()
        scheduler.close(timeout=WAIT)


def test_a_lanes_earlier_group_is_served_first() -> None:
    with busy_scheduler() as (engine, scheduler):
        lane = scheduler.lane()
        groups = [["Groupe un."], ["Le groupe deux, bien plus long que le premier."], ["Groupe trois."]]
        futures = lane.submit(groups, GenerationOptions())
        while scheduler.pending < 3:
            threading.Event().wait(0.01)
        engine.release.set()
        assert all(future.result(WAIT) for future in futures)
        assert engine.calls[1] == ["Groupe un."]  # the first group alone, then the others
        assert sorted(text for call in engine.calls[2:] for text in call) == sorted(groups[1] + groups[2])
        assert (lane.progress.asked, lane.progress.answered) == (3, 3)


def test_a_cancelled_stream_withdraws_every_group_still_waiting(article_text: str) -> None:
    with busy_scheduler() as (engine, scheduler):
        token = CancelToken()
        lane = scheduler.lane("interactive", None, token)
        stream = DocumentStream(TranslationRequest(parse(article_text, "auto")), lane)
        futures = submit_stream(stream, lane)
        assert scheduler.pending > 0
        token.cancel()
        assert scheduler.pending == 0
        for future in futures:
            with pytest.raises(Cancelled):
                future.result(WAIT)
        engine.release.set()
        with pytest.raises(Cancelled):  # a cancelled lane refuses new work at once
            lane.submit([["Encore."]], GenerationOptions())


def test_a_short_first_block_goes_in_the_first_call_without_the_long_paragraphs_after_it() -> None:
    """The first screenful first: the stream's first group (its first block alone) is in the first
    engine call after the queue fills, and that call is not the whole article."""
    with busy_scheduler() as (engine, scheduler):
        long = " ".join(f"La phrase numéro {n} du long paragraphe continue avec beaucoup de mots." for n in range(4))
        text = "\n\n".join(["Le maire a parlé.", *(f"{long} Paragraphe {p}." for p in range(8))])
        lane = scheduler.lane("interactive", None, CancelToken())
        stream = DocumentStream(TranslationRequest(parse(text, "text")), lane)
        futures = submit_stream(stream, lane)
        total = sum(len(texts) for texts in stream.work())
        while scheduler.pending < total:
            threading.Event().wait(0.01)
        engine.release.set()
        for future in futures:
            future.result(WAIT)
        first_call = engine.calls[1]
        assert "Le maire a parlé." in first_call and len(first_call) < total
        assert all("Paragraphe 7." not in text for text in first_call)  # the last group comes later


def test_a_streams_small_first_group_is_one_call_alone_on_every_thread() -> None:
    """The block the reader waits for first, when it is a small call and both lanes are idle: one
    call on every lane's threads (sooner than two one-thread calls), nothing of a later group beside
    it, and the other worker waits until it is over."""
    from concurrent.futures import Future

    from models.engine import BatchBudget
    from service.queueing import Item, SchedulerState, Work

    state = SchedulerState(BatchBudget(max_tokens=1000, max_sentences=16), workers=2, beams=4)
    first = Work(GenerationOptions(), Future(), [None] * 4, 4, (1, 0))
    later = Work(GenerationOptions(), Future(), [None] * 6, 6, (1, 1))
    state.add("interactive", [Item(first, i, f"premier {i}", n) for i, n in enumerate([9, 4, 7, 5])])
    state.add("interactive", [Item(later, i, f"suite {i}", 6) for i in range(6)])

    call = state.next_batch(worker=1)
    assert sorted(i.text for i in call.items) == ["premier 0", "premier 1", "premier 2", "premier 3"]
    assert call.solo and call.control().alone
    assert not state.can_start()  # the other worker waits for it
    state.finish(1)
    assert state.can_start()
    assert {i.request.key for i in state.next_batch(worker=1).items} == {(1, 1)}  # then the rest


def test_a_streams_first_group_is_shared_over_idle_workers_when_it_is_not_small() -> None:
    """A first group that is not a small call (4 sentences at 8 beams: 32 decoder rows): both
    lanes work on it at once, in length order, and no sentence of a later group makes its calls
    longer; the later groups come after."""
    from concurrent.futures import Future

    from models.engine import BatchBudget
    from service.queueing import Item, SchedulerState, Work

    state = SchedulerState(BatchBudget(max_tokens=1000, max_sentences=16), workers=2, beams=8)
    first = Work(GenerationOptions(), Future(), [None] * 4, 4, (1, 0))
    later = Work(GenerationOptions(), Future(), [None] * 6, 6, (1, 1))
    state.add("interactive", [Item(first, i, f"premier {i}", n) for i, n in enumerate([9, 4, 7, 5])])
    state.add("interactive", [Item(later, i, f"suite {i}", 6) for i in range(6)])

    one, two = state.next_batch(worker=1), state.next_batch(worker=2)
    assert not one.solo and not two.solo
    assert [i.text for i in one.items] == ["premier 0", "premier 2"]  # the two longest
    assert [i.text for i in two.items] == ["premier 1", "premier 3"]
    state.finish(1)
    assert {i.request.key for i in state.next_batch(worker=1).items} == {(1, 1)}  # then the rest


def test_a_streams_later_groups_are_cut_by_length_so_that_both_lanes_end_together() -> None:
    """After the first group, reading order no longer cuts the calls (it would mix lengths): a worker
    takes the longest sentences waiting, as many as make its call and the rest end together, by
    `call_cost` (steps of the longest sentence × (rows + a step's fixed cost)), counting the call
    the other worker still runs."""
    from concurrent.futures import Future

    from models.batching import call_cost
    from models.engine import BatchBudget
    from service.queueing import Item, SchedulerState, Work

    state = SchedulerState(BatchBudget(max_tokens=1000, max_sentences=16), workers=2, beams=4)
    second = Work(GenerationOptions(), Future(), [None] * 3, 3, (1, 1))
    third = Work(GenerationOptions(), Future(), [None] * 5, 5, (1, 2))
    state.add("interactive", [Item(second, i, f"suite {i}", n) for i, n in enumerate([3, 9, 5])])
    state.add("interactive", [Item(third, i, f"fin {i}", n) for i, n in enumerate([8, 2, 6, 4, 7])])
    # lengths 9 8 7 | 6 5 4 3 2: 3 sentences of up to 9 tokens against 5 of up to 6 (the nearest pair)
    assert max(call_cost(9, 3, 4), call_cost(6, 5, 4)) < min(
        max(call_cost(9, 2, 4), call_cost(7, 6, 4)), max(call_cost(9, 4, 4), call_cost(5, 4, 4))
    )
    taken = state.next_batch(worker=1)
    assert sorted(i.text for i in taken.items) == ["fin 0", "fin 4", "suite 1"]
    # worker 1's call still runs: the other lane takes all the rest (one call of 5 ends before it)
    rest = state.next_batch(worker=2)
    assert sorted(i.text for i in rest.items) == ["fin 1", "fin 2", "fin 3", "suite 0", "suite 2"]


def test_a_plain_request_on_idle_lanes_gives_the_long_sentences_fewer_rows() -> None:
    """One article over two idle lanes: not half the sentences each (the long half would end last)
    but the cut whose two calls end nearest together."""
    from concurrent.futures import Future

    from models.batching import call_cost
    from models.engine import BatchBudget
    from service.queueing import Item, SchedulerState, Work

    state = SchedulerState(BatchBudget(max_tokens=4096, max_sentences=64), workers=2, beams=4)
    article = Work(GenerationOptions(), Future(), [None] * 16, 16, (1, 0))
    lengths = [10] * 6 + [40] * 4 + [10] * 6
    state.add("interactive", [Item(article, i, f"phrase {i}", n) for i, n in enumerate(lengths)])
    one, two = state.next_batch(worker=1), state.next_batch(worker=2)
    assert [i.tokens for i in one.items] == [40] * 4 and [i.tokens for i in two.items] == [10] * 12
    assert call_cost(40, 4, 4) / call_cost(10, 12, 4) < call_cost(40, 8, 4) / call_cost(10, 8, 4)
