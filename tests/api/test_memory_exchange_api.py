"""Memory exchange beyond TMX: XLIFF 2.0 out (a translate answer, a job's document) and back in after
post-editing, DeepL glossaries (CSV/TSV), and DeepL's translation_memory parameters."""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from translate.storage.xliff2 import Xliff2File

from service.app import create_app
from service.settings import Settings
from tests.support.fakes import FakeEngine
from tests.support.memory import KEY_A, KEY_B, A, B, keyed_client, sentences_of

DEEPL_A = {"Authorization": f"DeepL-Auth-Key {KEY_A}"}
XLIFF = {"Content-Type": "application/xliff+xml"}
NS = {"x": "urn:oasis:names:tc:xliff:document:2.0"}
FIRST, SECOND, THIRD = "Il pleuvait sur la ville.", "Le conseil municipal a voté le budget.", "Les élus sont partis."
ARTICLE = f"{FIRST} {SECOND} {THIRD}\n\n2024\n"


@pytest.fixture
def client(fake_engine: FakeEngine, tmp_path: Path) -> Iterator[TestClient]:
    yield from keyed_client(fake_engine, tmp_path)


def _translate(client: TestClient, text: str, headers: dict[str, str] = A) -> dict[str, Any]:
    response = client.post("/v1/translate", json={"text": text, "format": "text"}, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _export(client: TestClient, answer: dict[str, Any]) -> bytes:
    response = client.post("/v1/memory/xliff", params={"name": "article.txt"}, json=answer, headers=A)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xliff+xml")
    assert response.headers["content-disposition"] == 'attachment; filename="article.txt.xlf"'
    return response.content


def _cat_tool_edit(data: bytes, edits: dict[str, str], final: set[str]) -> bytes:
    """What a CAT tool does to the file: new targets for some sources, state="final" on others."""
    root = etree.fromstring(data)
    for segment in root.iterfind(".//x:segment", NS):
        source = segment.findtext("x:source", namespaces=NS)
        if source in edits:
            segment.find("x:target", NS).text = edits[source]
            segment.set("state", "reviewed")
        if source in final:
            segment.set("state", "final")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def test_an_answer_exports_one_unit_per_sentence_with_state_and_context(client: TestClient) -> None:
    client.post("/v1/memory/units", json={"source": SECOND, "english": "The council passed the budget."}, headers=A)
    answer = _translate(client, ARTICLE)
    assert [s["source"] for s in sentences_of(answer)] == ["model", "memory:exact", "model", "kept"]

    store = Xliff2File.parsestring(_export(client, answer))  # translate-toolkit reads it
    assert store.getsourcelanguage() == "fr" and store.gettargetlanguage() == "en"
    assert [(u.source, u.target) for u in store.units] == [
        (FIRST, f"EN<{FIRST}>"),
        (SECOND, "The council passed the budget."),
        (THIRD, f"EN<{THIRD}>"),
        ("2024", "2024"),
    ]
    assert [u.xmlelement.get("state") for u in store.units] == ["translated", "reviewed", "translated", "final"]
    assert [u.istranslatable() for u in store.units] == [True, True, True, False]
    second = store.units[1].getunitelement()
    notes = {n.get("category"): n.text for n in second.iterfind("x:notes/x:note", NS)}
    assert notes["bitext:previous"] == FIRST and notes["bitext:next"] == THIRD
    assert notes["bitext:source"] == "memory:exact"


def test_an_answer_with_text_xml_cannot_carry_is_422(client: TestClient) -> None:
    answer = _translate(client, f"{FIRST} {SECOND}")
    answer["blocks"][0]["sentences"][1]["en"] = "The council\x08 voted."
    response = client.post("/v1/memory/xliff", json=answer, headers=A)
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid_document",
        "message": "sentence b0-s1 holds U+0008, which XML cannot carry",
    }


def test_the_answer_to_the_largest_request_can_be_sent_back(fake_engine: FakeEngine, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, max_body_bytes=2048, warmup=False, cache_entries=0)
    with TestClient(create_app(settings, engine=fake_engine)) as small:
        text = " ".join(f"Phrase numéro {n} du texte." for n in range(40))[:1900]
        answer = small.post("/v1/translate", json={"text": text, "format": "text"})
        assert answer.status_code == 200 and len(answer.content) > 2048
        exported = small.post("/v1/memory/xliff", content=answer.content, headers={"Content-Type": "application/json"})
        assert exported.status_code == 200, exported.text
        assert len(Xliff2File.parsestring(exported.content).units) == len(sentences_of(answer.json()))


