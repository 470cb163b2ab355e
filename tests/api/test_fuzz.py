"""Schemathesis over the app's own OpenAPI: no 5xx anywhere, every response matches its schema.

Checks are the ones a schema can decide; semantic refusals (a text with no words, an HTML page
without an article) are legitimate 4xx the schema cannot express, so positive-data acceptance
is not asserted.
"""

from __future__ import annotations

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
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
