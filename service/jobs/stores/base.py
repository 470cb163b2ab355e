"""What every job store holds and offers: the typed `Job` row, its progress counters, the table.

Status moves queued → running → done | failed; a job found `running` at start-up was cut off by
a crash or a restart and goes back to `queued`, and the runner's manifest makes the rerun a resume.
`claim` is the one way into `running`, so a job queued twice (or seen by two replicas) runs once.
`delete` never removes a running job (its worker is writing its directory); `expired` lists the
finished jobs the retention sweep removes, `owned` what one key holds (for its quotas).

Columns added after the first version (`owner`, `layouts`) have defaults and are added to an older
table when a store opens it (`ADDED_COLUMNS`), so an old store keeps working and its rows read as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, Protocol

STATUSES = ("queued", "running", "done", "failed")


@dataclass(frozen=True)
class Progress:
    """Documents seen so far (and sentences translated); each field is a column of the table."""

    total: int = 0
    done: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    sentences: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


PROGRESS = tuple(field.name for field in fields(Progress))


@dataclass(frozen=True)
class Job:
    """One row of the jobs table. `owner` is a hash of the API key that made it ("" with keys off).

    `layouts`: the layouts its documents in their own format are written in; () for a job from before
    layouts were asked for (the runner's default then).
    """

    id: str
    status: str
    filename: str
    options: str  # JSON of the generation options the job was submitted with
    created: str
    updated: str
    error: str | None
    progress: Progress
    owner: str = ""
    layouts: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Job:
        progress = Progress(**{key: int(row[key] or 0) for key in PROGRESS})
        return cls(
            id=row["id"],
            status=row["status"],
            filename=row["filename"],
            options=row["options"],
            created=row["created"],
            updated=row["updated"],
            error=row["error"],
            progress=progress,
            owner=row.get("owner") or "",
            layouts=tuple(name for name in (row.get("layouts") or "").split(",") if name),
        )


def table_ddl(table: str, sequence: str = "") -> str:
    """The one definition of the jobs table; `sequence` adds a backend's insertion-order column."""
    counters = ", ".join(f"{key} INTEGER NOT NULL DEFAULT 0" for key in PROGRESS)
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, status TEXT NOT NULL, filename TEXT NOT NULL,"
        f" options TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL, error TEXT, {counters},"
        f" owner TEXT NOT NULL DEFAULT '', layouts TEXT NOT NULL DEFAULT ''{', ' + sequence if sequence else ''})"
    )


COLUMNS = ("id", "status", "filename", "options", "created", "updated", "error", *PROGRESS, "owner", "layouts")
# Columns a table made by an older version lacks, with their definitions: each store adds the missing ones.
ADDED_COLUMNS = {"owner": "TEXT NOT NULL DEFAULT ''", "layouts": "TEXT NOT NULL DEFAULT ''"}


def layouts_text(layouts: Sequence[str]) -> str:
    """The `layouts` column's text: names joined by commas (layout names never hold one)."""
    if any("," in name for name in layouts):
        raise ValueError(f"a layout name holds a comma: {layouts!r}")
    return ",".join(layouts)


def check_fields(changes: Mapping[str, Any]) -> None:
    """Only status, error and the progress counters change after creation (and names reach SQL text)."""
    unknown = set(changes) - {"status", "error", *PROGRESS}
    if unknown:
        raise ValueError(f"unknown job fields: {unknown}")
    if "status" in changes and changes["status"] not in STATUSES:
        raise ValueError(f"unknown status {changes['status']!r}")


class JobStore(Protocol):
    """What the job manager and the routes need from a job store (SQLite or PostgreSQL)."""

    def create(self, ident: str, filename: str, options: str, owner: str = "", layouts: Sequence[str] = ()) -> None: ...

    def get(self, ident: str) -> Job | None: ...

    def update(self, ident: str, **changes: Any) -> None: ...

    def claim(self, ident: str) -> bool: ...

    def touch(self, ident: str) -> None: ...

    def unfinished(self, stale_after: float | None = None) -> list[str]: ...

    def owned(self, owner: str) -> list[Job]: ...

    def expired(self, finished_before: str) -> list[str]: ...

    def delete(self, ident: str) -> bool: ...

    def close(self) -> None: ...
