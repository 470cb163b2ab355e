"""Optional API keys: off when `BITEXT_API_KEYS` is empty; compared in constant time."""

from __future__ import annotations

import hashlib
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


def owner_of(key: str) -> str:
    """What a job records of the key that made it: a hash, so the store never holds a usable key."""
    return hashlib.sha256(b"bitext-job-owner:" + key.encode()).hexdigest()


async def require_api_key(request: Request) -> str:
    """The caller's owner id (a hash of its key), or "" when keys are off; 401 without a valid key."""
    keys = request.app.state.bitext.settings.api_keys
    if not keys:
        return ""
    key = presented_key(request)
    if not key_is_valid(key, keys):
        raise ApiError(401, "unauthorized", "a valid API key is required", headers={"WWW-Authenticate": "Bearer"})
    return owner_of(key or "")
