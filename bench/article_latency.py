"""One article's latency through bitext's pipeline, on a given checkpoint (default beams, then greedy).

    python bench/article_latency.py CHECKPOINT_DIR ARTICLE.md

Every sentence generates exactly its output bound (EOS forbidden before it), so a random-weight
checkpoint costs what the real model costs at worst; load time, first call and the median of three
steady calls are reported.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.engine import EngineSpec, GenerationOptions  # noqa: E402
from models.factory import load_engine  # noqa: E402
from models.parse import parse  # noqa: E402
from models.pipeline import translate_document  # noqa: E402


def main(checkpoint: str, article: Path) -> None:
    started = time.perf_counter()
    engine = load_engine(EngineSpec(checkpoint, device="cpu"))
    load = time.perf_counter() - started
    document = parse(article.read_text(encoding="utf-8"))
    for beams in (None, 1):
        options = GenerationOptions(num_beams=beams, exact_length=True)
        times = []
        for _ in range(3):
            started = time.perf_counter()
            result = translate_document(document, engine, options)
            times.append(time.perf_counter() - started)
        steady = statistics.median(times)
        print(
            f"{Path(checkpoint).name}: beams={beams or 'model default (4)'} load={load:.1f}s first={times[0]:.2f}s "
            f"median={steady:.2f}s blocks={result.stats.blocks} sentences={result.stats.sentences} "
            f"output_tokens={result.stats.output_tokens} tokens/s={result.stats.output_tokens / steady:.0f}"
        )


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
