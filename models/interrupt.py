"""Stopping work nobody waits for any more: a generate call at its next decoding step, and the
steps after translation (alignment, markup placement, assembly, rendering) every few elements.

The scheduler runs one engine call for sentences of several requests. When every one of those
requests is gone (its client disconnected, its deadline passed), finishing the call only delays
whoever is queued behind it: on a CPU one beam-4 batch is seconds. `stop_when(check)` sets, for
the calling thread only, a check the engine polls once per decoding step; when it says so the
call raises `Interrupted` and returns nothing (no partial translation is delivered or cached).
Engines that cannot poll ignore it and finish the call, as before.

    with stop_when(lambda: all(request.gone for request in batch)):
        engine.translate(texts, options)

A request's own thread sets one too (its deadline passed, its client went away): the work it
does itself after translation polls `checkpoint(count)` in its loops, so a long post-step stops
within a few thousand elements instead of finishing an answer nobody reads.
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


POLL_EVERY = 1024
"""Loop iterations between two polls in `checkpoint`: a few milliseconds of the cheapest post-step."""


def checkpoint(count: int, every: int = POLL_EVERY) -> None:
    """In a loop over elements, sentences or blocks: `raise_if_stopped()` once every `every` iterations.

    `count` is the iteration's number (from `enumerate`); the first iteration polls too, so a step
    that starts after its deadline stops at once."""
    if count % every == 0:
        raise_if_stopped()
