"""The batch runner: archive in, one bilingual JSON + standalone HTML per document out, resumable.

Sentences of a group of documents are packed into one engine call (distinct ones only; the
disk cache catches repeats across groups and across runs), then each document is assembled
from that table. A document is done once its files are in place and its manifest record is
fsynced; a rerun skips what is done and translates the rest.

A group is flushed when it holds enough sentences, documents or bytes: documents with nothing to
translate (verbatim only) count too, so pending state stays bounded whatever the archive holds. A
document's bytes are what it holds in memory while it waits (its text as parsed, not its upload
size: a few kilobytes of zipped XML may hold megabytes of text).
With an output cap (`OutputBudget`, the jobs API's `jobs_max_output_bytes`) a document whose JSON
and HTML would pass it is not written, and neither is any after it: each is recorded as skipped
with the reason `output_quota`, so a small archive cannot turn into gigabytes of output.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from models.budgets import group_size
from models.cache import CachedEngine
from models.document import Document
from models.engine import Engine, GenerationOptions
from models.langdetect import check_french
from models.memory import MemoryUse
from models.pipeline import DocumentTooLarge, Plan, answer, plan, translate_texts
from models.repair import Checked, Fidelity
from models.request import TranslationRequest
from service import clock, formats
from service.formats import Layout
from service.jobs import document_files, index, outputs
from service.jobs.config import BatchConfig
from service.jobs.decode import DocumentError
from service.jobs.diskcache import SqliteCacheStore
from service.jobs.documents import Loaded, document_id, load_document
from service.jobs.names import display_name
from service.jobs.outdir import CACHE_FILE, OutputBudget, done_ids, opened_outdir, written_bytes
from service.jobs.outdir import BatchBusy as BatchBusy  # where the CLI and the job manager catch it
from service.jobs.progress import Reporting, SentenceObserver
from service.jobs.readers import Entry, count_entries, read_archive
from service.jobs.reasons import Reason
from service.jobs.records import DocumentStatus, Record
from service.waiting import Cancelled

NO_MEMORY = MemoryUse()  # a run translates with no memory unless given one


class Observer(Protocol):
    """Progress: told the totals once, then every document as it is recorded."""

    def started(self, total: int, already_done: int) -> None: ...

    def finished(self, record: Record) -> None: ...


class _Silent:
    def started(self, total: int, already_done: int) -> None:
        pass

    def finished(self, record: Record) -> None:
        pass


@dataclass
class Summary:
    """What a run did; written to OUTDIR/summary.json and printed by the CLI."""

    documents: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    already_done: int = 0
    sentences: int = 0
    source_tokens: int = 0
    output_tokens: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    reasons: dict[Reason, int] = field(default_factory=dict)

    def count(self, record: Record) -> None:
        """One more document recorded."""
        self.documents += 1
        if record.status is DocumentStatus.OK:
            self.ok += 1
            self.sentences += record.sentences
            self.source_tokens += record.source_tokens
            self.output_tokens += record.output_tokens
            return
        if record.status is DocumentStatus.SKIPPED:
            self.skipped += 1
        else:
            self.failed += 1
        reason = record.reason or Reason.UNPARSABLE
        self.reasons[reason] = self.reasons.get(reason, 0) + 1

    @property
    def cache_hit_rate(self) -> float:
        asked = self.cache_hits + self.cache_misses
        return self.cache_hits / asked if asked else 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"cache_hit_rate": round(self.cache_hit_rate, 4)}


@dataclass(frozen=True, slots=True)
class _Pending:
    """A document admitted to a group: loaded and planned (once: the group translates its plan's texts)."""

    id: str
    name: str
    loaded: Loaded
    plan: Plan
    pieces: tuple[str, ...]  # the plan's texts
    size: int = 0  # the memory it holds while waiting (`Loaded.held_bytes`), for the group's byte bound
    stem: str | None = None  # its bilingual files' stem (`document_files`), unique in the output


Pending = _Pending  # what `admit` gives a group (`service.jobs.retro` re-renders documents with it)


def html_renderer() -> Callable[[dict[str, Any]], str] | None:
    """The web view's standalone page, when that module is installed."""
    try:
        from service.web.export import render_standalone_html
    except ImportError:
        return None
    return render_standalone_html


def _require_french(document: Document) -> None:
    """The fr→en model turns any other language into confident nonsense: skip such documents, saying which language."""
    text = "\n".join(block.text for block in document.blocks if block.translate)
    other = check_french(text).other
    if other is not None:
        raise DocumentError(
            Reason.NOT_FRENCH, f"the document is in {other.language!r} (confidence {other.confidence:.2f}), not French"
        )


def admit(
    ident: str,
    entry: Entry,
    engine: Engine,
    options: GenerationOptions,
    config: BatchConfig,
    stem: str | None = None,
    *,
    memory: MemoryUse = NO_MEMORY,
    fidelity: Fidelity = Fidelity(),
) -> _Pending | Record:
    """A loaded document ready for a group, or the manifest record (skipped/failed) saying why it cannot be one.

    With a `memory`, its sentences are looked up when planned: those it answers leave the plan's texts
    (no model call) and say `source: memory:…` in the document's JSON. `fidelity`: the terms protected
    (a job's: its key's glossary) and the repairs."""
    name = display_name(entry.name)  # what records hold: any bytes of an archive's name, escaped
    if entry.skip is not None:
        return Record(ident, name, DocumentStatus.SKIPPED, entry.skip, entry.detail)
    try:
        loaded = load_document(entry, config.caps)
        _require_french(loaded.document)
        request = TranslationRequest(
            loaded.document,
            options,
            fidelity,
            warnings=loaded.warnings,
            max_sentences=config.max_sentences,
            memory=memory,
        )
        try:
            planned = plan(request, engine)
        except DocumentTooLarge as error:
            message = f"the document has {error.sentences} sentences; the limit is {error.limit}"
            raise DocumentError(Reason.TOO_MANY_SENTENCES, message) from None
    except DocumentError as error:
        return Record.refused(ident, name, error.code, str(error))
    except Exception as error:  # noqa: BLE001 - a parser bug on one document never stops the batch
        message = f"{type(error).__name__}: {error}"[:500]
        return Record(ident, name, DocumentStatus.FAILED, Reason.UNPARSABLE, message)
    return _Pending(ident, name, loaded, planned, tuple(planned.texts()), loaded.held_bytes(entry.data), stem)


@dataclass(frozen=True, slots=True)
class Output:
    """Where and how a run writes its documents: its OUTDIR, the standalone page's renderer (None: no
    HTML), the layouts of documents written in their own format, and the run's output cap (None: none)."""

    outdir: Path
    html: Callable[[dict[str, Any]], str] | None
    layouts: tuple[Layout, ...] = (formats.DEFAULT_LAYOUT,)
    budget: OutputBudget | None = None
    style: formats.CueStyle = formats.DEFAULT_CUE_STYLE  # a bilingual subtitle's English line


def translate_group(
    group: Sequence[_Pending], engine: Engine, options: GenerationOptions, output: Output
) -> Iterator[Record]:
    """Translate a group's sentences in shared engine calls, write each document's files, then yield its record.

    A record is yielded only once its files are in place, so whoever appends it to the manifest
    (the single-machine run, or the Ray driver) keeps "done means the files exist".
    """
    if not group:
        return
    # Every document's sentences, repeats included, in one checked call: the cached engine sends each
    # distinct one to the model once and counts the rest as hits (the hit rate measures the archive's
    # repetition); the scheduler packs them with whatever else waits.
    # One call per distinct fidelity (a run's documents share one: its key's terms): a text's English
    # depends on the terms protected in it.
    by_fidelity: dict[Fidelity, list[str]] = {}
    for pending in group:
        by_fidelity.setdefault(pending.plan.request.fidelity, []).extend(pending.pieces)
    results: dict[Fidelity, dict[str, Checked]] = {}
    for fidelity, texts in by_fidelity.items():
        try:
            results[fidelity] = translate_texts(texts, engine, options, fidelity)
        except Cancelled:  # the run was cancelled: no document of the group is done, none failed
            raise
        except Exception:  # noqa: BLE001 - isolate the culprit: each document below is translated on its own
            pass
    budget = output.budget
    for pending in group:
        if budget is not None and budget.exhausted:
            yield budget.refusal(pending.id, pending.name)
        else:
            yield _finish(pending, engine, results.get(pending.plan.request.fidelity, {}), output)


def _finish(pending: _Pending, engine: Engine, results: dict[str, Checked], output: Output) -> Record:
    outdir, html, budget = output.outdir, output.html, output.budget
    encoding, form = pending.loaded.encoding, pending.loaded.document.format
    try:
        planned = pending.plan
        if not all(text in results for text in pending.pieces):  # its group's call failed: on its own
            request = planned.request
            results = translate_texts(pending.pieces, engine, request.options, request.fidelity)
        result = answer(planned, results, engine)
        source = pending.loaded.source
        documents: dict[str, bytes] = {}
        if source is not None:  # the file in its own format, once per layout
            result = formats.bilingual(source, result)
            suffix = formats.output_suffix(source.format)
            for layout in output.layouts:
                path = document_files.file_path(pending.stem or pending.id, layout, suffix)
                documents[path] = formats.write_source(source, result, layout, style=output.style)
        from service.schemas import TranslateResponse

        # In the try too: a text no UTF-8 file can hold (a lone surrogate from a font map) fails its document only.
        payload = TranslateResponse.model_validate(result).model_dump(mode="json", exclude_none=True)
        json_data = json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8")
        html_data = html(payload).encode("utf-8") if html is not None else None
    except Cancelled:
        raise
    except Exception as error:  # noqa: BLE001 - one bad document never stops the batch
        message = f"{type(error).__name__}: {error}"[:500]
        return Record.refused(
            pending.id, pending.name, Reason.TRANSLATION_ERROR, message, encoding=encoding, format=form
        )
    if budget is not None and not budget.take(
        len(json_data) + len(html_data or b"") + sum(map(len, documents.values()))
    ):
        return budget.refusal(pending.id, pending.name)
    json_file = f"{outputs.DOCS}/{pending.id}.json"
    outputs.write_atomic(outdir / json_file, json_data)
    html_file = None
    if html_data is not None:
        html_file = f"{outputs.DOCS}/{pending.id}.html"
        outputs.write_atomic(outdir / html_file, html_data)
    for name, data in documents.items():
        outputs.write_atomic(outdir / name, data)
    stats, titles = result.stats, index.titles(result)
    return Record(
        pending.id,
        pending.name,
        DocumentStatus.OK,
        json=json_file,
        html=html_file,
        documents=tuple(documents),
        title=titles.fr,
        title_en=titles.en,
        sentences=stats.sentences,
        source_tokens=stats.source_tokens,
        output_tokens=stats.output_tokens,
        encoding=encoding,
        format=form,
    )


def _never() -> bool:
    return False


@dataclass(frozen=True, slots=True)
class RunSpec:
    """What a run over an archive is asked to do, whichever way it translates: the archive (`source`), the
    OUTDIR it writes, the generation options, the batch config (limits, groups, layouts, output cap), who is
    told the progress (None: nobody) and the check that stops it between groups (`should_stop`). Applying a
    memory to a finished run (`service.jobs.retro`) reads the same value."""

    source: Path
    outdir: Path
    options: GenerationOptions = GenerationOptions()
    config: BatchConfig = BatchConfig()
    observer: Observer | None = None
    should_stop: Callable[[], bool] = _never


class Driver:
    """What every run over an archive shares: its OUTDIR, config, progress, manifest records, index and summary.
    `BatchRun` translates in this process; `service.jobs.ray_runner.RayBatchRun` on a Ray actor pool. Each
    takes a `RunSpec` and only what its way of translating adds."""

    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec
        self.source, self.outdir, self.options, self.config = spec.source, spec.outdir, spec.options, spec.config
        self.caps = spec.config.caps
        self.observer: Observer = spec.observer or _Silent()
        self.should_stop = spec.should_stop
        self.summary = Summary()
        self.previous: dict[str, dict[str, Any]] = {}
        self.order: list[tuple[str, str]] = []

    def run(self) -> Summary:
        raise NotImplementedError

    def _record(self, manifest: outputs.Manifest, record: Record, translated: int = 0) -> None:
        """Append `record` to the manifest and count it; `translated`: the sentences of it that were
        reported to a `SentenceObserver` as translated (its plan's texts when it was in a group)."""
        written = record.as_json() | {"at": clock.now()}
        manifest.append(written)
        self.previous[record.id] = written
        self.summary.count(record)
        if isinstance(self.observer, SentenceObserver):
            self.observer.settled(translated)
        self.observer.finished(record)

    def _write_index_and_summary(self) -> None:
        rows = [
            self.previous.get(ident, {"id": ident, "name": name, "status": DocumentStatus.PENDING}) | {"name": name}
            for ident, name in self.order
        ]
        title = display_name(self.source.name)  # `bitext batch`'s own path may hold any bytes
        outputs.write_atomic(self.outdir / outputs.INDEX, index.render_index(title, rows).encode("utf-8"))
        outputs.write_atomic(
            self.outdir / outputs.SUMMARY, json.dumps(self.summary.as_dict(), indent=1).encode("utf-8")
        )


class BatchRun(Driver):
    """One run over one archive into one OUTDIR, translated in this process by `engine` (with its
    documents looked up in `memory`, none by default); `run()` may be called again after a crash."""

    def __init__(self, spec: RunSpec, engine: Engine, *, memory: MemoryUse = NO_MEMORY) -> None:
        super().__init__(spec)
        self.base = engine
        self.memory = memory  # the translation memory its documents are looked up in (none by default)
        self.fidelity = Fidelity(terms=memory.terms)  # the memory's term glossary, protected in every document
        # unset: enough sentences to fill the engine's largest call on its device
        self.group_sentences = group_size(self.config.groups.sentences, engine.traits.budget)

    def run(self) -> Summary:
        with opened_outdir(self.outdir) as manifest:
            store = SqliteCacheStore(self.outdir / CACHE_FILE)
            try:
                return self._run(CachedEngine(self.base, store), manifest)
            finally:
                store.close()

    def _run(self, engine: CachedEngine, manifest: outputs.Manifest) -> Summary:
        started = time.perf_counter()
        self.previous = outputs.latest_records(self.outdir / outputs.MANIFEST)
        self.done = done_ids(self.outdir, self.previous)
        self.order: list[tuple[str, str]] = []
        total = count_entries(self.source, self.caps)  # headers only, for the progress bar's ETA
        self.observer.started(total, min(len(self.done), total))
        self.budget = OutputBudget(self.config.max_output_bytes, written_bytes(self.outdir))
        self.output = Output(self.outdir, html_renderer(), self.config.layouts, self.budget, self.config.subtitle_style)
        group: list[_Pending] = []
        try:
            stems = document_files.taken_stems(self.previous[ident] for ident in self.done)
            for entry in read_archive(self.source, self.caps):
                ident = document_id(entry)
                self.order.append((ident, display_name(entry.name)))
                if ident in self.done:
                    self.summary.already_done += 1
                    continue
                stem = stems.take(entry.name) if document_files.is_document_format(entry.format) else None
                if self.budget.exhausted:  # not even parsed: nothing more will be written
                    self._record(manifest, self.budget.refusal(ident, display_name(entry.name)))
                elif pending := self._admit(ident, entry, engine, manifest, stem):
                    group.append(pending)
                if self._full(group):
                    self._flush(group, engine, manifest)
                    group = []
                if self.should_stop():
                    self.summary.interrupted = True
                    return self.summary
            self._flush(group, engine, manifest)
        except BaseException:
            self.summary.interrupted = True
            raise
        finally:
            self.summary.cache_hits, self.summary.cache_misses = engine.hits, engine.misses
            self.summary.seconds = round(time.perf_counter() - started, 3)
            self._write_index_and_summary()
        return self.summary

    def _admit(
        self, ident: str, entry: Entry, engine: Engine, manifest: outputs.Manifest, stem: str | None
    ) -> _Pending | None:
        """A loaded document waiting for its group, or None after recording why it cannot be one."""
        admitted = admit(
            ident, entry, engine, self.options, self.config, stem, memory=self.memory, fidelity=self.fidelity
        )
        if isinstance(admitted, Record):
            self._record(manifest, admitted)
            return None
        return admitted

    def _full(self, group: Sequence[_Pending]) -> bool:
        return self.config.groups.full(group, self.group_sentences)

    def _flush(self, group: list[_Pending], engine: CachedEngine, manifest: outputs.Manifest) -> None:
        counted: Engine = engine  # an observer that wants sentences as they are done gets them slice by slice
        pieces = {pending.id: len(pending.pieces) for pending in group}
        if group and isinstance(self.observer, SentenceObserver):
            counted = Reporting(engine, self.observer.translated, sum(pieces.values()))
        for record in translate_group(group, counted, self.options, self.output):
            self._record(manifest, record, pieces[record.id])