def test_a_post_edited_xliff_comes_back_into_the_memory_and_is_used(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    exported = _export(client, _translate(client, ARTICLE))
    unchanged = client.post("/v1/memory/import", content=exported, headers={**A, **XLIFF})
    assert unchanged.status_code == 422 and unchanged.json()["error"]["code"] == "invalid_xliff"  # nothing edited

    edited = _cat_tool_edit(exported, {SECOND: "The city council passed the budget."}, final={THIRD})
    response = client.post("/v1/memory/import", content=edited, headers={**A, **XLIFF})
    assert response.status_code == 200, response.text
    assert response.json() == {"imported": 2, "skipped": 2}  # FIRST unchanged, "2024" translate="no"
    units = client.get("/v1/memory/units", headers=A).json()["units"]
    assert {(u["source"], u["english"], u["origin"], u["previous"], u["next"]) for u in units} == {
        (SECOND, "The city council passed the budget.", "import", FIRST, THIRD),
        (THIRD, f"EN<{THIRD}>", "import", SECOND, ""),
    }

    fake_engine.calls.clear()
    again = sentences_of(_translate(client, ARTICLE))
    assert [(s["source"], s["en"]) for s in again[:2]] == [
        ("model", f"EN<{FIRST}>"),
        ("memory:context", "The city council passed the budget."),
    ]
    alone = sentences_of(_translate(client, f"Autre chose. {SECOND}"))[1]
    assert (alone["source"], alone["en"]) == ("memory:exact", "The city council passed the budget.")
    assert not any(SECOND in text for call in fake_engine.calls for text in call)
    assert sentences_of(_translate(client, SECOND, headers=B))[0]["source"] == "model"  # key A's only


def test_xml_content_types_are_told_apart_by_their_root(client: TestClient) -> None:
    exported = _export(client, _translate(client, ARTICLE))
    edited = _cat_tool_edit(exported, {FIRST: "It was raining on the town."}, final=set())
    response = client.post("/v1/memory/import", content=edited, headers={**A, "Content-Type": "application/xml"})
    assert response.json() == {"imported": 1, "skipped": 3}


FOREIGN = """<?xml version="1.0" encoding="UTF-8"?>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="fr-FR" trgLang="en-GB">
 <file id="f1">
  <unit id="u1"><segment state="translated"><source>Le chat dort.</source><target>The cat sleeps.</target>
  </segment></unit>
  <unit id="u2"><segment state="initial"><source>Le chien aboie.</source><target>The dog barks.</target>
  </segment></unit>
  <unit id="u3"><segment><source>Rien.</source></segment></unit>
  {extra}
 </file>
</xliff>
"""


def test_an_xliff_from_another_tool_gives_its_translated_segments(client: TestClient) -> None:
    response = client.post("/v1/memory/import", content=FOREIGN.format(extra=""), headers={**A, **XLIFF})
    assert response.json() == {"imported": 1, "skipped": 2}
    assert sentences_of(_translate(client, "Le chat dort."))[0]["en"] == "The cat sleeps."


@pytest.mark.parametrize(
    ("body", "code", "line"),
    [
        (
            FOREIGN.format(extra="<unit id='u4'><segment><source>A</source><target>B</segment></unit>"),
            "invalid_xliff",
            9,
        ),
        (
            FOREIGN.format(
                extra="<unit id='u4'><segment state='done'><source>A</source><target>B</target></segment></unit>"
            ),
            "invalid_xliff",
            9,
        ),
        (
            FOREIGN.format(extra="<unit id='u4'><segment><source> </source><target>B</target></segment></unit>"),
            "invalid_xliff",
            9,
        ),
        (FOREIGN.replace('trgLang="en-GB"', 'trgLang="de"'), "invalid_xliff", 2),
        (FOREIGN.replace('version="2.0"', 'version="1.2"'), "invalid_xliff", 2),
        ('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>\n<xliff version="2.0">&a;</xliff>', "unsafe_xml", 0),
    ],
)
def test_bad_xliff_is_refused_with_its_line_and_nothing_is_imported(
    client: TestClient, body: str, code: str, line: int
) -> None:
    response = client.post("/v1/memory/import", content=body.encode(), headers={**A, **XLIFF})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["line"]) == (code, line), error
    assert client.get("/v1/memory/units", headers=A).json() == {"units": []}  # not even u1


