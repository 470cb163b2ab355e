"""`bitext batch --ray` on a local Ray instance.

The same files as the single-machine runner, and a resume after the driver is killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from models.engine import GenerationOptions
from service.jobs import outputs
from service.jobs.config import BatchConfig
from service.jobs.runner import BatchRun, RunSpec

pytestmark = [pytest.mark.slow, pytest.mark.integration]

DOCUMENTS = 110

try:
    import ray  # noqa: F401
except ImportError:
    if os.environ.get("CI") == "true":
        raise  # CI installs the [ray] extra: a missing Ray must fail there, not skip
    pytest.skip("Ray is not installed (pip install 'bitext[ray]')", allow_module_level=True)


def _archive(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(DOCUMENTS):
            body = " ".join(f"Le conseil municipal a voté la mesure {i * 3 + k}." for k in range(1 + i % 3))
            archive.writestr(f"news/{i:03}.md", f"# Le titre numéro {i}\n\n{body}\n\nAbonnez-vous à notre lettre.\n")
        archive.writestr("../escape.txt", "Sortie.")
        archive.writestr("news/empty.txt", "")
    return path


def _ray_batch(archive: Path, out: Path, model: Path, *args: str, **popen: Any) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "BITEXT_DEVICE": "cpu",
        "BITEXT_RAY_BATCH_DOCUMENTS": "8",
        "BITEXT_BATCH_GROUP_SENTENCES": "16",
        "PYTHONWARNINGS": "ignore",
    }
    command = [
        sys.executable,
        "-m",
        "service.cli",
        "batch",
        str(archive),
        "-o",
        str(out),
        "--model",
        str(model),
        "--ray",
        *args,
    ]
    with open(out.parent / f"{out.name}.log", "ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log, **popen)


def _documents(out: Path) -> dict[str, Any]:
    """Every output file's content; the JSON without its timing, the only field that may differ."""
    files: dict[str, Any] = {}
    for path in sorted((out / outputs.DOCS).iterdir()):
        if path.suffix == ".json":
            payload = json.loads(path.read_text(encoding="utf-8"))
            payload["stats"].pop("seconds")
            files[path.name] = payload
        else:
            files[path.name] = path.read_text(encoding="utf-8")
    return files


def _manifest(out: Path) -> dict[str, dict[str, Any]]:
    return {
        ident: {k: v for k, v in record.items() if k != "at"}
        for ident, record in outputs.latest_records(out / outputs.MANIFEST).items()
    }


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory, tiny_engine: Any) -> tuple[Path, Path]:
    """The archive and the single-machine runner's OUTDIR for it: the reference."""
    work = tmp_path_factory.mktemp("ray")
    archive = _archive(work / "news.zip")
    summary = BatchRun(RunSpec(archive, work / "single"), tiny_engine).run()
    assert (summary.ok, summary.skipped) == (DOCUMENTS, 2)
    return archive, work / "single"


def test_ray_outputs_are_identical_to_the_single_machine_runner(
    single: tuple[Path, Path], tiny_checkpoint: Path, tmp_path: Path
) -> None:
    archive, reference = single
    process = _ray_batch(archive, tmp_path / "ray", tiny_checkpoint)
    assert process.wait(timeout=240) == 0, (tmp_path / "ray.log").read_text()[-3000:]
    assert "starting Ray: each engine actor loads model " in (tmp_path / "ray.log").read_text()
    out = tmp_path / "ray"
    assert len(_documents(reference)) == 2 * DOCUMENTS
    assert _documents(out) == _documents(reference)
    assert _manifest(out) == _manifest(reference)
    assert (out / outputs.INDEX).read_text(encoding="utf-8") == (reference / outputs.INDEX).read_text(encoding="utf-8")
    summary = json.loads((out / outputs.SUMMARY).read_text())
    assert (summary["ok"], summary["skipped"], summary["reasons"]) == (DOCUMENTS, 2, {"path_traversal": 1, "empty": 1})
    assert summary["cache_hits"] > 0, "each actor's cache catches the repeated boilerplate"


def test_ray_writes_documents_in_their_own_format_in_every_layout(
    tiny_engine: Any, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    from tests.support.documents import srt

    archive = tmp_path / "films.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.srt", srt())
        zf.writestr("b.srt", srt(7))
        zf.writestr("note.md", "# Le titre\n\nLe conseil municipal a voté la mesure.\n")
    layouts = ("english", "side-by-side")
    BatchRun(RunSpec(archive, tmp_path / "single", config=BatchConfig(layouts=layouts)), tiny_engine).run()
    process = _ray_batch(archive, tmp_path / "ray", tiny_checkpoint, "--layout", "english", "--layout", "side-by-side")
    assert process.wait(timeout=240) == 0, (tmp_path / "ray.log").read_text()[-3000:]
    written = _documents(tmp_path / "ray")
    assert sorted(name.split(".", 1)[1] for name in written if name.endswith(".srt")) == sorted(
        f"{layout}.srt" for layout in layouts for _ in range(2)
    )
    assert written == _documents(tmp_path / "single")
    assert _manifest(tmp_path / "ray") == _manifest(tmp_path / "single")


