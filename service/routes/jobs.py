"""Batch jobs over HTTP: upload an archive (202), list a key's jobs, follow one's progress as a stream of
events (NDJSON), cancel it, browse its documents, download the zip, delete it.

The upload may also be one document in its own format (`book.epub`, `film.srt`): a one-document job.
`?layout=` (repeatable) says how such documents are written back; each written file is served on its
own (`/documents/{doc}/file?layout=…`) with its media type and a download name.

Each key (its hash, "" with keys off) has quotas: jobs in flight (`429 too_many_jobs`) and bytes
stored (`quota_exceeded`: 429 when already full, 413 when this upload would pass it). They are
reservations: before its body is read, an upload takes a job slot and its declared size (or, chunked,
room ahead of its bytes, grown as they come) in one store transaction, so concurrent uploads, on any
replica, can never pass a limit together. An upload is streamed to a temp file and becomes a job only
once complete: a refused or failed upload leaves nothing, and its reservation is released.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from models.engine import GenerationOptions
from service import formats, sniff
from service.auth import require_api_key
from service.deps import JobsDep, OwnerDep, StateDep
from service.errors import ApiError
from service.jobs import document_files, outputs
from service.jobs.events import job_events
from service.jobs.manager import RESULTS, JobManager, job_layouts, job_style
from service.jobs.pace import PaceMeter
from service.jobs.readers import ARCHIVE_SUFFIXES, ArchiveError, archive_kind, document_suffixes
from service.jobs.records import DocumentStatus
from service.jobs.stores import Job, JobStatus
from service.jobs.stores.base import Refusal, Reservation
from service.options import checked_beams
from service.schemas import ErrorResponse
from service.settings import Settings
from service.web.export import EXPORT_CSP

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], dependencies=[Depends(require_api_key)])

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 404, 409, 413, 415, 429, 503)
}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_DOC_ID = re.compile(r"[0-9a-f]{20}")
# A downloaded document is never shown by the browser as a page of this origin: attachment, and a sandbox.
_FILE_CSP = "default-src 'none'; sandbox"


def _job(jobs: JobManager, ident: str, owner: str) -> Job:
    job = jobs.get(ident, owner)
    if job is None:
        raise ApiError(404, "job_not_found", "no job has this id")
    return job


def _view(job: Job) -> dict[str, Any]:
    base = f"/v1/jobs/{job.id}"
    return {
        "id": job.id,
        "status": job.status,
        "filename": job.filename,
        "created": job.created,
        "updated": job.updated,
        "error": job.error,
        "layouts": list(job_layouts(job)),
        "subtitle_style": str(job_style(job)),
        "progress": job.progress.as_dict(),
        "links": {
            "self": base,
            "documents": f"{base}/documents",
            "download": f"{base}/download",
            "events": f"{base}/events",
            "cancel": f"{base}/cancel",
        },
    }


def _filename(raw: str) -> str:
    name = _SAFE_NAME.sub("_", os.path.basename(raw.replace("\\", "/"))).strip("._") or ""
    try:
        if not name or archive_kind(Path(name)) == "dir":
            raise ArchiveError("no name")
    except ArchiveError:
        raise ApiError(
            415,
            "unsupported_archive",
            f"name the upload with one of {', '.join(ARCHIVE_SUFFIXES)}, or as one"
            f" {', '.join(document_suffixes())} document (?filename=…)",
        ) from None
    return name


def _cue_style(asked: str) -> formats.CueStyle:
    try:
        return formats.CueStyle.parse(asked)
    except ValueError as error:
        raise ApiError(422, "invalid_option", str(error)) from None


def _layouts(asked: list[str] | None) -> tuple[str, ...]:
    """The layouts asked for, in order, once each; the default when none."""
    chosen = tuple(dict.fromkeys(asked or (formats.DEFAULT_LAYOUT,)))
    unknown = [name for name in chosen if name not in formats.LAYOUTS]
    if unknown:
        raise ApiError(
            422, "invalid_option", f"unknown layout {unknown[0][:40]!r}; use one of {', '.join(formats.LAYOUTS)}"
        )
    return chosen


@router.post(
    "",
    status_code=202,
    responses=_ERRORS,
    summary="Upload an archive or one document (raw body, ?filename=…); translation runs in the background",
)
async def create_job(
    request: Request,
    state: StateDep,
    jobs: JobsDep,
    owner: OwnerDep,
    filename: Annotated[
        str, Query(max_length=255, description="the archive's (or the document's) name; its suffix picks the reader")
    ],
    num_beams: Annotated[int | None, Query(ge=1, le=8)] = None,
    layout: Annotated[
        list[str] | None,
        Query(
            max_length=len(formats.LAYOUTS) * 4,
            description="how documents in their own format (.srt, .docx, .epub…) are written back;"
            f" repeatable: {', '.join(formats.LAYOUTS)} (default {formats.DEFAULT_LAYOUT})",
        ),
    ] = None,
    subtitle_style: Annotated[
        str,
        Query(
            max_length=20,
            description="how a bilingual subtitle's English line is set apart: italic (default), none, a colour name"
            " or #rrggbb",
        ),
    ] = str(formats.DEFAULT_CUE_STYLE),
) -> dict[str, Any]:
    name = _filename(filename)
    layouts = _layouts(layout)
    style = _cue_style(subtitle_style)
    checked_beams(state, num_beams)
    settings = state.settings
    options = GenerationOptions(num_beams=num_beams)
    held = await run_in_threadpool(jobs.reserve, owner, name, options, layouts, _declared(request), style)
    reservation = _granted(held, settings)
    size = 0
    beating = asyncio.create_task(_heartbeat(jobs, reservation, settings.jobs_lease_seconds / 4))
    try:
        target = await run_in_threadpool(jobs.incoming, reservation)
        # Streamed to a hidden temp file (0o600 in the private data directory): never in memory, not yet a job.
        with os.fdopen(outputs.create_file(target), "wb") as stream:
            async for chunk in request.stream():
                size += len(chunk)
                if size > reservation.size:  # chunked, or longer than declared: more room, or a 413
                    reservation = _granted(await run_in_threadpool(jobs.grow, reservation, size), settings)
                stream.write(chunk)
            stream.flush()
            os.fsync(stream.fileno())
        if size == 0:
            raise ApiError(400, "empty_upload", "the request body is empty; send the archive as the body")
        await run_in_threadpool(_matches_its_name, target, name)
        if not await run_in_threadpool(jobs.submit, reservation, target, name, size):
            raise _lapsed()
    except BaseException:
        with anyio.CancelScope(shield=True):  # a client gone mid-upload cancels the request, not the cleanup
            await run_in_threadpool(jobs.release, reservation)
        raise
    finally:
        beating.cancel()
    return _view(await run_in_threadpool(_job, jobs, reservation.ident, owner))


def _matches_its_name(upload: Path, name: str) -> None:
    """A document whose bytes are another kind of file (`carte.docx` holding a PNG) is a 415 now, not a failed job."""
    with upload.open("rb") as stream:
        head = stream.read(sniff.HEAD_BYTES)
    try:
        sniff.kind_of(head, name)
    except sniff.Mismatch as error:
        raise ApiError(415, "unsupported_media_type", str(error), detected=error.found.label) from None


def _declared(request: Request) -> int | None:
    """The body's declared size (Content-Length), or None when it is chunked."""
    value = request.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


