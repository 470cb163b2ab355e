"""Waiting, inside a request's post-step, for its stop check to say stop (its deadline passed, its
client went away), read the only way a post-step reads it: through `models.interrupt.checkpoint`."""

from __future__ import annotations

import time

from models.interrupt import Interrupted, checkpoint


def wait_for_stop(seconds: float = 30) -> bool:
    """True once the post-step check in force says stop; False if it has not within `seconds` (or
    no check is in force at all: nothing stops the step, which is what the caller asserts against)."""
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        try:
            checkpoint(0)
        except Interrupted:
            return True
        time.sleep(0.01)
    return False
