"""The batch runner with the fake engine: outputs, manifest, packing, cache, resume, failures."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from models.document import Translation
from models.engine import PLAIN_CALL, CallControl, GenerationOptions
from service.formats import Layout
from service.jobs import outputs
from service.jobs.config import BatchConfig, GroupBounds
from service.jobs.outdir import BatchBusy, _locked
from service.jobs.reasons import Reason
from service.jobs.runner import BatchRun, RunSpec
from service.schemas import TranslateResponse
from tests.support.fakes import FakeEngine

BOILERPLATE = "Abonnez-vous à notre lettre d'information."


def article(i: int) -> str:
    return f"Titre de l'article {i}\n\nLe conseil a voté la mesure {i}. Les élus ont débattu.\n\n{BOILERPLATE}\n"


def make_zip(path: Path, count: int, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(count):
            archive.writestr(f"articles/{i:03}.txt", article(i))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def records(outdir: Path) -> list[dict]:
    return [json.loads(line) for line in (outdir / outputs.MANIFEST).read_text(encoding="utf-8").splitlines()]


def test_every_document_gets_contract_json_html_and_a_manifest_record(tmp_path: Path, fake_engine: FakeEngine) -> None:
    source = make_zip(
        tmp_path / "a.zip", 6, {"bad/../../x.txt": b"slip", "empty.txt": b"", "notes.xls": b"\xd0\xcf\x11\xe0"}
    )
    summary = BatchRun(RunSpec(source, tmp_path / "out"), fake_engine).run()
    assert (summary.ok, summary.skipped, summary.failed) == (6, 3, 0)
    by_name = {r["name"]: r for r in records(tmp_path / "out")}
    assert {by_name[n]["reason"] for n in ("bad/../../x.txt", "empty.txt", "notes.xls")} == {
        Reason.PATH_TRAVERSAL,
        Reason.EMPTY,
        Reason.UNSUPPORTED_TYPE,
    }
    for i in range(6):
        record = by_name[f"articles/{i:03}.txt"]
        payload = json.loads((tmp_path / "out" / record["json"]).read_text(encoding="utf-8"))
        response = TranslateResponse.model_validate(payload)
        assert response.blocks[1].en == f"EN<Le conseil a voté la mesure {i}.> EN<Les élus ont débattu.>"
        assert (record["encoding"], record["sentences"]) == ("utf-8", response.stats.sentences)
        html = (tmp_path / "out" / record["html"]).read_text(encoding="utf-8")
        assert "<html" in html.lower() and f"la mesure {i}" in html
    index = (tmp_path / "out" / outputs.INDEX).read_text(encoding="utf-8")
    assert index.count("<tr class=") == 9 and "path_traversal" in index and "../../x.txt" in index
    assert json.loads((tmp_path / "out" / outputs.SUMMARY).read_text())["ok"] == 6


def test_sentences_of_many_documents_share_engine_calls_and_repeats_are_translated_once(
    tmp_path: Path, fake_engine: FakeEngine
) -> None:
    source = make_zip(tmp_path / "a.zip", 20)
    summary = BatchRun(
        RunSpec(source, tmp_path / "out", config=BatchConfig(groups=GroupBounds(sentences=40))), fake_engine
    ).run()
    sent = [text for call in fake_engine.calls for text in call]
    assert len(fake_engine.calls) < 20 / 2, "documents are packed together"
    assert len(sent) == len(set(sent)), "no sentence is sent to the model twice"
    assert sent.count(BOILERPLATE) == 1 and sent.count("Les élus ont débattu.") == 1
    assert summary.cache_hits == 2 * 19 and summary.cache_misses == len(sent) == 20 * 2 + 2


def test_a_rerun_redoes_nothing_and_a_changed_document_is_translated_again(
    tmp_path: Path, fake_engine: FakeEngine
) -> None:
    source = tmp_path / "articles"
    source.mkdir()
    for i in range(5):
        (source / f"{i}.txt").write_text(article(i), encoding="utf-8")
    BatchRun(RunSpec(source, tmp_path / "out"), fake_engine).run()
    fake_engine.calls.clear()
    again = BatchRun(RunSpec(source, tmp_path / "out"), fake_engine).run()
    assert (again.already_done, again.ok, fake_engine.calls) == (5, 0, [])
    (source / "2.txt").write_text("Un texte nouveau. Une phrase inconnue.", encoding="utf-8")
    changed = BatchRun(RunSpec(source, tmp_path / "out"), fake_engine).run()
    assert (changed.already_done, changed.ok) == (4, 1)
    assert fake_engine.calls == [["Un texte nouveau.", "Une phrase inconnue."]]
    index = (tmp_path / "out" / outputs.INDEX).read_text(encoding="utf-8")
    assert index.count("<tr class=") == 5, "the index lists the archive as it is now"


def test_resume_uses_the_disk_cache_and_redoes_a_document_whose_file_is_gone(
    tmp_path: Path, fake_engine: FakeEngine
) -> None:
    source = make_zip(tmp_path / "a.zip", 4)
    BatchRun(RunSpec(source, tmp_path / "out"), fake_engine).run()
    first = records(tmp_path / "out")[0]
    (tmp_path / "out" / first["json"]).unlink()
    fake_engine.calls.clear()
    summary = BatchRun(RunSpec(source, tmp_path / "out"), fake_engine).run()
    assert (summary.ok, summary.already_done, summary.cache_misses, fake_engine.calls) == (1, 3, 0, [])
    assert (tmp_path / "out" / first["json"]).is_file()


def test_a_manifest_row_this_version_cannot_read_is_redone_not_a_crash(tmp_path: Path, fake_engine: FakeEngine) -> None:
    """Resume read rows as raw dicts (`row["status"]`): one without a status stopped every later run."""
    source = make_zip(tmp_path / "a.zip", 3)
    BatchRun(RunSpec(source, tmp_path / "out"), fake_engine).run()
    first = records(tmp_path / "out")[0]
    with open(tmp_path / "out" / outputs.MANIFEST, "a", encoding="utf-8") as manifest:
        manifest.write(json.dumps({"id": first["id"], "name": first["name"]}) + "\n")  # no status
    again = BatchRun(RunSpec(source, tmp_path / "out"), fake_engine).run()
    assert (again.ok, again.already_done) == (1, 2)
    assert records(tmp_path / "out")[-1]["status"] == "ok"


def test_one_run_spec_drives_either_runner_and_the_ray_one_gets_absolute_paths(
    tmp_path: Path, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.jobs.ray_runner import RayBatchRun  # Ray itself is imported only when it runs
    from service.settings import Settings

    monkeypatch.chdir(tmp_path)
    seen: list[str] = []

    class Told:
        def started(self, total: int, already_done: int) -> None:
            seen.append(f"{total} {already_done}")

        def finished(self, record: Any) -> None:
            seen.append(record.name)

    spec = RunSpec(Path("a.zip"), Path("out"), config=BatchConfig(max_sentences=7), observer=Told())
    ray = RayBatchRun(spec, Settings(), address="auto")
    assert (ray.source, ray.outdir, ray.address) == (tmp_path / "a.zip", tmp_path / "out", "auto")  # for its actors
    assert (ray.config, ray.observer) == (spec.config, spec.observer) and not ray.should_stop()
    make_zip(tmp_path / "a.zip", 2)
    summary = BatchRun(spec, fake_engine).run()
    assert summary.ok == 2 and seen == ["2 0", "articles/000.txt", "articles/001.txt"]
    assert (tmp_path / "out" / outputs.MANIFEST).is_file()


def test_layouts_are_read_as_layouts_and_an_unknown_one_is_refused() -> None:
    config = BatchConfig(layouts=("english", "interleaved", "english"))
    assert config.layouts == (Layout.ENGLISH, Layout.INTERLEAVED)
    assert all(type(layout) is Layout for layout in config.layouts)
    assert BatchConfig(layouts=()).layouts == (Layout.INTERLEAVED,)
    with pytest.raises(ValueError):
        BatchConfig(layouts=("sideways",))  # type: ignore[arg-type]


def test_a_document_declaring_xml_entities_is_skipped_and_not_retried(tmp_path: Path, fake_engine: FakeEngine) -> None:
    """A refusal a rerun would repeat was recorded `failed`, so every resume parsed the document again."""
    from service.formats.docx_text import W_NS
    from tests.support.documents import docx

    xxe = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><w:document xmlns:w="%s"/>'
    hostile = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx())) as clean, zipfile.ZipFile(hostile, "w") as target:
        for name in clean.namelist():
            target.writestr(name, xxe % W_NS.encode() if name == "word/document.xml" else clean.read(name))
    source = make_zip(tmp_path / "a.zip", 1, {"hostile.docx": hostile.getvalue()})
    BatchRun(RunSpec(source, tmp_path / "out"), fake_engine).run()
    refused = [r for r in records(tmp_path / "out") if r["name"] == "hostile.docx"]
    assert [(r["status"], r["reason"]) for r in refused] == [("skipped", Reason.UNSAFE_XML)]
    again = BatchRun(RunSpec(source, tmp_path / "out"), fake_engine).run()
    assert (again.already_done, again.documents) == (2, 0)


class FailingEngine(FakeEngine):
    """Fails on any call that contains the poison sentence."""

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        if any("POISON" in text for text in texts):
            raise RuntimeError("the model broke on this input")
        return super().translate(texts, options, control=control)


def test_one_bad_document_fails_alone_and_the_batch_goes_on(tmp_path: Path) -> None:
    source = make_zip(tmp_path / "a.zip", 6, {"poison.txt": b"Une phrase POISON ici."})
    summary = BatchRun(
        RunSpec(source, tmp_path / "out", config=BatchConfig(groups=GroupBounds(sentences=1000))), FailingEngine()
    ).run()
    assert (summary.ok, summary.failed) == (6, 1)
    failed = [r for r in records(tmp_path / "out") if r["status"] == "failed"]
    assert failed[0]["name"] == "poison.txt" and failed[0]["reason"] == Reason.TRANSLATION_ERROR
    assert "the model broke" in failed[0]["message"]


def test_documents_over_the_sentence_cap_fail_before_translation(tmp_path: Path, fake_engine: FakeEngine) -> None:
    source = make_zip(tmp_path / "a.zip", 1, {"long.txt": " ".join(f"Phrase numéro {i}." for i in range(30)).encode()})
    summary = BatchRun(RunSpec(source, tmp_path / "out", config=BatchConfig(max_sentences=10)), fake_engine).run()
    assert summary.reasons == {Reason.TOO_MANY_SENTENCES: 1}
    assert not any("Phrase numéro" in text for call in fake_engine.calls for text in call)


def test_a_torn_manifest_tail_and_leftover_temp_files_are_cleaned_on_resume(
    tmp_path: Path, fake_engine: FakeEngine
) -> None:
    source = make_zip(tmp_path / "a.zip", 3)
    out = tmp_path / "out"
    BatchRun(RunSpec(source, out), fake_engine).run()
    with open(out / outputs.MANIFEST, "ab") as stream:
        stream.write(b'{"id": "torn", "sta')
    (out / outputs.DOCS / ".tmp-123-x.json").write_text("{half", encoding="utf-8")
    BatchRun(RunSpec(source, out), fake_engine).run()
    lines = (out / outputs.MANIFEST).read_bytes().splitlines()
    assert len(lines) == 3 and all(json.loads(line)["status"] == "ok" for line in lines)
    assert not list((out / outputs.DOCS).glob(".tmp-*"))


def test_two_runs_cannot_share_an_outdir(tmp_path: Path, fake_engine: FakeEngine) -> None:
    source = make_zip(tmp_path / "a.zip", 1)
    (tmp_path / "out").mkdir()
    with _locked(tmp_path / "out"), pytest.raises(BatchBusy):
        BatchRun(RunSpec(source, tmp_path / "out"), fake_engine).run()


def test_should_stop_interrupts_between_groups_and_the_rest_is_resumed(tmp_path: Path, fake_engine: FakeEngine) -> None:
    source = make_zip(tmp_path / "a.zip", 10)
    stop = iter([False, False, True])
    first = BatchRun(
        RunSpec(
            source,
            tmp_path / "out",
            config=BatchConfig(groups=GroupBounds(sentences=1)),
            should_stop=lambda: next(stop, True),
        ),
        fake_engine,
    ).run()
    assert first.interrupted and first.ok == 3
    rest = BatchRun(RunSpec(source, tmp_path / "out"), fake_engine).run()
    assert (rest.already_done, rest.ok) == (3, 7)
    assert sorted(r["name"] for r in records(tmp_path / "out")) == [f"articles/{i:03}.txt" for i in range(10)]


def test_a_document_that_is_not_french_is_skipped_with_its_language(tmp_path: Path, fake_engine: FakeEngine) -> None:
    english = b"The city council adopted a record budget on Tuesday evening. The opposition voted against it.\n"
    source = make_zip(tmp_path / "a.zip", 2, {"english.txt": english})
    summary = BatchRun(RunSpec(source, tmp_path / "out"), fake_engine).run()
    assert (summary.ok, summary.skipped) == (2, 1)
    (record,) = [r for r in records(tmp_path / "out") if r["name"] == "english.txt"]
    assert (record["status"], record["reason"]) == ("skipped", Reason.NOT_FRENCH)
    assert "'en'" in record["message"]
    assert not any("city council" in text for call in fake_engine.calls for text in call)


# ---- bounded pending state and output -------------------------------------------------------


def _group_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sizes: list[int] = []
    flush = BatchRun._flush

    def spy(self: BatchRun, group: list, engine: object, manifest: object) -> None:
        sizes.append(len(group))
        flush(self, group, engine, manifest)  # type: ignore[arg-type]

    monkeypatch.setattr(BatchRun, "_flush", spy)
    return sizes


def test_documents_with_nothing_to_translate_flush_by_count(
    tmp_path: Path, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = _group_sizes(monkeypatch)
    verbatim = {f"v/{i:03}.txt": b"---\n\n42\n" for i in range(25)}  # admitted, but no sentence to translate
    source = make_zip(tmp_path / "v.zip", 0, verbatim)
    summary = BatchRun(
        RunSpec(source, tmp_path / "out", config=BatchConfig(groups=GroupBounds(sentences=10_000, documents=4))),
        fake_engine,
    ).run()
    assert summary.ok == 25 and fake_engine.calls == []
    assert max(sizes) <= 4 and sum(sizes) == 25, sizes  # never more than 4 documents held at once


def test_groups_flush_by_input_bytes(tmp_path: Path, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = _group_sizes(monkeypatch)
    source = make_zip(tmp_path / "a.zip", 12)
    size = len(article(0).encode())
    BatchRun(
        RunSpec(source, tmp_path / "out", config=BatchConfig(groups=GroupBounds(sentences=10_000, bytes=3 * size))),
        fake_engine,
    ).run()
    assert max(sizes) <= 3 and sum(sizes) == 12, sizes


def test_the_output_cap_skips_the_remaining_documents_with_a_reason(tmp_path: Path, fake_engine: FakeEngine) -> None:
    source = make_zip(tmp_path / "a.zip", 10)
    out = tmp_path / "out"
    BatchRun(RunSpec(source, tmp_path / "one"), fake_engine).run()
    one_document = sum(p.stat().st_size for p in (tmp_path / "one" / outputs.DOCS).iterdir()) // 10
    cap = 3 * one_document + one_document // 2
    summary = BatchRun(
        RunSpec(source, out, config=BatchConfig(groups=GroupBounds(sentences=2), max_output_bytes=cap)), fake_engine
    ).run()
    assert (summary.ok, summary.skipped, summary.reasons) == (3, 7, {Reason.OUTPUT_QUOTA: 7})
    assert sum(p.stat().st_size for p in (out / outputs.DOCS).iterdir()) <= cap
    skipped = [r for r in records(out) if r["status"] == "skipped"]
    assert {r["reason"] for r in skipped} == {"output_quota"} and "bytes" in skipped[0]["message"]
    # A rerun counts what is already written, and does not retry the refused documents.
    again = BatchRun(RunSpec(source, out, config=BatchConfig(max_output_bytes=cap)), fake_engine).run()
    assert again.already_done == 10 and again.documents == 0


def test_groups_flush_by_what_documents_hold_not_their_upload_size(
    tmp_path: Path, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A zipped document of a few kilobytes can hold far more text: the group bound counts the text."""
    import io

    from docx import Document

    document = Document()
    for i in range(40):
        document.add_paragraph(f"Le conseil municipal a voté le budget numéro {i} hier soir. " * 20)
    out = io.BytesIO()
    document.save(out)
    data = out.getvalue()
    sizes = _group_sizes(monkeypatch)
    source = make_zip(tmp_path / "d.zip", 0, {f"d/{i}.docx": data for i in range(6)})
    summary = BatchRun(
        RunSpec(
            source, tmp_path / "out", config=BatchConfig(groups=GroupBounds(sentences=100_000, bytes=3 * len(data)))
        ),
        fake_engine,
    ).run()
    assert summary.ok == 6
    assert max(sizes) == 1 and sum(sizes) == 6, sizes  # 3 uploads' bytes, but each holds more than that in text