def _run_job(client: TestClient, members: dict[str, str]) -> str:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, text in members.items():
            zipped.writestr(name, text)
    submitted = client.post("/v1/jobs", params={"filename": "news.zip"}, content=archive.getvalue(), headers=A)
    assert submitted.status_code == 202, submitted.text
    job = str(submitted.json()["id"])
    deadline = time.monotonic() + 30
    while client.get(f"/v1/jobs/{job}", headers=A).json()["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return job


def test_a_job_document_exports_as_xliff(client: TestClient) -> None:
    job = _run_job(client, {"article.txt": ARTICLE})
    (record,) = client.get(f"/v1/jobs/{job}/documents", headers=A).json()["documents"]
    response = client.get(f"/v1/jobs/{job}/documents/{record['id']}/xliff", headers=A)
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="article.txt.xlf"'
    store = Xliff2File.parsestring(response.content)
    assert [u.source for u in store.units] == [FIRST, SECOND, THIRD, "2024"]
    assert client.get(f"/v1/jobs/{job}/documents/{record['id']}/xliff", headers=B).status_code == 404
    assert client.get(f"/v1/jobs/{job}/documents/{'0' * 20}/xliff", headers=A).status_code == 404


def test_a_whole_job_exports_as_one_xliff_and_its_post_edits_come_back(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    job = _run_job(client, {"a/article.txt": ARTICLE, "b/article.txt": f"{THIRD}\n", "c.md": "# Titre\n"})
    response = client.get(f"/v1/jobs/{job}/xliff", headers=A)
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="news.xlf"'
    root = etree.fromstring(response.content)
    files = root.findall("x:file", NS)
    assert [(f.get("id"), f.get("original")) for f in files] == [
        ("article.txt", "a/article.txt"),
        ("article.txt_", "b/article.txt"),  # file ids are unique even where names are not
        ("c.md", "c.md"),
    ]
    assert [[s.findtext("x:source", namespaces=NS) for s in f.iterfind(".//x:segment", NS)] for f in files] == [
        [FIRST, SECOND, THIRD, "2024"],
        [THIRD],
        ["Titre"],
    ]
    assert len(Xliff2File.parsestring(response.content).units) == 6  # translate-toolkit reads every <file>
    assert client.get(f"/v1/jobs/{job}/xliff", headers=B).status_code == 404
    assert client.get("/v1/jobs/no-such-job/xliff", headers=A).status_code == 404

    # A CAT tool edits a target in the second document: it comes back as a unit, and is used.
    root = etree.fromstring(response.content)
    target = root.find("x:file[2]//x:segment/x:target", NS)
    assert target is not None
    target.text = "The councillors walked out."
    target.getparent().set("state", "reviewed")
    edited = bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    imported = client.post("/v1/memory/import", content=edited, headers={**A, **XLIFF})
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"imported": 1, "skipped": 5}
    units = client.get("/v1/memory/units", headers=A).json()["units"]
    assert [(u["source"], u["english"], u["origin"]) for u in units] == [
        (THIRD, "The councillors walked out.", "import")
    ]
    fake_engine.calls.clear()
    again = sentences_of(_translate(client, f"Autre chose. {THIRD}"))[1]
    assert (again["source"], again["en"]) == ("memory:exact", "The councillors walked out.")


def test_a_job_with_nothing_translated_has_no_xliff(client: TestClient) -> None:
    job = _run_job(client, {"empty.txt": ""})
    response = client.get(f"/v1/jobs/{job}/xliff", headers=A)
    assert (response.status_code, response.json()["error"]["code"]) == (404, "document_not_found")


def test_glossaries_in_deepls_csv_and_tsv_formats_are_imported(client: TestClient) -> None:
    csv = 'conseil municipal,city council\n"Le chat, le chien","The cat, the dog"\n\nLe maire,The mayor,FR,EN-GB\n'
    response = client.post("/v1/memory/import", content=csv.encode(), headers={**A, "Content-Type": "text/csv"})
    assert (response.json()["imported"], response.json()["glossary"]["entries"]) == (3, 3)
    tsv = "il pleut\tit is raining\r\nla mairie\tthe town hall\n"
    headers = {**A, "Content-Type": "text/tab-separated-values; charset=utf-8"}
    assert client.post("/v1/memory/import", content=tsv.encode(), headers=headers).json()["imported"] == 2
    # The glossary's terms, replaced as a whole by the second file, apply inside sentences; no unit is stored.
    sentences = sentences_of(_translate(client, "Le maire dit qu'il pleut sur la mairie."))
    assert [(s["source"], s["en"]) for s in sentences] == [
        ("model", "EN<Le maire dit qu'it is raining sur the town hall.>")
    ]
    assert client.get("/v1/memory/units", headers=A).json() == {"units": []}


@pytest.mark.parametrize(
    ("media", "body", "line"),
    [
        ("text/csv", "a,b\nc\n", 2),
        ("text/csv", "a,b\nc,d,e\n", 2),
        ("text/csv", 'a,b\nc,"d\n', 2),
        ("text/csv", "a,b\na,c\n", 2),
        ("text/csv", "a,b\n\n ,c\n", 3),
        ("text/csv", "a,b,DE,EN\n", 1),
        ("text/tab-separated-values", "a\tb\nc\td\te\n", 2),
        ("text/tab-separated-values", "a\tb\nc d\n", 2),
    ],
)
def test_bad_glossary_rows_are_refused_with_their_line(client: TestClient, media: str, body: str, line: int) -> None:
    response = client.post("/v1/memory/import", content=body.encode(), headers={**A, "Content-Type": media})
    assert response.status_code == 422, response.text
    assert (response.json()["error"]["code"], response.json()["error"]["line"]) == ("invalid_glossary", line)
    assert client.get("/v1/memory/units", headers=A).json() == {"units": []}


def test_other_media_types_are_refused(client: TestClient) -> None:
    response = client.post("/v1/memory/import", content=b"a,b", headers={**A, "Content-Type": "text/plain"})
    assert response.status_code == 415
    assert re.search("text/csv", response.json()["error"]["message"])


def _deepl(client: TestClient, **params: str) -> Any:
    return client.post("/v2/translate", data={"text": SECOND, "target_lang": "EN", **params}, headers=DEEPL_A)


def test_deepl_translation_memory_selects_the_callers_memory_and_threshold(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    near = "Le conseil municipal a voté le budget hier."  # one word more than SECOND: 85 %
    client.post(
        "/v1/memory/units", json={"source": near, "english": "The council voted the budget yesterday."}, headers=A
    )
    assert _deepl(client).json()["translations"][0]["text"] == f"EN<{SECOND}>"  # no parameter: no memory
    for chosen in ("default", "true", "1"):
        applied = _deepl(client, translation_memory=chosen)
        assert applied.json()["translations"][0]["text"] == "The council voted the budget yesterday.", chosen
    strict = _deepl(client, translation_memory="default", translation_memory_threshold="95")
    assert strict.json()["translations"][0]["text"] == f"EN<{SECOND}>"
    assert _deepl(client, translation_memory="false").json()["translations"][0]["text"] == f"EN<{SECOND}>"
    other_key = client.post(
        "/v2/translate", data={"text": SECOND, "target_lang": "EN", "translation_memory": "true", "auth_key": KEY_B}
    )
    assert other_key.json()["translations"][0]["text"] == f"EN<{SECOND}>"


def test_deepl_translation_memory_threshold_takes_deepls_whole_range(client: TestClient) -> None:
    """DeepL accepts 0 to 100: a threshold under 50 applies a distant match, 0 the best candidate there is."""
    far = "Le conseil municipal a voté le budget de la ville pour l'année prochaine et les suivantes, après un débat."
    added = client.post("/v1/memory/units", json={"source": far, "english": "A distant unit."}, headers=A)
    assert added.status_code == 201
    model = f"EN<{SECOND}>"
    texts = {
        threshold: _deepl(client, translation_memory="default", translation_memory_threshold=threshold).json()
        for threshold in ("0", "30", "49", "75", "100")
    }
    assert {k: v["translations"][0]["text"] for k, v in texts.items()} == {
        "0": "A distant unit.",
        "30": "A distant unit.",
        "49": model,  # the unit scores 34 (edits over the longer sentence's tokens)
        "75": model,
        "100": model,
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"translation_memory": "a1b2c3d4-0000"}, "not found"),
        ({"translation_memory_threshold": "80"}, "needs 'translation_memory'"),
        ({"translation_memory": "default", "translation_memory_threshold": "-1"}, "use 0 to 100"),
        ({"translation_memory": "default", "translation_memory_threshold": "101"}, "use 0 to 100"),
        ({"translation_memory": "default", "translation_memory_threshold": "high"}, "use 0 to 100"),
    ],
)
def test_deepl_bad_memory_parameters_are_400(client: TestClient, params: dict[str, str], message: str) -> None:
    response = _deepl(client, **params)
    assert response.status_code == 400 and message in response.json()["message"], response.text


