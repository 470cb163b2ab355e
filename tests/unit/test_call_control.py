"""A call's control travels with the work: the stop check and the lone-call flag are arguments of the
engine call (`models.engine.CallControl`), passed on by every wrapper and built by the scheduler from
its batch, never read from the calling thread's context."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from models.cache import CachedEngine, MemoryLRU
from models.document import Translation
from models.engine import PLAIN_CALL, BatchBudget, CallControl, DelegatingEngine, EngineTraits, GenerationOptions
from models.interrupt import Interrupted, stop_when
from models.markup import Alignment
from service.jobs.progress import Reporting
from service.scheduler import Cancelled, CancelToken, Scheduler
from tests.support.fakes import FakeEngine

WAIT = 10  # seconds; only reached when something is broken


class Controlled(FakeEngine):
    """Records the control of every call; each call takes `seconds`; with `hold`, a call waits until
    its control says stop."""

    def __init__(self, lanes: int = 1, hold: bool = False, seconds: float = 0.0) -> None:
        super().__init__()
        self.lanes, self.hold, self.seconds = lanes, hold, seconds
        self.controls: list[CallControl] = []
        self.aligned: list[CallControl] = []
        self.stopped_on_entry: list[bool] = []
        self.entered = threading.Event()

    @property
    def traits(self) -> EngineTraits:
        return EngineTraits(window=self.window, lanes=self.lanes, can_interrupt=True)

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        self.controls.append(control)
        self.stopped_on_entry.append(control.stopped())
        self.entered.set()
        if self.hold:
            give_up = time.monotonic() + WAIT
            while not control.stopped():
                assert time.monotonic() < give_up, "the call's stop check never said stop"
                time.sleep(0.005)
            raise Interrupted("gone")
        time.sleep(self.seconds)
        return super().translate(texts, options, control=control)

    def align(
        self, sources: Sequence[str], targets: Sequence[str], *, control: CallControl = PLAIN_CALL
    ) -> list[Alignment]:
        self.aligned.append(control)
        self.stopped_on_entry.append(control.stopped())
        return super().align(sources, targets, control=control)


# --- wrappers pass it on --------------------------------------------------------------------------


@pytest.mark.parametrize("wrapper", ["delegating", "cache", "progress"])
def test_every_wrapper_passes_the_call_control_on_unchanged(wrapper: str) -> None:
    inner = Controlled()
    wrapped = {
        "delegating": lambda: DelegatingEngine(inner),
        "cache": lambda: CachedEngine(inner, MemoryLRU(100)),
        "progress": lambda: Reporting(inner, lambda _: None, 10),
    }[wrapper]()
    control = CallControl(stop=lambda: False, alone=True)
    assert [t.text for t in wrapped.translate(["Un."], control=control)] == ["EN<Un.>"]
    wrapped.align(["Le chat."], ["The cat."], control=control)
    assert inner.controls == [control] and inner.aligned == [control]
    wrapped.translate(["Deux."])  # a plain caller passes none: the default reaches the engine
    assert inner.controls[-1] is PLAIN_CALL


def test_a_lane_refuses_a_control_it_would_not_obey() -> None:
    """A lane's calls are stopped by its deadline and cancel token; a caller's control is refused, not dropped."""
    scheduler = Scheduler(Controlled(), max_wait=0.0)
    scheduler.start()
    try:
        lane = scheduler.lane("interactive")
        with pytest.raises(ValueError, match="CallControl"):
            lane.translate(["Un."], control=CallControl(alone=True))
        with pytest.raises(ValueError, match="CallControl"):
            lane.align(["Le chat."], ["The cat."], control=CallControl(stop=lambda: False))
        assert [t.text for t in lane.translate(["Un."])] == ["EN<Un.>"]
    finally:
        scheduler.close(WAIT)


# --- the scheduler builds it from the batch --------------------------------------------------------


def test_a_solo_batch_reaches_the_engine_with_alone_and_a_shared_one_without() -> None:
    engine = Controlled(lanes=2, seconds=0.2)  # long enough that both lanes are busy at once
    scheduler = Scheduler(engine, BatchBudget(max_sentences=16, max_tokens=10_000), max_wait=0.01)
    assert scheduler.workers == 2
    scheduler.start()
    try:
        scheduler.translate(["Seule."])  # nothing else waits and no other call runs: alone
        assert [control.alone for control in engine.controls] == [True]
        engine.controls.clear()
        scheduler.translate([f"Phrase {n}." for n in range(30)])  # not a small call: shared by both lanes
        assert [control.alone for control in engine.controls] == [False, False]
        scheduler.lane("interactive").align(["Le chat."], ["The cat."])
        assert [control.alone for control in engine.aligned] == [True]  # an alignment always runs alone
        # each call carried its batch's stop check: not stopped while its request waited, stopped once answered
        assert engine.stopped_on_entry == [False] * 4
        assert all(control.stopped() for control in engine.controls + engine.aligned)
    finally:
        scheduler.close(WAIT)


def test_the_batch_control_says_stop_once_its_request_is_gone_on_the_worker_thread() -> None:
    """The engine call runs on the scheduler's worker thread and learns from its own control (no
    context of the caller's thread) that its only request was cancelled: it stops, the worker goes on."""
    engine = Controlled(hold=True)
    scheduler = Scheduler(engine, max_wait=0.0)
    scheduler.start()
    try:
        token = CancelToken()
        failed: list[BaseException] = []

        def caller() -> None:
            try:
                scheduler.translate(["Longue phrase."], cancel=token)
            except BaseException as error:  # noqa: BLE001 - what the caller saw
                failed.append(error)

        thread = threading.Thread(target=caller)
        thread.start()
        assert engine.entered.wait(WAIT)
        assert not engine.controls[0].stopped()
        token.cancel()
        thread.join(WAIT)
        assert isinstance(failed[0], Cancelled)
        engine.hold = False
        assert [t.text for t in scheduler.translate(["Courte."])] == ["EN<Courte.>"]  # the worker goes on
        assert engine.controls[0].stopped()
    finally:
        scheduler.close(WAIT)


