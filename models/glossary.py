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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FLAG_GLOSSARY_LOST = "glossary_lost"
MAX_TERMS = 1000
MAX_TERM_CHARS = 200
_PREFIXES = ("QZ", "ZQ", "QJ", "JQ", "KZ", "ZK")  # the first one absent from the sentence is used


class GlossaryError(ValueError):
    """A glossary file or term list that cannot be used; the message says what to fix."""


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
        """These terms with `override`'s added; on the same French term `override` wins."""
        mine = {fr.casefold(): (fr, en) for fr, en in self.glossary}
        mine.update({fr.casefold(): (fr, en) for fr, en in override.glossary})
        keep = {term.casefold(): term for term in self.keep} | {term.casefold(): term for term in override.keep}
        return Terms(tuple(mine.values()), tuple(keep.values()))

    def __bool__(self) -> bool:
        return bool(self.glossary or self.keep)


@dataclass(frozen=True, slots=True)
class Protected:
    """`text` with its protected terms replaced; `slots` are (placeholder, text to put back)."""

    text: str
    slots: tuple[tuple[str, str], ...] = ()


def _term_pattern(term: str) -> str:
    """A term as a regex: any run of spaces, either apostrophe, whole words only."""
    parts = []
    for char in term:
        if char.isspace():
            if not parts or parts[-1] != r"\s+":
                parts.append(r"\s+")
        elif char in "'’":
            parts.append("['’]")
        else:
            parts.append(re.escape(char))
    return r"(?<!\w)" + "".join(parts) + r"(?!\w)"


@lru_cache(maxsize=64)
def _matcher(terms: Terms) -> tuple[re.Pattern[str], tuple[str | None, ...]]:
    """One alternation, longest term first; group i gives the English of term i (None: keep)."""
    entries: dict[str, tuple[str, str | None]] = {term.casefold(): (term, None) for term in terms.keep}
    entries.update({fr.casefold(): (fr, en) for fr, en in terms.glossary})  # a fixed English wins
    ordered = sorted(entries.values(), key=lambda item: len(item[0]), reverse=True)
    pattern = "|".join(f"({_term_pattern(term)})" for term, _ in ordered)
    return re.compile(pattern, re.IGNORECASE), tuple(en for _, en in ordered)


def protect(text: str, terms: Terms) -> Protected:
    """Replace each glossary or keep term found in `text` by a numbered placeholder."""
    if not terms:
        return Protected(text)
    lowered = text.casefold()
    prefix = next((p for p in _PREFIXES if p.casefold() not in lowered), None)
    if prefix is None:
        return Protected(text)
    pattern, english = _matcher(terms)
    slots: list[tuple[str, str]] = []

    def substitute(match: re.Match[str]) -> str:
        value = english[match.lastindex - 1] if match.lastindex else None
        placeholder = f"{prefix}{len(slots) + 1}"
        slots.append((placeholder, value if value is not None else match.group()))
        return placeholder

    protected = pattern.sub(substitute, text)
    return Protected(protected, tuple(slots))


def _placeholder_pattern(placeholder: str) -> re.Pattern[str]:
    letters, digits = placeholder[:2], placeholder[2:]
    spaced = r"[\s-]?".join(map(re.escape, letters)) + r"[\s-]?" + re.escape(digits)
    return re.compile(rf"(?<![^\W\d_]){spaced}(?!\d)", re.IGNORECASE)


def restore(translated: str, protected: Protected) -> str | None:
    """`translated` with each placeholder put back; None if one is missing or doubled."""
    result = translated
    for placeholder, value in protected.slots:
        pattern = _placeholder_pattern(placeholder)
        if len(pattern.findall(result)) != 1:
            return None
        result = pattern.sub(lambda _: value, result)
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
    if not isinstance(glossary, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in glossary.items()):
        raise GlossaryError(f"{path}: 'glossary' must map French strings to English strings")
    if not isinstance(keep, list) or not all(isinstance(term, str) for term in keep):
        raise GlossaryError(f"{path}: 'keep' must be a list of strings")
    return Terms.of(glossary, keep)
