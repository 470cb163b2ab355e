"""The job store in PostgreSQL (psycopg 3, extra `[postgres]`): the one piece of state replicas share.

Same methods, table and `Job` rows as the SQLite store (timestamps stay ISO text), so the manager
and the routes cannot tell them apart. `claim` is one conditional UPDATE, so two replicas
that both see a queued job cannot both run it. A reservation is one transaction holding a
per-key advisory lock (`pg_advisory_xact_lock`, released at its end), so replicas reserving for
the same key take turns, and each sees what the others reserved.
"""

from __future__ import annotations

from typing import Any

from service import clock
from service.db.postgres import PostgresStore, Setup
from service.jobs.stores.base import (
    ADDED_COLUMNS,
    BUSY,
    COLUMNS,
    FINISHED,
    IN_FLIGHT,
    Job,
    JobStatus,
    NewJob,
    Progress,
    Quota,
    Refusal,
    Reservation,
    RunStart,
    Usage,
    checked_status,
    grant,
    insert_sql,
    progress_sql,
    run_sql,
    sql_list,
    status_sql,
    table_ddl,
)

TABLE = "bitext_jobs"
_SETUP = Setup(
    table=TABLE,
    schema=(
        table_ddl(TABLE, sequence="seq BIGSERIAL"),
        # A table from an older version gains the columns added since (owner, layouts), with their defaults.
        *(f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS {name} {kind}" for name, kind in ADDED_COLUMNS.items()),
    ),
    database="the jobs database",
    without_driver="BITEXT_JOBS_DATABASE_URL needs the PostgreSQL driver: pip install 'bitext[postgres]'",
)
_COLUMNS = ", ".join(COLUMNS)
_IN_FLIGHT = sql_list(IN_FLIGHT)
_FINISHED = sql_list(FINISHED)
_BUSY = sql_list(BUSY)
# What one key holds, but one job (a growing upload leaves its own hold out; "" leaves none out).
_USAGE = (
    f"SELECT COUNT(*) FILTER (WHERE status IN ({_IN_FLIGHT})) AS active,"
    f" COALESCE(SUM(stored_bytes), 0)::BIGINT AS stored FROM {TABLE} WHERE owner = %s AND id != %s"
)
# The per-key lock of reservations: the two-key form, whose key space no single-key lock (start-up's) shares.
_KEY_LOCK = "SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(%s))"


class PostgresJobStore(PostgresStore):
    """One autocommit connection behind a lock, reopened once if the server dropped it."""

    def __init__(self, url: str, connect_timeout: float = 10) -> None:
        super().__init__(url, connect_timeout, _SETUP)

    def create(self, job: NewJob) -> None:
        row = job.row(JobStatus.QUEUED, clock.now())
        self._run(lambda db: db.execute(insert_sql(TABLE, "%s"), row))

    def get(self, ident: str) -> Job | None:
        row = self._run(lambda db: db.execute(f"SELECT {_COLUMNS} FROM {TABLE} WHERE id = %s", (ident,)).fetchone())
        return Job.from_row(row) if row else None

    def set_status(self, ident: str, status: JobStatus, error: str | None = None) -> None:
        values = (checked_status(status), error, clock.now(), ident)
        self._run(lambda db: db.execute(status_sql(TABLE, "%s"), values))

    def set_progress(self, ident: str, progress: Progress) -> None:
        values = (*progress.values(), clock.now(), ident)
        self._run(lambda db: db.execute(progress_sql(TABLE, "%s"), values))

    def start_run(self, ident: str, start: RunStart) -> None:
        values = (*start.values(), ident)
        self._run(lambda db: db.execute(run_sql(TABLE, "%s"), values))

    def claim(self, ident: str) -> bool:
        """queued → running in one statement: of two replicas asking at once, exactly one gets True."""
        cursor = self._run(
            lambda db: db.execute(
                f"UPDATE {TABLE} SET status = 'running', updated = %s WHERE id = %s AND status = 'queued'",
                (clock.now(), ident),
            )
        )
        return cursor.rowcount == 1

    def touch(self, ident: str) -> None:
        self._run(lambda db: db.execute(f"UPDATE {TABLE} SET updated = %s WHERE id = %s", (clock.now(), ident)))

    def unfinished(self, stale_after: float | None = None) -> list[str]:
        """Queued jobs, oldest first, after requeueing running ones whose owner stopped beating (all, when None)."""

        def work(db: Any) -> list[dict[str, Any]]:
            # a job asked to stop whose worker died is stopped: `cancelled`, never run again
            cut_off = "" if stale_after is None else " AND updated < %s"
            since = () if stale_after is None else (clock.seconds_ago(stale_after),)
            db.execute(f"UPDATE {TABLE} SET status = 'queued' WHERE status = 'running'{cut_off}", since)
            db.execute(f"UPDATE {TABLE} SET status = 'cancelled' WHERE status = 'cancelling'{cut_off}", since)
            return db.execute(f"SELECT id FROM {TABLE} WHERE status = 'queued' ORDER BY created, seq").fetchall()

        return [row["id"] for row in self._run(work)]

    def owned(self, owner: str) -> list[Job]:
        query = f"SELECT {_COLUMNS} FROM {TABLE} WHERE owner = %s ORDER BY created, seq"
        rows = self._run(lambda db: db.execute(query, (owner,)).fetchall())
        return [Job.from_row(row) for row in rows]

    def expired(self, finished_before: str) -> list[str]:
        rows = self._run(
            lambda db: db.execute(
                f"SELECT id FROM {TABLE} WHERE status IN ({_FINISHED}) AND updated < %s", (finished_before,)
            ).fetchall()
        )
        return [row["id"] for row in rows]

    def delete(self, ident: str) -> bool:
        """The row gone, unless the job is running or stopping (then False: a replica's worker owns it)."""
        cursor = self._run(
            lambda db: db.execute(f"DELETE FROM {TABLE} WHERE id = %s AND status NOT IN ({_BUSY})", (ident,))
        )
        return bool(cursor.rowcount == 1)

    def cancel(self, ident: str) -> bool:
        """queued → cancelled, running → cancelling, in one statement; False when the job was neither."""
        cursor = self._run(
            lambda db: db.execute(
                f"UPDATE {TABLE} SET status = CASE status WHEN 'queued' THEN 'cancelled' ELSE 'cancelling' END,"
                " updated = %s WHERE id = %s AND status IN ('queued', 'running')",
                (clock.now(), ident),
            )
        )
        return bool(cursor.rowcount == 1)

    @staticmethod
    def _lock_key(db: Any, owner: str) -> None:
        """Inside a transaction: the key's reservation lock, held to the transaction's end."""
        db.execute(_KEY_LOCK, (f"{TABLE}.quota", owner))

    @staticmethod
    def _usage(db: Any, owner: str, but: str = "") -> Usage:
        row = db.execute(_USAGE, (owner, but)).fetchone()
        return Usage(active=int(row["active"]), stored=int(row["stored"]))

    def reserve(self, job: NewJob, *, quota: Quota, need: int, ask: int) -> Reservation | Refusal:
        """Check the key's quotas and insert the job as `uploading`, holding the bytes granted, in one transaction."""

        def work(db: Any) -> Reservation | Refusal:
            stamp, lapsed, owner = clock.now(), clock.seconds_ago(quota.lease), job.owner
            with db.transaction():
                self._lock_key(db, owner)
                db.execute(
                    f"DELETE FROM {TABLE} WHERE owner = %s AND status = 'uploading' AND updated < %s", (owner, lapsed)
                )
                granted = grant(quota, self._usage(db, owner), need, ask, new=True)
                if isinstance(granted, Refusal):
                    return granted
                db.execute(insert_sql(TABLE, "%s"), job.row(JobStatus.UPLOADING, stamp, granted))
            return Reservation(job.id, owner, granted)

        return self._run(work)

    def grow(self, reservation: Reservation, *, quota: Quota, need: int, ask: int) -> Reservation | Refusal:
        """Hold more bytes for an upload still `uploading`, under the same rule (no new job slot taken)."""

        def work(db: Any) -> Reservation | Refusal:
            with db.transaction():
                self._lock_key(db, reservation.owner)
                usage = self._usage(db, reservation.owner, but=reservation.ident)
                held = db.execute(
                    f"SELECT 1 FROM {TABLE} WHERE id = %s AND status = 'uploading'", (reservation.ident,)
                ).fetchone()
                if held is None:
                    return Refusal("lapsed", quota.max_bytes, usage)
                granted = grant(quota, usage, need, ask, new=False)
                if isinstance(granted, Refusal):
                    return granted
                db.execute(
                    f"UPDATE {TABLE} SET stored_bytes = %s, updated = %s WHERE id = %s",
                    (granted, clock.now(), reservation.ident),
                )
            return Reservation(reservation.ident, reservation.owner, granted)

        return self._run(work)

    def activate(self, ident: str, size: int) -> bool:
        """uploading → queued, holding the upload's real size; False when the reservation is gone."""
        cursor = self._run(
            lambda db: db.execute(
                f"UPDATE {TABLE} SET status = 'queued', stored_bytes = %s, updated = %s"
                " WHERE id = %s AND status = 'uploading'",
                (size, clock.now(), ident),
            )
        )
        return bool(cursor.rowcount == 1)

    def release(self, ident: str) -> bool:
        """A failed upload's reservation dropped; never a job that was activated."""
        cursor = self._run(
            lambda db: db.execute(f"DELETE FROM {TABLE} WHERE id = %s AND status = 'uploading'", (ident,))
        )
        return bool(cursor.rowcount == 1)

    def charge(self, ident: str, size: int) -> None:
        """The job holds at least `size` bytes (what its directory holds now); an upload keeps its reservation."""
        self._run(
            lambda db: db.execute(
                f"UPDATE {TABLE} SET stored_bytes = GREATEST(stored_bytes, %s) WHERE id = %s AND status != 'uploading'",
                (size, ident),
            )
        )

    def lapsed(self, before: str) -> list[str]:
        """Drop the reservations of uploads without a heartbeat since `before`; their ids."""
        rows = self._run(
            lambda db: db.execute(
                f"DELETE FROM {TABLE} WHERE status = 'uploading' AND updated < %s RETURNING id", (before,)
            ).fetchall()
        )
        return [row["id"] for row in rows]
