"""Subtitles keep their cue tags in every layout, and set the English line apart (issue 23, point 6)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

import pytest
from typer.testing import CliRunner

from models.engine import PLAIN_CALL, CallControl, GenerationOptions, Translation
from models.pipeline import translate_document
from service import cli, formats
from service.formats import DEFAULT_CUE_STYLE, CueStyle
from service.formats.cuestyle import VTT_CLASS, CueLook
from tests.support.fakes import FakeEngine

SRT = (
    "1\n00:00:01,000 --> 00:00:02,500\n<i>Bonjour à tous.</i>\n\n"
    "2\n00:00:03,000 --> 00:00:04,500\n{\\an8}<b>Le conseil</b> a voté la mesure.\n\n"
    '3\n00:00:05,000 --> 00:00:06,500\n<font color="#00ff00">Les écoles\nseront rénovées.</font>\n'
)
VTT = (
    "WEBVTT\n\n"
    "00:00:01.000 --> 00:00:02.500\n<v Marie>Bonjour à tous.\n\n"
    "intro\n00:00:03.000 --> 00:00:04.500 line:10%\n<v.loud Paul><i>Le conseil a voté.</i></v>\n\n"
    "00:00:05.000 --> 00:00:06.500\n<c.yellow>Les écoles</c> seront <00:00:05.500>rénovées.\n"
)


class Plain(FakeEngine):
    """`EN x`: an English line with no angle brackets of its own, so every tag in the output is the cue's."""

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        done = super().translate(texts, options, control=control)
        return [dataclasses.replace(t, text=f"EN {text}") for t, text in zip(done, texts, strict=True)]


def written(data: str, kind: str, layout: str, style: CueStyle = DEFAULT_CUE_STYLE) -> tuple[list[list[str]], Plain]:
    """The file in `layout`, as the text lines of each cue, and the engine that translated it."""
    engine = Plain()
    source = formats.read_source(data.encode("utf-8"), kind)
    result = formats.bilingual(source, translate_document(source.document, engine))
    out = formats.write_source(source, result, layout, style=style).decode("utf-8")
    cues = [chunk.splitlines() for chunk in out.split("\n\n") if "-->" in chunk]
    texts = [lines[next(i for i, line in enumerate(lines) if "-->" in line) + 1 :] for lines in cues]
    again = formats.read_source(out.encode("utf-8"), kind)  # it reads back, one cue per cue
    assert len(again.state.cues) == len(cues) == 3
    return texts, engine


def test_the_model_sees_words_only() -> None:
    for data, kind in ((SRT, "srt"), (VTT, "vtt")):
        _, engine = written(data, kind, "english")
        sent = " ".join(text for call in engine.calls for text in call)
        assert "<" not in sent and "{" not in sent, sent


def test_english_layout_keeps_the_tags_that_wrap_a_cue() -> None:
    srt, _ = written(SRT, "srt", "english")
    assert srt[0] == ["<i>EN Bonjour à tous.</i>"]
    assert srt[1] == ["{\\an8}EN Le conseil a voté la mesure."]  # <b> held two words only: left out
    assert srt[2] == ['<font color="#00ff00">EN Les écoles seront rénovées.</font>']
    vtt, _ = written(VTT, "vtt", "english")
    assert vtt[0] == ["<v Marie>EN Bonjour à tous."]
    assert vtt[1] == ["<v.loud Paul><i>EN Le conseil a voté.</i></v>"]
    assert vtt[2] == ["EN Les écoles seront rénovées."]  # a class over some words, a timestamp: the French's


@pytest.mark.parametrize("layout", ["interleaved", "side-by-side"])
def test_bilingual_layouts_keep_the_french_and_set_the_english_in_italics(layout: str) -> None:
    srt, _ = written(SRT, "srt", layout)
    assert srt[0] == ["<i>Bonjour à tous.</i>", "<i>EN Bonjour à tous.</i>"]  # italic already: not twice
    assert srt[1] == ["{\\an8}<b>Le conseil</b> a voté la mesure.", "{\\an8}<i>EN Le conseil a voté la mesure.</i>"]
    vtt, _ = written(VTT, "vtt", layout)
    assert vtt[0] == ["<v Marie>Bonjour à tous.", "<v Marie><i>EN Bonjour à tous.</i>"]
    assert vtt[2][1] == "<i>EN Les écoles seront rénovées.</i>"


def test_the_style_can_be_none_or_a_colour() -> None:
    srt, _ = written(SRT, "srt", "interleaved", CueStyle.parse("none"))
    assert srt[1][1] == "{\\an8}EN Le conseil a voté la mesure."
    srt, _ = written(SRT, "srt", "interleaved", CueStyle.parse("#FFCC00"))
    assert srt[1][1] == '{\\an8}<font color="#ffcc00">EN Le conseil a voté la mesure.</font>'
    vtt, _ = written(VTT, "vtt", "interleaved", CueStyle.parse("Yellow"))
    assert vtt[0][1] == "<v Marie><c.yellow>EN Bonjour à tous.</c>"
    engine = Plain()
    source = formats.read_source(VTT.encode("utf-8"), "vtt")
    result = formats.bilingual(source, translate_document(source.document, engine))
    out = formats.write_source(source, result, "interleaved", style=CueStyle.parse("#ffcc00")).decode("utf-8")
    # any other colour: a class of ours, coloured by a STYLE block before the first cue
    assert out.startswith(f"WEBVTT\n\nSTYLE\n::cue(.{VTT_CLASS}) {{ color: #ffcc00; }}\n\n00:00:01.000")
    assert f"<v Marie><c.{VTT_CLASS}>EN Bonjour à tous.</c>" in out
    english = formats.write_source(source, result, "english", style=CueStyle.parse("#ffcc00")).decode("utf-8")
    assert "STYLE" not in english


def test_styles_are_read_or_refused_with_the_choices() -> None:
    assert CueStyle.parse(" Italic ") == CueStyle()
    assert CueStyle.parse("none").look is CueLook.NONE
    assert str(CueStyle.parse("#A0B1C2")) == "#a0b1c2"
    for bad in ("bold", "#fff", "red; }", "<i>", ""):
        with pytest.raises(ValueError, match="italic, none"):
            CueStyle.parse(bad)


def test_tags_stay_balanced_in_every_cue() -> None:
    for data, kind in ((SRT, "srt"), (VTT, "vtt")):
        for layout in formats.LAYOUTS:
            for style in ("italic", "none", "red"):
                texts, _ = written(data, kind, layout, CueStyle.parse(style))
                for line in ("\n".join(cue) for cue in texts):
                    for tag in ("i", "b", "c", "font"):
                        opened = len(re.findall(rf"<{tag}[\s.>]", line))
                        assert opened == line.count(f"</{tag}>"), (kind, layout, style, line)


def test_cli_subtitle_style(tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_load", lambda settings: Plain())
    source = tmp_path / "film.srt"  # type: ignore[operator]
    source.write_text(SRT, encoding="utf-8")
    out = tmp_path / "film.en.srt"  # type: ignore[operator]
    done = CliRunner().invoke(cli.app, ["translate", str(source), "-o", str(out), "--subtitle-style", "yellow"])
    assert done.exit_code == 0, done.output
    assert '<font color="yellow">EN Bonjour à tous.</font>' in out.read_text(encoding="utf-8")
    refused = CliRunner().invoke(cli.app, ["translate", str(source), "-o", str(out), "--subtitle-style", "bold"])
    assert refused.exit_code == 2 and "--subtitle-style" in refused.output and "italic, none" in refused.output