async def _heartbeat(jobs: JobManager, reservation: Reservation, every: float) -> None:
    """Keep the upload's reservation alive while its request lasts; the store drops it a lease after the last beat."""
    while True:
        await asyncio.sleep(every)
        await run_in_threadpool(jobs.beat, reservation)


def _granted(outcome: Reservation | Refusal, settings: Settings) -> Reservation:
    if isinstance(outcome, Refusal):
        raise _refused(outcome, settings)
    return outcome


def _refused(refusal: Refusal, settings: Settings) -> ApiError:
    """The HTTP answer to a refused reservation."""
    limit, usage = refusal.limit, refusal.usage
    if refusal.reason == "too_many_jobs":
        return ApiError(
            429,
            "too_many_jobs",
            f"this key has {usage.active} jobs uploading, queued or running; the limit is {limit}."
            " Retry once one has finished",
            headers={"Retry-After": "60"},
            limit=limit,
        )
    if refusal.reason == "quota_full":
        hours = settings.jobs_retention_hours
        return ApiError(
            429,
            "quota_exceeded",
            f"this key stores {usage.stored} bytes of jobs; the limit is {limit}."
            f" Delete finished jobs (DELETE /v1/jobs/{{id}}); they also expire {hours:g} h after they finish",
            headers={"Retry-After": "3600"},
            limit=limit,
        )
    if refusal.reason == "over_quota":
        return ApiError(
            413,
            "quota_exceeded",
            f"this upload would pass the {settings.jobs_max_bytes_per_key} bytes this key may store;"
            " delete finished jobs (DELETE /v1/jobs/{id}) or wait for them to expire",
            limit=limit,
        )
    if refusal.reason == "over_upload":
        return ApiError(413, "payload_too_large", f"the archive exceeds the limit of {limit} bytes", limit=limit)
    return _lapsed()


