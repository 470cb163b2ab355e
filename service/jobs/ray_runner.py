"""`bitext batch --ray`: the same run as `BatchRun`, with the translation done by a Ray Data actor pool.

One dataset streams the archive through three stages, in archive order:
  read   one Ray task runs the same `read_archive` (same safety rules and budget) and the same ids,
         marking documents the manifest already has as done (their bytes are not shipped);
  map    `map_batches` over an actor pool: each actor loads the engine once (one GPU per actor when
         the cluster has GPUs, else `ray_cpus_per_actor` CPUs and as many torch threads), then runs
         the single-machine code on its documents — `admit`, sentence groups, `translate_group` —
         which writes each document's JSON and HTML (and, for a document in its own format, one file per
         `--layout`) atomically under OUTDIR (a shared path on a cluster);
  driver appends each record to the manifest after its files are in place, and keeps the index,
         summary and progress exactly as `BatchRun` does. Killing the driver loses nothing done:
         the next run (Ray or not) resumes from the manifest.

Progress by sentences: each actor adds its sentences to one `SentenceTally` actor as they are
translated (slice by slice, as `BatchRun` reports them), and a driver thread hands the tally's count
to the observer every `TALLY_SECONDS`; a batch of documents is no longer silent until it returns.
Each row says how many of its sentences the tally counted, so the observer counts them once.

The translation cache is per actor and in memory: SQLite on a shared filesystem is not safe for many
writers, so OUTDIR's cache.sqlite3 is not used here (a rerun of done documents costs nothing anyway).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.budgets import group_size
from models.cache import CachedEngine, MemoryLRU
from models.engine import Engine, GenerationOptions
from service.jobs import document_files, outputs
from service.jobs.config import BatchConfig
from service.jobs.documents import document_id
from service.jobs.limits import Limits
from service.jobs.names import Stems, display_name, safe_text
from service.jobs.outdir import done_ids, opened_outdir
from service.jobs.progress import Reporting, SentenceObserver
from service.jobs.readers import Entry, count_entries, read_archive
from service.jobs.reasons import Reason
from service.jobs.records import Record
from service.jobs.runner import (
    Driver,
    Output,
    RunSpec,
    Summary,
    _Pending,
    admit,
    html_renderer,
    translate_group,
)

if TYPE_CHECKING:
    import pyarrow

    from service.settings import Settings

log = logging.getLogger(__name__)

LOCAL = "local"  # `--ray` without an address: start a Ray instance on this machine
TALLY_SECONDS = 0.5  # how often the driver reads the actors' translated sentences
_READ_ROWS = 16  # entries per block the read task hands downstream
_COLUMNS = ("id", "name", "done", "skip", "detail", "data", "format", "charset", "stem")


def _read_blocks(source: Path, caps: Limits, done: frozenset[str], stems: Stems) -> Iterator[pyarrow.Table]:
    """The archive as small Arrow blocks of entries, in order; done documents carry no bytes. Each
    document written back in its own format is given its files' stem here, in archive order, as the
    single-machine run gives it."""
    import pyarrow

    rows: list[dict[str, Any]] = []
    for entry in read_archive(source, caps):
        ident = document_id(entry)
        finished = ident in done
        rows.append(
            {
                "id": ident,
                "name": display_name(entry.name),  # Arrow strings are UTF-8: any bytes of a name, escaped
                "done": finished,
                "skip": entry.skip,
                "detail": safe_text(entry.detail),
                "data": b"" if finished else entry.data,
                "format": entry.format,
                "charset": entry.charset,
                "stem": stems.take(entry.name)
                if not finished and document_files.is_document_format(entry.format)
                else None,
            }
        )
        if len(rows) >= _READ_ROWS:
            yield pyarrow.Table.from_pylist(rows, schema=_entry_schema())
            rows = []
    if rows:
        yield pyarrow.Table.from_pylist(rows, schema=_entry_schema())


def _entry_schema() -> pyarrow.Schema:
    import pyarrow

    text = pyarrow.string()
    return pyarrow.schema(
        [
            ("id", text),
            ("name", text),
            ("done", pyarrow.bool_()),
            ("skip", text),
            ("detail", text),
            ("data", pyarrow.binary()),
            ("format", text),
            ("charset", text),
            ("stem", text),
        ]
    )


def _archive_source(source: Path, caps: Limits, done: frozenset[str], stems: Stems) -> Any:
    """A one-task Ray Data source: the archive's readers are streams, so one reader keeps their order and budget."""
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask

    class ArchiveSource(Datasource):
        def estimate_inmemory_data_size(self) -> int | None:
            return None

        def get_read_tasks(
            self, parallelism: int, per_task_row_limit: int | None = None, data_context: Any = None
        ) -> list[ReadTask]:
            metadata = BlockMetadata(num_rows=None, size_bytes=None, input_files=None, exec_stats=None)
            return [ReadTask(lambda: _read_blocks(source, caps, done, stems), metadata, schema=_entry_schema())]

    return ArchiveSource()


