"""The benchmark's inputs: the French corpus we ship, and a full-size random-weight checkpoint.

The checkpoint has the published opus-mt-fr-en shape, so compute per token is the real model's;
it is built once and cached under bench/.cache/ (gitignored).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
CACHE = HERE / ".cache"
OPUS_PARAMS = 75_000_000  # the published model's size, rounded; the build is checked against it


@dataclass(frozen=True, slots=True)
class Workload:
    paragraphs: list[str]
    sentences: list[str]  # every paragraph's sentences, in order, as the pipeline cuts them


def load_workload(limit_sentences: int | None = None) -> Workload:
    """Paragraphs of the shipped corpus; with a limit, the first paragraphs holding that many sentences."""
    from models.segment import split_sentences

    text = (CORPUS / "fr.txt").read_text(encoding="utf-8")
    paragraphs: list[str] = []
    sentences: list[str] = []
    for paragraph in (p.strip() for p in text.split("\n\n")):
        if not paragraph:
            continue
        if limit_sentences is not None and len(sentences) >= limit_sentences:
            break
        paragraphs.append(paragraph)
        sentences += [paragraph[s.start : s.end] for s in split_sentences(paragraph)]
    return Workload(paragraphs, sentences)


def full_size_checkpoint() -> Path:
    """The opus-mt-fr-en-shaped checkpoint, built on first use (about a minute)."""
    from models.synthetic import OPUS_MT_FR_EN, build_marian_checkpoint

    target = CACHE / "opus-mt-fr-en-random"
    if not (target / "model.safetensors").is_file():
        french_lines = [line for line in (CORPUS / "fr.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
        english_lines = [line for line in (CORPUS / "en.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
        build_marian_checkpoint(target, french_lines, english_lines, OPUS_MT_FR_EN)
    return target


def parameter_count(checkpoint: Path) -> int:
    """Distinct parameters (tied embeddings counted once), read from the safetensors header."""
    from safetensors import safe_open

    total = 0
    with safe_open(str(checkpoint / "model.safetensors"), framework="pt") as handle:
        for name in handle.keys():
            total += math.prod(handle.get_slice(name).get_shape())
    return total
