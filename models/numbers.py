"""Numbers, amounts, dates and times in French source text and English output, as comparable values.

MarianMT sometimes changes a figure (LibreTranslate #587, #578). To notice, each figure of the
French sentence must be found again in the English one, and the two languages write the same value
differently: `3,5 %` / `3.5%`, `1 000` (space, no-break or narrow no-break space) / `1,000`,
`1,5 milliard $` / `$1.5 billion`, `13 sept. 2023` / `September 13, 2023`, `14 h 30` / `2:30 p.m.`.

A `Quantity` holds every value its text may mean (a set, because `1,500` is 1.5 in French and 1500
in English); two quantities match when their sets meet. Months are tagged apart from plain numbers
so that September never stands in for a `9`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

Value = tuple[str, Decimal]
"""(`"num"` | `"month"`, value)."""


@dataclass(frozen=True, slots=True)
class Quantity:
    text: str
    values: frozenset[Value]


_SPACES = " \u00a0\u202f\u2009"
_GROUPED_SPACE = rf"\d{{1,3}}(?:[{_SPACES}]\d{{3}})+(?![\d])"
_PLAIN = r"\d+(?:[.,]\d+)*"
_NUMBER = re.compile(rf"(?<![\d.,])(?:{_GROUPED_SPACE}|{_PLAIN})")

_FR_SCALES = {
    "mille": 3, "million": 6, "millions": 6, "milliard": 9, "milliards": 9, "billion": 12, "billions": 12,
    "k": 3, "K": 3, "M": 6, "Md": 9, "Mds": 9, "G": 9,
}  # fmt: skip
_EN_SCALES = {
    "thousand": 3, "million": 6, "millions": 6, "billion": 9, "billions": 9, "bn": 9,
    "trillion": 12, "trillions": 12, "k": 3, "K": 3, "M": 6, "m": 6,
}  # fmt: skip
_SCALE_AFTER = {
    lang: re.compile(rf"[{_SPACES}]*({'|'.join(sorted(map(re.escape, table), key=len, reverse=True))})(?![\w])")
    for lang, table in (("fr", _FR_SCALES), ("en", _EN_SCALES))
}
# "5 m" is five metres; a lower-case "m" only scales when glued to the figure ("$5m").
_GLUED_ONLY = {"m"}

_FR_MONTHS = {
    "janvier": 1, "janv": 1, "février": 2, "fevrier": 2, "févr": 2, "fév": 2, "mars": 3, "avril": 4, "avr": 4,
    "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "août": 8, "aout": 8, "septembre": 9, "sept": 9,
    "octobre": 10, "oct": 10, "novembre": 11, "nov": 11, "décembre": 12, "déc": 12, "dec": 12,
}  # fmt: skip
_EN_MONTHS = {
    "January": 1, "Jan": 1, "February": 2, "Feb": 2, "March": 3, "Mar": 3, "April": 4, "Apr": 4, "May": 5,
    "June": 6, "Jun": 6, "July": 7, "Jul": 7, "August": 8, "Aug": 8, "September": 9, "Sept": 9, "Sep": 9,
    "October": 10, "Oct": 10, "November": 11, "Nov": 11, "December": 12, "Dec": 12,
}  # fmt: skip


def _month_pattern(names: Iterable[str], flags: int) -> re.Pattern[str]:
    """A month name that touches a day or a year: `mai` or `May` alone is a word, not a date."""
    alternation = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    return re.compile(
        rf"(?:(?<=\d)(?:er|st|nd|rd|th)?[{_SPACES}]+(?:of[{_SPACES}]+)?({alternation})\.?(?!\w))"
        rf"|(?:(?<!\w)({alternation})\.?(?=[{_SPACES}]+\d))",
        flags,
    )


_FR_MONTH = _month_pattern(_FR_MONTHS, re.IGNORECASE)
# English capitalises months ("may" is a verb); a shouted headline writes them all in capitals.
_EN_MONTH = _month_pattern([*_EN_MONTHS, *(name.upper() for name in _EN_MONTHS)], 0)
# Centuries only ("XXIe siècle", "XIXe et XXe siècles"): "Ve République" becomes "Fifth Republic".
_ROMAN_ORDINAL = re.compile(r"(?<!\w)([IVXLC]+)(?:e|ème|eme)(?!\w)(?=[^.!?]{0,25}\bsiècles?\b)")
_CLOCK_PM = re.compile(rf"(?::\d{{2}})?[{_SPACES}]?([ap])\.?[{_SPACES}]?m\b\.?", re.IGNORECASE)
_EN_WORDS = {
    word: n
    for n, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
} | {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100}
_EN_WORD = re.compile(rf"(?<!\w)({'|'.join(_EN_WORDS)})(?!\w)", re.IGNORECASE)


def _parse(token: str, decimal: str) -> Decimal | None:
    """`token` read with `decimal` as the decimal mark and the other one as a 3-digit group mark."""
    group = "." if decimal == "," else ","
    token = re.sub(f"[{_SPACES}]", "", token)
    whole, _, fraction = token.partition(decimal)
    if decimal in fraction:
        return None
    groups = whole.split(group)
    if len(groups) > 1 and (not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:])):
        return None
    try:
        return Decimal("".join(groups) + ("." + fraction if fraction else ""))
    except InvalidOperation:
        return None


def _readings(token: str, lang: str) -> set[Decimal]:
    """The values a figure may mean: the language's own convention, or the other when that fails."""
    own, other = (",", ".") if lang == "fr" else (".", ",")
    first = _parse(token, own)
    if first is not None:
        return {first}
    second = _parse(token, other)
    return {second} if second is not None else set()


