"""Job stores: SQLite for one server, PostgreSQL for replicas sharing one data directory.

`open_job_store` picks the backend from the settings; both hand out the same typed `Job` rows.
"""

from __future__ import annotations

from pathlib import Path

from service.jobs.stores.base import PROGRESS, STATUSES, Job, JobStatus, JobStore, NewJob, Progress, RunStart
from service.jobs.stores.sqlite import SqliteJobStore

__all__ = [
    "PROGRESS",
    "STATUSES",
    "Job",
    "JobStatus",
    "JobStore",
    "NewJob",
    "Progress",
    "RunStart",
    "SqliteJobStore",
    "open_job_store",
]


def open_job_store(database_url: str | None, data_dir: Path) -> JobStore:
    """PostgreSQL when a URL is configured (replicas share it), else SQLite under the data directory."""
    if database_url:
        from service.jobs.stores.postgres import PostgresJobStore  # psycopg is an extra

        return PostgresJobStore(database_url)
    return SqliteJobStore(data_dir / "jobs.sqlite3")
