"""`POST /v1/translate`: an article in (text/plain or JSON), aligned bilingual JSON out."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from models.engine import GenerationOptions
from models.glossary import GlossaryError, Terms
from models.memory import MemoryMode, MemoryUse
from models.parse import ParseError, parse, parse_article
from models.pipeline import DocumentStream
from models.repair import Fidelity
from models.request import TranslationRequest
from service import sniff
from service.auth import require_api_key
from service.body import decode_text, read_capped
from service.deps import AppState, OwnerDep, SchedulerDep, StateDep
from service.errors import ApiError, as_api_error, error_responses
from service.formats import FORMATS
from service.openapi import schema_ref
from service.options import beam_in_force, checked_beams
from service.scheduler import Lane
from service.schemas import (
    BlockOut,
    Format,
    ModelOut,
    SourceBlockOut,
    StatsOut,
    StreamEvent,
    TranslateRequest,
    TranslateResponse,
)
from service.translation import open_stream, stream_blocks, translate_interactive

log = logging.getLogger(__name__)
NDJSON = "application/x-ndjson"

router = APIRouter(prefix="/v1", tags=["translate"], dependencies=[Depends(require_api_key)])

_ERRORS = error_responses(400, 401, 413, 415, 422, 503, 504)
_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    200: {
        "description": (
            "The bilingual article as JSON; with `Accept: application/x-ndjson`, a stream of JSON lines: "
            "one `start`, one `block` per block in reading order (each exactly as in `blocks` of the JSON "
            "answer), then `end` with the stats, or `error` if the translation fails after the start."
        ),
        "content": {NDJSON: {"schema": schema_ref(StreamEvent)}},
    },
}
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {"schema": {"type": "string", "pattern": r"\S"}},
            "application/json": {"schema": schema_ref(TranslateRequest)},
        },
    }
}
_HTML_WARNING = (
    "html: only the main article text was extracted; links, emphasis, code and tables are kept, other markup is not"
)


def _media_type(request: Request) -> tuple[str, str | None]:
    raw = request.headers.get("content-type", "")
    media, _, params = raw.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip('"').lower()
    return media.strip().lower(), charset


_JOBS_HINT = "documents (.docx, .pdf, .epub…) and archives go to POST /v1/jobs?filename=NAME, as a job"


def _refuse_files(body: bytes) -> None:
    """A document's, an archive's or any other file's bytes are refused (415) by what they are, naming
    `/v1/jobs` for what it reads, before they are decoded as text (a DOCX is no "invalid utf-8")."""
    kind = sniff.sniff(body)
    if kind is None:
        return
    if kind.family is sniff.Family.DOCUMENT and kind.format is not None:
        suffix = FORMATS[kind.format].suffixes[0]
        advice = f"send it to POST /v1/jobs?filename=NAME{suffix}: a one-document job, written back in its format"
    elif kind.family is sniff.Family.ARCHIVE:
        advice = "send it to POST /v1/jobs?filename=NAME with the archive's suffix: one job for all its documents"
    else:
        advice = f"bitext reads {sniff.readable()}; {_JOBS_HINT}"
    raise ApiError(
        415,
        "unsupported_media_type",
        f"the body is a {kind.label}, not text: /v1/translate reads text, markdown, HTML or JSON; {advice}",
        detected=kind.label,
    )


def _request_from(media: str, body: bytes, charset: str | None, query_format: Format) -> TranslateRequest:
    _refuse_files(body)
    if media == "application/json" or media.endswith("+json"):
        try:
            return TranslateRequest.model_validate_json(body)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                for e in error.errors(include_input=False)[:5]
            )
            code = "invalid_json" if any(e["type"] == "json_invalid" for e in error.errors()) else "invalid_request"
            raise ApiError(400 if code == "invalid_json" else 422, code, problems) from None
    if media in ("text/plain", "text/markdown", "text/html", ""):
        if not media:
            raise ApiError(415, "unsupported_media_type", "set Content-Type: text/plain or application/json")
        by_media: dict[str, Format] = {"text/markdown": "markdown", "text/html": "html"}
        format = by_media.get(media, query_format)
        text = decode_text(body, charset)
        if not text.strip():
            raise ApiError(400, "empty_text", "there is no text to translate")
        return TranslateRequest(text=text, format=format)
    raise ApiError(
        415,
        "unsupported_media_type",
        f"content type {media[:80]!r} is not accepted; send text/plain or application/json; {_JOBS_HINT}",
    )


@router.post(
    "/translate",
    response_model=TranslateResponse,
    response_model_exclude_none=True,
    responses=_RESPONSES,
    openapi_extra=_BODY,
    summary="Translate an article; every paragraph and sentence aligned with its English",
)
async def translate(
    request: Request,
    state: StateDep,
    scheduler: SchedulerDep,
    owner: OwnerDep,
    format: Annotated[Format, Query(description="format of a text/plain body; auto detects it")] = "auto",
) -> TranslateResponse | StreamingResponse:
    body = await read_capped(request, state.settings.max_body_bytes)
    media, charset = _media_type(request)
    # Decoding, validation, parsing and glossary compilation are CPU work on up to megabytes of
    # input: off the event loop, so health probes and other requests keep being answered.
    asked = await run_in_threadpool(_prepare, state, media, body, charset, format, owner)
    if wants_stream(request):
        # Planned before the answer starts: too many sentences is still a 413, not a stream error.
        stream, lane = await run_in_threadpool(open_stream, state, scheduler, asked)
        lines = _ndjson(stream, lane)
        return StreamingResponse(lines, media_type=NDJSON, headers={"Cache-Control": "no-store"})
    result = await translate_interactive(state, scheduler, asked, client=request)
    return TranslateResponse.model_validate(result)


def wants_stream(request: Request) -> bool:
    """`Accept: application/x-ndjson` (alone or among others) asks for the streamed answer."""
    accepted = request.headers.get("accept", "")
    return any(part.split(";")[0].strip().lower() == NDJSON for part in accepted.split(","))


def _line(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _start(stream: DocumentStream) -> dict[str, Any]:
    """The `start` line: every block's French and kind (the page draws the French column from it)."""
    planned = stream.plan
    blocks = [
        SourceBlockOut(
            index=index,
            kind=block.kind,
            fr=block.text,
            translated=planned.translated(index),
            prefix=block.prefix,
            suffix=block.suffix,
            url=block.url,
            markup=block.markup or None,
            cell=block.cell,
        ).model_dump(mode="json", exclude_none=True)
        for index, block in enumerate(stream.request.document.blocks)
    ]
    model = ModelOut.model_validate(stream.model).model_dump(mode="json")
    return {"type": "start", "blocks": blocks, "sentences": stream.sentences, "model": model, "format": stream.format}


