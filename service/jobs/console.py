"""`bitext batch`'s terminal side: a rich progress bar (documents, sentences/s, ETA) and the summary."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from service.jobs.names import display_name
from service.jobs.records import Record
from service.jobs.runner import Summary


class RichObserver:
    """Feeds the runner's events into a rich progress bar: documents as they are written, sentences
    as they are translated (`translated`, slice by slice within a group, from any number of groups
    at once: Ray's actors report through a tally), sentences/s over this run's work.

    The count is the written documents' sentences (their records count every sentence, those kept
    verbatim too) plus the translated ones no written document holds yet (`settled` says which
    are), so the bar ends on the summary's number. Events may come from two threads."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None
        self.recorded = 0  # sentences of the documents written
        self.translated_total = 0  # sentences the model has done, this run
        self.settled_total = 0  # of those, the ones in documents written (or failed)
        self.started_at = time.perf_counter()
        self._lock = threading.Lock()

    @property
    def sentences(self) -> int:
        return self.recorded + max(0, self.translated_total - self.settled_total)

    def started(self, total: int, already_done: int) -> None:
        self.started_at = time.perf_counter()
        self.task = self.progress.add_task("documents", total=total, completed=already_done, rate="")

    def translated(self, sentences: int) -> None:
        with self._lock:
            self.translated_total += sentences
            self._show(advance=0)

    def settled(self, sentences: int) -> None:
        with self._lock:
            self.settled_total += sentences  # shown with the document's `finished`, which comes next

    def finished(self, record: Record) -> None:
        with self._lock:
            self.recorded += record.sentences
            self._show(advance=1)

    def _show(self, advance: int) -> None:
        sentences = self.sentences
        rate = sentences / max(time.perf_counter() - self.started_at, 1e-9)
        if self.task is not None:
            self.progress.update(self.task, advance=advance, rate=f"{sentences:,} sentences, {rate:,.1f}/s")


def progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def print_summary(console: Console, summary: Summary, outdir: Path) -> None:
    table = Table(show_header=False, box=None)
    seconds = max(summary.seconds, 1e-9)
    rows = [
        (
            "documents",
            f"{summary.ok} ok, {summary.failed} failed, {summary.skipped} skipped, {summary.already_done} already done",
        ),
        (
            "sentences",
            f"{summary.sentences:,} ({summary.sentences / seconds:,.1f}/s, {summary.ok / seconds:,.2f} documents/s)",
        ),
        ("tokens", f"{summary.source_tokens:,} in, {summary.output_tokens:,} out"),
        (
            "cache",
            f"{summary.cache_hits:,} hits, {summary.cache_misses:,} translated ({summary.cache_hit_rate:.1%} hit rate)",
        ),
        ("time", f"{summary.seconds:,.1f} s"),
    ]
    if summary.reasons:
        rows.append(("reasons", ", ".join(f"{reason}: {count}" for reason, count in sorted(summary.reasons.items()))))
    rows.append(("output", escape(display_name(str(outdir / "index.html")))))  # a path is no markup
    for key, value in rows:
        table.add_row(f"[bold]{key}", value)
    console.print(table)
