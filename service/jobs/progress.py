"""Progress by sentences while a batch group translates, not only as its documents are written.

A group's sentences go to the engine in one call, and its documents finish together at the end:
a progress bar fed by documents alone sits at 0 for the whole first group. `Reporting` wraps the
engine for one group: it hands the call on in slices (the texts ordered by length, cut at the
engine's largest batch, so the model still sees batches of like lengths) and tells `report` how
many sentences are done after each slice, up to the group's total (retries are not counted twice).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from models.document import Translation
from models.engine import PLAIN_CALL, CallControl, DelegatingEngine, Engine, GenerationOptions
from service.jobs.records import Record

DEFAULT_SLICE = 64  # sentences per slice when the engine declares no batch budget


@runtime_checkable
class SentenceObserver(Protocol):
    """An observer that also wants sentences as they are translated (`bitext batch`'s progress bar).

    `translated` may come from another thread (a Ray run's tally) and for several groups at once;
    before each document's `finished`, `settled` says how many of the sentences `translated` counted
    are that document's (its plan's texts, whatever became of it), so that they are not counted twice.
    """

    def started(self, total: int, already_done: int) -> None: ...

    def finished(self, record: Record) -> None: ...

    def translated(self, sentences: int) -> None: ...

    def settled(self, sentences: int) -> None: ...


class Reporting(DelegatingEngine):
    """`engine`, translating in slices and reporting each slice's sentences, at most `total` in all."""

    def __init__(self, engine: Engine, report: Callable[[int], None], total: int) -> None:
        super().__init__(engine)
        budget = engine.traits.budget
        self.slice = max(1, budget.max_sentences if budget is not None else DEFAULT_SLICE)
        self.report = report
        self.left = total

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        results: list[Translation | None] = [None] * len(texts)
        for start in range(0, len(order), self.slice):
            part = order[start : start + self.slice]
            for index, translation in zip(
                part, self.engine.translate([texts[i] for i in part], options, control=control), strict=True
            ):
                results[index] = translation
            done = min(len(part), self.left)
            if done:
                self.left -= done
                self.report(done)
        return [translation for translation in results if translation is not None]
