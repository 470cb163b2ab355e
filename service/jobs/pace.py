"""A running job's pace, from the progress its event stream has seen: sentences per second and time left.

Pure arithmetic over (seconds, documents done, sentences done) observations, so it is tested without a clock.
The rate is measured from the start of the job's run: the runner observes first when this process runs it
(`PaceBoard`: every event stream of the job here reads the same meter, so a reloaded page keeps the pace); on
another replica the meter starts from the run's start the store records (`RunStart`), so every replica
reports the same pace. The time left is the documents still to do at the documents' own rate: documents
differ in length, sentences to come are not known before each document is read.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from service.jobs.stores.base import RunStart


@dataclass(frozen=True, slots=True)
class Pace:
    sentences_per_second: float | None  # None until something was done while watched
    seconds_left: float | None  # None until a document was done while watched, or once all are

    def as_dict(self) -> dict[str, float | None]:
        rate = self.sentences_per_second
        left = self.seconds_left
        return {
            "sentences_per_second": None if rate is None else round(rate, 2),
            "seconds_left": None if left is None else round(left, 1),
        }


class PaceMeter:
    """Fed each observation of one job's progress; answers its pace. `first`: an observation made
    elsewhere to measure from (monotonic seconds, documents, sentences), else the first one fed."""

    def __init__(self, first: tuple[float, int, int] | None = None) -> None:
        self._first = first
        self._lock = threading.Lock()  # the runner's thread and the event loop observe one meter

    @classmethod
    def since(cls, start: RunStart) -> PaceMeter:
        """A meter measuring from a run's recorded start (a wall-clock stamp, maybe another replica's)."""
        ago = max(0.0, time.time() - datetime.fromisoformat(start.at).timestamp())
        return cls((time.monotonic() - ago, start.done, start.sentences))

    def observe(self, at: float, done: int, sentences: int, total: int) -> Pace:
        with self._lock:
            if self._first is None:
                self._first = (at, done, sentences)
            start, done_then, sentences_then = self._first
        elapsed = at - start
        if elapsed <= 0:
            return Pace(None, None)
        rate = (sentences - sentences_then) / elapsed if sentences > sentences_then else None
        documents = done - done_then
        left = max(0, total - done)
        seconds_left = left * elapsed / documents if documents > 0 and left > 0 else None
        return Pace(rate, 0.0 if documents > 0 and left == 0 else seconds_left)


_HERE = "here"  # a meter restarted by this process's own run of the job


class PaceBoard:
    """Each job's meter in this process, shared by its run and all its event streams."""

    def __init__(self) -> None:
        self._meters: dict[str, PaceMeter] = {}
        self._since: dict[str, str] = {}  # what a meter measures from: `_HERE` (its run here) or a run's stamp
        self._lock = threading.Lock()

    def meter(self, ident: str, run: RunStart | None = None) -> PaceMeter:
        """The job's meter here. Unless the job runs here, one that does not measure from `run` (the store's
        record of its run's start) is replaced by one that does: the run is on another replica, began
        after this meter did, or started again."""
        with self._lock:
            meter = self._meters.get(ident)
            since = self._since.get(ident)
            if run is not None and since not in (_HERE, run.at):
                meter = self._meters[ident] = PaceMeter.since(run)
                self._since[ident] = run.at
            elif meter is None:
                meter = self._meters[ident] = PaceMeter()
            return meter

    def restart(self, ident: str) -> PaceMeter:
        """A new meter for the job's run starting now here (time spent queued is not its pace)."""
        with self._lock:
            meter = self._meters[ident] = PaceMeter()
            self._since[ident] = _HERE
            return meter

    def forget(self, ident: str) -> None:
        """The job ended its run here, or was deleted: its next run starts a new meter."""
        with self._lock:
            self._meters.pop(ident, None)
            self._since.pop(ident, None)
