"""Language detection behind our own interface: French is told apart, guesses are not refusals."""

from __future__ import annotations

import pytest

from models.langdetect import (
    CONFIDENT,
    FRENCH,
    SAMPLE_CHARS,
    Detection,
    LangidDetector,
    best,
    default_detector,
    french_confidence,
    other_language,
)


@pytest.mark.parametrize(
    "text",
    [
        "Le conseil municipal a adopté mardi soir un budget de transports.",
        "Mot de passe oublié ?",
        "Ouvrir le fichier",
    ],
)
def test_french_is_detected_as_french(text: str) -> None:
    found = default_detector().detect(text)
    assert best(found).language == FRENCH
    assert other_language(found) is None
    assert french_confidence(found) == found[0].confidence > CONFIDENT


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hello, how are you today? The weather is lovely.", "en"),
        ("Der Gemeinderat hat am Dienstag den Haushalt beschlossen.", "de"),
        ("El consejo municipal aprobó el presupuesto el martes por la noche.", "es"),
    ],
)
def test_other_languages_are_confidently_not_french(text: str, language: str) -> None:
    other = other_language(default_detector().detect(text))
    assert other is not None and other.language == language and other.confidence >= CONFIDENT


@pytest.mark.parametrize("text", ["Salut", "Paris", "OK"])
def test_a_single_word_is_not_confident_enough_to_refuse(text: str) -> None:
    assert other_language(default_detector().detect(text)) is None


@pytest.mark.parametrize("text", ["", "   ", "12 345,00 €", "— … !"])
def test_text_without_letters_is_undetermined(text: str) -> None:
    assert default_detector().detect(text) == []
    assert best([]) == Detection("und", 0.0)
    assert other_language([]) is None


def test_detections_are_ranked_probabilities() -> None:
    found = default_detector().detect("Le chat dort sur le canapé du salon.", top=5)
    assert len(found) == 5
    confidences = [d.confidence for d in found]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0 <= c <= 1 for c in confidences) and sum(confidences) <= 1.0001


def test_long_documents_are_judged_on_their_opening() -> None:
    french = "Le conseil municipal a adopté mardi soir un budget de transports. " * (SAMPLE_CHARS // 40)
    english = " The council adopted a transport budget on Tuesday evening." * 2000
    assert best(default_detector().detect(french + english)).language == FRENCH


def test_a_restricted_detector_only_answers_among_its_languages() -> None:
    detector = LangidDetector(["fr", "en"])
    found = detector.detect("Der Gemeinderat hat am Dienstag den Haushalt beschlossen.", top=5)
    assert {d.language for d in found} <= {"fr", "en"}


def test_check_french_is_the_one_decision() -> None:
    from models.langdetect import check_french

    french = check_french("Le conseil municipal a voté le budget de la ville après un long débat.")
    assert french.other is None and french.french.language == FRENCH and french.french.confidence > 0.5
    german = check_french("Der Stadtrat hat nach einer langen Debatte den Haushalt der Stadt beschlossen.")
    assert german.other is not None and german.other.language == "de"
    assert check_french("OK").other is None  # too short to tell: the benefit of the doubt
