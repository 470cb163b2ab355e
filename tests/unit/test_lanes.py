"""Engine lanes and interrupted calls: two scheduler workers on one model, abandoned batches stopped."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from models.document import Translation
from models.engine import PLAIN_CALL, BatchBudget, CallControl, EngineTraits, GenerationOptions
from models.interrupt import Interrupted
from models.lanes import Lanes, default_lanes, threads_per_lane
from service.scheduler import Cancelled, CancelToken, Scheduler
from tests.support.fakes import FakeEngine

WAIT = 10  # seconds; only reached when something is broken


def test_shared_permits_run_side_by_side_and_exclusive_waits_for_all() -> None:
    lanes = Lanes(2)
    inside = threading.Barrier(2, timeout=WAIT)
    order: list[str] = []

    def shared(name: str) -> None:
        with lanes.shared():
            inside.wait()  # both lanes are in at once, or this times out
            time.sleep(0.05)
            order.append(name)

    threads = [threading.Thread(target=shared, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    time.sleep(0.01)
    with lanes.exclusive():  # waits until both shared calls are out
        order.append("exclusive")
    for thread in threads:
        thread.join(WAIT)
    assert order[-1] == "exclusive" and sorted(order[:2]) == ["a", "b"]
    with pytest.raises(ValueError):
        Lanes(0)
    assert threads_per_lane(2, 2) == 1 and threads_per_lane(2, 1) == 1 and threads_per_lane(1, 8) == 8


class Laned(FakeEngine):
    """A fake with two lanes: records how many calls overlap, and honours its call's stop check."""

    @property
    def traits(self) -> EngineTraits:
        return EngineTraits(window=self.window, lanes=2, can_interrupt=True)

    def __init__(self, seconds: float = 0.2) -> None:
        super().__init__()
        self.seconds = seconds
        self.running = 0
        self.most = 0
        self.interrupted = 0
        self._lock = threading.Lock()

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            deadline = time.monotonic() + self.seconds
            while time.monotonic() < deadline:  # "decoding steps"
                if control.stopped():
                    with self._lock:
                        self.interrupted += 1
                    raise Interrupted("gone")
                time.sleep(0.005)
            return super().translate(texts, options, control=control)
        finally:
            with self._lock:
                self.running -= 1


def test_one_article_is_shared_out_over_idle_lanes() -> None:
    engine = Laned()
    scheduler = Scheduler(engine, BatchBudget(max_sentences=16, max_tokens=10_000), max_wait=0.01)  # type: ignore[arg-type]
    assert scheduler.workers == 2
    scheduler.start()
    try:
        texts = [f"Phrase numéro {n}." for n in range(10)]
        out = scheduler.translate(texts)
        assert [t.text for t in out] == [f"EN<{t}>" for t in texts]
        assert engine.most == 2  # both lanes worked at once
        assert sorted(len(call) for call in engine.calls) == [5, 5]  # an even share each, not 10 and 0
    finally:
        scheduler.close(WAIT)


def test_a_call_whose_requests_are_all_gone_is_stopped_and_the_next_request_runs() -> None:
    engine = Laned(seconds=WAIT)  # an engine call that would take the whole timeout
    scheduler = Scheduler(engine, BatchBudget(max_sentences=64, max_tokens=100_000), max_wait=0.0, workers=1)  # type: ignore[arg-type]
    scheduler.start()
    try:
        token = CancelToken()
        failed: list[BaseException] = []

        def abandoned() -> None:
            try:
                scheduler.translate([f"Longue phrase {n}." for n in range(40)], cancel=token)
            except BaseException as error:  # noqa: BLE001 - what the caller saw
                failed.append(error)

        caller = threading.Thread(target=abandoned)
        caller.start()
        deadline = time.monotonic() + WAIT
        while engine.running == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        token.cancel()  # the client went away while its batch was in the engine
        engine.seconds = 0.0
        started = time.monotonic()
        assert [t.text for t in scheduler.translate(["Une courte."])] == ["EN<Une courte.>"]
        assert time.monotonic() - started < WAIT / 2, "the short request waited for the abandoned batch"
        caller.join(WAIT)
        assert engine.interrupted == 1 and failed and isinstance(failed[0], Cancelled)
        assert not any("Longue phrase 0." in text for call in engine.calls for text in call)  # nothing delivered
    finally:
        scheduler.close(WAIT)


