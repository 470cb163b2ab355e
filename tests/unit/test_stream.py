"""Streaming pieces without HTTP: block groups, the reading-order batch policy, `DocumentStream`, cancelling."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from models.batching import next_batch, plan_batches
from models.document import Translation
from models.engine import Engine, GenerationOptions
from models.parse import parse
from models.pipeline import DocumentStream, DocumentTooLarge, group_blocks, translate_document
from models.repair import Fidelity
from models.request import TranslationRequest
from service.scheduler import Cancelled, CancelToken, Scheduler
from tests.support.fakes import FakeEngine, GatedEngine

WAIT = 10


def test_groups_start_small_and_double() -> None:
    assert group_blocks([1, 1, 1, 1, 1, 1, 1, 1]) == [range(0, 1), range(1, 3), range(3, 7), range(7, 8)]
    assert group_blocks([0, 0, 3, 2]) == [range(0, 3), range(3, 4)]  # kept blocks ride with the next
    assert group_blocks([]) == []
    groups = group_blocks([1] * 10_000, max_groups=5)
    assert len(groups) == 5 and groups[-1].stop == 10_000
    assert [i for g in groups for i in g] == list(range(10_000))


def test_next_batch_serves_the_most_urgent_key_first() -> None:
    texts = ["late long one here", "a", "b c", "first d e", "e f g", "h i j"]
    lengths = [4, 1, 2, 3, 3, 3]
    keys = [(1, 4), (1, 2), (1, 1), (1, 0), (2, 0), (1, 3)]
    picked = next_batch(texts, lengths, max_tokens=100, max_sentences=3, keys=keys)
    # the group-0 sentence, then the room filled in key order at no wider padding and within the
    # length bucket (≥ 0.6 of the widest): "b c" (group 1) and "h i j" (group 3) ride along; "a"
    # (group 2) is too short for a 3-token row, "e f g" belongs to a later request
    assert [texts[i] for i in picked] == ["b c", "first d e", "h i j"]


def test_an_urgent_group_is_cut_into_length_buckets() -> None:
    texts = ["un deux trois quatre cinq six sept huit neuf dix", "un", "deux mots"]
    lengths = [10, 1, 2]
    picked = next_batch(texts, lengths, max_tokens=100, max_sentences=8, keys=[(1, 0)] * 3)
    assert [texts[i] for i in picked] == [texts[0]]  # the short ones go in their own call, not padded to 10
    assert plan_batches([10, 9, 6, 5, 2, 1], 100, 8, 0.6) == [[0, 1, 2], [3], [4], [5]]
    assert plan_batches([10, 9, 6, 5, 2, 1], 100, 8) == [[0, 1, 2, 3, 4, 5]]


def test_next_batch_with_keys_never_pads_wider_and_keeps_copies() -> None:
    texts = ["x y z w", "x y z w", "short", "mid one"]
    lengths = [4, 4, 1, 2]
    keys = [(1, 1), (1, 1), (1, 0), (1, 1)]
    picked = next_batch(texts, lengths, max_tokens=100, max_sentences=8, keys=keys)
    assert [texts[i] for i in picked] == ["short"]  # nothing longer rides with it
    picked = next_batch(texts, lengths, max_tokens=100, max_sentences=8, keys=[(1, 0)] * 4)
    assert sorted(picked) == [0, 1]  # both copies of the longest; "mid one" and "short" are another bucket


def test_next_batch_without_keys_is_unchanged() -> None:
    texts, lengths = ["a", "b b", "c c c"], [1, 2, 3]
    assert next_batch(texts, lengths, 100, 8) == next_batch(texts, lengths, 100, 8, None) == [0, 1, 2]


class OrderedFake(FakeEngine):
    """A fake with `ordered`: remembers which group asked for which text."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: dict[str, int] = {}
        self._lock = threading.Lock()

    def ordered(self, key: int) -> Engine:
        outer = self

        class View(FakeEngine):
            def translate(
                self, texts: Sequence[str], options: GenerationOptions = GenerationOptions()
            ) -> list[Translation]:
                with outer._lock:
                    outer.keys.update(dict.fromkeys(texts, key))
                return outer.translate(texts, options)

        return View()


@pytest.mark.parametrize("engine", [FakeEngine(), OrderedFake()], ids=["plain", "ordered"])
def test_document_stream_gives_the_blocks_translate_document_gives(engine: FakeEngine, article_text: str) -> None:
    document = parse(article_text, "auto")
    full = translate_document(document, FakeEngine(), fidelity=Fidelity.repairing())
    stream = DocumentStream(TranslationRequest(document, fidelity=Fidelity.repairing()), engine)
    assert stream.sentences == full.stats.sentences
    assert tuple(stream) == full.blocks
    stats = stream.stats
    assert (stats.blocks, stats.sentences, stats.source_tokens, stats.output_tokens) == (
        full.stats.blocks,
        full.stats.sentences,
        full.stats.source_tokens,
        full.stats.output_tokens,
    )
    if isinstance(engine, OrderedFake):
        assert len(set(engine.keys.values())) == len(stream.groups) > 1


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


def test_ordered_lane_serves_earlier_groups_first() -> None:
    engine = GatedEngine()
    scheduler = Scheduler(engine, max_wait=0.0)
    scheduler.start()
    try:
        scheduler.submit(["occupé."])
        assert engine.entered.wait(WAIT)
        lane = scheduler.lane()
        late = scheduler.submit(["Groupe trois."], key=(lane.number, 3))
        early = scheduler.submit(["Groupe un."], key=(lane.number, 1))
        while scheduler.pending < 2:
            threading.Event().wait(0.01)
        scheduler.budget = type(scheduler.budget)(max_tokens=scheduler.budget.max_tokens, max_sentences=1)
        engine.release.set()
        assert early.result(WAIT) and late.result(WAIT)
        assert engine.calls[1:] == [["Groupe un."], ["Groupe trois."]]
    finally:
        engine.release.set()
        scheduler.close(timeout=WAIT)
