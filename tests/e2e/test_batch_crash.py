"""`bitext batch` killed with SIGKILL at several points, then resumed: every document done exactly once."""

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

import pytest

from service.jobs import outputs
from service.schemas import TranslateResponse

pytestmark = [pytest.mark.slow, pytest.mark.integration]

DOCUMENTS = 50


def _archive(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(DOCUMENTS):
            body = " ".join(f"Le conseil municipal a voté la mesure {i * 7 + k}." for k in range(1 + i % 4))
            archive.writestr(f"a/{i:03}.md", f"# Le titre numéro {i}\n\n{body}\n\nAbonnez-vous à notre lettre.\n")
        archive.writestr("../slip.txt", "Sortie.")
    return path


def _command(archive: Path, out: Path, model: Path) -> tuple[list[str], dict[str, str]]:
    env = os.environ | {"BITEXT_BATCH_GROUP_SENTENCES": "6", "BITEXT_DEVICE": "cpu", "BITEXT_THREADS": "1"}
    return [sys.executable, "-m", "service.cli", "batch", str(archive), "-o", str(out), "--model", str(model)], env


def _manifest_lines(out: Path) -> int:
    try:
        return (out / outputs.MANIFEST).read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _run_and_kill_after(command: list[str], env: dict[str, str], out: Path, lines: int) -> int | None:
    """Start the batch; SIGKILL it once the manifest holds `lines` records. The return code."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if _manifest_lines(out) >= lines:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    return process.wait(timeout=60)


def test_sigkill_at_several_points_then_resume(tmp_path: Path, tiny_checkpoint: Path) -> None:
    archive, out = _archive(tmp_path / "news.zip"), tmp_path / "out"
    command, env = _command(archive, out, tiny_checkpoint)
    codes = [_run_and_kill_after(command, env, out, lines) for lines in (3, 20, 38)]
    assert codes.count(-signal.SIGKILL) >= 2, f"the kills should land mid-run: {codes}"
    interrupted_at = _manifest_lines(out)
    assert interrupted_at < DOCUMENTS + 1

    final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr[-2000:]

    records = [json.loads(line) for line in (out / outputs.MANIFEST).read_text(encoding="utf-8").splitlines()]
    ok = [r for r in records if r["status"] == "ok"]
    assert Counter(r["name"] for r in ok) == Counter(f"a/{i:03}.md" for i in range(DOCUMENTS)), (
        "each document done exactly once"
    )
    assert len({r["id"] for r in ok}) == DOCUMENTS
    assert [r["reason"] for r in records if r["status"] == "skipped"] == ["path_traversal"], (
        "a refusal is recorded once"
    )

    docs = out / outputs.DOCS
    assert not list(docs.glob(".tmp-*")) and not list(out.glob(".tmp-*")), "no half-written file is left"
    assert {p.name for p in docs.iterdir()} == {Path(r[key]).name for r in ok for key in ("json", "html")}
    for record in ok:
        payload = json.loads((out / record["json"]).read_text(encoding="utf-8"))
        response = TranslateResponse.model_validate(payload)
        assert response.stats.sentences == record["sentences"]
        assert "<html" in (out / record["html"]).read_text(encoding="utf-8").lower()
    summary = json.loads((out / outputs.SUMMARY).read_text(encoding="utf-8"))
    assert summary["already_done"] + summary["ok"] == DOCUMENTS and summary["already_done"] >= interrupted_at - 3
