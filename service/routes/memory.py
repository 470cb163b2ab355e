"""`/v1/memory`: the caller's translation memory (one per API key): add, search, delete; TMX and XLIFF 2.0
in, TMX out; the key's term glossary (DeepL's CSV/TSV) in, out (JSON, CSV, TSV) and deleted."""

from __future__ import annotations

import re
from dataclasses import replace
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from models.memory import Unit
from service.body import read_capped
from service.deps import MemoryDep, OwnerDep, StateDep
from service.errors import ApiError, error_responses
from service.memory import StoredUnit
from service.memory.exchange import ExchangeError, ExchangeFormat
from service.memory.glossary import GLOSSARY_MEDIA, export_glossary, import_glossary
from service.memory.terms import MAX_NAME, Glossary, GlossaryChange, GlossaryMode, GlossaryTooLarge
from service.memory.tmx import export_tmx, import_tmx
from service.memory.xliff import import_xliff
from service.schemas import (
    DeletedOut,
    GlossaryEntryOut,
    GlossaryInfoOut,
    GlossaryOut,
    ImportOut,
    UnitIn,
    UnitOut,
    UnitsOut,
)

router = APIRouter(prefix="/v1/memory", tags=["memory"])

TMX = "application/x-tmx+xml"
XLIFF = "application/xliff+xml"
_MEDIA = {
    "application/x-tmx+xml": ExchangeFormat.TMX,
    "application/x-tmx": ExchangeFormat.TMX,
    "application/xliff+xml": ExchangeFormat.XLIFF,
    "application/x-xliff+xml": ExchangeFormat.XLIFF,
    "text/csv": ExchangeFormat.CSV,
    "text/tab-separated-values": ExchangeFormat.TSV,
}
_SNIFFED = ("application/xml", "text/xml", "application/octet-stream")  # TMX or XLIFF: the root element says
_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(xliff|tmx)[\s>/]")


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


_BINARY = {"schema": {"type": "string", "format": "binary"}}
_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            media: _BINARY for media in (TMX, XLIFF, "text/csv", "text/tab-separated-values", "application/xml")
        },
        "description": (
            "a TMX 1.4 file (each <tu> with a French and an English <tuv>), an XLIFF 2.0 file from French to "
            "English (post-edited segments are stored), or a DeepL glossary: CSV `source,target` rows or TSV "
            "`source<TAB>target` lines, which replace (or with mode=merge, merge into) the key's term glossary, "
            "applied inside sentences; with application/xml the root element tells TMX from XLIFF"
        ),
    }
}


def _format(media: str, data: bytes) -> ExchangeFormat:
    if media in _MEDIA:
        return _MEDIA[media]
    found = _ROOT.search(data[:65536])
    return ExchangeFormat.XLIFF if found and found.group(1) == b"xliff" else ExchangeFormat.TMX


def _read(kind: ExchangeFormat, data: bytes) -> tuple[list[Unit], int | None]:
    """The units a file holds and how many of its entries were left out (XLIFF: unchanged segments)."""
    if kind is ExchangeFormat.XLIFF:
        found = import_xliff(data)
        return found.units, found.skipped
    return import_tmx(data), None


_GLOSSARIES = (ExchangeFormat.CSV, ExchangeFormat.TSV)
_NAME = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"  # not blank, no control character


def _info(glossary: Glossary) -> GlossaryInfoOut:
    return GlossaryInfoOut(
        name=glossary.name, entries=len(glossary.entries), created=glossary.created, updated=glossary.updated
    )


