"""The translation memory's pure part: normalising, placeables, fuzzy scores, tiers, and the plan's hook."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pytest

from models.document import EnglishSource
from models.memory import (
    MemoryMode,
    MemoryUse,
    Query,
    Tier,
    Unit,
    UnitIndex,
    lookup,
    normalise,
    score,
    skeleton,
    swap,
)
from models.parse import parse
from models.pipeline import translate_request
from models.plan import plan
from models.request import TranslationRequest
from tests.support.fakes import FakeEngine
from tests.support.timing import assert_doubling_is_linear


def test_normalising_folds_spaces_quotes_and_case() -> None:
    a = normalise("« Le\u00a0Chat »  l’a vu\tpartir ?")
    b = normalise('"le chat" l\'a vu partir?')
    assert a == b == '"le chat" l\'a vu partir?'
    assert normalise(a) == a
    assert normalise("Le chat") != normalise("Le chien")


def test_skeleton_hides_numbers_and_dates_only() -> None:
    one = skeleton(normalise("Le 12 mars 2024, le taux était de 3,5 % pour 1 200 foyers."))
    two = skeleton(normalise("Le 1er avril 2025, le taux était de 7 % pour 30 foyers."))
    assert one == two
    assert skeleton(normalise("Le taux était de 3,5 %.")) != skeleton(normalise("Le prix était de 3,5 %."))


@pytest.mark.parametrize(
    ("unit_fr", "unit_en", "fr", "expected"),
    [
        ("Le taux est de 3,5 %.", "The rate is 3.5%.", "Le taux est de 4,25 %.", "The rate is 4.25%."),
        (
            "Il y a 1 200 foyers.",
            "There are 1,200 households.",
            "Il y a 35 000 foyers.",
            "There are 35,000 households.",
        ),
        (
            "Le 12 mars 2024, il pleuvait.",
            "On March 12, 2024, it was raining.",
            "Le 1er avril 2025, il pleuvait.",
            "On April 1, 2025, it was raining.",
        ),
        (
            "Le 12 mars 2024, il pleuvait.",
            "On 12 March 2024 it rained.",
            "Le 3 mai 2024, il pleuvait.",
            "On 3 May 2024 it rained.",
        ),
        ("Entre 3 et 5 élèves.", "Between 3 and 5 pupils.", "Entre 7 et 9 élèves.", "Between 7 and 9 pupils."),
    ],
)
def test_placeables_are_swapped_into_the_english_the_english_way(
    unit_fr: str, unit_en: str, fr: str, expected: str
) -> None:
    assert swap(normalise(unit_fr), unit_en, normalise(fr)) == expected


def test_a_placeable_the_english_does_not_show_gives_no_swap() -> None:
    # The English spells the number out: nowhere to put the new one, so no swap (never half-swapped).
    assert swap(normalise("Il a 3 enfants."), "He has three children.", normalise("Il a 4 enfants.")) is None
    # The same value twice in the French: which English one is which is unknown.
    assert swap(normalise("De 3 à 3 ans."), "From 3 to 3 years.", normalise("De 3 à 4 ans.")) is None
    # The year changed, the English does not write it.
    assert swap(normalise("Le 12 mars 2024."), "On March 12.", normalise("Le 12 mars 2025.")) is None


def test_fuzzy_score_is_token_edit_distance_as_a_percentage() -> None:
    assert score("le chat dort .", "le chat dort .") == 100
    assert score("le chat dort sur le canapé .", "le chien dort sur le canapé .") == 85  # 1 edit in 7 tokens
    assert score("a b c d", "w x y z") == 0


def _use(units: Sequence[Unit], mode: MemoryMode = MemoryMode.SUGGEST, threshold: int = 75) -> MemoryUse:
    return MemoryUse(UnitIndex(units), mode, threshold)


def test_each_tier_in_order_of_preference() -> None:
    units = [
        Unit("Le chat dort.", "The cat sleeps.", previous="Il fait nuit.", next="Fin."),
        Unit("Le chat dort.", "The cat is asleep."),
        Unit("Il a 3 enfants.", "He has 3 children."),
        Unit("Le maire a présenté le budget de la ville hier soir.", "The mayor presented the city budget last night."),
    ]
    queries = [
        Query("Le chat dort.", "Il fait nuit.", "Fin."),
        Query("le  CHAT dort.", "Autre chose.", ""),
        Query("Il a 5 enfants."),
        Query("Le maire a présenté le budget de la région hier soir."),
        Query("Rien à voir avec tout cela."),
    ]
    got = lookup(_use(units), queries)
    assert [m.tier if m else None for m in got] == [Tier.CONTEXT, Tier.EXACT, Tier.PLACEABLES, Tier.FUZZY, None]
    assert got[0] and got[0].english == "The cat sleeps."
    assert got[1] and got[1].english == "The cat is asleep."
    assert got[2] and got[2].english == "He has 5 children."
    assert got[3] and got[3].percent == 91 and got[3].english == "The mayor presented the city budget last night."


def test_the_fuzzy_threshold_is_respected() -> None:
    units = [Unit("Le maire a présenté le budget de la ville hier soir.", "The mayor presented the budget.")]
    query = [Query("Le maire a présenté le budget de la région ce matin tôt.")]  # 4 edits in 13 tokens: 69 %
    assert lookup(_use(units, threshold=75), query) == [None]
    found = lookup(_use(units, threshold=65), query)[0]
    assert found is not None and found.tier is Tier.FUZZY and found.percent == 69


def test_a_newer_unit_for_the_same_sentence_wins() -> None:
    index = UnitIndex([Unit("Le chat dort.", "Old.")])
    index.add(Unit("Le chat dort.", "New."))
    got = lookup(MemoryUse(index), [Query("Le chat dort.")])[0]
    assert got is not None and got.english == "New."


class CountingIndex(UnitIndex):
    """Counts the calls lookup makes: one per plan for each kind, whatever the number of sentences."""

    def __init__(self, units: Sequence[Unit]) -> None:
        super().__init__(units)
        self.calls: list[str] = []

    def same_skeleton(self, skeletons: Sequence[str]) -> Mapping[str, Sequence[Unit]]:
        self.calls.append("skeleton")
        return super().same_skeleton(skeletons)

    def similar(self, normalised: Sequence[str], limit: int) -> Mapping[str, Sequence[Unit]]:
        self.calls.append("similar")
        return super().similar(normalised, limit)


ARTICLE = (
    "Le chat dort. Il a 5 enfants. Une phrase nouvelle arrive ici.\n\n"
    "Le maire a présenté le budget de la région hier soir."
)
UNITS = [
    Unit("Le chat dort.", "The cat sleeps."),
    Unit("Il a 3 enfants.", "He has 3 children."),
    Unit("Le maire a présenté le budget de la ville hier soir.", "The mayor presented the city budget last night."),
]


def test_answered_sentences_are_not_sent_to_the_model_and_say_where_their_english_came_from() -> None:
    index = CountingIndex(UNITS)
    engine = FakeEngine()
    request = TranslationRequest(parse(ARTICLE, "text"), memory=MemoryUse(index))
    document = translate_request(request, engine)
    assert index.calls == ["skeleton", "similar"]  # one lookup of each kind for the whole document
    sent = [text for call in engine.calls for text in call]
    assert sent == ["Une phrase nouvelle arrive ici.", "Le maire a présenté le budget de la région hier soir."]
    sentences = [s for block in document.blocks for s in block.sentences]
    assert [s.source for s in sentences] == [
        EnglishSource.MEMORY_EXACT,
        EnglishSource.MEMORY_PLACEABLES,
        EnglishSource.MODEL,
        EnglishSource.MODEL,
    ]
    assert [s.en for s in sentences[:2]] == ["The cat sleeps.", "He has 5 children."]
    assert [s.match for s in sentences] == [100, 100, None, None]
    assert document.blocks[0].en == "The cat sleeps. He has 5 children. EN<Une phrase nouvelle arrive ici.>"
    fuzzy = sentences[3].suggestion
    assert fuzzy is not None and fuzzy.match == 91 and fuzzy.en == UNITS[2].english
    assert sentences[3].en.startswith("EN<")


def test_apply_mode_lets_fuzzy_matches_answer_and_off_ignores_the_memory() -> None:
    engine = FakeEngine()
    request = TranslationRequest(parse(ARTICLE, "text"), memory=MemoryUse(UnitIndex(UNITS), MemoryMode.APPLY))
    document = translate_request(request, engine)
    assert [t for call in engine.calls for t in call] == ["Une phrase nouvelle arrive ici."]
    last = document.blocks[1].sentences[0]
    assert last.source is EnglishSource.MEMORY_FUZZY and last.match == 91 and last.en == UNITS[2].english

    off = TranslationRequest(parse(ARTICLE, "text"), memory=MemoryUse(CountingIndex(UNITS), MemoryMode.OFF))
    planned = plan(off, FakeEngine())
    assert len(planned.texts()) == 4 and not planned.memory
    assert off.memory.index is not None and off.memory.index.calls == []  # type: ignore[attr-defined]


def test_context_matches_use_the_neighbouring_sentences_of_the_document() -> None:
    units = [
        Unit("Il dort.", "He is asleep.", previous="Le chat rentre.", next="Fin."),
        Unit("Il dort.", "It sleeps."),
    ]
    document = translate_request(
        TranslationRequest(parse("Le chat rentre. Il dort. Fin.", "text"), memory=MemoryUse(UnitIndex(units))),
        FakeEngine(),
    )
    middle = document.blocks[0].sentences[1]
    assert middle.source is EnglishSource.MEMORY_CONTEXT and middle.en == "He is asleep."


def test_markup_is_placed_around_a_remembered_english() -> None:
    units = [Unit("Le chat dort bien.", "The cat sleeps well.")]
    request = TranslationRequest(parse("Le **chat** dort bien.", "markdown"), memory=MemoryUse(UnitIndex(units)))
    engine = FakeEngine()
    document = translate_request(request, engine)
    assert engine.calls == []
    sentence = document.blocks[0].sentences[0]
    assert sentence.source is EnglishSource.MEMORY_EXACT
    assert "**" in sentence.en and sentence.en.replace("**", "") == "The cat sleeps well."


def test_kept_sentences_say_so() -> None:
    document = translate_request(TranslationRequest(parse("12 345\n\nLe chat.", "text")), FakeEngine())
    assert document.blocks[0].sentences[0].source is EnglishSource.KEPT
    assert document.blocks[1].sentences[0].source is EnglishSource.MODEL


def test_the_whole_answer_and_the_stream_send_the_same_texts_and_agree_with_a_memory() -> None:
    from models.pipeline import DocumentStream

    text = "\n\n".join([ARTICLE, "Le chat dort.", "Autre paragraphe ici. Il a 9 enfants."])
    whole, streamed = FakeEngine(), FakeEngine()
    request = TranslationRequest(parse(text, "text"), memory=MemoryUse(UnitIndex(UNITS)))
    document = translate_request(request, whole)
    blocks = list(DocumentStream(request, streamed))
    assert sorted(t for call in whole.calls for t in call) == sorted(t for call in streamed.calls for t in call)
    assert [b.en for b in blocks] == [b.en for b in document.blocks]
    assert [s.source for b in blocks for s in b.sentences] == [s.source for b in document.blocks for s in b.sentences]
    assert "Le chat dort." not in [t for call in streamed.calls for t in call]


@pytest.mark.parametrize("shape", [" ", " \u00a0", "« ", " »", "1 ", "12 mars "])
def test_normalising_and_placeables_are_linear_in_long_runs(shape: str) -> None:
    """A 200,000-character run of spaces (a markdown heading padded to the body limit) once took the
    memory's normalising quadratic time before any model call: the request hung past its deadline."""
    from models.memory.placeables import skeleton

    def make(n: int) -> Callable[[], object]:
        text = "# a" + shape * (n // len(shape)) + "b"
        return lambda: (normalise(text), skeleton(text))

    assert_doubling_is_linear(make, 20_000)
