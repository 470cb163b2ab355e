"""Bilingual documents in their own format: documents per second for a generated 50-chapter EPUB and a
200-cue SRT, and the share of the time spent outside the model (reading, planning, writing three layouts).

    python bench/documents.py                 # tiny random-weight checkpoint
    python bench/documents.py --full-size     # opus-mt-fr-en shape (slow on CPU)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from models.document import Translation  # noqa: E402
from models.engine import PLAIN_CALL, CallControl, DelegatingEngine, Engine, GenerationOptions  # noqa: E402


class Timed(DelegatingEngine):
    """An engine whose `translate` time is counted: the rest of a document's time is outside the model."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.seconds = 0.0

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        started = time.perf_counter()
        try:
            return self.engine.translate(texts, options, control=control)
        finally:
            self.seconds += time.perf_counter() - started


def measure(name: str, data: bytes, format: str, engine: Engine, repeat: int) -> dict[str, object]:
    from models.pipeline import translate_document
    from service import formats

    timed = Timed(engine)
    started = time.perf_counter()
    for _ in range(repeat):
        source = formats.read_source(data, format)
        result = formats.bilingual(source, translate_document(source.document, timed))
        for layout in formats.LAYOUTS:
            formats.write_source(source, result, layout)
    wall = time.perf_counter() - started
    return {
        "document": name,
        "bytes": len(data),
        "blocks": len(source.document.blocks),
        "documents_per_s": round(repeat / wall, 3),
        "seconds_per_document": round(wall / repeat, 3),
        "share_outside_model": round(1 - timed.seconds / wall, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full-size", action="store_true", help="the opus-mt-fr-en-shaped random checkpoint")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    from models.engine import EngineSpec
    from models.factory import load_engine
    from tests.support.documents import epub, srt

    if args.full_size:
        from bench.workload import full_size_checkpoint

        model = full_size_checkpoint()
    else:
        from models.synthetic import TINY, build_marian_checkpoint

        data = ROOT / "tests" / "data"
        model = build_marian_checkpoint(
            Path(tempfile.mkdtemp(prefix="bitext-bench-")) / "tiny",
            data.joinpath("corpus.fr.txt").read_text().splitlines(),
            data.joinpath("corpus.en.txt").read_text().splitlines(),
            TINY,
        )
    engine = load_engine(EngineSpec(str(model), device="cpu"))
    rows = [
        measure("epub, 50 chapters", epub(50), "epub", engine, args.repeat),
        measure("srt, 200 cues", srt(200), "srt", engine, args.repeat),
    ]
    print(json.dumps({"model": "full-size" if args.full_size else "tiny", "results": rows}, indent=1))


if __name__ == "__main__":
    main()
