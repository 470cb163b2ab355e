"""Reading a request body safely: capped in bytes, decoded strictly, parsed within bounds, never echoed back."""

from __future__ import annotations

import codecs
from typing import Any

from fastapi import Request

from models import strictjson
from service.charsets import text_codec
from service.errors import ApiError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


# More digits than any body size: past them a declared length is "too large" without `int()`, which
# refuses strings of over 4300 digits with a ValueError (sys.int_info.default_max_str_digits).
_LENGTH_DIGITS = 18
HUGE_LENGTH = 10**_LENGTH_DIGITS


def declared_length(value: str | bytes) -> int | None:
    """A Content-Length as a number; None unless it is ASCII digits ("²".isdigit() is True, `int` refuses it).

    A length of more than 18 digits reads as `HUGE_LENGTH`, over every limit.
    """
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    if not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0")
    return int(digits or "0") if len(digits) <= _LENGTH_DIGITS else HUGE_LENGTH


def too_large_message(declared: int, limit: int) -> str:
    size = f"{declared}" if declared < HUGE_LENGTH else f"over {HUGE_LENGTH}"
    return f"the body is {size} bytes; the limit is {limit}"


async def read_capped(request: Request, limit: int) -> bytes:
    """The whole body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    declared = declared_length(request.headers.get("content-length", ""))
    if declared is not None and declared > limit:
        raise ApiError(413, "payload_too_large", too_large_message(declared, limit), limit=limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "payload_too_large", f"the body exceeds the limit of {limit} bytes", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def decode_text(body: bytes, charset: str | None) -> str:
    """Bytes → str: the declared charset, else a byte-order mark, else UTF-8; strictly.

    A declared charset must be a text encoding of the web (service/charsets.py): Python also knows
    `punycode` (a quadratic decoder), `rot13`, `hex` or `zlib`, none of which is a way to send text.
    """
    if charset is not None:
        encoding = text_codec(charset)
        if encoding is None:
            shown = charset[:40]
            raise ApiError(
                415, "unsupported_charset", f"charset {shown!r} is not a text encoding this service reads; send UTF-8"
            )
    else:
        encoding = next((name for bom, name in _BOMS if body.startswith(bom)), "utf-8")
        if encoding == "utf-8" and body.count(0) * 8 > len(body) > 0:
            # NUL is valid UTF-8, so UTF-16 without a BOM would "decode" into garbage: refuse it instead.
            raise ApiError(
                400,
                "invalid_encoding",
                "the body looks like UTF-16 without a byte-order mark; send UTF-8 or declare charset=utf-16",
            )
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as error:
        raise ApiError(
            400, "invalid_encoding", f"the body is not valid {encoding}: bad byte at offset {error.start}; send UTF-8"
        ) from None
    return text.removeprefix("\ufeff")


def parse_json(body: bytes | str) -> Any:
    """A JSON request body as Python values, or a 400 `invalid_json` saying why: every route's JSON reader.

    `models.strictjson` refuses what `json.loads` lets through to fail later as a 500: integers of
    more than 4300 digits, nesting past the recursion limit, lone surrogates (escaped or raw).
    """
    try:
        return strictjson.loads(body)
    except strictjson.JsonError as error:
        raise ApiError(400, "invalid_json", f"the body is not JSON this service reads: {error}") from None
