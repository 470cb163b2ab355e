"""Glossary and do-not-translate terms: protected by placeholders the model copies, then restored.

Placeholder form: `QZ1`, `QZ2`, … (upper-case letters and a digit, no word in French or English).
How others fare with Marian/OPUS models decided it:

- OPUS-MT models are not trained with placeholder tokens (translateLocally #127: "the model has
  to be trained with placeholder support"), so special tokens such as `<NUM1>` (marian #123) or
  `<extra_id_0>` (transformers #9025) are not reliably copied, and markup-like `<x>` gets
  "translated" into broken tags (EasyNMT #35).
- Punctuation-heavy forms are split into separate sentencepiece pieces that the model may drop
  or squeeze: LibreTranslate #944 (`###T01###`), Weblate's `[X7X]` needs a regex that tolerates
  a space before `]`.
- What the models do copy is what their training data is full of and never translates: codes
  and references made of capital letters and digits (`A380`, `COVID-19`, `G7`). `QZ` avoids the
  Roman-numeral letters (I V X L C D M) so it is never read as a number, and no piece of it is
  a French or English word; the digit tells placeholders apart and is copied like any figure.

Restoration tolerates the case or spacing a model may add (`qz 1`). Every placeholder must come
back exactly once; otherwise `restore` returns None and the caller retranslates without
protection and flags the sentence `glossary_lost`.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from models.flags import Flag

FLAG_GLOSSARY_LOST = Flag.GLOSSARY_LOST
MAX_TERMS = 1000
MAX_TERM_CHARS = 200
_PREFIXES = ("QZ", "ZQ", "QJ", "JQ", "KZ", "ZK")  # the first one absent from the sentence is used


class GlossaryError(ValueError):
    """A glossary file or term list that cannot be used; the message says what to fix."""


def term_key(term: str) -> str:
    """What makes two French terms the same term to `protect`: case, runs of spaces and the apostrophe's
    form do not count (`Conseil  d’État` is `conseil d'état`)."""
    return " ".join(term.split()).casefold().replace("’", "'")


@dataclass(frozen=True, slots=True)
class Terms:
    """French terms with a fixed English (`glossary`) and terms to keep as written (`keep`)."""

    glossary: tuple[tuple[str, str], ...] = ()
    keep: tuple[str, ...] = ()

    @classmethod
    def of(cls, glossary: Mapping[str, str] | None = None, keep: Sequence[str] = ()) -> Terms:
        """Validated terms; blank or over-long terms are refused rather than silently skipped."""
        pairs = tuple((fr.strip(), en.strip()) for fr, en in (glossary or {}).items())
        kept = tuple(term.strip() for term in keep)
        if len(pairs) + len(kept) > MAX_TERMS:
            raise GlossaryError(f"at most {MAX_TERMS} glossary and keep terms are allowed")
        for term in [fr for fr, _ in pairs] + list(kept):
            if not term or len(term) > MAX_TERM_CHARS:
                raise GlossaryError(f"terms must be 1 to {MAX_TERM_CHARS} characters long; got {term[:40]!r}")
        if any(not en for _, en in pairs):
            raise GlossaryError("a glossary term needs a non-empty English translation")
        return cls(pairs, kept)

    def merged(self, override: Terms) -> Terms:
        """These terms with `override`'s added; on the same French term (`term_key`) `override` wins."""
        mine = {term_key(fr): (fr, en) for fr, en in self.glossary}
        mine.update({term_key(fr): (fr, en) for fr, en in override.glossary})
        keep = {term_key(term): term for term in self.keep} | {term_key(term): term for term in override.keep}
        return Terms(tuple(mine.values()), tuple(keep.values()))

    def __bool__(self) -> bool:
        return bool(self.glossary or self.keep)


@dataclass(frozen=True, slots=True)
class Protected:
    """`text` with its protected terms replaced; `slots` are (placeholder, text to put back)."""

    text: str
    slots: tuple[tuple[str, str], ...] = ()


