"""`bitext batch` on one machine vs `bitext batch --ray` (local Ray, this machine's CPUs), side by side.

Both run as CLI processes over the same generated archives at two sizes. Reported per mode:
wall seconds, documents/s over the run itself (summary.json), and from the two sizes the marginal
seconds per document (slope) and the fixed start-up cost (intercept). Ray's per-document overhead
is the difference of the slopes; its start-up (ray.init + actors loading the engine) is the intercept's.

    python bench/ray_batch.py --small 100 --large 300             # tiny random-weight checkpoint
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.batch_archive import command  # noqa: E402


def make_archive(path: Path, articles: int) -> Path:
    """Small articles (a title, 1–3 short sentences, one boilerplate line): the per-document costs dominate."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(articles):
            body = " ".join(f"Le conseil municipal a voté la mesure {i * 3 + k}." for k in range(1 + i % 3))
            archive.writestr(f"news/{i:04}.md", f"# Le titre numéro {i}\n\n{body}\n\nAbonnez-vous à notre lettre.\n")
    return path


ENV = dict(os.environ)


def timed(archive: Path, out: Path, model: Path, ray: bool) -> tuple[float, dict]:
    started = time.perf_counter()
    with open(out.parent / f"{out.name}.log", "wb") as log:
        code = subprocess.call(
            [*command(archive, out, model), *(["--ray"] if ray else [])], stdout=log, stderr=log, cwd=ROOT, env=ENV
        )
    wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"{out.name}: exit {code}; see {out.parent / f'{out.name}.log'}")
    return wall, json.loads((out / "summary.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=400)
    parser.add_argument(
        "--group", type=int, default=64, help="BITEXT_BATCH_GROUP_SENTENCES for both modes: the same engine batches"
    )
    args = parser.parse_args()
    ENV["BITEXT_BATCH_GROUP_SENTENCES"] = str(args.group)
    work = Path(tempfile.mkdtemp(prefix="bitext-ray-bench-"))
    from models.synthetic import TINY, build_marian_checkpoint

    data = ROOT / "tests" / "data"
    model = build_marian_checkpoint(
        work / "tiny",
        data.joinpath("corpus.fr.txt").read_text().splitlines(),
        data.joinpath("corpus.en.txt").read_text().splitlines(),
        TINY,
    )
    report: dict = {
        "cpu_threads": os.cpu_count(),
        "model": "tiny",
        "sizes": [args.small, args.large],
        "group_sentences": args.group,
    }
    walls: dict[str, list[float]] = {}
    for mode in ("single", "ray"):
        rows = []
        for size in (args.small, args.large):
            archive = make_archive(work / f"news-{size}.zip", size)
            wall, summary = timed(archive, work / f"{mode}-{size}", model, mode == "ray")
            rows.append(
                {
                    "documents": summary["ok"],
                    "wall_s": round(wall, 2),
                    "run_s": summary["seconds"],
                    "documents_per_s": round(summary["ok"] / summary["seconds"], 2),
                }
            )
            walls.setdefault(mode, []).append(wall)
        slope = (walls[mode][1] - walls[mode][0]) / (args.large - args.small)
        report[mode] = {
            "runs": rows,
            "s_per_document": round(slope, 4),
            "fixed_s": round(walls[mode][0] - slope * args.small, 2),
        }
    report["ray_overhead_s_per_document"] = round(
        report["ray"]["s_per_document"] - report["single"]["s_per_document"], 4
    )
    report["ray_extra_fixed_s"] = round(report["ray"]["fixed_s"] - report["single"]["fixed_s"], 2)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
