"""`POST /v1/translate`: an article in (text/plain or JSON), aligned bilingual JSON out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from models.document import Document
from models.engine import GenerationOptions
from models.glossary import GlossaryError, Terms
from models.parse import ParseError, parse, parse_article
from models.repair import Fidelity
from service.auth import require_api_key
from service.body import decode_text, read_capped
from service.deps import AppState, SchedulerDep, StateDep
from service.errors import ApiError, error_responses
from service.openapi import schema_ref
from service.schemas import Format, TranslateRequest, TranslateResponse
from service.translation import translate_interactive

router = APIRouter(prefix="/v1", tags=["translate"], dependencies=[Depends(require_api_key)])

_ERRORS = error_responses(400, 401, 413, 415, 422, 503, 504)
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


def _request_from(media: str, body: bytes, charset: str | None, query_format: Format) -> TranslateRequest:
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
        415, "unsupported_media_type", f"content type {media!r} is not accepted; send text/plain or application/json"
    )


@router.post(
    "/translate",
    response_model=TranslateResponse,
    response_model_exclude_none=True,
    responses=_ERRORS,
    openapi_extra=_BODY,
    summary="Translate an article; every paragraph and sentence aligned with its English",
)
async def translate(
    request: Request,
    state: StateDep,
    scheduler: SchedulerDep,
    format: Annotated[Format, Query(description="format of a text/plain body; auto detects it")] = "auto",
) -> TranslateResponse:
    body = await read_capped(request, state.settings.max_body_bytes)
    media, charset = _media_type(request)
    # Decoding, validation, parsing and glossary compilation are CPU work on up to megabytes of
    # input: off the event loop, so health probes and other requests keep being answered.
    job = await run_in_threadpool(_prepare, state, media, body, charset, format)
    result = await translate_interactive(
        state, scheduler, job.document, job.options, job.warnings, job.fidelity, job.alignment
    )
    return TranslateResponse.model_validate(result)


@dataclass(frozen=True)
class _Prepared:
    document: Document
    options: GenerationOptions
    warnings: list[str]
    fidelity: Fidelity
    alignment: bool = False


def _prepare(state: AppState, media: str, body: bytes, charset: str | None, query_format: Format) -> _Prepared:
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
    if beams is not None and beams > settings.max_beams:
        raise ApiError(
            422, "invalid_option", f"num_beams may be at most {settings.max_beams}", limit=settings.max_beams
        )
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
        terms = state.terms.merged(Terms.of(payload.options.glossary, payload.options.keep))
    except GlossaryError as error:
        raise ApiError(422, "invalid_option", str(error)) from None
    repair = settings.repair if payload.options.repair is None else payload.options.repair
    options = GenerationOptions(num_beams=beams)
    return _Prepared(document, options, warnings, Fidelity.of(repair, terms), payload.options.alignment)


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
