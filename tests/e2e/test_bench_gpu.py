"""bench/gpu.py runs end to end before anyone spends GPU time on it: `--dry-run` on the CPU."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_gpu_bench_dry_run_writes_its_table(tmp_path: Path) -> None:
    out = tmp_path / "GPU_RESULTS.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gpu.py"), "--dry-run", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = out.read_text(encoding="utf-8")
    assert "| section | variant | dtype | beams |" in report
    assert "- card: " in report and "- driver: " in report and "torch " in report
    for section in ("precision", "sweep", "engine vs loop", "ctranslate2", "article", "oom halving"):
        assert f"| {section} |" in report, section
    assert "model reports device=cpu dtype=float32: ok" in report
    assert "| oom halving | skipped: no CUDA |" in report  # the dry run never claims a GPU figure
    assert "| error |" not in report and "errors:" not in report  # errors include importing the web service


def test_gpu_bench_imports_no_web_code() -> None:
    code = (
        "import sys; sys.argv=['gpu.py']; sys.path.insert(0, 'bench'); import gpu; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette', 'service')]; "
        "assert not bad, bad"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