_MARK = None  # in an encoded text: the next character is not a word character (`(?!\w)`)
Symbol = str | None


def _is_word(char: str) -> bool:
    """What `\\w` matches in a str regex: letters, digits (any script) and the underscore."""
    return char.isalnum() or char == "_"


@lru_cache(maxsize=4096)
def _fold(char: str) -> str:
    """One character compared case-insensitively, still one character (so positions map back)."""
    if char == "’":
        return "'"
    for folded in (char.casefold(), char.lower()):
        if len(folded) == 1:
            return folded
    return char


def _encode(text: str) -> tuple[list[Symbol], list[int], list[int]]:
    """`text` as symbols: folded characters, one " " per whitespace run, a mark before every
    non-word character and at the end. Returns the symbols and each one's span in `text`.

    The marks make the end of a whole-word match part of the string matched, so a plain
    substring automaton enforces it; the start is checked on the text (`(?<!\\w)`).
    """
    symbols: list[Symbol] = []
    starts: list[int] = []
    ends: list[int] = []
    i, size = 0, len(text)
    while i < size:
        char = text[i]
        end = i + 1
        if char.isspace():
            while end < size and text[end].isspace():
                end += 1
        if not _is_word(char):
            symbols.append(_MARK)
            starts.append(i)
            ends.append(i)
        symbols.append(" " if char.isspace() else _fold(char))
        starts.append(i)
        ends.append(end)
        i = end
    symbols.append(_MARK)
    starts.append(size)
    ends.append(size)
    return symbols, starts, ends


def _term_symbols(term: str) -> tuple[Symbol, ...]:
    """A term as the symbols of a whole-word match: any run of spaces, either apostrophe, any case."""
    symbols = _encode(term)[0]
    return tuple(symbols[1:] if symbols and symbols[0] is _MARK else symbols)


@dataclass(frozen=True, slots=True)
class _Automaton:
    """Aho–Corasick over the reversed terms: one pass over a reversed text finds, for every
    position, the longest term that starts there, in time linear in the text whatever the
    number of terms (a regex alternation of 1,000 terms tries each one at every character)."""

    children: tuple[dict[Symbol, int], ...]
    fail: tuple[int, ...]
    depth: tuple[int, ...]
    output: tuple[int, ...]  # node of the longest term that is a suffix of this node's path; -1: none
    term: tuple[int, ...]  # index into `english` of the term ending at this node; -1: none
    english: tuple[str | None, ...]  # None: a keep term, put back as written

    def longest_from(self, symbols: list[Symbol]) -> list[tuple[int, int]]:
        """For each position: (symbols in the longest term starting there, its index), or (0, -1)."""
        size = len(symbols)
        found = [(0, -1)] * size
        children, fail, depth, output, term = self.children, self.fail, self.depth, self.output, self.term
        node = 0
        for position in range(size - 1, -1, -1):
            symbol = symbols[position]
            while node and symbol not in children[node]:
                node = fail[node]
            node = children[node].get(symbol, 0)
            hit = output[node]
            if hit >= 0:
                found[position] = (depth[hit], term[hit])
        return found


@lru_cache(maxsize=16)
def _matcher(terms: Terms) -> _Automaton:
    """The automaton of `terms`; on the same term a fixed English wins over keeping it."""
    entries: dict[tuple[Symbol, ...], str | None] = {_term_symbols(term): None for term in terms.keep}
    entries.update({_term_symbols(fr): en for fr, en in terms.glossary})
    children: list[dict[Symbol, int]] = [{}]
    depth, term = [0], [-1]
    english: list[str | None] = []
    for symbols, en in entries.items():
        node = 0
        for symbol in reversed(symbols):
            child = children[node].get(symbol)
            if child is None:
                child = len(children)
                children[node][symbol] = child
                children.append({})
                depth.append(depth[node] + 1)
                term.append(-1)
            node = child
        term[node] = len(english)
        english.append(en)
    fail, output = [0] * len(children), [-1] * len(children)
    queue = deque([0])
    while queue:
        node = queue.popleft()
        for symbol, child in children[node].items():
            if node:
                back = fail[node]
                while back and symbol not in children[back]:
                    back = fail[back]
                fail[child] = children[back].get(symbol, 0)
            output[child] = child if term[child] >= 0 else output[fail[child]]
            queue.append(child)
    return _Automaton(tuple(children), tuple(fail), tuple(depth), tuple(output), tuple(term), tuple(english))


