"""A document's (or any file's) bytes posted to /v1/translate: 415 saying what they are and naming /v1/jobs."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings
from tests.support.documents import BUILDERS
from tests.support.fakes import FakeEngine
from tests.support.pdf import Line, make_pdf


@pytest.fixture
def client(fake_engine: FakeEngine) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(max_body_bytes=1_000_000), engine=fake_engine)) as test_client:
        yield test_client


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "Bonjour.")
    return buffer.getvalue()


def _pdf() -> bytes:
    return make_pdf([[Line("Les travaux commenceront en mars.")]])


BODIES = {
    "docx": (BUILDERS["docx"], "DOCX document", "/v1/jobs?filename=NAME.docx"),
    "odt": (BUILDERS["odt"], "ODT document", "/v1/jobs?filename=NAME.odt"),
    "epub": (BUILDERS["epub"], "EPUB book", "/v1/jobs?filename=NAME.epub"),
    "pdf": (_pdf, "PDF document", "/v1/jobs?filename=NAME.pdf"),
    "zip": (_zip, "zip archive", "/v1/jobs?filename=NAME"),
    "png": (lambda: b"\x89PNG\r\n\x1a\n" + bytes(64), "PNG image", "/v1/jobs"),
}


@pytest.mark.parametrize("name", sorted(BODIES))
@pytest.mark.parametrize("content_type", ["text/plain", "text/plain; charset=utf-8", "application/json"])
def test_a_file_posted_as_text_is_415_naming_jobs(client: TestClient, name: str, content_type: str) -> None:
    build, label, jobs = BODIES[name]
    response = client.post("/v1/translate", content=build(), headers={"Content-Type": content_type})
    assert response.status_code == 415, response.text
    error = response.json()["error"]
    assert error["code"] == "unsupported_media_type" and error["detected"] == label
    assert f"the body is a {label}" in error["message"] and jobs in error["message"]
    assert "utf-8" not in error["message"].lower()


def test_a_document_media_type_is_pointed_to_jobs(client: TestClient) -> None:
    response = client.post(
        "/v1/translate",
        content=b"Bonjour.",
        headers={"Content-Type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    )
    assert response.status_code == 415 and "POST /v1/jobs?filename=NAME" in response.json()["error"]["message"]


def test_french_text_is_still_translated(client: TestClient) -> None:
    for text in ("PK, dit-il. Le conseil a voté.", "GIF et PNG sont des formats.", "%PDF n'est pas un début."):
        response = client.post("/v1/translate", content=text.encode(), headers={"Content-Type": "text/plain"})
        assert response.status_code == 200, response.text


def test_a_job_upload_named_as_a_document_it_is_not_is_415(tmp_path: Path, fake_engine: FakeEngine) -> None:
    settings = Settings(data_dir=tmp_path / "data", warmup=False)
    with TestClient(create_app(settings, engine=fake_engine)) as client:
        png = b"\x89PNG\r\n\x1a\n" + bytes(64)
        refused = client.post("/v1/jobs", params={"filename": "carte.docx"}, content=png)
        assert refused.status_code == 415, refused.text
        error = refused.json()["error"]
        assert error["detected"] == "PNG image" and "named as a DOCX document but holds a PNG image" in error["message"]
        accepted = client.post("/v1/jobs", params={"filename": "note.docx"}, content=BUILDERS["docx"]())
        assert accepted.status_code == 202, accepted.text