def _lapsed() -> ApiError:
    return ApiError(
        503,
        "upload_expired",
        "the upload's reservation lapsed (the server stalled for longer than its lease); send it again",
        headers={"Retry-After": "5"},
    )


@router.get("", responses=_ERRORS, summary="The key's jobs, newest first, each with its status and progress")
def list_jobs(
    jobs: JobsDep,
    owner: OwnerDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many, the newest")] = 100,
) -> dict[str, Any]:
    listed = jobs.listed(owner)
    return {"jobs": [_view(job) for job in listed[:limit]], "more": len(listed) > limit}


@router.delete(
    "/{job_id}",
    status_code=204,
    responses=_ERRORS,
    summary="Delete a finished, cancelled or queued job: its row, upload and outputs (a running job: 409)",
)
def delete_job(job_id: str, jobs: JobsDep, owner: OwnerDep) -> Response:
    job = _job(jobs, job_id, owner)
    if not jobs.delete(job.id):
        raise ApiError(
            409,
            "job_running",
            f"the job is {job.status}; stop it first (POST /v1/jobs/{job.id}/cancel),"
            " then delete it once it is cancelled",
        )
    return Response(status_code=204)


@router.post(
    "/{job_id}/cancel",
    responses=_ERRORS,
    summary="Stop a queued or running job; it keeps the documents it finished (a finished job: 409)",
)
def cancel_job(job_id: str, jobs: JobsDep, owner: OwnerDep) -> dict[str, Any]:
    job = _job(jobs, job_id, owner)
    if job.status in (JobStatus.CANCELLING, JobStatus.CANCELLED):  # asked twice: the same answer
        return _view(job)
    if not jobs.cancel(job.id):
        now = _job(jobs, job_id, owner)
        if now.status not in (JobStatus.CANCELLING, JobStatus.CANCELLED):
            raise ApiError(409, "job_finished", f"the job is {now.status}; only a queued or running job can be stopped")
    return _view(_job(jobs, job_id, owner))


