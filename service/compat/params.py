"""Request parameters the way these APIs send them: query string, form (urlencoded or multipart) or JSON.

Clients differ: libretranslatepy posts a form, the `deepl` library posts JSON and sends a form
body even on GET; LibreTranslate's own web page posts multipart. All end up as one multi-dict.
A JSON body is parsed in a worker thread; form bodies go through Starlette's parser, which stops at
1000 fields.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message

from service.body import parse_json, read_capped
from service.charsets import text_codec
from service.errors import ApiError

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


class Params:
    """Name → every value sent for it (query first, then body), in order."""

    def __init__(self, values: dict[str, list[Any]]) -> None:
        self._values = values

    def getlist(self, name: str) -> list[Any]:
        return self._values.get(name, [])

    def get(self, name: str) -> Any | None:
        values = self.getlist(name)
        return values[-1] if values else None

    def text(self, name: str) -> str | None:
        """A single scalar parameter as a string; a list or an object there is a 400."""
        value = self.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):  # DeepL's flags: true and false as 1 and 0
            return "1" if value else "0"
        if isinstance(value, int | float):
            return str(value)
        raise ApiError(400, "invalid_parameter", f"parameter {name!r} must be a string")

    def texts(self, name: str) -> list[str]:
        """A parameter that may be repeated or a JSON array, flattened to strings."""
        out: list[str] = []
        for value in self.getlist(name):
            items = value if isinstance(value, list) else [value]
            for item in items:
                if not isinstance(item, str):
                    raise ApiError(400, "invalid_parameter", f"every {name!r} must be a string")
                out.append(item)
        return out


async def read_params(request: Request, limit: int) -> Params:
    """Query parameters plus the body's, the body capped at `limit` bytes (413 past it)."""
    values: dict[str, list[Any]] = {}
    for key, value in request.query_params.multi_items():
        values.setdefault(key, []).append(value)
    body = await read_capped(request, limit)
    if not body:
        return Params(values)
    raw_type = request.headers.get("content-type", "")
    media = raw_type.partition(";")[0].strip().lower()
    _check_charset(raw_type)
    if media == "application/json" or media.endswith("+json"):
        for key, item in (await run_in_threadpool(_json_object, body)).items():  # a 2 MB parse: off the loop
            values.setdefault(key, []).append(item)  # a JSON array stays one value: `q: [...]` means a batch
    elif media in _FORMS:
        for key, items in (await _form(request, body)).items():
            values.setdefault(key, []).extend(items)
    else:
        raise ApiError(
            415, "unsupported_media_type", f"content type {media or 'none'!r} is not accepted; send a form or JSON"
        )
    return Params(values)


def _check_charset(content_type: str) -> None:
    """Starlette decodes form fields with whatever charset the request declares (punycode included)."""
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "charset" and text_codec(value) is None:
            raise ApiError(
                415, "unsupported_charset", f"charset {value.strip()[:40]!r} is not a text encoding; send UTF-8"
            )


def _json_object(body: bytes) -> dict[str, Any]:
    value = parse_json(body)  # 400 for bad JSON, huge integers, deep nesting and lone surrogates
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_json", "the JSON body must be an object")
    return value


async def _form(request: Request, body: bytes) -> dict[str, list[Any]]:
    """Starlette's own form parser, fed the body we already read (and capped)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form()
    except Exception as error:  # malformed multipart: python-multipart / starlette raise their own types
        raise ApiError(400, "invalid_form", f"the form body cannot be read: {error}") from None
    values: dict[str, list[Any]] = {}
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                raise ApiError(400, "files_not_supported", f"file uploads are not supported here (field {key!r})")
            values.setdefault(key, []).append(value)
    finally:
        await form.close()
    return values
