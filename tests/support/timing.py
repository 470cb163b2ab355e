"""Doubling tests: the one use of timing in the suite, for complexity (linear, not quadratic)."""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable

import pytest


def _seconds(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def best_times(small: Callable[[], object], large: Callable[[], object], runs: int = 3) -> tuple[float, float]:
    """The fastest of `runs` interleaved timings of each, garbage collector off (less noise)."""
    best = [math.inf, math.inf]
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(runs):
            for i, run in enumerate((small, large)):
                best[i] = min(best[i], _seconds(run))
    finally:
        if enabled:
            gc.enable()
    return best[0], best[1]


def assert_doubling_is_linear(
    make: Callable[[int], Callable[[], object]], size: int, budget: float = 10.0, ratio: float = 2.5
) -> None:
    """`make(n)` gives a run over an input of size n: doubling n may multiply its time by at most
    `ratio` (plus 10 ms of timer noise), the best of 3 runs each. Up to three rounds, since a busy
    machine can spoil one; quadratic time fails every round (about 4x).

    One run of size `size` over `budget` seconds fails at once: linear code is far below it, and
    quadratic code is not timed twice more at twice the size."""
    small, large = make(size), make(2 * size)
    first = _seconds(small)  # also the warm-up
    if first > budget:
        pytest.fail(f"one run at size {size} took {first:.1f} s (budget {budget} s)")
    ratios = []
    for _ in range(3):
        t_small, t_large = best_times(small, large)
        if t_large <= ratio * t_small + 0.01:
            return
        ratios.append(round(t_large / t_small, 2))
    pytest.fail(f"doubling the input (size {size}) multiplied the time by {ratios}")
