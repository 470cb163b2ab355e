"""`/v1/memory`: the caller's translation memory (one per API key): add, search, delete, TMX in and out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from models.memory import Unit
from service.body import read_capped
from service.deps import MemoryDep, OwnerDep, StateDep
from service.errors import ApiError, error_responses
from service.memory import StoredUnit
from service.memory.tmx import TmxError, export_tmx, import_tmx
from service.schemas import DeletedOut, ImportOut, UnitIn, UnitOut, UnitsOut

router = APIRouter(prefix="/v1/memory", tags=["memory"])

TMX = "application/x-tmx+xml"
_TMX_MEDIA = ("application/x-tmx+xml", "application/x-tmx", "application/xml", "text/xml", "application/octet-stream")


def unit_out(stored: StoredUnit) -> UnitOut:
    unit = stored.unit
    return UnitOut(
        id=stored.id,
        source=unit.source,
        english=unit.english,
        previous=unit.previous,
        next=unit.next,
        origin=unit.origin,
        created=stored.created,
        updated=stored.updated,
        supersedes=stored.supersedes,
    )


@router.post(
    "/units",
    status_code=201,
    response_model=UnitOut,
    responses=error_responses(400, 401, 413, 422, 503),
    summary="Add a unit, or correct one: a unit for the same sentence and context supersedes the old (kept)",
)
async def add_unit(body: UnitIn, owner: OwnerDep, memory: MemoryDep) -> UnitOut:
    unit = Unit(body.source, body.english, body.previous, body.next, body.origin)
    return unit_out(await run_in_threadpool(lambda: memory.store().add(owner, unit, owner)))


@router.get(
    "/units",
    response_model=UnitsOut,
    responses=error_responses(401, 422, 503),
    summary="Search the memory: current units whose French or English contains q (spaces, quotes, case folded)",
)
async def search_units(
    owner: OwnerDep,
    memory: MemoryDep,
    q: Annotated[str, Query(max_length=1000, description="text to find; empty: the newest units")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> UnitsOut:
    found = await run_in_threadpool(lambda: memory.store().search(owner, q, limit))
    return UnitsOut(units=[unit_out(stored) for stored in found])


@router.delete(
    "",
    response_model=DeletedOut,
    responses=error_responses(401, 503),
    summary="Delete the caller's whole memory, history included",
)
async def delete_memory(owner: OwnerDep, memory: MemoryDep) -> DeletedOut:
    return DeletedOut(deleted=await run_in_threadpool(lambda: memory.store().delete_all(owner)))


_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {TMX: {"schema": {"type": "string", "format": "binary"}}},
        "description": "a TMX 1.4 file: each <tu> with a French (xml:lang fr) and an English (en) <tuv>",
    }
}


@router.post(
    "/import",
    response_model=ImportOut,
    responses=error_responses(401, 413, 415, 422, 503),
    openapi_extra=_IMPORT_BODY,
    summary="Import a TMX file into the memory: all its units, or none (the first problem is named with its line)",
)
async def import_memory(request: Request, state: StateDep, owner: OwnerDep, memory: MemoryDep) -> ImportOut:
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media not in _TMX_MEDIA:
        raise ApiError(415, "unsupported_media_type", f"send the TMX file itself as {TMX} (or application/xml)")
    data = await read_capped(request, state.settings.memory_max_import_bytes)
    try:
        units = await run_in_threadpool(import_tmx, data)
    except TmxError as error:
        code = "unsafe_xml" if error.unsafe else "invalid_tmx"
        raise ApiError(422, code, str(error), line=error.line) from None
    if not units:
        raise ApiError(422, "invalid_tmx", "the file holds no <tu>: nothing to import", line=0)
    return ImportOut(imported=await run_in_threadpool(lambda: memory.store().add_many(owner, units, owner)))


@router.get(
    "/export.tmx",
    responses={
        **error_responses(401, 503),
        200: {"content": {TMX: {}}, "description": "the current units as TMX 1.4b"},
    },
    response_class=Response,
    summary="Export the memory as TMX 1.4b (current units, with their context)",
)
async def export_memory(owner: OwnerDep, memory: MemoryDep) -> Response:
    units = await run_in_threadpool(lambda: memory.store().units(owner))
    data = await run_in_threadpool(export_tmx, units)
    return Response(data, media_type=TMX, headers={"Content-Disposition": 'attachment; filename="memory.tmx"'})