def test_a_call_shared_with_a_live_request_finishes() -> None:
    engine = Laned(seconds=0.3)
    scheduler = Scheduler(engine, BatchBudget(max_sentences=64, max_tokens=100_000), max_wait=0.05, workers=1)  # type: ignore[arg-type]
    scheduler.start()
    try:
        token = CancelToken()
        results: dict[str, Any] = {}

        def call(name: str, texts: list[str], cancel: CancelToken | None) -> None:
            try:
                results[name] = scheduler.translate(texts, cancel=cancel)
            except BaseException as error:  # noqa: BLE001
                results[name] = error

        gone = threading.Thread(target=call, args=("gone", ["Partie A."], token))
        live = threading.Thread(target=call, args=("live", ["Partie B."], None))
        gone.start()
        live.start()
        deadline = time.monotonic() + WAIT
        while engine.running == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        token.cancel()
        gone.join(WAIT)
        live.join(WAIT)
        assert engine.interrupted == 0
        assert [t.text for t in results["live"]] == ["EN<Partie B.>"]
        assert isinstance(results["gone"], Cancelled)
    finally:
        scheduler.close(WAIT)


def test_the_marian_engine_stops_at_the_next_step_and_keeps_working(tiny_engine: Any) -> None:
    calls = {"n": 0}

    def check() -> bool:
        calls["n"] += 1
        return calls["n"] > 2

    with pytest.raises(Interrupted):
        tiny_engine.translate(
            ["Le chat dort sur le canapé du salon."] * 4,
            GenerationOptions(exact_length=True),
            control=CallControl(stop=check),
        )
    assert calls["n"] == 3  # stopped at the step the check said so, not at the end
    assert tiny_engine.translate(["Le chat dort."])[0].text  # the engine is fine afterwards


def test_two_marian_lanes_give_the_same_output_as_one(tiny_checkpoint: Path) -> None:
    import torch

    from models.engine import EngineSpec
    from models.factory import load_engine

    threads = torch.get_num_threads()
    try:
        one = load_engine(EngineSpec(str(tiny_checkpoint), device="cpu", lanes=1))
        two = load_engine(EngineSpec(str(tiny_checkpoint), device="cpu", lanes=2))
        auto = load_engine(EngineSpec(str(tiny_checkpoint), device="cpu"))  # lanes=0: the CPU default
        assert one.traits.lanes == 1 and two.traits.lanes == 2
        assert auto.traits.lanes == default_lanes("cpu", None) == min(2, os.cpu_count() or 1)
        assert default_lanes("cuda", None) == 1 and default_lanes("cpu", 1) == 1
        texts = [f"Le conseil municipal a voté le budget numéro {n}." for n in range(6)]
        scheduler = Scheduler(two, BatchBudget(max_sentences=8, max_tokens=10_000), max_wait=0.01)
        scheduler.start()
        try:
            assert [t.text for t in scheduler.translate(texts)] == [t.text for t in one.translate(texts)]
        finally:
            scheduler.close(WAIT)
    finally:
        torch.set_num_threads(threads)


def test_a_worker_that_finds_the_queue_emptied_while_it_waited_keeps_working() -> None:
    """Two workers wait out the same gathering window; one takes the only sentence, the other must
    go back to waiting (it once died on an empty queue), and both serve what comes next."""
    engine = Laned(seconds=0.05)
    scheduler = Scheduler(engine, BatchBudget(max_sentences=16, max_tokens=10_000), max_wait=0.2)  # type: ignore[arg-type]
    scheduler.start()
    try:
        for round_ in range(3):
            assert [t.text for t in scheduler.translate([f"Seule {round_}."])] == [f"EN<Seule {round_}.>"]
        token = CancelToken()
        waiting = threading.Thread(target=lambda: _ignore(lambda: scheduler.translate(["Partie."], cancel=token)))
        waiting.start()
        time.sleep(0.05)
        token.cancel()  # the queue empties under both gathering workers
        waiting.join(WAIT)
        time.sleep(0.3)
        assert all(thread.is_alive() for thread in scheduler._threads)
        assert len(scheduler.translate([f"Après {n}." for n in range(4)])) == 4
    finally:
        scheduler.close(WAIT)


