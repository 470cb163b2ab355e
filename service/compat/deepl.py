"""DeepL's API shape (v2): `POST /v2/translate`, `GET|POST /v2/languages`, `GET|POST /v2/usage`.

Keys come in DeepL's `Authorization: DeepL-Auth-Key KEY` header (or the legacy `auth_key`
parameter) and are checked against BITEXT_API_KEYS. Errors are DeepL's: `{"message": "…"}` with
403 for a bad key, 400 for bad parameters, 413 for a body too large or more than `compat_max_items`
texts, 429 when the queue is full. Checks, parsing and language detection run in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, TypedDict

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from models.memory import MemoryMode, MemoryUse
from service.auth import owner_of
from service.compat.params import Params, read_params
from service.compat.schemas import (
    STRING,
    TEXTS,
    DeepLError,
    DeepLLanguage,
    DeepLTranslateResponse,
    DeepLUsage,
    body,
    errors,
)
from service.compat.texts import (
    NO_MEMORY,
    Item,
    check_items,
    check_key,
    check_size,
    parse_item,
    require_french,
    translate_items,
)
from service.deps import AppState, get_state
from service.errors import ApiError, ShapedErrorRoute


class _DeepLRoute(ShapedErrorRoute):
    render = staticmethod(lambda error: _error(error))


router = APIRouter(prefix="/v2", tags=["deepl"], route_class=_DeepLRoute)

TARGETS = ("EN", "EN-US", "EN-GB")
# bitext has no billing period: usage reports what was translated since start against a limit never reached.
USAGE_LIMIT = 10**15
_SPLIT = {"0", "1", "nonewlines"}
_BOOLEAN = {"0": False, "1": True, "false": False, "true": True}
_UNSUPPORTED = ("glossary_ids", "style_id", "custom_instructions")
# bitext keeps one translation memory per key: DeepL's `translation_memory` names it `default` (or says true).
MEMORY_ID = "default"
_MEMORY_NAMES = ("translation_memory", "translation_memory_id")  # the API's name, and some clients' option name


def _error(error: ApiError) -> JSONResponse:
    status = {"overloaded": 429}.get(error.code, {422: 400}.get(error.status, error.status))
    return JSONResponse({"message": error.message}, status_code=status, headers=error.headers)


def _presented_key(request: Request, params: Params) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "deepl-auth-key" and credentials.strip():
        return credentials.strip()
    return params.text("auth_key")


async def _params(request: Request) -> Params:
    state = get_state(request)
    params = await read_params(request, state.settings.max_body_bytes)
    check_key(state, _presented_key(request, params))
    return params


def _memory(state: AppState, request: Request, params: Params, choice: MemoryChoice) -> MemoryUse:
    """The caller's memory (its key's; the shared one with keys off) in apply mode, or none; with a
    `glossary_id`, at least the key's term glossary."""
    if not choice.used and choice.glossary is None:
        return NO_MEMORY
    if state.memory is None:
        raise ApiError(503, "not_ready", "the translation memory is not open yet; retry shortly")
    owner = owner_of(_presented_key(request, params) or "") if state.settings.api_keys else ""
    use = state.memory.use(owner, MemoryMode.APPLY, choice.threshold)
    if choice.glossary is not None:
        glossary = state.memory.glossary(owner)
        if glossary is None or choice.glossary not in (MEMORY_ID, glossary.name):
            raise _bad(
                f"Glossary {choice.glossary!r} not found: this server keeps one glossary per key (POST "
                f"/v1/memory/import); name it '{MEMORY_ID}' or by its name."
            )
    return use if choice.used else replace(NO_MEMORY, terms=use.terms)


