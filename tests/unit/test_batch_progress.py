"""`bitext batch` says it is loading the model, and counts sentences as they are translated, not per group."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models.budgets import BatchBudget
from models.engine import EngineTraits
from service import cli
from service.jobs.config import BatchConfig
from service.jobs.progress import Reporting
from service.jobs.records import Record
from service.jobs.runner import BatchRun, RunSpec
from tests.support.fakes import FakeEngine

SENTENCES_PER_DOC = 6


class SmallBatches(FakeEngine):
    """Declares a largest call of `sentences` sentences; records each call's size."""

    def __init__(self, sentences: int) -> None:
        super().__init__()
        self.sentences = sentences

    @property
    def traits(self) -> EngineTraits:
        return EngineTraits(window=self.window, budget=BatchBudget(max_tokens=4096, max_sentences=self.sentences))


class Events:
    """An observer that wants sentences: every event in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def started(self, total: int, already_done: int) -> None:
        self.events.append(("started", total))

    def translated(self, sentences: int) -> None:
        self.events.append(("translated", sentences))

    def settled(self, sentences: int) -> None:
        self.events.append(("settled", sentences))

    def finished(self, record: Record) -> None:
        self.events.append(("finished", record.sentences))


def _archive(tmp_path: Path, documents: int) -> Path:
    archive = tmp_path / "articles.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for number in range(documents):
            text = " ".join(f"Le conseil numéro {number} a voté la mesure {k}." for k in range(SENTENCES_PER_DOC))
            zipped.writestr(f"a{number}.txt", text)
    return archive


def test_reporting_slices_a_call_keeps_its_order_and_counts_up_to_the_total() -> None:
    inner = SmallBatches(4)
    reported: list[int] = []
    texts = [f"phrase {'longue ' * (n % 5)}{n}" for n in range(10)]
    engine = Reporting(inner, reported.append, total=12)
    assert [t.text for t in engine.translate(texts)] == [t.text for t in FakeEngine().translate(texts)]
    assert reported == [4, 4, 2] and all(len(call) <= 4 for call in inner.calls)
    engine.translate(texts[:5])  # a retry: counted only up to the group's total
    assert sum(reported) == 12


def test_a_group_reports_its_sentences_before_its_documents_are_written(tmp_path: Path) -> None:
    observer = Events()
    # One group (256 sentences by default) holds all 30: on the old runner no sentence was counted before it was done.
    run = BatchRun(
        RunSpec(_archive(tmp_path, 5), tmp_path / "out", config=BatchConfig(), observer=observer), SmallBatches(4)
    )
    summary = run.run()
    assert summary.ok == 5
    kinds = [kind for kind, _ in observer.events]
    first_written = kinds.index("finished")
    assert kinds[1:first_written].count("translated") >= 2, observer.events  # moving before a document is done
    assert sum(n for kind, n in observer.events if kind == "translated") == summary.sentences
    # each document says which of those sentences were its own, just before it is written
    assert [kinds[i - 1] for i, kind in enumerate(kinds) if kind == "finished"] == ["settled"] * 5
    assert [n for kind, n in observer.events if kind == "settled"] == [SENTENCES_PER_DOC] * 5


def test_batch_says_it_loads_the_model_and_shows_sentences(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_load", lambda settings: SmallBatches(4))
    result = CliRunner().invoke(cli.app, ["batch", str(_archive(tmp_path, 3)), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("loading model ") and lines[0].endswith("…")
    assert lines[1].startswith("model loaded in ") and "(fake on cpu, float32)" in lines[1]
    assert f"{3 * SENTENCES_PER_DOC} sentences, " in result.stderr


def test_the_bar_counts_slices_within_a_group_then_its_documents_records() -> None:
    import io

    from rich.console import Console

    from service.jobs.console import RichObserver, progress_bar
    from service.jobs.records import DocumentStatus

    def record(sentences: int) -> Record:
        return Record("0" * 20, "a.txt", DocumentStatus.OK, sentences=sentences)

    observer = RichObserver(progress_bar(Console(file=io.StringIO())))
    observer.started(3, 0)
    seen = []
    for event in (lambda: observer.translated(4), lambda: observer.translated(4)):
        event()
        seen.append(observer.sentences)
    for _ in range(2):  # records count verbatim sentences too: 5 + 5 > 8 sent to the model
        observer.settled(4)
        observer.finished(record(5))
    seen.append(observer.sentences)
    observer.translated(3)  # the next group
    seen.append(observer.sentences)
    observer.settled(3)
    observer.finished(record(4))
    seen.append(observer.sentences)
    assert seen == [4, 8, 10, 13, 14]


def test_the_bar_counts_groups_translating_at_once_and_ends_on_the_records() -> None:
    """Ray's actors: two groups at once, and a document written before the tally brought its sentences."""
    import io

    from rich.console import Console

    from service.jobs.console import RichObserver, progress_bar
    from service.jobs.records import DocumentStatus

    observer = RichObserver(progress_bar(Console(file=io.StringIO())))
    observer.started(3, 0)
    seen = []

    def step(*events: tuple[str, int]) -> None:
        for kind, n in events:
            if kind == "finished":
                observer.finished(Record("0" * 20, "a.txt", DocumentStatus.OK, sentences=n))
            else:
                getattr(observer, kind)(n)
        seen.append(observer.sentences)

    step(("translated", 3))  # group A, on one actor
    step(("translated", 5))  # group B, on another
    step(("settled", 3), ("finished", 4))  # A's document: 3 sentences translated, 4 in all
    step(("translated", 2))  # the rest of B
    step(("settled", 7), ("finished", 7))  # B's document
    step(("settled", 2), ("finished", 2))  # C's document, written before the tally brought its 2 sentences
    step(("translated", 2))  # …which are not counted again
    assert seen == [3, 8, 9, 11, 11, 13, 13]