@pytest.mark.parametrize("media", ["application/xliff+xml", "text/csv", "text/tab-separated-values"])
def test_xliff_and_glossary_imports_are_capped(fake_engine: FakeEngine, tmp_path: Path, media: str) -> None:
    settings = Settings(data_dir=tmp_path, memory_max_import_bytes=2048, warmup=False)
    with TestClient(create_app(settings, engine=fake_engine)) as capped:
        big = ("a,b\n" * 1000).encode()
        response = capped.post("/v1/memory/import", content=big, headers={"Content-Type": media})
        assert response.status_code == 413
        assert capped.get("/v1/memory/units").json() == {"units": []}


def test_markdown_markup_is_exported_as_xliff_codes_and_post_edits_come_back_as_plain_text(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    """Bold and a link of a markdown article are <pc> codes in the XLIFF, not `**` or `[…](…)` text; a
    translator's edit inside a code comes back into the memory as plain text, which the next translation of
    the same markdown sentence uses."""
    link = "https://example.org/vote?an=2024&x=1"
    article = f"Le **conseil** a voté le [budget]({link}). {THIRD}\n"
    response = client.post("/v1/translate", json={"text": article, "format": "markdown"}, headers=A)
    assert response.status_code == 200, response.text
    first = sentences_of(response.json())[0]
    assert first["fr_plain"] == "Le conseil a voté le budget."
    exported = _export(client, response.json())
    assert b"**" not in exported and b"](" not in exported
    root = etree.fromstring(exported)
    segment = root.find(".//x:segment", NS)
    source, target = segment.find("x:source", NS), segment.find("x:target", NS)
    codes = [
        (pc.get("id"), pc.get("type"), pc.get("subType"), pc.get("dispStart")) for pc in source.iter(f"{{{NS['x']}}}pc")
    ]
    assert codes == [("1", "fmt", "xlf:b", None), ("2", "link", None, link)]
    assert {pc.get("id") for pc in target.iter(f"{{{NS['x']}}}pc")} <= {"1", "2"}
    assert "".join(source.itertext()) == first["fr_plain"] and "".join(target.itertext()) == first["en_plain"]

    # The translator rewrites the target, keeping the codes around new words.
    for child in list(target):
        target.remove(child)
    target.text = "The "
    bold = etree.SubElement(target, f"{{{NS['x']}}}pc", id="1", type="fmt", subType="xlf:b")
    bold.text, bold.tail = "council", " passed the "
    anchor = etree.SubElement(target, f"{{{NS['x']}}}pc", id="2", type="link", dispStart=link)
    anchor.text, anchor.tail = "budget", "."
    segment.set("state", "reviewed")
    edited = bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    imported = client.post("/v1/memory/import", content=edited, headers={**A, **XLIFF})
    assert imported.status_code == 200, imported.text
    units = client.get("/v1/memory/units", headers=A).json()["units"]
    assert [(u["source"], u["english"]) for u in units] == [(first["fr_plain"], "The council passed the budget.")]

    fake_engine.calls.clear()
    body = {"text": f"Le **conseil** a voté le [budget]({link}).", "format": "markdown"}
    again = sentences_of(client.post("/v1/translate", json=body, headers=A).json())[0]
    assert again["source"] == "memory:exact" and again["en_plain"] == "The council passed the budget."
    assert not fake_engine.calls
