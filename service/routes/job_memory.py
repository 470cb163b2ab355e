"""`POST /v1/jobs/{id}/apply-memory`: the caller's translation memory applied to a finished job's documents."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from service.deps import JobsDep, MemoryDep, OwnerDep
from service.errors import ApiError, error_responses
from service.jobs.outdir import BatchBusy
from service.jobs.readers import ArchiveError
from service.jobs.retro import Applied, last_applied
from service.jobs.stores import JobStatus
from service.schemas import AppliedOut, DocumentChangeOut, SentenceChangeOut

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

FINISHED = (JobStatus.DONE, JobStatus.CANCELLED)


def applied_out(applied: Applied, finished: bool = True) -> AppliedOut:
    documents = [
        DocumentChangeOut(
            id=document.id,
            name=document.name,
            sentences=[
                SentenceChangeOut(
                    block=change.block,
                    sentence=change.sentence,
                    fr=change.fr,
                    before=change.before,
                    after=change.after,
                    source=change.source,
                )
                for change in document.sentences
            ],
        )
        for document in applied.documents
    ]
    return AppliedOut(checked=applied.checked, documents=documents, sentences=applied.sentences, finished=finished)


@router.post(
    "/{job_id}/apply-memory",
    response_model=AppliedOut,
    responses=error_responses(401, 404, 409, 503),
    summary="Rewrite a finished job's sentences that the memory now answers (context or exact match); "
    "only the documents that change are written again, without the model",
)
async def apply_memory(job_id: str, jobs: JobsDep, owner: OwnerDep, memory: MemoryDep) -> AppliedOut:
    job = jobs.get(job_id, owner)
    if job is None:
        raise ApiError(404, "job_not_found", "no job has this id")
    if job.status not in FINISHED:
        raise ApiError(409, "job_not_finished", f"the job is {job.status}; apply the memory once it is done")
    use = memory.use(owner)
    if use.index is None:  # no memory stored yet: nothing can change
        return AppliedOut(checked=0, documents=[], sentences=0)
    try:
        applied = await run_in_threadpool(jobs.apply_memory, job, use)
    except BatchBusy:
        raise ApiError(409, "job_busy", "the job's output is being written; retry when that is done") from None
    except ArchiveError as error:
        raise ApiError(409, "archive_unreadable", f"the job's archive can no longer be read: {error}") from None
    return applied_out(applied)


@router.get(
    "/{job_id}/apply-memory",
    response_model=AppliedOut,
    responses=error_responses(401, 404),
    summary="The report of the last application of the memory to this job that rewrote something (for a client "
    "that lost the POST's answer); `finished: false` when it stopped midway",
)
def last_application(job_id: str, jobs: JobsDep, owner: OwnerDep) -> AppliedOut:
    job = jobs.get(job_id, owner)
    if job is None:
        raise ApiError(404, "job_not_found", "no job has this id")
    found = last_applied(jobs.job_dir(job.id) / "out")
    if found is None:
        raise ApiError(404, "not_applied", "the memory has not rewritten anything in this job")
    return applied_out(*found)
