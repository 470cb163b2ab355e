"""One batch run's OUTDIR: locked against a second run, what a rerun must not redo, the output cap.

A run holds an exclusive lock on `OUTDIR/.lock` for its whole life (`opened_outdir`), removes the
temporary files a killed run left, and reads back the manifest: `done_ids` are the documents a
rerun skips. `OutputBudget` counts the bytes a run writes against the jobs API's cap, starting from
what earlier runs of the same OUTDIR wrote (`written_bytes`).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from service.jobs import outputs
from service.jobs.reasons import Reason
from service.jobs.records import DocumentStatus, Record

CACHE_FILE = "cache.sqlite3"
LOCK_FILE = ".lock"


class BatchBusy(RuntimeError):
    """Another run holds this OUTDIR."""


class OutputBudget:
    """Bytes one run may still write (JSON + HTML of its documents); `limit` None: no cap."""

    def __init__(self, limit: int | None, used: int = 0) -> None:
        self.limit, self.used = limit, used

    @property
    def exhausted(self) -> bool:
        return self.limit is not None and self.used >= self.limit

    def take(self, size: int) -> bool:
        """Count `size` bytes if they fit; False (and nothing counted) when they would pass the cap."""
        if self.limit is not None and self.used + size > self.limit:
            self.used = max(self.used, self.limit)  # once one document is refused, so is every later one
            return False
        self.used += size
        return True

    def refusal(self, ident: str, name: str) -> Record:
        return Record.refused(
            ident, name, Reason.OUTPUT_QUOTA, f"the job's outputs reached their limit of {self.limit} bytes"
        )


def done_ids(outdir: Path, previous: dict[str, dict[str, Any]]) -> set[str]:
    """Ids a rerun must not redo: translated with their files in place, or refused by the safety rules."""
    done = set()
    for ident, row in previous.items():
        try:
            record = Record.from_json(row)
        except (KeyError, TypeError, ValueError):  # a row this version cannot read: the document is redone
            continue
        if record.status is DocumentStatus.SKIPPED or (
            record.status is DocumentStatus.OK and all((outdir / name).is_file() for name in record.files)
        ):
            done.add(ident)
    return done


def written_bytes(outdir: Path) -> int:
    """What earlier runs of this OUTDIR wrote into docs/ (a resumed job keeps counting from there)."""
    docs = outdir / outputs.DOCS
    return sum(path.stat().st_size for path in docs.iterdir() if path.is_file()) if docs.is_dir() else 0


@contextmanager
def _locked(outdir: Path) -> Iterator[None]:
    with os.fdopen(outputs.create_file(outdir / LOCK_FILE), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchBusy(f"{outdir} is in use by another batch run") from None
        yield


@contextmanager
def opened_outdir(outdir: Path) -> Iterator[outputs.Manifest]:
    """OUTDIR ready for one run: locked against a second run, temp files of a killed run removed, manifest open."""
    outputs.make_dir(outdir)
    outputs.make_dir(outdir / outputs.DOCS)
    with _locked(outdir):
        outputs.remove_temp_files(outdir)
        outputs.remove_temp_files(outdir / outputs.DOCS)
        manifest = outputs.Manifest(outdir / outputs.MANIFEST)
        try:
            yield manifest
        finally:
            manifest.close()
