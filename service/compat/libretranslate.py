"""LibreTranslate's API shape: `POST /translate`, `POST /detect`, `GET /languages`, `GET /frontend/settings`.

Errors are LibreTranslate's: `{"error": "message"}`, 400 for bad parameters, 403 for a bad key,
429 when the queue is full. Confidences are percentages (0–100), as LibreTranslate sends them.
At most `compat_max_items` texts in `q` (400, like LibreTranslate's own batch limit); checks, parsing
and language detection run in a worker thread, never on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from models.engine import GenerationOptions
from models.langdetect import Detection, default_detector
from models.memory import MemoryUse, Origin, Unit
from service.auth import owner_of, presented_key
from service.compat.params import Params, read_params
from service.compat.schemas import STRING, TEXTS, LtDetection, LtError, LtLanguage, LtTranslateResponse, body, errors
from service.compat.texts import (
    LANGUAGE_NAMES,
    Item,
    alternatives,
    check_items,
    check_key,
    check_size,
    parse_item,
    require_french,
    translate_blocks,
)
from service.deps import AppState, get_state
from service.errors import ApiError, ShapedErrorRoute
from service.options import beam_in_force


class _LibreTranslateRoute(ShapedErrorRoute):
    render = staticmethod(lambda error: _refusal(error))


router = APIRouter(tags=["libretranslate"], route_class=_LibreTranslateRoute)

_STATUS = {422: 400, 415: 400}  # LibreTranslate answers every bad request with 400


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _refusal(error: ApiError) -> JSONResponse:
    status = 429 if error.code == "overloaded" else _STATUS.get(error.status, error.status)
    return _error(status, error.message, error.headers)


async def _params(request: Request) -> Params:
    state = get_state(request)
    params = await read_params(request, state.settings.max_body_bytes)
    check_key(state, _key(request, params))
    return params


def _key(request: Request, params: Params) -> str | None:
    return params.text("api_key") or presented_key(request)


def _memory(state: AppState, request: Request, params: Params) -> MemoryUse:
    """The caller's translation memory (its key's; the shared one with keys off), suggest mode."""
    if state.memory is None:
        return MemoryUse()
    return state.memory.use(owner_of(_key(request, params) or "") if state.settings.api_keys else "")


def _required(params: Params, name: str) -> str:
    value = params.text(name)
    if value is None or not value.strip():
        raise ApiError(400, "missing_parameter", f"Invalid request: missing {name} parameter")
    return value.strip().lower()


def _percent(confidence: float) -> float:
    return round(confidence * 100, 1)


_TRANSLATE_BODY = body(
    {
        "q": TEXTS,
        "source": {"type": "string", "enum": ["fr", "auto"]},
        "target": {"type": "string", "enum": ["en"]},
        "format": {"type": "string", "enum": ["text", "html"]},
        "alternatives": {"type": "integer", "minimum": 0},
        "api_key": STRING,
    },
    ["q", "source", "target"],
)


@router.post(
    "/translate",
    summary="LibreTranslate: translate q (a string or an array) from fr (or auto) to en",
    responses={200: {"model": LtTranslateResponse}, **errors(LtError, 400, 403, 413, 429, 503)},
    openapi_extra=_TRANSLATE_BODY,
)
async def translate(request: Request) -> JSONResponse:
    params = await _params(request)
    state = get_state(request)
    wanted = await run_in_threadpool(_prepare, state, params)  # parsing and detection: off the event loop
    options = GenerationOptions(alternatives=wanted.alternatives)
    memory = await run_in_threadpool(_memory, state, request, params)
    translated = await translate_blocks(state, wanted.items, options, memory)
    english = [item.render(blocks) for item, blocks in zip(wanted.items, translated, strict=True)]
    batch = wanted.batch
    body: dict[str, Any] = {"translatedText": english if batch else english[0]}
    if wanted.detections is not None:
        detected = [
            {"confidence": _percent(found.confidence), "language": found.language} for found in wanted.detections
        ]
        body["detectedLanguage"] = detected if batch else detected[0]
    if wanted.alternatives:
        others = [
            alternatives(item, blocks, text, wanted.alternatives)
            for item, blocks, text in zip(wanted.items, translated, english, strict=True)
        ]
        body["alternatives"] = others if batch else others[0]
    return JSONResponse(body)


@dataclass(frozen=True)
class _Wanted:
    batch: bool
    items: list[Item]
    detections: list[Detection] | None
    alternatives: int


def _prepare(state: AppState, params: Params) -> _Wanted:
    """Every check and the parse of `q`, in a worker thread: `q` may hold up to `compat_max_items` texts."""
    if params.get("q") is None:
        raise ApiError(400, "missing_parameter", "Invalid request: missing q parameter")
    batch = isinstance(params.get("q"), list)
    texts = params.texts("q")
    check_items(state, len(texts), 400, "Invalid request: request ({count}) exceeds text limit ({limit})")
    source, target = _required(params, "source"), _required(params, "target")
    if source not in ("fr", "auto"):
        raise ApiError(
            400,
            "unsupported_pair",
            f"Source language {source!r} is not supported: this server translates French (fr, or auto) to English (en)",
        )
    if target != "en":
        raise ApiError(
            400,
            "unsupported_pair",
            f"Target language {target!r} is not supported: this server translates French (fr) to English (en) only",
        )
    format = (params.text("format") or "text").strip().lower()
    if format not in ("text", "html"):
        raise ApiError(400, "invalid_parameter", f"format {format!r} is not supported: use text or html")
    alternatives = _alternatives(params, state)
    if not batch and not texts[0].strip():
        raise ApiError(400, "missing_parameter", "Invalid request: missing q parameter")
    check_size(state, texts)
    items = [parse_item(text, html=format == "html") for text in texts]
    detections = require_french([item.visible_text() for item in items]) if source == "auto" else None
    return _Wanted(batch, items, detections, alternatives)


def _alternatives(params: Params, state: AppState) -> int:
    """How many other translations to return; at most the beam, whose other outputs they are."""
    if isinstance(params.get("alternatives"), bool):  # JSON true is no count (Params.text would read it as 1)
        raise ApiError(400, "invalid_parameter", "alternatives must be a whole number, not true or false")
    raw = params.text("alternatives")
    if raw is None or raw == "":
        return 0
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()):  # "²" and "٣" pass isdigit() but are no use here
        raise ApiError(400, "invalid_parameter", "alternatives must be a whole number")
    digits = raw.lstrip("0") or "0"
    beam = beam_in_force(state, None)
    # By length first: `int()` of over 4300 digits raises ValueError; more digits than the beam's is too many anyway.
    if len(digits) > len(str(beam)) or int(digits) > beam:
        message = (
            f"Invalid request: alternatives parameter must be <= {beam} (the beam size: they are its other outputs)"
        )
        raise ApiError(400, "invalid_parameter", message, limit=beam)
    return int(digits)


@router.post(
    "/detect",
    summary="LibreTranslate: the likeliest languages of q, confidence in percent",
    responses={200: {"model": list[LtDetection]}, **errors(LtError, 400, 403, 413)},
    openapi_extra=body({"q": STRING, "api_key": STRING}, ["q"]),
)
async def detect(request: Request) -> JSONResponse:
    params = await _params(request)
    text = params.text("q")
    if text is None or not text.strip():
        raise ApiError(400, "missing_parameter", "Invalid request: missing q parameter")
    found = await run_in_threadpool(_detect, get_state(request), text)
    return JSONResponse(
        [{"confidence": _percent(d.confidence), "language": d.language} for d in found]
        or [{"confidence": 0.0, "language": "und"}]
    )


def _detect(state: AppState, text: str) -> list[Detection]:
    check_size(state, [text])
    return default_detector().detect(text)


@router.get(
    "/languages",
    summary="LibreTranslate: the languages this server translates from and to",
    responses={200: {"model": list[LtLanguage]}},
)
async def languages() -> JSONResponse:
    return JSONResponse(
        [
            {"code": "en", "name": LANGUAGE_NAMES["en"], "targets": []},
            {"code": "fr", "name": LANGUAGE_NAMES["fr"], "targets": ["en"]},
        ]
    )


@router.get("/frontend/settings", summary="LibreTranslate: what web front-ends and plugins read at start-up")
async def frontend_settings(request: Request) -> JSONResponse:
    settings = get_state(request).settings
    return JSONResponse(
        {
            "charLimit": settings.max_chars,
            "frontendTimeout": 500,
            "apiKeys": bool(settings.api_keys),
            "keyRequired": bool(settings.api_keys),
            "suggestions": True,
            "filesTranslation": False,
            "supportedFilesFormat": [],
            "language": {
                "source": {"code": "fr", "name": LANGUAGE_NAMES["fr"]},
                "target": {"code": "en", "name": LANGUAGE_NAMES["en"]},
            },
        }
    )


@router.post(
    "/suggest",
    summary="LibreTranslate: store s as the English of q in the caller's translation memory (then used)",
    responses=errors(LtError, 400, 403, 413),
    openapi_extra=body({"q": STRING, "s": STRING, "source": STRING, "target": STRING, "api_key": STRING}, ["q", "s"]),
)
async def suggest(request: Request) -> JSONResponse:
    params = await _params(request)
    state = get_state(request)
    french, english = params.text("q"), params.text("s")
    if french is None or not french.strip():
        raise ApiError(400, "missing_parameter", "Invalid request: missing q parameter")
    if english is None or not english.strip():
        raise ApiError(400, "missing_parameter", "Invalid request: missing s parameter")
    for name, wanted in (("source", ("fr", "auto")), ("target", ("en",))):
        given = (params.text(name) or wanted[0]).strip().lower()
        if given not in wanted:
            raise ApiError(400, "unsupported_pair", f"{name} {given!r} is not supported: this server is fr → en")
    check_size(state, [french, english])
    owner = owner_of(_key(request, params) or "") if state.settings.api_keys else ""
    unit = Unit(french.strip(), english.strip(), origin=Origin.SUGGEST)
    if state.memory is None:
        raise ApiError(503, "not_ready", "the translation memory is not open yet; retry shortly")
    memories = state.memory
    await run_in_threadpool(lambda: memories.store().add(owner, unit, owner))
    return JSONResponse({"success": True})


@router.post(
    "/translate_file",
    summary="LibreTranslate: file translation is not offered; use /v1/jobs",
    responses=errors(LtError, 403),
)
async def translate_file() -> JSONResponse:
    return _error(403, "Files translation are disabled on this server; use POST /v1/jobs for archives of documents.")