def _roman(numeral: str) -> int:
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
    total = 0
    for char, following in zip(numeral, numeral[1:] + " ", strict=True):
        value = values[char]
        total += -value if following in values and values[following] > value else value
    return total


def _scaled(text: str, end: int, lang: str, readings: set[Decimal]) -> tuple[set[Decimal], int]:
    match = _SCALE_AFTER[lang].match(text, end)
    if not match:
        return readings, end
    word = match.group(1)
    if word in _GLUED_ONLY and match.start(1) != end:
        return readings, end
    power = (_FR_SCALES if lang == "fr" else _EN_SCALES)[word]
    return {value.scaleb(power) for value in readings}, match.end()


def quantities(text: str, lang: str) -> list[Quantity]:
    """Every figure, month-of-a-date and (in English) number word of `text`, in order."""
    if lang not in ("fr", "en"):
        raise ValueError("lang must be 'fr' or 'en'")
    found: list[tuple[int, Quantity]] = []
    for match in _NUMBER.finditer(text):
        values = _readings(match.group(), lang)
        values, end = _scaled(text, match.end(), lang, values)
        if lang == "en" and (clock := _CLOCK_PM.match(text, match.end())) and len(values) == 1:
            (hour,) = values
            if clock.group(1).lower() == "p" and hour < 12:
                values = {hour, hour + 12}
            elif hour == 12:
                values = {hour, Decimal(0)}
        if values:
            found.append((match.start(), Quantity(text[match.start() : end], frozenset(("num", v) for v in values))))
    months = (_FR_MONTH, _FR_MONTHS) if lang == "fr" else (_EN_MONTH, _EN_MONTHS)
    for match in months[0].finditer(text):
        name = match.group(1) or match.group(2)
        number = months[1].get(name.lower() if lang == "fr" else name.title())
        if number is not None:
            found.append((match.start(), Quantity(name, frozenset({("month", Decimal(number))}))))
    if lang == "fr":
        for match in _ROMAN_ORDINAL.finditer(text):
            found.append(
                (match.start(), Quantity(match.group(), frozenset({("num", Decimal(_roman(match.group(1))))})))
            )
    else:
        for match in _EN_WORD.finditer(text):
            values, end = _scaled(text, match.end(), "en", {Decimal(_EN_WORDS[match.group(1).lower()])})
            found.append((match.start(), Quantity(text[match.start() : end], frozenset(("num", v) for v in values))))
    return [quantity for _, quantity in sorted(found, key=lambda item: item[0])]


def unmatched(source: Iterable[Quantity], target: Iterable[Quantity]) -> list[Quantity]:
    """Source quantities with no distinct target quantity of the same value (the most specific first)."""
    available = list(target)
    missing: list[Quantity] = []
    for quantity in sorted(source, key=lambda q: len(q.values)):
        match = next((i for i, candidate in enumerate(available) if candidate.values & quantity.values), None)
        if match is None:
            missing.append(quantity)
        else:
            del available[match]
    return missing


def missing_numbers(fr: str, en: str) -> list[str]:
    """The French figures (as written) that the English no longer carries."""
    return [quantity.text for quantity in unmatched(quantities(fr, "fr"), quantities(en, "en"))]
