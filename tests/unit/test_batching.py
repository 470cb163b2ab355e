"""Batch planning and the halve-and-retry rule for memory errors."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.batching import BatchTooLargeError, is_out_of_memory, plan_batches, run_halving


@given(st.lists(st.integers(min_value=0, max_value=600), max_size=200), st.integers(64, 5000), st.integers(1, 64))
def test_every_item_is_planned_once_within_budgets(lengths: list[int], max_tokens: int, max_sentences: int) -> None:
    batches = plan_batches(lengths, max_tokens, max_sentences)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= max_sentences
        if len(batch) > 1:
            assert len(batch) * max(max(1, lengths[i]) for i in batch) <= max_tokens


def test_batches_are_length_sorted_so_padding_is_small() -> None:
    lengths = [5, 100, 6, 98, 7, 99]
    batches = plan_batches(lengths, max_tokens=300, max_sentences=3)
    assert [sorted(lengths[i] for i in batch) for batch in batches] == [[98, 99, 100], [5, 6, 7]]


def test_an_item_over_the_budget_still_gets_its_own_batch() -> None:
    assert plan_batches([1000, 3], max_tokens=100, max_sentences=8) == [[0], [1]]


class FakeOOM(RuntimeError):
    def __init__(self) -> None:
        super().__init__("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_out_of_memory_halves_the_batch_until_it_fits() -> None:
    calls: list[int] = []

    def run(items: Sequence[int]) -> list[object]:
        calls.append(len(items))
        if len(items) > 2:
            raise FakeOOM()
        return [item * 10 for item in items]

    assert run_halving(list(range(8)), run) == [0, 10, 20, 30, 40, 50, 60, 70]
    assert calls == [8, 4, 2, 2, 4, 2, 2]


def test_a_single_item_that_never_fits_raises_batch_too_large() -> None:
    def run(items: Sequence[int]) -> list[object]:
        raise MemoryError()

    with pytest.raises(BatchTooLargeError):
        run_halving([1, 2], run)


def test_other_errors_are_not_retried() -> None:
    calls = []

    def run(items: Sequence[int]) -> list[object]:
        calls.append(items)
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        run_halving([1, 2, 3, 4], run)
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (MemoryError(), True),
        (RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 bytes"), True),
        (RuntimeError("CUDA out of memory."), True),
        (RuntimeError("shape mismatch"), False),
        (ValueError("out of memory"), False),
    ],
)
def test_what_counts_as_out_of_memory(error: BaseException, expected: bool) -> None:
    assert is_out_of_memory(error) is expected
