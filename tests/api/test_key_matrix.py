"""With API keys set, every route that reads or spends anything refuses a keyless caller.

The matrix is generated from the app's own routes, so a route added later without the key check
fails here unless it is added to OPEN on purpose (and documented as open in docs/production.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings
from tests.support.fakes import FakeEngine

KEY = "matrix-key-1"
# Open on purpose: probes, the page, its static files and icon, the API description, LibreTranslate's
# static language list and front-end settings (they read nothing a caller sent or stored).
OPEN = {
    "/health/live",
    "/health/ready",
    "/",
    "/static/{name}",
    "/favicon.ico",
    "/favicon.svg",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/languages",
    "/frontend/settings",
}
# LibreTranslate routes this server does not offer: 403 for everyone, keyed or not.
DISABLED = {"/suggest", "/translate_file"}
FILL = {"{job_id}": "0" * 32, "{doc_id}": "0" * 20, "{name}": "bitext.js"}


def walk(routes: Sequence[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(path template, method) for every route, through included routers."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from walk(included.routes, prefix + (route.include_context.prefix or ""))
            continue
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                yield prefix + route.path, method


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    settings = Settings(api_keys=[KEY], warmup=False)
    with TestClient(create_app(settings, engine=FakeEngine())) as test_client:
        yield test_client


def _matrix() -> list[tuple[str, str]]:
    app = create_app(Settings(api_keys=[KEY], warmup=False), engine=FakeEngine())
    return sorted(set(walk(app.routes)))


def _call(client: TestClient, path: str, method: str, headers: dict[str, str]) -> int:
    url = path
    for template, value in FILL.items():
        url = url.replace(template, value)
    body = {"json": {}} if method == "POST" else {}
    return client.request(method, url, headers=headers, **body).status_code


def test_the_matrix_covers_every_kind_of_route() -> None:
    paths = {path for path, _ in _matrix()}
    assert {"/v1/translate", "/v1/jobs", "/v1/jobs/{job_id}/download", "/v1/export/html", "/metrics"} <= paths
    assert OPEN <= paths, OPEN - paths  # an OPEN entry for a route that no longer exists is stale


@pytest.mark.parametrize(("path", "method"), _matrix())
def test_key_matrix(client: TestClient, path: str, method: str) -> None:
    keyless = _call(client, path, method, {})
    wrong = _call(client, path, method, {"Authorization": "Bearer not-the-key"})
    scheme = "DeepL-Auth-Key" if path.startswith("/v2/") else "Bearer"  # each API's own way of carrying keys
    keyed = _call(client, path, method, {"Authorization": f"{scheme} {KEY}"})
    if path in OPEN:
        assert keyless not in (401, 403), f"{method} {path} is open but answered {keyless}"
    else:
        assert keyless in (401, 403), f"{method} {path} answered {keyless} without a key"
        assert wrong in (401, 403), f"{method} {path} answered {wrong} with a wrong key"
    if path not in DISABLED:
        assert keyed not in (401, 403), f"{method} {path} refused the right key: {keyed}"
