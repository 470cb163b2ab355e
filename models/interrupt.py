"""Stopping a generate call nobody waits for any more, at its next decoding step.

The scheduler runs one engine call for sentences of several requests. When every one of those
requests is gone (its client disconnected, its deadline passed), finishing the call only delays
whoever is queued behind it: on a CPU one beam-4 batch is seconds. `stop_when(check)` sets, for
the calling thread only, a check the engine polls once per decoding step; when it says so the
call raises `Interrupted` and returns nothing (no partial translation is delivered or cached).
Engines that cannot poll ignore it and finish the call, as before.

    with stop_when(lambda: all(request.gone for request in batch)):
        engine.translate(texts, options)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Check = Callable[[], bool]

_CHECK: ContextVar[Check | None] = ContextVar("bitext_stop_check", default=None)


class Interrupted(RuntimeError):
    """The engine call was stopped because nobody waits for its result."""


@contextmanager
def stop_when(check: Check) -> Iterator[None]:
    """Engine calls made by this thread inside the block stop once `check()` is true."""
    token = _CHECK.set(check)
    try:
        yield
    finally:
        _CHECK.reset(token)


def current_check() -> Check | None:
    """The check in force for this thread's engine call, if any."""
    return _CHECK.get()


def raise_if_stopped() -> None:
    """Between batches of one call: stop before starting work nobody waits for."""
    check = _CHECK.get()
    if check is not None and check():
        raise Interrupted("every request of this engine call is gone")