async def _ndjson(stream: DocumentStream, lane: Lane) -> AsyncIterator[bytes]:
    """start, one line per block in reading order, end; a failure after the start is an `error` line."""
    yield _line(_start(stream))
    try:
        async for block in stream_blocks(stream, lane):
            yield _line(
                {"type": "block", "block": BlockOut.model_validate(block).model_dump(mode="json", exclude_none=True)}
            )
    except Exception as error:
        refusal = as_api_error(error)
        if refusal is None:
            log.exception("a streamed translation failed")
            code, message = "internal_error", "the translation failed; the blocks sent so far stand"
        else:
            code, message = refusal.code, refusal.message
        yield _line({"type": "error", "error": {"code": code, "message": message}})
        return
    stats = StatsOut.model_validate(stream.stats).model_dump(mode="json")
    yield _line({"type": "end", "stats": stats, "warnings": list(stream.warnings)})


def _prepare(
    state: AppState, media: str, body: bytes, charset: str | None, query_format: Format, owner: str
) -> TranslationRequest:
    """The request body → the parsed document and its options; every refusal is an ApiError."""
    settings = state.settings
    payload = _request_from(media, body, charset, query_format)
    characters = len(payload.text) if payload.text is not None else _article_characters(payload)
    if characters > settings.max_chars:
        raise ApiError(
            413,
            "too_many_characters",
            f"the text has {characters} characters; the limit is {settings.max_chars}",
            limit=settings.max_chars,
        )
    beams = payload.options.num_beams
    checked_beams(state, beams)
    try:
        if payload.article is not None:
            document = parse_article(payload.article.model_dump(exclude_none=True))
        else:
            document = parse(payload.text or "", payload.format)
    except ParseError as error:
        raise ApiError(422, "unparsable", str(error)) from None
    warnings = [_HTML_WARNING] if document.format == "html" else []
    count, most = len(payload.options.glossary) + len(payload.options.keep), settings.max_glossary_terms
    if count > most:
        message = f"the request has {count} glossary and keep terms; the limit is {most}"
        raise ApiError(422, "invalid_option", message, limit=most)
    try:
        asked = Terms.of(payload.options.glossary, payload.options.keep)
    except GlossaryError as error:
        raise ApiError(422, "invalid_option", str(error)) from None
    memory = _memory(state, owner, payload.options.memory, payload.options.memory_threshold)
    # The server's terms, then the key's glossary (with its memory on), then the request's own: the last wins.
    terms = state.terms.merged(memory.terms).merged(asked)
    repair = settings.repair if payload.options.repair is None else payload.options.repair
    alternatives = _alternatives(state, beams, payload.options.alternatives)
    options = GenerationOptions(num_beams=beams, alternatives=alternatives, scores=payload.options.scores)
    fidelity = Fidelity.of(repair, terms)
    return TranslationRequest(
        document, options, fidelity, payload.options.alignment, tuple(warnings), settings.max_sentences, memory
    )


def _memory(state: AppState, owner: str, mode: MemoryMode, threshold: int | None) -> MemoryUse:
    """The caller's memory (its key's) in the mode asked for."""
    return state.memory.use(owner, mode, threshold) if state.memory is not None else MemoryUse(mode=mode)


def _alternatives(state: AppState, beams: int | None, wanted: int | None) -> int:
    """`options.alternatives`, checked against the beam that will run (the model's own when unnamed)."""
    if wanted is None:
        return 0
    beam = beam_in_force(state, beams)
    if wanted > beam:
        message = (
            f"alternatives ({wanted}) may be at most the beam size ({beam}): the alternatives are the beam's other "
            "translations; ask for fewer or raise num_beams"
        )
        raise ApiError(422, "invalid_option", message, limit=beam)
    return wanted


def _article_characters(payload: TranslateRequest) -> int:
    """A structured article counts against the same character limit as a text: every string in it."""
    if payload.article is None:
        return 0
    return sum(len(value) for value in _strings(payload.article.model_dump(exclude_none=True)))


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _strings(item)]
    return []