@router.get(
    "/{job_id}/events",
    responses={200: {"content": {"application/x-ndjson": {}}}, **_ERRORS},
    response_class=StreamingResponse,
    summary="The job's progress as it changes, one JSON object a line (progress…, then end), until it finishes",
)
async def events(job_id: str, request: Request, state: StateDep, jobs: JobsDep, owner: OwnerDep) -> StreamingResponse:
    job = await run_in_threadpool(_job, jobs, job_id, owner)

    async def read() -> Job | None:
        return await run_in_threadpool(jobs.get, job.id, owner)

    async def stopped() -> bool:  # the client left, or the server drains: the client follows up elsewhere
        return state.draining or await request.is_disconnected()

    def meter(now: Job) -> PaceMeter:  # measured from the run's recorded start when it runs on another replica
        return jobs.paces.meter(now.id, now.run)

    return StreamingResponse(
        job_events(job, read, _view, stopped, state.settings.jobs_events_seconds, meter),
        media_type="application/x-ndjson",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/{job_id}", responses=_ERRORS, summary="Status and progress of a job")
def get_job(job_id: str, jobs: JobsDep, owner: OwnerDep) -> dict[str, Any]:
    return _view(_job(jobs, job_id, owner))


@router.get("/{job_id}/documents", responses=_ERRORS, summary="Every document recorded so far: status, reason, files")
def list_documents(job_id: str, jobs: JobsDep, owner: OwnerDep) -> dict[str, Any]:
    _job(jobs, job_id, owner)
    latest = outputs.latest_records(jobs.job_dir(job_id) / "out" / outputs.MANIFEST)
    return {"documents": [_listed(job_id, record) for record in latest.values()]}


def _listed(job_id: str, record: dict[str, Any]) -> dict[str, Any]:
    """A manifest record, plus where each of its files in its own format is served (`files`: layout → URL)."""
    written = document_files.produced(record)
    if not written:
        return record
    base = f"/v1/jobs/{job_id}/documents/{record['id']}/file"
    return record | {"files": {layout: f"{base}?layout={layout}" for layout in written}}


def _translated(jobs: JobManager, job_id: str, doc_id: str) -> dict[str, Any]:
    """The manifest record of one translated document of the job, or 404."""
    record = (
        outputs.latest_records(jobs.job_dir(job_id) / "out" / outputs.MANIFEST).get(doc_id)
        if _DOC_ID.fullmatch(doc_id)
        else None
    )
    if record is None or record.get("status") != DocumentStatus.OK:
        raise ApiError(404, "document_not_found", "this job has no translated document with this id")
    return record


@router.get(
    "/{job_id}/documents/{doc_id}",
    responses=_ERRORS,
    summary="One document's bilingual JSON, or ?format=html for its side-by-side page",
)
def get_document(
    job_id: str,
    doc_id: str,
    jobs: JobsDep,
    owner: OwnerDep,
    format: Annotated[str, Query(pattern="^(json|html)$")] = "json",
) -> FileResponse:
    _job(jobs, job_id, owner)
    record = _translated(jobs, job_id, doc_id)
    if not record.get(format):
        raise ApiError(404, "document_not_found", f"this document has no {format} file")
    if format == "json":
        return FileResponse(jobs.job_dir(job_id) / "out" / record[format], media_type="application/json")
    # The side-by-side page styles itself inline: the export's CSP, not the default that blocks it.
    page = jobs.job_dir(job_id) / "out" / record[format]
    return FileResponse(page, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": EXPORT_CSP})


@router.get(
    "/{job_id}/documents/{doc_id}/file",
    responses={200: {"content": {"application/octet-stream": {}}}, **_ERRORS, 422: {"model": ErrorResponse}},
    response_class=FileResponse,
    summary="One document written back in its own format (.srt, .docx, .epub…), in one layout, as an attachment",
)
def get_document_file(
    job_id: str,
    doc_id: str,
    jobs: JobsDep,
    owner: OwnerDep,
    layout: Annotated[
        str | None, Query(max_length=32, description="one of the job's layouts; default: the first it asked for")
    ] = None,
) -> FileResponse:
    job = _job(jobs, job_id, owner)
    record = _translated(jobs, job_id, doc_id)
    chosen = _layouts([layout] if layout is not None else [job_layouts(job)[0]])[0]
    written = document_files.produced(record)
    if not written:
        raise ApiError(
            404,
            "document_file_not_found",
            f"{record.get('name', 'this document')} is not a document written back in its own format"
            f" ({', '.join(document_suffixes())}); read its JSON or HTML instead",
        )
    if chosen not in written:
        raise ApiError(
            404,
            "document_file_not_found",
            f"this job wrote the document as {', '.join(written)} only, not {chosen}; ask for one of those,"
            " or submit the job again with ?layout=" + chosen,
        )
    path = written[chosen]
    return FileResponse(
        jobs.job_dir(job_id) / "out" / path,
        media_type=document_files.media_type(path),
        filename=document_files.download_name(str(record.get("name", "")), chosen, path),
        headers={"Content-Security-Policy": _FILE_CSP},
    )


@router.get(
    "/{job_id}/download",
    responses=_ERRORS,
    summary="All results (JSON + HTML per document, index, manifest) as one zip",
)
def download(job_id: str, jobs: JobsDep, owner: OwnerDep) -> FileResponse:
    job = _job(jobs, job_id, owner)
    path = jobs.job_dir(job_id) / RESULTS
    if job.status != JobStatus.DONE or not path.is_file():
        raise ApiError(409, "job_not_finished", f"the job is {job.status}; download once it is done")
    return FileResponse(path, media_type="application/zip", filename=f"bitext-{job_id}.zip")
