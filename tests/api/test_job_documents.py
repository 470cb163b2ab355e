"""Documents in their own format through /v1/jobs: one file as a job, layouts, and each bilingual file served."""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service import formats
from service.app import create_app
from service.settings import Settings
from tests.support import documents
from tests.support.fakes import FakeEngine

TIMING = re.compile(r"^\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}$", re.MULTILINE)


def settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(data_dir=tmp_path / "data", warmup=False, **extra)


@pytest.fixture
def client(tmp_path: Path) -> Any:
    with TestClient(create_app(settings(tmp_path), engine=FakeEngine())) as test_client:
        yield test_client


def finished(client: TestClient, job: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body = client.get(f"/v1/jobs/{job}", headers=headers).json()
        if body["status"] in ("done", "failed"):
            assert body["status"] == "done", body
            return body
        time.sleep(0.02)
    raise AssertionError(f"the job never finished: {body}")


def submit(client: TestClient, filename: str, data: bytes, *layouts: str, **headers: str) -> str:
    response = client.post(
        "/v1/jobs", params={"filename": filename, "layout": list(layouts)}, content=data, headers=headers
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_one_srt_is_a_job_written_in_every_layout_asked_for(client: TestClient) -> None:
    job = submit(client, "film.srt", documents.srt(), "english", "interleaved", "english")
    body = finished(client, job)
    assert body["layouts"] == ["english", "interleaved"]  # in the order asked, once each
    assert body["progress"]["ok"] == 1 and body["progress"]["total"] == 1

    (record,) = client.get(f"/v1/jobs/{job}/documents").json()["documents"]
    assert record["name"] == "film.srt" and record["status"] == "ok"
    base = f"/v1/jobs/{job}/documents/{record['id']}/file"
    assert record["files"] == {"english": f"{base}?layout=english", "interleaved": f"{base}?layout=interleaved"}

    french = documents.srt().decode()
    for layout in ("english", "interleaved"):
        served = client.get(record["files"][layout])
        assert served.status_code == 200, served.text
        assert served.headers["content-type"] == "application/x-subrip"
        assert served.headers["content-disposition"] == f'attachment; filename="film.{layout}.srt"'
        assert served.headers["content-security-policy"] == "default-src 'none'; sandbox"
        text = served.content.decode("utf-8")
        assert TIMING.findall(text) == TIMING.findall(french), "the same cues at the same times"
        source = formats.read_source(served.content, "srt")  # parses back as a subtitle file
        assert source.document.blocks
        assert "EN<" in text
        assert ("\nBonjour à tous.\n" in text) == (layout == "interleaved")  # the French line itself
    # Without ?layout: the first the job asked for.
    assert client.get(base).content == client.get(record["files"]["english"]).content

    with zipfile.ZipFile(io.BytesIO(client.get(f"/v1/jobs/{job}/download").content)) as results:
        names = set(results.namelist())
    assert {"docs/film.english.srt", "docs/film.interleaved.srt"} <= names  # named from the document (issue 23)


def test_a_docx_job_serves_a_word_file_that_opens(client: TestClient) -> None:
    from docx import Document

    job = submit(client, "Compte rendu (séance).docx", documents.docx(), "side-by-side")
    finished(client, job)
    (record,) = client.get(f"/v1/jobs/{job}/documents").json()["documents"]
    served = client.get(record["files"]["side-by-side"])
    assert served.status_code == 200
    assert served.headers["content-type"] == formats_media(".docx")
    assert 'filename="Compte_rendu_s_ance.side-by-side.docx"' in served.headers["content-disposition"]
    text = "\n".join(cell.text for table in Document(io.BytesIO(served.content)).tables for cell in table._cells)
    assert "Le budget de la ville" in text and "EN<" in text


def formats_media(suffix: str) -> str:
    from service.formats import MEDIA_TYPES

    return MEDIA_TYPES[suffix]


def test_the_default_layout_is_interleaved_and_a_layout_not_written_is_a_404(client: TestClient) -> None:
    job = submit(client, "film.srt", documents.srt())
    assert finished(client, job)["layouts"] == ["interleaved"]
    (record,) = client.get(f"/v1/jobs/{job}/documents").json()["documents"]
    assert list(record["files"]) == ["interleaved"]
    base = f"/v1/jobs/{job}/documents/{record['id']}/file"
    missing = client.get(base, params={"layout": "english"})
    assert error(missing) == (404, "document_file_not_found")
    assert "interleaved only" in missing.json()["error"]["message"]
    assert error(client.get(base, params={"layout": "sideways"})) == (422, "invalid_option")
    assert error(client.get(f"/v1/jobs/{job}/documents/{'0' * 20}/file")) == (404, "document_not_found")
    assert error(client.get(f"/v1/jobs/{job}/documents/not-an-id/file")) == (404, "document_not_found")


def test_a_text_document_has_no_file_in_its_own_format(client: TestClient) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("note.txt", "Le conseil municipal a voté la mesure hier soir.\n")
        archive.writestr("film.srt", documents.srt())
    job = submit(client, "mixed.zip", buffer.getvalue())
    finished(client, job)
    listed = {d["name"]: d for d in client.get(f"/v1/jobs/{job}/documents").json()["documents"]}
    assert "files" not in listed["note.txt"] and "interleaved" in listed["film.srt"]["files"]
    refused = client.get(f"/v1/jobs/{job}/documents/{listed['note.txt']['id']}/file")
    assert error(refused) == (404, "document_file_not_found")
    assert "own format" in refused.json()["error"]["message"]


def test_bad_uploads_and_layouts_are_refused_with_a_reason(client: TestClient) -> None:
    unknown = client.post("/v1/jobs", params={"filename": "film.srt", "layout": ["english", "columns"]}, content=b"1")
    assert error(unknown) == (422, "invalid_option")
    assert "'columns'" in unknown.json()["error"]["message"] and "side-by-side" in unknown.json()["error"]["message"]
    lone_text = client.post("/v1/jobs", params={"filename": "note.txt"}, content=b"Bonjour.")
    assert error(lone_text) == (415, "unsupported_archive")
    assert ".srt" in lone_text.json()["error"]["message"]  # the message names the documents it takes
    assert error(client.post("/v1/jobs", params={"filename": "film.srt"}, content=b"")) == (400, "empty_upload")
    broken = submit(client, "film.docx", b"PK\x03\x04 not a zip")
    deadline = time.monotonic() + 30
    while (body := client.get(f"/v1/jobs/{broken}").json())["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    (record,) = client.get(f"/v1/jobs/{broken}/documents").json()["documents"]
    assert record["status"] in ("failed", "skipped") and record["reason"], record  # one document, with its reason
    assert body["progress"]["ok"] == 0


def test_a_document_file_belongs_to_the_key_that_made_the_job(tmp_path: Path) -> None:
    owner, other = {"Authorization": "Bearer key-a"}, {"X-API-Key": "key-b"}
    with TestClient(create_app(settings(tmp_path, api_keys=["key-a", "key-b"]), engine=FakeEngine())) as client:
        job = submit(client, "film.srt", documents.srt(), "english", **owner)
        finished(client, job, owner)
        (record,) = client.get(f"/v1/jobs/{job}/documents", headers=owner).json()["documents"]
        url = record["files"]["english"]
        assert client.get(url, headers=owner).status_code == 200
        assert error(client.get(url, headers=other)) == (404, "job_not_found")
        assert client.get(url).status_code == 401


@pytest.mark.parametrize(
    ("name", "data", "suffix", "media"),
    [
        ("rapport.odt", documents.odt(), ".odt", "application/vnd.oasis.opendocument.text"),
        ("rapport.pdf", documents.pdf(), ".html", "text/html; charset=utf-8"),  # a PDF comes back as a page
    ],
)
def test_odt_and_pdf_jobs_serve_their_bilingual_files(
    client: TestClient, name: str, data: bytes, suffix: str, media: str
) -> None:
    job = submit(client, name, data, "side-by-side")
    finished(client, job)
    (record,) = client.get(f"/v1/jobs/{job}/documents").json()["documents"]
    assert record["status"] == "ok", record
    served = client.get(record["files"]["side-by-side"])
    assert served.status_code == 200, served.text
    assert served.headers["content-type"] == media
    assert served.headers["content-disposition"] == f'attachment; filename="rapport.side-by-side{suffix}"'
    assert served.headers["content-security-policy"] == "default-src 'none'; sandbox"  # a page never runs
    if suffix == ".odt":
        assert formats.read_source(served.content, "odt").document.blocks
    else:
        assert b"EN&lt;" in served.content or b"EN<" in served.content


def test_download_names_carry_no_bidi_control_or_undecodable_character(client: TestClient) -> None:
    """Issue 21, finding 12: a name from the archive reaches Content-Disposition only through safe_stem."""
    import tarfile
    from urllib.parse import unquote

    buffer = io.BytesIO()
    names = ["film\u202ecod.exe.srt", "caf\udce9\u2066\u200b.srt", 'a"b\r\nX-Evil: 1\u0085.srt', "nul.srt"]
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in names:
            data = documents.srt()
            info = tarfile.TarInfo(name)  # written as raw bytes (surrogateescape): caf\xe9 is not UTF-8
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    job = submit(client, "films.tar", buffer.getvalue())
    finished(client, job)
    served = []
    for record in client.get(f"/v1/jobs/{job}/documents").json()["documents"]:
        response = client.get(f"/v1/jobs/{job}/documents/{record['id']}/file")
        assert response.status_code == 200, response.text
        disposition = response.headers["content-disposition"]
        assert disposition.isascii() and "\r" not in disposition and "\n" not in disposition
        filename = unquote(disposition.partition("filename*=utf-8''")[2]) or disposition.split('"')[1]
        served.append(filename)
    stems = ["film_cod.exe", "caf", "a_b_X-Evil_ 1", "_nul"]  # each unsafe run one "_", none at the ends
    assert sorted(served) == sorted(f"{stem}.interleaved.srt" for stem in stems)


def test_a_job_chooses_how_a_subtitles_english_is_set_apart(client: TestClient) -> None:
    """Issue 23, point 6: `?subtitle_style=` (italic by default, none, a colour); anything else is a 422."""
    refused = client.post("/v1/jobs", params={"filename": "film.srt", "subtitle_style": "bold"}, content=b"1")
    assert error(refused) == (422, "invalid_option") and "italic, none" in refused.json()["error"]["message"]
    for style, english in (("yellow", '<font color="yellow">EN<Bonjour à tous.></font>'), (None, "<i>EN<")):
        params: dict[str, Any] = {"filename": "film.srt", "layout": ["interleaved"]}
        if style is not None:
            params["subtitle_style"] = style
        response = client.post("/v1/jobs", params=params, content=documents.srt())
        assert response.status_code == 202, response.text
        body = finished(client, response.json()["id"])
        assert body["subtitle_style"] == (style or "italic")
        (record,) = client.get(f"/v1/jobs/{body['id']}/documents").json()["documents"]
        served = client.get(record["files"]["interleaved"])
        assert served.status_code == 200 and english in served.content.decode("utf-8")
        assert served.headers["content-disposition"] == 'attachment; filename="film.interleaved.srt"'
