"""Tests for models.segment: French sentence splitting."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.segment import Span, split_sentences
from tests.support.spans import ANY_CHAR, FRENCHISH, assert_lossless
from tests.support.timing import assert_doubling_is_linear


def sents(text: str) -> list[str]:
    """Sentence texts, after checking the spans are a lossless split."""
    spans = split_sentences(text)
    assert_lossless(text, spans, Span(0, len(text)))
    return [text[s.start : s.end] for s in spans]


# ---------------------------------------------------------------------------
# split_sentences: rules by name
# ---------------------------------------------------------------------------

NO_SPLIT = [
    ("abbr_M", "M. Dupont, ministre de l'Économie, présentera le budget mardi."),
    ("abbr_Mme", "Mme. Durand a quitté le gouvernement hier soir."),
    ("abbr_MM", "MM. Dupont et Martin ont signé l'accord à Bruxelles."),
    ("abbr_Mmes", "Mmes. Leroy et Petit siègent au conseil municipal."),
    ("abbr_Mlle", "Mlle. Roux a remporté la finale du tournoi."),
    ("abbr_Dr", "Le Dr. Lambert a témoigné devant la commission."),
    ("abbr_Pr", "Selon le Pr. Bernard, l'épidémie recule nettement."),
    ("abbr_St_hyphen", "Le match de St-Étienne a été reporté à dimanche."),
    ("abbr_St", "La foire de St. Denis ouvre ses portes samedi."),
    ("abbr_Ste", "La basilique Ste. Marie a rouvert ses portes au public."),
    ("abbr_p", "Le rapport, p. 45, détaille les dépenses de l'État."),
    ("abbr_pp", "Les chiffres figurent aux pp. 12-14 du document."),
    ("av_JC", "La ville fut fondée en 52 av. J.-C. par les Romains."),
    ("apr_JC", "L'empereur mourut en 14 apr. J.-C. à Nola."),
    ("sept_date", "Le scrutin a eu lieu le 13 sept. 2023 dans tout le pays."),
    ("en_sept_year", "La loi a été votée en sept. 2023."),
    ("janv", "Le 3 janv. 2024, le Parlement a adopté le texte."),
    ("fevr", "Depuis févr. 2022, les prix de l'énergie ont bondi."),
    ("oct", "Le sommet se tiendra fin oct. à Lyon."),
    ("nov", "Les élections sont prévues le 5 nov. 2024."),
    ("dec", "Le 31 déc. 2023, la réforme est entrée en vigueur."),
    ("etc_lowercase", "Il a évoqué les salaires, les retraites, etc. et la santé."),
    ("cf", "Les résultats (cf. Tableau 2) confirment la tendance."),
    ("art", "Selon l'art. 49 de la Constitution, le gouvernement engage sa responsabilité."),
    ("n_degree", "La loi n° 2023-270 a été promulguée en avril."),
    ("no", "Le décret no. 45 a été publié au Journal officiel."),
    ("vol", "Ses mémoires, vol. 2, paraissent la semaine prochaine."),
    ("ed", "Le livre, éd. Gallimard, est en tête des ventes."),
    ("initials", "J. K. Rowling a publié un nouveau roman."),
    ("initials_Ch", "Ch. de Gaulle a prononcé l'appel du 18 Juin à Londres."),
    ("initials_hyphenated", "Selon J.-F. Copé, la droite est unie."),
    ("initials_JC_not_era", "Le groupe de J.-C. Decaux a signé le contrat."),
    ("abbr_bd", "Le siège est situé au 12 bd. Voltaire à Paris."),
    ("initials_Ch_capital", "Ch. Martin dirige désormais la rédaction."),
    ("decimal_comma", "La croissance a atteint 3,5 % au deuxième trimestre."),
    ("decimal_point", "La version 1.2 du logiciel corrige la faille."),
    ("thousands", "Le déficit s'élève à 1 000,50 euros par habitant."),
    (
        "quote_with_attribution",
        "«Je suis content. Merci», a déclaré M. Poutine.",
    ),
    (
        "quote_spaced_attribution",
        "« Nous avons gagné. C'est historique ! » s'est exclamé le maire.",
    ),
    ("quote_curly_embedded", "Il a dit “Nous partons. Demain.” et tout le monde a applaudi."),
    ("quote_straight_embedded", 'Le ministre a parlé de "crise. Grave" devant les députés.'),
    ("quote_question_attribution", "« Quoi ? » a demandé la journaliste."),
    ("quote_nested", "Il a lu : « Le texte dit “Non. Jamais.” et c'est tout. » à la tribune."),
    ("paren_ellipsis", "Le président a déclaré (...) qu'il ne céderait pas."),
    ("bracket_ellipsis", "« Nous resterons […] Jusqu'au bout », a-t-il dit."),
    ("ellipsis_lowercase", "Le ministre hésite… puis renonce à sa candidature."),
    ("single_newline", "Le gouvernement a présenté\nson projet de loi au Sénat."),
    ("newline_after_title", "Réforme des retraites\nLe texte arrive au Sénat."),
    ("no_space_after_period", "Le site lemonde.fr a publié l'info.Puis plus rien."),
]


@pytest.mark.parametrize("text", [t for _, t in NO_SPLIT], ids=[i for i, _ in NO_SPLIT])
def test_no_split(text: str) -> None:
    assert sents(text) == [text.strip()]


SPLIT = [
    ("period", "Le Sénat a voté. Les députés suivront.", ["Le Sénat a voté.", "Les députés suivront."]),
    ("question", "Que fera l'Élysée ? Nul ne le sait.", ["Que fera l'Élysée ?", "Nul ne le sait."]),
    ("exclamation", "Quelle victoire ! Les supporters exultent.", ["Quelle victoire !", "Les supporters exultent."]),
    ("ellipsis_char", "Il attend… Rien ne vient.", ["Il attend…", "Rien ne vient."]),
    ("ellipsis_dots", "Il attend... Rien ne vient.", ["Il attend...", "Rien ne vient."]),
    (
        "interrobang",
        "Encore une hausse ?! Les ménages s'inquiètent.",
        ["Encore une hausse ?!", "Les ménages s'inquiètent."],
    ),
    ("double_bang", "Incroyable !! Le record est battu.", ["Incroyable !!", "Le record est battu."]),
    ("no_space_question", "Pourquoi?? Personne ne répond.", ["Pourquoi??", "Personne ne répond."]),
    (
        "closing_guillemet_then_sentence",
        "Il a dit : « Oui. » Puis il est parti.",
        ["Il a dit : « Oui. »", "Puis il est parti."],
    ),
    (
        "closing_guillemet_nbsp",
        "Il a dit\u00a0: «\u00a0Oui.\u00a0» Puis il est parti.",
        ["Il a dit\u00a0: «\u00a0Oui.\u00a0»", "Puis il est parti."],
    ),
    (
        "closing_curly_then_sentence",
        "Elle a répondu : “Jamais.” Le débat est clos.",
        ["Elle a répondu : “Jamais.”", "Le débat est clos."],
    ),
    (
        "closing_straight_then_sentence",
        'Elle a répondu : "Jamais." Le débat est clos.',
        ['Elle a répondu : "Jamais."', "Le débat est clos."],
    ),
    (
        "standalone_quote",
        "« Nous ne céderons pas. » Le Premier ministre a quitté la salle.",
        ["« Nous ne céderons pas. »", "Le Premier ministre a quitté la salle."],
    ),
    (
        "standalone_quote_after_sentence",
        "Le maire est formel. « La ville paiera. » Les habitants attendent.",
        ["Le maire est formel.", "« La ville paiera. »", "Les habitants attendent."],
    ),
    (
        "closing_paren_then_sentence",
        "Le texte est adopté (à une voix près.) Les débats reprendront lundi.",
        ["Le texte est adopté (à une voix près.)", "Les débats reprendront lundi."],
    ),
    (
        "paren_ellipsis_at_end",
        "Il a cité Hugo (...). Puis il s'est tu.",
        ["Il a cité Hugo (...).", "Puis il s'est tu."],
    ),
    (
        "etc_uppercase",
        "Il a parlé d'emploi, d'école, de santé, etc. Puis il a conclu.",
        ["Il a parlé d'emploi, d'école, de santé, etc.", "Puis il a conclu."],
    ),
    (
        "JC_at_sentence_end",
        "César est mort en 44 av. J.-C. Puis Auguste a régné.",
        ["César est mort en 44 av. J.-C.", "Puis Auguste a régné."],
    ),
    (
        "sept_numeral",
        "Ils étaient sept. Puis ils sont partis ensemble.",
        ["Ils étaient sept.", "Puis ils sont partis ensemble."],
    ),
    (
        "vol_word",
        "Il est accusé de vol. Le procès s'ouvre demain.",
        ["Il est accusé de vol.", "Le procès s'ouvre demain."],
    ),
    (
        "art_word",
        "Il vit pour l'art. Sa famille le soutient.",
        ["Il vit pour l'art.", "Sa famille le soutient."],
    ),
    (
        "after_abbreviated_title",
        "Le rapport est signé du Dr. Lambert. Il sera publié lundi.",
        ["Le rapport est signé du Dr. Lambert.", "Il sera publié lundi."],
    ),
    ("unit_m_end", "Il a sauté 8,95 m. Un record de France.", ["Il a sauté 8,95 m.", "Un record de France."]),
    (
        "digit_start",
        "Le bilan est lourd. 25 personnes sont mortes.",
        ["Le bilan est lourd.", "25 personnes sont mortes."],
    ),
    (
        "number_end",
        "La version finale est la 1.2. Elle sort lundi.",
        ["La version finale est la 1.2.", "Elle sort lundi."],
    ),
    ("newline_after_period", "Le Sénat a voté.\nLes députés suivront.", ["Le Sénat a voté.", "Les députés suivront."]),
    (
        "blank_line",
        "Réforme des retraites\n\nLe texte arrive au Sénat",
        ["Réforme des retraites", "Le texte arrive au Sénat"],
    ),
    (
        "blank_line_with_spaces",
        "Premier paragraphe sans point \n \t\n second paragraphe",
        ["Premier paragraphe sans point", "second paragraphe"],
    ),
    ("blank_line_crlf", "Titre\r\n\r\nCorps du texte.", ["Titre", "Corps du texte."]),
    (
        "blank_line_after_abbreviation",
        "Voir p.\n\nLa suite du texte.",
        ["Voir p.", "La suite du texte."],
    ),
    (
        "blank_line_inside_quote",
        "« Il a dit oui.\n\nPuis il est parti », raconte-t-elle.",
        ["« Il a dit oui.", "Puis il est parti », raconte-t-elle."],
    ),
    (
        "mixed_news",
        "M. Dupont a annoncé mardi 13 sept. 2023 une hausse de 3,5 %. « C'est un effort. "
        "Il est nécessaire », a-t-il dit. Les syndicats, eux, dénoncent un « recul » !",
        [
            "M. Dupont a annoncé mardi 13 sept. 2023 une hausse de 3,5 %.",
            "« C'est un effort. Il est nécessaire », a-t-il dit.",
            "Les syndicats, eux, dénoncent un « recul » !",
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in SPLIT], ids=[i for i, _, _ in SPLIT])
def test_split(text: str, expected: list[str]) -> None:
    assert sents(text) == expected


# ---------------------------------------------------------------------------
# split_sentences: quote and bracket protection is local
# ---------------------------------------------------------------------------

LOCAL = [
    (
        "unclosed_paren",
        "Le service était lent (le serveur n'avait même pas pris notre commande. La salle était pleine. "
        "Le dessert est arrivé froid. Nous ne reviendrons pas (jamais).",
        [
            "Le service était lent (le serveur n'avait même pas pris notre commande.",
            "La salle était pleine.",
            "Le dessert est arrivé froid.",
            "Nous ne reviendrons pas (jamais).",
        ],
    ),
    (
        "unclosed_paren_closed_much_later",
        "Le musée rouvre (après deux ans de travaux. Les visiteurs sont nombreux. Le guide est ravi. "
        "Les tarifs baissent. La boutique (enfin) est ouverte.",
        [
            "Le musée rouvre (après deux ans de travaux.",
            "Les visiteurs sont nombreux.",
            "Le guide est ravi.",
            "Les tarifs baissent.",
            "La boutique (enfin) est ouverte.",
        ],
    ),
    (
        "stray_closing_guillemet",
        "Il me l'a répété à Genève ». Le ministre a démenti. La réunion est annulée. "
        "Le sommet, dit-il, « reste possible ».",
        [
            "Il me l'a répété à Genève ».",
            "Le ministre a démenti.",
            "La réunion est annulée.",
            "Le sommet, dit-il, « reste possible ».",
        ],
    ),
    (
        "unclosed_then_stray_guillemet",
        "Le journal titre « Victoire historique. Les supporters ont envahi la place. La fête a duré "
        "toute la nuit ». Le préfet promet une enquête.",
        [
            "Le journal titre « Victoire historique.",
            "Les supporters ont envahi la place.",
            "La fête a duré toute la nuit ».",
            "Le préfet promet une enquête.",
        ],
    ),
    (
        "reopened_guillemet_across_paragraphs",
        "« Nous avons travaillé toute la nuit. Les équipes étaient épuisées. Personne n'a dormi.\n\n"
        "« Le lendemain, tout était à refaire. Nous avons recommencé. Il a fallu tenir. »",
        [
            "« Nous avons travaillé toute la nuit.",
            "Les équipes étaient épuisées.",
            "Personne n'a dormi.",
            "« Le lendemain, tout était à refaire.",
            "Nous avons recommencé.",
            "Il a fallu tenir. »",
        ],
    ),
    (
        "guillemet_closing_too_far",
        "Elle répond « Non. "
        + "Le comité a longuement délibéré sur ce point sans trouver d'accord. " * 5
        + "Rien ne change », dit-elle.",
        ["Elle répond « Non."]
        + ["Le comité a longuement délibéré sur ce point sans trouver d'accord."] * 5
        + ["Rien ne change », dit-elle."],
    ),
    (
        "spaced_straight_quote_closes",
        "Le client est reparti furieux ! \" Les serveurs ne l'ont pas retenu.",
        ['Le client est reparti furieux ! "', "Les serveurs ne l'ont pas retenu."],
    ),
    (
        "unclosed_straight_quote",
        'Ils répètent : " Il s\'agit de contrebande. "La question reste ouverte", note le juge.',
        ["Ils répètent : \" Il s'agit de contrebande.", '"La question reste ouverte", note le juge.'],
    ),
    (
        "bare_bracket_ends_sentence",
        "La route monte sur 12 km (pente moyenne de 7 %) Elle est fermée l'hiver.",
        ["La route monte sur 12 km (pente moyenne de 7 %)", "Elle est fermée l'hiver."],
    ),
    (
        "single_capital_ends_sentence",
        "Le logiciel tourne sous Mac OS X. Une version Linux est prévue. Le roi Henri I. Il régna peu.",
        ["Le logiciel tourne sous Mac OS X.", "Une version Linux est prévue.", "Le roi Henri I.", "Il régna peu."],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in LOCAL], ids=[i for i, _, _ in LOCAL])
def test_local_protection(text: str, expected: list[str]) -> None:
    assert sents(text) == expected


STILL_ONE = [
    ("paren_with_inner_sentence", "Le texte (voir l'annexe. Elle détaille tout) sera voté lundi."),
    ("bracket_then_name", "Le ministre de l'Intérieur (LR) Bruno Martin a démenti."),
    ("middle_initial", "Le président George W. Bush a reçu M. Le Pen à Washington."),
    ("english_title", "Il se fait appeler Mr. Bean depuis l'enfance."),
    ("quote_two_sentences_attribution", "« Je pars. Adieu », a-t-il lancé avant de claquer la porte."),
]


@pytest.mark.parametrize("text", [t for _, t in STILL_ONE], ids=[i for i, _ in STILL_ONE])
def test_local_protection_keeps_sentences_whole(text: str) -> None:
    assert sents(text) == [text]


@pytest.mark.parametrize(
    "text", ["", " ", "\n\n\t ", "\u00a0\u2029\u3000"], ids=["empty", "space", "blank_lines", "unicode_spaces"]
)
def test_whitespace_only(text: str) -> None:
    assert split_sentences(text) == []


def test_spans_are_code_point_offsets() -> None:
    text = "😀 Le 🇫🇷 gagne. 漢字のテスト。 Fin."
    out = sents(text)
    assert out[0] == "😀 Le 🇫🇷 gagne."
    assert "".join(out).replace(" ", "") == text.replace(" ", "")


WEIRD = {
    "nul": "Il est parti.\x00 Puis\x00 revenu. Fin",
    "controls": "\x01\x02. \x1b[31mRouge. \x7f",
    "info_separators": "Un.\x1c Deux.\x1f Trois.\x85Quatre.",
    "bidi": "\u202eLe texte. \u202dEst inversé. \u2066x\u2069.",
    "emoji": "👍👍. 👨‍👩‍👧 Famille. 🇫🇷!",
    "cjk": "这是一个句子。这是另一个句子。 Fin.",
    "lone_surrogates": "Début \ud800. Suite \udfff. M. \udc00 Fin.",
    "only_punct": ".?!…«»“”\"'()[]",
    "line_separators": "Un.\u2028Deux.\u2029Trois.",
    "zero_width": "Mot\u200b. Autre\ufeff. Fin\u200d.",
}


@pytest.mark.parametrize("text", list(WEIRD.values()), ids=list(WEIRD))
def test_weird_unicode_never_raises(text: str) -> None:
    sents(text)


def test_single_line_break_after_sentence_end_vs_inside() -> None:
    text = "Le conseil a tranché\nhier soir. Les élus\nprotestent.\nLa séance est levée."
    assert sents(text) == [
        "Le conseil a tranché\nhier soir.",
        "Les élus\nprotestent.",
        "La séance est levée.",
    ]


# ---------------------------------------------------------------------------
# split_sentences: performance on pathological paragraphs (no timing asserted)
# ---------------------------------------------------------------------------

NEWS = (
    "Le gouvernement a présenté mardi une réforme des retraites, selon M. Dupont. "
    "Les syndicats appellent à la grève ! « Que faire ? » a demandé Mme Durand. "
    "Le texte, voté le 13 sept. 2023, date de 52 av. J.-C. selon certains (...). "
)

LONG = {
    "no_spaces": "a" * 200_000,
    "normal_text": (NEWS * (200_000 // len(NEWS) + 1))[:200_000],
    "unclosed_guillemets": "« " * 100_000,  # sentencex alone is quadratic here
    "dots_and_spaces": ". " * 100_000,
    "abbreviations": "M. " * 66_667,
    "unclosed_parentheses": "( " * 100_000,
    "stray_closers": "». ) " * 50_000,
    "straight_quotes": '" ' * 100_000,
    "bare_brackets": "(a) Le " * 28_572,
    "single_capitals": "X. Il " * 33_334,
}


@pytest.mark.parametrize("text", list(LONG.values()), ids=list(LONG))
def test_long_paragraph_completes_losslessly(text: str) -> None:
    spans = split_sentences(text)
    assert_lossless(text, spans, Span(0, len(text)))


def test_long_normal_text_splits_sentences() -> None:
    spans = split_sentences(LONG["normal_text"])
    assert len(spans) > 200_000 // len(NEWS) * 3


LINEAR = {
    "normal_text": NEWS,
    "unclosed_guillemets": "« Il part. ",
    "unclosed_parentheses": "(il part. ",
    "stray_closers": "Il part ». ",
    "straight_quotes": '" Il part. ',
    "short_quotes": "« Oui. Non. » Il part. ",
    "dots_in_brackets": "(. ",
    "bare_brackets": "(a) Le ",
    "initials": "X. Il ",
}


@pytest.mark.parametrize("unit", list(LINEAR.values()), ids=list(LINEAR))
def test_time_is_linear(unit: str) -> None:
    """Doubling the paragraph at most about doubles the time (10 ms allowed for timer noise)."""
    assert_doubling_is_linear(lambda n: lambda: split_sentences((unit * (n // len(unit) + 1))[:n]), 50_000)


# ---------------------------------------------------------------------------
# split_sentences: properties
# ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(ANY_CHAR, max_size=200))
def test_lossless_on_any_text(text: str) -> None:
    assert_lossless(text, split_sentences(text), Span(0, len(text)))


@settings(max_examples=400, deadline=None)
@given(FRENCHISH)
def test_lossless_on_frenchish_text(text: str) -> None:
    assert_lossless(text, split_sentences(text), Span(0, len(text)))


@settings(max_examples=150, deadline=None)
@given(FRENCHISH, FRENCHISH)
def test_blank_line_is_always_a_boundary(left: str, right: str) -> None:
    text = f"{left}\n\n{right}"
    cut = len(left) + 1
    for span in split_sentences(text):
        assert not span.start < cut < span.end
