"""One plan for every path: the JSON answer, the stream and the batch runner send the model the same texts."""

from __future__ import annotations

import zipfile
from pathlib import Path

from models.parse import parse
from models.pipeline import DocumentStream, translate_document
from models.plan import plan
from models.request import TranslationRequest
from service.jobs.runner import BatchRun
from tests.support.fakes import FakeEngine

ARTICLE = (
    "# Le budget de la ville\n\n"
    "Le conseil municipal a voté **le budget** hier soir, après [un long débat](https://example.org/debat). "
    "Les élus ont parlé des écoles.\n\n"
    "Le conseil municipal a voté le budget hier soir.\n\n"
    "---\n\n"
    + "Une très longue phrase sans point qui continue encore et encore avec des mots "
    * 4
    + "et qui finit enfin ici.\n\n"
    "La piscine ouvrira en juin, a précisé `M. Dupont` au conseil."
)


def _sent(engine: FakeEngine) -> set[str]:
    return {text for call in engine.calls for text in call}


def test_the_json_answer_the_stream_and_the_batch_runner_send_the_same_texts(tmp_path: Path) -> None:
    document = parse(ARTICLE, "markdown")
    planned = plan(TranslationRequest(document), FakeEngine(window=24))
    assert len(planned.texts()) == len(set(planned.texts())) > 4  # each text once, the long one in windows

    answered = FakeEngine(window=24)
    translate_document(document, answered)

    streamed = FakeEngine(window=24)
    list(DocumentStream(TranslationRequest(document), streamed))

    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("article.md", ARTICLE)
    batched = FakeEngine(window=24)
    summary = BatchRun(archive, tmp_path / "out", batched).run()
    assert summary.ok == 1

    assert _sent(answered) == _sent(streamed) == _sent(batched) == set(planned.texts())
    assert len(answered.calls) == 1  # the JSON answer: one call for every distinct text