def _ignore(call: Any) -> None:
    try:
        call()
    except Cancelled:
        pass


class Recording(Laned):
    """Records, per call, whether its control let it run alone with every lane's threads."""

    def __init__(self, seconds: float = 0.2) -> None:
        super().__init__(seconds)
        self.alone: list[bool] = []

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        self.alone.append(control.alone)
        return super().translate(texts, options, control=control)


def test_a_lone_call_runs_alone_and_holds_the_other_lane_back() -> None:
    engine = Recording(seconds=0.3)
    scheduler = Scheduler(engine, BatchBudget(max_sentences=16, max_tokens=10_000), max_wait=0.0)  # type: ignore[arg-type]
    scheduler.start()
    try:
        assert [t.text for t in scheduler.translate(["Seule."])] == ["EN<Seule.>"]
        assert engine.alone == [True] and engine.most == 1  # nothing else waited: every thread

        late: list[Any] = []
        first = threading.Thread(target=lambda: scheduler.translate(["Première."]))
        first.start()
        deadline = time.monotonic() + WAIT
        while engine.running == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        late.append(scheduler.translate(["Arrivée pendant."]))  # waits for the lone call, not beside it
        first.join(WAIT)
        assert engine.most == 1 and engine.alone[1:] == [True, True]

        engine.alone.clear()
        out = scheduler.translate([f"Phrase {n}." for n in range(30)])  # not a small call: both lanes at once
        assert len(out) == 30 and engine.most == 2 and engine.alone == [False, False]
    finally:
        scheduler.close(WAIT)


def test_a_lane_call_takes_the_idle_lanes_threads_and_gives_them_back_when_another_starts(
    tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call left running beside an idle lane widens to every thread at its next decoding step, and
    narrows to its lane's share at the step after another call starts (`WidenWhenAlone`)."""
    import torch

    from models.engine import EngineSpec
    from models.factory import load_engine

    threads = torch.get_num_threads()
    try:
        engine: Any = load_engine(EngineSpec(str(tiny_checkpoint), device="cpu", lanes=2, threads=2))
        set_to: list[int] = []
        real = torch.set_num_threads
        monkeypatch.setattr(torch, "set_num_threads", lambda n: (set_to.append(n), real(n))[1])
        text = ["Le conseil municipal a voté le budget de la ville pour la prochaine année."]
        engine.translate(text, control=CallControl(alone=False))
        assert set_to[:2] == [1, 2], set_to  # its lane's thread, then both from the first step on
        assert len(set_to) == 2, set_to  # not set again at every step

        set_to.clear()
        with engine._lanes.shared():  # the other lane is busy all along
            engine.translate(text, control=CallControl(alone=False))
        assert set_to == [1], set_to

        set_to.clear()
        starts = threading.Event()

        class Busy:
            """At the third step of the call, another call starts on the other lane."""

            steps = 0

            def __call__(self) -> bool:
                Busy.steps += 1
                if Busy.steps == 3:
                    starts.set()
                    while engine._lanes.busy < 2:
                        time.sleep(0.001)
                return False

        def other() -> None:
            starts.wait(WAIT)
            with engine._lanes.shared():
                release.wait(WAIT)

        release = threading.Event()
        thread = threading.Thread(target=other)
        thread.start()
        try:
            engine.translate(text, GenerationOptions(exact_length=True), control=CallControl(stop=Busy()))
        finally:
            release.set()
            thread.join(WAIT)
        assert set_to[:3] == [1, 2, 1], set_to  # wide while alone, its lane's share once the other began

        set_to.clear()
        engine.widen_when_alone = False
        engine.translate(text, control=CallControl(alone=False))
        assert set_to == [1]
    finally:
        torch.set_num_threads(threads)
