"""Every regex in models/ and service/ runs in linear time on adversarial input.

A small fuzzer builds the usual ReDoS shapes from each pattern's own characters (long runs of one
character, of two alternating, the same on many short lines) and times search/match/fullmatch at
n and 2n characters: doubling the input may at most ~2.5× the time, which holds on a noisy
machine where absolute times do not. Shapes that run in microseconds are not re-timed.
"""

from __future__ import annotations

import importlib
import itertools
import pkgutil
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import models
import service

SIZE = 10_000
# Seconds at 2n under which a shape is not re-timed: a linear pattern scans 20,000 characters in
# about a millisecond, a quadratic one needs around 10^8 steps, far more than this.
QUICK = 0.03
MAX_ALPHABET = 32
OPTIONAL = ("ray", "psycopg", "ctranslate2")


def _modules() -> Iterator[object]:
    for package in (models, service):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            try:
                yield importlib.import_module(info.name)
            except ImportError as error:  # an optional extra that is not installed
                if not any(name in str(error) for name in OPTIONAL):
                    raise


def patterns() -> list[tuple[str, re.Pattern[str]]]:
    found: dict[tuple[str, int], tuple[str, re.Pattern[str]]] = {}
    for module in _modules():
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                found[(value.pattern, value.flags)] = (f"{module.__name__}.{name}", value)  # type: ignore[attr-defined]
    return sorted(found.values(), key=lambda item: item[0])


def shapes(pattern: re.Pattern[str]) -> Iterator[Callable[[int], str]]:
    own = set(pattern.pattern) - set("\\^$|?*+{}")
    symbols = sorted(char for char in own if not char.isalnum())
    letters = sorted(char for char in own if char.isalnum())
    alphabet = sorted({*symbols, *letters[: max(0, MAX_ALPHABET - len(symbols))], " ", "a", "A", "1", ".", "\n", "\t"})
    for char in alphabet:
        yield lambda n, c=char: c * n
        yield lambda n, c=char: (c * 7 + "\n") * (n // 8)
    for first, second in itertools.permutations(alphabet, 2):
        if first.isalnum() and second.isalnum():
            continue  # runs of letters and digits are the text itself, not delimiters
        yield lambda n, a=first, b=second: (a + b) * (n // 2)
        yield lambda n, a=first, b=second: a + b * (n - 1)
        # prefix, pump, then a suffix that fails: the shape that makes `x.*?(y+z)?` backtrack
        yield lambda n, a=first, b=second: a + b + "x" + b * (n - 4) + "x"


def _slowest(pattern: re.Pattern[str], text: str) -> float:
    worst = 0.0
    # `finditer` tries every position, so it does all that `search` and `match` do and more;
    # `fullmatch` is the one anchored at both ends (a different backtracking path).
    for run in (pattern.fullmatch, lambda t: sum(1 for _ in pattern.finditer(t))):
        started = time.perf_counter()
        run(text)
        worst = max(worst, time.perf_counter() - started)
    return worst


@pytest.mark.parametrize(("name", "pattern"), patterns(), ids=lambda value: value if isinstance(value, str) else "")
def test_pattern_is_linear(name: str, pattern: re.Pattern[str]) -> None:
    assert_linear(name, pattern)


def assert_linear(name: str, pattern: re.Pattern[str], rounds: int = 3) -> None:
    """Each shape at n and 2n; a shape over the bound is timed again, up to `rounds` rounds (a busy
    machine can spoil one; a quadratic pattern fails every round)."""
    for shape in shapes(pattern):
        double = _slowest(pattern, shape(2 * SIZE))
        if double < QUICK:
            continue
        for _ in range(rounds):
            single = min(_slowest(pattern, shape(SIZE)) for _ in range(5))
            double = min(double, *(_slowest(pattern, shape(2 * SIZE)) for _ in range(4)))
            if double <= 2.5 * single + QUICK:
                break
        assert double <= 2.5 * single + QUICK, (
            f"{name}: {shape(12)!r}… {single:.4f} s at {SIZE}, {double:.4f} s at {2 * SIZE}"
        )


def test_the_fuzzer_catches_a_quadratic_pattern() -> None:
    """The check itself can fail: the old markdown heading pattern is caught."""
    old = re.compile(r"(?P<marks>#{1,6}[ \t]+)(?P<text>.*?)(?P<close>[ \t]+#+)?")
    with pytest.raises(AssertionError):
        assert_linear("old heading", old, rounds=1)


STATIC = Path(__file__).resolve().parents[2] / "service" / "web" / "static"
# A JavaScript regex literal: a `/` where an expression starts, so it cannot be division.
_JS_LITERAL = re.compile(r"(?:[(,=:|&!?;{}\[]|\breturn)\s*/((?:\\.|\[(?:\\.|[^\]\\\n])*\]|[^/\\\n\[])+)/([dgimsuvy]*)")


def js_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """The page's regex literals, compiled by Python's backtracking engine, which fails on the same
    shapes as V8's: nested or adjacent quantifiers over the same characters."""
    found: list[tuple[str, re.Pattern[str]]] = []
    for script in sorted(STATIC.glob("*.js")):
        for match in _JS_LITERAL.finditer(script.read_text(encoding="utf-8")):
            flags = re.IGNORECASE if "i" in match.group(2) else 0
            found.append((f"{script.name}: /{match.group(1)}/{match.group(2)}", re.compile(match.group(1), flags)))
    return found


def test_the_page_scripts_regexes_are_found() -> None:
    assert js_patterns(), "no regex literal found in service/web/static/*.js: the extractor is broken"


@pytest.mark.parametrize(("name", "pattern"), js_patterns(), ids=lambda value: value if isinstance(value, str) else "")
def test_page_pattern_is_linear(name: str, pattern: re.Pattern[str]) -> None:
    test_pattern_is_linear(name, pattern)


def test_the_fuzzer_catches_the_pages_old_sentence_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's old end-of-sentence count, quadratic on runs of dots (smaller inputs: it is slow)."""
    monkeypatch.setattr(sys.modules[__name__], "SIZE", 1500)
    old = re.compile(r"""[.!?…]+(?=[\s»"')\]]|$)""")
    with pytest.raises(AssertionError):
        test_pattern_is_linear("old page pattern", old)
