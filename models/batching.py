"""Length-sorted, token-budgeted batches, and the halve-and-retry rule for memory errors.

Padding is wasted compute: sorting sentences by length before cutting batches keeps each batch's
rows close in length, and a budget in padded tokens (rows × longest row) keeps memory flat
whether the batch holds 4 long sentences or 64 short ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def plan_batches(
    lengths: Sequence[int], max_tokens: int, max_sentences: int, min_ratio: float = 0.0
) -> list[list[int]]:
    """Indices of `lengths` grouped into batches, longest first, each within both budgets.

    A single item longer than `max_tokens` still gets a batch of its own: the budget bounds
    padding, it never drops input. With `min_ratio`, a batch also closes before an item shorter
    than `min_ratio` × its longest (length buckets: a row that reached its own output bound still
    rides along until the longest row of its call is done).
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
        if current and (
            len(current) + 1 > max_sentences or (len(current) + 1) * widest > max_tokens or length < min_ratio * longest
        ):
            batches.append(current)
            current, widest = [], length
        current.append(index)
        longest = widest
    if current:
        batches.append(current)
    return batches


ORDERED_MIN_ROWS = 4  # the smallest batch an ordered (streamed) request's first group is given
# A streamed request's batches hold sentences within this ratio of their longest: reading order
# mixes lengths, and on a CPU the short rows of a mixed batch mostly wait for the long one.
ORDERED_BUCKET = 0.6


def next_batch(
    texts: Sequence[str],
    lengths: Sequence[int],
    max_tokens: int,
    max_sentences: int,
    keys: Sequence[tuple[int, int]] | None = None,
) -> list[int]:
    """Which of the waiting `texts` (oldest first) go into the next engine call: indices into them.

    The policy the scheduler applies under its lock, kept pure so it is tested without threads:
    identical texts are translated once, the waiting pool is cut into length-sorted batches, and
    the batch holding the oldest sentence goes now, so nothing waits behind newer work forever.
    Every waiting copy of a chosen text is chosen.

    With `keys` (one per text, smaller is more urgent: a request's number, then the reading-order
    group of its sentences), the most urgent key's sentences go first: the length-sorted batch
    holding its first sentence, then the room left (rows and tokens, at no extra padding: only
    texts no longer than the batch's longest, and not shorter than `ORDERED_BUCKET` of it) filled
    in key order, up to twice the urgent group's size (at least `ORDERED_MIN_ROWS` rows). The
    urgent group's own batches are length buckets too. A streamed article's first
    paragraph is then done in its first batch or two, not after the whole lookahead window.
    """
    if keys is None:
        distinct: dict[str, int] = {}
        for text, length in zip(texts, lengths, strict=True):
            distinct.setdefault(text, length)
        order = list(distinct)
        plans = plan_batches(list(distinct.values()), max_tokens, max_sentences)
        first = next(batch for batch in plans if 0 in batch)
        wanted = {order[i] for i in first}
        return [i for i, text in enumerate(texts) if text in wanted]
    best: dict[str, tuple[tuple[int, int], int, int]] = {}  # text -> (key, position, length)
    for position, (text, length, key) in enumerate(zip(texts, lengths, keys, strict=True)):
        if text not in best or key < best[text][0]:
            best[text] = (key, best.get(text, (key, position, 0))[1], max(1, length))
    ranked = sorted(best, key=lambda text: best[text][:2])
    urgent_key = best[ranked[0]][0]
    urgent = [text for text in ranked if best[text][0] == urgent_key]
    plans = plan_batches([best[text][2] for text in urgent], max_tokens, max_sentences, ORDERED_BUCKET)
    chosen = [urgent[i] for i in next(batch for batch in plans if 0 in batch)]
    widest = max(best[text][2] for text in chosen)
    taken = set(chosen)
    # Room for later groups, but not so much that the urgent group waits on a full-size batch:
    # twice its own size (at least `ORDERED_MIN_ROWS`), so early batches are small and later ones,
    # whose groups double, grow back to the full budget.
    rows = min(max_sentences, max(ORDERED_MIN_ROWS, 2 * len(urgent)))
    for text in ranked:
        if len(taken) >= rows or (len(taken) + 1) * widest > max_tokens:
            break
        if text not in taken and ORDERED_BUCKET * widest <= best[text][2] <= widest:
            taken.add(text)
    return [i for i, text in enumerate(texts) if text in taken]


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
