"""Placeables: the numbers and dates of a sentence, which a memory match may differ by.

`skeleton(normalised)` replaces each placeable of a normalised French sentence with a token of its
kind, so "le 12 mars 2024, 3,5 %" and "le 1er avril 2025, 7 %" share one skeleton. When a unit
matches a sentence only through its skeleton, `swap(unit_french, unit_english, sentence)` puts the
sentence's values into the unit's English where the unit's values were, written the English way
(`3,5` → `3.5`, `1 234` → `1,234`, `12 mars 2024` → `March 12, 2024` or `12 March 2024`, as the
English had it). A value that cannot be found exactly once in the English gives no swap (`None`):
the match is then not used as an exact one, never half-swapped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class PlaceableKind(StrEnum):
    NUMBER = "number"
    DATE = "date"


# Private-use characters: never in a normalised sentence, so a skeleton cannot collide with text.
_TOKEN = {PlaceableKind.NUMBER: "\ue000", PlaceableKind.DATE: "\ue001"}

MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

_SP = r"[ \u00a0\u202f]"
_DATE_FR = re.compile(rf"(?<!\w)(1er|\d{{1,2}}){_SP}+({'|'.join(MONTHS_FR)})(?:{_SP}+(\d{{4}}))?(?!\w)", re.IGNORECASE)
_NUMBER_FR = re.compile(rf"(?<![\w,.])(\d{{1,3}}(?:{_SP}\d{{3}})+(?:,\d+)?|\d+(?:,\d+)?)(?![\w]|,\d)")
_NUMBER_EN = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\w]|\.\d)")
_ORDINAL = r"(?:st|nd|rd|th)?"


@dataclass(frozen=True, slots=True)
class Placeable:
    kind: PlaceableKind
    start: int
    end: int
    value: tuple[object, ...]  # a number: (Decimal, its decimals); a date: (day, month, year or None)


def placeables(text: str) -> list[Placeable]:
    """The dates, then the numbers outside them, of a French sentence, in reading order."""
    found: list[Placeable] = []
    taken: list[tuple[int, int]] = []
    for m in _DATE_FR.finditer(text):
        day = 1 if m.group(1).lower() == "1er" else int(m.group(1))
        month = MONTHS_FR.index(m.group(2).lower()) + 1
        year = int(m.group(3)) if m.group(3) else None
        if 1 <= day <= 31:
            found.append(Placeable(PlaceableKind.DATE, m.start(), m.end(), (day, month, year)))
            taken.append((m.start(), m.end()))
    date = 0  # dates and numbers both come in reading order: one pointer, not a scan of every date
    for m in _NUMBER_FR.finditer(text):
        while date < len(taken) and taken[date][1] <= m.start():
            date += 1
        if date < len(taken) and taken[date][0] <= m.start():
            continue
        whole, _, decimals = re.sub(_SP, "", m.group(1)).partition(",")
        value = Decimal(f"{whole}.{decimals}" if decimals else whole)
        found.append(Placeable(PlaceableKind.NUMBER, m.start(), m.end(), (value, len(decimals))))
    return sorted(found, key=lambda p: p.start)


def skeleton(text: str) -> str:
    """`text` with each placeable replaced by its kind's token."""
    out, last = [], 0
    for p in placeables(text):
        out += [text[last : p.start], _TOKEN[p.kind]]
        last = p.end
    return "".join(out) + text[last:]


def swap(unit_french: str, unit_english: str, french: str) -> str | None:
    """The unit's English with `french`'s placeables where `unit_french`'s were; None when it cannot be
    done safely (different placeables, or a changed value not found exactly once in the English)."""
    old, new = placeables(unit_french), placeables(french)
    if [p.kind for p in old] != [p.kind for p in new]:
        return None
    edits: list[tuple[int, int, str]] = []
    for before, after in zip(old, new, strict=True):
        if before.value == after.value:
            continue
        if sum(p.value == before.value for p in old) != 1:
            return None  # the same value twice in the French: which English one is which is unknown
        spots = _in_english(before, unit_english)
        if len(spots) != 1:
            return None
        start, end, style = spots[0]
        if before.kind is PlaceableKind.DATE and before.value[2] != after.value[2] and not style.endswith("+year"):
            return None  # the year changed but the English does not write it: nowhere to put it
        edits.append((start, end, _write(after, style)))
    edits.sort()
    if any(a[1] > b[0] for a, b in zip(edits, edits[1:], strict=False)):
        return None
    english = unit_english
    for start, end, text in reversed(edits):
        english = english[:start] + text + english[end:]
    return english


def _in_english(p: Placeable, english: str) -> list[tuple[int, int, str]]:
    """Where the English writes `p`'s value: (start, end, style) for each occurrence."""
    if p.kind is PlaceableKind.NUMBER:
        value = p.value[0]
        spots = []
        for m in _NUMBER_EN.finditer(english):
            if Decimal(m.group(1).replace(",", "")) == value:
                spots.append((m.start(), m.end(), "grouped" if "," in m.group(1) else "plain"))
        return spots
    day, month, year = p.value
    name = MONTHS_EN[int(str(month)) - 1]
    year_part = f"(?:,? {year})?" if year is not None else ""
    forms = {
        "month-first": rf"(?<!\w){name} {day}{_ORDINAL}{year_part}(?!\w)",
        "day-first": rf"(?<!\w){day}{_ORDINAL} (?:of )?{name}{year_part.replace(',? ', ' ')}(?!\w)",
    }
    spots = []
    for style, pattern in forms.items():
        for m in re.finditer(pattern, english):
            with_year = year is not None and str(year) in m.group(0)
            spots.append((m.start(), m.end(), f"{style}{'+year' if with_year else ''}"))
    return spots


def _write(p: Placeable, style: str) -> str:
    if p.kind is PlaceableKind.NUMBER:
        value, decimals = p.value
        assert isinstance(value, Decimal) and isinstance(decimals, int)
        whole = int(value)
        grouped = f"{whole:,}" if style == "grouped" or whole >= 10_000 else str(whole)
        return grouped + (f".{str(value).partition('.')[2].ljust(decimals, '0')}" if decimals else "")
    day, month, year = p.value
    name = MONTHS_EN[int(str(month)) - 1]
    with_year = style.endswith("+year") and year is not None
    if style.startswith("month-first"):
        return f"{name} {day}" + (f", {year}" if with_year else "")
    return f"{day} {name}" + (f" {year}" if with_year else "")
