"""XLIFF 2.0 export of translated documents: a `/v1/translate` answer sent back, a job's document, or a whole
job (a `<file>` per document).

The file holds one `<unit>` per sentence with its state and context (`service.memory.xliff`); once
post-edited in a CAT tool it goes back through `POST /v1/memory/import`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from service.deps import JobsDep, OwnerDep
from service.errors import ApiError, error_responses
from service.memory.exchange import ExchangeError
from service.memory.xliff import export_xliff, sentences_of
from service.memory.xliff_job import NO_DOCUMENTS, UNREADABLE, outdir_xliff
from service.routes.jobs import _job, _translated
from service.schemas import TranslateResponse

router = APIRouter(tags=["memory"])

XLIFF = "application/xliff+xml"
_NAME = Query(max_length=200, pattern=r"\S", description="the <file id> (and the download's name)")
_OK: dict[int | str, dict[str, Any]] = {
    200: {"content": {XLIFF: {}}, "description": "the document as XLIFF 2.0, one <unit> per sentence"}
}


def _attachment(data: bytes, name: str) -> Response:
    # ASCII only: a header is latin-1, and "Ā" in a name was a 500
    safe = "".join(c if (c.isascii() and c.isalnum()) or c in "-_." else "_" for c in name) or "document"
    return Response(data, media_type=XLIFF, headers={"Content-Disposition": f'attachment; filename="{safe}.xlf"'})


@router.post(
    "/v1/memory/xliff",
    response_class=Response,
    responses={**error_responses(400, 401, 413, 422), **_OK},
    summary="A /v1/translate answer (its JSON, sent back as it came) as XLIFF 2.0, to post-edit in a CAT tool",
)
async def answer_as_xliff(
    body: TranslateResponse, owner: OwnerDep, name: Annotated[str, _NAME] = "document"
) -> Response:
    try:
        data = await run_in_threadpool(lambda: export_xliff(sentences_of(body), name))
    except ExchangeError as error:
        raise ApiError(422, error.code, str(error)) from None
    return _attachment(data, name)


@router.get(
    "/v1/jobs/{job_id}/xliff",
    response_class=Response,
    responses={**error_responses(401, 404, 422), **_OK},
    summary="Every translated document of a job as one XLIFF 2.0 file, a <file> per document, to post-edit "
    "in a CAT tool",
)
def job_as_xliff(job_id: str, jobs: JobsDep, owner: OwnerDep) -> Response:
    job = _job(jobs, job_id, owner)
    try:
        data = outdir_xliff(jobs.job_dir(job_id) / "out")
    except ExchangeError as error:
        if error.code in (NO_DOCUMENTS, UNREADABLE):
            raise ApiError(404, "document_not_found", str(error)) from None
        raise ApiError(422, error.code, str(error)) from None
    return _attachment(data, job.filename.split(".")[0] or "job")


def _answer(path: Path) -> TranslateResponse:
    try:
        return TranslateResponse.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        raise ApiError(404, "document_not_found", "a document's JSON cannot be read") from None


@router.get(
    "/v1/jobs/{job_id}/documents/{doc_id}/xliff",
    response_class=Response,
    responses={**error_responses(401, 404, 422), **_OK},
    summary="One translated document of a job as XLIFF 2.0, to post-edit in a CAT tool",
)
def document_as_xliff(job_id: str, doc_id: str, jobs: JobsDep, owner: OwnerDep) -> Response:
    _job(jobs, job_id, owner)
    record = _translated(jobs, job_id, doc_id)
    if not record.get("json"):
        raise ApiError(404, "document_not_found", "this document has no JSON to export")
    answer = _answer(jobs.job_dir(job_id) / "out" / str(record["json"]))
    name = str(record.get("name") or doc_id).rsplit("/", 1)[-1]
    try:
        return _attachment(export_xliff(sentences_of(answer), name), name)
    except ExchangeError as error:
        raise ApiError(422, error.code, str(error)) from None
