"""Sentence segmentation on real French text: bitext, sentencex and pysbd side by side.

    python bench/segmentation.py ../shared/data/ud-fr-gsd-dev.txt [--k 5] [--show-errors]

PATH holds real sentences, one per line. Every K consecutive sentences are joined with one
space into a paragraph; a boundary is expected at every join and nowhere else. "Strict"
recall counts only the joins after a sentence ending in . ! ? … » " ) (the ones a splitter
can see); a miss at such a join is "recoverable". A paragraph is "merged" when one piece
holds three or more gold sentences. pysbd is optional (`pip install -e '.[bench]'` or
`pip install pysbd`); without it its column is skipped. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from machine import cpu_model  # noqa: E402

from models.segment import split_sentences  # noqa: E402

STRICT_ENDS = tuple('.!?…»")')
_NONSPACE = re.compile(r"\S")

Splitter = Callable[[str], list[int]]
"""Paragraph → offsets where a sentence after the first one starts (first non-space char)."""


@dataclass(slots=True)
class Score:
    """Counts for one splitter over all paragraphs."""

    name: str
    predicted: int = 0
    correct: int = 0
    strict_gold: int = 0
    strict_found: int = 0
    merged_paragraphs: int = 0
    seconds: float = 0.0
    false_splits: list[tuple[str, int]] = field(default_factory=list)
    misses: list[tuple[str, int]] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def strict_recall(self) -> float:
        return self.strict_found / self.strict_gold if self.strict_gold else 1.0

    @property
    def strict_f1(self) -> float:
        p, r = self.precision, self.strict_recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _first_nonspace(text: str, pos: int) -> int:
    m = _NONSPACE.search(text, pos)
    return len(text) if m is None else m.start()


def bitext_splitter() -> Splitter:
    return lambda para: [s.start for s in split_sentences(para)[1:]]


def sentencex_splitter() -> Splitter:
    import sentencex

    def split(para: str) -> list[int]:
        bounds = sentencex.get_sentence_boundaries("fr", para)
        return [_first_nonspace(para, b["start_index"]) for b in bounds[1:]]

    return split


def pysbd_splitter() -> Splitter | None:
    try:
        import pysbd
    except ImportError:
        return None
    seg = pysbd.Segmenter(language="fr", clean=False)

    def split(para: str) -> list[int]:
        # pysbd returns strings; locate them in order (its own char_span search is unreliable).
        starts: list[int] = []
        pos = 0
        for piece in seg.segment(para):
            piece = piece.strip()
            if not piece:
                continue
            at = para.find(piece, pos)
            if at < 0:
                continue
            starts.append(at)
            pos = at + len(piece)
        return starts[1:]

    return split


def paragraphs(sentences: list[str], k: int) -> list[tuple[str, list[int], list[int]]]:
    """(paragraph, gold boundary offsets, strict gold offsets) for every K sentences."""
    out = []
    for i in range(0, len(sentences), k):
        group = sentences[i : i + k]
        text = " ".join(group)
        gold: list[int] = []
        strict: list[int] = []
        pos = 0
        for prev, _next in pairwise(group):
            pos += len(prev) + 1
            gold.append(pos)
            if prev.endswith(STRICT_ENDS):
                strict.append(pos)
        out.append((text, gold, strict))
    return out


def score(name: str, split: Splitter, paras: list[tuple[str, list[int], list[int]]]) -> Score:
    result = Score(name)
    t0 = time.perf_counter()
    predicted = [set(split(text)) for text, _, _ in paras]
    result.seconds = time.perf_counter() - t0
    for (text, gold, strict), pred in zip(paras, predicted, strict=True):
        gold_set = set(gold)
        result.predicted += len(pred)
        result.correct += len(pred & gold_set)
        result.strict_gold += len(strict)
        result.strict_found += len(pred & set(strict))
        result.false_splits += [(text, p) for p in sorted(pred - gold_set)]
        result.misses += [(text, g) for g in strict if g not in pred]
        cuts = [0, *sorted(pred), len(text) + 1]
        pieces = [(a, b) for a, b in pairwise(cuts) if sum(a < g < b for g in gold) >= 2]
        if pieces:
            result.merged_paragraphs += 1
            result.merged += [text[a:b] for a, b in pieces]
    return result


def table(scores: list[Score], n_paras: int) -> str:
    rows = [
        ("precision", lambda s: f"{s.precision:.4f}"),
        ("strict recall", lambda s: f"{s.strict_recall:.4f}"),
        ("strict F1", lambda s: f"{s.strict_f1:.4f}"),
        ("false splits", lambda s: str(s.predicted - s.correct)),
        ("recoverable misses", lambda s: str(s.strict_gold - s.strict_found)),
        (f"paragraphs with a 3+ sentence piece (of {n_paras})", lambda s: str(s.merged_paragraphs)),
        ("seconds", lambda s: f"{s.seconds:.2f}"),
    ]
    lines = ["| | " + " | ".join(s.name for s in scores) + " |", "|---" * (len(scores) + 1) + "|"]
    lines += ["| " + label + " | " + " | ".join(fmt(s) for s in scores) + " |" for label, fmt in rows]
    return "\n".join(lines)


def context(text: str, at: int, width: int = 70) -> str:
    return (text[max(0, at - width) : at] + " ‖ " + text[at : at + width]).replace("\n", " ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path, help="real sentences, one per line")
    parser.add_argument("--k", type=int, default=5, help="sentences per paragraph (default 5)")
    parser.add_argument("--show-errors", action="store_true", help="print bitext's false splits and misses")
    args = parser.parse_args()

    sentences = [line.strip() for line in args.path.read_text(encoding="utf-8").splitlines() if line.strip()]
    paras = paragraphs(sentences, args.k)
    splitters: list[tuple[str, Splitter]] = [("bitext", bitext_splitter()), ("sentencex", sentencex_splitter())]
    sbd = pysbd_splitter()
    if sbd is None:
        print("pysbd not installed: skipped (pip install pysbd, or pip install -e '.[bench]')\n")
    else:
        splitters.append(("pysbd", sbd))
    scores = [score(name, split, paras) for name, split in splitters]

    print(
        f"{args.path.name}: {len(sentences)} sentences, {len(paras)} paragraphs of {args.k}, "
        f"{scores[0].strict_gold} strict joins of {sum(len(g) for _, g, _ in paras)}"
    )
    print(f"CPU: {cpu_model()}\n")
    print(table(scores, len(paras)))
    if args.show_errors:
        mine = scores[0]
        print(f"\nbitext false splits ({len(mine.false_splits)}):")
        for text, at in mine.false_splits:
            print("  FS  " + context(text, at))
        print(f"\nbitext recoverable misses ({len(mine.misses)}):")
        for text, at in mine.misses:
            print("  MISS " + context(text, at))
        print(f"\nbitext pieces holding 3+ gold sentences ({len(mine.merged)}):")
        for piece in mine.merged:
            print("  MERGED " + piece)


if __name__ == "__main__":
    main()