# --- Names from archives are data (issue 21, finding 7) ---------------------------------------

FRENCH = "Le conseil municipal a voté la mesure hier soir."


def _tar_with_latin1_name(path: Path) -> Path:
    import io
    import tarfile

    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT, encoding="latin-1") as tar:  # the name's bytes: caf\xe9
        for name in ("café.txt", "b.txt", "c.txt"):
            data = FRENCH.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _zip_misflagged_utf8(path: Path) -> Path:
    """A zip whose first name is flagged UTF-8 (bit 11) but is Latin-1 bytes: zipfile refuses the whole archive."""
    import struct

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("cafX.txt", FRENCH)
        archive.writestr("b.txt", FRENCH)
    data = bytearray(path.read_bytes().replace(b"cafX.txt", b"caf\xe9.txt"))
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        where = data.find(signature)
        struct.pack_into("<H", data, where + flags_at, struct.unpack_from("<H", data, where + flags_at)[0] | 0x800)
    path.write_bytes(bytes(data))
    return path


def _jsonl_with_odd_ids(path: Path) -> Path:
    lines = [
        b'{"id": "\\ud800x", "text": "' + FRENCH.encode() + b'"}',  # a lone surrogate (escaped) in the id
        b'{"id": "ok\\u202e\\u0007", "text": "' + FRENCH.encode() + b'"}',  # bidi override and a control
        b'{"id": "texte", "text": "Le chat \\udc80 dort."}',  # a lone surrogate in the text: this line fails
        b'{"id": "fin", "text": "' + FRENCH.encode() + b'"}',
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _directory_with_latin1_name(path: Path) -> Path:
    import os

    path.mkdir()
    with open(os.path.join(bytes(path), b"caf\xe9.txt"), "wb") as stream:  # a name no UTF-8 reads
        stream.write(FRENCH.encode())
    (path / "b.txt").write_text(FRENCH, encoding="utf-8")
    return path


def _warc_with_odd_uri(path: Path) -> Path:
    """One response whose URI holds Latin-1 é, an invalid byte and U+202E (warcio reads the line as Latin-1)."""
    page = f"<html><body><article><p>{FRENCH} {FRENCH}</p></article></body></html>".encode()
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + page
    head = (
        b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://x.example/caf\xe9\xff\xe2\x80\xae\r\n"
        b"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>\r\nWARC-Date: 2025-01-01T00:00:00Z\r\n"
        b"Content-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n" % len(http)
    )
    path.write_bytes(head + http + b"\r\n\r\n")
    return path


@pytest.mark.parametrize(
    ("make", "names"),
    [
        (lambda p: _tar_with_latin1_name(p / "a.tar"), {"caf\\xe9.txt", "b.txt", "c.txt"}),
        (lambda p: _zip_misflagged_utf8(p / "a.zip"), {"caf\\xe9.txt", "b.txt"}),
        (
            lambda p: _jsonl_with_odd_ids(p / "a.jsonl"),
            {"a.jsonl#\\ud800x", "a.jsonl#ok\\u202e\\u0007", "a.jsonl#texte", "a.jsonl#fin"},
        ),
        (lambda p: _directory_with_latin1_name(p / "a.dir"), {"caf\\xe9.txt", "b.txt"}),
        (lambda p: _warc_with_odd_uri(p / "a.warc"), {"http://x.example/caféÿâ\\u0080®"}),
    ],
    ids=["tar-latin1-name", "zip-misflagged-utf8", "jsonl-surrogate-ids", "directory-latin1-name", "warc-odd-uri"],
)
def test_any_bytes_in_a_name_are_recorded_escaped_and_the_batch_goes_on(
    tmp_path: Path, fake_engine: FakeEngine, make: Any, names: set[str]
) -> None:
    source, out = make(tmp_path), tmp_path / "out"
    summary = BatchRun(RunSpec(source, out), fake_engine).run()
    assert not summary.interrupted and summary.documents == len(names)
    by_name = {record["name"]: record for record in records(out)}  # read back as strict UTF-8 JSON
    assert set(by_name) == names
    failed = {name for name, record in by_name.items() if record["status"] != "ok"}
    assert failed == ({"a.jsonl#texte"} & names)  # only the line whose text holds a lone surrogate
    assert all(by_name[name]["reason"] == "invalid_json" for name in failed)
    index = (out / outputs.INDEX).read_text(encoding="utf-8")
    assert all(name in index for name in names) and "\u202e" not in index
    assert len({record["id"] for record in records(out)}) == len(names)
    assert BatchRun(RunSpec(source, out), fake_engine).run().already_done == len(names) - len(failed)  # the same ids


def test_display_name_escapes_what_cannot_be_text_or_would_reorder_it() -> None:
    from service.jobs.names import display_name, name_bytes

    assert display_name("café.txt") == "café.txt" and display_name("日本/記事.md") == "日本/記事.md"
    assert display_name(b"caf\xe9.txt".decode("utf-8", "surrogateescape")) == "caf\\xe9.txt"
    assert display_name("a\ud800b") == "a\\ud800b" and display_name("x\u202eexe.txt") == "x\\u202eexe.txt"
    assert display_name("a\r\nb\x00\x85\u2028") == "a\\u000d\\u000ab\\u0000\\u0085\\u2028"
    assert display_name(display_name("a\ud800\u202e")) == display_name("a\ud800\u202e")  # idempotent
    assert name_bytes(b"caf\xe9".decode("utf-8", "surrogateescape")) == b"caf\xe9"
    assert name_bytes("café") == "café".encode() and name_bytes("\ud800") == b"\xed\xa0\x80"
