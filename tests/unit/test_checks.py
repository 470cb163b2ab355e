"""The per-sentence checks on French examples: numbers, repetition, untranslated, length ratio."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.checks import (
    FLAG_LENGTH_RATIO,
    FLAG_NUMBERS_CHANGED,
    FLAG_REPETITION,
    FLAG_UNTRANSLATED,
    check,
    is_untranslated,
    length_ratio_off,
    longest_run,
    loop_score,
)
from models.numbers import missing_numbers, quantities

DATA = Path(__file__).resolve().parents[1] / "data"

SAME_VALUE = [
    ("La hausse atteint 3,5 % cette année.", "The increase reaches 3.5% this year."),
    ("La hausse atteint 3,5 % cette année.", "The increase reaches 3.5 percent this year."),
    ("Plus de 1 000 personnes.", "More than 1,000 people."),
    ("Plus de 1\u00a0000 personnes.", "More than 1,000 people."),
    ("Plus de 1\u202f000 personnes.", "More than 1,000 people."),
    ("Plus de 1\u202f000 personnes.", "More than 1 000 people."),  # copied as is: same value
    ("Un total de 2 500 000 votes.", "A total of 2,500,000 votes."),
    ("Grève le 13 sept. 2023.", "Strike on 13 September 2023."),
    ("Grève le 13 sept. 2023.", "Strike on September 13, 2023."),
    ("Grève le 13 sept. 2023.", "Strike on Sept. 13, 2023."),
    ("Le 1er mai 2024, ils défilent.", "On May 1, 2024, they march."),
    ("Un budget de 1,5 milliard $.", "A budget of $1.5 billion."),
    ("Un budget de 1,5 milliard de dollars.", "A budget of 1,500 million dollars."),
    ("Une dette de 3 000 milliards d'euros.", "A debt of 3 trillion euros."),
    ("Un trou de 2 millions d'euros.", "A hole of two million euros."),
    ("Rendez-vous à 14 h 30.", "Meet at 2:30 p.m."),
    ("Rendez-vous à 14h30.", "Meet at 14:30."),
    ("Au XXIe siècle, tout change.", "In the 21st century, everything changes."),
    ("Le 5e arrondissement.", "The 5th arrondissement."),
    ("Le prix est de 0,2 point.", "The price is 0.2 points."),
    ("GRÈVE LE 13 SEPT. 2023", "STRIKE ON 13 SEPTEMBER 2023"),
]

CHANGED = [
    ("La hausse atteint 3,5 % cette année.", "The increase reaches 35% this year.", "3,5"),
    ("Plus de 1 000 personnes.", "More than 100 people.", "1 000"),
    ("Grève le 13 sept. 2023.", "Strike on 13 July 2023.", "sept"),
    ("Grève le 13 sept. 2023.", "Strike on 31 September 2023.", "13"),
    ("Un budget de 1,5 milliard $.", "A budget of $1.5 million.", "1,5 milliard"),
    ("Un budget de 1,5 milliard $.", "A budget of $15 billion.", "1,5 milliard"),
    ("Une dette de 2 billions d'euros.", "A debt of 2 billion euros.", "2 billions"),  # French billion = 10^12
    ("Entre 2019 et 2023.", "Between 2018 and 2023.", "2019"),
]


@pytest.mark.parametrize(("fr", "en"), SAME_VALUE)
def test_french_number_formats_match_their_english_forms(fr: str, en: str) -> None:
    assert missing_numbers(fr, en) == []
    assert FLAG_NUMBERS_CHANGED not in check(fr, en)


@pytest.mark.parametrize(("fr", "en", "missing"), CHANGED)
def test_altered_or_dropped_figures_are_flagged_and_named(fr: str, en: str, missing: str) -> None:
    assert missing in missing_numbers(fr, en)
    assert FLAG_NUMBERS_CHANGED in check(fr, en)


def test_a_figure_is_matched_once_only() -> None:
    assert missing_numbers("Entre 12 et 12 heures.", "Between 12 hours.") == ["12"]


def test_month_words_need_a_day_or_year_so_may_the_verb_is_no_date() -> None:
    assert [q.text for q in quantities("It may rain 2 days.", "en")] == ["2"]
    assert [q.text for q in quantities("Le 14 mai, il pleut.", "fr")] == ["14", "mai"]
    assert missing_numbers("Le 14 mai.", "On 14 may.") == ["mai"]  # lower-case "may" is the verb


def test_repetition_loop_is_flagged_but_a_repeated_source_is_not() -> None:
    loop = "The council adopted the budget of the city of the city of the city of the city of the city."
    assert FLAG_REPETITION in check("Le conseil a adopté le budget de la ville.", loop)
    assert FLAG_REPETITION in check("Il a dit oui.", "He said yes yes yes yes yes.")
    assert FLAG_REPETITION not in check("Non, non, non et non !", "No, no, no and no!")
    assert FLAG_REPETITION not in check("Merci, merci, merci, merci !", "Thank you, thank you, thank you, thank you!")
    assert loop_score("Il a dit oui.", "He said yes.") == 0


def test_longest_run_counts_consecutive_repeats() -> None:
    words = "a b a b a b c".split()
    assert longest_run(words, 2) == 3
    assert longest_run(words, 1) == 1
    assert longest_run(["x"] * 500, 1) == 500


def test_untranslated_output_is_flagged() -> None:
    fr = "Les syndicats appellent à une nouvelle journée de grève."
    assert is_untranslated(fr, fr)
    assert is_untranslated(fr, "The syndicats appellent à une nouvelle journée de grève.")
    assert FLAG_UNTRANSLATED in check(fr, fr)
    assert not is_untranslated(fr, "The unions are calling for a new day of strikes.")


def test_names_and_short_lines_are_not_untranslated() -> None:
    assert not is_untranslated("Emmanuel Macron", "Emmanuel Macron")
    assert not is_untranslated("Marseille, le 13 mai", "Marseille, 13 May")
    assert not is_untranslated("Emmanuel Macron à Marseille.", "Emmanuel Macron in Marseille.")


def test_length_ratio_far_outside_the_band_is_flagged() -> None:
    fr = "Le conseil municipal de Lyon a adopté mardi soir un budget pour l'année prochaine."
    assert FLAG_LENGTH_RATIO in check(fr, "The council.")
    assert FLAG_LENGTH_RATIO in check(fr, "The Lyon city council adopted a budget. " * 5)
    assert not length_ratio_off(fr, "The Lyon city council adopted a budget for next year on Tuesday evening.")
    assert not length_ratio_off("Oui.", "Yes, indeed, absolutely, certainly.")  # too short to judge


def test_human_reference_translations_raise_no_flag() -> None:
    """The shipped parallel corpus (real French news and their English): every check stays quiet."""
    french = (DATA / "corpus.fr.txt").read_text(encoding="utf-8").splitlines()
    english = (DATA / "corpus.en.txt").read_text(encoding="utf-8").splitlines()
    assert len(french) == len(english) > 30
    flagged = [(fr, en, check(fr, en)) for fr, en in zip(french, english, strict=True) if check(fr, en)]
    assert flagged == []