class SentenceTally:
    """A Ray actor (`ray.remote`, no CPU of its own): the sentences every `DocumentActor` has translated
    since the driver last took them."""

    def __init__(self) -> None:
        self.count = 0

    def add(self, sentences: int) -> None:
        self.count += sentences

    def take(self) -> int:
        count, self.count = self.count, 0
        return count


class _Tallying:
    """The driver's thread that hands the tally's count to `report` every `TALLY_SECONDS`, and once more at the end."""

    def __init__(self, tally: Any, report: Callable[[int], None]) -> None:
        self.tally, self.report = tally, report
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bitext-ray-tally", daemon=True)

    def __enter__(self) -> _Tallying:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(TALLY_SECONDS):
            self._take()
        self._take()

    def _take(self) -> None:
        import ray

        try:
            count = ray.get(self.tally.take.remote(), timeout=30)
        except Exception as error:  # noqa: BLE001 - progress only: the run itself reports Ray's failures
            log.debug("the sentence tally did not answer: %s", error)
            return
        if count:
            self.report(count)


class DocumentActor:
    """A Ray actor: loads the engine once, then turns batches of entries into written files + records,
    adding its sentences to `tally` (a `SentenceTally` handle; None: nobody counts) as they are translated."""

    def __init__(
        self, settings: Settings, options: GenerationOptions, outdir: str, config: BatchConfig, tally: Any = None
    ) -> None:
        from models.factory import load_engine  # in the actor's process: each actor loads its own

        engine = load_engine(settings.engine_spec())
        self.engine = CachedEngine(engine, MemoryLRU(max(settings.cache_entries, 1)))
        self.options, self.outdir, self.config = options, Path(outdir), config
        self.group_sentences = group_size(config.groups.sentences, engine.traits.budget)  # unset: this actor's device
        self.output = Output(self.outdir, html_renderer(), config.layouts, style=config.subtitle_style)
        self.tally = tally

    def __call__(self, batch: pyarrow.Table) -> pyarrow.Table:
        import pyarrow

        hits, misses = self.engine.hits, self.engine.misses
        records: dict[str, Record] = {}
        counted: dict[str, int] = {}  # the sentences of each document reported as translated (to the tally)
        group: list[_Pending] = []
        rows = batch.to_pylist()
        for row in rows:
            if row["done"]:
                continue
            skip = Reason(row["skip"]) if row["skip"] is not None else None  # Arrow held its string
            entry = Entry(row["name"], row["data"], row["format"], row["charset"], skip, row["detail"] or "")
            admitted = admit(row["id"], entry, self.engine, self.options, self.config, row["stem"])
            if isinstance(admitted, Record):
                records[row["id"]] = admitted
                continue
            group.append(admitted)
            counted[row["id"]] = len(admitted.pieces)
            if self.config.groups.full(group, self.group_sentences):  # the single-machine run's rule
                records.update((record.id, record) for record in self._translate(group))
                group = []
        records.update((record.id, record) for record in self._translate(group))
        out = [
            {
                "id": row["id"],
                "name": row["name"],
                "done": row["done"],
                "record": "" if row["done"] else json.dumps(records[row["id"]].as_json(), ensure_ascii=False),
                "counted": counted.get(row["id"], 0),
                "hits": 0,
                "misses": 0,
            }
            for row in rows
        ]
        if out:  # this batch's share of the cache counters rides on its first row
            out[0]["hits"], out[0]["misses"] = self.engine.hits - hits, self.engine.misses - misses
        return pyarrow.Table.from_pylist(out)

    def _translate(self, group: list[_Pending]) -> Iterator[Record]:
        engine: Engine = self.engine
        if group and self.tally is not None:
            tally = self.tally
            engine = Reporting(engine, lambda sentences: tally.add.remote(sentences), sum(len(p.pieces) for p in group))
        return translate_group(group, engine, self.options, self.output)


