"""A running job's pace, from the progress its event stream has seen: sentences per second and time left.

Pure arithmetic over (seconds, documents done, sentences done) observations, so it is tested without a clock.
The rate is measured from the meter's first observation: the start of the job's run when this process runs
it (`PaceBoard`: the runner observes first, and every event stream of the job here reads the same meter, so a
reloaded page keeps the pace), else the first event stream that watched it here. The time left is the
documents still to do at the documents' own rate: documents differ in length, sentences to come are not known
before each document is read.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


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
    """Fed each observation of one job's progress; answers its pace."""

    def __init__(self) -> None:
        self._first: tuple[float, int, int] | None = None
        self._lock = threading.Lock()  # the runner's thread and the event loop observe one meter

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


class PaceBoard:
    """Each job's meter in this process, shared by its run and all its event streams."""

    def __init__(self) -> None:
        self._meters: dict[str, PaceMeter] = {}
        self._lock = threading.Lock()

    def meter(self, ident: str) -> PaceMeter:
        with self._lock:
            return self._meters.setdefault(ident, PaceMeter())

    def restart(self, ident: str) -> PaceMeter:
        """A new meter for the job's run starting now (time spent queued is not its pace)."""
        with self._lock:
            meter = self._meters[ident] = PaceMeter()
            return meter

    def forget(self, ident: str) -> None:
        """The job ended its run here, or was deleted: its next run starts a new meter."""
        with self._lock:
            self._meters.pop(ident, None)