# --- the Marian engine reads it ------------------------------------------------------------------


@pytest.mark.integration
def test_a_marian_call_on_another_thread_stops_when_its_control_says_so(tiny_engine: Any) -> None:
    """Handed to a pool thread (where no context of the caller's thread is set) and through the cache
    wrapper, the call still stops at its next decoding step: the check is an argument of the call."""
    calls = {"n": 0}

    def check() -> bool:
        calls["n"] += 1
        return calls["n"] > 2

    engine = CachedEngine(tiny_engine, MemoryLRU(0))
    texts = ["Le chat dort sur le canapé du salon."] * 4
    with ThreadPoolExecutor(1) as pool:
        call = pool.submit(engine.translate, texts, GenerationOptions(exact_length=True), control=CallControl(check))
        with pytest.raises(Interrupted):
            call.result(WAIT * 6)
    assert calls["n"] == 3  # the first poll before the batch, then one per decoding step until it said stop
    assert tiny_engine.translate(["Le chat dort."])[0].text  # the engine is fine afterwards


@pytest.mark.integration
def test_a_marian_call_is_not_stopped_by_a_post_step_check_of_its_thread(tiny_engine: Any) -> None:
    """`stop_when` is the request thread's post-step check only: an engine call made under it runs to
    its end (an engine call is stopped by its own control, which the scheduler gives it)."""
    with stop_when(lambda: True):
        assert tiny_engine.translate(["Le chat dort."])[0].text


@pytest.mark.integration
def test_a_stopped_marian_call_starts_no_generation(tiny_engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    generated: list[int] = []
    real = tiny_engine._model.generate

    def counted(**kwargs: Any) -> Any:
        generated.append(1)
        return real(**kwargs)

    monkeypatch.setattr(tiny_engine._model, "generate", counted)
    with pytest.raises(Interrupted):
        tiny_engine.translate(["Le chat dort."], control=CallControl(stop=lambda: True))
    with pytest.raises(Interrupted):
        tiny_engine.align(["Le chat dort."], ["The cat sleeps."], control=CallControl(stop=lambda: True))
    assert generated == []
    assert tiny_engine.translate(["Le chat dort."])[0].text and generated == [1]


@pytest.mark.integration
def test_a_lone_marian_call_uses_every_lane_thread(tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from models.engine import EngineSpec
    from models.factory import load_engine

    threads = torch.get_num_threads()
    try:
        engine = load_engine(EngineSpec(str(tiny_checkpoint), device="cpu", lanes=2, threads=4))
        chosen: list[int] = []
        monkeypatch.setattr(torch, "set_num_threads", chosen.append)
        with engine._lanes.shared():  # the other lane busy: the call keeps its lane's share to the end
            engine.translate(["Le chat dort."], GenerationOptions(num_beams=1))
        engine.translate(["Le chat dort."], GenerationOptions(num_beams=1), control=CallControl(alone=True))
        assert chosen == [2, 4]  # its lane's share, then every thread of the engine from the start
    finally:
        monkeypatch.undo()
        torch.set_num_threads(threads)