def _bad(message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", message)


def _flag(params: Params, name: str) -> bool | None:
    raw = params.text(name)
    if raw is None:
        return None
    if raw.strip().lower() not in _BOOLEAN:
        raise _bad(f"Value for '{name}' not supported: use 0 or 1.")
    return _BOOLEAN[raw.strip().lower()]


def _tags(params: Params, name: str) -> list[str]:
    """DeepL takes tag lists as repeated values, comma-separated strings, or a JSON array."""
    return [tag for value in params.texts(name) for tag in value.split(",") if tag.strip()]


@dataclass(frozen=True)
class TranslateParams:
    texts: list[str]
    source: str | None
    html: bool
    ignore_tags: list[str]
    one_block: bool
    memory: MemoryChoice = field(default_factory=lambda: MemoryChoice(False))


@dataclass(frozen=True)
class MemoryChoice:
    """DeepL's `translation_memory` and `translation_memory_threshold`: whether the caller's memory is used
    (matches at or over the threshold replace the model's English, as DeepL applies them) and the threshold."""

    used: bool
    threshold: int | None = None
    glossary: str | None = None  # DeepL's `glossary_id`: the key's glossary, by its name or `default`


def _memory_choice(params: Params) -> MemoryChoice:
    glossary = (params.text("glossary_id") or "").strip() or None
    return replace(_units_choice(params), glossary=glossary)


def _units_choice(params: Params) -> MemoryChoice:
    named = [(name, value) for name in _MEMORY_NAMES for value in params.texts(name)]
    if len(named) > 1:
        raise _bad("Give 'translation_memory' once.")
    raw = named[0][1].strip().lower() if named else None
    used = raw is not None and raw not in ("0", "false")
    if raw is not None and raw not in ("0", "1", "false", "true", MEMORY_ID):
        raise _bad(
            f"Translation memory {named[0][1]!r} not found: this server keeps one memory per key, "
            f"named '{MEMORY_ID}' (or pass true)."
        )
    threshold_raw = params.text("translation_memory_threshold")
    if threshold_raw is None:
        return MemoryChoice(used)
    if not used:
        raise _bad("'translation_memory_threshold' needs 'translation_memory'.")
    try:
        threshold = int(threshold_raw.strip())
    except ValueError:
        threshold = -1
    if not 0 <= threshold <= 100:  # DeepL's range (its OpenAPI: minimum 0, maximum 100, default 75)
        raise _bad(f"Value for 'translation_memory_threshold' not supported: {threshold_raw!r}; use 0 to 100.")
    return MemoryChoice(used, threshold)


def _translate_params(params: Params, state: AppState) -> TranslateParams:
    if not params.getlist("text"):
        raise _bad("Parameter 'text' not specified.")
    texts = params.texts("text")
    check_items(state, len(texts), 413, "Too many texts: the request has {count}; the limit is {limit} per request.")
    target = (params.text("target_lang") or "").strip().upper()
    if not target:
        raise _bad("Parameter 'target_lang' not specified.")
    if target not in TARGETS:
        raise _bad(
            f"Value for 'target_lang' not supported: {target!r}; this server translates French to English "
            "only (EN, EN-US, EN-GB)."
        )
    source = (params.text("source_lang") or "").strip().upper() or None
    if source not in (None, "FR"):
        raise _bad(f"Value for 'source_lang' not supported: {source!r}; this server translates French (FR) only.")
    split = (params.text("split_sentences") or "1").strip().lower()
    if split not in _SPLIT:
        raise _bad("Value for 'split_sentences' not supported: use 0, 1 or nonewlines.")
    _flag(
        params, "preserve_formatting"
    )  # validated; bitext never re-punctuates or re-cases, so both values mean the same
    _flag(params, "outline_detection")
    tag_handling = (params.text("tag_handling") or "").strip().lower()
    if tag_handling not in ("", "html"):
        raise _bad(f"Value for 'tag_handling' not supported: {tag_handling!r}; this server handles html only.")
    formality = (params.text("formality") or "default").strip().lower()
    if formality in ("less", "more"):
        raise _bad("'formality' is not supported for given 'target_lang'.")
    if formality not in ("default", "prefer_less", "prefer_more"):
        raise _bad(f"Value for 'formality' not supported: {formality!r}.")
    for name in _UNSUPPORTED:
        if params.getlist(name):
            raise _bad(f"Parameter '{name}' is not supported by this server.")
    return TranslateParams(
        texts,
        source,
        tag_handling == "html",
        _tags(params, "ignore_tags"),
        one_block=split != "1",
        memory=_memory_choice(params),
    )


def _prepare(state: AppState, params: Params) -> tuple[TranslateParams, list[Item]]:
    """Every check and the parse of `text`, in a worker thread: up to `compat_max_items` texts."""
    wanted = _translate_params(params, state)
    check_size(state, wanted.texts)
    items = [parse_item(text, wanted.html, wanted.ignore_tags, wanted.one_block) for text in wanted.texts]
    if wanted.source is None:
        require_french([item.visible_text() for item in items])
    return wanted, items


_TRANSLATE_BODY = body(
    {
        "text": TEXTS,
        "target_lang": {"type": "string", "enum": list(TARGETS)},
        "source_lang": {"type": "string", "enum": ["FR"]},
        "split_sentences": {"type": "string", "enum": sorted(_SPLIT)},
        "preserve_formatting": {"type": "boolean"},
        "tag_handling": {"type": "string", "enum": ["html"]},
        "ignore_tags": TEXTS,
        "formality": {"type": "string", "enum": ["default", "prefer_less", "prefer_more"]},
        "context": STRING,
        "translation_memory": {"type": "string", "description": f"'{MEMORY_ID}' or true: the caller's memory"},
        "translation_memory_threshold": {"type": "integer", "minimum": 0, "maximum": 100},
        "glossary_id": {"type": "string", "description": f"'{MEMORY_ID}' or its name: the caller's glossary"},
        "auth_key": STRING,
    },
    ["text", "target_lang"],
)


class _RouteDoc(TypedDict):
    """The route arguments a GET and its POST twin share."""

    summary: str
    responses: dict[int | str, dict[str, Any]]


_KIND = body({"type": {"type": "string", "enum": ["source", "target"]}, "auth_key": STRING}, [])


@router.post(
    "/translate",
    summary="DeepL: translate one or more `text` values from FR (or auto) to EN / EN-US / EN-GB",
    responses={200: {"model": DeepLTranslateResponse}, **errors(DeepLError, 400, 403, 413, 415, 429, 503)},
    openapi_extra=_TRANSLATE_BODY,
)
async def translate(request: Request) -> JSONResponse:
    params = await _params(request)
    state = get_state(request)
    wanted, items = await run_in_threadpool(_prepare, state, params)  # parsing and detection: off the event loop
    memory = await run_in_threadpool(_memory, state, request, params, wanted.memory)
    english = await translate_items(state, items, memory)
    get_state(request).deepl_usage.add(sum(len(text) for text in wanted.texts))
    return JSONResponse(
        {
            "translations": [
                {"detected_source_language": "FR", "text": text, "billed_characters": len(source)}
                for text, source in zip(english, wanted.texts, strict=True)
            ]
        }
    )


_LANGUAGES: _RouteDoc = {
    "summary": "DeepL: source (FR) or target (EN-GB, EN-US) languages",
    "responses": {200: {"model": list[DeepLLanguage]}, **errors(DeepLError, 400, 403, 413, 415)},
}


@router.get("/languages", operation_id="deepl_languages", **_LANGUAGES)
@router.post("/languages", operation_id="deepl_languages_post", openapi_extra=_KIND, **_LANGUAGES)
async def languages(request: Request) -> JSONResponse:
    params = await _params(request)
    kind = (params.text("type") or "source").strip().lower()
    if kind not in ("source", "target"):
        raise _bad("Value for 'type' not supported: use source or target.")
    if kind == "source":
        return JSONResponse([{"language": "FR", "name": "French"}])
    return JSONResponse(
        [
            {"language": "EN-GB", "name": "English (British)", "supports_formality": False},
            {"language": "EN-US", "name": "English (American)", "supports_formality": False},
        ]
    )


_USAGE: _RouteDoc = {
    "summary": "DeepL: characters translated since the server started; no quota",
    "responses": {200: {"model": DeepLUsage}, **errors(DeepLError, 403, 413, 415)},
}


@router.get("/usage", operation_id="deepl_usage", **_USAGE)
@router.post("/usage", operation_id="deepl_usage_post", **_USAGE)
async def usage(request: Request) -> JSONResponse:
    await _params(request)
    return JSONResponse({"character_count": get_state(request).deepl_usage.characters, "character_limit": USAGE_LIMIT})
