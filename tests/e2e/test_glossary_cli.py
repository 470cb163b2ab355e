"""`bitext translate --repair --glossary FILE`: the same fidelity options as the API."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app


def test_an_unreadable_glossary_is_one_clear_error_before_any_model_loads(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Le Devoir publie.", encoding="utf-8")
    bad = tmp_path / "terms.json"
    bad.write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["translate", str(article), "--model", str(tmp_path / "no-model"), "--glossary", str(bad)]
    )
    assert result.exit_code == 2
    assert "terms.json" in result.output and "no-model" not in result.output


@pytest.mark.integration
def test_cli_applies_the_glossary_file_and_reports_flags(tmp_path: Path, tiny_checkpoint: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Le Devoir publie.\n\nLA HAUSSE ATTEINT 3,5 % EN 2024.", encoding="utf-8")
    terms = tmp_path / "terms.json"
    terms.write_text(json.dumps({"keep": ["Le Devoir"]}), encoding="utf-8")
    argv = [
        "translate",
        str(article),
        "--model",
        str(tiny_checkpoint),
        "--device",
        "cpu",
        "--num-beams",
        "1",
        "--glossary",
        str(terms),
    ]
    result = CliRunner().invoke(app, [*argv, "--repair"])
    assert result.exit_code == 0, result.output
    sentences = [s for block in json.loads(result.stdout)["blocks"] for s in block["sentences"]]
    assert len(sentences) == 2
    kept, shouted = sentences
    assert "Le Devoir" in kept["en"] or "glossary_lost" in kept["flags"]
    assert not re.search(r"QZ\s?\d", kept["en"], re.IGNORECASE)
    assert "caps_restored" in shouted["flags"] and shouted["en"] == shouted["en"].upper()
