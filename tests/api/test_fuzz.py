"""Schemathesis over the app's OpenAPI (no 5xx, responses match their schema), and hostile bodies on every route.

Checks are the ones a schema can decide; semantic refusals (a text with no words, an HTML page
without an article) are legitimate 4xx the schema cannot express, so positive-data acceptance
is not asserted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NamedTuple
from urllib.parse import quote

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from service.app import create_app
from service.settings import Settings
from tests.support.fakes import FakeEngine

app = create_app(
    Settings(max_body_bytes=20_000, max_chars=5_000, max_sentences=200, data_dir="/tmp/bitext-fuzz-data"),
    engine=FakeEngine(),
)
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_schema(case: schemathesis.Case) -> None:
    with TestClient(app):  # runs the lifespan: the engine is ready
        case.call_and_validate(checks=CHECKS)


# --- Hostile bodies on every route, keys off and on (issue 21: no 5xx from any request body) -------------
#
# Schemathesis draws bodies from the schema; these are the ones a schema never describes and
# `json.loads` or a decoder trips on: integers of more than 4300 digits (a bare ValueError), lone
# surrogates as `\ud800` escapes and as their raw bytes (read with surrogatepass), nesting past the
# recursion limit, and the same in forms, multipart and plain text. Every route of the app is
# called, compat ones included, with keys off, with keys on and no key (the compat routes read the
# body before the key check: the key may be in it), and with the right key (the deeper paths).

KEY = "fuzz-key-1"
FIELDS = (
    "q", "source", "target", "format", "alternatives", "api_key", "text", "target_lang", "source_lang",
    "split_sentences", "tag_handling", "ignore_tags", "formality", "auth_key", "type", "article", "options",
    "num_beams", "glossary", "blocks", "title", "paragraphs", "id",
)  # fmt: skip
FILL = {"{job_id}": "0" * 32, "{doc_id}": "0" * 20, "{name}": "bitext.js"}


class Digits(NamedTuple):
    """An integer literal of `count` nines (Python cannot even str() such an int)."""

    count: int


class RawBytes(NamedTuple):
    """Bytes written inside a JSON string as they are (ED A0 80 is U+D800 to surrogatepass)."""

    data: bytes


class Deep(NamedTuple):
    depth: int
    kind: str  # "[" or "{"


def to_json(value: Any) -> bytes:
    """JSON bytes with the hostile pieces written by hand; lone surrogates in str become `\\udXXX` escapes."""
    if isinstance(value, Digits):
        return b"9" * value.count
    if isinstance(value, RawBytes):
        return b'"' + value.data + b'"'
    if isinstance(value, Deep):
        return (
            b"[" * value.depth + b"]" * value.depth
            if value.kind == "["
            else b'{"a":' * value.depth + b"1" + b"}" * value.depth
        )
    if isinstance(value, list):
        return b"[" + b",".join(to_json(item) for item in value) + b"]"
    if isinstance(value, dict):
        return (
            b"{" + b",".join(json.dumps(str(key)).encode() + b":" + to_json(item) for key, item in value.items()) + b"}"
        )
    return json.dumps(value).encode()  # ensure_ascii: "\ud800" is written as its escape


HOSTILE = st.one_of(
    st.integers(4301, 6000).map(Digits),
    st.sampled_from(["\ud800", "\udfff", "a\udc80b", "\ud83d fin", "x\ude00"]),  # escaped lone surrogates
    st.sampled_from([b"\xed\xa0\x80", b"\xed\xbf\xbf", b"a\xed\xb2\x80b", b"\xff\xfe", b"\xc3", b"\x00"]).map(RawBytes),
    st.builds(Deep, st.integers(200, 3000), st.sampled_from(["[", "{"])),
)
PLAIN = st.one_of(
    st.text(max_size=20), st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False, allow_infinity=False)
)
VALUES = st.recursive(
    st.one_of(HOSTILE, PLAIN, st.sampled_from(["fr", "en", "EN", "auto", "html", "Bonjour.", "1", "target"])),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=3),
    max_leaves=6,
)
JSON_BODIES = st.one_of(st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=6).map(to_json), HOSTILE.map(to_json))
FORM_VALUES = st.one_of(
    st.sampled_from(["9" * 5000, "%ED%A0%80", "%FF%FE", "%C3", "%00", "Bonjour", "fr", "en", "EN", "1", "true"]),
    st.text(max_size=10).map(lambda text: quote(text.encode("utf-8", "surrogatepass"))),
)
FORM_BODIES = st.lists(st.tuples(st.sampled_from(FIELDS), FORM_VALUES), max_size=6).map(
    lambda pairs: "&".join(f"{key}={value}" for key, value in pairs).encode()
)
MULTIPART = (
    b'--b\r\nContent-Disposition: form-data; name="q"\r\n\r\n\xed\xa0\x80\xff\r\n'
    b'--b\r\nContent-Disposition: form-data; name="alternatives"\r\n\r\n' + b"9" * 5000 + b"\r\n--b--\r\n"
)
BODIES = st.one_of(
    st.tuples(JSON_BODIES, st.just("application/json")),
    st.tuples(FORM_BODIES, st.just("application/x-www-form-urlencoded")),
    st.tuples(st.just(MULTIPART), st.just("multipart/form-data; boundary=b")),
    st.tuples(
        st.sampled_from([b"Le chat \xed\xa0\x80 dort.", b"\xff\xfe\x00B\x00o", "Bonjour.".encode("utf-16-le")]),
        st.sampled_from(["text/plain", "text/html", "text/markdown"]),
    ),
)
# One of each kind, for the sweep that covers every route with each.
COMPLETE = {"source": "fr", "target": "en", "target_lang": "EN"}  # so a text gets as far as it can
SWEEP = {
    "huge-integer": to_json({**COMPLETE, "q": "Bonjour.", "text": ["Bonjour."], "alternatives": Digits(5000)}),
    "escaped-surrogate": to_json({**COMPLETE, "q": "Le \ud800 chat.", "text": ["Le \udc80 chat."]}),
    "raw-surrogate": to_json({**COMPLETE, "q": RawBytes(b"Le \xed\xa0\x80"), "text": [RawBytes(b"\xed\xb0\x80")]}),
    "deep-array": to_json(Deep(5000, "[")),
    "deep-object": to_json({**COMPLETE, "q": Deep(3000, "{"), "text": Deep(900, "["), "article": Deep(3000, "[")}),
}
SWEEP_MEDIA = {
    "form": (
        "application/x-www-form-urlencoded",
        b"q=%ED%A0%80&source=fr&target=en&text=%FF&alternatives=" + b"9" * 5000,
    ),
    "multipart": ("multipart/form-data; boundary=b", MULTIPART),
    "text": ("text/plain", b"Le chat \xed\xa0\x80 dort."),
}


def routes() -> list[tuple[str, str]]:
    """(url, method) for every route of the app, path parameters filled."""
    from tests.api.test_key_matrix import walk

    found = []
    for path, method in sorted(set(walk(create_app(Settings(warmup=False), engine=FakeEngine()).routes))):
        for template, value in FILL.items():
            path = path.replace(template, value)
        found.append((path, method))
    return found


ROUTES = routes()
MODES = ("keys-off", "keys-on-no-key", "keys-on-with-key")


@pytest.fixture(scope="module", params=MODES)
def hostile_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, str]]:
    mode = request.param
    configured = Settings(
        max_body_bytes=40_000,
        max_chars=5_000,
        max_sentences=200,
        warmup=False,
        data_dir=tmp_path_factory.mktemp("fuzz-data"),
        api_keys=[] if mode == "keys-off" else [KEY],
    )
    with TestClient(create_app(configured, engine=FakeEngine()), raise_server_exceptions=False) as client:
        yield client, mode


def call(client: TestClient, mode: str, path: str, method: str, body: bytes, media: str) -> int:
    headers = {"Content-Type": media}
    if mode == "keys-on-with-key":
        headers["Authorization"] = f"DeepL-Auth-Key {KEY}" if path.startswith("/v2/") else f"Bearer {KEY}"
    params = {"filename": "fuzz.jsonl"} if path == "/v1/jobs" else {}
    response = client.request(method, path, content=body, headers=headers, params=params)
    assert response.status_code < 500, f"{mode} {method} {path} {media}: {response.status_code} {response.text[:300]}"
    return response.status_code


@pytest.mark.parametrize("kind", [*SWEEP, *SWEEP_MEDIA])
def test_every_route_answers_each_hostile_body_without_a_5xx(hostile_client: tuple[TestClient, str], kind: str) -> None:
    client, mode = hostile_client
    media, body = SWEEP_MEDIA[kind] if kind in SWEEP_MEDIA else ("application/json", SWEEP[kind])
    for path, method in ROUTES:
        call(client, mode, path, method, body, media)


@given(route=st.sampled_from(ROUTES), sent=BODIES)
@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
def test_hostile_bodies_never_get_a_5xx(
    hostile_client: tuple[TestClient, str], route: tuple[str, str], sent: tuple[bytes, str]
) -> None:
    client, mode = hostile_client
    call(client, mode, *route, *sent)
