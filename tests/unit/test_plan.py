"""One plan for every path: the JSON answer, the stream and the batch runner send the model the same texts."""

from __future__ import annotations

import zipfile
from pathlib import Path

from models.parse import parse
from models.pipeline import DocumentStream, translate_document, translate_request
from models.plan import plan
from models.request import TranslationRequest
from service.jobs.runner import BatchRun, RunSpec
from service.metrics import Metrics
from service.scheduler import CancelToken, Scheduler
from service.translation import streamed_blocks
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
    summary = BatchRun(RunSpec(archive, tmp_path / "out"), batched).run()
    assert summary.ok == 1

    assert _sent(answered) == _sent(streamed) == _sent(batched) == set(planned.texts())
    assert len(answered.calls) == 1  # the JSON answer: one call for every distinct text


def test_through_the_scheduler_the_json_answer_and_the_stream_send_the_same_texts_and_align_there() -> None:
    """The server's two ways (the JSON answer on a lane, the stream submitting its groups to the
    scheduler) send the model the plan's texts, and the markup's word alignment is scheduler work
    (counted in its metrics), for both."""
    document = parse(ARTICLE, "markdown")
    expected = set(plan(TranslationRequest(document), FakeEngine(window=24)).texts())
    sent: dict[str, set[str]] = {}
    blocks = {}
    for way in ("json", "stream"):
        engine, metrics = FakeEngine(window=24), Metrics()
        scheduler = Scheduler(engine, max_wait=0.0, metrics=metrics)
        scheduler.start()
        try:
            if way == "json":
                blocks[way] = translate_request(TranslationRequest(document), scheduler.lane()).blocks
            else:
                lane = scheduler.lane(cancel=CancelToken())
                stream = DocumentStream(TranslationRequest(document), lane)
                blocks[way] = tuple(streamed_blocks(stream, lane))
        finally:
            scheduler.close()
        sent[way] = _sent(engine)
        assert metrics.align_calls._value.get() >= 1  # the links and emphasis were placed by alignment
    assert sent["json"] == sent["stream"] == expected
    assert blocks["json"] == blocks["stream"]
