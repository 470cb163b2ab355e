"""Tests for models.windows: cutting an over-long sentence into token windows."""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.segment import Span, split_sentences
from models.windows import split_windows
from tests.support.spans import ANY_CHAR, FRENCHISH, assert_lossless


def tokens(s: str) -> int:
    """Stand-in for a subword tokenizer: words plus one token per 7 chars."""
    return len(s.split()) + len(s) // 7


class Counter:
    """count_tokens wrapper that records how often it is called."""

    def __init__(self, fn: Callable[[str], int] = tokens) -> None:
        self.fn = fn
        self.calls = 0

    def __call__(self, s: str) -> int:
        self.calls += 1
        return self.fn(s)


def window_texts(text: str, span: Span, count: Callable[[str], int], limit: int) -> list[str]:
    windows = split_windows(text, span, count, limit)
    assert_lossless(text, windows, span)
    assert all(count(text[w.start : w.end]) <= limit for w in windows)
    return [text[w.start : w.end] for w in windows]


def test_window_fits_returns_span_unchanged() -> None:
    text = "  Le Sénat a voté.  "
    span = Span(2, 18)
    counter = Counter()
    assert split_windows(text, span, counter, 100) == [span]
    assert counter.calls == 1


def test_window_prefers_punctuation_cut() -> None:
    text = "Les députés ont débattu toute la nuit du budget, puis ils ont voté le texte sans surprise"
    out = window_texts(text, Span(0, len(text)), lambda s: len(s.split()), 12)
    assert out[0].endswith("budget,")


def test_window_prefers_semicolon_and_colon() -> None:
    text = "Le ministre a tranché ; la réforme passera : les syndicats protestent vivement ce soir"
    out = window_texts(text, Span(0, len(text)), lambda s: len(s.split()), 6)
    assert out[:2] == ["Le ministre a tranché ;", "la réforme passera :"]


def test_window_ignores_punctuation_that_would_shrink_window() -> None:
    text = "Oui, le gouvernement présentera demain matin un texte très attendu par les élus locaux"
    out = window_texts(text, Span(0, len(text)), lambda s: len(s.split()), 8)
    assert out[0] == "Oui, le gouvernement présentera demain matin un texte"


def test_window_cuts_whitespace_without_punctuation() -> None:
    text = " ".join(["mot"] * 25)
    out = window_texts(text, Span(0, len(text)), lambda s: len(s.split()), 10)
    assert [len(w.split()) for w in out] == [10, 10, 5]


def test_window_no_space_run_cut_adjacent() -> None:
    text = "x" * 100
    windows = split_windows(text, Span(0, 100), len, 30)
    assert [(w.start, w.end) for w in windows] == [(0, 30), (30, 60), (60, 90), (90, 100)]


def test_window_long_word_inside_sentence() -> None:
    text = "Le mot " + "anticonstitutionnellement" * 4 + " est long."
    out = window_texts(text, Span(0, len(text)), len, 20)
    assert "".join(out).replace(" ", "") == text.replace(" ", "")


def test_window_keeps_combining_marks_with_base() -> None:
    text = "e\u0301" * 20
    windows = split_windows(text, Span(0, len(text)), len, 3)
    assert_lossless(text, windows, Span(0, len(text)))
    assert all(text[w.start] == "e" for w in windows)


def test_window_sub_span_of_larger_text() -> None:
    text = "Avant. " + "Le texte, très long, continue encore et encore sans fin. " * 5 + "Après."
    span = split_sentences(text)[1]
    out = window_texts(text, span, tokens, 9)
    assert len(out) > 1


def test_window_whitespace_span_that_does_not_fit() -> None:
    assert split_windows("     ", Span(0, 5), lambda s: len(s) + 1, 2) == []


def test_window_too_small_budget_raises() -> None:
    with pytest.raises(ValueError):
        split_windows("abc def", Span(0, 7), lambda s: 5 * len(s), 1)


def test_window_span_out_of_range_raises() -> None:
    with pytest.raises(ValueError):
        split_windows("abc", Span(0, 10), len, 5)


@pytest.mark.parametrize(
    "text",
    ["x" * 200_000, ("mot, " * 40_000)[:-1]],
    ids=["no_spaces_200k", "words_200k"],
)
def test_window_count_calls_logarithmic(text: str) -> None:
    counter = Counter()
    windows = split_windows(text, Span(0, len(text)), counter, 400)
    assert_lossless(text, windows, Span(0, len(text)))
    bound = 1 + len(windows) * (4 * math.ceil(math.log2(len(text))) + 4)
    assert counter.calls <= bound


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(FRENCHISH, st.text(ANY_CHAR, max_size=120)), st.integers(1, 40))
def test_windows_lossless_and_fit(text: str, limit: int) -> None:
    counter = Counter()
    body = text.strip()
    lead = len(text) - len(text.lstrip())
    whole = [Span(lead, lead + len(body))] if body else []
    for span in [*whole, *split_sentences(text)]:
        windows = split_windows(text, span, counter, limit)
        assert_lossless(text, windows, span)
        for w in windows:
            assert tokens(text[w.start : w.end]) <= limit
        for a, b in pairwise(windows):
            if a.end == b.start:  # cut inside a non-space run
                assert not text[a.end - 1].isspace() and not text[b.start].isspace()
