"""Durable files in OUTDIR: atomic writes, the append-only manifest, index.html and the results zip.

A reader of OUTDIR never sees a half-written file: every output is written to a hidden temp
file in the same directory, fsynced, then `os.replace`d over its name (and the directory fsynced).

A file is as private as the directory it is written in: under the service's data directory
(0o700, made by `private_dir`) uploads, outputs and SQLite files are created 0o600, since they
hold the articles people sent; in an ordinary OUTDIR of `bitext batch` they get the usual modes.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from service.jobs.names import safe_record

MANIFEST = "manifest.jsonl"
INDEX = "index.html"
SUMMARY = "summary.json"
DOCS = "docs"
_TEMP_PREFIX = ".tmp-"


PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """`path` and any missing parents created 0o700; an existing `path` is made 0o700 if it is ours."""
    missing = [parent for parent in (path, *path.parents) if not parent.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        os.chmod(directory, PRIVATE_DIR)  # mkdir's mode is filtered by the umask
    if not missing and path.stat().st_uid == os.geteuid():
        os.chmod(path, PRIVATE_DIR)
    return path


def _private(directory: Path) -> bool:
    try:
        return not directory.stat().st_mode & 0o077
    except FileNotFoundError:
        return False


def create_file(path: Path, flags: int = os.O_WRONLY | os.O_TRUNC) -> int:
    """A descriptor for `path`, created 0o600 in a private directory, else with the usual modes."""
    return os.open(path, flags | os.O_CREAT, PRIVATE_FILE if _private(path.parent) else 0o666)


def make_dir(path: Path) -> None:
    """`path` (and its parents) as `mkdir -p`; 0o700 where its parent is private."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR if _private(path.parent) else 0o777)


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """`path` holds either its old content or all of `data`, whatever happens to the process."""
    temp = path.with_name(f"{_TEMP_PREFIX}{os.getpid()}-{path.name}")
    with os.fdopen(create_file(temp), "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temp, path)
    fsync_dir(path.parent)


def remove_temp_files(directory: Path) -> int:
    """Temp files a killed run left behind; they were never the real outputs."""
    removed = 0
    for leftover in directory.glob(f"{_TEMP_PREFIX}*") if directory.is_dir() else ():
        leftover.unlink(missing_ok=True)
        removed += 1
    return removed


class Manifest:
    """manifest.jsonl: one JSON record per line, appended and fsynced; the last record of an id wins."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._repair_torn_tail()
        self._stream = os.fdopen(create_file(path, os.O_WRONLY | os.O_APPEND), "ab")

    def _repair_torn_tail(self) -> None:
        """A power loss can leave a last line without its newline: it was never committed, cut it."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with open(self.path, "r+b") as stream:
                stream.truncate(data.rfind(b"\n") + 1)
                os.fsync(stream.fileno())

    def append(self, record: dict[str, Any]) -> None:
        """One record, its strings made encodable first: a message quoting odd input never stops the job."""
        line = json.dumps(safe_record(record), ensure_ascii=False, sort_keys=True).encode("utf-8")
        self._stream.write(line + b"\n")
        self._stream.flush()
        os.fsync(self._stream.fileno())

    def close(self) -> None:
        self._stream.close()


def read_manifest(path: Path) -> Iterator[dict[str, Any]]:
    """Every committed record in order; a line that does not parse (torn by a crash) is skipped."""
    if not path.exists():
        return
    with open(path, "rb") as stream:
        for line in stream:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and "id" in record:
                yield record


def latest_records(path: Path) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for record in read_manifest(path):
        latest[record["id"]] = record
    return latest


def write_results_zip(outdir: Path, target: Path) -> None:
    """JSON + HTML of every document, index.html, manifest and summary, in one zip (atomically)."""
    temp = target.with_name(f"{_TEMP_PREFIX}{os.getpid()}-{target.name}")
    with (
        os.fdopen(create_file(temp, os.O_RDWR | os.O_TRUNC), "w+b") as raw,
        zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        for name in (INDEX, MANIFEST, SUMMARY):
            if (outdir / name).exists():
                archive.write(outdir / name, name)
        docs = outdir / DOCS
        for path in sorted(docs.iterdir()) if docs.is_dir() else ():
            if not path.name.startswith(_TEMP_PREFIX):
                archive.write(path, f"{DOCS}/{path.name}")
    with open(temp, "rb") as stream:
        os.fsync(stream.fileno())
    os.replace(temp, target)
    fsync_dir(target.parent)
