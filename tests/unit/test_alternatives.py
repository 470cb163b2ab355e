"""Alternatives and scores on request: from the beam, through checks, glossary, caps, markup, cache and queue."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest

from models.beams import distinct_others, greedy_scores, returned_sequences, weighted_score
from models.cache import CachedEngine, MemoryLRU
from models.checks import FLAG_REPETITION
from models.document import Translation
from models.engine import PLAIN_CALL, CallControl, EngineTraits, GenerationOptions, max_new_tokens_for
from models.glossary import Terms
from models.marian import RowLengthLimit
from models.parse import parse
from models.pipeline import FLAG_KEPT_VERBATIM, FLAG_SPLIT_WINDOW, english_with, translate_document
from models.repair import FLAG_REPETITION_REPAIRED, Fidelity, translate_checked
from service.scheduler import Scheduler
from tests.support.fakes import FakeEngine, GatedEngine

SENTENCES = ["Le conseil municipal a adopté un budget.", "Il pleut.", "Grève nationale jeudi."]
WAIT = 10


# --- the helpers -------------------------------------------------------------------------------


def test_returned_sequences_stay_within_the_beam() -> None:
    assert returned_sequences(0, 4) == 1
    assert returned_sequences(2, 4) == 3
    assert returned_sequences(4, 4) == 4  # the chosen one and three others: a beam holds no more
    assert returned_sequences(3, 1) == 1  # greedy search has one output


def test_distinct_others_drop_repeats_and_the_chosen_text() -> None:
    others = distinct_others("The cat.", ["The  cat.", "A cat.", "A cat. ", "", "Cats.", "The cats."], 2)
    assert others == ("A cat.", "Cats.")


def test_options_refuse_an_impossible_number_of_alternatives() -> None:
    with pytest.raises(ValueError, match="alternatives"):
        GenerationOptions(alternatives=9)
    with pytest.raises(ValueError, match="alternatives"):
        GenerationOptions(alternatives=-1)


def test_windows_score_is_their_length_weighted_mean() -> None:
    assert weighted_score([-1.0, -4.0], [3, 1]) == pytest.approx(-1.75)
    assert weighted_score([-1.0, None], [3, 1]) is None


def test_wrappers_declare_their_engines_traits() -> None:
    class Own(FakeEngine):
        @property
        def traits(self) -> EngineTraits:
            return EngineTraits(window=self.window, default_beams=6)

    assert CachedEngine(Own(), MemoryLRU(10)).traits.default_beams == 6
    assert FakeEngine().traits.default_beams == 4  # an engine that does not say: opus-mt's


# --- the transformers engine on the tiny checkpoint -------------------------------------------


@pytest.mark.integration
def test_alternatives_are_distinct_bounded_and_leave_the_translation_alone(tiny_engine) -> None:
    plain = tiny_engine.translate(SENTENCES)
    asked = tiny_engine.translate(SENTENCES, GenerationOptions(alternatives=3))
    assert [t.text for t in asked] == [t.text for t in plain]
    assert all(t.alternatives == () and t.score is None for t in plain)
    assert any(t.alternatives for t in asked), "the tiny model's beam gave no other text at all"
    for result in asked:
        assert len(result.alternatives) <= 3
        assert len(set(result.alternatives)) == len(result.alternatives)
        assert result.text not in result.alternatives
        assert result.score is None  # not asked for


@pytest.mark.integration
def test_score_is_the_chosen_beams_sequences_score(tiny_engine) -> None:
    import torch
    from transformers import LogitsProcessorList

    [result] = tiny_engine.translate([SENTENCES[0]], GenerationOptions(alternatives=2, scores=True))
    model, tokenizer = tiny_engine._model, tiny_engine._tokenizer
    encoded = tokenizer([SENTENCES[0]], return_tensors="pt")
    bound = max_new_tokens_for(encoded["input_ids"].shape[1], tiny_engine.max_input_tokens)
    limit = RowLengthLimit([bound], model.generation_config.eos_token_id)
    with torch.inference_mode():
        out = model.generate(
            **encoded,
            num_beams=4,
            max_new_tokens=bound,
            logits_processor=LogitsProcessorList([limit]),
            output_scores=True,
            return_dict_in_generate=True,
        )
    assert result.text == tokenizer.decode(out.sequences[0], skip_special_tokens=True).strip()
    assert result.score is not None and math.isfinite(result.score) and result.score < 0
    assert result.score == pytest.approx(float(out.sequences_scores[0]), abs=1e-5)


@pytest.mark.integration
def test_greedy_has_a_score_and_no_alternatives(tiny_engine) -> None:
    results = tiny_engine.translate(SENTENCES, GenerationOptions(num_beams=1, alternatives=1, scores=True))
    for result in results:
        assert result.alternatives == ()
        assert result.score is not None and math.isfinite(result.score) and result.score < 0


@pytest.mark.integration
def test_greedy_score_counts_tokens_up_to_the_first_eos(tiny_engine) -> None:
    """Hand-made logits: the score is the mean log-probability of the tokens through EOS, padding left out."""
    import torch

    model = tiny_engine._model
    vocab = model.config.vocab_size
    eos, pad = model.generation_config.eos_token_id, model.config.pad_token_id
    token = 5
    sequences = torch.tensor([[pad, token, eos, pad]])  # decoder start, a token, EOS, padding
    steps = [torch.zeros(1, vocab), torch.zeros(1, vocab), torch.zeros(1, vocab)]
    steps[2][0, pad] = -30.0  # a very unlikely padding step: it must not count
    [score] = greedy_scores(model, sequences, steps, eos, 1.0)
    assert score == pytest.approx(-math.log(vocab), rel=1e-5)


# --- checks, glossary, caps, repairs --------------------------------------------------------------


def _scripted(text: str, alternatives: tuple[str, ...], score: float):
    def run(texts: Sequence[str], options: GenerationOptions) -> list[Translation]:
        return [Translation(text, 3, 4, alternatives=alternatives, score=score) for _ in texts]

    return run


def test_glossary_terms_come_back_in_alternatives_and_a_lost_term_drops_one() -> None:
    fidelity = Fidelity(terms=Terms.of({"CAC 40": "CAC 40 index"}))
    run = _scripted("QZ1 rises.", ("QZ1 goes up.", "It rises.", "qz 1 rises."), -0.3)
    [checked] = translate_checked(["Le CAC 40 monte."], run, GenerationOptions(alternatives=3), fidelity)
    assert checked.translation.text == "CAC 40 index rises."
    # "It rises." lost the term; "qz 1 rises." restores to the chosen text itself.
    assert checked.translation.alternatives == ("CAC 40 index goes up.",)
    assert checked.translation.score == -0.3


def test_capitals_go_back_on_alternatives_too() -> None:
    run = _scripted("The mayor resigns tonight.", ("The mayor quits tonight.", "the mayor RESIGNS tonight."), -0.5)
    [checked] = translate_checked(
        ["LE MAIRE DÉMISSIONNE CE SOIR"], run, GenerationOptions(alternatives=2), Fidelity(caps=True)
    )
    assert checked.translation.text == "THE MAYOR RESIGNS TONIGHT."
    assert checked.translation.alternatives == ("THE MAYOR QUITS TONIGHT.",)


def test_a_repaired_sentence_carries_the_alternatives_and_score_of_its_own_beam() -> None:
    def run(texts: Sequence[str], options: GenerationOptions) -> list[Translation]:
        if options.no_repeat_ngram_size:
            return [Translation("The council voted.", 3, 4, ("The council has voted.",), -0.4) for _ in texts]
        loop = "The council voted" + " of the city" * 8
        return [Translation(loop, 3, 30, ("A loop.",), -2.0) for _ in texts]

    options = GenerationOptions(alternatives=2, scores=True)
    [checked] = translate_checked(["Le conseil a voté."], run, options, Fidelity(repetition=True))
    assert FLAG_REPETITION not in checked.flags and FLAG_REPETITION_REPAIRED in checked.flags
    assert checked.translation.alternatives == ("The council has voted.",)
    assert checked.translation.score == -0.4


# --- the pipeline ---------------------------------------------------------------------------------


def test_sentences_carry_them_only_when_asked(fake_engine: FakeEngine) -> None:
    document = parse("Bonjour. Au revoir.\n\n2024", "text")
    plain = translate_document(document, fake_engine)
    asked = translate_document(document, fake_engine, GenerationOptions(alternatives=2, scores=True))
    for sentence in (s for block in plain.blocks for s in block.sentences):
        assert sentence.alternatives is None and sentence.score is None
    translated = [s for block in asked.blocks for s in block.sentences if FLAG_KEPT_VERBATIM not in s.flags]
    assert [s.alternatives for s in translated] == [
        ("EN2<Bonjour.>", "EN3<Bonjour.>"),
        ("EN2<Au revoir.>", "EN3<Au revoir.>"),
    ]
    assert [s.score for s in translated] == [-0.25, -0.25]
    [verbatim] = asked.blocks[1].sentences
    assert verbatim.alternatives is None and verbatim.score is None  # nothing was translated


def test_alternatives_of_a_sentence_with_markup_are_plain_text(fake_engine: FakeEngine) -> None:
    document = parse("Le **conseil** a voté `budget = 3`.", "markdown")
    result = translate_document(document, fake_engine, GenerationOptions(alternatives=1))
    [sentence] = result.blocks[0].sentences
    assert sentence.alternatives == ("EN2<Le conseil a voté budget = 3.>",)  # code back in, no ** or `


def test_a_sentence_cut_into_windows_has_a_score_and_no_alternatives() -> None:
    engine = FakeEngine(window=8)
    document = parse(" ".join(["mot"] * 20) + ".", "text")
    result = translate_document(document, engine, GenerationOptions(alternatives=2, scores=True))
    [sentence] = result.blocks[0].sentences
    assert FLAG_SPLIT_WINDOW in sentence.flags
    assert sentence.alternatives == () and sentence.score == pytest.approx(-0.25)


def test_english_with_rebuilds_each_block_as_translated(fake_engine: FakeEngine, article_text: str) -> None:
    result = translate_document(parse(article_text, "markdown"), fake_engine)
    for block in result.blocks:
        assert english_with(block, lambda sentence: sentence.en) == block.en


# --- cache and queue ------------------------------------------------------------------------------


def test_the_cache_never_answers_a_request_for_alternatives_with_an_entry_without_them() -> None:
    engine = FakeEngine()
    cached = CachedEngine(engine, MemoryLRU(100))
    assert cached.translate(["Bonjour."])[0].alternatives == ()
    [asked] = cached.translate(["Bonjour."], GenerationOptions(alternatives=1, scores=True))
    assert asked.alternatives == ("EN2<Bonjour.>",) and asked.score == -0.25
    assert len(engine.calls) == 2
    assert cached.translate(["Bonjour."], GenerationOptions(alternatives=1, scores=True)) == [asked]
    assert len(engine.calls) == 2  # the same request again is a hit, with its alternatives


def test_the_disk_cache_keeps_no_entry_it_could_not_give_back_whole(tmp_path: Path) -> None:
    from service.jobs.diskcache import SqliteCacheStore

    store = SqliteCacheStore(tmp_path / "cache.sqlite")
    store.put_many({"plain": Translation("Hi.", 1, 2), "extra": Translation("Hi.", 1, 2, ("Hello.",), -0.1)})
    assert set(store.get_many(["plain", "extra"])) == {"plain"}
    store.close()


class _Recording(GatedEngine):
    """Holds its first call until released; records the options of every call."""

    def __init__(self) -> None:
        super().__init__(first_only=True, guard=WAIT)
        self.options: list[GenerationOptions] = []

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        self.options.append(options)
        return super().translate(texts, options, control=control)


def test_the_scheduler_never_mixes_requests_with_and_without_alternatives() -> None:
    engine = _Recording()
    scheduler = Scheduler(engine, max_wait=0.0)
    scheduler.start()
    try:
        first = scheduler.submit(["Premier."])
        assert engine.entered.wait(WAIT)
        plain = scheduler.submit(["Un.", "Deux."])
        asked = scheduler.submit(["Trois."], GenerationOptions(alternatives=2))
        engine.release.set()
        first.result(WAIT)
        assert [t.alternatives for t in plain.result(WAIT)] == [(), ()]
        assert asked.result(WAIT)[0].alternatives == ("EN2<Trois.>", "EN3<Trois.>")
    finally:
        scheduler.close(timeout=WAIT)
    assert sorted(o.alternatives for o in engine.options) == [0, 0, 2]  # one call per kind of request
