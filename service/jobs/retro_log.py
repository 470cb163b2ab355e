"""`memory-applied.jsonl`: the append-only log that makes applying the memory to an OUTDIR resumable.

One application of the memory (`service.jobs.retro`) writes, in this order, each line fsynced:

1. one `planned` line per affected document, with the English its sentences had before, *before*
   any of its files is rewritten;
2. one `done` line per document, with what changed, *after* all its files (JSON, HTML, bilingual
   files) and its manifest record are written;
3. one `finished` line once the index is written.

A run that stops anywhere (a crash, a kill, a full disk) leaves an application without its
`finished` line. The next application resumes it: the documents planned and not done are rewritten
(whatever their JSON says now, since a crash may have come between a document's JSON and its other
files), the documents done are not touched again, and the report is the whole application's,
read back from the `done` lines. A torn last line is cut, as in the batch manifest.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from service.jobs import outputs

LOG = "memory-applied.jsonl"

# A sentence's English before the application, by its place: (block index, sentence index) → English.
Before = dict[tuple[int, int], str]


class Step(StrEnum):
    PLANNED = "planned"
    DONE = "done"
    FINISHED = "finished"


@dataclass(slots=True)
class Application:
    """One application as the log has it so far: a new one, or an unfinished one being resumed."""

    id: str
    planned: dict[str, Before] = field(default_factory=dict)  # document id → its English before
    done: dict[str, dict[str, Any]] = field(default_factory=dict)  # document id → its `done` line
    checked: int | None = None  # documents looked at, once finished

    @property
    def pending(self) -> dict[str, Before]:
        """Planned, not yet done: to be rewritten whatever their JSON says now."""
        return {ident: before for ident, before in self.planned.items() if ident not in self.done}


def _before(rows: Any) -> Before:
    return {(int(block), int(index)): str(english) for block, index, english in rows}


def last(outdir: Path) -> Application | None:
    """The last application in `outdir`'s log, finished (`checked` set) or not; None before the first."""
    current: Application | None = None
    for line in outputs.read_manifest(outdir / LOG):
        ident, step, application = line.get("id"), line.get("step"), line.get("application")
        if not isinstance(application, str) or not isinstance(ident, str):
            continue
        if current is None or current.id != application or current.checked is not None:
            current = Application(application)
        try:
            if step == Step.PLANNED:
                current.planned[ident] = _before(line.get("before") or ())
            elif step == Step.DONE:
                current.done[ident] = line
            elif step == Step.FINISHED:
                current.checked = int(line.get("checked") or 0)
        except (TypeError, ValueError):  # a line this version cannot read: its document is planned anew
            continue
    return current


def unfinished(outdir: Path) -> Application | None:
    """The last application of `outdir`'s log when it has no `finished` line; None when there is none."""
    application = last(outdir)
    return application if application is not None and application.checked is None else None


class Log:
    """The log of one OUTDIR, open for appending (inside `opened_outdir`'s lock)."""

    def __init__(self, outdir: Path) -> None:
        self._manifest = outputs.Manifest(outdir / LOG)

    @staticmethod
    def new() -> Application:
        return Application(uuid.uuid4().hex)

    def plan(self, application: Application, ident: str, before: Before) -> None:
        rows = [[block, index, english] for (block, index), english in sorted(before.items())]
        self._manifest.append({"application": application.id, "step": Step.PLANNED, "id": ident, "before": rows})
        application.planned[ident] = before

    def done(self, application: Application, ident: str, line: dict[str, Any]) -> None:
        row = {**line, "application": application.id, "step": Step.DONE, "id": ident}
        self._manifest.append(row)
        application.done[ident] = row

    def finish(self, application: Application, checked: int) -> None:
        line = {"application": application.id, "step": Step.FINISHED, "id": "", "checked": checked}
        self._manifest.append(line)
        application.checked = checked

    def close(self) -> None:
        self._manifest.close()
