"""Applying the translation memory to a finished output retroactively (`POST /v1/jobs/{id}/apply-memory`).

Every translated sentence of every written document is looked up in the memory, in its document's
context, from the document's JSON alone (no archive read, no model). A document with at least one
sentence that now has a context, exact or placeables match with other English is *affected*; only
those are read again from the archive and written again (JSON, HTML, bilingual files), through the
run's own disk cache: the memory answers the matched sentences and the cache the others, so no
sentence goes to the model unless the cache lost it. The report is the difference between the
document's JSON before and after, sentence by sentence.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.cache import CachedEngine
from models.engine import Engine
from models.memory import MemoryMode, MemoryUse, Query, lookup
from service import clock
from service.jobs import document_files, index, outputs
from service.jobs.diskcache import SqliteCacheStore
from service.jobs.documents import document_id
from service.jobs.names import display_name
from service.jobs.outdir import CACHE_FILE, opened_outdir
from service.jobs.readers import read_archive
from service.jobs.records import DocumentStatus, Record
from service.jobs.runner import Output, Pending, RunSpec, admit, html_renderer, translate_group

GROUP_SENTENCES = 512  # affected documents re-rendered together (their cached sentences in one call)


@dataclass(frozen=True, slots=True)
class SentenceChange:
    block: int
    sentence: int
    fr: str
    before: str
    after: str
    source: str  # where `after` came from (`memory:context`, `memory:exact`, …)


@dataclass(frozen=True, slots=True)
class DocumentChange:
    id: str
    name: str
    sentences: tuple[SentenceChange, ...]


@dataclass(frozen=True, slots=True)
class Applied:
    """What one application changed: the documents looked at, and those rewritten with their sentences."""

    checked: int
    documents: tuple[DocumentChange, ...]

    @property
    def sentences(self) -> int:
        return sum(len(document.sentences) for document in self.documents)


def _sentences(payload: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """(block index, sentence) of every sentence of a document's JSON, in reading order."""
    blocks = sorted(payload.get("blocks") or (), key=lambda block: block.get("index", 0))
    return [(block.get("index", 0), s) for block in blocks for s in block.get("sentences") or ()]


def _read(outdir: Path, record: dict[str, Any]) -> dict[str, Any] | None:
    path = record.get("json")
    if record.get("status") != DocumentStatus.OK or not isinstance(path, str):
        return None
    try:
        payload = json.loads((outdir / path).read_bytes())
    except (OSError, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def _plain(sentence: dict[str, Any], side: str) -> Any:
    """A sentence's text as the memory knows it: without its inline markup (`fr_plain`), when it had some."""
    return sentence.get(f"{side}_plain", sentence.get(side))


def would_change(payload: dict[str, Any], memory: MemoryUse) -> bool:
    """Whether the memory now answers a translated sentence of this document with other English."""
    translated = [s for _, s in _sentences(payload) if s.get("source") != "kept" and isinstance(_plain(s, "fr"), str)]
    sources = [str(_plain(s, "fr")) for s in translated]
    queries = [
        Query(fr, sources[k - 1] if k else "", sources[k + 1] if k + 1 < len(sources) else "")
        for k, fr in enumerate(sources)
    ]
    return any(
        match is not None and match.answers(MemoryMode.SUGGEST) and match.english != _plain(sentence, "en")
        for sentence, match in zip(translated, lookup(memory, queries), strict=True)
    )


def _changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[SentenceChange, ...]:
    old = {(b, s.get("index")): s for b, s in _sentences(before)}
    changed = []
    for block, sentence in _sentences(after):
        previous = old.get((block, sentence.get("index")))
        if previous is not None and previous.get("en") != sentence.get("en"):
            changed.append(
                SentenceChange(
                    block,
                    int(sentence.get("index", 0)),
                    str(sentence.get("fr", "")),
                    str(previous.get("en", "")),
                    str(sentence.get("en", "")),
                    str(sentence.get("source", "")),
                )
            )
    return tuple(changed)


def _stem(record: dict[str, Any]) -> str | None:
    paths = document_files.produced(record).values()
    return document_files.stem(next(iter(paths))) if paths else None


def apply_with_cache(target: RunSpec, model: Engine, memory: MemoryUse) -> Applied:
    """`apply_memory` through the output's own disk cache in front of `model`."""
    cache = SqliteCacheStore(target.outdir / CACHE_FILE)
    try:
        return apply_memory(target, CachedEngine(model, cache), memory)
    finally:
        cache.close()


def report_lines(applied: Applied) -> Iterator[str]:
    """What changed, for a terminal: a line per document, then one per sentence (before → after)."""
    yield (
        f"{len(applied.documents)} of {applied.checked} document(s) rewritten, {applied.sentences} sentence(s) changed"
    )
    for document in applied.documents:
        yield f"{document.name}:"
        for change in document.sentences:
            yield f"  [{change.block}.{change.sentence}] {change.before!r} → {change.after!r} ({change.source})"


def apply_memory(target: RunSpec, engine: Engine, memory: MemoryUse) -> Applied:
    """Rewrite the documents of `target` the memory now changes; `engine` should be the run's cached one."""
    outdir = target.outdir
    with opened_outdir(outdir) as manifest:
        records = outputs.latest_records(outdir / outputs.MANIFEST)
        before: dict[str, dict[str, Any]] = {}
        for ident, record in records.items():
            payload = _read(outdir, record)
            if payload is not None and would_change(payload, memory):
                before[ident] = payload
        if not before:
            return Applied(len(records), ())
        output = Output(outdir, html_renderer(), target.config.layouts, None, target.config.subtitle_style)
        changed: list[DocumentChange] = []
        for group in _groups(target, engine, memory, records, set(before)):
            for written in translate_group(group, engine, target.options, output):
                if written.status is not DocumentStatus.OK:  # not rewritten: its earlier files and record stand
                    continue
                records[written.id] = written.as_json() | {"at": clock.now()}
                manifest.append(records[written.id])
                after = _read(outdir, records[written.id])
                sentences = _changes(before[written.id], after) if after is not None else ()
                if sentences:
                    changed.append(DocumentChange(written.id, written.name, sentences))
        rows = list(records.values())
        title = display_name(target.source.name)
        outputs.write_atomic(outdir / outputs.INDEX, index.render_index(title, rows).encode("utf-8"))
    return Applied(len(records), tuple(changed))


def _groups(
    target: RunSpec, engine: Engine, memory: MemoryUse, records: dict[str, dict[str, Any]], wanted: set[str]
) -> Iterator[Sequence[Pending]]:
    """The wanted documents read again from the archive, admitted with the memory, in bounded groups."""
    group: list[Pending] = []
    for entry in read_archive(target.source, target.config.caps):
        ident = document_id(entry)
        if ident not in wanted:
            continue
        admitted = admit(ident, entry, engine, target.options, target.config, _stem(records[ident]), memory=memory)
        if not isinstance(admitted, Record):  # a document that no longer reads keeps its files
            group.append(admitted)
        if sum(len(p.pieces) for p in group) >= GROUP_SENTENCES:
            yield group
            group = []
    if group:
        yield group
