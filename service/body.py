"""Reading a request body safely: capped in bytes, decoded strictly, never echoed back."""

from __future__ import annotations

import codecs

from fastapi import Request

from service.charsets import text_codec
from service.errors import ApiError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


async def read_capped(request: Request, limit: int) -> bytes:
    """The whole body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:  # "²".isdigit() is True
        raise ApiError(
            413, "payload_too_large", f"the body is {int(declared)} bytes; the limit is {limit}", limit=limit
        )
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