@router.post(
    "/import",
    response_model=ImportOut,
    response_model_exclude_none=True,
    responses=error_responses(401, 413, 415, 422, 503),
    openapi_extra=_IMPORT_BODY,
    summary="Import TMX, a post-edited XLIFF 2.0 (all its units or none), or a DeepL glossary (CSV/TSV) as the key's "
    "term glossary; the first problem is named with its line",
)
async def import_memory(
    request: Request,
    state: StateDep,
    owner: OwnerDep,
    memory: MemoryDep,
    mode: Annotated[
        GlossaryMode | None,
        Query(description="a glossary only: `replace` the key's glossary as a whole (the default) or `merge` into it"),
    ] = None,
    name: Annotated[
        str | None,
        Query(max_length=MAX_NAME, pattern=_NAME, description="a glossary only: its name (default: the one it had)"),
    ] = None,
) -> ImportOut:
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media not in _MEDIA and media not in _SNIFFED:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send the file itself as {TMX}, {XLIFF}, text/csv or text/tab-separated-values (or application/xml)",
        )
    data = await read_capped(request, state.settings.memory_max_import_bytes)
    kind = _format(media, data)
    if kind in _GLOSSARIES:
        change = GlossaryChange(
            (), mode or GlossaryMode.REPLACE, name and name.strip(), state.settings.max_glossary_terms
        )
        return await _import_glossary(memory, owner, kind, data, change)
    if mode is not None or name is not None:
        raise ApiError(
            422, "invalid_option", "mode and name apply to a glossary (text/csv or text/tab-separated-values)"
        )
    try:
        units, skipped = await run_in_threadpool(_read, kind, data)
    except ExchangeError as error:
        raise ApiError(422, error.code, str(error), line=error.line) from None
    if not units:
        what = "no <tu>" if kind is ExchangeFormat.TMX else "no translated or post-edited segment"
        code = "invalid_tmx" if kind is ExchangeFormat.TMX else "invalid_xliff"
        raise ApiError(422, code, f"the file holds {what}: nothing to import", line=0)
    stored = await run_in_threadpool(lambda: memory.store().add_many(owner, units, owner))
    return ImportOut(imported=stored, skipped=skipped)


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


async def _import_glossary(
    memory: MemoryDep, owner: str, kind: ExchangeFormat, data: bytes, change: GlossaryChange
) -> ImportOut:
    """A DeepL glossary becomes the key's term glossary (replacing or merged into the one it had)."""
    try:
        entries = await run_in_threadpool(import_glossary, data, kind)
    except ExchangeError as error:
        raise ApiError(422, error.code, str(error), line=error.line) from None
    try:
        glossary = await run_in_threadpool(
            lambda: memory.store().change_glossary(owner, replace(change, entries=entries))
        )
    except GlossaryTooLarge as error:
        raise ApiError(422, "invalid_glossary", str(error), limit=error.limit) from None
    return ImportOut(imported=len(entries), glossary=_info(glossary))


class GlossaryFormat(StrEnum):
    """What `GET /v1/memory/glossary` answers with."""

    JSON = "json"
    CSV = "csv"
    TSV = "tsv"


@router.get(
    "/glossary",
    response_model=GlossaryOut,
    responses={
        **error_responses(401, 422, 503),
        200: {
            "content": {"text/csv": {}, "text/tab-separated-values": {}},
            "description": "the key's glossary: JSON, or with ?format=csv|tsv the entries in DeepL's format",
        },
    },
    summary="The key's term glossary: JSON, or DeepL's CSV/TSV (what import reads back)",
)
async def get_glossary(
    owner: OwnerDep,
    memory: MemoryDep,
    format: Annotated[GlossaryFormat, Query(description="json, or csv/tsv in DeepL's entry format")] = (
        GlossaryFormat.JSON
    ),
) -> GlossaryOut | Response:
    store = await run_in_threadpool(memory.existing)
    glossary = await run_in_threadpool(store.glossary, owner) if store is not None else None
    if format is not GlossaryFormat.JSON:
        kind = ExchangeFormat(format.value)
        data = export_glossary(glossary, kind) if glossary is not None else b""
        disposition = f'attachment; filename="glossary.{format.value}"'
        media = f"{GLOSSARY_MEDIA[kind]}; charset=utf-8"
        return Response(data, media_type=media, headers={"Content-Disposition": disposition})
    if glossary is None:
        return GlossaryOut(name=None, entries=[])
    entries = [GlossaryEntryOut(source=entry.source, target=entry.target) for entry in glossary.entries]
    return GlossaryOut(name=glossary.name, created=glossary.created, updated=glossary.updated, entries=entries)


@router.delete(
    "/glossary",
    response_model=DeletedOut,
    responses=error_responses(401, 503),
    summary="Delete the key's term glossary (its memory units stay)",
)
async def delete_glossary(owner: OwnerDep, memory: MemoryDep) -> DeletedOut:
    store = await run_in_threadpool(memory.existing)
    deleted = await run_in_threadpool(store.delete_glossary, owner) if store is not None else 0
    return DeletedOut(deleted=deleted)
