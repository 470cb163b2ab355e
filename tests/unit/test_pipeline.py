"""The pipeline with the fake engine: alignment, losslessness, dedup, windows, verbatim text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from models.document import BlockKind
from models.parse import parse
from models.pipeline import FLAG_KEPT_VERBATIM, FLAG_SPLIT_WINDOW, DocumentTooLarge, translate_document
from tests.support.fakes import FakeEngine


def test_every_sentence_is_translated_once_in_order(fake_engine: FakeEngine, article_text: str) -> None:
    document = parse(article_text)
    result = translate_document(document, fake_engine)
    assert len(result.blocks) == len(document.blocks)
    for block, source in zip(result.blocks, document.blocks, strict=True):
        assert block.fr == source.text
        assert (block.prefix, block.suffix, block.url) == (source.prefix, source.suffix, source.url)
        for sentence in block.sentences:
            assert block.fr[sentence.start : sentence.end] == sentence.fr
            if block.translated:
                assert sentence.en == f"EN<{sentence.fr}>"
    assert result.stats.sentences == sum(len(b.sentences) for b in result.blocks)


def test_block_english_keeps_the_source_whitespace_between_sentences(fake_engine: FakeEngine) -> None:
    text = "Première phrase.  Deuxième phrase !\nTroisième ?\n\nUn autre paragraphe."
    result = translate_document(parse(text, "text"), fake_engine)
    block = result.blocks[0]
    assert [s.fr for s in block.sentences] == ["Première phrase.", "Deuxième phrase !", "Troisième ?"]
    assert block.en == "EN<Première phrase.>  EN<Deuxième phrase !>\nEN<Troisième ?>"


def test_publisher_and_letterless_lines_are_kept_verbatim_and_flagged(fake_engine: FakeEngine) -> None:
    result = translate_document(parse("Le titre\nLe Journal de Montréal\nUn paragraphe.\n(...)\n", "text"), fake_engine)
    source, verbatim = result.blocks[1], result.blocks[3]
    assert (source.kind, source.translated, source.en) == (BlockKind.SOURCE, False, "Le Journal de Montréal")
    assert (verbatim.translated, verbatim.en) == (False, "(...)")
    assert all(FLAG_KEPT_VERBATIM in s.flags for s in source.sentences + verbatim.sentences)


def test_repeated_sentences_are_sent_to_the_engine_once(fake_engine: FakeEngine) -> None:
    text = "Abonnez-vous à notre lettre.\nUn texte.\nAbonnez-vous à notre lettre."
    translate_document(parse(text, "text"), fake_engine)
    sent = [s for call in fake_engine.calls for s in call]
    assert sorted(sent) == sorted(set(sent)) and len(sent) == 2


def test_sentence_longer_than_the_window_is_split_never_truncated() -> None:
    engine = FakeEngine(window=12)
    words = [f"mot{i}" for i in range(40)] + ["x" * 90]
    sentence = " ".join(words) + "."
    result = translate_document(parse(sentence, "text"), engine)
    (block,) = result.blocks
    (only,) = block.sentences
    assert FLAG_SPLIT_WINDOW in only.flags
    assert only.fr == sentence
    assert len(engine.calls[0]) > 1
    # every word reached the engine, in order, within windows that fit
    sent = " ".join(piece for call in engine.calls for piece in call)
    assert sent.split() == sentence.split()
    assert only.en.count("EN<") == len(engine.calls[0])


def test_too_many_sentences_is_refused_before_translating(fake_engine: FakeEngine) -> None:
    document = parse("Une. Deux. Trois. Quatre.", "text")
    try:
        translate_document(document, fake_engine, max_sentences=3)
    except DocumentTooLarge as error:
        assert (error.sentences, error.limit) == (4, 3)
    else:
        raise AssertionError("DocumentTooLarge not raised")
    assert fake_engine.calls == []


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcé .!?«»\n\n,M0-(")), max_size=300))
def test_response_has_one_block_per_parsed_block_and_one_translation_per_sentence(text: str) -> None:
    engine = FakeEngine()
    document = parse(text, "text")
    result = translate_document(document, engine)
    assert len(result.blocks) == len(document.blocks)
    for block in result.blocks:
        pieces = []
        cursor = 0
        for sentence in block.sentences:
            assert sentence.start >= cursor
            pieces += [block.fr[cursor : sentence.start], sentence.fr]
            cursor = sentence.end
        pieces.append(block.fr[cursor:])
        assert "".join(pieces) == block.fr
        translated = [s for s in block.sentences if FLAG_KEPT_VERBATIM not in s.flags]
        assert all(s.en == f"EN<{s.fr}>" for s in translated)
