"""Glossaries in DeepL's format: CSV rows `source,target` (optionally `,source_lang,target_lang`, as DeepL
accepts), or TSV lines `source<TAB>target` (DeepL's `entries_format=tsv`), read into a key's term
glossary (`service.memory.terms`) and written back the same way. Read with the standard `csv` module;
the first bad row is an `ExchangeError` with its line, and nothing is imported unless every row is good.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from models.glossary import MAX_TERM_CHARS, term_key
from service.memory.exchange import ExchangeError, ExchangeFormat
from service.memory.terms import Entry, Glossary

INVALID = "invalid_glossary"
MAX_ENTRY = 1024  # characters of an entry's English (its French is a term: `MAX_TERM_CHARS`)
GLOSSARY_MEDIA = {ExchangeFormat.CSV: "text/csv", ExchangeFormat.TSV: "text/tab-separated-values"}


def import_glossary(data: bytes, kind: ExchangeFormat) -> tuple[Entry, ...]:
    """Every entry of a glossary (blank lines are allowed and skipped)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ExchangeError("the glossary is not UTF-8 text", line, code=INVALID) from None
    rows: Iterator[list[str]] = (
        (line.split("\t") for line in text.splitlines())
        if kind is ExchangeFormat.TSV
        else csv.reader(io.StringIO(text, newline=""), strict=True)
    )
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    try:
        for number, row in enumerate(rows, start=1):
            line = getattr(rows, "line_num", number)
            if not any(cell.strip() for cell in row):
                continue
            entries.append(_entry(row, line, kind))
            first = seen.setdefault(term_key(entries[-1].source), line)
            if first != line:
                message = f"duplicate source entry (the same term as line {first}, case and spaces aside)"
                raise ExchangeError(message, line, code=INVALID)
    except csv.Error as error:
        raise ExchangeError(f"not valid CSV: {error}", getattr(rows, "line_num", 0), code=INVALID) from None
    if not entries:
        raise ExchangeError("the glossary has no entries: nothing to import", code=INVALID)
    return tuple(entries)


def export_glossary(glossary: Glossary, kind: ExchangeFormat) -> bytes:
    """The entries in DeepL's format: CSV `source,target` rows (quoted where needed), or TSV lines."""
    if kind is ExchangeFormat.TSV:
        return "".join(f"{entry.source}\t{entry.target}\n" for entry in glossary.entries).encode()
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows((entry.source, entry.target) for entry in glossary.entries)
    return out.getvalue().encode()


def _entry(row: list[str], line: int, kind: ExchangeFormat) -> Entry:
    shape = "source<TAB>target" if kind is ExchangeFormat.TSV else "source,target (or source,target,fr,en)"
    if len(row) == 4 and kind is ExchangeFormat.CSV:
        languages = (row[2].strip().lower(), row[3].strip().lower())
        if (languages[0].split("-")[0], languages[1].split("-")[0]) != ("fr", "en"):
            raise ExchangeError(f"this entry is {row[2]}→{row[3]}; only fr→en is read", line, code=INVALID)
    elif len(row) != 2:
        raise ExchangeError(f"expected 2 fields ({shape}), found {len(row)}", line, code=INVALID)
    source, target = row[0].strip(), row[1].strip()
    if not source or not target:
        raise ExchangeError("an entry needs both a French source and an English target", line, code=INVALID)
    if len(source) > MAX_TERM_CHARS:
        raise ExchangeError(f"a French term is longer than {MAX_TERM_CHARS} characters", line, code=INVALID)
    if len(target) > MAX_ENTRY:
        raise ExchangeError(f"an entry's English is longer than {MAX_ENTRY} characters", line, code=INVALID)
    for side in (source, target):
        if any(ord(c) < 32 for c in side):
            message = "an entry holds a control character (a tab or line break inside a field)"
            raise ExchangeError(message, line, code=INVALID)
    return Entry(source, target)