def protect(text: str, terms: Terms) -> Protected:
    """Replace each glossary or keep term found in `text` by a numbered placeholder.

    Leftmost match first, the longest term where several start at the same place, whole words
    only (as `(?<!\\w)term(?!\\w)` would), case-insensitive; linear in the length of `text`.
    """
    if not terms:
        return Protected(text)
    lowered = text.casefold()
    prefix = next((p for p in _PREFIXES if p.casefold() not in lowered), None)
    if prefix is None:
        return Protected(text)
    automaton = _matcher(terms)
    symbols, starts, ends = _encode(text)
    longest = automaton.longest_from(symbols)
    slots: list[tuple[str, str]] = []
    pieces: list[str] = []
    done = position = 0
    while position < len(symbols):
        length, index = longest[position]
        start = starts[position]
        if length and (start == 0 or not _is_word(text[start - 1])):
            end = ends[position + length - 2]  # the last symbol is the end mark
            value = automaton.english[index]
            placeholder = f"{prefix}{len(slots) + 1}"
            slots.append((placeholder, value if value is not None else text[start:end]))
            pieces += [text[done:start], placeholder]
            done = end
            position += length
        else:
            position += 1
    pieces.append(text[done:])
    return Protected("".join(pieces), tuple(slots))


def placeholder_pattern(placeholder: str) -> re.Pattern[str]:
    letters, digits = placeholder[:2], placeholder[2:]
    spaced = r"[\s-]?".join(map(re.escape, letters)) + r"[\s-]?" + re.escape(digits)
    return re.compile(rf"(?<![^\W\d_]){spaced}(?!\d)", re.IGNORECASE)


def numbered_placeholder_pattern(letters: str) -> re.Pattern[str]:
    """Every placeholder `letters` + a number at once, as `placeholder_pattern` finds each one: the
    number (no leading zero, as written) is the group `number`."""
    spaced = r"[\s-]?".join(map(re.escape, letters)) + r"[\s-]?"
    return re.compile(rf"(?<![^\W\d_]){spaced}(?P<number>[1-9]\d*)(?!\d)", re.IGNORECASE)


def _constant(text: str) -> Callable[[re.Match[str]], str]:
    """A replacement that inserts `text` as is (a string replacement would expand its backslashes)."""
    return lambda _match: text


def restore(translated: str, protected: Protected) -> str | None:
    """`translated` with each placeholder put back; None if one is missing or doubled."""
    result = translated
    for placeholder, value in protected.slots:
        pattern = placeholder_pattern(placeholder)
        if len(pattern.findall(result)) != 1:
            return None
        result = pattern.sub(_constant(value), result)
    return result


def load_terms(path: Path) -> Terms:
    """A server-wide glossary file: `{"glossary": {"fr": "en", …}, "keep": ["…", …]}` (UTF-8 JSON)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise GlossaryError(f"cannot read glossary file {path}: {error}") from None
    if not isinstance(data, dict) or set(data) - {"glossary", "keep"}:
        raise GlossaryError(f"glossary file {path} must be a JSON object with 'glossary' and/or 'keep'")
    glossary, keep = data.get("glossary", {}), data.get("keep", [])
    if not isinstance(glossary, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in glossary.items()
    ):
        raise GlossaryError(f"{path}: 'glossary' must map French strings to English strings")
    if not isinstance(keep, list) or not all(isinstance(term, str) for term in keep):
        raise GlossaryError(f"{path}: 'keep' must be a list of strings")
    return Terms.of(glossary, keep)
