"""`bitext batch` on a generated archive of French articles with shared boilerplate lines.

Reports documents/s, sentences/s and the cache hit rate of an uninterrupted run, then the time
lost to a SIGKILL half way plus a resume, against that run, measured side by side in one go.

    python bench/batch_archive.py --articles 240                # tiny random-weight checkpoint
    python bench/batch_archive.py --articles 20 --full-size     # opus-mt-fr-en shape (slow on CPU)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

BOILERPLATE = [
    "Abonnez-vous à notre lettre d'information pour recevoir l'essentiel de l'actualité.",
    "Cet article est réservé aux abonnés.",
    "Tous droits de reproduction et de diffusion réservés.",
    "Retrouvez toute l'actualité de votre région sur notre site.",
]


def make_archive(path: Path, articles: int, seed: int = 7) -> Path:
    """Articles of 4–10 corpus sentences each, with 2–3 boilerplate lines, as markdown files in a zip."""
    from models.segment import split_sentences

    text = (HERE / "corpus" / "fr.txt").read_text(encoding="utf-8")
    sentences = [line[s.start : s.end] for line in text.splitlines() if line.strip() for s in split_sentences(line)]
    rng = random.Random(seed)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(articles):
            body = rng.sample(sentences, rng.randint(4, 10))
            paragraphs = [" ".join(body[k : k + 2]) for k in range(0, len(body), 2)]
            extra = rng.sample(BOILERPLATE, rng.randint(2, 3))
            title = f"Article {i} : {rng.choice(sentences).rstrip('.')[:60]}"
            archive.writestr(f"news/{i:04}.md", f"# {title}\n\n" + "\n\n".join(paragraphs + extra) + "\n")
    return path


def command(archive: Path, out: Path, model: Path) -> list[str]:
    return [sys.executable, "-m", "service.cli", "batch", str(archive), "-o", str(out), "--model", str(model)]


def run(archive: Path, out: Path, model: Path, kill_after: int | None = None) -> float:
    """Wall seconds of one `bitext batch` process; with `kill_after`, SIGKILL once the manifest has that many lines."""
    started = time.perf_counter()
    log = open(out.parent / f"{out.name}.log", "ab")
    process = subprocess.Popen(command(archive, out, model), stdout=log, stderr=log, cwd=ROOT)
    while kill_after is not None and process.poll() is None:
        manifest = out / "manifest.jsonl"
        if manifest.exists() and manifest.read_bytes().count(b"\n") >= kill_after:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    code = process.wait()
    log.close()
    if kill_after is None and code != 0:
        raise SystemExit(f"bitext batch exited {code}; see {out.parent / f'{out.name}.log'}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=240)
    parser.add_argument("--full-size", action="store_true", help="the opus-mt-fr-en-shaped random checkpoint")
    parser.add_argument("--model", type=Path, help="an existing checkpoint directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bitext-bench-"))
    if args.model:
        model = args.model
    elif args.full_size:
        from bench.workload import full_size_checkpoint

        model = full_size_checkpoint()
    else:
        from models.synthetic import TINY, build_marian_checkpoint

        data = ROOT / "tests" / "data"
        model = build_marian_checkpoint(
            work / "tiny",
            data.joinpath("corpus.fr.txt").read_text().splitlines(),
            data.joinpath("corpus.en.txt").read_text().splitlines(),
            TINY,
        )
    archive = make_archive(work / "news.zip", args.articles)

    straight_wall = run(archive, work / "straight", model)
    straight = json.loads((work / "straight" / "summary.json").read_text())
    killed_wall = run(archive, work / "resumed", model, kill_after=args.articles // 2)
    done_at_kill = (work / "resumed" / "manifest.jsonl").read_bytes().count(b"\n")
    resume_wall = run(archive, work / "resumed", model)
    resumed = json.loads((work / "resumed" / "summary.json").read_text())
    seconds = straight["seconds"]
    report = {
        "articles": args.articles,
        "model": "full-size" if args.full_size else str(model) if args.model else "tiny",
        "cpu_threads": os.cpu_count(),
        "uninterrupted": {
            "wall_s": round(straight_wall, 2),
            "runner_s": seconds,
            "documents_per_s": round(straight["ok"] / seconds, 2),
            "sentences_per_s": round(straight["sentences"] / seconds, 1),
            "sentences": straight["sentences"],
            "cache_hit_rate": straight["cache_hit_rate"],
            "sentences_sent_to_model": straight["cache_misses"],
        },
        "kill9_and_resume": {
            "killed_after_documents": done_at_kill,
            "killed_run_wall_s": round(killed_wall, 2),
            "resume_wall_s": round(resume_wall, 2),
            "resume_already_done": resumed["already_done"],
            "resume_cache_hit_rate": resumed["cache_hit_rate"],
            "time_lost_s": round(killed_wall + resume_wall - straight_wall, 2),
            "time_lost_ratio": round((killed_wall + resume_wall) / straight_wall, 3),
        },
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
