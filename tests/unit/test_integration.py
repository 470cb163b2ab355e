"""The real MarianEngine path on a tiny random-weight checkpoint: loading, batching, CLI, server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from models.engine import EngineSpec, GenerationOptions
from models.factory import load_engine
from models.loading import ModelLoadError
from models.marian import MarianEngine
from tests.support.live import BITEXT, LiveServer, cli_env

pytestmark = pytest.mark.integration


def test_engine_reports_what_it_runs(tiny_engine: MarianEngine, tiny_checkpoint: Path) -> None:
    info = tiny_engine.info
    assert (info.name, info.engine, info.device, info.dtype) == (tiny_checkpoint.name, "transformers", "cpu", "float32")
    assert tiny_engine.max_input_tokens == 512


def test_batched_translation_keeps_input_order(tiny_engine: MarianEngine) -> None:
    texts = [
        "Bonjour.",
        "Le conseil municipal de Lyon a adopté mardi soir un budget de 1,2 milliard d'euros.",
        "Merci.",
    ]
    greedy = GenerationOptions(num_beams=1)
    one_by_one = [tiny_engine.translate([text], greedy)[0] for text in texts]
    together = tiny_engine.translate(texts, greedy)
    assert [t.source_tokens for t in together] == [t.source_tokens for t in one_by_one]
    assert [t.text for t in together] == [t.text for t in one_by_one]


def test_output_length_is_bounded_by_the_input(tiny_engine: MarianEngine) -> None:
    (short,) = tiny_engine.translate(["Oui."])
    assert short.output_tokens <= short.source_tokens * 1.5 + 10


def test_exact_length_generates_the_bound(tiny_engine: MarianEngine) -> None:
    (result,) = tiny_engine.translate(
        ["Le président recevra les chefs de parti."], GenerationOptions(num_beams=1, exact_length=True)
    )
    assert result.output_tokens >= int(result.source_tokens * 1.5 + 10) - 1


def test_int8_and_bf16_cpu_options_load_and_report(tiny_checkpoint: Path) -> None:
    for dtype in ("int8", "bfloat16"):
        engine = load_engine(EngineSpec(str(tiny_checkpoint), device="cpu", dtype=dtype))
        assert engine.info.dtype == dtype
        assert len(engine.translate(["Bonjour à tous.", "Merci."], GenerationOptions(num_beams=1))) == 2


def test_missing_directory_and_non_marian_checkpoint_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="does not exist.*--model DIR"):
        load_engine(EngineSpec(str(tmp_path / "absent")))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ModelLoadError, match="not a Marian one"):
        load_engine(EngineSpec(str(tmp_path)))


def test_cli_translate_article(tiny_checkpoint: Path, article_text: str, tmp_path: Path) -> None:
    source = tmp_path / "article.md"
    source.write_text(article_text, encoding="utf-8")
    run = subprocess.run(
        [*BITEXT, "translate", str(source), "--model", str(tiny_checkpoint)],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    lines = article_text.strip().splitlines()
    assert len(data["blocks"]) == len(lines)
    assert data["blocks"][0]["url"] == "https://images.example.org/lyon/budget-2025.jpg?w=1200&h=494&crop=1"
    for block, line in zip(data["blocks"], lines, strict=True):
        assert block["prefix"] + block["fr"] + block["suffix"] == line
        cursor, rebuilt = 0, []
        for sentence in block["sentences"]:
            rebuilt += [block["fr"][cursor : sentence["start"]], sentence["fr"]]
            cursor = sentence["end"]
        assert "".join(rebuilt) + block["fr"][cursor:] == block["fr"]
        for sentence in block["sentences"]:
            assert not sentence["fr"].endswith(("M.", "Mme")), sentence["fr"]


def test_cli_without_model_or_network_exits_with_one_clear_message(tmp_path: Path) -> None:
    env = cli_env(HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    run = subprocess.run(
        [*BITEXT, "serve", "--model", "Helsinki-NLP/opus-mt-fr-en", "--port", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "Helsinki-NLP/opus-mt-fr-en" in run.stderr and "--model DIR" in run.stderr and "download-model" in run.stderr
    run = subprocess.run(
        [*BITEXT, "translate", "-", "--model", str(tmp_path / "nowhere")],
        input="Bonjour.",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 2 and "does not exist" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.slow
def test_served_article_matches_the_cli(tiny_checkpoint: Path, article_text: str, tmp_path: Path) -> None:
    with LiveServer(tiny_checkpoint, tmp_path / "serve.log") as server:
        response = httpx.post(
            f"{server.url}/v1/translate",
            content=article_text.encode(),
            headers={"Content-Type": "text/plain"},
            timeout=120,
        )
        assert response.status_code == 200
        served = response.json()
    source = tmp_path / "article.md"
    source.write_text(article_text, encoding="utf-8")
    cli = json.loads(
        subprocess.run(
            [*BITEXT, "translate", str(source), "--model", str(tiny_checkpoint)],
            capture_output=True,
            text=True,
            env=cli_env(),
            check=True,
            timeout=180,
        ).stdout
    )
    assert served["blocks"] == cli["blocks"]


def test_no_response_names_where_the_model_lives_on_disk(tiny_checkpoint: Path) -> None:
    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.settings import Settings

    assert tiny_checkpoint.is_absolute() and str(tiny_checkpoint.parent) != "/"
    settings = Settings(model=str(tiny_checkpoint), device="cpu", warmup=False, batching=False)
    with TestClient(create_app(settings)) as client:
        ready = client.get("/health/ready")
        translated = client.post("/v1/translate", json={"text": "Bonjour.", "format": "text"})
    assert ready.status_code == 200 and translated.status_code == 200, (ready.text, translated.text)
    for response in (ready, translated):
        assert str(tiny_checkpoint.parent) not in response.text
        assert json.dumps(str(tiny_checkpoint))[1:-1] not in response.text
    assert ready.json()["model"]["name"] == tiny_checkpoint.name == translated.json()["model"]["name"]
    assert "/" not in ready.json()["model"]["name"]
