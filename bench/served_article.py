"""A 60-sentence article and a 4-sentence paragraph through the HTTP service, non-streamed.

    python bench/served_article.py

The server of `bench/streaming.py` (the default scheduler over the full-size random checkpoint,
beam 4, forced output lengths): the article's best of 2 after one warm-up, the paragraph's median
of 3. To compare commits, run it from a checkout of each, alternating.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
import streaming  # noqa: E402

from bench.machine import cpu_model  # noqa: E402
from bench.workload import full_size_checkpoint, load_workload  # noqa: E402
from models.engine import EngineSpec  # noqa: E402
from models.factory import load_engine  # noqa: E402


def main() -> None:
    engine = load_engine(EngineSpec(str(full_size_checkpoint()), device="cpu"))
    workload = load_workload(60)
    article = "\n\n".join(workload.paragraphs)
    paragraph = " ".join(workload.sentences[4:8])
    with streaming.serving(streaming.Exact(engine, 4)) as url, httpx.Client(timeout=None) as client:
        streaming.answered(client, url, article)
        articles = [streaming.answered(client, url, article) for _ in range(2)]
        paragraphs = [streaming.answered(client, url, f"{paragraph} ({run})") for run in range(3)]
    print(
        f"{cpu_model()}: article of 60 sentences {min(articles):.2f} s "
        f"(runs {', '.join(f'{t:.2f}' for t in articles)}); "
        f"4-sentence paragraph median {statistics.median(paragraphs):.2f} s"
    )


if __name__ == "__main__":
    main()
