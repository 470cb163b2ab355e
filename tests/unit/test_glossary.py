"""Protected terms: placeholders in, terms back out, losses detected; the glossary file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.glossary import GlossaryError, Protected, Terms, load_terms, protect, restore
from tests.support.timing import assert_doubling_is_linear


def test_keep_and_glossary_terms_become_numbered_placeholders() -> None:
    terms = Terms.of({"ministère de l'Intérieur": "Home Office"}, ["Le Journal de Montréal"])
    protected = protect("Selon Le Journal de Montréal, le ministère de l’Intérieur dément.", terms)
    assert protected.text == "Selon QZ1, le QZ2 dément."
    assert protected.slots == (("QZ1", "Le Journal de Montréal"), ("QZ2", "Home Office"))


def test_matching_ignores_case_and_spacing_but_keeps_the_source_spelling_of_kept_terms() -> None:
    terms = Terms.of(keep=["Le Journal de Montréal"])
    protected = protect("Selon le journal de  Montréal, rien.", terms)
    assert protected.text == "Selon QZ1, rien."
    assert protected.slots == (("QZ1", "le journal de  Montréal"),)


def test_whole_words_only_and_longest_term_first() -> None:
    terms = Terms.of({"Sûreté": "Security", "Sûreté du Québec": "Quebec Provincial Police"})
    assert protect("La Sûreté du Québec enquête.", terms).text == "La QZ1 enquête."
    assert protect("Les Sûretés enquêtent.", terms).slots == ()


def test_restore_puts_terms_back_and_tolerates_case_and_spacing() -> None:
    protected = Protected("Selon QZ1, le QZ2 dément.", (("QZ1", "Le Journal de Montréal"), ("QZ2", "Home Office")))
    assert (
        restore("According to QZ1, the QZ2 denies.", protected)
        == "According to Le Journal de Montréal, the Home Office denies."
    )
    assert (
        restore("According to qz 1, the Qz-2 denies.", protected)
        == "According to Le Journal de Montréal, the Home Office denies."
    )


def test_a_lost_or_doubled_placeholder_is_reported_not_guessed() -> None:
    protected = Protected("Selon QZ1, le QZ2 dément.", (("QZ1", "LJM"), ("QZ2", "Home Office")))
    assert restore("According to the newspaper, the QZ2 denies.", protected) is None
    assert restore("According to QZ1 QZ1, the QZ2 denies.", protected) is None
    assert restore("QZ12 and QZ2", Protected("x", (("QZ1", "a"),))) is None  # QZ12 is not QZ1


def test_a_sentence_that_already_contains_the_placeholder_form_gets_another_prefix() -> None:
    protected = protect("Le code QZ1 du Monde.", Terms.of(keep=["Le Monde"]))
    assert protected.text == "Le code QZ1 du Monde."  # "du Monde" is not "Le Monde": nothing to protect
    protected = protect("Le code QZ1 selon Le Monde.", Terms.of(keep=["Le Monde"]))
    assert protected.text == "Le code QZ1 selon ZQ1."
    assert restore("The QZ1 code according to ZQ1.", protected) == "The QZ1 code according to Le Monde."


def test_request_terms_override_server_terms() -> None:
    server = Terms.of({"député": "MP"}, ["Le Monde"])
    merged = server.merged(Terms.of({"Député": "member of parliament"}, ["Libération"]))
    assert dict(merged.glossary) == {"Député": "member of parliament"}
    assert set(merged.keep) == {"Le Monde", "Libération"}


def test_merging_counts_a_term_once_whatever_its_spaces_and_apostrophe() -> None:
    key = Terms.of({"Conseil d'État": "Council of State", "Poutine": "Putin"})
    merged = key.merged(Terms.of({"conseil  d’état": "State Council"}))
    assert merged.glossary == (("conseil  d’état", "State Council"), ("Poutine", "Putin"))
    assert protect("Le Conseil d'État a jugé.", merged).slots == (("QZ1", "State Council"),)


@pytest.mark.parametrize(
    ("glossary", "keep"),
    [({"": "x"}, []), ({"mot": ""}, []), ({}, ["  "]), ({}, ["x" * 201]), ({str(i): "x" for i in range(1001)}, [])],
)
def test_unusable_terms_are_refused(glossary: dict[str, str], keep: list[str]) -> None:
    with pytest.raises(GlossaryError):
        Terms.of(glossary, keep)


def test_glossary_file_is_loaded_and_bad_files_are_explained(tmp_path: Path) -> None:
    good = tmp_path / "terms.json"
    good.write_text(json.dumps({"glossary": {"député": "MP"}, "keep": ["Le Devoir"]}), encoding="utf-8")
    assert load_terms(good) == Terms((("député", "MP"),), ("Le Devoir",))
    for content in ["not json", json.dumps(["a"]), json.dumps({"keep": "Le Devoir"}), json.dumps({"other": 1})]:
        bad = tmp_path / "bad.json"
        bad.write_text(content, encoding="utf-8")
        with pytest.raises(GlossaryError, match="bad.json"):
            load_terms(bad)
    with pytest.raises(GlossaryError, match="missing.json"):
        load_terms(tmp_path / "missing.json")


def test_matching_1000_terms_is_linear_in_the_text() -> None:
    """A regex alternation of 1,000 terms cost about a millisecond per character; the automaton
    must not grow faster than the text (min of a few runs, no absolute timing)."""
    words = [f"mot{chr(97 + i % 20)}{i}" for i in range(2000)]
    terms = Terms.of({f"{a} {b}": "x" for a, b in zip(words[:500], words[500:1000], strict=True)}, words[1000:1500])
    text = " ".join(f"{words[1000 + i % 500]} texte ordinaire, sans rien." for i in range(800))
    protect("amorce", terms)  # the automaton is built once and cached
    assert len(protect(text, terms).slots) > 100
    assert_doubling_is_linear(lambda n: lambda: protect(" ".join([text] * n), terms), 1)


def test_markup_and_odd_characters_in_terms_match_literally() -> None:
    terms = Terms.of({"**mot**": "**word**", "[a](b)": "link"}, ["<b>x</b>", "C++", "a.b"])
    protected = protect("Le **mot**, [a](b), <b>x</b>, C++ et a.b mais pas axb.", terms)
    assert protected.text == "Le QZ1, QZ2, QZ3, QZ4 et QZ5 mais pas axb."
    assert [value for _, value in protected.slots] == ["**word**", "link", "<b>x</b>", "C++", "a.b"]
