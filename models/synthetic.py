"""Build random-weight Marian checkpoints with real sentencepiece tokenizers.

Model weights cannot be downloaded in every environment bitext is developed and tested in, yet
the loading, tokenizing and generation code must be exercised for real. A checkpoint built here
has the same files as a hub Marian model (`config.json`, `model.safetensors`, `source.spm`,
`target.spm`, `vocab.json`, …) and goes through exactly the same `MarianEngine` path. With
`OPUS_MT_FR_EN` dimensions its compute per token equals the real opus-mt-fr-en's, which is what
the benchmarks need; the translations themselves are noise.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class MarianDims:
    vocab_size: int
    d_model: int
    layers: int
    heads: int
    ffn: int
    spm_vocab: int


TINY = MarianDims(vocab_size=0, d_model=32, layers=1, heads=2, ffn=64, spm_vocab=300)
"""vocab_size 0 means: exactly the pieces the tokenizers learned."""

OPUS_MT_FR_EN = MarianDims(vocab_size=59514, d_model=512, layers=6, heads=8, ffn=2048, spm_vocab=4000)
"""The published Helsinki-NLP/opus-mt-fr-en shape: 75M parameters."""


def _train_spm(lines: list[str], prefix: Path, vocab_size: int) -> Path:
    import sentencepiece as spm

    with open(os.devnull, "w") as devnull:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines),
            model_prefix=str(prefix),
            vocab_size=vocab_size,
            hard_vocab_limit=False,  # small corpora cannot fill a big vocabulary
            model_type="unigram",
            character_coverage=1.0,
            bos_id=-1,
            eos_id=-1,
            pad_id=-1,
            unk_id=0,
            logstream=devnull,
        )
    model = prefix.with_suffix(".spm")
    prefix.with_suffix(".model").replace(model)
    prefix.with_suffix(".vocab").unlink()
    return model


def _shared_vocab(spm_files: Iterable[Path], size: int) -> dict[str, int]:
    """Marian's joint vocabulary: `</s>`=0, `<unk>`=1, pieces of both sides, `<pad>` last."""
    import sentencepiece as spm

    vocab: dict[str, int] = {"</s>": 0, "<unk>": 1}
    for path in spm_files:
        processor = spm.SentencePieceProcessor(model_file=str(path))
        for piece_id in range(processor.get_piece_size()):
            vocab.setdefault(processor.id_to_piece(piece_id), len(vocab))
    wanted = size or len(vocab) + 1
    if len(vocab) + 1 > wanted:
        raise ValueError(f"tokenizers learned {len(vocab)} pieces, more than vocab_size {size}")
    filler = 0
    while len(vocab) < wanted - 1:  # unused rows, so the embedding has the real model's shape
        vocab[f"<unused{filler}>"] = len(vocab)
        filler += 1
    vocab["<pad>"] = len(vocab)
    return vocab


def build_marian_checkpoint(
    out_dir: Path,
    french: list[str],
    english: list[str],
    dims: MarianDims = TINY,
    seed: int = 0,
) -> Path:
    """Write a loadable random-weight Marian fr→en checkpoint to `out_dir` and return it."""
    import torch
    from transformers import GenerationConfig, MarianConfig, MarianMTModel, MarianTokenizer

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        source = _train_spm(french, Path(tmp) / "source", dims.spm_vocab)
        target = _train_spm(english, Path(tmp) / "target", dims.spm_vocab)
        vocab = _shared_vocab([source, target], dims.vocab_size)
        vocab_file = Path(tmp) / "vocab.json"
        vocab_file.write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        tokenizer = MarianTokenizer(
            source_spm=str(source),
            target_spm=str(target),
            vocab=str(vocab_file),
            source_lang="fr",
            target_lang="en",
            model_max_length=512,
        )
        tokenizer.save_pretrained(out_dir)

    pad = vocab["<pad>"]
    # As the published opus-mt configs have it; not a named MarianConfig argument, so kept as an attribute.
    published: dict[str, Any] = {"static_position_embeddings": True}
    config = MarianConfig(
        vocab_size=len(vocab),
        decoder_vocab_size=len(vocab),
        d_model=dims.d_model,
        encoder_layers=dims.layers,
        decoder_layers=dims.layers,
        encoder_attention_heads=dims.heads,
        decoder_attention_heads=dims.heads,
        encoder_ffn_dim=dims.ffn,
        decoder_ffn_dim=dims.ffn,
        activation_function="swish",
        max_position_embeddings=512,
        scale_embedding=True,
        share_encoder_decoder_embeddings=True,
        pad_token_id=pad,
        eos_token_id=0,
        decoder_start_token_id=pad,
        forced_eos_token_id=0,
        **published,
    )
    torch.manual_seed(seed)
    model = MarianMTModel(config)
    # The same generation settings as the published opus-mt models.
    model.generation_config = GenerationConfig(
        num_beams=4,
        max_length=512,
        bad_words_ids=[[pad]],
        pad_token_id=pad,
        eos_token_id=0,
        forced_eos_token_id=0,
        decoder_start_token_id=pad,
    )
    model.save_pretrained(out_dir)
    return out_dir
