"""SRT and WebVTT in, the same subtitles out: timings byte for byte, one block per cue, sentences split over cues."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from models.document import Translation
from models.engine import PLAIN_CALL, CallControl, GenerationOptions
from models.pipeline import translate_document
from service import formats
from service.formats.subtitles import FLAG_SPLIT_ACROSS_CUES
from service.formats.textsplit import split_proportionally
from service.schemas import TranslateResponse
from tests.support.fakes import FakeEngine

SRT = (
    "1\n00:00:01,000 --> 00:00:03,500\nBonjour à tous.\n\n"
    "2\n00:00:04,000 --> 00:00:06,000\nLe conseil municipal a voté\n\n"
    "3\n00:00:06,100 --> 00:00:09,000\nla nouvelle mesure <i>hier soir</i>.\n\n"
    "4\n00:00:10,000 --> 00:00:12,000\n- Vraiment ?\n- Oui, à l'unanimité !\n"
)
VTT = (
    "WEBVTT - réunion\n\nNOTE une note qui reste telle quelle\n\n"
    "intro\n00:01.000 --> 00:03.500 align:start position:10%\nBonjour à tous.\n\n"
    "00:04.000 --> 00:06.000\nLe conseil municipal a voté\n\n"
    "00:06.100 --> 00:09.000\nla nouvelle mesure hier soir.\n"
)
_TIMING = re.compile(r"^[^\n]{0,100}-->[^\n]{0,200}$", re.MULTILINE)


def timings(text: str) -> list[str]:
    return _TIMING.findall(text)


def run(data: str, kind: str, layout: str, engine: FakeEngine | None = None) -> tuple[str, formats.Source, object]:
    source = formats.read_source(data.encode("utf-8"), kind)
    result = formats.bilingual(source, translate_document(source.document, engine or FakeEngine()))
    return formats.write_source(source, result, layout).decode("utf-8"), source, result


@pytest.mark.parametrize("kind,data", [("srt", SRT), ("vtt", VTT)])
@pytest.mark.parametrize("layout", formats.LAYOUTS)
def test_timings_and_cue_count_survive_every_layout(kind: str, data: str, layout: str) -> None:
    out, source, result = run(data, kind, layout)
    assert timings(out) == timings(data)
    assert len(out.strip().split("\n\n")) == len(data.strip().split("\n\n"))
    reread = formats.read_source(out.encode("utf-8"), kind)
    assert len(reread.state.cues) == len(source.state.cues)
    if layout != "english":  # every French line is still there
        for line in data.splitlines():
            assert line in out.splitlines()
    else:
        assert "EN<" in out and "\nBonjour à tous.\n" not in out


def test_a_sentence_over_two_cues_is_translated_whole_and_split_back() -> None:
    out, source, result = run(SRT, "srt", "english")
    texts = [block.text for block in source.document.blocks]
    assert "Le conseil municipal a voté la nouvelle mesure hier soir." in texts  # one block, tags dropped
    payload = TranslateResponse.model_validate(result)
    assert len(payload.blocks) == 4  # a cue is a block in the JSON contract
    second, third = payload.blocks[1], payload.blocks[2]
    assert FLAG_SPLIT_ACROSS_CUES in second.sentences[0].flags and FLAG_SPLIT_ACROSS_CUES in third.sentences[0].flags
    assert FLAG_SPLIT_ACROSS_CUES not in payload.blocks[0].sentences[0].flags
    assert (second.en + " " + third.en) == "EN<Le conseil municipal a voté la nouvelle mesure hier soir.>"
    assert second.en and third.en


def test_vtt_header_notes_and_cue_settings_are_kept_byte_for_byte() -> None:
    out, _, _ = run(VTT, "vtt", "interleaved")
    assert out.startswith("WEBVTT - réunion\n\nNOTE une note qui reste telle quelle\n\nintro\n")
    # the English line in italics, the default subtitle style (issue 23, point 6)
    assert "00:01.000 --> 00:03.500 align:start position:10%\nBonjour à tous.\n<i>EN<Bonjour à tous.></i>\n" in out


def test_crlf_files_keep_their_line_endings() -> None:
    data = SRT.replace("\n", "\r\n")
    out, _, _ = run(data, "srt", "side-by-side")
    assert timings(out.replace("\r\n", "\n")) == timings(SRT)
    assert "\n" not in out.replace("\r\n", "")
    assert "<i>EN<Bonjour à tous.></i>" in out


def test_not_subtitles_is_refused_with_a_reason() -> None:
    with pytest.raises(formats.FormatError) as error:
        formats.read_source(b"just some text\nwithout cues\n", "srt")
    assert error.value.code == "empty"
    with pytest.raises(formats.FormatError):
        formats.read_source(b"00:01.000 --> 00:02.000\nBonjour.\n", "vtt")


class Breaking(FakeEngine):
    """Answers with a blank line and a timing arrow: either would break the cue if written as is."""

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        return [Translation("a\n\nb --> c", 1, 1) for _ in texts]


def test_translation_text_never_breaks_a_cue() -> None:
    out, source, _ = run(SRT, "srt", "english", Breaking())
    assert timings(out) == timings(SRT)
    assert len(formats.read_source(out.encode(), "srt").state.cues) == len(source.state.cues)


@pytest.mark.parametrize(
    "text,weights,expected",
    [
        ("one two three four", [1, 1], ["one two", "three four"]),
        ("one", [5, 5, 5], ["", "", "one"]),
        ("a b c", [1, 1, 1], ["a", "b", "c"]),
        ("aaaa bbbb cccc dddd", [30, 10], ["aaaa bbbb cccc", "dddd"]),
        ("", [1, 2], ["", ""]),
    ],
)
def test_proportional_split(text: str, weights: list[int], expected: list[str]) -> None:
    assert split_proportionally(text, weights) == expected


def test_a_long_file_is_linear(tmp_path: Path) -> None:
    cues = "".join(f"{i}\n00:00:{i % 60:02},000 --> 00:00:{i % 60:02},500\nphrase {i}\n\n" for i in range(20_000))
    source = formats.read_source(cues.encode(), "srt")
    assert len(source.state.cues) == 20_000


def test_a_cue_says_where_its_english_came_from() -> None:
    """A cue whose sentence the memory answered says so (and its match); one carrying sentences of several
    sources says the least sure; a fuzzy suggestion stays on the cue that is that whole sentence."""
    from models.document import EnglishSource
    from models.memory import MemoryMode, MemoryUse, Unit, UnitIndex
    from models.pipeline import translate_request
    from models.request import TranslationRequest

    units = [
        Unit("Bonjour à tous.", "Hello, everyone."),
        Unit("Oui, à l'unanimité !", "Yes, unanimously!"),
        Unit("Le conseil municipal a voté la nouvelle mesure ce matin.", "The council passed it this morning."),
        Unit("La séance est levée à minuit.", "The meeting closes at midnight."),
    ]
    srt = SRT.replace("- Vraiment ?\n- Oui, à l'unanimité !", "Oui, à l'unanimité !")
    srt += "\n5\n00:00:13,000 --> 00:00:14,000\nIls ont voté. Oui, à l'unanimité !\n"
    srt += "\n6\n00:00:15,000 --> 00:00:16,000\nLa séance est levée à midi.\n"
    source = formats.read_source(srt.encode("utf-8"), "srt")
    request = TranslationRequest(source.document, memory=MemoryUse(UnitIndex(units), MemoryMode.SUGGEST))
    translated = translate_request(request, FakeEngine())
    assert translated.blocks[1].sentences[0].suggestion is not None  # offered for the sentence over two cues
    result = formats.bilingual(source, translated)
    cues = [block.sentences[0] for block in result.blocks]
    assert [(c.en, c.source, c.match) for c in cues[:1]] == [("Hello, everyone.", EnglishSource.MEMORY_EXACT, 100)]
    assert [c.source for c in cues[1:3]] == [EnglishSource.MODEL] * 2  # split over two cues, from the model
    assert all(c.suggestion is None for c in cues[1:3])  # the unit is the whole sentence, not either cue
    assert (cues[3].en, cues[3].source, cues[3].match) == ("Yes, unanimously!", EnglishSource.MEMORY_EXACT, 100)
    assert cues[4].source is EnglishSource.MODEL  # one sentence from the model, one from the memory
    offered = cues[5].suggestion
    assert cues[5].source is EnglishSource.MODEL and offered is not None and offered.match == 85
    payload = TranslateResponse.model_validate(result).model_dump(mode="json", exclude_none=True)
    assert payload["blocks"][0]["sentences"][0]["source"] == "memory:exact"

    # A sentence the memory answers, cut over two cues: each piece says so.
    whole = Unit("Le conseil municipal a voté la nouvelle mesure hier soir.", "The council passed it last night.")
    request = TranslationRequest(source.document, memory=MemoryUse(UnitIndex([whole]), MemoryMode.SUGGEST))
    cues = [block.sentences[0] for block in formats.bilingual(source, translate_request(request, FakeEngine())).blocks]
    assert [(c.source, c.match) for c in cues[1:3]] == [(EnglishSource.MEMORY_EXACT, 100)] * 2
    assert " ".join(c.en for c in cues[1:3]) == "The council passed it last night."
