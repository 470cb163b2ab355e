"""`bitext batch --memory PATH` (a TMX file or a keyless server's SQLite memory) and `--apply-memory`."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models.memory import Origin, Unit
from service import cli
from service.memory import SqliteMemoryStore
from service.memory.terms import Entry, GlossaryChange
from tests.support.fakes import FakeEngine
from tests.support.memory import EDITED, SENTENCE, TMX

OTHER = "Les habitants étaient nombreux."


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    fake = FakeEngine()
    monkeypatch.setattr(cli, "_load", lambda settings: fake)
    return fake


def archive(tmp_path: Path) -> Path:
    path = tmp_path / "news.zip"
    with zipfile.ZipFile(path, "w") as zipped:
        zipped.writestr("one.txt", f"{OTHER} {SENTENCE}\n")
        zipped.writestr("two.txt", f"{OTHER}\n")
    return path


def batch(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, ["batch", *args])
    return result.exit_code, result.output


def record(outdir: Path, name: str) -> dict[str, str]:
    manifest = [json.loads(line) for line in (outdir / "manifest.jsonl").read_text().splitlines()]
    return [r for r in manifest if r["name"] == name][-1]


def sources(outdir: Path, name: str) -> dict[str, tuple[str, str]]:
    payload = json.loads((outdir / record(outdir, name)["json"]).read_text())
    return {s["fr"]: (s["en"], s["source"]) for b in payload["blocks"] for s in b["sentences"]}


def sent(engine: FakeEngine) -> list[str]:
    return [text for call in engine.calls for text in call]


def test_batch_translates_with_a_servers_sqlite_memory(tmp_path: Path, engine: FakeEngine) -> None:
    store = SqliteMemoryStore(tmp_path / "memory.sqlite3")
    store.add("", Unit(SENTENCE, EDITED, origin=Origin.EDIT), "")
    store.close()
    code, output = batch(
        str(archive(tmp_path)), "-o", str(tmp_path / "out"), "--memory", str(tmp_path / "memory.sqlite3")
    )
    assert code == 0, output
    assert sources(tmp_path / "out", "one.txt") == {
        OTHER: (f"EN<{OTHER}>", "model"),
        SENTENCE: (EDITED, "memory:exact"),
    }
    assert SENTENCE not in sent(engine)


def test_batch_protects_a_servers_sqlite_memory_glossary(tmp_path: Path, engine: FakeEngine) -> None:
    store = SqliteMemoryStore(tmp_path / "memory.sqlite3")
    store.change_glossary("", GlossaryChange((Entry("habitants", "residents"),)))
    store.close()
    code, output = batch(
        str(archive(tmp_path)), "-o", str(tmp_path / "out"), "--memory", str(tmp_path / "memory.sqlite3")
    )
    assert code == 0, output
    assert sources(tmp_path / "out", "two.txt") == {OTHER: ("EN<Les residents étaient nombreux.>", "model")}
    assert OTHER not in sent(engine)


def test_apply_memory_rewrites_an_earlier_output_from_a_tmx_file(tmp_path: Path, engine: FakeEngine) -> None:
    source, outdir, memory = archive(tmp_path), tmp_path / "out", tmp_path / "memory.tmx"
    assert batch(str(source), "-o", str(outdir))[0] == 0  # an older run, no memory
    assert sources(outdir, "one.txt")[SENTENCE] == (f"EN<{SENTENCE}>", "model")
    two = outdir / record(outdir, "two.txt")["json"]
    untouched = (two.read_bytes(), two.stat().st_mtime_ns)
    memory.write_text(TMX, encoding="utf-8")
    engine.calls.clear()

    code, output = batch(str(source), "-o", str(outdir), "--memory", str(memory), "--apply-memory")
    assert code == 0, output
    assert "1 of 2 document(s) rewritten, 1 sentence(s) changed" in output and "one.txt" in output
    assert EDITED in output and engine.calls == []
    assert sources(outdir, "one.txt")[SENTENCE] == (EDITED, "memory:exact")
    assert (two.read_bytes(), two.stat().st_mtime_ns) == untouched


def test_memory_options_are_checked(tmp_path: Path, engine: FakeEngine) -> None:
    source, outdir = str(archive(tmp_path)), str(tmp_path / "out")
    code, output = batch(source, "-o", outdir, "--apply-memory")
    assert code == 2 and "--apply-memory needs --memory" in output
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    code, output = batch(source, "-o", outdir, "--memory", str(other))
    assert code == 2 and "not a bitext memory" in output
    with sqlite3.connect(other) as db:  # nothing was added to it
        assert [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["t"]
    (tmp_path / "bad.tmx").write_text("<tmx><body><tu>", encoding="utf-8")
    code, output = batch(source, "-o", outdir, "--memory", str(tmp_path / "bad.tmx"))
    assert code == 2 and "not a TMX file" in output
    code, output = batch(source, "-o", outdir, "--memory", str(tmp_path / "missing.tmx"))
    assert code == 2 and "missing.tmx" in output


def test_xliff_writes_a_whole_output_as_one_file_a_cat_tool_can_edit(tmp_path: Path, engine: FakeEngine) -> None:
    from lxml import etree
    from translate.storage.xliff2 import Xliff2File

    from service.memory.xliff import import_xliff

    source, outdir, target = archive(tmp_path), tmp_path / "out", tmp_path / "job.xlf"
    assert batch(str(source), "-o", str(outdir))[0] == 0
    result = CliRunner().invoke(cli.app, ["xliff", str(outdir), "-o", str(target)])
    assert result.exit_code == 0, result.output
    store = Xliff2File.parsestring(target.read_bytes())
    assert [u.source for u in store.units] == [OTHER, SENTENCE, OTHER]
    ns = {"x": "urn:oasis:names:tc:xliff:document:2.0"}
    root = etree.fromstring(target.read_bytes())
    assert [f.get("original") for f in root.findall("x:file", ns)] == ["one.txt", "two.txt"]
    segment = root.find("x:file[1]/x:unit[2]/x:segment", ns)
    assert segment is not None
    segment.find("x:target", ns).text = EDITED
    segment.set("state", "reviewed")
    imported = import_xliff(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    assert [(u.source, u.english, u.previous) for u in imported.units] == [(SENTENCE, EDITED, OTHER)]

    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(cli.app, ["xliff", str(empty), "-o", str(target)])
    assert result.exit_code == 2 and "not a batch output directory" in result.output
