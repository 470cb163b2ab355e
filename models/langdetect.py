"""Which language is this text? A tiny interface of ours over py3langid.

Why py3langid: its model ships inside the wheel (4.6 MB, no download at run time), it needs only
numpy, loads in about a second and classifies a sentence in well under a millisecond. lingua was
measured too: more accurate on two-word strings, but a 96 MB wheel, and even restricted to 27
languages it held 545 MB and took 6 s on its first call. The service only has to decide "French
or not" before spending the fr→en model on a text, which a naive-Bayes n-gram model does well.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

FRENCH = "fr"
UNDETERMINED = "und"
# Long documents are judged on their opening: enough to be sure, and detection stays O(1) in size.
SAMPLE_CHARS = 4_000
# A text is "not French" only when another language wins with at least this probability. Below it
# (single words, names, "OK") the detector is guessing, and refusing would break real use: such a
# text is given the benefit of the doubt. Measured: full sentences score 0.75–0.99.
CONFIDENT = 0.5
# The languages the default detector chooses between. py3langid knows ~100; restricting it to widely
# written ones keeps rare look-alikes (Haitian Creole, Venetian…) from winning on short French text.
COMMON_LANGUAGES = (
    "fr", "en", "de", "es", "it", "pt", "nl", "pl", "ru", "uk", "ar", "zh", "ja", "ko", "tr", "sv", "da", "no",
    "fi", "cs", "ro", "hu", "el", "hi", "vi", "id", "ca", "he", "fa", "th", "bg", "hr", "sr", "sk", "sl", "lt",
    "lv", "et", "ga", "eu", "gl", "cy", "ms", "bn", "ur", "sw", "af", "is", "lb", "oc", "br",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Detection:
    """A language (ISO 639-1 where one exists) and how sure the detector is, from 0 to 1."""

    language: str
    confidence: float


class LanguageDetector(Protocol):
    def detect(self, text: str, top: int = 3) -> list[Detection]:
        """The `top` likeliest languages, best first; empty when the text has no letters."""
        ...


def has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


class LangidDetector:
    """py3langid's bundled model with normalised probabilities; loaded on first use, thread-safe."""

    def __init__(self, languages: Sequence[str] | None = None) -> None:
        self._languages = list(languages) if languages else None
        self._identifier: LanguageIdentifier | None = None
        self._lock = threading.Lock()

    def _load(self) -> LanguageIdentifier:
        with self._lock:
            if self._identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                if self._languages:
                    identifier.set_languages(self._languages)
                self._identifier = identifier
            return self._identifier

    def detect(self, text: str, top: int = 3) -> list[Detection]:
        sample = text[:SAMPLE_CHARS]
        if not has_letters(sample):
            return []
        ranked = self._load().rank(sample)[:top]
        return [Detection(language, round(float(score), 4)) for language, score in ranked]


def best(detections: Sequence[Detection]) -> Detection:
    """The likeliest language, or `und` with confidence 0 when nothing could be told."""
    return detections[0] if detections else Detection(UNDETERMINED, 0.0)


def other_language(detections: Sequence[Detection]) -> Detection | None:
    """The language a text confidently is in, when that is not French; None when it may be French."""
    top = best(detections)
    return top if top.language not in (FRENCH, UNDETERMINED) and top.confidence >= CONFIDENT else None


def french_confidence(detections: Sequence[Detection]) -> float:
    return next((d.confidence for d in detections if d.language == FRENCH), 0.0)


@dataclass(frozen=True, slots=True)
class FrenchCheck:
    """Whether a text may go to the fr→en model: the one decision every caller makes, each refusing its own way.

    `other`: the language the text confidently is in, when that is not French; None when it may be French
    (too short or too mixed to tell is given the benefit of the doubt). `french`: French, with the detector's
    confidence in it (0 when French is not among its likeliest candidates).
    """

    other: Detection | None
    french: Detection


def check_french(text: str, detector: LanguageDetector | None = None) -> FrenchCheck:
    """Judge `text` (its opening, for long ones) with `detector`, by default the shared one."""
    found = (detector or default_detector()).detect(text, top=5)
    return FrenchCheck(other_language(found), Detection(FRENCH, french_confidence(found)))


@lru_cache(maxsize=1)
def default_detector() -> LanguageDetector:
    """One shared detector per process (the model is read-only once loaded)."""
    return LangidDetector(COMMON_LANGUAGES)
