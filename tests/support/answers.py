"""Translate answers written by hand, for the renderers' tests: one paragraph with its sentence cuts."""

from __future__ import annotations

from typing import Any

Cut = tuple[int, int, str, str]  # a sentence: start, end (in the French), its French, its English


def paragraph(fr: str, en: str, cuts: list[Cut], **extra: Any) -> dict[str, Any]:
    """Block 0, a translated paragraph, its sentences as `cuts` say, no flags; `extra` adds fields."""
    return {
        "index": 0,
        "kind": "paragraph",
        "fr": fr,
        "en": en,
        "translated": True,
        "sentences": [
            {"index": n, "start": start, "end": end, "fr": french, "en": english, "flags": []}
            for n, (start, end, french, english) in enumerate(cuts)
        ],
        **extra,
    }
