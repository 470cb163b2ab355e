"""Every flag a sentence can carry, and what it tells a reader: one table for the JSON, the page,
the exports and the docs (the modules that raise a flag name it from here)."""

from __future__ import annotations

from enum import StrEnum


class Flag(StrEnum):
    SPLIT_WINDOW = "split_window"
    KEPT_VERBATIM = "kept_verbatim"
    NUMBERS_CHANGED = "numbers_changed"
    REPETITION = "repetition"
    UNTRANSLATED = "untranslated"
    LENGTH_RATIO = "length_ratio"
    CAPS_RESTORED = "caps_restored"
    REPETITION_REPAIRED = "repetition_repaired"
    NUMBERS_REPAIRED = "numbers_repaired"
    GLOSSARY_LOST = "glossary_lost"
    MARKUP_UNPLACED = "markup_unplaced"
    SPLIT_ACROSS_CUES = "split_across_cues"


REASONS: dict[Flag, str] = {
    Flag.SPLIT_WINDOW: "longer than the model's window: translated in pieces and joined",
    Flag.KEPT_VERBATIM: "kept as written, not translated",
    Flag.NUMBERS_CHANGED: "a figure, amount or date of the French is missing or altered in the English",
    Flag.REPETITION: "the English repeats itself: the model may have looped",
    Flag.UNTRANSLATED: "the English looks like the French again",
    Flag.LENGTH_RATIO: "the English is unusually long or short for the French",
    Flag.CAPS_RESTORED: "the French was in capitals: translated in lower case, capitals put back",
    Flag.REPETITION_REPAIRED: "the first English looped; this is a retranslation",
    Flag.NUMBERS_REPAIRED: "the first English lost a figure; this is a retranslation",
    Flag.GLOSSARY_LOST: "a protected glossary term did not survive translation",
    Flag.MARKUP_UNPLACED: "links or emphasis could not be placed by alignment; placed in source order",
    Flag.SPLIT_ACROSS_CUES: "one sentence spread over several subtitle cues: its English shared out over them",
}
