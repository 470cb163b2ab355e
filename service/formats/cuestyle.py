"""How the English line of a bilingual subtitle is set apart from the French: italic, a colour, or not at all.

Viewers of dual subtitles expect the second language to look different. `CueStyle.parse` reads what a
user writes (`--subtitle-style`, a job's `subtitle_style`): `italic` (the default), `none`, or a colour.
A colour is drawn as each format can: SRT players read `<font color="…">` (a name or `#rrggbb`);
WebVTT has no colour tag, only classes: one of its default colour classes (`<c.yellow>`, known to every
player), or for any other colour a class of ours with a `STYLE` block that colours it (players without
`STYLE` support show the line uncoloured).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class CueLook(StrEnum):
    ITALIC = "italic"
    NONE = "none"
    COLOUR = "colour"


VTT_COLOURS = ("white", "lime", "cyan", "red", "yellow", "magenta", "blue", "black")
"""WebVTT's default colour classes (`::cue(.yellow)` in every conforming player)."""
COLOUR_NAMES = frozenset(
    (*VTT_COLOURS, "silver", "gray", "grey", "maroon", "olive", "green", "aqua", "teal", "navy", "fuchsia", "purple")
    + ("orange",)
)
"""The colour names accepted: HTML's basic colours, which SRT players know, and WebVTT's."""
VTT_CLASS = "bitext-en"  # the class a WebVTT file's STYLE block colours, for a colour outside VTT_COLOURS
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True, slots=True)
class CueStyle:
    look: CueLook = CueLook.ITALIC
    colour: str = ""  # with COLOUR: a colour name (lower case) or #rrggbb

    @classmethod
    def parse(cls, text: str) -> CueStyle:
        """`italic`, `none`, a colour name or `#rrggbb`; raises ValueError saying what is accepted."""
        value = text.strip()
        if value.lower() in (CueLook.ITALIC, CueLook.NONE):
            return cls(CueLook(value.lower()))
        if _HEX.fullmatch(value) or value.lower() in COLOUR_NAMES:
            return cls(CueLook.COLOUR, value.lower())
        raise ValueError(
            f"subtitle style {value[:40]!r}: use italic, none, a colour ({', '.join(sorted(COLOUR_NAMES))}) or #rrggbb"
        )

    def vtt_style_block(self, newline: str) -> str:
        """The STYLE block a WebVTT file needs for this style ("" when it needs none)."""
        if self.look is not CueLook.COLOUR or self.colour in VTT_COLOURS:
            return ""
        return f"STYLE{newline}::cue(.{VTT_CLASS}) {{ color: {self.colour}; }}{newline}{newline}"

    def __str__(self) -> str:
        return self.colour if self.look is CueLook.COLOUR else str(self.look)

    def wrap(self, line: str, kind: str, italic_already: bool = False) -> str:
        """`line` (an English cue line) styled for a file of `kind`; `italic_already`: the cue is italic itself."""
        if self.look is CueLook.ITALIC:
            return line if italic_already else f"<i>{line}</i>"
        if self.look is CueLook.COLOUR:
            if kind == "vtt":
                return f"<c.{self.colour if self.colour in VTT_COLOURS else VTT_CLASS}>{line}</c>"
            return f'<font color="{self.colour}">{line}</font>'
        return line


DEFAULT_CUE_STYLE = CueStyle()
