"""The CTranslate2 engine on the tiny checkpoint: conversion once, same results shape, same bounds."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from models.document import Translation
from models.engine import GenerationOptions, max_new_tokens_for
from models.loading import ModelLoadError
from models.parse import parse
from models.pipeline import translate_document

ctranslate2 = pytest.importorskip("ctranslate2")

pytestmark = pytest.mark.integration

SENTENCES = [
    "Le conseil municipal de Lyon a adopté mardi soir un budget de 1,2 milliard d'euros.",
    "Il pleut.",
    "Grève nationale jeudi.",
]


@pytest.fixture(scope="module")
def ct2_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ct2-cache")


@pytest.fixture(scope="module")
def ct2_engine(tiny_checkpoint: Path, ct2_cache: Path):
    from models.engine import EngineSpec
    from models.factory import load_engine

    return load_engine(EngineSpec(str(tiny_checkpoint), kind="ct2", device="cpu", dtype="float32", cache_dir=ct2_cache))


def test_conversion_happens_once_and_is_reused(tiny_checkpoint: Path, ct2_cache: Path, ct2_engine) -> None:
    from models.ct2 import converted_dir

    model_bin = ct2_engine.model_dir / "model.bin"
    before = model_bin.stat().st_mtime_ns
    assert converted_dir(str(tiny_checkpoint), "float32", ct2_cache) == ct2_engine.model_dir
    assert model_bin.stat().st_mtime_ns == before
    assert [p.name for p in ct2_cache.iterdir() if p.name.startswith(".")] == []  # no staging left behind
    int8 = converted_dir(str(tiny_checkpoint), "int8", ct2_cache)
    assert int8 != ct2_engine.model_dir and (int8 / "model.bin").is_file()


def test_reports_itself_and_counts_tokens_like_transformers(ct2_engine, tiny_engine) -> None:
    assert (ct2_engine.info.engine, ct2_engine.info.device, ct2_engine.info.dtype) == ("ctranslate2", "cpu", "float32")
    assert ct2_engine.max_input_tokens == tiny_engine.max_input_tokens
    assert ct2_engine.count_tokens(SENTENCES) == tiny_engine.count_tokens(SENTENCES)


def test_greedy_float32_output_matches_transformers(ct2_engine, tiny_engine) -> None:
    """The converted model is the same model: same tokens at fp32 greedy, each sentence alone."""
    options = GenerationOptions(num_beams=1)
    for sentence in SENTENCES:
        assert ct2_engine.translate([sentence], options) == tiny_engine.translate([sentence], options)


def test_exact_length_gives_each_sentence_its_own_bound(ct2_engine) -> None:
    out = ct2_engine.translate(SENTENCES, GenerationOptions(num_beams=2, exact_length=True))
    assert all(isinstance(t, Translation) for t in out)
    bounds = [max_new_tokens_for(t.source_tokens, ct2_engine.max_input_tokens) - 1 for t in out]
    assert [t.output_tokens for t in out] == bounds
    assert len(set(bounds)) == 3  # one batch, three different lengths


def test_a_sentence_does_not_depend_on_its_batch(ct2_engine) -> None:
    options = GenerationOptions(num_beams=1)
    together = ct2_engine.translate(SENTENCES, options)
    assert [ct2_engine.translate([s], options)[0] for s in SENTENCES] == together


def test_document_json_shape_is_the_same_as_with_transformers(ct2_engine, tiny_engine, article_text: str) -> None:
    document = parse(article_text)
    a = translate_document(document, ct2_engine, GenerationOptions(num_beams=1))
    b = translate_document(document, tiny_engine, GenerationOptions(num_beams=1))
    assert [(x.kind, x.fr, [s.fr for s in x.sentences]) for x in a.blocks] == [
        (x.kind, x.fr, [s.fr for s in x.sentences]) for x in b.blocks
    ]
    assert a.stats.sentences == b.stats.sentences and a.stats.source_tokens == b.stats.source_tokens


def test_too_long_input_is_refused_not_truncated(ct2_engine) -> None:
    with pytest.raises(ValueError, match="exceeds the model window"):
        ct2_engine.translate(["mot " * 2000])


def test_unknown_compute_type_and_missing_model_are_clear_errors(tmp_path: Path) -> None:
    from models.ct2 import resolve_compute_type
    from models.engine import EngineSpec
    from models.factory import load_engine

    assert resolve_compute_type("auto", "cpu") == "int8"
    assert resolve_compute_type("auto", "cuda") == "float16"
    with pytest.raises(ModelLoadError, match="does not offer 'bfloat16' on cpu"):
        resolve_compute_type("bfloat16", "cpu")
    with pytest.raises(ModelLoadError, match="not a model directory"):
        load_engine(EngineSpec(str(tmp_path), kind="ct2", device="cpu", cache_dir=tmp_path / "cache"))


def test_cli_engine_ct2_gives_the_same_json_shape(
    tiny_checkpoint: Path, ct2_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from typer.testing import CliRunner

    from service import cli

    monkeypatch.setenv("BITEXT_CT2_CACHE_DIR", str(ct2_cache))
    source = tmp_path / "article.txt"
    source.write_text("Le budget est voté. Il pleut sur Lyon.\n\nGrève nationale jeudi.", encoding="utf-8")
    outputs = {}
    for engine in ("ct2", "transformers"):
        result = CliRunner().invoke(
            cli.app, ["translate", str(source), "--model", str(tiny_checkpoint), "--engine", engine, "--num-beams", "1"]
        )
        assert result.exit_code == 0, result.output
        outputs[engine] = json.loads(result.stdout)
    ct2, hf = outputs["ct2"], outputs["transformers"]
    assert ct2["model"]["engine"] == "ctranslate2" and ct2["model"]["dtype"] == "int8"
    assert hf["model"]["engine"] == "transformers"

    def shape(value: object) -> object:
        if isinstance(value, dict):
            return {key: shape(item) for key, item in value.items() if key not in ("en", "seconds")}
        if isinstance(value, list):
            return [shape(item) for item in value]
        return type(value).__name__

    assert shape(ct2) == shape(hf)


def test_alternatives_and_scores_as_with_transformers(ct2_engine) -> None:
    plain = ct2_engine.translate(SENTENCES)
    asked = ct2_engine.translate(SENTENCES, GenerationOptions(alternatives=3, scores=True))
    assert [t.text for t in asked] == [t.text for t in plain]
    assert all(t.alternatives == () and t.score is None for t in plain)
    assert any(t.alternatives for t in asked)
    for result in asked:
        assert len(result.alternatives) <= 3 and len(set(result.alternatives)) == len(result.alternatives)
        assert result.text not in result.alternatives
        assert result.score is not None and math.isfinite(result.score) and result.score < 0
    greedy = ct2_engine.translate(SENTENCES, GenerationOptions(num_beams=1, alternatives=1, scores=True))
    assert all(t.alternatives == () and t.score is not None and t.score < 0 for t in greedy)
