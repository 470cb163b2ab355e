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
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from models.cache import CachedEngine
from models.engine import Engine
from models.memory import MemoryMode, MemoryUse, Query, lookup
from service import clock
from service.jobs import document_files, index, outputs, retro_log
from service.jobs.diskcache import SqliteCacheStore
from service.jobs.documents import document_id
from service.jobs.names import display_name
from service.jobs.outdir import CACHE_FILE, opened_outdir
from service.jobs.readers import read_archive
from service.jobs.records import DocumentStatus, Record
from service.jobs.retro_log import Before
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


def _english(payload: dict[str, Any]) -> Before:
    """Each sentence's English by its place (block, sentence): what a document said before an application."""
    return {(block, int(s.get("index", 0))): str(s.get("en", "")) for block, s in _sentences(payload)}


def _changes(before: Before, after: dict[str, Any]) -> tuple[SentenceChange, ...]:
    changed = []
    for block, sentence in _sentences(after):
        previous = before.get((block, int(sentence.get("index", 0))))
        if previous is not None and previous != sentence.get("en"):
            changed.append(
                SentenceChange(
                    block,
                    int(sentence.get("index", 0)),
                    str(sentence.get("fr", "")),
                    previous,
                    str(sentence.get("en", "")),
                    str(sentence.get("source", "")),
                )
            )
    return tuple(changed)


def _change_line(name: str, sentences: Sequence[SentenceChange]) -> dict[str, Any]:
    return {"name": name, "sentences": [asdict(change) for change in sentences]}


def _from_line(ident: str, line: dict[str, Any]) -> DocumentChange | None:
    """A document's change read back from its `done` line (None when it changed nothing)."""
    try:
        sentences = tuple(SentenceChange(**change) for change in line.get("sentences") or ())
    except TypeError:  # a line this version cannot read: its document was rewritten, its detail is lost
        sentences = ()
    return DocumentChange(ident, str(line.get("name", "")), sentences) if sentences else None


def _stem(record: dict[str, Any]) -> str | None:
    paths = document_files.produced(record).values()
    return document_files.stem(next(iter(paths))) if paths else None


def apply_with_cache(target: RunSpec, model: Engine, memory: MemoryUse, results: Path | None = None) -> Applied:
    """`apply_memory` through the output's own disk cache in front of `model`."""
    cache = SqliteCacheStore(target.outdir / CACHE_FILE)
    try:
        return apply_memory(target, CachedEngine(model, cache), memory, results)
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


def apply_memory(target: RunSpec, engine: Engine, memory: MemoryUse, results: Path | None = None) -> Applied:
    """Rewrite the documents of `target` the memory now changes; `engine` should be the run's cached one;
    `results`, where a zip of the outputs is kept up to date (the jobs API's `results.zip`).

    Resumable: an application a crash stopped is finished by the next one (`service.jobs.retro_log`),
    whose report then covers the whole application, the documents rewritten before the crash included.
    """
    outdir = target.outdir
    with opened_outdir(outdir) as manifest, closing(retro_log.Log(outdir)) as log:
        records = outputs.latest_records(outdir / outputs.MANIFEST)
        application = retro_log.unfinished(outdir)
        resumed = application is not None
        if application is None:
            application = log.new()
        for ident, record in records.items():
            if ident in application.planned:  # planned by the run this one resumes: done, or rewritten below
                continue
            payload = _read(outdir, record)
            if payload is not None and would_change(payload, memory):
                log.plan(application, ident, _english(payload))  # before any of its files is rewritten
        wanted = application.pending
        if not wanted and not resumed:
            return Applied(len(records), ())
        output = Output(outdir, html_renderer(), target.config.layouts, None, target.config.subtitle_style)
        for group in _groups(target, engine, memory, records, set(wanted)):
            for written in translate_group(group, engine, target.options, output):
                if written.status is not DocumentStatus.OK:  # not rewritten: its earlier files and record stand
                    continue
                records[written.id] = written.as_json() | {"at": clock.now()}
                manifest.append(records[written.id])
                after = _read(outdir, records[written.id])
                sentences = _changes(wanted[written.id], after) if after is not None else ()
                log.done(application, written.id, _change_line(written.name, sentences))
        rows = list(records.values())
        title = display_name(target.source.name)
        outputs.write_atomic(outdir / outputs.INDEX, index.render_index(title, rows).encode("utf-8"))
        if results is not None:
            outputs.write_results_zip(outdir, results)
        log.finish(application, len(records))
        return _applied(application, len(records))


def _applied(application: retro_log.Application, checked: int) -> Applied:
    changed = (_from_line(ident, line) for ident, line in application.done.items())
    return Applied(checked, tuple(change for change in changed if change is not None))


def last_applied(outdir: Path) -> tuple[Applied, bool] | None:
    """The report of the last application of the memory to `outdir`, and whether it finished (one that
    stopped midway reports the documents it rewrote); None when the memory was never applied to it."""
    application = retro_log.last(outdir)
    if application is None:
        return None
    finished = application.checked is not None
    return _applied(application, application.checked or len(application.planned)), finished


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