def connect(address: str | None) -> None:
    """Join the cluster at `address` (or Ray's own `auto`), or start a small local instance."""
    import ray

    if ray.is_initialized():
        return
    quiet: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING, "log_to_driver": False}
    import ray.data  # noqa: F401 - configures its loggers on import; ours is set after

    logging.getLogger("ray.data").setLevel(logging.WARNING)  # its plan and timings, not the run's progress
    if address in (None, "", LOCAL):
        ray.init(**quiet)
    else:
        ray.init(address=address, **quiet)


def actor_plan(settings: Settings) -> tuple[int, dict[str, float]]:
    """How many engine actors, and what each asks Ray for: a GPU each when there are any, else CPUs."""
    import ray

    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    if gpus:
        return settings.ray_actors or gpus, {"num_gpus": 1, "num_cpus": 1}
    per_actor = settings.ray_cpus_per_actor
    return settings.ray_actors or max(1, int(resources.get("CPU", 1)) // per_actor), {"num_cpus": per_actor}


class RayBatchRun(Driver):
    """The run's driver half (lock, manifest, resume, index, summary, progress) over Ray workers."""

    def __init__(self, spec: RunSpec, settings: Settings, *, address: str | None = None) -> None:
        """`settings` say how each actor loads its engine; `address` is the cluster's (None: a local Ray)."""
        # the actors are other processes, maybe other machines: they get absolute paths
        super().__init__(replace(spec, source=spec.source.resolve(), outdir=spec.outdir.resolve()))
        self.settings, self.address = settings, address

    def run(self) -> Summary:
        with opened_outdir(self.outdir) as manifest:
            return self._run_ray(manifest)

    def _dataset(self, done: frozenset[str], tally: Any) -> Any:
        import ray.data

        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # the manifest and index follow the archive
        context.enable_progress_bars = False  # the driver's own progress bar says it
        actors, resources = actor_plan(self.settings)
        if "num_gpus" not in resources:
            self.settings = self.settings.model_copy(update={"threads": resources["num_cpus"], "device": "cpu"})
        # The read task is I/O; it takes no CPU slot so that every CPU can hold an engine actor.
        stems = document_files.taken_stems(self.previous[ident] for ident in done)
        entries = ray.data.read_datasource(
            _archive_source(self.source, self.caps, done, stems), override_num_blocks=1, num_cpus=0
        )
        return entries.map_batches(
            DocumentActor,
            fn_constructor_kwargs={
                "settings": self.settings,
                "options": self.options,
                "outdir": str(self.outdir),
                "config": self.config,
                "tally": tally,
            },
            batch_size=self.settings.ray_batch_documents,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=actors),
            **resources,
        )

    def _run_ray(self, manifest: outputs.Manifest) -> Summary:
        started = time.perf_counter()
        self.previous = outputs.latest_records(self.outdir / outputs.MANIFEST)
        self.done = done_ids(self.outdir, self.previous)
        self.order: list[tuple[str, str]] = []
        total = count_entries(self.source, self.caps)  # headers only, for the ETA
        self.observer.started(total, min(len(self.done), total))
        hits = misses = 0
        try:
            connect(self.address)
            with self._tallied() as tally:
                for row in self._dataset(frozenset(self.done), tally).iter_rows():
                    self.order.append((row["id"], row["name"]))
                    hits, misses = hits + row["hits"], misses + row["misses"]
                    if row["done"]:
                        self.summary.already_done += 1
                    else:
                        self._record(manifest, Record.from_json(json.loads(row["record"])), row["counted"])
                    if self.should_stop():
                        self.summary.interrupted = True
                        return self.summary
        except BaseException:
            self.summary.interrupted = True
            raise
        finally:
            self.summary.cache_hits, self.summary.cache_misses = hits, misses
            self.summary.seconds = round(time.perf_counter() - started, 3)
            self._write_index_and_summary()
        return self.summary

    @contextmanager
    def _tallied(self) -> Iterator[Any]:
        """A `SentenceTally` read into the observer while the run lasts (None when it does not count sentences)."""
        if not isinstance(self.observer, SentenceObserver):
            yield None
            return
        import ray

        tally: Any = ray.remote(num_cpus=0)(SentenceTally).remote()
        try:
            with _Tallying(tally, self.observer.translated):
                yield tally
        finally:
            ray.kill(tally)
