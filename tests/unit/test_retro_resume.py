"""Applying the memory to an output is resumable: a crash midway, then a rerun, rewrites every affected
document exactly once, reports all of them, and calls no model."""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service import cli
from service.jobs import outputs, retro_log
from tests.support.fakes import FakeEngine
from tests.support.memory import EDITED, SENTENCE, TMX

OTHERS = ["Les habitants étaient nombreux.", "Il pleuvait.", "La séance a duré deux heures.", "Le maire a parlé."]
NAMES = [f"doc{n}.txt" for n in range(len(OTHERS))]


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    fake = FakeEngine()
    monkeypatch.setattr(cli, "_load", lambda settings: fake)
    return fake


def batch(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, ["batch", *args])
    return result.exit_code, result.output


def records(outdir: Path) -> dict[str, dict[str, str]]:
    return {r["name"]: r for r in outputs.latest_records(outdir / outputs.MANIFEST).values()}


class Crash(RuntimeError):
    pass


def test_an_application_stopped_midway_is_finished_by_the_next(
    tmp_path: Path, engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, outdir, memory = tmp_path / "news.zip", tmp_path / "out", tmp_path / "memory.tmx"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("untouched.txt", "Rien à voir.\n")
        for name, other in zip(NAMES, OTHERS, strict=True):
            archive.writestr(name, f"{other} {SENTENCE}\n")
    assert batch(str(source), "-o", str(outdir))[0] == 0  # an older run, without the memory
    memory.write_text(TMX, encoding="utf-8")
    engine.calls.clear()

    written: Counter[str] = Counter()
    real = outputs.write_atomic

    def crashing(path: Path, data: bytes) -> None:
        # The crash comes between the third document's JSON and its HTML (each document writes both).
        if path.parent.name == outputs.DOCS and sum(written.values()) == 5:
            raise Crash("the power went out")
        real(path, data)
        written[path.name] += 1

    monkeypatch.setattr(outputs, "write_atomic", crashing)
    code, _ = batch(str(source), "-o", str(outdir), "--memory", str(memory), "--apply-memory")
    assert code != 0  # it stopped
    first = Counter(written)
    assert sum(first.values()) == 5
    monkeypatch.setattr(outputs, "write_atomic", real)
    assert retro_log.unfinished(outdir) is not None

    written.clear()
    monkeypatch.setattr(outputs, "write_atomic", lambda path, data: (real(path, data), written.update([path.name])))
    code, output = batch(str(source), "-o", str(outdir), "--memory", str(memory), "--apply-memory")
    assert code == 0, output
    # The report is the whole application's: the documents rewritten before the crash too.
    assert f"{len(NAMES)} of {len(NAMES) + 1} document(s) rewritten, {len(NAMES)} sentence(s) changed" in output
    assert all(name in output for name in NAMES)
    assert engine.calls == []  # neither run asked the model for anything
    assert retro_log.unfinished(outdir) is None

    found = records(outdir)
    counts = {}
    for name in NAMES:
        files = [Path(found[name]["json"]).name, Path(found[name]["html"]).name]
        counts[name] = ([first[f] for f in files], [written[f] for f in files])
        for path in files:
            assert EDITED in (outdir / outputs.DOCS / path).read_text(encoding="utf-8"), (name, path)
        payload = json.loads((outdir / found[name]["json"]).read_text(encoding="utf-8"))
        assert [s["source"] for b in payload["blocks"] for s in b["sentences"]] == ["model", "memory:exact"]
    # Two documents were finished before the crash and are not written again; the third had only its JSON
    # written when it stopped, so it is written again whole; the fourth is written once, by the rerun.
    assert sorted(counts.values()) == [([0, 0], [1, 1]), ([1, 0], [1, 1]), ([1, 1], [0, 0]), ([1, 1], [0, 0])]
    assert not any(Path(found["untouched.txt"]["json"]).name in counter for counter in (first, written))
    assert written[outputs.INDEX] == 1

    code, output = batch(str(source), "-o", str(outdir), "--memory", str(memory), "--apply-memory")
    assert code == 0 and "0 of 5 document(s) rewritten" in output  # finished: nothing left to do


def test_the_log_reads_back_the_last_application_and_cuts_a_torn_line(tmp_path: Path) -> None:
    log = retro_log.Log(tmp_path)
    first = log.new()
    log.plan(first, "d1", {(0, 1): "old"})
    log.done(first, "d1", {"name": "a.txt", "sentences": []})
    log.finish(first, 3)
    second = log.new()
    log.plan(second, "d2", {(2, 0): "before", (0, 0): "x"})
    log.plan(second, "d3", {})
    log.done(second, "d2", {"name": "b.txt", "sentences": []})
    log.close()
    with open(tmp_path / retro_log.LOG, "ab") as stream:
        stream.write(b'{"application": "' + second.id.encode() + b'", "step": "done", "id": "d3"')  # torn
    found = retro_log.unfinished(tmp_path)
    assert found is not None and found.id == second.id
    assert found.planned == {"d2": {(0, 0): "x", (2, 0): "before"}, "d3": {}}
    assert list(found.done) == ["d2"] and found.pending == {"d3": {}}
    retro_log.Log(tmp_path).close()  # opening it again cuts the torn line: the next line starts clean
    assert (tmp_path / retro_log.LOG).read_bytes().endswith(b"\n")
    last = retro_log.last(tmp_path)
    assert last is not None and last.checked is None

    log = retro_log.Log(tmp_path)
    log.finish(found, 5)
    log.close()
    assert retro_log.unfinished(tmp_path) is None
    done = retro_log.last(tmp_path)
    assert done is not None and (done.id, done.checked, list(done.done)) == (second.id, 5, ["d2"])
