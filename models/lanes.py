"""How many engine calls may run on one loaded model at once: its lanes.

On a CPU, one model with two lanes of one torch thread each keeps both cores busy on two batches
side by side; the same two cores on one batch spend part of every small decoding step in thread
hand-offs (`bench/article_speed.py` measures both). The weights are shared: a lane is a permit,
not a copy of the model. A call that changes the model's settings (the alignment pass switches
attention kernels) takes every permit, so it never runs beside a generation. A call the scheduler
runs alone (no other lane busy: `CallControl.alone` in `models.engine`, handed to the call) uses
every lane's threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Lanes:
    """`shared()`: one of `count` concurrent calls. `exclusive()`: alone on the model."""

    def __init__(self, count: int = 1) -> None:
        if count < 1:
            raise ValueError("an engine needs at least one lane")
        self.count = count
        self._permits = threading.Semaphore(count)
        self._exclusive = threading.Lock()  # two exclusive callers never hold half the permits each
        self._busy = 0  # shared calls running now
        self._count_lock = threading.Lock()

    @property
    def busy(self) -> int:
        """Shared calls running now (read without a lock: a hint, as it changes at once)."""
        return self._busy

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._permits:
            with self._count_lock:
                self._busy += 1
            try:
                yield
            finally:
                with self._count_lock:
                    self._busy -= 1

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._exclusive:
            for _ in range(self.count):
                self._permits.acquire()
            try:
                yield
            finally:
                for _ in range(self.count):
                    self._permits.release()


def total_threads(threads: int | None) -> int:
    """The whole engine's torch threads: `threads`, or every core."""
    return threads or os.cpu_count() or 1


def threads_per_lane(lanes: int, threads: int | None) -> int:
    """Each lane's torch threads: the cores (or `threads`, the whole engine's) shared out evenly."""
    return max(1, total_threads(threads) // lanes)


CPU_LANES = 2  # the default on a CPU: 2 × 1 thread beat 1 × 2 threads in bench/article_speed.py (docs/speed.md)


def default_lanes(device: str, threads: int | None) -> int:
    """Lanes when none are asked for: on a CPU, `CPU_LANES` if there are threads for each; one on a GPU."""
    if device != "cpu":
        return 1
    return max(1, min(CPU_LANES, threads or os.cpu_count() or 1))