def _lines(out: Path) -> int:
    try:
        return (out / outputs.MANIFEST).read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def test_killed_ray_driver_resumes_from_the_manifest(
    single: tuple[Path, Path], tiny_checkpoint: Path, tmp_path: Path
) -> None:
    archive, reference = single
    out = tmp_path / "ray"
    # Its own session: the kill takes the driver and the local Ray instance it started, nothing else.
    process = _ray_batch(archive, out, tiny_checkpoint, start_new_session=True)
    deadline = time.monotonic() + 180
    while process.poll() is None and time.monotonic() < deadline and _lines(out) < 30:
        time.sleep(0.005)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL, "the driver should be killed mid-run"
    at_kill = _lines(out)
    assert 30 <= at_kill < DOCUMENTS + 2

    resumed = _ray_batch(archive, out, tiny_checkpoint)
    assert resumed.wait(timeout=240) == 0, (tmp_path / "ray.log").read_text()[-3000:]
    records = [json.loads(line) for line in (out / outputs.MANIFEST).read_text(encoding="utf-8").splitlines()]
    assert Counter(r["name"] for r in records if r["status"] == "ok") == Counter(
        f"news/{i:03}.md" for i in range(DOCUMENTS)
    ), "each document done once"
    summary = json.loads((out / outputs.SUMMARY).read_text())
    assert summary["already_done"] == at_kill, "everything recorded before the kill is skipped, nothing else"
    assert summary["already_done"] + summary["ok"] + summary["skipped"] + summary["failed"] == DOCUMENTS + 2
    assert not list((out / outputs.DOCS).glob(".tmp-*"))
    assert _documents(out) == _documents(reference)


class _Tally:
    """A `SentenceTally` handle as an actor sees it: `add.remote(n)`; here, in this process."""

    def __init__(self) -> None:
        self.added: list[int] = []
        self.add = self

    def remote(self, sentences: int) -> None:
        self.added.append(sentences)


def test_an_actor_counts_sentences_to_the_tally_group_by_group_before_its_batch_returns(
    single: tuple[Path, Path], tiny_checkpoint: Path, tmp_path: Path
) -> None:
    """One actor call of 24 documents in groups of 16 sentences: the tally hears of every group as it is
    translated (the old actor said nothing until all 24 were written), and each row says what it counted."""
    from service.jobs.config import GroupBounds
    from service.jobs.names import Stems
    from service.jobs.ray_runner import DocumentActor, _read_blocks
    from service.settings import Settings

    archive, _ = single
    config = BatchConfig(groups=GroupBounds(sentences=16))
    blocks = list(_read_blocks(archive, config.caps, frozenset(), Stems()))
    import pyarrow

    batch = pyarrow.concat_tables(blocks).slice(0, 24)
    tally = _Tally()
    (tmp_path / outputs.DOCS).mkdir()  # the driver makes it
    actor = DocumentActor(
        Settings(model=str(tiny_checkpoint), device="cpu"), GenerationOptions(), str(tmp_path), config, tally
    )
    rows = actor(batch).to_pylist()
    assert len(rows) == 24
    assert len(tally.added) >= 3, tally.added  # one report per slice, several groups
    assert sum(tally.added) == sum(row["counted"] for row in rows) > 24
    statuses = {json.loads(row["record"])["status"] for row in rows}
    assert statuses == {"ok"}


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")  # Ray's own, in this process
def test_a_ray_run_brings_the_actors_sentences_to_the_observer_and_counts_each_once(
    single: tuple[Path, Path], tiny_checkpoint: Path, tmp_path: Path
) -> None:
    import io

    import ray
    from rich.console import Console

    from service.jobs.console import RichObserver, progress_bar
    from service.jobs.ray_runner import RayBatchRun
    from service.settings import Settings

    class Watching(RichObserver):
        def __init__(self) -> None:
            super().__init__(progress_bar(Console(file=io.StringIO())))
            self.reports: list[int] = []
            self.settles: list[int] = []

        def translated(self, sentences: int) -> None:
            self.reports.append(sentences)
            super().translated(sentences)

        def settled(self, sentences: int) -> None:
            self.settles.append(sentences)
            super().settled(sentences)

    archive, _ = single
    observer = Watching()
    settings = Settings(model=str(tiny_checkpoint), device="cpu", ray_batch_documents=8, ray_actors=1)
    spec = RunSpec(archive, tmp_path / "ray", config=BatchConfig(), observer=observer)
    try:
        summary = RayBatchRun(spec, settings).run()
    finally:
        ray.shutdown()
    assert (summary.ok, summary.skipped) == (DOCUMENTS, 2)
    assert observer.reports, "the tally's count reached the observer"
    assert sum(observer.reports) == sum(observer.settles) > DOCUMENTS
    assert observer.sentences == summary.sentences, "the bar ends on the summary's number"
