"""A job's progress as a stream of NDJSON events, for `GET /v1/jobs/{id}/events`.

`progress` (the job as `GET /v1/jobs/{id}` shows it, and its pace) at once and whenever the job's status,
progress or error changes, read from the job store every `every` seconds (so a job run by another replica is
followed as well); an unchanged job is said again every `KEEPALIVE_SECONDS` so proxies keep the connection.
`end` once the job is finished (done, failed, cancelled), `error` if it is deleted meanwhile. The stream stops
without an `end` when its client leaves or the server drains: a client then opens a new one (on another
replica), which starts with where the job is.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from service.jobs.pace import PaceMeter
from service.jobs.stores import Job
from service.jobs.stores.base import FINISHED

KEEPALIVE_SECONDS = 15.0


def line(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode("utf-8") + b"\n"


async def job_events(
    job: Job,
    read: Callable[[], Awaitable[Job | None]],
    view: Callable[[Job], dict[str, Any]],
    stopped: Callable[[], Awaitable[bool]],
    every: float,
    meter: Callable[[Job], PaceMeter] | None = None,
) -> AsyncIterator[bytes]:
    """The events of `job`, read again with `read` until it is finished or `stopped` says the stream ends.

    `meter` gives the job's pace meter at each event, from the job as last read (`PaceBoard.meter`:
    shared with its run and the job's other streams in this process, measuring from the run's recorded
    start when it runs elsewhere); by default the stream's own."""
    own = PaceMeter()
    current = meter or (lambda _: own)
    said: tuple[Any, ...] | None = None
    said_at = 0.0
    while True:
        if job.status in FINISHED:
            yield line({"type": "end", "job": view(job)})
            return
        now = time.monotonic()
        state = (job.status, job.progress, job.error)
        pace = current(job).observe(now, job.progress.done, job.progress.sentences, job.progress.total)
        if state != said or now - said_at >= KEEPALIVE_SECONDS:
            yield line({"type": "progress", "job": view(job), "pace": pace.as_dict()})
            said, said_at = state, now
        await asyncio.sleep(every)
        if await stopped():
            return
        found = await read()
        if found is None:
            yield line({"type": "error", "error": {"code": "job_not_found", "message": "the job was deleted"}})
            return
        job = found
