"""Optional API keys: off when `BITEXT_API_KEYS` is empty; compared in constant time."""

from __future__ import annotations

import hmac

from fastapi import Request

from service.errors import ApiError


def presented_key(request: Request) -> str | None:
    """The key a client sent: `Authorization: Bearer KEY` or `X-API-Key: KEY`."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("x-api-key") or None


def key_is_valid(candidate: str | None, keys: list[str]) -> bool:
    """Every configured key is compared, so timing does not tell which one (or how much) matched."""
    offered = (candidate or "").encode()
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(offered, key.encode())
    return matched and candidate is not None


async def require_api_key(request: Request) -> None:
    keys = request.app.state.bitext.settings.api_keys
    if keys and not key_is_valid(presented_key(request), keys):
        raise ApiError(401, "unauthorized", "a valid API key is required", headers={"WWW-Authenticate": "Bearer"})
