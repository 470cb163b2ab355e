"""Stopping work nobody waits for any more: what an interrupted call raises, and the request
thread's own polling of the steps after translation (markup placement, assembly, rendering).

An engine call is stopped through its `models.engine.CallControl`, handed to it with the work:
the scheduler builds one per batch, the engine polls `control.stop` between its batches and at
every decoding step, and raises `Interrupted`. Nothing here reaches an engine.

`stop_when(check)` and `checkpoint(count)` are only for a request's own post-steps, in the
request's own thread (`service.translation`): its deadline passed or its client went away, so the
work it does itself after translation polls `checkpoint(count)` in its loops and stops within a
few thousand elements instead of finishing an answer nobody reads. Engine calls never look at it.

    with stop_when(lambda: token.cancelled):
        translate_request(request, lane)  # placement, assembly: they raise `Interrupted`
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Check = Callable[[], bool]

# The request thread's post-step check; set by `stop_when`, polled by `checkpoint`. Never the engine's.
_POST_STEP_CHECK: ContextVar[Check | None] = ContextVar("bitext_post_step_check", default=None)


class Interrupted(RuntimeError):
    """The work was stopped because nobody waits for its result."""


@contextmanager
def stop_when(check: Check) -> Iterator[None]:
    """The post-steps this thread runs inside the block (`checkpoint` in their loops) stop once
    `check()` is true. Engine calls are not affected: they take their `CallControl`."""
    token = _POST_STEP_CHECK.set(check)
    try:
        yield
    finally:
        _POST_STEP_CHECK.reset(token)


POLL_EVERY = 1024
"""Loop iterations between two polls in `checkpoint`: a few milliseconds of the cheapest post-step."""


def checkpoint(count: int, every: int = POLL_EVERY) -> None:
    """In a post-step's loop over elements, sentences or blocks: raise `Interrupted` once the
    check of `stop_when` says so, polled once every `every` iterations.

    `count` is the iteration's number (from `enumerate`); the first iteration polls too, so a step
    that starts after its deadline stops at once. Without a check in force it does nothing."""
    if count % every == 0:
        check = _POST_STEP_CHECK.get()
        if check is not None and check():
            raise Interrupted("nobody waits for this request any more")
