"""Length-sorted, token-budgeted batches, and the halve-and-retry rule for memory errors.

Padding is wasted compute: sorting sentences by length before cutting batches keeps each batch's
rows close in length, and a budget in padded tokens (rows × longest row) keeps memory flat
whether the batch holds 4 long sentences or 64 short ones.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from models.engine import max_new_tokens_for

T = TypeVar("T")
R = TypeVar("R")


def plan_batches(lengths: Sequence[int], max_tokens: int, max_sentences: int) -> list[list[int]]:
    """Indices of `lengths` grouped into batches, longest first, each within both budgets.

    A single item longer than `max_tokens` still gets a batch of its own: the budget bounds
    padding, it never drops input.
    """
    if max_tokens < 1 or max_sentences < 1:
        raise ValueError("batch budgets must be positive")
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for index in order:
        length = max(1, lengths[index])
        widest = max(longest, length)
        if current and (len(current) + 1 > max_sentences or (len(current) + 1) * widest > max_tokens):
            batches.append(current)
            current, widest = [], length
        current.append(index)
        longest = widest
    if current:
        batches.append(current)
    return batches


# A CPU's cost of a `generate` call, measured with `python bench/lanes.py` (Intel Xeon, 2 cores;
# bench/RESULTS.md). Each decoding step reads every weight whatever the call's rows, so:
# - a lane's time per step grows as (rows + STEP_ROWS), not as its rows alone (1 thread a lane,
#   beam 4: 11 from each pair of sizes, 8 to 64 rows);
# - a call of at most SMALL_CALL_ROWS decoder rows (sentences x beams) is sooner alone on every
#   lane's threads than split over two lanes (alone/split 0.62-0.82 up to 24 rows at beam 4 and at
#   greedy, 1.06-1.08 at 32).
STEP_ROWS = 11
SMALL_CALL_ROWS = 24


def call_cost(longest: int, sentences: int, beams: int) -> float:
    """One `generate` call's relative cost: its decoding steps (the longest source's output bound,
    uncapped by any window: the cost only ranks cuts) times its decoder rows plus a step's fixed cost."""
    return max_new_tokens_for(longest, sys.maxsize) * (sentences * beams + STEP_ROWS)


def balanced_cut(lengths: Sequence[int], beams: int, busy: float, lanes: int, most: int) -> int:
    """How many of `lengths` (longest first) the next call takes so that the work ends together on
    every lane: the count whose call and the rest (one call, shared over the other `lanes - 1`
    lanes, after the `busy` cost they still run) give the shortest span. At most `most`."""
    total = len(lengths)
    best, chosen = math.inf, 1
    for taken in range(1, min(most, total) + 1):
        rest = call_cost(lengths[taken], total - taken, beams) if taken < total else 0.0
        span = max(call_cost(lengths[0], taken, beams), (busy + rest) / max(1, lanes - 1))
        if span < best:
            best, chosen = span, taken
    return chosen


def next_batch(texts: Sequence[str], lengths: Sequence[int], max_tokens: int, max_sentences: int) -> list[int]:
    """Which of the waiting `texts` (most urgent first) go into the next engine call: indices into them.

    The policy the scheduler applies under its lock, kept pure so it is tested without threads:
    identical texts are translated once, the waiting pool is cut into length-sorted batches, and
    the batch holding the first (most urgent) sentence goes now, so nothing waits behind newer
    work forever. Every waiting copy of a chosen text is chosen.
    """
    distinct: dict[str, int] = {}
    for text, length in zip(texts, lengths, strict=True):
        distinct.setdefault(text, length)
    order = list(distinct)
    plans = plan_batches(list(distinct.values()), max_tokens, max_sentences)
    first = next(batch for batch in plans if 0 in batch)
    wanted = {order[i] for i in first}
    return [i for i, text in enumerate(texts) if text in wanted]


def is_out_of_memory(error: BaseException) -> bool:
    """True for CUDA OOM and CPU allocation failures, the errors a smaller batch can avoid."""
    if isinstance(error, MemoryError):
        return True
    try:
        import torch

        if isinstance(error, torch.cuda.OutOfMemoryError):
            return True
    except ImportError:  # pragma: no cover - the engine layer always has torch
        pass
    message = str(error).lower()
    return isinstance(error, RuntimeError) and (
        "out of memory" in message or "can't allocate memory" in message or "failed to allocate" in message
    )


class BatchTooLargeError(RuntimeError):
    """Even one item does not fit in memory: only the request holding it should fail."""


def run_halving(
    items: Sequence[T], run: Callable[[Sequence[T]], list[R]], on_oom: Callable[[], None] = lambda: None
) -> list[R]:
    """Run `items` as one batch; on a memory error, split in halves and retry each half."""
    try:
        return run(items)
    except Exception as error:
        if not is_out_of_memory(error):
            raise
        on_oom()
        if len(items) == 1:
            raise BatchTooLargeError("a single sentence does not fit in memory") from error
        middle = len(items) // 2
        return run_halving(items[:middle], run, on_oom) + run_halving(items[middle:], run, on_oom)
